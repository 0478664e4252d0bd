"""Timing and reporting helpers of the benchmarks: percentiles, results against targets, the machine, and
the figures tables printed by ``bench_foundation.py``."""

from __future__ import annotations

import logging
import os
import platform as pyplatform
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("bench")


def finish(figures: dict[str, Any], failures: list[str], json_path: str | None) -> int:
    """Print the figures with the failures (and write them to ``json_path``); the exit status: 1 on any failure."""
    import json

    figures["failures"] = failures
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if json_path:
        Path(json_path).write_text(text, encoding="utf-8")
    return 1 if failures else 0


def summary(results: list[Result], failures: list[str], shown: int = 20) -> int:
    """Print every figure, the first ``shown`` failures and the counts; the exit status: 1 on a missed target
    or any failure."""
    print(table(results))
    missed = [r for r in results if r.verdict == "MISSED"]
    for f in failures[:shown]:
        print("FAILURE:", f)
    print(f"\n{len(results)} figures, {len(missed)} missed target(s), {len(failures)} failure(s)")
    return 1 if missed or failures else 0


def p95(times: list[float]) -> float:
    """The 95th percentile of ``times`` (the nearest lower rank; unsorted input is fine)."""
    ordered = sorted(times)
    return ordered[int(0.95 * (len(ordered) - 1))]


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass
class Result:
    bench: str
    database: str
    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    target_ms: float | None
    target_pct: str | None  # which percentile the target applies to: "p50", "p95", "p99"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.target_ms is None or self.target_pct is None:
            return ""
        return "ok" if getattr(self, self.target_pct) < self.target_ms else "MISSED"

    @property
    def target_text(self) -> str:
        if self.target_ms is None:
            return "-"
        return f"{self.target_pct} < {self.target_ms:g} ms"


def summarise(bench: str, database: str, samples_ms: list[float], target_ms: float | None, target_pct: str | None,
              note: str = "", **extra: Any) -> Result:
    s = sorted(samples_ms)
    return Result(bench, database, len(s), percentile(s, 50), percentile(s, 95), percentile(s, 99),
                  sum(s) / len(s), s[-1], target_ms, target_pct, note, extra)


def run_timed(fn: Callable[[Any], Any], inputs: Iterator[Any], *, warmup: int, reps: int, min_reps: int,
              budget_s: float) -> list[float]:
    """Call ``fn`` on ``warmup`` inputs untimed, then time up to ``reps`` calls (stopping after ``budget_s``
    seconds once ``min_reps`` are done). Milliseconds."""
    for _ in range(warmup):
        fn(next(inputs))
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    clock = time.perf_counter_ns
    while len(samples) < reps:
        arg = next(inputs)
        t0 = clock()
        fn(arg)
        samples.append((clock() - t0) / 1e6)
        if len(samples) >= min_reps and time.perf_counter() > deadline:
            break
    return samples


def cycle(items: list[Any]) -> Iterator[Any]:
    while True:
        yield from items


# -- machine -------------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import peewee

    return {
        "cores": os.cpu_count(),
        "cpu": cpu or pyplatform.processor(),
        "memory_gb": mem_gb,
        "os": f"{pyplatform.system()} {pyplatform.release()}",
        "python": pyplatform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "peewee": getattr(peewee, "__version__", "?"),
        "postgresql": None,
        "load_average_start": _loadavg(),
    }


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# -- 1. metadata load ----------------------------------------------------------------------------


def fmt_ms(v: float) -> str:
    if v != v:
        return "-"
    return f"{v:.3f}" if v < 1 else (f"{v:.2f}" if v < 100 else f"{v:.0f}")


def table(results: list[Result]) -> str:
    head = ["benchmark", "db", "n", "p50 ms", "p95 ms", "p99 ms", "target", "", "notes"]
    rows = [[r.bench, r.database, str(r.n), fmt_ms(r.p50), fmt_ms(r.p95), fmt_ms(r.p99), r.target_text, r.verdict,
             r.note] for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    right = {2, 3, 4, 5}

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), sep, *(line(r) for r in rows)])


def machine_text(m: dict[str, Any], dbinfo: dict[str, dict[str, Any]]) -> str:
    parts = [f"{m['cores']} cores ({m['cpu']})", f"{m['memory_gb']} GB RAM", m["os"], f"Python {m['python']}",
             f"SQLite {m['sqlite']}", f"peewee {m['peewee']}"]
    if m.get("postgresql"):
        settings = m.get("postgresql_settings")
        parts.append(f"PostgreSQL {m['postgresql']}" + (
            " (" + ", ".join(f"{k}={v}" for k, v in settings.items()) + ")" if settings else ""))
    lines = ["Machine: " + ", ".join(parts),
             f"Load average (1/5/15 min) at start {m.get('load_average_start')}, at end {m.get('load_average_end')}"
             " (other jobs share the machine)"]
    for label, info in dbinfo.items():
        bits = [f"{info['customers']:,} customers"]
        if "generate_s" in info:
            bits.append(f"generated in {info['generate_s']:.0f} s")
        else:
            bits.append("reused")
        if "file_mb" in info:
            bits.append(f"file {info['file_mb']} MB")
        if "table_mb" in info:
            bits.append(f"table+indexes {info['table_mb']} MB")
        lines.append(f"{label}: " + ", ".join(bits))
    return "\n".join(lines)


def explain_text(results: list[Result]) -> str:
    out = []
    for r in results:
        plans = r.extra.get("explain")
        if not plans:
            continue
        out.append(f"\n## {r.bench} [{r.database}] p95 {fmt_ms(r.p95)} ms")
        for st in plans:
            sql = st["sql"] if len(st["sql"]) < 600 else st["sql"][:600] + " ..."
            out.append(f"-- {st['ms']} ms: {sql}\n   params {st['params'][:12]}")
            out.extend("   " + p for p in st["plan"])
    return "\n".join(out)


# -- main ----------------------------------------------------------------------------------------
