"""A page outlives a dropped socket for as long as a busy server or browser takes to reconnect: NiceGUI's 3 s
default deleted it first, the reconnecting browser was refused and reloaded the page, losing what was typed
(tests/ui/test_browser_reminder.py failed so at a load of 15-25 on 2 cores)."""

from __future__ import annotations

from nicegui import app
from nicegui.testing import User

from helpline.ui.app import RECONNECT_TIMEOUT_S


async def test_a_page_waits_for_its_browser_to_reconnect_longer_than_a_busy_machine_takes(user: User) -> None:
    await user.open("/login")
    assert user.client is not None
    assert RECONNECT_TIMEOUT_S >= 15
    assert user.client.page.resolve_reconnect_timeout() == RECONNECT_TIMEOUT_S  # what the running app gives
    assert app.config.reconnect_timeout == RECONNECT_TIMEOUT_S  # the socket's ping interval follows it
    [socket] = list(user.client._socket_to_document_id)
    user.client.handle_disconnect(socket)  # the socket drops: the page waits for the browser
    assert not user.client.is_deleted and user.client._delete_tasks
