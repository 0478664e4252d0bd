"""Cluster mode's command log (``telephony.router.cluster``): how long a router write takes, and how long until
the other instance's replica has it.

Run: ``PYTHONPATH=. python bench/bench_cluster.py [--pg-server postgresql://user@host:port/postgres]
[--calls N] [--agents N] [--json FILE]`` (the server defaults to ``HELPLINE_TEST_PG``).

Two replicas ``a`` and ``b`` in this process, each with its own connections (as two instances would), on a scratch
database ``hl_bench_cluster_<pid>`` (dropped at the end). ``--agents`` agents sign in ready through ``a``; through
``b`` each of ``--calls`` calls is queued (offered to an agent at once), rings, is answered and ends (four
writes), and the agent's wrap-up ends through ``a``. Figures:

- *write*: ``RouterService.call`` on the writing instance — append under the advisory lock, commit, NOTIFY, read
  back and apply to its own replica, result returned (what a FastAGI thread or a desktop waits for);
- *seen by the other*: from the start of that write until the other replica has applied it (its listener woke
  on the NOTIFY, read the log and applied the entry).

Failures: any write refused, any call not answered, the two replicas' states different at the end. Both
replicas share this process's two cores with the listener threads: two hosts would do better, not worse.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._report import summarise, summary  # noqa: E402
from telephony.router import AgentProfile, AppQueuePolicy, CallRequest, QueueSettings, RouterSettings  # noqa: E402
from telephony.router.cluster import Cluster, LogClock  # noqa: E402
from telephony.router.service import RouterService  # noqa: E402
from telephony.router.snapshot import replica_state  # noqa: E402

SETTINGS = RouterSettings(queues={"billing": QueueSettings(name="billing", skill="billing", max_wait_s=600.0)},
                          wrap_up_s=0.0)


def _admin(server: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _replica(url: str, name: str, agents: list[str], seen: dict[int, float]) -> RouterService:
    service = RouterService(SETTINGS, AppQueuePolicy(level_step_s=0), clock=LogClock())
    service.cluster = cluster = Cluster(service, url, name)
    apply = cluster._apply

    def timed(seq: int, *rest: Any) -> None:
        apply(seq, *rest)
        seen.setdefault(seq, time.perf_counter())

    cluster._apply = timed  # type: ignore[method-assign,assignment]
    profiles = [AgentProfile(id=a, endpoint=f"PJSIP/{a}", skills={"billing": 1}) for a in agents]
    cluster.start(lambda: [("add_agent", (p,), {}) for p in profiles])
    return service


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-server", default=os.environ.get("HELPLINE_TEST_PG", ""))
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not args.pg_server:
        print("bench_cluster: give --pg-server or HELPLINE_TEST_PG (cluster mode is PostgreSQL only)",
              file=sys.stderr)
        return 2
    name = f"hl_bench_cluster_{os.getpid()}"
    _admin(args.pg_server, f'CREATE DATABASE "{name}"')
    url = urlunparse(urlparse(args.pg_server)._replace(path="/" + name))
    failures: list[str] = []
    writes: dict[str, list[float]] = {"a": [], "b": []}
    propagation: list[float] = []
    seen_a: dict[int, float] = {}
    seen_b: dict[int, float] = {}
    agents = [str(2000 + i) for i in range(args.agents)]
    a = _replica(url, "a", agents, seen_a)
    b = _replica(url, "b", [], seen_b)
    try:
        def write(via: RouterService, other: dict[int, float], name_: str, *call_args: Any, **kw: Any) -> Any:
            assert via.cluster is not None
            started = time.perf_counter()
            result = via.call(name_, *call_args, **kw)
            writes[via.cluster.instance].append((time.perf_counter() - started) * 1000)
            seq = via.cluster.applied
            deadline = time.perf_counter() + 5
            while seq not in other and time.perf_counter() < deadline:
                time.sleep(0.0002)
            if seq in other:
                propagation.append((other[seq] - started) * 1000)
            else:
                failures.append(f"entry {seq} ({name_}) not applied by the other replica within 5 s")
            return result

        for agent in agents:
            write(a, seen_b, "sign_in", agent, ready=True, by="bench")
        for i in range(1, args.calls + 1):
            ticket = b.enqueue(CallRequest(call_id=i, queue="billing"))
            if ticket.offer is None:
                failures.append(f"call {i}: {ticket.result}, not offered at once")
                continue
            write(b, seen_a, "ringing", i)
            if not write(b, seen_a, "answered", i):
                failures.append(f"call {i}: not answered")
            write(b, seen_a, "call_ended", i)
        assert a.cluster is not None and b.cluster is not None
        a.cluster.catch_up()
        b.cluster.catch_up()
        if replica_state(a) != replica_state(b):
            failures.append("the replicas' states differ at the end")
    except Exception as exc:  # any refused write is a failure of the bench
        failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        a.stop()
        b.stop()
        _admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    load = os.getloadavg()
    note = f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    results = [summarise("cluster write (append + local apply)", "postgresql", writes["a"] + writes["b"], 10.0,
                         "p95", note),
               summarise("cluster write seen by the other replica", "postgresql", propagation, 20.0, "p95", note)]
    if args.json:
        import json

        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2), encoding="utf-8")
    return summary(results, failures)


if __name__ == "__main__":
    sys.exit(main())
