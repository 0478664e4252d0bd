"""A billing-system (BOSS) simulator: realistic customers, their products, balances and payments, and a stream of
changes, served as JSON over HTTP on a loopback port — for the demo and the tests of the BOSS connector.

    python -m extensions.boss.simulator --port 8089 --customers 2000

Interface (what the connector expects of a billing system):

- ``GET /api/changes?since=<watermark>&limit=<n>`` → ``{"items": [customer, ...], "watermark": <int>, "more": bool}``:
  the customers added or changed after ``since`` (a change sequence number), oldest first.
- ``GET /api/customers/<customer_no>`` and ``GET /api/customers?phone=<number>`` → ``{"customer": customer}`` or 404.

A customer: ``cust_no``, ``cust_name``, ``sex`` (1/2), ``mobile``, ``city_code``, ``level_code`` (01-05),
``card_no``, ``address``, ``balance`` (yuan, two decimals), ``products`` (code, name, monthly fee), ``payments``
(the last few: time, amount, channel) and ``seq``. Tests change data with :meth:`Simulator.pay` and
:meth:`Simulator.change`, slow it with ``delay`` and break it with ``malformed``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红志鹏建国建华文斌海燕晓东湘益岳"
CITIES = ["changsha", "zhuzhou", "xiangtan", "hengyang", "yueyang", "changde", "yiyang", "chenzhou"]
STREETS = ["五一大道", "芙蓉中路", "人民路", "解放西路", "韶山北路", "建设路", "湘江中路", "金星大道"]
PRODUCTS = [("DTV-BASIC", "数字电视基本包", 26.0), ("DTV-HD", "高清频道包", 10.0), ("BB-100M", "100M宽带", 60.0),
            ("VOD-FILM", "点播影视包", 15.0), ("EDU-KIDS", "少儿教育包", 8.0)]
CHANNELS = ["wechat", "alipay", "counter", "bank"]


class Simulator:
    """The simulated billing system's data and HTTP server (loopback only)."""

    def __init__(self, customers: int = 200, seed: int = 7, port: int = 0, card_prefix: str = "8731",
                 changes_per_minute: int = 0) -> None:
        if not card_prefix.isdigit() or len(card_prefix) > 8:
            raise ValueError(f"card_prefix must be 1-8 digits, not {card_prefix!r}")
        if changes_per_minute < 0:
            raise ValueError("changes_per_minute cannot be negative")
        self.card_prefix = card_prefix
        """The smart-card numbers' first digits (``8731`` + 12 digits by default, as the demo's own customers:
        the embedded demo's simulator uses another prefix so the two never collide on the unique card number)."""
        self.changes_per_minute = changes_per_minute
        """Random payments made every minute while the server runs (something for the sync to bring in)."""
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.seq = 0
        self.data: dict[str, dict[str, Any]] = {}
        self.delay = 0.0
        """Seconds every answer waits (a slow billing system)."""
        self.malformed = False
        """Answer with broken JSON."""
        self.requests = 0
        for i in range(1, customers + 1):
            self._add(i)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- data ------------------------------------------------------------------------------------
    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _add(self, i: int) -> dict[str, Any]:
        rng = self.rng
        chosen = rng.sample(PRODUCTS, rng.randint(1, 3))
        now = datetime(2026, 12, 1, tzinfo=UTC)
        customer: dict[str, Any] = {
            "cust_no": f"B{i:08d}", "cust_name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
            "sex": rng.choice(["1", "2"]), "mobile": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
            "city_code": rng.choice(CITIES), "level_code": rng.choice(["01", "01", "01", "02", "03", "04", "05"]),
            "card_no": f"{self.card_prefix}{i:012d}", "address": f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            "balance": round(rng.uniform(-20, 300), 2),
            "products": [{"code": c, "name": n, "monthly_fee": f} for c, n, f in chosen],
            "payments": [{"at": (now - timedelta(days=30 * k)).isoformat(), "amount": float(rng.choice([50, 100, 200])),
                          "channel": rng.choice(CHANNELS)} for k in range(rng.randint(0, 3))],
            "seq": self._next(),
        }
        self.data[customer["cust_no"]] = customer
        return customer

    def add_customers(self, n: int) -> list[str]:
        with self.lock:
            start = len(self.data) + 1
            return [self._add(i)["cust_no"] for i in range(start, start + n)]

    def pay(self, cust_no: str, amount: float, channel: str = "wechat") -> dict[str, Any]:
        """A payment: the balance rises, the payment is listed, the customer counts as changed."""
        with self.lock:
            c = self.data[cust_no]
            c["balance"] = round(c["balance"] + amount, 2)
            c["payments"] = [{"at": datetime.now(UTC).isoformat(), "amount": amount, "channel": channel},
                             *c["payments"]][:5]
            c["seq"] = self._next()
            return dict(c)

    def change(self, cust_no: str, **values: Any) -> dict[str, Any]:
        with self.lock:
            c = self.data[cust_no]
            c.update(values)
            c["seq"] = self._next()
            return dict(c)

    def changes(self, since: int, limit: int) -> dict[str, Any]:
        with self.lock:
            found = sorted((c for c in self.data.values() if c["seq"] > since), key=lambda c: c["seq"])
            page = found[:limit]
            return {"items": [dict(c) for c in page], "watermark": page[-1]["seq"] if page else since,
                    "more": len(found) > limit}

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, body: Any) -> None:
                data = b'{"items": [{"cust_no": "B1",' if sim.malformed else json.dumps(
                    body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.wfile.write(data)

            def do_GET(self) -> None:
                sim.requests += 1
                if sim.delay:
                    time.sleep(sim.delay)
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/api/changes":
                    try:
                        since, limit = int(query.get("since", 0)), min(int(query.get("limit", 1000)), 5000)
                    except ValueError:
                        self._send(400, {"error": "since and limit are numbers"})
                        return
                    self._send(200, sim.changes(since, limit))
                elif url.path.startswith("/api/customers/"):
                    found = sim.data.get(url.path.rsplit("/", 1)[1])
                    self._send(200 if found else 404, {"customer": found} if found else {"error": "no such customer"})
                elif url.path == "/api/customers" and "phone" in query:
                    found = next((c for c in sim.data.values() if c["mobile"] == query["phone"]), None)
                    self._send(200 if found else 404, {"customer": found} if found else {"error": "no such customer"})
                else:
                    self._send(404, {"error": "unknown path"})

        return Handler

    def random_payments(self, n: int) -> None:
        """``n`` payments to customers picked at random."""
        for _ in range(n):
            with self.lock:
                number = self.rng.choice(list(self.data))
                amount = float(self.rng.choice([30, 50, 100]))
            self.pay(number, amount)

    def _change_every_minute(self) -> None:
        while not self._stopping.wait(60):
            self.random_payments(self.changes_per_minute)

    def start(self) -> Simulator:
        self.thread = threading.Thread(target=self.server.serve_forever, name="boss-simulator", daemon=True)
        self.thread.start()
        if self.changes_per_minute:
            threading.Thread(target=self._change_every_minute, name="boss-simulator-changes", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="A billing-system (BOSS) simulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8089, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--changes-per-minute", type=int, default=0, help="random payments, to watch the sync")
    args = parser.parse_args()
    sim = Simulator(args.customers, port=args.port, changes_per_minute=args.changes_per_minute).start()
    print(f"BOSS simulator: {len(sim.data)} customers on {sim.url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(60)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
