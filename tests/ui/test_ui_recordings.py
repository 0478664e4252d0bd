"""The recordings page for QA staff: on qa1's menu, finds recorded calls by agent and queue, plays one through
``/recordings/<call>`` and every listen is audited; refused without ``supervisor.recordings``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.events import GenericEventArguments, handle_event
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.base import centre_today
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.security.audit import search_audit
from helpline.services.platform import Platform


def recorded_call(folder: Path, agent: str, queue: str) -> int:
    rel = f"helpline/{centre_today().isoformat()}/{agent}-{queue}.wav"
    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
    (folder / rel).write_bytes(b"RIFF....WAVEfmt ")
    with session():
        return int(Call.insert(uniqueid=f"{agent}-{queue}", agent=agent, queue=queue, started_at=datetime.now(),
                               call_recording=rel, talk_s=30.0).execute())


async def table_ids(user: User, expected: int) -> list[int]:
    for _ in range(100):
        table = user.find(marker="rec-table").elements.pop()
        assert isinstance(table, ui.table)
        if len(table.rows) == expected:
            break
        await asyncio.sleep(0.05)
    return sorted(int(r["id"]) for r in table.rows)


async def test_qa_finds_and_plays_recordings(user: User, ui_platform: Platform, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    first = recorded_call(tmp_path / "rec", "1001", "complaint")
    second = recorded_call(tmp_path / "rec", "1002", "complaint")
    third = recorded_call(tmp_path / "rec", "1001", "general")
    await log_in(user, "qa1")
    user.find("Recordings").click()  # on QA's menu
    await user.should_see(marker="rec-search", retries=100)
    assert await table_ids(user, 3) == sorted([first, second, third])
    user.find(marker="rec-agent").type("1001")
    user.find(marker="rec-queue").elements.pop().value = "complaint"
    user.find(marker="rec-search").click()
    assert await table_ids(user, 1) == [first]
    table = user.find(marker="rec-table").elements.pop()
    row = table.rows[0]
    assert row["queue"] == "Complaints" and row["agent"] == "1001"
    for listener in table._event_listeners.values():
        if listener.type == "rowClick":
            handle_event(listener.handler, GenericEventArguments(sender=table, client=table.client,
                                                                 args=[{}, row, 0]))
    await user.should_see(marker="rec-audio", retries=50)
    audio = user.find(marker="rec-audio").elements.pop()
    assert isinstance(audio, ui.audio) and audio.source == f"/recordings/{first}"
    for _ in range(2):  # what the player fetches, twice: each listen is audited
        response = await user.http_client.get(audio.source)
        assert response.status_code == 200 and response.content.startswith(b"RIFF")
    with session():
        plays = search_audit(actor="qa1", action="recording.play")
    assert [p["record_id"] for p in plays] == [str(first), str(first)]


async def test_agents_cannot_open_the_recordings_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/recordings")
    await see(user, "Not allowed")
    await user.should_not_see(marker="rec-search")
