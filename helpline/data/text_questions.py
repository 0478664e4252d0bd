"""A question asked of documents, cut into the items a coverage ranking weighs (docs/search.md, *Documents*).

Knowledge articles, bulletins and notes are searched by questions as callers ask them ("盒子一直卡在升级界面不动",
"交的网费要开票报销"), which rarely use the words of the article that answers them. A question is cut here into
*items*, each matched by any of its alternatives:

* the question is segmented by jieba with the centre's own words (``search_words.yaml``: 机顶盒, 光猫, 回看 ...)
  and the synonym dictionary's terms as words, so a domain word is one word and not its characters;
* a run of words that is a term of a synonym group (``盒子``, ``没信号``, ``多久``) is one item matched by every term
  of the group (``机顶盒``, ``无信号``, ``时限`` ...);
* question and function words (:data:`STOP_WORDS`: 怎么, 为什么, 吗, 的 ...) are left out;
* any other word of 2+ characters is an item: the word, or for 3+ characters all its pairs (the index holds every
  pair), or — weighed less — the shorter words jieba finds in it (``足球比赛``: ``足球``, ``比赛``);
* a lone character that is no stop word (``换``, ``接``, ``锁``) is an item weighed :data:`CHAR_WEIGHT`;
* a token jieba glued to a stop word (``段时间`` of ``这段时间``, ``加多少``, ``不能不``) is cut there first;
* two adjacent words of the question give a *bridge*: the last character of the first and the first of the second
  (``台电`` of ``一台 电视``), an item weighed :data:`BRIDGE_WEIGHT` — a record holding it has the two words side by
  side (the index holds every pair of adjacent characters): a phrase match without positions.

The index itself is not cut with these words (it holds every character and pair, :mod:`text_tokens`), so the
word list and the dictionary can change without a reindex.
"""

from __future__ import annotations

import threading
from collections import ChainMap
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from .text_tokens import RUNS, AllOf, AnyOf, Node, Term, _is_cjk, _segmenter, normalise

WORDS_FILE = Path(__file__).with_name("search_words.yaml")
MAX_ITEMS = 10
"""Items of a question kept (words and groups first, then lone characters)."""
CHAR_WEIGHT = 0.3
"""The weight of a lone character's item (a word's is 1)."""
PART_FACTOR = 0.6
"""A match by one of the shorter words inside a long word counts this much of the word's weight."""
SYNONYM_FACTOR = 0.9
"""A match by another term of a synonym group counts this much of the term asked (the asked wording first)."""
MAX_GROUP_TOKENS = 4
"""A synonym term is matched as a run of at most this many of the question's words."""
BRIDGE_WEIGHT = 0.5
"""The weight of a bridge between two adjacent words of the question (a word's is 1)."""
MAX_BRIDGES = 4
"""Bridges of a question kept (the first ones), after its :data:`MAX_ITEMS` words and characters."""

_STOP = """怎么 怎么办 怎么样 怎样 什么 为什么 如何 能不能 可不可以 是不是 有没有 要不要 会不会 一下 请问
    我们 你们 他们 这个 那个 哪个 哪里 这样 那样 还是 就是 但是 可以 需要 应该 已经 现在 时候 知道
    不知道 一直 老是 总是 我家 家里 一个 什么样 多少 好几个 之后 以后 的话 不了 不能 意思 某些 一些
    东西 这段 这些 那些 那几个 几个 分别 上面 里面 下面 时间 出来 怎么弄 咋办 咋 啥 么 能否 可否
    是否 是不 有没 的时候 一样 不一样 为啥 干嘛 为何 如果 所以 因为 然后 实际 另外 自己 或者 以及
    还有 这么 那么 特别 非常 比较 太 很 好 会 能 要 想 把 被 给 让 在 是 有 和 与 跟 及 或
    就 都 也 还 再 又 才 而 但 我 你 他 她 它 您 咱 的 地 得 了 着 过 吗 呢 吧 啊 呀 哦
    嗯 哈 这 那 哪 谁 个 些 里 上 下 中 到 从 对 向 去 来 说 讲 问 做 弄 搞 用 点 一 两
    几 多 少 该 应 可 将 已 等 却 并 且 不 没 别 请"""
STOP_WORDS = frozenset(_STOP.split())
"""Question and function words: never an item (a synonym term that holds one, such as ``多久``, still is)."""


@dataclass(frozen=True)
class Item:
    """One thing a question asks for, matched by any of ``alternatives`` ((node, factor): a match by an
    alternative counts its factor of the item's weight). ``finds``: whether the records holding it are
    candidates (a lone character only weighs, unless the question has nothing else)."""

    text: str
    weight: float
    alternatives: tuple[tuple[Node, float], ...]
    finds: bool = True

    @property
    def node(self) -> Node:
        """Any alternative (what the index is asked for the item's records)."""
        nodes = tuple(dict.fromkeys(n for n, _ in self.alternatives))
        return nodes[0] if len(nodes) == 1 else AnyOf(nodes)


@lru_cache(maxsize=1)
def domain_words() -> tuple[str, ...]:
    """The shipped word list (``search_words.yaml``)."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(WORDS_FILE.read_text(encoding="utf-8")) or {}
    words = data.get("words") or []
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"{WORDS_FILE}: 'words' must be a list of words")
    return tuple(dict.fromkeys(w.strip() for w in words))


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
            if part in STOP_WORDS:
                continue
            group = _group_item(part, lookup[part]) if part in lookup else None
            found = group.alternatives if group else ((_chinese(part), 1.0),)
            alternatives += [(node, factor * PART_FACTOR) for node, factor in found]
    return Item(word, 1.0, tuple(dict.fromkeys(alternatives)))


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
    if len(token) < 3 or token in lookup or token in STOP_WORDS or token in _domain_set():
        return [token]
    for n in range(len(token) - 1, 1, -1):
        if token[:n] in STOP_WORDS:
            return [token[:n], *_unglue(token[n:], lookup)]
        if token[-n:] in STOP_WORDS:
            return [*_unglue(token[:-n], lookup), token[-n:]]
    return [token]


@lru_cache(maxsize=1)
def _domain_set() -> frozenset[str]:
    return frozenset(domain_words())


def _bridges(tokens: list[str]) -> list[Item]:
    """The bridges of the adjacent words of one run (neither a stop word)."""
    found: list[Item] = []
    for a, b in pairwise(tokens):
        if a not in STOP_WORDS and b not in STOP_WORDS:
            pair = a[-1] + b[0]
            found.append(Item(pair, BRIDGE_WEIGHT, ((Term(pair), 1.0),)))
    return found


def question_items(text: str, synonyms: list[list[str]] | None = None) -> list[Item]:
    """The items of a question (see the module's text), at most :data:`MAX_ITEMS`, words and synonym groups
    before lone characters, then at most :data:`MAX_BRIDGES` bridges; an empty list when nothing in it carries
    meaning."""
    lookup, chinese = _lookup(synonyms or [])
    segmenter = _question_segmenter(chinese)
    words: list[Item] = []
    chars: list[Item] = []
    bridges: list[Item] = []
    for run in RUNS.findall(normalise(text)):
        if not _is_cjk(run):
            item = _group_item(run, lookup[run]) if run in lookup else Item(run, 1.0, ((Term(run), 1.0),))
            if item is not None and (len(run) > 1 or run.isdigit()):
                words.append(item)
            continue
        tokens = [part for t in segmenter.cut(run, HMM=False) if t.strip() for part in _unglue(t, lookup)]
        bridges += _bridges(tokens)
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
                if token in STOP_WORDS:
                    continue
                if len(token) == 1:
                    chars.append(Item(token, CHAR_WEIGHT, ((Term(token), 1.0),), finds=False))
                else:
                    words.append(_word_item(token, segmenter, lookup))
    seen: set[str] = set()
    kept: list[Item] = []
    for item in (*words, *chars):
        if item.text not in seen:
            seen.add(item.text)
            kept.append(item)
    kept = kept[:MAX_ITEMS]
    for item in bridges[:MAX_BRIDGES]:
        if item.text not in seen:
            seen.add(item.text)
            kept.append(item)
    return kept

