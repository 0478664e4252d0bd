"""Fewer event-loop turns between a page's change and its socket: three upstream detours taken out.

Why (issue 22, the screen-pop at 500 desktops). An element changed in a handler reaches the browser through
NiceGUI's per-page outbox task and python-socketio's ``emit``. On a busy loop every *turn* costs: one turn runs
every callback that was ready when it began — other desktops' pops and contact forms being built (5–40 ms each),
the one-second ticker's chunks, a garbage collection — so a message that needs six turns waits behind up to six
of them. Measured with ``bench/bench_desktops.py`` (500 desktops over two processes): from the whole pop built to
the outbox starting to emit it p50 16 / p95 110 ms, to the message handed to the socket p95 +47 ms more, while
building the pop itself takes ≈ 5 ms of the loop.

The detours, numbered as upstream defects (Python 3.11, nicegui 3.18, python-socketio 5.18):

1. ``nicegui.outbox.Outbox.loop`` waits for its event with ``asyncio.wait_for(event.wait(), timeout=1.0)``. On
   Python 3.11 ``wait_for`` runs the wait as a task of its own and wakes the outbox through a done-callback and a
   second future: three turns after ``event.set()`` instead of one. Python 3.12 rewrote ``wait_for`` on
   ``asyncio.timeout`` (one turn); :func:`install` gives the outbox module that ``wait_for`` on 3.11.
2. ``socketio.AsyncManager.emit`` sends to every participant of the room through ``asyncio.create_task`` and
   ``asyncio.wait``: for NiceGUI's room of one socket that is three more turns (the task starts, ends, wakes the
   waiter). :func:`one_recipient_emit` sends to a room of one participant directly, the same packet as upstream
   builds; other rooms and emits with a callback go the upstream way.
3. ``engineio.async_socket.AsyncSocket`` hands the packet to the websocket's writer task through a queue that the
   writer reads with ``asyncio.wait_for(queue.get(), …)`` (and reads the browser's frames the same way): three
   turns again before the bytes are written. The socket module gets the same ``wait_for`` as the outbox.

All keep upstream's behaviour (timeout, packet, exceptions); tests/ui/test_socket_hops.py checks each against
the installed versions and counts the turns. :func:`install` is called once by ``build()``.
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

_installed = False


async def wait_for(awaitable: Awaitable[T], timeout: float | None) -> T:
    """``asyncio.wait_for`` as Python 3.12 does it: the awaitable runs in the calling task (defect 1)."""
    async with asyncio.timeout(timeout):
        return await awaitable


def _one_turn_asyncio() -> types.ModuleType:
    """The ``asyncio`` the outbox and socket modules see: the real one with :func:`wait_for` replaced."""
    shim = types.ModuleType("asyncio_one_turn")
    shim.__dict__.update(asyncio.__dict__)
    shim.wait_for = wait_for  # type: ignore[attr-defined]
    return shim


def one_recipient_emit(original: Any) -> Any:
    """``AsyncManager.emit`` sending to a room of one socket without a task per recipient (defect 2)."""
    from engineio import packet as eio_packet
    from socketio import packet

    async def emit(self: Any, event: str, data: Any, namespace: str, room: Any = None, skip_sid: Any = None,
                   callback: Any = None, to: Any = None, **kwargs: Any) -> Any:
        room = to or room
        if callback is not None or room is None or skip_sid is not None or namespace not in self.rooms:
            return await original(self, event, data, namespace, room=room, skip_sid=skip_sid, callback=callback,
                                  **kwargs)
        participants = list(self.get_participants(namespace, room))
        if len(participants) != 1:
            return await original(self, event, data, namespace, room=room, skip_sid=skip_sid, callback=callback,
                                  **kwargs)
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        for part in encoded if isinstance(encoded, list) else [encoded]:
            await self.server._send_eio_packet(participants[0][1], eio_packet.Packet(eio_packet.MESSAGE, part))
        return None

    emit.__doc__ = original.__doc__
    emit.upstream = original  # type: ignore[attr-defined]
    return emit


def install() -> None:
    """Take the detours out (once, for the whole process)."""
    global _installed
    if _installed:
        return
    from engineio import async_socket
    from nicegui import outbox
    from socketio.async_manager import AsyncManager

    if sys.version_info < (3, 12):
        outbox.asyncio = async_socket.asyncio = _one_turn_asyncio()  # type: ignore[attr-defined]
    AsyncManager.emit = one_recipient_emit(AsyncManager.emit)  # type: ignore[method-assign]
    _installed = True
