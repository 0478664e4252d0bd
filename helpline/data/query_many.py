"""A list's quick search with many matches on PostgreSQL (issue 17: a part of an address held by a whole
county, 8,355 of an agent's customers at a million).

The plain page reads every match's row to check the scope and sort them: 41 ms warm, 160 ms cold for such a
county, as the planner takes a match of a few terms for a few dozen rows. :func:`fetch_page <helpline.data.
query.fetch_page>` counts first (capped); when the count reaches the cap, :func:`walk_page` walks the rows in
the sort order instead, and :func:`count_matches` counts from the text index alone where the index checks the
scope exactly (docs/search.md).
"""

from __future__ import annotations

from typing import Any, cast

from peewee import SQL, NodeList, fn

from . import text_index
from .conditions import TRUE, Cmp, all_of
from .database import db
from .entities import EntityModels
from .entities import rows as select_rows
from .query import ListQuery, _Compiler, search_condition, text_indexed

WALK_ROWS = 100
""":func:`walk_page` reads up to this many rows in the sort order per row of the pages up to the one asked
for (page 1 of 50: 5,000) — found when 1 in 100 of the rows meets the search."""


def walk_page(models: EntityModels, q: ListQuery, order: list[Any], offset: int, size: int
              ) -> list[dict[str, Any]] | None:
    """A page of a quick search with many matches (PostgreSQL): the first rows in the sort order that meet
    the filters and the scope (an index walk), each checked against its own text index entry, until the
    page is full — the rows of the plain page, as the first rows in order hold the page's matches. None
    when they do not (the caller reads the plain page). The planner would not choose this: it takes a
    match of a few terms for a few dozen rows (docs/search.md)."""
    entity = models.entity(q.entity)
    searched = search_condition(entity, q.search, q.hidden, indexed=text_indexed(entity, q.search), scope=q.scope)
    if not (isinstance(searched, Cmp) and searched.op == "text_match"):
        return None  # some search fields are matched by LIKE: the plain page
    compiler = _Compiler(models, entity)
    model = compiler.model
    keys = [o.node.alias(f"walk_{i}") for i, o in enumerate(order)]
    walked = model.select(model.id, *keys)
    plain = compiler.compile(all_of(q.where, q.scope))  # the filters and scope, without the quick search
    walked = (walked.where(plain) if plain is not None else walked).order_by(*order)
    walked = walked.limit(WALK_ROWS * (offset + size))
    compiler.row_check = '"walk"."id"'
    check = compiler.compile(searched)
    with db.atomic():  # JIT off: the planner prices each walked row's entry look-up in every part of a
        # partitioned index table (text_rebuild), and compiling the walk took 22 of its 34 ms at a million
        db.execute_sql("SET LOCAL jit = off")
        ids = [r[0] for r in cast(Any, model.select(SQL('"walk"."id"')).from_(walked.alias("walk")).where(check))
               .order_by(*[SQL(f'"walk"."walk_{i}"').asc(nulls=o.nulls) if o.direction == "ASC"
                           else SQL(f'"walk"."walk_{i}"').desc(nulls=o.nulls) for i, o in enumerate(order)])
               .limit(size).offset(offset).tuples()]
    if len(ids) < size:
        return None
    columns = [compiler.column(c) for c in (q.columns or [])]
    found = model.select(*([model.id, *columns] if columns else [])).where(model.id.in_(ids)).order_by(*order)
    return select_rows(found)


def count_matches(models: EntityModels, q: ListQuery, cap: int) -> tuple[int, bool] | None:
    """The count (up to ``cap``) of a quick search without filters, read from the text index alone when the index
    checks the row scope exactly (:func:`text_index.scope_exact`): no row of the entity read (a county's
    first 1,001 matches: 1,001 primary-key look-ups fewer). None when it cannot."""
    entity = models.entity(q.entity)
    searched = search_condition(entity, q.search, q.hidden, indexed=text_indexed(entity, q.search), scope=q.scope)
    if not (isinstance(searched, Cmp) and searched.op == "text_match") or q.where != TRUE \
            or (q.scope is not None and not text_index.scope_exact(entity, q.scope)):
        return None
    compiler = _Compiler(models, entity)
    compiler.index_only = True
    ids = NodeList((SQL("("), compiler.compile(searched), SQL(f"LIMIT {cap + 1}) AS m")))
    n = int(compiler.model.select(fn.COUNT(SQL("*"))).from_(ids).scalar() or 0)
    return min(n, cap), n > cap
