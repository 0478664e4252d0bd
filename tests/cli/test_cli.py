"""run.py: every subcommand has --help; check, export, migrate and demo work from the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpline.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[2]


def run_py(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: run.py " + command in capsys.readouterr().out


def test_check_ok_prints_a_summary() -> None:
    result = run_py("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ") and re.search(r"\d+ entity, \d+ category", result.stdout)


def test_check_reports_every_problem_and_exits_1(write_metadata) -> None:
    root = write_metadata({
        "entities/a.yaml": "kind: entity\nname: a\nlabel: A\nfields:\n  - {name: x, type: txt, label: X}\n",
        "screens/s.yaml": "kind: screen\nname: s\nentity: b\nview: list\ntitle: S\ncolumns: [x]\n",
        "menus/m.yaml": "kind: menu\nname: m\nlabel: M\nitems:\n  - {name: i, label: I, page: nope}\n",
    })
    result = run_py("check", "--metadata", str(root))
    assert result.returncode == 1
    assert "entities/a.yaml:5:21: HL-E105" in result.stdout
    assert "screens/s.yaml:3:9: HL-E202" in result.stdout
    assert "menus/m.yaml:5:31: HL-E217" in result.stdout
    assert "hint:" in result.stdout and "^" in result.stdout
    as_json = json.loads(run_py("check", "--metadata", str(root), "--json").stdout)
    assert sorted(p["id"] for p in as_json) == ["HL-E105", "HL-E202", "HL-E217"]


def test_export_migrate_and_demo_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/h.db"
    demo = run_py("demo", "--db", url, "--customers", "50")
    assert demo.returncode == 0, demo.stderr
    assert "50 customers" in demo.stdout
    again = run_py("demo", "--db", url, "--customers", "50")
    assert "already has customers" in again.stdout
    assert "added 10 customers" in run_py("demo", "--db", url, "--customers", "10", "--add").stdout
    exported = run_py("export", str(tmp_path / "out"), "--db", url)
    assert exported.returncode == 0 and re.search(r"exported \d+ objects", exported.stdout)
    written = (tmp_path / "out/entities/customer.yaml").read_bytes()
    assert written == (ROOT / "metadata/entities/customer.yaml").read_bytes()
    plan = run_py("migrate", "--db", url, "--dry-run")
    assert plan.returncode == 0 and "the schema matches the metadata" in plan.stdout


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = run_py("demo", "--db", "mysql://x/y")
    assert result.returncode != 0
    assert "must start with sqlite:// or postgresql://" in result.stderr
