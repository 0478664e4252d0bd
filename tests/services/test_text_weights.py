"""A question's words weighed by how much they say in general Chinese (jieba's idf table,
``helpline/data/text_weights.py``; docs/search.md, *Documents*), on SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from typing import Any

from helpline.data import text_weights
from helpline.data.text_questions import CHAR_WEIGHT, INNER_FACTOR, question_items
from helpline.data.text_weights import GENERAL_FLOOR, general_weight
from helpline.security.actor import Actor
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def test_everyday_words_weigh_less_than_specific_ones() -> None:
    assert general_weight("问题") == GENERAL_FLOOR, "问题 (idf 3.96) is everyday speech"
    assert GENERAL_FLOOR < general_weight("电视") < 1.0 == general_weight("摄像头"), "7.0 between, 10.1 fully"
    assert general_weight("光猫") == 1.0, "a word the table lacks (the centre's own) weighs fully"


def test_a_bad_line_of_the_table_is_skipped(tmp_path: Any, monkeypatch: Any) -> None:
    table = tmp_path / "idf.txt"
    table.write_text("问题 3.9\n坏行\n插头 x\n摄像头 10.1\n", encoding="utf-8")
    monkeypatch.setattr(text_weights, "_idf_path", lambda: table)
    text_weights._general_idf.cache_clear()
    try:
        assert text_weights._general_idf() == {"问题": 3.9}, "a word over GENERAL_HIGH weighs 1 as if absent"
        assert general_weight("摄像头") == 1.0 and general_weight("问题") == GENERAL_FLOOR
    finally:
        monkeypatch.undo()
        text_weights._general_idf.cache_clear()


def test_question_items_carry_the_general_weight() -> None:
    items = {i.text: i.weight for i in question_items("摄像头起来以后一直有问题")}
    assert items["摄像头"] == 1.0 and items["问题"] == GENERAL_FLOOR and items["起来"] < 1.0
    assert {i.text: i.weight for i in question_items("光猫坏了")}["光猫"] == 1.0, "a centre's word weighs fully"


def test_the_article_about_the_specific_word_ranks_above_one_titled_with_an_everyday_word(
        platform: Platform) -> None:
    """``摄像头有问题``: one article holds 问题 in its title (weighed 3), the other 摄像头 in its text (1). Both words
    are held by one record each (the same idf in the articles), so before, the title's 问题 ranked its article
    first; 问题 now weighs 0.3."""
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    add = platform.records.create
    titled = add(SYSTEM, "knowledge_article", {"title": "问题反馈须知", "category": "general",
                                               "body": "意见建议请登记后转交班组长。"}).id
    camera = add(SYSTEM, "knowledge_article", {"title": "家庭监控离线处理", "category": "faults_broadband",
                                               "body": "摄像头离线时先检查电源和宽带。"}).id
    hits = [h.id for h in platform.search.search(admin, "knowledge_article", "摄像头有问题")]
    assert hits[:2] == [camera, titled]


def test_a_lone_character_finds_the_article_and_weighs_its_general_weight(platform: Platform) -> None:
    """``小孩乱按了，钱能退吗``: no article holds 小孩 or 乱按; the refund article holds the verb 退. Before, a lone
    character only weighed and the question found nothing; now the records holding a rarer one are candidates,
    and 退 (idf 6.9) weighs more than 看 (3.8)."""
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    add = platform.records.create
    refund = add(SYSTEM, "knowledge_article", {"title": "误订购增值业务的处理", "category": "tariffs",
                                               "body": "非本人意愿订购的，首次申请可退还当月费用。"}).id
    add(SYSTEM, "knowledge_article", {"title": "宽带提速包", "category": "products", "body": "在网用户可以办理。"})
    hits = [h.id for h in platform.search.search(admin, "knowledge_article", "小孩乱按了，钱能退吗")]
    assert hits == [refund]
    weights = {i.text: i.weight for i in question_items("退了再看")}
    assert weights["退"] > weights["看"] == 0.5 * GENERAL_FLOOR


def test_the_characters_of_a_two_character_word_find_an_article_wording_it_otherwise(platform: Platform) -> None:
    """``老是扣钱``: the article says 扣取, not 扣钱; the character 扣 of the word finds it (before, no article held a
    word or character of the question: nothing). A centre's word (光猫) is not cut into characters."""
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    add = platform.records.create
    renewal = add(SYSTEM, "knowledge_article", {"title": "影视会员自动续费", "category": "products",
                                                "body": "到期前一天从账户余额中扣取下月费用。"}).id
    add(SYSTEM, "knowledge_article", {"title": "宽带提速包", "category": "products", "body": "在网用户可以办理。"})
    assert [h.id for h in platform.search.search(admin, "knowledge_article", "老是扣钱")] == [renewal]
    items = {i.text: i.weight for i in question_items("老是扣钱")}
    assert items["扣"] == CHAR_WEIGHT * INNER_FACTOR * general_weight("扣") and items["扣钱"] == 1.0
    assert {i.text for i in question_items("光猫坏")} == {"光猫", "坏", "猫坏"}, "光猫 is one of the centre's words"


def test_records_holding_only_a_weak_character_are_not_scored_further(platform: Platform, monkeypatch: Any) -> None:
    """``摄像头离线，灯在闪``: three articles hold only the character 灯 in their text; their first-step score is
    under a tenth of the camera article's, so their index terms are not read (before, every candidate up to
    SHORTLIST was scored)."""
    from helpline.services import doc_search

    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    add = platform.records.create
    camera = add(SYSTEM, "knowledge_article", {"title": "摄像头离线的处理", "category": "faults_broadband",
                                               "keywords": "摄像头 离线", "body": "先检查电源。"}).id
    lamps = [add(SYSTEM, "knowledge_article", {"title": f"营业厅须知{n}", "category": "general",
                                               "body": f"门口的灯每晚{n + 7}点关闭。"}).id for n in range(3)]
    scored: list[int] = []
    real = doc_search.record_terms
    monkeypatch.setattr(doc_search, "record_terms", lambda name, ids: scored.extend(ids) or real(name, ids))
    hits = [h.id for h in platform.search.search(admin, "knowledge_article", "摄像头离线，灯在闪")]
    assert hits == [camera] and camera in scored and not set(lamps) & set(scored)
