"""The metadata store: sync by hash, revisions, validation on save, conflicts, history, rollback, export."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from helpline.diagnostics import ProblemsError
from helpline.services.metadata_store import RevisionConflict
from helpline.services.platform import Platform, StartupError

MENU_ITEM = "  - {name: extra, label: {en: Extra, zh_CN: 额外}, parent: service, screen: customer_list}\n"


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_sync_is_idempotent(platform: Platform, demo_metadata: Path) -> None:
    again = platform.store.sync_files(demo_metadata)
    assert again.ok and not again.added and not again.changed
    assert again.unchanged == len(platform.metadata)
    assert len(platform.store.history("entity", "customer")) == 1


def test_changed_file_makes_one_new_revision(platform: Platform, demo_metadata: Path) -> None:
    seen: list[list[tuple[str, str]]] = []
    platform.on_change(lambda mset, changed: seen.append(changed))
    _append(demo_metadata / "menus/main.yaml", MENU_ITEM)
    report = platform.store.sync_files(demo_metadata)
    assert report.changed == [("menu", "main")]
    assert platform.metadata.menus["main"].item("extra") is not None
    assert seen == [[("menu", "main")]]
    assert len(platform.store.history("menu", "main")) == 2
    assert platform.store.sync_files(demo_metadata).changed == []


def test_removed_file_is_reported_not_deleted(platform: Platform, demo_metadata: Path) -> None:
    (demo_metadata / "queries/work_orders_by_type_status.yaml").unlink()
    _append(demo_metadata / "menus/main.yaml", "")
    report = platform.store.sync_files(demo_metadata)
    assert report.removed_files == [("query", "work_orders_by_type_status")]
    assert "work_orders_by_type_status" in platform.metadata.queries


def test_broken_files_are_refused_and_last_good_set_keeps_serving(platform: Platform, demo_metadata: Path) -> None:
    path = demo_metadata / "screens/customer_list.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("columns:", "columns:\n  - no_such_field", 1),
                    encoding="utf-8")
    report = platform.store.sync_files(demo_metadata)
    assert not report.ok
    assert [p.id for p in report.problems] == ["HL-E203"]
    assert report.problems[0].file == "screens/customer_list.yaml"
    assert len(platform.store.history("screen", "customer_list")) == 1
    live, problems = platform.store.load_live()
    assert not problems and "customer_list" in live.screens


def test_start_with_broken_files_and_empty_database_fails_with_problems(db_url: str, write_metadata) -> None:
    root = write_metadata({"entities/thing.yaml": "kind: entity\nname: thing\nlabel: Thing\nfields: []\n"})
    with pytest.raises(StartupError, match="HL-E10"):
        Platform().start(db_url, str(root))


def test_save_validates_the_whole_set(platform: Platform) -> None:
    source = platform.store.current("screen", "customer_list").source
    broken = source.replace("form: customer_form", "form: no_such_form")
    assert broken != source
    with pytest.raises(ProblemsError) as info:
        platform.store.save("screen", "customer_list", broken, author="admin")
    assert [p.id for p in info.value.problems] == ["HL-E205"]
    assert len(platform.store.history("screen", "customer_list")) == 1


def test_save_history_diff_and_rollback(platform: Platform) -> None:
    first = platform.store.current("menu", "main")
    new_text = first.source + MENU_ITEM
    second = platform.store.save("menu", "main", new_text, author="admin", comment="add extra",
                                 base_revision=first.id)
    assert platform.metadata.menus["main"].item("extra") is not None
    diff = platform.store.diff(first.id, second.id)
    assert "+  - {name: extra" in diff and diff.startswith("--- revision")
    history = platform.store.history("menu", "main")
    assert (history[0].author, history[0].comment) == ("admin", "add extra")
    third = platform.store.rollback("menu", "main", first.id, author="admin")
    assert third.id > second.id and third.origin == "rollback"
    assert platform.metadata.menus["main"].item("extra") is None
    assert third.source == first.source


def test_second_publisher_is_told_about_the_conflict(platform: Platform) -> None:
    base = platform.store.current("menu", "main")
    platform.store.save("menu", "main", base.source + MENU_ITEM, author="alice", base_revision=base.id)
    other = base.source + MENU_ITEM.replace("extra", "other")
    with pytest.raises(RevisionConflict) as info:
        platform.store.save("menu", "main", other, author="bob", base_revision=base.id)
    assert "alice" in str(info.value)
    assert "+  - {name: extra" in info.value.diff
    assert platform.metadata.menus["main"].item("other") is None


def test_export_round_trip_gives_identical_files(platform: Platform, demo_metadata: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    written = platform.store.export(out)
    assert len(written) == len(platform.metadata)
    for path in written:
        rel = path.relative_to(out)
        assert filecmp.cmp(path, demo_metadata / rel, shallow=False), rel


def test_export_writes_designer_edits_as_yaml_that_loads_back(platform: Platform, tmp_path: Path) -> None:
    data = platform.metadata.menus["main"].model_dump(mode="json", exclude_defaults=True)
    data["items"].append({"name": "extra", "label": {"en": "Extra"}, "parent": "service", "screen": "customer_list"})
    platform.store.save("menu", "main", data, author="admin")
    out = tmp_path / "exported"
    platform.store.export(out)
    from helpline.metadata.loader import load_directory

    result = load_directory(out)
    assert result.ok, [p.format() for p in result.problems]
    assert result.metadata.menus["main"].item("extra") is not None


def test_file_changes_after_a_designer_edit_win_and_are_reported(platform: Platform, demo_metadata: Path) -> None:
    base = platform.store.current("menu", "main")
    platform.store.save("menu", "main", base.source + MENU_ITEM, author="admin")
    # An unchanged file does not undo the designer's edit ...
    assert platform.store.sync_files(demo_metadata).changed == []
    assert platform.metadata.menus["main"].item("extra") is not None
    # ... a changed file replaces it, and says so.
    _append(demo_metadata / "menus/main.yaml", MENU_ITEM.replace("extra", "from_file"))
    report = platform.store.sync_files(demo_metadata)
    assert report.overrode_web_edits == [("menu", "main")]
    assert platform.metadata.menus["main"].item("from_file") is not None


def test_remove_is_refused_while_referenced(platform: Platform) -> None:
    with pytest.raises(ProblemsError) as info:
        platform.store.remove("screen", "customer_form", author="admin")
    assert {p.id for p in info.value.problems} >= {"HL-E205"}
