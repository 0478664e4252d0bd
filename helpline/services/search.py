"""The one text search of the platform: ranked records with the matched words marked (docs/search.md).

Knowledge articles, bulletins, notes, customers and work orders all search through :meth:`SearchService.search`:
the actor's permission, row scope and masks apply exactly as in lists — a field masked for the actor is never
matched (its terms are left out of the query, so a match cannot reveal its value), and only records in the
actor's scope are ranked. The text is cut into index terms by :mod:`helpline.data.text_tokens` (the user's
syntax never reaches the database), the synonym dictionary (the ``search_synonyms`` category tree) widens it,
and the result is ranked by bm25 (SQLite FTS5) or ts_rank (PostgreSQL). Each hit carries, per matched field,
pieces of text ``(text, matched)``: the UI shows matched pieces marked, always as plain text (never HTML).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peewee import SQL

from helpline.data.conditions import Cmp, Cond, all_of
from helpline.data.database import is_postgres, session
from helpline.data.entities import rows as select_rows
from helpline.data.query import MAX_SEARCH_LENGTH, ListQuery, TextMatch, build_select
from helpline.data.text_index import (
    gram_fields,
    indexed_fields,
    is_document,
    is_ready,
    ranked_ids,
    scope_node,
    synonym_groups,
)
from helpline.data.text_questions import question_items
from helpline.data.text_tokens import AllOf, highlight, query_node, runs, snippet, words_to_mark
from helpline.security.actor import Actor
from helpline.security.audit import audit
from helpline.security.masking import apply_masks

from .doc_search import search_documents

if TYPE_CHECKING:
    from .platform import Platform

MAX_HITS = 200
MAX_RANKED = 5000
"""Matches in the actor's scope that are ranked (the first ones the index gives, when a word is that common)."""
RANK_DEPTH = 100
"""A search ranks its matches in the index (narrowed by the scope's terms) and keeps the best this many (at
least twice the hits asked for) that are in the actor's scope; when fewer are, it ranks within the scope."""
RANK_FIRST = 200
"""A search of records that are not documents scores the first this many index matches (by id; PostgreSQL: in
the index table's order, which a rebuild writes by id): a part of an address held by a whole county's customers
(8,300 at a million) differs only in length, and scoring each match reads its index entry (SQLite bm25 20–40 µs
with the query's terms, PostgreSQL a heap page each; 1,000 were 20 / 38 ms)."""

Pieces = list[tuple[str, bool]]


class SearchInputError(ValueError):
    """The search text cannot be searched (too long); the message names the limit."""


@dataclass
class Hit:
    id: int
    score: float
    """Higher is better (bm25 or ts_rank; 0 when the index is being rebuilt and LIKE answered)."""
    title: str
    values: dict[str, Any]
    """The record as the actor may see it (masked)."""
    snippets: dict[str, Pieces] = field(default_factory=dict)
    """Per field that holds a searched word: its text around the first match, cut into (text, matched)."""


def marked_html(pieces: Pieces, tag: str = "mark") -> str:
    """Pieces as HTML with every text escaped and matched pieces in ``<mark>`` (for a UI that wants HTML)."""
    return "".join(f"<{tag}>{html.escape(t)}</{tag}>" if m else html.escape(t) for t, m in pieces)


class SearchService:
    def __init__(self, platform: Platform):
        self.platform = platform

    def fields(self, actor: Actor, entity_name: str) -> list[str]:
        """The indexed fields ``actor`` may search (masked ones left out)."""
        entity = self.platform.metadata.entities[entity_name]
        hidden = self.platform.records.hidden(actor, entity_name)
        return [f for f in indexed_fields(entity) if f not in hidden]

    def search(self, actor: Actor, entity_name: str, text: str, *, limit: int = 20,
               narrow: Cond | None = None) -> list[Hit]:
        """The best ``limit`` records of ``entity_name`` for ``text`` that ``actor`` may see, best first.
        ``narrow`` narrows the records further (a service's own row rule: a user's notes, their bulletins)."""
        records = self.platform.records
        entity = records._entity(entity_name)
        actor.require(entity_name, "read")
        if len(text) > MAX_SEARCH_LENGTH:
            raise SearchInputError(f"the search text is {len(text)} characters long; a search takes at most "
                                   f"{MAX_SEARCH_LENGTH} characters")
        limit = max(1, min(limit, MAX_HITS))
        text = text.replace("\x00", "")  # PostgreSQL text cannot hold a NUL (the audit entry keeps the text)
        fields = self.fields(actor, entity_name)
        synonyms = synonym_groups(self.platform.metadata)
        node = None if is_document(entity) else query_node(text, synonyms)  # a question is cut into items below
        if not fields or (node is None and not runs(text)):
            return []
        models = self.platform.models
        scope = records.scope(actor, entity_name)
        if narrow is not None:
            scope = all_of(scope, narrow)
        masks = actor.masks(entity_name)
        with session():
            if is_ready(entity) and is_document(entity):  # a question: ranked by how much of it a record holds
                scored = search_documents(entity, question_items(text, synonyms), fields, limit,
                                          lambda found: self._in_scope(entity_name, scope, found))
            elif is_ready(entity) and node is not None:
                model = models[entity_name]
                narrowed = scope_node(entity, scope)  # the index ranks only what the scope's terms allow
                ranked = AllOf((node, narrowed)) if narrowed else node
                depth = max(RANK_DEPTH, 2 * limit)
                grams = gram_fields(entity)
                first = None if is_document(entity) else RANK_FIRST
                top = ranked_ids(entity_name, ranked, fields, None, depth, grams, first)  # the best, then the scope
                scored = self._in_scope(entity_name, scope, top)[:limit]
                cut = depth if first is None else min(depth, first)  # top was cut there: more match
                if len(scored) < limit and len(top) == cut:  # the best are mostly out of scope: rank within
                    match = Cmp("id", "text_match", TextMatch(text, tuple(fields), scope))
                    within, _ = build_select(models, ListQuery(entity=entity_name, scope=scope, where=match))
                    within = within.select(model.id).order_by(*([] if first is None else [model.id]))
                    ids = [int(r[0]) for r in within.limit(MAX_RANKED if first is None else first).tuples()]
                    scored = ranked_ids(entity_name, ranked, fields, ids, limit, grams)
            else:  # the index is being rebuilt: the list's LIKE search answers, unranked
                query, _ = build_select(models, ListQuery(entity=entity_name, scope=scope, search=text,
                                                          hidden=frozenset(masks)))
                scored = [(int(r.id), 0.0) for r in query.order_by(models[entity_name].id).limit(limit)]
            model = models[entity_name]
            rows = {r["id"]: r for r in select_rows(model.select().where(model.id.in_([i for i, _ in scored])))}
            if entity.audit_reads:
                audit(actor, "search", entity=entity_name, detail={"search": text, "rows": len(scored)})
        words = words_to_mark(text, synonyms)
        hits: list[Hit] = []
        for record_id, score in scored:
            row = rows.get(record_id)
            if row is None:
                continue
            shown = apply_masks(dict(row), masks)
            pieces = {f: snippet(highlight(str(shown[f]), words)) for f in fields if shown.get(f)}
            title = str(shown.get(entity.title_field or "id") or record_id)
            hits.append(Hit(record_id, score, title, shown, {f: p for f, p in pieces.items() if any(m for _, m in p)}))
        return hits

    def _in_scope(self, entity_name: str, scope: Cond | None, scored: list[tuple[int, float]]
                  ) -> list[tuple[int, float]]:
        """``scored`` without the records outside ``scope`` (the row scope in SQL, as lists apply it)."""
        if not scored:
            return []
        models = self.platform.models
        model = models[entity_name]
        query, _ = build_select(models, ListQuery(entity=entity_name, scope=scope,
                                                  where=Cmp("id", "in", [i for i, _ in scored])))
        query = query.select(model.id).order_by()
        if not is_postgres():  # by rowid: SQLite would rather walk a scope index (a city's 70,000 customers)
            query = query.from_(SQL(f'"{model._meta.table_name}" AS "t1" NOT INDEXED'))
        allowed = {int(r[0]) for r in query.tuples()}
        return [(i, s) for i, s in scored if i in allowed]

