"""NiceGUI's event-listener ids come from :mod:`helpline.ui.listener_ids`: unique version-4 UUIDs made without
``os.urandom`` (a system call that hands the GIL away on the event loop); client and session ids keep uuid4."""

from __future__ import annotations

import os
import uuid

import pytest
from nicegui import client, event_listener
from nicegui.event_listener import EventListener

from helpline.ui import listener_ids


def listener() -> EventListener:
    return EventListener(element_id=1, type="click", args=[], handler=None, js_handler=None, throttle=0.0,
                         leading_events=True, trailing_events=True, request=None)


def test_listener_ids_are_unique_uuid4_made_without_a_system_call(monkeypatch: pytest.MonkeyPatch) -> None:
    listener_ids.install()

    def no_urandom(n: int) -> bytes:
        raise AssertionError("os.urandom called for a listener id")

    monkeypatch.setattr(os, "urandom", no_urandom)
    ids = [listener().id for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 for i in ids[:100])
    monkeypatch.undo()
    assert client.uuid.uuid4 is uuid.uuid4  # a page's own id stays a system-random uuid4
    assert event_listener.uuid.uuid4 is listener_ids.listener_id
