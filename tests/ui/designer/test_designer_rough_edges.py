"""Small things a new administrator and agent met (issue 14 item 12): the entity designer's help inputs say
"Help", /designer/<kind> opens the kind's list, and agents export the queries they run (the ``export``
permission, shown in the role designer, checked on the server)."""

from __future__ import annotations

import io

from designer_helpers import found, until
from nicegui import ui
from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import log_in

import helpline.ui.views.designer.entity_designer  # noqa: F401 - registers the designer
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.services.platform import Platform


async def test_help_inputs_are_labelled_help(user: User) -> None:
    await log_in(user, "admin", path="/designer/entity/customer")
    await user.should_see(marker="designer-status", retries=150)
    inputs = await until(lambda: [e for e in found(user, kind=ui.input)
                                  if any(m.endswith("-help-en") for m in e._markers)], "the help inputs")
    assert inputs[0].props["label"] == "Help (English)"
    chinese = [e for e in found(user, kind=ui.input) if any(m.endswith("-help-zh_CN") for m in e._markers)]
    assert chinese[0].props["label"] == "Help (Chinese)"


async def test_a_kind_without_an_object_opens_its_list(user: User) -> None:
    await log_in(user, "admin", path="/designer/screen")
    await user.should_see(marker="designer-objects", retries=150)
    kind = user.find(marker="designer-kind").elements.pop()
    assert kind.value == "screen"  # type: ignore[attr-defined]
    await user.should_see(content="customer_form", retries=50)
    await user.should_see(marker="designer-new")


async def test_an_agent_exports_a_query_they_can_run(user: User, ui_platform: Platform) -> None:
    ui_platform.records.create(Actor.system(), "customer",
                               {"customer_no": "EXP1", "name": "Export me", "value_tier": "gold", "city": "changsha"})
    await log_in(user, "agent1", path="/query/customers_by_tier")
    await user.should_see(marker="run-query", retries=150)
    user.find(marker="input-tier").elements.pop().value = ["gold"]  # type: ignore[attr-defined]
    user.find(marker="query-export").click()
    response = await user.download.next()
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert any("EXP1" in r for r in rows)
    with session():
        assert search_audit(actor="agent1", action="export"), "the export is audited"
