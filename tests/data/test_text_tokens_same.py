"""The fast term cutting of :func:`text_tokens.value_terms` and :func:`text_tokens.field_terms` (an ASCII path,
number terms looked up, remembered values with Chinese) gives exactly the terms of the straightforward run-by-run
loop it replaced, kept here as the reference, over a varied sample: names, addresses with house numbers, phone
and card numbers, codes, full-width and other compatibility characters, other scripts' digits, punctuation,
lists and non-text values."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from helpline.data import text_tokens as tt


def reference_terms(value: Any, *, any_part: bool = False, grams: bool = False) -> set[str]:
    """``value_terms`` as it was before the fast paths (the loop over the runs of every value)."""
    if value is None or value == "":
        return set()
    if isinstance(value, (list, tuple)):
        return set().union(*(reference_terms(v, any_part=any_part, grams=grams) for v in value)) if value else set()
    terms: set[str] = set()
    text = str(value)
    before, end = "", -1
    for found in tt.RUNS.finditer(text.lower() if text.isascii() else tt.normalise(text)):
        run = found.group()
        if grams and before and end == found.start() and "0" <= run[0] <= "9":
            terms.update(tt.joins(before, tt.DIGITS.match(run).group()))  # type: ignore[union-attr]
        before, end = (run, found.end()) if grams and tt._is_cjk(run) else ("", -1)
        if tt._is_cjk(run):
            terms.update(tt._gram_terms(run) if grams else tt._cjk_terms(run))
        elif any_part and run.isdigit() and run.isascii():
            n = len(run)
            terms.update([run[i:] for i in range(n - tt.MIN_DIGITS + 1)])
            terms.update([f"{ch}_" for ch in set(run)])
            terms.update([f"{run[i:i + 2]}_" for i in range(n - 1)])
        elif any_part and tt._has_digit(run):
            for i in range(len(run) - tt.MIN_DIGITS + 1):
                suffix = run[i:]
                terms.add(suffix)
                if "0" <= suffix[0] <= "9":
                    terms.add(suffix[0] + "_")
                    if len(suffix) > 1 and "0" <= suffix[1] <= "9":
                        terms.add(suffix[:2] + "_")
        else:
            terms.add(run)
            if tt._has_digit(run):
                for number in tt.DIGITS.findall(run):
                    terms.add(number)
                    terms.update(tt.starts(number))
    return terms


CHARACTERS = list("abcXYZ0123456789_ -./#'\\\t\n") + list("号路区市长沙中山五一大道客户张伟岳麓") + [
    "１", "２", "Ａ", "ｂ", "٣", "²", "ﬁ", "㈱", "\u3400", "\uf900", "\u4dbf", "é", "ß", "İ", "Ⅻ"]
FIXED: list[Any] = [
    "长沙市岳麓区中山路15号", "中山路 15号", "中山路127号3栋", "株洲", "张伟", "客户12345", "五一大道780号",
    "13812345678", "0731-8888 1234", "+8613812345678", "8731000000012345", "X000000001", "t0001", "a1b22c333",
    "ext12a", "u1@example.com", "1", "12", "007", "０７３１－８８８８", "１２３号", "长沙１２号", "Ⅻ号楼", "ﬁle7",
    "٣٤٥", "x²", "㈱长沙", "İstanbul 5", "AB_12", "中山路1", "路", "a", 0, 7, 12345, -42, 3.5, True, False,
    Decimal("12.50"), None, "", [], ["长沙市岳麓区中山路15号", "13812345678"], ("a1", None, ""),
]


def _sample(n: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    values: list[Any] = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.6:
            values.append("".join(rng.choice(CHARACTERS) for _ in range(rng.randint(1, 14))))
        elif kind < 0.75:
            values.append(str(rng.randint(0, 10 ** rng.randint(1, 40))))  # longer than the looked-up suffixes too
        elif kind < 0.85:
            values.append(rng.choice(["长沙市岳麓区中山路", "株洲", "湘潭市", "客户"]) + str(rng.randint(0, 2000))
                          + rng.choice(["号", "号3栋", " 12", "A座", ""]))
        else:
            values.append(rng.randint(-10 ** 12, 10 ** 12))
    return values


@pytest.mark.parametrize("any_part", [False, True])
@pytest.mark.parametrize("grams", [False, True])
def test_the_fast_terms_are_the_reference_terms(any_part: bool, grams: bool) -> None:
    values = FIXED + _sample(1500, seed=int(any_part) * 2 + int(grams))
    for round_ in range(2):  # the second time the values with Chinese come from the remembered terms
        for value in values:
            expected = reference_terms(value, any_part=any_part, grams=grams)
            assert tt.value_terms(value, any_part=any_part, grams=grams) == expected, (round_, value)
            assert sorted(tt.field_terms("address", value, any_part=any_part, grams=grams)) == \
                sorted(f"address_{t}" for t in expected), (round_, value)


def test_a_caller_changing_the_terms_does_not_change_what_is_remembered() -> None:
    first = tt.value_terms("长沙市岳麓区中山路15号", grams=True)
    first.add("changed")
    first.discard("山路1_")
    again = tt.value_terms("长沙市岳麓区中山路15号", grams=True)
    assert "changed" not in again and "山路1_" in again
    listed = tt.field_terms("address", "长沙市岳麓区中山路15号", grams=True)
    listed.append("address_changed")
    assert "address_changed" not in tt.field_terms("address", "长沙市岳麓区中山路15号", grams=True)
