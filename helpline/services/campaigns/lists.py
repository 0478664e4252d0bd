"""Loading a campaign's list: the rows of its import definition's source or of its query screen, each number
checked (valid, not a duplicate, not on the do-not-call list) and stored as a number of the run.

Rejected rows are counted per reason and the first :data:`KEPT_PROBLEMS` kept with their row number. The rows
are written in batches, each its own short transaction; between batches the loader yields the interpreter
(``pause``), so a 100,000-number list loads beside live calls without delaying the router (bench/bench_campaign.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpline.data.base import centre_today
from helpline.data.campaigns import CampaignNumber, DoNotCall
from helpline.data.database import session, write_transaction
from helpline.data.query import ListQuery, fetch_page
from helpline.metadata.kinds.campaign import Campaign
from helpline.metadata.kinds.imports import Import
from helpline.security.actor import Actor

from .policy import dial_number, relative_date

if TYPE_CHECKING:
    from helpline.services.platform import Platform

__all__ = ["KEPT_PROBLEMS", "ListError", "LoadCounts", "list_rows", "load_list"]

KEPT_PROBLEMS = 200
PAGE = 500


class ListError(ValueError):
    """The list cannot be read at all (no file for an import that needs one, a header missing ...)."""


@dataclass
class LoadCounts:
    rows: int = 0
    loaded: int = 0
    invalid: int = 0
    duplicate: int = 0
    dnc: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    """``{row, phone, reason}`` of the first rejected rows."""

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "loaded": self.loaded, "invalid": self.invalid, "duplicate": self.duplicate,
                "dnc": self.dnc, "problems": self.problems}

    def reject(self, row: int, phone: Any, reason: str) -> None:
        setattr(self, reason, getattr(self, reason) + 1)
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append({"row": row, "phone": None if phone is None else str(phone), "reason": reason})


def _import_rows(platform: Platform, definition: Import, path: Path | None) -> Iterator[tuple[int, dict[str, Any]]]:
    from helpline.services.imports.rows import RowConverter, map_headers
    from helpline.services.imports.sources import SourceError, open_source

    entity = platform.metadata.entities.get(definition.entity)
    if entity is None:
        raise ListError(f"import '{definition.name}': no entity '{definition.entity}'")
    if definition.source.type in ("xlsx", "csv") and path is None:
        raise ListError(f"import '{definition.name}' reads a {definition.source.type} file: give the list's file")
    try:
        table = open_source(definition.source, path, path.name if path else None)
        mapping = map_headers(definition, entity, table.headers)
    except SourceError as exc:
        raise ListError(str(exc)) from exc
    converter = RowConverter(definition, entity, mapping)
    try:
        for number, cells in table.rows:
            values, _problems = converter.convert(number, cells)
            yield number, values
    finally:
        table.close()


def _query_rows(platform: Platform, actor: Actor, campaign: Campaign, today: date
                ) -> Iterator[tuple[int, dict[str, Any]]]:
    from helpline.services.queries import build_condition

    query = platform.metadata.queries.get(campaign.list_.query or "")
    if query is None:
        raise ListError(f"campaign '{campaign.name}': no query screen '{campaign.list_.query}'")
    values = {k: relative_date(v, today) for k, v in campaign.list_.inputs.items()}
    where = build_condition(platform, query, values, platform.records.hidden(actor, query.entity))
    actor.require(query.entity, "read")
    scope = platform.records.scope(actor, query.entity)  # the creator's row scope applies to the list
    masks = actor.masks(query.entity)
    n, page = 0, 1
    while True:
        listing = ListQuery(entity=query.entity, where=where, scope=scope, sort=[("id", False)], page=page,
                            page_size=PAGE)
        with session():
            rows = fetch_page(platform.models, listing).rows
        for row in rows:
            n += 1
            yield n, {k: ("*" if k in masks and v else v) for k, v in row.items()}
        if len(rows) < PAGE:
            return
        page += 1


def list_rows(platform: Platform, actor: Actor, campaign: Campaign, path: Path | None = None,
              today: date | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, values)`` of the campaign's list. A masked field reads ``*`` (its number is then invalid)."""
    if campaign.list_.import_:
        found = platform.metadata.objects.get("import", {}).get(campaign.list_.import_)
        if not isinstance(found, Import):
            raise ListError(f"campaign '{campaign.name}': no import definition '{campaign.list_.import_}'")
        return _import_rows(platform, found, path)
    return _query_rows(platform, actor, campaign, today or centre_today())


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def load_list(platform: Platform, actor: Actor, campaign: Campaign, run_id: int, path: Path | None = None, *,
              batch: int = 500, pause: float = 0.0, today: date | None = None,
              progress: Callable[[LoadCounts], None] | None = None) -> LoadCounts:
    """Store the list's valid numbers as numbers of run ``run_id``; invalid, duplicate and do-not-call ones are
    rejected and counted. ``pause`` seconds are slept after each batch (0: just yield the interpreter)."""
    counts = LoadCounts()
    seen: set[str] = set()
    spec = campaign.list_
    pending: list[tuple[int, str, dict[str, Any]]] = []

    def flush() -> None:
        if not pending:
            return
        blocked: set[str] = set()
        with session():
            if campaign.do_not_call:
                phones = [p for _, p, _ in pending]
                blocked = {r.number for r in DoNotCall.select(DoNotCall.number).where(DoNotCall.number.in_(phones))}
            rows = []
            for number, phone, values in pending:
                if phone in blocked:
                    counts.reject(number, phone, "dnc")
                    continue
                rows.append({"run": run_id, "phone": phone, "data": {k: _plain(v) for k, v in values.items()},
                             "name": str(values.get(spec.name) or "")[:200] if spec.name else "",
                             "region": str(values.get(spec.region) or "")[:64] if spec.region else ""})
            with write_transaction():
                if rows:
                    CampaignNumber.insert_many(rows).execute()
            counts.loaded += len(rows)
        pending.clear()
        if progress:
            progress(counts)
        time.sleep(pause)

    for number, values in list_rows(platform, actor, campaign, path, today):
        counts.rows += 1
        raw = values.get(spec.phone)
        phone = dial_number(raw)
        if phone is None:
            counts.reject(number, raw, "invalid")
            continue
        if phone in seen:
            counts.reject(number, phone, "duplicate")
            continue
        seen.add(phone)
        pending.append((number, phone, values))
        if len(pending) >= batch:
            flush()
    flush()
    return counts
