"""Screen-pop: everything the agent desktop shows about a call the moment it is offered.

:func:`screen_pop` gathers, as the agent (so row scope, field masks and the audit of customer reads apply),
the caller number, the serial number (流水号), the customer (or None: unknown caller), tier and its badge colour,
region and city names, the IVR trail so far, the customer's last contact records, open and recent work orders
(with their process's state and resolution deadline), and the active outage notices of the caller's region.
The trail comes from the router's copy of the call (``CallRequest.context["trail"]``, set by the transfer
node) while the call is routed, else from the closed call record. :func:`open_contact_record` creates (or
finds again) the contact record of a call when the agent answers it.

Plain blocking functions: call them from NiceGUI with ``await run.io_bound(...)``.

The pop is on the path from the router's decision to the agent's screen (issue 22: p95 < 200 ms at 500
desktops over two processes on PostgreSQL), so it reads in few round trips, on ONE pooled connection: the call
record, the customer (and its audit row), the history, the orders and their processes' state — five or six
statements. The region and city names come from the caller identifier's region table (cached per process,
reloaded every minute and after a metadata change, as the IVR reads it) when the agent reads regions without a
row scope or a mask on their names, else from the database as the agent; the lists are read without counting
their rows (``count_cap=0``).

```python
pop = screen_pop(platform, actor, call_id, language="en")
pop["serial_no"], pop["customer"]["name"], pop["tier_colour"], [s["digits"] for s in pop["trail"]]
record = open_contact_record(platform, actor, pop)      # contact_record with serial no., customer, agent
```
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from helpline.data.calls import Call
from helpline.data.conditions import TRUE, Cmp
from helpline.data.database import session
from helpline.data.query import ListQuery
from helpline.extension_registry import PopLookup, registry
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.calls import CallService
from helpline.services.lookup import find_customer_by_phone
from helpline.services.platform import Platform
from helpline.services.records import Record, RecordNotFound, ValidationFailed
from helpline.services.surveys import land_pending
from helpline.services.workflow.process_view import progress
from telephony.ivr.identify import CallerIdentifier
from telephony.router.model import CallRequest

__all__ = ["TIER_COLOURS", "current_call", "open_contact_record", "screen_pop", "serial_number", "trail_text"]

TIER_COLOURS = {"platinum": "deep-purple-7", "diamond": "light-blue-8", "gold": "amber-8", "silver": "blue-grey-5",
                "vip": "purple-6", "ordinary": "grey-6"}
"""Badge colour (Quasar palette) per tier code; a code without one takes its parent's (any VIP card)."""
HISTORY_ROWS = 5
ORDER_ROWS = 8
CLOSED_ORDERS = frozenset({"closed", "withdrawn"})
_IDENTIFIERS: dict[int, CallerIdentifier] = {}


def serial_number(call_id: int, started_at: datetime | None = None) -> str:
    """The serial number (流水号) of a call: the local date it started and the call id in 8 digits,
    ``2026111400000042`` (16 digits, apart from the demo data's 15)."""
    when = started_at or datetime.now(UTC).replace(tzinfo=None)
    local = when.replace(tzinfo=UTC).astimezone() if when.tzinfo is None else when.astimezone()
    return f"{local:%Y%m%d}{call_id:08d}"


def tier_colour(platform: Platform, tier: str | None) -> str:
    tree = platform.metadata.categories.get("value_tier")
    code = tier
    while code:
        if code in TIER_COLOURS:
            return TIER_COLOURS[code]
        node = tree.node(code) if tree is not None else None
        code = node.parent if node is not None else None
    return TIER_COLOURS["ordinary"]


def _request(platform: Platform, call_id: int) -> CallRequest | None:
    """The router's request of a call still waiting, ringing or talking (None once it is over)."""
    router = platform.router
    if router is None:
        return None

    def read(r: Any) -> CallRequest | None:
        call = r.waiting.get(call_id) or r.active.get(call_id)
        return call.request if call is not None else None

    found: CallRequest | None = router.do(read)
    return found


def current_call(platform: Platform, number: str) -> int | None:
    """The call agent ``number`` is offered or talking on, or, in wrap-up, the call it just finished."""
    def read(r: Any) -> tuple[int | None, str | None]:
        agent = r.agents.get(number)
        return (agent.call_id, str(agent.state)) if agent is not None else (None, None)

    if platform.router is None:
        return None
    call_id, state = platform.router.do(read)
    if call_id:
        return int(call_id)
    if state != "wrap_up":
        return None
    with session():
        row = Call.select(Call.id).where(Call.agent == number).order_by(Call.id.desc()).first()
    return int(row.id) if row is not None else None


def _steps(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trail as the desktop shows it: node, type, digits, the choice or rule that decided, next."""
    out = []
    for step in trail:
        rule = step.get("rule")
        out.append({"node": step.get("node", ""), "type": step.get("type", ""),
                    "digits": " ".join(str(d) for d in step.get("digits") or []),
                    "choice": step.get("choice") or "",
                    "rule": rule.get("source", "") if isinstance(rule, dict) else "",
                    "next": step.get("next") or step.get("outcome") or ""})
    return out


def trail_text(trail: list[dict[str, Any]]) -> str:
    """The trail in a few lines for the contact record (``main_menu (menu) 0 → to_agent``)."""
    lines = []
    for s in trail:
        decided = s["digits"] or s["rule"]
        lines.append(f"{s['node']} ({s['type']})" + (f" {decided}" if decided else "")
                     + (f" → {s['next']}" if s["next"] else ""))
    return "\n".join(lines)


def _customer(platform: Platform, actor: Actor, customer_id: int | None) -> tuple[Record | None, bool]:
    """The customer as the agent may see it (an audited read); (None, True) when outside its scope."""
    if customer_id is None:
        return None, False
    try:
        return platform.records.get(actor, "customer", customer_id), False
    except (RecordNotFound, PermissionDenied):
        return None, True


def _rows(platform: Platform, actor: Actor, entity: str, where: Cmp, sort: list[tuple[str, bool]],
          size: int) -> list[dict[str, Any]]:
    """At most ``size`` rows as the agent may see them, without counting the rest (one statement)."""
    if entity not in platform.metadata.entities or not actor.can(entity, "read"):
        return []
    page = platform.records.list_page(actor, ListQuery(entity=entity, where=where, sort=sort, page_size=size,
                                                       count_cap=0), purpose="read")
    return page.rows


REGION_NAME_FIELDS = frozenset({"code", "name", "name_en"})


def _region_names(platform: Platform, actor: Actor, codes: list[str], language: str) -> dict[str, str]:
    """The names of region codes in the agent's language: from the caller identifier's cached region table when
    the agent reads every region with these fields unmasked (what the database would give them), else read as
    the agent."""
    wanted = [c for c in dict.fromkeys(codes) if c]
    if not wanted or "region" not in platform.metadata.entities or not actor.can("region", "read"):
        return {}
    if platform.records.scope(actor, "region") == TRUE and not REGION_NAME_FIELDS & set(actor.masks("region")):
        regions = _identifier(platform).regions()
        if regions:
            found = [(code, regions[code]) for code in wanted if code in regions]
            return {code: (info.name_en if language == "en" else None) or info.name or code for code, info in found}
    rows = _rows(platform, actor, "region", Cmp("code", "in", wanted), [], len(wanted))
    return {str(r["code"]): str((r.get("name_en") if language == "en" else None) or r.get("name") or r["code"])
            for r in rows}


def _identifier(platform: Platform) -> CallerIdentifier:
    found = _IDENTIFIERS.get(id(platform))
    if found is None or found.platform is not platform:
        found = _IDENTIFIERS[id(platform)] = CallerIdentifier(platform)
    return found


def screen_pop(platform: Platform, actor: Actor, call_id: int, *, customer_id: int | None = None,
               language: str = "zh_CN") -> dict[str, Any]:
    """Everything the desktop shows about call ``call_id`` (see the module docstring); ``customer_id``
    links another customer (the agent found the unknown caller). Its reads share one pooled connection.

    A caller no local customer matches (and none outside the agent's scope) is looked up by the extensions'
    ``POP_LOOKUPS`` (the billing system, within its extension's time limit): a customer found there is created
    locally by the extension and the pop shows it as the agent reads it, with ``billing`` (account, balance
    unless the agent's masks hide it, products) marked as the billing system's."""
    with session():
        pop = _screen_pop(platform, actor, call_id, customer_id, language)
    if customer_id is None and pop["customer_id"] is None and not pop["customer_outside"] and pop["caller_number"]:
        found = registry().lookup_caller(PopLookup(platform, str(pop["caller_number"]), call_id))
        if found is not None:
            with session():
                fetched = _screen_pop(platform, actor, call_id, found.customer_id, language)
            if fetched["customer_id"] is not None:  # the agent may see them
                pop = fetched
                masked = "balance" in pop["customer_masked"]
                pop["billing"] = {"account_no": found.account_no, "products": list(found.products),
                                  "balance": None if masked else found.balance}
    return pop


def _screen_pop(platform: Platform, actor: Actor, call_id: int, customer_id: int | None,
                language: str) -> dict[str, Any]:
    record = CallService().get(call_id) or {}
    request = _request(platform, call_id)
    context = request.context if request is not None else {}
    number = (request.caller_number if request is not None else "") or str(record.get("caller_number") or "")
    if customer_id is None:
        known = (context.get("customer") or {}).get("id") or record.get("customer_id")
        if known is None and number:
            found = find_customer_by_phone(platform, number)
            known = found.get("id") if found else None
        customer_id = int(known) if known is not None else None
    customer, outside = _customer(platform, actor, customer_id)
    values = customer.values if customer is not None else {}
    # the record's tier (the one the pop found, or a lookup created: the IVR knew no customer and said ordinary);
    # the IVR's only without a record, or when the agent may not see the record's
    own = values.get("value_tier") if customer is not None and "value_tier" not in customer.masked else None
    tier = own or (request.tier if request is not None else None) or record.get("tier") or "ordinary"
    region = (request.region if request is not None else None) or record.get("region") or values.get("county")
    city = (request.city if request is not None else None) or record.get("city") or values.get("city")
    tiers = platform.metadata.categories.get("value_tier")
    node = tiers.node(str(tier)) if tiers is not None else None
    names = _region_names(platform, actor, [str(region or ""), str(city or "")], language)
    history: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    if customer is not None:
        history = _rows(platform, actor, "contact_record", Cmp("customer", "eq", customer.id),
                        [("started_at", True)], HISTORY_ROWS)
        recent = _rows(platform, actor, "work_order", Cmp("customer", "eq", customer.id), [("accepted_at", True)],
                       ORDER_ROWS * 3)
        steps = progress(platform.workflows, "work_order", [int(r["id"]) for r in recent])
        for r in recent:  # a governed order is open until its process closes it; others by their status
            step = steps.get(int(r["id"]))
            r["open"] = step["open"] if step else r.get("status") not in CLOSED_ORDERS
            r["wf_state_label"] = step["state_label"] if step else None
            r["resolution_due"] = step["resolution_due"] if step else None
        open_first = sorted(recent, key=lambda r: not r["open"])
        orders = open_first[:ORDER_ROWS]
    notices = [{"id": n.id, "title": n.title, "region": n.region, "text": n.text.get(language) or n.text.get("zh_CN")}
               for n in _identifier(platform).outages_for(region, city)]
    trail = context.get("trail") if request is not None else None
    return {
        "call_id": call_id, "serial_no": serial_number(call_id, record.get("started_at")),
        "caller_number": number, "access_number": record.get("dnid") or "",
        "direction": "outbound" if record.get("direction") == "outbound" else "inbound",
        "queue": request.queue if request is not None else record.get("queue"),
        "customer": values or None, "customer_id": customer.id if customer is not None else None,
        "customer_masked": sorted(customer.masked) if customer is not None else [],
        "customer_outside": outside,
        "tier": tier, "tier_label": node.label.get(language) if node is not None else str(tier),
        "tier_colour": tier_colour(platform, str(tier)),
        "region": region, "city": city,
        "region_label": names.get(str(region or ""), str(region or "")),
        "city_label": names.get(str(city or ""), str(city or "")),
        "trail": _steps(trail if isinstance(trail, list) else record.get("trail") or []),
        "history": history, "work_orders": orders, "notices": notices,
    }


def open_contact_record(platform: Platform, actor: Actor, pop: dict[str, Any]) -> Record:
    """The contact record of the popped call: found again by its serial number, or created (customer, caller
    and access number, agent, start time, IVR trail). Two desktops of one agent create it once."""
    serial = pop["serial_no"]

    def existing() -> Record | None:
        rows = _rows(platform, actor, "contact_record", Cmp("serial_no", "eq", serial), [], 1)
        return platform.records.get(actor, "contact_record", int(rows[0]["id"])) if rows else None

    found = existing()
    if found is not None:
        return found
    values = {"serial_no": serial, "customer": pop.get("customer_id"), "caller_number": pop["caller_number"] or None,
              "access_number": pop.get("access_number") or None, "direction": pop.get("direction") or "inbound",
              "agent": actor.username, "started_at": datetime.now().replace(microsecond=0),
              "ivr_trail": trail_text(pop["trail"]) or None}
    try:
        created = platform.records.create(actor, "contact_record", {k: v for k, v in values.items() if v is not None})
    except ValidationFailed as exc:
        found = existing() if "serial_no" in exc.errors else None  # the agent's other desktop was quicker
        if found is None:
            raise
        return found
    if land_pending(platform, int(pop["call_id"]), serial) is not None:  # the caller's survey came first
        return platform.records.get(actor, "contact_record", created.id)
    return created
