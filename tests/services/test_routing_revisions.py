"""The routing editor's service functions: the routing's history, a diff of two revisions and a rollback
(a new revision with the old content, audited, refused without ``routing.edit``)."""

from __future__ import annotations

import copy

import pytest

from helpline.data.database import session
from helpline.metadata.kinds.routing import Routing
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.routing_revisions import KIND, NAME, PERMISSION, diff, history, rollback


def live_routing(platform: Platform) -> Routing:
    found = platform.metadata.objects[KIND][NAME]
    assert isinstance(found, Routing)
    return found


def current_id(platform: Platform) -> int:
    found = platform.store.current(KIND, NAME)
    assert found is not None
    return int(found.id)


def test_history_diff_and_rollback_of_the_routing(platform: Platform) -> None:
    boss = Actor("supervisor1", roles=("supervisor",)).bind(platform.metadata)
    first = platform.store.current(KIND, NAME)
    assert first is not None and isinstance(first.content, dict)
    changed = copy.deepcopy(first.content)
    changed["wrap_up_s"] = 42
    second = platform.publish(KIND, NAME, changed, actor=boss, comment="longer wrap-up", base_revision=first.id,
                              permission=PERMISSION)
    assert live_routing(platform).wrap_up_s == 42
    rows = history(platform)
    assert [r["id"] for r in rows[:2]] == [second, first.id] and rows[0]["comment"] == "longer wrap-up"
    assert rows[0]["author"] == "supervisor1" and rows[0]["at"]
    assert "wrap_up_s: 42" in diff(platform, first.id, second) and diff(platform, second, second) == ""

    agent = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        rollback(platform, agent, first.id)
    assert current_id(platform) == second

    third = rollback(platform, boss, first.id)
    live = platform.store.current(KIND, NAME)
    assert live is not None and live.id == third > second
    assert live.origin == "rollback" and live.content == first.content
    assert live_routing(platform).wrap_up_s == 15  # the first revision's '15s' again
    with session():
        entry = search_audit(actor="supervisor1", action="publish")[0]
    assert entry["detail"]["rollback_to"] == first.id and entry["detail"]["revision"] == third

    other = platform.store.current("menu", "main")
    assert other is not None
    with pytest.raises(ValueError, match="not routing 'main'"):
        rollback(platform, boss, other.id)
    with pytest.raises(ValueError, match="not routing 'main'"):
        diff(platform, other.id, third)
