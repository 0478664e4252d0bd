"""The demo data: Hunan's regions, deterministic realistic customers, unique numbers, lookups."""

from __future__ import annotations

from helpline.data.database import session
from helpline.demo.generator import DEMO_MEMBERS, DemoGenerator, hunan_regions, seed_demo, unique_number
from helpline.services.lookup import find_customer_by_phone
from helpline.services.platform import Platform


def test_regions_from_the_shared_tree() -> None:
    regions = hunan_regions()
    cities = [r for r in regions if r.level == "city"]
    assert len(cities) == 14 and regions[0].code == "hunan"
    assert {r.code for r in regions if r.parent == "changsha"} == {f"changsha_{i:02d}" for i in range(1, 10)}
    assert next(r for r in cities if r.code == "yueyang").area_code == "0730"


def test_unique_numbers_are_a_bijection() -> None:
    assert len({unique_number(i, 4) for i in range(10_000)}) == 10_000


def test_seed_demo_is_deterministic_and_idempotent(platform: Platform) -> None:
    counts = seed_demo(platform, customers=200, seed=3)
    assert counts["customers"] == 200 and counts["contact_records"] > 50 and counts["work_orders"] > 10
    assert counts["department_members"] == len(DEMO_MEMBERS)  # qa1 at the QA desk, tech1 heading a team
    assert seed_demo(platform, customers=200) == {"regions": 0, "department_members": 0}  # none added twice
    model = platform.models["customer"]
    with session():
        rows = list(model.select().order_by(model.id).dicts())
    assert len({r["phone"] for r in rows}) == len(rows)
    assert {r["value_tier"] for r in rows} >= {"ordinary", "silver"}
    assert all(r["county"].startswith(r["city"]) for r in rows)
    again = DemoGenerator(platform, seed=3).customer_row(0)
    assert again["name"] == rows[0]["name"] and again["phone"] == rows[0]["phone"]


def test_caller_lookup(platform: Platform) -> None:
    seed_demo(platform, customers=50)
    model = platform.models["customer"]
    with session():
        mobile = model.select().where(model.phone.startswith("1")).first()
    assert find_customer_by_phone(platform, mobile.phone)["id"] == mobile.id
    assert find_customer_by_phone(platform, "+86" + mobile.phone)["id"] == mobile.id
    assert find_customer_by_phone(platform, "0" + mobile.phone)["id"] == mobile.id
    assert find_customer_by_phone(platform, "19999999999") is None
    assert find_customer_by_phone(platform, "unknown") is None
    assert find_customer_by_phone(platform, "") is None
