"""Designer responsiveness: how long an edit takes to be saved as a draft and checked, and how long a
publish takes until the runtime uses it.

Run: ``PYTHONPATH=. python bench/bench_designers.py [--edits 50] [--db URL] [--json FILE]``.

On the demo metadata (5 entities, 24 category trees, 15 screens, 2 IVR flows with their rules, roles,
menus, routing) with a history of ``--history`` earlier revisions of the edited object:

- *edit → problems*: one designer edit as the frame does it — save the draft, check the whole set with the
  author's drafts applied, place the problems on their values (``DraftService.save`` + ``problems_of``);
  three objects of different weight (a menu, the customer entity, the main IVR flow); target p95 < 100 ms.
- *publish → live*: ``DraftService.publish`` of a label change until ``platform.metadata`` has it (checks,
  revision, audit, rebuild of models and compiled rules, listeners); target p95 < 500 ms. And publishing a
  new customer field (adds the column: migration included).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpline.security.actor import Actor  # noqa: E402
from helpline.services.designer.drafts import DraftService  # noqa: E402
from helpline.services.platform import Platform  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def touch(kind: str, data: dict[str, Any], i: int) -> None:
    """One small edit of the object (a label), as a designer form makes it."""
    if kind == "entity":
        data["fields"][1]["label"]["en"] = f"Name {i}"
    elif kind == "ivr":
        data["label"] = {"en": f"Main line {i}"}
    else:
        data["label"]["en"] = f"Main menu {i}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--history", type=int, default=100, help="earlier revisions of the edited menu")
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    platform = Platform()
    platform.start(url, str(ROOT / "metadata"))
    service = DraftService(platform)
    actor = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    for i in range(args.history):  # a centre that has been customised for a while
        current = platform.store.current("menu", "main")
        assert current is not None and isinstance(current.content, dict)
        data = copy.deepcopy(current.content)
        touch("menu", data, i)
        platform.store.save("menu", "main", data, author="bench", comment="history")
    figures: dict[str, Any] = {"db": url.split(":")[0], "history": args.history}
    for kind, name in (("menu", "main"), ("entity", "customer"), ("ivr", "main")):
        opened = service.open(actor, kind, name)
        assert opened.data is not None
        data = copy.deepcopy(opened.data)
        times: list[float] = []
        for i in range(args.edits):
            touch(kind, data, i)
            started = time.perf_counter()
            service.save(actor, kind, name, data, opened.base_revision, check=False)
            index, _ = service.problems_of(actor, kind, name)
            times.append(time.perf_counter() - started)
            assert not len(index), [p.format() for _, p in index.items]
        service.discard(actor)
        figures[f"edit_{kind}"] = {"p50_ms": round(pct(times, 0.5), 1), "p95_ms": round(pct(times, 0.95), 1)}
    publish: list[float] = []
    for i in range(args.publishes):
        opened = service.open(actor, "menu", "main")
        assert opened.data is not None
        data = copy.deepcopy(opened.data)
        data["label"]["en"] = f"Published {i}"
        service.save(actor, "menu", "main", data, opened.base_revision, check=False)
        started = time.perf_counter()
        service.publish(actor, f"bench {i}")
        assert platform.metadata.menus["main"].label.en == f"Published {i}"
        publish.append(time.perf_counter() - started)
    figures["publish_menu"] = {"p50_ms": round(pct(publish, 0.5), 1), "p95_ms": round(pct(publish, 0.95), 1),
                               "mean_ms": round(statistics.mean(publish) * 1000, 1)}
    opened = service.open(actor, "entity", "customer")
    assert opened.data is not None
    data = copy.deepcopy(opened.data)
    data["fields"].append({"name": "set_top_boxes", "type": "int", "label": {"en": "Set-top boxes"}})
    service.save(actor, "entity", "customer", data, opened.base_revision, check=False)
    started = time.perf_counter()
    service.publish(actor, "new field")
    figures["publish_new_field_ms"] = round((time.perf_counter() - started) * 1000, 1)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
