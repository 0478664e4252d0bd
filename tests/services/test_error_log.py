"""The error log's tail: the last N records at ERROR or above, newest first, with the exception's text."""

from __future__ import annotations

import logging

from helpline.services.error_log import TailHandler


def test_the_tail_keeps_the_last_errors_only() -> None:
    handler = TailHandler(3)
    log = logging.getLogger("helpline.test.tail")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("not kept: a warning")
        for n in range(5):
            log.error("failure %d", n)
        try:
            raise ZeroDivisionError("division by zero")
        except ZeroDivisionError:
            log.exception("with a traceback")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    tail = handler.tail()
    assert [r.message for r in tail] == ["with a traceback", "failure 4", "failure 3"]
    assert "ZeroDivisionError" in tail[0].exception and tail[1].exception == "" and handler.total == 6
    handler.resize(1)
    assert [r.message for r in handler.tail()] == ["with a traceback"]
