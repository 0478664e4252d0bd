"""``run.py simulate``: the --json list, the text table, the options, and exit 2 for a broken scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpline.cli import main

ROOT = Path(__file__).resolve().parents[3]
QUICK = ["--duration", "40m", "--warmup", "5m"]


def test_json_is_one_list_of_strategy_rows(small_scenario_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", str(small_scenario_file), "--json", *QUICK, "--seeds", "3",
                 "--load", "80%,300"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["strategy"], r["load"]) for r in rows] == [
        ("helpline", pytest.approx(189.2, abs=0.1)), ("app_queue", pytest.approx(189.2, abs=0.1)),
        ("mod_callcenter", pytest.approx(189.2, abs=0.1)),
        ("helpline", 300.0), ("app_queue", 300.0), ("mod_callcenter", 300.0)]
    for row in rows:
        assert set(row) == {"strategy", "load", "tiers", "worst_shortfall", "occupancy"}
        assert set(row["tiers"]) == {"platinum", "ordinary"}
        for tier in row["tiers"].values():
            assert set(tier) == {"service_level", "target", "asa_s", "abandon_rate", "wait_p50_s", "wait_p95_s",
                                 "wait_p99_s"}
            assert 0.0 <= tier["service_level"] <= 1.0 and 0.0 <= tier["abandon_rate"] <= 1.0
            assert tier["asa_s"] >= 0.0
            assert 0.0 <= tier["wait_p50_s"] <= tier["wait_p95_s"] <= tier["wait_p99_s"]
        targets = {n: t["target"] for n, t in row["tiers"].items()}
        assert targets == {"platinum": 0.9, "ordinary": 0.7}
        worst = max(targets[n] - t["service_level"] for n, t in row["tiers"].items())
        assert row["worst_shortfall"] == pytest.approx(worst, abs=2e-4)
        assert 0.0 < row["occupancy"] < 1.0


def test_the_text_table_and_one_strategy(small_scenario_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(small_scenario_file), *QUICK, "--strategy", "helpline,app_queue"]) == 0
    out = capsys.readouterr().out
    assert "load 201.0 calls/h (85% occupancy)" in out
    assert "helpline       platinum" in out and "app_queue      worst shortfall" in out
    assert "mod_callcenter" not in out


def test_bad_options_exit_2(small_scenario_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(small_scenario_file), "--strategy", "acd"]) == 2
    assert "--strategy: unknown acd" in capsys.readouterr().err
    assert main(["simulate", str(small_scenario_file), "--seeds", "a,b"]) == 2
    assert main(["simulate", str(small_scenario_file), "--load", "85%%"]) == 2


def test_a_broken_scenario_exits_2_naming_file_line_and_field(tmp_path: Path, small: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(small.replace("share: 0.8, patience_s: 90", "share: -1, patience_s: 90"), encoding="utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "simulate", str(path), "--json"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{path}:7:48: HL-E106 tiers.ordinary.share: Input should be greater than 0" in result.stderr
