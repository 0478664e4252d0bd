"""Agent number → team, for the interval facts' ``team`` and ``department`` columns (:mod:`helpline.services.stats`).

The team is the ``employee`` record's ``team`` (a node of the ``department`` category tree), found by the record's
``agent_no``: the staff pages and the monthly scorecard (:mod:`telephony.workforce.performance`) rank agents by it.
The router's agent ``groups`` (``vip_team``) only restrict who answers a queue; they are not the organisation.
"""

from __future__ import annotations

import time

from helpline.data.database import db

TEAM_TTL_S = 60.0
_TEAMS: dict[str, tuple[float, dict[str, str]]] = {}


def agent_teams(*, fresh: bool = False) -> dict[str, str]:
    """Agent number → team: the ``employee`` records' ``team`` by ``agent_no`` (the staff pages and the
    monthly scorecard rank agents by it). Read at most once a minute per database (the fact update stays a dict
    look-up; a changed team reaches new facts within a minute, ``stats rebuild`` recounts); ``fresh`` reads now."""
    name = str(getattr(db.obj, "database", "") or "")
    now = time.monotonic()
    cached = _TEAMS.get(name)
    if cached is not None and not fresh and now - cached[0] < TEAM_TTL_S:
        return cached[1]
    teams: dict[str, str] = {}
    if "employee" in db.get_tables():
        cursor = db.execute_sql('SELECT "agent_no", "team" FROM "employee" WHERE "agent_no" IS NOT NULL '
                                "AND \"agent_no\" <> '' AND \"team\" IS NOT NULL ORDER BY \"id\"")
        teams = {str(agent): str(team) for agent, team in cursor.fetchall()}
    _TEAMS[name] = (now, teams)
    return teams


def forget_teams() -> None:
    """Drop the agents' teams read (the next fact reads them again)."""
    _TEAMS.clear()
