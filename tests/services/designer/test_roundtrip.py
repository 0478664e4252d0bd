"""A designer edit changes only what it changes: the YAML keeps its comments, key order and flow style, so a
one-item menu change is a one-line diff in the history (it used to rewrite the whole file)."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path

from helpline.metadata.roundtrip import update_text
from helpline.metadata.yamlpos import load_with_positions
from helpline.security.actor import Actor
from helpline.services.categories import add_code
from helpline.services.designer import menu_ops
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform

SHIPPED = Path(__file__).resolve().parents[3] / "metadata"


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_every_shipped_file_round_trips_unchanged() -> None:
    for path in sorted(SHIPPED.glob("*/*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert update_text(text, load_with_positions(text).data) == text, path.name


def test_items_added_removed_and_moved_keep_the_rest() -> None:
    text = (SHIPPED / "menus" / "main.yaml").read_text(encoding="utf-8")
    data = load_with_positions(text).data
    menu_ops.add_item(data, "Set-top boxes", parent="service", target=("screen", "customer_list"))
    menu_ops.remove(data, "outages")
    menu_ops.move(data, "contact_records", 1)
    out = update_text(text, data)
    assert load_with_positions(out).data == data
    assert out.startswith("# The main menu (主菜单)")
    new_line = next(line for line in out.splitlines() if "set_top_boxes" in line)
    assert new_line.lstrip().startswith("- {name: set_top_boxes"), "a new item in its siblings' flow style"
    diff = "\n".join(difflib.unified_diff(text.splitlines(), out.splitlines(), lineterm=""))
    assert len(changed_lines(diff)) == 4, diff  # one added, one removed, one moved (two lines)


def test_a_one_item_menu_change_is_a_one_line_diff(platform: Platform) -> None:
    service, actor = DraftService(platform), Actor("admin", roles=("administrator",)).bind(platform.metadata)
    live = service.open(actor, "menu", "main")
    assert live.data is not None and live.base_revision is not None
    data = copy.deepcopy(live.data)
    menu_ops.set_label(data, "customers", "en", "Clients")
    service.save(actor, "menu", "main", data, live.base_revision)
    draft = service.open(actor, "menu", "main")
    assert "# Roles grant the whole menu" in draft.text, "comments kept in the draft"
    [revision] = service.publish(actor, "rename customers")
    diff = platform.store.diff(live.base_revision, revision)
    assert changed_lines(diff) == [
        "-  - {name: customers, parent: service, screen: customer_list, icon: people, "
        "label: {en: Customers, zh_CN: 客户资料}}",
        "+  - {name: customers, parent: service, screen: customer_list, icon: people, "
        "label: {en: Clients, zh_CN: 客户资料}}",
    ], diff


def test_run_time_category_edit_and_export_keep_the_file(platform: Platform, tmp_path: Path) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    before = platform.store.current("category", "value_tier")
    assert before is not None
    revision = add_code(platform, admin, "value_tier", "bronze", {"en": "Bronze", "zh_CN": "铜卡"}, parent="vip")
    diff = platform.store.diff(int(before.id), revision)
    assert [line[:1] for line in changed_lines(diff)] == ["+"], diff
    platform.store.export(tmp_path)
    exported = (tmp_path / "categories" / "value_tier.yaml").read_text(encoding="utf-8")
    original = (SHIPPED / "categories" / "value_tier.yaml").read_text(encoding="utf-8")
    assert exported.splitlines()[0] == original.splitlines()[0] and exported.startswith("#")
