"""The shipped samples for several instances (docs/operations.md "Several instances"): the nginx configuration
(deploy/nginx/helpline.conf) parses, and run in front of two stub instances it keeps a browser on one of them
and passes socket.io's websocket upgrade through; it and the Asterisk sample
(telephony/asterisk/extensions_cluster.conf) name the hosts and ports the docs name, and the dialplan's
"answered" report goes to the host that served the call."""

from __future__ import annotations

import re
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NGINX_SAMPLE = ROOT / "deploy" / "nginx" / "helpline.conf"
DIALPLAN_SAMPLE = ROOT / "telephony" / "asterisk" / "extensions_cluster.conf"
OPERATIONS = ROOT / "docs" / "operations.md"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def _upstreams(text: str) -> list[str]:
    block = re.search(r"upstream helpline_web \{(.*?)\}", text, re.S)
    assert block is not None
    return re.findall(r"^\s*server\s+(\S+)", block.group(1), re.M)


def test_the_samples_name_the_hosts_and_ports_the_docs_name() -> None:
    nginx, dialplan, docs = NGINX_SAMPLE.read_text(), DIALPLAN_SAMPLE.read_text(), OPERATIONS.read_text()
    web = _upstreams(nginx)
    assert web == ["10.0.0.11:8080", "10.0.0.12:8080"] and "ip_hash;" in nginx
    hosts = re.search(r"^HELPLINE_AGI_HOSTS=(\S+)", dialplan, re.M)
    assert hosts is not None
    agi = hosts.group(1).split("&")
    assert agi == ["10.0.0.11:4573", "10.0.0.12:4573"]
    for address in (*web, *agi, "deploy/nginx/helpline.conf", "telephony/asterisk/extensions_cluster.conf"):
        assert address in docs, f"docs/operations.md does not name {address}"
    # the answered report goes back to the instance that holds the caller's session (inherited host)
    assert "Set(_HELPLINE_AGI_HOST=${host})" in dialplan
    assert dialplan.index("Set(_HELPLINE_AGI_HOST=${host})") < dialplan.index("AGI(agi://${host}/${ARG1})")
    answered = dialplan[dialplan.index("[helpline-answered]"):]
    assert "HELPLINE_AGI_HOST" in answered and "answered?call=${ARG1}" in answered


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_the_nginx_sample_parses(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    done = subprocess.run([str(NGINX), "-t", "-q", "-e", "stderr", "-p", str(tmp_path), "-c", str(NGINX_SAMPLE)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


class _Stub(socketserver.ThreadingTCPServer):
    """A stand-in for one instance: answers a websocket upgrade with 101 and then echoes what it gets with its
    name; any other request with its name and the Upgrade/Connection headers it received."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(("127.0.0.1", 0), _StubHandler)


class _StubHandler(socketserver.StreamRequestHandler):
    server: _Stub

    def handle(self) -> None:
        while True:
            head = []
            while (line := self.rfile.readline()) not in (b"\r\n", b""):
                head.append(line.decode("latin-1").strip())
            if not head:
                return
            headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            if headers.get("upgrade", "").lower() == "websocket":
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 b"Sec-WebSocket-Accept: x\r\n\r\n")
                while data := self.request.recv(1024):
                    self.wfile.write(self.server.name.encode() + b":" + data)
                return
            body = f"{self.server.name} connection={headers.get('connection', '')}".encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


@pytest.fixture
def stubs() -> Iterator[list[_Stub]]:
    servers = [_Stub("one"), _Stub("two")]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /desktop HTTP/1.1\r\nHost: helpline\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.decode().split("\r\n\r\n", 1)[1]


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_the_nginx_sample_keeps_a_browser_on_one_instance_and_passes_the_websocket(
        tmp_path: Path, stubs: list[_Stub]) -> None:
    text = NGINX_SAMPLE.read_text()
    for address, stub in zip(_upstreams(text), stubs, strict=True):  # the sample's upstreams → the local stubs
        text = text.replace(f"server {address} ", f"server 127.0.0.1:{stub.server_address[1]} ")
    port = _free_port()
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("worker_processes auto;",
                                                                           "worker_processes 1;")
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                        "uwsgi", "scgi"))
    text = text.replace("http {", f"http {{ {temp} access_log off;", 1)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    (tmp_path / "logs").mkdir()
    proc = subprocess.Popen([str(NGINX), "-e", "stderr", "-p", str(tmp_path), "-c", str(conf), "-g",
                             f"daemon off; pid {tmp_path}/nginx.pid;"], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
                time.sleep(0.05)
        answers = [_get(port) for _ in range(6)]
        assert len(set(answers)) == 1, answers  # sticky: one browser address, one instance
        served = answers[0].split()[0]
        assert answers[0] == f"{served} connection=", answers  # plain requests: no upgrade asked for
        with socket.create_connection(("127.0.0.1", port), timeout=5) as ws:  # what socket.io's client sends
            ws.sendall(b"GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: helpline\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += ws.recv(1024)
            assert head.startswith(b"HTTP/1.1 101"), head
            ws.sendall(b"ping")
            assert ws.recv(1024) == f"{served}:ping".encode()  # a tunnel to the same instance
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
