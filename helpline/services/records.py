"""Create, read, update, delete and list entity records: the only way pages and APIs touch them.

Every call checks the actor's permission on the server, applies the row scope and field masks, validates
against the entity metadata, writes the audit log (changes field by field; reads of audited entities with
the filter used; refused reads of a record outside the scope), and runs in its own connection and transaction.

A record that links to a scoped entity takes that entity's scope too (an agent sees the contact records and
work orders of their region's customers, and those they wrote): see :meth:`RecordService.scope`. A field
masked for the actor is never searched, filtered, grouped or sorted by (its value could be enumerated).

These are plain blocking functions: from NiceGUI call them with ``await run.io_bound(...)``, never holding a
transaction across an ``await``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from peewee import IntegrityError

from helpline.data.base import utcnow
from helpline.data.conditions import TRUE, Cmp, Cond, all_of, any_of, describe, fields_of
from helpline.data.database import db, session, write_transaction
from helpline.data.entities import SYSTEM_COLUMNS
from helpline.data.entities import rows as select_rows
from helpline.data.query import (
    Linked,
    ListQuery,
    Page,
    PivotTable,
    build_select,
    fetch_page,
    fetch_pivot,
    iterate_rows,
    sort_keys,
)
from helpline.data.text_index import remove_row, stored_fields, write_row
from helpline.extension_registry import RecordEvent, Refuse, registry
from helpline.metadata.kinds import Entity, EntityField, RelatedList
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit, field_changes
from helpline.security.masking import apply_masks

from . import stats_category
from .numbering import assign_numbers, numbered_fields
from .values import FieldError, clean_values

if TYPE_CHECKING:
    from .platform import Platform

T = TypeVar("T")
MAX_TITLES = 500
LINK_DEPTH = 3
"""How many links a scope follows (work order → contact record → customer)."""


class RecordNotFound(LookupError):
    pass


class OutOfScope(RecordNotFound):
    """The record exists but lies outside the actor's row scope (the message does not tell them apart)."""


class ValidationFailed(ValueError):
    """Some fields are invalid; ``errors`` maps each field to its problem. Nothing was saved."""

    def __init__(self, errors: dict[str, FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {e.text()}" for k, e in errors.items()))


class StaleRecord(Exception):
    """The record changed since it was read (optimistic concurrency); nothing was saved."""


@dataclass
class Record:
    entity: str
    values: dict[str, Any]
    masked: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> int:
        return int(self.values["id"])


def unit_of_work(fn: Callable[[], T]) -> T:
    """Run ``fn`` in its own connection and transaction."""
    with session(), write_transaction():
        return fn()


class RecordService:
    def __init__(self, platform: Platform):
        self.platform = platform

    # -- helpers -------------------------------------------------------------------------------
    def _entity(self, name: str) -> Entity:
        entity = self.platform.metadata.entities.get(name)
        if entity is None:
            raise RecordNotFound(f"no entity '{name}'")
        return entity

    def _scope(self, actor: Actor, entity: str) -> Cond:
        return self.scope(actor, entity)

    def scope(self, actor: Actor, entity_name: str, depth: int = 0) -> Cond:
        """The rows of ``entity_name`` ``actor`` may see: the roles' own row scope and, for every link to an
        entity the actor reads through a scope (all their roles reading it have one), the link's scope — an
        empty link, a linked record in that scope, or a record the actor created."""
        own = self.platform.scope_condition(actor, entity_name)
        entity = self.platform.metadata.entities.get(entity_name)
        if entity is None or actor.is_system or depth >= LINK_DEPTH:
            return own
        linked: list[Cond] = []
        for f in entity.active_fields:
            target = f.link or ""
            if (f.type != "link" or f.multiple or target == entity_name or target not in self.platform.metadata.entities
                    or not actor.can(target, "read")):  # a role that cannot read the target: check warns (HL-W201)
                continue
            inner = self.scope(actor, target, depth + 1)
            if inner == TRUE:
                continue
            to_target = Cmp(f.name, "linked", Linked(target, f.link_key or "id", inner))
            linked.append(any_of(Cmp(f.name, "is_empty"), to_target, Cmp("created_by", "eq", actor.username)))
        return all_of(own, *linked)

    def hidden(self, actor: Actor, entity_name: str) -> frozenset[str]:
        """The fields masked for ``actor``: never searched, filtered, grouped or sorted by."""
        return frozenset(actor.masks(entity_name))

    def _guard(self, actor: Actor, query: ListQuery) -> None:
        """Refuse a filter on a masked field, drop sorting by one, and keep the quick search out of them. A NUL
        character is dropped from the quick search (PostgreSQL text cannot hold one)."""
        if query.search:
            query.search = query.search.replace("\x00", "")
        hidden = self.hidden(actor, query.entity)
        if not hidden:
            return
        used = sorted(fields_of(query.where) & hidden)
        if used:
            raise PermissionDenied(f"the field(s) {', '.join(used)} of {query.entity} are masked for you and "
                                   "cannot be filtered by")
        query.sort = [(name, desc) for name, desc in query.sort if name not in hidden]
        query.hidden = query.hidden | hidden

    def in_scope(self, actor: Actor, entity_name: str, record_id: int) -> bool:
        """Whether ``actor``'s scope includes the record (inside the caller's connection)."""
        scope = self.scope(actor, entity_name)
        if scope == TRUE:
            return True
        query, _ = build_select(self.platform.models, ListQuery(entity=entity_name, where=Cmp("id", "eq", record_id),
                                                                scope=scope))
        return bool(query.exists())

    def _row(self, actor: Actor, entity: Entity, record_id: int) -> dict[str, Any]:
        model = self.platform.models[entity.name]
        query = model.select().where(model.id == record_id)
        scope = self._scope(actor, entity.name)
        if scope != TRUE:
            query, _ = build_select(self.platform.models, ListQuery(entity=entity.name,
                                                                    where=Cmp("id", "eq", record_id), scope=scope))
        row = query.dicts().first()
        if row is None:
            message = f"{entity.name} {record_id} does not exist or is outside your scope"
            if scope != TRUE and model.select(model.id).where(model.id == record_id).exists():
                raise OutOfScope(message)
            raise RecordNotFound(message)
        return dict(row)

    def _audited_refusal(self, actor: Actor, action: str, entity_name: str, record_id: int, work: Callable[[], T]
                         ) -> T:
        """Run ``work`` in its own transaction; a read outside the scope is refused and audited (in a
        transaction of its own: the refused one rolls back)."""
        try:
            return unit_of_work(work)
        except OutOfScope:
            def log() -> None:
                audit(actor, "denied", entity=entity_name, record_id=record_id,
                      detail={"kind": "record", "action": action, "reason": "outside the row scope"})
            unit_of_work(log)
            raise
        except PermissionDenied as exc:  # e.g. a field a process's state does not let this user change
            reason = str(exc)

            def log_denied() -> None:
                audit(actor, "denied", entity=entity_name, record_id=record_id,
                      detail={"kind": "record", "action": action, "reason": reason})
            unit_of_work(log_denied)
            raise

    def _validate_links_and_rules(self, entity: Entity, values: dict[str, Any], record: dict[str, Any]
                                  ) -> dict[str, FieldError]:
        errors: dict[str, FieldError] = {}
        for name, value in values.items():
            f = entity.field(name)
            if f is None or f.type != "link" or value in (None, ""):
                continue
            target = self.platform.models[f.link or ""]
            key = getattr(target, f.link_key or "id")
            if not target.select(target.id).where(key == value).exists():
                errors[name] = FieldError("errors.link", {"entity": f.link, "value": value})
            elif f.level and hasattr(target, "level") and \
                    not target.select(target.id).where((key == value) & (target.level == f.level)).exists():
                errors[name] = FieldError("errors.link_level", {"entity": f.link, "value": value, "level": f.level})
        errors.update(self.platform.validation_errors(entity, {**record, **values}, only=set(values)))
        return errors

    # -- use cases -----------------------------------------------------------------------------
    def _before_save(self, actor: Actor, entity_name: str, raw: dict[str, Any], before: dict[str, Any] | None,
                     record_id: Any = None) -> dict[str, Any]:
        """The raw values after the extensions' ``before_save`` events (which may change them; the result is
        validated like the user's input); an extension's :class:`Refuse` refuses the save with its message."""
        event = RecordEvent(entity_name, "before_save", dict(raw), before, actor.username, record_id)
        try:
            registry().fire(entity_name, "before_save", event)
        except Refuse as exc:
            raise ValidationFailed({"*": FieldError("errors.rule", {"message": str(exc)})}) from exc
        return event.values

    def _after(self, actor: Actor, entity_name: str, event: str, row: dict[str, Any], before: dict[str, Any] | None,
               record_id: Any) -> None:
        """The extensions' ``after_save`` / ``after_delete`` events (their failures are logged, never raised); a
        contact record's call is recounted under its category (:mod:`helpline.services.stats_category`)."""
        if entity_name == stats_category.ENTITY:
            stats_category.record_changed(self.platform.metadata, row or before or {})
        registry().fire(entity_name, event, RecordEvent(entity_name, event, dict(row), before, actor.username,
                                                        record_id))

    def create(self, actor: Actor, entity_name: str, raw: dict[str, Any]) -> Record:
        entity = self._entity(entity_name)
        actor.require(entity_name, "create")
        raw = self._before_save(actor, entity_name, raw, None)
        values, errors = clean_values(entity, raw, self.platform.metadata.categories)
        numbered = numbered_fields(entity, values, errors)
        if errors:
            raise ValidationFailed(errors)
        flow = self.platform.workflows.governing(entity_name, values, actor)
        if flow is not None:  # a governed record starts in its process's initial state, whatever was given
            values[flow.state_field] = flow.initial

        def work() -> Record:
            model = self.platform.models[entity_name]
            assign_numbers(model, entity, values, numbered)
            more = self._validate_links_and_rules(entity, values, values)
            if more:
                raise ValidationFailed(more)
            now = utcnow()
            try:
                with db.atomic():
                    instance = model.create(**values, created_by=actor.username, updated_by=actor.username,
                                            created_at=now, updated_at=now)
            except IntegrityError as exc:
                raise ValidationFailed(self._unique_errors(entity, values, exc)) from exc
            row = select_rows(model.select().where(model.id == instance.id))[0]
            write_row(entity, row)  # the text index, in this transaction: a failed save leaves no index row
            audit(actor, "create", entity=entity_name, record_id=instance.id, after=_public(row))
            if flow is not None:
                self.platform.workflows.start(actor, flow, row)
            return Record(entity_name, row)

        created = unit_of_work(work)
        self._after(actor, entity_name, "after_save", _public(created.values), None, created.values.get("id"))
        masks = actor.masks(entity_name)  # as a read gives it back: the creator sees what it may see, no more
        return Record(entity_name, apply_masks(created.values, masks), frozenset(masks))

    def _unique_errors(self, entity: Entity, values: dict[str, Any], exc: Exception) -> dict[str, FieldError]:
        model = self.platform.models[entity.name]
        errors = {}
        for f in entity.active_fields:
            if f.unique and values.get(f.name) not in (None, ""):
                column = getattr(model, f.name)
                if model.select(model.id).where(column == values[f.name]).exists():
                    errors[f.name] = FieldError("errors.unique", {})
        return errors or {"*": FieldError("errors.rule", {"message": str(exc)})}

    def get(self, actor: Actor, entity_name: str, record_id: int) -> Record:
        entity = self._entity(entity_name)
        actor.require(entity_name, "read")

        def work() -> Record:
            row = self._row(actor, entity, record_id)
            if entity.audit_reads:
                audit(actor, "read", entity=entity_name, record_id=record_id)
            masks = actor.masks(entity_name)
            return Record(entity_name, apply_masks(row, masks), frozenset(masks))

        return self._audited_refusal(actor, "read", entity_name, record_id, work)

    def update(self, actor: Actor, entity_name: str, record_id: int, raw: dict[str, Any],
               expected_version: int | None = None, *, base: dict[str, Any] | None = None) -> Record:
        """Save ``raw`` (field → value) on the record; with ``expected_version`` a record changed since then is
        refused (:class:`StaleRecord`) — unless ``base``, the values the editor loaded at that version, is given:
        then the changes are merged (:meth:`_merged`) and only a field changed both here and meanwhile is."""
        entity = self._entity(entity_name)
        actor.require(entity_name, "update")
        masks = actor.masks(entity_name)
        masked_edits = [k for k in raw if k in masks]
        if masked_edits:
            raise PermissionDenied(f"the field(s) {', '.join(masked_edits)} are masked for you and cannot be changed")

        def work() -> Record:
            before = self._row(actor, entity, record_id)
            edits = raw
            if expected_version is not None and before["version"] != expected_version:
                if base is None:
                    raise StaleRecord(f"{entity_name} {record_id} was changed by {before['updated_by']} at "
                                      f"{before['updated_at']}; reload it and apply your change again")
                edits = self._merged(entity, raw, base, before)
            changed_raw = self._before_save(actor, entity_name, edits, _public(before), record_id)
            after = self._write_changes(actor, entity, before, changed_raw)
            if after is not before:
                saved.append((before, after))
            return Record(entity_name, apply_masks(after, masks), frozenset(masks))

        saved: list[tuple[dict[str, Any], dict[str, Any]]] = []
        result = self._audited_refusal(actor, "update", entity_name, record_id, work)
        for before, after in saved:
            self._after(actor, entity_name, "after_save", _public(after), _public(before), record_id)
        return result

    def _merged(self, entity: Entity, raw: dict[str, Any], base: dict[str, Any],
                before: dict[str, Any]) -> dict[str, Any]:
        """The editor's ``raw`` values on a record changed since it loaded ``base``: a field changed meanwhile
        that the editor left as loaded keeps its new value (not sent back as it was), the editor's own changes
        stay; a field changed both by the editor and meanwhile, to different values, refuses the save
        (:class:`StaleRecord`, naming the fields) — nothing written elsewhere is ever overwritten unseen."""
        mine, _ = clean_values(entity, raw, self.platform.metadata.categories, previous=before, partial=True)
        kept: dict[str, Any] = {}
        clashes: list[str] = []
        for name, value in raw.items():
            unchanged_meanwhile = before.get(name) == base.get(name)
            if unchanged_meanwhile or name not in mine or mine[name] == before.get(name):  # (not in mine: invalid)
                kept[name] = value
            elif mine[name] != base.get(name):  # changed here and meanwhile
                clashes.append(name)
            # else: left as loaded, the value written meanwhile stays
        if clashes:
            raise StaleRecord(f"{entity.name} {before['id']} was changed by {before['updated_by']} at "
                              f"{before['updated_at']} (also {', '.join(clashes)}); reload it and apply your "
                              f"change again")
        return kept

    def _write_changes(self, actor: Actor, entity: Entity, before: dict[str, Any], raw: dict[str, Any], *,
                       system_fields: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
        """Validate ``raw`` as changes of the record ``before`` and write them (version checked and bumped,
        audited); returns the record as written, or ``before`` itself when nothing changed. Inside the
        caller's transaction. A process's state field changes only through ``system_fields`` (the engine)."""
        values, errors = clean_values(entity, raw, self.platform.metadata.categories, previous=before, partial=True)
        errors.update(self._validate_links_and_rules(entity, values, before) if not errors else {})
        if errors:
            raise ValidationFailed(errors)
        model = self.platform.models[entity.name]
        changes = {k: v for k, v in values.items() if before.get(k) != v}
        if not changes:
            return before
        self.platform.workflows.check_edit(actor, entity.name, before["id"], set(changes) - system_fields)
        try:
            with db.atomic():
                n = (model.update(**changes, version=model.version + 1, updated_by=actor.username,
                                  updated_at=utcnow())
                     .where((model.id == before["id"]) & (model.version == before["version"])).execute())
        except IntegrityError as exc:
            raise ValidationFailed(self._unique_errors(entity, changes, exc)) from exc
        if n != 1:
            raise StaleRecord(f"{entity.name} {before['id']} was changed meanwhile; reload it")
        after = select_rows(model.select().where(model.id == before["id"]))[0]
        if set(changes) & set(stored_fields(entity)):
            write_row(entity, after)
        old, new = field_changes(_public(before), _public(after))
        audit(actor, "update", entity=entity.name, record_id=before["id"], before=old, after=new)
        return after

    def delete(self, actor: Actor, entity_name: str, record_id: int) -> None:
        entity = self._entity(entity_name)
        actor.require(entity_name, "delete")

        def work() -> None:
            before = self._row(actor, entity, record_id)
            model = self.platform.models[entity_name]
            model.delete().where(model.id == record_id).execute()
            remove_row(entity, record_id)
            audit(actor, "delete", entity=entity_name, record_id=record_id, before=_public(before))
            deleted.append(before)

        deleted: list[dict[str, Any]] = []
        self._audited_refusal(actor, "delete", entity_name, record_id, work)
        for before in deleted:
            self._after(actor, entity_name, "after_delete", {}, _public(before), record_id)

    def list_page(self, actor: Actor, query: ListQuery, *, purpose: str = "list") -> Page:
        """One page of records the actor may see, masked; reads of audited entities are logged."""
        entity = self._entity(query.entity)
        actor.require(query.entity, "read")
        self._guard(actor, query)
        query.scope = all_of(query.scope, self._scope(actor, query.entity))

        def work() -> Page:
            page = fetch_page(self.platform.models, query)
            masks = actor.masks(query.entity)
            page.rows = [apply_masks(r, masks) for r in page.rows]
            if entity.audit_reads:
                audit(actor, purpose, entity=query.entity,
                      detail={"where": describe(query.where), "search": query.search, "page": query.page,
                              "rows": len(page.rows)})
            return page

        with session():
            return work()

    def rows_for_export(self, actor: Actor, query: ListQuery, limit: int = 100_000) -> Iterator[dict[str, Any]]:
        actor.require(query.entity, "read")
        actor.require_permission("export")
        self._entity(query.entity)  # an unknown entity is refused
        self._guard(actor, query)
        query.scope = all_of(query.scope, self._scope(actor, query.entity))
        masks = actor.masks(query.entity)
        with session():
            audit(actor, "export", entity=query.entity, detail={"where": describe(query.where),
                                                                "search": query.search})
            for row in iterate_rows(self.platform.models, query, limit=limit):
                yield apply_masks(row, masks)

    def pivot(self, actor: Actor, entity_name: str, where: Cond, rows: str, columns: str, measure: str = "count",
              of: str | None = None) -> PivotTable:
        entity = self._entity(entity_name)
        actor.require(entity_name, "read")
        hidden = self.hidden(actor, entity_name)
        grouped = sorted(({rows, columns, of or ""} | fields_of(where)) & hidden)
        if grouped:
            raise PermissionDenied(f"the field(s) {', '.join(grouped)} of {entity_name} are masked for you and "
                                   "cannot be grouped or filtered by")
        scope = self._scope(actor, entity_name)
        with session():
            table = fetch_pivot(self.platform.models, entity_name, where, scope, rows, columns, measure, of)
            if entity.audit_reads:
                audit(actor, "query", entity=entity_name, detail={"where": describe(where), "pivot": [rows, columns]})
            return table

    def related(self, actor: Actor, entity_name: str, record: Record, spec: RelatedList) -> Page:
        """The related list of a form (a customer's work orders), through the same scoped path."""
        parent = self._entity(entity_name)
        other = self._entity(spec.entity)
        via = other.field(spec.via)
        if via is None or via.link != parent.name:
            raise RecordNotFound(f"'{spec.via}' of '{spec.entity}' does not link to '{entity_name}'")
        key_value = record.values.get(via.link_key) if via.link_key else record.id
        if via.link_key and via.link_key in record.masked:
            raw = self.platform.models[entity_name].get_by_id(record.id)
            key_value = getattr(raw, via.link_key)
        return self.list_page(actor, ListQuery(entity=spec.entity, scope=Cmp(spec.via, "eq", key_value),
                                          sort=sort_keys(spec.sort or ["-id"]), page_size=spec.limit,
                                          count_cap=1000), purpose="read")

    def link_options(self, actor: Actor, field: EntityField, *, search: str | None, limit: int = 500
                     ) -> dict[Any, str]:
        """Records a link field may point at (key → title), found by quick search, within the scope; only
        those of the field's ``level`` (a city field offers cities, not counties), and with ``search`` only
        those whose shown label has it (quick search also looks in other fields: an input method's
        intermediate ``chang`` for 长 found 天心区 by its code ``changsha_02``)."""
        target = self.platform.metadata.entities.get(field.link or "")
        if target is None or not actor.can(target.name, "read"):
            return {}
        key = field.link_key or "id"
        title = target.title_field or key
        level = Cmp("level", "eq", field.level) if field.level and target.field("level") is not None else None
        page = self.list_page(actor, ListQuery(entity=target.name, search=search, scope=level,
                                               sort=[(key if field.link_key else title, False)],
                                               page_size=limit, count_cap=limit), purpose="lookup")
        options = {r[key]: (f"{r[title]} ({r[key]})" if title != key else str(r[key])) for r in page.rows}
        needle = (search or "").strip().casefold()
        return {k: v for k, v in options.items() if needle in v.casefold()} if needle else options

    def titles(self, actor: Actor, entity_name: str, key: str, keys: list[Any]) -> dict[Any, str]:
        """The titles of the linked records shown on one page (only those the actor may see)."""
        entity = self.platform.metadata.entities.get(entity_name)
        wanted = [k for k in dict.fromkeys(keys) if k not in (None, "")][:MAX_TITLES]
        if entity is None or not wanted or not actor.can(entity_name, "read"):
            return {}
        title = entity.title_field or key
        page = self.list_page(actor, ListQuery(entity=entity_name, scope=Cmp(key, "in", wanted), page_size=len(wanted),
                                          count_cap=len(wanted)), purpose="lookup")
        return {r[key]: str(r[title]) for r in page.rows}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the audit log keeps it (without the bookkeeping columns)."""
    return {k: v for k, v in row.items() if k not in SYSTEM_COLUMNS or k == "id"}
