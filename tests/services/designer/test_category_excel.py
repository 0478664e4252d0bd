"""Category trees as Excel workbooks: export → import gives the same tree; a file with bad rows is refused
as a whole with every row number, and leaving out a code of the tree is refused too."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from helpline.services.designer.category_excel import HEADERS, CategoryImportError, export_tree, read_tree

DEMO = Path(__file__).parents[3] / "metadata" / "categories"


def tree(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEMO / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def sheet(*rows: list[Any], header: tuple[str, ...] = HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def errors_of(content: bytes, current: list[dict[str, Any]] | None = None) -> list[tuple[int | None, str]]:
    with pytest.raises(CategoryImportError) as caught:
        read_tree(content, current)
    return [(e.row, e.key.rsplit(".", 1)[-1]) for e in caught.value.errors]


@pytest.mark.parametrize("name", ["value_tier", "complaint_types", "not_ready_reason", "business_line"])
def test_export_then_import_gives_the_same_nodes(name: str) -> None:
    data = tree(name)
    content = export_tree(data)
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert ws.max_row == len(data["nodes"]) + 1
    assert read_tree(content, data["nodes"]) == data["nodes"]


def test_retired_codes_and_chinese_labels_round_trip() -> None:
    nodes = [{"code": "a", "label": {"en": "A", "zh_CN": "甲"}},
             {"code": "b", "label": {"en": "=HYPERLINK(\"x\")"}, "parent": "a", "retired": True}]
    content = export_tree({"name": "t", "nodes": nodes})
    cell = load_workbook(io.BytesIO(content)).worksheets[0]["C3"]
    assert cell.data_type == "s", "a label that looks like a formula is written as text"
    assert read_tree(content, nodes) == nodes


def test_an_edited_file_reorders_adds_moves_and_retires() -> None:
    content = sheet(["vip", "", "VIP", "VIP客户", ""],
                    ["gold", "vip", "Gold card", "金卡客户", ""],
                    ["jade", "vip", "Jade card", "翡翠卡", ""],
                    [None, None, None, None, None],  # an empty row is skipped
                    ["ordinary", "", "Ordinary", "一般客户", "no"],
                    ["silver", "ordinary", "Silver card", "", "yes"],
                    ["diamond", "vip", "Diamond card", "钻石卡客户", ""],
                    ["platinum", "vip", "Platinum card", "白金卡客户", ""])
    nodes = read_tree(content, tree("value_tier")["nodes"])
    assert [n["code"] for n in nodes] == ["vip", "gold", "jade", "ordinary", "silver", "diamond", "platinum"]
    silver = nodes[4]
    assert silver == {"code": "silver", "label": {"en": "Silver card"}, "parent": "ordinary", "retired": True}


def test_bad_rows_are_all_reported_with_their_row_numbers() -> None:
    content = sheet(["ordinary", "", "Ordinary", "", ""],          # row 2: fine
                    ["gold", "vvip", "Gold", "", ""],              # row 3: unknown parent
                    ["ordinary", "", "Again", "", ""],             # row 4: duplicate code
                    ["Gold Card", "", "Gold card", "", ""],        # row 5: bad code name
                    ["silver", "", "", "银卡", ""],                 # row 6: empty English label
                    ["vip", "", "VIP", "", "maybe"],              # row 7: bad retired value
                    ["", "", "No code", "", ""])                   # row 8: no code
    assert errors_of(content) == [(3, "unknown_parent"), (4, "duplicate_code"), (5, "bad_code"), (6, "no_label"),
                                  (7, "bad_retired"), (8, "no_code")]


def test_loops_and_missing_codes_are_refused() -> None:
    content = sheet(["a", "b", "A", "", ""], ["b", "a", "B", "", ""], ["c", "c", "C", "", ""])
    assert errors_of(content, [{"code": "a"}, {"code": "gone"}]) == [
        (None, "missing_codes"), (2, "loop"), (3, "loop"), (4, "own_parent")]


def test_wrong_files_are_refused() -> None:
    assert errors_of(b"not a workbook") == [(None, "not_xlsx")]
    assert errors_of(sheet(["a", "A"], header=("code", "lable_en"))) == [
        (1, "unknown_column"), (1, "missing_column")]
    assert errors_of(sheet(header=())) == [(None, "empty")]


def test_the_check_is_an_import_dry_run_with_per_row_problems_and_an_error_workbook() -> None:
    from helpline.services.designer.category_excel import check_tree
    from helpline.services.imports.report import error_workbook

    current = [{"code": "ordinary", "label": {"en": "Ordinary"}}, {"code": "gold", "label": {"en": "Gold"}}]
    good = sheet(["ordinary", "", "Ordinary", "", ""], ["gold", "", "Gold card", "", ""], ["jade", "", "Jade", "", ""])
    report, nodes, errors = check_tree(good, current)
    assert not errors and report is not None and len(nodes) == 3
    assert (report.rows, report.inserted, report.updated, report.unchanged, report.rejected) == (3, 1, 1, 1, 0)

    bad = sheet(["ordinary", "", "Ordinary", "", ""], ["gold", "vvip", "Gold", "", ""], ["Jade!", "", "Jade", "", ""])
    report, _, errors = check_tree(bad, current)
    assert report is not None and report.rejected == 2
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "parent", "vvip"), (4, "code", "Jade!")]
    assert "the parent 'vvip' of 'gold' is not a code of the file" in report.problems[0].text()
    rejected = load_workbook(io.BytesIO(error_workbook(report))).worksheets[0]
    assert [c.value for c in rejected[1]][-2:] == ["Error / 错误", "Row / 行"] and rejected.max_row == 3
    assert rejected.cell(3, 1).value == "Jade!" and "not a valid code" in rejected.cell(3, len(HEADERS) + 1).value
    rejected.cell(2, 2).value, rejected.cell(3, 1).value = "", "jade"  # fixed in the error workbook: its columns
    buffer = io.BytesIO()                                               # are ignored when it comes back
    rejected.parent.save(buffer)
    assert [n["code"] for n in read_tree(buffer.getvalue())] == ["gold", "jade"]


def test_the_shared_reader_refuses_merged_cells_and_old_workbooks() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(HEADERS))
    ws.append(["a", "", "A", "", ""])
    ws.merge_cells("C2:D2")
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(CategoryImportError) as caught:
        read_tree(buffer.getvalue())
    assert caught.value.errors[0].key.endswith(".unreadable") and "merged cells C2:D2" in \
        caught.value.errors[0].params["message"]
    assert errors_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600) == [(None, "unreadable")]
