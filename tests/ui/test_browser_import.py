"""Data import in real headless Chromium (issue 18's "done when"): the administrator drops a 10,000-row Excel
export of the billing system on /page/imports, sees it mapped, dry-runs it (two rows rejected), downloads the
rejected rows, imports the file with the progress bar, fixes the two rows in the downloaded workbook and imports
them, and finds the new customers in the customer list. Then the nightly BOSS sync job, run on demand from
/page/jobs against the billing-system simulator (started here), brings a payment's new balance into the
screen-pop of the customer's next call."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nicegui.testing.screen_plugin as screen_plugin
import pytest
from browser_helpers import (  # noqa: F401 - markers_as_classes and patient_browser are fixtures
    center,
    choose,
    click,
    element,
    log_in,
    markers_as_classes,
    patient_browser,
    text_shown,
    type_into,
    until,
    visible,
)
from nicegui.testing import Screen
from openpyxl import Workbook, load_workbook
from selenium.webdriver.common.by import By

import helpline.services.imports.engine as engine
from extensions.boss.simulator import Simulator
from helpline.data.database import session
from helpline.extension_registry import registry
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.imports.jobs import metadata_jobs
from helpline.services.platform import Platform
from helpline.services.scheduler import Scheduler

pytestmark = pytest.mark.browser
ROWS = 10_000
HEADERS = ["客户编号", "客户名称", "性别", "联系电话", "市州", "客户等级"]
BAD_PHONE, BAD_TIER = 500, 7000
"""The rows (0-based) the dry run rejects: a phone number of 2 digits, a tier code BOSS does not have."""
WAIT = 120.0
"""Seconds an import of the 10,000 rows may take on a loaded machine."""


def billing_export(path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(HEADERS)
    for i in range(ROWS):
        sheet.append([f"XL{i:06d}", f"导入客户{i}", "1" if i % 2 else "2", "12" if i == BAD_PHONE else f"139{i:08d}",
                      "changsha", "09" if i == BAD_TIER else "03"])
    book.save(path)


def upload(screen: Screen, path: Path) -> None:
    def attempt() -> bool:
        box = screen.selenium.find_element(By.CSS_SELECTOR, ".m-imports-upload input[type=file]")
        box.send_keys(str(path))
        return True
    until(attempt, f"upload {path.name}")


@pytest.fixture
def boss(ui_platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The billing-system simulator, synced once (last night), and the process scheduler with the metadata jobs."""
    sim = Simulator(customers=5).start()
    monkeypatch.setenv("HELPLINE_BOSS_URL", sim.url)
    for number in list(sim.data):  # smart cards of their own (the demo customers have 8731...)
        sim.change(number, card_no="99" + sim.data[number]["card_no"])
    sim.change("B00000003", city_code="changsha", level_code="03")  # a gold card of Changsha: agent1's queue
    assert ImportService(ui_platform).run(Actor.system(), "boss_customers", None).inserted == 5
    scheduler = Scheduler()
    specs, problems = metadata_jobs(ui_platform, registry().job_functions(ui_platform))
    assert not problems, problems
    for spec in specs:
        scheduler.add(spec)
    ui_platform.scheduler = scheduler
    yield sim
    ui_platform.scheduler = None
    sim.stop()


def workbook(path: Path) -> Any:
    """The workbook at ``path``, None while the browser is still writing it."""
    try:
        return load_workbook(path)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def test_an_export_is_imported_and_the_nightly_sync_reaches_the_pop(
        patient_browser: Screen, ui_platform: Platform, desk: Any, callers: list[Any], boss: Simulator,  # noqa: F811
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    screen, p = patient_browser, ui_platform
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    export = tmp_path / "boss-export.xlsx"
    billing_export(export)
    downloads = screen_plugin.DOWNLOAD_DIR
    assert downloads is not None
    rejected = downloads / "boss-export-rejected.xlsx"
    rejected.unlink(missing_ok=True)

    # map and dry-run the export
    log_in(screen, "admin", "/page/imports")
    choose(screen, ".m-imports-definition", "Customers from BOSS (Excel)")
    upload(screen, export)
    until(lambda: "客户编号 → customer_no" in element(screen, ".m-imports-mapping").text, "the mapping shown")
    until(lambda: "XL000000" in element(screen, ".m-imports-preview").text, "the first rows as stored")
    click(screen, ".m-imports-dry-run")
    text_shown(screen, f"Dry run finished: {ROWS} rows, {ROWS - 2} inserted, 0 updated, 0 unchanged, 2 rejected",
               timeout=WAIT)
    problems = element(screen, ".m-imports-problems").text
    assert "联系电话" in problems and "客户等级" in problems and "'09'" in problems, problems
    model = p.models["customer"]
    with session():
        assert not model.select().where(model.customer_no.startswith("XL")).exists(), "a dry run writes nothing"

    # the rejected rows as a workbook; the import with its progress bar
    click(screen, ".m-imports-errors")
    until(rejected.exists, "the rejected rows downloaded")
    click(screen, ".m-imports-run")
    text_shown(screen, f"Imported: {ROWS} rows, {ROWS - 2} inserted", timeout=WAIT)
    assert f"{ROWS:,} of {ROWS:,} rows" in element(screen, ".m-imports-speed").text
    bar = element(screen, ".m-imports-progress .q-linear-progress__model")
    assert "scale3d(1," in (bar.get_attribute("style") or ""), bar.get_attribute("style")

    # the two rows fixed in the downloaded workbook and imported
    book = until(lambda: workbook(rejected), "the rejected rows' workbook complete")  # polled: written in parts
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:len(HEADERS)] == HEADERS and sheet.max_row == 3, header
    phone, tier = header.index("联系电话") + 1, header.index("客户等级") + 1
    for r in (2, 3):
        if len(str(sheet.cell(r, phone).value)) < 7:
            sheet.cell(r, phone).value = "13900000500"
        if sheet.cell(r, tier).value == "09":
            sheet.cell(r, tier).value = "03"
    fixed = tmp_path / "boss-export-fixed.xlsx"
    book.save(fixed)
    upload(screen, fixed)
    until(lambda: f"XL{BAD_PHONE:06d}" in element(screen, ".m-imports-preview").text, "the fixed rows shown")
    click(screen, ".m-imports-run")
    text_shown(screen, "Imported: 2 rows, 2 inserted", timeout=WAIT)
    with session():
        assert model.select().where(model.customer_no.startswith("XL")).count() == ROWS

    # the new customers in the customer list
    click(screen, ".menu-main-customers")
    for number in (f"XL{BAD_TIER:06d}", "XL009999"):
        type_into(screen, ".quick-search", number, leave="")
        until(lambda n=number: [r for r in visible(screen, "tbody tr") if n in r.text], f"{number} listed")

    # the nightly sync, run now, brings a payment into the next call's pop
    paid = boss.pay("B00000003", 100.0)
    screen.open("/page/jobs")

    def select_the_job() -> bool:
        row = next(r for r in visible(screen, ".m-jobs-table tbody tr") if "job.boss_nightly" in r.text)
        box = row.find_element(By.CSS_SELECTOR, ".q-checkbox")
        center(screen, box)
        box.click()
        return True
    until(select_the_job, "the nightly sync chosen")
    click(screen, ".m-jobs-run-now")
    text_shown(screen, "Job job.boss_nightly: succeeded.")
    with session():
        assert float(model.get(model.customer_no == "B00000003").balance) == paid["balance"]

    log_in(screen, "agent1", "/desktop")
    click(screen, ".desk-sign-in")
    click(screen, ".desk-ready")
    until(lambda: desk.view("1001")["status"] == "ready", "agent1 ready")
    from desk_helpers import Caller

    callers.append(Caller(p, desk, paid["mobile"]))
    shown = until(lambda: element(screen, ".m-pop-customer .field-balance").text.splitlines()[-1], "the pop")
    assert float(shown) == paid["balance"], (shown, paid["balance"])
