"""The next batch's rows read and converted in a worker thread while the caller writes the current one.

Reading the source and :meth:`.rows.RowConverter.convert` are pure CPU (no database); a batch's writing is mostly
waiting for the database server (the driver releases the GIL meanwhile), so the two overlap on a second core. One
worker, one batch ahead at most (the queue holds one, the worker fills the next): the batches come out in the
file's order, each whole; an exception while reading or converting is raised in the caller, at the batch it
belongs to (the batches before it written, nothing of its own). :meth:`Ahead.close` stops the worker and waits
for it (before the source is closed).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from .rows import RowConverter, RowProblem

Converted = tuple[int, list[Any], dict[str, Any], list[RowProblem]]
"""A row converted: its number in the file, its cells, its values and its problems."""
_END = object()


def converted_batches(rows: Iterator[tuple[int, list[Any]]], converter: RowConverter, size: int
                      ) -> Iterator[list[Converted]]:
    """The rows in batches of ``size``, converted here (in the caller's thread)."""
    batch: list[Converted] = []
    for number, cells in rows:
        values, problems = converter.convert(number, cells)
        batch.append((number, cells, values, problems))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Ahead:
    """:func:`converted_batches` run in one worker thread, at most one batch ahead of the caller."""

    def __init__(self, rows: Iterator[tuple[int, list[Any]]], converter: RowConverter, size: int) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, args=(rows, converter, size), name="import-convert",
                                        daemon=True)
        self._thread.start()

    def _work(self, rows: Iterator[tuple[int, list[Any]]], converter: RowConverter, size: int) -> None:
        try:
            for batch in converted_batches(rows, converter, size):
                if not self._put(batch):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the caller, raised there
            self._put(exc)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[list[Converted]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the worker (after the batch it is converting) and wait for it."""
        self._stop.set()
        self._thread.join()
