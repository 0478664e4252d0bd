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


def test_clean_values_of_text_cells_as_coerce_and_check_value_give() -> None:
    """clean_values reads a non-blank text of a text or single category field without coerce and check_value
    (an import's usual cells): the same values and the same errors for every kind of text and field."""
    from helpline.metadata.kinds import Category, CategoryNode, Entity, Validation
    from helpline.services.values import FieldError, check_value, clean_values

    tree = Category(kind="category", name="t", label=Label(en="T"),
                    nodes=[CategoryNode(code="a", label=Label(en="A")),
                           CategoryNode(code="old", label=Label(en="Old"), retired=True)])
    fields = [field("text"), field("text", required=True), field("text", validation=Validation(max_length=3)),
              field("long_text"), field("category"), field("category", required=True),
              field("category", multiple=True), field("email"), field("phone"), field("int")]
    texts = ["a", " a ", "  ", "\t", "x" * 255, "x" * 256, " " + "x" * 255, "old", "b", "客户", "A", "a,old",
             "7", "a@b.cn"]
    checked = 0
    for i, f in enumerate(fields):
        f = f.model_copy(update={"name": f"f{i}"})
        entity = Entity(kind="entity", name="e", label=Label(en="E"), fields=[f])
        for text in texts:
            for previous in (None, {f.name: "old"}):
                try:
                    value: object = coerce(f, text)
                    error: FieldError | None = check_value(f, value, {"t": tree}, (previous or {}).get(f.name))
                except ValueError as exc:
                    key = str(exc) if str(exc).startswith("errors.") else "errors.type"
                    value, error = None, FieldError(key, {"type": f.type})
                expected = ({}, {f.name: error}) if error else ({f.name: value}, {})
                assert clean_values(entity, {f.name: text}, {"t": tree}, previous=previous) == expected, \
                    (f.type, f.validation, text, previous)
                checked += 1
    assert checked == len(fields) * len(texts) * 2
