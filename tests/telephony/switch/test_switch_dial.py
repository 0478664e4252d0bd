"""SimulatedSwitch for the router: hold (woken, hung up), dial through SimulatedPhones (every outcome)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from telephony.switch import DialResult, SwitchHangup
from telephony.switch.phones import PHONES, SimulatedPhone, SimulatedPhones
from telephony.switch.simulated import SimulatedSwitch

EP = "PJSIP/1001"


@pytest.fixture
def phones() -> SimulatedPhones:
    return SimulatedPhones()


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` after ``seconds`` in another thread."""
    def run() -> None:
        time.sleep(seconds)
        action()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def agent(phone: SimulatedPhone, *, talk: float | None = None, reject: bool = False) -> threading.Thread:
    """An agent in another thread: wait for the phone to ring, answer (or reject), hang up after ``talk``."""
    def run() -> None:
        assert phone.wait_for("ringing", 5)
        if reject:
            phone.reject()
            return
        phone.answer()
        if talk is not None:
            time.sleep(talk)
            phone.hang_up()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def ops(switch: SimulatedSwitch) -> list[str]:
    return [e.op for e in switch.events]


# ----------------------------------------------------------------------------------------- hold
def test_hold_non_interactive_returns_at_once_and_records_one_event() -> None:
    switch = SimulatedSwitch()
    started = time.monotonic()
    for _ in range(50):
        switch.hold(10)
    assert time.monotonic() - started < 5  # not waited: 50 holds of 10 s (a bound a loaded machine keeps)
    assert ops(switch) == ["hold"] and switch.music_class == "default"
    assert switch.transcript() == ["[hold] music on hold (default)"]
    switch.hold(1, music_class="vip")
    switch.music_off()
    switch.music_off()
    switch.hold(1)
    assert ops(switch) == ["hold", "hold", "music_off", "hold"] and switch.music_class == "default"


def test_hold_interactive_waits_its_time() -> None:
    switch = SimulatedSwitch(interactive=True)
    started = time.monotonic()
    switch.hold(0.15)
    assert 0.14 <= time.monotonic() - started < 5


def test_hold_woken_from_another_thread() -> None:
    switch = SimulatedSwitch(interactive=True)
    later(0.1, switch.wake)
    started = time.monotonic()
    switch.hold(10)
    assert time.monotonic() - started < 5  # woken, not the 10 s
    assert switch.alive


def test_a_wake_before_the_hold_is_not_lost() -> None:
    switch = SimulatedSwitch(interactive=True)
    switch.wake()
    started = time.monotonic()
    switch.hold(10)
    assert time.monotonic() - started < 5  # woken, not the 10 s
    started = time.monotonic()
    switch.hold(0.1)  # the wake-up was used once
    assert time.monotonic() - started >= 0.09


def test_caller_hangs_up_during_an_interactive_hold() -> None:
    switch = SimulatedSwitch(interactive=True)
    later(0.1, switch.hang_up)
    with pytest.raises(SwitchHangup):
        switch.hold(10)
    assert not switch.alive and switch.events[-1].op == "hangup"


@pytest.mark.parametrize("how", ["hang_up", "hangup_at"])
def test_hold_after_a_hang_up_raises(how: str) -> None:
    switch = SimulatedSwitch(hangup_at="hold" if how == "hangup_at" else None)
    if how == "hang_up":
        switch.hang_up()
    with pytest.raises(SwitchHangup):
        switch.hold(1)


# ----------------------------------------------------------------------------------------- dial
def test_dial_answered_then_the_agent_hangs_up(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    phone = phones.phone(EP)
    answered: list[str] = []
    agent(phone, talk=0.1)
    result = switch.dial(EP, 5, call_id=42, on_answer=lambda: answered.append(phone.state))
    assert result.status == "answer" and result.answered and result.hung_up_by == "agent"
    assert result.talk_s >= 0.09 and result.ring_s < 2
    assert answered == ["talking"], "on_answer runs once, while the agent is on the line"
    assert phone.state == "idle" and phone.call_id is None and phone.answered_calls == 1
    assert switch.transcript() == ["[dial] dial PJSIP/1001", "[answered] answered by PJSIP/1001",
                                   "[dial_end] answer (agent hung up)"]
    assert switch.events[0].detail["call_id"] == "42" and switch.alive


def test_dial_ringing_is_visible_and_call_id_known(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    phone = phones.phone(EP)
    seen: list[object] = []

    def look() -> None:
        assert phone.wait_for("ringing", 5)
        seen.extend([[p.endpoint for p in phones.ringing()], phone.call_id])
        phone.answer()
        phone.hang_up()

    threading.Thread(target=look, daemon=True).start()
    assert switch.dial(EP, 5, call_id=7).status == "answer"
    assert seen == [[EP], 7] and phones.ringing() == []


def test_dial_no_answer(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    calls: list[int] = []
    started = time.monotonic()
    result = switch.dial(EP, 0.1, call_id=1, on_answer=lambda: calls.append(1))
    assert result == DialResult("noanswer", ring_s=result.ring_s) and 0.09 <= result.ring_s < 5
    assert time.monotonic() - started < 5 and calls == []
    assert phones.phone(EP).state == "idle" and switch.alive
    assert switch.transcript()[-1] == "[dial_end] noanswer"


def test_dial_rejected_is_busy(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    agent(phones.phone(EP), reject=True)
    assert switch.dial(EP, 5, call_id=1).status == "busy"
    assert phones.phone(EP).state == "idle"


def test_dial_a_phone_already_on_a_call_is_busy(phones: SimulatedPhones) -> None:
    first, second = SimulatedSwitch(phones=phones), SimulatedSwitch(phones=phones)
    phone = phones.phone(EP)
    phone.auto_answer = True
    results: list[DialResult] = []
    thread = threading.Thread(target=lambda: results.append(first.dial(EP, 5, call_id=1)), daemon=True)
    thread.start()
    assert phone.wait_for("talking", 5)
    assert second.dial(EP, 5, call_id=2) == DialResult("busy")
    phone.hang_up()
    thread.join(5)
    assert results[0].status == "answer" and results[0].hung_up_by == "agent"


def test_dial_unregistered_endpoint_is_unavailable(phones: SimulatedPhones) -> None:
    phones.phone(EP).registered = False
    assert SimulatedSwitch(phones=phones).dial(EP, 5, call_id=1) == DialResult("unavailable")


def test_caller_hangs_up_while_it_rings(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    calls: list[int] = []
    later(0.1, switch.hang_up)
    started = time.monotonic()
    result = switch.dial(EP, 10, call_id=1, on_answer=lambda: calls.append(1))
    assert result.status == "hangup" and result.hung_up_by == "caller"
    assert time.monotonic() - started < 5 and calls == []  # ended by the hang-up, not the 10 s
    assert phones.phone(EP).state == "idle" and not switch.alive
    with pytest.raises(SwitchHangup):
        switch.hold(1)


def test_caller_hangs_up_during_the_talk(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    phone = phones.phone(EP)
    agent(phone)  # answers and never hangs up
    calls: list[int] = []

    def hang_up_when_talking() -> None:
        assert phone.wait_for("talking", 5)
        time.sleep(0.1)
        switch.hang_up()

    threading.Thread(target=hang_up_when_talking, daemon=True).start()
    result = switch.dial(EP, 5, call_id=1, on_answer=lambda: calls.append(1))
    assert result.status == "answer" and result.hung_up_by == "caller" and result.talk_s >= 0.09
    assert calls == [1] and phone.state == "idle" and not switch.alive
    assert switch.transcript()[-1] == "[dial_end] answer (caller hung up)"


def test_auto_answer_with_talk_time(phones: SimulatedPhones) -> None:
    phone = phones.phone(EP)
    phone.auto_answer, phone.talk_s = True, 0.05
    calls: list[int] = []
    switch = SimulatedSwitch(phones=phones)
    for call_id in (1, 2):
        result = switch.dial(EP, 5, call_id=call_id, on_answer=lambda: calls.append(1))
        assert result.status == "answer" and result.hung_up_by == "agent"
        assert 0.04 <= result.talk_s < 1 and result.ring_s < 0.05
    assert calls == [1, 1] and phone.rings == 2 and phone.answered_calls == 2


def test_dial_after_the_caller_hung_up_raises(phones: SimulatedPhones) -> None:
    switch = SimulatedSwitch(phones=phones)
    switch.hang_up()
    with pytest.raises(SwitchHangup):
        switch.dial(EP, 5, call_id=1)
    assert phones.get(EP) is None


def test_phone_actions_when_idle_do_nothing() -> None:
    phone = SimulatedPhone(EP)
    assert not phone.answer() and not phone.reject() and not phone.hang_up()
    assert not phone.wait_for("ringing", 0.01) and phone.state == "idle"


@pytest.fixture
def global_phones() -> Iterator[SimulatedPhones]:
    PHONES.clear()
    yield PHONES
    PHONES.clear()


def test_the_process_wide_phones_are_the_default(global_phones: SimulatedPhones) -> None:
    phone = global_phones.phone("PJSIP/2002")
    phone.auto_answer, phone.talk_s = True, 0.0
    assert SimulatedSwitch().dial("PJSIP/2002", 5, call_id=3).status == "answer"
    assert global_phones.all() == [phone] and global_phones.phone("PJSIP/2002") is phone
