"""One cause, one problem: a broken object is reported once, and references to it from other objects are not
reported again as unknown (an empty "Opens" of one menu item used to add an HL-E207 per role grant)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from helpline.metadata.loader import load_directory

SHIPPED = Path(__file__).resolve().parents[2] / "metadata"


def test_an_item_with_an_empty_target_is_one_problem(write_metadata: Callable[..., Path]) -> None:
    text = (SHIPPED / "menus" / "main.yaml").read_text(encoding="utf-8")
    broken, count = re.subn(r"screen: customer_list\b", 'screen: ""', text, count=1)
    assert count == 1
    root = write_metadata({"menus/main.yaml": broken}, base=SHIPPED)
    problems = load_directory(root).problems
    assert [(p.id, p.location.split(":")[0]) for p in problems] == [("HL-E104", "menus/main.yaml")], \
        "\n".join(p.format() for p in problems)
    assert "is empty" in problems[0].message


def test_a_role_still_reports_a_wrong_reference_to_a_good_menu(write_metadata: Callable[..., Path]) -> None:
    text = (SHIPPED / "roles" / "agent.yaml").read_text(encoding="utf-8")
    root = write_metadata({"roles/agent.yaml": text.replace("main.outages", "main.outagez")}, base=SHIPPED)
    problems = load_directory(root).problems
    assert [p.id for p in problems] == ["HL-E207"] and "main.outagez" in problems[0].message
