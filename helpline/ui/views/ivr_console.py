"""The IVR console: an administrator picks a flow and a caller number and "calls"; the same engine runs
the flow against the simulated switch, the page shows each prompt as text, takes digits from the keypad
or the keyboard, and shows the trail with the rule that matched each branch.

Given a metadata set (the IVR designer's "test call": the live set with the author's drafts applied), the
console runs the flows of that set instead of the live ones, without publishing anything: the engine is
the live one with a :class:`FixedCatalog` of the given set, so live callers keep the live flows."""

from __future__ import annotations

import copy
from typing import Any

from nicegui import run, ui

from helpline.metadata.ivr_checks import ivrs_of
from helpline.metadata.kinds import Ivr
from helpline.metadata.metaset import MetadataSet
from helpline.services.platform import Platform
from telephony.ivr.engine import CallOutcome, IvrEngine
from telephony.ivr.flows import FlowCatalog
from telephony.switch.simulated import SimulatedSwitch

from ..i18n import label, t
from .base import ViewContext
from .display import node_type_label, trail_outcome

KEYS = "123456789*0#"
_ENGINES: dict[int, IvrEngine] = {}


def engine_for(platform: Platform) -> IvrEngine:
    """One engine per platform (it keeps the compiled flows of the live revision)."""
    engine = _ENGINES.get(id(platform))
    if engine is None or engine.platform is not platform:
        engine = _ENGINES[id(platform)] = IvrEngine(platform, router=platform.router)
    return engine


class FixedCatalog(FlowCatalog):
    """The flows of one given metadata set (not the platform's live one), compiled once."""

    def __init__(self, platform: Platform, metadata: MetadataSet) -> None:
        super().__init__(platform)
        self.fixed = metadata

    def _flows(self) -> tuple[MetadataSet, dict[str, Ivr]]:
        return self.fixed, ivrs_of(self.fixed)


def engine_on(platform: Platform, metadata: MetadataSet) -> IvrEngine:
    """An engine running the flows of ``metadata``; it shares everything else (call records, caller
    identification, hooks, router) with the platform's engine."""
    engine = copy.copy(engine_for(platform))
    engine.catalog = FixedCatalog(platform, metadata)
    return engine


class IvrConsole:
    """The console; ``metadata``: run the flows of this set instead of the live ones (``draft`` shows that
    it is a draft), ``flow``: the flow chosen at first."""

    def __init__(self, ctx: ViewContext, *, metadata: MetadataSet | None = None, flow: str | None = None,
                 draft: bool = False):
        self.ctx = ctx
        self.metadata = metadata
        self.switch: SimulatedSwitch | None = None
        self.shown = 0
        source = metadata if metadata is not None else ctx.platform.metadata
        flows = {n: label(f.label, n) for n, f in source.objects.get("ivr", {}).items()}
        ui.label(t("page.ivr_console")).classes("text-h6")
        if draft:
            ui.label(t("designer.ivr.console.draft")).classes("text-warning").mark("ivr-draft-banner")
        with ui.row().classes("items-end gap-3"):
            chosen = flow if flow in flows else next(iter(flows), None)
            self.flow = ui.select(flows, label=t("ivr.flow"), value=chosen).classes("w-56") \
                .mark("ivr-flow")
            self.caller = ui.input(t("ivr.caller_number"), value="13800000000").mark("ivr-caller")
            self.call_button = ui.button(t("ivr.call"), icon="call", on_click=self.call).mark("ivr-call") \
                .classes("ivr-call")
            self.hangup_button = ui.button(t("ivr.hang_up"), icon="call_end", color="negative",
                                           on_click=self.hang_up).mark("ivr-hangup")
            self.hangup_button.set_enabled(False)
        with ui.row().classes("w-full no-wrap gap-6 items-start"):
            with ui.grid(columns=3).classes("gap-1"):
                for key in KEYS:
                    ui.button(key, on_click=lambda k=key: self.press(k)).props("outline").classes("w-12") \
                        .mark(f"key-{key}")
            with ui.column().classes("grow"):
                ui.label(t("ivr.heard")).classes("text-subtitle2")
                self.log = ui.column().classes("gap-0 ivr-log").mark("ivr-log")
        self.outcome = ui.column().classes("w-full")
        self.keyboard = ui.keyboard(on_key=self.on_key, active=False)
        self.timer = ui.timer(0.2, self.refresh, active=False)
        # the console's caller hangs up when its page goes away (a closed tab: the client is deleted once
        # the browser has not come back within the reconnect timeout), else the call would stay queued
        ui.context.client.on_delete(self.hang_up)

    def on_key(self, e: Any) -> None:
        key = str(getattr(e.key, "name", "") or "")
        if e.action.keydown and key in KEYS:
            self.press(key)

    def press(self, key: str) -> None:
        if self.switch is not None and self.switch.alive:
            self.switch.press(key)

    def hang_up(self) -> None:
        if self.switch is not None and self.switch.alive:
            self.switch.hang_up()

    def refresh(self) -> None:
        switch = self.switch
        if switch is None:
            return
        lines = switch.transcript()
        with self.log:
            for line in lines[self.shown:]:
                ui.label(line).classes("font-mono")
        self.shown = len(lines)

    async def call(self) -> None:
        if not self.flow.value:
            return
        self.log.clear()
        self.outcome.clear()
        self.shown = 0
        self.switch = SimulatedSwitch(interactive=True, language=self.ctx.language)
        self.call_button.set_enabled(False)
        self.hangup_button.set_enabled(True)
        self.keyboard.active = True
        self.timer.activate()
        platform = self.ctx.platform
        engine = engine_for(platform) if self.metadata is None else engine_on(platform, self.metadata)
        try:
            outcome = await run.io_bound(engine.run_call, self.switch, caller_number=self.caller.value or None,
                                         flow_name=self.flow.value, uniqueid=self.switch.uniqueid, channel="console")
        finally:
            self.timer.deactivate()
            self.keyboard.active = False
            self.call_button.set_enabled(True)
            self.hangup_button.set_enabled(False)
            self.refresh()
        if outcome is not None:
            self.show_outcome(outcome)

    def show_outcome(self, outcome: CallOutcome) -> None:
        with self.outcome:
            with ui.row().classes("gap-6 ivr-outcome"):
                ui.label(f"{t('ivr.result')}: {outcome.result}").mark("ivr-result")
                for key, value in (("ivr.queue", outcome.queue), ("ivr.tier", outcome.tier),
                                   ("ivr.hangup_node", outcome.hangup_node)):
                    if value:
                        ui.label(f"{t(key)}: {value}")
            if outcome.error:
                ui.label(f"{outcome.error.get('id', '')} {outcome.error.get('message', '')}").classes("text-negative")
            columns = [{"name": k, "field": k, "label": t(f"ivr.trail.{k}"), "align": "left"}
                       for k in ("node", "type", "digits", "rule", "next")]
            language = self.ctx.language
            rows = [{"id": i, "node": s.get("node"), "type": node_type_label(s.get("type"), language),
                     "digits": " ".join(s.get("digits") or []),
                     "rule": (s.get("rule") or {}).get("source", "") if isinstance(s.get("rule"), dict) else "",
                     "next": s.get("next") or trail_outcome(s.get("outcome"), language)}
                    for i, s in enumerate(outcome.trail)]
            ui.table(columns=columns, rows=rows, row_key="id").classes("w-full ivr-trail").props("flat dense bordered")


def ivr_console_view(ctx: ViewContext) -> None:
    IvrConsole(ctx)
