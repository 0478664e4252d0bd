"""YAML aliases: a "billion laughs" file is refused at once with HL-E005 (it made ``run.py check`` run past 60 s
at 2.4 GB), an alias that contains itself too; aliases of ordinary size still load."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpline.metadata.loader import load_directory, parse_text
from helpline.metadata.yamlpos import MAX_ALIAS_VALUES, AliasExpansionError, load_with_positions

ROOT = Path(__file__).resolve().parents[2]


def laughs(levels: int, width: int = 10, name: str = "customer") -> str:
    """An entity file whose last key expands to ``width ** levels`` strings."""
    lines = ["kind: entity", f"name: {name}", f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_check_refuses_a_billion_laughs_fast(write_metadata) -> None:
    root = write_metadata({"entities/laughs.yaml": laughs(10, name="laughs")}, base=ROOT / "metadata")
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "check", "--metadata", str(root)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if ": HL-" in line]
    assert problems == ["entities/laughs.yaml:11:5: HL-E005 aliases would expand this file to 12,345,679,025 "
                        "values (at most 10,000 may come from aliases)"], result.stdout + result.stderr
    assert elapsed < 20, f"run.py check took {elapsed:.1f} s"  # a process start and the demo set: ~3 s here


def test_the_parse_itself_is_immediate() -> None:
    started = time.monotonic()
    for levels in (10, 30):  # 10^30 values: the sizes are counted per distinct node, never expanded
        parsed = parse_text(laughs(levels), "entities/customer.yaml")
        assert [p.id for p in parsed.problems] == ["HL-E005"] and parsed.obj is None
    assert time.monotonic() - started < 5  # counted, not expanded (10^30 values would never end)


def test_an_alias_that_contains_itself_is_refused() -> None:
    parsed = parse_text("kind: entity\nname: x\nloop: &a [1, *a]\n", "entities/x.yaml")
    assert [(p.id, p.line, p.column) for p in parsed.problems] == [("HL-E005", 3, 7)]
    assert "never end" in parsed.problems[0].message


def test_aliases_of_ordinary_size_still_load() -> None:
    text = "a: &x {p: 1}\nb: *x\nc: {<<: *x, q: 2}\nd: &w [*x, *x]\ne: [*w, *w]\n"
    assert load_with_positions(text).data == {"a": {"p": 1}, "b": {"p": 1}, "c": {"p": 1, "q": 2},
                                              "d": [{"p": 1}] * 2, "e": [[{"p": 1}] * 2] * 2}
    at_limit = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a"] * 99) + "]\n"
    assert len(load_with_positions(at_limit).data["b"]) == 99  # 99 aliases of 101 values: 9,999 added
    with pytest.raises(AliasExpansionError):
        load_with_positions(at_limit.replace("*a]", "*a, *a]"))  # 10,100 added
    assert MAX_ALIAS_VALUES == 10_000


def test_the_broken_case_is_the_only_problem_of_its_folder() -> None:
    result = load_directory(Path(__file__).parent / "cases" / "HL-E005")
    assert [p.id for p in result.problems] == ["HL-E005"]
