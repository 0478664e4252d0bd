"""Searching documents by a question (issue 17): knowledge articles, bulletins and notes are documents (an
indexed long text among their quick-search fields); a question none of them holds every word of still finds
the ones holding most of its rarer words. Customers are not documents: every word must match. On SQLite and
PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from helpline.data.text_questions import CHAR_WEIGHT, question_items
from helpline.data.text_weights import general_weight
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.search import is_document

SYSTEM = Actor.system()


def test_a_question_finds_the_article_holding_most_of_its_words(platform: Platform) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)

    def add(title: str, body: str) -> int:
        return platform.records.create(admin, "knowledge_article", {"title": title, "category": "faults_tv",
                                                                    "body": body}).id

    signal = add("机顶盒无信号的处理", "请用户检查射频线是否插紧，再查看信号强度。")
    remote = add("遥控器失灵", "更换电池后重新配对。")
    add("宽带提速包", "在网用户可以办理提速包。")
    question = "电视一开机就提示没有信号，怎么处理"
    hits = [h.id for h in platform.search.search(admin, "knowledge_article", question)]
    assert hits and hits[0] == signal and remote not in hits
    assert [h.id for h in platform.search.search(admin, "knowledge_article", "射频线 信号")] == [signal]
    assert platform.search.search(admin, "knowledge_article", "彩铃退订") == [], "no word held: nothing"
    platform.records.create(SYSTEM, "customer", {"customer_no": "KZ", "name": "张伟", "address": "长沙市信号路1号"})
    assert platform.search.search(admin, "customer", "张伟 没有 信号") == [], "a customer needs every word"
    assert is_document(platform.metadata.entities["bulletin"]) and is_document(platform.metadata.entities["note"])
    assert not is_document(platform.metadata.entities["customer"])


def test_question_words_are_left_out() -> None:
    items = question_items("请问为什么我家看不了4K的台，怎么办")
    lone = CHAR_WEIGHT * general_weight("台")  # a lone character weighs its general weight too
    assert [(i.text, i.weight) for i in items] == [("看不了", 1.0), ("4k", 1.0), ("台", lone)], items
