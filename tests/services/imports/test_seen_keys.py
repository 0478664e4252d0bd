"""The keys a run has met (issue 18's 1,000,000-row CSV under 300 MB): past ``memory_keys`` they go to a temporary
SQLite database, and a run then refuses the same duplicates naming the same first rows, resumes with the keys of the
rows loaded before a crash, and deletes exactly the records whose keys the file lacks."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from imp_helpers import HEADERS, write_xlsx

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.imports.keys import SeenKeys

SYSTEM = Actor.system()


def _rows(numbers: list[int]) -> list[list[object]]:
    return [[f"C{i:05d}", f"客户{i}", f"0731-8{i:06d}", "1980/3/5", "03", "changsha", f"长沙 {i} 号"] for i in numbers]


def _customers(imp: ImportService) -> set[str]:
    with session():
        return {r["customer_no"] for r in imp.platform.models["customer"].select().dicts()}


def test_keys_past_the_limit_go_to_disk_and_keep_their_first_row() -> None:
    seen = SeenKeys(limit=3)
    for row, key in enumerate(["a", "b", "a", "c", "d", "e", "d", "b"], start=2):
        seen.add(key, row)
    assert seen.spilled and len(seen) == 5
    assert seen.first_rows(["a", "b", "c", "d", "e", "x", "d"]) == {"a": 2, "b": 3, "c": 5, "d": 6, "e": 7}
    assert "e" in seen and "x" not in seen and 5 not in seen
    seen.add("e", 99)
    assert seen.first_rows(["e"]) == {"e": 7}, "a key added again keeps its first row"
    seen.close()
    assert len(seen) == 0 and seen.first_rows(["a", "e"]) == {} and not seen.spilled
    with pytest.raises(ValueError, match="limit"):
        SeenKeys(limit=-1)


def test_memory_is_bounded_by_the_limit() -> None:
    keys = [f"X{i:09d}" for i in range(60_000)]
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        held = {k: i for i, k in enumerate(keys)}
        whole = tracemalloc.get_traced_memory()[0] - start
        del held
        seen = SeenKeys(limit=1000)
        start = tracemalloc.get_traced_memory()[0]
        for i, k in enumerate(keys):
            seen.add(k, i)
        assert seen.first_rows([keys[0], keys[-1]]) == {keys[0]: 0, keys[-1]: 59_999}
        bounded = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    seen.close()
    assert whole > 2_000_000 and bounded < whole / 5, (whole, bounded)


def test_duplicates_across_the_limit_and_batches_name_the_first_row(imp: ImportService, tmp_path: Path) -> None:
    numbers = list(range(1, 46))
    numbers[30:30] = [3]        # row 32: a key held in memory (row 4), two dozen batches later
    numbers[40:40] = [20]       # row 42: a key first seen past the limit (row 21), on disk
    numbers[45:45] = [43]       # rows 46-47: the same key in one batch, both past the limit
    path = write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(numbers)])
    small = ImportService(imp.platform, uploads=tmp_path / "uploads", memory_keys=5)
    dry = small.dry_run(SYSTEM, "small_customers", path)
    report = small.run(SYSTEM, "small_customers", path)
    plain = imp.dry_run(SYSTEM, "small_customers", path)  # every key in memory
    expected = [(32, "C00003", 4), (42, "C00020", 21), (47, "C00043", 46)]
    for r in (dry, report):
        assert [(p.row, p.value, p.params["row"]) for p in r.problems] == expected
        assert r.problems[1].text() == "row 42, column 客户编号 ('C00020'): duplicate customer_no: row 21 of the " \
                                       "file has the same value"
        assert (r.rejected, r.inserted) == (3, 45)
    assert [p.text() for p in plain.problems] == [p.text() for p in report.problems]
    assert len(_customers(imp)) == 45


def test_a_resumed_run_still_refuses_duplicates_of_rows_loaded_before_the_crash(imp: ImportService,
                                                                                tmp_path: Path) -> None:
    small = ImportService(imp.platform, uploads=tmp_path / "uploads", memory_keys=2)
    path = small.copy_for_run(write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows([1, 2, 3, 4, 5, 6, 1, 4, 7])]))
    calls: list[int] = []

    def crash(done: int, total: int | None, report: object) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise RuntimeError("power cut")

    first = small.run(SYSTEM, "small_customers", path, progress=crash)
    assert first.status == "failed" and len(_customers(imp)) == 6
    done = small.resume(SYSTEM, first.run_id)
    assert done.status == "done" and (done.inserted, done.rejected) == (7, 2)
    assert [(p.row, p.params["row"]) for p in done.problems] == [(8, 2), (9, 5)], "rows 2 and 5 loaded before"


def test_delete_missing_gets_every_key_of_the_file(mirror: ImportService, tmp_path: Path) -> None:
    mirror.run(SYSTEM, "mirror_customers", write_xlsx(tmp_path / "all.xlsx", [HEADERS, *_rows(list(range(1, 13)))]))
    small = ImportService(mirror.platform, uploads=tmp_path / "uploads", memory_keys=4)
    kept = [1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13]  # 2 is missing in memory's range, 11 past it
    report = small.run(SYSTEM, "mirror_customers", write_xlsx(tmp_path / "some.xlsx", [HEADERS, *_rows(kept)]),
                       confirm_delete=True)
    assert (report.status, report.deleted, report.inserted) == ("done", 2, 1)
    assert _customers(mirror) == {f"C{i:05d}" for i in kept}
