"""The knowledge base (issue 17 item 2): publishing on the workflow engine (a draft never in agents' search, an
expired article never shown), scope by city, versions with a diff, helpful votes, and every view and search
logged for the statistics. On SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from helpline.data.base import centre_today
from helpline.data.database import session
from helpline.data.knowledge import KbEvent, KbVersion
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.knowledge import ArticleUnavailable
from helpline.services.knowledge.stats import usage
from helpline.services.platform import Platform
from helpline.services.records import RecordNotFound, ValidationFailed
from helpline.services.workflow.engine import TransitionRefused

SYSTEM = Actor.system()
TODAY = date(2026, 12, 7)


def actor(p: Platform, name: str, role: str, regions: tuple[str, ...] = ()) -> Actor:
    return Actor(name, roles=(role,), regions=regions).bind(p.metadata)


def article(p: Platform, title: str, body: str = "正文", **values: object) -> int:
    editor = actor(p, "sup1", "supervisor")
    return p.records.create(editor, "knowledge_article", {"title": title, "category": "tariffs", "body": body,
                                                          **values}).id


def publish(p: Platform, article_id: int) -> None:
    editor = actor(p, "sup1", "supervisor")
    p.workflows.take(editor, "knowledge_article", article_id, "to_review")
    p.workflows.take(editor, "knowledge_article", article_id, "publish")


def titles(p: Platform, who: Actor, text: str, today: date = TODAY) -> list[str]:
    return [h.title for h in p.knowledge.search(who, text, today=today)]


def test_drafts_and_articles_in_review_are_never_in_agents_search(platform: Platform) -> None:
    agent = actor(platform, "agent1", "agent", ("changsha",))
    first = article(platform, "机顶盒无信号处理", keywords="机顶盒 信号")
    assert platform.records.get(SYSTEM, "knowledge_article", first).values["status"] == "draft"
    assert titles(platform, agent, "信号") == []
    with pytest.raises(RecordNotFound):  # the agent's row scope: not even opened by its number
        platform.knowledge.open(agent, first, today=TODAY)
    editor = actor(platform, "sup1", "supervisor")
    platform.workflows.take(editor, "knowledge_article", first, "to_review")
    assert titles(platform, agent, "信号") == []
    platform.workflows.take(editor, "knowledge_article", first, "publish")
    assert titles(platform, agent, "信号") == ["机顶盒无信号处理"]
    with pytest.raises(PermissionDenied):  # the agent has no role in the publishing process
        platform.workflows.take(agent, "knowledge_article", first, "retire")
    platform.workflows.take(editor, "knowledge_article", first, "retire")
    assert titles(platform, agent, "信号") == []
    with pytest.raises(TransitionRefused):  # sent back to draft only with a comment
        other = article(platform, "第二篇")
        platform.workflows.take(editor, "knowledge_article", other, "to_review")
        platform.workflows.take(editor, "knowledge_article", other, "reject")


def test_an_expired_or_not_yet_effective_article_is_never_shown_to_agents(platform: Platform) -> None:
    agent = actor(platform, "agent1", "agent", ("changsha",))
    old = article(platform, "旧资费说明", valid_from=TODAY - timedelta(days=30), valid_to=TODAY - timedelta(days=1))
    soon = article(platform, "新资费说明", valid_from=TODAY + timedelta(days=1))
    now = article(platform, "现行资费说明", valid_from=TODAY, valid_to=TODAY)
    for a in (old, soon, now):
        publish(platform, a)
    assert titles(platform, agent, "资费") == ["现行资费说明"]
    with pytest.raises(ArticleUnavailable, match="expired on 2026-12-06"):
        platform.knowledge.open(agent, old, today=TODAY)
    with pytest.raises(ArticleUnavailable, match="takes effect on 2026-12-08"):
        platform.knowledge.open(agent, soon, today=TODAY)
    assert titles(platform, agent, "资费", today=TODAY + timedelta(days=1)) == ["新资费说明"]
    editor = actor(platform, "sup1", "supervisor")
    assert platform.knowledge.open(editor, old, today=TODAY, count=False).values["title"] == "旧资费说明"
    assert platform.knowledge.retire_expired(today=TODAY) == {"retired": 1}  # the nightly job: lists agree
    assert platform.records.get(SYSTEM, "knowledge_article", old).values["status"] == "retired"
    assert platform.records.get(SYSTEM, "knowledge_article", now).values["status"] == "published"


def test_scope_province_wide_or_one_city(platform: Platform) -> None:
    province = article(platform, "全省宽带资费")
    changsha = article(platform, "长沙宽带资费", city="changsha")
    zhuzhou = article(platform, "株洲宽带资费", city="zhuzhou")
    for a in (province, changsha, zhuzhou):
        publish(platform, a)
    agent = actor(platform, "agent1", "agent", ("changsha",))
    assert sorted(titles(platform, agent, "宽带")) == ["全省宽带资费", "长沙宽带资费"]
    with pytest.raises(RecordNotFound):
        platform.knowledge.open(agent, zhuzhou, today=TODAY)
    other = actor(platform, "agent2", "agent", ("zhuzhou",))
    assert sorted(titles(platform, other, "宽带")) == ["全省宽带资费", "株洲宽带资费"]


def test_versions_kept_at_each_publication_with_a_diff(platform: Platform) -> None:
    editor = actor(platform, "sup1", "supervisor")
    a = article(platform, "复机流程", "第一步：缴费\n第二步：等待两小时")
    publish(platform, a)
    platform.workflows.take(editor, "knowledge_article", a, "revise")
    platform.records.update(editor, "knowledge_article", a, {"body": "第一步：缴费\n第二步：等待半小时"})
    assert platform.knowledge.diff(editor, a, 1) == [
        "--- v1", "+++ now", "@@ -1,3 +1,3 @@", " # 复机流程", " 第一步：缴费",
        "-第二步：等待两小时", "+第二步：等待半小时"]
    publish(platform, a)
    assert [v["number"] for v in platform.knowledge.versions(editor, a)] == [1, 2]
    assert "-第二步：等待两小时" in platform.knowledge.diff(editor, a, 1, 2)
    with pytest.raises(PermissionDenied):
        platform.knowledge.versions(actor(platform, "agent1", "agent", ("changsha",)), a)
    with session():
        assert KbVersion.select().where(KbVersion.article_id == a).count() == 2


def test_oversized_article_refused_with_the_limit_named(platform: Platform) -> None:
    with pytest.raises(ValidationFailed, match="at most 100000 characters"):
        article(platform, "太长", "字" * 100_001)


def test_helpful_votes_views_and_searches_logged_for_the_statistics(platform: Platform) -> None:
    a = article(platform, "充值卡缴费说明", keywords="充值卡")
    publish(platform, a)
    agent = actor(platform, "agent1", "agent", ("changsha",))
    agent2 = actor(platform, "agent2", "agent", ("changsha",))
    assert titles(platform, agent, "充值") == ["充值卡缴费说明"]
    assert titles(platform, agent, "彩铃退订") == []
    opened = platform.knowledge.open(agent, a, today=TODAY, source="desk")
    assert opened.values["views"] == 1 and opened.my_vote is None
    assert platform.knowledge.vote(agent, a, True, today=TODAY) == {"helpful": 1, "not_helpful": 0}
    assert platform.knowledge.vote(agent, a, True, today=TODAY) == {"helpful": 1, "not_helpful": 0}  # once a user
    assert platform.knowledge.vote(agent2, a, False, today=TODAY) == {"helpful": 1, "not_helpful": 1}
    assert platform.knowledge.vote(agent2, a, True, today=TODAY) == {"helpful": 2, "not_helpful": 0}  # changed
    assert platform.knowledge.open(agent, a, today=TODAY).my_vote is True
    row = platform.records.get(SYSTEM, "knowledge_article", a).values
    assert (row["views"], row["helpful"], row["not_helpful"]) == (2, 2, 0)
    with session():
        kinds = [(e.kind, e.username, e.text, e.hits) for e in KbEvent.select().order_by(KbEvent.id)]
    assert kinds[:2] == [("search", "agent1", "充值", 1), ("search", "agent1", "彩铃退订", 0)]
    admin = actor(platform, "admin", "administrator")
    today = centre_today()
    figures = usage(platform, admin, today - timedelta(days=7), today)
    assert figures["totals"] == {"views": 2, "searches": 2, "no_result": 1, "helpful": 2, "not_helpful": 1}
    assert figures["no_result"] == [{"text": "彩铃退订", "count": 1}]
    assert figures["weeks"][0]["articles"] == [{"id": a, "title": "充值卡缴费说明", "views": 2}]
    with pytest.raises(PermissionDenied):
        usage(platform, agent, today, today)
    with pytest.raises(ValueError, match="at most 366"):
        usage(platform, admin, today - timedelta(days=400), today)


def test_related_articles_shown_only_when_the_reader_may_see_them(platform: Platform) -> None:
    agent = actor(platform, "agent1", "agent", ("changsha",))
    tariff = article(platform, "宽带资费")
    draft = article(platform, "宽带提速（草稿）")
    other_city = article(platform, "株洲宽带资费", city="zhuzhou")
    main = article(platform, "宽带开通", related=f"{tariff} #{draft}，{other_city} {tariff} 9999")
    for a in (tariff, other_city, main):
        publish(platform, a)
    assert platform.knowledge.open(agent, main, today=TODAY).related == [(tariff, "宽带资费")]
    editor = actor(platform, "sup1", "supervisor")
    assert [t for _, t in platform.knowledge.open(editor, main, today=TODAY).related] == [
        "宽带资费", "宽带提速（草稿）", "株洲宽带资费"]
