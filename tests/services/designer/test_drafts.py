"""Drafts of the designers: saved per author, checked with all the author's drafts, previewed, published
together (one transaction, audited), refused when broken, stale or destructive, rolled back."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from helpline.data.database import db, session
from helpline.data.migrate import DestructiveChangeRefused
from helpline.diagnostics import ProblemsError
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.designer.drafts import DraftService
from helpline.services.metadata_store import RevisionConflict
from helpline.services.platform import Platform

BOXES = {"name": "set_top_boxes", "type": "int", "label": {"en": "Set-top boxes", "zh_CN": "机顶盒数量"},
         "validation": {"min": 0}}


def admin(p: Platform, name: str = "admin") -> Actor:
    return Actor(name, roles=("administrator",)).bind(p.metadata)


def with_field(p: Platform, service: DraftService, actor: Actor, field: dict[str, Any]) -> dict[str, Any]:
    opened = service.open(actor, "entity", "customer")
    assert opened.data is not None
    data = copy.deepcopy(opened.data)
    data["fields"].append(field)
    return data


def test_open_gives_live_then_draft(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    live = service.open(actor, "menu", "main")
    assert not live.is_draft and live.base_revision is not None and live.data is not None
    data = copy.deepcopy(live.data)
    data["label"]["en"] = "Main menu (draft)"
    assert service.save(actor, "menu", "main", data, live.base_revision) == []
    draft = service.open(actor, "menu", "main")
    assert draft.is_draft and draft.data is not None and draft.data["label"]["en"] == "Main menu (draft)"
    assert draft.base_revision == live.base_revision
    assert platform.metadata.menus["main"].label.en == "Main menu"  # nothing live changed
    other = admin(platform, "admin2")
    assert not service.open(other, "menu", "main").is_draft  # drafts are per author


def test_problem_is_placed_on_the_value_that_causes_it(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    base = service.open(actor, "entity", "customer").base_revision
    data = with_field(platform, service, actor, {**BOXES, "default": "abc"})
    problems = service.save(actor, "entity", "customer", data, base)
    assert [p.id for p in problems] == ["HL-E215"]
    index, elsewhere = service.problems_of(actor, "entity", "customer")
    position = len(data["fields"]) - 1
    assert [p.id for p in index.at("fields", position)] == ["HL-E215"]
    assert [p.id for p in index.at("fields", position, "default")] == ["HL-E215"]
    assert index.at("fields", 0) == [] and elsewhere == []


def test_drafts_are_checked_and_published_together(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    base = service.open(actor, "entity", "customer").base_revision
    form = service.open(actor, "screen", "customer_form")
    assert form.data is not None
    screen = copy.deepcopy(form.data)
    screen["layout"][0]["fields"].append("set_top_boxes")
    problems = service.save(actor, "screen", "customer_form", screen, form.base_revision)
    assert any(p.id == "HL-E203" for p in problems)  # the field does not exist yet
    assert not service.save(actor, "entity", "customer", with_field(platform, service, actor, BOXES), base)
    preview, problems = service.preview(actor)
    assert not problems and preview.entities["customer"].field("set_top_boxes") is not None
    assert platform.metadata.entities["customer"].field("set_top_boxes") is None
    with pytest.raises(ProblemsError) as refused:
        service.publish(actor, "  ")
    assert refused.value.problems[0].id == "HL-D001"
    revisions = service.publish(actor, "set-top boxes on the customer form")
    assert len(revisions) == 2 and service.drafts(actor) == []
    assert platform.metadata.entities["customer"].field("set_top_boxes") is not None
    assert "set_top_boxes" in platform.metadata.screens["customer_form"].layout[0].fields
    model = platform.models["customer"]
    with session():  # migrated without restart
        assert "set_top_boxes" in {c.name for c in db.get_columns(model._meta.table_name)}
    with session():
        entries = search_audit(action="publish", entity="metadata.screen")
    assert entries and entries[0]["detail"]["comment"] == "set-top boxes on the customer form"


def test_second_publisher_is_told_and_shown_the_difference(platform: Platform) -> None:
    service = DraftService(platform)
    first, second = admin(platform, "admin"), admin(platform, "admin2")
    for actor, text in ((first, "First"), (second, "Second")):
        opened = service.open(actor, "menu", "main")
        assert opened.data is not None
        data = copy.deepcopy(opened.data)
        data["label"]["en"] = text
        service.save(actor, "menu", "main", data, opened.base_revision)
    service.publish(first, "first")
    with pytest.raises(RevisionConflict) as conflict:
        service.publish(second, "second")
    assert "+label:" in conflict.value.diff.replace(" ", "") or "First" in conflict.value.diff
    assert platform.metadata.menus["main"].label.en == "First"  # nothing overwritten
    assert "Second" in service.conflict_diff(second, "menu", "main")
    service.rebase(second, "menu", "main")
    service.publish(second, "second, after review")
    assert platform.metadata.menus["main"].label.en == "Second"


def test_new_object_made_by_someone_else_meanwhile_conflicts(platform: Platform) -> None:
    service = DraftService(platform)
    a, b = admin(platform, "admin"), admin(platform, "admin2")
    tree = {"kind": "category", "name": "box_models", "label": {"en": "Box models"},
            "nodes": [{"code": "hd", "label": {"en": "HD"}}]}
    for actor in (a, b):
        service.save(actor, "category", "box_models", tree, None)
    service.publish(a, "box models")
    with pytest.raises(RevisionConflict):
        service.publish(b, "box models too")


def test_destructive_change_is_refused_and_nothing_changes(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    opened = service.open(actor, "entity", "outage")
    assert opened.data is not None
    data = copy.deepcopy(opened.data)
    changed = next(f for f in data["fields"] if f["name"] == "notice_en")
    changed["type"] = "int"  # the stored texts would be lost
    assert service.save(actor, "entity", "outage", data, opened.base_revision) == []
    before = len(platform.store.history("entity", "outage"))
    with pytest.raises(DestructiveChangeRefused) as refused:
        service.publish(actor, "make it a number")
    assert changed["name"] in str(refused.value) and "Retire the field instead" in str(refused.value)
    assert len(platform.store.history("entity", "outage")) == before
    field = platform.metadata.entities["outage"].field(changed["name"])
    assert field is not None and field.type == "long_text"
    assert service.drafts(actor)  # the draft is kept for the author to fix


def test_permission_is_checked_on_the_server(platform: Platform) -> None:
    service = DraftService(platform)
    agent = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        service.open(agent, "menu", "main")
    with pytest.raises(PermissionDenied):
        service.save(agent, "menu", "main", {"kind": "menu", "name": "main"}, None)
    with pytest.raises(PermissionDenied):
        service.publish(agent, "no")


def test_rollback_is_a_new_revision_and_drops_the_draft(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    first = service.open(actor, "menu", "main")
    assert first.data is not None and first.base_revision is not None
    data = copy.deepcopy(first.data)
    data["label"]["en"] = "Changed"
    service.save(actor, "menu", "main", data, first.base_revision)
    service.publish(actor, "rename")
    service.save(actor, "menu", "main", data, service.open(actor, "menu", "main").base_revision)
    revision = service.rollback(actor, "menu", "main", first.base_revision)
    assert platform.metadata.menus["main"].label.en == "Main menu"
    assert revision > first.base_revision and not service.open(actor, "menu", "main").is_draft
    assert platform.store.diff(first.base_revision, revision) == ""


def test_discard(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    opened = service.open(actor, "menu", "main")
    service.save(actor, "menu", "main", opened.data, opened.base_revision)
    service.save(actor, "menu", "other", None, None)
    assert service.count(actor) == 2
    assert service.discard(actor, "menu", "main") == 1
    assert [d.name for d in service.drafts(actor)] == ["other"]
    assert service.discard(actor) == 1
