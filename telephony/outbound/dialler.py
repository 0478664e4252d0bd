"""The campaign dialler: agents join a running campaign, each gets the next number from the run's *hopper* and the
call goes out through the desk's dial-out (:mod:`telephony.desk.dialout`: the agent's phone rings first, then the
number), so a campaign call is an outbound call like any other — recorded in ``hl_call``, with a contact record, the
agent talking in the router.

* **Hopper**: per run, numbers already claimed (:meth:`CampaignService.claim`: window, do-not-call, attempt written)
  and kept ready; a background thread refills it when it falls under half, so an agent's "next" never waits for the
  database and nothing here runs under the router's lock. Stopping releases the numbers it still holds.
* **Strategies**: ``preview`` — :meth:`Dialler.next` shows the number and the script, the agent dials (or skips);
  ``progressive`` — :meth:`Dialler.tick` dials for every joined agent who is ready and idle; ``predictive`` —
  :meth:`Dialler.tick` asks the run's pacer how many customers to ring without an agent (within the campaign's
  ``max_lines``) and hands each answered one to the router as a waiting call of the campaign's queue
  (:mod:`telephony.outbound.predictive`; dropped as ``abandoned`` when no agent takes it within 2 s). A switch
  without a customer dialler (:func:`customer_dialler`) dials predictive campaigns progressively.
* **Outcomes**: the switch's outcome of the call becomes the attempt's (busy, no answer, failed ... retried by the
  campaign's intervals); the agent files the questionnaire with :meth:`Dialler.finish` (an answering machine, a
  call-back). A ``link_down`` outcome, or ``link()`` false on a tick, pauses every running run (``reason`` link); the
  first tick with the link up resumes them.

* **One dialler per database**: with several instances on one PostgreSQL database the dialler runs on the leader
  only (:meth:`Dialler.follow`, ``dialler_of(desk, leader=election)``): it starts when the instance is elected
  (first closing the attempts the previous leader left open, as at a start) and stops when it loses (the hopper's
  numbers go back, the agents leave; a call in progress ends as usual). On a standby joining is refused, naming
  the leader.

```python
dialler = dialler_of(desk)         # the process's dialler (started on first use), or for a test:
dialler = Dialler(platform, desk, link=lambda: ami.connected).start()
dialler.join(agent1, run_id)
call = dialler.next(agent1)        # preview: call.claim.phone, the script and questions; then
dialler.dial(agent1)               # the agent's phone rings, then the number
dialler.finish(agent1, {"solved": True, "score": 5})
```
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.data.base import utcnow
from helpline.metadata.kinds.campaign import Campaign
from helpline.security.actor import Actor
from helpline.services.campaigns import CampaignError, CampaignService, Claim, save_result
from telephony.router.model import AgentState, AgentStatus

if TYPE_CHECKING:
    from helpline.services.platform import Platform
    from telephony.desk.dialout import OutboundCall
    from telephony.desk.service import DeskService
    from telephony.outbound.predictive import CustomerDialer, Predictive

__all__ = ["OUTCOMES", "CampaignCall", "Dialler", "Hopper", "dialler_of", "stop_dialler"]

log = logging.getLogger(__name__)

OUTCOMES = {"answered": "answered", "busy": "busy", "noanswer": "no_answer", "cancelled": "no_answer",
            "congestion": "failed", "unavailable": "failed", "failed": "failed", "link_down": "interrupted"}
"""The switch's outcome of a dial (:data:`telephony.control.base.DialOutcome`) → the attempt's."""


class Hopper:
    """Claimed numbers of one run, ready to dial (thread-safe)."""

    def __init__(self, service: CampaignService, run_id: int, size: int) -> None:
        self.service, self.run_id, self.size = service, run_id, size
        self._items: deque[Claim] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def low(self) -> bool:
        return len(self._items) <= self.size // 2

    def refill(self, now: datetime | None = None) -> int:
        """Claim numbers up to the hopper's size; returns how many were added (database work: never call it
        from the router's thread or under its lock)."""
        wanted = self.size - len(self._items)
        if wanted <= 0:
            return 0
        claims = self.service.claim(self.run_id, wanted, now=now)
        with self._lock:
            self._items.extend(claims)
        return len(claims)

    def take(self, agent: str, now: datetime | None = None) -> Claim | None:
        """The agent's due personal call-back if there is one, else the next number."""
        mine = self.service.claim(self.run_id, 1, agent=agent, now=now, personal_only=True)
        if mine:
            return mine[0]
        with self._lock:
            return self._items.popleft() if self._items else None

    def pop(self) -> Claim | None:
        """The next number (no personal call-back: a predictive line has no agent yet)."""
        with self._lock:
            return self._items.popleft() if self._items else None

    def release_all(self) -> int:
        with self._lock:
            items, self._items = list(self._items), deque()
        for claim in items:
            self.service.release(claim)
        return len(items)


@dataclass
class CampaignCall:
    """The campaign call an agent is on or about to make (what the desktop shows beside the customer)."""

    claim: Claim
    campaign: Campaign
    agent: str
    call_id: int | None = None
    contact_record: int | None = None
    state: str = "preview"
    """``preview`` (shown, not dialled), ``dialling``, ``talking``, ``ended``, ``filed``."""
    outcome: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)


class Dialler:
    """Campaign dialling for one process (see the module docstring)."""

    def __init__(self, platform: Platform, desk: DeskService, service: CampaignService | None = None, *,
                 link: Callable[[], bool] | None = None, interval_s: float = 1.0,
                 now: Callable[[], datetime] = utcnow, customers: CustomerDialer | None = None,
                 predictive: Callable[[Dialler, CustomerDialer], Predictive] | None = None) -> None:
        self.platform, self.desk = platform, desk
        self.service = service or CampaignService(platform, now=now)
        self.link = link
        self.interval_s = interval_s
        self.now = now
        self.hoppers: dict[int, Hopper] = {}
        self.members: dict[str, tuple[Actor, int]] = {}
        """username → (the agent, the run joined)."""
        self.calls: dict[str, CampaignCall] = {}
        self.unfiled: dict[str, deque[CampaignCall]] = {}
        """username → predictive calls the agent took while an earlier one was still to file (shown in turn)."""
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.link_up = True
        self.election: Any = None
        """The leader election this dialler follows (``helpline.services.leader``); None: it runs when started."""
        self.predictive: Predictive | None = None
        """Customer-first dialling of predictive runs (None: the switch cannot ring a customer without an agent)."""
        customers = customers if customers is not None else customer_dialler(desk)
        if customers is not None:
            from telephony.outbound.predictive import Predictive as _Predictive

            self.predictive = (predictive or _Predictive)(self, customers)

    # -- lifecycle ------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the background thread dials (started and not stopped)."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> Dialler:
        """Recover attempts a previous process (or leader) left open, then refill hoppers in the background;
        nothing if it runs already."""
        with self._lock:
            if self.running:
                return self
            if self._thread is not None and self._thread.is_alive():  # a stopped tick still finishing
                self._thread.join(timeout=5)
            self._stop.clear()
            self.service.recover()
            self._thread = threading.Thread(target=self._loop, name="campaign-dialler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread; the hoppers' numbers go back undialled."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for hopper in list(self.hoppers.values()):
            hopper.release_all()

    def follow(self, election: Any) -> Dialler:
        """Dial only while ``election`` (``LeaderElection``) says this instance leads (see the module
        docstring); started at once if it leads now."""
        self.election = election
        if self.running and not election.is_leader:  # started before it followed: a standby does not dial
            self.stand_by()
        election.follow(self.start, self.stand_by)
        return self

    def stand_by(self) -> None:
        """This instance stopped leading: stop dialling, give the hoppers' and previews' numbers back, every
        agent leaves its run (a call being dialled or talked ends as usual and its outcome is recorded)."""
        self.stop()
        with self._lock:
            previews = [c for c in self.calls.values() if c.state == "preview"]
            self.calls = {k: c for k, c in self.calls.items() if c.state != "preview"}
            self.members.clear()
            self.hoppers.clear()
        for call in previews:
            self.service.release(call.claim)
        log.info("campaign dialler: this instance stands by; campaigns are dialled on the leader")

    def _refuse_standby(self) -> None:
        """Campaigns are dialled on the leader: on a standby say which instance that is."""
        if self.election is None or self.running:
            return
        try:
            found = self.election.leader()
        except Exception:  # the database is down: the refusal still says why
            found = None
        where = f"{found.instance} ({found.host}, pid {found.pid})" if found else "the leader, once elected"
        raise CampaignError(f"this instance ({self.election.instance}) is a standby: campaigns are dialled on "
                            f"{where}; sign in there")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception:
                log.exception("campaign dialler: a tick failed")

    def hopper(self, run_id: int) -> Hopper:
        with self._lock:
            found = self.hoppers.get(run_id)
            if found is None:
                size = self.service.run_campaign(run_id).hopper
                found = self.hoppers[run_id] = Hopper(self.service, run_id, size)
            return found

    # -- the link -------------------------------------------------------------------------------------
    def check_link(self) -> bool:
        """Pause every running run while the switch link is down; resume what it paused once it is up."""
        up = self.link() if self.link is not None else True
        if up != self.link_up:
            self.link_up = up
            for run in self.service.runs(("running", "loading") if not up else ("paused",)):
                if up:
                    self.service.resume(None, run["id"], reason="link")
                else:
                    self.service.pause(None, run["id"], reason="link")
            log.warning("campaign dialler: switch link %s: campaigns %s", "up" if up else "down",
                        "resumed" if up else "paused")
        return up

    def tick(self) -> None:
        """One round: the link, hopper refills, predictive runs' paced lines, progressive dials for ready idle
        agents."""
        if (self.election is not None and not self.running) or not self.check_link():
            return
        campaigns: dict[int, Campaign] = {}  # this round's runs, each campaign read once
        for run_id in {run for _, run in self.members.values()}:
            try:
                campaign = self.service.run_campaign(run_id)
                hopper = self.hopper(run_id)
                if hopper.low:
                    hopper.refill(self.now())
                campaigns[run_id] = campaign
            except CampaignError as exc:  # the run or its campaign is gone (even after its hopper was made):
                log.warning("campaign dialler: run %s: %s", run_id, exc)  # its agents leave it
                with self._lock:
                    self.members = {k: v for k, v in self.members.items() if v[1] != run_id}
        paced = set()
        if self.predictive is not None:
            for run_id, campaign in campaigns.items():
                if campaign.strategy == "predictive":
                    paced.add(run_id)
                    try:
                        self.predictive.tick_run(run_id)
                    except Exception:
                        log.exception("campaign dialler: predictive run %s", run_id)
        for username, (actor, run_id) in list(self.members.items()):
            found = campaigns.get(run_id)  # None: joined during this round, dialled at the next
            if found is None or found.strategy == "preview" or run_id in paced or username in self.calls \
                    or not self._free(actor):
                continue
            try:
                if self.next(actor) is not None:
                    self.dial(actor)
            except Exception as exc:
                log.info("campaign dialler: no dial for %s: %s", username, exc)

    def _free(self, actor: Actor) -> bool:
        try:
            ref = self.desk.agent_of(actor)
        except Exception:
            return False
        agent = self.desk.router.do(lambda r: r.agents.get(ref.number))
        return agent is not None and agent.status == AgentStatus.READY and agent.state == AgentState.IDLE

    # -- the agent's side -----------------------------------------------------------------------------
    def join(self, actor: Actor, run_id: int) -> None:
        """Work campaign run ``run_id`` (``agent.outbound``; the agent must have the campaign queue's skill)."""
        actor.require_permission("agent.outbound")
        self._refuse_standby()
        campaign = self.service.run_campaign(run_id)
        if self.service.status(run_id) not in ("running", "paused"):
            raise CampaignError(f"campaign run {run_id} is not running")
        ref = self.desk.agent_of(actor)
        agent = self.desk.router.do(lambda r: r.agents.get(ref.number))
        skill = next((q.skill for r in self.platform.metadata.objects.get("routing", {}).values()
                      for q in getattr(r, "queues", []) if q.name == campaign.queue), None)
        if agent is None or (skill and skill not in agent.profile.skills):
            raise CampaignError(f"agent {ref.number} does not work queue '{campaign.queue}' (sign in with its skill)")
        with self._lock:
            self.members[actor.username] = (actor, run_id)
        self.hopper(run_id)
        self._wake.set()

    def leave(self, actor: Actor) -> None:
        with self._lock:
            self.members.pop(actor.username, None)
            call = self.calls.get(actor.username)
            if call is not None and call.state == "preview":
                self.calls.pop(actor.username)
                self.service.release(call.claim)

    def current(self, username: str) -> CampaignCall | None:
        return self.calls.get(username)

    def next(self, actor: Actor) -> CampaignCall | None:
        """The next number for the agent (shown, not yet dialled); None when the hopper is empty."""
        with self._lock:
            member = self.members.get(actor.username)
            if member is None:
                raise CampaignError("join a campaign first")
            existing = self.calls.get(actor.username)
            if existing is not None and existing.state not in ("filed",):
                return existing
        hopper = self.hopper(member[1])
        claim = hopper.take(actor.username, self.now())
        if claim is None:
            hopper.refill(self.now())
            claim = hopper.take(actor.username, self.now())
        if hopper.low:
            self._wake.set()
        if claim is None:
            return None
        call = CampaignCall(claim, self.service.campaign(claim.campaign), actor.username)
        with self._lock:
            self.calls[actor.username] = call
        return call

    def skip(self, actor: Actor) -> None:
        """Give the previewed number back undialled."""
        with self._lock:
            call = self.calls.get(actor.username)
            if call is None or call.state != "preview":
                raise CampaignError("no number previewed")
            self.calls.pop(actor.username)
        self.service.release(call.claim)

    def dial(self, actor: Actor) -> int:
        """Dial the agent's previewed number (refused outside the window or on the do-not-call list)."""
        from telephony.desk.dialout import outbound

        call = self.calls.get(actor.username)
        if call is None or call.state != "preview":
            raise CampaignError("no number to dial: take the next one first")
        try:
            self.service.check_dial(call.claim, self.now())
        except CampaignError:
            self.calls.pop(actor.username, None)
            raise
        call.state = "dialling"
        customer = call.claim.data.get("customer")
        try:
            call.call_id = outbound(self.desk).dial(
                actor, call.claim.phone, customer_id=customer if isinstance(customer, int) else None,
                purpose="campaign", variables={"HELPLINE_CAMPAIGN": call.claim.campaign,
                                               "HELPLINE_ATTEMPT": str(call.claim.attempt_id)},
                on_end=lambda ended: self._ended(call, ended))
        except Exception:
            if call.state == "dialling":  # refused before the switch was asked: the number goes back
                self.calls.pop(actor.username, None)
                self.service.release(call.claim)
            raise
        placed = outbound(self.desk).get(call.call_id)
        call.contact_record = placed.contact_record if placed else None
        return call.call_id

    def _ended(self, call: CampaignCall, ended: OutboundCall) -> None:
        outcome = OUTCOMES.get(ended.outcome or "failed", "failed")
        call.outcome, call.state = outcome, "ended"
        call.call_id = ended.call_id
        self.service.record_outcome(call.claim.attempt_id, outcome, agent=call.agent, call_id=ended.call_id)
        if outcome != "answered":
            with self._lock:
                if self.calls.get(call.agent) is call:
                    self.calls.pop(call.agent)
        if ended.outcome == "link_down":
            self.link_up = False
            self.service.pause(None, call.claim.run_id, reason="link")

    def finish(self, actor: Actor, answers: dict[str, Any] | None = None, *, machine: bool = False,
               callback_at: datetime | None = None, personal: bool = True) -> None:
        """File the call's result: the questionnaire's answers (checked: required, types, branching), or an
        answering machine (retried as such), and optionally a call-back."""
        call = self.calls.get(actor.username)
        if call is None or call.state not in ("talking", "ended", "dialling"):
            raise CampaignError("no campaign call to file")
        if machine:
            self.service.correct_outcome(call.claim.attempt_id, "machine", self.now())
        elif answers is not None:
            call.answers = save_result(self.platform, actor, call.claim.number_id, answers)
        if callback_at is not None:
            self.service.book_callback(actor, call.claim.number_id, callback_at, personal=personal)
        call.state = "filed"
        with self._lock:
            self.calls.pop(actor.username, None)
            later = self.unfiled.get(actor.username)
            if later:
                self.calls[actor.username] = later.popleft()


def customer_dialler(desk: DeskService) -> CustomerDialer | None:
    """What rings customers without an agent on ``desk``'s switch: the simulated outside world, or the reminders'
    AMI ``Originate`` on Asterisk; None for a switch that has neither."""
    from telephony.control.simulated import SimulatedCallControl
    from telephony.outbound.predictive import AmiCustomerDialer, SimulatedCustomerDialer

    control = desk.control
    if isinstance(control, SimulatedCallControl):
        return SimulatedCustomerDialer(control.outside, control.phones)
    client = getattr(control, "client", None)
    if client is not None and hasattr(client, "send"):
        return AmiCustomerDialer(client)
    return None


_DIALLERS: weakref.WeakKeyDictionary[DeskService, Dialler] = weakref.WeakKeyDictionary()
_DIALLERS_LOCK = threading.Lock()


def dialler_of(desk: DeskService, *, leader: Any = None) -> Dialler:
    """The :class:`Dialler` of ``desk`` (one per desk service), made on first use: started at once, or with
    ``leader`` (the process's ``LeaderElection``) running only while this instance leads. On Asterisk its link is
    the manager connection of the call control (``AmiCallControl.client.connected``)."""
    with _DIALLERS_LOCK:
        found = _DIALLERS.get(desk)
        if found is None:
            client = getattr(desk.control, "client", None)
            link = (lambda: bool(client.connected)) if client is not None and hasattr(client, "connected") else None
            found = _DIALLERS[desk] = Dialler(desk.platform, desk, link=link)
            if leader is None:
                found.start()
    if leader is not None and found.election is None:
        found.follow(leader)
    return found


def stop_dialler(desk: DeskService) -> None:
    """Stop ``desk``'s dialler if it has one (the hopper's numbers go back undialled)."""
    with _DIALLERS_LOCK:
        found = _DIALLERS.pop(desk, None)
    if found is not None:
        found.stop()
