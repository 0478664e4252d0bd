"""Import messages in the reader's language (issue 18, audit G6): row problems, the definition's cleansing texts,
the entity's validation texts (as the record form words them), file refusals and the error workbook, kept as a key
and parameters with the run; a problem stored before keys keeps its English text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from imp_helpers import HEADERS, write_xlsx
from openpyxl import load_workbook

from helpline.data.database import session
from helpline.data.imports import ImportRun
from helpline.security.actor import Actor
from helpline.services.imports import ImportService, RowProblem, SourceError
from helpline.services.imports.report import error_workbook
from helpline.services.imports.words import line, message, refusal
from helpline.services.platform import Platform

SYSTEM = Actor.system()
BILINGUAL = """\
kind: import
name: bilingual_customers
entity: customer
key: customer_no
batch_size: 2
columns:
  - {field: customer_no, headers: [客户编号], required: true}
  - {field: name, headers: [姓名], required: true}
  - {field: phone, headers: [电话], transform: 'digits(value)'}
  - {field: birth_date, headers: [出生日期]}
  - {field: value_tier, headers: [客户等级], codes: tiers}
  - {field: city, headers: [市州]}
  - {field: address, headers: [地址]}
  - {field: smart_card_no, headers: [智能卡号]}
code_tables:
  tiers: {'01': ordinary, '03': gold}
cleansing:
  - {when: 'row.phone is not empty and len(row.phone) < 7', action: reject, field: phone,
     message: {en: phone too short, zh_CN: 电话号码太短}}
  - {when: 'row.address is empty', action: warn, field: address, message: {en: no address, zh_CN: 没有地址}}
"""


@pytest.fixture
def imp(db_url: str, demo_metadata: Path, tmp_path: Path) -> ImportService:
    from helpline.demo.generator import DemoGenerator

    (demo_metadata / "imports" / "bilingual_customers.yaml").write_text(BILINGUAL, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p, uploads=tmp_path / "uploads")


def bad_rows() -> list[list]:
    ok = ["C00001", "张三", "0731-88000001", "1980/3/5", "03", "changsha", "长沙 1 号", None]
    rows = [list(ok) for _ in range(7)]
    for i, row in enumerate(rows):
        row[0] = f"C{i + 1:05d}"
    rows[1][2] = "12-34"               # row 3: the definition's cleansing rule (reject)
    rows[2][4] = "09"                  # row 4: not in the code table
    rows[3][3] = "2020-13-45"          # row 5: not a date
    rows[4][5] = "atlantis"            # row 6: no such city
    rows[5][7] = "9" * 40              # row 7: longer than the entity allows
    rows[6][0] = "C00001"              # row 8: the key of row 2 again
    rows[0][6] = None                  # row 2: a warning only
    return [[*HEADERS, "智能卡号"], *rows]


def test_row_problems_in_the_readers_language(imp: ImportService, tmp_path: Path) -> None:
    report = imp.dry_run(SYSTEM, "bilingual_customers", write_xlsx(tmp_path / "c.xlsx", bad_rows()))
    assert (report.inserted, report.rejected, report.warnings) == (1, 6, 1)
    chinese = {p.row: message(p, "zh_CN") for p in report.problems}
    assert chinese == {2: "没有地址", 3: "电话号码太短", 4: "代码“09”不在代码表“tiers”中",
                       5: "不是日期：请写成 2024-03-05、2024/3/5 或 2024年3月5日（或 Excel 日期）",
                       6: "没有级别为市州的区域“atlantis”", 7: "最多 32 个字符",
                       8: "客户编号重复：文件第 2 行的值相同"}, chinese
    assert line(next(p for p in report.problems if p.row == 4), "zh_CN") == \
        "第 4 行“客户等级”列（“09”）：代码“09”不在代码表“tiers”中"
    for p in report.problems:  # English as before
        assert message(p, "en") == p.message and line(p, "en") == p.text(), p
    assert "row 3, column 电话 ('1234'): phone too short" in [p.text() for p in report.problems]

    zh = load_workbook(io.BytesIO(error_workbook(report, "zh_CN"))).active
    got = list(zh.iter_rows(values_only=True))
    assert got[0][-2:] == ("错误", "行号") and len(got) == 7
    assert got[1][-2:] == ("第 3 行“电话”列（“1234”）：电话号码太短", 3)
    assert got[5][-1] == 7 and got[5][-2] == "第 7 行“智能卡号”列（“" + "9" * 40 + "”）：最多 32 个字符"
    en = load_workbook(io.BytesIO(error_workbook(report, "en"))).active
    got = list(en.iter_rows(values_only=True))
    assert got[0][-2:] == ("Error", "Row") and got[1][-2:] == ("row 3, column 电话 ('1234'): phone too short", 3)


def test_a_runs_stored_problems_are_worded_for_each_reader(imp: ImportService, tmp_path: Path) -> None:
    report = imp.run(SYSTEM, "bilingual_customers", write_xlsx(tmp_path / "c.xlsx", bad_rows()))
    assert report.status == "done" and report.rejected == 6
    with session():
        stored = [RowProblem(**p) for p in ImportRun.get_by_id(report.run_id).problems]
    assert [message(p, "zh_CN") for p in stored if p.row == 3] == ["电话号码太短"]
    assert [message(p, "en") for p in stored if p.row == 3] == ["phone too short"]
    old = RowProblem(**{"row": 3, "column": "电话", "value": "1234", "message": "phone too short",
                        "severity": "error"})  # stored before the keys: its English text stays
    assert message(old, "zh_CN") == "phone too short"
    assert line(old, "zh_CN") == "第 3 行“电话”列（“1234”）：phone too short"


def test_a_refused_file_in_the_readers_language(imp: ImportService, tmp_path: Path) -> None:
    fake = tmp_path / "customers.xlsx"
    fake.write_text("客户编号,姓名\nC1,张三\n", encoding="utf-8")
    sector = bytearray(512)
    sector[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    locked = tmp_path / "locked.xlsx"
    locked.write_bytes(bytes(sector) + "EncryptedPackage".encode("utf-16-le").ljust(128, b"\0") + bytes(4096))
    missing = write_xlsx(tmp_path / "few.xlsx", [["客户编号"], ["C1"]])
    expected = {fake: "customers.xlsx 的文件名表明是 Excel 工作簿，但它实际是文本（CSV）文件；请将扩展名改为 .csv",
                locked: "locked.xlsx 设有密码保护：请在 Excel 中打开，取消密码（文件 → 信息 → 保护工作簿）后重新上传",
                missing: "文件缺少必需的列 '姓名' (name)；文件的列标题为：客户编号"}
    for path, chinese in expected.items():
        with pytest.raises(SourceError) as refused:
            imp.dry_run(SYSTEM, "bilingual_customers", path)
        assert refusal(refused.value, "zh_CN") == chinese
        assert refusal(refused.value, "en") == str(refused.value)


def test_an_interface_refused_in_the_readers_language() -> None:
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from helpline.services.imports.sources import fetch_json

    class Broken(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>busy</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/customers"
        with pytest.raises(SourceError) as refused:
            fetch_json(url, {}, 2.0)
        assert refusal(refused.value, "zh_CN").startswith(f"source.url {url}：应答不是有效的 JSON（")
        assert refusal(refused.value, "en") == str(refused.value)
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(SourceError) as refused:
        fetch_json(f"http://127.0.0.1:{closed}/customers", {}, 2.0)
    assert refusal(refused.value, "zh_CN").startswith(f"source.url http://127.0.0.1:{closed}/customers：无法连接接口（")


def test_a_refused_resume_or_undo_in_the_readers_language(imp: ImportService, tmp_path: Path) -> None:
    from helpline.services.imports.changes import ImportRefused

    done = imp.run(SYSTEM, "bilingual_customers", write_xlsx(tmp_path / "c.xlsx", bad_rows()))
    with pytest.raises(ImportRefused) as refused:
        imp.resume(SYSTEM, done.run_id)
    assert refusal(refused.value, "zh_CN") == \
        f"导入批次 {done.run_id} 的状态为“已导入”；只有失败、已取消或已中断的批次可以继续"
    assert refusal(refused.value, "en") == str(refused.value)
    imp.undo(SYSTEM, done.run_id)
    with pytest.raises(ImportRefused) as refused:
        imp.undo(SYSTEM, done.run_id)
    assert refusal(refused.value, "zh_CN") == f"导入批次 {done.run_id} 已经撤销过"
