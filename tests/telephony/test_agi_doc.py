"""docs/asterisk-agi.md stays in step with the code it describes: the environment block the test peer sends,
and the numbering of pyst2's defects that ``telephony/agi/channel.py`` (docstring and comments) uses."""

from __future__ import annotations

import re
from pathlib import Path

import telephony.agi.channel as channel
from telephony.agi.testpeer import DOC_ENVIRONMENT

DOC = Path(__file__).resolve().parents[2] / "docs" / "asterisk-agi.md"


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def test_environment_block_is_the_test_peers() -> None:
    block = _section("Environment block").split("```")[1]
    pairs = []
    for line in block.splitlines()[1:]:
        line = line.split("  #", 1)[0].rstrip()
        if line.strip():
            key, _, value = line.partition(":")
            pairs.append((key, value.strip()))
    assert pairs == [*DOC_ENVIRONMENT, ("agi_arg_1", "arg1"), ("agi_arg_2", "arg two")]


def _docstring_items() -> dict[int, str]:
    doc = channel.__doc__ or ""
    items = re.findall(r"^(\d+)\. (.*?)(?=^\d+\. |^\S*$)", doc, flags=re.M | re.S)
    return {int(number): text for number, text in items}


def _table_rows() -> dict[int, str]:
    rows = re.findall(r"^\| (\d+) \|(.*)$", _section("pyst2's defects and the workarounds"), flags=re.M)
    return {int(number): text for number, text in rows}


def test_defects_are_numbered_as_in_channel_py() -> None:
    items, rows = _docstring_items(), _table_rows()
    assert sorted(items) == list(range(1, 11)), "channel.py's docstring numbers the ten defects"
    assert sorted(rows) == sorted(items), "the doc's table has a row for each numbered defect"
    for number, text in items.items():
        names = set(re.findall(r"``([A-Za-z_][\w.]*)", text))
        shared = [name for name in names if f"`{name}" in rows[number]]
        assert shared, f"defect {number}: the doc's row names none of {sorted(names)}"


def test_defect_comments_in_the_code_use_known_numbers() -> None:
    source = Path(channel.__file__).read_text(encoding="utf-8")
    cited = {int(n) for n in re.findall(r"[Dd]efect (\d+)", source)}
    assert cited and cited <= set(_table_rows())
