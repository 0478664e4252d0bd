"""The error log's tail: a logging handler keeping the last N ERROR records of the process in memory.

The system page (``/page/system``) shows them newest first; ``install`` puts one handler on the root logger
(again: the same one, resized), ``HELPLINE_ERROR_LOG_SIZE`` records (200).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class ErrorRecord:
    at: datetime
    logger: str
    message: str
    exception: str


class TailHandler(logging.Handler):
    """Keeps the last ``size`` records at ERROR or above; counts every one."""

    def __init__(self, size: int = 200) -> None:
        super().__init__(level=logging.ERROR)
        self._records: deque[ErrorRecord] = deque(maxlen=max(1, size))
        self._guard = threading.Lock()
        self.total = 0

    def resize(self, size: int) -> None:
        with self._guard:
            self._records = deque(self._records, maxlen=max(1, size))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        exception = ""
        if record.exc_info and record.exc_info[1] is not None:
            exception = logging.Formatter().formatException(record.exc_info)[-4000:]
        with self._guard:
            self._records.append(ErrorRecord(datetime.fromtimestamp(record.created, UTC).replace(tzinfo=None),
                                             record.name, message[:2000], exception))
            self.total += 1

    def tail(self, limit: int | None = None) -> list[ErrorRecord]:
        """The kept records, newest first."""
        with self._guard:
            records = list(self._records)
        records.reverse()
        return records if limit is None else records[:limit]


_handler: TailHandler | None = None


def install(size: int = 200) -> TailHandler:
    """The process's handler on the root logger (installed once, resized on later calls)."""
    global _handler
    if _handler is None:
        _handler = TailHandler(size)
        logging.getLogger().addHandler(_handler)
    else:
        _handler.resize(size)
    return _handler


def handler() -> TailHandler | None:
    return _handler
