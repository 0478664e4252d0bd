"""Business-time arithmetic: fixed cases on the shipped PRC calendar, and properties (hypothesis) across nights,
weekends, holidays, make-up days and time zones."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.metadata.kinds.calendar import Calendar
from helpline.metadata.loader import load_directory
from helpline.services.workflow.business_time import BusinessCalendar, NoWorkingHours

SHIPPED = Path(__file__).parents[3] / "metadata"
_loaded = load_directory(SHIPPED)
PRC = BusinessCalendar.of(_loaded.metadata.typed("calendar", "prc", Calendar))  # type: ignore[arg-type]
ALWAYS = BusinessCalendar.of(_loaded.metadata.typed("calendar", "round_the_clock", Calendar))  # type: ignore[arg-type]
DAY = 27000  # 08:30-12:00 and 13:30-17:30
# Central Europe has daylight saving time; a split day; Saturday mornings; Christmas off.
BERLIN = BusinessCalendar("Europe/Berlin", [[(28800, 43200), (46800, 61200)]] * 5 + [[(32400, 43200)], []],
                          holidays=[date(2026, 12, 25)], workdays={date(2026, 12, 27): [(36000, 39600)]})

instants = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2028, 6, 1))
amounts = st.integers(min_value=0, max_value=40 * DAY)
calendars = st.sampled_from([PRC, ALWAYS, BERLIN])


def bj(*args: int) -> datetime:
    """A Beijing wall-clock time as naive UTC."""
    return datetime(*args) - timedelta(hours=8)  # type: ignore[misc]


def test_nights_weekends_holidays_and_make_up_days() -> None:
    assert PRC.add(bj(2026, 3, 3, 17, 0), 3600) == bj(2026, 3, 4, 9, 0)  # overnight
    assert PRC.add(bj(2026, 3, 3, 11, 30), 3600) == bj(2026, 3, 3, 14, 0)  # over the lunch break
    assert PRC.add(bj(2026, 3, 6, 17, 0), 3600) == bj(2026, 3, 9, 9, 0)  # over a weekend
    assert PRC.add(bj(2026, 9, 30, 17, 0), 3600) == bj(2026, 10, 8, 9, 0)  # over National Day
    assert PRC.add(bj(2026, 10, 9, 17, 0), 3600) == bj(2026, 10, 10, 9, 0)  # Saturday 10 Oct is a make-up day
    assert PRC.add(bj(2026, 2, 13, 17, 0), DAY + 3600) == bj(2026, 2, 24, 9, 0)  # make-up Sat 14 Feb, then 9 days off
    assert PRC.between(bj(2026, 2, 13, 8, 30), bj(2026, 3, 2, 8, 30)) == 7 * DAY
    assert PRC.add(bj(2026, 3, 7, 10, 0), 60) == bj(2026, 3, 9, 8, 31)  # starting on a Sunday
    assert ALWAYS.add(datetime(2026, 10, 1, 3, 0), 600) == datetime(2026, 10, 1, 3, 10)


def test_a_calendar_without_hours_cannot_be_computed() -> None:
    with pytest.raises(NoWorkingHours):
        BusinessCalendar("Asia/Shanghai", [[]] * 7)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts)
def test_add_then_measure_gives_back_n(cal: BusinessCalendar, start: datetime, n: int) -> None:
    end = cal.add(start, n)
    assert end >= start
    assert cal.between(start, end) == pytest.approx(n, abs=1e-3)
    if n > 0:  # the earliest such instant: a second earlier, less has been counted
        assert cal.between(start, end - timedelta(seconds=1)) < n


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts, amounts)
def test_monotonic_and_additive(cal: BusinessCalendar, start: datetime, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert cal.add(start, lo) <= cal.add(start, hi)
    two_goes = cal.add(cal.add(start, a), b)
    assert abs(two_goes - cal.add(start, a + b)) <= timedelta(microseconds=2)
    later = start + timedelta(hours=a % 1000)
    assert cal.between(start, later) >= 0
    assert cal.between(start, later) + cal.between(later, later + timedelta(hours=5)) == pytest.approx(
        cal.between(start, later + timedelta(hours=5)), abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=0, max_value=10**7))
def test_round_the_clock_is_wall_time(start: datetime, n: int) -> None:
    assert ALWAYS.add(start, n) == start + timedelta(seconds=n)
    assert ALWAYS.between(start, start + timedelta(seconds=n)) == pytest.approx(n, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([d for d in sorted(PRC.holidays)]), st.integers(0, 86399), st.integers(0, 86399))
def test_holidays_never_count(day: date, a: int, b: int) -> None:
    midnight = datetime.combine(day, datetime.min.time()) - timedelta(hours=8)
    lo, hi = sorted((a, b))
    assert PRC.between(midnight + timedelta(seconds=lo), midnight + timedelta(seconds=hi)) == 0
    assert not PRC.is_working(midnight + timedelta(seconds=a))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(PRC.workdays)))
def test_make_up_days_count_a_full_day(day: date) -> None:
    assert day.weekday() >= 5  # a weekend day worked instead of a holiday
    midnight = datetime.combine(day, datetime.min.time()) - timedelta(hours=8)
    assert PRC.between(midnight, midnight + timedelta(days=1)) == DAY


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 30)),
       st.integers(min_value=1, max_value=5 * 36000))
def test_daylight_saving_days_keep_local_hours(start: datetime, n: int) -> None:
    end = BERLIN.add(start, n)
    assert BERLIN.is_working(end - timedelta(microseconds=1)) or BERLIN.is_working(end)
    assert BERLIN.between(start, end) == pytest.approx(n, abs=1e-3)


def test_daylight_saving_change_day() -> None:
    # Monday 30 March 2026, Berlin is on summer time (UTC+2): 08:00 local is 06:00 UTC
    assert BERLIN.add(datetime(2026, 3, 27, 16, 0), 60) == datetime(2026, 3, 28, 8, 1)  # Sat 09:00 CET
    assert BERLIN.add(datetime(2026, 3, 28, 11, 0), 60) == datetime(2026, 3, 30, 6, 1)


def test_threads_sharing_a_calendar_while_it_lays_out_years() -> None:
    import threading

    cases = [(datetime(2020 + i % 12, 1 + i % 12, 1 + i % 28, i % 24), (i * 7919) % (60 * DAY)) for i in range(400)]
    expected = [PRC.add(s, n) for s, n in cases]
    shared = BusinessCalendar.of(_loaded.metadata.typed("calendar", "prc", Calendar))  # type: ignore[arg-type]
    results: dict[int, list[datetime]] = {}

    def work(k: int) -> None:
        order = cases[k::4] + cases[:k:4]  # each thread starts in other years
        results[k] = [shared.add(s, n) for s, n in order]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert results[k] == expected[k::4] + expected[:k:4]
