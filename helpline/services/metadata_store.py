"""The live metadata: revisions in the database, synced from files, edited in the designers.

- :meth:`MetadataStore.sync_files` brings shipped files in idempotently, by hash: an unchanged file does
  nothing (even when the object was edited in the designers since); a changed file makes a new revision;
  a removed file is reported, never silently deleted. A broken set is refused as a whole: the last good
  revisions stay live.
- :meth:`MetadataStore.save` makes a new revision of one object after checking the whole set with it (data
  is written into the live text, keeping its comments and layout: :meth:`text_of`); a broken one is refused
  with the same problem list ``run.py check`` prints; a stale ``base_revision`` (someone else published
  meanwhile) is refused with the difference.
- :meth:`history`, :meth:`diff`, :meth:`rollback` (a new revision with old content) and :meth:`export`
  (files identical to those synced in).
- Subscribers are told after every change so the runtime reloads without a restart.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import fn

from helpline.data.database import session, write_transaction
from helpline.data.jsonfield import dumps
from helpline.data.system import MetadataRevision
from helpline.diagnostics import Problem, ProblemsError
from helpline.metadata.kinds import FOLDERS, KINDS
from helpline.metadata.loader import ParsedObject, build_set, metadata_files, parse_text, read_file
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.roundtrip import update_text

Listener = Callable[[MetadataSet, list[tuple[str, str]]], None]


class RevisionConflict(Exception):
    """The object changed since the editor loaded it; ``diff`` shows what the other change did."""

    def __init__(self, kind: str, name: str, base: int | None, current: MetadataRevision, diff: str):
        self.kind, self.name, self.base, self.current, self.diff = kind, name, base, current, diff
        super().__init__(f"{kind} '{name}' was changed by {current.author} at {current.created_at:%Y-%m-%d %H:%M} "
                         f"(revision {current.id}) after you opened revision {base}; review the difference")


@dataclass(frozen=True)
class Change:
    """One object to publish: its YAML text (None: remove it) and the revision the author started from."""

    kind: str
    name: str
    text: str | None
    base_revision: int | None = None
    check_base: bool = False
    """With ``base_revision`` None: refuse if the object exists meanwhile (a new object someone else made)."""


@dataclass
class SyncReport:
    added: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    overrode_web_edits: list[tuple[str, str]] = field(default_factory=list)
    removed_files: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(content: Any) -> str:
    return sha256(json.dumps(json.loads(dumps(content)), sort_keys=True, ensure_ascii=False))


def file_of(kind: str, name: str) -> str:
    return f"{FOLDERS[kind]}/{name}.yaml"


class MetadataStore:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self.live: MetadataSet = MetadataSet()

    # -- reading ---------------------------------------------------------------------------------
    def _latest(self) -> dict[tuple[str, str], MetadataRevision]:
        """The newest revision of every object (one indexed aggregate, not the whole history)."""
        newest = (MetadataRevision.select(fn.MAX(MetadataRevision.id))
                  .group_by(MetadataRevision.kind, MetadataRevision.name))
        rows = MetadataRevision.select().where(MetadataRevision.id.in_(newest)).order_by(MetadataRevision.id)
        return {(rev.kind, rev.name): rev for rev in rows}

    def current(self, kind: str, name: str) -> MetadataRevision | None:
        with session():
            found: MetadataRevision | None = (
                MetadataRevision.select().where((MetadataRevision.kind == kind) & (MetadataRevision.name == name))
                .order_by(MetadataRevision.id.desc()).first())
            return found

    def text_of(self, kind: str, name: str, data: dict[str, Any]) -> str:
        """``data`` as the YAML of a new revision: written into the live text so that comments, key order and
        flow style stay and the history shows only what changed."""
        current = self.current(kind, name)
        return update_text(current.source if current is not None and current.content is not None else "", data)

    def load_live(self) -> tuple[MetadataSet, list[Problem]]:
        """Build the live set from the newest revision of every object."""
        with session():
            latest = self._latest()
        parsed = [parse_text(rev.source, file_of(rev.kind, rev.name), rev.kind, rev.name)
                  for rev in latest.values() if rev.content is not None]
        mset, problems = build_set(parsed)
        self.live = mset
        return mset, problems

    # -- changing ---------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, changed: list[tuple[str, str]]) -> None:
        for listener in list(self._listeners):
            listener(self.live, changed)

    def sync_files(self, directory: str | Path) -> SyncReport:
        """Bring the files under ``directory`` in; nothing is written unless the resulting set is valid."""
        root = Path(directory)
        report = SyncReport()
        files: dict[tuple[str, str], tuple[str, str, ParsedObject]] = {}
        for folder, path in metadata_files(root):
            rel = path.relative_to(root).as_posix()
            text, err = read_file(path, rel)
            if err:
                report.problems.append(err)
                continue
            assert text is not None
            from helpline.metadata.kinds import KIND_OF_FOLDER

            parsed = parse_text(text, rel, KIND_OF_FOLDER[folder], path.stem)
            report.problems.extend(parsed.problems)
            if parsed.obj is not None:
                files[(parsed.obj.kind, parsed.obj.name)] = (text, sha256(text), parsed)
        if report.problems:
            return report
        with session():
            latest = self._latest()
            last_file: dict[tuple[str, str], MetadataRevision] = {}
            for rev in MetadataRevision.select().where(MetadataRevision.file_hash.is_null(False)).order_by(
                    MetadataRevision.id):
                last_file[(rev.kind, rev.name)] = rev
        to_write: list[tuple[tuple[str, str], str, str, ParsedObject]] = []
        for key, (text, fhash, parsed) in files.items():
            previous_file = last_file.get(key)
            if previous_file is not None and previous_file.file_hash == fhash:
                report.unchanged += 1
                continue
            current = latest.get(key)
            if current is None or current.content is None:
                report.added.append(key)
            else:
                report.changed.append(key)
                if current.origin != "file":
                    report.overrode_web_edits.append(key)
            to_write.append((key, text, fhash, parsed))
        for key in last_file:
            current = latest.get(key)
            if key not in files and current is not None and current.content is not None and current.origin == "file":
                report.removed_files.append(key)
        if not to_write:
            if not self.live:
                self.load_live()
            return report
        # Check the whole set as it will be: the live objects with the files' versions in place.
        live_parsed = {(rev.kind, rev.name): parse_text(rev.source, file_of(rev.kind, rev.name), rev.kind, rev.name)
                       for rev in latest.values() if rev.content is not None}
        for key, _, _, parsed in to_write:
            live_parsed[key] = parsed
        _, problems = build_set(list(live_parsed.values()))
        if problems:
            report.problems = problems
            report.added.clear()
            report.changed.clear()
            return report
        with session(), write_transaction():
            for (kind, name), text, fhash, parsed in to_write:
                data = parsed.source.positioned.data if parsed.source.positioned else None
                MetadataRevision.create(kind=kind, name=name, content=data, source=text,
                                        content_hash=content_hash(data), file_hash=fhash, origin="file",
                                        author="system", comment=f"synced from {file_of(kind, name)}")
        self.load_live()
        self._notify([k for k, _, _, _ in to_write])
        return report

    def check_candidate(self, kind: str, name: str, text: str | None) -> tuple[ParsedObject | None, list[Problem]]:
        """Problems of the live set with one object replaced by ``text`` (None: removed)."""
        parsed, problems = self.check_candidates({(kind, name): text})
        return parsed.get((kind, name)), problems

    def candidate_set(self, changes: dict[tuple[str, str], str | None]
                      ) -> tuple[MetadataSet, dict[tuple[str, str], ParsedObject], list[Problem]]:
        """The live set with ``changes`` applied (text per object, None: removed), the changed objects
        parsed, and every problem of the resulting set."""
        with session():
            latest = self._latest()
        parsed = {(r.kind, r.name): parse_text(r.source, file_of(r.kind, r.name), r.kind, r.name)
                  for r in latest.values() if r.content is not None}
        candidates: dict[tuple[str, str], ParsedObject] = {}
        for (kind, name), text in changes.items():
            if text is None:
                parsed.pop((kind, name), None)
            else:
                candidates[(kind, name)] = parsed[(kind, name)] = parse_text(text, file_of(kind, name), kind, name)
        mset, problems = build_set(list(parsed.values()))
        return mset, candidates, problems

    def check_candidates(self, changes: dict[tuple[str, str], str | None]
                         ) -> tuple[dict[tuple[str, str], ParsedObject], list[Problem]]:
        _, candidates, problems = self.candidate_set(changes)
        return candidates, problems

    def save(self, kind: str, name: str, content: dict[str, Any] | str, *, author: str, comment: str = "",
             base_revision: int | None = None, origin: str = "web") -> MetadataRevision:
        """Publish a new revision of one object (YAML text or data). Raises :class:`ProblemsError` with every
        problem when the set would be broken, :class:`RevisionConflict` when ``base_revision`` is stale."""
        text = content if isinstance(content, str) else self.text_of(kind, name, content)
        return self.save_many([Change(kind, name, text, base_revision)], author=author, comment=comment,
                              origin=origin)[0]

    def save_many(self, changes: list[Change], *, author: str, comment: str = "",
                  origin: str = "web") -> list[MetadataRevision]:
        """Publish several objects at once: the set is checked with all of them, every base revision must
        still be live (:class:`RevisionConflict` names the first that is not), and all are written in one
        transaction; listeners are told once."""
        for change in changes:
            if change.kind not in KINDS:
                raise ProblemsError([Problem("HL-E010", f"unknown kind {change.kind!r}")])
        _, candidates, problems = self.candidate_set({(c.kind, c.name): c.text for c in changes})
        if problems:
            raise ProblemsError(problems)
        written: list[MetadataRevision] = []
        with session(), write_transaction():
            for change in changes:
                current = self.current(change.kind, change.name)
                live_id = current.id if current is not None and current.content is not None else None
                stale = (change.check_base and live_id != change.base_revision) if change.base_revision is None \
                    else (current is not None and current.id != change.base_revision)
                if stale and current is not None:
                    base = MetadataRevision.get_or_none(MetadataRevision.id == change.base_revision) \
                        if change.base_revision is not None else None
                    raise RevisionConflict(change.kind, change.name, change.base_revision, current,
                                           diff_text(base.source if base else "", current.source,
                                                      f"revision {change.base_revision}", f"revision {current.id}"))
            for change in changes:
                if change.text is None:
                    rev = MetadataRevision.create(kind=change.kind, name=change.name, content=None, source="",
                                                  content_hash="", origin=origin, author=author,
                                                  comment=comment or "removed")
                else:
                    positioned = candidates[(change.kind, change.name)].source.positioned
                    assert positioned is not None
                    rev = MetadataRevision.create(kind=change.kind, name=change.name, content=positioned.data,
                                                  source=change.text, content_hash=content_hash(positioned.data),
                                                  origin=origin, author=author, comment=comment)
                written.append(rev)
        self.load_live()
        self._notify([(c.kind, c.name) for c in changes])
        return written

    def remove(self, kind: str, name: str, *, author: str, comment: str = "") -> MetadataRevision:
        return self.save_many([Change(kind, name, None)], author=author, comment=comment or "removed")[0]

    def history(self, kind: str, name: str) -> list[MetadataRevision]:
        with session():
            return list(MetadataRevision.select().where((MetadataRevision.kind == kind) &
                                                        (MetadataRevision.name == name))
                        .order_by(MetadataRevision.id.desc()))

    def revision(self, revision_id: int) -> MetadataRevision:
        with session():
            return MetadataRevision.get_by_id(revision_id)

    def diff(self, old_id: int, new_id: int) -> str:
        """A unified diff between two revisions' YAML."""
        old, new = self.revision(old_id), self.revision(new_id)
        return diff_text(old.source, new.source, f"revision {old.id}", f"revision {new.id}")

    def rollback(self, kind: str, name: str, revision_id: int, *, author: str, comment: str = "") -> MetadataRevision:
        """Make the content of an old revision live again, as a new revision."""
        old = self.revision(revision_id)
        if (old.kind, old.name) != (kind, name):
            raise ValueError(f"revision {revision_id} is of {old.kind} '{old.name}', not {kind} '{name}'")
        if old.content is None:
            return self.remove(kind, name, author=author, comment=comment or f"rolled back to revision {revision_id}")
        return self.save(kind, name, old.source, author=author, origin="rollback",
                         comment=comment or f"rolled back to revision {revision_id}")

    def export(self, directory: str | Path) -> list[Path]:
        """Write every live object to ``directory/<folder>/<name>.yaml`` (files as they were synced in)."""
        root = Path(directory)
        written: list[Path] = []
        with session():
            latest = self._latest()
        for (kind, name), rev in sorted(latest.items()):
            if rev.content is None:
                continue
            path = root / file_of(kind, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rev.source, encoding="utf-8")
            written.append(path)
        return written


def diff_text(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_label, tofile=new_label))
