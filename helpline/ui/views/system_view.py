"""The system page (``/page/system``, permission ``system.monitor``): this instance's CPU, memory, disks,
event-loop lag, FastAGI sessions, browser pages and desktops connected, its role in the leader election and
the leader, the router's queues and agents, the database's size and connections, the scheduled jobs and the
tail of the error log; refreshed every 5 s.
The figures come from ``telephony.monitoring.instance_figures`` (read in a worker thread)."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from telephony.monitoring import instance_figures

from ..i18n import t
from ..ops_routes import desktops
from .base import ViewContext

REFRESH_S = 5.0


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1024 / 1024:,.1f} MB"


def _when(value: Any) -> str:
    return value.isoformat(sep=" ", timespec="seconds") + " UTC" if value is not None else "—"


def _lines(figures: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Section → (label, value) rows."""
    host, database, agi, router = figures["host"], figures["database"], figures["agi"], figures["router"]
    lag = figures["loop_lag"] or {}
    pages = desktops()
    load = " / ".join(f"{x:.2f}" for x in host["load"])
    sections: dict[str, list[tuple[str, str]]] = {
        "host": [
            (t("system.cpu"), f"{host['cpu_percent']} % · {t('system.load')} " + load
             + f" · {host['cores']} {t('system.cores')}"),
            (t("system.memory"), f"{_mb(host['rss'])} · {t('system.available')} {_mb(host['memory_available'])} "
                                 f"/ {_mb(host['memory_total'])}"),
            *((t("system.disk", name=t(f"system.disk_name.{name}")),
               f"{_mb(d['free'])} {t('system.free')} / {_mb(d['total'])} · {d['path']}")
              for name, d in host["disks"].items()),
            (t("system.loop_lag"), f"{1000 * lag.get('last_s', 0):.1f} ms · {t('system.max_1m')} "
                                   f"{1000 * lag.get('max_1m_s', 0):.1f} ms"),
            (t("system.clients"), f"{pages['clients']} · {t('system.desktops')} {pages['desktops']}"),
        ],
        "agi": [(t("system.not_running"), "")] if agi is None else [
            (t("system.agi_sessions"), f"{agi['in_progress']} / {agi['limit']}"),
            (t("system.agi_totals"), t("system.agi_counts", completed=agi["completed"], refused=agi["refused"],
                                       failed=agi["failed"])),
        ],
        "database": [
            (t("system.db_kind"), database["kind"]),
            (t("system.db_size"), _mb(database["size"])),
            (t("system.db_pool"), f"{database['pool_in_use']} / {database['pool_open']} ({database['pool_max']})"),
            *([(t("system.db_server_connections"), str(database["server_connections"]))]
              if database["server_connections"] is not None else []),
        ],
    }
    sections["cluster"] = _cluster(figures.get("leader"))
    if router is None:
        sections["router"] = [(t("system.not_running"), "")]
    else:
        sections["router"] = [(t("system.policy"), router["policy"]),
                              (t("system.agents"), ", ".join(f"{t(f'supervisor.status.{s}')} {n}"
                                                             for s, n in sorted(router["agents"].items()))
                               or "—")]
    return sections


def _cluster(leader: dict[str, Any] | None) -> list[tuple[str, str]]:
    """This instance's role and the leader's identity (``helpline.services.leader``)."""
    if leader is None:
        return [(t("system.not_running"), "")]
    who = leader["leader"]
    return [
        (t("system.role"), f"{leader['instance']} · {t('system.role.' + leader['role'])}"),
        (t("system.leader"), t("system.leader_none") if who is None else
         f"{who['instance']} · {who['host']} · {t('system.leader_pid')} {who['pid']} · {t('system.leader_since')} "
         + (who["since"].replace("T", " ")[:19] + " UTC" if who["since"] else "—")),
    ]


def system_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission("system.monitor")
    ui.label(t("system.title")).classes("text-h6")
    boxes: dict[str, Any] = {}
    with ui.row().classes("w-full gap-4 items-start"):
        for section in ("host", "agi", "database", "cluster", "router"):
            with ui.card().classes("min-w-[18rem]").mark(f"system-{section}"):
                ui.label(t(f"system.section.{section}")).classes("text-subtitle2")
                boxes[section] = ui.column().classes("gap-0")
    ui.label(t("system.queues")).classes("text-subtitle2 q-mt-md")
    queues = ui.table(columns=[{"name": k, "field": k, "label": t(f"system.col.{k}"), "align": "left"}
                               for k in ("queue", "waiting", "longest", "ready", "signed_in")],
                      rows=[], row_key="queue").classes("w-full").props("flat dense bordered").mark("system-queues")
    ui.label(t("system.jobs")).classes("text-subtitle2 q-mt-md")
    jobs = ui.table(columns=[{"name": k, "field": k, "label": t(f"system.col.{k}"), "align": "left"}
                             for k in ("job", "next", "last", "status")],
                    rows=[], row_key="job").classes("w-full").props("flat dense bordered").mark("system-jobs")
    errors_label = ui.label(t("system.errors", total=0)).classes("text-subtitle2 q-mt-md")
    errors = ui.table(columns=[{"name": k, "field": k, "label": t(f"system.col.{k}"), "align": "left"}
                               for k in ("at", "logger", "message")],
                      rows=[], row_key="key").classes("w-full").props("flat dense bordered wrap-cells") \
        .mark("system-errors")

    async def load() -> None:
        figures = await run.io_bound(instance_figures, ctx.platform)
        if figures is None:  # the client went away
            return
        for section, rows in _lines(figures).items():
            boxes[section].clear()
            with boxes[section]:
                for label, value in rows:
                    ui.label(f"{label}: {value}" if value else label).mark(f"system-{section}-line")
        router = figures["router"] or {"queues": {}, "waiting": {}}
        queues.rows = [{"queue": name, "waiting": q["waiting"], "longest": f"{q['longest_wait_s']:.0f} s",
                        "ready": q["ready_agents"], "signed_in": q["signed_in"]}
                       for name, q in sorted(router["queues"].items())]
        queues.update()
        jobs.rows = [{"job": j.name, "next": _when(j.next_run), "last": _when(j.last_started),
                      "status": j.last_status or "—"} for j in figures["jobs"] or []]
        jobs.update()
        errors_label.text = t("system.errors", total=figures["errors_total"])
        errors.rows = [{"key": i, "at": _when(e.at), "logger": e.logger,
                        "message": e.message + (f"\n{e.exception.splitlines()[-1]}" if e.exception else "")}
                       for i, e in enumerate(figures["errors"])]
        errors.update()

    ui.timer(0, load, once=True)
    ui.timer(REFRESH_S, load)
