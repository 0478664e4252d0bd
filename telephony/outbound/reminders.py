"""The reminder dialler: dials a reminder campaign's customers without an agent (seed 004's arrears reminder).

```python
runner = ReminderRunner(platform, engine, SimulatedReminderDialer(engine, callees))   # or AmiReminderDialer
runner.run_once()          # the scheduler's ``reminders`` job does this every minute
```

For each running campaign (``helpline.services.reminders``) and each customer due: outside the number's
calling window the attempt is ``refused`` (not dialled); otherwise the attempt is written, then dialled.

* **Simulated switch** (:class:`SimulatedReminderDialer`): the callee is a :class:`Callee` — it answers (and
  presses keys, or hangs up at a node), does not answer, is busy, or the line fails — and an answered call
  runs the campaign's IVR flow on a ``SimulatedSwitch`` there and then.
* **Asterisk** (:class:`AmiReminderDialer`): AMI ``Originate`` of ``Local/<number>@helpline-reminder-dial`` into the
  dialplan context ``helpline-reminder`` with ``HELPLINE_REMINDER=<attempt>``; an answered callee runs
  ``AGI(agi://…/reminder?attempt=<id>)`` (:func:`make_reminder_handler`), which plays the flow — the amount
  by ``SAY NUMBER``, the due date by ``SAY DATE`` — and ends the attempt; a failed originate ends it with
  the ``OriginateResponse`` reason (3 no answer, 5 busy, others failed). The AMI link down pauses the
  campaign and gives the attempt back (the customer is due again, no attempt used); the next run resumes it.

The flow tells the outcome in ``var.reminder``: ``confirmed`` (1), ``to_agent`` (0: transferred to a queue),
``answered`` (heard the notice, pressed nothing); a customer who hangs up before the notice ended is
``hung_up`` and called again later, like ``no_answer``, ``busy`` and ``failed``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from helpline.data.base import utcnow
from helpline.security.actor import Actor
from helpline.services import reminders
from helpline.services.platform import Platform
from helpline.services.reminders import Target
from telephony.agi import AgiEnvironment, Handler, HelplineAGI
from telephony.ami.client import AmiClient, AmiError, AmiUnavailable
from telephony.ivr.engine import CallOutcome, IvrEngine
from telephony.switch.agi_channel import AgiSwitch
from telephony.switch.simulated import SimulatedSwitch

log = logging.getLogger(__name__)

REMINDER_CONTEXT = "helpline-reminder"
ORIGINATE_REASONS = {"3": "no_answer", "5": "busy", "1": "no_answer"}
"""Asterisk's ``OriginateResponse`` ``Reason`` → outcome (4 is answered; 0, 8 and the rest: ``failed``)."""


class DialerDown(Exception):
    """The dialler cannot place calls at all (the Asterisk manager link is down)."""


class ReminderDialer(Protocol):
    def available(self) -> bool:
        """Whether calls can be placed now (campaigns paused for the link resume when it is)."""

    def place(self, campaign: Mapping[str, Any], target: Target, attempt_id: int) -> None:
        """Dial ``target``; end the attempt now or later (:func:`reminders.end_attempt`); DialerDown when the
        call cannot be placed at all (the attempt is given back)."""


def call_variables(target: Target) -> dict[str, Any]:
    """What the flow reads: ``var.yuan`` and ``var.fen`` (the amount: ``SAY NUMBER`` says whole numbers),
    ``var.amount``, ``var.due_date`` (ISO date, said by ``SAY DATE``), ``var.customer_name``."""
    fen_total = round(target.amount * 100)
    return {"amount": target.amount, "yuan": fen_total // 100, "fen": fen_total % 100,
            "due_date": target.due_date.isoformat(), "customer_name": target.name or ""}


def outcome_of(outcome: CallOutcome) -> str:
    """The attempt's outcome from how the reminder call ended."""
    said = outcome.variables.get("reminder")
    if said == "to_agent" or (said is None and outcome.queue):
        return "to_agent"
    if said in ("confirmed", "answered"):
        return str(said)
    return "hung_up" if outcome.result == "hangup" else "failed"


def run_reminder_call(engine: IvrEngine, switch: Any, campaign: Mapping[str, Any], target: Target, attempt_id: int,
                      **kwargs: Any) -> str:
    """Play the campaign's flow to an answered customer and end the attempt; the outcome."""
    outcome = engine.run_call(switch, caller_number=target.phone, flow_name=str(campaign["flow"]),
                              variables=call_variables(target), **kwargs)
    result = outcome_of(outcome)
    detail = f"hung up at {outcome.hangup_node}" if result == "hung_up" else (
        (outcome.error or {}).get("message") if result == "failed" else None)
    reminders.end_attempt(attempt_id, result, call_id=outcome.call_id or None, detail=detail)
    return result


@dataclass(frozen=True)
class Callee:
    """A simulated customer: ``answer`` (``answer``, ``no_answer``, ``busy``, ``failed``), the keys pressed
    (``,`` a pause) and where they hang up (a simulated switch's ``hangup_at``: ``"say number"``)."""

    answer: str = "answer"
    keys: str = "1"
    hangup_at: str | None = None


class SimulatedReminderDialer:
    """Dials simulated customers: the callee of each number (``callees``, else ``default``)."""

    def __init__(self, engine: IvrEngine, callees: Mapping[str, Callee] | None = None,
                 default: Callee = Callee()) -> None:
        self.engine = engine
        self.callees: Mapping[str, Callee] = callees if callees is not None else {}
        """Looked up at every dial (a test may change a callee between two runs)."""
        self.default = default
        self.switches: dict[str, SimulatedSwitch] = {}
        """The last call's switch per number (its transcript shows what the customer heard)."""

    def available(self) -> bool:
        return True

    def place(self, campaign: Mapping[str, Any], target: Target, attempt_id: int) -> None:
        callee = self.callees.get(target.phone, self.default)
        if callee.answer != "answer":
            reminders.end_attempt(attempt_id, callee.answer, detail="simulated callee")
            return
        switch = SimulatedSwitch(callee.keys, language="zh_CN", hangup_at=callee.hangup_at)
        self.switches[target.phone] = switch
        run_reminder_call(self.engine, switch, campaign, target, attempt_id)


class AmiReminderDialer:
    """Originates reminder calls on Asterisk; the FastAGI ``reminder`` route plays them."""

    def __init__(self, client: AmiClient, *, channel: str = "Local/{number}@helpline-reminder-dial",
                 context: str = REMINDER_CONTEXT, ring_s: int = 30) -> None:
        self.client = client
        self.channel = channel
        self.context = context
        self.ring_s = ring_s
        self.unsubscribe: Callable[[], None] = client.on_event("OriginateResponse", self._response)

    def available(self) -> bool:
        return self.client.connected

    def originate(self, number: str, *, action_id: str, variable: str, context: str | None = None,
                  caller_id: str = "Helpline reminder") -> None:
        """AMI ``Originate`` of ``number`` through the dial context into ``context`` (the reminders' by
        default), asynchronous: a failure comes back as an ``OriginateResponse`` with ``action_id``. The one
        customer-first originate (predictive campaigns use it too, ``telephony.outbound.predictive``)."""
        self.client.send("Originate", Channel=self.channel.format(number=number), Context=context or self.context,
                         Exten="s", Priority=1, Async="true", Timeout=self.ring_s * 1000, ActionID=action_id,
                         Variable=variable, CallerID=caller_id)

    def place(self, campaign: Mapping[str, Any], target: Target, attempt_id: int) -> None:
        try:
            self.originate(target.phone, action_id=f"reminder-{attempt_id}",
                           variable=f"HELPLINE_REMINDER={attempt_id}")
        except AmiUnavailable as exc:
            raise DialerDown(str(exc)) from exc
        except AmiError as exc:
            reminders.end_attempt(attempt_id, "failed", detail=str(exc))

    def _response(self, event: Mapping[str, str]) -> None:
        action = event.get("ActionID", "")
        if not action.startswith("reminder-") or event.get("Response") == "Success":
            return  # an answered reminder is ended by its FastAGI session
        try:
            attempt_id = int(action.removeprefix("reminder-"))
            reason = event.get("Reason", "0")
            reminders.end_attempt(attempt_id, ORIGINATE_REASONS.get(reason, "failed"),
                                  detail=f"originate failed, reason {reason}")
        except Exception:
            log.exception("reminder originate response %s could not be recorded", action)


def make_reminder_handler(platform: Platform, *, engine: IvrEngine) -> Handler:
    """``reminder?attempt=<id>``: the answered customer of a reminder attempt hears the campaign's flow."""

    def handle(agi: HelplineAGI, env: AgiEnvironment) -> None:
        ids = env.query.get("attempt") or []
        attempt_id = int(ids[0]) if ids and ids[0].isdigit() else 0
        attempt = reminders.attempt(attempt_id) if attempt_id else None
        if attempt is None or attempt["outcome"] != "dialling":
            log.warning("[%s] reminder session without an attempt being dialled: %r", env.uniqueid,
                        env.network_script)
            return
        campaign = reminders.campaign(int(attempt["campaign"]))
        target = reminders.target(int(attempt["target"]))
        run_reminder_call(engine, AgiSwitch(agi), campaign, target, attempt_id, uniqueid=env.uniqueid,
                          channel=env.channel)

    return handle


class ReminderRunner:
    """One pass over the running campaigns: refuse what is outside its window, dial what is due."""

    def __init__(self, platform: Platform, dialer: ReminderDialer, *, batch: int = 100,
                 local_now: Callable[[], datetime] = datetime.now) -> None:
        self.platform = platform
        self.dialer = dialer
        self.batch = batch
        self.local_now = local_now
        self._lock = threading.Lock()

    def run_once(self, now: datetime | None = None, *, campaign: int | None = None) -> dict[str, int]:
        """Dial every due customer of every running campaign (or of ``campaign`` only), one pass; counts of
        what was done."""
        counts = {"dialled": 0, "refused": 0, "paused": 0}
        if not self._lock.acquire(blocking=False):  # a pass still running: the next tick picks up the rest
            return counts
        try:
            if self.dialer.available():
                reminders.resume_after_link()
            for camp in reminders.running():
                if campaign is not None and camp["id"] != campaign:
                    continue
                self._campaign(camp, now or utcnow(), counts)
        finally:
            self._lock.release()
        return counts

    def _campaign(self, camp: Mapping[str, Any], now: datetime, counts: dict[str, int]) -> None:
        local = self.local_now()
        for target in reminders.due_targets(int(camp["id"]), now, self.batch):
            attempt_id = reminders.begin_attempt(target)
            if not reminders.in_window(camp, target, local):
                reminders.end_attempt(attempt_id, "refused", now=now,
                                      detail=f"{local:%H:%M} is outside the calling window")
                counts["refused"] += 1
                continue
            try:
                self.dialer.place(camp, target, attempt_id)
            except DialerDown as exc:
                reminders.release_attempt(attempt_id, str(exc))
                reminders.pause_for_link(int(camp["id"]), str(exc))
                counts["paused"] += 1
                log.warning("reminder campaign %s paused: %s", camp["id"], exc)
                return
            except Exception as exc:
                log.exception("reminder attempt %s failed", attempt_id)
                reminders.end_attempt(attempt_id, "failed", detail=repr(exc))
            counts["dialled"] += 1


def reminder_job(platform: Platform) -> Callable[[], dict[str, int]]:
    """The scheduler's ``reminders`` job: attempts an ended process left ``dialling`` are given back first
    (:func:`reminders.recover`), then every run dials what is due (:func:`platform_dialer`)."""
    reminders.recover()
    runner = runner_for(platform)

    def run() -> dict[str, int]:
        return runner.run_once()

    return run


def platform_dialer(platform: Platform) -> ReminderDialer:
    """Asterisk's manager when the desk's call control has one, else simulated customers who answer and
    confirm."""
    client = getattr(platform.desk.control if platform.desk is not None else None, "client", None)
    if isinstance(client, AmiClient):
        return AmiReminderDialer(client)
    return SimulatedReminderDialer(IvrEngine(platform, router=platform.router))


_RUNNERS: dict[int, ReminderRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_for(platform: Platform) -> ReminderRunner:
    """The process's one runner of ``platform`` (the scheduler's job and "dial now" share it, and with it
    the AMI subscription that ends failed originates)."""
    with _RUNNERS_LOCK:
        found = _RUNNERS.get(id(platform))
        if found is None or found.platform is not platform:
            found = _RUNNERS[id(platform)] = ReminderRunner(platform, platform_dialer(platform))
        return found


def dial_now(platform: Platform, actor: Actor, campaign_id: int) -> dict[str, int]:
    """Run one pass over ``campaign_id`` now (the supervisor's "dial now"; ``campaigns.manage``)."""
    actor.require_permission(reminders.PERMISSION)
    return runner_for(platform).run_once(campaign=campaign_id)
