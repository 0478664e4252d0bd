"""UI test fixtures: a platform on the demo metadata with the demo users (password ``demo-pass-1``,
language English) and 30 customers, installed as the web runtime's platform before the ``user``/``screen``
fixture runs the app (tests/ui/app_main.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from ui_helpers import PASSWORD

from helpline.data.database import db, session
from helpline.data.system import User as UserRow
from helpline.demo.generator import DemoGenerator
from helpline.services.auth import ensure_bootstrap_users
from helpline.services.platform import Platform
from helpline.ui.context import set_platform


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



@pytest.fixture
def desk(ui_platform: Platform) -> Iterator[Any]:
    """The live router and the agent functions on the simulated phones of this test (private registry):
    ``desk.phones.phone("PJSIP/1001")`` is agent1's phone; the demo agent profiles (1001 agent1, 1002 agent2,
    1009 supervisor1) exist. Sets ``platform.router`` / ``platform.desk`` as ``run.py serve`` does."""
    from helpline.services.agents import ensure_demo_agents
    from telephony.control.simulated import SimulatedCallControl
    from telephony.desk.service import DeskService
    from telephony.router.service import RouterService
    from telephony.switch.phones import SimulatedPhones

    ensure_demo_agents()
    router = RouterService.from_platform(ui_platform, restore=False).start()
    phones = SimulatedPhones()
    service = DeskService(ui_platform, router, SimulatedCallControl(phones))
    service.phones = phones  # type: ignore[attr-defined]
    ui_platform.router, ui_platform.desk = router, service
    yield service
    router.stop()
    ui_platform.router = ui_platform.desk = None


os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never try the network
if os.path.exists("/usr/bin/chromium"):
    os.environ.setdefault("CHROME_BINARY_LOCATION", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def nicegui_chrome_options(nicegui_chrome_options: webdriver.ChromeOptions) -> webdriver.ChromeOptions:
    """NiceGUI's options without background traffic (this machine has no network: Chromium's own
    connections would only fail)."""
    for arg in ("disable-background-networking", "disable-component-update",
                "disable-sync", "no-first-run", "disable-gpu"):
        nicegui_chrome_options.add_argument(arg)
    return nicegui_chrome_options
