"""Outbound campaigns (docs/outbound.md): the dialling rules (:mod:`.policy`), list loading (:mod:`.lists`), runs,
claims, outcomes, call-backs and the do-not-call list (:mod:`.service`), the questionnaire (:mod:`.answers`).
The dialler that feeds on them lives in :mod:`telephony.outbound.dialler`."""

from __future__ import annotations

from .answers import AnswerError, asked, check_answers, results, results_workbook, save_result
from .lists import ListError, LoadCounts, load_list
from .policy import after_outcome, dial_number, next_window_start, window_at
from .service import MANAGE, CampaignError, CampaignService, Claim

__all__ = ["MANAGE", "AnswerError", "CampaignError", "CampaignService", "Claim", "ListError", "LoadCounts",
           "after_outcome", "asked", "check_answers", "dial_number", "load_list", "next_window_start", "results",
           "results_workbook", "save_result", "window_at"]
