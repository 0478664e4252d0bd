"""The FastAGI glue: a handler for ``FastAGIServer.route('ivr', ...)`` that runs the IVR of a call.

```python
server = FastAGIServer("127.0.0.1", 4573)
server.route("ivr", make_agi_handler(platform))
server.start()
```

Asterisk's ``AGI(agi://host:4573/ivr/main?lang=en)`` reaches the flow ``main`` (the script path after
``ivr/``); ``AGI(agi://host:4573/ivr)`` lets the dialled number (``agi_dnid``) choose the flow. The
query's ``lang`` picks the prompt language shown by simulations. :func:`start_agi_server` does both
steps for ``run.py agi`` and ``run.py serve``.
"""

from __future__ import annotations

import logging

from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.agi import AgiEnvironment, FastAGIServer, Handler, HelplineAGI
from telephony.control.base import Target
from telephony.control.channels import CHANNELS, ChannelRegistry
from telephony.ivr.engine import IvrEngine, TransferIn
from telephony.router.service import RouterService
from telephony.switch.agi_channel import AgiSwitch
from telephony.switch.answers import ANSWERS, make_answered_handler

__all__ = ["make_agi_handler", "make_transfer_handler", "start_agi_server"]

log = logging.getLogger(__name__)


def make_agi_handler(platform: Platform, *, engine: IvrEngine | None = None,
                     channels: ChannelRegistry = CHANNELS) -> Handler:
    """A FastAGI handler running each call through the platform's IVR flows.

    The caller's channel is recorded in ``channels`` under the call id as soon as the call record is
    open (call control over AMI acts on it), and dropped when the session ends unless call control
    took the caller out of the session (``ChannelRegistry.session_ended``).
    """
    ivr = engine or IvrEngine(platform)

    def handle(agi: HelplineAGI, env: AgiEnvironment) -> None:
        languages = env.query.get("lang") or []
        language = languages[0] if languages else None
        _run_tracked(ivr, agi, env, channels, flow_name=env.flow or None,
                     language=language if language in ("zh_CN", "en") else None)

    handle.engine = ivr  # type: ignore[attr-defined]
    return handle


def make_transfer_handler(platform: Platform, *, engine: IvrEngine,
                          channels: ChannelRegistry = CHANNELS) -> Handler:
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
        _run_tracked(engine, agi, env, channels, flow_name=flow, transfer=TransferIn(target, original, queue))

    return handle


def _run_tracked(engine: IvrEngine, agi: HelplineAGI, env: AgiEnvironment, channels: ChannelRegistry, *,
                 flow_name: str | None, language: str | None = None, transfer: TransferIn | None = None) -> None:
    """Run a FastAGI session's call with its caller channel known to ``channels`` while the session lasts."""
    opened: list[int] = []

    def on_open(call_id: int) -> None:
        opened.append(call_id)
        if env.channel:
            channels.set_caller(call_id, env.channel)

    try:
        engine.run_call(AgiSwitch(agi), caller_number=env.caller_number, dnid=env.dialled_number,
                        flow_name=flow_name, uniqueid=env.uniqueid, channel=env.channel, language=language,
                        on_open=on_open, transfer=transfer)
    finally:
        for call_id in opened:
            channels.session_ended(call_id)


def start_agi_server(platform: Platform, host: str = "127.0.0.1", port: int = 4573, *,
                     engine: IvrEngine | None = None, router: RouterService | None = None,
                     read_timeout: float | None = 30.0) -> FastAGIServer:
    """A started FastAGI server serving ``ivr`` and ``ivr/<flow>`` with the platform's flows, and
    ``answered?call=N`` (the dialplan's ``helpline-answered`` subroutine run by ``Dial(...,U())`` when an
    agent picks up). With a ``router`` transfer nodes hold callers and dial the agents it picks."""
    server = FastAGIServer(host, port, read_timeout=read_timeout)
    ivr = engine or IvrEngine(platform, router=router)
    server.route("ivr", make_agi_handler(platform, engine=ivr))
    server.route("transfer", make_transfer_handler(platform, engine=ivr))
    server.route("answered", make_answered_handler(ANSWERS))
    server.on_rejected = record_rejected_session
    return server.start()


def record_rejected_session(peer: str, error: Exception) -> None:
    """A session closed for a malformed environment block still leaves a closed call record."""
    calls = CallService()
    call_id = calls.open(channel=f"fastagi {peer}"[:128], switch="asterisk")
    calls.close(call_id, result="error", error={"id": "IVR-PROTOCOL", "message": str(error)[:500]})
