"""Campaign runs: start (load the list), pause, resume, stop; claim numbers to dial; record each attempt's outcome;
call-backs; the monitor's figures; recovery after a restart.

Every dial is *claimed* first: one short transaction writes the attempt (with the call window it is made in) and
marks the number ``dialling``, and only then is it dialled. So after a crash the attempts without an outcome are
exactly the calls that may have rung; :meth:`CampaignService.recover` marks them ``interrupted`` and moves their
numbers to the next window, so a restarted server never dials a number twice in one window.

```python
service = CampaignService(platform)
run_id, counts = service.start(supervisor, "satisfaction_survey")
claims = service.claim(run_id, 5, agent="agent1")      # within the windows, not on the do-not-call list
service.record_outcome(claims[0].attempt_id, "busy")     # retried after the campaign's busy interval
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import fn

from helpline.data.base import utcnow
from helpline.data.campaigns import CampaignAttempt, CampaignNumber, CampaignRun, DoNotCall
from helpline.data.database import session, write_transaction
from helpline.metadata.kinds.campaign import Campaign
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .lists import ListError, LoadCounts, load_list
from .policy import after_outcome, dial_number, next_window_start, window_at

if TYPE_CHECKING:
    from helpline.services.platform import Platform

__all__ = ["MANAGE", "CampaignError", "CampaignService", "Claim"]

MANAGE = "campaigns.manage"
RESULTS = ("answered", "busy", "no_answer", "machine", "failed", "abandoned", "interrupted")
"""Every outcome an attempt can end with (``abandoned``: answered with no agent free, predictive dialling;
``interrupted``: the process ended or the switch link dropped)."""


class CampaignError(ValueError):
    """A refused campaign action; the message says why."""


@dataclass(frozen=True)
class Claim:
    """A number claimed for one dial (its attempt is already written)."""

    run_id: int
    campaign: str
    number_id: int
    attempt_id: int
    phone: str
    name: str
    region: str
    window: str
    data: dict[str, Any]
    callback_user: str = ""


class CampaignService:
    """Campaign runs of one platform. ``now`` gives naive UTC (a test's clock)."""

    def __init__(self, platform: Platform, now: Callable[[], datetime] = utcnow) -> None:
        self.platform = platform
        self.now = now

    # -- metadata -------------------------------------------------------------------------------------
    def campaign(self, name: str) -> Campaign:
        found = self.platform.metadata.objects.get("campaign", {}).get(name)
        if not isinstance(found, Campaign):
            known = ", ".join(sorted(self.platform.metadata.objects.get("campaign", {}))) or "none"
            raise CampaignError(f"no campaign '{name}' (metadata/campaigns/; defined: {known})")
        return found

    def campaigns(self) -> list[Campaign]:
        return [c for _, c in sorted(self.platform.metadata.objects.get("campaign", {}).items())
                if isinstance(c, Campaign)]

    def _run(self, run_id: int) -> CampaignRun:
        with session():
            run = CampaignRun.get_or_none(CampaignRun.id == run_id)
        if run is None:
            raise CampaignError(f"no campaign run {run_id}")
        return run

    def run_campaign(self, run_id: int) -> Campaign:
        return self.campaign(self._run(run_id).campaign)

    # -- runs -----------------------------------------------------------------------------------------
    def start(self, actor: Actor, name: str, path: Path | None = None, *, batch: int = 500, pause: float = 0.0,
              progress: Callable[[LoadCounts], None] | None = None) -> tuple[int, LoadCounts]:
        """Create a run of campaign ``name``, load its list (``path``: the file of an import that reads one) and
        set it running. Needs ``campaigns.manage``."""
        actor.require_permission(MANAGE)
        campaign = self.campaign(name)
        with session(), write_transaction():
            run = CampaignRun.create(campaign=name, created_by=actor.username, created_at=self.now(),
                                     updated_at=self.now())
            audit(actor, "campaign.start", detail={"campaign": name, "run": run.id})
        try:
            counts = load_list(self.platform, actor, campaign, run.id, path, batch=batch, pause=pause,
                               today=self._local_today(campaign), progress=progress)
        except ListError:
            self._set(run.id, "stopped", "the list could not be read")
            raise
        with session(), write_transaction():
            CampaignRun.update(counts=counts.as_dict(), updated_at=self.now()).where(CampaignRun.id == run.id).execute()
            CampaignRun.update(status="running").where((CampaignRun.id == run.id) &
                                                       (CampaignRun.status == "loading")).execute()
        return run.id, counts

    def _local_today(self, campaign: Campaign) -> Any:
        from datetime import UTC
        from zoneinfo import ZoneInfo

        return self.now().replace(tzinfo=UTC).astimezone(ZoneInfo(campaign.timezone)).date()

    def _set(self, run_id: int, status: str, reason: str = "", *, only_from: tuple[str, ...] = ()) -> bool:
        with session(), write_transaction():
            query = CampaignRun.update(status=status, reason=reason, updated_at=self.now()).where(
                CampaignRun.id == run_id)
            if only_from:
                query = query.where(CampaignRun.status.in_(only_from))
            return bool(query.execute())

    def pause(self, actor: Actor | None, run_id: int, reason: str = "user") -> bool:
        """Stop claiming numbers (calls in progress go on); ``actor`` None: the system (the link is down)."""
        if actor is not None:
            actor.require_permission(MANAGE)
        self._run(run_id)
        changed = self._set(run_id, "paused", reason, only_from=("running", "loading"))
        if changed and actor is not None:
            with session():
                audit(actor, "campaign.pause", detail={"run": run_id})
        return changed

    def resume(self, actor: Actor | None, run_id: int, *, reason: str | None = None) -> bool:
        """Running again; with ``reason`` only a run paused for that reason (the system resumes only what it
        paused itself: a supervisor's pause stays)."""
        if actor is not None:
            actor.require_permission(MANAGE)
        run = self._run(run_id)
        if run.status != "paused" or (reason is not None and run.reason != reason):
            return False
        changed = self._set(run_id, "running", only_from=("paused",))
        if changed and actor is not None:
            with session():
                audit(actor, "campaign.resume", detail={"run": run_id})
        return changed

    def stop(self, actor: Actor, run_id: int) -> bool:
        actor.require_permission(MANAGE)
        self._run(run_id)
        changed = self._set(run_id, "stopped", only_from=("running", "paused", "loading"))
        with session():
            audit(actor, "campaign.stop", detail={"run": run_id})
        return changed

    def runs(self, status: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        with session():
            query = CampaignRun.select().order_by(CampaignRun.id.desc())
            if status:
                query = query.where(CampaignRun.status.in_(status))
            return [{"id": r.id, "campaign": r.campaign, "status": r.status, "reason": r.reason,
                     "counts": r.counts or {}, "created_by": r.created_by, "created_at": r.created_at}
                    for r in query]

    def status(self, run_id: int) -> str:
        return str(self._run(run_id).status)

    # -- dialling -------------------------------------------------------------------------------------
    def claim(self, run_id: int, limit: int, agent: str = "", now: datetime | None = None, *,
              personal_only: bool = False) -> list[Claim]:
        """Up to ``limit`` numbers of a running run to dial now: due, within their region's window, not on the
        do-not-call list (checked again here: a number added since loading is marked ``dnc``), a personal
        call-back only for its agent (``personal_only``: only those). Each one's attempt is written before it is
        returned. Dialling starts with the list's first batch (a run still ``loading``)."""
        now = now or self.now()
        run = self._run(run_id)
        if run.status not in ("running", "loading") or limit <= 0 or (personal_only and not agent):
            return []
        campaign = self.campaign(run.campaign)
        out: list[Claim] = []
        mine = ((CampaignNumber.callback_user == agent) if personal_only else
                ((CampaignNumber.callback_user == "") | (CampaignNumber.callback_user == agent)))
        ready = (CampaignNumber.run == run_id) & (CampaignNumber.status == "ready") & mine
        wanted = limit * 4 + 10
        with session():  # two index range scans (run, status, next_at): retries due first, then fresh numbers
            candidates = list(CampaignNumber.select().where(ready & (CampaignNumber.next_at <= now))
                              .order_by(CampaignNumber.next_at).limit(wanted))
            if len(candidates) < wanted and not personal_only:
                candidates += list(CampaignNumber.select().where(ready & CampaignNumber.next_at.is_null())
                                   .order_by(CampaignNumber.id).limit(wanted - len(candidates)))
            blocked = self._blocked([c.phone for c in candidates]) if campaign.do_not_call else set()
            for number in candidates:
                if len(out) >= limit:
                    break
                claim = self._claim_one(run, campaign, number, blocked, agent, now)
                if claim is not None:
                    out.append(claim)
        return out

    @staticmethod
    def _blocked(phones: list[str]) -> set[str]:
        if not phones:
            return set()
        return {r.number for r in DoNotCall.select(DoNotCall.number).where(DoNotCall.number.in_(phones))}

    def _claim_one(self, run: CampaignRun, campaign: Campaign, number: CampaignNumber, blocked: set[str],
                   agent: str, now: datetime) -> Claim | None:
        with write_transaction():
            if number.phone in blocked:
                CampaignNumber.update(status="dnc", updated_at=now).where(
                    (CampaignNumber.id == number.id) & (CampaignNumber.status == "ready")).execute()
                return None
            window = window_at(campaign, number.region or None, now)
            if window is None:
                later = next_window_start(campaign, number.region or None, now)
                CampaignNumber.update(next_at=later, status="ready" if later else "gave_up").where(
                    CampaignNumber.id == number.id).execute()
                return None
            tried = CampaignAttempt.select().where(
                (CampaignAttempt.number == number.id) & (CampaignAttempt.window == window.key) &
                (CampaignAttempt.outcome.in_(("", "interrupted", "abandoned")))).exists()
            if tried:  # may have rung in this window before a restart or a link drop: not again in it
                CampaignNumber.update(next_at=next_window_start(campaign, number.region or None, now)).where(
                    CampaignNumber.id == number.id).execute()
                return None
            taken = CampaignNumber.update(status="dialling", attempts=CampaignNumber.attempts + 1, agent=agent,
                                          updated_at=now).where(
                (CampaignNumber.id == number.id) & (CampaignNumber.status == "ready")).execute()
            if not taken:  # another claimer was first
                return None
            attempt = CampaignAttempt.create(run=run.id, number=number.id, phone=number.phone, window=window.key,
                                             started_at=now, agent=agent)
        return Claim(run.id, run.campaign, number.id, attempt.id, number.phone, number.name, number.region,
                     window.key, dict(number.data or {}), number.callback_user)

    def check_dial(self, claim: Claim, now: datetime | None = None) -> None:
        """Right before dialling (a preview may wait on the agent): refuse with :class:`CampaignError` when the
        window has closed or the number is now on the do-not-call list; the attempt is then released."""
        now = now or self.now()
        campaign = self.campaign(claim.campaign)
        reason = ""
        with session():
            if campaign.do_not_call and self._blocked([claim.phone]):
                reason = "dnc"
        if not reason and window_at(campaign, claim.region or None, now) is None:
            reason = "window"
        if not reason:
            return
        self.release(claim, now, dnc=reason == "dnc")
        if reason == "dnc":
            raise CampaignError(f"{claim.phone} is on the do-not-call list: not dialled")
        raise CampaignError(f"{claim.phone} may not be dialled now: outside the campaign's call windows")

    def release(self, claim: Claim, now: datetime | None = None, *, dnc: bool = False) -> None:
        """Give a claimed number back undialled (its attempt removed and not counted)."""
        now = now or self.now()
        campaign = self.campaign(claim.campaign)
        with session(), write_transaction():
            CampaignAttempt.delete().where((CampaignAttempt.id == claim.attempt_id) &
                                           (CampaignAttempt.outcome == "")).execute()
            later = None if dnc or window_at(campaign, claim.region or None, now) else \
                next_window_start(campaign, claim.region or None, now)
            CampaignNumber.update(status="dnc" if dnc else "ready", attempts=CampaignNumber.attempts - 1,
                                  next_at=later, updated_at=now).where(
                (CampaignNumber.id == claim.number_id) & (CampaignNumber.status == "dialling")).execute()

    def record_outcome(self, attempt_id: int, outcome: str, *, agent: str = "", call_id: int | None = None,
                       now: datetime | None = None) -> str:
        """End an attempt; returns the number's new status. Busy, no answer, machine, failed and abandoned are
        retried after the campaign's interval for that outcome until ``max_attempts``; ``interrupted`` (link
        down) is not counted as an attempt and waits for the next window."""
        if outcome not in RESULTS:
            raise CampaignError(f"unknown outcome '{outcome}' (one of {', '.join(RESULTS)})")
        now = now or self.now()
        with session(), write_transaction():
            attempt = CampaignAttempt.get_or_none(CampaignAttempt.id == attempt_id)
            if attempt is None:
                raise CampaignError(f"no campaign attempt {attempt_id}")
            if attempt.outcome:
                return str(CampaignNumber.get_by_id(attempt.number).status)
            run = CampaignRun.get_by_id(attempt.run)
            campaign = self.campaign(run.campaign)
            number = CampaignNumber.get_by_id(attempt.number)
            CampaignAttempt.update(outcome=outcome, ended_at=now, agent=agent or attempt.agent,
                                   call_id=call_id).where(CampaignAttempt.id == attempt_id).execute()
            attempts = number.attempts
            if outcome == "interrupted":
                status, next_at = "ready", next_window_start(campaign, number.region or None, now)
                attempts -= 1
            else:
                status, next_at = after_outcome(campaign, attempts, "no_answer" if outcome == "abandoned"
                                                else outcome, now)
                if outcome == "abandoned" and status == "ready":  # dropped: never again in the same window
                    later = next_window_start(campaign, number.region or None, now)
                    next_at = max(next_at, later) if next_at and later else later or next_at
            CampaignNumber.update(status=status, next_at=next_at, attempts=attempts, last_outcome=outcome,
                                  callback_user="", updated_at=now).where(CampaignNumber.id == number.id).execute()
        return status

    def correct_outcome(self, attempt_id: int, outcome: str, now: datetime | None = None) -> str:
        """The agent's word on an answered attempt (an answering machine picked up): recorded again as
        ``outcome``, so its retry interval applies. Returns the number's new status."""
        with session(), write_transaction():
            updated = CampaignAttempt.update(outcome="").where(
                (CampaignAttempt.id == attempt_id) & (CampaignAttempt.outcome == "answered")).execute()
            if updated:
                number_id = CampaignAttempt.get_by_id(attempt_id).number
                CampaignNumber.update(status="dialling").where(CampaignNumber.id == number_id).execute()
        return self.record_outcome(attempt_id, outcome, now=now)

    def recover(self, now: datetime | None = None) -> int:
        """After a restart: every attempt left without an outcome is ``interrupted`` and its number waits for
        the next window (it may have rung in this one). Returns how many."""
        now = now or self.now()
        with session():
            open_ids = [a.id for a in CampaignAttempt.select(CampaignAttempt.id).where(CampaignAttempt.outcome == "")]
        recovered = 0
        for attempt_id in open_ids:
            try:
                self.record_outcome(attempt_id, "interrupted", now=now)
                recovered += 1
            except CampaignError:  # given back meanwhile by the instance that claimed it (it stepped down)
                continue
        return recovered

    # -- call-backs -----------------------------------------------------------------------------------
    def book_callback(self, actor: Actor, number_id: int, at: datetime, *, personal: bool) -> None:
        """Call the person again at ``at`` (naive UTC): for ``actor`` only (personal) or for any agent."""
        actor.require_permission("agent.outbound")
        with session():
            number = CampaignNumber.get_or_none(CampaignNumber.id == number_id)
            if number is None:
                raise CampaignError(f"no campaign number {number_id}")
            campaign = self.campaign(CampaignRun.get_by_id(number.run).campaign)
            allowed = campaign.callbacks.personal if personal else campaign.callbacks.shared
            if not allowed:
                raise CampaignError(f"campaign '{campaign.name}' allows no {'personal' if personal else 'shared'} "
                                    f"call-backs")
            now = self.now()
            if at <= now or at > now + timedelta(days=campaign.callbacks.max_days):
                raise CampaignError(f"a call-back must be after now and within {campaign.callbacks.max_days} days")
            with write_transaction():
                CampaignNumber.update(status="ready", next_at=at, callback_user=actor.username if personal else "",
                                      last_outcome="callback", updated_at=now).where(
                    CampaignNumber.id == number_id).execute()
                audit(actor, "campaign.callback", detail={"number": number_id, "at": at.isoformat(),
                                                          "personal": personal})

    # -- do-not-call ----------------------------------------------------------------------------------
    def add_dnc(self, actor: Actor, numbers: list[Any], reason: str = "", source: str = "manual") -> dict[str, int]:
        """Add numbers to the do-not-call list (``campaigns.manage``): counts of added, already listed, invalid."""
        actor.require_permission(MANAGE)
        valid = [n for n in (dial_number(x) for x in numbers) if n]
        result = {"added": 0, "listed": 0, "invalid": len(numbers) - len(valid)}
        with session(), write_transaction():
            for i in range(0, len(valid), 500):
                chunk = list(dict.fromkeys(valid[i:i + 500]))
                known = self._blocked(chunk)
                fresh = [n for n in chunk if n not in known]
                if fresh:
                    DoNotCall.insert_many([{"number": n, "reason": reason[:200], "source": source[:64],
                                            "added_at": self.now()} for n in fresh]).execute()
                result["added"] += len(fresh)
                result["listed"] += len(chunk) - len(fresh)
            audit(actor, "campaign.dnc_add", detail={**result, "source": source})
        return result

    def import_dnc(self, actor: Actor, path: Path, reason: str = "") -> dict[str, int]:
        """Add the numbers of a CSV or xlsx file (the first column whose header says number/phone/号码/电话, else
        the first column)."""
        from helpline.metadata.kinds.imports import ImportSource
        from helpline.services.imports.sources import SourceError, open_source, sniff_bytes

        kind = "xlsx" if sniff_bytes(path.read_bytes()[:8]) == "xlsx" else "csv"
        try:
            table = open_source(ImportSource(type=kind), path, path.name)
        except SourceError as exc:
            raise CampaignError(str(exc)) from exc
        words = ("number", "phone", "号码", "电话", "手机")
        col = next((i for i, h in enumerate(table.headers) if any(w in str(h).lower() for w in words)), 0)
        try:
            numbers = [cells[col] if col < len(cells) else None for _, cells in table.rows]
        finally:
            table.close()
        return self.add_dnc(actor, numbers, reason, source=f"file:{path.name}"[:64])

    # -- figures --------------------------------------------------------------------------------------
    def monitor(self, run_id: int) -> dict[str, Any]:
        """Progress (numbers per status), attempts per outcome (``claimed``: in a hopper or being dialled), the
        contact rate (answered ÷ finished attempts), the agents who worked it in the last hour and the calls
        abandoned."""
        run = self._run(run_id)
        with session():
            by_status: Any = (CampaignNumber.select(CampaignNumber.status, fn.COUNT(CampaignNumber.id).alias("n"))
                         .where(CampaignNumber.run == run_id).group_by(CampaignNumber.status).tuples())
            statuses = {str(s): int(n) for s, n in by_status}
            by_outcome: Any = (CampaignAttempt.select(CampaignAttempt.outcome, fn.COUNT(CampaignAttempt.id).alias("n"))
                          .where(CampaignAttempt.run == run_id).group_by(CampaignAttempt.outcome).tuples())
            outcomes = {str(o) or "claimed": int(n) for o, n in by_outcome}
            since = self.now() - timedelta(hours=1)
            agents = sorted({a.agent for a in CampaignAttempt.select(CampaignAttempt.agent).where(
                (CampaignAttempt.run == run_id) & (CampaignAttempt.started_at >= since) &
                (CampaignAttempt.agent != "")).distinct()})
        total = sum(statuses.values())
        finished = sum(n for k, n in outcomes.items() if k not in ("claimed", "interrupted"))
        closed = statuses.get("done", 0) + statuses.get("gave_up", 0) + statuses.get("dnc", 0)
        return {"run": run_id, "campaign": run.campaign, "status": run.status, "reason": run.reason,
                "counts": run.counts or {}, "numbers": total, "statuses": statuses, "outcomes": outcomes,
                "progress": closed / total if total else 0.0,
                "contact_rate": outcomes.get("answered", 0) / finished if finished else 0.0,
                "abandoned": outcomes.get("abandoned", 0), "agents": agents}
