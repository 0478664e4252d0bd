"""Roll back with what still refers to it: a rollback that would leave other objects pointing at something it
removes (a role still granting a menu item the old menu lacks) is not just refused with ``HL-E207``.

:func:`plan_rollback` says which objects still refer to what the rollback removes (with the problem each
would have) and, for each, the newest earlier revision of it that no longer does — so the designer can
offer to roll them back together (:meth:`DraftService.rollback` with ``together``). Problems no earlier
revision resolves are left in ``blocking``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpline.diagnostics import Problem
from helpline.services.metadata_store import MetadataStore

from .locate import object_of

SEARCH_DEPTH = 20
"""How many earlier revisions of a referring object are tried."""


@dataclass
class Referrer:
    """An object that refers to what the rollback removes."""

    kind: str
    name: str
    problems: list[Problem]
    """What would be wrong in it after the rollback."""
    revision: int | None
    """Its newest earlier revision that does not refer to it (None: none found)."""


@dataclass
class RollbackPlan:
    kind: str
    name: str
    revision: int
    referrers: list[Referrer] = field(default_factory=list)
    blocking: list[Problem] = field(default_factory=list)
    """Problems that remain even with every referrer rolled back (the rollback cannot be done)."""

    @property
    def together(self) -> list[tuple[str, str, int]]:
        """(kind, name, revision) of the objects to roll back with it."""
        return [(r.kind, r.name, r.revision) for r in self.referrers if r.revision is not None]

    @property
    def possible(self) -> bool:
        return not self.blocking


def _problems_in(problems: list[Problem], key: tuple[str, str]) -> list[Problem]:
    return [p for p in problems if object_of(p) == key]


def plan_rollback(store: MetadataStore, kind: str, name: str, revision_id: int) -> RollbackPlan:
    """What rolling ``kind``/``name`` back to ``revision_id`` would break elsewhere, and how to roll that back
    too (see the module docstring)."""
    old = store.revision(revision_id)
    if (old.kind, old.name) != (kind, name):
        raise ValueError(f"revision {revision_id} is of {old.kind} '{old.name}', not {kind} '{name}'")
    plan = RollbackPlan(kind, name, revision_id)
    changes: dict[tuple[str, str], str | None] = {(kind, name): old.source if old.content is not None else None}
    _, _, problems = store.candidate_set(changes)
    others: list[tuple[str, str]] = []
    for problem in problems:
        key = object_of(problem)
        if key is not None and key != (kind, name) and key not in others:
            others.append(key)
    for key in others:
        referrer = Referrer(key[0], key[1], _problems_in(problems, key), None)
        plan.referrers.append(referrer)
        for earlier in store.history(*key)[1:SEARCH_DEPTH + 1]:
            trial = {**changes, key: earlier.source if earlier.content is not None else None}
            _, _, found = store.candidate_set(trial)
            if not _problems_in(found, key):
                referrer.revision = int(earlier.id)
                changes = trial
                break
    if plan.referrers:
        _, _, problems = store.candidate_set(changes)
    plan.blocking = problems
    return plan
