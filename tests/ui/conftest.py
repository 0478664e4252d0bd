"""UI test fixtures: a platform on the demo metadata with the demo users (password ``demo-pass-1``,
language English) and 30 customers, installed as the web runtime's platform before the ``user``/``screen``
fixture runs the app (tests/ui/app_main.py).

NiceGUI's pytest plugin (the ``user`` and ``screen`` fixtures) is registered here, when the UI tests are
collected, not for every run: importing NiceGUI, FastAPI and Selenium costs about 2 s that a run of the
rules or router tests does not need.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desk_helpers import GOLD, Caller
from selenium import webdriver
from ui_helpers import PASSWORD

from helpline.data.database import db, session
from helpline.data.system import User as UserRow
from helpline.demo.generator import DemoGenerator
from helpline.security.actor import Actor
from helpline.services.auth import ensure_bootstrap_users
from helpline.services.platform import Platform
from helpline.ui.context import set_platform

DEMO_METADATA = Path(__file__).resolve().parents[2] / "metadata"


def pytest_configure(config: pytest.Config) -> None:
    """Register NiceGUI's plugin (global once registered; its own ``pytest_configure`` runs at once), and give
    ``Screen.open`` time to wait for the app server it starts (see :func:`_patient_open`)."""
    if not config.pluginmanager.has_plugin("nicegui.testing.plugin"):
        config.pluginmanager.import_plugin("nicegui.testing.plugin")
    from nicegui.testing import Screen

    if Screen.open is not _patient_open:
        _patient_open.upstream = Screen.open  # type: ignore[attr-defined]
        Screen.open = _patient_open  # type: ignore[method-assign]


def _patient_open(self: Any, path: str, timeout: float = 30.0) -> None:
    """NiceGUI's ``Screen.open`` with 30 s instead of 3 s by default for the first page: the app server starts in
    a thread on the first ``open`` and retries end at the deadline, so with the tests spread over both cores
    (pytest-xdist) the server was not listening yet after 3 s (``net::ERR_CONNECTION_REFUSED``)."""
    _patient_open.upstream(self, path, timeout)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def ui_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The UI tests' database, built once per session (the demo metadata, regions, 30 customers, the demo
    users with their argon2 hashes: about a second); each test starts its platform on a copy."""
    base = tmp_path_factory.mktemp("ui-database")
    shutil.copytree(DEMO_METADATA, base / "metadata")
    p = Platform()
    p.start(f"sqlite:///{base}/ui.db", str(base / "metadata"))
    gen = DemoGenerator(p, seed=11)
    gen.seed_regions()
    gen.customers(30)
    ensure_bootstrap_users(demo=True, environ={"HELPLINE_ADMIN_PASSWORD": PASSWORD,
                                               "HELPLINE_DEMO_PASSWORD": PASSWORD})
    with session():
        UserRow.update(language="en").execute()
    if not db.is_closed():
        db.close()
    return base / "ui.db"


@pytest.fixture(autouse=True)
def ui_platform(tmp_path: Path, demo_metadata: Path, ui_database: Path) -> Iterator[Platform]:
    for suffix in ("", "-wal", "-shm"):
        if ui_database.with_name(ui_database.name + suffix).exists():
            shutil.copyfile(ui_database.with_name(ui_database.name + suffix), tmp_path / f"ui.db{suffix}")
    p = Platform()
    p.start(f"sqlite:///{tmp_path}/ui.db", str(demo_metadata))
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


@pytest.fixture
def callers(ui_platform: Platform) -> Iterator[list[Caller]]:
    """Callers started by a test; any still on the line hang up at its end."""
    started: list[Caller] = []
    yield started
    for caller in started:
        caller.hang_up()


@pytest.fixture
def gold_customer(ui_platform: Platform) -> int:
    """A gold-card customer of Changsha (agent1's region) with a contact record, an open work order and an
    outage notice for Changsha."""
    system = Actor.system()
    records = ui_platform.records
    customer = records.create(system, "customer", {"customer_no": "HN-DESK-1", "name": "Zhang Wei", "phone": GOLD,
                                                   "city": "changsha", "value_tier": "gold"}).id
    records.create(system, "contact_record", {"serial_no": "2026100100000001", "customer": customer,
                                              "caller_number": GOLD, "agent": "agent2", "remarks": "asked about HD"})
    records.create(system, "work_order", {"order_no": "WO-DESK-1", "customer": customer, "type": "fault",
                                          "status": "dispatched", "title": "No signal on the second set"})
    records.create(system, "outage", {"title": "Fibre cut in Changsha", "region": "changsha",
                                      "notice": "长沙光缆中断", "notice_en": "A fibre cut affects Changsha."})
    return customer
