"""The call-back service (``helpline/services/callbacks.py``) on SQLite and PostgreSQL: due time per tier,
one open task per number, the retry policy (attempts, interval) and the attempt history, the supervisors'
list with its filters and the overdue figures, permissions checked on the server and audited, the voice message
served from the recordings folder, and a work order's reply step opening a task."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import AuditEntry
from helpline.services import callbacks as service
from helpline.services.platform import Platform
from helpline.services.recordings import RecordingMissing

POLICY = service.CallbackPolicy(attempts=2, retry_after_s=600, due={"platinum": 1800}, due_default_s=14400,
                                queues=("general", "vip"))


def who(p: Platform, name: str, role: str) -> Actor:
    return Actor(name, roles=(role,), regions=("changsha",), language="en").bind(p.metadata)


def make(number: str = "13800000001", tier: str = "ordinary", **kw: object) -> dict[str, object]:
    return service.create(number=number, queue="general", tier=tier, source="ivr", policy=POLICY, **kw)  # type: ignore[arg-type]


def test_due_by_tier_one_open_task_per_number_and_bad_input(platform: Platform) -> None:
    now = utcnow()
    vip = make("138-0000-0003", "platinum", now=now)
    assert vip["number"] == "13800000003" and vip["due_at"] == now + timedelta(minutes=30)
    other = make("13800000001", now=now)
    assert other["due_at"] == now + timedelta(hours=4)
    again = make("13800000001", "ordinary", recording="helpline/messages/9-m.wav", now=now + timedelta(minutes=5))
    assert again["id"] == other["id"] and again["recording"] == "helpline/messages/9-m.wav"
    assert len(service.open_tasks()) == 2
    with pytest.raises(service.CallbackError, match="not a phone number"):
        make("anonymous")
    with pytest.raises(service.CallbackError, match="unknown queue"):
        service.create(number="13800000009", queue="nowhere", tier=None, source="ivr", policy=POLICY)
    with pytest.raises(service.CallbackError, match="unknown call-back source"):
        service.create(number="13800000009", queue="general", tier=None, source="fax", policy=POLICY)


def test_retry_policy_attempts_and_history(platform: Platform) -> None:
    task = make()
    task_id = int(task["id"])  # type: ignore[call-overload]
    with pytest.raises(service.CallbackError, match="has not taken"):
        service.finish(task_id, "1001", "agent1", "reached", "", POLICY)
    service.start_attempt(task_id, "1001", "agent1")
    with pytest.raises(service.CallbackError, match="unknown outcome"):
        service.finish(task_id, "1001", "agent1", "maybe", "", POLICY)
    t0 = utcnow()
    after = service.finish(task_id, "1001", "agent1", "no_answer", "rang out", POLICY, now=t0)
    assert (after["status"], after["attempts"], after["next_attempt_at"]) == ("open", 1, t0 + timedelta(minutes=10))
    service.start_attempt(task_id, "1002", "agent2")
    last = service.finish(task_id, "1002", "agent2", "no_answer", "", POLICY, now=t0 + timedelta(minutes=11))
    assert (last["status"], last["outcome"], last["attempts"]) == ("closed", "gave_up", 2)   # 2 attempts allowed
    assert [(a["agent"], a["outcome"], a["note"]) for a in service.attempts(task_id)] == [
        ("1001", "no_answer", "rang out"), ("1002", "no_answer", "")]
    with pytest.raises(service.CallbackError, match="not open"):
        service.start_attempt(task_id, "1001", "agent1")
    other = int(make("13800000002")["id"])  # type: ignore[call-overload]
    service.start_attempt(other, "1001", "agent1")
    assert service.finish(other, "1001", "agent1", "wrong_number", "a fax", POLICY)["outcome"] == "wrong_number"


def test_supervisor_list_filters_overdue_and_permissions(platform: Platform) -> None:
    supervisor, agent = who(platform, "boss", "supervisor"), who(platform, "agent1", "agent")
    long_ago = utcnow() - timedelta(hours=5)
    late = make("13800000001", now=long_ago)                     # due 1 h ago
    vip_late = make("13800000003", "platinum", now=utcnow() - timedelta(hours=1))
    fresh = make("13800000005")
    listed = service.list_tasks(supervisor)
    assert [t["id"] for t in listed] == [late["id"], vip_late["id"], fresh["id"]]   # most urgent first
    assert [t["overdue"] for t in listed] == [True, True, False]
    assert [t["id"] for t in service.list_tasks(supervisor, overdue=True, tier="platinum")] == [vip_late["id"]]
    assert service.overdue_count() == {"ordinary": 1, "platinum": 1}
    with pytest.raises(PermissionDenied):
        service.list_tasks(agent)
    with pytest.raises(PermissionDenied):
        service.cancel(agent, int(fresh["id"]), "duplicate")  # type: ignore[call-overload]
    with pytest.raises(service.CallbackError, match="say why"):
        service.cancel(supervisor, int(fresh["id"]), " ")  # type: ignore[call-overload]
    cancelled = service.cancel(supervisor, int(fresh["id"]), "the customer came in person")  # type: ignore[call-overload]
    assert (cancelled["status"], cancelled["outcome"]) == ("closed", "cancelled")
    assert [t["id"] for t in service.list_tasks(supervisor, status="closed")] == [fresh["id"]]
    with session():
        actions = [e.action for e in AuditEntry.select().where(AuditEntry.entity == "hl_callback")]
    assert actions.count("callback.create") == 3 and "callback.cancel" in actions


def test_voice_message_for_agents_who_work_callbacks(platform: Platform, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path))
    (tmp_path / "helpline" / "messages").mkdir(parents=True)
    (tmp_path / "helpline" / "messages" / "7-suggestion.wav").write_bytes(b"RIFF....WAVE")
    task = make(recording="helpline/messages/7-suggestion.wav")
    sneaky = make("13800000002", recording="../../etc/passwd")
    agent, qa = who(platform, "agent1", "agent"), who(platform, "qa1", "qa")
    assert service.voice_message(agent, int(task["id"])).read_bytes() == b"RIFF....WAVE"  # type: ignore[call-overload]
    with pytest.raises(PermissionDenied):
        service.voice_message(qa, int(task["id"]))  # type: ignore[call-overload]
    with pytest.raises(RecordingMissing, match="outside"):
        service.voice_message(agent, int(sneaky["id"]))  # type: ignore[call-overload]
    with session():
        denied = AuditEntry.select().where((AuditEntry.action == "denied") & (AuditEntry.entity == "hl_callback"))
        assert denied.count() == 1


def test_the_reply_step_of_a_complaint_opens_a_task(platform: Platform) -> None:
    p = platform
    agent, qa, tech = who(p, "agent1", "agent"), who(p, "qa1", "qa"), who(p, "tech1", "technician")
    customer = p.records.create(agent, "customer", {"customer_no": "HN00000077", "name": "赵敏", "phone": "13800000077",
                                                    "value_tier": "platinum", "city": "changsha"})
    oid = int(p.records.create(agent, "work_order", {"type": "complaint", "city": "changsha", "title": "bill",
                                                      "customer": customer.id}).id)
    p.workflows.take(qa, "work_order", oid, "forward", {"department": "customer_service"})
    p.workflows.take(tech, "work_order", oid, "reply", {"reply": "billing corrected"})
    assert service.open_tasks() == []
    p.workflows.take(qa, "work_order", oid, "approve")           # → to_customer: call the customer back
    [task] = service.open_tasks()
    assert (task["source"], task["entity"], task["record_id"], task["number"]) == ("workorder", "work_order", oid,
                                                                                    "13800000077")
    assert task["tier"] == "platinum" and task["customer_name"] == "赵敏" and task["queue"] == "general"
    assert task["due_at"] - task["created_at"] == timedelta(minutes=30)   # type: ignore[operator]
