"""Helpers of the campaign dialler tests: a platform with a small test campaign, a desk on simulated phones and a
simulated outside world, agents, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services import agents as agent_service
from helpline.services.platform import Platform
from telephony.control.outbound import SimulatedOutside
from telephony.control.simulated import SimulatedCallControl
from telephony.desk.dialout import outbound
from telephony.desk.service import DeskService
from telephony.router.service import RouterService
from telephony.switch.phones import SimulatedPhones

MONDAY_10 = datetime(2026, 12, 7, 2, 0)
"""Monday 7 December 2026, 10:00 in Asia/Shanghai (02:00 UTC)."""

CAMPAIGN = """\
# A progressive test campaign on a CSV list, every day 09:00-18:00.
kind: campaign
name: test_calls
strategy: {strategy}
list: {{import: campaign_numbers, phone: phone, name: name}}
queue: general
windows:
  - {{days: [mon, tue, wed, thu, fri, sat, sun], from: '09:00', to: '18:00'}}
max_attempts: 3
hopper: 4
script: {{en: 'Hello {{name}}, a short survey.', zh_CN: '您好 {{name}}，做个简短回访。'}}
questions:
  - {{name: solved, type: yes_no, required: true, label: {{en: Solved?, zh_CN: 解决了吗}}}}
  - {{name: reason, type: text, required: true, when: 'answer.solved == false', label: {{en: Why?, zh_CN: 原因}}}}
"""


def campaign_metadata(metadata: Path, strategy: str = "progressive") -> None:
    (metadata / "campaigns" / "test_calls.yaml").write_text(CAMPAIGN.format(strategy=strategy), encoding="utf-8")


def csv_list(path: Path, phones: list[str]) -> Path:
    path.write_text("电话,姓名\n" + "".join(f"{p},P{p[-2:]}\n" for p in phones), encoding="utf-8")
    return path


def make_desk(platform: Platform, wrap_up_s: float = 0.0) -> DeskService:
    """A desk on simulated phones and a simulated outside world: the demo agents (none signed in), a router with
    ``wrap_up_s`` of wrap-up and a 0.05 s browser grace, dial-outs unanswered after 0.3 s."""
    with session():
        from helpline.data.agents import AgentEvent, AgentRecord

        AgentRecord.delete().execute()
        AgentEvent.delete().execute()
    agent_service.ensure_demo_agents()
    router = RouterService.from_platform(platform, restore=False).start()
    router.do(lambda r: r.reconfigure(replace(r.settings, wrap_up_s=wrap_up_s, browser_grace_s=0.05), r.policy))
    desk = DeskService(platform, router, SimulatedCallControl(SimulatedPhones(), SimulatedOutside()))
    outbound(desk).timeout_s = 0.3
    return desk


def control(desk: DeskService) -> SimulatedCallControl:
    assert isinstance(desk.control, SimulatedCallControl)
    return desk.control


def agent(platform: Platform, desk: DeskService, name: str, role: str = "agent") -> Actor:
    who = Actor(name, roles=(role,)).bind(platform.metadata)
    ref = desk.sign_in(who)
    control(desk).phones.phone(ref.endpoint).auto_answer = True
    desk.ready(who)
    return who


def until(check: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError("not reached")


def close_desk(desk: DeskService) -> None:
    """Stop what :func:`make_desk` started and close this thread's connection."""
    from helpline.data.database import db

    outbound(desk).close()
    desk.router.stop()
    if not db.is_closed():
        db.close()


def start_campaign(platform: Platform, clock: Any, tmp_path: Path, phones: list[str]) -> tuple[Any, int]:
    """Supervisor ``sup1`` starts the ``test_calls`` campaign on ``phones``: the service and the run's id."""
    from helpline.services.campaigns import CampaignService

    service = CampaignService(platform, now=clock)
    sup = Actor("sup1", roles=("supervisor",)).bind(platform.metadata)
    run_id, _ = service.start(sup, "test_calls", csv_list(tmp_path / "list.csv", phones))
    return service, run_id


def number_row(phone: str) -> Any:
    """The campaign's row of ``phone``."""
    from helpline.data.campaigns import CampaignNumber

    with session():
        return CampaignNumber.get(CampaignNumber.phone == phone)
