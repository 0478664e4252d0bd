"""Fixtures of the import tests: a platform on the demo metadata plus small import definitions, and writers of
xlsx and csv files."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.services.imports import ImportService
from helpline.services.platform import Platform

SMALL = """\
# Customers in batches of 2 (the tests see several batches and checkpoints).
kind: import
name: small_customers
entity: customer
key: customer_no
batch_size: 2
columns:
  - {field: customer_no, headers: [客户编号, Customer no], required: true}
  - {field: name, headers: [姓名, Name], required: true}
  - {field: phone, headers: [电话, Phone], transform: 'digits(value)'}
  - {field: birth_date, headers: [出生日期, Birth date]}
  - {field: value_tier, headers: [客户等级, Tier], codes: tiers}
  - {field: city, headers: [市州, City]}
  - {field: address, headers: [地址, Address]}
  - {field: smart_card_no, headers: [智能卡号]}
code_tables:
  tiers: {'01': ordinary, '03': gold}
cleansing:
  - {when: 'row.phone is not empty and len(row.phone) < 7', action: reject, field: phone, message: phone too short}
  - {when: 'row.address is empty', action: warn, field: address, message: no address}
"""


@pytest.fixture
def imp(db_url: str, demo_metadata: Path, tmp_path: Path) -> ImportService:
    from helpline.demo.generator import DemoGenerator

    (demo_metadata / "imports" / "small_customers.yaml").write_text(SMALL, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p, uploads=tmp_path / "uploads")
