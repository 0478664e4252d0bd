"""The simulated switch on its own: key queue, pauses, interactive input from another thread, hang-ups."""

from __future__ import annotations

import threading
import time

import pytest

from telephony.switch import DigitsInput, PromptRef, SwitchError, SwitchHangup
from telephony.switch.simulated import SimulatedSwitch

MENU = PromptRef("menu", "t/menu", {"zh_CN": "请按键", "en": "Press a key"})


def test_keys_pauses_and_transcript() -> None:
    switch = SimulatedSwitch("5,12#", language="en")
    assert switch.play([MENU], interruptible=True).digit == "5"
    assert switch.get_digits(MENU, max_digits=1, timeout=1).timed_out, "a pause is a timeout"
    got = switch.get_digits(MENU, max_digits=4, timeout=1)
    assert (got.digits, got.timed_out) == ("12", False)
    assert switch.transcript() == ["▶ Press a key  ⌨ 5", "▶ Press a key", "▶ Press a key  ⌨ 12"]
    with pytest.raises(ValueError):
        switch.press("x")


def test_interactive_input_waits_for_keys_from_another_thread() -> None:
    switch = SimulatedSwitch(interactive=True)
    threading.Timer(0.05, switch.press, args=("42#",)).start()
    started = time.monotonic()
    got = switch.get_digits(MENU, max_digits=4, timeout=10)
    assert got.digits == "42" and time.monotonic() - started < 5  # ended by the '#', not the 10 s
    assert switch.get_digits(MENU, max_digits=1, timeout=0.05).timed_out


def test_caller_hangs_up_while_waiting() -> None:
    switch = SimulatedSwitch(interactive=True)
    threading.Timer(0.05, switch.hang_up).start()
    with pytest.raises(SwitchHangup):
        switch.get_digits(MENU, timeout=2)
    switch.set_variable("HELPLINE_RESULT", "hangup")  # allowed after a hang-up, as in Asterisk's dead mode
    assert switch.variables == {"HELPLINE_RESULT": "hangup"} and not switch.alive


def test_hangup_at_and_fail_at() -> None:
    with pytest.raises(SwitchHangup):
        SimulatedSwitch(hangup_at="play menu").play([MENU])
    with pytest.raises(SwitchError):
        SimulatedSwitch(fail_at=0).answer()
    switch = SimulatedSwitch(missing_files={"t/menu"})
    assert switch.play([MENU]).missing == ("menu",)
    assert switch.get_digits(MENU).missing


def test_an_input_whose_prompt_is_missing_still_takes_keys() -> None:
    switch = SimulatedSwitch("7", missing_files={"t/menu"})
    got = switch.get_digits(MENU, max_digits=1, timeout=1)
    assert (got.digits, got.timed_out, got.missing) == ("7", False, True)
    assert switch.events[-1].detail["missing"] == "t/menu" and switch.events[-1].text == ""
    assert switch.get_digits(MENU, timeout=0.05) == DigitsInput("", True, missing=True)
