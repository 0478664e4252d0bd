"""Issue 18 item 1's transformations and cleansing in one definition, end to end: a column split into two fields
(``part``), two columns joined into one (``+``), a phone number normalised (``digits``), codes mapped through a
code table, and a cleansing rule that fixes a field (the row kept, with a warning naming the row)."""

from __future__ import annotations

from pathlib import Path

import pytest
from imp_helpers import write_xlsx

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.platform import Platform

DEFINITION = """\
# One BOSS column holds the mobile and the landline ("138-0013-8000/0731-8400000").
kind: import
name: boss_contacts
entity: customer
key: customer_no
columns:
  - {field: customer_no, headers: [客户编号], required: true}
  - {field: name, headers: [客户名称]}
  - {field: phone, headers: [联系方式], transform: 'digits(part(value, "/", 1))'}
  - {field: address, headers: [地址]}
  - {field: remarks, transform: 'row.address + "，固话 " + part(row.phone, "/", 2)'}
  - {field: value_tier, headers: [客户等级], codes: boss_tiers}
code_tables:
  boss_tiers: {'03': gold, 金卡: gold, '01': ordinary}
cleansing:
  - {when: 'row.name is empty', action: fix, field: name, value: '"客户" + row.customer_no', message: no name}
"""


@pytest.fixture
def contacts(db_url: str, demo_metadata: Path, tmp_path: Path) -> ImportService:
    from helpline.demo.generator import DemoGenerator

    (demo_metadata / "imports" / "boss_contacts.yaml").write_text(DEFINITION, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p, uploads=tmp_path / "uploads")


def test_split_join_normalise_map_and_fix(contacts: ImportService, tmp_path: Path) -> None:
    rows = [["客户编号", "客户名称", "联系方式", "地址", "客户等级"],
            ["T001", "陈小明", "138-0013-8000/0731-8400000", "岳麓区麓山南路1号", "03"],
            ["T002", None, "139 0013 9000/0731-8500000", "天心区书院路2号", "金卡"]]
    report = contacts.run(Actor.system(), "boss_contacts", write_xlsx(tmp_path / "c.xlsx", rows))
    assert (report.inserted, report.rejected, report.warnings) == (2, 0, 1), report.problems
    assert [p.text() for p in report.problems] == ["row 3, column 客户名称: fixed: no name"]
    model = contacts.platform.models["customer"]
    with session():
        stored = {r["customer_no"]: r for r in model.select().dicts()}
    assert [(stored[n]["name"], stored[n]["phone"], stored[n]["remarks"], stored[n]["value_tier"])
            for n in ("T001", "T002")] == [
        ("陈小明", "13800138000", "岳麓区麓山南路1号，固话 0731-8400000", "gold"),
        ("客户T002", "13900139000", "天心区书院路2号，固话 0731-8500000", "gold")]
