"""The questionnaire: branching, required answers, answer types; the results per question and the Excel export."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from campaign_helpers import Clock, actor, csv_list, service, start_platform
from openpyxl import load_workbook

from helpline.security.actor import PermissionDenied
from helpline.services.campaigns import AnswerError, asked, check_answers, results, results_workbook, save_result


def test_branching_required_and_types(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    platform = start_platform(db_url, demo_metadata)
    campaign = service(platform, Clock()).campaign("test_calls")
    assert [q.name for q in asked(campaign, {})] == ["solved", "score", "comment"]
    assert [q.name for q in asked(campaign, {"solved": False})] == ["solved", "reason", "score", "comment"]
    with pytest.raises(AnswerError) as missing:
        check_answers(campaign, {"solved": "no"})
    assert missing.value.problems == {"reason": "an answer is required"}
    with pytest.raises(AnswerError) as wrong:
        check_answers(campaign, {"solved": "maybe", "score": 7})
    assert wrong.value.problems == {"solved": "answer yes or no", "score": "between 1 and 5"}
    with pytest.raises(AnswerError) as choice:
        check_answers(campaign, {"solved": False, "reason": "late"})
    assert choice.value.problems == {"reason": "one of still_faulty, other"}
    # an answer to a question that branching skipped is dropped
    assert check_answers(campaign, {"solved": True, "reason": "other", "score": "4", "comment": " ok "}) == \
        {"solved": True, "score": 4, "comment": "ok"}


def test_results_and_excel(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    platform = start_platform(db_url, demo_metadata)
    svc = service(platform, Clock())
    sup, agent = actor(platform, "sup1", "supervisor"), actor(platform, "agent1", "agent")
    rows = [(f"1390000000{i}", f"P{i}", "") for i in range(1, 5)]
    run_id, _ = svc.start(sup, "test_calls", csv_list(tmp_path / "l.csv", rows))
    claims = svc.claim(run_id, 4, agent="agent1")
    answers = [{"solved": True, "score": 5}, {"solved": False, "reason": "other", "score": 2},
               {"solved": True, "score": 5, "comment": "=cmd()"}]
    for claim, given in zip(claims, answers, strict=False):
        save_result(platform, agent, claim.number_id, given)
    with pytest.raises(AnswerError):
        save_result(platform, agent, claims[3].number_id, {"score": 3})
    figures = results(platform, "test_calls")
    assert figures["solved"]["counts"] == {"yes": 2, "no": 1}
    assert figures["reason"]["counts"] == {"still_faulty": 0, "other": 1}
    assert figures["score"]["counts"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 2}
    assert figures["comment"] == {"type": "text", "label": figures["comment"]["label"], "answered": 1,
                                  "last": ["=cmd()"]}
    with pytest.raises(PermissionDenied):
        results_workbook(platform, agent, "test_calls")
    book = load_workbook(io.BytesIO(results_workbook(platform, sup, "test_calls", run_id)))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["phone", "name", "agent", "attempts", "Solved?", "Why?", "Score", "Comment"]
    assert len(values) == 4 and values[3][-1] == "=cmd()" and sheet.cell(4, 8).data_type == "s"
