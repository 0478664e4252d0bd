"""The BOSS connector against the billing-system simulator (started here on a free loopback port): the
incremental sync with its watermark, payments reaching the accounts, the on-demand fetch within a second, and an
unreachable, slow or malformed interface failing the sync with nothing loaded and the watermark kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from extensions.boss import fetch_customer, store
from extensions.boss.simulator import Simulator
from helpline.data.database import session
from helpline.data.notices import Notice
from helpline.data.system import UserRole
from helpline.extension_registry import registry
from helpline.security.actor import Actor
from helpline.services.imports import ImportService, SourceError
from helpline.services.imports.jobs import metadata_jobs
from helpline.services.notices.texts import render
from helpline.services.platform import Platform
from helpline.services.scheduler import Scheduler
from telephony.ivr.hooks import HookCall

SYSTEM = Actor.system()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    s = Simulator(customers=60).start()
    yield s
    s.stop()


@pytest.fixture
def boss(db_url: str, demo_metadata: Path, sim: Simulator) -> ImportService:
    from helpline.demo.generator import DemoGenerator

    path = demo_metadata / "imports" / "boss_customers.yaml"
    text = path.read_text(encoding="utf-8").replace("http://127.0.0.1:8089", sim.url)
    path.write_text(text.replace("timeout: 10", "timeout: 0.5").replace("retries: 2", "retries: 1"), encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p)


def _customer(boss: ImportService, no: str) -> dict:
    model = boss.platform.models["customer"]
    with session():
        return model.select().where(model.customer_no == no).dicts().get()


def test_incremental_sync_with_a_watermark(boss: ImportService, sim: Simulator) -> None:
    first = boss.run(SYSTEM, "boss_customers", None)
    assert first.status == "done" and (first.rows, first.inserted, first.rejected) == (60, 60, 0), first.problems
    assert store.watermark() == 60
    c = sim.data["B00000007"]
    stored = _customer(boss, "B00000007")
    assert (stored["name"], stored["phone"]) == (c["cust_name"], c["mobile"])
    sim.pay("B00000007", 100.0)
    sim.change("B00000009", cust_name="改名后")
    second = boss.run(SYSTEM, "boss_customers", None)
    assert (second.rows, second.updated, second.unchanged) == (2, 2, 0), "only the two changes are fetched"
    assert float(_customer(boss, "B00000007")["balance"]) == sim.data["B00000007"]["balance"], "the pop shows it"
    assert _customer(boss, "B00000009")["name"] == "改名后"
    account = store.account(customer_no="B00000007")
    assert account is not None and float(account["balance"]) == sim.data["B00000007"]["balance"]
    assert account["payments"][0]["amount"] == 100.0
    assert store.watermark() == 62
    assert boss.run(SYSTEM, "boss_customers", None).rows == 0


@pytest.mark.parametrize("trouble", ["unreachable", "slow", "malformed"])
def test_a_failing_interface_fails_the_sync_and_tells(boss: ImportService, sim: Simulator, trouble: str) -> None:
    if trouble == "unreachable":
        sim.stop()
    elif trouble == "slow":
        sim.delay = 1.0
    else:
        sim.malformed = True
    with session():
        UserRole.create(username="ops", role="administrator")
    slept: list[float] = []
    specs, _ = metadata_jobs(boss.platform, {}, sleep=slept.append)
    scheduler = Scheduler()
    scheduler.add(next(s for s in specs if s.name == "job.boss_nightly"))
    run = scheduler.run("job.boss_nightly")
    expected = {"unreachable": "cannot reach the interface", "slow": "no answer within 0.5 s",
                "malformed": "the answer is not valid JSON"}[trouble]
    assert run.status == "failed" and expected in run.error and sim.url.split("//")[1] in run.error
    assert slept == [300, 600], "the job's retries with back-off"
    model = boss.platform.models["customer"]
    with session():
        assert model.select().count() == 0, "nothing loaded"
        notices = list(Notice.select().where(Notice.kind == "job_failed"))
    assert [(n.username, n.params["job"]) for n in notices] == [("ops", "boss_nightly")]
    address = f"boss interface {sim.url}/api/changes"
    chinese = {"unreachable": f"{address}：无法连接接口（", "slow": f"{address}：0.5 秒内没有应答（source.timeout）",
               "malformed": f"{address}：应答不是有效的 JSON（"}[trouble]
    technical = {"unreachable": "URLError: ", "slow": "TimeoutError: ", "malformed": "JSONDecodeError: "}[trouble]
    body = {language: render(notices[0].body_key, notices[0].params, language) for language in ("zh_CN", "en")}
    assert body["zh_CN"].startswith(f"已尝试 3 次：{chinese}") and f"（技术细节：{technical}" in body["zh_CN"], body
    assert body["en"].startswith(f"After 3 attempt(s): {address}: {expected}") and \
        f"(technical detail: {technical}" in body["en"], body
    assert store.watermark() == 0, "the next night fetches the same changes again"


def test_on_demand_fetch_for_the_ivr_within_a_second(boss: ImportService, sim: Simulator) -> None:
    hook = registry().ivr_hook("boss.balance")
    assert callable(hook)
    caller = sim.data["B00000011"]
    call = HookCall(1, "main", "balance", caller["mobile"], None, None, None, "zh_CN", {"url": sim.url})
    import os

    os.environ["HELPLINE_BOSS_URL"] = sim.url
    try:
        started = time.perf_counter()
        assert hook(call) is None
        assert call.vars["balance"] == int(caller["balance"]) and time.perf_counter() - started < 2.5
        assert store.account(phone=caller["mobile"]) is not None, "kept for the next call"
        sim.delay = 3.0
        other = HookCall(2, "main", "balance", sim.data["B00000012"]["mobile"], None, None, None, "zh_CN", {})
        started = time.perf_counter()
        with pytest.raises((TimeoutError, SourceError)):  # the request's 0.8 s or the extension's 1 s limit
            hook(other)
        assert time.perf_counter() - started < 2.5, "a caller is not kept the simulator's 3 s"
        sim.delay = 0
        assert fetch_customer(phone="19900000000") is None
    finally:
        del os.environ["HELPLINE_BOSS_URL"]
