"""The simulated agent desktop of ``bench/bench_desktops.py``: one signed-in browser tab speaking NiceGUI's
socket.io protocol as ``nicegui.js`` does (handshake, acknowledgements, events), answering its screen-pops
and filing the contact record in wrap-up."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import socketio

CLIENT_ID = re.compile(r"'client_id': '([0-9a-f-]+)'")
NEXT_MESSAGE_ID = re.compile(r"'next_message_id': (\d+)")
TASKS: set[asyncio.Task[None]] = set()
"""Background tasks of the desktops (kept referenced until done)."""


@dataclass
class Desktop:
    """One simulated browser tab on ``/desktop`` (see the module docstring)."""

    agent: str
    base: str
    file_after: float | None = 1.0
    """Seconds into wrap-up when the agent files the call's contact record (None: never)."""
    timeout: float = 60.0
    login_path: str = "/_bench/login"
    """The server's test-only sign-in (the bench server's, or tests/telephony/cluster_server.py's)."""
    user: str = ""
    """The user signed in (default ``bench<agent>``)."""
    tab_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    document_id: str = ""
    http: aiohttp.ClientSession | None = None
    """The tab's HTTP session: its cookie jar holds the browser session's cookie; the socket uses it too."""
    client_id: str = ""
    next_message_id: int = 0
    acked: int = -1
    sio: socketio.AsyncClient | None = None
    closing: bool = False
    messages: dict[str, int] = field(default_factory=dict)
    serials: dict[str, float] = field(default_factory=dict)
    """Serial number (16 digits) shown in a label → when a message holding it first arrived."""
    clicked: set[int] = field(default_factory=set)
    """File buttons (element ids) clicked since they were last seen disabled (the desktop reuses its button)."""
    filed: int = 0
    """Contact records filed (file button clicks)."""
    disconnects: int = 0
    reconnects: int = 0
    reloads: int = 0
    failures: int = 0

    async def open(self) -> None:
        """Sign in (a session cookie), load the page, connect its socket."""
        jar = aiohttp.CookieJar(unsafe=True)  # unsafe: keep cookies of an IP address host
        self.http = aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=self.timeout))
        user = self.user or f"bench{self.agent}"
        async with self.http.get(f"{self.base}{self.login_path}", params={"user": user}) as r:
            r.raise_for_status()
        await self.load_page()
        await self.connect()

    async def load_page(self) -> None:
        """``GET /desktop``: the server builds the page's client; its id and first message id are in the page."""
        assert self.http is not None
        async with self.http.get(f"{self.base}/desktop") as r:
            r.raise_for_status()
            html = await r.text()
            if r.url.path != "/desktop":
                raise RuntimeError(f"agent {self.agent}: /desktop redirected to {r.url}")
        found, first = CLIENT_ID.search(html), NEXT_MESSAGE_ID.search(html)
        if found is None or first is None:
            raise RuntimeError(f"agent {self.agent}: no client id in the page")
        self.client_id, self.next_message_id = found.group(1), int(first.group(1))
        self.document_id, self.acked = str(uuid.uuid4()), -1

    async def connect(self) -> None:
        """The socket with the query ``nicegui.js`` sends: the implicit handshake happens on connect."""
        sio = socketio.AsyncClient(reconnection=False, http_session=self.http, request_timeout=self.timeout)
        for event in ("update", "run_javascript", "notify", "load_js_components", "open", "download"):
            sio.on(event, self._handler(event))
        sio.on("disconnect", self._disconnected)
        query = {"client_id": self.client_id, "next_message_id": self.next_message_id,
                 "implicit_handshake": "true", "document_id": self.document_id, "tab_id": self.tab_id}
        self.sio = sio
        await sio.connect(f"{self.base}/?{urlencode(query)}", socketio_path="/_nicegui_ws/socket.io",
                          transports=["websocket"], wait_timeout=self.timeout)

    def _handler(self, event: str) -> Any:
        async def handle(data: Any = None) -> None:
            now = time.monotonic()
            self.messages[event] = self.messages.get(event, 0) + 1
            if not isinstance(data, dict):
                return
            message_id = data.get("_id")
            if isinstance(message_id, int) and message_id >= self.next_message_id:
                self.next_message_id = message_id + 1
            if event == "update":
                for key, element in data.items():
                    if not isinstance(element, dict):
                        continue
                    text = element.get("text")
                    if isinstance(text, str) and len(text) == 16 and text.isdigit():
                        self.serials.setdefault(text, now)
                    if "desk-file" in element.get("class", ()):
                        self.maybe_file(int(key), element)
            elif event == "run_javascript" and data.get("request_id") and self.sio is not None:
                await self.sio.emit("javascript_response", {"request_id": data["request_id"],
                                                            "client_id": self.client_id, "result": None})
        return handle

    def maybe_file(self, element_id: int, element: dict[str, Any]) -> None:
        """The contact record's file button became enabled (the call is over): click it a moment later."""
        if element.get("props", {}).get("disable"):
            self.clicked.discard(element_id)  # the next call's record: it can be filed again in its wrap-up
            return
        if self.file_after is None or element_id in self.clicked:
            return
        listener = next((e["listener_id"] for e in element.get("events", ()) if e.get("type") == "click"), None)
        if listener is None:
            return
        self.clicked.add(element_id)
        client_id = self.client_id

        async def click() -> None:
            await asyncio.sleep(self.file_after or 0.0)
            if self.sio is not None and self.sio.connected and self.client_id == client_id:
                self.filed += 1
                await self.sio.emit("event", {"id": element_id, "client_id": client_id, "listener_id": listener,
                                              "args": []})

        TASKS.add(task := asyncio.create_task(click()))
        task.add_done_callback(TASKS.discard)

    async def _disconnected(self, *_: Any) -> None:
        self.disconnects += 1
        if not self.closing:
            TASKS.add(task := asyncio.create_task(self.recover()))
            task.add_done_callback(TASKS.discard)

    async def recover(self) -> None:
        """What the browser does when its socket drops: reconnect after 0.5–1.5 s with the same client id
        (the server resumes the client and resends what was not acknowledged); if the server has deleted the
        client meanwhile (the handshake is refused), reload the page."""
        for attempt in range(10):
            await asyncio.sleep(random.uniform(0.5, 1.5) * min(2**attempt, 5))
            if self.closing:
                return
            try:
                if attempt == 0:
                    await self.connect()
                    self.reconnects += 1
                else:
                    await self.load_page()
                    await self.connect()
                    self.reloads += 1
                return
            except (TimeoutError, socketio.exceptions.ConnectionError, aiohttp.ClientError, RuntimeError):
                continue
        self.failures += 1

    async def ack(self) -> None:
        """What ``nicegui.js`` does every 3 s: tell the server which messages arrived (it drops them)."""
        if self.sio is not None and self.sio.connected and self.acked < self.next_message_id:
            await self.sio.emit("ack", {"client_id": self.client_id, "next_message_id": self.next_message_id})
            self.acked = self.next_message_id

    async def close(self) -> None:
        self.closing = True
        if self.sio is not None and self.sio.connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sio.disconnect(), 5)
        if self.http is not None:
            await self.http.close()

    def total(self) -> int:
        return sum(self.messages.values())
