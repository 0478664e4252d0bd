"""The ``category`` dimension of calls: each call counted once under the category its contact record was filed with
(issue 20 item 2), in ``hl_stat_call_category`` (per day), moved when the record is changed, rebuilt by
``stats rebuild``.

Which category (docs/reports.md, "Category of a call"):

* The contact record of a call is the ``contact_record`` whose serial number is the call's (``yyyyMMdd`` of the
  call's local start and its id in 8 digits: :func:`serial_of`, as the desktop's screen pop makes it). A
  transferred call's legs are records of their own: a contact record filed on any leg belongs to the call (its
  first record), and the call is counted once.
* The category is the **first code** of the **first filled** of the record's category fields in the order of
  :data:`CATEGORY_FIELDS` — complaint (``complaint_types``), else acceptance (``acceptance_types``), else
  consultation (``consultation_types``): a fault or complaint outweighs a request, a request a question.
  ``category_type`` is the field it came from. Several records for one call (one per leg): the one saved last
  with a category.
* A call counts in the day it started (as the other call facts), with its queue, tier, region, city and flow, whether
  it was answered and its talk time. Only inbound calls that are closed count.

How: every save or deletion of a contact record recounts its call (:func:`recount`): the category the call should
be under is derived from the records as they are now and compared with the one it is counted under
(``hl_stat_call_category_of``); a change moves it (−1 from the old cell, +1 to the new) in one transaction, so a
record saved twice is counted once, under its last category. :func:`rebuild` derives the same for every call of a
range. A record filed while its call was still open is counted at its next save or by ``stats rebuild``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from helpline.data.base import centre_day_of
from helpline.data.database import db, is_postgres, session, write_transaction
from helpline.data.stats import CATEGORY_KEYS, StatCallCategory, StatCallCategoryOf

log = logging.getLogger(__name__)

ENTITY = "contact_record"
CATEGORY_FIELDS = ("complaint_types", "acceptance_types", "consultation_types")
"""The contact record's category fields, in the order the call's category is taken from."""
_CALL = ("id", "uniqueid", "started_at", "ended_at", "direction", "queue", "tier", "region", "city", "flow",
         "routed", "talk_s")
_CHUNK = 400


def serial_of(call_id: int, started_at: datetime) -> str:
    """The serial number (流水号) of a call record: the local date it started and its id in 8 digits (the same as
    ``telephony.desk.screenpop.serial_number``, which files the contact record)."""
    local = started_at.replace(tzinfo=UTC).astimezone() if started_at.tzinfo is None else started_at.astimezone()
    return f"{local:%Y%m%d}{call_id:08d}"


def call_id_of(serial: Any) -> int | None:
    text = str(serial or "")
    return int(text[8:]) if len(text) == 16 and text.isdigit() else None


def category_of(record: Mapping[str, Any], fields: Sequence[str] = CATEGORY_FIELDS) -> tuple[str, str] | None:
    """``(field, code)``: the first code of the first filled category field, None when none is filled."""
    for name in fields:
        value = record.get(name)
        if isinstance(value, str | bytes) and str(value).startswith("["):
            value = json.loads(value)
        codes = [str(c) for c in value if c] if isinstance(value, list) else ([str(value)] if value else [])
        if codes:
            return name, codes[0][:64]
    return None


def fields_of(metadata: Any) -> tuple[str, ...]:
    """The category fields the live contact record entity has (none without the entity)."""
    entity = metadata.entities.get(ENTITY) if metadata is not None else None
    if entity is None:
        return ()
    names = {f.name for f in entity.active_fields if f.type == "category"}
    return tuple(f for f in CATEGORY_FIELDS if f in names)


def record_changed(metadata: Any, record: Mapping[str, Any]) -> None:
    """After a contact record was created, changed or deleted (committed): recount its call. Never raises."""
    call_id = call_id_of(record.get("serial_no"))
    fields = fields_of(metadata)
    if call_id is None or not fields:
        return
    try:
        recount([call_id], fields)
    except Exception:
        log.exception("contact record %s: the category statistics could not be updated", record.get("serial_no"))


def recount(call_ids: Iterable[int], fields: Sequence[str] = CATEGORY_FIELDS) -> int:
    """Count the calls of ``call_ids`` (any leg's id) under the category their contact records give now, moving
    them from the one they were counted under. Returns how many moved."""
    ids = sorted(set(call_ids))
    if not ids:
        return 0
    with session(), write_transaction():
        p = db.param
        marks = ", ".join(p for _ in ids)
        lock = " FOR UPDATE" if is_postgres() else ""
        uids = [r[0] for r in db.execute_sql(f'SELECT "uniqueid" FROM "hl_call" WHERE "id" IN ({marks}){lock}',
                                             ids).fetchall()]
        legs = _rows(f'SELECT {_cols()} FROM "hl_call" WHERE "id" IN ({marks}) OR ("uniqueid" <> {p} AND "uniqueid" '
                     f'IN ({", ".join(p for _ in uids) or "NULL"})) ORDER BY "id"', [*ids, "", *uids])
        calls = _calls(legs)
        wanted = _wanted(calls, fields)
        firsts = [c["id"] for c in calls]
        current = {r["call_id"]: r for r in _map_rows(firsts)}
        return _apply(current, wanted, firsts)


def rebuild(start: date, end: date, lo: datetime, hi: datetime, fields: Sequence[str] = CATEGORY_FIELDS) -> int:
    """Inside ``stats rebuild``'s transaction: delete the category facts of ``start``..``end`` and count the calls
    that started in ``lo``..``hi`` again. Returns how many calls are counted under a category."""
    StatCallCategory.delete().where(StatCallCategory.day.between(start, end)).execute()
    StatCallCategoryOf.delete().where(StatCallCategoryOf.day.between(start, end)).execute()
    if ENTITY not in db.get_tables():
        return 0
    columns = {c.name for c in db.get_columns(ENTITY)}
    fields = [f for f in fields if f in columns]
    if not fields:
        return 0
    p = db.param
    legs = _rows(f'SELECT {_cols()} FROM "hl_call" WHERE "uniqueid" IN (SELECT "uniqueid" FROM "hl_call" WHERE '
                 f'"started_at" >= {p} AND "started_at" < {p} AND "uniqueid" <> {p}) OR ("uniqueid" = {p} AND '
                 f'"started_at" >= {p} AND "started_at" < {p}) ORDER BY "id"', [lo, hi, "", "", lo, hi])
    calls = [c for c in _calls(legs) if lo <= c["started_at"] < hi]
    wanted = _wanted(calls, fields)
    return _apply({}, wanted, [c["id"] for c in calls])


def _cols() -> str:
    return ", ".join(f'"{c}"' for c in _CALL)


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    out = []
    for row in db.execute_sql(sql, params).fetchall():
        r = dict(zip(_CALL, row, strict=True))
        for k in ("started_at", "ended_at"):
            if isinstance(r[k], str):  # SQLite hands raw SQL its text
                r[k] = datetime.fromisoformat(r[k])
        out.append(r)
    return out


def _calls(legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls (first records) of the legs, each with ``serials``: the serial numbers of all its records."""
    calls: dict[Any, dict[str, Any]] = {}
    for leg in legs:  # in id order: the first record of a uniqueid is the call
        key = leg["uniqueid"] or ("", leg["id"])
        call = calls.setdefault(key, {**leg, "serials": []})
        call["serials"].append(serial_of(int(leg["id"]), leg["started_at"]))
    return list(calls.values())


def _wanted(calls: list[dict[str, Any]], fields: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Call id → the map row it should have (closed inbound calls whose records give a category)."""
    counted = [c for c in calls if c["ended_at"] is not None and c["direction"] in (None, "", "inbound")]
    serials = [s for c in counted for s in c["serials"]]
    if not serials or not fields or ENTITY not in db.get_tables():
        return {}
    found: dict[str, list[tuple[Any, int, tuple[str, str] | None]]] = {}
    cols = ", ".join(f'"{f}"' for f in ("serial_no", "updated_at", "id", *fields))
    for i in range(0, len(serials), _CHUNK):
        part = serials[i:i + _CHUNK]
        cursor = db.execute_sql(f'SELECT {cols} FROM "{ENTITY}" WHERE "serial_no" IN '
                                f'({", ".join(db.param for _ in part)})', part)
        for row in cursor.fetchall():
            values = dict(zip(("serial_no", "updated_at", "id", *fields), row, strict=True))
            found.setdefault(str(values["serial_no"]), []).append(
                (str(values["updated_at"] or ""), int(values["id"]), category_of(values, fields)))
    out: dict[int, dict[str, Any]] = {}
    for c in counted:
        filed = sorted((f for s in c["serials"] for f in found.get(s, []) if f[2] is not None), key=lambda f: f[:2])
        if not filed:
            continue
        field, code = filed[-1][2]  # type: ignore[misc]
        out[int(c["id"])] = {"day": centre_day_of(c["started_at"]), "category_type": field[:64], "category": code,
                             **{k: str(c[k] or "")[:64 if k in ("queue", "tier", "flow") else 32]
                                for k in ("queue", "tier", "region", "city", "flow")},
                             "answered": 1 if c["routed"] == "answered" else 0, "talk_s": float(c["talk_s"] or 0.0)}
    return out


def _map_rows(call_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(0, len(call_ids), _CHUNK):
        part = call_ids[i:i + _CHUNK]
        found: list[Any] = list(StatCallCategoryOf.select().where(StatCallCategoryOf.call_id.in_(part)).dicts())
        rows += found
    return rows


def _apply(current: Mapping[int, Mapping[str, Any]], wanted: Mapping[int, Mapping[str, Any]],
           call_ids: Sequence[int]) -> int:
    """Move each call from its current row to its wanted one (one aggregated upsert of the differences)."""
    deltas: dict[tuple[Any, ...], list[float]] = {}
    moved: list[int] = []
    adds: list[dict[str, Any]] = []
    for call_id in call_ids:
        old, new = current.get(call_id), wanted.get(call_id)
        old_key = _key(old) if old is not None else None
        if old is not None and new is not None and old_key == _key(new) and \
                (old["answered"], round(old["talk_s"], 3)) == (new["answered"], round(new["talk_s"], 3)):
            continue
        for row, sign in ((old, -1), (new, 1)):
            if row is not None:
                cell = deltas.setdefault(_key(row), [0, 0, 0.0])
                cell[0] += sign
                cell[1] += sign * row["answered"]
                cell[2] += sign * row["talk_s"]
        if old is not None:
            moved.append(call_id)
        if new is not None:
            adds.append({"call_id": call_id, **new})
    for i in range(0, len(moved), _CHUNK):
        StatCallCategoryOf.delete().where(StatCallCategoryOf.call_id.in_(moved[i:i + _CHUNK])).execute()
    for i in range(0, len(adds), 200):
        StatCallCategoryOf.insert_many(adds[i:i + 200]).execute()
    changed = [(k, d) for k, d in deltas.items() if any(d)]
    for i in range(0, len(changed), 200):
        part = changed[i:i + 200]
        cols = ", ".join(f'"{c}"' for c in (*CATEGORY_KEYS, "calls", "answered", "talk_s"))
        one = "(" + ", ".join(db.param for _ in range(len(CATEGORY_KEYS) + 3)) + ")"
        table = "hl_stat_call_category"
        db.execute_sql(
            f'INSERT INTO "{table}" ({cols}) VALUES {", ".join(one for _ in part)} ON CONFLICT '
            f'({", ".join(chr(34) + k + chr(34) for k in CATEGORY_KEYS)}) DO UPDATE SET '
            + ", ".join(f'"{m}" = "{table}"."{m}" + excluded."{m}"' for m in ("calls", "answered", "talk_s")),
            [v for key, (n, a, t) in part for v in (*key, int(n), int(a), float(t))])
    days = sorted({k[0] for k, _ in changed})
    if days:  # a cell left without calls goes (a rebuild would not make it)
        StatCallCategory.delete().where((StatCallCategory.calls <= 0) & StatCallCategory.day.in_(days)).execute()
    return len(adds)


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in CATEGORY_KEYS)


def trees_of(metadata: Any) -> list[str]:
    """The category trees of the contact record's category fields (their codes are the dimension's values)."""
    entity = metadata.entities.get(ENTITY) if metadata is not None else None
    if entity is None:
        return []
    by_name = {f.name: f.category for f in entity.active_fields if f.type == "category"}
    return [str(by_name[f]) for f in fields_of(metadata) if by_name.get(f)]


def drill(dimension: str, values: Sequence[str]) -> Any:
    """The condition on ``hl_call`` of the calls counted under these categories (or category fields)."""
    from helpline.data.calls import Call

    column = getattr(StatCallCategoryOf, dimension)
    return Call.id.in_(StatCallCategoryOf.select(StatCallCategoryOf.call_id).where(column.in_(list(values))))
