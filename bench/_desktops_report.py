"""The figures of ``bench/bench_desktops.py``: percentiles, router decision → screen-pop latencies, garbage
collections, the results of several servers merged, the printed report and what missed its target."""

from __future__ import annotations

from collections import Counter
from typing import Any

from _desktop_client import Desktop


def pct(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"n": len(values_ms), "p50": pct(values_ms, 50), "p95": pct(values_ms, 95), "p99": pct(values_ms, 99),
            "max": max(values_ms) if values_ms else float("nan"),
            "mean": sum(values_ms) / len(values_ms) if values_ms else float("nan")}


def pop_latencies(results: dict[str, Any], by_agent: dict[str, Desktop]) -> dict[str, Any]:
    offers, shown, sent = results["offers"], results["shown"], results["sent"]
    built, emitting, loads = results["built"], results["emitting"], results.get("loads", {})
    load_start_ms, load_end_ms, rendered_ms, built_ms, emitting_ms, sent_ms, received_ms = [], [], [], [], [], [], []
    missing_sent = missing_received = 0
    for call_id, (offer_at, agent) in offers.items():
        if call_id not in shown:
            continue
        shown_at, serial, _ = shown[call_id]
        if call_id in loads:
            load_start_ms.append((loads[call_id][0] - offer_at) * 1000)
            load_end_ms.append((loads[call_id][1] - offer_at) * 1000)
        rendered_ms.append((shown_at - offer_at) * 1000)
        if call_id in built:
            built_ms.append((built[call_id] - offer_at) * 1000)
        if call_id in emitting:
            emitting_ms.append((emitting[call_id] - offer_at) * 1000)
        if call_id in sent:
            sent_ms.append((sent[call_id] - offer_at) * 1000)
        else:
            missing_sent += 1
        desktop = by_agent.get(agent)
        got = desktop.serials.get(serial) if desktop is not None else None
        if got is not None:
            received_ms.append((got - offer_at) * 1000)
        else:
            missing_received += 1
    return {"offers": len(offers), "pops_rendered": len(rendered_ms), "pops_without_sent": missing_sent,
            "load_steps": load_steps(list(loads.values())),
            "pops_not_received": missing_received,
            "load_start": summary(load_start_ms), "load_end": summary(load_end_ms), "rendered": summary(rendered_ms),
            "built": summary(built_ms),
            "emitting": summary(emitting_ms), "sent": summary(sent_ms), "received": summary(received_ms)}


def load_steps(loads: list[list[float]]) -> dict[str, Any]:
    """What the pops' data loads spent (``_desktops_probes.count_statements``): statements and pool checkouts per
    load, ms in the statements (round trips, with the wait for the GIL after each), waiting for a connection, on
    the CPU, and the rest (waiting for the GIL between statements, locks)."""
    full = [x for x in loads if len(x) >= 7]
    if not full:
        return {}
    return {"statements": summary([float(x[2]) for x in full]), "checkouts": summary([float(x[4]) for x in full]),
            "sql": summary([x[3] * 1000 for x in full]), "checkout_wait": summary([x[5] * 1000 for x in full]),
            "cpu": summary([x[6] * 1000 for x in full]),
            "rest": summary([((x[1] - x[0]) - x[3] - x[5] - x[6]) * 1000 for x in full])}


def gc_figures(samples: list[list[float]], start: float, end: float) -> dict[str, Any]:
    """Collections per minute by generation, full-collection pauses, and the share of time collecting."""
    inside = [(int(gen), ms) for at, gen, ms in samples if start <= at <= end]
    minutes = max(1e-9, end - start) / 60
    return {"per_minute": [sum(1 for gen, _ in inside if gen == g) / minutes for g in (0, 1, 2)],
            "gen2": summary([ms for gen, ms in inside if gen == 2]),
            "paused_pct": sum(ms for _, ms in inside) / 1000 / max(1e-9, end - start) * 100}


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The servers' results as one: a call's offer at the earliest server that learnt it, its pop where shown."""
    out: dict[str, Any] = {"offers": {}, "gc_ms": [], "lag_ms": [], "placed": 0, "cpu_s": [r["cpu_s"] for r in results]}
    for key in ("shown", "sent", "built", "loads", "emitting"):
        out[key] = {}
    for key in ("outcomes", "messages", "scripts", "stalls"):
        out[key] = Counter()
    for r in results:
        for call_id, (at, agent) in r["offers"].items():
            if call_id not in out["offers"] or at < out["offers"][call_id][0]:
                out["offers"][call_id] = (at, agent)
        for key in ("shown", "sent", "built", "loads", "emitting"):
            for call_id, value in r[key].items():
                out[key].setdefault(call_id, value)
        for key in ("outcomes", "messages", "scripts", "stalls"):
            out[key].update(r[key])
        out["gc_ms"] += r["gc_ms"]
        out["lag_ms"] += r["lag_ms"]
        out["placed"] += r["placed"]
    return out


def show(report: dict[str, Any]) -> None:
    mem, pop = report["memory"], report["pop"]
    ok = "ok" if mem["per_desktop_kb"] < 1024 else "MISSED"
    print(f"\n{report['desktops']} desktops, {report['seconds']:.0f} s of calls at {report['rate']:g}/s "
          f"(talk {report['talk_s'][0]:g}–{report['talk_s'][1]:g} s, wrap-up {report['wrap_up_s']:g} s), "
          f"{report['cpus']} cores")
    print(f"server RSS: started {report['rss_server_started_mb']:.1f} MB, "
          f"warm-up desktop {mem['rss_before_mb']:.1f} MB, "
          f"{report['desktops']} desktops {mem['rss_after_connect_mb']:.1f} MB, after the calls "
          f"{mem['rss_after_calls_mb']:.1f} MB")
    print(f"memory per desktop: {mem['per_desktop_kb']:.0f} KB connected (target < 1 MB: {ok}), "
          f"{mem['per_desktop_after_calls_kb']:.0f} KB after the calls "
          f"({'ok' if mem['per_desktop_after_calls_kb'] < 1024 else 'MISSED'}); {mem['elements_per_desktop']:.0f} → "
          f"{mem['elements_per_desktop_after_calls']:.0f} elements per desktop")
    print(f"objects tracked by the garbage collector: {mem['gc_objects_before']:,} → "
          f"{mem['gc_objects_after_connect']:,} "
          f"→ {mem['gc_objects_after_calls']:,}; a full collection takes {mem['full_gc_ms_before']:.0f} → "
          f"{mem['full_gc_ms_after_connect']:.0f} → {mem['full_gc_ms_after_calls']:.0f} ms")
    if report.get("gc_tuning"):
        tuning = report["gc_tuning"]
        print(f"gc tuning: {mem['gc_frozen_after_calls']:,} objects frozen after the calls; {tuning['freezes']:.0f} "
              f"freezes, {tuning['thaws']:.0f} thaws")
    print(f"connecting: {report['connect']['seconds']:.1f} s for all, one desktop p50 "
          f"{report['connect']['open_ms']['p50']:.0f} ms / p95 {report['connect']['open_ms']['p95']:.0f} ms")
    print(f"calls: {report['calls']['placed']} placed, outcomes {report['calls']['outcomes']}; offers {pop['offers']}, "
          f"pops rendered {pop['pops_rendered']} (not sent {pop['pops_without_sent']}, "
          f"not received {pop['pops_not_received']})")
    print(f"{'router decision → screen-pop, ms':<44} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for key, label in (("load_start", "pop data load starts on a worker thread"),
                       ("load_end", "pop data loaded"),
                       ("rendered", "strip rendered (pop loaded, strip built)"),
                       ("built", "whole pop built (strip and call tab)"),
                       ("emitting", "outbox starts emitting the update"),
                       ("sent", "sent: update handed to the socket"),
                       ("received", "received by the simulated browser (bound)")):
        s = pop[key]
        mark = ("  p95 < 200 ms " + ("ok" if s["p95"] < 200 else "MISSED")) if key == "sent" else ""
        print(f"{label:<44} {s['n']:>6} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f}{mark}")
    steps = pop.get("load_steps") or {}
    if steps:
        pair = {k: f"{v['p50']:.1f} / {v['p95']:.1f}" for k, v in steps.items()}
        print(f"pop data load: {steps['statements']['mean']:.1f} statements (max {steps['statements']['max']:.0f}), "
              f"{steps['checkouts']['mean']:.1f} pool checkouts per load; ms p50 / p95: in the statements "
              f"{pair['sql']}, waiting for a connection {pair['checkout_wait']}, CPU {pair['cpu']}, the rest (GIL, "
              f"locks) {pair['rest']}")
    lag = report["loop_lag_ms"]["calls"]
    msgs = report["messages_per_desktop_s_during_calls"]
    for name, figures in report["gc"].items():
        full = figures["gen2"]
        print(f"garbage collections {'while idle' if name == 'idle' else 'during the calls'}: "
              f"{figures['per_minute'][0]:.0f} / {figures['per_minute'][1]:.0f} / {figures['per_minute'][2]:.1f} a "
              f"minute (generation 0 / 1 / 2); a full one pauses the process {full['p50']:.0f} ms median, "
              f"{full['max']:.0f} ms max; {figures['paused_pct']:.1f} % of the time in collections")
    print(f"server CPU: idle {report['server_cpu_pct_idle']:.0f} %, during the calls "
          f"{report['server_cpu_pct_during_calls']:.0f} % of one core (this process "
          f"{report['client_cpu_pct_during_calls']:.0f} %); event-loop lag "
          f"p50 {lag['p50']:.1f} / p95 {lag['p95']:.1f} / max {lag['max']:.0f} ms")
    print(f"messages per desktop per second: idle {report['idle_messages_per_desktop_s']:.2f}, during the calls "
          f"{msgs['sent_by_server']:.2f} sent / {msgs['received']:.2f} received")
    for phase, counts in report["sockets"].items():
        print(f"sockets dropped {'while connecting and idle' if phase != 'calls' else 'during the calls'}: "
              f"{counts['disconnects']} (resumed {counts['reconnects']}, page reloaded {counts['reloads']}, "
              f"lost {counts['failures']})")
    print(f"contact records filed by the agents: {report['contact_records_filed']}")
    if report.get("stalls"):
        print("event loop stalled (samples of 10 ms, innermost project / NiceGUI frames first):")
        for where, n in report["stalls"].items():
            print(f"{n:>6}  {where}")


def failures(report: dict[str, Any]) -> list[str]:
    """What went wrong or missed its target (the exit status is 1 on any)."""
    mem, pop = report["memory"], report["pop"]
    found = [f"memory per desktop {mem[key]:.0f} KB {when} (target < 1 MB)"
             for key, when in (("per_desktop_kb", "connected"), ("per_desktop_after_calls_kb", "after the calls"))
             if mem.get(key, 0) >= 1024]
    if not pop["sent"]["n"] or pop["sent"]["p95"] >= 200:
        found.append(f"screen-pop sent p95 {pop['sent']['p95']:.0f} ms over {pop['sent']['n']} pops (target < 200 ms)")
    if pop["pops_without_sent"] or pop["pops_not_received"]:
        found.append(f"pops not sent {pop['pops_without_sent']}, not received {pop['pops_not_received']}")
    if report["connect"].get("failed"):
        found.append(f"{report['connect']['failed']} desktop(s) could not open (three tries)")
    lost = sum(counts["failures"] for counts in report["sockets"].values())
    if lost:
        found.append(f"{lost} desktop(s) lost their socket for good")
    errors = {k: v for k, v in report["calls"]["outcomes"].items() if k.startswith("error")}
    if errors:
        found.append(f"calls failed: {errors}")
    return found
