"""Text search tokens: how a field value and a user's search text become index terms (see docs/search.md).

Chinese has no spaces, so both sides are segmented the same way:

* a run of Chinese characters gives every single character, every character pair (so a two-character name
  or any two adjacent characters match), the run itself when it has 3-4 characters (a name) and, in longer
  runs, the words ``jieba`` finds (search mode, 3 characters or more). A query's Chinese run is cut by
  ``jieba`` too: a word of 2 characters is one pair, a longer one matches whole or by all its pairs, and a
  lone character with its neighbour (a pair is far more selective than a character);
* a word with digits in a phone field gives every suffix (a phone number matches by any part: the query asks
  for a suffix starting with the part, a prefix query); elsewhere (customer and card numbers) it gives itself
  and its digits (``t0001``, ``0001``) and matches from their start;
* each number (a digit run; in a phone field each suffix) also gives its first one and two digits marked as
  a start, ``1_`` and ``12_`` of ``127``: a query's number of 1-2 digits at its end (an address part cut
  inside a house number, a number still being typed) asks for that one term instead of a prefix query that
  would merge the lists of every number starting with those digits;
* any other word gives itself, lower-cased.

In a *gram field* (a single-line field of records that are not documents: a customer's name and address) a
Chinese run gives its characters, pairs and every three adjacent characters (trigrams) instead of jieba's
words, and a run followed by a number gives its last 2 and 3 characters joined to the number's first 1-2
digits (``山路1_``, ``中山路12_``). A query's Chinese run is matched there as adjacent text: jieba's words,
each lone character joined to its neighbour, and each such part of 3 characters or more by its trigrams
(``麓区中山`` is ``麓区中`` and ``区中山``, two short lists, where its three pairs are lists of 100,000 records
at a million customers); a run ending in a 1-2 digit number at the end of the text by the joined term.
:class:`Split` holds both forms of a query word: the index renders each for its own fields.

Each term is stored as ``<field>_<term>`` so a search looks only in the fields the actor may see (a masked
field is never matched). The user's text never reaches the database's query grammar: it is cut into the same
terms (everything else — quotes, ``*``, ``NEAR(``, ``OR``, backslashes — is dropped) and the query tree
below is rendered from them. ``jieba`` loads its dictionary lazily, once per process (about a second).
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
RUNS = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+")
DIGITS = re.compile(r"[0-9]+")
MIN_DIGITS = 1
"""Digit suffixes of at least this length are indexed (every suffix: a query's digits match any part)."""
SHORT_DIGITS = 2
"""A query's number of at most this many digits at its end is matched by its start term (``12_``), which the
index holds for every number (:func:`starts`): one posting list, not a prefix query."""
MIN_PREFIX_LETTERS = 3
"""A latin word of at least this length in a query also matches longer words (``set`` finds ``settop``)."""
MAX_QUERY_TERMS = 24
"""Words of a query kept (the rest are ignored: a pasted page cannot build a huge query)."""

_lock = threading.Lock()
_jieba: Any = None
LOAD_SECONDS: float | None = None
"""How long loading the jieba dictionary took in this process (None before the first use)."""


def _segmenter() -> Any:
    global _jieba, LOAD_SECONDS
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                started = time.perf_counter()
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                LOAD_SECONDS = time.perf_counter() - started
                _jieba = tokenizer
    return _jieba


def normalise(text: str) -> str:
    """Full-width to half-width (``１３８`` → ``138``), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def runs(text: str) -> list[str]:
    return RUNS.findall(text.lower() if text.isascii() else normalise(text))


def _is_cjk(run: str) -> bool:
    return "\u3400" <= run[0] <= "\u9fff" or "\uf900" <= run[0] <= "\ufaff"


@lru_cache(maxsize=100_000)
def _words(run: str) -> tuple[str, ...]:
    """The words of 3 characters or more in a Chinese run: the run itself when short (a name), else what jieba
    finds in search mode (cached: names and street names repeat)."""
    if len(run) <= 4:
        return (run,)
    return tuple(w for w in _segmenter().cut_for_search(run) if len(w) >= 3 and w.isalnum())


def _has_digit(run: str) -> bool:
    return any(ch.isdigit() for ch in run)


def starts(number: str) -> list[str]:
    """The start terms of a digit run: its first 1..:data:`SHORT_DIGITS` digits marked with ``_`` (a term of
    the tokenizer never holds ``_`` otherwise, so ``12_`` is never a number's own term)."""
    return [f"{number[:k]}_" for k in range(1, min(SHORT_DIGITS, len(number)) + 1)]


TERMS_CACHE = 2048
"""Values with other than ASCII characters whose terms are remembered (:func:`_text_terms`, :func:`_prefixed`):
names, addresses and region names repeat across records; numbers and codes (ASCII) are cut faster than looked
up. Each cache holds about 1 KB a value (2 MB: the 1,000,000-row import's 300 MB budget is nearly spent)."""


def value_terms(value: Any, *, any_part: bool = False, grams: bool = False) -> set[str]:
    """The index terms of one field value; with ``any_part`` (phone numbers) a word with digits gives all its
    suffixes (it matches by any part), else only itself (it matches from its start: customer and card
    numbers, house numbers). With ``grams`` (a gram field, see the module's text) a Chinese run gives its
    trigrams instead of jieba's words, and its joins with a number that follows it."""
    if value is None or value == "":
        return set()
    if isinstance(value, (list, tuple)):
        return set().union(*(value_terms(v, any_part=any_part, grams=grams) for v in value)) if value else set()
    text = value if type(value) is str else str(value)
    if text.isascii():  # no Chinese run (so no gram or join) and no normalising: the runs are [a-z0-9]+
        low = text.lower()
        return _number_terms(low, any_part) if low.isdigit() else _ascii_terms(low, any_part)
    return set(_text_terms(text, any_part, grams))


def field_terms(field: str, value: Any, *, any_part: bool = False, grams: bool = False) -> list[str]:
    """:func:`value_terms` of a value of ``field``, each as the index stores it: ``<field>_<term>``. A value
    with other than ASCII characters is remembered with its prefixed terms (:data:`TERMS_CACHE` of them)."""
    if value is None or value == "":
        return []
    prefix = field + "_"
    if type(value) is str and not value.isascii():
        return list(_prefixed(prefix, value, any_part, grams))
    return list(map(prefix.__add__, value_terms(value, any_part=any_part, grams=grams)))


@lru_cache(maxsize=TERMS_CACHE)
def _prefixed(prefix: str, text: str, any_part: bool, grams: bool) -> tuple[str, ...]:
    return tuple(map(prefix.__add__, _runs_terms(normalise(text), any_part, grams)))


_DIGIT = "0123456789"
_START1 = {d: f"{d}_" for d in _DIGIT}
_START2 = {(d, e): f"{d}{e}_" for d in _DIGIT for e in _DIGIT}
"""The start terms of every digit and digit pair (made once: a phone number's 20 are looked up, not built)."""
_SUFFIXES = [[slice(i, None) for i in range(n - MIN_DIGITS + 1)] for n in range(33)]


def _number_terms(run: str, any_part: bool) -> set[str]:
    """The terms of an ASCII digit run: in a phone field every suffix and the starts of each (every digit and
    digit pair followed by ``_``), else the run and its starts."""
    if any_part:
        n = len(run)
        terms = set(map(run.__getitem__, _SUFFIXES[n])) if n < len(_SUFFIXES) else \
            {run[i:] for i in range(n - MIN_DIGITS + 1)}
        terms.update(map(_START1.__getitem__, run))
        terms.update(map(_START2.__getitem__, pairwise(run)))
        return terms
    return {run, _START1[run[0]], _START2[run[0], run[1]]} if len(run) > 1 else {run, _START1[run]}


def _ascii_terms(low: str, any_part: bool) -> set[str]:
    """The terms of a lower-cased ASCII value (:func:`_runs_terms` without Chinese)."""
    terms: set[str] = set()
    for run in RUNS.findall(low):
        if run.isdigit():
            terms.update(_number_terms(run, any_part))
        elif run.isalpha():
            terms.add(run)
        elif any_part:  # letters and digits in a phone field: every suffix, a digit's start marked
            _add_suffixes(terms, run)
        else:  # the word, and its number part (``t0001`` is found by ``0001``)
            terms.add(run)
            for number in DIGITS.findall(run):
                terms.update(_number_terms(number, False))
    return terms


def _add_suffixes(terms: set[str], run: str) -> None:
    """Letters and digits in a phone field: every suffix of ``run``, a digit's start marked (``5_``, ``55_``)."""
    for i in range(len(run) - MIN_DIGITS + 1):
        suffix = run[i:]
        terms.add(suffix)
        if "0" <= suffix[0] <= "9":
            terms.add(suffix[0] + "_")
            if len(suffix) > 1 and "0" <= suffix[1] <= "9":
                terms.add(suffix[:2] + "_")


@lru_cache(maxsize=TERMS_CACHE)
def _text_terms(text: str, any_part: bool, grams: bool) -> frozenset[str]:
    """The terms of a value with other than ASCII characters (remembered: they repeat)."""
    return frozenset(_runs_terms(normalise(text), any_part, grams))


def _runs_terms(text: str, any_part: bool, grams: bool) -> set[str]:
    """The terms of a normalised value, run by run (see :func:`value_terms`)."""
    terms: set[str] = set()
    before, end = "", -1  # the Chinese run ending where this run starts (grams: joined to its number)
    for found in RUNS.finditer(text):
        run = found.group()
        first = run[0]
        if "\u3400" <= first <= "\u9fff" or "\uf900" <= first <= "\ufaff":  # a Chinese run (:func:`_is_cjk`)
            if grams:
                terms.update(_gram_terms(run))
                before, end = run, found.end()
            else:
                terms.update(_cjk_terms(run))
            continue
        if before and end == found.start() and "0" <= first <= "9":
            terms.update(_joins(before[-3:], DIGITS.match(run).group()[:SHORT_DIGITS]))  # type: ignore[union-attr]
        before = ""
        if run.isdigit() and run.isascii():  # a number: its terms as in an ASCII value
            terms.update(_number_terms(run, any_part))
        elif any_part and _has_digit(run):
            _add_suffixes(terms, run)
        else:  # the word, and its number part (``t0001`` is found by ``0001``)
            terms.add(run)
            if _has_digit(run):
                for number in DIGITS.findall(run):
                    terms.add(number)
                    terms.update(starts(number))
    return terms


@lru_cache(maxsize=4096)
def _joins(tail: str, start: str) -> tuple[str, ...]:
    """:func:`joins` of a run ending in ``tail`` (its last 3 characters) and a number starting ``start`` (its
    first 1-2 digits): the same terms (remembered: street names and house numbers repeat)."""
    return tuple(joins(tail, start))


@lru_cache(maxsize=200_000)
def _gram_terms(run: str) -> frozenset[str]:
    """A Chinese run's terms in a gram field: characters, pairs, trigrams (cached like :func:`_cjk_terms`)."""
    terms = set(run)
    terms.update(run[i:i + 2] for i in range(len(run) - 1))
    terms.update(run[i:i + 3] for i in range(len(run) - 2))
    return frozenset(terms)


def joins(run: str, number: str) -> list[str]:
    """The terms joining a Chinese run's last 2 and 3 characters to the start (1-2 digits) of the number that
    follows it (``中山路`` + ``127``: ``山路1_``, ``山路12_``, ``中山路1_``, ``中山路12_``)."""
    return [f"{run[-k:]}{number[:j]}_" for k in (2, 3) if len(run) >= k
            for j in range(1, min(SHORT_DIGITS, len(number)) + 1)]


@lru_cache(maxsize=200_000)
def _cjk_terms(run: str) -> frozenset[str]:
    """A Chinese run's terms (cached: names, streets and counties repeat across records)."""
    terms = set(run)
    terms.update(run[i:i + 2] for i in range(len(run) - 1))
    if len(run) >= 3:
        terms.update(_words(run))
    return frozenset(terms)


# -- the query tree ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Exact:
    """A term matched as written, in no particular field: a scope value (``city__changsha``)."""

    text: str


@dataclass(frozen=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Split:
    """One query word in two forms: ``grams`` for the gram fields, ``plain`` for the others (the index renders
    each over its own fields, either form alone matching)."""

    grams: Node
    plain: Node


Node = Term | Exact | AllOf | AnyOf | Split


def _all(items: Iterable[Node]) -> Node | None:
    kept = tuple(dict.fromkeys(items))
    return None if not kept else kept[0] if len(kept) == 1 else AllOf(kept)


def _any(items: Iterable[Node]) -> Node | None:
    kept = tuple(dict.fromkeys(items))
    return None if not kept else kept[0] if len(kept) == 1 else AnyOf(kept)


def _run_node(run: str, last: bool = False) -> Node | None:
    if _has_digit(run):  # 1-2 digits inside the text (a house number) match whole: as a prefix they would
        # merge thousands of numbers; at its end (a part cut there, or still being typed) they are a start:
        # the start term the index holds (``12_``, one list) for 1-2 digits, a prefix query for longer ones
        if last and DIGITS.fullmatch(run) and len(run) <= SHORT_DIGITS:
            return Term(f"{run}_")
        return Term(run, prefix=last or len(run) >= MIN_PREFIX_LETTERS)
    if not _is_cjk(run):
        return Term(run, prefix=len(run) >= MIN_PREFIX_LETTERS)
    if len(run) == 1:
        return Term(run)
    words: list[Node] = []
    at = 0
    for word in _segmenter().cut(run, HMM=False):
        if len(word) == 1:  # a lone character is matched with its neighbour: a pair is far more selective
            words.append(Term(run[at:at + 2] if at + 1 < len(run) else run[at - 1:at + 1]))
        elif len(word) == 2:
            words.append(Term(word))
        else:  # the whole word (indexed for names and jieba's words) or all its pairs
            pairs = _all(Term(word[i:i + 2]) for i in range(len(word) - 1))
            words.append(_any([Term(word), *([pairs] if pairs else [])]) or Term(word))
        at += len(word)
    return _all(words)


def _segments(run: str) -> list[str]:
    """A query's Chinese run as the parts that must be adjacent text: jieba's words, each lone character
    joined to the word after it (at the end: before it), as a lone character pairs with its neighbour."""
    parts: list[str] = []
    lone = ""
    for word in _segmenter().cut(run, HMM=False):
        if len(word) == 1:
            lone += word
        else:
            parts.append(lone + word)
            lone = ""
    if lone:
        if parts:
            parts[-1] += lone
        else:
            parts.append(lone)
    return parts


def _gram_node(run: str) -> Node | None:
    """A query's Chinese run in a gram field: each part (:func:`_segments`) of 2-3 characters is one term, a
    longer one all its trigrams."""
    return _all(Term(p) if len(p) <= 3 else _all(Term(p[i:i + 3]) for i in range(len(p) - 2)) or Term(p)
                for p in _segments(run))


def _split(run: str, plain: Node | None, number: str | None = None) -> Node | None:
    """A Chinese run of 2+ characters (and the 1-2 digit number right after it at the end of the text) in both
    forms: trigrams and the joined term in gram fields, ``plain`` (jieba's words, pairs, ``12_``) in others."""
    if plain is None or len(run) < 2:
        return plain
    if number is None:
        grams = _gram_node(run)
    else:  # the joined term holds the run's last 2-3 characters and the number: the rest by trigrams
        joined = Term(joins(run, number)[-1])
        rest = _gram_node(run[:-1]) if len(run) >= 4 else None
        grams = _all([rest, joined] if rest is not None else [joined])
    return Split(grams, plain) if grams is not None and grams != plain else plain


def _words_node(text: str, *, at_end: bool) -> list[Node]:
    """The nodes of the runs of ``text`` (normalised), at most :data:`MAX_QUERY_TERMS` runs; with ``at_end``
    the last run is the end of the user's text (a number there is a start, or joined to the run before)."""
    found = list(RUNS.finditer(text))[:MAX_QUERY_TERMS]
    nodes: list[Node] = []
    i = 0
    while i < len(found):
        run = found[i].group()
        last = at_end and i == len(found) - 1
        if (at_end and i == len(found) - 2 and _is_cjk(run) and found[i + 1].start() == found[i].end()
                and DIGITS.fullmatch(number := found[i + 1].group()) and len(number) <= SHORT_DIGITS):
            plain = _all(n for n in (_run_node(run), _run_node(number, True)) if n is not None)
            node = _split(run, plain, number)
            i += 2
        else:
            node = _run_node(run, last)
            node = _split(run, node) if _is_cjk(run) else node
            i += 1
        if node is not None:
            nodes.append(node)
    return nodes


def phrase_node(text: str) -> Node | None:
    """All words of ``text`` (None when it has none)."""
    return _all(_words_node(normalise(text), at_end=False))


def _synonym_groups(text: str, synonyms: list[list[str]] | None) -> tuple[list[Node], str]:
    """The synonym groups ``text`` names (each as "any of its terms"), and the normalised text with their words
    taken out."""
    normal = normalise(text)
    groups: list[Node] = []
    for group in synonyms or []:
        hit = next((t for t in sorted(group, key=len, reverse=True) if t and normalise(t) in normal), None)
        if hit is None:
            continue
        normal = normal.replace(normalise(hit), " ")
        alternatives = _any(n for n in (phrase_node(t) for t in group) if n is not None)
        if alternatives is not None:
            groups.append(alternatives)
    return groups, normal


def query_node(text: str, synonyms: list[list[str]] | None = None) -> Node | None:
    """The tree a user's search text means: every word must match; a word or phrase of a synonym group
    matches any of the group's terms. None when the text has no word at all."""
    groups, normal = _synonym_groups(text, synonyms)
    return _all([*groups, *_words_node(normal, at_end=True)])


def terms_of(node: Node | None) -> Iterator[Term]:
    if node is None:
        return
    if isinstance(node, Term):
        yield node
    elif isinstance(node, (AllOf, AnyOf)):
        for item in node.items:
            yield from terms_of(item)
    elif isinstance(node, Split):
        yield from terms_of(node.grams)
        yield from terms_of(node.plain)


def words_to_mark(text: str, synonyms: list[list[str]] | None = None) -> list[str]:
    """The words of a search (and their synonyms) to highlight in the values found, longest first."""
    words = set(runs(text))
    normal = normalise(text)
    for group in synonyms or []:
        if any(t and normalise(t) in normal for t in group):
            words.update(normalise(t) for t in group if t)
    return sorted((w for w in words if w.strip()), key=len, reverse=True)


def highlight(value: str, words: list[str]) -> list[tuple[str, bool]]:
    """``value`` cut into (text, matched) pieces: the UI shows matched pieces marked, as plain text."""
    if not value:
        return []
    folded = normalise(value)
    if len(folded) != len(value):  # NFKC changed the length (a ligature): mark nothing rather than misplace
        return [(value, False)]
    marks = [False] * len(value)
    for word in words:
        start = folded.find(word)
        while start >= 0 and word:
            for i in range(start, start + len(word)):
                marks[i] = True
            start = folded.find(word, start + len(word))
    pieces: list[tuple[str, bool]] = []
    for ch, mark in zip(value, marks, strict=True):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + ch, mark)
        else:
            pieces.append((ch, mark))
    return pieces


def snippet(pieces: list[tuple[str, bool]], width: int = 80) -> list[tuple[str, bool]]:
    """At most about ``width`` characters around the first match (``…`` where cut)."""
    total = sum(len(t) for t, _ in pieces)
    if total <= width:
        return pieces
    first = 0
    for text, mark in pieces:
        if mark:
            break
        first += len(text)
    start = max(0, min(first - width // 4, total - width))
    out: list[tuple[str, bool]] = [("…", False)] if start else []
    pos = 0
    for text, mark in pieces:
        lo, hi = max(start, pos), min(start + width, pos + len(text))
        if lo < hi:
            out.append((text[lo - pos:hi - pos], mark))
        pos += len(text)
    if start + width < total:
        out.append(("…", False))
    return out
