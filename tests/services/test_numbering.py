"""Numbering series: patterns, numbers given at save on the server, unique under concurrent saves (both
databases), continuing after numbers already stored, and bad patterns reported as HL-E220."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest

from helpline.data.database import session, write_transaction
from helpline.data.series import SeriesCounter, next_number
from helpline.metadata.loader import load_directory
from helpline.metadata.series import SeriesError, parse_series
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.records import ValidationFailed

SYSTEM = Actor.system()


def order(p: Platform, **values: object) -> dict[str, object]:
    return p.records.create(SYSTEM, "work_order", {"type": "fault", "title": "no signal", **values}).values


def today_prefix() -> str:
    return "WO" + datetime.now().strftime("%Y%m%d")


def test_patterns() -> None:
    day = datetime(2026, 12, 6)
    series = parse_series("WO{yyyyMMdd}{seq:5}")
    assert series.render(42, day) == "WO2026120600042" and series.key(day) == "WO20261206{#}"
    assert series.seq_of("WO2026120600042", day) == 42 and series.seq_of("WO2026120500042", day) is None
    assert series.render(123456, day) == "WO20261206123456"  # outgrows its width: still unique
    assert parse_series("{yy}-{MM}/{seq}{{x}}").render(7, day) == "26-12/7{x}"
    assert parse_series("HN{seq:8}").key(day) == parse_series("HN{seq:8}").key(datetime(2030, 1, 1))
    for bad, why in [("WO{yyyy}", "no {seq"), ("X{seq:0}", "1 to 12"), ("X{seq}{seq}", "more than one"),
                     ("X{week}{seq}", "unknown placeholder {week}"), ("X{seq", "unbalanced '{'"), ("", "empty")]:
        with pytest.raises(SeriesError, match=why.replace("{", r"\{")):
            parse_series(bad)


def test_a_new_work_order_is_numbered_at_save(platform: Platform) -> None:
    first, second = order(platform), order(platform)
    assert first["order_no"] == today_prefix() + "00001" and second["order_no"] == today_prefix() + "00002"
    assert order(platform, order_no="MANUAL-1")["order_no"] == "MANUAL-1"  # a value given is kept
    with pytest.raises(ValidationFailed) as refused:
        order(platform, type="")  # a failed save gives its number back
    assert set(refused.value.errors) == {"type"}  # order_no is required, but the server fills it: no error
    with pytest.raises(ValidationFailed):
        order(platform, city="atlantis")  # fails inside the transaction, after the number was taken
    assert order(platform)["order_no"] == today_prefix() + "00003"


def test_a_counter_continues_after_numbers_already_stored(platform: Platform) -> None:
    customer = platform.records.create(SYSTEM, "customer", {"customer_no": "HN00000041", "name": "甲"})
    platform.records.create(SYSTEM, "customer", {"customer_no": "HN00000007", "name": "乙"})
    assert customer.values["customer_no"] == "HN00000041"
    assert platform.records.create(SYSTEM, "customer", {"name": "丙"}).values["customer_no"] == "HN00000042"
    platform.records.create(SYSTEM, "customer", {"customer_no": "HN00000043", "name": "丁"})  # typed by hand
    assert platform.records.create(SYSTEM, "customer", {"name": "戊"}).values["customer_no"] == "HN00000044"
    with session():
        keys = {r.key: r.value for r in SeriesCounter.select()}
    assert keys == {"customer.customer_no|HN{#}": 44}


def test_numbers_are_unique_under_concurrent_saves(platform: Platform) -> None:
    threads_n, each = 8, 6
    numbers: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(each):
                numbers.append(str(order(platform)["order_no"]))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    expected = {f"{today_prefix()}{n:05d}" for n in range(1, threads_n * each + 1)}
    assert sorted(numbers) == sorted(expected)  # no duplicate, no gap


def test_next_number_inside_one_transaction_rolls_back_with_it(platform: Platform) -> None:
    model = platform.models["work_order"]
    series = parse_series("T{seq:3}")
    with session():
        with pytest.raises(RuntimeError), write_transaction():
            assert next_number(model, "work_order", "order_no", series) == "T001"
            raise RuntimeError("the save fails")
        with write_transaction():
            assert next_number(model, "work_order", "order_no", series) == "T001"
            assert next_number(model, "work_order", "order_no", series) == "T002"


def test_bad_series_in_metadata_is_hl_e220(write_metadata) -> None:  # type: ignore[no-untyped-def]
    root = write_metadata({"entities/t.yaml": """
        kind: entity
        name: t
        label: T
        fields:
          - {name: a, type: text, label: A, series: "A{seq:4}"}
          - {name: b, type: int, label: B, series: "{seq}"}
          - {name: c, type: text, label: C, series: "C{seq:12}", validation: {max_length: 8}}
          - {name: d, type: text, label: D, series: "D{yyyy}"}
        """})
    found = [(p.id, p.line, p.message) for p in load_directory(Path(root)).problems]
    assert found == [
        ("HL-E220", 6, "series of field 'b': a series numbers text fields, this one is int"),
        ("HL-E220", 7, "series of field 'c': its values have 13 characters, the field holds 8"),
        ("HL-E220", 8, "series of field 'd': the pattern has no {seq:N}: values would repeat"),
    ]
