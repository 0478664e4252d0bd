"""A failed run's stored error (``hl_import_run.error``) read in each reader's language (issue 18): a refusal by its
key, a database error and an unexpected one by theirs, each with the technical detail after it; an error stored as
plain text before keys were kept reads as it is; a long one fits the column."""

from __future__ import annotations

import json
import sqlite3

from peewee import OperationalError

from helpline.services.imports.sources import SourceError
from helpline.services.imports.words import STORED_ERROR, failure, failure_text


def test_a_refusal_reads_by_its_key_with_the_error_it_came_from() -> None:
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as cause:
            raise SourceError("boss interface http://x/api: no answer within 0.5 s (source.timeout)",
                              "imports.refused.timeout", setting="boss interface", url="http://x/api",
                              seconds="0.5") from cause
    except SourceError as exc:
        stored = failure(exc)
    assert failure_text(stored, "zh_CN") == ("boss interface http://x/api：0.5 秒内没有应答（source.timeout）"
                                             "（技术细节：TimeoutError: timed out）")
    assert failure_text(stored, "en") == ("boss interface http://x/api: no answer within 0.5 s (source.timeout) "
                                          "(technical detail: TimeoutError: timed out)")


def test_database_and_unexpected_errors_and_old_texts() -> None:
    for error in (OperationalError("database is locked"), sqlite3.OperationalError("disk I/O error")):
        assert failure_text(failure(error), "zh_CN").startswith("写入数据时数据库出错；此前已提交的批次保留")
        assert failure_text(failure(error), "en").endswith(f"(technical detail: {type(error).__name__}: {error})")
    assert failure_text(failure(KeyError("phone")), "zh_CN") == (
        "导入因意外错误中止；此前已提交的批次保留，排除原因后请继续该次导入（技术细节：KeyError: 'phone'）")
    assert failure_text("RuntimeError: power cut", "zh_CN") == "RuntimeError: power cut", "stored before keys"
    assert failure_text("", "en") == "" and failure_text(None, "en") == ""


def test_a_long_error_fits_the_column() -> None:
    stored = failure(SourceError("q", "imports.refused.query", where="source.url x", error="无" * 5000))
    assert len(stored) <= STORED_ERROR and json.loads(stored)["params"]["reason"]["key"] == "imports.refused.query"
    assert failure_text(stored, "en").startswith("source.url x: the query failed: 无无")
