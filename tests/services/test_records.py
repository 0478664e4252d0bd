"""The record service: permissions on the server, validation, row scope, masks, concurrency, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpline.data.conditions import Cmp
from helpline.data.database import session
from helpline.data.query import ListQuery
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.records import RecordNotFound, StaleRecord, ValidationFailed

SYSTEM = Actor.system()


def actor(p: Platform, name: str, role: str, regions: tuple[str, ...] = ()) -> Actor:
    return Actor(name, roles=(role,), regions=regions).bind(p.metadata)


def customer(p: Platform, no: str, **values: object) -> int:
    data = {"customer_no": no, "name": "测试客户", **values}
    return p.records.create(SYSTEM, "customer", data).id


def test_create_types_values_and_applies_defaults(platform: Platform) -> None:
    rec = platform.records.create(SYSTEM, "customer", {
        "customer_no": "C1", "name": " 张三 ", "phone": "0731-8888 1234", "tv_count": "2", "income": "3500.50",
        "birth_date": "1980-02-03", "business_line": ["basic_dtv", "broadband"], "blacklisted": "否"})
    v = rec.values
    assert (v["name"], v["phone"], v["tv_count"], v["income"]) == ("张三", "073188881234", 2, Decimal("3500.5"))
    assert str(v["birth_date"]) == "1980-02-03" and v["business_line"] == ["basic_dtv", "broadband"]
    assert v["blacklisted"] is False and v["structure"] == "individual"  # a metadata default
    assert v["version"] == 1 and v["created_by"] == "system"


def test_every_bad_field_is_reported_and_nothing_saved(platform: Platform) -> None:
    with pytest.raises(ValidationFailed) as info:
        platform.records.create(SYSTEM, "customer", {
            "customer_no": "C1", "name": "", "phone": "not a phone", "email": "nope", "tv_count": "two",
            "value_tier": "bronze", "city": "atlantis", "colour": "red"})
    errors = info.value.errors
    assert {k: e.key for k, e in errors.items()} == {
        "name": "errors.required", "phone": "errors.phone", "email": "errors.email", "tv_count": "errors.type",
        "value_tier": "errors.category", "colour": "errors.unknown_field"}
    with pytest.raises(ValidationFailed) as info:
        platform.records.create(SYSTEM, "customer", {"customer_no": "C1", "name": "x", "city": "atlantis"})
    assert info.value.errors["city"].key == "errors.link"
    with session():
        assert platform.models["customer"].select().count() == 0


def test_unique_and_metadata_validation(platform: Platform) -> None:
    customer(platform, "C1")
    with pytest.raises(ValidationFailed) as info:
        customer(platform, "C1")
    assert info.value.errors["customer_no"].key == "errors.unique"
    with pytest.raises(ValidationFailed) as info:
        customer(platform, "C2", tv_count=100)
    assert info.value.errors["tv_count"].key == "errors.max"


def test_retired_code_stays_valid_on_old_records_only(platform: Platform, demo_metadata) -> None:
    cid = customer(platform, "C1", value_tier="silver")
    path = demo_metadata / "categories/value_tier.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("code: silver,", "code: silver, retired: true,"), encoding="utf-8")
    assert platform.store.sync_files(demo_metadata).changed == [("category", "value_tier")]
    assert platform.records.update(SYSTEM, "customer", cid, {"name": "改名", "value_tier": "silver"}).values[
        "value_tier"] == "silver"
    with pytest.raises(ValidationFailed) as info:
        customer(platform, "C2", value_tier="silver")
    assert info.value.errors["value_tier"].key == "errors.retired"


def test_permissions_are_enforced_on_the_server(platform: Platform) -> None:
    cid = customer(platform, "C1", city="changsha")
    qa = actor(platform, "qa1", "qa")
    with pytest.raises(PermissionDenied):
        platform.records.create(qa, "customer", {"customer_no": "C9", "name": "x"})
    with pytest.raises(PermissionDenied):
        platform.records.update(qa, "customer", cid, {"name": "x"})
    agent = actor(platform, "agent1", "agent", ("changsha",))
    with pytest.raises(PermissionDenied):
        platform.records.delete(agent, "customer", cid)
    no_export = actor(platform, "agent1", "agent", ("changsha",))
    no_export._role_objs = [r.model_copy(update={"permissions": [p for p in r.permissions if p != "export"]})
                            for r in no_export._role_objs]
    with pytest.raises(PermissionDenied, match="export"):
        list(platform.records.rows_for_export(no_export, ListQuery(entity="customer")))
    nobody = Actor("ghost", roles=("no_such_role",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        platform.records.list_page(nobody, ListQuery(entity="customer"))


def test_row_scope_applies_to_lists_reads_updates_and_related(platform: Platform) -> None:
    mine = customer(platform, "C1", city="changsha", county="changsha_01")
    county_only = customer(platform, "C2", city="yueyang", county="yueyang_02")
    other = customer(platform, "C3", city="yiyang")
    platform.records.create(SYSTEM, "work_order", {"order_no": "W1", "customer": other, "type": "fault",
                                                   "status": "new", "title": "x"})
    agent = actor(platform, "agent1", "agent", ("changsha", "yueyang_02"))
    page = platform.records.list_page(agent, ListQuery(entity="customer", sort=[("customer_no", False)]))
    assert [r["id"] for r in page.rows] == [mine, county_only]
    with pytest.raises(RecordNotFound):
        platform.records.get(agent, "customer", other)
    with pytest.raises(RecordNotFound):
        platform.records.update(agent, "customer", other, {"name": "x"})
    nobody = actor(platform, "agent9", "agent", ())
    assert platform.records.list_page(nobody, ListQuery(entity="customer")).total == 0
    admin = actor(platform, "admin", "administrator")
    assert platform.records.list_page(admin, ListQuery(entity="customer")).total == 3


def test_masks_in_lists_reads_and_masked_fields_cannot_be_written(platform: Platform) -> None:
    cid = customer(platform, "C1", name="张三丰", phone="13812345678")
    qa = actor(platform, "qa1", "qa")
    row = platform.records.list_page(qa, ListQuery(entity="customer")).rows[0]
    assert (row["phone"], row["name"]) == ("138****5678", "张**")
    rec = platform.records.get(qa, "customer", cid)
    assert rec.values["phone"] == "138****5678" and "phone" in rec.masked
    admin = actor(platform, "admin", "administrator")
    assert platform.records.get(admin, "customer", cid).values["phone"] == "13812345678"


def test_optimistic_concurrency(platform: Platform) -> None:
    cid = customer(platform, "C1")
    agent = actor(platform, "admin", "administrator")
    platform.records.update(agent, "customer", cid, {"address": "一"}, expected_version=1)
    with pytest.raises(StaleRecord, match="admin"):
        platform.records.update(agent, "customer", cid, {"address": "二"}, expected_version=1)
    assert platform.records.get(agent, "customer", cid).values["address"] == "一"


def test_a_change_meanwhile_is_merged_with_the_editors_unless_both_changed_one_field(platform: Platform) -> None:
    cid = customer(platform, "C1", phone="13812345678")
    admin = actor(platform, "admin", "administrator")
    loaded = platform.records.get(admin, "customer", cid).values  # the editor's form, version 1
    form = {"name": loaded["name"], "phone": loaded["phone"], "address": loaded["address"]}
    platform.records.update(SYSTEM, "customer", cid, {"phone": "13900000000"})  # meanwhile, elsewhere
    saved = platform.records.update(admin, "customer", cid, {**form, "address": "长沙"}, expected_version=1,
                                    base=loaded)
    assert (saved.values["phone"], saved.values["address"], saved.values["version"]) == ("13900000000", "长沙", 3)
    with pytest.raises(StaleRecord, match=r"\(also phone\)"):  # the same field changed on both sides: refused
        platform.records.update(admin, "customer", cid, {**form, "phone": "13700000000"}, expected_version=1,
                                base=loaded)
    assert platform.records.get(admin, "customer", cid).values["phone"] == "13900000000"


def test_audit_log_has_changes_field_by_field_and_customer_reads(platform: Platform) -> None:
    cid = customer(platform, "C1", name="甲", phone="13812345678")
    admin = actor(platform, "admin", "administrator")
    platform.records.update(admin, "customer", cid, {"name": "乙", "address": "长沙"})
    platform.records.get(admin, "customer", cid)
    platform.records.list_page(admin, ListQuery(entity="customer", where=Cmp("name", "contains", "乙")))
    platform.records.delete(admin, "customer", cid)
    with session():
        entries = list(reversed(search_audit(entity="customer")))
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("system", "create"), ("admin", "update"), ("admin", "read"), ("admin", "list"), ("admin", "delete")]
    update = entries[1]
    assert update["before"] == {"name": "甲", "address": None} and update["after"] == {"name": "乙", "address": "长沙"}
    assert entries[3]["detail"]["where"] == ["name", "contains", "乙"]
    assert entries[4]["before"]["phone"] == "13812345678"


def test_related_list_goes_through_the_same_scoped_path(platform: Platform) -> None:
    cid = customer(platform, "C1", city="changsha")
    for i in range(3):
        platform.records.create(SYSTEM, "work_order", {"order_no": f"W{i}", "customer": cid,
                                                       "type": "fault", "status": "new", "title": f"t{i}"})
    form = platform.metadata.screens["customer_form"]
    spec = next(r for r in form.related if r.entity == "work_order")
    agent = actor(platform, "agent1", "agent", ("changsha",))
    rec = platform.records.get(agent, "customer", cid)
    page = platform.records.related(agent, "customer", rec, spec)
    assert page.total == 3


def test_pivot_and_export_respect_scope_and_masks(platform: Platform) -> None:
    customer(platform, "C1", city="changsha", value_tier="gold", phone="13812345678")
    customer(platform, "C2", city="yueyang", value_tier="gold")
    agent = actor(platform, "agent1", "agent", ("changsha",))
    table = platform.records.pivot(agent, "customer", Cmp("value_tier", "not_empty"), "city", "value_tier")
    assert table.row_keys == ["changsha"]
    qa = actor(platform, "qa1", "qa")
    rows = list(platform.records.rows_for_export(qa, ListQuery(entity="customer")))
    assert [r["phone"] for r in rows] == ["138****5678", None]
