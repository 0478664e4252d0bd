"""The wallboard of the supervisor console: every agent (status, state, time in state, current call and
the caller's tier, with the supervisor's actions), every queue (waiting callers, longest wait, ready
agents), every tier (service level against its target over the last 15 and 60 minutes, as big numbers,
a table and a chart) and the alerts (not ready over the limit, no answer, disconnected, tier behind its
target), newest first.

Live and pushed: the board subscribes to the router, whose events arrive on the router's thread; the
callback there only marks the board dirty and queues alerts (:class:`Feed`). One timer per client
(every 0.5 s) takes a new snapshot from the router's memory when something changed (and every 10 s, as
the sliding windows move), redraws only what changed and lets the times tick in between. Nothing polls
the database.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nicegui import ui

from helpline.security.actor import Actor, PermissionDenied
from telephony.router.core import Router
from telephony.router.events import AgentAlert, RouterEvent, TierAlert
from telephony.workforce.plan import adherence_now

from ..i18n import label, t
from .base import ViewContext
from .supervisor_actions import AgentActions

REFRESH_S = 0.5
"""How often the board looks for changes (one timer per client)."""
FULL_REFRESH_S = 10.0
"""A new snapshot at least this often: service-level windows slide even when nothing happens."""
MAX_ALERTS = 100
WINDOWS = ("15m", "60m")
ON_A_CALL = frozenset({"reserved", "ringing", "talking", "hold"})
ROUTER_REASONS = ("sign_in", "disconnected", "restored")
"""Not-ready reasons the router sets itself (not in the ``not_ready_reason`` tree; worded in ``desk.reason.*``)."""


@dataclass(frozen=True)
class Alert:
    at: datetime
    kind: str
    """``no_answer``, ``not_ready_over_limit``, ``disconnected``, ``tier_behind`` or ``tier_caught_up``."""
    subject: str
    """The agent number or the tier."""
    detail: str
    """Figures only (a call number, rates), the same in every language."""
    severity: str
    """A Quasar colour: ``negative``, ``warning`` or ``positive``."""


def alert_of(event: RouterEvent) -> Alert | None:
    """The alert a router event raises for the supervisor, if any."""
    now = datetime.now()
    if isinstance(event, AgentAlert):
        severity = "warning" if event.kind == "not_ready_over_limit" else "negative"
        # the router's message is a log line in English; the alert's own words are translated
        return Alert(now, event.kind, event.agent_id, f"#{event.call_id}" if event.call_id is not None else "",
                     severity)
    if isinstance(event, TierAlert):
        detail = f"{percent(event.service_level)} / {percent(event.target)}"
        if event.behind:
            return Alert(now, "tier_behind", event.tier, detail, "negative")
        return Alert(now, "tier_caught_up", event.tier, detail, "positive")
    return None


class Feed:
    """Router events → a dirty flag and pending alerts, for one client. Called on the router's thread:
    it only records and returns; once ``alive()`` is false it unsubscribes itself."""

    def __init__(self, alive: Callable[[], bool]) -> None:
        self.alive = alive
        self.unsubscribe: Callable[[], None] = lambda: None
        self._lock = threading.Lock()
        self._dirty = True
        self._alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)

    def __call__(self, event: RouterEvent) -> None:
        if not self.alive():
            self.unsubscribe()
            return
        alert = alert_of(event)
        with self._lock:
            self._dirty = True
            if alert is not None:
                self._alerts.append(alert)

    def take(self) -> tuple[bool, list[Alert]]:
        """Whether anything changed since the last call, and the alerts that arrived (oldest first)."""
        with self._lock:
            dirty, alerts = self._dirty, list(self._alerts)
            self._dirty = False
            self._alerts.clear()
        return dirty, alerts


def board_snapshot(desk: Any, actor: Actor) -> dict[str, Any]:
    """The router's snapshot (permission ``supervisor``, checked by the desk service) with each agent's
    current call's tier and caller number added, agents by number, tiers in the strategy's order."""
    snapshot: dict[str, Any] = desk.wallboard(actor)
    call_ids = {a["call_id"] for a in snapshot["agents"] if a.get("call_id") is not None}

    def calls(r: Router) -> dict[int, tuple[str, str]]:
        found = {}
        for call_id in call_ids:
            call = r.waiting.get(call_id) or r.active.get(call_id)
            if call is not None:
                found[call_id] = (call.tier, call.request.caller_number)
        return found

    details = desk.router.do(calls) if call_ids else {}
    declared = {name: i for i, name in enumerate(desk.router.do(lambda r: r.policy.tiers()))}
    snapshot["tiers"] = dict(sorted(snapshot["tiers"].items(), key=lambda kv: (declared.get(kv[0], len(declared)),
                                                                               kv[0])))
    for agent in snapshot["agents"]:
        agent["tier"], agent["caller"] = details.get(agent.get("call_id"), (None, ""))
    snapshot["agents"].sort(key=lambda a: str(a["id"]))
    return snapshot


def clock(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    if seconds is None:
        return "—"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


STATUS_COLOURS = {"ready": "positive", "not_ready": "negative", "study": "info", "logged_out": "grey"}
STATE_COLOURS = {"talking": "primary", "hold": "orange", "ringing": "amber", "reserved": "amber",
                 "wrap_up": "purple", "idle": "grey-6"}


class AgentRow:
    """One agent's line; updated in place (only changed texts reach the browser)."""

    def __init__(self, board: Wallboard, number: str) -> None:
        self.number = number
        self.base: dict[str, Any] = {}
        with ui.row().classes("w-full items-center no-wrap gap-2 hl-sv-agent").mark(f"agent-row-{number}") as row:
            self.row = row
            self.id = ui.label(number).classes("w-16 text-weight-bold")
            self.name = ui.label("").classes("w-28 ellipsis")
            # wide enough for "Not ready · <reason>" in English; a longer reason wraps inside the chip
            self.status = ui.badge("").classes("w-48 text-body2 hl-sv-status").props("multi-line") \
                .mark(f"agent-status-{number}")
            self.state = ui.badge("").classes("w-24 text-body2").mark(f"agent-state-{number}")
            self.time = ui.label("").classes("w-20 font-mono text-h6").mark(f"agent-time-{number}")
            self.call = ui.label("").classes("w-36").mark(f"agent-call-{number}")
            self.tier = ui.label("").classes("w-20").mark(f"agent-tier-{number}")
            self.answered = ui.label("").classes("w-12 text-right")
            with ui.row().classes("gap-0 no-wrap hl-sv-actions"):
                self.buttons = board.actions.buttons(number)

    def update(self, agent: dict[str, Any], reasons: dict[str, str], tiers: dict[str, str]) -> None:
        self.base = agent
        status, state = str(agent["status"]), str(agent["state"])
        self.name.text = str(agent.get("name") or "")
        reason = agent.get("reason")
        self.status.text = t(f"supervisor.status.{status}") + (
            f" · {reasons.get(reason, reason)}" if reason and status == "not_ready" else "")
        self.status.props(f"color={STATUS_COLOURS.get(status, 'grey')}")
        self.state.text = t(f"supervisor.state.{state}")
        self.state.props(f"color={STATE_COLOURS.get(state, 'grey-6')}")
        call_id = agent.get("call_id")
        self.call.text = f"#{call_id} {agent.get('caller') or ''}".strip() if call_id is not None else ""
        tier = agent.get("tier")
        self.tier.text = tiers.get(tier, tier) if tier else ""
        self.answered.text = str(agent.get("calls_answered", 0))
        AgentActions.show_for(self.buttons, agent)

    def tick(self, elapsed: float) -> None:
        if self.base:
            self.time.text = clock(float(self.base.get("in_state_s") or 0.0) + elapsed)


class Wallboard:
    """The live board of one supervisor's page (see the module docstring)."""

    def __init__(self, ctx: ViewContext) -> None:
        self.ctx = ctx
        self.desk = ctx.platform.desk
        self.actions = AgentActions(ctx)
        self.rows: dict[str, AgentRow] = {}
        self.snapshot: dict[str, Any] = {}
        self.fetched = 0.0
        metadata = ctx.platform.metadata
        # the metadata's reasons and the router's own (just signed in, disconnected, restored) as the desk words them
        self.reasons = {**{code: t(f"desk.reason.{code}") for code in ROUTER_REASONS},
                        **self._codes(metadata.categories.get("not_ready_reason"))}
        self.tier_labels = self._codes(metadata.categories.get("value_tier"))
        self.queue_labels = {q.name: label(q.label, q.name) for r in metadata.objects.get("routing", {}).values()
                             for q in getattr(r, "queues", [])}
        self.build()
        self.feed = Feed(alive=lambda: not self.root.is_deleted)
        assert ctx.platform.router is not None, "the console shows the wallboard only where telephony runs"
        self.feed.unsubscribe = ctx.platform.router.subscribe(self.feed)
        ui.context.client.on_delete(self.feed.unsubscribe)
        self.timer = ui.timer(REFRESH_S, self.tick)
        self.tick()

    @staticmethod
    def _codes(tree: Any) -> dict[str, str]:
        return {n.code: label(n.label, n.code) for n in tree.nodes} if tree is not None else {}

    # ------------------------------------------------------------------------------------ layout
    def build(self) -> None:
        with ui.column().classes("w-full gap-3 hl-sv-board") as self.root:
            with ui.row().classes("w-full gap-3"):
                self.kpis = {key: self._kpi(key) for key in ("waiting", "longest_wait", "ready", "talking",
                                                             "not_ready", "signed_in", "adherence")}
            self.tier_tiles = ui.row().classes("w-full gap-3").mark("tier-tiles")
            with ui.row().classes("w-full gap-4 items-start"):
                with ui.card().classes("overflow-auto").style("flex: 1 1 36rem").props("flat bordered"):
                    ui.label(t("supervisor.agents")).classes("text-h6")
                    self._agent_header()
                    self.agent_rows = ui.column().classes("w-full gap-1").mark("agent-rows")
                with ui.column().classes("w-[30rem] gap-3"):
                    with ui.card().classes("w-full").props("flat bordered"):
                        ui.label(t("supervisor.queues")).classes("text-h6")
                        self.queues = ui.table(columns=self._columns("queue", "waiting", "longest_wait", "ready",
                                                                     "signed_in"), rows=[], row_key="queue") \
                            .classes("w-full").props("flat dense hide-bottom").mark("queues")
                    with ui.card().classes("w-full").props("flat bordered"):
                        ui.label(t("supervisor.alerts")).classes("text-h6")
                        self.no_alerts = ui.label(t("supervisor.no_alerts")).classes("text-grey-7")
                        self.alerts = ui.column().classes("w-full gap-1").mark("alerts")
                    self.actions.recording_box()
            with ui.row().classes("w-full gap-4 items-start"):
                with ui.card().classes("overflow-auto").style("flex: 1 1 36rem").props("flat bordered"):
                    ui.label(t("supervisor.service_levels")).classes("text-h6")
                    self.tiers = ui.table(columns=self._columns(
                        "tier", "target", "sl_15m", "sl_60m", "offered_15m", "answered_15m", "abandoned_15m",
                        "asa_15m"), rows=[], row_key="tier").classes("w-full").props("flat dense hide-bottom") \
                        .mark("tiers")
                with ui.card().classes("w-[30rem]").props("flat bordered"):
                    self.chart = ui.echart(self._chart_options([], [], [], [])).classes("w-full h-72") \
                        .mark("tier-chart")

    def _kpi(self, key: str) -> ui.label:
        with ui.card().classes("items-center min-w-[9rem]").props("flat bordered"):
            value = ui.label("0").classes("text-h3 text-weight-bold hl-kpi-value").mark(f"kpi-{key}")
            ui.label(t(f"supervisor.kpi.{key}")).classes("text-caption text-grey-8")
        return value

    def _agent_header(self) -> None:
        with ui.row().classes("w-full no-wrap gap-2 text-caption text-grey-8"):
            for key, width in (("agent", "w-16"), ("name", "w-28"), ("status", "w-48"), ("state", "w-24"),
                               ("in_state", "w-20"), ("call", "w-36"), ("tier", "w-20"), ("answered", "w-12")):
                ui.label(t(f"supervisor.col.{key}")).classes(width)

    @staticmethod
    def _columns(*keys: str) -> list[dict[str, Any]]:
        return [{"name": k, "field": k, "label": t(f"supervisor.col.{k}"), "align": "left" if i == 0 else "right"}
                for i, k in enumerate(keys)]

    def _chart_options(self, names: list[str], sl15: list[float | None], sl60: list[float | None],
                       targets: list[float]) -> dict[str, Any]:
        return {
            "tooltip": {"trigger": "axis"}, "legend": {},
            "xAxis": {"type": "category", "data": names, "axisLabel": {"interval": 0, "rotate": 30}},
            "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
            "series": [
                {"name": t("supervisor.col.sl_15m"), "type": "bar", "data": sl15},
                {"name": t("supervisor.col.sl_60m"), "type": "bar", "data": sl60},
                {"name": t("supervisor.col.target"), "type": "line", "step": "middle", "data": targets},
            ],
        }

    # ------------------------------------------------------------------------------------ updates
    def tick(self) -> None:
        """The timer: a new snapshot when the router reported something (or the windows moved), then
        let the times tick."""
        if self.root.is_deleted:
            self.timer.cancel()
            return
        dirty, alerts = self.feed.take()
        now = time.monotonic()
        if dirty or now - self.fetched >= FULL_REFRESH_S:
            try:
                self.snapshot = board_snapshot(self.desk, self.ctx.actor)
            except PermissionDenied:
                self.timer.cancel()
                ui.notify(t("errors.forbidden"), type="negative")
                return
            self.fetched = now
            self.render()
        for alert in alerts:
            self.add_alert(alert)
        self.tick_times(now - self.fetched)

    def render(self) -> None:
        agents = self.snapshot.get("agents", [])
        seen = set()
        for agent in agents:
            number = str(agent["id"])
            seen.add(number)
            row = self.rows.get(number)
            if row is None:
                with self.agent_rows:
                    row = self.rows[number] = AgentRow(self, number)
            row.update(agent, self.reasons, self.tier_labels)
        for number in set(self.rows) - seen:
            self.agent_rows.remove(self.rows.pop(number).row)
        signed_in = [a for a in agents if a["status"] != "logged_out"]
        self.kpis["ready"].text = str(sum(a["status"] == "ready" and a["state"] == "idle" for a in agents))
        self.kpis["talking"].text = str(sum(a["state"] in ON_A_CALL for a in agents))
        self.kpis["not_ready"].text = str(sum(a["status"] == "not_ready" for a in agents))
        self.kpis["signed_in"].text = str(len(signed_in))
        live = adherence_now({str(a["id"]): a["status"] for a in agents})  # published shifts covering now
        self.kpis["adherence"].text = "—" if live["share"] is None else f"{live['share']:.0%}"
        self.kpis["waiting"].text = str(sum(q["waiting"] for q in self.snapshot.get("queues", {}).values()))
        self.render_tiers()

    def render_tiers(self) -> None:
        tiers: dict[str, dict[str, Any]] = self.snapshot.get("tiers", {})
        rows, names = [], []
        self.tier_tiles.clear()
        for tier, data in tiers.items():
            name = self.tier_labels.get(tier, tier)
            names.append(name)
            recent, hour = data.get("15m", {}), data.get("60m", {})
            rows.append({"tier": name, "target": f"{percent(data['target'])} / {data['within_s']:g}s",
                         "sl_15m": percent(recent.get("service_level")), "sl_60m": percent(hour.get("service_level")),
                         "offered_15m": recent.get("offered", 0), "answered_15m": recent.get("answered", 0),
                         "abandoned_15m": recent.get("abandoned", 0), "asa_15m": f"{recent.get('asa_s', 0):g}s"})
            if recent.get("offered") or hour.get("offered"):
                self._tier_tile(tier, name, data)
        self.tiers.rows = rows
        self.tiers.update()
        levels = {w: [_pct(d.get(w, {}).get("service_level")) for d in tiers.values()] for w in WINDOWS}
        self.chart.options.update(self._chart_options(
            names, levels["15m"], levels["60m"], [round(d["target"] * 100, 1) for d in tiers.values()]))
        self.chart.update()

    def _tier_tile(self, tier: str, name: str, data: dict[str, Any]) -> None:
        level = data.get("15m", {}).get("service_level")
        behind = level is not None and level < data["target"]
        with self.tier_tiles, ui.card().classes("items-center min-w-[10rem]").props("flat bordered"):
            ui.label(percent(level)).classes(
                f"text-h3 text-weight-bold hl-kpi-value text-{'negative' if behind else 'positive'}") \
                .mark(f"tier-sl-{tier}")
            ui.label(f"{name} · {t('supervisor.col.target')} {percent(data['target'])}").classes("text-caption")
            ui.label(f"60m {percent(data.get('60m', {}).get('service_level'))}").classes("text-caption text-grey-7")

    def tick_times(self, elapsed: float) -> None:
        for row in self.rows.values():
            row.tick(elapsed)
        queues = self.snapshot.get("queues", {})
        longest = max((q["longest_wait_s"] + (elapsed if q["waiting"] else 0) for q in queues.values()), default=0)
        self.kpis["longest_wait"].text = clock(longest)
        rows = [{"queue": self.queue_labels.get(name, name), "waiting": q["waiting"],
                 "longest_wait": clock(q["longest_wait_s"] + elapsed) if q["waiting"] else "—",
                 "ready": q["ready_agents"], "signed_in": q["signed_in"]} for name, q in queues.items()]
        if rows != self.queues.rows:
            self.queues.rows = rows
            self.queues.update()

    def add_alert(self, alert: Alert) -> None:
        self.no_alerts.set_visibility(False)
        subject = self.tier_labels.get(alert.subject, alert.subject) if alert.kind.startswith("tier_") \
            else alert.subject
        with self.alerts:
            with ui.row().classes("w-full no-wrap items-center gap-2 hl-sv-alert") as row:
                ui.icon("warning" if alert.severity != "positive" else "check_circle", color=alert.severity)
                ui.label(alert.at.strftime("%H:%M:%S")).classes("font-mono text-caption")
                ui.label(t(f"supervisor.alert.{alert.kind}", subject=subject)).classes("text-weight-medium")
                ui.label(alert.detail).classes("text-caption text-grey-8 ellipsis")
            row.move(self.alerts, target_index=0)
        children = list(self.alerts)
        for old in children[MAX_ALERTS:]:
            self.alerts.remove(old)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
