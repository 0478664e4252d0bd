"""Agentless reminder campaigns (issue 19 item 5): an arrears campaign dials 50 simulated customers without an
agent, records each attempt's outcome, retries after N days, escalates the unreached; bad lists, calling
windows, a customer hanging up mid-notice, refused permissions."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from helpline.data.base import utcnow
from helpline.security.actor import Actor, PermissionDenied
from helpline.services import reminders
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.ivr import IvrEngine
from telephony.outbound.reminders import Callee, ReminderRunner, SimulatedReminderDialer
from telephony.switch.simulated import SimulatedSwitch

SYSTEM = Actor.system()
DUE = date(2026, 12, 20)


def noon() -> datetime:
    return datetime(2026, 12, 7, 12, 0)


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"phone": f"1390000{i:04d}", "amount": 100 + i + 0.5, "due_date": DUE.isoformat(),
             "customer_no": f"HN9{i:07d}", "name": f"customer {i}"} for i in range(start, start + n)]


def runner(platform: Platform, callees: dict[str, Callee], *, local: datetime | None = None) -> ReminderRunner:
    dialer = SimulatedReminderDialer(IvrEngine(platform), callees)
    return ReminderRunner(platform, dialer, local_now=lambda: local or noon())


def test_an_arrears_campaign_dials_50_simulated_customers_without_an_agent(ivr_platform: Platform) -> None:
    listed = rows(50)
    phones = [r["phone"] for r in listed]
    plan = (["confirmed"] * 30 + ["to_agent"] * 5 + ["answered"] * 5 + ["no_answer"] * 4 + ["busy"] * 3
            + ["failed"] * 2 + ["hung_up"])
    behaviour = {"confirmed": Callee(keys="1"), "to_agent": Callee(keys="0"), "answered": Callee(keys=""),
                 "no_answer": Callee("no_answer"), "busy": Callee("busy"), "failed": Callee("failed"),
                 "hung_up": Callee(keys="1", hangup_at="say number")}
    callees = {phone: behaviour[outcome] for phone, outcome in zip(phones, plan, strict=True)}
    campaign = reminders.create_campaign(SYSTEM, "Arrears December", listed, retry_days=3, max_attempts=2)
    assert reminders.due_targets(campaign, utcnow(), 100) and reminders.campaign(campaign)["status"] == "draft"
    run = runner(ivr_platform, callees)
    assert run.run_once(campaign=campaign)["dialled"] == 0  # a draft is not dialled
    reminders.start(SYSTEM, campaign)
    counts = run.run_once(campaign=campaign)
    assert counts["dialled"] == 50 and counts["refused"] == 0
    summary = reminders.summary(campaign)
    expected = {o: plan.count(o) for o in set(plan)}
    assert summary["attempts"] == expected
    assert summary["targets"] == {"confirmed": 30, "to_agent": 5, "answered": 5, "pending": 10}
    # what a customer heard: the notice with the amount (yuan and fen) and the due date, said by the switch
    heard = " | ".join(run.dialer.switches[phones[0]].transcript())  # type: ignore[attr-defined]
    assert "number: 100 | ▶ 元 | 🔊 number: 50 | ▶ 分" in heard and f"date: {DUE.isoformat()}" in heard, heard
    # each answered attempt has its call record; no agent was involved
    done = {a["target"]: a for a in reminders.attempts(campaign)}
    first = next(a for a in done.values() if a["outcome"] == "confirmed")
    record = CallService().get(first["call_id"])
    assert record is not None and record["flow"] == "reminder" and record["agent"] is None
    assert record["variables"]["reminder"] == "confirmed" and record["variables"]["due_date"] == DUE.isoformat()
    hung = next(a for a in done.values() if a["outcome"] == "hung_up")
    assert "amount" in (hung["detail"] or "")  # hung up while the amount was being said


def test_the_unreached_are_retried_after_n_days_then_escalated(ivr_platform: Platform) -> None:
    listed = rows(3, start=100)
    callees = {listed[0]["phone"]: Callee("no_answer"), listed[1]["phone"]: Callee("busy"),
               listed[2]["phone"]: Callee(keys="1", hangup_at="say date")}
    campaign = reminders.create_campaign(SYSTEM, "Retry", listed, retry_days=2, max_attempts=2)
    reminders.start(SYSTEM, campaign)
    run = runner(ivr_platform, callees)
    now = utcnow()
    assert run.run_once(now, campaign=campaign)["dialled"] == 3
    assert run.run_once(now + timedelta(days=1), campaign=campaign)["dialled"] == 0  # not before the retry interval
    callees[listed[1]["phone"]] = Callee(keys="1")  # reached the second time
    assert run.run_once(now + timedelta(days=2, minutes=1), campaign=campaign)["dialled"] == 3
    summary = reminders.summary(campaign)
    assert summary["targets"] == {"unreached": 2, "confirmed": 1}
    assert run.run_once(now + timedelta(days=5), campaign=campaign)["dialled"] == 0
    escalated = reminders.escalations(SYSTEM, campaign)
    assert [e["phone"] for e in escalated] == [listed[0]["phone"], listed[2]["phone"]]
    assert [e["attempts"] for e in escalated] == [2, 2] and escalated[1]["last_outcome"] == "hung_up"
    sheet = load_workbook(io.BytesIO(reminders.escalations_workbook(SYSTEM, campaign))).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == list(reminders.ESCALATION_COLUMNS)
    assert [r[0] for r in table[1:]] == [listed[0]["phone"], listed[2]["phone"]] and table[1][3] == listed[0]["amount"]
    agent = Actor("agent1", roles=("agent",)).bind(ivr_platform.metadata)
    with pytest.raises(PermissionDenied):
        reminders.escalations(agent, campaign)
    with pytest.raises(PermissionDenied):
        reminders.escalations_workbook(agent, campaign)


def test_bad_rows_are_refused_one_by_one(ivr_platform: Platform) -> None:
    listed = [
        {"phone": "13800001111", "amount": 10, "due_date": "2026-12-20"},
        {"phone": "12ab", "amount": 10, "due_date": "2026-12-20"},
        {"phone": "138-0000-1111", "amount": 10, "due_date": "2026-12-20"},
        {"phone": "13800002222", "amount": "ten", "due_date": "2026-12-20"},
        {"phone": "13800003333", "amount": -1, "due_date": "2026-12-20"},
        {"phone": "13800004444", "amount": 5, "due_date": "20 Dec"},
        {"phone": "13800005555", "amount": 5, "due_date": "2026-12-20", "window": "21:00-08:00"},
        {"phone": "", "amount": 5, "due_date": "2026-12-20"},
    ]
    campaign = reminders.create_campaign(SYSTEM, "Bad rows", listed)
    rejected = reminders.campaign(campaign)["rejected"]
    assert [r["row"] for r in rejected] == [2, 3, 4, 5, 6, 7, 8]
    reasons = [r["reason"] for r in rejected]
    assert reasons[0].startswith("invalid phone number") and reasons[1].startswith("duplicate phone number")
    assert "not a number" in reasons[2] and ">= 0" in reasons[3] and "not a date" in reasons[4]
    assert "ends before it starts" in reasons[5] and reasons[6].startswith("invalid phone number")
    assert reminders.summary(campaign)["total"] == 1
    with pytest.raises(reminders.ReminderError, match="no valid row: invalid phone number"):
        reminders.create_campaign(SYSTEM, "Nothing", [{"phone": "x", "amount": 1, "due_date": "2026-12-20"}])
    with pytest.raises(reminders.ReminderError, match="HH:MM-HH:MM"):
        reminders.create_campaign(SYSTEM, "Window", rows(1), window="8-21")
    agent = Actor("agent1", roles=("agent",)).bind(ivr_platform.metadata)
    with pytest.raises(PermissionDenied):
        reminders.create_campaign(agent, "Not mine", rows(1))
    with pytest.raises(PermissionDenied):
        reminders.start(agent, campaign)


def test_a_number_outside_its_calling_window_is_refused(ivr_platform: Platform) -> None:
    listed = rows(2, start=200)
    listed[1]["window"] = "09:00-10:00"  # the number's own window
    campaign = reminders.create_campaign(SYSTEM, "Windows", listed, window="08:00-21:00")
    reminders.start(SYSTEM, campaign)
    late = runner(ivr_platform, {}, local=datetime(2026, 12, 7, 22, 30))
    now = utcnow()
    assert late.run_once(now, campaign=campaign) == {"dialled": 0, "refused": 2, "paused": 0}
    assert reminders.summary(campaign)["targets"] == {"pending": 2}
    attempts = reminders.attempts(campaign)
    assert {a["outcome"] for a in attempts} == {"refused"} and "outside the calling window" in attempts[0]["detail"]
    noon_run = runner(ivr_platform, {})
    counts = noon_run.run_once(now + timedelta(hours=1, minutes=1), campaign=campaign)
    assert counts == {"dialled": 1, "refused": 1, "paused": 0}  # 12:00 is outside 09:00-10:00
    summary = reminders.summary(campaign)["targets"]
    assert summary == {"confirmed": 1, "pending": 1}


def test_attempts_left_dialling_by_an_ended_process_are_given_back(ivr_platform: Platform) -> None:
    campaign = reminders.create_campaign(SYSTEM, "Restart", rows(2, start=300))
    reminders.start(SYSTEM, campaign)
    first, second = reminders.due_targets(campaign, utcnow(), 10)
    cut = reminders.begin_attempt(first)  # the process ends while this one is being dialled
    assert reminders.summary(campaign)["targets"] == {"dialling": 1, "pending": 1}
    assert reminders.recover() >= 1
    assert reminders.summary(campaign)["targets"] == {"pending": 2}
    assert reminders.attempt(cut)["outcome"] == "failed"  # type: ignore[index]
    counts = runner(ivr_platform, {}).run_once(campaign=campaign)
    assert counts["dialled"] == 2 and reminders.summary(campaign)["targets"] == {"confirmed": 2}
    assert [t.attempts for t in (reminders.target(first.id), reminders.target(second.id))] == [1, 1]


def test_a_due_date_that_is_not_a_date_fails_the_node_not_the_call(ivr_platform: Platform) -> None:
    switch = SimulatedSwitch("1", language="en")
    outcome = IvrEngine(ivr_platform).run_call(switch, caller_number="13900009999", flow_name="reminder",
                                               variables={"yuan": 12, "fen": 0, "due_date": "soon"})
    assert outcome.error is not None and outcome.error["node"] == "due_date"
    assert "cannot say 'soon' as a date" in outcome.error["message"]
    assert [s["node"] for s in outcome.trail][-1] == "goodbye"  # the flow's on_error
