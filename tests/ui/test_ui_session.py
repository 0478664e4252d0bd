"""Browser sessions: a sign-in rotates the session id, the completion link works once and only in the browser
that signed in, and NiceGUI's storage files are readable by their owner only."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
from pathlib import Path

from nicegui import app
from nicegui.storage import Storage
from nicegui.testing import User
from ui_helpers import log_in

from helpline.ui.private_storage import PrivateFilePersistentDict, install


def session_id(user: User) -> str:
    """The NiceGUI session id in the browser's signed session cookie (base64 JSON before the first dot)."""
    raw = str(user.http_client.cookies.get("session") or "").strip('"')
    data = raw.split(".")[0]
    return str(json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))["id"])


async def test_sign_in_gives_the_browser_a_new_session_id(user: User) -> None:
    await user.open("/login")
    before, old_cookie = session_id(user), user.http_client.cookies.get("session")
    await log_in(user, "agent1")
    after = session_id(user)
    assert after != before
    assert app.storage._users[after]["username"] == "agent1"
    assert "username" not in app.storage._users.get(before, {})
    user.http_client.cookies.set("session", str(old_cookie))  # the id known before the sign-in opens nothing
    refused = await user.http_client.get("/screen/customer_list", follow_redirects=False)
    assert refused.status_code in (302, 303, 307) and refused.headers["location"].startswith("/login")


async def test_the_completion_link_works_once_and_only_in_its_browser(user: User) -> None:
    from helpline.ui import session

    await user.open("/login")
    here = session_id(user)
    session._pending["mine"] = session._PendingSignIn("agent2", "en", here, "/page/home", 1e12)
    session._pending["theirs"] = session._PendingSignIn("agent2", "en", "another-browser", "/", 1e12)
    stolen = await user.http_client.get("/login/complete?token=theirs", follow_redirects=False)
    assert stolen.headers["location"] == "/login" and session_id(user) == here
    done = await user.http_client.get("/login/complete?token=mine", follow_redirects=False)
    assert done.headers["location"] == "/page/home" and session_id(user) != here
    assert app.storage._users[session_id(user)]["username"] == "agent2"
    again = await user.http_client.get("/login/complete?token=mine", follow_redirects=False)
    assert again.headers["location"] == "/login", "a used link opens nothing"


async def test_storage_files_are_owner_only(user: User) -> None:
    await log_in(user, "qa1")
    path = Storage.path / f"storage-user-{session_id(user)}.json"
    for _ in range(100):  # NiceGUI writes the file on a background task
        if path.exists():
            break
        await asyncio.sleep(0.05)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Storage.path.stat().st_mode) == 0o700


def test_private_dict_writes_0600_in_a_0700_folder(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    stored = PrivateFilePersistentDict(folder / "storage-user-x.json", encoding="utf-8")
    stored["username"] = "agent1"  # no event loop here: written at once
    assert json.loads((folder / "storage-user-x.json").read_text())["username"] == "agent1"
    assert stat.S_IMODE((folder / "storage-user-x.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    install()
    assert isinstance(Storage._create_persistent_dict("user-y"), PrivateFilePersistentDict)
