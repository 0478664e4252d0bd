"""The knowledge base on screen (issue 17 items 2-3): the knowledge page searched as one types, an article with a
table read and voted helpful, the statistics page showing the view and the search; on the agent desktop the
knowledge panel pre-filled from the call (the customer's business line, then the category chosen on the contact
record), an article opened beside the call and pinned across calls, and the study state opening the knowledge
base. NiceGUI ``user`` fixture (no browser)."""

from __future__ import annotations

from typing import Any

from desk_helpers import Caller, agent, element, field, ready_desktop, shown, talking, until
from nicegui.testing import User
from ui_helpers import log_in

from helpline.security.actor import Actor
from helpline.services.platform import Platform

BODY = "Check the cable first.\n\n| Light | Meaning |\n|---|---|\n| red | no signal |\n\n<script>alert(1)</script>"


def published(p: Platform, title: str, keywords: str, body: str = BODY, **values: Any) -> int:
    admin = Actor("admin", roles=("administrator",)).bind(p.metadata)
    article = p.records.create(admin, "knowledge_article", {"title": title, "category": "faults", "body": body,
                                                            "keywords": keywords, **values}).id
    p.workflows.take(admin, "knowledge_article", article, "to_review")
    p.workflows.take(admin, "knowledge_article", article, "publish")
    return article


async def test_search_read_vote_and_the_statistics(user: User, ui_platform: Platform) -> None:
    article = published(ui_platform, "No signal: what to check", "signal cable")
    draft = ui_platform.records.create(Actor.system(), "knowledge_article",
                                       {"title": "Signal draft", "category": "faults", "body": "draft"}).id
    await log_in(user, "agent1", path="/page/knowledge")
    await user.should_see(marker="kb-search", retries=100)
    user.find(marker="kb-search").type("signal")
    await until(lambda: shown(user, f"kb-hit-{article}"))
    assert not shown(user, f"kb-hit-{draft}")  # a draft is never in an agent's search
    user.find(marker=f"kb-hit-{article}").click()
    await until(lambda: shown(user, "kb-title"))
    html = " ".join(e.content for e in user.find(marker="kb-content").elements)
    assert "<table>" in html and "<td>red</td>" in html and "<script" not in html
    user.find(marker="kb-helpful").click()
    await until(lambda: "1 helpful" in element(user, "kb-votes").text)
    values = ui_platform.records.get(Actor.system(), "knowledge_article", article).values
    assert (values["views"], values["helpful"]) == (1, 1)
    user.find(marker="kb-search").clear()
    user.find(marker="kb-search").type("karaoke")
    await until(lambda: shown(user, "kb-none"))

    await log_in(user, "admin", path="/page/knowledge_stats")
    await until(lambda: shown(user, "kbs-views"))
    assert element(user, "kbs-views").text == "1" and element(user, "kbs-helpful").text == "1"
    assert int(element(user, "kbs-searches").text) >= 2 and element(user, "kbs-no_result").text == "1"
    assert [r["text"] for r in element(user, "kbs-missing").rows] == ["karaoke"]


async def test_agents_are_refused_the_statistics_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/knowledge_stats")
    await user.should_not_see(marker="kbs-views")
    await user.should_see("Knowledge base", retries=50)  # the shell is there, the page refused


async def test_desk_panel_prefilled_from_the_call_pinned_across_calls(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    ui_platform.records.update(Actor.system(), "customer", gold_customer, {"business_line": ["broadband"]})
    broadband = published(ui_platform, "Broadband speed test", "broadband speed")
    no_signal = published(ui_platform, "No signal: what to check", "signal cable")
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    box = element(user, "desk-kb-search")
    await until(lambda: box.value == "Broadband")  # the customer's business line
    await until(lambda: shown(user, f"desk-kb-hit-{broadband}"))
    field(user, "complaint_types").value = ["fault_no_signal"]  # what the call is about, on the contact form
    user.find(marker="desk-kb-from-call").click()
    await until(lambda: box.value == "No signal")
    await until(lambda: shown(user, f"desk-kb-hit-{no_signal}"))
    user.find(marker=f"desk-kb-hit-{no_signal}").click()
    await until(lambda: shown(user, "desk-kb-title"))
    assert shown(user, "pop-serial")  # beside the call, not instead of it
    user.find(marker="desk-kb-pin").click()
    knowledge = panel_of(user)
    assert knowledge.pinned
    knowledge.call_came(None)  # what the desktop does when the next call pops: the pinned article stays
    assert shown(user, "desk-kb-title")
    user.find(marker="desk-kb-pin").click()
    knowledge.call_came(None)
    await until(lambda: not shown(user, "desk-kb-title"))


def panel_of(user: User) -> Any:
    """The desktop's knowledge panel object (its card is on the user's page)."""
    import gc

    from helpline.ui.views.desk_knowledge import KnowledgePanel

    card = element(user, "desk-kb")
    found = [o for o in gc.get_objects() if isinstance(o, KnowledgePanel) and o.card is card]
    assert len(found) == 1
    return found[0]


async def test_the_study_state_opens_the_knowledge_base_and_the_bulletins(user: User, desk: Any) -> None:
    await ready_desktop(user, desk)
    user.find(marker="desk-study").click()
    await until(lambda: agent(desk)["status"] == "study")
    await until(lambda: shown(user, "bulletins-mine"), timeout=8)  # the last one opened is in front
    tabs = element(user, "desk-work-tabs")
    titles = [c.props.get("label") for c in tabs.default_slot.children]
    assert titles[-2:] == ["Knowledge base", "Bulletins"], titles


async def test_a_search_too_long_is_refused_in_the_users_language(user: User) -> None:
    """Issue 17's bad input "search input of any length answered or refused cleanly": the box holds at most the
    limit, and a longer text that reaches the server is refused with the limit, in the user's language."""
    from helpline.data.database import session
    from helpline.data.query import MAX_SEARCH_LENGTH
    from helpline.data.system import User as UserRow

    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "agent1").execute()
    await log_in(user, "agent1", path="/page/knowledge")
    await user.should_see(marker="kb-search", retries=100)
    box = element(user, "kb-search")
    assert box.props["maxlength"] == str(MAX_SEARCH_LENGTH)
    box.value = "机顶盒" * 40
    await until(lambda: shown(user, "kb-too-long"))
    assert element(user, "kb-too-long").text == f"查询内容最多 {MAX_SEARCH_LENGTH} 个字。"


async def test_an_attachment_refused_with_its_limit_in_the_users_language(user: User, ui_platform: Platform) -> None:
    """Issue 17's bad input "oversized attachments refused with the limit named", on the Editing panel of a
    Chinese-speaking editor: the refusal names the limit in Chinese; nothing is stored."""
    from nicegui import ui

    from helpline.data.database import session
    from helpline.data.knowledge import KbAttachment
    from helpline.data.system import User as UserRow
    from helpline.services.knowledge.attachments import MAX_BYTES

    article = published(ui_platform, "机顶盒指示灯", "指示灯")
    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "admin").execute()
    await log_in(user, "admin", path=f"/knowledge/{article}")
    await until(lambda: shown(user, "kb-upload"))
    upload = element(user, "kb-upload")
    assert isinstance(upload, ui.upload)
    big = b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES)
    await upload.handle_uploads([ui.upload.SmallFileUpload("面板.png", "image/png", big)])
    await until(lambda: any("附件最大 5,242,880 字节（5 MB）" in m for m in user.notify.messages))
    await upload.handle_uploads([ui.upload.SmallFileUpload("x.svg", "image/svg+xml", b"<svg onload=alert(1)>")])
    await until(lambda: any("不接受 SVG 和 HTML 文件" in m for m in user.notify.messages))
    with session():
        assert KbAttachment.select().count() == 0


async def test_an_expired_article_is_refused_in_the_users_language(user: User, ui_platform: Platform) -> None:
    """Issue 17's "an expired article never shown to agents", opened by its address: the refusal says why in the
    agent's language (it was the service's English text, its prefix twice)."""
    from helpline.data.database import session
    from helpline.data.system import User as UserRow

    expired = published(ui_platform, "旧资费说明", "资费", valid_to="2020-01-31")
    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "agent1").execute()
    await log_in(user, "agent1", path=f"/knowledge/{expired}")
    await until(lambda: shown(user, "kb-unavailable"))
    assert element(user, "kb-unavailable").text == "该知识无法显示：该知识已于 2020-01-31 失效。"
    assert not shown(user, "kb-title")
