"""What the ``run.py import`` tests share: a workbook written from rows, and the command's uploads kept in a folder
of the test's."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from openpyxl import Workbook


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    """Write ``rows`` (the first is the header) to an xlsx at ``path``."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def uploads_in(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Keep the command's uploads in ``path``. The engine module is set by object, as the command will import it:
    a test that ran before may have left ``helpline`` re-imported without its ``services`` attribute, where a
    dotted-name monkeypatch fails."""
    monkeypatch.setattr(importlib.import_module("helpline.services.imports.engine"), "UPLOADS", path)
