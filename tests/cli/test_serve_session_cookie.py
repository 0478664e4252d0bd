"""``run.py serve``'s session cookie: its lifetime is HELPLINE_SESSION_MINUTES, Secure with
HELPLINE_COOKIE_SECURE=1, HttpOnly and SameSite=Lax; NiceGUI's storage folder is the owner's only."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_session_cookie_follows_the_settings(tmp_path: Path) -> None:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI_", "PYTEST_", "HELPLINE_"))}
    env = {**clean, "HELPLINE_ADMIN_PASSWORD": "Cookie-test-1", "HELPLINE_DEMO_PASSWORD": "Cookie-test-2",
           "HELPLINE_DB": f"sqlite:///{tmp_path / 'c.db'}", "HELPLINE_SESSION_MINUTES": "7",
           "HELPLINE_COOKIE_SECURE": "1", "HELPLINE_METADATA": str(ROOT / "metadata")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--port", str(port), "--no-agi",
                             "--no-demo"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        cookie = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
                    cookie = resp.headers.get("set-cookie") or ""
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
        assert "session" in attributes, cookie
        assert attributes["max-age"] == "Max-Age=420", cookie
        assert "secure" in attributes and "httponly" in attributes, cookie
        assert attributes["samesite"].lower() == "samesite=lax", cookie
        assert stat.S_IMODE((tmp_path / ".nicegui").stat().st_mode) == 0o700
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
