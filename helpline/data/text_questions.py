"""A question asked of documents, cut into the items a coverage ranking weighs (docs/search.md, *Documents*).

Knowledge articles, bulletins and notes are searched by questions as callers ask them ("盒子一直卡在升级界面不动",
"交的网费要开票报销"), which rarely use the words of the article that answers them. A question is cut here into
*items*, each matched by any of its alternatives:

* the question is segmented by jieba with the centre's own words (``search_words.yaml``: 机顶盒, 光猫, 回看 ...)
  and the synonym dictionary's terms as words, so a domain word is one word and not its characters;
* a run of words that is a term of a synonym group (``盒子``, ``没信号``, ``多久``) is one item matched by every term
  of the group (``机顶盒``, ``无信号``, ``时限`` ...);
* question and function words (:func:`stop_words`, the ``stop_words`` list of ``search_words.yaml``: 怎么, 为什么,
  吗, 请问, 我 ...) are left out;
* any other word of 2+ characters is an item: the word, or for 3+ characters all its pairs (the index holds every
  pair), or — weighed less — the shorter words jieba finds in it (``足球比赛``: ``足球``, ``比赛``); it weighs what it
  says in general Chinese (:func:`text_weights.general_weight`, jieba's idf table: 问题, 起来 0.3, 摄像头 1; the
  centre's own words 1);
* a lone character that is no stop word (``换``, ``赔``, ``烫``) is an item weighed :data:`CHAR_WEIGHT` × its general
  weight (赔 1, 看 0.3): in spoken questions the verb that says what happened is often one character (弄丢了怎么赔),
  so the records holding a rarer one are candidates like those holding a word;
* the characters of a two-character word that is not one of the centre's words are items weighed
  :data:`INNER_FACTOR` of a lone character's (骂人: 骂, 人 — a record saying 辱骂 holds 骂): character unigrams with
  bigrams, the classic combination of Chinese retrieval, after the words and lone characters;
* two lone characters of a clause that make a term of the dictionary or one of the centre's words, in either
  order, are that word said apart (:func:`_separated`: 交有线电视的费, 交费; 钱已经交了, 交钱; 报了修, 报修): Chinese
  separates a verb from its object (离合词) and puts the object first;
* a token jieba glued to a stop word (``段时间`` of ``这段时间``, ``加多少``, ``不能不``) is cut there first;
* the question's overlapping character pairs (bigrams) within the runs between its stop words are items weighed
  :data:`PAIR_WEIGHT` × its general weight (``装一台电视``: ``装一``, ``一台``, ``台电``, ``电视``), except the pairs
  that are a word of it or inside one of 3+ characters (which matches by them already): a record that words the
  question differently (the segmenter cut it otherwise, ``一台|电视`` against ``多台电视``) is still found by its
  pairs — the robust baseline of Chinese retrieval, independent of the segmenter and its dictionary; a pair
  across two words is a phrase match without positions (the index holds every pair of adjacent characters).

The index itself is not cut with these words (it holds every character and pair, :mod:`text_tokens`), so the
word list and the dictionary can change without a reindex.
"""

from __future__ import annotations

import threading
from collections import ChainMap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .text_tokens import RUNS, AllOf, AnyOf, Node, Term, _is_cjk, _segmenter, normalise
from .text_weights import general_weight

WORDS_FILE = Path(__file__).with_name("search_words.yaml")
MAX_ITEMS = 10
"""Items of a question kept (words and groups first, then lone characters)."""
CHAR_WEIGHT = 0.5
"""The weight of a lone character's item (a word's is 1; as much as a pair of characters), × its general weight."""
INNER_FACTOR = 0.5
"""A character of a two-character word of the question (not one of the centre's words) is an item too, weighed
this much of a lone character's: a record wording it otherwise often shares one (骂人 / 辱骂, 扣钱 / 扣费)."""
PART_FACTOR = 0.6
"""A match by one of the shorter words inside a long word counts this much of the word's weight."""
SYNONYM_FACTOR = 0.9
"""A match by another term of a synonym group counts this much of the term asked (the asked wording first)."""
MAX_GROUP_TOKENS = 4
"""A synonym term is matched as a run of at most this many of the question's words."""
PAIR_WEIGHT = 0.5
"""The weight of a character pair of the question (a word's is 1)."""
MAX_PAIRS = 16
"""Character pairs of a question kept (the first ones that are neither a word of it nor inside one of its
words of 3+ characters, which matches by all its pairs already), after its :data:`MAX_ITEMS` words and
characters."""



@lru_cache(maxsize=1)
def _words_file() -> dict[str, tuple[str, ...]]:
    """The shipped lists of ``search_words.yaml``: ``words`` (the centre's words) and ``stop_words``."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(WORDS_FILE.read_text(encoding="utf-8")) or {}
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("words", "stop_words"):
        words = data.get(key) or []
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise ValueError(f"{WORDS_FILE}: {key!r} must be a list of words")
        lists[key] = tuple(dict.fromkeys(w.strip() for w in words))
    return lists


def stop_words() -> frozenset[str]:
    """Question and function words (``stop_words`` of ``search_words.yaml``): never an item (a synonym term that
    holds one, such as ``多久``, still is)."""
    return _stop_set()


@lru_cache(maxsize=1)
def _stop_set() -> frozenset[str]:
    return frozenset(_words_file()["stop_words"])


@dataclass(frozen=True)
class Item:
    """One thing a question asks for, matched by any of ``alternatives`` ((node, factor): a match by an
    alternative counts its factor of the item's weight). ``finds``: whether the records holding it are
    candidates (every item of a question finds; an item that only weighs is built with False)."""

    text: str
    weight: float
    alternatives: tuple[tuple[Node, float], ...]
    finds: bool = True
    pair: bool = False
    """A character pair of the question (not one of its words)."""

    @property
    def node(self) -> Node:
        """Any alternative (what the index is asked for the item's records)."""
        nodes = tuple(dict.fromkeys(n for n, _ in self.alternatives))
        return nodes[0] if len(nodes) == 1 else AnyOf(nodes)


@lru_cache(maxsize=1)
def domain_words() -> tuple[str, ...]:
    """The shipped word list (``words`` of ``search_words.yaml``)."""
    return _words_file()["words"]


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _question_segmenter(extra: frozenset[str]) -> Any:
    """jieba's tokenizer with the domain words and ``extra`` (the synonym terms) added as words, without changing
    the shared one the index is cut with: its own small dictionary over the shared one (a ChainMap)."""
    import jieba

    base = _segmenter()
    with _lock:
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = ChainMap({}, base.FREQ)
        tokenizer.total = base.total
        tokenizer.initialized = True
        for word in (*domain_words(), *sorted(extra)):
            if len(word) > 1 and all(_is_cjk(ch) for ch in word):
                tokenizer.add_word(word)
    return tokenizer


def _chinese(word: str) -> Node:
    """A Chinese word of 2+ characters: itself, or (3+ characters) all its pairs (the index holds every pair)."""
    if len(word) <= 2:
        return Term(word)
    return AnyOf((Term(word), AllOf(tuple(Term(word[i:i + 2]) for i in range(len(word) - 1)))))


def term_node(term: str) -> Node | None:
    """A synonym term (or any phrase) as a node: every word of it, a Chinese word whole or by its pairs."""
    parts: list[Node] = []
    for run in RUNS.findall(normalise(term)):
        if _is_cjk(run):
            parts.append(Term(run) if len(run) == 1 else _chinese(run))
        else:
            parts.append(Term(run))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _group_item(asked: str, group: list[str]) -> Item | None:
    alternatives: list[tuple[Node, float]] = []
    for term in sorted(group, key=lambda t: normalise(t) != asked):  # the term asked first
        node = term_node(term)
        if node is not None:
            alternatives.append((node, 1.0 if normalise(term) == asked else SYNONYM_FACTOR))
    return Item(asked, 1.0, tuple(dict.fromkeys(alternatives))) if alternatives else None


def _word_item(word: str, segmenter: Any, lookup: dict[str, list[str]]) -> Item:
    """A word of the question: itself, or the shorter words jieba finds in it — with their synonyms when they
    are terms of the dictionary (``退回去``: ``退回``, so ``退还``) — at :data:`PART_FACTOR`."""
    alternatives: list[tuple[Node, float]] = [(_chinese(word), 1.0)]
    if len(word) >= 3:
        parts = [w for w in segmenter.cut_for_search(word, HMM=False) if 2 <= len(w) < len(word)]
        for part in dict.fromkeys(parts):
            if part in stop_words():
                continue
            group = _group_item(part, lookup[part]) if part in lookup else None
            found = group.alternatives if group else ((_chinese(part), 1.0),)
            alternatives += [(node, factor * PART_FACTOR) for node, factor in found]
    weight = 1.0 if word in _domain_set() else general_weight(word)  # 问题, 起来: less than 摄像头
    return Item(word, weight, tuple(dict.fromkeys(alternatives)))


_LOOKUPS: dict[int, tuple[list[list[str]], dict[str, list[str]], frozenset[str]]] = {}


def _lookup(synonyms: list[list[str]]) -> tuple[dict[str, list[str]], frozenset[str]]:
    """Each term of the synonym groups (normalised, 2+ characters) to its group, and the Chinese ones (worked out
    once per dictionary: ``text_index.synonym_groups`` returns the same lists until the tree changes)."""
    cached = _LOOKUPS.get(id(synonyms))
    if cached is not None and cached[0] is synonyms:
        return cached[1], cached[2]
    lookup: dict[str, list[str]] = {}
    for group in synonyms:
        for term in group:
            key = normalise(term).strip()
            if len(key) > 1:
                lookup.setdefault(key, group)
    chinese = frozenset(k for k in lookup if all(_is_cjk(c) for c in k))
    if len(_LOOKUPS) > 8:
        _LOOKUPS.clear()
    _LOOKUPS[id(synonyms)] = (synonyms, lookup, chinese)
    return lookup, chinese


def _unglue(token: str, lookup: dict[str, list[str]]) -> list[str]:
    """``token`` cut where jieba glued a stop word of 2+ characters to its start or end (``段时间``: ``段``,
    ``时间``; ``加多少``: ``加``, ``多少``); a domain word, a synonym term or a stop word stays whole."""
    if len(token) < 3 or token in lookup or token in stop_words() or token in _domain_set():
        return [token]
    for n in range(len(token) - 1, 1, -1):
        if token[:n] in stop_words():
            return [token[:n], *_unglue(token[n:], lookup)]
        if token[-n:] in stop_words():
            return [*_unglue(token[:-n], lookup), token[-n:]]
    return [token]


@lru_cache(maxsize=1)
def _domain_set() -> frozenset[str]:
    return frozenset(domain_words())


def _pairs(tokens: list[str]) -> list[str]:
    """The character pairs of a run's words between its stop words (``装一台电视`` of ``还想再装一台电视``: ``装一``,
    ``一台``, ``台电``, ``电视``): the question's overlapping bigrams, which do not depend on where the segmenter
    cut (the index holds every pair of adjacent characters)."""
    found: list[str] = []
    segment = ""
    for token in (*tokens, ""):
        if token and token not in stop_words():
            segment += token
            continue
        found += [pair for i in range(len(segment) - 1) if (pair := segment[i:i + 2]) not in stop_words()]
        segment = ""
    return found


def _separated(tokens: list[str], lookup: dict[str, list[str]]) -> list[Item]:
    """The words of a clause said apart: two of its lone characters (no stop words) that make a term of the
    synonym dictionary or one of the centre's words, in either order — a separable verb with its object inside
    (交有线电视的费: 交费; 报了修: 报修) or its object said first (钱已经交了: 交钱). A word the clause also says
    whole, or a group one of its words already asks for, is not asked twice."""
    lone = list(dict.fromkeys(t for t in tokens if len(t) == 1 and _is_cjk(t) and t not in stop_words()))
    asked = {id(lookup[t]) for t in tokens if t in lookup}
    found: list[Item] = []
    for first in lone:
        for second in lone:
            joined = first + second
            if first == second or joined in tokens:
                continue
            if joined in lookup:
                if id(lookup[joined]) not in asked:
                    asked.add(id(lookup[joined]))
                    item = _group_item(joined, lookup[joined])
                    found += [item] if item is not None else []
            elif joined in _domain_set():
                found.append(Item(joined, 1.0, ((_chinese(joined), 1.0),)))
    return found


def question_items(text: str, synonyms: list[list[str]] | None = None) -> list[Item]:
    """The items of a question (see the module's text), at most :data:`MAX_ITEMS`, words and synonym groups
    before lone characters, then at most :data:`MAX_PAIRS` character pairs; an empty list when nothing in it
    carries meaning."""
    lookup, chinese = _lookup(synonyms or [])
    segmenter = _question_segmenter(chinese)
    words: list[Item] = []
    chars: list[Item] = []
    inner: list[Item] = []
    pairs: list[str] = []
    for run in RUNS.findall(normalise(text)):
        if not _is_cjk(run):
            item = _group_item(run, lookup[run]) if run in lookup else Item(run, 1.0, ((Term(run), 1.0),))
            if item is not None and (len(run) > 1 or run.isdigit()):
                words.append(item)
            continue
        tokens = [part for t in segmenter.cut(run, HMM=False) if t.strip() for part in _unglue(t, lookup)]
        pairs += _pairs(tokens)
        i = 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + MAX_GROUP_TOKENS), i, -1):
                joined = "".join(tokens[i:j])
                if joined in lookup and len(joined) > 1:
                    item = _group_item(joined, lookup[joined])
                    if item is not None:
                        words.append(item)
                    i = j
                    break
            else:
                token = tokens[i]
                i += 1
                if token in stop_words():
                    continue
                if len(token) == 1:
                    chars.append(Item(token, CHAR_WEIGHT * general_weight(token), ((Term(token), 1.0),)))
                else:
                    words.append(_word_item(token, segmenter, lookup))
                    if len(token) == 2 and token not in _domain_set():  # 骂人 / 辱骂, 扣钱 / 扣费: one character
                        inner += [Item(ch, CHAR_WEIGHT * INNER_FACTOR * general_weight(ch), ((Term(ch), 1.0),))
                                  for ch in token if ch not in stop_words()]
        words += _separated(tokens, lookup)
    seen: set[str] = set()
    kept: list[Item] = []
    for item in (*words, *chars, *inner):
        if item.text not in seen:
            seen.add(item.text)
            kept.append(item)
    kept = kept[:MAX_ITEMS]
    inside = {w.text[i:i + 2] for w in words if len(w.text) > 2 for i in range(len(w.text) - 1)}  # the word
    # matches by them already
    for pair in [p for p in dict.fromkeys(pairs) if p not in seen and p not in inside][:MAX_PAIRS]:
        kept.append(Item(pair, PAIR_WEIGHT * general_weight(pair), ((Term(pair), 1.0),), pair=True))
    return kept


def question_words(text: str, synonyms: list[list[str]] | None = None) -> list[str]:
    """The words of a question that carry meaning: its items but the character pairs and lone characters (what a
    search teaches an article, :mod:`helpline.services.knowledge.learned`)."""
    return [i.text for i in question_items(text, synonyms)
            if not i.pair and not (len(i.text) == 1 and _is_cjk(i.text))]

