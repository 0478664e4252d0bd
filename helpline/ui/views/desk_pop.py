"""The screen-pop of the agent desktop: the customer strip in the desktop frame (caller number, serial number,
name, tier badge, region, shortcuts into the work area) and the call details in the work area's call tab —
the customer block (the ``customer_popup`` screen, read-only, through the form machinery) or, for an
unknown caller, a quick search to link a customer and a button to create one; the outage notices of the
caller's region; the IVR trail; the customer's contact history and open and recent work orders.

The data comes from :func:`telephony.desk.screenpop.screen_pop`; :func:`load_pop` adds, on the same worker
thread, the formatted table rows and the customer block as HTML (:func:`customer_html`: the screen's sections
and fields with their display values, one element instead of a read-only form of ~60).

The pop is built when a call is offered and filled again while its elements exist (a call offered before the
last one was finished: texts, table rows, the block's HTML, visibility); once the call is finished (wrap-up over,
its contact record filed or closed) the desktop releases it (:meth:`CallPanel.release`): the strip and the call
tab return to their idle placeholders and the elements are deleted — an element costs ≈ 4 KB of server memory,
and a desktop is idle most of the day (issue 22: memory per desktop with calls flowing). The unknown caller's
search block, the outage notices and the blacklist badge are built only for a call that needs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from html import escape
from typing import Any

from nicegui import run, ui
from nicegui.events import GenericEventArguments

from helpline.data.base import utcnow
from helpline.data.query import MAX_SEARCH_LENGTH, ListQuery, QueryError
from helpline.services.access import can_open
from telephony.desk.orders import order_from_call
from telephony.desk.screenpop import screen_pop

from .. import gc_tuning
from .base import ViewContext
from .desk_status import Words
from .display import node_type_label, show, trail_outcome
from .list_view import format_rows
from .process_panel import time_left

POPUP_SCREEN = "customer_popup"
HISTORY_COLUMNS = ["serial_no", "started_at", "direction", "agent", "disposition", "remarks"]
ORDER_COLUMNS = ["order_no", "type", "status", "title", "accepted_at"]
TRAIL_COLUMNS = ["node", "type", "digits", "rule", "next"]
BUILT_PER_CALL = ("caller", "serial", "name", "tier", "region", "customer", "trail", "related", "history", "orders",
                  "outside", "search_input", "results")
""":class:`CallPanel`'s attributes holding elements built for a call (by ``build_strip``, ``build``,
``unknown_block``), dropped when the call is released."""
DESK_STYLE = """
document.head.insertAdjacentHTML("beforeend", "<style>" +
  ".desk-strip-value::before { content: attr(data-caption); display: block; font-size: .75rem; font-weight: 400; " +
  "line-height: 1.25rem; color: #757575; } " +
  ".desk-section::before { content: attr(data-caption); grid-column: 1 / -1; font-size: 1rem; " +
  "line-height: 1.75rem; color: var(--q-primary); } " +
  ".desk-counter { text-align: center; } .desk-counter::before { font-family: var(--q-font-family, sans-serif); } " +
  ".desk-sep { border-left: 1px solid rgba(0,0,0,.12); margin-left: 4px; padding-left: 4px; } " +
  ".desk-rule { border-top: 1px solid rgba(0,0,0,.12); padding-top: 8px; } " +
  ".desk-pop-part { flex: 1 1 20rem; min-width: 0; } .desk-pop-table { min-width: min-content; }</style>");
"""
"""Captions drawn by the browser from an element's ``data-caption``: above each value of the customer strip and of
the status panel's counters (one element per value instead of a column, a caption label and a value label) and as
the first row of each section grid of the contact record form (no title label); the toolbar's group rules
(``desk-sep``) and the card's (``desk-rule``) are borders, not separator elements. The pop's parts (``desk-pop-part``)
share their row, each at least 20rem, and a table (``desk-pop-table``) never gets narrower than its columns' longest
words: when the customer block leaves the IVR trail too little room (1366x768 beside the knowledge panel), the trail
wraps onto a full-width row of its own below it, as do the contact history and the work orders. Installed once per
page with the desktop's script."""


def load_pop(ctx: ViewContext, call_id: int, customer_id: int | None = None) -> dict[str, Any]:
    """The screen-pop of a call with its history and work orders formatted for tables (blocking)."""
    pop = screen_pop(ctx.platform, ctx.actor, call_id, customer_id=customer_id, language=ctx.language)
    entities = ctx.platform.metadata.entities
    pop["history_rows"] = format_rows(ctx, entities["contact_record"], HISTORY_COLUMNS, pop["history"]) \
        if pop["history"] else []
    pop["order_rows"] = [{**row, **progress_cells(ctx, raw)} for row, raw in zip(
        format_rows(ctx, entities["work_order"], ORDER_COLUMNS, pop["work_orders"]), pop["work_orders"], strict=True)] \
        if pop["work_orders"] else []
    pop["customer_html"] = customer_html(ctx, pop["customer"], outbound=pop.get("direction") == "outbound")
    if pop.get("billing"):  # fetched from the billing system just now: said so above the customer block
        pop["customer_html"] = billing_html(ctx, pop["billing"]) + pop["customer_html"]
    return pop


def billing_html(ctx: ViewContext, billing: dict[str, Any]) -> str:
    """What the billing system told of a caller it knew and Helpline did not (``screen_pop``'s ``billing``):
    account, balance (unless masked) and products, marked as coming from there; escaped HTML."""
    t = Words(ctx.language)
    items = [("account", billing.get("account_no") or "—"),
             *([("balance", f"{billing['balance']:.2f}")] if billing.get("balance") is not None else []),
             ("products", "、".join(billing.get("products") or []) or "—")]
    cells = "".join(f'<div><div class="text-caption text-grey-7">{escape(t(f"desk.billing.{key}"))}</div>'
                    f'<div class="text-body2">{escape(str(value))}</div></div>' for key, value in items)
    return ('<div class="desk-billing q-pa-sm q-mb-sm rounded-borders bg-blue-1">'
            f'<div class="text-subtitle2 text-primary">{escape(t("desk.billing.from"))}</div>'
            f'<div style="display: flex; flex-wrap: wrap; gap: 4px 24px">{cells}</div></div>')


def progress_cells(ctx: ViewContext, raw: dict[str, Any]) -> dict[str, Any]:
    """An order's process on the pop: the state in the user's words (over the status code) and the time left to
    its resolution deadline while it is open."""
    cells: dict[str, Any] = {"open": raw["open"], "left": ""}
    state = raw.get("wf_state_label")
    if state is not None:
        cells["status"] = state.get(ctx.language) if hasattr(state, "get") else str(state)
    due = raw.get("resolution_due")
    if due is not None and raw["open"]:
        cells["left"] = time_left((due - utcnow()).total_seconds(), ctx.language)
        cells["overdue"] = due < utcnow()
    return cells


def customer_html(ctx: ViewContext, values: dict[str, Any] | None, *, outbound: bool = False) -> str:
    """The customer block: the ``customer_popup`` screen's sections and fields, read-only, with the values as
    lists show them (masked values as read); escaped HTML ("" for no customer or no screen). Titled by the screen
    ("Caller"), on an ``outbound`` call by its entity ("Customer": the agent called them)."""
    metadata = ctx.platform.metadata
    screen = metadata.screens.get(POPUP_SCREEN)
    if values is None or screen is None:
        return ""
    entity = metadata.entities[screen.entity]
    t = Words(ctx.language)
    title = t.label(entity.label, entity.name) if outbound else t.label(screen.title, screen.name)
    if entity.title_field and values.get(entity.title_field):
        title = f"{title}: {values[entity.title_field]}"
    parts = [f'<div class="text-h6">{escape(title)}</div>']
    for section in screen.layout:
        cells = []
        for ref in section.refs():
            field = entity.any_field(ref.field)
            if field is None:
                continue
            caption = t.label(ref.label) if ref.label else t.label(field.label, field.name)
            text = show(field, values.get(ref.field), metadata, language=ctx.language)
            cells.append(f'<div class="field-{escape(ref.field)}" style="grid-column: span '
                         f'{min(ref.span, section.columns)}"><div class="text-caption text-grey-7">{escape(caption)}'
                         '</div><div class="text-body2" style="white-space: pre-line">'
                         f'{escape(text) or "—"}</div></div>')
        parts.append('<div class="q-pa-sm q-mb-sm rounded-borders" style="border: 1px solid rgba(0,0,0,.12)">'
                     f'<div class="text-subtitle1 text-primary">{escape(t.label(section.title))}</div>'
                     f'<div style="display: grid; grid-template-columns: repeat({section.columns}, minmax(0, 1fr)); '
                     f'gap: 4px 16px">{"".join(cells)}</div></div>')
    return "".join(parts)


def prefilled(ctx: ViewContext, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """The defaults of a new record opened from the desktop: the call's ``values`` over the entity's ``now``
    times resolved (the form shows a default as it is, and "now" is no time it can show)."""
    now = utcnow().replace(second=0, microsecond=0)  # stored in UTC like every time
    meta = ctx.platform.metadata.entities[entity]
    out: dict[str, Any] = {f.name: now for f in meta.active_fields if f.type == "datetime" and f.default == "now"}
    out.update({k: v for k, v in values.items() if v not in (None, "")})
    return out


class CallPanel:
    def __init__(self, ctx: ViewContext, strip: ui.element, body: ui.element,
                 link: Callable[[int], Awaitable[None]]) -> None:
        self.ctx, self.link = ctx, link
        self.t = Words(ctx.language)
        self.pop: dict[str, Any] | None = None
        self.contact_serial: str | None = None
        """The serial number of the call's contact record once it exists (a new work order links to it)."""
        self.contact_values: Callable[[], dict[str, Any]] | None = None
        """The contact record's values as the agent has them (set by the desktop; a new work order reads them)."""
        self.notice_keys: tuple[Any, ...] = ()
        self.notices: ui.column | None = None
        """The outage notices, built at the first call with notices."""
        self.blacklisted: ui.badge | None = None
        """The strip's blacklist badge, built at the first blacklisted caller."""
        with strip:
            self.info = ui.row().classes("items-center gap-4").mark("pop-strip")
            with self.info:
                self.idle = ui.label(self.t("desk.no_call")).classes("text-grey-7")
            self.shortcuts()
        self.strip_built = False
        self.body = body
        self.details: ui.column | None = None
        self.top: ui.row | None = None
        self.unknown: ui.column | None = None
        """The unknown caller's search block, built at the first unknown caller in the customer block's place."""
        """The call tab's contents, built at the first call and filled again for every call."""
        with self.body:
            self.no_call = ui.label(self.t("desk.no_call")).classes("text-grey-7 q-pa-md")
        self.clear()

    def strip_value(self, key: str, marker: str) -> ui.label:
        """A value in the customer strip with its caption above it (:data:`DESK_STYLE`)."""
        value = ui.label("").classes(f"text-body1 text-bold desk-strip-value {marker}").mark(marker)
        value._props["data-caption"] = self.t(key)
        return value

    # ---------------------------------------------------------------------------------- shortcuts
    def shortcuts(self) -> None:
        metadata, actor = self.ctx.platform.metadata, self.ctx.actor
        with ui.row().classes("items-center gap-1 q-ml-auto"):  # right-aligned: no ui.space element
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
                        .mark("shortcut-queries"):
                    menu = ui.menu().mark("shortcut-queries-menu")
                menu.on("before-show", lambda: self.query_items(menu, queries))  # built when first opened

    def query_items(self, menu: ui.menu, queries: list[Any]) -> None:
        """The queries menu's items, built the first time it opens (most agents never open it)."""
        if menu.default_slot.children:
            return
        with menu:
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
        """A new work order from the call: the contact's serial no., the customer, the caller number, the city,
        the type and title from the category chosen on the contact record, the IVR trail in the description."""
        contact = dict(self.contact_values()) if self.contact_values is not None else {}
        if self.contact_serial:
            contact["serial_no"] = self.contact_serial
        values = order_from_call(self.ctx.platform, self.pop or {}, contact, agent=self.ctx.actor.username,
                                 language=self.ctx.language)
        self.ctx.open("record", "work_order_form", defaults=prefilled(self.ctx, "work_order", values))

    def new_customer(self) -> None:
        number = (self.pop or {}).get("caller_number")
        self.ctx.open("record", "customer_form", defaults=prefilled(self.ctx, "customer", {"phone": number}))

    # -------------------------------------------------------------------------------------- showing
    def clear(self) -> None:
        self.pop, self.contact_serial = None, None
        for element in self.info:
            element.set_visibility(element is self.idle)
        self.no_call.set_visibility(True)
        if self.details is not None:
            self.details.set_visibility(False)

    def release(self) -> None:
        """The call is finished: delete the strip's values and the call tab's elements (the next call builds them
        again) and show the idle placeholders."""
        for element in list(self.info):
            if element is not self.idle:
                gc_tuning.discard(element)
        self.strip_built, self.blacklisted = False, None
        if self.details is not None:
            gc_tuning.discard(self.details)
        self.details = self.top = self.unknown = self.notices = None
        self.notice_keys = ()
        for name in BUILT_PER_CALL:  # no reference to a deleted element (its rows, its HTML) stays behind
            vars(self).pop(name, None)
        self.clear()

    def show(self, pop: dict[str, Any]) -> None:
        """Show the pop of a call (a new call, or the same call with a customer linked)."""
        if self.pop is None or self.pop["call_id"] != pop["call_id"]:
            self.contact_serial = None
        self.pop = pop
        self.show_strip(pop)
        if self.details is None:
            with self.body:
                self.build()
        assert self.details is not None
        self.no_call.set_visibility(False)
        self.details.set_visibility(True)
        self.show_notices(pop["notices"])
        known = pop["customer"] is not None and bool(pop.get("customer_html"))
        self.customer.content = pop.get("customer_html") or ""
        self.customer.set_visibility(known)
        if self.unknown is not None:
            self.unknown.set_visibility(not known)
        if not known:
            if self.unknown is None and self.top is not None:
                with self.top:
                    self.unknown = ui.column().classes("desk-pop-part gap-1")
                    self.unknown.move(target_index=1)  # in the customer block's place
                    with self.unknown:
                        self.unknown_block()
            self.outside.set_visibility(bool(pop["customer_outside"]))
            self.search_input.value = pop["caller_number"]
            self.results.clear()
        rows = [{"id": i, **step} for i, step in enumerate(pop["trail"])]
        nodes = {row["node"] for row in rows}
        for row in rows:
            row["rule"] = row["rule"] or row["choice"]
            row["type"] = node_type_label(row.get("type"), self.t.language)
            if row["next"] not in nodes:  # not the next node: the engine's outcome, worded for the user
                row["next"] = trail_outcome(row["next"], self.t.language)
        self.trail.rows = rows
        self.related.set_visibility(pop["customer"] is not None)
        self.history.rows = pop["history_rows"] if pop["customer"] is not None else []
        self.orders.rows = pop["order_rows"] if pop["customer"] is not None else []

    def build(self) -> None:
        """The call tab's elements (once): notices, customer block or search, trail, history, work orders."""
        with ui.column().classes("w-full gap-2") as self.details:
            with ui.row().classes("w-full items-start gap-4") as self.top:  # wraps: see DESK_STYLE
                self.customer = ui.html("", sanitize=False).classes("desk-pop-part desk-customer").mark("pop-customer")
                self.trail = self.table(TRAIL_COLUMNS, {c: self.t(f"ivr.trail.{c}") for c in TRAIL_COLUMNS}, [],
                                        "pop-trail", self.t("desktop.ivr_trail"))
            with ui.row().classes("w-full items-start gap-4") as self.related:
                self.history = self.entity_table("contact_record", HISTORY_COLUMNS, "pop-history",
                                                 "contact_record_form", self.t("desktop.contact_history"))
                self.orders = self.entity_table("work_order", [*ORDER_COLUMNS, "left"], "pop-orders",
                                                "work_order_form", self.t("desk.work_orders"),
                                                {"left": self.t("inbox.col.left")})

    def show_notices(self, notices: list[dict[str, Any]]) -> None:
        """The outage notices of the caller's region (built again only when they differ from the last call's)."""
        keys = tuple((n["id"], n["title"], n["text"]) for n in notices)
        if keys == self.notice_keys:
            return
        self.notice_keys = keys
        if self.notices is None:  # built at the first notice, above the customer block
            if self.details is None:
                return
            with self.details:
                self.notices = ui.column().classes("w-full gap-2")
                self.notices.move(target_index=0)
        self.notices.clear()
        with self.notices:
            for notice in notices:
                with ui.card().classes("w-full bg-orange-1 desk-notice").props("flat bordered"):
                    ui.label(f"{self.t('desk.notice')}: {notice['title']}").classes("text-subtitle2 text-deep-orange")
                    ui.label(notice["text"] or "").classes("text-body2")

    def build_strip(self) -> None:
        """The strip's values (once, at the first call: an idle desktop does without them)."""
        self.strip_built = True
        with self.info:
            ui.icon("phone_in_talk", color="primary", size="sm")
            self.caller = self.strip_value("desktop.customer.caller_number", "pop-caller")
            self.serial = self.strip_value("desktop.customer.serial_no", "pop-serial")
            self.name = self.strip_value("desktop.customer.name", "pop-name")
            self.tier = ui.badge("").classes("text-body2").mark("pop-tier")
            self.region = ui.label("").mark("pop-region")

    def show_strip(self, pop: dict[str, Any]) -> None:
        customer = pop["customer"] or {}
        if not self.strip_built:
            self.build_strip()
        self.idle.set_visibility(False)
        for element in self.info:
            if element is not self.idle:
                element.set_visibility(True)
        outbound = pop.get("direction") == "outbound"  # the agent dialled: show the number called
        self.caller.text = str((pop.get("access_number") if outbound else pop["caller_number"]) or "—")
        caption = self.t("desktop.customer.dialled" if outbound else "desktop.customer.caller_number")
        if self.caller._props.get("data-caption") != caption:
            self.caller._props["data-caption"] = caption
            self.caller.update()
        self.serial.text = str(pop["serial_no"] or "—")
        self.name.text = str(customer.get("name") or self.t("desktop.customer.unknown"))
        self.tier.text = str(pop["tier_label"])
        self.tier.props(f"color={pop['tier_colour']}")
        region = " ".join(dict.fromkeys(x for x in (pop["city_label"], pop["region_label"]) if x))
        self.region.text = f"{self.t('desktop.customer.region')}: {region}" if region else ""
        self.region.set_visibility(bool(region))
        if customer.get("blacklisted") and self.blacklisted is None:
            with self.info:
                self.blacklisted = ui.badge(self.t("desktop.customer.blacklisted"), color="negative")
        if self.blacklisted is not None:
            self.blacklisted.set_visibility(bool(customer.get("blacklisted")))

    def unknown_block(self) -> None:
        """What an unknown caller shows: a quick search (a click links the customer) and *New customer* (built at
        the desktop's first unknown caller: most desktops only see known ones)."""
        ui.label(self.t("desktop.customer.unknown")).classes("text-h6").mark("pop-unknown")
        self.outside = ui.label(self.t("desk.customer.outside")).classes("text-caption text-warning")
        with ui.row().classes("items-end gap-2"):
            self.search_input = ui.input(self.t("desk.customer.search")) \
                .props(f"maxlength={MAX_SEARCH_LENGTH}").mark("pop-search")
            ui.button(icon="search", on_click=lambda: self.search(self.search_input.value, self.results)) \
                .props("dense").mark("pop-search-go")
            if self.ctx.actor.can("customer", "create"):
                ui.button(self.t("desk.customer.new"), icon="person_add", on_click=self.new_customer) \
                    .props("dense outline no-caps").mark("pop-new-customer")
        self.results: ui.column = ui.column().classes("w-full gap-0")

    async def search(self, text: str, results: ui.column) -> None:
        """Quick search of the customers the agent may see; a click links the caller to one."""
        if not self.ctx.actor.can("customer", "read"):
            return
        try:
            page = await run.io_bound(self.ctx.platform.records.list_page, self.ctx.actor,
                                      ListQuery(entity="customer", search=(text or "").strip() or None, page_size=10,
                                                count_cap=10), purpose="lookup")
        except QueryError as exc:  # an over-long search: say so instead of keeping the old results
            results.clear()
            with results:
                ui.label(str(exc)).classes("text-negative").mark("pop-search-error")
            return
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
    def table(self, columns: list[str], labels: dict[str, str], rows: list[dict[str, Any]], marker: str,
              title: str) -> PopTable:
        """A table with its caption as its title (one HTML element, see :class:`PopTable`): beside its neighbour, or
        on a row of its own when that leaves it too little room (:data:`DESK_STYLE`)."""
        table = PopTable(columns, labels, title, self.t("form.no_related")) \
            .classes(f"desk-pop-part desk-pop-table {marker}").mark(marker)
        table.rows = rows
        return table

    def entity_table(self, entity: str, columns: list[str], marker: str, form: str, title: str,
                     extra: dict[str, str] | None = None) -> PopTable:
        meta = self.ctx.platform.metadata.entities[entity]
        labels = {c: self.t.label(f.label if (f := meta.any_field(c)) else None, c) for c in columns}
        labels.update(extra or {})
        table = self.table(columns, labels, [], marker, title)
        table.on_row_click(lambda row_id: self.ctx.open("record", form, record_id=row_id))
        return table


class PopTable(ui.html):
    """A read-only table of the pop (IVR trail, contact history, work orders) as ONE element holding its HTML:
    a ``ui.table`` cost ≈ 44 KB of server memory per desktop (its columns, rows and slots as observables), and
    a desktop keeps its pop for every later call. Setting :attr:`rows` renders the rows (escaped) on the server
    and sends one changed property; a click on a row sends its ``id`` (``row-click``), an overdue order's time
    left is red (``overdue``)."""

    def __init__(self, columns: list[str], labels: dict[str, str], title: str, empty: str) -> None:
        super().__init__("", sanitize=False)
        self.columns = columns
        head = "".join(f'<th class="text-left">{escape(labels.get(c, c))}</th>' for c in columns)
        self.head = (f'<div class="text-subtitle1 text-primary q-pb-xs">{escape(title)}</div>'
                     '<div style="overflow-x: auto">'  # a wide table scrolls inside the card, never clipped
                     '<table class="q-table q-table--dense pop-rows" style="width: 100%; border-collapse: collapse">'
                     f"<thead><tr>{head}</tr></thead><tbody>")
        self.empty = f'<tr><td colspan="{len(columns)}" class="text-grey-7">{escape(empty)}</td></tr>'
        self._rows: list[dict[str, Any]] = []
        self.classes("q-pa-sm rounded-borders").style("border: 1px solid rgba(0,0,0,.12)")

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows shown (each a dict of the columns' texts, with ``id``)."""
        return self._rows

    @rows.setter
    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows
        body = "".join(self.row_html(i, row) for i, row in enumerate(rows)) or self.empty
        self.content = f"{self.head}{body}</tbody></table></div>"

    def row_html(self, index: int, row: dict[str, Any]) -> str:
        cells = []
        for column in self.columns:
            value = row.get(column)
            text = "" if value is None else escape(str(value))
            style = ' class="text-negative text-weight-medium"' if column == "left" and row.get("overdue") else ""
            cells.append(f"<td{style}>{text}</td>")
        return f'<tr data-row="{index}" style="cursor: pointer">{"".join(cells)}</tr>'

    def on_row_click(self, handler: Callable[[int], Any]) -> None:
        """``handler(record id)`` when a row is clicked: the browser sends the row's index only."""

        def clicked(event: GenericEventArguments) -> None:
            index = event.args
            if isinstance(index, int) and 0 <= index < len(self._rows) and self._rows[index].get("id") is not None:
                handler(int(self._rows[index]["id"]))

        self.on("click", clicked, js_handler=(
            "(e) => { const row = e.target.closest('tr[data-row]'); if (row) emit(Number(row.dataset.row)); }"))
