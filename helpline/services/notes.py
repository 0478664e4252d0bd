"""Notes (便笺): each user's own notes, and team notes shared with the members of one of their departments.

``platform.notes`` is the only way to the ``note`` records: no role reads that entity, so the generic lists,
forms, queries and exports refuse it to everyone, and every read, list and search here is narrowed to the notes
the user may read — their own, and those whose ``team`` is a department they belong to. A personal note
(no team) is therefore never visible to another user, whatever their roles. Only the owner changes or deletes
a note. Writes are audited without the note's text (the audit log is read by administrators; a note's content
never goes there). Notes are indexed by the one text search (:mod:`helpline.services.search`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.data.base import utcnow
from helpline.data.conditions import Cmp, Cond, any_of
from helpline.data.database import session, write_transaction
from helpline.data.entities import column
from helpline.data.entities import rows as select_rows
from helpline.data.text_index import remove_row, write_row
from helpline.data.workflow import DepartmentMember
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .values import clean_values

if TYPE_CHECKING:
    from .platform import Platform
    from .search import Hit

ENTITY = "note"
MAX_NOTES = 500
"""Notes a list shows (newest first)."""


class NoteError(ValueError):
    """A note that cannot be written or read as asked; ``key`` is a locale key, the message English."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


@dataclass
class Note:
    id: int
    title: str
    body: str
    owner: str
    team: str | None
    updated_at: datetime

    @property
    def personal(self) -> bool:
        return not self.team


class NoteService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def teams(self, actor: Actor) -> list[str]:
        """The departments ``actor`` belongs to: the teams they may share a note with and read notes of."""
        with session():
            return sorted({m.department for m in DepartmentMember.select(DepartmentMember.department)
                           .where(DepartmentMember.username == actor.username)})

    def readable(self, actor: Actor) -> Cond:
        """The row rule of notes: the actor's own, and team notes of their departments."""
        own = Cmp("owner", "eq", actor.username)
        teams = self.teams(actor)
        return any_of(own, Cmp("team", "in", teams)) if teams else own

    def _note(self, row: dict[str, Any]) -> Note:
        return Note(int(row["id"]), str(row["title"]), str(row.get("body") or ""), str(row["owner"]),
                    row.get("team") or None, row["updated_at"])

    def notes(self, actor: Actor) -> list[Note]:
        """The notes ``actor`` may read, newest first: their own and their teams'."""
        model = self.platform.models[ENTITY]
        teams = self.teams(actor)
        with session():
            readable = column(model, "owner") == actor.username
            if teams:
                readable = readable | column(model, "team").in_(teams)
            newest = (column(model, "updated_at").desc(), model.id.desc())
            rows = select_rows(model.select().where(readable).order_by(*newest).limit(MAX_NOTES))
        return [self._note(r) for r in rows]

    def get(self, actor: Actor, note_id: int) -> Note:
        """One note ``actor`` may read; another user's personal note is 'not found', like one that never was."""
        model = self.platform.models[ENTITY]
        teams = self.teams(actor)
        with session():
            readable = column(model, "owner") == actor.username
            if teams:
                readable = readable | column(model, "team").in_(teams)
            rows = select_rows(model.select().where((model.id == note_id) & readable))
        if not rows:
            raise NoteError("notes.error.not_found", f"no note {note_id}")
        return self._note(rows[0])

    def _check_team(self, actor: Actor, team: str | None) -> str | None:
        if not team:
            return None
        if team not in self.teams(actor):
            raise NoteError("notes.error.team", f"you are not a member of the team '{team}'", team=team)
        return team

    def save(self, actor: Actor, title: str, body: str = "", *, team: str | None = None,
             note_id: int | None = None) -> Note:
        """Write a new note (``note_id`` None) or change one of the actor's own notes."""
        team = self._check_team(actor, team)
        entity = self.platform.metadata.entities[ENTITY]
        values, errors = clean_values(entity, {"title": title, "body": body, "owner": actor.username, "team": team},
                                      self.platform.metadata.categories)
        if errors:
            from .records import ValidationFailed

            raise ValidationFailed(errors)
        model = self.platform.models[ENTITY]
        now = utcnow()
        with session(), write_transaction():
            if note_id is None:
                instance = model.create(**values, created_by=actor.username, updated_by=actor.username,
                                        created_at=now, updated_at=now)
                note_id = int(instance.id)
                action = "note.create"
            else:
                changed = (model.update(**values, updated_by=actor.username, updated_at=now)
                           .where((model.id == note_id) & (column(model, "owner") == actor.username)).execute())
                if not changed:
                    raise NoteError("notes.error.not_found", f"no note {note_id} of yours")
                action = "note.update"
            row = select_rows(model.select().where(model.id == note_id))[0]
            write_row(entity, row)  # the one text search's index, in this transaction
            audit(actor, action, entity=ENTITY, record_id=note_id, detail={"team": team})
        return self._note(row)

    def delete(self, actor: Actor, note_id: int) -> None:
        """Delete one of the actor's own notes."""
        entity = self.platform.metadata.entities[ENTITY]
        model = self.platform.models[ENTITY]
        with session(), write_transaction():
            if not model.delete().where((model.id == note_id) & (column(model, "owner") == actor.username)).execute():
                raise NoteError("notes.error.not_found", f"no note {note_id} of yours")
            remove_row(entity, note_id)
            audit(actor, "note.delete", entity=ENTITY, record_id=note_id)

    def search(self, actor: Actor, text: str, *, limit: int = 20) -> list[Hit]:
        """The notes ``actor`` may read that match ``text``, best first (the one text search, narrowed to the
        notes' row rule before anything is ranked)."""
        return self.platform.search.search(Actor.system(), ENTITY, text, limit=limit,
                                           narrow=self.readable(actor))
