"""A batch written in a worker thread, on its own connection, while the caller checks the next one.

A batch's writing (inserts, updates, audit, undo log, text index, checkpoint) is mostly the database server's
time, during which the driver releases the GIL; checking the next batch (its keys, links and unique values,
validation rules) is the client's. One writer, one batch in flight at most: the caller waits for batch N to be
committed before it hands over N+1 (so the checkpoint of a committed batch is always the last committed row),
and checks N+1 meanwhile. What the checks of N+1 cannot see yet — N's uncommitted records — the engine carries
over itself (:class:`InFlight`). An exception of the writer is raised in the caller at its next hand-over (or at
:meth:`WriteBehind.close`); the batches before it stay committed, its own is rolled back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from helpline.data.database import session


@dataclass
class InFlight:
    """What a batch handed to the writer makes true that the database does not show until it is committed."""

    unique: dict[str, set[str]] = field(default_factory=dict)
    """Per unique field, the values its records take."""
    frees_unique: bool = False
    """An update of the batch changes a unique value (the old value is free only once it commits)."""


class WriteBehind:
    """One writer thread with its own connection; :meth:`submit` hands it one job at a time."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=1)
        self._idle = threading.Event()
        self._idle.set()
        self._error: BaseException | None = None
        self._handed = False
        self._thread = threading.Thread(target=self._work, name="import-write", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        with session():
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                try:
                    job()
                except BaseException as exc:  # raised in the caller at its next wait
                    self._error = exc
                finally:
                    self._idle.set()

    def wait(self) -> bool:
        """Wait until the job handed over last is done; raise its exception if it failed. True when a job was
        in flight (and is now committed)."""
        self._idle.wait()
        handed, self._handed = self._handed, False
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return handed

    def submit(self, job: Callable[[], None]) -> None:
        """Hand ``job`` to the writer (the one before must be done: call :meth:`wait` first)."""
        if self._handed:
            raise RuntimeError("the writer has a job: wait() before submit()")
        self._idle.clear()
        self._handed = True
        self._jobs.put(job)

    def close(self, raise_error: bool = True) -> None:
        """Wait for the job in flight (raising its exception when ``raise_error``) and stop the thread."""
        try:
            self._idle.wait()
            if raise_error:
                self.wait()
        finally:
            self._jobs.put(None)
            self._thread.join()
