"""Value types of the rule language and their spelling in declarations.

Spellings: ``number``, ``text``, ``bool``, ``duration``, ``date``, ``datetime``, ``any``,
``category(<tree>)``, ``set(<element type>)`` and, for action parameters only, ``ref(<kind>)`` (a node,
queue, prompt, variable or tier name written as a bare identifier or a string). ``record`` is the
internal type of a group prefix such as ``customer`` (only ``is empty`` / ``is not empty`` apply to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SIMPLE_KINDS = frozenset({"number", "text", "bool", "duration", "date", "datetime", "any", "record"})


@dataclass(frozen=True)
class RType:
    """A type: ``kind`` plus, for ``category``/``ref`` the tree or kind name, for ``set`` the element."""

    kind: str
    arg: str | None = None
    elem: RType | None = None

    def __str__(self) -> str:
        if self.kind in ("category", "ref"):
            return f"{self.kind}({self.arg})"
        if self.kind == "set":
            return f"set({self.elem})"
        return self.kind

    @property
    def is_any(self) -> bool:
        return self.kind == "any"


NUMBER = RType("number")
TEXT = RType("text")
BOOL = RType("bool")
DURATION = RType("duration")
DATE = RType("date")
DATETIME = RType("datetime")
ANY = RType("any")
RECORD = RType("record")


def category(tree: str) -> RType:
    return RType("category", tree)


def set_of(elem: RType) -> RType:
    return RType("set", elem=elem)


def ref(kind: str) -> RType:
    return RType("ref", kind)


_COMPOUND = re.compile(r"^(category|set|ref)\((.+)\)$")


@lru_cache(maxsize=512)
def parse_type(spelling: str) -> RType:
    """``"category(value_tier)"`` -> ``RType("category", "value_tier")``; raises ValueError if unknown."""
    s = spelling.strip()
    if s in SIMPLE_KINDS:
        return RType(s)
    m = _COMPOUND.match(s)
    if not m:
        raise ValueError(f"unknown rule type {spelling!r}")
    kind, inner = m.group(1), m.group(2).strip()
    if kind == "set":
        return set_of(parse_type(inner))
    if not inner.isidentifier():
        raise ValueError(f"bad {kind} name in {spelling!r}")
    return RType(kind, inner)


def as_type(t: RType | str) -> RType:
    return t if isinstance(t, RType) else parse_type(t)


def numeric(t: RType) -> bool:
    """Number-like: number or duration (durations are seconds)."""
    return t.kind in ("number", "duration")


def comparable(a: RType, b: RType) -> bool:
    """May ``a == b`` be written? (any matches anything; number~duration; category~text)."""
    if a.is_any or b.is_any:
        return True
    if numeric(a) and numeric(b):
        return True
    if a.kind == "category" and b.kind == "category":
        return a.arg == b.arg
    if {a.kind, b.kind} == {"category", "text"}:
        return True
    if a.kind == "set" and b.kind == "set":
        assert a.elem is not None and b.elem is not None
        return comparable(a.elem, b.elem)
    return a.kind == b.kind and a.kind not in ("record", "ref")


def ordered(a: RType, b: RType) -> bool:
    """May ``a < b`` be written? (numbers, durations, texts, dates, datetimes)."""
    if a.is_any and b.is_any:
        return True
    if a.is_any:
        return ordered(b, b)
    if b.is_any:
        return ordered(a, a)
    if numeric(a) and numeric(b):
        return True
    return a.kind == b.kind and a.kind in ("text", "date", "datetime")
