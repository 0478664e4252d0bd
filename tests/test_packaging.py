"""The wheel works without the checkout: build it, install it into a fresh virtual environment, and run the
``helpline`` command from another directory (``check`` on the shipped metadata, ``serve`` started and stopped).

Slow (a new venv and the dependencies from pip's cache): marked ``slow``; CI runs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout installed (not editable); returns its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # the checkout's files only: no build/ left over from an earlier build
    listed = _run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    for name in listed.stdout.splitlines():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)], cwd=base)
    assert built.returncode == 0, built.stderr
    wheels = list(dist.glob("helpline-*.whl"))
    assert len(wheels) == 1
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    inst = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheels[0])], cwd=base)
    assert inst.returncode == 0, inst.stderr[-3000:]
    return bin_dir


def test_wheel_carries_the_data_and_checks_from_anywhere(installed: Path, tmp_path: Path) -> None:
    shown = _run([str(installed / "python"), "-c",
                  "import helpline.config as c; print(c.shipped('metadata')); print(c.shipped('locale'))"],
                 cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    metadata_dir, locale_dir = (Path(line) for line in shown.stdout.split())
    assert "site-packages" in str(metadata_dir)
    assert (metadata_dir / "entities" / "customer.yaml").is_file()
    assert (locale_dir / "zh_CN.yaml").is_file()
    checked = _run([str(installed / "helpline"), "check"], cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "error" not in checked.stdout.lower().replace("0 errors", "")


def test_installed_serve_starts_and_stops(installed: Path, tmp_path: Path) -> None:
    port, agi_port = _free_port(), _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI_", "PYTEST_", "HELPLINE_"))}
    env = {**clean, "HELPLINE_ADMIN_PASSWORD": "Wheel-test-1", "HELPLINE_DEMO_PASSWORD": "Wheel-test-2",
           "HELPLINE_DEMO_CUSTOMERS": "20", "HELPLINE_DB": f"sqlite:///{tmp_path / 'w.db'}"}
    proc = subprocess.Popen([str(installed / "helpline"), "serve", "--port", str(port), "--agi-port", str(agi_port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
                    status = resp.status
                    page = resp.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert status == 200
        assert "<html" in page.lower()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
