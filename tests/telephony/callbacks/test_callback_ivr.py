"""Call-back tasks made by the IVR (the demo main flow on the simulated switch and over the FastAGI test peer),
handed to the router, offered by skill, kept across a restart; the due time per tier from the routing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from helpline.data.base import utcnow
from helpline.data.callbacks import CallbackAttempt, CallbackTask
from helpline.data.database import session
from helpline.services import callbacks as service
from helpline.services.platform import Platform
from telephony.agi.peermodel import Caller
from telephony.agi.server import FastAGIServer
from telephony.agi.testpeer import AsteriskPeer
from telephony.callbacks import CallbackQueue
from telephony.ivr import IvrEngine
from telephony.ivr.agi_handler import make_agi_handler
from telephony.router import AgentProfile, ManualClock, Offer, RouterEvent
from telephony.router.service import RouterService
from telephony.switch.simulated import SimulatedSwitch

GOLD, PLATINUM, ORDINARY = "13800000002", "13800000003", "13800000001"


@pytest.fixture(autouse=True)
def no_tasks(ivr_platform: Platform) -> Iterator[None]:
    """Each test starts with an empty call-back queue (the module shares one database)."""
    with session():
        CallbackTask.delete().execute()
        CallbackAttempt.delete().execute()
    yield


def run(platform: Platform, keys: str, number: str, router: RouterService | None = None) -> int:
    outcome = IvrEngine(platform, router=router).run_call(SimulatedSwitch(keys, language="en"), caller_number=number,
                                                          dnid="96266", flow_name="main")
    return outcome.call_id


def only_task() -> dict[str, object]:
    tasks = service.open_tasks()
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_a_callback_request_becomes_a_task_due_by_the_tier(ivr_platform: Platform) -> None:
    before = utcnow()
    call_id = run(ivr_platform, "41", GOLD)                  # other services → to be called back
    task = only_task()
    assert (task["source"], task["call_id"], task["number"], task["queue"]) == ("ivr", call_id, GOLD, "general")
    assert task["tier"] == "gold" and task["customer_name"] == "李强" and task["city"] == "changsha"
    due = task["due_at"] - before                            # type: ignore[operator]
    assert timedelta(minutes=59) < due < timedelta(minutes=61)   # gold: 1 h (metadata/routings/main.yaml)
    run(ivr_platform, "41", GOLD)                            # asks again: still one task
    assert only_task()["id"] == task["id"]


def test_a_voice_message_becomes_a_task_with_its_recording(ivr_platform: Platform) -> None:
    call_id = run(ivr_platform, "33", ORDINARY)              # complaints → leave a suggestion
    task = only_task()
    assert task["source"] == "message" and task["recording"] == f"helpline/messages/{call_id}-suggestion.wav"
    assert task["tier"] == "ordinary"
    assert (task["due_at"] - task["created_at"]) == timedelta(hours=4)   # type: ignore[operator]


def test_an_empty_queue_sends_the_caller_to_a_task_the_router_offers_by_skill(ivr_platform: Platform) -> None:
    clock = ManualClock(0.0)
    router = RouterService.from_platform(ivr_platform, clock=clock, journal=False, restore=False)
    offers: list[RouterEvent] = []
    router.subscribe(lambda e: offers.append(e) if isinstance(e, Offer) else None)
    run(ivr_platform, "", PLATINUM, router)                 # skips the menu to queue vip: nobody signed in
    task = only_task()
    assert task["queue"] == "vip" and task["tier"] == "platinum"
    assert (task["due_at"] - task["created_at"]) == timedelta(minutes=30)   # type: ignore[operator]
    assert router.do(lambda r: r.holds(-int(task["id"])))  # type: ignore[call-overload]
    for number, skills, groups in (("2001", {"general": 1}, ()), ("2002", {"vip": 1}, ("vip_team",))):
        profile = AgentProfile(number, endpoint=f"PJSIP/{number}", skills=skills, groups=frozenset(groups))
        router.do(lambda r, p=profile: r.add_agent(p))  # type: ignore[misc]
        router.do(lambda r, n=number: r.sign_in(n))  # type: ignore[misc]
    assert [(e.call_id, e.agent_id) for e in offers if isinstance(e, Offer)] == [(-int(task["id"]), "2002")]  # type: ignore[call-overload]
    router.stop()


def test_a_restart_offers_every_open_task_again_and_a_retry_when_it_is_due(ivr_platform: Platform) -> None:
    run(ivr_platform, "41", GOLD)
    run(ivr_platform, "41", ORDINARY)
    later = service.open_tasks()
    with session():                                          # the ordinary one had no answer: retry in 10 min
        CallbackTask.update(next_attempt_at=utcnow() + timedelta(minutes=10)).where(
            CallbackTask.number == ORDINARY).execute()
    clock = ManualClock(1000.0)
    router = RouterService.from_platform(ivr_platform, clock=clock, journal=False, restore=False)
    queue = CallbackQueue(ivr_platform, router)
    assert queue.sync() == {"queued": 1, "held": 1, "withdrawn": 0}
    assert queue.sync() == {"queued": 0, "held": 0, "withdrawn": 0}     # never twice
    gold, ordinary = (-int(t["id"]) for t in later)          # type: ignore[call-overload]
    assert router.do(lambda r: (gold in r.waiting, ordinary in r.deferred)) == (True, True)
    clock.set(1000.0 + 601)
    router.do(lambda r: r.advance())
    assert router.do(lambda r: ordinary in r.waiting)
    with session():                                          # closed elsewhere: the next sync withdraws it
        CallbackTask.update(status="closed", outcome="cancelled").where(CallbackTask.number == GOLD).execute()
    assert queue.sync()["withdrawn"] == 1 and not router.do(lambda r: r.holds(gold))
    router.stop()


def test_over_the_agi_peer_the_request_reaches_the_router(ivr_platform: Platform) -> None:
    router = RouterService.from_platform(ivr_platform, journal=False, restore=False).start()
    router.do(lambda r: r.reconfigure(replace(r.settings, offer_timeout_s=3.0), r.policy))
    server = FastAGIServer(port=0, read_timeout=5.0, hangup_grace=0.25)
    server.route("ivr", make_agi_handler(ivr_platform, engine=IvrEngine(ivr_platform, router=router)))
    server.start()
    try:
        peer = AsteriskPeer(server.address, script="ivr/main", env={"callerid": GOLD, "dnid": "96266"},
                            caller=Caller("41"), timeout=10.0)
        peer.run()
        assert peer.variables_set["HELPLINE_RESULT"] == "callback", peer.format_transcript()
        task = only_task()
        assert task["number"] == GOLD and router.do(lambda r: r.holds(-int(task["id"])))  # type: ignore[call-overload]
    finally:
        server.stop()
        router.stop()


def test_the_serve_scheduler_hands_tasks_of_other_processes_to_the_router(ivr_platform: Platform) -> None:
    from helpline.cli.common import start_scheduler
    from helpline.config import Settings

    run(ivr_platform, "41", GOLD)                            # an IVR without the router (run.py agi elsewhere)
    task = only_task()
    router = RouterService.from_platform(ivr_platform, journal=False, restore=False)
    scheduler = start_scheduler(ivr_platform, Settings(backup_cron="off"), router)
    try:
        assert "callback_sync" in [job.name for job in scheduler.jobs()]
        assert router.do(lambda r: r.holds(-int(task["id"])))  # type: ignore[call-overload]  # synced at start
    finally:
        scheduler.stop()
        router.stop()
