"""An agent works a campaign call on the desktop (NiceGUI user fixture): joins the running survey, previews the
number with the script, dials it, answers the questionnaire beside the customer (a required branch question
refused, then filed), and the call's contact record opens in the work area to be filed as for an inbound call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desk_helpers import agent, element, until
from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.campaigns import CampaignNumber
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.campaigns import CampaignService
from helpline.services.platform import Platform
from telephony.desk.dialout import outbound
from telephony.outbound.dialler import dialler_of

VERSION_CONFLICT = "Someone else changed this record; reload it before saving."
SURVEY = """\
# A preview survey on a CSV list, open all day.
kind: campaign
name: ui_survey
label: {en: UI survey, zh_CN: 界面回访}
strategy: preview
list: {import: campaign_numbers, phone: phone, name: name}
queue: general
windows:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: '00:00', to: '23:59'}
script: {en: 'Hello {name}, this is the service centre.', zh_CN: '{name}您好，这里是客服中心。'}
questions:
  - {name: solved, type: yes_no, required: true, label: {en: Solved?, zh_CN: 解决了吗}}
  - name: reason
    type: choice
    required: true
    when: 'answer.solved == false'
    label: {en: Why not?, zh_CN: 原因}
    choices: [{code: still_faulty, label: {en: Still faulty, zh_CN: 故障仍在}}]
"""


async def join_and_take_next(user: User, desk: Any) -> None:
    """agent1 signs in on the desktop (phone on auto-answer), joins the running campaign and takes its next number."""
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    desk.phones.phone("PJSIP/1001").auto_answer = True
    await user.should_see(marker="desk-campaign-join", retries=50)
    user.find(marker="desk-campaign-join").click()
    await user.should_see(marker="desk-campaign-next", retries=50)
    user.find(marker="desk-campaign-next").click()


async def test_an_agent_works_a_campaign_call_with_the_script(user: User, desk: Any, ui_platform: Platform,
                                                              tmp_path: Path) -> None:
    ui_platform.publish("campaign", "ui_survey", SURVEY, actor=Actor.system())
    service = CampaignService(ui_platform)
    listed = tmp_path / "list.csv"
    listed.write_text("电话,姓名\n13800000501,Wang Fang\n", encoding="utf-8")
    run_id, counts = service.start(Actor("supervisor1", roles=("supervisor",)).bind(ui_platform.metadata),
                                   "ui_survey", listed)
    assert counts.loaded == 1
    await join_and_take_next(user, desk)
    await user.should_see(marker="desk-campaign-script", retries=50)
    await see(user, "Hello Wang Fang, this is the service centre.")
    await see(user, "13800000501")
    user.find(marker="desk-campaign-dial").click()
    await until(lambda: agent(desk)["state"] == "talking")
    call = outbound(desk).current("1001")
    assert call is not None and call.number == "13800000501" and call.purpose == "campaign"
    await user.should_see(marker="desk-campaign-q-solved", retries=50)
    work = element(user, "desk-work-tabs")
    await until(lambda: any(tab.props.get("name") == f"record:contact_record_form:{call.contact_record}"
                            for tab in work.default_slot.children))  # the call's contact record, to file it
    element(user, "desk-campaign-q-solved").value = False  # the branch question appears
    await user.should_see(marker="desk-campaign-q-reason", retries=50)
    user.find(marker="desk-campaign-file").click()
    await see(user, "reason: an answer is required")
    element(user, "desk-campaign-q-reason").value = "still_faulty"
    user.find(marker="desk-campaign-file").click()
    await see(user, "Filed.")
    with session():
        number = CampaignNumber.get(CampaignNumber.run == run_id)
    assert number.answers == {"solved": False, "reason": "still_faulty"} and number.agent == "agent1"
    desk.phones.phone("PJSIP/1001").hang_up()
    await until(call.done.is_set)
    await until(lambda: service.monitor(run_id)["outcomes"].get("answered") == 1)
    dialler_of(desk).leave(Actor("agent1", roles=("agent",)).bind(ui_platform.metadata))


async def test_the_contact_record_tab_files_after_the_far_end_hung_up(user: User, desk: Any, ui_platform: Platform,
                                                                      tmp_path: Path) -> None:
    """The campaign call's contact record tab was loaded while the call was on; the far end hangs up (the
    dial-out writes the record's end time) and then the agent saves the tab: saved, with both the end time and
    the agent's remarks (it failed with "someone else changed this record")."""
    ui_platform.publish("campaign", "ui_survey", SURVEY, actor=Actor.system())
    listed = tmp_path / "list.csv"
    listed.write_text("电话,姓名\n13800000502,Li Lei\n", encoding="utf-8")
    CampaignService(ui_platform).start(Actor("supervisor1", roles=("supervisor",)).bind(ui_platform.metadata),
                                       "ui_survey", listed)
    await join_and_take_next(user, desk)
    await user.should_see(marker="desk-campaign-dial", retries=50)
    user.find(marker="desk-campaign-dial").click()
    await until(lambda: agent(desk)["state"] == "talking")
    call = outbound(desk).current("1001")
    assert call is not None and call.contact_record is not None
    record_id = call.contact_record
    tab = f"record:contact_record_form:{record_id}"
    work = element(user, "desk-work-tabs")
    await until(lambda: any(t.props.get("name") == tab for t in work.default_slot.children))
    panel = next(p for p in user.find(ui.tab_panel).elements if p.props.get("name") == tab)
    await until(lambda: any("field-remarks" in e.classes for e in panel.descendants()))
    version = ui_platform.records.get(Actor.system(), "contact_record", record_id).values["version"]
    assert desk.control.outside.hang_up(call.call_id)  # the far end hangs up: the dial-out writes the end time
    await until(call.done.is_set)
    await until(lambda: ui_platform.records.get(Actor.system(), "contact_record", record_id)
                .values["ended_at"] is not None)
    remarks = next(e for e in panel.descendants() if "field-remarks" in e.classes)
    remarks.value = "Customer satisfied"
    save = user.find(marker="save")
    save.elements = {e for e in save.elements if panel in e.ancestors()}  # this tab's save button only
    assert len(save.elements) == 1
    save.click()
    await until(lambda: user.notify.messages and user.notify.messages[-1] in ("Saved", VERSION_CONFLICT))
    assert user.notify.messages[-1] == "Saved"
    stored = ui_platform.records.get(Actor.system(), "contact_record", record_id).values
    assert stored["remarks"] == "Customer satisfied" and stored["ended_at"] is not None
    assert stored["version"] > version + 1  # the end time and the agent's save, one after the other
