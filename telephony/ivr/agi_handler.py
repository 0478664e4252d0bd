"""The FastAGI glue: a handler for ``FastAGIServer.route('ivr', ...)`` that runs the IVR of a call.

```python
server = FastAGIServer("127.0.0.1", 4573)
server.route("ivr", make_agi_handler(platform))
server.start()
```

Asterisk's ``AGI(agi://host:4573/ivr/main?lang=en)`` reaches the flow ``main`` (the script path after
``ivr/``); ``AGI(agi://host:4573/ivr)`` lets the dialled number (``agi_dnid``) choose the flow. The
query's ``lang`` picks the prompt language shown by simulations. :func:`start_agi_server` does both
steps for ``run.py agi`` and ``run.py serve``, with the session cap (a refused call still gets a closed
record) and the shutdown's wind-up: a call still running when the grace period ends gets
``HELPLINE_RESULT=error`` (the dialplan's fallback takes the caller) and its record is closed as
``interrupted``.
"""

from __future__ import annotations

import logging
import threading

from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.agi import RESULT_VARIABLE, AgiEnvironment, FastAGIServer, Handler, HelplineAGI
from telephony.agi.server import REFUSED_RESULT
from telephony.control.base import Target
from telephony.control.channels import CHANNELS, ChannelRegistry
from telephony.ivr.engine import IvrEngine, TransferIn
from telephony.router.service import RouterService
from telephony.switch.agi_channel import AgiSwitch
from telephony.switch.answers import ANSWERS, make_answered_handler
from telephony.switch.base import CommandFailed, SwitchError, SwitchHangup

__all__ = ["make_agi_handler", "make_transfer_handler", "preset_result", "record_refused_session",
           "start_agi_server"]

log = logging.getLogger(__name__)


def make_agi_handler(platform: Platform, *, engine: IvrEngine | None = None,
                     channels: ChannelRegistry = CHANNELS, ending: threading.Event | None = None) -> Handler:
    """A FastAGI handler running each call through the platform's IVR flows.

    The caller's channel is recorded in ``channels`` under the call id as soon as the call record is
    open (call control over AMI acts on it), and dropped when the session ends unless call control
    took the caller out of the session (``ChannelRegistry.session_ended``). ``ending`` is the server's
    ``grace_over``: a call stopped by the shutdown is wound up (see the module docstring).
    """
    ivr = engine or IvrEngine(platform)

    def handle(agi: HelplineAGI, env: AgiEnvironment) -> None:
        languages = env.query.get("lang") or []
        language = languages[0] if languages else None
        _run_tracked(ivr, agi, env, channels, flow_name=env.flow or None,
                     language=language if language in ("zh_CN", "en") else None, ending=ending)

    handle.engine = ivr  # type: ignore[attr-defined]
    return handle


def make_transfer_handler(platform: Platform, *, engine: IvrEngine,
                          channels: ChannelRegistry = CHANNELS, ending: threading.Event | None = None) -> Handler:
    """``transfer/<kind>/<value>?call=<id>``: a caller an agent transferred (AMI Redirect to the dialplan's
    transfer context) goes on to a queue, an agent or an IVR flow, as a new call record linked to the
    original (``transferred_from``)."""
    calls = CallService()

    def handle(agi: HelplineAGI, env: AgiEnvironment) -> None:
        parts = env.network_script.split("?", 1)[0].strip("/").split("/")
        ids = env.query.get("call") or []
        try:
            target = Target.parse("/".join(parts[1:2]) + ":" + "/".join(parts[2:]))
            original = int(ids[0]) if ids else 0
        except (ValueError, IndexError) as exc:
            log.warning("[%s] bad transfer request %r: %s", env.uniqueid, env.network_script, exc)
            return
        record = calls.get(original) if original else None
        queue = record.get("queue") if record else None
        flow = target.value if target.kind == "ivr" else (record.get("flow") if record else None)
        _run_tracked(engine, agi, env, channels, flow_name=flow, transfer=TransferIn(target, original, queue),
                     ending=ending)

    return handle


def _run_tracked(engine: IvrEngine, agi: HelplineAGI, env: AgiEnvironment, channels: ChannelRegistry, *,
                 flow_name: str | None, language: str | None = None, transfer: TransferIn | None = None,
                 ending: threading.Event | None = None) -> None:
    """Run a FastAGI session's call with its caller channel known to ``channels`` while the session lasts."""
    opened: list[int] = []

    def on_open(call_id: int) -> None:
        opened.append(call_id)
        if env.channel:
            channels.set_caller(call_id, env.channel)

    switch = AgiSwitch(agi)
    preset_result(switch, env)
    try:
        outcome = engine.run_call(switch, caller_number=env.caller_number, dnid=env.dialled_number,
                                  flow_name=flow_name, uniqueid=env.uniqueid, channel=env.channel,
                                  language=language, on_open=on_open, transfer=transfer)
        stopped = outcome.result == "error" and (outcome.error or {}).get("id") == "IVR-SWITCH"
        if ending is not None and ending.is_set() and stopped:
            _wind_up(agi, outcome.call_id, engine.calls, (outcome.error or {}).get("node"))
    finally:
        for call_id in opened:
            channels.session_ended(call_id)


def preset_result(switch: AgiSwitch, env: AgiEnvironment) -> None:
    """``HELPLINE_RESULT=error`` first thing in the session, until the flow sets the real result.

    The dialplan decides on ``HELPLINE_RESULT`` before ``AGISTATUS``: Asterisk 22 ends the AGI with
    ``AGISTATUS=FAILURE`` after any command that returned RESULT_FAILURE (a ``STREAM FILE`` of a missing sound
    file), even when the session completed; an empty result means no session ran (no server answered).
    """
    try:
        switch.set_variable(RESULT_VARIABLE, "error")
    except (SwitchHangup, SwitchError, CommandFailed) as exc:  # the call goes on; run_call meets the same
        log.info("[%s] cannot preset %s: %s", env.uniqueid, RESULT_VARIABLE, exc)


def _wind_up(agi: HelplineAGI, call_id: int, calls: CallService, node: object) -> None:
    """A call the shutdown stopped: tell the dialplan (fallback) and close its record as ``interrupted``.

    The session was stopped while a command was outstanding (a prompt, a digit wait, a Dial), so no reply
    can be read any more: the ``SET VARIABLE`` lines are written without waiting, and Asterisk runs them
    when the outstanding command returns, before it sees the connection close."""
    lines = [f'SET VARIABLE "{RESULT_VARIABLE}" "{REFUSED_RESULT}"']
    if call_id:
        lines.append(f'SET VARIABLE "HELPLINE_CALL_ID" "{call_id}"')
    try:
        agi.stdout.write("".join(line + "\n" for line in lines))
        agi.stdout.flush()
    except (OSError, ValueError) as exc:
        log.info("[%s] could not tell the dialplan at shutdown: %s", agi.uniqueid, exc)
    if call_id:
        calls.close(call_id, result="interrupted", error={
            "id": "IVR-SHUTDOWN", "node": node,
            "message": "the server shut down: the call was still in progress when the grace period ended"})


def start_agi_server(platform: Platform, host: str = "127.0.0.1", port: int = 4573, *,
                     engine: IvrEngine | None = None, router: RouterService | None = None,
                     read_timeout: float | None = 30.0, max_sessions: int | None = None) -> FastAGIServer:
    """A started FastAGI server serving ``ivr`` and ``ivr/<flow>`` with the platform's flows, and
    ``answered?call=N`` (the dialplan's ``helpline-answered`` subroutine run by ``Dial(...,U())`` when an
    agent picks up). With a ``router`` transfer nodes hold callers and dial the agents it picks.
    ``max_sessions`` caps the calls served at once (``HELPLINE_AGI_MAX_SESSIONS``); stop it with
    ``server.shutdown(grace)`` to let calls finish."""
    server = FastAGIServer(host, port, read_timeout=read_timeout, max_sessions=max_sessions)
    ivr = engine or IvrEngine(platform, router=router)
    server.route("ivr", make_agi_handler(platform, engine=ivr, ending=server.grace_over))
    server.route("transfer", make_transfer_handler(platform, engine=ivr, ending=server.grace_over))
    shared = router is not None and router.cluster is not None  # cluster mode: the call may be another instance's
    server.route("answered", make_answered_handler(
        ANSWERS, (lambda call_id: router.call("answered", call_id)) if shared and router is not None else None))
    from telephony.outbound.reminders import make_reminder_handler

    server.route("reminder", make_reminder_handler(platform, engine=ivr))  # reminder campaigns' answered customers
    from telephony.outbound.predictive import make_campaign_handler, platform_customers

    server.route("campaign", make_campaign_handler(lambda: platform_customers(platform)))  # predictive campaigns
    server.on_rejected = record_rejected_session
    server.on_refused = record_refused_session
    return server.start()


def record_rejected_session(peer: str, error: Exception) -> None:
    """A session closed for a malformed environment block still leaves a closed call record."""
    calls = CallService()
    call_id = calls.open(channel=f"fastagi {peer}"[:128], switch="asterisk")
    calls.close(call_id, result="error", error={"id": "IVR-PROTOCOL", "message": str(error)[:500]})


def record_refused_session(env: AgiEnvironment) -> None:
    """A call refused over the session cap leaves a closed record (``error``, ``IVR-OVERLOAD``); a refused
    ``answered`` session (an agent's channel, not a call) leaves none."""
    if env.script_path.split("/")[0] == "answered":
        return
    calls = CallService()
    call_id = calls.open(uniqueid=env.uniqueid[:64], channel=env.channel[:128], switch="agi",
                         caller_number=(env.caller_number or "")[:32] or None,
                         dnid=(env.dialled_number or "")[:32] or None)
    calls.close(call_id, result="error", error={
        "id": "IVR-OVERLOAD", "message": "refused: the FastAGI server had HELPLINE_AGI_MAX_SESSIONS calls in "
                                         "progress; the dialplan's fallback took the caller"})
