"""Interval facts: what a closed call or an agent transition adds to the statistics, kept and rebuilt.

Definitions (docs/reports.md has the whole table):

* a call counts in the 15-minute interval it **started** in (a call spanning two intervals counts once);
* the **first** record of a uniqueid is the call; a later record of the same uniqueid (the caller sent back
  into Helpline by a transfer) is a ``leg``: its talk time is added, it is never offered or answered again,
  and the call counts one ``transfer`` (asterisk #759 counted such a call twice). A consultation and a
  conference are agent time (``hold``, ``talking``) and never a call of their own;
* ``abandoned_ivr``: hung up before reaching a queue; ``abandoned_queue``: hung up while queued or ringing
  (``abandoned_short`` when within :data:`SETTINGS.short_abandon_s`); ``within``: answered with a wait up to
  the tier's threshold (``within 20s`` in the routing's tier strategy, 20 s when unknown);
* agent time: an event ends a spell of its ``old`` value that lasted ``duration_s``; the spell is split at
  interval boundaries. An event already journalled (same agent, time, kind, old and new) adds nothing;
  a late event lands in its own (past) interval.

:func:`add_call` runs inside the closing transaction of a process without the router journal
(:mod:`helpline.services.calls`); with it, :mod:`helpline.services.stats_behind` counts calls and agent events in
the journal's batches (:mod:`helpline.services.agents`) with these same measures; :func:`rebuild`
deletes and recomputes a range from ``hl_call`` and ``hl_agent_event``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from helpline.data.base import centre_day_of, centre_midnight
from helpline.data.calls import Call
from helpline.data.database import db, is_postgres, session, write_transaction
from helpline.data.stats import (
    AGENT_ATTRS,
    AGENT_VALUES,
    CALL_ATTRS,
    CALL_COUNTS,
    CALL_KEYS,
    CALL_SUMS,
    StatAgent,
    StatAgentDay,
    StatCall,
    StatCallDay,
    StatCallQueue,
    StatIvrNode,
)

from . import stats_category, stats_ivr
from .stats_bulk import bulk as _bulk
from .stats_teams import agent_teams

INTERVAL_S = 900
MAX_REBUILD_DAYS = 400


@dataclass
class StatSettings:
    """Thresholds the facts are counted with (set from the routing when the router starts)."""

    within_s: dict[str, float] = field(default_factory=dict)
    default_within_s: float = 20.0
    short_abandon_s: float = 5.0
    queue_skills: dict[str, str] = field(default_factory=dict)
    """Queue → its skill (the routing's queues)."""
    departments: dict[str, str] = field(default_factory=dict)
    """Team (a node of the ``department`` category tree) → its top department."""
    category_fields: tuple[str, ...] = stats_category.CATEGORY_FIELDS
    """The contact record's category fields a call's category is taken from (:mod:`.stats_category`)."""

    def within_of(self, tier: str | None) -> float:
        return self.within_s.get(tier or "", self.within_s.get("default", self.default_within_s))


SETTINGS = StatSettings()


def configure(within_s: Mapping[str, float] | None = None, *, short_abandon_s: float | None = None,
              queue_skills: Mapping[str, str] | None = None, departments: Mapping[str, str] | None = None) -> None:
    """Set the tiers' answer-time thresholds (tier → seconds), the short-abandon threshold, the queues' skills
    and the teams' departments."""
    if within_s is not None:
        SETTINGS.within_s = dict(within_s)
    if queue_skills is not None:
        SETTINGS.queue_skills = dict(queue_skills)
    if departments is not None:
        SETTINGS.departments = dict(departments)
    if short_abandon_s is not None:
        if short_abandon_s < 0:
            raise ValueError(f"short_abandon_s must be >= 0 (got {short_abandon_s})")
        SETTINGS.short_abandon_s = float(short_abandon_s)


def tier_targets(metadata: Any) -> dict[str, tuple[float, float]]:
    """Tier → (target share, within seconds) from the routing's tier strategy (``main`` first)."""
    from helpline.metadata.kinds import Routing
    from helpline.rules.tiers import compile_tier_strategy

    routings = sorted((r for r in metadata.objects.get("routing", {}).values() if isinstance(r, Routing)),
                      key=lambda r: (r.name != "main", r.name))
    text = next((r.strategy for r in routings if r.strategy), None)
    if not text:
        return {}
    return {name: (t.target, t.within_s) for name, t in compile_tier_strategy(text).tiers.items()}


def configure_from_metadata(metadata: Any) -> None:
    """Take the tiers' thresholds from the routing metadata (the router calls this when it starts and on
    every routing change; ``stats rebuild`` before recounting), with the queues' skills and the teams' top
    departments (the ``department`` category tree)."""
    from helpline.metadata.kinds import Routing

    skills = {q.name: q.skill for r in metadata.objects.get("routing", {}).values() if isinstance(r, Routing)
              for q in r.queues}
    tree = metadata.categories.get("department")
    departments = {} if tree is None else {n.code: tree.path(n.code)[0].code for n in tree.nodes}
    configure({name: within for name, (_, within) in tier_targets(metadata).items()}, queue_skills=skills,
              departments=departments)
    SETTINGS.category_fields = stats_category.fields_of(metadata)


def agent_attrs(agent: str, teams: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"team", "department"}`` of an agent number ("" when none)."""
    if not agent:
        return {"team": "", "department": ""}
    team = (agent_teams() if teams is None else teams).get(agent, "")[:64]
    return {"team": team, "department": SETTINGS.departments.get(team, team)[:64]}


def interval_of(at: datetime) -> datetime:
    """The start of the 15-minute interval of ``at``."""
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


# -- calls ---------------------------------------------------------------------------------------------
def call_measures(record: Mapping[str, Any], *, leg: bool) -> dict[str, float]:
    """What one closed call record adds (see the module docstring)."""
    m: dict[str, float] = {}
    routed = record.get("routed")
    result = record.get("result")
    wait = float(record.get("wait_s") or 0.0)
    talk = float(record.get("talk_s") or 0.0)
    if talk:
        m["talk_s"] = talk
    if leg:
        m["legs"] = 1
        return m
    m["calls"] = 1
    started, ended = record.get("started_at"), record.get("ended_at")
    if isinstance(started, datetime) and isinstance(ended, datetime):
        m["ivr_s"] = max(0.0, (ended - started).total_seconds() - wait - talk)
    if routed:
        m["offered"] = 1
        m["wait_n"] = 1
        m["wait_s"] = wait
        if routed == "answered":
            m["answered"] = 1
            m["wait_answered_s"] = wait
            if wait <= SETTINGS.within_of(record.get("tier")) + 1e-9:
                m["within"] = 1
        elif routed == "abandoned":
            m["abandoned_queue"] = 1
            m["wait_abandoned_s"] = wait
            if wait < SETTINGS.short_abandon_s:
                m["abandoned_short"] = 1
        elif routed in ("timeout", "empty"):
            m[routed] = 1
    elif result in ("hangup", "interrupted"):
        m["abandoned_ivr"] = 1
    elif result == "completed":
        m["completed"] = 1
    if result == "callback" or record.get("callback_number"):
        m["callbacks"] = 1
    if result == "error":
        m["errors"] = 1
    m.update(survey_measures(record))
    return m


def survey_measures(record: Mapping[str, Any]) -> dict[str, float]:
    """What the post-call survey of a call adds (``variables.survey``: question → answer code)."""
    variables = record.get("variables")
    survey = variables.get("survey") if isinstance(variables, Mapping) else None
    if not isinstance(survey, Mapping):
        return {}
    m: dict[str, float] = {"surveys": 1}
    satisfaction = survey.get("satisfaction")
    if satisfaction:
        m["survey_answered"] = 1
        if satisfaction in ("very_satisfied", "satisfied"):
            m["survey_satisfied"] = 1
        elif satisfaction == "dissatisfied":
            m["survey_dissatisfied"] = 1
    if survey.get("resolved") == "resolved":
        m["survey_resolved"] = 1
    return m


def _call_key(record: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(record.get(k) or "")[:64] for k in CALL_KEYS}


_SQL_CACHE: dict[tuple[Any, ...], str] = {}


def _run(statements: list[tuple[str, list[Any]] | None]) -> Any:
    """Run the statements; on PostgreSQL as one round trip (the server may be across a network). Returns the
    first row of the last statement's result (a ``SELECT`` placed last), None when it has none."""
    found = [s for s in statements if s is not None]
    if not found:
        return None
    if len(found) > 1 and is_postgres():
        cursor = db.execute_sql("; ".join(sql for sql, _ in found), [p for _, params in found for p in params])
    else:
        for sql, params in found:
            cursor = db.execute_sql(sql, params)
    return cursor.fetchone() if cursor.description else None


def _upsert_sql(model: Any, key: dict[str, Any], measures: Mapping[str, float],
                attrs: Mapping[str, str] | None = None,
                guard: tuple[str, list[Any]] | None = None) -> tuple[str, list[Any]] | None:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET m = m + excluded.m`` (both databases), its text built once
    per table and set of columns: the update must stay well under a millisecond. ``attrs`` are columns that
    follow from the key (skill, team): written with a new row, left as they are by an update. ``guard`` (SQL
    condition, parameters) makes it ``INSERT ... SELECT ... WHERE guard``: added only when the condition holds,
    decided by the database in the same round trip (no question asked first)."""
    if not measures:
        return None
    extra = attrs or {}
    columns = tuple(n for n in model._meta.sorted_field_names
                    if n != "id" and n not in key and n not in _ATTR_NAMES)
    names = (*key, *extra, *columns)
    cache_key = (model, db.param, tuple(key), tuple(extra), tuple(measures), guard[0] if guard else None)
    sql = _SQL_CACHE.get(cache_key)
    if sql is None:
        table = model._meta.table_name
        cols = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join(db.param for _ in names)
        conflict = ", ".join(f'"{k}"' for k in key)
        sets = ", ".join(f'"{m}" = "{table}"."{m}" + excluded."{m}"' for m in measures)
        rows = f"SELECT {marks} WHERE {guard[0]}" if guard else f"VALUES ({marks})"
        sql = _SQL_CACHE[cache_key] = (f'INSERT INTO "{table}" ({cols}) {rows} '
                                       f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}")
    return sql, [*key.values(), *extra.values(), *(measures.get(n, 0) for n in columns), *(guard[1] if guard else ())]


_ATTR_NAMES = frozenset((*CALL_ATTRS, *AGENT_ATTRS))


def add_call(record: Mapping[str, Any]) -> None:
    """Add a call record that has just been closed (call inside the closing transaction). One round trip for a
    call: its upserts guarded by "no earlier record of this uniqueid", the IVR node facts, and that question
    itself last; only a leg (rare: a transfer back into Helpline) takes a second trip for its leg measures."""
    uniqueid = record.get("uniqueid") or ""
    nodes = stats_ivr.upsert(record)
    if not uniqueid:
        _run([*_add_statements(record, call_measures(record, leg=False)), nodes])
        return
    p = db.param
    earlier = f'EXISTS (SELECT 1 FROM "hl_call" WHERE "uniqueid" = {p} AND "id" < {p})'
    params = [uniqueid, record["id"]]
    found = _run([*_add_statements(record, call_measures(record, leg=False), (f"NOT {earlier}", params)), nodes,
                  (f"SELECT {earlier}", params)])
    if not (found and found[0]):
        return
    first = (Call.select().where((Call.uniqueid == uniqueid) & (Call.id < record["id"]))
             .order_by(Call.id).limit(1).dicts().first())
    if first is not None and not (Call.select(Call.id).where(
            (Call.uniqueid == uniqueid) & (Call.id < record["id"]) & (Call.id > first["id"])).exists()):
        _add(first, {"transfers": 1})  # the call's first transfer: once, on the call
    _add(record, call_measures(record, leg=True))


def call_attrs(record: Mapping[str, Any], teams: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"skill", "team", "department"}`` of a call record: its queue's skill, its agent's team."""
    return {"skill": SETTINGS.queue_skills.get(str(record.get("queue") or ""), "")[:64],
            **agent_attrs(str(record.get("agent") or "")[:32], teams)}


def _add(record: Mapping[str, Any], measures: Mapping[str, float]) -> None:
    _run(_add_statements(record, measures))


def _add_statements(record: Mapping[str, Any], measures: Mapping[str, float],
                    guard: tuple[str, list[Any]] | None = None) -> list[tuple[str, list[Any]] | None]:
    started: datetime = record["started_at"]
    key = _call_key(record)
    slot = interval_of(started)
    attrs = call_attrs(record)
    skill = {"skill": attrs["skill"]}
    return [_upsert_sql(StatCall, {"interval": slot, **key, "agent": str(record.get("agent") or "")}, measures,
                        attrs, guard),
            _upsert_sql(StatCallQueue, {"interval": slot, "tier": key["tier"], "queue": key["queue"]}, measures,
                        skill, guard),
            _upsert_sql(StatCallDay, {"day": centre_day_of(started), **key}, measures, skill, guard)]


# -- agents --------------------------------------------------------------------------------------------
def _event_key(e: Mapping[str, Any]) -> tuple[str, datetime, str, str, str]:
    return (str(e["agent"]), e["at"], str(e.get("what") or ""), str(e.get("old") or ""), str(e.get("new") or ""))


def spell_parts(end: datetime, seconds: float) -> list[tuple[datetime, float]]:
    """A spell of ``seconds`` ending at ``end`` split at 15-minute boundaries: ``[(interval, seconds)]``."""
    parts: list[tuple[datetime, float]] = []
    start = end - timedelta(seconds=seconds)
    cursor = end
    while cursor > start:
        slot = interval_of(cursor - timedelta(microseconds=1))
        lower = max(slot, start)
        parts.append((slot, (cursor - lower).total_seconds()))
        cursor = lower
    return parts


def agent_measures(events: Iterable[Mapping[str, Any]]) -> dict[tuple[datetime, str, str, str], list[float]]:
    """``{(interval, agent, what, value): [seconds, count]}`` of status/state events (duplicates once)."""
    out: dict[tuple[datetime, str, str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    seen: set[tuple[str, datetime, str, str, str]] = set()
    for e in events:
        what, old = e.get("what"), e.get("old")
        if what not in ("status", "state") or not old:
            continue
        key = _event_key(e)
        if key in seen:
            continue
        seen.add(key)
        parts = spell_parts(e["at"], max(0.0, float(e.get("duration_s") or 0.0)))
        for i, (slot, seconds) in enumerate(parts):
            cell = out[(slot, str(e["agent"]), str(what), str(old))]
            cell[0] += seconds
            if i == 0:
                cell[1] += 1
        if not parts:
            out[(interval_of(e["at"]), str(e["agent"]), str(what), str(old))][1] += 1
    return out


def _agent_rows(cells: Mapping[tuple[datetime, str, str, str], list[float]]) -> tuple[
        dict[tuple[datetime, str], dict[str, float]], dict[tuple[date, str], dict[str, float]]]:
    """Per (interval, agent) and per (day, agent): ``{"<value>_s": seconds, "<value>_n": spells}``."""
    fine: dict[tuple[datetime, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    days: dict[tuple[date, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (slot, agent, _what, value), (seconds, count) in cells.items():
        if value not in AGENT_VALUES:
            continue
        for target in (fine[(slot, agent)], days[(centre_day_of(slot), agent)]):
            target[f"{value}_s"] += seconds
            if count:
                target[f"{value}_n"] += count
    return fine, days


# -- rebuild -------------------------------------------------------------------------------------------
def check_range(start: date, end: date) -> None:
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days + 1 > MAX_REBUILD_DAYS:
        raise ValueError(f"a rebuild covers at most {MAX_REBUILD_DAYS} days (asked {(end - start).days + 1}); "
                         "rebuild a year at a time")


def rebuild(start: date, end: date, *, batch: int = 5000) -> dict[str, int]:
    """Delete and recompute the facts of the days ``start``..``end`` (inclusive) from the raw records.
    Agent spells are cut at the range's edges (a spell ending after ``end`` counts up to its end)."""
    check_range(start, end)
    lo, hi = centre_midnight(start), centre_midnight(end + timedelta(days=1))
    calls = events = 0
    from . import stats_behind  # (it imports this module)

    with session(), write_transaction():
        stats_behind.lock_for_rebuild()
        teams = agent_teams(fresh=True)
        StatCall.delete().where((StatCall.interval >= lo) & (StatCall.interval < hi)).execute()
        StatCallQueue.delete().where((StatCallQueue.interval >= lo) & (StatCallQueue.interval < hi)).execute()
        StatCallDay.delete().where((StatCallDay.day >= start) & (StatCallDay.day <= end)).execute()
        StatAgent.delete().where((StatAgent.interval >= lo) & (StatAgent.interval < hi)).execute()
        StatAgentDay.delete().where((StatAgentDay.day >= start) & (StatAgentDay.day <= end)).execute()
        StatIvrNode.delete().where((StatIvrNode.day >= start) & (StatIvrNode.day <= end)).execute()
        calls = _rebuild_calls(lo, hi, teams)
        stats_category.rebuild(start, end, lo, hi, SETTINGS.category_fields)
        events = _rebuild_agents(lo, hi, batch, teams)
    return {"calls": calls, "agent_events": events}


def _rebuild_calls(lo: datetime, hi: datetime, teams: Mapping[str, str]) -> int:
    fine: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    daily: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    queues: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    p = db.param
    columns = ("id", "uniqueid", "started_at", "ended_at", "routed", "result", "wait_s", "talk_s",
               "callback_number", "agent", "variables", "trail", *CALL_KEYS)
    in_range = f'"started_at" >= {p} AND "started_at" < {p} AND "ended_at" IS NOT NULL'
    inbound = "(\"direction\" IS NULL OR \"direction\" = 'inbound')"  # outbound and internal calls: not traffic
    cursor = db.execute_sql(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "hl_call" '
                            f'WHERE {in_range} AND {inbound} ORDER BY "id"', [lo, hi])
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    for r in rows:
        r["started_at"], r["ended_at"] = _dt(r["started_at"]), _dt(r["ended_at"])
        if isinstance(r["variables"], str | bytes):  # SQLite's JSON text (PostgreSQL gives the value)
            r["variables"] = json.loads(r["variables"] or "null")
    firsts: dict[str, int] = {}
    counts: dict[str, int] = defaultdict(int)
    cursor = db.execute_sql(  # the first record of each uniqueid and how many there are (legs)
        'SELECT "uniqueid", MIN("id"), COUNT("id") FROM "hl_call" WHERE "ended_at" IS NOT NULL AND "uniqueid" IN '
        f'(SELECT "uniqueid" FROM "hl_call" WHERE {in_range} AND "uniqueid" <> {p}) GROUP BY "uniqueid"',
        [lo, hi, ""])
    for uid, first, n in cursor.fetchall():
        firsts[str(uid)], counts[str(uid)] = int(first), int(n)
    nodes: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        stats_ivr.add_cells(nodes, r)
        uid = r["uniqueid"]
        leg = bool(uid) and firsts.get(uid, r["id"]) < r["id"]
        measures = call_measures(r, leg=leg)
        if not leg and uid and counts.get(uid, 1) > 1:
            measures["transfers"] = 1
        key = _call_key(r)
        slot = interval_of(r["started_at"])
        attrs = call_attrs(r, teams)
        cells = (fine[(slot, *key.values(), str(r.get("agent") or ""), *attrs.values())],
                 queues[(slot, key["tier"], key["queue"], attrs["skill"])],
                 daily[(centre_day_of(r["started_at"]), *key.values(), attrs["skill"])])
        for name, value in measures.items():
            for cell in cells:
                cell[name] += value
    names = (*CALL_COUNTS, *CALL_SUMS)
    _insert(StatCall, ("interval", *CALL_KEYS, "agent", *CALL_ATTRS), fine, names)
    _insert(StatCallQueue, ("interval", "tier", "queue", "skill"), queues, names)
    _insert(StatCallDay, ("day", *CALL_KEYS, "skill"), daily, names)
    _bulk(StatIvrNode, stats_ivr.IVR_COLUMNS, [stats_ivr.row_of(k, v) for k, v in nodes.items()])
    from . import stats_behind

    stats_behind.forget([int(r["id"]) for r in rows])  # counted here: not again by a write-behind batch
    return len(rows)


def _insert(model: Any, keys: tuple[str, ...], cells: Mapping[tuple[Any, ...], Mapping[str, float]],
            names: tuple[str, ...]) -> None:
    counts = frozenset(CALL_COUNTS)
    kinds = [(n, int if n in counts else float) for n in names]
    rows = [(*key, *[kind(v.get(n, 0)) for n, kind in kinds]) for key, v in cells.items()]
    _bulk(model, (*keys, *names), rows)


def _dt(value: Any) -> Any:
    """A timestamp as a datetime (SQLite hands raw SQL its text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _rebuild_agents(lo: datetime, hi: datetime, batch: int, teams: Mapping[str, str]) -> int:
    p = db.param
    columns = ("agent", "at", "what", "old", "new", "duration_s")
    cursor = db.execute_sql(f'SELECT "agent", "at", "what", "old", "new", "duration_s" FROM "hl_agent_event" '
                            f'WHERE "at" > {p} AND "at" < {p} AND "what" IN ({p}, {p}) ORDER BY "id"',
                            [lo, hi + timedelta(days=1), "status", "state"])
    events = []
    for row in cursor.fetchall():
        event = dict(zip(columns, row, strict=True))
        event["at"] = _dt(event["at"])
        events.append(event)
    cells = agent_measures(events)
    kept = {k: v for k, v in cells.items() if lo <= k[0] < hi}
    _write_agent_bulk(kept, teams)
    return sum(int(v[1]) for v in kept.values())


def _write_agent_bulk(cells: Mapping[tuple[datetime, str, str, str], list[float]], teams: Mapping[str, str]) -> None:
    fine, days = _agent_rows(cells)
    names = tuple(n for v in AGENT_VALUES for n in (f"{v}_s", f"{v}_n"))

    def row(key: tuple[Any, ...], m: Mapping[str, float]) -> tuple[Any, ...]:
        attrs = agent_attrs(key[1], teams)
        return (*key, *attrs.values(),
                *(int(m.get(n, 0)) if n.endswith("_n") else float(m.get(n, 0.0)) for n in names))

    _bulk(StatAgent, ("interval", "agent", *AGENT_ATTRS, *names), [row(k, m) for k, m in fine.items()])
    _bulk(StatAgentDay, ("day", "agent", *AGENT_ATTRS, *names), [row(k, m) for k, m in days.items()])
