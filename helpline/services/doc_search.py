"""Documents searched by a question: a bm25F ranking over the text index (docs/search.md, *Documents*).

Knowledge articles, bulletins and notes (:func:`helpline.data.text_index.is_document`) are searched by questions
("光猫上有个红灯一直在闪，上不了网"). No record holds every word of a question as asked, so a record is found by
*any* item of it (:func:`helpline.data.text_questions.question_items`: its words and synonym groups, its character
pairs, lone characters weighed less) and ranked by bm25F over its fields:

    score = Σ over the items it holds: weight × idf × tf × (K1 + 1) / (tf + K1)
    tf    = Σ over the fields: field weight × factor of the alternative matched / (1 - b + b × length / typical)

``idf = ln(1 + (N - n + 0.5) / (n + 0.5))`` with ``n`` the records holding the item (counted up to
:data:`COUNTED`: a commoner item weighs as much as one held by :data:`COUNTED` records); the field weights put the
title above the other short fields (keywords) and those above the long text (:func:`field_weight`); the index
holds a term once per field (no frequencies), so ``tf`` is the weighted count of the fields holding it. Both
databases compute the same score from the same counts and terms, so the order is the same on SQLite and
PostgreSQL (but where PostgreSQL's statistics estimate an item's count at the cap, :mod:`text_docs`).

It is bounded in two steps: the records holding the rarer items (held by at most :data:`RARE` records, the
rarest first, at most :data:`POSTINGS_BUDGET` ids read) are scored from their ids alone (head fields or long
text); the best :data:`SHORTLIST` are scored by every item, common ones included, from their index terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from helpline.data.database import is_postgres
from helpline.data.text_docs import frequencies, postings, record_terms
from helpline.data.text_questions import Item
from helpline.data.text_tokens import AllOf, AnyOf, Exact, Node, Term
from helpline.metadata.kinds import Entity

RARE = 200
"""An item held by at most this many records finds records; a commoner one only weighs in their ranking."""
COUNTED = 500
"""Records holding an item are counted up to this many for its idf (at least :data:`RARE`): a word held by 500
records or more weighs ln(1 + N / 501), about half a rare one's at 100,000 records."""
POSTINGS_BUDGET = 1000
"""Ids read from the rarer items' postings at most (the rarest items first; the others only weigh)."""
SHORTLIST = 40
"""Records of the first step scored by every item."""
SHORTLIST_SHARE = 0.1
"""A record whose first-step score (from the rarer items it holds) is under this share of the best one's is not
scored further: with lone characters finding, many records hold one character of the question and nothing else,
and reading each one's index terms is most of a search's work."""
COMMON_SAMPLE = 500
"""When every item of a question is common, at most this many records holding all of its items (else all its
words, else its first word; in the title and keywords first) are its first step."""
TITLE_WEIGHT = 3.0
HEAD_WEIGHT = 2.0
"""A short field other than the title (an article's keywords)."""
BODY_WEIGHT = 1.0
K1 = 2.0
"""bm25's saturation: an item held in several fields (an article about it holds it in its title and its text)
counts more than in one, less than the sum."""
LENGTH_B = 0.25
"""How much a field's length lowers its weight (bm25's ``b``, mildly): a word in a short title says more than
in a long one. A field's length is its number of index terms over :data:`TYPICAL_TERMS` for its kind."""
TYPICAL_TERMS = {TITLE_WEIGHT: 20, HEAD_WEIGHT: 20, BODY_WEIGHT: 200}


def field_weight(entity: Entity, name: str) -> float:
    if name == entity.title_field:
        return TITLE_WEIGHT
    f = entity.field(name)
    return BODY_WEIGHT if f is not None and f.type == "long_text" else HEAD_WEIGHT


def holds(node: Node, field: str, terms: frozenset[str]) -> bool:
    """Whether a record's index ``terms`` hold ``node`` in ``field``."""
    if isinstance(node, Term):
        term = f"{field}_{node.text}"
        return term in terms or (node.prefix and any(t.startswith(term) for t in terms))
    if isinstance(node, Exact):
        return node.text in terms
    if isinstance(node, AllOf):
        return all(holds(n, field, terms) for n in node.items)
    if isinstance(node, AnyOf):
        return any(holds(n, field, terms) for n in node.items)
    return False


def record_weights(weights: dict[str, float], terms: frozenset[str]) -> dict[str, float]:
    """The field weights for one record, each divided by bm25's length normalisation of the field:
    ``1 - b + b × length / typical length`` (:data:`LENGTH_B`, :data:`TYPICAL_TERMS`)."""
    heads: dict[str, int] = {}
    for t in terms:  # one pass: a term is ``<field>_<text>``
        head = t.partition("_")[0]
        heads[head] = heads.get(head, 0) + 1
    sizes = {f: heads.get(f, 0) if "_" not in f else sum(1 for t in terms if t.startswith(f"{f}_")) for f in weights}
    return {f: w / (1 - LENGTH_B + LENGTH_B * sizes[f] / TYPICAL_TERMS[w]) for f, w in weights.items()}


def item_score(item: Item, weights: dict[str, float], terms: frozenset[str]) -> float:
    """bm25F's saturated frequency of an item in a record: the fields' weights × the factor of the best
    alternative each holds, summed (a pseudo-frequency ``tf``), then ``tf × (K1 + 1) / (tf + K1)`` (0 when it
    holds none)."""
    tf = 0.0
    for field, weight in weights.items():
        found = max((factor for node, factor in item.alternatives if holds(node, field, terms)), default=0.0)
        tf += weight * found
    return tf * (K1 + 1) / (tf + K1) if tf else 0.0


def idf_of(records: int, n: int) -> float:
    """bm25's idf of an item held by ``n`` of ``records`` records."""
    return math.log(1 + max(0.0, records - n + 0.5) / (n + 0.5))


def _top(scores: dict[int, float], n: int) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


Scored = list[tuple[int, float]]


def search_documents(entity: Entity, items: list[Item], fields: list[str], limit: int,
                     in_scope: Callable[[Scored], Scored]) -> Scored:
    """(id, score) of the best ``limit`` records of ``entity`` for a question's ``items`` searched in ``fields``
    that ``in_scope`` keeps (the actor's row scope), best first. The best of the whole index are checked first;
    when too few of them are in the scope (a user's own notes among everyone's), the first step's records are
    narrowed to the scope before the best are picked."""
    top = rank_documents(entity, items, fields, limit)
    scored = in_scope(top)[:limit]
    if len(scored) < limit and len(top) >= max(SHORTLIST, limit):
        scored = rank_documents(entity, items, fields, limit, in_scope)[:limit]
    return scored


def rank_documents(entity: Entity, items: list[Item], fields: list[str], limit: int,
                   within: Callable[[Scored], Scored] | None = None) -> Scored:
    """(id, score) of the best records of ``entity`` for a question's ``items`` searched in ``fields``, best
    first: at most :data:`SHORTLIST` (or ``limit`` when more), among the records holding one of its rarer items
    (only those ``within`` keeps, when given)."""
    name = entity.name
    if not items or not fields:
        return []
    weights = {f: field_weight(entity, f) for f in fields}
    heads = [f for f in fields if weights[f] > BODY_WEIGHT]
    both = bool(heads) and is_postgres()  # the head counts too: one round trip (the statistics answer most)
    records, counts = frequencies(name, [(i.node, fields) for i in items]
                                  + ([(i.node, heads) for i in items] if both else []), COUNTED)
    heads_first, counts = counts[len(items):], counts[:len(items)]
    if records == 0:
        return []
    present = [k for k, n in enumerate(counts) if n > 0]
    if not present:
        return []
    idf = [idf_of(records, n) for n in counts]
    common = [k for k in present if counts[k] >= RARE]
    if both:
        head_counts = {k: heads_first[k] for k in common}
    else:
        head_counts = dict(zip(common, frequencies(name, [(items[k].node, heads) for k in common], COUNTED)[1]
                               if heads and common else [0] * len(common), strict=True))
    # the finders: (item, fields, count) held by at most RARE records there, words and pairs before lone
    # characters
    finders = [(k, fields, counts[k]) for k in present if counts[k] < RARE]
    finders += [(k, heads, head_counts[k]) for k in common if 0 < head_counts[k] < RARE]
    words = [k for k in present if items[k].weight >= 1]
    finding = [k for k in present if items[k].finds]
    if any(i.finds for i in items) and not finding:  # a record holding none of a question's words and pairs is
        return []  # no answer
    finders = [f for f in finders if items[f[0]].finds] or finders  # items that only weigh, when nothing finds
    finders.sort(key=lambda f: f[2])
    budget, chosen = POSTINGS_BUDGET, list[tuple[int, list[str], int]]()
    for finder in finders:
        if finder[2] > budget and chosen:
            break
        budget -= finder[2]
        chosen.append(finder)
    first: dict[int, float] = {}
    for (k, group, _), ids in zip(chosen, postings(name, [(items[k].node, g) for k, g, _ in chosen]), strict=True):
        weight = HEAD_WEIGHT if group is heads else BODY_WEIGHT
        for record_id in ids:
            first[record_id] = first.get(record_id, 0.0) + items[k].weight * idf[k] * weight
    found_by_rare = bool(first)
    if not first:  # every item is common: records holding all (else all words, else the first word), those
        # holding them in the title and keywords first
        for wanted in dict.fromkeys((tuple(present), tuple(words), tuple((words or present)[:1]))):
            every = AllOf(tuple(items[k].node for k in wanted)) if len(wanted) > 1 else items[wanted[0]].node \
                if wanted else None
            for group, score in ((heads, 1.0), (fields, 0.0)):
                if every is not None and group and len(first) < SHORTLIST:
                    for record_id in postings(name, [(every, group)], limit=COMMON_SAMPLE)[0]:
                        first.setdefault(record_id, score)
    if within is not None:
        first = dict(within(list(first.items())))
    depth = max(SHORTLIST, limit)
    floor = SHORTLIST_SHARE * max(first.values(), default=0.0) if found_by_rare else 0.0
    shortlist = [i for i, score in _top(first, depth) if score >= floor]  # the rest could not catch up
    scores = {}
    for record_id, held in record_terms(name, shortlist).items():
        own = record_weights(weights, held)
        parts = {k: item_score(items[k], own, held) for k in present}
        if not finding or any(parts[k] for k in finding):
            scores[record_id] = sum(items[k].weight * idf[k] * parts[k] for k in present)
    return [(i, round(s, 6)) for i, s in _top(scores, depth) if s > 0]
