"""Issue 20's "done when" in real headless Chromium: a simulated day (the routing simulator's calls written into
the database from 09:00 in the centre's time, Beijing's, as ``run.py simulate --write-calls 2026-12-01T09:00``
does) — supervisor1 opens the daily
summary and reads the simulator's own totals, opens the service level per tier, finds the tier that missed its
target at 10:00, drills down to the calls of that interval, exports the month to Excel and schedules the report
weekly. Screenshots of the reports page in English and Chinese go to ``screenshots/`` (git-ignored)."""

from __future__ import annotations

import time as clock
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - markers_as_classes and patient_browser are fixtures
    choose,
    click,
    element,
    log_in,
    markers_as_classes,
    patient_browser,
    text_shown,
    until,
)
from nicegui.testing import Screen, screen_plugin
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.security.actor import Actor
from helpline.services import stats
from helpline.services.platform import Platform
from helpline.services.report_schedules import list_schedules
from helpline.services.reports import dimension_texts, run_report
from telephony.simulate.engine import run_once
from telephony.simulate.record import write_calls
from telephony.simulate.scenario import parse_scenario
from telephony.simulate.traffic import generate_calls

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
DAY = date(2026, 12, 1)
SCENARIO = ((ROOT / "tests" / "telephony" / "simulate" / "small_scenario.yaml").read_text(encoding="utf-8")
            .replace("{occupancy: 85%}", "{occupancy: 145%}").replace("warmup_s: 15m", "warmup_s: 0s"))
"""The simulator tests' small scenario, overloaded so that a tier misses its target at 10:00."""


def set_date(screen: Screen, css: str, value: str) -> None:
    """Set a ``type=date`` input (typing into one depends on the browser's locale) and tell Vue."""
    box = element(screen, f"{css} input")
    screen.selenium.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))",
        box, value)


def table_rows(screen: Screen, css: str) -> list[list[str]]:
    found = screen.selenium.find_elements(By.CSS_SELECTOR, f"{css} tbody tr")
    return [[td.text.strip() for td in tr.find_elements(By.TAG_NAME, "td")] for tr in found]


def shot(screen: Screen, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    screen.selenium.set_window_size(1366, 900)
    screen.selenium.execute_script("window.scrollTo(0, 0)")
    screen.selenium.save_screenshot(str(SHOTS / f"{name}.png"))


def run_shown(screen: Screen, report: str, since: str, until_day: str) -> None:
    choose(screen, ".m-report-choice", report)
    set_date(screen, ".m-report-from", since)
    set_date(screen, ".m-report-to", until_day)
    click(screen, ".m-report-run")


def test_supervisor_reads_a_simulated_day(patient_browser: Screen, ui_platform: Platform,  # noqa: F811
                                          markers_as_classes: None,  # noqa: F811
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")  # the day and its 10:00 are Beijing's (stored in UTC)
    screen = patient_browser
    scenario = parse_scenario(SCENARIO)
    rate = scenario.calls_per_hour(scenario.loads[0])
    result = run_once(scenario, "helpline", generate_calls(scenario, rate, 1), calls_per_hour=rate, seed=1)
    stats.configure({name: tier.within_s for name, tier in scenario.tiers.items()})
    try:
        assert write_calls(result, DAY, at=time(9)) == len(result.records)
        period = {"period": [DAY.isoformat()] * 2}
        at_ten = [r for r in run_report(ui_platform.metadata, Actor.system(), "service_level", period,
                                        page_size=10_000).rows if str(r["interval"]).endswith("10:00")]
        missed = next(r for r in at_ten if r["met"] is False)  # the load is set so that a tier misses at 10:00
        in_interval = [r for r in result.records if 3600 <= r.call.arrival_s < 4500 and r.call.tier == missed["tier"]]
        tiers = dimension_texts(ui_platform.metadata, "tier")  # the page shows a tier by its label
        shown_tier = {language: tiers[missed["tier"]].get(language) for language in ("en", "zh_CN")}
        tier_labels = {tiers[code].get("en") for code in result.tiers}

        log_in(screen, "supervisor1", "/page/reports")
        run_shown(screen, "Daily summary", DAY.isoformat(), DAY.isoformat())
        offered = sum(t.offered for t in result.tiers.values())
        within = sum(t.within for t in result.tiers.values())
        answered_or_late = sum(t.answered + t.timeout for t in result.tiers.values())
        expected_level = f"{within / answered_or_late * 100:.1f}%"
        rows = until(lambda: [r for r in table_rows(screen, ".m-report-rows") if r and r[0] == DAY.isoformat()],
                     "the day's summary row")
        # columns: day, calls, offered, answered, answer rate, service level, ...
        assert rows[0][2] == str(offered) and rows[0][5] == expected_level, (rows[0], offered, expected_level)

        run_shown(screen, "Service level per tier", DAY.isoformat(), DAY.isoformat())
        interval = f"{DAY.isoformat()} 10:00"

        language = "en"

        def missed_row() -> list[str] | None:
            return next((r for r in table_rows(screen, ".m-report-rows")
                         if r[:2] == [interval, shown_tier[language]]), None)
        row = until(missed_row, "the 10:00 row of the tier that missed")
        # interval, tier, offered, answered, within, timeout, abandoned, service level, target, met, asa
        assert row[9] == "no" and row[2] == str(missed["offered"]), row
        shot(screen, "reports_service_level_en")
        click(screen, f".m-report-rows tbody tr:nth-child({table_rows(screen, '.m-report-rows').index(row) + 1})")
        until(lambda: len(table_rows(screen, ".m-report-drill-rows")) == len(in_interval),
              f"the {len(in_interval)} calls of the interval")

        set_date(screen, ".m-report-to", "2026-12-31")
        downloads = Path(screen_plugin.DOWNLOAD_DIR or "")
        before = set(downloads.glob("*.xlsx"))
        click(screen, ".m-report-export")
        files = until(lambda: [f for f in set(downloads.glob("*.xlsx")) - before if f.stat().st_size > 0],
                      "the month's workbook downloaded")
        clock.sleep(0.5)  # Chromium renames the finished download into place; let it close the file
        sheet = load_workbook(files[0]).active
        header = [c.value for c in sheet[1]]
        body: list[Any] = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
        offered_column = header.index("Offered")
        assert sum(r[offered_column] or 0 for r in body if r[1] in tier_labels) == offered  # the tiers' rows
        assert body[-1][0] == "Total" and body[-1][offered_column] == offered
        assert files[0].name == "service_level-2026-12-01-2026-12-31.xlsx"

        assert "weekly" in element(screen, ".m-report-every").text  # the default
        click(screen, ".m-report-schedule")
        until(lambda: [(s["report"], s["every"]) for s in list_schedules()] == [("service_level", "weekly")],
              "the weekly schedule saved")

        with session():
            UserRow.update(language="zh_CN").where(UserRow.username == "supervisor1").execute()
        language = "zh_CN"
        log_in(screen, "supervisor1", "/page/reports")
        run_shown(screen, "各层次服务水平", DAY.isoformat(), DAY.isoformat())
        until(missed_row, "the Chinese page's 10:00 row")
        text_shown(screen, "各层次服务水平")
        shot(screen, "reports_service_level_zh_CN")
    finally:
        stats.configure({})
