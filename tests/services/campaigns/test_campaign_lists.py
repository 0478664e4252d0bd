"""Campaign lists: invalid, duplicate and do-not-call numbers rejected and counted; a query screen as the list;
starting a campaign needs campaigns.manage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from campaign_helpers import MONDAY_10, Clock, actor, csv_list, service, start_platform

from helpline.data.campaigns import CampaignNumber
from helpline.data.database import session
from helpline.security.actor import PermissionDenied
from helpline.services.campaigns import ListError


def test_a_list_with_bad_rows(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    platform = start_platform(db_url, demo_metadata)
    sup = actor(platform, "sup1", "supervisor")
    svc = service(platform, Clock())
    assert svc.add_dnc(sup, ["139 0000 0003", "not a number"], reason="asked") == \
        {"added": 1, "listed": 0, "invalid": 1}
    rows = [("13900000001", "Li", "north"),        # row 2: loaded
            ("abc-123", "Bad", ""),                # row 3: letters
            ("12345", "Short", ""),                # row 4: too short
            ("+86 139-0000-0001", "Li again", ""), # row 5: the same number as row 2
            ("13900000003", "Asked not", ""),      # row 6: on the do-not-call list
            ("", "Empty", ""),                     # row 7: no number
            ("0731-8888 1234", "Office", "south")]  # row 8: loaded
    run_id, counts = svc.start(sup, "test_calls", csv_list(tmp_path / "list.csv", rows))
    assert (counts.rows, counts.loaded, counts.invalid, counts.duplicate, counts.dnc) == (7, 2, 3, 1, 1)
    assert [(p["row"], p["reason"]) for p in counts.problems] == \
        [(3, "invalid"), (4, "invalid"), (5, "duplicate"), (7, "invalid"), (6, "dnc")]
    with session():
        stored = sorted((n.phone, n.name, n.region)
                        for n in CampaignNumber.select().where(CampaignNumber.run == run_id))
    assert stored == [("073188881234", "Office", "south"), ("13900000001", "Li", "north")]
    run = svc.runs()[0]
    assert run["status"] == "running" and run["counts"]["invalid"] == 3 and run["created_by"] == "sup1"


def test_starting_needs_the_permission_and_a_readable_list(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    platform = start_platform(db_url, demo_metadata)
    svc = service(platform, Clock())
    with pytest.raises(PermissionDenied):
        svc.start(actor(platform, "agent1", "agent"), "test_calls", csv_list(tmp_path / "l.csv", []))
    sup = actor(platform, "sup1", "supervisor")
    with pytest.raises(ListError, match="reads a csv file: give the list's file"):
        svc.start(sup, "test_calls", None)
    (tmp_path / "wrong.csv").write_text("名字\nLi\n", encoding="utf-8")
    with pytest.raises(ListError, match="电话"):
        svc.start(sup, "test_calls", tmp_path / "wrong.csv")
    assert [r["status"] for r in svc.runs()] == ["stopped", "stopped"]


def test_yesterdays_callers_from_the_query_screen(db_url: str, demo_metadata: Path) -> None:
    platform = start_platform(db_url, demo_metadata)
    model = platform.models["contact_record"]
    yesterday = datetime(2026, 12, 6, 15, 0)  # local time as records store it
    with session():
        for i, (number, at, direction) in enumerate([
                ("13700000001", yesterday, "inbound"), ("13700000002", yesterday, "inbound"),
                ("13700000001", yesterday, "inbound"), ("13700000009", datetime(2026, 12, 5, 9), "inbound"),
                ("13700000008", yesterday, "outbound")]):  # a call the centre placed is no caller
            model.insert(serial_no=f"T{i}", caller_number=number, started_at=at, direction=direction).execute()
    sup = actor(platform, "sup1", "administrator")
    run_id, counts = service(platform, Clock(MONDAY_10)).start(sup, "satisfaction_survey")
    assert (counts.rows, counts.loaded, counts.duplicate) == (3, 2, 1)
    with session():
        phones = sorted(n.phone for n in CampaignNumber.select().where(CampaignNumber.run == run_id))
    assert phones == ["13700000001", "13700000002"]
