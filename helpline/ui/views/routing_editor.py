"""The routing rules editor of the supervisor console (permission ``routing.edit``).

The routing metadata ``main`` in a form (offer and wrap-up times, not-ready limits, region steps, service
window, catch-up; the queues read-only) and its tier strategy in a code editor, checked as one types with
the rule checker (each problem with its id, message and ``line:col``, listed under the editor and marked on
its line). "What if" runs the simulator on a scenario with the draft strategy and with the live one
(:mod:`telephony.simulate.whatif`) on a worker thread. Publish makes a new metadata revision with a comment
(the running router applies it at once); the history lists the revisions, shows a diff against the live one
and rolls back to any of them (a new revision again, audited: :mod:`helpline.services.routing_revisions`).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from nicegui import run, ui

from helpline.diagnostics import Problem, ProblemsError
from helpline.metadata.ivr_checks import ivr_use
from helpline.metadata.kinds.routing import Routing
from helpline.rules import RuleError
from helpline.rules.checker import check_program
from helpline.rules.uses import TIER
from helpline.security.actor import PermissionDenied
from helpline.services.metadata_store import RevisionConflict
from helpline.services.routing_revisions import KIND, NAME, PERMISSION, diff, history, rollback
from telephony.simulate.scenario import LoadSpec, ScenarioError
from telephony.simulate.whatif import DEFAULT_SCENARIO, WhatIf, scenario_loads, scenarios, what_if

from ..i18n import label, t
from .base import ViewContext

TIMES = ("offer_timeout_s", "wrap_up_s", "service_window_s", "browser_grace_s")
"""Top-level durations of the form (seconds)."""
DURATIONS = {"1h": 3600.0, "2h": 7200.0, "4h": 14400.0}


def problem_decorations(text: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """CodeMirror decorations for ``problems``: the line tinted, the word at the column underlined and the
    id and message shown after the line."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    found: list[dict[str, Any]] = []
    for p in problems:
        if not p.line or p.line > len(lines):
            continue
        kind = "error" if p.severity == "error" else "warning"
        start, content = starts[p.line - 1], lines[p.line - 1]
        found.append({"kind": "line", "line": p.line, "class": f"hl-rule-{kind}-line"})
        column = min(max((p.column or 1) - 1, 0), len(content))
        word = re.match(r"\S+", content[column:])
        if word:
            found.append({"kind": "mark", "from": start + column, "to": start + column + word.end(),
                          "class": f"hl-rule-{kind}-mark"})
        found.append({"kind": "widget", "position": start + len(content), "text": f"  {p.id} {p.message}",
                      "class": f"hl-rule-{kind}-note"})
    return found


class RoutingEditor:
    """The editor (see the module docstring)."""

    def __init__(self, ctx: ViewContext) -> None:
        self.ctx = ctx
        self.use = TIER.with_codes(codes=ivr_use(None, ctx.platform.metadata).codes)
        self.fields: dict[str, ui.number] = {}
        self.limits: dict[str, ui.number] = {}
        self.base: dict[str, Any] = {}
        self.revision_id: int | None = None
        self.live_strategy = ""
        with ui.column().classes("w-full gap-3 hl-routing-editor"):
            self.revision_label = ui.label("").classes("text-caption text-grey-8").mark("routing-revision")
            with ui.row().classes("w-full no-wrap gap-3 items-start"):
                with ui.card().classes("w-72 shrink-0").props("flat bordered"):
                    self.build_form()
                with ui.card().classes("grow min-w-0").props("flat bordered"):
                    self.build_strategy()
            with ui.card().classes("w-full").props("flat bordered"):
                self.build_what_if()
            with ui.row().classes("w-full no-wrap gap-3 items-start"):
                with ui.card().classes("grow").props("flat bordered"):
                    self.build_history()
                with ui.card().classes("w-1/3 overflow-auto").props("flat bordered"):
                    ui.label(t("supervisor.queues")).classes("text-subtitle1")
                    self.queues = ui.table(columns=[
                        {"name": k, "field": k, "label": t(f"supervisor.col.{k}"), "align": "left"}
                        for k in ("queue", "skill", "max_wait", "overflow")], rows=[], row_key="queue") \
                        .classes("w-full").props("flat dense hide-bottom")
        self.load()
        ui.timer(0, self.refresh_history, once=True)

    # ------------------------------------------------------------------------------------ layout
    def build_form(self) -> None:
        ui.label(t("supervisor.routing.settings")).classes("text-subtitle1")
        for key in (*TIMES, "county_s", "city_s"):
            self.fields[key] = ui.number(t(f"supervisor.routing.{key}"), min=0, suffix="s") \
                .props("dense").classes("w-full").mark(f"routing-{key}")
        self.fields["catch_up"] = ui.number(t("supervisor.routing.catch_up"), min=1, max=10, step=0.5) \
            .props("dense").classes("w-full").mark("routing-catch_up")
        ui.label(t("supervisor.routing.not_ready_limits")).classes("text-subtitle2 q-mt-sm")
        self.limits_box = ui.column().classes("w-full gap-0")

    def build_strategy(self) -> None:
        with ui.row().classes("w-full items-center"):
            ui.label(t("supervisor.routing")).classes("text-subtitle1")
            ui.space()
            self.draft_badge = ui.badge(t("supervisor.routing.draft"), color="orange").mark("routing-draft")
        self.editor = ui.codemirror("", on_change=lambda e: self.check(e.value), line_wrapping=True) \
            .classes("w-full h-64 border").mark("routing-strategy")
        self.problems = ui.column().classes("w-full gap-0").mark("routing-problems")
        with ui.row().classes("w-full items-end no-wrap gap-2"):
            self.comment = ui.input(t("supervisor.routing.comment")).classes("grow").mark("routing-comment")
            self.publish_button = ui.button(t("supervisor.routing.publish"), icon="publish", on_click=self.publish) \
                .mark("routing-publish")
            ui.button(t("supervisor.routing.revert"), icon="undo", on_click=self.load).props("flat")

    def build_what_if(self) -> None:
        ui.label(t("supervisor.whatif.title")).classes("text-subtitle1")
        ui.label(t("supervisor.whatif.help")).classes("text-caption text-grey-8")
        self.scenario_files = scenarios()
        with ui.row().classes("w-full items-end gap-2"):
            self.scenario = ui.select(list(self.scenario_files), value=next(iter(self.scenario_files), None),
                                      label=t("supervisor.whatif.scenario"), on_change=self.show_loads) \
                .props("dense").classes("w-64").mark("whatif-scenario")
            self.load_select = ui.select({}, label=t("supervisor.whatif.load")).props("dense").classes("w-40")
            self.duration = ui.select(list(DURATIONS), value="2h", label=t("supervisor.whatif.duration")) \
                .props("dense").classes("w-24")
            self.run_button = ui.button(t("supervisor.whatif.run"), icon="science", on_click=self.run_what_if) \
                .mark("whatif-run")
            self.spinner = ui.spinner(size="md")
            self.spinner.set_visibility(False)
        self.results = ui.column().classes("w-full").mark("whatif-results")
        self.show_loads()

    def show_loads(self) -> None:
        """The loads of the chosen scenario (the first chosen)."""
        path = self.scenario_files.get(str(self.scenario.value))
        try:
            loads = scenario_loads(path) if path else []
        except (ScenarioError, OSError):
            loads = []
        self.load_select.set_options({i: load_caption(spec) for i, spec in enumerate(loads)},
                                     value=0 if loads else None)

    def build_history(self) -> None:
        ui.label(t("supervisor.routing.history")).classes("text-subtitle1")
        columns = [{"name": k, "field": k, "label": t(f"supervisor.routing.rev.{k}"), "align": "left"}
                   for k in ("id", "at", "author", "origin", "comment")]
        self.history = ui.table(columns=columns, rows=[], row_key="id", selection="single",
                                pagination={"rowsPerPage": 8}).classes("w-full").props("flat dense") \
            .mark("routing-history")
        with ui.row().classes("gap-2"):
            ui.button(t("supervisor.routing.diff"), icon="difference", on_click=self.show_diff).props("outline dense")
            ui.button(t("supervisor.routing.rollback"), icon="history", on_click=self.roll_back) \
                .props("outline dense").mark("routing-rollback")

    # ------------------------------------------------------------------------------------ state
    def routing(self) -> Routing | None:
        found = self.ctx.platform.metadata.objects.get(KIND, {}).get(NAME)
        return found if isinstance(found, Routing) else None

    def load(self) -> None:
        """Fill the form and the editor from the live routing (dropping the draft)."""
        routing = self.routing()
        current = self.ctx.platform.store.current(KIND, NAME)
        if routing is None or current is None or current.content is None:
            self.revision_label.text = t("supervisor.routing.missing")
            self.publish_button.disable()
            return
        self.revision_id = int(current.id)
        self.base = {**{k: float(getattr(routing, k)) for k in TIMES}, "catch_up": float(routing.catch_up),
                     "county_s": float(routing.region_steps.county_s), "city_s": float(routing.region_steps.city_s)}
        for key, widget in self.fields.items():
            widget.value = _num(self.base[key])
        self.limits_box.clear()
        self.limits = {}
        reasons = self.ctx.platform.metadata.categories.get("not_ready_reason")
        names = {n.code: label(n.label, n.code) for n in reasons.nodes} if reasons else {}
        with self.limits_box:
            for reason, seconds in routing.not_ready_limits.items():
                self.limits[reason] = ui.number(names.get(reason, reason), value=_num(seconds), min=1, suffix="s") \
                    .props("dense").classes("w-full").mark(f"routing-limit-{reason}")
        self.queues.rows = [{"queue": f"{label(q.label, q.name)} ({q.name})", "skill": q.skill,
                             "max_wait": f"{q.max_wait_s}s", "overflow": q.overflow or ""} for q in routing.queues]
        self.queues.update()
        self.revision_label.text = t("supervisor.routing.live_revision", revision=current.id, author=current.author,
                                     at=current.created_at.isoformat(sep=" ", timespec="seconds"))
        self.live_strategy = routing.strategy or ""
        self.editor.value = self.live_strategy
        self.check(self.live_strategy)

    def check(self, text: str) -> list[Problem]:
        """Check the draft strategy as typed: problems under the editor and on their lines."""
        problems = check_program(text or "", self.use).problems
        self.problems.clear()
        with self.problems:
            if not problems:
                ui.label(t("supervisor.routing.no_problems")).classes("text-positive")
            for p in problems:
                colour = "text-negative" if p.severity == "error" else "text-warning"
                with ui.row().classes("gap-2 no-wrap items-baseline hl-rule-problem"):
                    ui.label(p.id).classes(f"font-mono text-weight-bold {colour}")
                    ui.label(f"{p.line}:{p.column}" if p.line else "").classes("font-mono text-grey-8")
                    ui.label(p.message).classes(colour)
                    if p.hint:
                        ui.label(p.hint).classes("text-caption text-grey-7")
        self.editor.decorations = problem_decorations(text or "", problems)
        self.draft_badge.set_visibility((text or "") != self.live_strategy)
        return problems

    def content(self) -> dict[str, Any]:
        """The routing object with the form's changes and the draft strategy."""
        current = self.ctx.platform.store.current(KIND, NAME)
        assert current is not None and isinstance(current.content, dict)
        data: dict[str, Any] = copy.deepcopy(current.content)
        for key in (*TIMES, "catch_up"):
            value = self.fields[key].value
            if value is not None and float(value) != self.base[key]:
                data[key] = _num(float(value))
        steps = {k: self.fields[k].value for k in ("county_s", "city_s")}
        if any(v is not None and float(v) != self.base[k] for k, v in steps.items()):
            data["region_steps"] = {k: _num(float(v if v is not None else self.base[k])) for k, v in steps.items()}
        routing = self.routing()
        limits = dict(data.get("not_ready_limits") or {})
        for reason, widget in self.limits.items():
            old = routing.not_ready_limits.get(reason) if routing else None
            if widget.value is not None and float(widget.value) != old:
                limits[reason] = _num(float(widget.value))
        if limits:
            data["not_ready_limits"] = limits
        data["strategy"] = self.editor.value if self.editor.value.endswith("\n") else self.editor.value + "\n"
        return data

    # ------------------------------------------------------------------------------------ actions
    async def publish(self) -> None:
        if any(p.severity == "error" for p in self.check(self.editor.value)):
            ui.notify(t("supervisor.routing.fix_first"), type="warning")
            return
        comment = (self.comment.value or "").strip()
        if not comment:
            ui.notify(t("supervisor.routing.comment_needed"), type="warning")
            return
        platform, actor = self.ctx.platform, self.ctx.actor
        data = self.content()
        try:
            revision = await run.io_bound(lambda: platform.publish(
                KIND, NAME, data, actor=actor, comment=comment, base_revision=self.revision_id,
                permission=PERMISSION))
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except RevisionConflict:
            ui.notify(t("supervisor.routing.conflict"), type="negative", multi_line=True)
            return
        except ProblemsError as exc:
            ui.notify("; ".join(f"{p.id} {p.message}" for p in exc.problems), type="negative", multi_line=True)
            return
        self.comment.value = ""
        ui.notify(t("supervisor.routing.published", revision=revision), type="positive")
        self.load()
        await self.refresh_history()

    async def refresh_history(self) -> None:
        self.history.rows = await run.io_bound(history, self.ctx.platform) or []
        self.history.update()

    def selected(self) -> int | None:
        if not self.history.selected:
            ui.notify(t("supervisor.routing.choose_revision"), type="warning")
            return None
        return int(self.history.selected[0]["id"])

    async def show_diff(self) -> None:
        chosen = self.selected()
        if chosen is None or self.revision_id is None:
            return
        text = await run.io_bound(diff, self.ctx.platform, chosen, self.revision_id)
        with ui.dialog() as dialog, ui.card().classes("min-w-[40rem]"):
            ui.label(t("supervisor.routing.diff_title", old=chosen, new=self.revision_id)).classes("text-h6")
            ui.code(text or t("supervisor.routing.same"), language="diff").classes("w-full")
            ui.button(t("app.close"), on_click=dialog.close)
        dialog.open()

    async def roll_back(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        platform, actor = self.ctx.platform, self.ctx.actor
        try:
            revision = await run.io_bound(rollback, platform, actor, chosen)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except (ProblemsError, ValueError) as exc:
            ui.notify(str(exc), type="negative", multi_line=True)
            return
        ui.notify(t("supervisor.routing.rolled_back", old=chosen, revision=revision), type="positive")
        self.load()
        await self.refresh_history()

    async def run_what_if(self) -> None:
        routing = self.routing()
        draft, live = self.editor.value or "", (routing.strategy if routing else "") or ""
        if any(p.severity == "error" for p in self.check(draft)):
            ui.notify(t("supervisor.routing.fix_first"), type="warning")
            return
        duration = DURATIONS.get(str(self.duration.value), DURATIONS["2h"])
        self.run_button.disable()
        self.spinner.set_visibility(True)
        try:
            path = self.scenario_files.get(str(self.scenario.value), str(DEFAULT_SCENARIO))
            result = await run.io_bound(what_if, draft, live, scenario_path=path,
                                        load=int(self.load_select.value or 0), duration_s=duration)
        except (RuleError, ScenarioError) as exc:
            ui.notify("; ".join(f"{p.location}: {p.id} {p.message}" for p in exc.problems), type="negative",
                      multi_line=True)
            return
        finally:
            self.run_button.enable()
            self.spinner.set_visibility(False)
        if result is not None:
            self.show_what_if(result)

    def show_what_if(self, result: WhatIf) -> None:
        tiers = self.ctx.platform.metadata.categories.get("value_tier")
        names = {n.code: label(n.label, n.code) for n in tiers.nodes} if tiers else {}
        self.results.clear()
        with self.results:
            ui.label(t("supervisor.whatif.summary", load=load_caption(result.load), calls=round(result.calls_per_hour),
                       hours=_num(result.duration_s / 3600), seed=result.seed, seconds=f"{result.wall_s:.1f}")) \
                .classes("text-caption")
            columns = [{"name": k, "field": k, "label": t(f"supervisor.whatif.{k}"), "align": "left" if i == 0
                        else "right"} for i, k in enumerate(("tier", "draft", "live", "difference", "offered"))]
            rows = [{"tier": names.get(c.tier, c.tier),
                     "draft": f"{c.draft * 100:.1f}% / {c.draft_target * 100:.0f}%  ({c.draft_asa_s:.1f}s)",
                     "live": f"{c.live * 100:.1f}% / {c.live_target * 100:.0f}%  ({c.live_asa_s:.1f}s)",
                     "difference": f"{(c.draft - c.live) * 100:+.1f}", "offered": c.offered} for c in result.tiers]
            rows.append({"tier": t("supervisor.whatif.worst"), "draft": f"{result.draft_worst * 100:+.1f}",
                         "live": f"{result.live_worst * 100:+.1f}",
                         "difference": f"{(result.draft_worst - result.live_worst) * 100:+.1f}", "offered": ""})
            ui.table(columns=columns, rows=rows, row_key="tier").classes("w-full").props("flat dense bordered") \
                .mark("whatif-table")


def load_caption(spec: LoadSpec) -> str:
    """A simulated load in the user's words: a target occupancy or calls per hour."""
    if spec.occupancy is not None:
        return t("supervisor.whatif.occupancy", percent=f"{spec.occupancy:.0%}")
    return t("supervisor.whatif.calls_per_hour", calls=f"{spec.calls_per_hour:g}")


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 3)
