"""The screen-pop's data load (``telephony.desk.screenpop.screen_pop``, issue 22: pop p95 at 500 desktops over
two processes on PostgreSQL): on both databases it shows what the agent's own reads give — the newest contact
records, the orders, the region and city names (from the process's region table, or read as the agent when the
agent's roles mask them) — in one pooled connection and six statements (it took five checkouts and nine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpline.data.conditions import Cmp
from helpline.data.database import db
from helpline.data.query import ListQuery
from helpline.security.actor import Actor
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.desk.screenpop import HISTORY_ROWS, screen_pop

PHONE = "13912340001"


@pytest.fixture
def demo_metadata(demo_metadata: Path) -> Path:
    """The demo metadata with a role that reads customers and regions, the regions' names masked."""
    (demo_metadata / "roles" / "masked_regions.yaml").write_text(
        "kind: role\nname: masked_regions\nlabel: {en: Masked regions, zh_CN: 区域名称遮盖}\nentities:\n"
        "  customer: r\n  contact_record: r\n  work_order: r\n  outage: r\n"
        "  region: {read: true, masks: {name: hidden, name_en: hidden}}\n", encoding="utf-8")
    return demo_metadata


@pytest.fixture
def known_call(platform: Platform) -> tuple[int, int]:
    """(call id, customer id): a Changsha customer of a Furong district with more contact records than the pop
    shows, three work orders and an outage notice of the city; the call as the IVR left it."""
    system, records = Actor.system(), platform.records
    customer = records.create(system, "customer", {"customer_no": "HN-POP-1", "name": "Li Na", "phone": PHONE,
                                                   "city": "changsha", "county": "changsha_01",
                                                   "value_tier": "gold"}).id
    for day in range(1, HISTORY_ROWS + 3):
        records.create(system, "contact_record", {"serial_no": f"202610{day:02d}00000001", "customer": customer,
                                                  "caller_number": PHONE, "agent": "agent2",
                                                  "started_at": f"2026-10-{day:02d} 09:00:00",
                                                  "remarks": f"call {day}"})
    for n in range(3):
        records.create(system, "work_order", {"order_no": f"WO-POP-{n}", "customer": customer, "type": "fault",
                                              "status": "dispatched", "title": f"order {n}"})
    records.create(system, "outage", {"title": "Fibre cut", "region": "changsha", "notice": "长沙光缆中断",
                                      "notice_en": "A fibre cut affects Changsha."})
    call_id = CallService().open(switch="simulated", flow="main", caller_number=PHONE, customer_id=customer,
                                 tier="gold", region="changsha_01", city="changsha",
                                 trail=[{"node": "main_menu", "type": "menu", "digits": ["0"], "next": "to_agent"}])
    return call_id, customer


def agent(platform: Platform, role: str = "agent") -> Actor:
    return Actor("agent7", roles=(role,), regions=("changsha",)).bind(platform.metadata)


def expected_rows(platform: Platform, actor: Actor, entity: str, where: Cmp, sort: list[tuple[str, bool]],
                  size: int) -> list[dict[str, Any]]:
    """What the agent's own list of these records shows first."""
    return platform.records.list_page(actor, ListQuery(entity=entity, where=where, sort=sort, page_size=size)).rows


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_pop_shows_what_the_agents_reads_give(platform: Platform, known_call: tuple[int, int],
                                                  language: str) -> None:
    call_id, customer = known_call
    actor = agent(platform)
    pop = screen_pop(platform, actor, call_id, language=language)
    assert pop["customer_id"] == customer and pop["customer"]["name"] == "Li Na" and pop["tier"] == "gold"
    history = expected_rows(platform, actor, "contact_record", Cmp("customer", "eq", customer),
                            [("started_at", True)], HISTORY_ROWS)
    assert pop["history"] == history and len(history) == HISTORY_ROWS
    assert [r["remarks"] for r in pop["history"]] == [f"call {d}" for d in range(HISTORY_ROWS + 2, 2, -1)]
    orders = expected_rows(platform, actor, "work_order", Cmp("customer", "eq", customer), [("accepted_at", True)], 24)
    assert sorted(r["id"] for r in pop["work_orders"]) == sorted(r["id"] for r in orders) and len(orders) == 3
    both = Cmp("code", "in", ["changsha", "changsha_01"])
    regions = {r["code"]: r for r in expected_rows(platform, actor, "region", both, [], 2)}
    for code, key in (("changsha_01", "region_label"), ("changsha", "city_label")):
        row = regions[code]
        assert pop[key] == ((row["name_en"] if language == "en" else None) or row["name"])
    assert pop["city_label"] == ("Changsha" if language == "en" else "长沙市")
    assert [n["title"] for n in pop["notices"]] == ["Fibre cut"]
    assert [s["digits"] for s in pop["trail"]] == ["0"]


def test_region_names_masked_for_the_agent_are_read_as_the_agent(platform: Platform,
                                                                 known_call: tuple[int, int]) -> None:
    """A role that masks the regions' names: the pop does not take them from the process's table."""
    call_id, _ = known_call
    masked = agent(platform, "masked_regions")
    pop = screen_pop(platform, masked, call_id, language="en")
    row = expected_rows(platform, masked, "region", Cmp("code", "eq", "changsha"), [], 1)[0]
    assert row["name"] != "长沙市" and pop["city_label"] == (row["name_en"] or row["name"] or "changsha")
    assert pop["city_label"] != "Changsha"


@pytest.fixture
def counted() -> Iterator[list[int]]:
    """[statements, pool checkouts] of this thread from now on."""
    database = db.obj
    counts = [0, 0]
    execute_sql, connect = database.execute_sql, database.connect

    def counting_execute_sql(*args: Any, **kwargs: Any) -> Any:
        counts[0] += 1
        return execute_sql(*args, **kwargs)

    def counting_connect(*args: Any, **kwargs: Any) -> Any:
        counts[1] += 1
        return connect(*args, **kwargs)

    database.execute_sql, database.connect = counting_execute_sql, counting_connect
    yield counts
    del database.execute_sql, database.connect


def test_the_pop_loads_in_one_connection_and_six_statements(platform: Platform, known_call: tuple[int, int],
                                                            counted: list[int]) -> None:
    """The call, the customer and its audit row, the history, the orders and their processes' state: one round
    trip each on one pooled connection (the region table is the process's; a list's rows are not counted)."""
    call_id, _ = known_call
    actor = agent(platform)
    screen_pop(platform, actor, call_id, language="en")  # the process's region table and outages read once
    if not db.is_closed():  # the fixtures' connection of this thread: the pop takes its own from the pool
        db.close()
    counted[:] = [0, 0]
    pop = screen_pop(platform, actor, call_id, language="en")
    assert len(pop["history"]) == HISTORY_ROWS and len(pop["work_orders"]) == 3
    assert counted[1] <= 1, f"{counted[1]} pool checkouts"
    assert counted[0] <= 6, f"{counted[0]} statements"


@pytest.mark.postgres
def test_a_customers_history_reads_its_own_pages_not_the_agents_customers(pg_url: str,
                                                                           demo_metadata: Path) -> None:
    """The history as the agent reads it (row scope: its customer in the agent's regions) looks the customer up
    by its key: a few pages, not every customer of the agent's regions (``col IN (SELECT id FROM customer
    WHERE ...)`` made PostgreSQL scan them per row: 858 ms for one customer at 1,000,000 customers)."""
    platform = Platform()
    platform.start(pg_url, str(demo_metadata))
    with db.connection_context():
        db.execute_sql("INSERT INTO customer (created_at, created_by, updated_at, updated_by, version, customer_no, "
                       "name, city, county) SELECT now(), 'x', now(), 'x', 1, 'HN-' || i, 'n' || i, 'changsha', "
                       "'changsha_01' FROM generate_series(1, 5000) AS i")
        db.execute_sql("ANALYZE customer")
        last = db.execute_sql("SELECT max(id) FROM customer").fetchone()[0]
    platform.records.create(Actor.system(), "contact_record", {"serial_no": "2026100100000009", "customer": last})
    statements: list[tuple[str, Any]] = []
    execute_sql = db.obj.execute_sql

    def keep(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        statements.append((sql, params))
        return execute_sql(sql, params, *args, **kwargs)

    db.obj.execute_sql = keep
    try:
        rows = expected_rows(platform, agent(platform), "contact_record", Cmp("customer", "eq", last),
                             [("started_at", True)], HISTORY_ROWS)
    finally:
        del db.obj.execute_sql
    assert [r["serial_no"] for r in rows] == ["2026100100000009"]
    sql, params = next((s, p) for s, p in statements if s.startswith("SELECT") and '"contact_record"' in s)
    with db.connection_context():
        plan = db.execute_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params).fetchone()[0][0]["Plan"]
    pages = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
    assert pages < 40, f"{pages} pages read for one customer's history"
