"""Helpers of the import tests: writers of xlsx files and the headers of the test definition."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_xlsx(path: Path, rows: list[list[Any]], sheet: str = "客户") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


HEADERS = ["客户编号", "姓名", "电话", "出生日期", "客户等级", "市州", "地址"]

# The test definition: customers in batches of 2 (conftest writes it into the demo metadata).
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
