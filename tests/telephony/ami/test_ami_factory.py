"""``make_call_control(settings)``: simulated without an AMI host, AMI with one; wrong credentials stop the
start with a clear message; an Asterisk not up yet is retried in the background."""

from __future__ import annotations

import socket

import pytest
from ami_helpers import FAST_BACKOFF, SECRET, USER

from helpline.config import Settings
from telephony.ami.control import AmiCallControl
from telephony.ami.testpeer import AmiPeer
from telephony.control.factory import ControlStartupError, make_call_control


def _settings(peer: AmiPeer | None, secret: str = SECRET, port: int = 0) -> Settings:
    host, bound = peer.address if peer is not None else ("127.0.0.1", port)
    return Settings(ami_host=host, ami_port=bound, ami_user=USER, ami_secret=secret)


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"HELPLINE_AMI_HOST": "10.0.0.5", "HELPLINE_AMI_PORT": "5039",
                                  "HELPLINE_AMI_USER": "cti", "HELPLINE_AMI_SECRET": "x"})
    assert (settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret) == (
        "10.0.0.5", 5039, "cti", "x")
    assert (Settings().ami_host, Settings().ami_port, Settings().ami_user) == ("", 5038, "helpline")


def test_without_a_host_the_simulated_phones_are_used() -> None:
    from telephony.control.simulated import SimulatedCallControl

    assert isinstance(make_call_control(Settings()), SimulatedCallControl)


def test_with_a_host_ami_call_control_is_connected(peer: AmiPeer) -> None:
    control = make_call_control(_settings(peer), backoff=FAST_BACKOFF)
    try:
        assert isinstance(control, AmiCallControl) and control.client.connected and peer.logins == 1
    finally:
        control.close()


def test_wrong_credentials_refuse_to_start(peer: AmiPeer) -> None:
    with pytest.raises(ControlStartupError) as caught:
        make_call_control(_settings(peer, "wrong"))
    assert str(caught.value).startswith("Asterisk refused the manager login for user 'helpline': "
                                        "Authentication failed — check manager.conf")
    with pytest.raises(ControlStartupError, match="set HELPLINE_AMI_SECRET"):
        make_call_control(_settings(peer, ""))


def test_an_asterisk_not_up_yet_is_retried_in_the_background() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    control = make_call_control(_settings(None, port=port), backoff=(0.01,), connect_timeout=0.2)
    try:
        assert isinstance(control, AmiCallControl) and not control.client.connected
        with AmiPeer({USER: SECRET}, port=port):
            assert control.client.wait_connected(1.0)
    finally:
        control.close()


def test_cli_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from helpline.cli import add_ami_options

    monkeypatch.setenv("HELPLINE_AMI_PORT", "5040")
    parser = argparse.ArgumentParser()
    add_ami_options(parser)
    args = parser.parse_args(["--ami-host", "10.0.0.5", "--ami-user", "cti"])
    assert (args.ami_host, args.ami_port, args.ami_user) == ("10.0.0.5", 5040, "cti")
    assert not hasattr(args, "ami_secret"), "the secret comes from the environment only"
