"""The channel registry shared in PostgreSQL (cluster mode, ``telephony.control.shared_channels``): what one
instance records the other reads; a call detached by one outlives its session on the other; a hang-up handled
first by one instance still runs the other's ``when_gone`` callback and leaves its ``find`` working; the table
unreachable: the instance's own entries are used; the table keeps at most ``limit`` rows; bad fields refused."""

from __future__ import annotations

import logging

import pytest

from helpline.config import Settings
from helpline.services.platform import Platform
from telephony.control import shared_channels
from telephony.control.channels import CHANNELS, CallChannels, ChannelRegistry
from telephony.control.shared_channels import SharedChannels

CALLER, AGENT = "PJSIP/trunk-00000007", "PJSIP/1001-00000008"

def _pair(url: str, **options: object) -> tuple[ChannelRegistry, ChannelRegistry]:
    return (ChannelRegistry().share(SharedChannels(url, "a", **options)),  # type: ignore[arg-type]
            ChannelRegistry().share(SharedChannels(url, "b", **options)))  # type: ignore[arg-type]


@pytest.mark.postgres
def test_what_one_instance_records_the_other_reads_and_changes(pg_url: str) -> None:
    a, b = _pair(pg_url)
    a.set_caller(1, CALLER)
    assert b.set_agent(1, AGENT) == CallChannels(1, CALLER, AGENT, "PJSIP/1001")
    assert a.get(1) == b.get(1) and 1 in a and len(b) == 1
    assert b.find(AGENT) == a.get(1) and a.find("PJSIP/9-00000001") is None
    assert b.update(1, held=True, detached=True) is not None
    assert b.update(2, held=True) is None and 2 not in a, "an unknown call is not made by an update"
    assert not a.session_ended(1) and 1 in b, "detached on b: the session's end on a does not forget it"
    assert b.clear_agent(1) == CallChannels(1, CALLER, held=True, detached=True)
    a.set_caller(3, "PJSIP/trunk-00000009")
    assert b.session_ended(3) and a.get(3) is None
    assert [c.call_id for c in a.calls()] == [1]
    b.forget(1)
    assert a.get(1) is None and len(a) == 0


@pytest.mark.postgres
def test_a_hang_up_handled_first_elsewhere_still_ends_the_local_call(pg_url: str) -> None:
    a, b = _pair(pg_url)
    a.set_caller(1, CALLER)
    a.set_agent(1, AGENT)
    b.update(1, detached=True)  # b's call control held the call: a's session ended, a waits for the hang-up
    ended: list[int] = []
    a.when_gone(1, lambda: ended.append(1))
    assert b.channel_gone(AGENT) == CallChannels(1, CALLER, AGENT, "PJSIP/1001", detached=True)
    assert a.get(1) == CallChannels(1, CALLER, detached=True)
    assert b.channel_gone(CALLER) is not None and ended == [], "b deleted the row: a's callback is a's"
    assert a.find(CALLER) is not None, "a's dial-out handlers still find the channel it recorded"
    a.channel_gone(CALLER)  # a's own Hangup event, after b's
    assert ended == [1] and a.get(1) is None and a.find(CALLER) is None
    a.channel_gone(CALLER)
    assert ended == [1], "once"


@pytest.mark.postgres
def test_the_table_unreachable_the_instances_own_entries_are_used(pg_url: str,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    a, _ = _pair(pg_url)
    a.set_caller(1, CALLER)
    store = a.shared
    assert store is not None
    store.close()
    store.url, store.within_s = "postgresql://postgres@127.0.0.1:1/none", 0.0  # nothing listens on port 1
    with caplog.at_level(logging.WARNING):
        a.set_agent(1, AGENT)
        assert a.get(1) == CallChannels(1, CALLER, AGENT, "PJSIP/1001")
    assert "the shared registry failed" in caplog.text


@pytest.mark.postgres
def test_at_most_limit_rows_are_kept_and_bad_fields_are_refused(pg_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_channels, "PRUNE_EVERY", 4)
    a, b = _pair(pg_url, limit=3)
    for call_id in range(1, 9):
        a.set_caller(call_id, f"PJSIP/trunk-{call_id:08x}")
    assert [c.call_id for c in b.calls()] == [6, 7, 8]
    assert a.shared is not None
    with pytest.raises(ValueError, match="not fields of a call's channels"):
        a.shared.update(6, colour="red")
    with pytest.raises(ValueError, match="limit must be positive"):
        SharedChannels(pg_url, "c", limit=0)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_start_router_shares_the_process_registry_in_cluster_mode(platform: Platform, db_url: str) -> None:
    from helpline.cli.common import start_router, stop_router

    assert CHANNELS.shared is None  # single-process mode: the registry is in memory
    router = start_router(platform, Settings(db=db_url, cluster="on", leader_renew_s=0.05))
    try:
        assert router is not None and CHANNELS.shared is not None
        CHANNELS.set_caller(5, CALLER)  # the FastAGI side of this instance
        assert SharedChannels(db_url, "other").get(5) == CallChannels(5, CALLER)
    finally:
        CHANNELS.forget(5)
        stop_router(platform)
    assert CHANNELS.shared is None and 5 not in CHANNELS
