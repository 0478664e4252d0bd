"""Cluster mode with a started platform: ``start_router`` refuses it on SQLite with a clear message; on
PostgreSQL two replicas built by ``RouterService.from_platform`` share the agents loaded by the first, a call
queued through one is offered on both, only the leader writes the journal, a routing change reaches both."""

from __future__ import annotations

import pytest

from helpline.config import Settings
from helpline.security.actor import Actor
from helpline.services import agents
from helpline.services.leader import LeaderElection
from helpline.services.platform import Platform
from telephony.monitoring import health
from telephony.router import AgentStatus, CallRequest, Offer
from telephony.router.service import RouterService
from telephony.router.snapshot import replica_state


def _admin(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def test_cluster_mode_shares_the_router_on_postgresql_and_is_refused_on_sqlite(
        platform: Platform, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    if db_url.startswith("sqlite"):
        from helpline.cli.common import start_router

        assert start_router(platform, Settings(db=db_url, cluster="on")) is None
        assert "cluster mode (HELPLINE_CLUSTER=on) needs PostgreSQL" in capsys.readouterr().err
        assert platform.router is None
        return
    for number in ("1301", "1302"):
        agents.save_profile(_admin(platform), number, endpoint=f"PJSIP/{number}", skills={"general": 1})
    a = RouterService.from_platform(platform, cluster=db_url, instance="a")
    election = LeaderElection(db_url, renew_s=0.05, instance="a").start()
    assert a.cluster is not None
    a.cluster.follow(election)
    b = RouterService.from_platform(platform, cluster=db_url, instance="b")
    try:
        assert set(b.router.agents) == {"1301", "1302"}  # loaded once, by the first instance, replayed by b
        a.call("sign_in", "1301", ready=True, by="desk on a")
        offers: list[Offer] = []
        a.subscribe(lambda e: offers.append(e) if isinstance(e, Offer) else None)
        ticket = b.enqueue(CallRequest(call_id=77, queue="general", tier="gold"))
        assert ticket.result == "queued" and ticket.offer is not None and ticket.offer.agent_id == "1301"
        assert b.agent("1301")["status"] == AgentStatus.READY  # type: ignore[index]
        routing = platform.metadata.objects["routing"]["main"].model_dump(mode="json", exclude_none=True)
        routing["offer_timeout_s"] = 25
        platform.publish("routing", "main", routing, actor=_admin(platform), comment="longer ring")
        assert a.router.settings.offer_timeout_s == 25 and b.router.settings.offer_timeout_s == 25
        a.cluster.catch_up()
        assert [o.call_id for o in offers] == [77] and replica_state(a) == replica_state(b)
        platform.router = b  # /healthz in cluster mode: no timer thread, the command log's threads instead
        ok, checks = health(platform)
        assert ok and checks["router"] == {"ok": True, "waiting": 1, "log_seq": b.cluster.applied}  # type: ignore[union-attr]
        b.stop()
        ok, checks = health(platform)
        assert not ok and checks["router"]["error"] == "the router's command log threads are not running"
    finally:
        platform.router = None
        b.stop()
        a.stop()  # flushes the leader's journal
        election.stop()
    # only the leader journaled: each decision once, not once per replica
    assert [r["kind"] for r in agents.call_route(77)] == ["queued", "offered"]
