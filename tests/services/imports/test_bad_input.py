"""Each bad input of issue 18 gets a clear message naming the row or the setting, and nothing half-loaded."""

from __future__ import annotations

import codecs
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from imp_helpers import HEADERS, write_xlsx
from openpyxl import Workbook
from openpyxl.utils.datetime import from_excel

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.imports import ImportService, SourceError

SYSTEM = Actor.system()
ROW = ["C00001", "陈小明", "13800138000", "1980-03-05", "01", "changsha", "长沙"]


def _count(imp: ImportService) -> int:
    model = imp.platform.models["customer"]
    with session():
        return model.select().count()


def _refused(imp: ImportService, path: Path, pattern: str, name: str | None = None) -> None:
    for attempt in (imp.dry_run, imp.run):
        with pytest.raises(SourceError, match=pattern):
            attempt(SYSTEM, "small_customers", path, name)
    assert _count(imp) == 0, "nothing loaded"


def test_a_file_that_is_not_what_its_name_says(imp: ImportService, tmp_path: Path) -> None:
    fake = tmp_path / "customers.xlsx"
    fake.write_text(",".join(HEADERS) + "\n" + ",".join(ROW) + "\n", encoding="utf-8")
    _refused(imp, fake, r"customers\.xlsx is not an Excel workbook although its name says so: it is a text \(CSV\) "
                        r"file; name it \.csv")
    book = write_xlsx(tmp_path / "real.xlsx", [HEADERS, ROW])
    renamed = tmp_path / "customers.csv"
    renamed.write_bytes(book.read_bytes())
    _refused(imp, renamed, r"customers\.csv is not a CSV text file although its name says so: it is a ZIP archive; "
                           r"name it \.xlsx")
    html = tmp_path / "export.xlsx"
    html.write_text("<!DOCTYPE html><html><body>Session expired</body></html>", encoding="utf-8")
    _refused(imp, html, "export.xlsx is not an Excel workbook although its name says so: it is an HTML page")


def test_a_password_protected_workbook(imp: ImportService, tmp_path: Path) -> None:
    # Excel saves an encrypted workbook as an OLE compound file holding EncryptionInfo and EncryptedPackage
    # streams (MS-OFFCRYPTO); the directory entries carry their names in UTF-16.
    sector = bytearray(512)
    sector[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    entries = b"".join(n.encode("utf-16-le").ljust(128, b"\0") for n in ("Root Entry", "EncryptionInfo",
                                                                        "EncryptedPackage"))
    path = tmp_path / "locked.xlsx"
    path.write_bytes(bytes(sector) + entries + bytes(4096))
    _refused(imp, path, r"locked\.xlsx is protected by a password: open it in Excel, remove the password")
    old = tmp_path / "old.xlsx"
    old.write_bytes(bytes(sector) + "Workbook".encode("utf-16-le").ljust(128, b"\0"))
    _refused(imp, old, r"old\.xlsx is an old Excel 97-2003 workbook \(\.xls\): save it as an Excel workbook")


def test_merged_cells(imp: ImportService, tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "客户"
    ws.append(HEADERS)
    ws.append(ROW)
    ws.append(["C00002", "李四", "13800138001", "1980-03-05", "01", None, "长沙"])
    ws.merge_cells("F2:F3")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    _refused(imp, path, r"merged\.xlsx, sheet '客户': merged cells F2:F3; unmerge them")


def _with_cached_values(path: Path, cached: dict[str, str]) -> None:
    """Give the formulas of sheet 1 cached results, as Excel does on saving (openpyxl writes none)."""
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in cached.items():
        xml, n = re.subn(rf'<c r="{ref}"( t="\w+")?><f>(.*?)</f><v\s*/?>(</v>)?',
                         rf'<c r="{ref}" t="str"><f>\2</f><v>{value}</v>', xml)
        assert n == 1, (ref, xml)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as dst:
        for n, data in parts.items():
            dst.writestr(n, data)


def test_formulas_give_their_cached_values_never_evaluated(imp: ImportService, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", [HEADERS, ["C00001", '=UPPER("x")', "=13800138000+0", "1980-03-05",
                                                      "01", "changsha", "长沙"]])
    _with_cached_values(path, {"B2": "陈小明", "C2": "13900139000"})
    report = imp.run(SYSTEM, "small_customers", path)
    assert report.inserted == 1
    model = imp.platform.models["customer"]
    with session():
        row = model.select().dicts().get()
    assert (row["name"], row["phone"]) == ("陈小明", "13900139000"), "the cached results, not X or 13800138000"


def test_dates_as_text_and_as_excel_serials(imp: ImportService, tmp_path: Path) -> None:
    rows = [HEADERS]
    for i, when in enumerate(["1980年3月5日", "1980/3/5", 29285, "29285", "19800305", "5th March"]):
        rows.append([f"C{i}", "x", "13800138000", when, "01", "changsha", "长沙"])
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "d.xlsx", rows))
    assert report.inserted == 5 and report.rejected == 1
    assert report.problems[0].text() == ("row 7, column 出生日期 ('5th March'): not a date: write it as 2024-03-05, "
                                         "2024/3/5 or 2024年3月5日 (or an Excel date)")
    model = imp.platform.models["customer"]
    with session():
        dates = {r["customer_no"]: r["birth_date"] for r in model.select().dicts()}
    assert from_excel(29285).date() == date(1980, 3, 5)
    assert set(dates.values()) == {date(1980, 3, 5)}


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_in_gbk_and_with_a_bom(imp: ImportService, tmp_path: Path, encoding: str) -> None:
    text = ",".join(HEADERS) + "\r\n" + ",".join(ROW) + "\r\n" + ",".join(["C00002", "湘潭王", "13800138002",
                                                                       "1980-03-05", "03", "xiangtan", "湘潭"]) + "\r\n"
    path = tmp_path / "customers.csv"
    path.write_bytes(text.encode(encoding))
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(codecs.BOM_UTF8)
    report = imp.run(SYSTEM, "small_customers", path)
    assert report.inserted == 2, report.problems
    model = imp.platform.models["customer"]
    with session():
        names = {r["customer_no"]: (r["name"], r["value_tier"]) for r in model.select().dicts()}
    assert names == {"C00001": ("陈小明", "ordinary"), "C00002": ("湘潭王", "gold")}


def test_a_required_column_missing(imp: ImportService, tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "姓名"]
    path = write_xlsx(tmp_path / "m.xlsx", [headers, [v for h, v in zip(HEADERS, ROW, strict=True) if h != "姓名"]])
    _refused(imp, path, r"the file lacks the required column\(s\) '姓名' \(name\); its headers are: 客户编号, 电话")


def test_english_headers_map_too(imp: ImportService, tmp_path: Path) -> None:
    headers = ["Customer no", "NAME", "phone", "Birth date", "tier", "City", "Address", "Unknown col"]
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "e.xlsx", [headers, [*ROW, "x"]]))
    assert report.inserted == 1 and report.ignored == ["Unknown col"]


def test_a_value_too_long(imp: ImportService, tmp_path: Path) -> None:
    headers = [*HEADERS, "智能卡号"]
    second = ["C00002", "李四", "13800138001", "1980-03-05", "01", "changsha", "长沙", "8" * 32]
    rows = [headers, [*ROW, "8" * 40], second]
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "l.xlsx", rows))
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.problems[0].text() == f"row 2, column 智能卡号 ('{'8' * 40}'): At most 32 characters"


def test_tiers_and_the_blacklist_use_the_same_machinery(imp: ImportService, tmp_path: Path) -> None:
    imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "c.xlsx", [HEADERS, ROW]))
    tiers = imp.run(SYSTEM, "customer_tiers", write_xlsx(tmp_path / "t.xlsx", [["客户编号", "客户层次"],
                                                                             ["C00001", "钻石卡"], ["C09999", "金卡"]]))
    assert (tiers.updated, tiers.rejected) == (1, 1)
    assert tiers.problems[0].message == "no customer with customer_no 'C09999' (mode update)"
    black = imp.run(SYSTEM, "blacklist", write_xlsx(tmp_path / "b.xlsx", [["客户编号", "黑名单", "原因"],
                                                                        ["C00001", "是", "恶意骚扰"]]))
    assert black.updated == 1
    model = imp.platform.models["customer"]
    with session():
        row = model.select().dicts().get()
    assert (row["value_tier"], row["blacklisted"], row["remarks"]) == ("diamond", True, "恶意骚扰")
