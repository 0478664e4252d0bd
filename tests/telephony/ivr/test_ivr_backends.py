"""The IVR's database work (identification, call records, remembered regions) on every backend."""

from __future__ import annotations

from typing import Any

from helpline.services.platform import Platform
from telephony.ivr import IvrEngine
from telephony.switch.simulated import SimulatedSwitch


def test_calls_on_each_backend(platform: Platform, seed: Any) -> None:
    seed(platform)
    engine = IvrEngine(platform)
    outcome = engine.run_call(SimulatedSwitch("0"), caller_number="13800000002", dnid="96266")
    assert (outcome.result, outcome.queue, outcome.tier) == ("transfer", "general", "gold")
    record = engine.calls.get(outcome.call_id)
    assert record is not None and record["trail"][0]["node"] == "answer" and record["customer_name"] == "李强"
    blocked = engine.run_call(SimulatedSwitch("0"), caller_number="13900000009", dnid="96266")
    assert blocked.result == "blocked"
    fixed = engine.run_call(SimulatedSwitch("0"), caller_number="073088880000", dnid="96266")
    assert fixed.queue == "fault", "Yueyang's outage is active"
    assert engine.calls.remembered_region("073088880000") == "yueyang"
    engine.calls.remember_region("073088880000", "yueyang_02")
    assert engine.calls.remembered_region("073088880000") == "yueyang_02"
    assert engine.calls.count() == 3
