"""The three upstream detours :mod:`helpline.ui.socket_hops` takes out: the outbox and the socket's writer wake in
the loop turn after their event is set (upstream: two turns later), and a room of one socket gets the same packets
without a task per recipient — against a real python-socketio server on a local port and real clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio
import uvicorn
from engineio import async_socket
from nicegui import outbox
from socketio.async_manager import AsyncManager

from helpline.ui import socket_hops


async def turns_until_woken(wait: Callable[[asyncio.Event], Any]) -> int:
    """Loop turns after the one following ``event.set()`` until the task waiting with ``wait`` runs again."""
    event, turns, woken = asyncio.Event(), [0], asyncio.get_running_loop().create_future()

    async def waiter() -> None:
        await wait(event)
        woken.set_result(turns[0])

    def count() -> None:
        turns[0] += 1
        if not woken.done():
            asyncio.get_running_loop().call_soon(count)

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)  # the waiter is waiting
    event.set()
    asyncio.get_running_loop().call_soon(count)
    result = await woken
    await task
    return int(result)


async def test_the_outbox_wakes_one_turn_after_its_event() -> None:
    socket_hops.install()
    upstream = await turns_until_woken(lambda e: asyncio.wait_for(e.wait(), timeout=1.0))
    ours = await turns_until_woken(lambda e: outbox.asyncio.wait_for(e.wait(), timeout=1.0))
    writer = await turns_until_woken(lambda e: async_socket.asyncio.wait_for(e.wait(), 30))  # the socket's writer
    assert ours == writer == 0 and upstream >= 2, (upstream, ours, writer)  # woken in the turn after set()


async def test_the_outbox_wait_keeps_its_timeout_and_result() -> None:
    assert await socket_hops.wait_for(asyncio.sleep(0, result="done"), 1.0) == "done"
    with pytest.raises(TimeoutError):
        await socket_hops.wait_for(asyncio.Event().wait(), 0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served() -> AsyncIterator[tuple[socketio.AsyncServer, list[tuple[str, list[Any]]], list[Any]]]:
    """A socket.io server on a local port and two connected clients; ``got`` collects (client, event args);
    ``sids`` the clients' server-side ids in connection order."""
    socket_hops.install()
    sio = socketio.AsyncServer(async_mode="asgi")
    sids: list[str] = []

    @sio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        sids.append(sid)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(socketio.ASGIApp(sio), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    got: list[tuple[str, list[Any]]] = []
    clients = []
    for name in ("one", "two"):
        client = socketio.AsyncClient()
        client.on("*", lambda event, *args, n=name: got.append((n, [event, *args])))
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        while len(sids) < len(clients) + 1:
            await asyncio.sleep(0.01)
        clients.append(client)
    try:
        yield sio, got, sids
    finally:
        for client in clients:
            await client.disconnect()
        server.should_exit = True
        await serving


async def test_a_room_of_one_gets_the_same_packets_without_a_task(served: Any) -> None:
    sio, got, sids = served
    assert getattr(AsyncManager.emit, "upstream", None) is not None  # installed
    await sio.enter_room(sids[0], "solo")
    for sid in sids:
        await sio.enter_room(sid, "pair")
    loop = asyncio.get_running_loop()
    tasks: list[Any] = []
    loop.set_task_factory(lambda lp, coro, **kw: tasks.append(coro) or asyncio.Task(coro, loop=lp, **kw))
    try:
        await sio.emit("update", {"1": {"text": "张伟"}, "_id": 7}, room="solo")
        await sio.emit("pair", ("a", 2), room="pair")  # two sockets: upstream's way, one task each
    finally:
        loop.set_task_factory(None)
    assert len(tasks) == 2, "no task for the room of one, one per socket for the pair"
    for _ in range(200):
        if len(got) == 3:
            break
        await asyncio.sleep(0.01)
    assert ("one", ["update", {"1": {"text": "张伟"}, "_id": 7}]) in got
    assert sorted(g for g in got if g[1][0] == "pair") == [("one", ["pair", "a", 2]), ("two", ["pair", "a", 2])]
    assert not [g for g in got if g[0] == "two" and g[1][0] == "update"]  # only the room's socket got it
