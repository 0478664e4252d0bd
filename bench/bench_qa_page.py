"""The evaluation page's data for a call with a 10-minute recording, on a centre with history.

Run: ``PYTHONPATH=. python bench/bench_qa_page.py [--calls 20000] [--opens 200]``. Exits non-zero when the p95
target (< 500 ms) is missed.

The data (SQLite, written in bulk): ``--calls`` answered calls over four weeks with their IVR trails (6 steps),
routing rows (answered, one transfer in ten) and a contact record each; a 10-minute recording (8 kHz 16-bit mono
WAV, 9.6 MB) for the calls opened; the week sampled by the ``call_quality`` scorecard into the evaluation queue.

One *open* is what the page does when qa1 picks a call: the queue (``qa_desk.queue_rows``), the call's context
(``qa_desk.call_context``: call, markers from its trail and routing, contact records and work orders written
during it) and the player's fetch of the recording's file (``recordings.recording_file``: permission, scope,
audit). Rendering in the browser is not timed here (tests/ui/test_browser_qa_staff.py opens the page in Chromium).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import wave
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import os  # noqa: E402

from helpline.data.agents import CallRoute  # noqa: E402
from helpline.data.calls import Call  # noqa: E402
from helpline.data.database import write_transaction  # noqa: E402
from helpline.metadata.kinds.scorecard import Scorecard  # noqa: E402
from helpline.security.actor import Actor  # noqa: E402
from helpline.services import qa_desk, qa_sampling, recordings  # noqa: E402
from helpline.services.agents import ensure_demo_agents  # noqa: E402
from helpline.services.platform import Platform  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--opens", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    os.environ["HELPLINE_RECORDINGS"] = str(tmp / "rec")
    (tmp / "rec" / "q").mkdir(parents=True)
    with wave.open(str(tmp / "rec" / "q" / "ten.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 8000 * 600)
    try:
        shutil.copytree(ROOT / "metadata", tmp / "metadata")
        p = Platform()
        p.start(f"sqlite:///{tmp}/bench.db", str(tmp / "metadata"))
        ensure_demo_agents()
        rng = random.Random(1)
        week0 = datetime(2026, 11, 2)
        trail = [{"node": f"n{i}", "type": "menu", "flow": "main", "at_ms": i * 3000, "duration_ms": 3000,
                  "digits": [str(i)]} for i in range(6)]
        t0 = time.perf_counter()
        contact = p.models["contact_record"]
        with write_transaction():
            calls, routes, contacts = [], [], []
            for i in range(args.calls):
                at = week0 + timedelta(seconds=rng.randrange(28 * 86400))
                agent = rng.choice(["1001", "1002", "1009"])
                calls.append({"uniqueid": f"b{i}", "agent": agent, "queue": "general", "started_at": at,
                              "ended_at": at + timedelta(minutes=11), "routed": "answered", "talk_s": 600.0,
                              "wait_s": 5.0, "call_recording": "q/ten.wav", "trail": trail, "flow": "main"})
                contacts.append({"serial_no": f"S{i:07d}", "agent": agent, "started_at": at + timedelta(minutes=1),
                                 "remarks": "bench"})
            for i in range(0, len(calls), 500):
                Call.insert_many(calls[i:i + 500]).execute()
                contact.insert_many(contacts[i:i + 500]).execute()
            ids = [c.id for c in Call.select(Call.id, Call.started_at).order_by(Call.id)]
            for cid in ids:
                routes.append({"call_id": cid, "at": week0, "kind": "answered", "agent": "1001", "reason": ""})
                if cid % 10 == 0:
                    routes.append({"call_id": cid, "at": week0, "kind": "transfer", "agent": "1002", "reason": "x"})
            for i in range(0, len(routes), 500):
                CallRoute.insert_many(routes[i:i + 500]).execute()
        card = p.metadata.objects["scorecard"]["call_quality"]
        assert isinstance(card, Scorecard)
        report = qa_sampling.sample_week(p, card, week0.date() + timedelta(days=7))
        print(f"data: {args.calls:,} calls, contact records and routes in {time.perf_counter() - t0:.1f} s; "
              f"queued {sum(report.queued.values())}, skipped {len(report.skipped)}")
        qa1 = Actor("qa1", roles=("qa",)).bind(p.metadata)
        queued = [r["call_id"] for r in qa_desk.queue_rows(qa1)]
        times = []
        for n in range(args.opens):
            call_id = queued[n % len(queued)]
            s = time.perf_counter()
            qa_desk.queue_rows(qa1)
            info = qa_desk.call_context(p, qa1, call_id)
            recordings.recording_file(qa1, call_id, platform=p)
            times.append(time.perf_counter() - s)
            assert info["markers"] and info["contacts"]
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"open the evaluation page's data ({args.opens} opens): p50 {statistics.median(times) * 1000:.1f} ms, "
              f"p95 {p95 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms (target p95 < 500 ms)")
        return 0 if p95 < 0.5 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
