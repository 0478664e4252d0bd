"""Agent profiles and the router's journal: who the agents are, and everything the router did.

* Profiles (``hl_agent``): read by the router at start and whenever one is saved; saved by
  administrators (``users.manage``), audited.
* The journal: the router hands its events to :class:`RouterJournal`, which writes them on its own
  thread in small batches (agent transitions to ``hl_agent_event``, call decisions to
  ``hl_call_route``) so a slow database never delays a routing decision. ``flush()`` waits for
  everything handed over so far.
* Rebuild: :func:`last_statuses` gives each agent's last recorded status, from which the router
  restores who was signed in after a restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import fn

from helpline.data.agents import AgentEvent, AgentRecord, CallRoute
from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.entities import rows
from helpline.data.reconnect import retry_disconnected
from helpline.security.actor import Actor
from helpline.security.audit import audit, field_changes
from helpline.services import stats_behind

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("username", "name", "endpoint", "skills", "groups", "region", "city", "auto_answer",
                  "wrap_up_s", "active")


class ProfileError(ValueError):
    """A profile that cannot be saved (the message says why)."""


def list_profiles(*, active_only: bool = True) -> list[dict[str, Any]]:
    """Every agent profile as a dict (``number``, ``username``, ``skills`` ...)."""
    query = AgentRecord.select().order_by(AgentRecord.number)
    if active_only:
        query = query.where(AgentRecord.active == True)  # noqa: E712 - peewee expression
    with session():
        return rows(query)


def profile_of_user(username: str) -> dict[str, Any] | None:
    with session():
        found = rows(AgentRecord.select().where(AgentRecord.username == username))
    return found[0] if found else None


def save_profile(actor: Actor, number: str, *, known_skills: set[str] | None = None,
                 **values: Any) -> dict[str, Any]:
    """Create or change an agent profile (``users.manage``); audited with the fields that changed."""
    actor.require_permission("users.manage")
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ProfileError(f"unknown profile fields: {', '.join(sorted(unknown))}")
    if not number or not number.isalnum() or len(number) > 32:
        raise ProfileError("the agent number is 1 to 32 letters or digits")
    skills = values.get("skills")
    if skills is not None:
        if not isinstance(skills, dict) or not all(isinstance(v, int) and 1 <= v <= 9 for v in skills.values()):
            raise ProfileError("skills map a skill to its level, 1 (first skill) to 9")
        if known_skills is not None and set(skills) - known_skills:
            raise ProfileError(f"unknown skills: {', '.join(sorted(set(skills) - known_skills))} "
                               f"(the routing's queues use: {', '.join(sorted(known_skills))})")
    with session(), write_transaction():
        existing = AgentRecord.get_or_none(AgentRecord.number == number)
        before = {k: getattr(existing, k) for k in PROFILE_FIELDS} if existing else {}
        if existing is None:
            AgentRecord.insert(number=number, updated_at=utcnow(), **values).execute()
        else:
            AgentRecord.update(updated_at=utcnow(), **values).where(AgentRecord.number == number).execute()
        after_row = AgentRecord.get(AgentRecord.number == number)
        after = {k: getattr(after_row, k) for k in PROFILE_FIELDS}
        old, new = field_changes(before, after)
        audit(actor, "agent.profile", entity="hl_agent", record_id=number, before=old or None, after=new)
    return {"number": number, **after}


DEMO_AGENTS: dict[str, dict[str, Any]] = {
    "1001": {"username": "agent1", "name": "座席一号", "endpoint": "PJSIP/1001", "city": "changsha",
             "skills": {"general": 1, "consult": 1, "query": 1, "business": 1, "complaint": 2, "fault": 2,
                        "broadband": 2}},
    "1002": {"username": "agent2", "name": "座席二号", "endpoint": "PJSIP/1002", "city": "yueyang",
             "skills": {"general": 1, "fault": 1, "complaint": 1, "broadband": 1, "consult": 2, "query": 2,
                        "business": 2}},
    "1009": {"username": "supervisor1", "name": "值班长", "endpoint": "PJSIP/1009", "groups": ["vip_team"],
             "skills": {"vip": 1, "general": 2, "complaint": 2}},
}
"""Agent profiles of the demo users (``run.py serve`` creates them with the demo users)."""


def ensure_demo_agents() -> list[str]:
    """Create the demo agent profiles that do not exist yet (by number or user); returns the numbers."""
    created: list[str] = []
    with session(), write_transaction():
        taken = {(r.number, r.username) for r in AgentRecord.select(AgentRecord.number, AgentRecord.username)}
        numbers = {n for n, _ in taken}
        users = {u for _, u in taken}
        for number, values in DEMO_AGENTS.items():
            if number in numbers or values["username"] in users:
                continue
            AgentRecord.insert(number=number, updated_at=utcnow(), **values).execute()
            created.append(number)
    return created


def set_auto_answer(number: str, on: bool) -> None:
    """Switch an agent's auto-answer (the desk service checks ``agent.auto_answer`` and audits)."""
    with session(), write_transaction():
        AgentRecord.update(auto_answer=on, updated_at=utcnow()).where(AgentRecord.number == number).execute()


@dataclass(frozen=True)
class JournalEntry:
    """One row to write: an agent event or a call decision (``table`` says which)."""

    table: str
    values: dict[str, Any]


class RouterJournal:
    """Writes the router's events on a background thread, in batches (see the module docstring)."""

    def __init__(self, *, batch: int = 200, linger_s: float = 1.0) -> None:
        self.batch = batch
        self.linger_s = linger_s
        """A running journal waits this long after an entry for more before writing them (write-behind: one
        transaction, one aggregated upsert per fact table for them all); ``flush()`` and ``stop()`` do not wait."""
        self._calls = False
        self._queue: queue.Queue[JournalEntry | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.written = 0
        self.failed = 0

    def start(self) -> RouterJournal:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="router-journal", daemon=True)
                stats_behind.register(self._pending_calls)  # closed calls' facts are counted here from now on
                self._thread.start()
                self._pending_calls()  # and what a crash left pending, at once
        return self

    def _pending_calls(self) -> None:
        """A call closed: its facts are pending (``hl_stat_pending``); count them in the next batch."""
        self._queue.put(JournalEntry("calls", {}))

    def agent_event(self, **values: Any) -> None:
        self._queue.put(JournalEntry("agent", values))

    def call_route(self, **values: Any) -> None:
        self._queue.put(JournalEntry("route", values))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything handed over so far is written (or failed and logged)."""
        if self._thread is None:
            self._write(self._drain())
            return
        done = threading.Event()
        self._queue.put(JournalEntry("flush", {"event": done}))
        done.wait(timeout)

    def stop(self) -> None:
        stats_behind.unregister(self._pending_calls)
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None

    def _drain(self) -> list[JournalEntry]:
        out: list[JournalEntry] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return out
            if item is not None:
                out.append(item)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._write(self._drain())
                return
            entries = [first]
            stop = False
            deadline = time.monotonic() + self.linger_s
            while len(entries) < self.batch and entries[-1].table != "flush":
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                entries.append(item)
            self._write(entries)
            if stop:
                self._write(self._drain())
                return

    def _write(self, entries: list[JournalEntry]) -> None:
        agents = [e.values for e in entries if e.table == "agent"]
        routes = [e.values for e in entries if e.table == "route"]
        calls = self._calls or any(e.table == "calls" for e in entries)
        self._calls = False
        if agents or routes or calls:
            def write() -> None:
                with session(), write_transaction():
                    # the interval facts (write-behind, one transaction with the rows): the pending calls, the
                    # agent events (before the rows their duplicates are looked for in)
                    statements, taken = stats_behind.batch_statements(agents, calls=calls)
                    stats_behind.run_batch(statements)
                    self._calls = taken >= stats_behind.BATCH_CALLS  # more than a batch pending: the next takes them
                    if agents:
                        AgentEvent.insert_many(agents).execute()
                    if routes:
                        CallRoute.insert_many(routes).execute()

            try:  # a database restart is waited out (helpline.data.reconnect); the router never waits for it
                retry_disconnected(write, "the router journal")
                self.written += len(agents) + len(routes)
            except Exception:
                self.failed += len(agents) + len(routes)
                self._calls = calls  # the pending calls stay pending (rolled back): the next batch counts them
                log.exception("the router journal could not write %d row(s)", len(agents) + len(routes))
        for e in entries:
            if e.table == "flush":
                e.values["event"].set()


def last_statuses() -> dict[str, dict[str, Any]]:
    """Each agent's last recorded status change: ``{number: {"status", "reason", "at"}}``."""
    with session():
        last = (AgentEvent.select(AgentEvent.agent, fn.MAX(AgentEvent.id).alias("last_id"))
                .where(AgentEvent.what == "status").group_by(AgentEvent.agent))
        found_ids: list[Any] = list(last.tuples())
        ids = [row[1] for row in found_ids]
        found = AgentEvent.select().where(AgentEvent.id.in_(ids)) if ids else []
        return {str(e.agent): {"status": e.new, "reason": e.reason, "at": e.at} for e in found}


def call_route(call_id: int) -> list[dict[str, Any]]:
    """The routing decisions of a call, in order."""
    with session():
        return rows(CallRoute.select().where(CallRoute.call_id == call_id).order_by(CallRoute.id))


def agent_journal(number: str, *, since: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """An agent's transitions, newest first."""
    query = AgentEvent.select().where(AgentEvent.agent == number)
    if since is not None:
        query = query.where(AgentEvent.at >= since)
    with session():
        return rows(query.order_by(AgentEvent.id.desc()).limit(limit))
