"""Learned keywords (``helpline/services/knowledge/learned.py``): the words different agents searched before
opening an article are suggested for it, an editor accepts them into its keywords, and the next search finds it
by them. On SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpline.data.base import centre_today, utcnow
from helpline.data.database import session
from helpline.data.knowledge import KbEvent
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.knowledge.learned import WINDOW, accept, suggestions
from helpline.services.platform import Platform

TODAY = centre_today()


def actor(p: Platform, name: str, role: str, regions: tuple[str, ...] = ()) -> Actor:
    return Actor(name, roles=(role,), regions=regions).bind(p.metadata)


def published(p: Platform, title: str, body: str, keywords: str) -> int:
    editor = actor(p, "sup1", "supervisor")
    new = p.records.create(editor, "knowledge_article", {"title": title, "category": "procedures", "body": body,
                                                         "keywords": keywords}).id
    p.workflows.take(editor, "knowledge_article", new, "to_review")
    p.workflows.take(editor, "knowledge_article", new, "publish")
    return new


def test_words_searched_before_opening_an_article_are_learned_after_review(platform: Platform) -> None:
    works = published(platform, "入户施工规范与用户配合事项", "需要打孔的，征得用户同意后施工。", "施工 布线 打孔")
    other = published(platform, "营业厅营业时间", "营业厅每天9点至18点营业。", "营业时间")
    agents = [actor(platform, f"agent{n}", "agent", ("changsha",)) for n in (1, 2, 3)]
    question = "装网的师傅要在墙上钻洞"
    assert works not in [h.id for h in platform.knowledge.search(agents[0], "墙上钻洞", today=TODAY)]
    for who in agents[:2]:  # two agents search in callers' words, then open the article (found by browsing)
        platform.knowledge.search(who, question, source="desk", today=TODAY)
        platform.knowledge.open(who, works, source="desk", today=TODAY)
    platform.knowledge.vote(agents[0], works, True, today=TODAY)
    platform.knowledge.search(agents[2], "钻洞费用", today=TODAY)  # a third opens another one and says no
    platform.knowledge.open(agents[2], other, today=TODAY)
    platform.knowledge.vote(agents[2], other, False, today=TODAY)
    platform.knowledge.search(agents[2], "营业厅周日", today=TODAY)  # one user alone is no evidence
    platform.knowledge.open(agents[2], other, today=TODAY)
    admin = actor(platform, "admin", "administrator")
    since = utcnow() - timedelta(hours=1)
    found = {s.article_id: dict(s.words) for s in suggestions(platform, admin, since)}
    assert set(found) == {works}, "the other article: one user, and a not-helpful vote teaches nothing"
    assert found[works]["钻洞"] == 2 and found[works]["墙上"] == 2
    assert "要在" not in found[works] and "装网" not in found[works], "question words and pairs are not words"
    assert "施工" not in found[works], "a word the article's keywords hold already"
    alone = {s.article_id: dict(s.words) for s in suggestions(platform, admin, since, min_users=1)}
    assert alone[other] == {"周日": 1}, "营业厅 is in its title; 钻洞费用 was followed by a not-helpful vote"
    with pytest.raises(PermissionDenied):
        suggestions(platform, agents[0], since)
    with pytest.raises(PermissionDenied):  # an agent may not edit articles
        accept(platform, agents[0], works, ["钻洞"])
    editor = actor(platform, "sup1", "supervisor")
    assert accept(platform, editor, works, ["钻洞", "打孔", "墙上"]) == "施工 布线 打孔 钻洞 墙上"
    assert [h.id for h in platform.knowledge.search(agents[0], "墙上钻洞", today=TODAY)][:1] == [works]
    assert [dict(s.words) for s in suggestions(platform, admin, since)] == [{"师傅": 2}], "the one not accepted"
    with pytest.raises(ValueError, match="at most 200"):
        accept(platform, editor, works, ["钻" * 199])


def test_an_opening_long_after_the_search_teaches_nothing(platform: Platform) -> None:
    works = published(platform, "机顶盒自动待机设置", "4小时内无操作自动进入待机。", "自动待机")
    admin = actor(platform, "admin", "administrator")
    start = utcnow() - timedelta(hours=2)
    with session():
        for n, user in enumerate(("agent1", "agent2")):
            KbEvent.create(username=user, kind="search", text="电视放着放着就关机了", hits=0, at=start)
            late = start + WINDOW + timedelta(seconds=1) if n == 0 else start + WINDOW - timedelta(seconds=1)
            KbEvent.create(username=user, kind="view", article_id=works, at=late)
    assert suggestions(platform, admin, start - timedelta(minutes=1)) == []
    assert [s.words for s in suggestions(platform, admin, start - timedelta(minutes=1), min_users=1)] \
        == [[("关机", 1), ("电视", 1)]], "only agent2 opened it within the window"
    with pytest.raises(ValueError, match="before it starts"):
        suggestions(platform, admin, start, start - timedelta(days=1))
