"""The agent desktop (座席台, ``/desktop`` and the menu page ``desktop``): the soft-phone toolbar, live
counters, the screen-pop, the contact record of each call and a work area of tabs, over ``platform.desk``.

Events are pushed: the desk service calls :meth:`Desktop.relay` on the router's thread for every event of
this agent, which hands it to the page's event loop (``loop.call_soon_threadsafe`` → ``client.safe_invoke``,
in the page's own context: its browser session) and returns; nothing touches the UI from the router's
thread. The clocks tick in the browser (``desk_status.CLOCK_SCRIPT``); ONE timer of the process
(:class:`Ticker`, not one per page) keeps their text on the server in step every second without sending it
and reads each desktop's view again every :data:`REFRESH_TICKS` seconds, a fifth of the desktops each second
(the figures of the agent's queues change with other agents' and callers' events, which are not pushed
here); only values that changed are sent.

A call's own elements (the pop's strip values and call tab, the contact record form, an unpinned knowledge panel)
are built when it is offered or answered and released once it is finished — wrap-up over and its contact record
filed or closed (:meth:`Desktop.release_call`): an idle desktop holds only the idle page (issue 22: server memory
per desktop with calls flowing). A record not yet filed stays open, and so does the call's pop beside it.

A reloaded or reopened desktop resumes: it reads the agent's view and current call and shows the pop and
the contact record again. While no desktop of the agent is connected the router is told
(``agent_disconnected``): the agent goes not ready after the grace period unless one comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, run, ui

from helpline.security.actor import PermissionDenied
from helpline.services.records import RecordNotFound, ValidationFailed
from telephony.desk.screenpop import current_call, open_contact_record
from telephony.desk.service import AgentRef, DeskError, DeskService, MustReadFirst, NoAgentProfile
from telephony.router.core import RouterError
from telephony.router.events import AgentAlert, AgentChanged, CallLeft, Offer, RouterEvent

from .. import gc_tuning
from .base import ViewContext
from .desk_bulletins import MustReadStrip
from .desk_callback import CallbackPanel, about_callback
from .desk_campaign import CampaignPanel
from .desk_pop import DESK_STYLE, CallPanel, load_pop
from .desk_shifts import shifts_strip
from .desk_status import CLOCK_SCRIPT, TALKING, StatusPanel, Words
from .desk_toolbar import PREVENT_DEFAULTS, Toolbar

if TYPE_CHECKING:
    from .desk_contact import ContactPanel, WorkArea
    from .desk_knowledge import KnowledgePanel

log = logging.getLogger(__name__)

REFRESH_TICKS = 5
TICK_CHUNK = 25
"""The ticker runs this many desktops between two turns of the event loop (see :meth:`Ticker.tick_all`)."""
_PRESENT: dict[tuple[int, str], set[str]] = {}
_PRESENCE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-presence")
"""Cluster mode: the router writes of desktops coming and going, one at a time, in order (``present``)."""
POP_LOADER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="desk-pop")
"""The screen-pops' data is loaded here (``load_pop``), started on the router's thread the moment the offer is
relayed (:meth:`Desktop.relay`): not after a hop through the busy event loop, and not queued behind the saves
and searches of NiceGUI's shared ``io_bound`` pool (issue 22: pop p95 at 500 desktops)."""
"""(desk service, agent number) → the clients whose desktop of that agent is connected."""


class DeskRoot(ui.column):
    """The desktop's outermost element: tells the desktop when it is removed (its tab closed)."""

    def __init__(self, on_delete: Callable[[], None]) -> None:
        super().__init__()
        self._on_delete = on_delete

    def _handle_delete(self) -> None:
        self._on_delete()
        super()._handle_delete()


def present(desk: DeskService, number: str, client_id: str, connected: bool) -> None:
    """Count the agent's connected desktops; tell the router when the first comes or the last goes.

    In cluster mode a router write waits for the shared command log in PostgreSQL (milliseconds, seconds on a
    loaded server), so it is handed to one presence thread, in order, instead of blocking the event loop that
    serves every page of the process (a 500-desktop run saw /healthz take 39 s)."""
    clients = _PRESENT.setdefault((id(desk), number), set())
    was = bool(clients)
    (clients.add if connected else clients.discard)(client_id)
    name = "agent_connected" if connected else "agent_disconnected" if was and not clients else None
    if not clients:
        _PRESENT.pop((id(desk), number), None)
    if name is None:
        return

    def tell() -> None:
        with contextlib.suppress(RouterError):  # the profile was removed meanwhile
            desk.router.call(name, number)

    if getattr(desk.router, "cluster", None) is None:
        tell()
    else:
        _PRESENCE.submit(tell)


class Ticker:
    """The one timer of every desktop in the process: once a second each desktop's :meth:`Desktop.tick`
    (clocks' text kept in step on the server, nothing sent; every :data:`REFRESH_TICKS` ticks its view read
    again, the desktops spread over the seconds). Runs while there are desktops, on the current event loop."""

    def __init__(self) -> None:
        self.desktops: list[Desktop] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, desktop: Desktop) -> None:
        desktop.ticks = len(self.desktops) % REFRESH_TICKS  # spread the refreshes over the seconds
        self.desktops.append(desktop)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = background_tasks.create(self.run(), name="desk ticker")

    def remove(self, desktop: Desktop) -> None:
        with contextlib.suppress(ValueError):
            self.desktops.remove(desktop)

    async def run(self) -> None:
        while self.desktops:
            await asyncio.sleep(1.0 - time.time() % 1.0)  # on the second, like the browsers' clocks
            await self.tick_all()

    async def tick_all(self) -> None:
        """One second of every desktop, :data:`TICK_CHUNK` at a time: between chunks the loop runs what waits (a
        screen-pop being built or sent waits for one chunk, not for every desktop of the process)."""
        for index, desktop in enumerate(list(self.desktops)):
            if index and index % TICK_CHUNK == 0:
                await asyncio.sleep(0)
            try:
                if desktop.closed or desktop.root.is_deleted:
                    desktop.close()
                else:
                    desktop.tick()
            except Exception:  # one broken desktop must not stop the others' clocks
                log.exception("desktop tick failed")


TICKER = Ticker()


class Desktop:
    def __init__(self, ctx: ViewContext, desk: DeskService) -> None:
        self.ctx, self.desk = ctx, desk
        self.t = Words(ctx.language)
        self.client = ui.context.client
        self.loop = asyncio.get_running_loop()
        self.context = contextvars.copy_context()
        """The page's context (its browser session: language, storage) for handling pushed events."""
        self.ref: AgentRef | None = None
        self.view: dict[str, Any] = {}
        self.pops: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.unsubscribe: Callable[[], None] | None = None
        self.ticks = 0
        self.refresh_pending = False
        self.closed = False
        self.knowledge: KnowledgePanel | None = None
        self.knowledge_column: ui.column | None = None
        self.built_at: int | None = None
        """The garbage-collector tuning's epoch when the current call's elements were built (see release_call)."""
        self.studying = False
        self.root = DeskRoot(self.close).classes("w-full gap-2 desktop").mark("desktop")
        with self.root:
            self.notice = ui.label(self.t("app.loading")).classes("text-grey-7")
        ui.timer(0, self.start, once=True)

    # ---------------------------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        try:
            self.ref = await run.io_bound(self.desk.agent_of, self.ctx.actor)
        except (DeskError, PermissionDenied) as exc:
            # the service's own words are English log lines: the user reads the desk's
            why = (self.t("desk.no_profile") if isinstance(exc, NoAgentProfile)
                   else self.t("errors.forbidden") if isinstance(exc, PermissionDenied) else str(exc))
            self.notice.text = self.t("desk.no_agent", message=why)
            self.notice.classes(replace="text-negative").mark("desk-no-agent")
            return
        if self.ref is None or self.closed:
            return
        self.notice.delete()
        del self.notice
        self.build()
        number = self.ref.number
        self.unsubscribe = self.desk.subscribe(number, self.relay)
        present(self.desk, number, self.client.id, True)
        self.client.on_connect(lambda: None if self.closed else present(self.desk, number, self.client.id, True))
        self.client.on_disconnect(self.disconnected)
        self.client.on_delete(self.close)
        ui.run_javascript(PREVENT_DEFAULTS + DESK_STYLE + CLOCK_SCRIPT.replace("SERVER_NOW", f"{time.time():.3f}"))
        self.refresh()
        TICKER.add(self)
        gc_tuning.settle()  # the page lives as long as its browser: freeze its objects (see gc_tuning)
        await self.resume()

    def build(self) -> None:
        from .desk_contact import ContactPanel, WorkArea  # they build on the shell, which imports this module

        with self.root:
            with ui.card().classes("w-full q-pa-sm gap-2").props("flat bordered"):
                self.toolbar = Toolbar(self.ctx, self.desk, self.act)
                self.status = StatusPanel(self.ctx.platform.metadata,
                                          lambda: self.desk.router.router.settings.not_ready_limits, self.t)
                strip = ui.row().classes("w-full items-center gap-2 desk-rule")  # rules are borders (DESK_STYLE)
            shifts_strip(self.ctx, self.t)
            self.must_read = MustReadStrip(self.ctx, self.t)  # acknowledged before ready (bulletins)
            self.callback: CallbackPanel | None = None  # the call-back task offered or in hand
            if self.ctx.actor.has("agent.callback"):
                self.callback = CallbackPanel(self.ctx, self.desk, self.t, self.act)
            self.campaign: CampaignPanel | None = None  # campaign calls: the script and questionnaire
            if self.ctx.actor.has("agent.outbound"):
                self.campaign = CampaignPanel(self.ctx, self.desk, self.t, lambda *a, **k: self.work.open(*a, **k))
            with ui.row().classes("w-full no-wrap items-start gap-2") as self.columns:
                with ui.column().classes("col gap-0") as main:
                    self.work: WorkArea = WorkArea(self.ctx.actor, self.t("desk.call_tab"))
                self.toolbar.dialpad.opener = self.work.open  # a dialled call's contact record opens here
            ctx = replace(self.work.context("desk:call"), language=self.ctx.language)
            with self.work.call_panel:
                body = ui.column().classes("w-full gap-2")
                contact = ui.column().classes("w-full gap-2 desk-contact").mark("desk-contact")
            self.call = CallPanel(ctx, strip, body, self.link_customer)
            self.contact: ContactPanel = ContactPanel(ctx, contact)
            self.contact.on_done = self.release_call
            self.call.contact_values = self.contact.values
            if not self.ctx.actor.can("knowledge_article", "read"):
                main.classes(remove="col", add="w-full")

    def knowledge_panel(self) -> KnowledgePanel | None:
        """The knowledge panel beside the call (docs/knowledge.md), built at the first call: an idle desktop
        does without its elements (the knowledge base itself is a shortcut and a menu page)."""
        if self.knowledge is None and self.ctx.actor.can("knowledge_article", "read"):
            from .desk_knowledge import KnowledgePanel

            with self.columns, ui.column().classes("w-96 gap-2") as self.knowledge_column:
                self.knowledge = KnowledgePanel(self.call.ctx, self.t)
            self.knowledge.contact = self.contact.values
        return self.knowledge

    def disconnected(self) -> None:
        """A socket of the page went away: the desktop is gone unless the browser has another one already (a
        reconnect handled before the old socket's end, as happens on a busy server)."""
        if not self.closed and self.ref is not None and not self.client.has_socket_connection:
            present(self.desk, self.ref.number, self.client.id, False)

    def close(self) -> None:
        """The desktop is gone (tab closed, page left): stop listening, count it away."""
        if self.closed:
            return
        self.closed = True
        TICKER.remove(self)
        if self.unsubscribe is not None:
            self.unsubscribe()
        if self.ref is not None:
            present(self.desk, self.ref.number, self.client.id, False)

    # ------------------------------------------------------------------------------------- events
    def relay(self, event: RouterEvent) -> None:
        """On the router's thread: hand the event to the page's loop and return at once; an offer's pop starts
        loading now, on :data:`POP_LOADER` (the page's loop picks the result up)."""
        loading: Future[dict[str, Any]] | None = None
        if isinstance(event, Offer) and not about_callback(event) and not self.closed:
            with contextlib.suppress(RuntimeError):  # the pool is shut down (interpreter exit)
                loading = POP_LOADER.submit(load_pop, self.call.ctx, event.call_id)
        with contextlib.suppress(RuntimeError):  # the loop is closed (shutting down)
            self.loop.call_soon_threadsafe(self.client.safe_invoke, partial(self.on_event, event, loading),
                                           context=self.context)

    def on_event(self, event: RouterEvent, loading: Future[dict[str, Any]] | None = None) -> None:
        gc_tuning.busy()
        if self.closed or self.root.is_deleted:
            self.close()
            return
        if about_callback(event):  # a call-back task: its own panel, no screen-pop of a call
            if self.callback is not None:
                background_tasks.create(self.callback.refresh(), name="desk call-back")
        elif isinstance(event, Offer):
            self.pops = {k: v for k, v in self.pops.items() if k == event.call_id}
            if loading is not None and event.call_id not in self.pops:
                self.pops[event.call_id] = asyncio.wrap_future(loading)
            background_tasks.create(self.follow(event.call_id), name=f"desk pop {event.call_id}")
        elif isinstance(event, AgentChanged) and event.what == "state":
            if event.new == "talking" and event.call_id:
                background_tasks.create(self.open_contact(event.call_id, over=False), name="desk contact")
            elif event.old in TALKING and event.new not in TALKING:
                self.contact.set_over(True)
            elif event.old in ("reserved", "ringing") and event.new == "idle" and event.call_id:
                self.notify(self.t("desk.call_missed"), "warning")
            if event.new == "idle":
                self.release_call()
        elif isinstance(event, AgentAlert):
            key = {"no_answer": "desktop.no_answer", "not_ready_over_limit": "desk.alert.over_limit",
                   "disconnected": "desk.alert.disconnected"}.get(event.kind)
            self.notify(self.t(key) if key else event.message, "negative")
        elif isinstance(event, CallLeft) and event.how == "abandoned":
            self.notify(self.t("desk.caller_hung_up"), "warning")
        self.schedule_refresh()

    def notify(self, text: str, kind: str = "info") -> None:
        with self.root:
            ui.notify(text, type=kind)  # type: ignore[arg-type]

    def schedule_refresh(self) -> None:
        """Refresh once after a burst of events."""
        if not self.refresh_pending:
            self.refresh_pending = True
            self.loop.call_soon(self.refresh)

    def refresh(self) -> None:
        """Read the agent's view from the router's memory and show it."""
        self.refresh_pending = False
        if self.ref is None or self.closed:
            return
        try:
            self.view = self.desk.view(self.ref.number)
        except DeskError:
            return
        self.toolbar.update(self.view)
        self.status.update(self.view)
        self.study_state()

    def study_state(self) -> None:
        """Entering the study state (or not ready for study) opens the study pages in the work area."""
        from .desk_knowledge import study_pages

        pages = study_pages(self.view.get("status"), self.view.get("reason"))
        if pages and not self.studying:
            from ..i18n import speaking

            with speaking(self.ctx.language):  # also when a refresh without the browser's request opens them
                for page in pages:
                    self.work.open("page", page)
        self.studying = bool(pages)

    def tick(self) -> None:
        """Every second (:class:`Ticker`): the clocks' text, and every :data:`REFRESH_TICKS` s the view."""
        self.ticks += 1
        if self.ticks % REFRESH_TICKS == 0:
            self.refresh()
        else:
            self.status.tick()

    # ------------------------------------------------------------------------------------- actions
    async def act(self, function: Callable[[], Any]) -> None:
        """Run one desk function off the loop; a refusal is shown as a notification."""
        try:
            await run.io_bound(function)
        except MustReadFirst as exc:  # a must-read bulletin not yet acknowledged: show it
            self.notify(self.t("bulletins.desk.refused", title=exc.title), "negative")
            await self.must_read.load()
        except DeskError as exc:
            self.notify(self.t("desk.refused", message=str(exc)), "negative")
        except PermissionDenied:
            self.notify(self.t("errors.forbidden"), "negative")
        self.refresh()

    # ----------------------------------------------------------------------------------- the call
    def pop_of(self, call_id: int) -> asyncio.Future[dict[str, Any]]:
        """The screen-pop of a call, loaded once on a worker thread (an offer's was started by :meth:`relay`)."""
        task = self.pops.get(call_id)
        if task is None:
            task = self.pops[call_id] = background_tasks.create(
                run.io_bound(load_pop, self.call.ctx, call_id), name=f"desk load pop {call_id}")
        return task

    async def follow(self, call_id: int) -> None:
        """A call is offered: file away an unfiled contact record of the previous call, pop the new one."""
        if self.contact.record_id is not None and not self.contact.filed:
            self.work.open("record", "contact_record_form", record_id=self.contact.record_id)
            self.notify(self.t("desk.contact.unfiled", serial=self.contact.serial or ""), "warning")
        self.contact.clear()
        pop = await self.pop_of(call_id)
        if pop is None or self.closed:
            return
        self.building()
        self.call.show(pop)  # built when released, else filled again (not frozen: released when finished)
        knowledge = self.knowledge_panel()
        if knowledge is not None:
            knowledge.call_came(pop.get("customer"))
        self.work.show_call()
        if self.view.get("call_id") == call_id and self.view.get("state") in ("reserved", "ringing"):
            self.notify(self.t("desktop.incoming", number=pop["caller_number"] or "?"), "info")
        self.release_call()  # the offer was missed or the caller left while the pop loaded: nothing to keep

    async def open_contact(self, call_id: int, *, over: bool) -> None:
        """The call is answered (or the desktop resumes it): its contact record, created once."""
        pop = await self.pop_of(call_id)
        if pop is None or self.closed:
            return
        self.building()
        if self.call.pop is None or self.call.pop["call_id"] != call_id:
            self.call.show(pop)
        self.knowledge_panel()  # a resumed call too has it beside
        try:
            record, titles = await run.io_bound(self.read_contact, pop) or (None, {})
        except (ValidationFailed, PermissionDenied, RecordNotFound) as exc:
            self.notify(self.t("desk.contact.failed", message=str(exc)), "negative")
            return
        if record is None or self.closed:
            return
        self.call.contact_serial = str(record.values["serial_no"])
        self.contact.show(record, over=over or self.view.get("state") not in TALKING, titles=titles)

    def read_contact(self, pop: dict[str, Any]) -> tuple[Any, dict[str, str]]:
        """The call's contact record (found or created) and its links' titles (blocking: a worker thread)."""
        from .desk_contact import link_titles

        record = open_contact_record(self.ctx.platform, self.ctx.actor, pop)
        return record, (link_titles(self.ctx, record) if record is not None else {})

    def building(self) -> None:
        """A call's elements are being built (or filled again): note the tuning's epoch once (see release_call)."""
        if self.built_at is None:
            self.built_at = gc_tuning.epoch()

    def release_call(self) -> None:
        """When the agent has no call (idle: wrap-up over, or the offer missed) and its contact record is filed or
        closed (or there is none), delete the pop's strip and call tab, the contact record form and an unpinned
        knowledge panel, and show the idle placeholders; the next call builds them again."""
        if self.built_at is None or self.closed or self.ref is None or self.root.is_deleted:
            return  # nothing built since the last release
        if self.contact.record_id is not None and not self.contact.filed:
            return  # an unfiled record stays open (and the pop beside it) until it is filed or closed
        try:
            state = self.desk.view(self.ref.number).get("state")
        except DeskError:
            return
        if state != "idle":
            return  # a call in progress, in wrap-up or offered meanwhile
        self.pops.clear()
        self.call.release()
        self.contact.release()
        if self.knowledge is not None and self.knowledge_column is not None and not self.knowledge.pinned:
            gc_tuning.discard(self.knowledge_column)  # (a pinned article stays for the next calls)
            self.knowledge = self.knowledge_column = None
        if self.built_at is not None:  # frozen meanwhile, their cyclic garbage waits for a thaw: counted
            gc_tuning.released(self.built_at)
            self.built_at = None

    async def resume(self) -> None:
        """A reloaded desktop: the pop of the call in progress, and its contact record once answered; the
        contact records of earlier calls not yet filed or dismissed open again in tabs."""
        assert self.ref is not None
        call_id = await run.io_bound(current_call, self.ctx.platform, self.ref.number)
        if self.callback is not None:
            await self.callback.refresh()
        if call_id and call_id > 0 and not self.closed:  # (a negative id is a call-back task)
            state = self.view.get("state")
            if state in ("talking", "hold", "wrap_up"):
                await self.open_contact(int(call_id), over=state == "wrap_up")
            else:
                await self.follow(int(call_id))
        await self.reopen_unfiled()

    async def reopen_unfiled(self) -> None:
        from .desk_contact import keep_unfiled, unfiled_ids

        for record_id in unfiled_ids():
            if record_id == self.contact.record_id or self.closed:
                continue
            try:
                record = await run.io_bound(self.ctx.platform.records.get, self.ctx.actor, "contact_record",
                                            record_id)
            except (PermissionDenied, RecordNotFound):
                record = None
            if record is None or record.values.get("ended_at") is not None:
                keep_unfiled(record_id, False)  # filed meanwhile (in its tab) or gone
                continue
            self.work.open("record", "contact_record_form", record_id=record_id)

    async def link_customer(self, customer_id: int) -> None:
        """The agent found the unknown caller's customer: pop again with it, and link the contact record."""
        pop = self.call.pop
        if pop is None:
            return
        call_id = int(pop["call_id"])
        task = background_tasks.create(run.io_bound(load_pop, self.call.ctx, call_id, customer_id),
                                       name=f"desk relink {call_id}")
        self.pops[call_id] = task
        linked = await task
        if linked is None or self.closed:
            return
        self.call.show(linked)
        record_id = self.contact.record_id
        if record_id is not None and linked["customer_id"] is not None:
            try:
                await run.io_bound(self.ctx.platform.records.update, self.ctx.actor, "contact_record", record_id,
                                   {"customer": linked["customer_id"]})
            except (ValidationFailed, PermissionDenied, RecordNotFound) as exc:
                self.notify(self.t("desk.contact.failed", message=str(exc)), "negative")
                return
            record = await run.io_bound(self.ctx.platform.records.get, self.ctx.actor, "contact_record", record_id)
            if record is not None:
                from .desk_contact import link_titles

                titles = await run.io_bound(link_titles, self.ctx, record)
                self.contact.record_id = None  # show it again with the customer
                self.contact.show(record, over=self.contact.over, titles=titles)


def desktop_view(ctx: ViewContext) -> None:
    """The ``desktop`` page (opened by ``/desktop`` and the main menu)."""
    desk = ctx.platform.desk
    if not isinstance(desk, DeskService):
        with ui.column().classes("w-full items-center q-pa-lg"):
            ui.icon("phone_disabled", size="xl", color="grey")
            ui.label(Words(ctx.language)("desk.no_telephony")).classes("text-h6 text-grey-8").mark("desk-no-telephony")
        return
    Desktop(ctx, desk)
