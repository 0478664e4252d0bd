"""The ``outbound`` and ``callbacks`` sources of reports, read straight from their own tables (one row a dial, one
a call-back task: the rows are the facts, as for work orders).

``outbound`` — every dial of a campaign (``hl_campaign_attempt``) by the time it started. Dimensions: the time
ones, ``campaign`` (the run's campaign), ``agent``, ``outcome``. Measures: ``attempts``, ``contacts`` (answered),
``contact_rate`` (contacts / finished attempts), ``busy``, ``no_answer``, ``machine``, ``failed``, ``in_flight``.
Row scope: the numbers of the user's regions (``hl_campaign_number.region``).

``callbacks`` — call-back tasks (``hl_callback``) by the time they were made. Dimensions: the time ones, ``queue``,
``tier``, ``city``, ``region``, ``agent`` (of the last attempt), ``origin`` (``ivr``, ``message``, ``workorder``).
Measures: ``created``, ``reached``, ``reached_on_time`` (reached by the due time), ``wrong_number``, ``gave_up``,
``cancelled``, ``open``, ``overdue`` (still open past the due time now), ``callback_attempts``, ``reach_rate``
(reached / created), ``on_time_rate`` (reached on time / reached). Row scope: the tasks' city or county.

(Internal and manual outbound calls, ``hl_call.direction``, are left out of the call statistics and of these.)

``ivr`` — the IVR node facts (``hl_stat_ivr_node``, :mod:`helpline.services.stats_ivr`) by day. Dimensions: the
day, week and month, ``flow``, ``node``, ``type``. Measures: ``visits``, ``calls``, ``exits``, ``hangups``,
``completions``, ``transfers_out``, ``errors``, ``time_s``, ``exit_rate`` (exits / calls), ``avg_time_s`` (per
visit). The facts are the centre's (no city): a user restricted to regions sees none.
"""

from __future__ import annotations

from typing import Any

from peewee import SQL, Case, fn

from helpline.data.base import utcnow
from helpline.data.callbacks import CallbackTask
from helpline.data.campaigns import CampaignAttempt, CampaignNumber, CampaignRun
from helpline.data.stats import IVR_COUNTS, StatIvrNode

_FINISHED = ("answered", "busy", "no_answer", "machine", "failed")


def _count(cond: Any) -> Any:
    return fn.SUM(Case(None, [(cond, 1)], 0))


class Outbound:
    MODEL = CampaignAttempt
    PERIOD = CampaignAttempt.started_at
    FINE = True

    @staticmethod
    def dim(name: str) -> Any:
        a = CampaignAttempt
        if name == "campaign":
            return fn.COALESCE(CampaignRun.select(CampaignRun.campaign).where(CampaignRun.id == a.run).limit(1), "")
        return getattr(a, name)

    @staticmethod
    def sums() -> list[Any]:
        a = CampaignAttempt
        return [fn.COUNT(a.id).alias("attempts"),
                *(_count(a.outcome == o).alias(o if o != "answered" else "contacts") for o in _FINISHED),
                _count(a.outcome == "").alias("in_flight")]

    @staticmethod
    def measure(name: str, s: dict[str, Any]) -> Any:
        if name == "contact_rate":
            finished = sum(int(s.get(o if o != "answered" else "contacts") or 0) for o in _FINISHED)
            return round(int(s.get("contacts") or 0) / finished, 4) if finished else None
        return int(s.get(name) or 0)

    @staticmethod
    def scope(regions: list[str]) -> Any:
        numbers = CampaignNumber.select(CampaignNumber.id).where(CampaignNumber.region.in_(regions))
        return CampaignAttempt.number.in_(numbers)


class Callbacks:
    MODEL = CallbackTask
    PERIOD = CallbackTask.created_at
    FINE = True

    @staticmethod
    def dim(name: str) -> Any:
        return CallbackTask.source if name == "origin" else getattr(CallbackTask, name)

    @staticmethod
    def sums() -> list[Any]:
        t = CallbackTask
        reached = t.outcome == "reached"
        return [fn.COUNT(t.id).alias("created"), _count(reached).alias("reached"),
                _count(reached & t.closed_at.is_null(False) & (t.closed_at <= t.due_at)).alias("reached_on_time"),
                _count(t.outcome == "wrong_number").alias("wrong_number"),
                _count(t.outcome == "gave_up").alias("gave_up"), _count(t.outcome == "cancelled").alias("cancelled"),
                _count(t.status == "open").alias("open"),
                _count((t.status == "open") & (t.due_at < utcnow())).alias("overdue"),
                fn.SUM(t.attempts).alias("callback_attempts")]

    @staticmethod
    def measure(name: str, s: dict[str, Any]) -> Any:
        if name == "reach_rate":
            return round(int(s.get("reached") or 0) / int(s["created"]), 4) if s.get("created") else None
        if name == "on_time_rate":
            return round(int(s.get("reached_on_time") or 0) / int(s["reached"]), 4) if s.get("reached") else None
        return int(s.get(name) or 0)

    @staticmethod
    def scope(regions: list[str]) -> Any:
        return CallbackTask.city.in_(regions) | CallbackTask.region.in_(regions)


class IvrNodes:
    MODEL = StatIvrNode
    PERIOD = StatIvrNode.day
    FINE = False

    @staticmethod
    def dim(name: str) -> Any:
        return getattr(StatIvrNode, name)

    @staticmethod
    def sums() -> list[Any]:
        return [fn.SUM(getattr(StatIvrNode, n)).alias(n) for n in (*IVR_COUNTS, "time_s")]

    @staticmethod
    def measure(name: str, s: dict[str, Any]) -> Any:
        if name == "exit_rate":
            return round(int(s.get("exits") or 0) / int(s["calls"]), 4) if s.get("calls") else None
        if name == "avg_time_s":
            return round(float(s.get("time_s") or 0) / int(s["visits"]), 1) if s.get("visits") else None
        if name == "time_s":
            return round(float(s.get("time_s") or 0), 1)
        return int(s.get(name) or 0)

    @staticmethod
    def scope(regions: list[str]) -> Any:
        return SQL("1 = 0")
