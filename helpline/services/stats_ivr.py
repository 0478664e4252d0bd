"""IVR node facts (``hl_stat_ivr_node``) from a call record's trail (:mod:`telephony.ivr.trail`): what one closed
record adds per flow and node, and the statement that adds it (:mod:`helpline.services.stats` runs it in the
closing transaction, and sums the same cells in ``stats rebuild``).

Each step of the trail is a visit of its node in the step's own flow (a sub-flow's nodes count in the sub-flow, not
in the flow the call entered by). The record's last step is its exit: a ``hangup`` when the caller hung up before a
queue (as ``abandoned_ivr`` of the call facts), a ``completion`` when the call was served by self-service, a
``transfer_out`` when it reached a queue. Every record counts, a transfer leg too: each is one pass through the IVR.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from helpline.data.base import centre_day_of
from helpline.data.database import db
from helpline.data.stats import IVR_COUNTS

IVR_KEY = ("day", "flow", "node")
IVR_COLUMNS = (*IVR_KEY, "type", *IVR_COUNTS, "time_s")
_SQL: dict[tuple[str, int], str] = {}


def steps_of(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    trail = record.get("trail")
    if isinstance(trail, str | bytes):  # SQLite's JSON text in raw SQL
        try:
            trail = json.loads(trail or "null")
        except ValueError:
            return []
    if not isinstance(trail, list):
        return []
    return [s for s in trail if isinstance(s, Mapping) and s.get("node")]


def node_cells(record: Mapping[str, Any]) -> dict[tuple[date, str, str], dict[str, Any]]:
    """``{(day, flow, node): {"type", visits, calls, exits, ... time_s}}`` of one record (empty without a trail)."""
    steps = steps_of(record)
    started = record.get("started_at")
    if not steps or not isinstance(started, datetime):
        return {}
    cells: dict[tuple[date, str, str], dict[str, Any]] = {}
    default_flow = str(record.get("flow") or "")
    key: tuple[date, str, str] | None = None
    for step in steps:
        key = (centre_day_of(started), str(step.get("flow") or default_flow)[:64], str(step["node"])[:96])
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = {"type": str(step.get("type") or "")[:32], **dict.fromkeys(IVR_COUNTS, 0),
                                 "time_s": 0.0, "calls": 1}
        cell["visits"] += 1
        cell["time_s"] += max(0.0, float(step.get("duration_ms") or 0.0)) / 1000.0
        if step.get("error"):
            cell["errors"] += 1
    assert key is not None
    last = cells[key]
    last["exits"] = 1
    result = record.get("result")
    if record.get("routed"):
        last["transfers_out"] = 1
    elif result in ("hangup", "interrupted"):
        last["hangups"] = 1
    elif result == "completed":
        last["completions"] = 1
    return cells


def row_of(key: tuple[date, str, str], cell: Mapping[str, Any]) -> tuple[Any, ...]:
    return (*key, cell["type"], *(int(cell[n]) for n in IVR_COUNTS), round(float(cell["time_s"]), 3))


def upsert(record: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """One multi-row ``INSERT ... ON CONFLICT DO UPDATE`` adding a record's node cells (None without a trail)."""
    cells = node_cells(record)
    if not cells:
        return None
    sql = _SQL.get((db.param, len(cells)))
    if sql is None:
        one = "(" + ", ".join(db.param for _ in IVR_COLUMNS) + ")"
        sets = ", ".join(f'"{n}" = "hl_stat_ivr_node"."{n}" + excluded."{n}"' for n in (*IVR_COUNTS, "time_s"))
        sql = _SQL[(db.param, len(cells))] = (
            f'INSERT INTO "hl_stat_ivr_node" ({", ".join(chr(34) + c + chr(34) for c in IVR_COLUMNS)}) VALUES '
            + ", ".join(one for _ in cells) + f' ON CONFLICT ("day", "flow", "node") DO UPDATE SET {sets}')
    return sql, [v for key, cell in cells.items() for v in row_of(key, cell)]


def add_cells(total: dict[tuple[date, str, str], dict[str, Any]], record: Mapping[str, Any]) -> None:
    """Sum a record's node cells into ``total`` (the rebuild)."""
    for key, cell in node_cells(record).items():
        into = total.get(key)
        if into is None:
            total[key] = dict(cell)
            continue
        for name in (*IVR_COUNTS, "time_s"):
            into[name] += cell[name]
