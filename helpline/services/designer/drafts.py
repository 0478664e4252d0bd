"""Drafts of the designers: an author's unpublished changes, checked live, published together.

Each author has at most one draft per object (``hl_metadata_draft``). A designer saves the whole object
after every edit (:meth:`DraftService.save`), which answers with the problems of the live set with *all*
the author's drafts applied — the same problems and ids ``run.py check`` prints. :meth:`preview` is that
set for the screen preview, the query's "run", the IVR test call and "view as". :meth:`publish` makes one
metadata revision per drafted object in one transaction (every runtime part reloads), refusing broken
metadata, destructive schema changes and objects someone else published since the draft began
(:class:`~helpline.services.metadata_store.RevisionConflict` with the difference). Every call checks the
designer permission on the server.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.system import MetadataDraft
from helpline.diagnostics import Problem, ProblemsError
from helpline.metadata.kinds import KINDS
from helpline.metadata.loader import yaml_syntax_problem
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.roundtrip import update_text
from helpline.metadata.yamlpos import AliasExpansionError, load_with_positions
from helpline.security.actor import Actor
from helpline.security.audit import audit
from helpline.services.metadata_store import Change, RevisionConflict, diff_text, file_of
from helpline.services.platform import Platform

from .locate import ProblemIndex, object_of
from .rollback import RollbackPlan, plan_rollback

PERMISSION = "designer"


@dataclass
class Draftable:
    """What a designer edits: the draft of an object if the author has one, else the live object."""

    kind: str
    name: str
    data: dict[str, Any] | None
    """The object as data (None: removed in the draft, or not existing)."""
    text: str
    base_revision: int | None
    """The live revision the edit started from (None: a new object)."""
    is_draft: bool
    removed: bool = False
    updated_at: datetime | None = None


class DraftService:
    """Drafts, checking, preview and publishing for the designers (see the module docstring)."""

    def __init__(self, platform: Platform):
        self.platform = platform

    # ---------------------------------------------------------------------------------- reading
    def open(self, actor: Actor, kind: str, name: str) -> Draftable:
        actor.require_permission(PERMISSION)
        with session():
            draft = _draft(actor.username, kind, name)
        if draft is not None:
            data = None if draft.removed else load_with_positions(draft.source).data
            return Draftable(kind, name, data, draft.source, draft.base_revision, True, bool(draft.removed),
                             draft.updated_at)
        current = self.platform.store.current(kind, name)
        if current is None or current.content is None:
            return Draftable(kind, name, None, "", None, False)
        # from the YAML text, not the JSON column: PostgreSQL's jsonb does not keep the order of keys
        data = load_with_positions(current.source).data if current.source else copy.deepcopy(current.content)
        return Draftable(kind, name, data, current.source, int(current.id), False)

    def drafts(self, actor: Actor) -> list[Draftable]:
        """The author's drafts, most recently changed first."""
        actor.require_permission(PERMISSION)
        with session():
            rows = list(MetadataDraft.select().where(MetadataDraft.author == actor.username)
                        .order_by(MetadataDraft.updated_at.desc()))
        return [Draftable(r.kind, r.name, None if r.removed else load_with_positions(r.source).data, r.source,
                          r.base_revision, True, bool(r.removed), r.updated_at) for r in rows]

    def count(self, actor: Actor) -> int:
        """How many drafts the author has (without reading them)."""
        actor.require_permission(PERMISSION)
        with session():
            return int(MetadataDraft.select().where(MetadataDraft.author == actor.username).count())

    def _changes(self, username: str) -> dict[tuple[str, str], str | None]:
        with session():
            rows = list(MetadataDraft.select().where(MetadataDraft.author == username))
        return {(r.kind, r.name): (None if r.removed else r.source) for r in rows}

    def _text(self, username: str, kind: str, name: str) -> str:
        """The YAML of the author's draft of the object, else of the live object."""
        with session():
            draft = _draft(username, kind, name)
        if draft is not None:
            return str(draft.source)
        current = self.platform.store.current(kind, name)
        return str(current.source) if current is not None else ""

    def check(self, actor: Actor) -> list[Problem]:
        """Every problem of the live set with the author's drafts applied."""
        actor.require_permission(PERMISSION)
        _, _, problems = self.platform.store.candidate_set(self._changes(actor.username))
        return problems

    def problems_of(self, actor: Actor, kind: str, name: str) -> tuple[ProblemIndex, list[Problem]]:
        """The problems in one object (by path, for showing beside fields) and those elsewhere that the
        author's drafts cause (e.g. a screen placing a field the entity draft retired)."""
        problems = self.check(actor)
        mine = [p for p in problems if object_of(p) == (kind, name)]
        text = self._text(actor.username, kind, name) if mine else ""
        return ProblemIndex(text, mine), [p for p in problems if object_of(p) != (kind, name)]

    def preview(self, actor: Actor) -> tuple[MetadataSet, list[Problem]]:
        """The metadata as it would be with the author's drafts published (and its problems)."""
        actor.require_permission(PERMISSION)
        mset, _, problems = self.platform.store.candidate_set(self._changes(actor.username))
        return mset, problems

    # ---------------------------------------------------------------------------------- changing
    def save(self, actor: Actor, kind: str, name: str, content: dict[str, Any] | str | None,
             base_revision: int | None, *, check: bool = True) -> list[Problem]:
        """Keep ``content`` (data or YAML; None: remove the object) as the author's draft of the object and
        return the problems of the author's whole draft set (none computed unless ``check``)."""
        actor.require_permission(PERMISSION)
        if kind not in KINDS:
            raise ProblemsError([Problem("HL-E010", f"unknown kind {kind!r}")])
        if isinstance(content, str):
            _refuse_alias_expansion(content, file_of(kind, name))
        # data is written into the draft's (else the live object's) text: comments and layout stay
        text = "" if content is None else content if isinstance(content, str) else \
            update_text(self._text(actor.username, kind, name), content)
        with session(), write_transaction():
            draft = _draft(actor.username, kind, name)
            if draft is None:
                MetadataDraft.create(author=actor.username, kind=kind, name=name, base_revision=base_revision,
                                     source=text, removed=content is None)
            else:
                draft.source, draft.removed, draft.updated_at = text, content is None, utcnow()
                draft.save()
        return self.check(actor) if check else []

    def rebase(self, actor: Actor, kind: str, name: str) -> None:
        """Keep the author's draft on top of what is live now (after reviewing a conflict)."""
        actor.require_permission(PERMISSION)
        current = self.platform.store.current(kind, name)
        with session(), write_transaction():
            MetadataDraft.update(base_revision=current.id if current is not None else None).where(
                (MetadataDraft.author == actor.username) & (MetadataDraft.kind == kind)
                & (MetadataDraft.name == name)).execute()

    def discard(self, actor: Actor, kind: str | None = None, name: str | None = None) -> int:
        """Drop the author's draft of one object (or all the author's drafts); returns how many."""
        actor.require_permission(PERMISSION)
        query = MetadataDraft.delete().where(MetadataDraft.author == actor.username)
        if kind is not None and name is not None:
            query = query.where((MetadataDraft.kind == kind) & (MetadataDraft.name == name))
        with session(), write_transaction():
            return int(query.execute())

    def conflict_diff(self, actor: Actor, kind: str, name: str) -> str:
        """The author's draft against what is live now."""
        mine = self.open(actor, kind, name)
        current = self.platform.store.current(kind, name)
        return diff_text(current.source if current else "", mine.text,
                          f"live revision {current.id if current else '-'}", "your draft")

    def publish(self, actor: Actor, comment: str, only: list[tuple[str, str]] | None = None) -> list[int]:
        """Publish the author's drafts (or those in ``only``) as new revisions; drops the published drafts.
        Raises ProblemsError, RevisionConflict, DestructiveChangeRefused or PermissionDenied, changing
        nothing then."""
        actor.require_permission(PERMISSION)
        if not comment.strip():
            raise ProblemsError([Problem("HL-D001", "a comment is needed to publish",
                                         hint="Say what the change is for; the history shows it.")])
        with session():
            rows = list(MetadataDraft.select().where(MetadataDraft.author == actor.username)
                        .order_by(MetadataDraft.id))
        if only is not None:
            rows = [r for r in rows if (r.kind, r.name) in only]
        if not rows:
            return []
        changes = [Change(r.kind, r.name, None if r.removed else r.source, r.base_revision, check_base=True)
                   for r in rows]
        revisions = self.platform.publish_many(changes, actor=actor, comment=comment.strip())
        with session(), write_transaction():
            for row in rows:
                MetadataDraft.delete().where(MetadataDraft.id == row.id).execute()
        return revisions

    # ---------------------------------------------------------------------------------- history
    def plan_rollback(self, actor: Actor, kind: str, name: str, revision_id: int) -> RollbackPlan:
        """Which objects still refer to what rolling back to ``revision_id`` removes, and the earlier
        revisions of theirs to roll back together (see :mod:`.rollback`)."""
        actor.require_permission(PERMISSION)
        return plan_rollback(self.platform.store, kind, name, revision_id)

    def rollback(self, actor: Actor, kind: str, name: str, revision_id: int,
                 together: Sequence[tuple[str, str, int]] = ()) -> int:
        """Make an old revision live again, as a new revision (audited), with the objects ``together``
        ((kind, name, revision) from :meth:`plan_rollback`) rolled back in the same change; the author's
        drafts of them, if any, are dropped. Returns the new revision of the object."""
        actor.require_permission(PERMISSION)
        targets = [(kind, name, revision_id), *[t for t in together if (t[0], t[1]) != (kind, name)]]
        changes: list[Change] = []
        for k, n, rev_id in targets:
            old = self.platform.store.revision(rev_id)
            if (old.kind, old.name) != (k, n):
                raise ValueError(f"revision {rev_id} is of {old.kind} '{old.name}', not {k} '{n}'")
            changes.append(Change(k, n, old.source if old.content is not None else None))
        comment = f"rolled back to revision {revision_id}"
        if len(targets) > 1:
            comment += " with " + ", ".join(f"{k} {n} to revision {r}" for k, n, r in targets[1:])
        revisions = self.platform.publish_many(changes, actor=actor, comment=comment)
        with session():
            for (k, n, rev_id), revision in zip(targets, revisions, strict=True):
                audit(actor, "rollback", entity=f"metadata.{k}", record_id=n,
                      detail={"revision": revision, "rollback_to": rev_id})
        for k, n, _ in targets:
            self.discard(actor, k, n)
        return revisions[0]


def _refuse_alias_expansion(text: str, file: str) -> None:
    """Raise ProblemsError (HL-E005) for YAML text whose aliases expand too far ("billion laughs"): such a
    draft would be read again on every check, open and preview. Other YAML errors stay in the draft
    (``check`` reports them as HL-E001 where they are)."""
    try:
        load_with_positions(text)
    except AliasExpansionError as exc:
        raise ProblemsError([yaml_syntax_problem(exc, text, file)]) from None
    except yaml.YAMLError:
        pass


def _draft(author: str, kind: str, name: str) -> MetadataDraft | None:
    found: MetadataDraft | None = MetadataDraft.get_or_none(
        (MetadataDraft.author == author) & (MetadataDraft.kind == kind) & (MetadataDraft.name == name))
    return found


__all__ = ["PERMISSION", "DraftService", "Draftable", "RevisionConflict", "file_of"]
