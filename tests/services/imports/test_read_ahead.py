"""Reading a file ahead in a thread (imports/ahead.py, used on PostgreSQL) gives the rows, values and problems
of reading in the engine's thread, in the file's order; a source failing at a row raises after the rows before
it; stopping early ends the thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imp_helpers import HEADERS, write_xlsx

from helpline.services.imports import ImportService, SourceError
from helpline.services.imports import ahead as ahead_module
from helpline.services.imports.ahead import ReadAhead, converted

ROWS = [[f"RA{i:04d}", f"客户{i}", f"0731-{8000000 + i}", "1980/3/5", "09" if i % 97 == 0 else "01", "changsha",
         f"长沙 {i} 号"] for i in range(1234)]  # more rows than a chunk and than read ahead; some with problems


def _open(imp: ImportService, path: Path) -> Any:
    definition = imp.definition("small_customers")
    entity = imp.platform.metadata.entities["customer"]
    return imp._open(definition, entity, path, None)


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The reading does not touch the database: one backend is enough."""
    return f"sqlite:///{tmp_path}/helpline.db"


def test_the_rows_read_ahead_are_the_rows_read_in_place(imp: ImportService, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ahead_module, "AHEAD_ROWS", 300)
    monkeypatch.setattr(ahead_module, "CHUNK", 100)
    path = write_xlsx(tmp_path / "a.xlsx", [HEADERS, *ROWS])
    table, _, converter = _open(imp, path)
    in_place = list(converted(table.rows, converter))
    table.close()
    table, _, converter = _open(imp, path)
    reader = ReadAhead(table.rows, converter)
    read = list(reader)
    reader.close()
    table.close()
    assert len(read) == 1234 and read == in_place
    assert [r[0] for r in read] == list(range(2, 1236)), "in the file's order"
    assert sum(bool(r[3]) for r in read) == 13, "each row's problems kept with it"


def test_a_source_failing_at_a_row_raises_after_the_rows_before_it(imp: ImportService, tmp_path: Path) -> None:
    table, _, converter = _open(imp, write_xlsx(tmp_path / "b.xlsx", [HEADERS, *ROWS]))

    def failing() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in table.rows:
            if number == 1001:
                raise SourceError("row 1001: the file ends in the middle of a row")
            yield number, cells

    reader = ReadAhead(failing(), converter)
    got: list[int] = []
    with pytest.raises(SourceError, match="row 1001"):
        for row in reader:
            got.append(row[0])
    reader.close()
    table.close()
    assert got == list(range(2, 1001))


def test_stopping_early_ends_the_reading_thread(imp: ImportService, tmp_path: Path) -> None:
    table, _, converter = _open(imp, write_xlsx(tmp_path / "c.xlsx", [HEADERS, *ROWS]))
    reader = ReadAhead(table.rows, converter)
    first = [row[0] for _, row in zip(range(10), reader, strict=False)]
    reader.close()
    table.close()
    assert first == list(range(2, 12))
    assert not reader._thread.is_alive()
