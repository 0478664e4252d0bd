"""Data imports: read a source, map its columns, transform and cleanse each row, and load the records.

:mod:`.sources` reads xlsx, csv, sql and http sources (and an extension's); :mod:`.rows` turns one source row
into field values with its problems; :mod:`.engine` runs a dry run or a real run in batches with a checkpoint,
keeps the result record and undoes a run. See docs/imports.md.
"""

from __future__ import annotations

from .engine import ImportService
from .report import ImportReport
from .rows import RowProblem
from .sources import SourceError

__all__ = ["ImportReport", "ImportService", "RowProblem", "SourceError"]
