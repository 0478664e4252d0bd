"""Fixtures of the telephony tests (IVR, router, desk): a platform on the demo metadata with known callers.

``ivr_platform`` is started once per test module on SQLite (each module gets its own database), with the
demo regions and these callers (every one with service password 123456 unless noted):

| number        | who                                                              |
|---------------|------------------------------------------------------------------|
| 13800000001   | HN00000001, ordinary, Changsha (changsha_01)                     |
| 13800000002   | HN00000002, gold, Changsha                                       |
| 13800000003   | HN00000003, platinum, Changsha                                   |
| 13800000004   | HN00000004, ordinary, blacklisted customer                       |
| 13800000005   | HN00000005, ordinary, Yueyang county yueyang_02 (outage there)   |
| 13800000006   | HN00000006, no service password                                  |
| 13900000009   | no customer; on the blacklist entity                             |
| 073088880000  | no customer; fixed line of Yueyang (0730)                        |
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpline.data.database import db, session
from helpline.demo.generator import DemoGenerator
from helpline.security.passwords import hash_password
from helpline.services.platform import Platform
from telephony.ivr import IvrEngine

ROOT = Path(__file__).resolve().parents[2]

CUSTOMERS: list[dict[str, Any]] = [
    {"customer_no": "HN00000001", "name": "王芳", "phone": "13800000001", "value_tier": "ordinary",
     "city": "changsha", "county": "changsha_01", "service_password": "123456", "business_line": ["basic_dtv"]},
    {"customer_no": "HN00000002", "name": "李强", "phone": "13800000002", "value_tier": "gold",
     "city": "changsha", "county": "changsha_02", "service_password": "123456"},
    {"customer_no": "HN00000003", "name": "张伟", "phone": "13800000003", "value_tier": "platinum",
     "city": "changsha", "county": "changsha_03", "service_password": "123456"},
    {"customer_no": "HN00000004", "name": "刘洋", "phone": "13800000004", "value_tier": "ordinary",
     "city": "changsha", "county": "changsha_01", "service_password": "123456", "blacklisted": True},
    {"customer_no": "HN00000005", "name": "陈静", "phone": "13800000005", "value_tier": "ordinary",
     "city": "yueyang", "county": "yueyang_02", "service_password": "123456"},
    {"customer_no": "HN00000006", "name": "杨明", "phone": "13800000006", "value_tier": "ordinary",
     "city": "hengyang", "county": "hengyang_01"},
]


def seed_callers(platform: Platform) -> None:
    """The callers of the table above, the blacklist entry and an active outage in Yueyang."""
    DemoGenerator(platform).seed_regions()
    customer = platform.models["customer"]
    blacklist = platform.models["blacklist"]
    outage = platform.models["outage"]
    now = datetime.now()
    with session(), db.atomic():
        for row in CUSTOMERS:
            if row.get("service_password"):  # stored hashed (a secret field takes only hashes)
                row = {**row, "service_password": hash_password(row["service_password"])}
            customer.insert(**{"blacklisted": False, **row}).execute()
        blacklist.insert(number="13900000009", reason="harassment", active=True).execute()
        blacklist.insert(number="13900000010", reason="expired", active=True,
                         expires_at=now - timedelta(days=1)).execute()
        outage.insert(title="岳阳信号中断", region="yueyang", starts_at=now - timedelta(hours=1),
                      ends_at=now + timedelta(hours=3), active=True,
                      notice="岳阳市部分地区有线电视信号中断，预计三小时内恢复。",
                      notice_en="A signal outage in parts of Yueyang; service returns within three hours.",
                      sound_file="helpline/outage-yueyang").execute()
        outage.insert(title="过期公告", region="changsha", starts_at=now - timedelta(days=2),
                      ends_at=now - timedelta(days=1), active=True, notice="已恢复").execute()


@pytest.fixture(scope="module")
def ivr_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    base = tmp_path_factory.mktemp("ivr")
    metadata = base / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    platform = Platform()
    platform.start(f"sqlite:///{base}/helpline.db", str(metadata))
    seed_callers(platform)
    yield platform
    if not db.is_closed():
        db.close()


@pytest.fixture(scope="module")
def engine(ivr_platform: Platform) -> IvrEngine:
    return IvrEngine(ivr_platform)


@pytest.fixture
def seed() -> Any:
    """``seed(platform)``: the callers, blacklist entries and outages above, on any platform."""
    return seed_callers
