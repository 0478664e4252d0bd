"""The agent desktop's live counters: own status and state with the time in each (ticking), the not-ready
countdown against the routing's ``not_ready_limits``, calls answered today, talk time (total, current,
average), wrap-up time, and ready agents / waiting callers in each of the agent's queues.

Fed by :meth:`StatusPanel.update` with ``DeskService.view()``. The clocks tick **in the browser**
(:data:`CLOCK_SCRIPT`, from the moment each clock started, sent as the label's ``data-clock-from``): the server
sends a clock again only when it starts, stops or jumps (a new state, a call answered), not every second.
:meth:`StatusPanel.tick` (the desktops' shared one-second timer) keeps the labels' text on the server in step
without sending it. Every other value is sent only when it changed; the queue figures update their labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

from helpline.metadata.kinds import Label
from helpline.metadata.kinds.routing import Routing
from helpline.metadata.metaset import MetadataSet

from ..i18n import translate

STATUS_KEYS = {"logged_out": "desktop.state.signed_out", "ready": "desktop.state.ready",
               "not_ready": "desktop.state.not_ready", "study": "desktop.state.study"}
STATE_KEYS = {"idle": "desk.state.idle", "reserved": "desktop.state.reserved", "ringing": "desktop.state.ringing",
              "talking": "desktop.state.talking", "hold": "desktop.state.hold", "wrap_up": "desktop.state.wrapup"}
STATUS_COLOURS = {"ready": "positive", "not_ready": "negative", "study": "info", "logged_out": "grey"}
STATE_COLOURS = {"ringing": "warning", "reserved": "warning", "talking": "primary", "hold": "deep-orange",
                 "wrap_up": "secondary", "idle": "grey"}
TALKING = frozenset({"talking", "hold"})
"""States in which the agent is on the line with the caller (busy with a call: ``telephony.router.model.ON_CALL``)."""
CLOCK_SLACK_S = 1.0
"""A running clock's start moving by less than this (the router's rounding) is not sent again."""
CLOCK_SCRIPT = """
if (!window.helplineDeskClock) {
  const pad = (n) => String(n).padStart(2, '0');
  const fmt = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return h ? `${h}:${pad(m)}:${pad(x)}` : `${pad(m)}:${pad(x)}`;
  };
  window.helplineDeskClock = setInterval(() => {
    const now = Date.now() / 1000 + (window.helplineDeskSkew || 0);
    document.querySelectorAll('[data-clock-from]').forEach((el) => {
      const from = parseFloat(el.dataset.clockFrom);
      const node = el.firstChild;
      if (isNaN(from) || !node || node.nodeType !== Node.TEXT_NODE) return;
      let text = fmt(now - from);
      if (el.dataset.clockLimit !== undefined) {
        const left = parseFloat(el.dataset.clockLimit) - (now - from);
        text = (left <= 0 ? el.dataset.clockOver : el.dataset.clockLeft).replace('{time}', fmt(Math.abs(left)));
      }
      if (node.nodeValue !== text) node.nodeValue = text;  // the text node Vue made: Vue keeps patching it
    });
  }, 1000);
}
window.helplineDeskSkew = SERVER_NOW - Date.now() / 1000;
"""
"""Ticks every ``[data-clock-from]`` label of the page once a second (installed once per page; ``SERVER_NOW``:
the server's time, replaced when sent, for the browser clock's offset). A label with ``data-clock-limit`` counts
down, with the texts of ``data-clock-left`` / ``data-clock-over`` (``{time}`` in them). It changes the text node
Vue rendered (not ``textContent``), so Vue's own later updates of the label still land."""


class Words:
    """Texts in one user's language. Desk code also runs for pushed router events and in background tasks,
    where the browser session's language is not at hand: it is captured once from the page."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **params: Any) -> str:
        return translate(self.language, key, **params)

    def label(self, value: Label | None, fallback: str = "") -> str:
        return value.get(self.language) if value is not None else fallback


def clock(seconds: float) -> str:
    """``75`` → ``01:15``; an hour or more → ``1:02:03``."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def reason_label(metadata: MetadataSet, code: str | None, t: Words) -> str:
    """A not-ready reason: its label in the ``not_ready_reason`` tree, or the desk's word for the router's own."""
    if not code:
        return ""
    tree = metadata.categories.get("not_ready_reason")
    node = tree.node(code) if tree is not None else None
    if node is not None:
        return t.label(node.label, code)
    text = t(f"desk.reason.{code}")
    return code if text == f"desk.reason.{code}" else text


def queue_labels(metadata: MetadataSet, t: Words) -> dict[str, str]:
    """Queue name → its label in the routing metadata."""
    out: dict[str, str] = {}
    for routing in metadata.objects.get("routing", {}).values():
        if isinstance(routing, Routing):
            out.update({queue.name: t.label(queue.label, queue.name) for queue in routing.queues})
    return out


def quiet_text(element: TextElement, text: str) -> None:
    """Set the text of ``element`` on the server without sending it (the browser's clock shows it already).
    NiceGUI's ``text`` is a bindable property kept in ``___text`` and sent from ``_text``."""
    setattr(element, "___text", text)
    element._text = text


class Clock:
    """A counter label that runs in the browser from its start (:data:`CLOCK_SCRIPT`)."""

    def __init__(self, label: ui.label) -> None:
        self.label = label
        self.since: float | None = None
        """Epoch seconds at which the running clock showed 00:00; None while it stands still."""
        self.limit: float | None = None

    def set(self, text: str, since: float | None, limit: float | None = None) -> None:
        """Show ``text``; ``since``: the clock runs from then on (None: it stands); ``limit``: a countdown."""
        moved = (since is None) != (self.since is None) or limit != self.limit or (
            since is not None and self.since is not None and abs(since - self.since) >= CLOCK_SLACK_S)
        if since is not None and not moved:
            quiet_text(self.label, text)  # it runs on in the browser
            return
        if moved:
            self.since, self.limit = since, limit
            props = self.label.props
            for key, value in (("data-clock-from", since), ("data-clock-limit", limit)):
                if value is None:
                    props.pop(key, None)
                else:
                    props[key] = round(value, 1)
        self.label.text = text  # sent when it changed (with the props above, in one update)


class StatusPanel:
    def __init__(self, metadata: MetadataSet, limits: Callable[[], dict[str, float]], t: Words) -> None:
        self.metadata, self.limits, self.t = metadata, limits, t
        self.queue_names = queue_labels(metadata, t)
        self.view: dict[str, Any] = {}
        self.at = time.monotonic()
        with ui.row().classes("w-full items-center gap-x-6 gap-y-1 desk-status desk-rule"):
            with ui.row().classes("items-center gap-1"):
                ui.label(self.t("desktop.counter.own_state")).classes("text-caption text-grey-7")
                self.status = ui.badge("").mark("desk-status")
                self.status_time = Clock(ui.label("").classes("font-mono").mark("desk-status-time"))
                self.state = ui.badge("").mark("desk-state")
                self.state_time = Clock(ui.label("").classes("font-mono").mark("desk-state-time"))
                self.countdown = Clock(ui.label("").classes("font-mono").mark("desk-countdown"))
                self.countdown.label.props.update({"data-clock-left": self.t("desk.countdown", time="{time}"),
                                                   "data-clock-over": self.t("desk.overtime", time="{time}")})
            self.answered = self.counter("desktop.counter.answered", "desk-answered")
            self.talk = Clock(self.counter("desktop.counter.total_talk", "desk-talk"))
            self.current = Clock(self.counter("desktop.counter.current_talk", "desk-current-talk"))
            self.average = self.counter("desktop.counter.avg_talk", "desk-average-talk")
            self.wrap = Clock(self.counter("desktop.counter.total_wrapup", "desk-wrap-up"))
            self.queues = ui.row().classes("items-center gap-3").mark("desk-queues")
        self.queue_labels: dict[str, ui.label] = {}

    def counter(self, key: str, marker: str) -> ui.label:
        """One element: its caption is drawn above it by the browser (``data-caption``, desk_pop.DESK_STYLE)."""
        value = ui.label("").classes("font-mono text-body1 desk-strip-value desk-counter").mark(marker)
        value._props["data-caption"] = self.t(key)
        return value

    def update(self, view: dict[str, Any]) -> None:
        """A new view of the agent (after an event or an action): only what changed is sent."""
        self.view, self.at = view, time.monotonic()
        status, state = str(view.get("status", "logged_out")), str(view.get("state", "idle"))
        reason = reason_label(self.metadata, view.get("reason"), self.t) if status == "not_ready" else ""
        self.status.text = self.t(STATUS_KEYS.get(status, status)) + (f" · {reason}" if reason else "")
        self.status.props(f"color={STATUS_COLOURS.get(status, 'grey')}")
        self.state.text = self.t(STATE_KEYS.get(state, state))
        self.state.props(f"color={STATE_COLOURS.get(state, 'grey')}")
        self.answered.text = str(view.get("calls_answered", 0))
        self.average.text = clock(float(view.get("average_talk_s") or 0))
        self.update_queues(view.get("queues") or {})
        self.tick()

    def update_queues(self, queues: dict[str, dict[str, int]]) -> None:
        """One label per queue of the agent's skills, its text changed in place."""
        for name in [n for n in self.queue_labels if n not in queues]:
            self.queue_labels.pop(name).delete()
        for name, figures in queues.items():
            text = self.t("desk.queue_figures", queue=self.queue_names.get(name, name),
                          waiting=figures.get("waiting", 0), ready=figures.get("ready_agents", 0))
            found = self.queue_labels.get(name)
            if found is None:
                with self.queues:
                    self.queue_labels[name] = ui.label(text).classes("text-caption").mark(f"desk-queue-{name}")
            else:
                found.text = text

    def tick(self) -> None:
        """Bring the clocks' text up to date from the last view (every second; the browser ticks them itself, so
        nothing is sent unless a clock starts, stops or the countdown goes over its limit)."""
        view = self.view
        if not view:
            return
        passed = time.monotonic() - self.at
        now = time.time()
        in_status = float(view.get("in_status_s") or 0) + passed
        in_state = float(view.get("in_state_s") or 0) + passed
        state = view.get("state")
        talking, wrapping = state in TALKING, state == "wrap_up"
        self.status_time.set(clock(in_status), now - in_status)
        self.state_time.set(clock(in_state), now - in_state)
        current = float(view.get("current_talk_s") or 0) + passed if talking else 0.0
        self.current.set(clock(current), now - current if talking else None)
        talk = float(view.get("talk_s") or 0) + current
        self.talk.set(clock(talk), now - talk if talking else None)
        wrap = float(view.get("wrap_up_s") or 0) + (in_state if wrapping else 0.0)
        self.wrap.set(clock(wrap), now - wrap if wrapping else None)
        limit = self.limits().get(str(view.get("reason"))) if view.get("status") == "not_ready" else None
        if limit is None:
            self.countdown.set("", None)
            return
        left = limit - in_status
        over = left <= 0
        self.countdown.set(self.t("desk.overtime" if over else "desk.countdown", time=clock(abs(left))),
                           now - in_status, limit)
        self.countdown.label.classes(replace="font-mono " + ("text-negative text-bold" if over else "text-warning"))
