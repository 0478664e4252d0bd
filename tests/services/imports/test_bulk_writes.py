"""The batch writes (one statement a batch: imports/writes.py) give what one row at a time gives: the same
records, audit entries, undo log, quick-search index entries and problems, each problem naming its row of the
file; the index entries are those a save of the record writes (PostgreSQL: loaded by COPY); a record changed
meanwhile is not overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from imp_helpers import HEADERS, SMALL, write_xlsx

from helpline.data import text_index
from helpline.data.database import db, is_postgres, session, write_transaction
from helpline.data.entities import rows as select_rows
from helpline.data.imports import ImportChange
from helpline.data.system import AuditEntry
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.imports.writes import update_rows
from helpline.services.platform import Platform

SYSTEM = Actor.system()
COLUMNS = [*HEADERS, "智能卡号"]


@pytest.fixture
def both(db_url: str, demo_metadata: Path, tmp_path: Path) -> ImportService:
    """The test definition twice: in batches of 50 (the batch statements) and of 1 (a statement a row)."""
    from helpline.demo.generator import DemoGenerator

    for name, size in (("in_bulk", 50), ("one_by_one", 1)):
        text = SMALL.replace("name: small_customers", f"name: {name}").replace("batch_size: 2", f"batch_size: {size}")
        (demo_metadata / "imports" / f"{name}.yaml").write_text(text, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return ImportService(p, uploads=tmp_path / "uploads")


def _first(k: str) -> list[list[Any]]:
    """Customers keyed ``k…`` with bad rows among good ones (row 2 is the first data row)."""
    return [[f"{k}01", "客户1", "0731-8000001", "1980/3/5", "03", "changsha", "长沙 1 号", f"{k}-card-1"],
            [f"{k}02", "客户2", "0731-8000002", "1980/3/5", "09", "changsha", "长沙 2 号", f"{k}-card-2"],
            [f"{k}03", "客户3", "0731-8000003", "1981-04-06", "01", "zhuzhou", "株洲 3 号", f"{k}-card-3"],
            [f"{k}04", "客户4", "12-34", "1980/3/5", "01", "changsha", "长沙 4 号", f"{k}-card-4"],
            [f"{k}05", "客户5", "0731-8000005", "1980/3/5", "01", "changsha", "长沙 5 号", f"{k}-card-5"],
            [f"{k}06", "客户6", "0731-8000006", "1980/3/5", "01", "atlantis", "长沙 6 号", f"{k}-card-6"],
            [f"{k}01", "客户1again", "0731-8000001", "1980/3/5", "03", "changsha", "长沙 1 号", f"{k}-card-7"],
            [f"{k}08", "客户8", "0731-8000008", "1980/3/5", "01", "changsha", None, f"{k}-card-8"],
            [f"{k}09", "客户9", "0731-8000009", 29000, "03", "xiangtan", "湘潭 9 号", f"{k}-card-9"]]


def _second(k: str) -> list[list[Any]]:
    """Updates changing different fields (K03's city unchanged: not looked up again), an unchanged row, a new
    one, a card number another record has, a bad date."""
    return [[f"{k}01", "改名1", "0731-8000001", "1980/3/5", "03", "changsha", "长沙 1 号", f"{k}-card-1"],
            [f"{k}03", "客户3", "0731-8111113", "1981-04-06", "01", "zhuzhou", "株洲新 3 号", f"{k}-card-3"],
            [f"{k}09", "客户9", "0731-8000009", 29000, "03", "xiangtan", "湘潭 9 号", f"{k}-card-9"],
            [f"{k}10", "客户10", "0731-8000010", None, "01", "changsha", "长沙 10 号", f"{k}-card-10"],
            [f"{k}08", "客户8", "0731-8000008", "1980/3/5", "01", "changsha", "长沙 8 号", f"{k}-card-1"],
            [f"{k}03", "客户3", "0731-8000003", "2020-13-45", "01", "zhuzhou", "株洲 3 号", f"{k}-card-3"]]


def _plain(value: Any, k: str) -> Any:
    """``value`` with the key prefix ``k`` made neutral (the two loads use different keys)."""
    if isinstance(value, str):
        return value.replace(k, "K")
    if isinstance(value, dict):
        return {n: _plain(v, k) for n, v in value.items() if n not in ("id", "import_run")}
    return value


def _outcome(imp: ImportService, name: str, k: str, tmp_path: Path) -> dict[str, Any]:
    reports = [imp.run(SYSTEM, name, write_xlsx(tmp_path / f"{k}{i}.xlsx", [COLUMNS, *rows(k)]))
               for i, rows in enumerate((_first, _second))]
    model = imp.platform.models["customer"]
    system = ("id", "created_at", "updated_at")
    with session():
        records = sorted(({n: _plain(v, k) for n, v in r.items() if n not in system}
                          for r in model.select().where(model.customer_no.startswith(k)).dicts()),
                         key=lambda r: r["customer_no"])
        ids = {r.id: r.customer_no for r in model.select(model.id, model.customer_no)
               .where(model.customer_no.startswith(k))}
        audits = sorted((ids[int(a.record_id)].replace(k, "K"), a.action, _plain(a.before, k), _plain(a.after, k))
                        for a in AuditEntry.select().where((AuditEntry.entity == "customer")
                                                           & AuditEntry.action.in_(["create", "update"]))
                        if int(a.record_id) in ids)
        undo = sorted((ids[c.record_id].replace(k, "K"), c.action, c.version, str(_plain(c.before, k)))
                      for c in ImportChange.select().where(ImportChange.run.in_([r.run_id for r in reports])))
        index = {ids[i].replace(k, "K"): {t.replace(k.lower(), "k") for t in terms}
                 for i, terms in _index_terms(list(ids)).items()}
    return {"counts": [r.counts() for r in reports], "status": [r.status for r in reports],
            "problems": [[_plain(p.as_dict(), k) for p in r.problems] for r in reports],
            "records": records, "audit": audits, "undo": undo, "index": index}


def _index_terms(ids: list[int]) -> dict[int, set[str]]:
    """The quick-search terms stored for the customers ``ids`` (inside a session)."""
    t = text_index.table("customer")
    if is_postgres():
        found = db.execute_sql(f'SELECT id, doc::text FROM "{t}" WHERE id = ANY(%s)', (ids,)).fetchall()
        return {i: {lexeme.strip("'") for lexeme in doc.split()} for i, doc in found}
    marks = ", ".join("?" * len(ids))
    found = db.execute_sql(f'SELECT rowid, title, body FROM "{t}" WHERE rowid IN ({marks})', ids).fetchall()
    return {i: set(f"{title} {body}".split()) for i, title, body in found}


def test_batch_statements_and_one_row_at_a_time_agree(both: ImportService, tmp_path: Path) -> None:
    bulk = _outcome(both, "in_bulk", "AA", tmp_path)
    single = _outcome(both, "one_by_one", "BB", tmp_path)
    assert bulk == single
    assert bulk["counts"][0] == {"rows": 9, "inserted": 5, "updated": 0, "unchanged": 0, "rejected": 4,
                                 "warnings": 1, "deleted": 0}
    assert bulk["counts"][1] == {"rows": 6, "inserted": 1, "updated": 2, "unchanged": 1, "rejected": 2,
                                 "warnings": 0, "deleted": 0}
    errors = {(p["row"], p["column"]) for p in bulk["problems"][0] if p["severity"] == "error"}
    assert errors == {(3, "客户等级"), (5, "电话"), (7, "市州"), (8, "客户编号")}, \
        "each rejected row of the 50-row batch is named by its row of the file"
    assert [(p["row"], p["column"]) for p in bulk["problems"][1]] == [(6, "智能卡号"), (7, "出生日期")], \
        "in the file's order, whichever check found them"
    assert len(bulk["records"]) == 6 and len(bulk["audit"]) == 8 and len(bulk["undo"]) == 8
    assert len(bulk["index"]) == 6 and "name_改名" in bulk["index"]["K01"], "an updated record's entry replaced"
    assert "name_客户" not in bulk["index"]["K01"]
    changed = {r["customer_no"]: r for r in bulk["records"]}
    assert (changed["K01"]["name"], changed["K01"]["version"], changed["K03"]["address"],
            changed["K03"]["phone"]) == ("改名1", 2, "株洲新 3 号", "07318111113")
    assert str(changed["K09"]["birth_date"]) == "1979-05-25", "an Excel serial date"


def test_an_update_of_a_record_changed_meanwhile_is_not_written(both: ImportService, tmp_path: Path) -> None:
    both.run(SYSTEM, "in_bulk", write_xlsx(tmp_path / "a.xlsx", [COLUMNS, *_first("CC")]))
    model = both.platform.models["customer"]
    with session():
        one, three = (model.get(model.customer_no == k) for k in ("CC01", "CC03"))
        with write_transaction():
            stale = three.version + 5
            done = update_rows(model, [(one.id, one.version, {"name": "新"}), (three.id, stale, {"name": "旧"})],
                               "tester", one.created_at)
        assert done == {one.id}
        after = {r.customer_no: (r.name, r.version, r.updated_by) for r in model.select()}
    assert after["CC01"] == ("新", 2, "tester") and after["CC03"] == ("客户3", 1, "system")


def test_two_rows_of_one_batch_with_one_unique_value(both: ImportService, tmp_path: Path) -> None:
    rows = _first("DD")[:3]
    rows[2][7] = "DD-card-1"
    report = both.run(SYSTEM, "in_bulk", write_xlsx(tmp_path / "d.xlsx", [COLUMNS, *rows]))
    assert (report.inserted, report.rejected) == (1, 2)
    assert [p.text() for p in report.problems] == [
        "row 3, column 客户等级 ('09'): code '09' is not in code table 'tiers'",
        "row 4, column 智能卡号 ('DD-card-1'): row 2 of the file has the same smart_card_no"]


def test_the_index_entries_of_an_import_are_those_a_save_writes(both: ImportService, tmp_path: Path) -> None:
    for i, rows in enumerate((_first, _second)):  # inserts, then updates replacing their entries
        both.run(SYSTEM, "in_bulk", write_xlsx(tmp_path / f"e{i}.xlsx", [COLUMNS, *rows("EE")]))
    entity = both.platform.metadata.entities["customer"]
    model = both.platform.models["customer"]
    with session():
        records = select_rows(model.select().where(model.customer_no.startswith("EE")))
        imported = _index_terms([r["id"] for r in records])
        with db.atomic() as txn:
            for record in records:
                text_index.write_row(entity, record)
            saved = _index_terms([r["id"] for r in records])
            txn.rollback()
    assert len(imported) == 6 and all(imported.values())
    assert imported == saved


def _written(convert: Any, value: Any) -> Any:
    try:
        return ("ok", convert(value))
    except Exception as exc:  # both ways refuse the same values
        return ("refused", type(exc).__name__)


def test_the_batch_cell_conversions_give_what_peewee_gives(both: ImportService) -> None:
    """writes.db_values converts a cell faster than ``field.db_value`` (a text or whole number kept as it is, JSON
    by orjson): the same value for every column of the customer and audit tables, JSON read back the same."""
    import json
    from datetime import date, datetime
    from decimal import Decimal

    from helpline.data.jsonfield import JSONField
    from helpline.services.imports.writes import _converter, to_json

    samples = [None, "", " a ", "客户 1", b"x", 7, 0, -3, 2**70, 7.5, 3.0, True, Decimal("1.50"), date(2024, 3, 5),
               datetime(2024, 3, 5, 8, 30, 1, 5), [], ["gold", "二"], {"k": [1, None], 3: "x"}, {"s": {2, 1}}]
    checked = 0
    for model in (both.platform.models["customer"], AuditEntry, ImportChange):
        for field in model._meta.sorted_fields:
            fast = _converter(field)
            for value in samples:
                got, expected = _written(fast, value), _written(field.db_value, value)
                if isinstance(field, JSONField) and got[0] == expected[0] == "ok" and got[1] is not None:
                    got, expected = json.loads(got[1]), json.loads(expected[1])
                assert got == expected, (model.__name__, field.name, value)
                checked += 1
    assert checked > 40 * len(samples)
    assert to_json({"big": 2**70}) == '{"big":1180591620717411303424}', "what orjson refuses: json.dumps"
    assert to_json({"e": 1e-07, "t": "引号\"\\"}) in ('{"e":1e-7,"t":"引号\\"\\\\"}', '{"e":1e-07,"t":"引号\\"\\\\"}')


def test_a_rows_cells_as_the_rules_see_them(both: ImportService) -> None:
    """RowConverter reads each cell as :func:`rows._plain` says (inline: 20 calls a row saved): text stripped,
    a whole float an int, other values (a subclass of str, a date, a bool) as they are."""
    from datetime import date

    from helpline.services.imports.rows import RowConverter, _plain, map_headers

    class Text(str):
        pass

    definition = both.definition("in_bulk")
    entity = both.platform.metadata.entities["customer"]
    converter = RowConverter(definition, entity, map_headers(definition, entity, COLUMNS))
    for cells in (["K1", " 名 ", 13800138000.0, date(1980, 3, 5), "01", Text(" changsha "), 5.5, True],
                  ["K2", Text(" n "), 7, None, 1.0, "", None, False], ["K3", "x"]):
        values, _ = converter.convert(2, list(cells))
        plain = [_plain(c) for c in cells] + [None] * (len(COLUMNS) - len(cells))
        assert converter.mapping.index and all(  # each mapped column before its transform (phone: digits())
            values.get(name) in (plain[i], str(plain[i])) or name in ("phone", "value_tier")
            for name, i in converter.mapping.index.items() if plain[i] not in (None, ""))


def test_a_constraint_the_checks_do_not_foresee_rejects_its_row(both: ImportService, tmp_path: Path) -> None:
    """A unique index the metadata does not declare (here on the address) fails the batch's one statement (on
    PostgreSQL a COPY); the batch then goes row by row and only the row that broke it is rejected, named by its
    row of the file — as a batch of one row reports it."""
    with session():
        db.execute_sql('CREATE UNIQUE INDEX "customer_test_address" ON "customer" ("address")')
    reports = {}
    for name, k in (("in_bulk", "FF"), ("one_by_one", "GG")):
        rows = _first(k)[:3]
        rows[1] = [f"{k}02", "客户2", "0731-8000002", "1980/3/5", "03", "changsha", "长沙 1 号", f"{k}-card-2"]
        rows[2][6] = "湘潭 3 号"
        reports[name] = both.run(SYSTEM, name, write_xlsx(tmp_path / f"{k}.xlsx", [COLUMNS, *rows]))
        if k == "FF":  # the next load's addresses differ from these
            with session():
                db.execute_sql("UPDATE customer SET address = address || '.' WHERE customer_no LIKE 'FF%%'"
                               if is_postgres() else "UPDATE customer SET address = address || '.' "
                               "WHERE customer_no LIKE 'FF%'")
    for report in reports.values():
        assert report.status == "done", report.error
        assert (report.inserted, report.rejected) == (2, 1)
        assert [(p.row, p.severity) for p in report.problems] == [(3, "error")]
        assert "address" in report.problems[0].message
    with session():
        model = both.platform.models["customer"]
        assert sorted(c.customer_no for c in model.select()) == ["FF01", "FF03", "GG01", "GG03"]


def test_copy_text_stores_what_an_insert_stores(both: ImportService) -> None:
    """PostgreSQL: the COPY of a batch (writes.copy_rows) stores every kind of value as an INSERT does: text
    with tabs, line breaks, backslashes and quotes, empty text and NULL, numbers, dates, JSON; a value COPY
    text does not write (bytes) leaves the batch to the other way."""
    from datetime import date, datetime
    from decimal import Decimal

    from helpline.services.imports.writes import copy_rows, db_values

    if not is_postgres_url(both):
        pytest.skip("COPY is PostgreSQL's")
    model = both.platform.models["customer"]
    odd = ["a\tb", "line\nbreak\r\n", "back\\slash \\N", "quote ' \" ;", "", "\\", "客户 ８"]
    rows = [{"customer_no": f"HH{i}", "name": text, "address": text or None, "income": Decimal("12.50"),
             "age": i, "birth_date": date(1980, 3, 5), "business_line": [text], "blacklisted": i % 2 == 0,
             "created_by": "t", "updated_by": "t", "created_at": datetime(2026, 1, 2, 3, 4, 5, 6),
             "updated_at": datetime(2026, 1, 2, 3, 4, 5)} for i, text in enumerate(odd)]
    with session(), write_transaction():
        copied = [{**r, "customer_no": f"C{r['customer_no']}"} for r in rows]
        fields, params = db_values(model, copied)
        assert copy_rows(model._meta.table_name, fields, params)
        for r in rows:
            model.insert(**{**r, "customer_no": f"I{r['customer_no']}"}).execute()
        assert not copy_rows(model._meta.table_name, fields, [[*params[0][:-1], b"bytes"]])
        stored = {c["customer_no"]: c for c in model.select().where(model.customer_no.contains("HH")).dicts()}
    for r in rows:
        by_copy, by_insert = stored[f"C{r['customer_no']}"], stored[f"I{r['customer_no']}"]
        assert {n: v for n, v in by_copy.items() if n not in ("id", "customer_no")} == \
            {n: v for n, v in by_insert.items() if n not in ("id", "customer_no")}
        assert by_copy["name"] == r["name"]


def is_postgres_url(service: ImportService) -> bool:
    with session():
        return is_postgres()
