"""The IVR's caller identification and the desktop's screen-pop find a caller with one lookup
(``helpline.services.lookup.find_customer_by_phone``): same record, in every form of the number."""

from __future__ import annotations

import inspect

from helpline.services.lookup import find_customer_by_phone
from helpline.services.platform import Platform
from telephony.ivr import identify
from telephony.ivr.identify import CallerIdentifier


def test_the_ivr_and_the_screen_pop_find_the_same_customer(ivr_platform: Platform) -> None:
    identifier = CallerIdentifier(ivr_platform)
    for number in ("13800000002", "+8613800000002", "013800000002", "0086 138-0000-0002"):
        found = identifier.customer_by_phone(number)
        assert found is not None and found["customer_no"] == "HN00000002"
        assert found == find_customer_by_phone(ivr_platform, number)
        assert identifier.identify(number).customer == found
    assert identifier.customer_by_phone("19999999999") is None and identifier.customer_by_phone("x") is None


def test_the_ivr_has_no_lookup_sql_of_its_own() -> None:
    source = inspect.getsource(identify)
    assert "execute_sql" not in source and "find_customer_by_phone(self.platform" in source
