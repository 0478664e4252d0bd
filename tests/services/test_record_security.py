"""What a user cannot learn: masked fields are not searchable, filterable, sortable or groupable (issue 13
item 9); records linked to a scoped entity take its scope (item 10); refused out-of-scope reads are audited
(item 14)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpline.data.conditions import Cmp
from helpline.data.database import session
from helpline.data.query import ListQuery
from helpline.metadata.kinds import RelatedList
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.queries import QueryInputError, run_query
from helpline.services.records import RecordNotFound

SYSTEM = Actor.system()
SECRET = "18012344449"


def actor(p: Platform, name: str, role: str, regions: tuple[str, ...] = ()) -> Actor:
    return Actor(name, roles=(role,), regions=regions).bind(p.metadata)


def customer(p: Platform, no: str, **values: object) -> int:
    return p.records.create(SYSTEM, "customer", {"customer_no": no, "name": "测试客户", **values}).id


def contact(p: Platform, serial: str, by: Actor = SYSTEM, **values: object) -> int:
    return p.records.create(by, "contact_record", {"serial_no": serial, "agent": "alice", **values}).id


def enumerate_number(search: Callable[[str], bool], length: int = 11) -> str:
    """The attack of the issue: grow a known part digit by digit while the search still finds the record —
    to the right, then to the left (the quick search matches any part of a number)."""
    found = ""
    for grow in (lambda part, d: part + d, lambda part, d: d + part):
        while len(found) < length:
            for digit in "0123456789":
                if search(grow(found, digit)):
                    found = grow(found, digit)
                    break
            else:
                break
    return found


@pytest.fixture
def masked(platform: Platform) -> Platform:
    """Customers and contact records with phone numbers; no other search field holds a digit."""
    cid = customer(platform, "CA", phone=SECRET, city="changsha")
    customer(platform, "CB", phone="13900000000", city="changsha")
    contact(platform, "SN-A", caller_number=SECRET, customer=cid)
    contact(platform, "SN-B", caller_number="13900000000")
    return platform


@pytest.mark.parametrize("entity", ["contact_record", "customer"])
def test_qa_learns_nothing_by_searching_prefixes_of_a_masked_number(masked: Platform, entity: str) -> None:
    qa, admin = actor(masked, "qa1", "qa"), actor(masked, "admin", "administrator")

    def finder(who: Actor) -> Callable[[str], bool]:
        def search(text: str) -> bool:
            page = masked.records.list_page(who, ListQuery(entity=entity, search=text, page_size=500))
            return target in {r["id"] for r in page.rows}
        return search

    target = masked.records.list_page(admin, ListQuery(entity=entity, sort=[("id", False)])).rows[0]["id"]

    assert enumerate_number(finder(admin)) == SECRET, "the attack works where the field is not masked"
    assert enumerate_number(finder(qa)) == ""
    everything = masked.records.list_page(qa, ListQuery(entity=entity)).total
    for probe in (SECRET, SECRET[:3], SECRET[-7:], "4449", "****4449", "180****4449"):
        assert masked.records.list_page(qa, ListQuery(entity=entity, search=probe)).total == 0, probe
    assert everything == 2
    rows = list(masked.records.rows_for_export(qa, ListQuery(entity=entity, search=SECRET[:6])))
    assert rows == [], "an export searches as the list does"


def test_masked_fields_cannot_be_filtered_sorted_or_grouped(masked: Platform) -> None:
    qa, admin = actor(masked, "qa1", "qa"), actor(masked, "admin", "administrator")
    for where in (Cmp("phone", "starts_with", "180"), Cmp("phone", "eq", SECRET), Cmp("name", "contains", "测")):
        with pytest.raises(PermissionDenied, match="masked"):
            masked.records.list_page(qa, ListQuery(entity="customer", where=where))
        with pytest.raises(PermissionDenied, match="masked"):
            list(masked.records.rows_for_export(qa, ListQuery(entity="customer", where=where)))
    # sorting by the masked phone is ignored: the rows come in id order, whichever direction is asked
    by_phone = [("phone", False)]
    assert [r["customer_no"] for r in masked.records.list_page(admin, ListQuery(
        entity="customer", sort=by_phone)).rows] == ["CB", "CA"]
    for descending in (False, True):
        rows = masked.records.list_page(qa, ListQuery(entity="customer", sort=[("phone", descending)])).rows
        assert [r["customer_no"] for r in rows] == ["CA", "CB"]
    exported = list(masked.records.rows_for_export(qa, ListQuery(entity="customer", sort=by_phone)))
    assert [r["phone"] for r in exported] == ["180****4449", "139****0000"]
    # 2-D results: neither grouped nor filtered by a masked field
    with pytest.raises(PermissionDenied, match="masked"):
        masked.records.pivot(qa, "customer", Cmp("city", "not_empty"), "phone", "city")
    with pytest.raises(PermissionDenied, match="masked"):
        masked.records.pivot(qa, "customer", Cmp("phone", "starts_with", "180"), "city", "value_tier")
    assert masked.records.pivot(qa, "customer", Cmp("city", "not_empty"), "city", "value_tier").row_keys == [
        "changsha"]
    assert masked.records.pivot(admin, "customer", Cmp("city", "not_empty"), "phone", "city").row_keys == [
        "13900000000", SECRET]


def test_a_created_record_comes_back_masked_as_a_read_gives_it(platform: Platform) -> None:
    """The creator gets the record as it may read it: the survey fields hidden from agents stay hidden in what
    ``create`` returns (it returned the stored row unmasked, and the desk's contact form, seeing the masks
    appear at the first save, built itself again)."""
    agent = actor(platform, "alice", "agent")
    created = platform.records.create(agent, "contact_record", {"serial_no": "SN-M1", "agent": "alice",
                                                                "caller_number": "13900000001"})
    read = platform.records.get(agent, "contact_record", created.id)
    assert created.masked == read.masked == {"survey_satisfaction", "survey_resolved", "survey_at"}
    assert created.values == read.values
    assert platform.records.create(SYSTEM, "contact_record", {"serial_no": "SN-M2"}).masked == frozenset()


def test_related_list_is_not_sorted_by_a_masked_field(masked: Platform) -> None:
    qa = actor(masked, "qa1", "qa")
    cid = customer(masked, "CC", city="changsha")
    for serial, number in (("SN-C1", "17700000000"), ("SN-C2", "13300000000"), ("SN-C3", "19900000000")):
        contact(masked, serial, caller_number=number, customer=cid)
    spec = RelatedList(entity="contact_record", via="customer", title={"en": "x"}, columns=["serial_no"],
                       sort=["caller_number"])
    record = masked.records.get(qa, "customer", cid)
    rows = masked.records.related(qa, "customer", record, spec).rows
    assert [r["serial_no"] for r in rows] == ["SN-C1", "SN-C2", "SN-C3"]
    admin = actor(masked, "admin", "administrator")
    rows = masked.records.related(admin, "customer", masked.records.get(admin, "customer", cid), spec).rows
    assert [r["serial_no"] for r in rows] == ["SN-C2", "SN-C1", "SN-C3"]


def test_query_screen_input_on_a_masked_field_is_refused(masked: Platform, demo_metadata: Path) -> None:
    (demo_metadata / "queries" / "customers_by_phone.yaml").write_text(
        "kind: query\nname: customers_by_phone\nentity: customer\ntitle: By phone\n"
        "inputs:\n  - {name: phone, field: phone, op: starts_with, label: Phone}\n"
        "  - {name: city, field: city, op: eq, label: City}\n"
        "columns: [customer_no, phone]\n", encoding="utf-8")
    masked.store.sync_files(demo_metadata)
    qa, admin = actor(masked, "qa1", "qa"), actor(masked, "admin", "administrator")
    assert run_query(masked, admin, "customers_by_phone", {"phone": "180"}).page.total == 1  # type: ignore[union-attr]
    with pytest.raises(QueryInputError) as info:
        run_query(masked, qa, "customers_by_phone", {"phone": "180"})
    assert info.value.errors == {"phone": "query.masked_input"}
    page = run_query(masked, qa, "customers_by_phone", {"city": "changsha"}).page
    assert page is not None and page.total == 2, "the other inputs still work"


# --- item 10: records linked to a scoped entity ------------------------------------------------------------


@pytest.fixture
def regions(platform: Platform) -> dict[str, int]:
    mine = customer(platform, "C1", city="changsha", phone="13811110000")
    other = customer(platform, "C2", city="yiyang", phone="13922220000")
    agent = actor(platform, "agent1", "agent", ("changsha",))
    ids = {
        "mine": contact(platform, "SN-1", customer=mine, caller_number="13811110000"),
        "other": contact(platform, "SN-2", customer=other, caller_number="13922220000"),
        "unknown": contact(platform, "SN-3", caller_number="13733330000"),
        "written": contact(platform, "SN-4", by=agent, customer=other, caller_number="13922220000"),
    }
    for no, cust, serial in (("W1", mine, "SN-1"), ("W2", other, None), ("W3", None, "SN-2"), ("W4", None, None)):
        ids[no] = platform.records.create(SYSTEM, "work_order", {
            "order_no": no, "customer": cust, "contact": serial, "type": "fault", "status": "new", "title": no}).id
    ids["customer_mine"], ids["customer_other"] = mine, other
    return ids


def test_contact_records_and_work_orders_take_the_customer_scope(platform: Platform, regions: dict[str, int]) -> None:
    agent = actor(platform, "agent1", "agent", ("changsha",))
    page = platform.records.list_page(agent, ListQuery(entity="contact_record", sort=[("serial_no", False)]))
    assert [r["serial_no"] for r in page.rows] == ["SN-1", "SN-3", "SN-4"], "their region, no customer, their own"
    assert "13922220000" not in {r["caller_number"] for r in page.rows if r["serial_no"] != "SN-4"}
    found = platform.records.list_page(agent, ListQuery(entity="contact_record", search="13922220000")).rows
    assert [r["serial_no"] for r in found] == ["SN-4"]
    with pytest.raises(RecordNotFound):
        platform.records.get(agent, "contact_record", regions["other"])
    assert platform.records.get(agent, "contact_record", regions["written"]).values["serial_no"] == "SN-4"
    with pytest.raises(RecordNotFound):
        platform.records.update(agent, "contact_record", regions["other"], {"remarks": "x"})
    # work orders: by their customer, and by their contact record's customer (W3 links SN-2 of Yiyang)
    orders = platform.records.list_page(agent, ListQuery(entity="work_order", sort=[("order_no", False)]))
    assert [r["order_no"] for r in orders.rows] == ["W1", "W4"]
    with pytest.raises(RecordNotFound):
        platform.records.get(agent, "work_order", regions["W3"])
    table = platform.records.pivot(agent, "work_order", Cmp("type", "not_empty"), "type", "status")
    assert table.cell("fault", "new") == 2
    result = run_query(platform, agent, "work_orders_by_type_status", {})
    assert result.pivot is not None and result.pivot.cell("fault", "new") == 2
    # related lists of a customer in scope, and the unscoped roles still see everything
    form = platform.metadata.screens["customer_form"]
    spec = next(r for r in form.related if r.entity == "contact_record")
    rec = platform.records.get(agent, "customer", regions["customer_mine"])
    assert [r["serial_no"] for r in platform.records.related(agent, "customer", rec, spec).rows] == ["SN-1"]
    for role in ("supervisor", "qa", "administrator"):
        assert platform.records.list_page(actor(platform, "u", role), ListQuery(entity="contact_record")).total == 4
    nobody = actor(platform, "agent9", "agent", ())
    assert [r["serial_no"] for r in platform.records.list_page(nobody, ListQuery(
        entity="contact_record")).rows] == ["SN-3"]


def test_export_of_linked_records_applies_the_scope(platform: Platform, regions: dict[str, int],
                                                    demo_metadata: Path) -> None:
    path = demo_metadata / "roles" / "agent.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("permissions:\n", "permissions:\n  - export\n"),
                    encoding="utf-8")
    platform.store.sync_files(demo_metadata)
    agent = actor(platform, "agent1", "agent", ("changsha",))
    query = ListQuery(entity="contact_record", sort=[("serial_no", False)])
    rows = list(platform.records.rows_for_export(agent, query))
    assert [r["serial_no"] for r in rows] == ["SN-1", "SN-3", "SN-4"]


def test_a_refused_out_of_scope_read_is_audited(platform: Platform, regions: dict[str, int]) -> None:
    agent = actor(platform, "agent1", "agent", ("changsha",))
    for entity, record_id in (("customer", regions["customer_other"]), ("contact_record", regions["other"])):
        with pytest.raises(RecordNotFound):
            platform.records.get(agent, entity, record_id)
    with pytest.raises(RecordNotFound):
        platform.records.update(agent, "customer", regions["customer_other"], {"address": "x"})
    with pytest.raises(RecordNotFound):
        platform.records.get(agent, "customer", 999_999)  # does not exist: nothing to audit
    with session():
        denied = [(e["entity"], e["record_id"], e["detail"]["action"])
                  for e in reversed(search_audit(actor="agent1", action="denied"))]
    assert denied == [("customer", str(regions["customer_other"]), "read"),
                      ("contact_record", str(regions["other"]), "read"),
                      ("customer", str(regions["customer_other"]), "update")]


# --- recordings: a call takes its customer's scope; refusals are audited ------------------------------------


def test_recording_of_an_out_of_scope_caller_is_refused_and_every_refusal_audited(
        platform: Platform, regions: dict[str, int], demo_metadata: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from helpline.data.calls import Call
    from helpline.services import recordings

    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    calls = {}
    for key, customer_id in (("mine", regions["customer_mine"]), ("other", regions["customer_other"]),
                             ("unknown", None)):
        rel = f"helpline/2026-12-01/{key}.wav"
        (tmp_path / "rec" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "rec" / rel).write_bytes(b"RIFF....WAVE")
        with session():
            calls[key] = int(Call.insert(uniqueid=key, started_at=datetime.now(), call_recording=rel,
                                         customer_id=customer_id).execute())
    agent = actor(platform, "agent1", "agent", ("changsha",))
    with pytest.raises(PermissionDenied, match=r"supervisor\.recordings"):
        recordings.recording_file(agent, calls["mine"], platform=platform)
    # a role that plays recordings but reads customers through a scope (agents given the permission)
    path = demo_metadata / "roles" / "agent.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("permissions:\n",
                                                             "permissions:\n  - supervisor.recordings\n"),
                    encoding="utf-8")
    platform.store.sync_files(demo_metadata)
    agent = actor(platform, "agent1", "agent", ("changsha",))
    assert recordings.recording_file(agent, calls["mine"], platform=platform).read_bytes().startswith(b"RIFF")
    assert recordings.recording_file(agent, calls["unknown"], platform=platform).is_file()
    with pytest.raises(PermissionDenied, match="outside the row scope"):
        recordings.recording_file(agent, calls["other"], platform=platform)
    with pytest.raises(PermissionDenied, match="outside the row scope"):
        recordings.recording_file(agent, calls["mine"])  # no platform: a scoped user is refused
    boss = actor(platform, "supervisor1", "supervisor")
    assert recordings.recording_file(boss, calls["other"]).is_file(), "unscoped roles play every call"
    with session():
        listed = {c.id for c in Call.select(Call.id).where(recordings.calls_visible(agent, platform))}
    assert listed == {calls["mine"], calls["unknown"]}, "a list of calls takes the customer scope too"
    assert recordings.calls_visible(boss, platform) is None
    with session():
        entries = [(e["action"], e["record_id"], (e["detail"] or {}).get("kind"))
                   for e in reversed(search_audit(actor="agent1", entity="hl_call"))]
    assert entries == [("denied", str(calls["mine"]), "recording"), ("recording.play", str(calls["mine"]), None),
                       ("recording.play", str(calls["unknown"]), None), ("denied", str(calls["other"]), "recording"),
                       ("denied", str(calls["mine"]), "recording")]


def test_a_role_reading_linked_records_unscoped_is_a_warning_that_blocks_nothing(
        platform: Platform, regions: dict[str, int], demo_metadata: Path) -> None:
    from helpline.metadata.loader import load_directory

    (demo_metadata / "roles" / "clerk.yaml").write_text(
        "kind: role\nname: clerk\nentities:\n  contact_record: r\n", encoding="utf-8")
    found = load_directory(demo_metadata).problems
    assert [(p.id, p.severity, p.location) for p in found] == [("HL-W201", "warning", "roles/clerk.yaml:4:19")]
    report = platform.store.sync_files(demo_metadata)
    assert report.added == [("role", "clerk")] and not report.problems, "a warning refuses no file"
    clerk = actor(platform, "clerk1", "clerk")
    assert platform.records.list_page(clerk, ListQuery(entity="contact_record")).total == 4, "what it warns about"
