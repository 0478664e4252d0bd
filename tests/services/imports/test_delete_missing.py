"""Deleting the records a source no longer has (issue 18: "never delete missing rows unless the definition says so
and the run is confirmed"): only a confirmed run of a ``delete_missing`` definition deletes, the delete right is
checked on the server before anything is loaded, and undo puts the deleted records back exactly as they were —
a secret field's hash and the record's times included."""

from __future__ import annotations

from pathlib import Path

import pytest
from imp_helpers import HEADERS, write_xlsx

from helpline.data.database import session
from helpline.data.entities import read_secret
from helpline.data.system import AuditEntry
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.imports import ImportService

SYSTEM = Actor.system()
def _rows(numbers: range) -> list[list[object]]:
    return [[f"C{i:05d}", f"客户{i}", f"0731-8{i:06d}", "1980/3/5", "03", "changsha", f"长沙 {i} 号"] for i in numbers]


def _customers(imp: ImportService) -> dict[str, dict]:
    model = imp.platform.models["customer"]
    with session():
        return {r["customer_no"]: r for r in model.select().dicts()}


def test_missing_records_deleted_only_when_confirmed_and_undone_whole(mirror: ImportService, tmp_path: Path) -> None:
    first = mirror.run(SYSTEM, "mirror_customers", write_xlsx(tmp_path / "all.xlsx", [HEADERS, *_rows(range(1, 5))]))
    assert first.inserted == 4
    gone = _customers(mirror)["C00003"]["id"]
    mirror.platform.records.update(SYSTEM, "customer", gone, {"service_password": "654321"})
    model = mirror.platform.models["customer"]
    with session():
        secret = read_secret(model, "service_password", gone)
    assert secret is not None and secret.startswith("$")
    before = _customers(mirror)
    fewer = write_xlsx(tmp_path / "fewer.xlsx", [HEADERS, *_rows(range(1, 3))])

    unconfirmed = mirror.run(SYSTEM, "mirror_customers", fewer)
    assert (unconfirmed.unchanged, unconfirmed.deleted) == (2, 0) and len(_customers(mirror)) == 4, "not confirmed"

    importer = Actor(username="imp1", roles=["importer"]).bind(mirror.platform.metadata)
    assert mirror.run(importer, "mirror_customers", fewer).deleted == 0, "the importer may import"
    with pytest.raises(PermissionDenied):
        mirror.run(importer, "mirror_customers", fewer, confirm_delete=True)
    with session():
        denied = AuditEntry.select().where((AuditEntry.action == "denied") & (AuditEntry.actor == "imp1"))
        assert denied.count() == 1
    assert len(_customers(mirror)) == 4, "refused before anything was loaded or deleted"

    confirmed = mirror.run(SYSTEM, "mirror_customers", fewer, confirm_delete=True)
    assert (confirmed.status, confirmed.deleted) == ("done", 2) and set(_customers(mirror)) == {"C00001", "C00002"}
    with session():
        assert AuditEntry.select().where((AuditEntry.action == "delete") & (AuditEntry.entity == "customer")).count() \
            == 2

    assert mirror.undo(SYSTEM, confirmed.run_id) == 2
    assert _customers(mirror) == before, "put back as they were: dates, times and version"
    with session():
        assert read_secret(model, "service_password", gone) == secret, "the service password's hash kept"
