"""Write-behind of the interval facts: closed calls and agent events counted in batches on the router journal's
thread, each batch one transaction with one aggregated upsert per fact table (issue 20: < 1 ms a fact event).

How it stays exact (docs/reports.md, "When"):

* A call closing in a process whose router journal runs (:func:`register`) is not counted in its closing
  transaction: that transaction only inserts its id into ``hl_stat_pending`` (:func:`mark`). The journal's next
  batch deletes the pending ids it takes and adds their facts **in one transaction**: a pending row is deleted
  once, so a call is counted once (two processes, or a retried batch after a failure, cannot count it twice),
  and a crash between the close and the batch leaves the row for the next batch (:func:`flush_calls` runs when a
  journal starts). ``stats rebuild`` deletes the pending rows of the calls it recounts, under the same lock
  (PostgreSQL's advisory lock :data:`LOCK_KEY`; SQLite's writers are serial anyway).
* Agent events are counted in the transaction that journals them (as before): events already in
  ``hl_agent_event`` (same agent, time, kind, old, new) are found with one query per batch and add nothing.
  What a crash loses is what the journal had not written yet (its rows and their facts alike: at most
  ``RouterJournal.linger_s`` of events); nothing written is ever missing from the facts.
* Without a running journal (a process without the router, ``run.py agi``; the tests' and benches' direct use)
  :func:`helpline.services.calls` counts each call in its closing transaction (:func:`stats.add_call`).

:data:`TIMES` sums the time the facts took (the bench's per-event figure).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from helpline.data.base import centre_day_of
from helpline.data.database import after_commit, db, is_postgres
from helpline.data.stats import (
    AGENT_ATTRS,
    CALL_ATTRS,
    CALL_COUNTS,
    CALL_KEYS,
    CALL_SUMS,
    StatAgent,
    StatAgentDay,
    StatCall,
    StatCallDay,
    StatCallQueue,
)

from . import stats, stats_ivr

LOCK_KEY = 20_2612_07
"""PostgreSQL advisory lock taken by a batch that counts pending calls and by ``stats rebuild``."""
BATCH_CALLS = 2000
"""Pending calls taken by one batch at most (the rest go in the next)."""
_CALL_COLUMNS = ("id", "uniqueid", "started_at", "ended_at", "routed", "result", "wait_s", "talk_s",
                 "callback_number", "agent", "variables", "trail", *CALL_KEYS)
_MEASURES = (*CALL_COUNTS, *CALL_SUMS)


@dataclass
class Times:
    """Time spent adding facts: in the closing transactions (``mark``) and in the journal's batches."""

    mark_s: float = 0.0
    marks: int = 0
    batch_s: float = 0.0
    batch_cpu_s: float = 0.0
    """This process's CPU in the batches (the rest of ``batch_s`` is the database's work and the waits)."""
    batches: int = 0
    calls: int = 0
    events: int = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


TIMES = Times()
_lock = threading.Lock()
_notify: list[tuple[Any, Callable[[], None]]] = []
"""(database, notify) of the running journals: a journal counts the calls of the database it started on."""


def register(notify: Callable[[], None]) -> None:
    """A journal of this process counts the pending calls of the current database from now on; ``notify()`` is
    called after each close."""
    with _lock:
        _notify.append((db.obj, notify))


def unregister(notify: Callable[[], None]) -> None:
    with _lock:
        _notify[:] = [(d, n) for d, n in _notify if n != notify]


def active() -> bool:
    """Does a journal of this process count the current database's closed calls (so a close only marks its call
    pending)?"""
    return any(d is db.obj for d, _ in _notify)


def mark(call_id: int) -> None:
    """Inside the closing transaction: the call's facts are to be added by the journal's next batch."""
    t0 = time.perf_counter()
    db.execute_sql(f'INSERT INTO "hl_stat_pending" ("call_id") VALUES ({db.param})', [call_id])
    TIMES.mark_s += time.perf_counter() - t0
    TIMES.marks += 1
    after_commit(_wake)


def _wake() -> None:
    for database, notify in list(_notify):
        if database is db.obj:
            notify()


# -- the batch ---------------------------------------------------------------------------------------------
def batch_statements(events: Sequence[Mapping[str, Any]], *, calls: bool) -> tuple[list[tuple[str, list[Any]]], int]:
    """Inside the journal's transaction: the statements adding the facts of ``events`` (agent journal rows about
    to be inserted) and, with ``calls``, of the pending calls (taken: their pending rows are deleted). Returns the
    statements (run them in this transaction, one round trip) and the number of calls taken."""
    t0, c0 = time.perf_counter(), time.process_time()
    records = _take_pending() if calls else []
    cells: dict[Any, tuple[dict[str, Any], dict[str, float]]] = {}
    for record in records:
        _add_call_cells(cells, record)
    statements = _call_upserts(cells)
    nodes = [stats_ivr.upsert(r) for r in records]
    statements += [n for n in nodes if n is not None]
    fresh = _not_journalled(events)
    fine, days = stats._agent_rows(stats.agent_measures(fresh))
    statements += _upserts(StatAgent, ("interval", "agent"), AGENT_ATTRS,
                           {k: (stats.agent_attrs(k[1]), m) for k, m in fine.items()})
    statements += _upserts(StatAgentDay, ("day", "agent"), AGENT_ATTRS,
                           {k: (stats.agent_attrs(k[1]), m) for k, m in days.items()})
    TIMES.batch_s += time.perf_counter() - t0
    TIMES.batch_cpu_s += time.process_time() - c0
    TIMES.calls += len(records)
    TIMES.events += len(fresh)
    return statements, len(records)


def run_batch(statements: list[tuple[str, list[Any]]]) -> None:
    """Run a batch's statements (one round trip on PostgreSQL), timed into :data:`TIMES`."""
    t0, c0 = time.perf_counter(), time.process_time()
    stats._run(list(statements))
    TIMES.batch_s += time.perf_counter() - t0
    TIMES.batch_cpu_s += time.process_time() - c0
    TIMES.batches += 1


def flush_calls() -> int:
    """Count every pending call now, in batches (a journal's start: what a crash left; tests). Returns how many;
    call inside :func:`helpline.data.database.session`."""
    from helpline.data.database import write_transaction

    counted = 0
    while True:
        with write_transaction():
            statements, taken = batch_statements((), calls=True)
            run_batch(statements)
        counted += taken
        if taken < BATCH_CALLS:
            return counted


def _take_pending() -> list[dict[str, Any]]:
    """Delete up to :data:`BATCH_CALLS` pending rows and return their closed call records, each with ``earlier``
    (how many records of its uniqueid came before it: a leg when > 0)."""
    p = db.param
    cols = ", ".join(f'c."{c}"' for c in _CALL_COLUMNS)
    earlier = ('(SELECT COUNT(*) FROM "hl_call" e WHERE c."uniqueid" <> \'\' AND e."uniqueid" = c."uniqueid" '
               'AND e."id" < c."id")')
    if is_postgres():
        cursor = db.execute_sql(
            f"SELECT pg_advisory_xact_lock({LOCK_KEY}); "
            f'WITH p AS (DELETE FROM "hl_stat_pending" WHERE "id" IN (SELECT "id" FROM "hl_stat_pending" '
            f'ORDER BY "id" LIMIT {p} FOR UPDATE SKIP LOCKED) RETURNING "call_id") '
            f'SELECT {cols}, {earlier} FROM "hl_call" c JOIN p ON c."id" = p."call_id" ORDER BY c."id"',
            [BATCH_CALLS])
        found = cursor.fetchall()
    else:  # SQLite: one writer at a time (write_transaction), so read then delete
        ids = [r[0] for r in db.execute_sql(f'SELECT "id" FROM "hl_stat_pending" ORDER BY "id" LIMIT {p}',
                                            [BATCH_CALLS]).fetchall()]
        if not ids:
            return []
        found = db.execute_sql(
            f'SELECT {cols}, {earlier} FROM "hl_call" c WHERE c."id" IN (SELECT "call_id" FROM "hl_stat_pending" '
            f'WHERE "id" <= {p}) ORDER BY c."id"', [ids[-1]]).fetchall()
        db.execute_sql(f'DELETE FROM "hl_stat_pending" WHERE "id" <= {p}', [ids[-1]])
    records = []
    for row in found:
        record = dict(zip((*_CALL_COLUMNS, "earlier"), row, strict=True))
        record["started_at"], record["ended_at"] = stats._dt(record["started_at"]), stats._dt(record["ended_at"])
        if isinstance(record["variables"], str | bytes):  # SQLite's JSON text
            record["variables"] = json.loads(record["variables"] or "null")
        if record["ended_at"] is not None:
            records.append(record)
    return records


def _add_call_cells(cells: dict[Any, tuple[dict[str, Any], dict[str, float]]], record: Mapping[str, Any]) -> None:
    """What :func:`stats.add_call` adds for one record, summed into ``cells``."""
    leg = int(record["earlier"] or 0) > 0
    _add(cells, record, stats.call_measures(record, leg=leg))
    if int(record["earlier"] or 0) == 1:  # the call's first transfer: once, on its first record
        first = (db.execute_sql(f'SELECT {", ".join(chr(34) + c + chr(34) for c in _CALL_COLUMNS)} FROM "hl_call" '
                                f'WHERE "uniqueid" = {db.param} ORDER BY "id" LIMIT 1', [record["uniqueid"]])
                 .fetchone())
        if first is not None:
            row = dict(zip(_CALL_COLUMNS, first, strict=True))
            row["started_at"] = stats._dt(row["started_at"])
            _add(cells, row, {"transfers": 1})


def _add(cells: dict[Any, tuple[dict[str, Any], dict[str, float]]], record: Mapping[str, Any],
         measures: Mapping[str, float]) -> None:
    started: datetime = record["started_at"]
    key = stats._call_key(record)
    slot = stats.interval_of(started)
    attrs = stats.call_attrs(record)
    skill = {"skill": attrs["skill"]}
    for cell_key, cell_attrs in (((StatCall, slot, *key.values(), str(record.get("agent") or "")), attrs),
                                 ((StatCallQueue, slot, key["tier"], key["queue"]), skill),
                                 ((StatCallDay, centre_day_of(started), *key.values()), skill)):
        cell = cells.get(cell_key)
        if cell is None:
            cell = cells[cell_key] = (dict(cell_attrs), {})
        for name, value in measures.items():
            cell[1][name] = cell[1].get(name, 0) + value


_KEYS = {StatCall: ("interval", *CALL_KEYS, "agent"), StatCallQueue: ("interval", "tier", "queue"),
         StatCallDay: ("day", *CALL_KEYS)}
_ATTRS = {StatCall: CALL_ATTRS, StatCallQueue: ("skill",), StatCallDay: ("skill",)}


def _call_upserts(cells: Mapping[Any, tuple[dict[str, Any], dict[str, float]]]) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    for model in (StatCall, StatCallQueue, StatCallDay):
        mine = {k[1:]: v for k, v in cells.items() if k[0] is model}
        out += _upserts(model, _KEYS[model], _ATTRS[model], mine)
    return out


def _upserts(model: Any, keys: tuple[str, ...], attrs: tuple[str, ...],
             cells: Mapping[tuple[Any, ...], tuple[Mapping[str, Any], Mapping[str, float]]],
             chunk: int = 400) -> list[tuple[str, list[Any]]]:
    """Multi-row ``INSERT ... ON CONFLICT (keys) DO UPDATE SET m = m + excluded.m`` adding ``cells`` (key →
    (attrs written with a new row, measures)); each key once, so one statement may add them all."""
    if not cells:
        return []
    cached = _TEXT.get((model, db.param))
    if cached is None:
        table = model._meta.table_name
        measures = tuple(n for n in model._meta.sorted_field_names if n != "id" and n not in keys and n not in attrs)
        names = (*keys, *attrs, *measures)
        sets = ", ".join(f'"{m}" = "{table}"."{m}" + excluded."{m}"' for m in measures)
        cached = _TEXT[(model, db.param)] = (
            f'INSERT INTO "{table}" ({", ".join(chr(34) + n + chr(34) for n in names)}) VALUES ',
            "(" + ", ".join(db.param for _ in names) + ")",
            f' ON CONFLICT ({", ".join(chr(34) + k + chr(34) for k in keys)}) DO UPDATE SET {sets}',
            tuple((n, int if not n.endswith("_s") else float) for n in measures))
    head, one, tail, kinds = cached
    items = list(cells.items())
    out = []
    for i in range(0, len(items), chunk):
        part = items[i:i + chunk]
        params: list[Any] = []
        for key, (extra, m) in part:
            params += key
            params += [extra.get(a, "") for a in attrs]
            params += [kind(m.get(n, 0)) for n, kind in kinds]
        out.append((head + ", ".join([one] * len(part)) + tail, params))
    return out


_TEXT: dict[tuple[Any, str], tuple[str, str, str, tuple[tuple[str, type], ...]]] = {}


_latest: dict[str, Any] = {"db": None, "at": {}}
"""The latest ``at`` of each agent's status/state events in ``hl_agent_event`` as this process knows it (read at
the agent's first event, kept as its journal writes): an event after it cannot be in the journal yet, so a batch
of such events (the steady flow: the router journals in order) asks the database nothing. The router is the one
writer of an agent's events (one serving instance; in cluster mode the leader, whose journal alone writes)."""


def _not_journalled(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The status/state events of ``events`` not yet in ``hl_agent_event``, each once: looked up (one query) only
    for the events not after their agent's latest journalled one."""
    wanted: dict[tuple[str, datetime, str, str, str], Mapping[str, Any]] = {}
    for e in events:
        if e.get("what") in ("status", "state") and e.get("old"):
            wanted.setdefault(stats._event_key(e), e)
    if not wanted:
        return []
    if _latest["db"] is not db.obj:
        _latest["db"], _latest["at"] = db.obj, {}
    latest: dict[str, datetime] = _latest["at"]
    unknown = sorted({k[0] for k in wanted} - set(latest))
    if unknown:
        p = db.param
        found = dict(db.execute_sql(
            f'SELECT "agent", MAX("at") FROM "hl_agent_event" WHERE "agent" IN ({", ".join(p for _ in unknown)}) '
            f'AND "what" IN ({p}, {p}) GROUP BY "agent"', [*unknown, "status", "state"]).fetchall())
        for agent in unknown:
            latest[agent] = stats._dt(found[agent]) if found.get(agent) is not None else datetime.min
    doubtful = {k: e for k, e in wanted.items() if k[1] <= latest[k[0]]}
    fresh = [e for k, e in wanted.items() if k not in doubtful]
    if doubtful:
        fresh += _looked_up(doubtful)
    newest: dict[str, datetime] = {}
    for key in wanted:
        newest[key[0]] = max(key[1], newest.get(key[0], key[1]))
    after_commit(lambda: latest.update({a: max(t, latest.get(a, t)) for a, t in newest.items()}))
    return fresh


def _looked_up(wanted: dict[tuple[str, datetime, str, str, str], Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Those of ``wanted`` not in ``hl_agent_event`` (one query)."""
    wanted = dict(wanted)
    agents = sorted({k[0] for k in wanted})
    times = [k[1] for k in wanted]
    p = db.param
    cursor = db.execute_sql(
        f'SELECT "agent", "at", "what", "old", "new" FROM "hl_agent_event" WHERE "agent" IN '
        f'({", ".join(p for _ in agents)}) AND "at" >= {p} AND "at" <= {p} AND "what" IN ({p}, {p})',
        [*agents, min(times), max(times), "status", "state"])
    for agent, at, what, old, new in cursor.fetchall():
        wanted.pop((str(agent), stats._dt(at), str(what or ""), str(old or ""), str(new or "")), None)
    return list(wanted.values())


def lock_for_rebuild() -> None:
    """Inside ``stats rebuild``'s transaction: wait for a batch counting pending calls to end, and keep the next
    one out until the rebuild commits (PostgreSQL; SQLite's writers are serial)."""
    if is_postgres():
        db.execute_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")


def forget(call_ids: Sequence[int]) -> None:
    """Inside ``stats rebuild``'s transaction: the pending rows of the calls it has just counted (so no batch
    counts them again)."""
    if not call_ids:
        return
    if is_postgres():
        db.execute_sql('DELETE FROM "hl_stat_pending" WHERE "call_id" = ANY(%s)', [list(call_ids)])
        return
    for i in range(0, len(call_ids), 500):
        part = call_ids[i:i + 500]
        db.execute_sql(f'DELETE FROM "hl_stat_pending" WHERE "call_id" IN ({", ".join("?" for _ in part)})', part)
