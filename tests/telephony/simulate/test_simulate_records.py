"""A simulated day written into the database: the reports of that day show the simulator's own figures
(issue 20: 'the figures match the simulator's own report of the same day')."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from helpline.cli import main as cli_main
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatCallDay
from helpline.security.actor import Actor
from helpline.services import stats
from helpline.services.platform import Platform
from helpline.services.reports import run_report
from telephony.simulate.engine import run_once
from telephony.simulate.record import write_calls
from telephony.simulate.scenario import parse_scenario
from telephony.simulate.traffic import generate_calls

DAY = date(2026, 12, 1)


def test_the_reports_of_a_simulated_day_match_the_simulator(platform: Platform, small: str) -> None:
    scenario = parse_scenario(small).with_overrides(warmup_s=0.0)
    rate = scenario.calls_per_hour(scenario.loads[0])
    result = run_once(scenario, "helpline", generate_calls(scenario, rate, 1), calls_per_hour=rate, seed=1)
    stats.configure({name: t.within_s for name, t in scenario.tiers.items()})
    try:
        assert write_calls(result, DAY) == len(result.records)
        rows = run_report(platform.metadata, Actor.system(), "service_level", {"period": [DAY.isoformat()] * 2},
                          page_size=10_000).rows
    finally:
        stats.configure({})
    for tier, tally in result.tiers.items():
        mine = [r for r in rows if r["tier"] == tier]
        summed = {k: sum(r[k] for r in mine) for k in ("offered", "answered", "within", "abandoned_queue", "timeout")}
        assert summed == {"offered": tally.offered, "answered": tally.answered, "within": tally.within,
                          "abandoned_queue": tally.abandoned, "timeout": tally.timeout}, tier
        assert tally.offered > 0
    daily = run_report(platform.metadata, Actor.system(), "daily_summary", {"period": [DAY.isoformat()] * 2}).rows
    offered = sum(t.offered for t in result.tiers.values())
    within = sum(t.within for t in result.tiers.values())
    answered = sum(t.answered for t in result.tiers.values())
    timeout = sum(t.timeout for t in result.tiers.values())
    assert daily[0]["offered"] == offered and daily[0]["service_level"] == round(within / (answered + timeout), 4)


def test_simulate_writes_its_calls_into_the_database(small_scenario_file: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")
    url = f"sqlite:///{tmp_path}/sim.db"
    args = ["simulate", str(small_scenario_file), "--strategy", "helpline", "--seeds", "1", "--duration", "30m",
            "--warmup", "0s", "--json"]
    assert cli_main([*args, "--write-calls", "2026-12-01", "--db", url]) == 0
    written = int(capsys.readouterr().err.split()[0])
    with session():
        assert written > 0 and Call.select().count() == written
        assert sum(r.calls for r in StatCallDay.select()) == written
    assert cli_main([*args, "--write-calls", "yesterday", "--db", url]) == 2
    assert "not a date" in capsys.readouterr().err
    assert cli_main([*args, "--write-calls", "2026-12-02T09:30", "--db", url]) == 0
    again = int(capsys.readouterr().err.split()[0])
    with session():
        last = Call.select().where(Call.uniqueid.startswith("sim")).order_by(Call.started_at.desc()).first()
        # the centre's date and clock (Beijing): 09:30 on the 2nd is stored as 01:30 UTC
        assert Call.select().where(Call.started_at >= datetime(2026, 12, 1, 16)).count() == again
        assert Call.select().where(Call.started_at >= datetime(2026, 12, 2, 1, 30)).count() == again
        assert last is not None and last.started_at < datetime(2026, 12, 2, 2, 5)  # a 30-minute run from 9:30
        assert {str(r.day) for r in StatCallDay.select()} == {"2026-12-01", "2026-12-02"}
    assert cli_main([*args, "--write-calls", "2026-12-02T25:00", "--db", url]) == 2
    assert "start time" in capsys.readouterr().err
