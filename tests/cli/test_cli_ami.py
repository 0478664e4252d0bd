"""``run.py agi`` / ``serve`` refuse to start, with a clear message, when Asterisk's manager refuses the
credentials; without an AMI host they run on the simulated phones."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from helpline.cli import agi_cmd
from telephony.ami.testpeer import AmiPeer


def _args(tmp_path: Path, demo_metadata: Path, **extra: object) -> argparse.Namespace:
    values = {"host": None, "port": None, "db": f"sqlite:///{tmp_path}/h.db", "metadata": str(demo_metadata),
              "agi_host": "127.0.0.1", "agi_port": 0, "read_timeout": 1.0, "ami_host": None, "ami_port": None,
              "ami_user": None}
    values.update(extra)
    return argparse.Namespace(**values)


def test_wrong_manager_credentials_stop_the_start(tmp_path: Path, demo_metadata: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    peer = AmiPeer({"helpline": "right"}).start()
    try:
        monkeypatch.setenv("HELPLINE_AMI_SECRET", "wrong")
        host, port = peer.address
        code = agi_cmd.run(_args(tmp_path, demo_metadata, ami_host=host, ami_port=port, ami_user="helpline"))
    finally:
        peer.stop()
    assert code == 1
    err = capsys.readouterr().err
    assert "refused the manager login for user 'helpline'" in err and "HELPLINE_AMI_SECRET" in err
