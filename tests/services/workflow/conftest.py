"""A platform on the demo metadata plus a small complaint process on work orders (``complaint_test``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wf_helpers import COMPLAINT

from helpline.data.database import session
from helpline.data.workflow import DepartmentMember
from helpline.services.platform import Platform


@pytest.fixture
def wf_platform(platform: Platform, demo_metadata: Path) -> Platform:
    (demo_metadata / "workflows").mkdir(exist_ok=True)
    (demo_metadata / "workflows" / "complaint_test.yaml").write_text(COMPLAINT, encoding="utf-8")
    report = platform.store.sync_files(demo_metadata)
    assert not report.problems, [p.format() for p in report.problems]
    with session():
        DepartmentMember.create(department="maintenance", username="tech1")
        DepartmentMember.create(department="maintenance", username="boss1", head=True)
    return platform
