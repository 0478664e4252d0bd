"""Agent profiles, the router journal and the rebuild after a restart, on both backends; the live router
picks up a published routing change without a restart."""

from __future__ import annotations

from typing import Any

import pytest
from peewee import CharField, FloatField, IntegerField, Model

from helpline.data.agents import AgentEvent
from helpline.data.calls import Call
from helpline.data.database import db, session
from helpline.data.system import add_missing_columns
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services import agents
from helpline.services.platform import Platform
from telephony.router import AgentStatus, CallRequest, ManualClock
from telephony.router.service import RouterService


def admin(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def test_profiles_are_saved_checked_and_audited(platform: Platform) -> None:
    a = admin(platform)
    saved = agents.save_profile(a, "1101", username="agent1", name="一号", endpoint="PJSIP/1101",
                                skills={"general": 1, "fault": 2}, known_skills={"general", "fault"})
    assert saved["skills"] == {"general": 1, "fault": 2}
    agents.save_profile(a, "1101", endpoint="PJSIP/1101b")
    assert agents.profile_of_user("agent1")["endpoint"] == "PJSIP/1101b"  # type: ignore[index]
    with pytest.raises(agents.ProfileError, match="unknown skills: billing"):
        agents.save_profile(a, "1102", skills={"billing": 1}, known_skills={"general"})
    with pytest.raises(agents.ProfileError, match="level"):
        agents.save_profile(a, "1102", skills={"general": 0})
    with pytest.raises(agents.ProfileError, match="agent number"):
        agents.save_profile(a, "11 02")
    agent = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        agents.save_profile(agent, "1101", endpoint="PJSIP/evil")
    with session():
        entries = search_audit(action="agent.profile", record_id="1101")
    assert next(e["after"] for e in entries) == {"endpoint": "PJSIP/1101b"}
    assert [p["number"] for p in agents.list_profiles()] == ["1101"]


def test_demo_agents_are_created_once(platform: Platform) -> None:
    assert agents.ensure_demo_agents() == list(agents.DEMO_AGENTS)
    assert agents.ensure_demo_agents() == []


def _service(platform: Platform, clock: ManualClock) -> RouterService:
    return RouterService.from_platform(platform, clock=clock)


def test_the_journal_records_and_a_restart_restores_signed_in_agents(platform: Platform) -> None:
    a = admin(platform)
    for number in ("1201", "1202", "1203", "1204"):
        agents.save_profile(a, number, endpoint=f"PJSIP/{number}", skills={"general": 1})
    clock = ManualClock(1000.0)
    first = _service(platform, clock)
    first.do(lambda r: r.sign_in("1201"))
    first.do(lambda r: r.sign_in("1202", ready=False, reason="meal"))
    first.do(lambda r: r.sign_in("1203"))
    first.do(lambda r: r.set_study("1203"))
    first.do(lambda r: r.sign_in("1204"))
    first.do(lambda r: r.sign_out("1204"))
    ticket = first.enqueue(CallRequest(call_id=77, queue="general", tier="gold"))
    assert ticket.result == "queued" and ticket.offer is not None and ticket.offer.agent_id == "1201"
    first.stop()  # flushes the journal
    with session():
        rows: list[Any] = list(AgentEvent.select().where(AgentEvent.agent == "1202").dicts())
    assert [(r["what"], r["old"], r["new"], r["reason"]) for r in rows] == [
        ("status", "logged_out", "not_ready", "meal")]
    assert [r["kind"] for r in agents.call_route(77)] == ["queued", "offered"]

    second = _service(platform, ManualClock(5000.0))  # the process restarted
    states = {n: second.agent(n) for n in ("1201", "1202", "1203", "1204")}
    assert states["1201"]["status"] == AgentStatus.READY  # type: ignore[index]
    assert (states["1202"]["status"], states["1202"]["reason"]) == (AgentStatus.NOT_READY, "meal")  # type: ignore[index]
    assert states["1203"]["status"] == AgentStatus.STUDY  # type: ignore[index]
    assert states["1204"]["status"] == AgentStatus.LOGGED_OUT  # type: ignore[index]
    # restored agents must reconnect their desktop within the grace period, or go not ready
    assert second.router.agents["1201"].disconnected_at is not None
    second.stop()


def test_a_published_routing_change_reaches_the_running_router(platform: Platform) -> None:
    service = _service(platform, ManualClock())
    assert service.router.settings.offer_timeout_s == 15
    routing = platform.metadata.objects["routing"]["main"].model_dump(mode="json", exclude_none=True)
    routing["offer_timeout_s"] = 25
    routing["queues"].append({"name": "billing", "label": {"en": "Billing"}, "skill": "billing"})
    platform.publish("routing", "main", routing, actor=admin(platform), comment="longer ring, billing queue")
    assert service.router.settings.offer_timeout_s == 25
    assert "billing" in service.router.settings.queues
    service.stop()


def test_system_tables_gain_new_columns_on_start(platform: Platform) -> None:
    """A database made by an older version lacks the router's columns of hl_call: they are added."""
    with session():
        db.execute_sql("CREATE TABLE hl_probe (id INTEGER PRIMARY KEY)")

    class Probe(Call):
        extra = CharField(max_length=20, null=True)

        class Meta:
            table_name = "hl_probe"

    with session():
        added = add_missing_columns([Probe])
        assert "hl_probe.extra" in added and "hl_probe.routed" in added
        assert add_missing_columns([Probe]) == []
        columns = {c.name for c in db.get_columns("hl_probe")}
    assert {"extra", "agent", "wait_s", "routed", "talk_s"} <= columns


def test_a_counter_column_added_later_counts_from_its_default(platform: Platform) -> None:
    """A statistics counter added to a table with rows (an upgraded database) holds 0 there, not NULL, so the
    fact updates' ``n = n + 1`` count (NULL + 1 stayed NULL)."""
    with session():
        db.execute_sql("CREATE TABLE hl_probe2 (id INTEGER PRIMARY KEY)")
        db.execute_sql("INSERT INTO hl_probe2 (id) VALUES (1)")

    class Probe2(Model):
        surveys = IntegerField(default=0)
        talk = FloatField(default=0.0)
        note = CharField(max_length=20, null=True)

        class Meta:
            database = db
            table_name = "hl_probe2"

    with session():
        assert sorted(add_missing_columns([Probe2])) == ["hl_probe2.note", "hl_probe2.surveys", "hl_probe2.talk"]
        Probe2.update(surveys=Probe2.surveys + 1, talk=Probe2.talk + 2.5).execute()
        row = Probe2.get_by_id(1)
        assert (row.surveys, row.talk, row.note) == (1, 2.5, None)
