"""NiceGUI's event-listener ids without a system call on the event loop.

Why (issue 22, the screen-pop at 500 desktops). Every ``element.on(...)`` (each button, input, select of a
contact record form or a pop) makes an ``EventListener`` whose id is ``str(uuid.uuid4())`` (nicegui 3.18,
``nicegui/event_listener.py``). ``uuid4`` reads 16 bytes with ``os.urandom``, and CPython releases the GIL around
that ``getrandom`` call: while a worker thread is busy (loading the next pop, the database driver, the router),
the event-loop thread waits for the GIL to come back. Measured here with one busy thread: 0.37 ms a call against
0.004 ms for an id from a seeded generator; py-spy showed ``uuid4`` under 8 % of the desktop server's
event-loop samples during calls, most of it building forms.

A listener id only names a handler within its own page — the browser sends it back with the event, and a page
can only reach its own listeners — so it needs to be unique, not unpredictable. :func:`listener_id` makes a
version-4 UUID from a generator seeded once from ``os.urandom``. Client ids, session ids and everything else
NiceGUI makes with ``uuid4`` stay as they are. :func:`install` is called once by ``build()``.
"""

from __future__ import annotations

import os
import random
import types
import uuid

_ids = random.Random(os.urandom(32))


def listener_id() -> uuid.UUID:
    """A random version-4 UUID without a system call."""
    return uuid.UUID(int=_ids.getrandbits(128), version=4)


def install() -> None:
    """Give ``nicegui.event_listener`` its ids from :func:`listener_id` (idempotent)."""
    from nicegui import event_listener

    shim = types.ModuleType("uuid_listener_ids")
    shim.__dict__.update(uuid.__dict__)
    shim.uuid4 = listener_id  # type: ignore[attr-defined]
    event_listener.uuid = shim  # type: ignore[attr-defined]
