"""NiceGUI's server-side storage files (``.nicegui/storage-*.json``: who is signed in, per browser session)
readable by their owner only: the folder 0700, each file 0600.

NiceGUI writes them with the process's umask (usually 0644, readable by every local user, and a session id in
them is as good as a password). :func:`install` makes new user storage of this process a
:class:`PrivateFilePersistentDict`, which writes through ``os.open(..., 0o600)``, and tightens what exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from nicegui import app, background_tasks, core
from nicegui.helpers import unlink_with_retry, unlink_with_retry_async
from nicegui.persistence import FilePersistentDict, PersistentDict
from nicegui.persistence.serialization import dumps
from nicegui.storage import Storage

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create ``path`` (owner only) or take its permissions down to the owner."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def write_private(path: Path, text: str, encoding: str | None) -> None:
    """Write ``text`` to ``path`` readable by the owner only (also when the file existed with wider rights)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding=encoding or "utf-8") as f:
        os.fchmod(f.fileno(), FILE_MODE)
        f.write(text)


class PrivateFilePersistentDict(FilePersistentDict):
    """NiceGUI's file storage, written 0600 in a 0700 folder (same temporary-file-then-rename protocol)."""

    def backup(self) -> None:
        if not self.filepath.exists():
            if not self:
                return
            private_dir(self.filepath.parent)
        tmp = self.filepath.with_name(self.filepath.name + ".tmp")

        @background_tasks.await_on_shutdown
        async def async_backup() -> None:
            if not self:
                tmp.unlink(missing_ok=True)
                await unlink_with_retry_async(self.filepath, missing_ok=True)
                return
            text = dumps(self, str(self.filepath), indent=self.indent)
            await asyncio.to_thread(write_private, tmp, text, self.encoding)
            with contextlib.suppress(FileNotFoundError):
                tmp.replace(self.filepath)

        if core.is_loop_running():
            background_tasks.create_lazy(async_backup(), name=self.filepath.stem)
        elif not self:
            tmp.unlink(missing_ok=True)
            unlink_with_retry(self.filepath, missing_ok=True)
        else:
            write_private(tmp, dumps(self, str(self.filepath), indent=self.indent), self.encoding)
            tmp.replace(self.filepath)


def _create(id: str) -> PersistentDict:
    if Storage.redis_url:
        return _original(id)
    return PrivateFilePersistentDict(Storage.path / f"storage-{id}.json", encoding="utf-8")


_original = Storage._create_persistent_dict


def install() -> None:
    """New storage files of this process owner-only; the folder and the files already there tightened."""
    Storage._create_persistent_dict = staticmethod(_create)  # type: ignore[method-assign]
    if Storage.redis_url:
        return
    private_dir(Storage.path)
    for path in Storage.path.glob("storage-*.json*"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, FILE_MODE)
    general = app.storage._general
    if type(general) is FilePersistentDict:  # made when NiceGUI was imported: written 0600 from now on
        private = PrivateFilePersistentDict(general.filepath, encoding="utf-8")
        private.update(dict(general))
        app.storage._general = private
