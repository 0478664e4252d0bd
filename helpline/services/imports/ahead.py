"""Reading an import's file ahead: its rows read and converted (:meth:`RowConverter.convert`) in a thread of
their own while the engine checks and writes the rows before, on PostgreSQL.

The engine's thread waits for the database server during a batch's writes (on PostgreSQL about half of a
100,000-row import); the reading thread parses the next rows meanwhile, at most :data:`AHEAD_ROWS` ahead. The
rows come out in the file's order exactly as without it: a source that fails at a row raises at that row, after
the rows before it. Only file sources are read ahead (a SQL source's connection belongs to its thread), and only
on PostgreSQL: SQLite's statements release the interpreter lock for every row, and each time the engine's
thread would wait for the reader's turn to end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .rows import RowConverter, RowProblem

Converted = tuple[int, list[Any], dict[str, Any], list[RowProblem]]
CHUNK = 500
"""Rows handed over at once."""
AHEAD_ROWS = 2000
"""Rows read ahead at most (memory: one batch of the benchmark's definition)."""


def converted(rows: Iterable[tuple[int, list[Any]]], converter: RowConverter) -> Iterator[Converted]:
    """Each row with its values and problems, in this thread."""
    for number, cells in rows:
        values, problems = converter.convert(number, cells)
        yield number, cells, values, problems


class ReadAhead:
    """:func:`converted` in a thread of its own; iterate once, then :meth:`close` (also when stopping early)."""

    def __init__(self, rows: Iterable[tuple[int, list[Any]]], converter: RowConverter) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, AHEAD_ROWS // CHUNK))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(rows, converter), name="import-read-ahead",
                                        daemon=True)
        self._thread.start()

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, rows: Iterable[tuple[int, list[Any]]], converter: RowConverter) -> None:
        chunk: list[Converted] = []
        try:
            for row in converted(rows, converter):
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    if not self._put(("rows", chunk)):
                        return
                    chunk = []
        except BaseException as exc:  # handed to the engine's thread, raised there after the rows before it
            if self._put(("rows", chunk)):
                self._put(("error", exc))
            return
        if self._put(("rows", chunk)):
            self._put(("end", None))

    def __iter__(self) -> Iterator[Converted]:
        while True:
            kind, item = self._queue.get()
            if kind == "error":
                raise item
            if kind == "end":
                return
            yield from item

    def close(self) -> None:
        """Stop reading and wait for the thread (before the source is closed)."""
        self._stop.set()
        self._thread.join()
