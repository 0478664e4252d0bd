"""Named router operations: ``RouterService.call`` runs only the allowed write methods, and every command's
arguments survive their JSON form (the command log of cluster mode)."""

from __future__ import annotations

import pytest
from router_helpers import helpline, profile, request, settings

from telephony.router import AgentState, ManualClock
from telephony.router.commands import OPERATIONS, BadCommand, decode, encode
from telephony.router.service import RouterService


def test_call_runs_the_named_operation_and_refuses_other_names() -> None:
    service = RouterService(settings(), helpline(), clock=ManualClock())
    service.call("add_agent", profile("1001"))
    service.call("sign_in", "1001", ready=True, by="test")
    ticket = service.enqueue(request(7))
    assert ticket.result == "queued" and service.router.agents["1001"].call_id == 7
    assert service.call("answered", 7) is True
    for bad in ("snapshot", "_offer", "reconfigure", "__init__"):
        with pytest.raises(BadCommand, match="no router operation"):
            service.call(bad)


def test_arguments_round_trip_through_json() -> None:
    call = request(9, tier="gold", region="0731", city="0731", context={"caller": {"vip": True}}, priority=3)
    agent = profile("1002", skills={"billing": 1, "tax": 2}, groups=frozenset({"b", "a"}), wrap_up_s=5.0)
    for name, args, kwargs in [("queue_call", (call,), {}), ("add_agent", (agent,), {}),
                               ("outbound_state", (5, "1002", AgentState.HOLD), {}),
                               ("sign_in", ("1002",), {"ready": False, "reason": "sign_in", "by": None}),
                               ("defer", (call, 12.5), {})]:
        assert decode(name, encode(name, args, kwargs)) == (args, kwargs)


def test_bad_commands_are_refused_with_a_message() -> None:
    assert "advance" in OPERATIONS and "snapshot" not in OPERATIONS
    with pytest.raises(BadCommand, match="'snapshot' is no router operation"):
        encode("snapshot", (), {})
    with pytest.raises(BadCommand, match="not object"):
        encode("abandon", (object(),), {})
