"""``AmiClient`` against ``AmiPeer``: login, errors, events, ActionID matching, reconnection with back-off,
and the pyst2 manager defects ``HelplineManager`` fixes."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from ami_helpers import FAST_BACKOFF, SECRET, USER, sent
from asterisk.manager import ManagerMsg

from telephony.ami.client import (
    AmiActionError,
    AmiClient,
    AmiEvent,
    AmiLoginError,
    AmiTimeout,
    AmiUnavailable,
)
from telephony.ami.manager import HelplineMessage, encode_action
from telephony.ami.testpeer import AmiPeer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(peer: AmiPeer, secret: str = SECRET, **options: object) -> AmiClient:
    settings: dict[str, object] = {"backoff": FAST_BACKOFF, "connect_timeout": 1.0, "action_timeout": 1.0, **options}
    return AmiClient(*peer.address, USER, secret, **settings)  # type: ignore[arg-type]


def _collect(client: AmiClient, name: str) -> tuple[list[AmiEvent], threading.Event]:
    got: list[AmiEvent] = []
    arrived = threading.Event()

    def on_event(event: AmiEvent) -> None:
        got.append(event)
        arrived.set()

    client.on_event(name, on_event)
    return got, arrived


# ------------------------------------------------------------------------------------------- login
def test_login_sends_the_credentials_and_reads_the_banner(peer: AmiPeer, client: AmiClient) -> None:
    assert client.connected and client.connections == 1
    login = peer.actions[0]
    assert login["Action"] == "Login" and login["Username"] == USER and login["Secret"] == SECRET
    assert login["ActionID"]
    assert peer.logins == 1


def test_wrong_secret_is_a_clear_login_error_without_retry(peer: AmiPeer) -> None:
    client = _client(peer, "wrong")
    with pytest.raises(AmiLoginError) as caught:
        client.connect()
    assert str(caught.value).startswith(
        "Asterisk refused the manager login for user 'helpline': Authentication failed — check manager.conf")
    assert "HELPLINE_AMI_SECRET" in str(caught.value)
    time.sleep(0.05)  # more than the first back-off: nothing may retry
    assert peer.connections == 1 and peer.logins == 0 and not client.connected


def test_refused_logins_and_unknown_users_are_login_errors(peer: AmiPeer) -> None:
    peer.refuse_logins = True
    with pytest.raises(AmiLoginError, match="Authentication failed"):
        _client(peer).connect()
    peer.refuse_logins = False
    with pytest.raises(AmiLoginError, match="user 'nobody'"):
        AmiClient(*peer.address, "nobody", SECRET).connect()


def test_no_server_is_unavailable() -> None:
    port = _free_port()
    with pytest.raises(AmiUnavailable, match=f"cannot reach the Asterisk manager at 127.0.0.1:{port}"):
        AmiClient("127.0.0.1", port, USER, SECRET, connect_timeout=0.5).connect()


def test_a_silent_server_or_another_protocol_is_unavailable(peer: AmiPeer) -> None:
    peer.mode = "silent"
    started = time.monotonic()
    with pytest.raises(AmiUnavailable, match="no banner"):
        _client(peer, connect_timeout=0.1).connect()
    assert time.monotonic() - started < 2.5  # the 0.1 s asked for, not the default 3 s
    with AmiPeer(banner="SSH-2.0-OpenSSH_9.2") as other, pytest.raises(AmiUnavailable,
                                                                        match="is not an Asterisk manager"):
        _client(other).connect()


# ----------------------------------------------------------------------------------------- actions
def test_send_returns_the_response_headers(peer: AmiPeer, client: AmiClient) -> None:
    pong = client.send("Ping")
    assert pong["Response"] == "Success" and pong["Ping"] == "Pong" and "Timestamp" in pong
    peer.add_channel("PJSIP/1001-00000001", FOO="a: b")
    got = client.send("Getvar", Channel="PJSIP/1001-00000001", Variable="FOO")
    assert (got["Variable"], got["Value"]) == ("FOO", "a: b")


def test_error_responses_raise_with_asterisks_message(client: AmiClient) -> None:
    with pytest.raises(AmiActionError) as caught:
        client.send("Redirect", Channel="PJSIP/9-00000009", Context="c", Exten="e", Priority=1)
    assert caught.value.message == "Channel does not exist: PJSIP/9-00000009"
    assert str(caught.value) == "Asterisk refused Redirect: Channel does not exist: PJSIP/9-00000009"
    assert caught.value.response["Response"] == "Error"
    with pytest.raises(AmiActionError, match="Invalid/unknown command: Frobnicate"):
        client.send("Frobnicate")


def test_permission_classes_are_checked(peer: AmiPeer) -> None:
    peer.permissions = {USER: {"call", "originate"}}
    client = _client(peer).connect()
    try:
        peer.add_channel("PJSIP/1001-00000001")
        with pytest.raises(AmiActionError, match="Permission denied"):
            client.send("MuteAudio", Channel="PJSIP/1001-00000001", Direction="in", State="on")
        client.send("Hangup", Channel="PJSIP/1001-00000001")
    finally:
        client.close()


def test_concurrent_actions_each_get_their_own_response(peer: AmiPeer, client: AmiClient) -> None:
    peer.parallel = True  # answers out of order: only ActionID can match them
    peer.delays = {"Getvar": 0.1}
    for n in range(8):
        peer.add_channel(f"PJSIP/{1000 + n}-00000001", N=str(n))
    results: dict[int, str] = {}

    def ask(n: int) -> None:
        results[n] = client.send("Getvar", Channel=f"PJSIP/{1000 + n}-00000001", Variable="N")["Value"]

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    assert client.send("Ping")["Ping"] == "Pong"  # answered while the Getvars are still pending
    for thread in threads:
        thread.join(2)
    assert results == {n: str(n) for n in range(8)}
    ids = [a["ActionID"] for a in peer.actions]
    assert len(ids) == len(set(ids)), "pyst2's mutable default reused one ActionID"


def test_a_late_response_is_not_given_to_the_next_action(peer: AmiPeer) -> None:
    client = _client(peer, action_timeout=0.05).connect()
    try:
        peer.ignore = {"Getvar"}
        with pytest.raises(AmiTimeout, match=r"did not answer Getvar within 0\.05 s"):
            client.send("Getvar", Channel="PJSIP/1001-00000001", Variable="FOO")
        late_id = peer.actions_named("Getvar")[0]["ActionID"]
        assert peer.push({"Response": "Success", "ActionID": late_id, "Variable": "FOO", "Value": "late"}) == 1
        assert client.send("Ping")["Ping"] == "Pong", "pyst2's FIFO would hand the late Getvar response to Ping"
    finally:
        client.close()


def test_header_values_with_line_breaks_are_refused(peer: AmiPeer, client: AmiClient) -> None:
    with pytest.raises(ValueError, match="line break"):
        client.send("Setvar", Channel="x", Variable="V", Value="a\r\nAction: Hangup")
    with pytest.raises(ValueError, match="header name"):
        encode_action({"Bad Name": "x"})
    assert encode_action({"Action": "Originate", "Variable": ["A=1", "B=2"], "Async": True}) == (
        b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\nAsync: true\r\n\r\n")
    assert sent(peer) == []


# ------------------------------------------------------------------------------------------ events
def test_events_reach_named_and_catch_all_subscribers(peer: AmiPeer, client: AmiClient) -> None:
    hangups, got_hangup = _collect(client, "Hangup")
    everything, _ = _collect(client, "*")
    assert peer.emit("Newchannel", Channel="PJSIP/1-00000001", **{"ChanVariable": "HELPLINE_CALL_ID=42"}) == 1
    peer.emit("Hangup", Channel="PJSIP/1-00000001", Cause="16")
    assert got_hangup.wait(1)
    assert hangups == [{"Event": "Hangup", "Privilege": "call,all", "Channel": "PJSIP/1-00000001", "Cause": "16"}]
    assert peer.wait_for(lambda: len(everything) == 2)
    assert everything[0]["ChanVariable(HELPLINE_CALL_ID)"] == "42"


def test_a_failing_callback_does_not_stop_the_events(peer: AmiPeer, client: AmiClient,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: AmiEvent) -> None:
        raise RuntimeError("boom")

    client.on_event("UserEvent", broken)
    got, _ = _collect(client, "UserEvent")
    peer.emit("UserEvent", UserEvent="First")
    peer.emit("UserEvent", UserEvent="Second")
    assert peer.wait_for(lambda: len(got) == 2)
    assert [e["UserEvent"] for e in got] == ["First", "Second"] and "boom" in caplog.text


def test_unsubscribe_and_an_event_carrying_an_actionid(peer: AmiPeer, client: AmiClient) -> None:
    got, arrived = _collect(client, "OriginateResponse")
    response = client.send("Originate", Channel="PJSIP/1009", Application="ChanSpy", Data="x", Async="true")
    assert response["Message"] == "Originate successfully queued"  # the event with the same ActionID is not it
    assert arrived.wait(1) and got[0]["ActionID"] == response["ActionID"] and got[0]["Response"] == "Success"


# ---------------------------------------------------------------------------------- reconnection
def test_reconnects_with_backoff_and_keeps_subscriptions(peer: AmiPeer, client: AmiClient) -> None:
    got, arrived = _collect(client, "Hangup")
    peer.reject_next = 2  # Asterisk restarting: the first two attempts are closed at once
    assert peer.drop() == 1
    assert peer.wait_for(lambda: peer.logins == 2)
    assert client.wait_connected(1.0)
    assert client.reconnect_delays == [0.01, 0.02, 0.04] and client.connections == 2
    assert peer.emit("Hangup", Channel="PJSIP/1-00000001") == 1
    assert arrived.wait(1) and got[0]["Channel"] == "PJSIP/1-00000001"
    assert client.send("Ping")["Ping"] == "Pong"


def test_the_last_backoff_delay_repeats(peer: AmiPeer) -> None:
    client = _client(peer, backoff=(0.005, 0.01)).connect()
    try:
        peer.reject_next = 3
        peer.drop()
        assert peer.wait_for(lambda: peer.logins == 2)
        assert client.wait_connected(1.0)
        assert client.reconnect_delays == [0.005, 0.01, 0.01, 0.01]
    finally:
        client.close()


def test_an_action_in_flight_fails_at_once_when_the_connection_drops(peer: AmiPeer, client: AmiClient) -> None:
    peer.ignore = {"Getvar"}
    errors: list[Exception] = []

    def ask() -> None:
        try:
            client.send("Getvar", Channel="x", Variable="y")
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=ask)
    started = time.monotonic()
    thread.start()
    assert peer.wait_for(lambda: bool(peer.actions_named("Getvar")))
    peer.drop()
    thread.join(1)
    assert isinstance(errors[0], AmiUnavailable) and "failed" in str(errors[0])
    assert time.monotonic() - started < 3  # at once, not after the 5 s action timeout
    assert client.wait_connected(5.0)  # first back-off 0.5 s, then the login on a possibly busy machine


def test_while_disconnected_actions_say_so(peer: AmiPeer) -> None:
    client = _client(peer, reconnect=False).connect()
    peer.drop()
    assert peer.wait_for(lambda: not client.connected)
    with pytest.raises(AmiUnavailable, match="not connected to the Asterisk manager"):
        client.send("Ping")
    time.sleep(0.03)
    assert peer.logins == 1, "reconnect=False must not reconnect"
    client.close()


def test_close_logs_off_and_stops_reconnecting(peer: AmiPeer) -> None:
    client = _client(peer).connect()
    client.close()
    assert peer.actions[-1]["Action"] == "Logoff" and not client.connected
    time.sleep(0.03)
    assert peer.connections == 1
    client.close()  # idempotent


def test_connect_in_background_waits_for_asterisk() -> None:
    port = _free_port()
    client = AmiClient("127.0.0.1", port, USER, SECRET, backoff=(0.01,), connect_timeout=0.2).connect_in_background()
    try:
        assert not client.wait_connected(0.03)
        with AmiPeer({USER: SECRET}, port=port):
            assert client.wait_connected(1.0)
    finally:
        client.close()


# --------------------------------------------------------------------------------- pyst2 defects
def test_pyst2_parser_fails_on_chanvariable_and_ours_does_not() -> None:
    lines = ["Event: Newchannel\r\n", "ChanVariable: A=1\r\n", "ChanVariable: B=x=y\r\n", "Output: one\r\n",
             "Output: two\r\n"]
    with pytest.raises(AttributeError, match="has_key"):
        ManagerMsg(lines)
    message = HelplineMessage(lines)
    assert message.headers == {"Event": "Newchannel", "ChanVariable": {"A": "1", "B": "x=y"}, "Output": "one\ntwo"}
