"""The screen-pop of the agent desktop: the customer strip in the desktop frame (caller number, serial number,
name, tier badge, region, shortcuts into the work area) and the call details in the work area's call tab —
the customer block (the ``customer_popup`` screen, read-only, through the form machinery) or, for an
unknown caller, a quick search to link a customer and a button to create one; the outage notices of the
caller's region; the IVR trail; the customer's contact history and open and recent work orders.

The data comes from :func:`telephony.desk.screenpop.screen_pop` (:func:`load_pop` adds the formatted
table rows, on a worker thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from nicegui import run, ui

from helpline.data.query import ListQuery
from helpline.metadata.kinds import Screen
from helpline.services.access import can_open
from helpline.services.records import Record
from telephony.desk.screenpop import screen_pop

from .base import ViewContext
from .desk_status import Words
from .form_view import FormView
from .list_view import format_rows

POPUP_SCREEN = "customer_popup"
HISTORY_COLUMNS = ["serial_no", "started_at", "direction", "agent", "disposition", "remarks"]
ORDER_COLUMNS = ["order_no", "type", "status", "title", "accepted_at"]
TRAIL_COLUMNS = ["node", "type", "digits", "rule", "next"]


def load_pop(ctx: ViewContext, call_id: int, customer_id: int | None = None) -> dict[str, Any]:
    """The screen-pop of a call with its history and work orders formatted for tables (blocking)."""
    pop = screen_pop(ctx.platform, ctx.actor, call_id, customer_id=customer_id, language=ctx.language)
    entities = ctx.platform.metadata.entities
    pop["history_rows"] = format_rows(ctx, entities["contact_record"], HISTORY_COLUMNS, pop["history"]) \
        if pop["history"] else []
    pop["order_rows"] = [{**row, "open": raw["open"]} for row, raw in zip(
        format_rows(ctx, entities["work_order"], ORDER_COLUMNS, pop["work_orders"]), pop["work_orders"], strict=True)] \
        if pop["work_orders"] else []
    return pop


def prefilled(ctx: ViewContext, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """The defaults of a new record opened from the desktop: the call's ``values`` over the entity's ``now``
    times resolved (the form shows a default as it is, and "now" is no time it can show)."""
    now = datetime.now().replace(second=0, microsecond=0)
    meta = ctx.platform.metadata.entities[entity]
    out: dict[str, Any] = {f.name: now for f in meta.active_fields if f.type == "datetime" and f.default == "now"}
    out.update({k: v for k, v in values.items() if v not in (None, "")})
    return out


class PopupForm(FormView):
    """A form screen shown read-only on a record already read (the screen-pop read it, audited, once)."""

    def __init__(self, ctx: ViewContext, screen: Screen, record: Record) -> None:
        super().__init__(ctx, screen, record.id)
        self.record = record

    @property
    def editable(self) -> bool:
        return False

    async def load(self) -> None:
        self.render()


class CallPanel:
    def __init__(self, ctx: ViewContext, strip: ui.element, body: ui.element,
                 link: Callable[[int], Awaitable[None]]) -> None:
        self.ctx, self.link = ctx, link
        self.t = Words(ctx.language)
        self.pop: dict[str, Any] | None = None
        self.contact_serial: str | None = None
        """The serial number of the call's contact record once it exists (a new work order links to it)."""
        with strip:
            self.info = ui.row().classes("items-center gap-4").mark("pop-strip")
            ui.space()
            self.shortcuts()
        self.body = body
        self.clear()

    # ---------------------------------------------------------------------------------- shortcuts
    def shortcuts(self) -> None:
        metadata, actor = self.ctx.platform.metadata, self.ctx.actor
        with ui.row().classes("items-center gap-1"):
            for name, key, icon, screen, handler in (
                    ("customer", "shell.shortcut.customer", "person_search", "customer_list", self.open_customer),
                    ("work_order", "shell.shortcut.work_order", "assignment_add", "work_order_form",
                     self.new_work_order),
                    ("knowledge", "desk.shortcut.knowledge", "menu_book", "knowledge_article_list", None),
                    ("blacklist", "shell.shortcut.blacklist", "block", "blacklist_list", None)):
                if can_open(actor, metadata, "screen", screen):
                    click: Callable[[], Any] = handler or partial(self.ctx.open, "screen", screen)
                    ui.button(self.t(key), icon=icon, on_click=click).props("dense flat no-caps") \
                        .mark(f"shortcut-{name}")
            queries = [q for q in metadata.queries.values() if can_open(actor, metadata, "query", q.name)]
            if queries:
                with ui.button(self.t("desk.shortcut.queries"), icon="query_stats").props("dense flat no-caps") \
                        .mark("shortcut-queries"), ui.menu():
                    for query in queries:
                        ui.menu_item(self.t.label(query.title, query.name),
                                     on_click=lambda n=query.name: self.ctx.open("query", n))

    def open_customer(self) -> None:
        customer_id = self.pop.get("customer_id") if self.pop else None
        if customer_id:
            self.ctx.open("record", "customer_form", record_id=int(customer_id))
        else:
            self.ctx.open("screen", "customer_list")

    def new_work_order(self) -> None:
        pop = self.pop or {}
        customer = pop.get("customer") or {}
        call = {"customer": pop.get("customer_id"), "contact": self.contact_serial, "agent": self.ctx.actor.username,
                "city": customer.get("city")}
        self.ctx.open("record", "work_order_form", defaults=prefilled(self.ctx, "work_order", call))

    def new_customer(self) -> None:
        number = (self.pop or {}).get("caller_number")
        self.ctx.open("record", "customer_form", defaults=prefilled(self.ctx, "customer", {"phone": number}))

    # -------------------------------------------------------------------------------------- showing
    def clear(self) -> None:
        self.pop, self.contact_serial = None, None
        self.info.clear()
        with self.info:
            ui.label(self.t("desk.no_call")).classes("text-grey-7")
        self.body.clear()
        with self.body:
            ui.label(self.t("desk.no_call")).classes("text-grey-7 q-pa-md")

    def show(self, pop: dict[str, Any]) -> None:
        """Show the pop of a call (a new call, or the same call with a customer linked)."""
        if self.pop is None or self.pop["call_id"] != pop["call_id"]:
            self.contact_serial = None
        self.pop = pop
        self.show_strip(pop)
        self.body.clear()
        with self.body:
            for notice in pop["notices"]:
                with ui.card().classes("w-full bg-orange-1 desk-notice").props("flat bordered"):
                    ui.label(f"{self.t('desk.notice')}: {notice['title']}").classes("text-subtitle2 text-deep-orange")
                    ui.label(notice["text"] or "").classes("text-body2")
            with ui.row().classes("w-full no-wrap items-start gap-4"):
                with ui.column().classes("w-1/2 gap-1"):
                    self.customer_block(pop)
                with ui.column().classes("w-1/2 gap-1"):
                    ui.label(self.t("desktop.ivr_trail")).classes("text-subtitle1 text-primary")
                    rows = [{"id": i, **step} for i, step in enumerate(pop["trail"])]
                    for row in rows:
                        row["rule"] = row["rule"] or row["choice"]
                    self.table(TRAIL_COLUMNS, {c: self.t(f"ivr.trail.{c}") for c in TRAIL_COLUMNS}, rows, "pop-trail")
            if pop["customer"] is not None:
                with ui.row().classes("w-full no-wrap items-start gap-4"):
                    with ui.column().classes("w-1/2 gap-1"):
                        ui.label(self.t("desktop.contact_history")).classes("text-subtitle1 text-primary")
                        self.entity_table("contact_record", HISTORY_COLUMNS, pop["history_rows"], "pop-history",
                                          "contact_record_form")
                    with ui.column().classes("w-1/2 gap-1"):
                        ui.label(self.t("desk.work_orders")).classes("text-subtitle1 text-primary")
                        self.entity_table("work_order", ORDER_COLUMNS, pop["order_rows"], "pop-orders",
                                          "work_order_form")

    def show_strip(self, pop: dict[str, Any]) -> None:
        customer = pop["customer"] or {}
        self.info.clear()
        with self.info:
            ui.icon("phone_in_talk", color="primary", size="sm")
            for key, value, marker in (("desktop.customer.caller_number", pop["caller_number"], "pop-caller"),
                                       ("desktop.customer.serial_no", pop["serial_no"], "pop-serial"),
                                       ("desktop.customer.name",
                                        customer.get("name") or self.t("desktop.customer.unknown"), "pop-name")):
                with ui.column().classes("gap-0"):
                    ui.label(self.t(key)).classes("text-caption text-grey-7")
                    ui.label(str(value or "—")).classes(f"text-body1 text-bold {marker}").mark(marker)
            ui.badge(pop["tier_label"], color=pop["tier_colour"]).classes("text-body2").mark("pop-tier")
            region = " ".join(dict.fromkeys(x for x in (pop["city_label"], pop["region_label"]) if x))
            if region:
                ui.label(f"{self.t('desktop.customer.region')}: {region}").mark("pop-region")
            if customer.get("blacklisted"):
                ui.badge(self.t("desktop.customer.blacklisted"), color="negative")

    def customer_block(self, pop: dict[str, Any]) -> None:
        screen = self.ctx.platform.metadata.screens.get(POPUP_SCREEN)
        if pop["customer"] is not None and screen is not None:
            record = Record("customer", pop["customer"], frozenset(pop["customer_masked"]))
            PopupForm(self.ctx, screen, record)
            return
        ui.label(self.t("desktop.customer.unknown")).classes("text-h6").mark("pop-unknown")
        if pop["customer_outside"]:
            ui.label(self.t("desk.customer.outside")).classes("text-caption text-warning")
        with ui.row().classes("items-end gap-2") as row:
            search = ui.input(self.t("desk.customer.search"), value=pop["caller_number"]).mark("pop-search")
        results = ui.column().classes("w-full gap-0")
        with row:
            ui.button(icon="search", on_click=lambda: self.search(search.value, results)).props("dense") \
                .mark("pop-search-go")
            if self.ctx.actor.can("customer", "create"):
                ui.button(self.t("desk.customer.new"), icon="person_add", on_click=self.new_customer) \
                    .props("dense outline no-caps").mark("pop-new-customer")

    async def search(self, text: str, results: ui.column) -> None:
        """Quick search of the customers the agent may see; a click links the caller to one."""
        if not self.ctx.actor.can("customer", "read"):
            return
        page = await run.io_bound(self.ctx.platform.records.list_page, self.ctx.actor,
                                  ListQuery(entity="customer", search=(text or "").strip() or None, page_size=10,
                                            count_cap=10), purpose="lookup")
        if page is None:
            return
        results.clear()
        with results:
            if not page.rows:
                ui.label(self.t("list.no_rows")).classes("text-grey-7")
            for row in page.rows:
                ui.button(f"{row.get('name')} · {row.get('customer_no')} · {row.get('phone') or ''}",
                          icon="link", on_click=lambda cid=row["id"]: self.link(int(cid))) \
                    .props("flat dense no-caps align=left").classes("w-full").mark("pop-search-result")

    # --------------------------------------------------------------------------------------- tables
    def table(self, columns: list[str], labels: dict[str, str], rows: list[dict[str, Any]], marker: str) -> ui.table:
        cols = [{"name": c, "field": c, "label": labels.get(c, c), "align": "left"} for c in columns]
        return ui.table(columns=cols, rows=rows, row_key="id").classes(f"w-full {marker}") \
            .props(f'flat dense bordered no-data-label="{self.t("form.no_related")}"').mark(marker)

    def entity_table(self, entity: str, columns: list[str], rows: list[dict[str, Any]], marker: str,
                     form: str) -> None:
        meta = self.ctx.platform.metadata.entities[entity]
        labels = {c: self.t.label(f.label if (f := meta.any_field(c)) else None, c) for c in columns}
        table = self.table(columns, labels, rows, marker)
        table.on("row-click", lambda e: self.ctx.open(
            "record", form, record_id=int((e.args[1] if isinstance(e.args, list) else e.args)["id"])))
