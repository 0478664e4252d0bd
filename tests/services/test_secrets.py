"""Secret fields (the customer's service password): hashed on every write path, never read back, listed,
searched or exported, plain values migrated at start, verified by the IVR; the demo customers that have one."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from helpline.data.conditions import Cmp
from helpline.data.database import db, session
from helpline.data.entities import SECRET_PREFIXES, read_secret
from helpline.data.query import ListQuery, QueryError
from helpline.demo.generator import SERVICE_PASSWORD_CUSTOMERS, DemoGenerator, demo_service_passwords
from helpline.metadata.loader import load_directory
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.security.passwords import HASH_PREFIXES, hash_password, verify_password
from helpline.services.excel import workbook_bytes
from helpline.services.platform import Platform
from helpline.services.records import ValidationFailed
from helpline.services.secrets import hash_plain_secrets, secret_matches

SYSTEM = Actor.system()


def admin(p: Platform) -> Actor:
    return Actor("admin1", roles=("administrator",)).bind(p.metadata)


def stored(p: Platform, record_id: int) -> str | None:
    with session():
        return read_secret(p.models["customer"], "service_password", record_id)


def xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_written_hashed_and_never_read_back(platform: Platform) -> None:
    a = admin(platform)
    rec = platform.records.create(a, "customer", {"customer_no": "S1", "name": "甲", "service_password": "654321"})
    other = platform.records.create(a, "customer", {"customer_no": "S2", "name": "乙"})
    first = stored(platform, rec.id)
    assert first and first.startswith("$argon2id$") and verify_password("654321", first)
    assert rec.values["service_password"] is True and other.values["service_password"] is False
    assert platform.records.get(a, "customer", rec.id).values["service_password"] is True
    page = platform.records.list_page(a, ListQuery(entity="customer"))
    exported = list(platform.records.rows_for_export(a, ListQuery(entity="customer")))
    audit_text = json.dumps(_audit(), ensure_ascii=False, default=str)
    book = xlsx_text(workbook_bytes("x", ["no", "pw"], [[r["customer_no"], r["service_password"]]
                                                      for r in exported]))
    for shown in (json.dumps(page.rows, default=str), json.dumps(exported, default=str), audit_text, book):
        assert "654321" not in shown and "argon2" not in shown
    # an update without a new value (empty, or the marker a form read) keeps it; a new value replaces it
    platform.records.update(a, "customer", rec.id, {"service_password": "", "name": "甲二"})
    platform.records.update(a, "customer", rec.id, {"service_password": True})
    assert stored(platform, rec.id) == first
    platform.records.update(a, "customer", rec.id, {"service_password": "111222"})
    assert verify_password("111222", stored(platform, rec.id) or "")
    with pytest.raises(ValidationFailed):  # the metadata's checks apply to the typed value
        platform.records.update(a, "customer", rec.id, {"service_password": "x" * 300})


def _audit() -> list[dict[str, object]]:
    with session():
        return search_audit(entity="customer", page_size=500)


def test_not_searchable_filterable_or_sortable(platform: Platform) -> None:
    a = admin(platform)
    platform.records.create(a, "customer", {"customer_no": "S1", "name": "甲", "service_password": "654321"})
    for query in (ListQuery(entity="customer", where=Cmp("service_password", "eq", "654321")),
                  ListQuery(entity="customer", sort=[("service_password", False)]),
                  ListQuery(entity="customer", columns=["service_password"])):
        with pytest.raises(QueryError, match="secret"):
            platform.records.list_page(a, query)
    with pytest.raises(QueryError, match="secret"):
        platform.records.pivot(a, "customer", Cmp("id", "gt", 0), "service_password", "city")


def test_the_data_layer_refuses_plain_values(platform: Platform) -> None:
    model = platform.models["customer"]
    with session(), pytest.raises(ValueError, match="only password hashes"):
        model.insert(customer_no="S9", name="丙", service_password="123456").execute()
    assert hash_password("x").startswith(SECRET_PREFIXES), "the data layer takes what the hasher makes"
    assert all(prefix.startswith(SECRET_PREFIXES) for prefix in HASH_PREFIXES)


def test_plain_values_are_hashed_at_start_once(platform: Platform, demo_metadata: Path, db_url: str) -> None:
    a = admin(platform)
    ids = [platform.records.create(a, "customer", {"customer_no": f"S{i}", "name": "丁"}).id for i in range(3)]
    with session():  # as a database from before the field was secret holds it
        db.execute_sql("UPDATE customer SET service_password = '246810' WHERE id IN (%s, %s)"
                       .replace("%s", "?" if "sqlite" in db_url else "%s"), (ids[0], ids[1]))
    db.close()
    again = Platform()
    again.start(db_url, str(demo_metadata))
    hashed = [stored(again, i) for i in ids]
    assert hashed[2] is None
    assert all(h and h.startswith("$argon2id$") and verify_password("246810", h) for h in hashed[:2])
    assert hash_plain_secrets(again.models) == 0 and [stored(again, i) for i in ids] == hashed, "idempotent"
    assert secret_matches(again.models, "customer", {"id": ids[0]}, "service_password", "246810")
    assert not secret_matches(again.models, "customer", {"id": ids[0]}, "service_password", "246811")
    with session():
        assert search_audit(action="hash_secrets")[0]["detail"] == {"field": "service_password", "count": 2}


def test_metadata_checks_refuse_a_secret_where_it_would_show(demo_metadata: Path) -> None:
    screen = (demo_metadata / "screens" / "customer_list.yaml").read_text(encoding="utf-8")
    assert "columns:" in screen
    (demo_metadata / "screens" / "customer_list.yaml").write_text(
        screen.replace("columns:", "columns:\n  - service_password", 1), encoding="utf-8")
    entity = (demo_metadata / "entities" / "customer.yaml").read_text(encoding="utf-8")
    (demo_metadata / "entities" / "customer.yaml").write_text(entity.replace(
        "search_fields: [", "search_fields: [service_password, ", 1), encoding="utf-8")
    problems = load_directory(demo_metadata).problems
    found = {(p.id, p.message.split(";")[0]) for p in problems}
    assert ("HL-E214", "field 'service_password' is of type secret") in found
    assert len([p for p in problems if p.id == "HL-E214" and "service_password" in p.message]) == 2


def test_demo_customers_with_a_service_password(platform: Platform) -> None:
    DemoGenerator(platform, seed=7).customers(SERVICE_PASSWORD_CUSTOMERS + 1)
    expected = demo_service_passwords(7)
    assert len(expected) == SERVICE_PASSWORD_CUSTOMERS and expected == demo_service_passwords(7)
    assert demo_service_passwords(8) != expected, "per seed"
    model = platform.models["customer"]
    with session():
        rows = {r["customer_no"]: r["id"] for r in model.select(model.id, model.customer_no).dicts()}
    for no, password in expected.items():
        assert secret_matches(platform.models, "customer", {"id": rows[no]}, "service_password", password), no
    assert stored(platform, rows[f"HN{SERVICE_PASSWORD_CUSTOMERS + 1:08d}"]) is None
