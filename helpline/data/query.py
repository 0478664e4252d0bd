"""The one query builder: every list, query screen, export and related list goes through here.

A :class:`ListQuery` names an entity, a condition tree (filters), the caller's row scope, a quick search,
the sort and the page. :func:`fetch_page` returns one page and a count capped at ``count_cap`` (so a
list over millions of rows stays fast); :func:`fetch_pivot` returns a 2-D table of counts, sums or
averages. Every value reaches the database as a parameter; field names are checked against the entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from peewee import SQL, CommaNodeList, Expression, Field, NodeList, Value, fn

from helpline.metadata.kinds import Entity

from . import text_index
from .conditions import FALSE, TRUE, All, AnyOf, Cmp, Cond, Not, all_of, any_of
from .database import is_postgres
from .entities import SYSTEM_COLUMNS, EntityModel, EntityModels
from .entities import rows as select_rows
from .text_index import gram_fields, indexed_fields, is_ready, matching_ids, scope_node, synonym_groups
from .text_tokens import AllOf as TextAll
from .text_tokens import query_node

MAX_PAGE_SIZE = 500
DEFAULT_COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1000
"""A quick search through the text index counts its matches up to this many (a list shows "More than 1000
records"): counting reads each match's row, and a part of an address held by a whole county (8,300 customers
at a million) read them all — on PostgreSQL twice the page's cost (docs/search.md)."""
MAX_SEARCH_LENGTH = 100
"""Characters a quick search may have (a longer text is refused with a message naming the limit)."""
MAX_PATTERN_LENGTH = 1000
"""Characters a contains / starts-with / ends-with value may have (SQLite refuses long LIKE patterns)."""


class QueryError(ValueError):
    """A query names a field or operator that does not fit the entity."""


@dataclass
class ListQuery:
    entity: str
    where: Cond = TRUE
    scope: Cond | None = None
    search: str | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)
    """(field, descending) pairs; ``id`` is added last so pages are stable."""
    page: int = 1
    page_size: int = 50
    count_cap: int = DEFAULT_COUNT_CAP
    """Rows counted at most for the total; 0: not counted (no second statement; not with a quick search)."""
    columns: list[str] | None = None
    hidden: frozenset[str] = frozenset()
    """Fields the quick search must not look in (masked for the caller)."""


@dataclass(frozen=True)
class Linked:
    """The value of a ``linked`` comparison: the link points at an ``entity`` record (by ``key``) meeting
    ``where`` — how a record linked to a scoped entity takes that entity's row scope."""

    entity: str
    key: str
    where: Cond


@dataclass(frozen=True)
class TextMatch:
    """The value of a ``text_match`` comparison on ``id``: the record's text index has every word of ``text``
    in one of ``fields`` (see :mod:`helpline.data.text_index`)."""

    text: str
    fields: tuple[str, ...]
    scope: Cond | None = None
    """The caller's row scope, checked inside the index where it can be (:func:`text_index.scope_node`) — the
    SQL condition still applies it."""


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    capped: bool
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass
class PivotTable:
    row_keys: list[Any]
    column_keys: list[Any]
    cells: dict[tuple[Any, Any], float]
    measure: str

    def cell(self, row: Any, column: Any) -> float:
        return self.cells.get((row, column), 0)

    def row_total(self, row: Any) -> float:
        return sum(v for (r, _), v in self.cells.items() if r == row) if self.measure != "avg" else 0

    def column_total(self, column: Any) -> float:
        return sum(v for (_, c), v in self.cells.items() if c == column) if self.measure != "avg" else 0


def sort_keys(spec: list[str]) -> list[tuple[str, bool]]:
    """``["-created_at", "name"]`` → ``[("created_at", True), ("name", False)]``."""
    return [(s[1:], True) if s.startswith("-") else (s, False) for s in spec]


class _Compiler:
    def __init__(self, models: EntityModels, entity: Entity):
        self.models = models
        self.model: type[EntityModel] = models[entity.name]
        self.entity = entity
        self.text_searched = False
        """Whether the quick search is looked up in the text index (:func:`build_select`)."""
        self.index_only = False
        """A text match compiles to the index's matching ids (:func:`query_many.count_matches`)."""
        self.row_check: str | None = None
        """A text match checks the index entry of the row with this id column instead (:func:`query_many.walk_page`)."""

    def column(self, name: str) -> Field:
        if name not in SYSTEM_COLUMNS and self.entity.field(name) is None:
            raise QueryError(f"entity '{self.entity.name}' has no field '{name}'")
        if (f := self.entity.field(name)) is not None and f.type == "secret":
            raise QueryError(f"'{name}' is a secret: it cannot be searched, filtered, sorted, grouped or listed")
        column: Field = self.model._meta.fields[name]
        return column

    def never_null(self, name: str) -> bool:
        if name in SYSTEM_COLUMNS:
            return True
        f = self.entity.field(name)
        return bool(f and f.required)

    def multiple(self, name: str) -> bool:
        f = self.entity.field(name)
        return bool(f and f.multiple)

    def compile(self, cond: Cond) -> Expression | None:
        """A peewee expression, or None for TRUE."""
        if isinstance(cond, All):
            parts = [self.compile(c) for c in cond.items]
            kept = [p for p in parts if p is not None]
            if not kept:
                return None
            expr = kept[0]
            for p in kept[1:]:
                expr = expr & p
            return expr
        if isinstance(cond, AnyOf):
            if not cond.items:
                return _expr(SQL("1 = 0"))
            alternatives = [self.compile(c) for c in cond.items]
            present = [p for p in alternatives if p is not None]
            if len(present) < len(alternatives):
                return None  # one alternative is always true
            any_expr = present[0]
            for p in present[1:]:
                any_expr = any_expr | p
            return any_expr
        if isinstance(cond, Not):
            inner = self.compile(cond.item)
            return _expr(SQL("1 = 0")) if inner is None else ~inner
        return self.compare(cond)

    def compare(self, c: Cmp) -> Expression:
        col = self.column(c.field)
        if c.op == "linked":
            return self._linked(col, c.value)
        if c.op == "digits":
            return self._digits(c.field, str(c.value))
        if c.op == "text_match":
            return self._text_match(c.value)
        if self.multiple(c.field):
            return self._json_list(col, c)
        v = c.value
        if c.op == "eq":
            return col.is_null() if v is None else col == v
        if c.op == "ne":
            return col.is_null(False) if v is None else ((col != v) | col.is_null())
        if c.op in ("lt", "le", "gt", "ge"):
            ops: dict[str, Expression] = {"lt": col < v, "le": col <= v, "gt": col > v, "ge": col >= v}
            return ops[c.op]
        if c.op in ("in", "not_in"):
            values = list(v or [])
            if not values:
                return _expr(SQL("1 = 0") if c.op == "in" else SQL("1 = 1"))
            return col.in_(values) if c.op == "in" else (col.not_in(values) | col.is_null())
        if c.op == "between":
            low, high = v
            parts = [p for p in ((col >= low) if low is not None else None,
                                 (col <= high) if high is not None else None) if p is not None]
            return parts[0] & parts[1] if len(parts) == 2 else (parts[0] if parts else _expr(SQL("1 = 1")))
        if c.op == "prefix":  # an index range: col >= v and col < v + U+FFFF
            text = str(v)
            return (col >= text) & (col < text + "\uffff")
        if c.op in ("contains", "starts_with", "ends_with"):
            if len(str(v)) > MAX_PATTERN_LENGTH:
                raise QueryError(f"the text to find in '{c.field}' is {len(str(v))} characters long; "
                                 f"at most {MAX_PATTERN_LENGTH} are allowed")
            text = _escape_like(str(v))
            pattern = {"contains": f"%{text}%", "starts_with": f"{text}%", "ends_with": f"%{text}"}[c.op]
            like = "ILIKE" if is_postgres() else "LIKE"
            return _expr(NodeList((col, SQL(like), Value(pattern), SQL("ESCAPE '!'"))))
        if c.op == "is_empty":
            return col.is_null() | (col == "") if self._texty(c.field) else col.is_null()
        if c.op == "not_empty":
            return col.is_null(False) & (col != "") if self._texty(c.field) else col.is_null(False)
        raise QueryError(f"operator {c.op!r} is not supported")

    def _linked(self, col: Field, target: Linked) -> Expression:
        """``EXISTS (SELECT 1 FROM target WHERE key = col AND ...)``: the linked record found by its key's index.
        (``col IN (SELECT key FROM target WHERE ...)`` listed the target's whole scope: PostgreSQL rescans it per
        row, 858 ms for one customer's contact records at 1,000,000 customers, issue 22; a NULL link is false
        here and was unknown there, the same under the row scopes' ``is empty or linked or mine``.)"""
        if not isinstance(target, Linked):
            raise QueryError("a 'linked' comparison needs a Linked value")
        inner, compiler = build_select(self.models, ListQuery(entity=target.entity, where=target.where))
        return _expr(fn.EXISTS(inner.select(SQL("1")).where(compiler.column(target.key) == col).order_by()))

    def _digits(self, name: str, text: str) -> Expression:
        """Any part of a number: ``id IN (SELECT id FROM t WHERE instr(f, digits) > 0)`` — the inner scan reads
        the field's index only (narrow), not the table."""
        digits = re.sub(r"[^0-9]", "", text)
        if not digits:
            return _expr(SQL("1 = 0"))
        inner = self.model.alias("digits_scan")
        inner_col = getattr(inner, name)
        found = (fn.strpos if is_postgres() else fn.instr)(inner_col, digits) > 0
        return _expr(self.model.id.in_(inner.select(inner.id).where(found)))

    def _text_match(self, match: TextMatch) -> Expression:
        """``id IN (SELECT id FROM the text index WHERE it matches)``; a text without a word matches nothing."""
        if not isinstance(match, TextMatch):
            raise QueryError("a 'text_match' comparison needs a TextMatch value")
        node = query_node(match.text, synonym_groups(self.models.metadata))
        if node is None or not match.fields:
            return _expr(SQL("1 = 0"))
        narrowed = scope_node(self.entity, match.scope)
        if narrowed is not None:
            node = TextAll((node, narrowed))
        if self.index_only:  # the count of _count_matches: the index's entries, no row read
            return _expr(matching_ids(self.entity.name, node, list(match.fields), gram_fields(self.entity)))
        if self.row_check is not None:  # the walk (:func:`query_many.walk_page`): this row's entry, checked by itself
            return _expr(text_index.row_matches(self.entity.name, node, list(match.fields), gram_fields(self.entity),
                                     self.row_check))
        ids = matching_ids(self.entity.name, node, list(match.fields), gram_fields(self.entity))
        return _expr(NodeList((self.model.id, SQL("IN ("), ids, SQL(")"))))

    def _texty(self, name: str) -> bool:
        f = self.entity.field(name)
        return bool(f and f.type in ("text", "long_text", "phone", "email", "category"))

    def _json_list(self, col: Field, c: Cmp) -> Expression:
        """Conditions on a multi-select category column (a JSON list of codes): any overlap."""
        if c.op in ("is_empty", "not_empty"):
            length = fn.jsonb_array_length(col) if is_postgres() else fn.json_array_length(col)
            empty = col.is_null() | (length == 0)
            return empty if c.op == "is_empty" else ~empty
        values = c.value if isinstance(c.value, (list, tuple, set, frozenset)) else [c.value]
        values = [str(x) for x in values]
        if not values:
            return _expr(SQL("1 = 0") if c.op in ("eq", "in", "contains") else SQL("1 = 1"))
        if is_postgres():
            source = NodeList((SQL("jsonb_array_elements_text("), col, SQL(") AS e(value)")), glue="")
        else:
            source = NodeList((SQL("json_each("), col, SQL(")")), glue="")
        overlap = _expr(NodeList((SQL("EXISTS (SELECT 1 FROM"), source, SQL("WHERE value IN ("),
                                  CommaNodeList([Value(v) for v in values]), SQL("))"))))
        if c.op in ("eq", "in", "contains"):
            return overlap
        if c.op in ("ne", "not_in"):
            return _expr(col.is_null() | ~overlap)
        raise QueryError(f"operator {c.op!r} does not apply to the multi-select field '{c.field}'")


def _expr(node: Any) -> Expression:
    """Raw SQL nodes combine like expressions (``&``, ``|``, ``~``); say so to the type checker."""
    return cast(Expression, node)


def _escape_like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


NUMBER_WORD = re.compile(r"^\+?[0-9][0-9-]{5,}$")


def search_condition(entity: Entity, text: str | None, hidden: frozenset[str] = frozenset(), *,
                     anywhere: bool = True, indexed: frozenset[str] = frozenset(), scope: Cond | None = None
                     ) -> Cond:
    """Quick search: every word must be found in one of the entity's search fields (``hidden`` ones left out:
    a field masked for the caller is never searched, or its value could be enumerated).

    Search fields in ``indexed`` (their text index is complete, see :mod:`helpline.data.text_index`) are
    looked up in the text index (Chinese segmented, any part of a number); the others by ``LIKE`` as below.

    A word that looks like a number (a phone, card or customer number, six digits or more) is matched from
    the start of the indexed search fields — an index range instead of a scan of every row — and, with
    ``anywhere``, in any part of the phone fields' digits instead (a scan of the phone index; :func:`fetch_page`
    tries the start first). A text over :data:`MAX_SEARCH_LENGTH` characters is refused."""
    if not text or not text.strip() or not entity.search_fields:
        return TRUE
    if len(text) > MAX_SEARCH_LENGTH:
        raise QueryError(f"the search text is {len(text)} characters long; the quick search takes at most "
                         f"{MAX_SEARCH_LENGTH} characters")
    visible = [f for f in entity.search_fields if f not in hidden]
    if not visible:
        return FALSE
    in_index = tuple(f for f in visible if f in indexed)
    fields = [f for f in visible if f not in indexed]
    if in_index and not fields:
        return Cmp("id", "text_match", TextMatch(text, in_index, scope))
    words = text.split()[:5]
    conditions = []
    for word in words:
        found_in_index = [Cmp("id", "text_match", TextMatch(word, in_index, scope))] if in_index else []
        phones = [f for f in fields if (fd := entity.field(f)) and fd.type == "phone"] if anywhere else []
        indexed_here = [f for f in fields if (fd := entity.field(f)) and (fd.indexed or fd.unique) and f not in phones]
        if NUMBER_WORD.match(word) and (indexed_here or phones):
            digits = word.replace("-", "")
            conditions.append(any_of(*found_in_index, *[Cmp(f, "prefix", digits) for f in indexed_here],
                                     *[Cmp(f, "digits", digits) for f in phones]))
        else:
            conditions.append(any_of(*found_in_index, *[Cmp(f, "contains", word) for f in fields]))
    return all_of(*conditions)


def text_indexed(entity: Entity, search: str | None) -> frozenset[str]:
    """The fields whose complete text index a quick search may use (a query inside the caller's session)."""
    if not search or not search.strip() or not set(entity.search_fields) & set(indexed_fields(entity)):
        return frozenset()
    return frozenset(indexed_fields(entity)) if is_ready(entity) else frozenset()


def build_select(models: EntityModels, q: ListQuery, *, anywhere: bool = True) -> tuple[Any, _Compiler]:
    entity = models.entity(q.entity)
    compiler = _Compiler(models, entity)
    indexed = text_indexed(entity, q.search)
    searched = search_condition(entity, q.search, q.hidden, anywhere=anywhere, indexed=indexed, scope=q.scope)
    compiler.text_searched = bool(indexed) and searched not in (TRUE, FALSE)
    cond = all_of(q.where, q.scope, searched)
    columns = [compiler.column(c) for c in (q.columns or [])]
    model = compiler.model
    query = model.select(*([model.id, *columns] if columns else []))
    if _text_only(searched, q.where) and not is_postgres():
        # SQLite would walk a scope index (a city's 70,000 customers) probing the text matches; the matches
        # (few) should drive instead: no index but the rowid (PostgreSQL's planner sees the sizes itself)
        query = query.from_(SQL(f'"{model._meta.table_name}" AS "t1" NOT INDEXED'))
    expr = compiler.compile(cond)
    if expr is not None:
        query = query.where(expr)
    return query, compiler


def _text_only(searched: Cond, where: Cond) -> bool:
    """Whether a select is driven by its text match: the quick search is one text-index match and the
    filters name no field (a filter on an indexed column may be the better driver)."""
    def text_match(cond: Cond) -> bool:
        return isinstance(cond, Cmp) and cond.op == "text_match"

    return (text_match(searched) and where == TRUE) or (searched == TRUE and text_match(where))


def _search_anywhere(models: EntityModels, q: ListQuery) -> bool:
    """Whether a number in the quick search is looked for in any part of the phone numbers: only when no
    record matches it from the start (an index range; the scan of every number is the fallback)."""
    if not q.search:
        return False
    entity = models.entity(q.entity)
    indexed = text_indexed(entity, q.search)
    if search_condition(entity, q.search, q.hidden, indexed=indexed) == \
            search_condition(entity, q.search, q.hidden, anywhere=False, indexed=indexed):
        return False
    query, _ = build_select(models, q, anywhere=False)
    return not query.exists()


def fetch_page(models: EntityModels, q: ListQuery) -> Page:
    """One page of rows (as dicts) and the total, counted up to ``count_cap`` (a quick search through the text
    index: up to :data:`SEARCH_COUNT_CAP` at most)."""
    page_size = max(1, min(q.page_size, MAX_PAGE_SIZE))
    page = max(1, q.page)
    query, compiler = build_select(models, q, anywhere=_search_anywhere(models, q))
    order = []
    for name, descending in q.sort:
        col = compiler.column(name)
        # empty values sort last; a column that cannot be empty needs no NULLS clause (which would keep
        # SQLite from walking its index in order)
        nulls = None if compiler.never_null(name) else "LAST"
        order.append(col.desc(nulls=nulls) if descending else col.asc(nulls=nulls))
    model = compiler.model
    if not any(name == "id" for name, _ in q.sort):
        order.append(model.id.desc() if q.sort and q.sort[-1][1] else model.id.asc())
    offset = (page - 1) * page_size
    if compiler.text_searched and is_postgres():
        # count first: when the matches reach the cap, a page walked in the sort order (query_many.walk_page) reads a
        # few hundred rows where the plain page reads and sorts every match (a county's 8,355 customers)
        from .query_many import count_matches, walk_page  # (it builds on this module)

        cap = min(q.count_cap, SEARCH_COUNT_CAP)
        total, capped = count_matches(models, q, cap) or count_capped(query, cap)
        found = (walk_page(models, q, order, offset, page_size) if capped else None) if total else []
        if found is None:
            found = select_rows(query.order_by(*order).paginate(page, page_size))
        return Page(rows=found, total=total, capped=capped, page=page, page_size=page_size)
    found = select_rows(query.order_by(*order).paginate(page, page_size))
    if q.count_cap <= 0:  # the rows only (the screen-pop's lists): no count; "capped" when the page is full
        return Page(rows=found, total=offset + len(found), capped=len(found) == page_size, page=page,
                    page_size=page_size)
    if 0 < len(found) < page_size or (page == 1 and not found):
        total, capped = offset + len(found), False  # a short page tells the total: no second scan
    else:
        cap = min(q.count_cap, SEARCH_COUNT_CAP) if compiler.text_searched else q.count_cap
        total, capped = count_capped(query, cap)
    return Page(rows=found, total=total, capped=capped, page=page, page_size=page_size)


def count_capped(query: Any, cap: int) -> tuple[int, bool]:
    """COUNT over at most ``cap + 1`` rows: (count, whether it hit the cap)."""
    inner = query.select(SQL("1")).order_by().limit(cap + 1)
    n = int(inner.model.select(fn.COUNT(SQL("*"))).from_(inner.alias("capped")).scalar() or 0)
    return min(n, cap), n > cap


def iterate_rows(models: EntityModels, q: ListQuery, *, limit: int = 1_000_000, batch: int = 2000
                 ) -> Iterator[dict[str, Any]]:
    """Every row of a query in order, in batches (for exports)."""
    query, compiler = build_select(models, q, anywhere=_search_anywhere(models, q))
    order = [compiler.column(n).desc() if d else compiler.column(n) for n, d in q.sort] + [compiler.model.id]
    seen = 0
    offset = 0
    while seen < limit:
        chunk = select_rows(query.order_by(*order).limit(min(batch, limit - seen)).offset(offset))
        if not chunk:
            return
        yield from chunk
        seen += len(chunk)
        offset += len(chunk)


def fetch_pivot(models: EntityModels, entity_name: str, where: Cond, scope: Cond | None, rows: str, columns: str,
                measure: str = "count", of: str | None = None) -> PivotTable:
    """A 2-D table: ``rows`` × ``columns`` with count, sum or avg of ``of`` in each cell."""
    query, compiler = build_select(models, ListQuery(entity=entity_name, where=where, scope=scope))
    r, c = compiler.column(rows), compiler.column(columns)
    if measure == "count":
        agg = fn.COUNT(compiler.model.id)
    elif measure in ("sum", "avg") and of:
        agg = (fn.SUM if measure == "sum" else fn.AVG)(compiler.column(of))
    else:
        raise QueryError(f"measure {measure!r} needs a numeric field")
    grouped = query.select(r.alias("r"), c.alias("c"), agg.alias("m")).group_by(r, c).order_by()
    cells: dict[tuple[Any, Any], float] = {}
    row_keys: list[Any] = []
    col_keys: list[Any] = []
    for rec in select_rows(grouped):
        rk, ck, m = rec["r"], rec["c"], rec["m"]
        cells[(rk, ck)] = float(m) if isinstance(m, Decimal) else (m or 0)
        if rk not in row_keys:
            row_keys.append(rk)
        if ck not in col_keys:
            col_keys.append(ck)
    key = _sort_key
    return PivotTable(sorted(row_keys, key=key), sorted(col_keys, key=key), cells, measure)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, (date, datetime)):
        return (0, value.isoformat())
    return (0, str(value))
