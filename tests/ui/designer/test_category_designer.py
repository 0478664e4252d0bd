"""The category designer at /designer/category/<name>: add, rename, move, reorder and retire codes, a bad
code shows its check id beside the code, publish, the code appears in a form's category select for an
agent without a restart, roll back; Excel export → import round trip, and a file with bad rows is refused
with its row numbers while the draft stays as it was; a new tree from the page."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from designer_helpers import actor, confirmed, found, one, retype, set_value, until
from nicegui import ui
from nicegui.testing import User
from openpyxl import Workbook, load_workbook
from ui_helpers import log_in, see

import helpline.ui.views.designer.category_designer as category_designer  # noqa: F401 - registers it
from helpline.services.designer.category_excel import HEADERS
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform


def nodes(platform: Platform, tree: str) -> list[dict[str, Any]]:
    opened = DraftService(platform).open(actor("admin", platform), "category", tree)
    assert opened.data is not None
    result: list[dict[str, Any]] = opened.data.get("nodes", [])
    return result


def node(platform: Platform, tree: str, code: str) -> dict[str, Any]:
    return next((n for n in nodes(platform, tree) if n["code"] == code), {})


def codes(platform: Platform, tree: str) -> list[str]:
    return [n["code"] for n in nodes(platform, tree)]


def texts(user: User, marker: str) -> str:
    return " | ".join(str(getattr(e, "text", "")) for e in found(user, marker))


def shown_order(user: User) -> list[str]:
    """The codes in the order the designer shows them."""
    assert user.client
    rows = [e for e in user.client.layout.descendants()
            if any(m.startswith("designer-category-node-") for m in e._markers)]
    return [next(m for m in e._markers if m.startswith("designer-category-node-")).removeprefix(
        "designer-category-node-") for e in rows]


async def open_tree(user: User, tree: str) -> None:
    await log_in(user, "admin", path=f"/designer/category/{tree}")
    await user.should_see(marker="designer-category-add", retries=150)
    await user.should_see(marker="designer-ok", retries=150)


async def upload(user: User, content: bytes, name: str = "tree.xlsx") -> None:
    element = one(user, "designer-category-import")
    assert isinstance(element, ui.upload)
    await element.handle_uploads([ui.upload.SmallFileUpload(name, "application/octet-stream", content)])


async def test_edit_codes_publish_agent_picks_the_code_and_roll_back(user: User, create_user: Callable[[], User],
                                                                     ui_platform: Platform) -> None:
    before = ui_platform.store.current("category", "value_tier")
    assert before is not None
    await open_tree(user, "value_tier")

    # add a code under vip
    retype(user, "designer-category-new-code", "jade")
    retype(user, "designer-category-new-label-en", "Jade card")
    retype(user, "designer-category-new-label-zh_CN", "翡翠卡")
    set_value(user, "designer-category-new-parent", "vip")
    user.find(marker="designer-category-add").click()
    await until(lambda: node(ui_platform, "value_tier", "jade"), "jade added")
    assert node(ui_platform, "value_tier", "jade") == {"code": "jade", "label": {"en": "Jade card", "zh_CN": "翡翠卡"},
                                                       "parent": "vip"}
    await user.should_see(marker="designer-category-jade-label-en", retries=150)
    # rename it
    retype(user, "designer-category-jade-label-en", "Jade VIP card")
    await until(lambda: node(ui_platform, "value_tier", "jade")["label"]["en"] == "Jade VIP card", "renamed")
    # move it to the top level: last of the top codes
    set_value(user, "designer-category-jade-parent", "")
    await until(lambda: "parent" not in node(ui_platform, "value_tier", "jade"), "moved to the top")
    await until(lambda: shown_order(user)[-1] == "jade", "the form shows jade last")
    tops = lambda: [n["code"] for n in nodes(ui_platform, "value_tier") if "parent" not in n]  # noqa: E731
    assert tops() == ["ordinary", "vip", "jade"]
    # reorder: one up, before vip (and its codes)
    user.find(marker="designer-category-jade-up").click()
    await until(lambda: tops() == ["ordinary", "jade", "vip"], "jade before vip")
    await until(lambda: shown_order(user)[:3] == ["ordinary", "jade", "vip"], "the form shows the new order")
    # retire gold
    user.find(marker="designer-category-gold-retire").click()
    await until(lambda: node(ui_platform, "value_tier", "gold").get("retired") is True, "gold retired")

    # a code that is not a valid name: HL-E104 beside that code, as `run.py check` reports it
    retype(user, "designer-category-new-code", "9lives")
    user.find(marker="designer-category-add").click()
    await until(lambda: found(user, "designer-error-HL-E104"), "HL-E104 shown")
    row = one(user, "designer-category-node-9lives")
    assert set(found(user, "designer-error-HL-E104")) & set(row.descendants()), "the id is beside the bad code"
    assert "9lives" not in ui_platform.metadata.categories["value_tier"].codes()  # nothing live changed
    user.find(marker="designer-category-9lives-delete").click()
    await until(lambda: "9lives" not in codes(ui_platform, "value_tier"), "bad code deleted")
    await until(lambda: found(user, "designer-ok"), "no problems")
    assert not found(user, "designer-category-gold-delete"), "a published code can be retired, not deleted"

    # publish; an agent's customer form offers the new code and no longer the retired one
    user.find(marker="designer-comment").type("jade card; gold retired")
    user.find(marker="designer-publish").click()
    await see(user, "Published as revision")
    tree = ui_platform.metadata.categories["value_tier"]
    assert tree.node("jade") is not None and tree.node("gold").retired  # type: ignore[union-attr]
    agent = create_user()
    await log_in(agent, "agent1")
    agent.find("Customers").click()
    await agent.should_see(marker="new", retries=150)
    agent.find(marker="new").click()
    await agent.should_see(marker="field-value_tier", retries=150)
    options = one(agent, "field-value_tier").options
    assert options["jade"] == "Jade VIP card" and "gold" not in options
    assert list(options).index("jade") < list(options).index("vip")

    # roll back from the History tab
    user.find(marker="designer-tab-history").click()
    table = one(user, "designer-history")
    await until(lambda: len(table.rows) >= 2, "history loaded")
    table.selected = [r for r in table.rows if r["id"] == int(before.id)]
    user.find(marker="designer-rollback").click()
    await confirmed(user, "designer-rollback-ok")
    await see(user, f"Revision {before.id} is live again")
    tree = ui_platform.metadata.categories["value_tier"]
    assert tree.node("jade") is None and not tree.node("gold").retired  # type: ignore[union-attr]


def workbook(*rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(HEADERS))
    for r in rows:
        ws.append(r)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


async def test_excel_round_trip_and_a_file_with_bad_rows(user: User, ui_platform: Platform) -> None:
    await open_tree(user, "complaint_types")
    live = [n.model_dump(exclude_defaults=True) for n in ui_platform.metadata.categories["complaint_types"].nodes]

    user.find(marker="designer-category-export").click()
    response = await user.download.next(timeout=5)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(HEADERS) and len(rows) == len(live) + 1
    assert rows[1][:3] == ["fault_report", None, "Fault report"]

    # the file edited: a label changed, a code added under complaint, then imported into the draft
    edited = [[c if c is not None else "" for c in r] for r in rows[1:]]
    edited[0][2] = "Fault reports"
    edited.append(["complaint_queue", "complaint", "Waiting too long", "等待时间过长", ""])
    await upload(user, workbook(*edited))
    await see(user, f"Imported {len(live) + 1} codes into your draft")
    await until(lambda: node(ui_platform, "complaint_types", "complaint_queue").get("parent") == "complaint",
                "imported into the draft")
    assert node(ui_platform, "complaint_types", "fault_report")["label"]["en"] == "Fault reports"
    await user.should_see(marker="designer-category-node-complaint_queue", retries=150)  # the form rebuilt
    await until(lambda: found(user, "designer-ok"), "the imported tree has no problems")
    drafted = nodes(ui_platform, "complaint_types")

    # a file with bad rows: refused with each row number, and the draft is unchanged
    bad = workbook(["fault_report", "", "Fault report", "", ""],
                   ["fault_stb", "no_such_parent", "Set-top box fault", "", ""],   # row 3
                   ["fault_report", "", "Again", "", ""],                          # row 4
                   ["Bad-Code", "", "Bad", "", ""],                                # row 5
                   ["complaint", "", "", "投诉", ""])                                # row 6
    await upload(user, bad, "bad.xlsx")
    await see(user, "bad.xlsx was not imported; nothing changed")
    shown = texts(user, "designer-category-import-error")
    for expected in ("Row 3:", "no_such_parent", "Row 4:", "appears already in row 2", "Row 5:", "Bad-Code",
                     "Row 6:", "English label", "missing from the file"):
        assert expected in shown, f"{expected!r} not in {shown!r}"
    user.find(marker="designer-category-import-rejected").click()  # the import engine's error workbook
    rejected = load_workbook(io.BytesIO((await user.download.next(timeout=5)).content)).worksheets[0]
    assert [r[-1] for r in rejected.iter_rows(min_row=2, values_only=True)] == [3, 4, 5, 6]
    assert "no_such_parent" in str(rejected.cell(2, len(HEADERS) + 1).value)
    assert nodes(ui_platform, "complaint_types") == drafted
    assert [n.model_dump(exclude_defaults=True) for n in
            ui_platform.metadata.categories["complaint_types"].nodes] == live  # nothing live changed either
    await upload(user, b"not a workbook", "notes.txt")
    await see(user, "The file is not an Excel workbook")
    assert nodes(ui_platform, "complaint_types") == drafted


async def test_a_new_tree_from_the_page(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/designer/category/value_tier")
    await user.should_see(marker="designer-new-name", retries=150)
    retype(user, "designer-new-name", "callback_reasons")
    user.find(marker="designer-new").click()
    await until(lambda: "callback_reasons" in texts(user, "designer-title"), "the new tree opened")
    await user.should_see(marker="designer-category-add", retries=150)
    await until(lambda: found(user, "designer-ok"), "a new empty tree is valid")
    retype(user, "designer-category-new-code", "no_answer")
    retype(user, "designer-category-new-label-en", "No answer")
    user.find(marker="designer-category-add").click()
    await until(lambda: codes(ui_platform, "callback_reasons") == ["no_answer"], "code added")
    await until(lambda: found(user, "designer-ok"), "no problems")
    user.find(marker="designer-comment").type("callback reasons")
    user.find(marker="designer-publish").click()
    await see(user, "Published as revision")
    assert ui_platform.metadata.categories["callback_reasons"].codes() == {"no_answer"}
