"""``AmiPeer`` byte for byte over a raw socket: banner, response layout, ActionID echo, login and logoff."""

from __future__ import annotations

import socket

from ami_helpers import SECRET, USER

from telephony.ami.testpeer import AmiPeer


def _read_until_blank(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _session(peer: AmiPeer) -> socket.socket:
    sock = socket.create_connection(peer.address, timeout=1.0)
    assert sock.recv(64) == b"Asterisk Call Manager/9.0.0\r\n"
    return sock


def test_banner_login_actions_and_logoff(peer: AmiPeer) -> None:
    peer.add_channel("PJSIP/1001-00000001")
    with _session(peer) as sock:
        sock.sendall(b"Action: Ping\r\nActionID: p0\r\n\r\n")
        assert _read_until_blank(sock) == b"Response: Error\r\nActionID: p0\r\nMessage: Permission denied\r\n\r\n"
        sock.sendall(f"action: login\r\nusername: {USER}\r\nsecret: {SECRET}\r\nActionID: a1\r\n\r\n".encode())
        assert _read_until_blank(sock) == (
            b"Response: Success\r\nActionID: a1\r\nMessage: Authentication accepted\r\n\r\n")
        sock.sendall(b"Action: Hangup\r\nChannel: PJSIP/9-00000009\r\n\r\n")  # no ActionID: none echoed
        assert _read_until_blank(sock) == b"Response: Error\r\nMessage: No such channel\r\n\r\n"
        sock.sendall(b"Action: MuteAudio\r\nActionID: m\r\nChannel: PJSIP/1001-00000001\r\nDirection: in\r\n"
                     b"State: on\r\n\r\n")
        assert _read_until_blank(sock) == b"Response: Success\r\nActionID: m\r\n\r\n"
        sock.sendall(b"ActionID: x\r\n\r\n")
        assert _read_until_blank(sock) == (
            b"Response: Error\r\nActionID: x\r\nMessage: Missing action in request\r\n\r\n")
        sock.sendall(b"Action: Logoff\r\nActionID: z\r\n\r\n")
        assert _read_until_blank(sock) == (
            b"Response: Goodbye\r\nActionID: z\r\nMessage: Thanks for all the fish.\r\n\r\n")
        assert sock.recv(16) == b"", "Asterisk closes the connection after Logoff"
    assert [a.get("Action", a.get("action")) for a in peer.actions] == [
        "Ping", "login", "Hangup", "MuteAudio", None, "Logoff"]


def test_a_failed_login_closes_the_connection(peer: AmiPeer) -> None:
    with _session(peer) as sock:
        sock.sendall(f"Action: Login\r\nUsername: {USER}\r\nSecret: nope\r\nActionID: 1\r\n\r\n".encode())
        assert _read_until_blank(sock) == b"Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n"
        assert sock.recv(16) == b""


def test_redirect_validation_and_events(peer: AmiPeer) -> None:
    peer.add_channel("PJSIP/1001-00000001")
    with _session(peer) as sock:
        sock.sendall(f"Action: Login\r\nUsername: {USER}\r\nSecret: {SECRET}\r\n\r\n".encode())
        _read_until_blank(sock)
        sock.sendall(b"Action: Redirect\r\nChannel: PJSIP/1001-00000001\r\nContext: c\r\nExten: e\r\n\r\n")
        assert _read_until_blank(sock) == b"Response: Error\r\nMessage: Priority not specified\r\n\r\n"
        sock.sendall(b"Action: Redirect\r\nChannel: PJSIP/1001-00000001\r\nContext: c\r\nExten: e\r\nPriority: 1\r\n"
                     b"ExtraChannel: PJSIP/2-00000002\r\n\r\n")
        assert _read_until_blank(sock) == (
            b"Response: Error\r\nMessage: ExtraChannel does not exist: PJSIP/2-00000002\r\n\r\n")
        assert peer.emit("Hangup", Channel="PJSIP/1001-00000001", Cause="16") == 1
        assert _read_until_blank(sock) == (
            b"Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/1001-00000001\r\nCause: 16\r\n\r\n")
