"""UI test fixtures: a platform on the demo metadata with the demo users (password ``demo-pass-1``,
language English) and 30 customers, installed as the web runtime's platform before the ``user``/``screen``
fixture runs the app (tests/ui/app_main.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpline.data.database import db, session
from helpline.data.system import User as UserRow
from helpline.demo.generator import DemoGenerator
from helpline.services.auth import ensure_bootstrap_users
from helpline.services.platform import Platform
from helpline.ui.context import set_platform

from ui_helpers import PASSWORD


@pytest.fixture(autouse=True)
def ui_platform(tmp_path: Path, demo_metadata: Path) -> Iterator[Platform]:
    p = Platform()
    p.start(f"sqlite:///{tmp_path}/ui.db", str(demo_metadata))
    gen = DemoGenerator(p, seed=11)
    gen.seed_regions()
    gen.customers(30)
    ensure_bootstrap_users(demo=True, environ={"HELPLINE_ADMIN_PASSWORD": PASSWORD,
                                               "HELPLINE_DEMO_PASSWORD": PASSWORD})
    with session():
        UserRow.update(language="en").execute()
    set_platform(p)
    yield p
    if not db.is_closed():
        db.close()

