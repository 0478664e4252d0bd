"""Helpers of the campaign tests: a platform with small test campaigns, a settable clock, list files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from helpline.security.actor import Actor
from helpline.services.campaigns import CampaignService
from helpline.services.platform import Platform

MONDAY_10 = datetime(2026, 12, 7, 2, 0)
"""Monday 7 December 2026, 10:00 in Asia/Shanghai (02:00 UTC)."""

CAMPAIGN = """\
# A test campaign on a CSV list: weekdays 09:00-18:00, the 'north' region Saturdays only.
kind: campaign
name: test_calls
list: {import: campaign_numbers, phone: phone, name: name, region: city}
queue: general
windows:
  - {days: [mon, tue, wed, thu, fri], from: '09:00', to: '18:00'}
  - {regions: [north], days: [sat], from: '10:00', to: '12:00'}
max_attempts: 2
retry: {busy: 10m, no_answer: 1h, machine: 4h, failed: 30m}
callbacks: {personal: true, shared: false, max_days: 3}
questions:
  - {name: solved, type: yes_no, required: true, label: Solved?}
  - {name: reason, type: choice, required: true, when: 'answer.solved == false', label: Why?,
     choices: [{code: still_faulty}, {code: other}]}
  - {name: score, type: rating, label: Score}
  - {name: comment, type: text, label: Comment}
"""


class Clock:
    """A settable clock: ``clock()`` is the time, ``clock.at = ...`` moves it."""

    def __init__(self, at: datetime = MONDAY_10) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def start_platform(db_url: str, metadata: Path) -> Platform:
    from helpline.demo.generator import DemoGenerator

    (metadata / "campaigns" / "test_calls.yaml").write_text(CAMPAIGN, encoding="utf-8")
    p = Platform()
    p.start(db_url, str(metadata))
    DemoGenerator(p).seed_regions()
    return p


def actor(platform: Platform, name: str, role: str) -> Actor:
    return Actor(username=name, roles=(role,)).bind(platform.metadata)


def csv_list(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["电话,姓名,市州"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def service(platform: Platform, clock: Clock) -> CampaignService:
    return CampaignService(platform, now=clock)
