"""``ChannelRegistry`` and how it is fed: the IVR session records the caller's channel when the call record
opens (``IvrEngine.run_call(on_open=...)`` through ``make_agi_handler``), the ``answered`` session the
agent's channel (``AnswerRegistry.answered(call_id, channel)``)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from telephony.agi import parse_environment
from telephony.agi.testpeer import environment_lines
from telephony.control.channels import CHANNELS, ChannelRegistry, endpoint_of
from telephony.ivr import IvrEngine
from telephony.ivr.agi_handler import make_agi_handler
from telephony.ivr.engine import CallOutcome
from telephony.switch.answers import ANSWERS, AnswerRegistry, make_answered_handler
from telephony.switch.simulated import SimulatedSwitch

CALLER, AGENT = "PJSIP/trunk-00000007", "PJSIP/1001-00000008"


@pytest.mark.parametrize(("channel", "endpoint"), [
    ("PJSIP/1001-0000000a", "PJSIP/1001"), ("PJSIP/agent-1001-0000ab12", "PJSIP/agent-1001"),
    ("Local/1001@agents-00000001;1", "Local/1001@agents"), ("PJSIP/1001", "PJSIP/1001"),
    ("SIP/x-123", "SIP/x-123"),
])
def test_endpoint_of(channel: str, endpoint: str) -> None:
    assert endpoint_of(channel) == endpoint


def test_set_get_forget() -> None:
    registry = ChannelRegistry()
    assert registry.get(1) is None and 1 not in registry
    registry.set_caller(1, CALLER)
    entry = registry.set_agent(1, AGENT)
    assert (entry.caller, entry.agent, entry.endpoint) == (CALLER, AGENT, "PJSIP/1001")
    assert registry.set_agent(1, AGENT, "PJSIP/agent1001").endpoint == "PJSIP/agent1001"
    assert registry.get(1) == entry.__class__(1, CALLER, AGENT, "PJSIP/agent1001")
    assert registry.find(AGENT) == registry.get(1) and registry.find("PJSIP/x-00000001") is None
    assert len(registry) == 1 and [c.call_id for c in registry.calls()] == [1]
    registry.forget(1)
    registry.forget(1)
    assert registry.get(1) is None and len(registry) == 0


@pytest.mark.parametrize("bad", ["", "  ", "PJSIP/1\r\nAction: Hangup"])
def test_malformed_channel_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a channel name"):
        ChannelRegistry().set_caller(1, bad)


def test_update_and_clear_agent_never_create_entries() -> None:
    registry = ChannelRegistry()
    assert registry.update(5, held=True) is None and registry.clear_agent(5) is None and 5 not in registry
    registry.set_agent(5, AGENT)
    registry.update(5, consult="PJSIP/1002")
    cleared = registry.clear_agent(5)
    assert cleared is not None and (cleared.agent, cleared.endpoint, cleared.consult) == (None, None, None)


def test_a_session_end_forgets_unless_detached() -> None:
    registry = ChannelRegistry()
    registry.set_caller(1, CALLER)
    assert registry.session_ended(1) and 1 not in registry
    assert not registry.session_ended(1)
    registry.set_caller(2, CALLER)
    registry.update(2, detached=True)
    assert not registry.session_ended(2) and 2 in registry


def test_hung_up_channels() -> None:
    registry = ChannelRegistry()
    registry.set_caller(1, CALLER)
    registry.set_agent(1, AGENT)
    registry.update(1, consult="PJSIP/1002")
    gone = registry.channel_gone(AGENT)
    assert gone is not None and gone.agent == AGENT
    entry = registry.get(1)
    assert entry is not None and (entry.caller, entry.agent, entry.consult) == (CALLER, None, None)
    assert registry.channel_gone("PJSIP/9-00000009") is None
    assert registry.channel_gone(CALLER) is not None and 1 not in registry
    registry.set_agent(2, AGENT)  # answered after the caller's session ended: nothing else would forget it
    assert registry.channel_gone(AGENT) is not None and 2 not in registry


def test_the_oldest_change_is_evicted_past_the_limit() -> None:
    registry = ChannelRegistry(limit=2)
    registry.set_caller(1, "PJSIP/a-00000001")
    registry.set_caller(2, "PJSIP/b-00000002")
    registry.set_agent(1, AGENT)  # 1 changed last: 2 is now the oldest
    registry.set_caller(3, "PJSIP/c-00000003")
    assert [c.call_id for c in registry.calls()] == [1, 3]
    with pytest.raises(ValueError):
        ChannelRegistry(limit=0)


def test_thread_safety() -> None:
    registry = ChannelRegistry()

    def work(base: int) -> None:
        for n in range(300):
            call_id = base + n
            registry.set_caller(call_id, f"PJSIP/t{base}-{n:08x}")
            registry.set_agent(call_id, f"PJSIP/a{base}-{n:08x}")
            registry.update(call_id, held=True)
            if n % 2:
                registry.channel_gone(f"PJSIP/t{base}-{n:08x}")

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(registry) == 6 * 150
    assert all(c.held and c.agent for c in registry.calls())


# ------------------------------------------------------------------------------ feeding the registry
def test_answers_record_the_agents_channel() -> None:
    registry = ChannelRegistry()
    answers = AnswerRegistry(registry)
    calls: list[int] = []
    answers.expect(7, lambda: calls.append(7))
    assert answers.answered(7, AGENT) and calls == [7]
    entry = registry.get(7)
    assert entry is not None and (entry.agent, entry.endpoint) == (AGENT, "PJSIP/1001")
    assert not answers.answered(8, "PJSIP/1002-00000001"), "no dial waits; the channel is still recorded"
    assert 8 in registry
    assert not AnswerRegistry().answered(9, AGENT), "without a channel registry nothing is recorded"
    assert ANSWERS.channels is CHANNELS


def test_the_answered_session_passes_its_channel() -> None:
    registry = ChannelRegistry()
    handler = make_answered_handler(AnswerRegistry(registry))
    env = parse_environment(environment_lines("answered?call=42", env={"channel": AGENT}))
    handler(None, env)  # type: ignore[arg-type]
    entry = registry.get(42)
    assert entry is not None and entry.agent == AGENT


class _Engine:
    """Stands in for IvrEngine: opens call 42, remembers what the registry held meanwhile."""

    def __init__(self, registry: ChannelRegistry, *, detach: bool = False) -> None:
        self.registry, self.detach = registry, detach
        self.during: Any = None

    def run_call(self, switch: Any, **kwargs: Any) -> CallOutcome:
        kwargs["on_open"](42)
        self.during = self.registry.get(42)
        if self.detach:  # call control redirected the caller out of the session
            self.registry.update(42, detached=True)
        return CallOutcome(42, "transfer", "main")


class _Agi:
    """Stands in for the session: the handler only presets HELPLINE_RESULT on it."""

    dead = broken = False
    uniqueid = "1.1"

    def __init__(self) -> None:
        self.set: list[tuple[str, str]] = []

    def set_variable(self, name: str, value: str) -> None:
        self.set.append((name, value))


@pytest.mark.parametrize("detach", [False, True])
def test_the_ivr_session_records_the_caller_while_it_runs(detach: bool) -> None:
    registry = ChannelRegistry()
    engine = _Engine(registry, detach=detach)
    handler = make_agi_handler(None, engine=engine, channels=registry)  # type: ignore[arg-type]
    agi = _Agi()
    handler(agi, parse_environment(environment_lines("ivr/main", env={"channel": CALLER})))  # type: ignore[arg-type]
    assert engine.during is not None and engine.during.caller == CALLER
    assert (42 in registry) is detach
    assert agi.set == [("HELPLINE_RESULT", "error")], "preset before the flow runs"


def test_the_engine_tells_the_call_id_when_the_record_opens(engine: IvrEngine) -> None:
    opened: list[int] = []
    outcome = engine.run_call(SimulatedSwitch("0"), caller_number="13800000002", dnid="96266",
                              on_open=opened.append)
    assert opened == [outcome.call_id] and outcome.call_id > 0

    def broken(call_id: int) -> None:
        raise RuntimeError("boom")

    assert engine.run_call(SimulatedSwitch("0"), caller_number="13800000002", dnid="96266",
                           on_open=broken).result == outcome.result
