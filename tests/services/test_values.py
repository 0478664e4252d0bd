"""Submitted values become typed field values, or a per-field error key."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from helpline.metadata.kinds import EntityField, Label
from helpline.services.values import coerce, normalise_phone, phone_variants


def field(type_: str, **kw: object) -> EntityField:
    extra = {"category": "t"} if type_ == "category" else {"link": "x"} if type_ == "link" else {}
    return EntityField(name="f", type=type_, label=Label(en="F"), **{**extra, **kw})


@pytest.mark.parametrize(("type_", "raw", "value"), [
    ("text", "  a b  ", "a b"),
    ("long_text", " keep \n", " keep \n"),
    ("int", "42", 42),
    ("int", 7.0, 7),
    ("decimal", "1.25", Decimal("1.25")),
    ("bool", "yes", True),
    ("bool", "否", False),
    ("date", "2024-02-29", date(2024, 2, 29)),
    ("date", datetime(2024, 1, 2, 3, 4), date(2024, 1, 2)),
    ("datetime", "2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5)),
    ("phone", "+86 138-1234-5678", "+8613812345678"),
    ("email", " a@b.cn ", "a@b.cn"),
    ("json", {"a": [1]}, {"a": [1]}),
    ("text", "", None),
])
def test_coerce(type_: str, raw: object, value: object) -> None:
    assert coerce(field(type_), raw) == value


def test_coerce_multiple_categories() -> None:
    f = field("category", multiple=True)
    assert coerce(f, "a, b") == ["a", "b"]
    assert coerce(f, None) == []


@pytest.mark.parametrize(("type_", "raw"), [
    ("int", "4.5"), ("int", True), ("int", 4.5), ("decimal", "abc"), ("bool", "maybe"), ("date", "31/12/2024"),
    ("phone", "call me"), ("email", "nobody"),
])
def test_coerce_refuses(type_: str, raw: object) -> None:
    with pytest.raises(ValueError):
        coerce(field(type_), raw)


def test_phone_forms() -> None:
    assert normalise_phone(" 0731-8888 1234 ") == "073188881234"
    assert phone_variants("+8613812345678") == ["+8613812345678", "13812345678"]
    assert phone_variants("013812345678") == ["013812345678", "13812345678"]
    assert phone_variants("073188881234") == ["073188881234"]
