"""Predictive campaign dialling: customer-first calls, handed to the router once the customer answers.

A campaign set to ``predictive`` is not dialled through the agents' dial-out (which rings the agent first): the
dialler asks the campaign's :class:`~telephony.outbound.pacing.Pacer` how many lines to dial now
(:meth:`Predictive.state` builds the :class:`~telephony.outbound.pacing.DialState` from the live counts: the
campaign's agents free or on calls with their elapsed talk, the lines ringing or answered and waiting, the recent
answer and drop rates), never more than the campaign's ``max_lines`` in flight, and dials that many numbers of
the hopper *without an agent*:

1. :class:`CustomerDialer` ``originate`` rings the customer: on the simulated switch the outside number's
   behaviour (``telephony.control.outbound``: answer, busy, congestion, no answer) on a simulated channel; on
   Asterisk the reminders' ``Originate`` (``telephony.outbound.reminders.AmiReminderDialer.originate``: one
   originate path for both). A customer who does not answer ends the attempt with the switch's outcome.
2. The answered customer becomes a waiting call of the campaign's queue (a :class:`CallRequest`, as the IVR's
   queueing makes one) through :meth:`RouterService.enqueue`; the router offers it to a free agent of the queue's
   skill, the customer's channel dials the agent's endpoint, and the agent's desktop shows the campaign card
   (:meth:`Dialler.current`) as for progressive calls; the attempt is ``answered`` with the agent.
3. Nobody took it within :data:`DROP_AFTER_S` (2 s) of the answer: the call is dropped (the channel hung up),
   the attempt is ``abandoned`` (the 3 % cap of the pacer counts these) and the number is not dialled again in
   the same call window.

Everything that touches the router goes through ``router.do`` (short, never waiting) or the call's ticket; the
customer's thread waits, never the router.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from helpline.metadata.kinds.campaign import Campaign
from helpline.services.calls import CallService
from helpline.services.campaigns import CampaignError, Claim
from telephony.outbound.pacing import DialState, Pacer, make_pacer
from telephony.router.events import CallLeft, Offer
from telephony.router.model import AgentState, AgentStatus, CallRequest
from telephony.switch.base import SwitchHangup

if TYPE_CHECKING:
    from telephony.control.outbound import SimulatedOutside
    from telephony.outbound.dialler import Dialler
    from telephony.switch.base import Switch
    from telephony.switch.phones import SimulatedPhones

__all__ = ["CAMPAIGN_CONTEXT", "DROP_AFTER_S", "AmiCustomerDialer", "CustomerDialer", "Line", "Predictive",
           "SimulatedCustomerDialer", "make_campaign_handler", "platform_customers"]

log = logging.getLogger(__name__)

DROP_AFTER_S = 2.0
"""An answered customer no agent took within this many seconds is dropped (``abandoned``)."""
MIN_MEASURED = 10
"""Finished attempts before the measured answer rate is used (until then predictive dials like progressive)."""
RECENT = 200
"""Outcomes kept per run for the recent answer and drop rates."""
CAMPAIGN_CONTEXT = "helpline-campaign"
"""The dialplan context an answered predictive customer runs (``AGI(agi://…/campaign?call=<call id>)``)."""
FAILED = {"busy": "busy", "noanswer": "no_answer", "no_answer": "no_answer", "congestion": "failed",
          "unavailable": "failed", "failed": "failed", "link_down": "interrupted"}


@dataclass
class Line:
    """One customer-first call of a predictive run."""

    claim: Claim
    campaign: Campaign
    call_id: int
    state: str = "ringing"
    """``ringing``, ``waiting`` (answered, in the queue), ``offered`` (an agent rings), ``talking``, ``ended``."""
    dialled_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None
    agent: str | None = None
    username: str | None = None
    outcome: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class CustomerDialer(Protocol):
    """Rings a customer without an agent."""

    def available(self) -> bool:
        """Whether calls can be placed now."""

    def originate(self, line: Line, answered: Callable[[Line, Switch], None],
                  failed: Callable[[Line, str], None]) -> None:
        """Ring ``line``'s number and return at once; later ``answered(line, channel)`` (on a thread that may
        hold the customer as long as it needs) or ``failed(line, outcome)`` (busy, noanswer, congestion...)."""


class SimulatedCustomerDialer:
    """The simulated switch's customers: each number behaves as the outside world says
    (``SimulatedOutside.behave``); an answered one is a simulated channel that dials agents' simulated phones."""

    def __init__(self, outside: SimulatedOutside, phones: SimulatedPhones, *, ring_timeout_s: float = 30.0) -> None:
        self.outside, self.phones, self.ring_timeout_s = outside, phones, ring_timeout_s

    def available(self) -> bool:
        return True

    def originate(self, line: Line, answered: Callable[[Line, Switch], None],
                  failed: Callable[[Line, str], None]) -> None:
        threading.Thread(target=self._run, args=(line, answered, failed), daemon=True,
                         name=f"customer-{line.call_id}").start()

    def _run(self, line: Line, answered: Callable[[Line, Switch], None], failed: Callable[[Line, str], None]) -> None:
        from telephony.switch.simulated import SimulatedSwitch

        behaviour = self.outside.behaviour(line.claim.phone)
        leg = self.outside._open(line.call_id, line.claim.phone)
        ring = self.ring_timeout_s if behaviour.result == "noanswer" else min(behaviour.ring_s, self.ring_timeout_s)
        if leg.hung_up.wait(ring):
            leg.state = "ended"
            failed(line, "noanswer")
            return
        if behaviour.result != "answer" or ring < behaviour.ring_s:
            leg.state = "ended"
            failed(line, behaviour.result)
            return
        leg.state = "talking"
        switch = SimulatedSwitch(interactive=True, phones=self.phones, language="zh_CN")
        if behaviour.talk_s is not None:
            timer = threading.Timer(behaviour.talk_s, leg.hung_up.set)
            timer.daemon = True
            timer.start()

        def watch() -> None:  # the customer hangs up (OUTSIDE.hang_up, or after talk_s)
            while not line.done.is_set():
                if leg.hung_up.wait(0.05):
                    switch.hang_up()
                    return
        threading.Thread(target=watch, daemon=True, name=f"customer-watch-{line.call_id}").start()
        try:
            answered(line, switch)
        finally:
            leg.state = "ended"


class AmiCustomerDialer:
    """Customers rung on Asterisk with the reminders' ``Originate`` (``Local/<number>@helpline-reminder-dial``
    into :data:`CAMPAIGN_CONTEXT` with ``HELPLINE_CAMPAIGN_CALL=<call id>``); the answered customer's FastAGI
    session (:func:`make_campaign_handler`) holds them while the router finds an agent; a failed originate ends
    the line with its ``OriginateResponse`` reason (3 no answer, 5 busy, others failed)."""

    def __init__(self, client: Any, *, ring_s: int = 30) -> None:
        from telephony.outbound.reminders import AmiReminderDialer

        self.client = client
        self.originator = AmiReminderDialer(client, ring_s=ring_s)
        self.pending: dict[int, tuple[Line, Callable[[Line, Switch], None], Callable[[Line, str], None]]] = {}
        self._lock = threading.Lock()
        self.unsubscribe: Callable[[], None] = client.on_event("OriginateResponse", self._response)

    def available(self) -> bool:
        return bool(self.client.connected)

    def originate(self, line: Line, answered: Callable[[Line, Switch], None],
                  failed: Callable[[Line, str], None]) -> None:
        with self._lock:
            self.pending[line.call_id] = (line, answered, failed)
        try:
            self.originator.originate(line.claim.phone, action_id=f"campaign-{line.call_id}",
                                      variable=f"HELPLINE_CAMPAIGN_CALL={line.call_id}", context=CAMPAIGN_CONTEXT,
                                      caller_id="Helpline campaign")
        except Exception:
            with self._lock:
                self.pending.pop(line.call_id, None)
            raise

    def take(self, call_id: int) -> tuple[Line, Callable[[Line, Switch], None], Callable[[Line, str], None]] | None:
        with self._lock:
            return self.pending.pop(call_id, None)

    def _response(self, event: Any) -> None:
        from telephony.outbound.reminders import ORIGINATE_REASONS

        action = str(event.get("ActionID", ""))
        if not action.startswith("campaign-") or event.get("Response") == "Success":
            return  # an answered customer is served by its FastAGI session
        found = self.take(int(action.removeprefix("campaign-") or 0))
        if found is not None:
            reason = ORIGINATE_REASONS.get(str(event.get("Reason", "0")), "failed")
            found[2](found[0], {"no_answer": "noanswer"}.get(reason, reason))


def make_campaign_handler(customers: Callable[[], AmiCustomerDialer | None]) -> Any:
    """``campaign?call=<id>``: the answered customer of a predictive line (``customers()``: the process's AMI
    customer dialler, :func:`platform_customers`), held in this FastAGI session while the router finds an
    agent (dropped after 2 s)."""
    from telephony.switch.agi_channel import AgiSwitch

    def handle(agi: Any, env: Any) -> None:
        ids = env.query.get("call") or []
        dialer = customers()
        found = dialer.take(int(ids[0])) if dialer is not None and ids and ids[0].isdigit() else None
        if found is None:
            log.warning("[%s] campaign session without a line being dialled: %r", env.uniqueid, env.network_script)
            return
        line, answered, _ = found
        answered(line, AgiSwitch(agi))

    return handle


def platform_customers(platform: Any) -> AmiCustomerDialer | None:
    """The AMI customer dialler of ``platform``'s campaign dialler, if its switch is Asterisk."""
    if getattr(platform, "desk", None) is None:
        return None
    from telephony.outbound.dialler import dialler_of

    predictive = dialler_of(platform.desk).predictive
    found = predictive.customers if predictive is not None else None
    return found if isinstance(found, AmiCustomerDialer) else None


class _Rates:
    """Recent outcomes of one run (answer and drop rates for the pacer)."""

    def __init__(self) -> None:
        self.outcomes: deque[str] = deque(maxlen=RECENT)
        self.talks: deque[float] = deque(maxlen=RECENT)
        self.rings: deque[float] = deque(maxlen=RECENT)
        self.started = time.monotonic()

    def answer_rate(self) -> float | None:
        done = [o for o in self.outcomes if o != "interrupted"]
        if len(done) < MIN_MEASURED:
            return None
        return sum(o in ("answered", "abandoned") for o in done) / len(done)

    def drop_rate(self) -> float | None:
        live = [o for o in self.outcomes if o in ("answered", "abandoned")]
        return sum(o == "abandoned" for o in live) / len(live) if live else None


class Predictive:
    """Predictive dialling for a :class:`~telephony.outbound.dialler.Dialler` (see the module docstring)."""

    def __init__(self, dialler: Dialler, customers: CustomerDialer, *, drop_after_s: float = DROP_AFTER_S,
                 pacer: Callable[[Campaign], Pacer] | None = None, calls: CallService | None = None) -> None:
        self.dialler = dialler
        self.customers = customers
        self.drop_after_s = drop_after_s
        self.make_pacer = pacer or (lambda campaign: make_pacer("predictive"))
        self.calls = calls or CallService()
        self.lines: dict[int, Line] = {}
        self.pacers: dict[int, Pacer] = {}
        self.rates: dict[int, _Rates] = {}
        self._lock = threading.Lock()

    @property
    def router(self) -> Any:
        return self.dialler.desk.router

    def active(self, run_id: int) -> list[Line]:
        with self._lock:
            return [line for line in self.lines.values() if line.claim.run_id == run_id and not line.done.is_set()]

    # -- pacing ---------------------------------------------------------------------------------------
    def state(self, run_id: int, campaign: Campaign) -> DialState:
        """The run's live counts: its joined agents (free, on a call with the talk so far, in wrap-up), its lines
        ringing and answered-waiting, the recent answer and drop rates, the lines left under ``max_lines``."""
        numbers = {self._agent_number(actor) for actor, run in list(self.dialler.members.values()) if run == run_id}
        numbers.discard(None)

        def read(r: Any) -> tuple[int, list[float], list[float]]:
            free, talk, wrap = 0, [], []
            now = r.now()
            for number in numbers:
                agent = r.agents.get(number)
                if agent is None or agent.status != AgentStatus.READY:
                    continue
                if agent.state == AgentState.IDLE:
                    free += 1
                elif agent.state == AgentState.WRAP_UP:
                    wrap.append(0.0)
                else:
                    talk.append(max(0.0, now - agent.state_since))
            return free, talk, wrap

        free, talk, wrap = self.router.do(read)
        lines = self.active(run_id)
        rates = self.rates.setdefault(run_id, _Rates())
        mean_talk = sum(rates.talks) / len(rates.talks) if rates.talks else None
        mean_ring = sum(rates.rings) / len(rates.rings) if rates.rings else 15.0
        return DialState(
            now_s=time.monotonic() - rates.started, agents_free=free, talk_elapsed_s=tuple(talk),
            wrap_left_s=tuple(wrap), ringing=sum(line.state == "ringing" for line in lines),
            answered_waiting=sum(line.state in ("waiting", "offered") for line in lines),
            answer_rate=rates.answer_rate(), drop_rate=rates.drop_rate(), mean_talk_s=mean_talk or None,
            mean_ring_s=mean_ring, lines_free=max(0, campaign.max_lines - len(lines)))

    def tick_run(self, run_id: int) -> int:
        """Dial what the run's pacer asks for now (within ``max_lines``); how many lines were dialled."""
        campaign = self.dialler.service.run_campaign(run_id)
        if self.dialler.service.status(run_id) != "running" or not self.customers.available():
            return 0
        pacer = self.pacers.get(run_id)
        if pacer is None:
            pacer = self.pacers[run_id] = self.make_pacer(campaign)
        state = self.state(run_id, campaign)
        wanted = min(pacer.lines_to_dial(state), state.lines_free if state.lines_free is not None else 0)
        hopper = self.dialler.hopper(run_id)
        dialled = 0
        for _ in range(max(0, wanted)):
            claim = hopper.pop()
            if claim is None:
                hopper.refill(self.dialler.now())
                claim = hopper.pop()
                if claim is None:
                    break
            if self.dial(claim, campaign):
                dialled += 1
        return dialled

    # -- one line -------------------------------------------------------------------------------------
    def dial(self, claim: Claim, campaign: Campaign) -> bool:
        """Ring ``claim``'s customer (checked again: window, do-not-call); False when it was refused."""
        service = self.dialler.service
        try:
            service.check_dial(claim, self.dialler.now())
        except CampaignError as exc:
            log.info("predictive: %s not dialled: %s", claim.phone, exc)
            return False
        customer = claim.data.get("customer")
        call_id = self.calls.open(switch=self.dialler.desk.control.kind, direction="outbound", dnid=claim.phone,
                                  caller_number=claim.phone, queue=campaign.queue,
                                  customer_id=customer if isinstance(customer, int) else None,
                                  variables={"purpose": "campaign", "strategy": "predictive",
                                             "campaign": claim.campaign, "attempt": claim.attempt_id})
        line = Line(claim, campaign, call_id)
        with self._lock:
            self.lines[call_id] = line
        try:
            self.customers.originate(line, self._answered, self._failed)
        except Exception as exc:
            log.warning("predictive: originate to %s failed: %s", claim.phone, exc)
            self._failed(line, "link_down" if "connect" in str(exc).lower() else "failed")
        return True

    def _failed(self, line: Line, result: str) -> None:
        outcome = FAILED.get(result, "failed")
        self._finish(line, outcome, result=result)
        if outcome == "interrupted":
            self.dialler.link_up = False
            self.dialler.service.pause(None, line.claim.run_id, reason="link")

    def _answered(self, line: Line, switch: Switch) -> None:
        """On the customer's thread: queue the answered customer, dial the agent offered, drop after 2 s."""
        line.answered_at, line.state = time.monotonic(), "waiting"
        self.rates.setdefault(line.claim.run_id, _Rates()).rings.append(line.answered_at - line.dialled_at)
        request = CallRequest(call_id=line.call_id, queue=line.campaign.queue, caller_number=line.claim.phone,
                              context={"campaign": line.campaign.name, "caller": {"number": line.claim.phone}})
        ticket = self.router.enqueue(request)
        if ticket.result != "queued":
            self._drop(line, switch, f"no agent in queue '{line.campaign.queue}' ({ticket.result})")
            return
        ticket.wake = switch.wake
        try:
            while True:
                left = line.answered_at + self.drop_after_s - time.monotonic()
                if left <= 0:
                    ticket.abandon()
                    self._drop(line, switch, f"no agent took the call within {self.drop_after_s:g} s")
                    return
                event = ticket.next(timeout=min(left, 0.05))
                if event is None:
                    if not switch.alive:
                        raise SwitchHangup("the customer hung up while waiting")
                    continue
                if isinstance(event, CallLeft):
                    if event.how in ("timeout", "empty"):
                        self._drop(line, switch, event.reason)
                        return
                    continue
                if self._offer(line, switch, ticket, event, left):
                    return
        except SwitchHangup:
            ticket.abandon()
            self._finish(line, "abandoned", result="abandoned", detail="the customer hung up before an agent")
        finally:
            ticket.close()

    def _offer(self, line: Line, switch: Switch, ticket: Any, offer: Offer, left: float) -> bool:
        """Ring the offered agent with the campaign card on the desktop; True when the call was answered."""
        from telephony.outbound.dialler import CampaignCall

        agent = self.router.do(lambda r: r.agents.get(offer.agent_id))
        username = agent.profile.user if agent is not None else None
        line.state, line.agent, line.username = "offered", offer.agent_id, username
        card = CampaignCall(line.claim, line.campaign, username or "", call_id=line.call_id, state="talking")
        if username:
            with self.dialler._lock:
                previous = self.dialler.calls.get(username)
                if previous is not None and previous.state != "filed":  # the earlier card is filed first
                    self.dialler.unfiled.setdefault(username, deque()).append(card)
                else:
                    self.dialler.calls[username] = card
        ticket.ringing()
        result = switch.dial(offer.endpoint, max(left, 0.05), call_id=line.call_id, on_answer=ticket.answered)
        if result.status == "answer":
            ticket.ended()
            line.state = "talking"
            card.state = "ended"
            self.rates.setdefault(line.claim.run_id, _Rates()).talks.append(max(result.talk_s, 0.1))
            self._finish(line, "answered", result="answered", talk_s=round(result.talk_s, 3))
            return True
        if username:
            with self.dialler._lock:
                if self.dialler.calls.get(username) is card:
                    self.dialler.calls.pop(username)
                elif card in self.dialler.unfiled.get(username, ()):
                    self.dialler.unfiled[username].remove(card)
        if result.status == "hangup":
            raise SwitchHangup("the customer hung up while the agent rang")
        ticket.no_answer(f"did not answer ({result.status})")
        line.state, line.agent, line.username = "waiting", None, None
        return False

    def _drop(self, line: Line, switch: Switch, why: str) -> None:
        try:
            switch.hangup()
        except Exception:
            log.info("predictive: call %s already gone when dropped", line.call_id)
        self._finish(line, "abandoned", result="abandoned", detail=why)

    def _finish(self, line: Line, outcome: str, *, result: str, talk_s: float | None = None,
                detail: str = "") -> None:
        if line.done.is_set():
            return
        line.outcome, line.state = outcome, "ended"
        self.rates.setdefault(line.claim.run_id, _Rates()).outcomes.append(outcome)
        try:
            self.calls.close(line.call_id, result=result, talk_s=talk_s, agent=line.agent,
                             variables={"purpose": "campaign", "strategy": "predictive", "detail": detail[:200]})
            self.dialler.service.record_outcome(line.claim.attempt_id, outcome, agent=line.username or "",
                                                call_id=line.call_id)
        except Exception:
            log.exception("predictive: the end of call %s could not be recorded", line.call_id)
        finally:
            line.done.set()
            with self._lock:
                self.lines.pop(line.call_id, None)
            self.dialler._wake.set()

    def _agent_number(self, actor: Any) -> str | None:
        try:
            return str(self.dialler.desk.agent_of(actor).number)
        except Exception:
            return None
