"""The billing-system (BOSS) connector: a nightly incremental sync of customers, their products, balances and
payments, and an on-demand fetch of one customer for the IVR and the pop, bounded so a caller never waits more
than a second.

The interface's settings are metadata: the import definition ``metadata/imports/boss_customers.yaml`` names the
source ``boss.customers`` with ``params`` (``url`` — ``HELPLINE_BOSS_URL`` overrides it —, ``timeout``, ``page_size``,
``retries``) and maps BOSS's fields to the customer's; the job ``metadata/jobs/boss_nightly.yaml`` runs it at
night with retries and tells the administrators when it still fails.

- ``IMPORT_SOURCES["customers"]``: every customer BOSS added or changed after the watermark (a change sequence
  number), page by page; each request retried with back-off. The rows go through the import engine (mapping, code
  tables, validation, batches); only when the run loaded them all are the accounts (balance, products, payments)
  written and the watermark moved, so a failed night is fetched again the next time.
- ``IVR_HOOKS["balance"]``: the caller's balance into ``var.balance`` from the synced account, or fetched from
  BOSS at once when there is none (the extension's time limit of 1 s bounds it); ``params.no_customer`` names
  the node for a caller BOSS does not know either.
- ``POP_LOOKUPS["customer"]`` (:mod:`.callers`): the pop of a caller no local customer matches asks BOSS by the
  number within the same limit; a customer BOSS knows is created (or updated) locally through the record
  service and shown with BOSS's balance and products.
- ``SCHEDULED_JOBS`` ``key_persons`` (:mod:`.key_persons`): every minute, the changes of key persons (the VIP
  tiers) since the job's own watermark, so they need not wait for the night.

``python -m extensions.boss.simulator`` serves a simulated BOSS (see that module) for the demo and the tests;
``DEMO_SERVICES["simulator"]`` (:mod:`.demo`) starts one in-process for the embedded demo when no real BOSS is
meant.
"""

from __future__ import annotations

import logging
import os
import time
from decimal import Decimal
from typing import Any

from helpline.services.imports.sources import SourceError, fetch_json
from telephony.ivr.hooks import HookCall, HookFunction

from . import store

log = logging.getLogger("extensions.boss")
ON_DEMAND_TIMEOUT_S = 0.8
"""One request of the on-demand fetch; with the lookups it stays within the 1 s the caller may wait."""
DEMO_URL = ""
"""The embedded demo's simulated BOSS (:mod:`.demo`) while it runs: used instead of the definition's url
(``HELPLINE_BOSS_URL`` still comes first; with it set no simulator starts)."""


def set_demo_url(url: str) -> None:
    global DEMO_URL
    DEMO_URL = url


def _url(params: dict[str, Any]) -> str:
    url = str(os.environ.get("HELPLINE_BOSS_URL") or DEMO_URL or params.get("url") or "").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SourceError("boss: no interface address: set source.params.url of the import definition "
                          "(http://host:port) or HELPLINE_BOSS_URL", "imports.refused.boss_no_url")
    return url


def get(url: str, params: dict[str, Any], timeout: float, retries: int = 2, backoff: float = 0.5) -> Any:
    """GET JSON with retries and doubling back-off; the last failure is raised (SourceError naming the URL)."""
    for attempt in range(retries + 1):
        try:
            return fetch_json(url, params, timeout, setting="boss interface")
        except SourceError as exc:
            if attempt == retries:
                raise
            log.warning("boss: %s; retrying in %.1f s", exc, backoff * 2 ** attempt)
            time.sleep(backoff * 2 ** attempt)
    raise AssertionError("unreachable")


class ChangeFeed(list[dict[str, Any]]):
    """The changed customers of one sync; :meth:`done` (called by the import engine after a complete run) writes
    their accounts and moves the watermark."""

    def __init__(self, rows: list[dict[str, Any]], watermark: int) -> None:
        super().__init__(rows)
        self.watermark = watermark

    def done(self) -> None:
        store.save_accounts([store.account_row(r) for r in self], self.watermark)


def _page(answer: Any, url: str) -> tuple[list[dict[str, Any]], int, bool]:
    if not isinstance(answer, dict) or not isinstance(answer.get("items"), list) or \
            not isinstance(answer.get("watermark"), int):
        raise SourceError(f"boss interface {url}: the answer is not {{items: [...], watermark: <number>}}",
                          "imports.refused.boss_page", url=url)
    for i, item in enumerate(answer["items"]):
        if not isinstance(item, dict) or not item.get("cust_no"):
            raise SourceError(f"boss interface {url}: item {i + 1} has no cust_no", "imports.refused.boss_item",
                              url=url, item=i + 1)
    return answer["items"], answer["watermark"], bool(answer.get("more"))


def customers(params: dict[str, Any]) -> ChangeFeed:
    """The customers changed since the watermark (see the module docstring)."""
    url = _url(params) + "/api/changes"
    timeout = float(params.get("timeout", 10))
    retries = int(params.get("retries", 2))
    since = start = store.watermark()
    rows: list[dict[str, Any]] = []
    while True:
        items, since, more = _page(get(url, {"since": since, "limit": int(params.get("page_size", 1000))}, timeout,
                                       retries), url)
        rows.extend(items)
        if not more or not items:
            break
    log.info("boss: %d changed customers after change %d (now %d)", len(rows), start, since)
    return ChangeFeed(rows, since)


def fetch_item(customer_no: str | None = None, phone: str | None = None,
               params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One customer as BOSS answers it now (one request of at most :data:`ON_DEMAND_TIMEOUT_S`, no retry: a
    caller is waiting); None if BOSS does not know them. SourceError when BOSS cannot answer."""
    url = _url(params or {})
    try:
        if customer_no:
            answer = fetch_json(f"{url}/api/customers/{customer_no}", {}, ON_DEMAND_TIMEOUT_S, "boss interface")
        else:
            answer = fetch_json(f"{url}/api/customers", {"phone": phone}, ON_DEMAND_TIMEOUT_S, "boss interface")
    except SourceError as exc:
        if "HTTP 404" in str(exc):
            return None
        raise
    item = answer.get("customer") if isinstance(answer, dict) else None
    if not isinstance(item, dict) or not item.get("cust_no"):
        return None
    return item


def fetch_customer(customer_no: str | None = None, phone: str | None = None,
                   params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One customer from BOSS now (:func:`fetch_item`), kept as its account; None if BOSS does not know them."""
    item = fetch_item(customer_no, phone, params)
    if item is None:
        return None
    row = store.account_row(item)
    store.save_accounts([row])
    return row


def balance(call: HookCall) -> str | None:
    """Set ``var.balance`` (yuan) for the caller; see the module docstring."""
    customer_no = str(call.customer.get("customer_no") or "") if call.customer else ""
    phone = "".join(c for c in call.caller_number if c.isdigit())
    found = store.account(customer_no=customer_no) if customer_no else store.account(phone=phone)
    if found is None:
        found = fetch_customer(customer_no or None, None if customer_no else phone)
    if found is None:
        target = call.params.get("no_customer")
        if isinstance(target, str):
            return target
        raise LookupError("BOSS does not know the caller")
    call.vars["balance"] = int(Decimal(str(found["balance"])))
    return None


from . import callers, demo, key_persons  # noqa: E402  (they use the functions above)

IMPORT_SOURCES = {"customers": customers}
IVR_HOOKS: dict[str, HookFunction] = {"balance": balance}
POP_LOOKUPS = {"customer": callers.pop_customer}
SCHEDULED_JOBS = [{"name": "key_persons", "cron": "* * * * *", "run": key_persons.run,
                   "description": "bring the key persons' (VIP tiers) changes from BOSS at once, not at night"}]
DEMO_SERVICES = {"simulator": demo.start_simulator}
TIME_LIMIT_S = 1.0
