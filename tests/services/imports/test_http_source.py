"""An ``http`` source: a JSON interface on a local stub server, its rows at ``source.items``; a wrong path named."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpline.security.actor import Actor
from helpline.services.imports import ImportService, SourceError
from helpline.services.platform import Platform

ANSWER = {"code": 0, "data": {"list": [{"no": "H1", "nm": "赵一", "tel": "0731-8888 0001"},
                                       {"no": "H2", "nm": "钱二", "tel": "0731-8888 0002"}]}}
DEFINITION = """\
# Customers from a JSON interface.
kind: import
name: http_customers
entity: customer
key: customer_no
source: {{type: http, url: '{url}/customers', items: {items}, timeout: 2, params: {{region: changsha}}}}
columns:
  - {{field: customer_no, headers: [no], required: true}}
  - {{field: name, headers: [nm]}}
  - {{field: phone, headers: [tel], transform: 'digits(value)'}}
"""


@pytest.fixture
def stub() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps(ANSWER, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("items", ["data.list", "data.rows"])
def test_an_http_json_source(sqlite_url: str, demo_metadata: Path, stub: tuple[str, list[str]], items: str) -> None:
    url, seen = stub
    (demo_metadata / "imports" / "http_customers.yaml").write_text(DEFINITION.format(url=url, items=items),
                                                                  encoding="utf-8")
    platform = Platform()
    platform.start(sqlite_url, str(demo_metadata))
    service = ImportService(platform)
    if items == "data.rows":
        with pytest.raises(SourceError, match=r"the answer has no 'data.rows' \(source.items\)"):
            service.run(Actor.system(), "http_customers", None)
        return
    report = service.run(Actor.system(), "http_customers", None)
    assert (report.inserted, report.rejected) == (2, 0)
    assert seen == ["/customers?region=changsha"]
