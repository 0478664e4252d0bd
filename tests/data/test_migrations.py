"""Additive automatic migrations; destructive changes refused with the field named, unless explicit."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.data.database import db, session
from helpline.data.entities import EntityModels
from helpline.data.migrate import DestructiveChangeRefused, apply_migration, plan_migration
from helpline.security.actor import Actor
from helpline.services.platform import Platform

THING = """\
kind: entity
name: thing
label: Thing
fields:
  - {name: title, type: text, label: Title, required: true}
  - {name: amount, type: decimal, label: Amount}
"""


def _start(db_url: str, root: Path) -> Platform:
    p = Platform()
    p.start(db_url, str(root))
    return p


def test_new_table_column_and_index_are_added(db_url: str, write_metadata) -> None:
    root = write_metadata({"entities/thing.yaml": THING})
    p = _start(db_url, root)
    p.records.create(Actor.system(), "thing", {"title": "first", "amount": "1.50"})
    (root / "entities/thing.yaml").write_text(
        THING + "  - {name: boxes, type: int, label: Boxes, indexed: true}\n"
                "  - {name: serial, type: text, label: Serial, unique: true}\n", encoding="utf-8")
    p.store.sync_files(root)
    with session():
        columns = {c.name for c in db.get_columns("thing")}
        indexes = {tuple(i.columns): i.unique for i in db.get_indexes("thing")}
    assert {"boxes", "serial"} <= columns
    assert indexes[("boxes",)] is False and indexes[("serial",)] is True
    rec = p.records.create(Actor.system(), "thing", {"title": "second", "boxes": 3, "serial": "S1"})
    assert rec.values["boxes"] == 3
    old = p.records.get(Actor.system(), "thing", 1)
    assert old.values["title"] == "first" and old.values["boxes"] is None
    with session():
        assert plan_migration(p.models).steps == []


def test_dropping_a_field_is_refused_naming_it_and_nothing_changes(db_url: str, write_metadata) -> None:
    root = write_metadata({"entities/thing.yaml": THING})
    p = _start(db_url, root)
    p.records.create(Actor.system(), "thing", {"title": "keep me", "amount": 2})
    base = p.store.current("entity", "thing")
    without_amount = base.source.replace("  - {name: amount, type: decimal, label: Amount}\n", "")
    with pytest.raises(DestructiveChangeRefused, match=r"thing\.amount"):
        p.publish("entity", "thing", without_amount, actor=Actor.system())
    with session():
        assert "amount" in {c.name for c in db.get_columns("thing")}
    assert p.metadata.entities["thing"].field("amount") is not None
    assert p.records.get(Actor.system(), "thing", 1).values["amount"] == 2


def test_type_change_is_refused_and_retiring_is_the_way(db_url: str, write_metadata) -> None:
    root = write_metadata({"entities/thing.yaml": THING})
    p = _start(db_url, root)
    changed = THING.replace("type: decimal", "type: date")
    with session():
        plan = plan_migration(EntityModels(p.metadata.replaced(
            p.store.check_candidate("entity", "thing", changed)[0].obj, "entity", "thing")))
    assert [s.action for s in plan.destructive] == ["alter_type"]
    assert "amount" in plan.destructive[0].describe()
    retired = THING.replace("label: Amount}", "label: Amount, retired: true}")
    p.publish("entity", "thing", retired, actor=Actor.system())
    with session():
        assert "amount" in {c.name for c in db.get_columns("thing")}
    assert p.metadata.entities["thing"].field("amount").retired


def test_explicit_destructive_migration(db_url: str, write_metadata) -> None:
    root = write_metadata({"entities/thing.yaml": THING})
    p = _start(db_url, root)
    slim = THING.replace("  - {name: amount, type: decimal, label: Amount}\n", "")
    mset = p.metadata.replaced(p.store.check_candidate("entity", "thing", slim)[0].obj, "entity", "thing")
    models = EntityModels(mset)
    with session():
        with pytest.raises(DestructiveChangeRefused):
            apply_migration(models)
        apply_migration(models, allow_destructive=True)
        assert "amount" not in {c.name for c in db.get_columns("thing")}
