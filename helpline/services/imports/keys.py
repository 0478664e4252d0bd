"""The keys an import run has met in its file, each with the first row that had it: a duplicate key inside one
file is refused naming both rows, and the deletion of missing records asks which keys the source had.

The first ``limit`` keys stay in a dict; the ones after go to a private temporary SQLite database
(``sqlite3.connect("")``: past its small page cache it is a file in the system's temporary folder that SQLite
removes when the register is closed, or the process ends), so the keys of a 1,000,000-row file cost ~12 MB of
memory instead of ~125 MB. Keys are looked up a batch at a time (one ``IN (…)`` query per 500 keys) and added
with one ``executemany``. The register is the loading process's own, whichever database the import writes to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

MEMORY_KEYS = 100_000
"""Keys held in memory before the rest go to the temporary database (~120 bytes a key in memory)."""
_CHUNK = 500
_FLUSH = 2000


class SeenKeys:
    """Keys → the file's row that first had each; a key added again keeps its first row."""

    def __init__(self, limit: int = MEMORY_KEYS) -> None:
        if limit < 0:
            raise ValueError(f"SeenKeys: limit must be 0 or more, not {limit}")
        self.limit = limit
        self._memory: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._disk: sqlite3.Connection | None = None
        self._on_disk = 0

    def __len__(self) -> int:
        self._flush()
        return len(self._memory) + self._on_disk

    @property
    def spilled(self) -> bool:
        """Whether keys went to the temporary database (more than ``limit`` were added)."""
        self._flush()
        return self._disk is not None

    def add(self, key: str, row: int) -> None:
        """Remember ``key`` first seen at ``row`` (no effect when it was seen before)."""
        self._pending.setdefault(key, row)
        if len(self._pending) >= _FLUSH:
            self._flush()

    def first_rows(self, keys: Iterable[str]) -> dict[str, int]:
        """The first row of each of ``keys`` seen already; the keys not seen are left out."""
        self._flush()
        found: dict[str, int] = {}
        rest: list[str] = []
        for key in dict.fromkeys(keys):
            row = self._memory.get(key)
            if row is not None:
                found[key] = row
            else:
                rest.append(key)
        if self._disk is not None:
            for start in range(0, len(rest), _CHUNK):
                chunk = rest[start:start + _CHUNK]
                found.update(self._disk.execute(
                    f"SELECT key, row FROM seen WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.first_rows([key])

    def close(self) -> None:
        """Forget every key (the temporary database is removed)."""
        self._memory, self._pending, self._on_disk = {}, {}, 0
        if self._disk is not None:
            self._disk.close()
            self._disk = None

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        spill: list[tuple[str, int]] = []
        for key, row in pending.items():
            if key in self._memory:
                continue
            if self._disk is None and len(self._memory) < self.limit:
                self._memory[key] = row
            else:
                spill.append((key, row))
        if not spill:
            return
        if self._disk is None:
            self._disk = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            self._disk.execute("PRAGMA cache_size = -4000")
            self._disk.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID")
        self._disk.execute("BEGIN")
        before = self._disk.total_changes
        self._disk.executemany("INSERT OR IGNORE INTO seen (key, row) VALUES (?, ?)", spill)
        self._on_disk += self._disk.total_changes - before
        self._disk.execute("COMMIT")
