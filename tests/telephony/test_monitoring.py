"""The contact-centre metrics and the health check, read from a real router and the database: calls waiting per
queue and tier, agents per status, offers, failed jobs and notice deliveries; a router whose timer thread does
not run fails the health check."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from helpline.data.database import session
from helpline.data.jobs import JobRun
from helpline.data.notices import NoticeDelivery
from helpline.services.platform import Platform
from telephony.monitoring import HelplineCollector, health
from telephony.router import AgentProfile, AppQueuePolicy, CallRequest, ManualClock, QueueSettings, RouterSettings
from telephony.router.service import RouterService


def test_metrics_from_the_router_and_the_database(platform: Platform) -> None:
    service = RouterService(RouterSettings(queues={"billing": QueueSettings(name="billing", skill="billing")}),
                            AppQueuePolicy(level_step_s=0), clock=ManualClock(0.0))
    platform.router = service
    try:
        registry = CollectorRegistry()
        registry.register(HelplineCollector(platform))  # type: ignore[arg-type]
        service.do(lambda r: r.add_agent(AgentProfile(id="1001", endpoint="PJSIP/1001", skills={"billing": 1})))
        service.do(lambda r: r.add_agent(AgentProfile(id="1002", endpoint="PJSIP/1002", skills={"billing": 1})))
        service.do(lambda r: r.sign_in("1001", ready=True))
        for call_id, tier in ((1, "gold"), (2, "ordinary"), (3, "ordinary")):
            service.do(lambda r, c=call_id, t=tier: r.queue_call(CallRequest(call_id=c, queue="billing", tier=t)))
        with session():
            JobRun.create(job="backup", status="failed", error="target full")
            JobRun.create(job="backup", status="ok")
            NoticeDelivery.create(notice_id=1, channel="email", address="a@example.org", status="failed")
        text = generate_latest(registry).decode()
        assert 'helpline_offers_total{queue="billing",tier="gold"} 1.0' in text
        assert 'helpline_calls_waiting{queue="billing",tier="ordinary"} 2.0' in text
        assert 'helpline_agents{status="logged_out"} 1.0' in text
        assert 'helpline_job_failures_total{job="backup"} 1.0' in text
        assert 'helpline_notice_deliveries_failed_total{channel="email"} 1.0' in text
        ok, checks = health(platform)
        assert not ok and "timer thread is not running" in checks["router"]["error"] and checks["database"]["ok"]
        service.start()
        try:
            ok, checks = health(platform)
            assert ok and checks["router"] == {"ok": True, "waiting": 3}
        finally:
            service.stop()
    finally:
        platform.router = None


def test_health_and_metrics_name_this_instances_role_and_the_leader(platform: Platform, db_url: str) -> None:
    from helpline.data.database import is_postgres
    from helpline.services.leader import LeaderElection
    from telephony.monitoring import SOURCES, register_leader

    previous = SOURCES.leader
    registry = CollectorRegistry()
    registry.register(HelplineCollector(platform))  # type: ignore[arg-type]
    first = LeaderElection(db_url, renew_s=0.05, instance="mon-1").start()
    second = LeaderElection(db_url, renew_s=0.05, instance="mon-2") if is_postgres() else None
    try:
        register_leader(first)
        ok, checks = health(platform)
        assert ok and checks["leader"]["role"] == "leader" and checks["leader"]["leader"]["instance"] == "mon-1"
        text = generate_latest(registry).decode()
        assert "helpline_leader 1.0" in text
        assert f'helpline_leader_info{{host="{first.host}",instance="mon-1",pid="{first.pid}"}} 1.0' in text
        if second is not None:  # PostgreSQL: a second instance on the database is a standby naming the first
            register_leader(second.start())
            ok, checks = health(platform)
            assert ok and checks["leader"]["role"] == "standby" and checks["leader"]["instance"] == "mon-2"
            assert checks["leader"]["leader"]["instance"] == "mon-1"
            text = generate_latest(registry).decode()
            assert "helpline_leader 0.0" in text and 'instance="mon-1"' in text
    finally:
        register_leader(previous)
        first.stop()
        if second is not None:
            second.stop()
