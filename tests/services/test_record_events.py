"""Extensions' record events around the record service: before_save may change or refuse a save, a failing
or slow event never loses one, after_save and after_delete see what was written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import helpline.extension_registry as reg_module
from helpline.data.database import session
from helpline.extension_registry import Extension, ExtensionRegistry, RecordEvent, Refuse
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.records import ValidationFailed

SYSTEM = Actor.system()


@pytest.fixture
def events() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def before(event: RecordEvent) -> None:
        if event.values.get("name") == "refuse me":
            raise Refuse("this name is on the billing system's stop list")
        if "remarks" in event.values or event.before is None:
            event.values["remarks"] = (event.values.get("remarks") or "") + " [checked]"

    def after(event: RecordEvent) -> None:
        seen.append((event.entity, event.event, dict(event.values) or dict(event.before or {})))

    def broken(event: RecordEvent) -> None:
        raise RuntimeError("the extension is broken")

    let_go = threading.Event()

    def slow(event: RecordEvent) -> None:
        let_go.wait(5)  # held until the test is over (its limit leaves it long before)

    good = Extension("good", ivr_hooks={}, record_events={"customer": {"before_save": before, "after_save": after,
                                                                       "after_delete": after}})
    bad = Extension("zbad", time_limit_s=0.2, record_events={"*": {"before_save": broken, "after_save": slow}})
    old = reg_module._registry
    reg_module._registry = ExtensionRegistry([good, bad])
    yield seen
    let_go.set()
    reg_module._registry = old


def test_before_save_changes_and_after_save_sees_the_row(platform: Platform, events: list[Any]) -> None:
    started = time.monotonic()
    rec = platform.records.create(SYSTEM, "customer", {"customer_no": "C1", "name": "张三", "remarks": "vip"})
    assert rec.values["remarks"] == "vip [checked]"
    assert time.monotonic() - started < 3  # the slow after_save ran over its 0.2 s limit and was left
    updated = platform.records.update(SYSTEM, "customer", rec.id, {"remarks": "moved"})
    assert updated.values["remarks"] == "moved [checked]"
    platform.records.delete(SYSTEM, "customer", rec.id)
    assert [(e, ev) for e, ev, _ in events] == [("customer", "after_save"), ("customer", "after_save"),
                                                ("customer", "after_delete")]
    assert events[1][2]["remarks"] == "moved [checked]" and events[2][2]["customer_no"] == "C1"


def test_refuse_refuses_with_its_message_and_writes_nothing(platform: Platform, events: list[Any]) -> None:
    with pytest.raises(ValidationFailed) as info:
        platform.records.create(SYSTEM, "customer", {"customer_no": "C2", "name": "refuse me"})
    assert info.value.errors["*"].params["message"] == "this name is on the billing system's stop list"
    with session():
        assert platform.models["customer"].select().count() == 0
    assert events == []
