"""The desktop's campaign panel: join a running outbound campaign, then for each number the script and the
questionnaire beside the customer — preview (next, dial, skip) or progressive (the dialler dials when the agent is
ready) — the answers filed (required ones, branching), an answering machine or a call-back booked. The call is an
ordinary outbound call: its contact record opens in the work area to be filed, and a work order can be made from
it as for an inbound call. Everything is checked on the server (:mod:`telephony.outbound.dialler`,
:mod:`helpline.services.campaigns`); this panel only shows and asks. Shown to users with ``agent.outbound``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nicegui import background_tasks, run, ui

from helpline.metadata.kinds.campaign import Question
from helpline.security.actor import PermissionDenied
from helpline.services.campaigns import AnswerError, CampaignError, asked
from telephony.desk.service import DeskError, DeskService
from telephony.outbound.dialler import CampaignCall, Dialler, dialler_of

from .base import ViewContext

Opener = Callable[..., Any]


def markers_as_classes(root: ui.element) -> None:
    """Give every marked element under ``root`` its markers as CSS classes too (the browser tests find elements by
    class, the user-fixture tests by marker)."""
    for element in [root, *root.descendants()]:
        if element._markers:
            element.classes(" ".join(element._markers))


def script_text(call: CampaignCall, language: str) -> str:
    """The campaign's script with the person's ``{name}`` and ``{phone}``."""
    if call.campaign.script is None:
        return ""
    text = call.campaign.script.get(language)
    return text.replace("{name}", call.claim.name or "").replace("{phone}", call.claim.phone)


class CampaignPanel:
    """The panel (see the module docstring)."""

    def __init__(self, ctx: ViewContext, desk: DeskService, t: Callable[..., str], opener: Opener) -> None:
        self.ctx, self.desk, self.t, self.opener = ctx, desk, t, opener
        self.dialler: Dialler = dialler_of(desk)
        self.answers: dict[str, Any] = {}
        self.shown: tuple[int, str] | None = None
        self.opened: int | None = None
        self.runs: list[dict[str, Any]] = []
        self.asked_names: list[str] = []
        self.names: dict[str, str] = {}
        """Campaign name → its label (read off the loop)."""
        self.card = ui.card().classes("w-full q-pa-sm gap-1 bg-blue-1").props("flat bordered").mark("desk-campaign")
        self.timer: ui.timer | None = None
        """Follows the dialler's state of this agent (in memory) twice a second, from when the panel shows: most
        desktops have no campaign to join, and no timer element or callbacks then."""
        background_tasks.create(self.refresh(), name="desk campaign")

    # -- reading ---------------------------------------------------------------------------------------
    @property
    def joined(self) -> int | None:
        member = self.dialler.members.get(self.ctx.actor.username)
        return member[1] if member else None

    @property
    def call(self) -> CampaignCall | None:
        return self.dialler.current(self.ctx.actor.username)

    async def refresh(self) -> None:
        """Read the runs one may join (on a worker thread), then draw."""
        service = self.dialler.service

        def read() -> list[dict[str, Any]]:
            runs = service.runs(("running", "loading", "paused"))
            for r in runs:
                if r["campaign"] not in self.names:
                    try:
                        self.names[r["campaign"]] = service.campaign(r["campaign"]).display_name(self.ctx.language)
                    except CampaignError:
                        self.names[r["campaign"]] = r["campaign"]
            return runs

        self.runs = await run.io_bound(read) or []
        self.build()

    def poll(self) -> None:
        """Follow the dialler (a progressive dial, the call's end) without a round trip to the server."""
        call = self.call
        key = (call.claim.attempt_id, call.state) if call else None
        if key != self.shown:
            self.build()
        if call is not None and call.contact_record and call.contact_record != self.opened:
            self.opened = call.contact_record
            self.opener("record", "contact_record_form", record_id=call.contact_record)

    # -- building --------------------------------------------------------------------------------------
    def build(self) -> None:
        t, call = self.t, self.call
        self.shown = (call.claim.attempt_id, call.state) if call else None
        self.card.clear()
        self.card.visible = bool(self.runs) or self.joined is not None  # nothing to join: out of the way
        if self.card.visible and self.timer is None and self.card.parent_slot is not None:
            with self.card.parent_slot:
                self.timer = ui.timer(0.5, self.poll)
        with self.card:
            with ui.row().classes("items-center gap-2"):
                ui.icon("campaign", color="blue-9")
                ui.label(t("campaigns.desk.title")).classes("text-subtitle1 text-weight-medium")
                joined = next((r for r in self.runs if r["id"] == self.joined), None)
                if self.joined is not None:
                    name = self.names.get(joined["campaign"], "") if joined else f"#{self.joined}"
                    ui.label(name).classes("text-weight-medium").mark("desk-campaign-name")
                    ui.button(t("campaigns.desk.leave"), icon="logout", color="grey",
                              on_click=self.leave).props("flat dense").mark("desk-campaign-leave")
            if self.joined is None:
                self.join_row()
            elif call is None:
                with ui.row().classes("items-center gap-2"):
                    ui.label(t("campaigns.desk.waiting")).classes("text-grey-8")
                    ui.button(t("campaigns.desk.next"), icon="skip_next", on_click=self.next) \
                        .props("dense").mark("desk-campaign-next")
            else:
                self.call_block(call)
        markers_as_classes(self.card)

    def join_row(self) -> None:
        options = {r["id"]: f"{self.names.get(r['campaign'], r['campaign'])} #{r['id']}" for r in self.runs}
        with ui.row().classes("items-center gap-2"):
            choice = ui.select(options, value=next(iter(options), None), label=self.t("campaigns.desk.choose")) \
                .classes("w-64").props("dense").mark("desk-campaign-run")
            ui.button(self.t("campaigns.desk.join"), icon="login", on_click=lambda: self.join(choice.value)) \
                .props("dense").mark("desk-campaign-join")

    def call_block(self, call: CampaignCall) -> None:
        t = self.t
        with ui.row().classes("items-center gap-3"):
            ui.label(call.claim.phone).classes("text-h6").mark("desk-campaign-phone")
            if call.claim.name:
                ui.label(call.claim.name).classes("text-subtitle1")
            ui.badge(t(f"campaigns.state.{call.state}")).mark("desk-campaign-state")
            if call.claim.callback_user:
                ui.badge(t("campaigns.desk.callback_mine"), color="amber-9")
        script = script_text(call, self.ctx.language)
        if script:
            ui.label(script).classes("text-body1 q-pa-sm bg-white rounded-borders").mark("desk-campaign-script")
        if call.state == "preview":
            with ui.row().classes("gap-2"):
                ui.button(t("campaigns.desk.dial"), icon="call", color="positive", on_click=self.dial) \
                    .mark("desk-campaign-dial")
                ui.button(t("campaigns.desk.skip"), icon="skip_next", color="grey", on_click=self.skip) \
                    .props("flat").mark("desk-campaign-skip")
            return
        self.answers = dict(call.answers)
        self.questions = ui.column().classes("w-full gap-1").mark("desk-campaign-questions")
        self.draw_questions(call)
        with ui.row().classes("items-center gap-2"):
            ui.button(t("campaigns.desk.file"), icon="task_alt", on_click=self.file).mark("desk-campaign-file")
            ui.button(t("campaigns.desk.machine"), icon="voicemail", color="grey", on_click=self.machine) \
                .props("flat").mark("desk-campaign-machine")
        with ui.row().classes("items-center gap-2"):
            default = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d 10:00")
            self.callback_at = ui.input(t("campaigns.desk.callback_at"), value=default).classes("w-44") \
                .props("dense").mark("desk-campaign-callback-at")
            self.personal = ui.checkbox(t("campaigns.desk.personal"), value=call.campaign.callbacks.personal)
            ui.button(t("campaigns.desk.callback"), icon="event", on_click=self.callback).props("flat dense") \
                .mark("desk-campaign-callback")

    def draw_questions(self, call: CampaignCall) -> None:
        self.questions.clear()
        shown = asked(call.campaign, self.answers, call.claim.data)
        self.asked_names = [q.name for q in shown]
        with self.questions:
            for q in shown:
                self.question(q)
        markers_as_classes(self.questions)

    def question(self, q: Question) -> None:
        label = q.label.get(self.ctx.language) + (" *" if q.required else "")
        value = self.answers.get(q.name)
        mark = f"desk-campaign-q-{q.name}"

        def changed(e: Any, name: str = q.name) -> None:
            self.answers[name] = e.value
            call = self.call  # redrawn only when the branching asks other questions (typing keeps its focus)
            if call is not None and [x.name for x in asked(call.campaign, self.answers, call.claim.data)] != \
                    self.asked_names:
                self.draw_questions(call)

        options: dict[Any, str]
        if q.type == "yes_no":
            options = {True: self.t("campaigns.yes"), False: self.t("campaigns.no")}
            ui.label(label)
            ui.radio(options, value=value, on_change=changed).props("inline dense").mark(mark)
        elif q.type in ("choice", "rating"):
            options = ({c.code: c.label.get(self.ctx.language) if c.label else c.code for c in q.choices}
                       if q.type == "choice" else {i: str(i) for i in range(1, 6)})
            ui.label(label)
            ui.radio(options, value=value, on_change=changed).props("inline dense").mark(mark)
        elif q.type == "multi_choice":
            options = {c.code: c.label.get(self.ctx.language) if c.label else c.code for c in q.choices}
            ui.select(options, value=value or [], multiple=True, label=label, on_change=changed) \
                .classes("w-full").props("dense").mark(mark)
        elif q.type == "number":
            ui.number(label, value=value, min=q.min, max=q.max, on_change=changed).props("dense").mark(mark)
        else:
            ui.input(label, value=value or "", on_change=changed).classes("w-full").props("dense").mark(mark)

    # -- actions ---------------------------------------------------------------------------------------
    async def do(self, function: Callable[[], Any], done: str | None = None) -> bool:
        try:
            await run.io_bound(function)
        except AnswerError as exc:
            self.notify(self.t("campaigns.desk.answers_wrong", problems=str(exc)), "negative")
            return False
        except (CampaignError, DeskError) as exc:
            self.notify(str(exc), "negative")
            return False
        except PermissionDenied:
            self.notify(self.t("errors.forbidden"), "negative")
            return False
        if done:
            self.notify(done, "positive")
        await self.refresh()
        return True

    def notify(self, text: str, kind: str) -> None:
        with self.card:
            ui.notify(text, type=kind)  # type: ignore[arg-type]

    async def join(self, run_id: Any) -> None:
        if run_id is None:
            self.notify(self.t("campaigns.desk.none_running"), "warning")
            return
        await self.do(lambda: self.dialler.join(self.ctx.actor, int(run_id)))

    async def leave(self) -> None:
        await self.do(lambda: self.dialler.leave(self.ctx.actor))

    async def next(self) -> None:
        found: list[Any] = []
        if await self.do(lambda: found.append(self.dialler.next(self.ctx.actor))) and found[0] is None:
            self.notify(self.t("campaigns.desk.empty"), "info")

    async def dial(self) -> None:
        await self.do(lambda: self.dialler.dial(self.ctx.actor))

    async def skip(self) -> None:
        await self.do(lambda: self.dialler.skip(self.ctx.actor))

    async def file(self) -> None:
        answers = dict(self.answers)
        await self.do(lambda: self.dialler.finish(self.ctx.actor, answers), self.t("campaigns.desk.filed"))

    async def machine(self) -> None:
        await self.do(lambda: self.dialler.finish(self.ctx.actor, machine=True), self.t("campaigns.desk.filed"))

    async def callback(self) -> None:
        try:
            local = datetime.fromisoformat(str(self.callback_at.value).strip())
        except ValueError:
            self.notify(self.t("campaigns.desk.bad_time"), "negative")
            return
        utc = local.astimezone().astimezone(UTC).replace(tzinfo=None)  # typed in the server's local time
        personal = bool(self.personal.value)
        await self.do(lambda: self.dialler.finish(self.ctx.actor, callback_at=utc, personal=personal),
                      self.t("campaigns.desk.booked"))
