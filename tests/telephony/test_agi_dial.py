"""AgiSwitch hold and dial over a real FastAGIServer, with AsteriskPeer playing Asterisk line for line.

Covers the command lines sent, every DIALSTATUS, the second FastAGI session of the Dial ``U()``
subroutine (``answered?call=<id>``) running the registered ``on_answer`` before the Dial returns, and
hang-ups during hold and during Dial (ringing, talk, before it, with AGIEXITONHANGUP).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from telephony.agi import AgiEnvironment, FastAGIServer, HelplineAGI
from telephony.agi.peermodel import Caller, DialScript
from telephony.agi.testpeer import AsteriskPeer, Override
from telephony.switch import CommandFailed, DialResult, SwitchHangup
from telephony.switch.agi_channel import AgiSwitch
from telephony.switch.answers import ANSWERS, AnswerRegistry, make_answered_handler

DIAL_42 = 'EXEC Dial "PJSIP/1001,15,gU(helpline-answered^42)"'
READ_STATUS = 'GET VARIABLE "DIALSTATUS"'
DEAD_511 = "511 Command Not Permitted on a dead channel or intercept routine"
READ_UP = 'GET VARIABLE "ANSWEREDTIME_MS"'


@pytest.fixture
def registry() -> AnswerRegistry:
    return AnswerRegistry()


@pytest.fixture
def server(registry: AnswerRegistry) -> Iterator[FastAGIServer]:
    srv = FastAGIServer(port=0, read_timeout=2.0, hangup_grace=0.25)  # the default grace: robust under load
    srv.route("answered", make_answered_handler(registry))
    srv.start()
    yield srv
    srv.stop()


class Run:
    """What one call did: the peer, the action's result or exception, and the switch."""

    def __init__(self, peer: AsteriskPeer, box: dict[str, Any]) -> None:
        self.peer = peer
        self.result = box.get("result")
        self.error: BaseException | None = box.get("error")
        self.switch: AgiSwitch = box["switch"]
        self.alive: bool = box["alive"]
        """``switch.alive`` when the action ended (the server closes the session afterwards)."""


def call(server: FastAGIServer, registry: AnswerRegistry | None, action: Callable[[AgiSwitch], object], *,
         switch_options: dict[str, Any] | None = None, **peer_options: Any) -> Run:
    """Serve one call from the peer with a handler that runs ``action(AgiSwitch)``."""
    box: dict[str, Any] = {}

    def handler(agi: HelplineAGI, env: AgiEnvironment) -> None:
        options = dict(switch_options or {})
        if registry is not None:
            options["answers"] = registry
        switch = box["switch"] = AgiSwitch(agi, **options)
        try:
            box["result"] = action(switch)
        except Exception as exc:
            box["error"] = exc
            raise
        finally:
            box["alive"] = switch.alive

    server.route("router", handler)
    peer = AsteriskPeer(server.address, script="router", env={"callerid": "13800000001"}, timeout=5.0,
                        **peer_options).run()
    deadline = time.monotonic() + 2
    while server.active_sessions and time.monotonic() < deadline:
        time.sleep(0.01)
    assert peer.error is None, peer.format_transcript()
    return Run(peer, box)


def dial_42(switch: AgiSwitch) -> DialResult:
    return switch.dial("PJSIP/1001", 15, call_id=42)


# ----------------------------------------------------------------------------------------- hold
def test_hold_sends_music_once_then_wait_slices(server: FastAGIServer, registry: AnswerRegistry) -> None:
    def action(switch: AgiSwitch) -> None:
        switch.hold(0.5)
        switch.hold(0.3)
        switch.music_off()
        switch.music_off()
        switch.hold(0.1, music_class="vip")

    run = call(server, registry, action)
    assert run.error is None
    assert run.peer.commands == [
        "SET MUSIC ON default", "WAIT FOR DIGIT 250", "WAIT FOR DIGIT 250", "WAIT FOR DIGIT 250",
        "WAIT FOR DIGIT 50", "SET MUSIC OFF", "SET MUSIC ON vip", "WAIT FOR DIGIT 100",
    ], run.peer.format_transcript()
    assert run.switch.music_class == "vip"


def test_hold_ignores_digits(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, lambda s: s.hold(0.5), caller=Caller("5#"))
    assert run.error is None and run.peer.caller.pending == ""
    waits = run.peer.commands[1:]
    assert len(waits) >= 3 and all(c.startswith("WAIT FOR DIGIT ") for c in waits)


def test_hold_slice_is_configurable(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, lambda s: s.hold(1.0), switch_options={"hold_slice_s": 0.5})
    assert run.peer.commands == ["SET MUSIC ON default", "WAIT FOR DIGIT 500", "WAIT FOR DIGIT 500"]


def test_wake_ends_the_hold_after_the_current_slice(server: FastAGIServer, registry: AnswerRegistry) -> None:
    def action(switch: AgiSwitch) -> float:
        timer = threading.Timer(0.3, switch.wake)
        timer.start()
        started = time.monotonic()
        switch.hold(10)
        return time.monotonic() - started

    run = call(server, registry, action, time_scale=1.0)  # each WAIT FOR DIGIT 250 takes 0.25 s
    assert run.error is None and isinstance(run.result, float)
    assert 0.3 <= run.result < 1.5, run.peer.format_transcript()
    assert 2 <= len(run.peer.commands) - 1 <= 5


def test_a_late_hangup_line_still_ends_the_hold(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, lambda s: s.hold(5), overrides=[Override(2, reply="200 result=-1")])
    assert isinstance(run.error, SwitchHangup), run.peer.format_transcript()
    assert run.peer.commands[:3] == ["SET MUSIC ON default", "WAIT FOR DIGIT 250", "WAIT FOR DIGIT 250"]


@pytest.mark.parametrize("mode", ["during", "between"])
def test_caller_hangs_up_during_hold(server: FastAGIServer, registry: AnswerRegistry, mode: str) -> None:
    def action(switch: AgiSwitch) -> None:
        try:
            switch.hold(5)
        finally:
            switch.music_off()  # on a dead channel: nothing sent

    run = call(server, registry, action, caller=Caller(hangup_at=2, hangup_mode=mode))  # type: ignore[arg-type]
    assert isinstance(run.error, SwitchHangup), run.peer.format_transcript()
    assert run.peer.commands[:3] == ["SET MUSIC ON default", "WAIT FOR DIGIT 250", "WAIT FOR DIGIT 250"]
    assert "SET MUSIC OFF" not in run.peer.commands and not run.alive and run.peer.server_closed


def test_hold_on_a_dead_channel_raises_and_dial_too(server: FastAGIServer, registry: AnswerRegistry) -> None:
    def action(switch: AgiSwitch) -> list[str]:
        errors = []
        for step in (lambda: switch.hold(1), lambda: switch.dial("PJSIP/1001", 15, call_id=1)):
            try:
                step()
            except SwitchHangup as exc:
                errors.append(str(exc))
        return errors

    # SET MUSIC completes and a HANGUP line follows it: the next read (WAIT FOR DIGIT's 511) sees it
    run = call(server, registry, action, caller=Caller(hangup_at="SET MUSIC"))
    assert isinstance(run.result, list) and len(run.result) == 2
    assert run.peer.replies == ["200 result=0", "HANGUP", DEAD_511]
    assert run.peer.commands == ["SET MUSIC ON default", "WAIT FOR DIGIT 250"], "no Dial for a caller who is gone"


# ----------------------------------------------------------------------------------------- dial
def test_dial_command_lines_and_the_answered_session(server: FastAGIServer, registry: AnswerRegistry) -> None:
    order: list[str] = []

    def action(switch: AgiSwitch) -> DialResult:
        result = switch.dial("PJSIP/1001", 15, call_id=42, on_answer=lambda: order.append("on_answer"))
        order.append("dial returned")
        return result

    run = call(server, registry, action, time_scale=1.0, dial_outcomes=[DialScript("ANSWER", ring_s=0.2, talk_s=0.4)])
    result = run.result
    assert isinstance(result, DialResult) and (result.status, result.hung_up_by) == ("answer", "agent")
    # ringing up to the answered session, talk from it: measured here, not read from ANSWEREDTIME
    assert 0.19 <= result.ring_s < 0.5 and 0.39 <= result.talk_s < 0.7, result
    assert order == ["on_answer", "dial returned"]
    assert run.peer.commands == [DIAL_42, READ_STATUS], run.peer.format_transcript()
    assert run.peer.replies == ["200 result=0", "200 result=1 (ANSWER)"]
    assert not run.peer.dead and run.alive
    sub = run.peer.subsessions[0]
    assert len(run.peer.subsessions) == 1 and sub.error is None and sub.server_closed
    assert sub.env_value("agi_network_script") == "answered?call=42"
    assert sub.env_value("agi_request").endswith("/answered?call=42")
    assert sub.env_value("agi_channel") == "PJSIP/1001-00000001"
    assert sub.env_value("agi_callerid") == "13800000001" and sub.commands == []
    assert run.peer.dials[0].sub_args == ["42"] and registry.waiting() == []


def test_talk_counts_from_the_agents_answer_not_from_answeredtime(server: FastAGIServer,
                                                                  registry: AnswerRegistry) -> None:
    """Asterisk 22's ANSWEREDTIME runs from the CALLER's answer (IVR and queue included): the talk time must
    come from the agent's answer (the answered session)."""
    def action(switch: AgiSwitch) -> DialResult:
        switch.answer()
        switch.hold(0.8)  # the IVR and the queue: the caller's channel is up, nobody talks yet
        switch.music_off()
        return switch.dial("PJSIP/1001", 15, call_id=42)

    run = call(server, registry, action, time_scale=1.0, dial_outcomes=[DialScript("ANSWER", ring_s=0.2, talk_s=0.5)])
    result = run.result
    assert isinstance(result, DialResult) and result.status == "answer", run.peer.format_transcript()
    up_ms = int(run.peer.channel.variables["ANSWEREDTIME_MS"])
    assert up_ms >= 1450, "the peer measures ANSWEREDTIME from the caller's answer, as app_dial.c does"
    assert 0.49 <= result.talk_s < 0.8 and 0.19 <= result.ring_s < 0.45, result


def test_without_the_answered_session_talk_is_capped_by_the_dial(server: FastAGIServer,
                                                                 registry: AnswerRegistry) -> None:
    def action(switch: AgiSwitch) -> DialResult:
        switch.answer()
        switch.hold(0.5)
        return switch.dial("PJSIP/1001", 15, call_id=42)

    run = call(server, registry, action, time_scale=1.0, subroutines={},
               dial_outcomes=[DialScript("ANSWER", ring_s=0.1, talk_s=0.3)])
    result = run.result
    assert isinstance(result, DialResult) and result.status == "answer", run.peer.format_transcript()
    assert run.peer.commands[-2:] == [READ_STATUS, READ_UP]
    assert 0.39 <= result.talk_s < 0.7 and result.ring_s < 0.05, "ring and talk: the Dial's time, not the IVR's"


def test_dial_without_g_sends_the_plain_options(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, dial_42, switch_options={"dial_flags": ""},
               dial_outcomes=[DialScript("ANSWER", talk_s=5)])
    assert run.peer.commands[0] == 'EXEC Dial "PJSIP/1001,15,U(helpline-answered^42)"'
    # without g Asterisk ends the caller's channel when the agent hangs up: it reads as the caller's hang-up
    assert run.peer.replies[:2] == ["200 result=-1", "HANGUP"]
    result = run.result
    assert isinstance(result, DialResult) and (result.status, result.hung_up_by) == ("answer", "caller")


@pytest.mark.parametrize(("script", "status"), [
    (DialScript("NOANSWER"), "noanswer"),
    (DialScript("BUSY", ring_s=2), "busy"),
    (DialScript("CHANUNAVAIL"), "unavailable"),
    (DialScript("CONGESTION"), "unavailable"),
    (DialScript("NOANSWER", ring_s=4, caller_hangs_up=True), "hangup"),
])
def test_dial_statuses(server: FastAGIServer, registry: AnswerRegistry, script: DialScript, status: str) -> None:
    called: list[int] = []
    run = call(server, registry, lambda s: s.dial("PJSIP/1001", 15, call_id=42, on_answer=lambda: called.append(1)),
               dial_outcomes=[script])
    result = run.result
    assert isinstance(result, DialResult) and result.status == status, run.peer.format_transcript()
    assert run.peer.commands == [DIAL_42, READ_STATUS], "the times are read for answered calls only"
    assert called == [] and run.peer.subsessions == [] and registry.waiting() == []
    assert result.talk_s == 0.0 and result.ring_s < 1
    if status == "hangup":
        assert run.peer.replies[:3] == ["200 result=-1", "HANGUP", "200 result=1 (CANCEL)"]
        assert result.hung_up_by == "caller" and not run.alive
    else:
        assert run.peer.replies[0] == "200 result=0" and result.hung_up_by == "" and run.alive


def test_no_scripted_outcome_is_unavailable(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, dial_42)
    assert isinstance(run.result, DialResult) and run.result.status == "unavailable"


def test_caller_hangs_up_during_the_talk(server: FastAGIServer, registry: AnswerRegistry) -> None:
    called: list[int] = []

    def action(switch: AgiSwitch) -> tuple[DialResult, str]:
        result = switch.dial("PJSIP/1001", 15, call_id=42, on_answer=lambda: called.append(1))
        try:
            switch.hold(1)
        except SwitchHangup as exc:
            return result, f"hold: {exc}"
        return result, "hold went on"

    run = call(server, registry, action, time_scale=1.0,
               dial_outcomes=[DialScript("ANSWER", ring_s=0.1, talk_s=0.3, caller_hangs_up=True)])
    assert isinstance(run.result, tuple) and run.result[1] == "hold: hold: the caller has hung up"
    result = run.result[0]
    assert (result.status, result.hung_up_by) == ("answer", "caller") and 0.29 <= result.talk_s < 0.6
    assert called == [1] and run.peer.dead
    assert run.peer.commands == [DIAL_42, READ_STATUS], "dead mode still reads variables"
    assert run.peer.replies[:2] == ["200 result=-1", "HANGUP"]


def test_caller_hangs_up_at_the_dial_command(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, dial_42, caller=Caller(hangup_at="EXEC Dial"),
               dial_outcomes=[DialScript("ANSWER")])
    assert isinstance(run.result, DialResult)
    assert (run.result.status, run.result.hung_up_by) == ("hangup", "caller")
    assert run.peer.subsessions == []


def test_outcome_that_cannot_be_read_raises_hangup(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, dial_42, exit_on_hangup=True,
               dial_outcomes=[DialScript("NOANSWER", caller_hangs_up=True)])
    assert isinstance(run.error, SwitchHangup), run.peer.format_transcript()
    assert registry.waiting() == []


def test_unknown_dial_application_fails_the_command(server: FastAGIServer, registry: AnswerRegistry) -> None:
    run = call(server, registry, dial_42, unknown_apps=["Dial"])
    assert isinstance(run.error, CommandFailed)
    assert run.peer.commands[0] == DIAL_42 and run.peer.replies[0] == "200 result=-2"


def test_the_dial_waits_past_the_read_timeout(server: FastAGIServer, registry: AnswerRegistry) -> None:
    server.read_timeout = 0.3
    try:
        run = call(server, registry, dial_42, time_scale=0.1,
                   dial_outcomes=[DialScript("ANSWER", ring_s=5, talk_s=4)])  # 0.9 s in real time
    finally:
        server.read_timeout = 2.0
    result = run.result
    assert isinstance(result, DialResult) and (result.status, result.hung_up_by) == ("answer", "agent")
    # real seconds (not the script's 5 and 4), the talk from the answer on (not 0.9 s from the dial)
    assert 0.49 <= result.ring_s < 2.5 and 0.39 <= result.talk_s < 0.85, result


def test_bad_arguments_are_refused(server: FastAGIServer, registry: AnswerRegistry) -> None:
    def action(switch: AgiSwitch) -> list[str]:
        refused = []
        for step in (lambda: switch.dial("PJSIP/1001,30,A(x)", 15, call_id=1),
                     lambda: switch.hold(1, music_class="a b")):
            try:
                step()
            except ValueError as exc:
                refused.append(str(exc))
        return refused

    run = call(server, registry, action)
    assert isinstance(run.result, list) and len(run.result) == 2 and run.peer.commands == []


def test_the_process_wide_registry_is_the_default(server: FastAGIServer) -> None:
    server.route("answered", make_answered_handler())
    called: list[int] = []
    run = call(server, None, lambda s: s.dial("PJSIP/1001", 15, call_id=77, on_answer=lambda: called.append(77)),
               dial_outcomes=[DialScript("ANSWER")])
    assert isinstance(run.result, DialResult) and run.result.status == "answer" and called == [77]
    assert run.switch.answers is ANSWERS and 77 not in ANSWERS


# ------------------------------------------------------------------------------ answered route
def test_answer_registry() -> None:
    registry = AnswerRegistry()
    calls: list[int] = []
    assert not registry.answered(1)
    registry.expect(1, lambda: calls.append(1))
    assert 1 in registry and registry.waiting() == [1]
    assert registry.answered(1) and not registry.answered(1) and calls == [1]
    registry.expect(2, lambda: calls.append(2))
    registry.forget(2)
    registry.forget(2)
    assert not registry.answered(2) and calls == [1]


def test_a_failing_callback_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = AnswerRegistry()

    def broken() -> None:
        raise RuntimeError("router bug")

    registry.expect(5, broken)
    with caplog.at_level(logging.ERROR, logger="telephony.switch"):
        assert registry.answered(5)
    assert "router bug" in caplog.text


@pytest.mark.parametrize("script", ["answered?call=x", "answered", "answered?call=99"])
def test_answered_session_without_a_waiting_dial(server: FastAGIServer, script: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="telephony.switch"):
        peer = AsteriskPeer(server.address, script=script, timeout=5.0).run()
    assert peer.commands == [] and peer.server_closed and peer.error is None
    assert "answered" in caplog.text


def test_peer_dial_variables_and_dead_channel() -> None:
    peer = AsteriskPeer(("127.0.0.1", 9), dial_outcomes=[DialScript("ANSWER", ring_s=2.5, talk_s=10.25)] * 2)
    model = peer.channel
    model.on_dial_answer = None
    # the caller's channel is not up yet: Dial answers it when the agent does, so ANSWEREDTIME is the talk
    assert model.answer('EXEC Dial "PJSIP/1001&PJSIP/1002,20,g"')[1] == ["200 result=0"]
    assert {k: model.variables[k] for k in ("DIALSTATUS", "DIALEDTIME", "ANSWEREDTIME", "DIALEDTIME_MS")} == {
        "DIALSTATUS": "ANSWER", "DIALEDTIME": "12", "ANSWEREDTIME": "10", "DIALEDTIME_MS": "12750"}
    # app_dial.c: ANSWEREDTIME is the caller channel's up time, from its answer (2.5 s into the call) on
    model.answer('EXEC Dial "PJSIP/1001,20,g"')
    assert {k: model.variables[k] for k in ("DIALEDTIME_MS", "ANSWEREDTIME_MS", "ANSWEREDTIME")} == {
        "DIALEDTIME_MS": "25500", "ANSWEREDTIME_MS": "23000", "ANSWEREDTIME": "23"}
    later = AsteriskPeer(("127.0.0.1", 9), dial_outcomes=[DialScript("ANSWER", ring_s=1, talk_s=4)]).channel
    later.on_dial_answer = None
    later.answer("ANSWER")
    later.answer("WAIT FOR DIGIT 30000")  # 30 s of IVR and queue after the answer
    later.answer('EXEC Dial "PJSIP/1001,20,g"')
    assert (later.variables["ANSWEREDTIME"], later.variables["DIALEDTIME"]) == ("35", "35")
    assert model.dials[0].channel == "PJSIP/1001-00000001" and model.dials[0].timeout == "20"
    model.dead = True
    assert model.answer("EXEC Dial PJSIP/1001")[1] == ["200 result=-1"]
    assert model.variables["DIALSTATUS"] == "CANCEL" and len(model.dials) == 2
