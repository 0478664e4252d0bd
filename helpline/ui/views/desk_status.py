"""The agent desktop's live counters: own status and state with the time in each (ticking), the not-ready
countdown against the routing's ``not_ready_limits``, calls answered today, talk time (total, current,
average), wrap-up time, and ready agents / waiting callers in each of the agent's queues.

Fed by :meth:`StatusPanel.update` with ``DeskService.view()``; :meth:`StatusPanel.tick` (the desktop's
one-second timer) moves the clocks on from the last view without asking the router.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nicegui import ui

from helpline.metadata.kinds import Label
from helpline.metadata.kinds.routing import Routing
from helpline.metadata.metaset import MetadataSet

from ..i18n import translate

STATUS_KEYS = {"logged_out": "desktop.state.logged_out", "ready": "desktop.state.ready",
               "not_ready": "desktop.state.not_ready", "study": "desktop.state.study"}
STATE_KEYS = {"idle": "desk.state.idle", "reserved": "desktop.state.reserved", "ringing": "desktop.state.ringing",
              "talking": "desktop.state.talking", "hold": "desktop.state.hold", "wrap_up": "desktop.state.wrapup"}
STATUS_COLOURS = {"ready": "positive", "not_ready": "negative", "study": "info", "logged_out": "grey"}
STATE_COLOURS = {"ringing": "warning", "reserved": "warning", "talking": "primary", "hold": "deep-orange",
                 "wrap_up": "secondary", "idle": "grey"}
TALKING = frozenset({"talking", "hold"})
"""States in which the agent is on the line with the caller (busy with a call: ``telephony.router.model.ON_CALL``)."""


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


class StatusPanel:
    def __init__(self, metadata: MetadataSet, limits: Callable[[], dict[str, float]], t: Words) -> None:
        self.metadata, self.limits, self.t = metadata, limits, t
        self.queue_names = queue_labels(metadata, t)
        self.view: dict[str, Any] = {}
        self.at = time.monotonic()
        with ui.row().classes("w-full items-center gap-x-6 gap-y-1 desk-status"):
            with ui.row().classes("items-center gap-1"):
                ui.label(self.t("desktop.counter.own_state")).classes("text-caption text-grey-7")
                self.status = ui.badge("").mark("desk-status")
                self.status_time = ui.label("").classes("font-mono").mark("desk-status-time")
                self.state = ui.badge("").mark("desk-state")
                self.state_time = ui.label("").classes("font-mono").mark("desk-state-time")
                self.countdown = ui.label("").classes("font-mono").mark("desk-countdown")
            self.answered = self.counter("desktop.counter.answered", "desk-answered")
            self.talk = self.counter("desktop.counter.total_talk", "desk-talk")
            self.current = self.counter("desktop.counter.current_talk", "desk-current-talk")
            self.average = self.counter("desktop.counter.avg_talk", "desk-average-talk")
            self.wrap = self.counter("desktop.counter.total_wrapup", "desk-wrap-up")
            self.queues = ui.row().classes("items-center gap-3").mark("desk-queues")

    def counter(self, key: str, marker: str) -> ui.label:
        with ui.column().classes("gap-0 items-center"):
            ui.label(self.t(key)).classes("text-caption text-grey-7")
            return ui.label("").classes("font-mono text-body1").mark(marker)

    def update(self, view: dict[str, Any]) -> None:
        """A new view of the agent (after an event or an action)."""
        self.view, self.at = view, time.monotonic()
        status, state = str(view.get("status", "logged_out")), str(view.get("state", "idle"))
        reason = reason_label(self.metadata, view.get("reason"), self.t) if status == "not_ready" else ""
        self.status.text = self.t(STATUS_KEYS.get(status, status)) + (f" · {reason}" if reason else "")
        self.status.props(f"color={STATUS_COLOURS.get(status, 'grey')}")
        self.state.text = self.t(STATE_KEYS.get(state, state))
        self.state.props(f"color={STATE_COLOURS.get(state, 'grey')}")
        self.answered.text = str(view.get("calls_answered", 0))
        self.average.text = clock(float(view.get("average_talk_s") or 0))
        self.queues.clear()
        with self.queues:
            for name, figures in (view.get("queues") or {}).items():
                ui.label(self.t("desk.queue_figures", queue=self.queue_names.get(name, name),
                           waiting=figures.get("waiting", 0), ready=figures.get("ready_agents", 0))) \
                    .classes("text-caption").mark(f"desk-queue-{name}")
        self.tick()

    def tick(self) -> None:
        """Move the clocks on from the last view (called every second)."""
        view = self.view
        if not view:
            return
        passed = time.monotonic() - self.at
        in_status = float(view.get("in_status_s") or 0) + passed
        in_state = float(view.get("in_state_s") or 0) + passed
        state = view.get("state")
        self.status_time.text = clock(in_status)
        self.state_time.text = clock(in_state)
        current = float(view.get("current_talk_s") or 0) + passed if state in TALKING else 0.0
        self.current.text = clock(current)
        self.talk.text = clock(float(view.get("talk_s") or 0) + current)
        self.wrap.text = clock(float(view.get("wrap_up_s") or 0) + (in_state if state == "wrap_up" else 0.0))
        limit = self.limits().get(str(view.get("reason"))) if view.get("status") == "not_ready" else None
        if limit is None:
            self.countdown.text = ""
            return
        left = limit - in_status
        over = left < 0
        self.countdown.text = self.t("desk.overtime" if over else "desk.countdown", time=clock(abs(left)))
        self.countdown.classes(replace="font-mono " + ("text-negative text-bold" if over else "text-warning"))
