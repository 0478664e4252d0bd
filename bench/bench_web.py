"""Web runtime benchmarks: the UI's service calls on a million customers, and memory per connected client.

Run from the repository root (after ``bench/bench_foundation.py --reuse`` made the million-customer
database)::

    PYTHONPATH=. python bench/bench_web.py --db sqlite:///var/bench/customers-1000000.db

1. First page of the customer list, filtered (value tier in gold/diamond/platinum and a city) and sorted
   by the list screen's default sort, exactly as the list view fetches it: ``records.list_page`` (permission,
   scope, capped count, masks, audit) plus ``format_rows`` (category labels, titles of linked regions).
   Target p95 < 100 ms. Also as an agent with a row scope.
2. Opening a customer form: ``records.get`` (audited read) plus every related list of ``customer_form``
   (contact records, work orders) with their titles. Target p95 < 150 ms.
3. Memory per connected client with the customer list open: N simulated NiceGUI clients (the ``user``
   simulation: real server-side clients and elements, no browser) sign in and open ``/screen/customer_list``;
   the process's resident memory grows by X per client. Target < 1 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(fn: Any, inputs: list[Any], warmup: int = 5) -> list[float]:
    for arg in inputs[:warmup]:
        fn(arg)
    samples = []
    for arg in inputs:
        start = time.perf_counter()
        fn(arg)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def service_benches(platform: Any, reps: int) -> list[dict[str, Any]]:
    from helpline.data.conditions import Cmp, all_of
    from helpline.data.database import session
    from helpline.data.query import ListQuery, sort_keys
    from helpline.security.actor import Actor
    from helpline.ui.views.base import ViewContext
    from helpline.ui.views.list_view import format_rows

    md = platform.metadata
    screen = md.screens["customer_list"]
    columns = [c.field for c in screen.column_refs()]
    entity = md.entities["customer"]
    cities = ["changsha", "yueyang", "hengyang", "changde", "yiyang", "shaoyang"]
    admin = Actor("admin", roles=("administrator",)).bind(md)
    agent = Actor("agent1", roles=("agent",), regions=("changsha", "zhuzhou", "xiangtan")).bind(md)
    results = []

    def list_first_page(actor: Actor) -> Any:
        ctx = ViewContext(platform=platform, actor=actor)

        def call(city: str) -> None:
            where = all_of(Cmp("value_tier", "in", ["gold", "diamond", "platinum"]), Cmp("city", "eq", city))
            q = ListQuery(entity="customer", where=where, sort=sort_keys(screen.sort or ["-id"]), page=1,
                          page_size=screen.page_size)
            page = platform.records.list_page(actor, q)
            format_rows(ctx, entity, columns, page.rows)

        return call

    for who, actor in (("administrator", admin), ("agent (row scope)", agent)):
        samples = timed(list_first_page(actor), [random.choice(cities) for _ in range(reps)])
        results.append({"bench": f"customer list, first page, filtered + sorted — {who}", "target_ms": 100,
                        "p50": pct(samples, 50), "p95": pct(samples, 95), "p99": pct(samples, 99), "n": len(samples)})

    form = md.screens["customer_form"]
    model = platform.models["customer"]
    with session():
        n = model.select().count()
    ids = [random.randint(1, n) for _ in range(reps)]
    ctx = ViewContext(platform=platform, actor=admin)

    def open_form(record_id: int) -> None:
        record = platform.records.get(admin, "customer", record_id)
        for spec in form.related:
            page = platform.records.related(admin, "customer", record, spec)
            format_rows(ctx, md.entities[spec.entity], spec.columns, page.rows)

    samples = timed(open_form, ids)
    results.append({"bench": "open a customer form with its related lists", "target_ms": 150,
                    "p50": pct(samples, 50), "p95": pct(samples, 95), "p99": pct(samples, 99), "n": len(samples)})
    return results


async def memory_bench(platform: Any, clients: int) -> dict[str, Any]:
    import httpx
    from nicegui import core
    from nicegui.testing.user import User
    from nicegui.testing.user_simulation import user_simulation

    from helpline.services.auth import ensure_bootstrap_users
    from helpline.ui.context import set_platform

    password = "bench-pass-1"
    ensure_bootstrap_users(demo=True, environ={"HELPLINE_ADMIN_PASSWORD": password,
                                               "HELPLINE_DEMO_PASSWORD": password})
    from helpline.data.database import session
    from helpline.data.system import User as UserRow
    from helpline.security.passwords import hash_password

    with session():
        UserRow.update(password_hash=hash_password(password), locked_until=None, failed_logins=0) \
            .where(UserRow.username == "admin").execute()
    set_platform(platform)
    main = ROOT / "tests" / "ui" / "app_main.py"
    # NiceGUI's user simulation is made for pytest: give it the environment it expects there.
    import os
    import tempfile

    from nicegui import app
    from nicegui.storage import Storage

    os.environ.setdefault("PYTEST_CURRENT_TEST", "bench_web.py::memory")
    Storage.path = Path(tempfile.mkdtemp(prefix="helpline-bench-storage-"))
    app.storage = Storage()
    async with user_simulation(main_file=main) as first:

        def new_user() -> User:
            # a User routes ui.navigate to itself: make each one just before it signs in
            return User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test"))

        from nicegui import Client

        async def open_list(user: User) -> None:
            await user.open("/login")
            user.find(marker="username").type("admin")
            user.find(marker="password").type(password)
            user.find(marker="login-submit").click()
            await user.should_see(marker="logout", retries=300)
            await user.open("/screen/customer_list")
            await user.should_see(marker="quick-search", retries=300)
            # A browser that navigates away disconnects and NiceGUI deletes that client; the simulation
            # keeps them, so delete the login and home pages this user left, keeping the open list.
            for client in list(Client.instances.values()):
                if client is not user.client and client.page.path in ("/login", "/"):
                    client.delete()

        # a first client warms up every import and cache, then measure the others
        await open_list(first)
        await asyncio.sleep(1)
        gc.collect()
        before = rss_mb()
        for _ in range(clients - 1):
            await open_list(new_user())
        await asyncio.sleep(2)  # the lists' rows arrive from worker threads
        # A connected browser acknowledges the messages it received and NiceGUI drops them from the
        # client's resend history; the simulation has no browser, so acknowledge on its behalf.
        for client in Client.instances.values():
            client.outbox.prune_history(client.outbox.next_message_id)
        gc.collect()
        after = rss_mb()
        alive = sum(1 for c in Client.instances.values() if c.page.path.startswith("/screen/"))
    per_client_kb = (after - before) * 1024 / max(1, clients - 1)
    return {"bench": f"memory per connected client with the customer list open ({clients - 1} clients)",
            "target_kb": 1024, "per_client_kb": per_client_kb, "clients_alive": alive}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="sqlite:///var/bench/customers-1000000.db",
                   help="database URL (default %(default)s)")
    p.add_argument("--reps", type=int, default=200, help="repetitions per service bench")
    p.add_argument("--clients", type=int, default=51, help="simulated clients for the memory bench")
    p.add_argument("--skip-memory", action="store_true", help="only the service benches")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    from helpline.services.platform import Platform

    platform = Platform()
    platform.start(args.db, str(ROOT / "metadata"))
    random.seed(5)
    results = service_benches(platform, args.reps)
    mem = None if args.skip_memory else asyncio.run(memory_bench(platform, args.clients))
    print(f"{'bench':<75} {'p50':>8} {'p95':>8} {'p99':>8}  target")
    for r in results:
        ok = "ok" if r["p95"] < r["target_ms"] else "MISSED"
        print(f"{r['bench']:<75} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f}  p95 < {r['target_ms']} ms {ok}")
    if mem is not None:
        ok = "ok" if mem["per_client_kb"] < mem["target_kb"] else "MISSED"
        print(f"{mem['bench']:<75} {mem['per_client_kb']:8.0f} KB per client  < 1 MB {ok}")
    if args.json:
        Path(args.json).write_text(json.dumps({"services": results, "memory": mem}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
