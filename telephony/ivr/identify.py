"""Caller identification at call start: customer, tier, region, blacklist, active outage notices.

* **Customer** by the caller's number (``find_customer_by_phone``: an indexed equality lookup in the
  forms the number may be stored in); its ``value_tier`` is the caller's tier.
* **Region**: the customer's county (else city); without a customer, the region remembered for this
  number from an earlier call (``hl_caller_region``); else, for a fixed-line number, its area code
  (``0731…`` → the city whose ``area_code`` is 0731). A region found without a customer is remembered
  (by the engine, when the call ends: identification only reads).
* **Blacklist**: the customer's ``blacklisted`` flag, or an active row of the ``blacklist`` entity
  holding the number.
* **Outages**: active ``outage`` notices for the caller's county, city or the province (cached a few
  seconds: every call reads them).

Region rows (137 for Hunan) are cached and reloaded every minute or after a metadata change.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpline.data.database import session
from helpline.data.entities import rows as select_rows
from helpline.services.calls import CallService
from helpline.services.lookup import find_customer_by_phone
from helpline.services.platform import Platform
from helpline.services.values import normalise_phone, phone_variants

log = logging.getLogger(__name__)

REGION_TTL = 60.0
OUTAGE_TTL = 2.0
ACCOUNT_FIELDS = ("customer_no", "smart_card_no")


@dataclass(frozen=True)
class RegionInfo:
    code: str
    parent: str | None
    level: str
    area_code: str | None
    name: str = ""
    name_en: str | None = None
    """The names the screen-pop shows (``telephony.desk.screenpop``)."""


@dataclass(frozen=True)
class Notice:
    """An active outage notice: its id, title, text per language and sound file."""

    id: int
    title: str
    region: str
    text: dict[str, str]
    sound_file: str = ""


@dataclass
class Identification:
    """Who is calling, as far as the number tells."""

    number: str = ""
    customer: dict[str, Any] | None = None
    tier: str | None = None
    region: str | None = None
    city: str | None = None
    region_source: str | None = None
    """``customer``, ``remembered``, ``area_code`` or None."""
    blacklisted: bool = False
    known: bool = False
    remember: bool = False
    """The region was found without a customer and should be remembered (the engine does it at call end,
    so identification itself never writes)."""
    outages: list[Notice] = field(default_factory=list)
    elapsed_ms: float = 0.0


class CallerIdentifier:
    """Identifies callers against a platform's live data (thread-safe; one per engine)."""

    def __init__(self, platform: Platform, calls: CallService | None = None) -> None:
        self.platform = platform
        self.calls = calls or CallService()
        self._lock = threading.Lock()
        self._regions: dict[str, RegionInfo] = {}
        self._area_codes: dict[str, str] = {}
        self._regions_at = 0.0
        self._outages: list[tuple[Notice, datetime | None, datetime | None]] = []
        self._outages_at = 0.0
        platform.on_change(lambda *_: self.invalidate())

    def invalidate(self) -> None:
        """Forget the cached regions and outages (after a metadata change)."""
        with self._lock:
            self._regions_at = self._outages_at = 0.0

    # -- caches -----------------------------------------------------------------------------------
    def regions(self) -> dict[str, RegionInfo]:
        now = time.monotonic()
        if now - self._regions_at < REGION_TTL:
            return self._regions
        regions: dict[str, RegionInfo] = {}
        if "region" in self.platform.models:
            model = self.platform.models["region"]
            try:
                with session():
                    for row in select_rows(model.select().order_by(model.id)):
                        regions[str(row["code"])] = RegionInfo(str(row["code"]), row.get("parent"),
                                                               str(row.get("level") or ""), row.get("area_code"),
                                                               str(row.get("name") or ""), row.get("name_en"))
            except Exception:
                log.exception("cannot read the regions")
        with self._lock:
            self._regions = regions
            self._area_codes = {}
            for info in regions.values():  # 0731 is Changsha, Zhuzhou and Xiangtan: the first city wins
                if info.area_code and info.level == "city":
                    self._area_codes.setdefault(info.area_code, info.code)
            self._regions_at = now
        return regions

    def city_of(self, region: str | None) -> str | None:
        """The city of a region code (a county's parent; a city itself)."""
        if not region:
            return None
        info = self.regions().get(region)
        if info is None:
            return None
        if info.level == "county":
            return info.parent
        return info.code if info.level == "city" else None

    def city_by_area_code(self, number: str) -> str | None:
        """The city of a fixed-line number (``0731…`` → changsha), or None (mobiles, unknown codes)."""
        digits = normalise_phone(number).removeprefix("+86").removeprefix("0086")
        if not digits.startswith("0") or (digits.startswith("01") and len(digits) == 12):
            return None
        self.regions()
        for size in (4, 3):
            city = self._area_codes.get(digits[:size])
            if city:
                return city
        return None

    def active_outages(self) -> list[tuple[Notice, datetime | None, datetime | None]]:
        now = time.monotonic()
        if now - self._outages_at < OUTAGE_TTL:
            return self._outages
        found: list[tuple[Notice, datetime | None, datetime | None]] = []
        if "outage" in self.platform.models:
            model = self.platform.models["outage"]
            try:
                with session():
                    active = model._meta.fields["active"]
                    for row in select_rows(model.select().where(active == True)):  # noqa: E712
                        text = {"zh_CN": str(row.get("notice") or "")}
                        if row.get("notice_en"):
                            text["en"] = str(row["notice_en"])
                        notice = Notice(int(row["id"]), str(row.get("title") or ""), str(row.get("region") or ""),
                                        text, str(row.get("sound_file") or ""))
                        found.append((notice, row.get("starts_at"), row.get("ends_at")))
            except Exception:
                log.exception("cannot read the outage notices")
        with self._lock:
            self._outages = found
            self._outages_at = now
        return found

    def outages_for(self, region: str | None, city: str | None) -> list[Notice]:
        """Active notices for a county, its city or the province (root region)."""
        regions = self.regions()
        wanted = {r for r in (region, city) if r}
        wanted |= {code for code, info in regions.items() if info.parent is None}
        now = datetime.now()
        out = []
        for notice, starts, ends in self.active_outages():
            if notice.region not in wanted:
                continue
            if isinstance(starts, datetime) and starts > now:
                continue
            if isinstance(ends, datetime) and ends <= now:
                continue
            out.append(notice)
        return out

    # -- lookups ----------------------------------------------------------------------------------
    def number_blacklisted(self, number: str) -> bool:
        if "blacklist" not in self.platform.models or not number:
            return False
        model = self.platform.models["blacklist"]
        fields = model._meta.fields
        try:
            with session():
                rows = select_rows(model.select(fields["active"], fields["expires_at"]).where(
                    fields["number"].in_(phone_variants(number))))
                now = datetime.now()
                for row in rows:
                    expires = row.get("expires_at")
                    if row.get("active") is not False and not (isinstance(expires, datetime) and expires <= now):
                        return True
        except Exception:
            log.exception("cannot read the blacklist")
        return False

    def customer_by_phone(self, number: str) -> dict[str, Any] | None:
        """The customer behind ``number``: :func:`helpline.services.lookup.find_customer_by_phone`, the one
        cached lookup the screen-pop uses too."""
        return find_customer_by_phone(self.platform, number)

    def customer_by_account(self, account: str) -> dict[str, Any] | None:
        """The customer whose customer number or smart card number is ``account``."""
        if not account or "customer" not in self.platform.models:
            return None
        model = self.platform.models["customer"]
        with session():
            for name in ACCOUNT_FIELDS:
                column = model._meta.fields.get(name)
                if column is None:
                    continue
                candidates = {account, account.upper(), f"HN{account}"} if name == "customer_no" else {account}
                found = select_rows(model.select().where(column.in_(sorted(candidates))).limit(1))
                if found:
                    return found[0]
        return None

    def identify(self, number: str | None) -> Identification:
        """Everything the number tells about the caller (never raises: a failure leaves fields empty)."""
        started = time.perf_counter()
        ident = Identification(number=normalise_phone(number) if number else "")
        if ident.number:
            try:
                with session():  # one connection for every lookup of the identification
                    self._identify(ident)
            except Exception:
                log.exception("caller identification failed for %s", ident.number)
        ident.outages = self.outages_for(ident.region, ident.city)
        ident.elapsed_ms = (time.perf_counter() - started) * 1000
        return ident

    def _identify(self, ident: Identification) -> None:
        customer = self.customer_by_phone(ident.number)
        if customer is not None:
            self.apply_customer(ident, customer)
        else:
            remembered = self.calls.remembered_region(ident.number)
            if remembered:
                ident.region, ident.region_source, ident.known = remembered, "remembered", True
                ident.city = self.city_of(remembered) or remembered
            else:
                city = self.city_by_area_code(ident.number)
                if city:
                    ident.region = ident.city = city
                    ident.region_source = "area_code"
                    ident.remember = True
        if not ident.blacklisted:
            ident.blacklisted = self.number_blacklisted(ident.number)

    def apply_customer(self, ident: Identification, customer: dict[str, Any]) -> None:
        """Make ``customer`` the caller's customer: tier, region and blacklist flag from the record."""
        ident.customer = customer
        ident.known = True
        ident.tier = customer.get("value_tier")
        region = customer.get("county") or customer.get("city")
        if region:
            ident.region = str(region)
            ident.city = str(customer.get("city") or self.city_of(str(region)) or region)
            ident.region_source = "customer"
        ident.blacklisted = ident.blacklisted or bool(customer.get("blacklisted"))

