"""Work orders on the one text search (issue 17 item 1: "... and work orders (title, description)"): found by a
two-character word of the title or the description, ranked with the matched words marked, by the list's quick
search through the title, within the searcher's row scope; the index follows an update in the save's
transaction. On SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from helpline.data.query import ListQuery
from helpline.data.text_index import indexed_fields
from helpline.security.actor import Actor
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def order(p: Platform, title: str, description: str, city: str) -> int:
    return p.records.create(SYSTEM, "work_order", {"type": "fault", "title": title, "description": description,
                                                  "city": city}).id


def test_work_orders_by_title_and_description(platform: Platform) -> None:
    p = platform
    assert indexed_fields(p.metadata.entities["work_order"]) == ["title", "description"]
    broadband = order(p, "宽带无法上网", "客户家中光猫红灯闪烁，重启无效", "changsha")
    tv = order(p, "机顶盒无信号", "晚间信号时断时续，已检查分配器", "yueyang")
    admin = Actor("admin", roles=("administrator",)).bind(p.metadata)

    def found(who: Actor, text: str) -> list[int]:
        return [h.id for h in p.search.search(who, "work_order", text)]

    assert found(admin, "光猫") == [broadband], "a word of the description"
    assert found(admin, "上网") == [broadband] and found(admin, "信号") == [tv]
    hit = p.search.search(admin, "work_order", "红灯")[0]
    assert ("红灯", True) in hit.snippets["description"], hit.snippets
    quick = p.records.list_page(admin, ListQuery(entity="work_order", search="宽带"))
    assert [r["id"] for r in quick.rows] == [broadband], "the list's quick search through the title"

    technician = Actor("tech1", roles=("technician",), regions=("yueyang",)).bind(p.metadata)
    assert found(technician, "信号") == [tv] and found(technician, "光猫") == [], "the row scope applies"

    p.records.update(SYSTEM, "work_order", tv, {"description": "分配器更换后恢复"})
    assert found(admin, "时断时续") == [] and found(admin, "分配器") == [tv], "the index follows the save"
