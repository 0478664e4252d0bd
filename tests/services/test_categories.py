"""Category trees edited at run time: each edit is a checked, audited revision picked up at once."""

from __future__ import annotations

import pytest

from helpline.security.actor import Actor, PermissionDenied
from helpline.services import categories
from helpline.services.platform import Platform


def admin(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def test_add_rename_move_retire_restore(platform: Platform) -> None:
    a = admin(platform)
    categories.add_code(platform, a, "value_tier", "jade", {"en": "Jade", "zh_CN": "翡翠卡"}, parent="vip")
    categories.rename_code(platform, a, "value_tier", "jade", {"en": "Jade card"})
    tree = platform.metadata.categories["value_tier"]
    assert tree.node("jade").parent == "vip" and tree.node("jade").label.en == "Jade card"
    categories.move_code(platform, a, "value_tier", "jade", None)
    assert platform.metadata.categories["value_tier"].node("jade").parent is None
    categories.set_retired(platform, a, "value_tier", "jade", True)
    assert platform.metadata.categories["value_tier"].node("jade").retired
    categories.set_retired(platform, a, "value_tier", "jade", False)
    assert not platform.metadata.categories["value_tier"].node("jade").retired
    comments = [r.comment for r in platform.store.history("category", "value_tier")][:5]
    assert comments == ["restore jade", "retire jade", "move jade under top", "rename jade", "add jade"]


def test_bad_edits_are_refused_and_nothing_changes(platform: Platform) -> None:
    a = admin(platform)
    before = len(platform.store.history("category", "value_tier"))
    with pytest.raises(categories.CategoryEditError, match="own descendant"):
        categories.move_code(platform, a, "value_tier", "vip", "gold")
    with pytest.raises(categories.CategoryEditError, match="exists already"):
        categories.add_code(platform, a, "value_tier", "gold", {"en": "Gold"})
    with pytest.raises(categories.CategoryEditError, match="no code"):
        categories.rename_code(platform, a, "value_tier", "bronze", {"en": "Bronze"})
    from helpline.diagnostics import ProblemsError

    with pytest.raises(ProblemsError):  # not a valid code: the metadata checker refuses the revision
        categories.add_code(platform, a, "value_tier", "Bad Code", {"en": "x"})
    agent = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        categories.add_code(platform, agent, "value_tier", "jade", {"en": "Jade"})
    assert len(platform.store.history("category", "value_tier")) == before
