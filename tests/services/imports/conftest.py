"""Fixtures of the import tests: a platform on the demo metadata plus small import definitions, and writers of
xlsx and csv files."""

from __future__ import annotations

from pathlib import Path

import pytest
from imp_helpers import SMALL

from helpline.services.imports import ImportService
from helpline.services.platform import Platform


@pytest.fixture
def imp(db_url: str, demo_metadata: Path, tmp_path: Path) -> ImportService:
    from helpline.demo.generator import DemoGenerator

    (demo_metadata / "imports" / "small_customers.yaml").write_text(SMALL, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p, uploads=tmp_path / "uploads")


MIRROR = SMALL.replace("name: small_customers", "name: mirror_customers").replace(
    "batch_size: 2", "batch_size: 2\nmode: upsert\ndelete_missing: true")
IMPORTER = """\
# Imports customers but may not delete them.
kind: role
name: importer
label: {en: Importer, zh_CN: 导入员}
entities:
  customer: cru
permissions: [import]
"""


@pytest.fixture
def mirror(db_url: str, demo_metadata: Path, tmp_path: Path) -> ImportService:
    from helpline.demo.generator import DemoGenerator

    (demo_metadata / "imports" / "mirror_customers.yaml").write_text(MIRROR, encoding="utf-8")
    (demo_metadata / "roles" / "importer.yaml").write_text(IMPORTER, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p, uploads=tmp_path / "uploads")
