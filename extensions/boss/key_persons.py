"""Key persons synced at once: every minute (job ``boss.key_persons``, run by the metadata job
``metadata/jobs/boss_key_persons.yaml`` on the one scheduler, on the leader only) the customers BOSS changed
since this job's own watermark are read from the same change feed as the nightly sync (``/api/changes``), and
those that are key persons are written locally at once (:mod:`.local`: the nightly mapping, the record service)
with their accounts; the others wait for the night. Why a poll and not a push from BOSS: the change feed is
what the billing system offers already (a push needs the billing vendor to build and run callbacks, and a
push lost while Helpline is down needs this feed to catch up anyway); a minute's changes are one small page.

A key person: a customer whose tier, as BOSS now gives it (mapped by the definition's code table) or as the
local record has it, is one of ``source.params.key_tiers`` of the import definition ``boss_customers`` or under
one in the ``value_tier`` tree (default ``[vip]``: the four VIP cards).

The job's watermark (``key_watermark`` in ``boss_state``) survives restarts; it never starts behind the
nightly watermark (what the night loaded is loaded). A failing run raises (the metadata job tells the
administrators, as the nightly sync's does), keeps the watermark, and the runs of the next :data:`HOLD_S`
do not ask BOSS again (they say so in their result), so a long outage tells every ten minutes, not every
minute.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from helpline.data.base import utcnow
from helpline.data.database import session

from . import _page, _url, get, local, store

log = logging.getLogger("extensions.boss")
WATERMARK = "key_watermark"
HOLD = "key_hold_until"
HOLD_S = 600
"""After a failed run, the key persons' job leaves BOSS alone this long."""
TIER_FIELD = "value_tier"


def key_tiers(platform: Any, params: dict[str, Any]) -> set[str]:
    """The tier codes of key persons: ``key_tiers`` and every code under them."""
    wanted = params.get("key_tiers", ["vip"])
    codes = {str(c) for c in wanted} if isinstance(wanted, list) else {str(wanted)}
    tree = platform.metadata.categories.get(TIER_FIELD)
    if tree is None:
        return codes
    grown = True
    while grown:
        more = {n.code for n in tree.nodes if n.parent in codes} - codes
        codes |= more
        grown = bool(more)
    return codes


def _locally_key(platform: Any, numbers: list[str], tiers: set[str]) -> set[str]:
    """The customer numbers among ``numbers`` whose local record is a key person's."""
    found = local.definition(platform)
    model = platform.models[found.entity]
    column = getattr(model, found.key or "customer_no")
    out: set[str] = set()
    with session():
        for start in range(0, len(numbers), 500):
            query = model.select(column.alias("key")).where(column.in_(numbers[start:start + 500]),
                                                            getattr(model, TIER_FIELD).in_(sorted(tiers)))
            out.update(str(r["key"]) for r in query.dicts())
    return out


def run(platform: Any) -> dict[str, Any]:
    """One run of the key persons' job (see the module docstring); its result for the jobs page."""
    held = store.state(HOLD)
    if held and utcnow().isoformat() < held:
        return {"held": f"BOSS failed the last run; asked again after {held[:19]} UTC"}
    params = local.params(platform)
    url = _url(params) + "/api/changes"
    start = since = max(store.watermark(WATERMARK), store.watermark())
    items: list[dict[str, Any]] = []
    try:
        while True:
            page, since, more = _page(get(url, {"since": since, "limit": int(params.get("page_size", 1000))},
                                          float(params.get("timeout", 10)), int(params.get("retries", 2))), url)
            items.extend(page)
            if not more or not page:
                break
    except Exception:
        store.put(HOLD, (utcnow() + timedelta(seconds=HOLD_S)).isoformat())
        raise
    tiers = key_tiers(platform, params)
    mapper = local.Mapper(platform)
    key: list[dict[str, Any]] = []
    refused: list[str] = []
    locally = _locally_key(platform, [str(i["cust_no"]) for i in items], tiers)
    for item in items:
        try:
            tier = mapper.values(item).get(TIER_FIELD)
        except local.NotStored as exc:
            refused.append(str(exc))
            continue
        if tier in tiers or str(item["cust_no"]) in locally:
            key.append(item)
    saved = 0
    for item in key:
        try:
            local.save_customer(platform, item, mapper)
            saved += 1
        except local.NotStored as exc:  # the nightly run rejects it too and lists it
            refused.append(str(exc))
    store.save_accounts([store.account_row(i) for i in key], since, WATERMARK)
    if held:
        store.put(HOLD, "")
    if refused:
        log.warning("boss key persons: %d refused: %s", len(refused), "; ".join(refused[:5]))
    return {"changes": len(items), "key_persons": len(key), "saved": saved, "refused": refused[:20],
            "watermark": since, "from": start}
