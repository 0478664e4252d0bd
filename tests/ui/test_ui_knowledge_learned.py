"""Learned keywords on the knowledge statistics page (issue 17): the words two agents searched before opening an
article are listed with it, and the administrator's click adds one to the article's keywords. NiceGUI ``user``
fixture (no browser)."""

from __future__ import annotations

from desk_helpers import shown, until
from nicegui.testing import User
from ui_helpers import log_in

from helpline.security.actor import Actor
from helpline.services.platform import Platform


async def test_a_learned_keyword_is_added_by_the_administrators_click(user: User, ui_platform: Platform) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(ui_platform.metadata)
    article = ui_platform.records.create(admin, "knowledge_article", {
        "title": "入户施工规范", "category": "faults", "body": "需在墙体打孔的，征得用户同意后施工。",
        "keywords": "施工 打孔"}).id
    ui_platform.workflows.take(admin, "knowledge_article", article, "to_review")
    ui_platform.workflows.take(admin, "knowledge_article", article, "publish")
    for name in ("agent1", "agent2"):
        who = Actor(name, roles=("agent",), regions=("changsha",)).bind(ui_platform.metadata)
        ui_platform.knowledge.search(who, "师傅要在墙上钻洞")
        ui_platform.knowledge.open(who, article)
    await log_in(user, "admin", path="/page/knowledge_stats")
    await until(lambda: shown(user, f"kbs-learn-{article}-钻洞"))
    user.find(marker=f"kbs-learn-{article}-钻洞").click()
    await until(lambda: not shown(user, f"kbs-learn-{article}-钻洞"))
    assert ui_platform.records.get(admin, "knowledge_article", article).values["keywords"] == "施工 打孔 钻洞"
    assert shown(user, f"kbs-learn-{article}-墙上"), "the words not added stay suggested"
