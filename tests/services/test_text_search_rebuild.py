"""``run.py reindex`` (issue 17): a rebuild that dies half-way leaves a clear state — the index marked
incomplete, searches answered by ``LIKE`` — and running it again completes it; a record a save indexes while
the rebuild runs keeps the save's entry (PostgreSQL's COPY batches, SQLite's inserts). On both databases."""

from __future__ import annotations

import pytest

from helpline.data import text_rebuild
from helpline.data.database import db, is_postgres, session
from helpline.data.entities import rows
from helpline.data.query import ListQuery
from helpline.data.text_index import is_ready, rebuild, table, write_row
from helpline.security.actor import Actor
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def administrator(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def found(p: Platform, text: str) -> list[str]:
    admin = administrator(p)
    ranked = sorted(h.values["customer_no"] for h in p.search.search(admin, "customer", text))
    listed = sorted(r["customer_no"] for r in p.records.list_page(admin, ListQuery(entity="customer",
                                                                                  search=text)).rows)
    assert ranked == listed, text
    return ranked


def entries(p: Platform) -> list[int]:
    with session():
        key = "id" if is_postgres() else "rowid"
        return sorted(r[0] for r in db.execute_sql(f'SELECT {key} FROM "{table("customer")}"').fetchall())


def all_ids(p: Platform) -> list[int]:
    model = p.models["customer"]
    with session():
        return [r.id for r in model.select(model.id).order_by(model.id)]


@pytest.fixture
def six(platform: Platform) -> Platform:
    for i, name in enumerate(("张伟", "李娜", "王强", "赵敏", "钱多", "孙悦")):
        platform.records.create(SYSTEM, "customer", {"customer_no": f"R{i}", "name": name, "city": "changsha",
                                                     "address": f"长沙市岳麓区中山路{i + 10}号"})
    return platform


def test_a_rebuild_that_dies_leaves_a_clear_state_and_a_rerun_completes_it(six: Platform) -> None:
    model, entity = six.models["customer"], six.metadata.entities["customer"]
    last = all_ids(six)[5]
    with session():
        model.update(name="周到").where(model.id == last).execute()  # a write past the service

    def dies(done: int, total: int, seconds: float) -> None:
        if done >= 4:
            raise KeyboardInterrupt("killed half-way")

    with session(), pytest.raises(KeyboardInterrupt):
        rebuild(six.models, "customer", batch=2, progress=dies)
    with session():
        assert not is_ready(entity), "marked incomplete"
    assert len(entries(six)) == 4, "two batches were written"
    assert found(six, "周到") == ["R5"] and found(six, "中山路1") == [f"R{i}" for i in range(6)], \
        "an incomplete index: LIKE answers, every record"
    with session():
        assert rebuild(six.models, "customer", batch=4) == 6 and is_ready(entity)
    assert entries(six) == sorted(r.id for r in model.select(model.id)) and found(six, "周到") == ["R5"]
    assert found(six, "山路12") == ["R2"], "the index answers again (gram terms)"


@pytest.mark.parametrize("workers", [0, 1])
def test_a_save_during_the_rebuild_keeps_its_entry(six: Platform, workers: int) -> None:
    model, entity = six.models["customer"], six.metadata.entities["customer"]
    ids = all_ids(six)
    saved: list[int] = []

    def save_meanwhile(done: int, total: int, seconds: float) -> None:
        if done == 2 and not saved:  # a save of a record the rebuild has not written yet (read or not)
            with db.atomic():
                model.update(name="吴用").where(model.id == ids[3]).execute()
                write_row(entity, rows(model.select().where(model.id == ids[3]))[0])
            saved.append(ids[3])

    with session():
        assert rebuild(six.models, "customer", batch=2, progress=save_meanwhile, workers=workers) == 6
        assert is_ready(entity)
    assert saved and entries(six) == ids, "one entry a record"
    assert found(six, "吴用") == ["R3"] and found(six, "赵敏") == []


def test_the_rebuild_writes_what_a_save_writes(six: Platform) -> None:
    """PostgreSQL's COPY text (lexemes quoted by the rebuild) gives the very tsvector a save's insert builds."""
    model, entity = six.models["customer"], six.metadata.entities["customer"]
    column = "doc::text" if is_postgres() else "title || '|' || body"
    key = "id" if is_postgres() else "rowid"

    def docs() -> dict[int, str]:
        with session():
            return dict(db.execute_sql(f'SELECT {key}, {column} FROM "{table("customer")}"').fetchall())

    with session():
        assert rebuild(six.models, "customer", batch=4, workers=1) == 6
    rebuilt = docs()
    with session(), db.atomic():
        for row in rows(model.select()):
            write_row(entity, row)
    saved = docs()
    assert rebuilt == saved and len(saved) == 6 and all("中山路1" in d for d in saved.values())


QUERIES = ("张伟", "李娜", "中山路1", "山路12", "岳麓区中山", "13907", "0731", "4449", "R3", "赵六")


def answers(p: Platform) -> dict[str, list[str]]:
    agent = Actor("agent1", roles=("agent",), regions=("changsha",)).bind(p.metadata)
    out = {text: found(p, text) for text in QUERIES}
    out.update({f"agent1 {text}": sorted(h.values["customer_no"] for h in p.search.search(agent, "customer", text))
                for text in ("中山路1", "王强")})
    return out


def parts(p: Platform) -> dict[str, bool]:
    """The index table's parts and whether each has a valid GIN index attached to the table's."""
    with session():
        return dict(db.execute_sql(
            "SELECT c.relname, EXISTS (SELECT 1 FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indexrelid "
            "JOIN pg_class x ON x.oid = h.inhparent WHERE i.indrelid = c.oid AND i.indisvalid "
            "AND x.relname = %s) FROM pg_inherits p JOIN pg_class c ON c.oid = p.inhrelid "
            "WHERE p.inhparent = %s::regclass ORDER BY c.relname",
            (f"{table('customer')}_doc", table("customer"))).fetchall())


@pytest.fixture
def phones(six: Platform) -> Platform:
    for no, phone, city in (("R0", "13907301234", None), ("R3", "18012344449", None), ("R4", "07318889999", "yueyang")):
        cid = six.search.search(administrator(six), "customer", no)[0].id
        six.records.update(SYSTEM, "customer", cid, {"phone": phone, **({"city": city} if city else {})})
    return six


def test_a_partitioned_index_answers_as_one_table(phones: Platform) -> None:
    """PostgreSQL: a rebuild of many records partitions the index table by id and builds each part's GIN index
    in a second connection while the next part loads; the searches answer as with one table, saves go on."""
    if not is_postgres():
        pytest.skip("SQLite's index is one FTS5 table")
    entity = phones.metadata.entities["customer"]
    with session():
        assert text_rebuild.rebuild(phones.models, "customer", batch=4) == 6 and is_ready(entity)
    assert parts(phones) == {}, "six records: one table"
    whole = answers(phones)
    assert whole["张伟"] == ["R0"] and whole["中山路1"] == [f"R{i}" for i in range(6)] and whole["4449"] == ["R3"]
    assert whole["agent1 中山路1"] == ["R0", "R1", "R2", "R3", "R5"] and whole["赵六"] == []
    with session():  # parts of 2 records: 3 parts, the third part's GIN index built at the end
        assert text_rebuild.rebuild(phones.models, "customer", batch=1, part_rows=2, workers=1) == 6
        assert is_ready(entity)
    assert parts(phones) == {f"{table('customer')}_p{k}": True for k in range(3)}
    assert entries(phones) == all_ids(phones) and answers(phones) == whole
    phones.records.create(SYSTEM, "customer", {"customer_no": "R6", "name": "赵六", "city": "changsha",
                                               "address": "长沙市岳麓区中山路99号"})  # after every bound: the last part
    first = phones.search.search(administrator(phones), "customer", "R0")[0].id
    phones.records.update(SYSTEM, "customer", first, {"name": "周到"})
    assert found(phones, "赵六") == ["R6"] and found(phones, "周到") == ["R0"] and found(phones, "张伟") == []


def test_a_partitioned_rebuild_that_dies_leaves_a_clear_state(phones: Platform) -> None:
    """Killed while a part's index is built and the next part loads: the index is marked incomplete, LIKE
    answers, the build in the second connection is stopped, and a rerun completes it."""
    if not is_postgres():
        pytest.skip("SQLite's index is one FTS5 table")
    entity = phones.metadata.entities["customer"]

    def dies(done: int, total: int, seconds: float) -> None:
        if done >= 4:
            raise KeyboardInterrupt("killed half-way")

    with session(), pytest.raises(KeyboardInterrupt):
        text_rebuild.rebuild(phones.models, "customer", batch=2, part_rows=2, progress=dies)
    with session():
        assert not is_ready(entity)
    assert len(entries(phones)) == 4 and found(phones, "4449") == ["R3"], "incomplete: LIKE answers"
    with session():
        assert text_rebuild.rebuild(phones.models, "customer", batch=2, part_rows=2) == 6 and is_ready(entity)
    assert all(parts(phones).values()) and len(parts(phones)) == 3 and found(phones, "山路12") == ["R2"]
