"""The embedded demo's billing system: ``run.py serve`` on the simulated switch starts the extensions' demo
services (``DEMO_SERVICES``); the BOSS connector's starts a simulator on a free loopback port and points the
connector at it, so the key persons' job succeeds (no ``job_failed`` notice), an unknown caller BOSS knows pops
with the billing block, and the simulated customers never collide with the demo's on the unique smart-card
number. With ``HELPLINE_BOSS_URL``, Asterisk's manager configured, the demo off, a non-loopback url, or something
already answering at the definition's url, nothing starts."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import extensions.boss as boss
from extensions.boss import callers
from extensions.boss import demo as boss_demo
from helpline.cli.common import start_demo_services, stop_demo_services
from helpline.config import Settings
from helpline.data.database import session
from helpline.data.entities import rows as select_rows
from helpline.data.notices import Notice
from helpline.data.system import UserRole
from helpline.extension_registry import registry
from helpline.security.actor import Actor
from helpline.services.calls import CallService
from helpline.services.imports.jobs import metadata_jobs
from helpline.services.platform import Platform
from helpline.services.scheduler import Scheduler
from telephony.desk.screenpop import screen_pop

DEMO = Settings(spike_cron="off", backup_cron="off")


def free_loopback_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def point_definition_at(demo_metadata: Path, url: str) -> None:
    path = demo_metadata / "imports" / "boss_customers.yaml"
    text, n = re.subn(r"url: '[^']*'", f"url: '{url}'", path.read_text(encoding="utf-8"))
    assert n == 1
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def demo_platform(sqlite_url: str, demo_metadata: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    """The demo on a temp SQLite with 150 demo customers (cards 8731…0001 to …0150), the definition's url on a
    free loopback port (nothing of another test's listens there), no HELPLINE_BOSS_URL."""
    from helpline.demo.generator import DemoGenerator

    monkeypatch.delenv("HELPLINE_BOSS_URL", raising=False)
    monkeypatch.setattr(boss_demo, "CUSTOMERS", 150)  # the demo's 2,000, made small for a fast test
    monkeypatch.setattr(callers, "OUTAGE", callers.Outage())
    point_definition_at(demo_metadata, free_loopback_url())
    p = Platform()
    p.start(sqlite_url, str(demo_metadata))
    gen = DemoGenerator(p)
    gen.seed_regions()
    gen.customers(150)
    yield p
    assert boss.DEMO_URL == "", "stopped by the test"


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return json.loads(answer.read())


def test_the_demo_starts_a_simulated_billing_system_and_the_boss_jobs_and_pop_use_it(
        demo_platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    p = demo_platform
    with session():
        UserRole.create(username="ops", role="administrator")  # a failing job would tell them
    started = start_demo_services(p, DEMO, demo=True)
    try:
        assert [name for name, _ in started] == ["boss.simulator"]
        url = boss.DEMO_URL
        assert url.startswith("http://127.0.0.1:") and f"simulated billing system (BOSS) on {url}" in \
            capsys.readouterr().out, "the startup log says so"
        feed = get(f"{url}/api/changes?since=0&limit=1000")
        assert len(feed["items"]) == 150 and feed["more"] is False, "the simulator answers"
        specs, _ = metadata_jobs(p, registry().job_functions(p), sleep=lambda s: None)
        scheduler = Scheduler()
        scheduler.add(next(s for s in specs if s.name == "job.boss_key_persons"))
        run = scheduler.run("job.boss_key_persons")
        key = [i for i in feed["items"] if i["level_code"] != "01"]
        assert run.status == "ok", run.error
        assert (run.result["changes"], run.result["key_persons"]) == (150, len(key)) and key, run.result
        model = p.models["customer"]
        with session():
            assert Notice.select().where(Notice.kind == "job_failed").count() == 0
            saved = select_rows(model.select())
        cards = [c["smart_card_no"] for c in saved]
        assert len(saved) == 150 + len(key) and len(set(cards)) == len(cards), "no card number collides"
        ordinary = next(i for i in feed["items"] if i["level_code"] == "01" and i["city_code"] == "changsha")
        agent = Actor("agent7", roles=("agent",), regions=("changsha",)).bind(p.metadata)
        call_id = CallService().open(switch="simulated", flow="main", caller_number=ordinary["mobile"])
        pop = screen_pop(p, agent, call_id, language="en")
        assert pop["billing"]["account_no"] == ordinary["cust_no"], "an unknown caller BOSS knows: the billing block"
        assert pop["billing"]["products"] == [x["name"] for x in ordinary["products"]]
    finally:
        stop_demo_services(started)
    assert boss.DEMO_URL == ""
    with pytest.raises(OSError):
        get(f"{url}/api/changes?since=0&limit=1")


def test_nothing_starts_when_a_real_billing_system_or_switch_is_meant(
        demo_platform: Platform, demo_metadata: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from extensions.boss.simulator import Simulator

    p = demo_platform
    assert start_demo_services(p, Settings(ami_host="127.0.0.1"), demo=True) == [], "Asterisk: production"
    assert start_demo_services(p, DEMO, demo=False) == [], "--no-demo / HELPLINE_DEMO off"
    monkeypatch.setenv("HELPLINE_BOSS_URL", "http://10.1.2.3:8080")
    assert start_demo_services(p, DEMO, demo=True) == [], "HELPLINE_BOSS_URL names the real one"
    monkeypatch.delenv("HELPLINE_BOSS_URL")
    point_definition_at(demo_metadata, "http://boss.example.net:8089")
    real = Platform()
    real.start(sqlite_url, str(demo_metadata))
    assert start_demo_services(real, DEMO, demo=True) == [], "the definition names a real (not loopback) BOSS"
    own = Simulator(customers=3).start()  # e.g. `python -m extensions.boss.simulator` run by hand
    try:
        point_definition_at(demo_metadata, own.url)
        mine = Platform()
        mine.start(sqlite_url, str(demo_metadata))
        assert start_demo_services(mine, DEMO, demo=True) == [], "something answers there already: it is used"
    finally:
        own.stop()
    assert boss.DEMO_URL == ""
