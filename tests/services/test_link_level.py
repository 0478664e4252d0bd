"""A link field limited to a level of a tree of records (customer city: cities only) is offered and accepted
only at that level: a county code in the city field is refused on the server."""

from __future__ import annotations

import pytest

from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.records import ValidationFailed

SYSTEM = Actor.system()


def test_a_county_code_in_the_city_field_is_refused(platform: Platform) -> None:
    with pytest.raises(ValidationFailed) as refused:
        platform.records.create(SYSTEM, "customer", {"customer_no": "L1", "name": "x", "city": "changsha_01"})
    error = refused.value.errors["city"]
    assert error.key == "errors.link_level" and error.params["level"] == "city"
    created = platform.records.create(SYSTEM, "customer", {"customer_no": "L2", "name": "y", "city": "changsha",
                                                           "county": "changsha_01"})
    assert created.values["city"] == "changsha" and created.values["county"] == "changsha_01"
    with pytest.raises(ValidationFailed):
        platform.records.update(SYSTEM, "customer", created.id, {"county": "changsha"})


def test_link_options_offer_only_the_level(platform: Platform) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    city = platform.metadata.entities["customer"].field("city")
    assert city is not None
    options = platform.records.link_options(admin, city, search=None, limit=200)
    assert len(options) == 14 and all("_" not in code for code in options)
    assert platform.records.link_options(admin, city, search="长", limit=50) == {"changsha": "长沙市 (changsha)"}
