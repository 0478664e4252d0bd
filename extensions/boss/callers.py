"""The pop of a caller no local customer matches: BOSS is asked by the caller's number (one request of at most
0.8 s inside the extension's 1 s limit); a customer BOSS knows is created or updated locally (:mod:`.local`:
the nightly sync's mapping, the record service, one transaction) and kept as its account, so the next call
finds them locally, and the pop shows BOSS's account number, balance and products marked as coming from the
billing system. BOSS not knowing the number, or refusing, gives the plain unknown-caller pop.

BOSS unreachable or too slow: the pop goes on without it, a warning is logged once per outage (and an
information when BOSS answers again), and for :data:`HOLD_S` after a failure the pops do not ask at all, so a
billing system that is down costs the agents no second per unknown caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from helpline.extension_registry import PopFound, PopLookup
from helpline.services.imports.sources import SourceError

from . import _url, fetch_item, local, store

log = logging.getLogger("extensions.boss")
HOLD_S = 30.0
"""After BOSS failed a pop's request, the pops do not ask it for this long."""


class Outage:
    """Whether BOSS (one address) is failing: the first failure is logged as a warning, the next ones of the
    same outage are not; :meth:`holding` while the pops leave BOSS alone."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.until: dict[str, float] = {}
        self.warned: set[str] = set()

    def holding(self, url: str) -> bool:
        with self.lock:
            return self.clock() < self.until.get(url, 0.0)

    def failed(self, url: str, error: Exception) -> None:
        with self.lock:
            self.until[url] = self.clock() + HOLD_S
            if url in self.warned:
                return
            self.warned.add(url)
        log.warning("boss: the billing system does not answer (%s); pops of unknown callers go on without it and "
                    "ask again every %g s", error, HOLD_S)

    def answered(self, url: str) -> None:
        with self.lock:
            self.until.pop(url, None)
            back = url in self.warned
            self.warned.discard(url)
        if back:
            log.info("boss: the billing system answers again (%s)", url)


OUTAGE = Outage()


def pop_customer(lookup: PopLookup) -> PopFound | None:
    """``POP_LOOKUPS["customer"]``: see the module docstring."""
    phone = "".join(c for c in lookup.caller_number if c.isdigit())
    if not phone:
        return None
    try:
        params = local.params(lookup.platform)
    except LookupError:  # no BOSS interface defined on this site
        return None
    url = _url(params)
    if OUTAGE.holding(url):
        return None
    try:
        item = fetch_item(None, phone, params)
    except SourceError as exc:
        OUTAGE.failed(url, exc)
        return None
    OUTAGE.answered(url)
    if item is None:
        return None
    try:
        customer_id = local.save_customer(lookup.platform, item)
    except local.NotStored as exc:
        log.warning("%s; the pop shows the caller as unknown", exc)
        return None
    store.save_accounts([store.account_row(item)])
    products = tuple(str(p.get("name") or p.get("code") or "") for p in item.get("products") or []
                     if isinstance(p, dict))
    return PopFound(customer_id, account_no=str(item["cust_no"]), balance=local.money(item), products=products)
