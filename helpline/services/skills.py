"""Agent skill profiles as the skills page edits them: the skills are the router's (each queue's ``skill`` in the
routing metadata), the levels 1 (first skill) to 9, stored on the agent profile (``hl_agent``) through
:func:`helpline.services.agents.save_profile` — the one place the router reads them from (``users.manage``,
audited with before/after). A level better than the agent had needs its required training passed
(:func:`helpline.services.exams.require_training`)."""

from __future__ import annotations

from typing import Any

from helpline.metadata.kinds.routing import Routing
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor

from .agents import list_profiles, save_profile
from .exams import require_training


def known_skills(metadata: MetadataSet) -> list[str]:
    """The skills the routing's queues ask for, sorted."""
    return sorted({q.skill for r in metadata.objects.get("routing", {}).values() if isinstance(r, Routing)
                   for q in r.queues if q.skill})


def profiles(actor: Actor) -> list[dict[str, Any]]:
    actor.require_permission("users.manage")
    return list_profiles(active_only=False)


def save_skills(actor: Actor, metadata: MetadataSet, number: str, skills: dict[str, int | None]) -> dict[str, Any]:
    """Set the agent's skills (a level of None or 0 removes the skill); unknown skills are refused by name."""
    chosen = {s: int(level) for s, level in skills.items() if level}
    current = next((p for p in list_profiles(active_only=False) if p["number"] == number), None)
    have = (current or {}).get("skills") or {}
    raised = {s: lv for s, lv in chosen.items() if s not in have or lv < int(have[s])}
    if raised and current is not None and current.get("username"):
        require_training(str(current["username"]), raised)
    return save_profile(actor, number, known_skills=set(known_skills(metadata)), skills=chosen)
