"""The running platform: database, live metadata, entity models and the services built on them.

:meth:`Platform.start` opens the database, creates the system tables, syncs the metadata files into the
store (a broken set is refused and the last good revisions keep serving), builds the entity models and
migrates their tables additively. A published metadata change rebuilds models and compiled rules and
migrates again, without a restart; a change that would need a destructive migration is refused before it
is published.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from helpline.data import text_index
from helpline.data.base import centre_zone
from helpline.data.conditions import FALSE, TRUE, Cond, any_of
from helpline.data.database import db, is_sqlite, open_database, session
from helpline.data.entities import EntityModels
from helpline.data.migrate import DestructiveChangeRefused, apply_migration, plan_migration
from helpline.data.rule_filters import Const, FieldRef, Ref, to_condition
from helpline.data.system import create_system_tables
from helpline.diagnostics import Problem, ProblemsError
from helpline.metadata.kinds import Entity
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.rule_checks import scope_use, validation_use
from helpline.rules import RuleError, compile_expression
from helpline.rules.checker import check_expression
from helpline.security.actor import Actor

from .bulletins import BulletinService
from .callbacks import install as install_callbacks
from .knowledge import KnowledgeService
from .metadata_store import Change, MetadataStore, SyncReport
from .notes import NoteService
from .notices import install as install_notices
from .records import RecordService
from .scheduler import Scheduler
from .search import SearchService
from .secrets import hash_plain_secrets
from .values import FieldError
from .workflow import WorkflowService

if TYPE_CHECKING:  # telephony sits above services: imported for the types only, never at run time
    from telephony.desk.service import DeskService
    from telephony.router.service import RouterService

log = logging.getLogger("helpline.platform")


class StartupError(Exception):
    """The platform cannot start; the message says why (with every metadata problem)."""


class Platform:
    def __init__(self, *, auto_migrate: bool = True) -> None:
        self.auto_migrate = auto_migrate
        self.store = MetadataStore()
        self.metadata = MetadataSet()
        self.models = EntityModels(self.metadata)
        self.records = RecordService(self)
        self.search = SearchService(self)
        self.bulletins = BulletinService(self)
        self.notes = NoteService(self)
        self.workflows = WorkflowService(self)
        """The one workflow engine (``helpline.services.workflow``)."""
        self.knowledge = KnowledgeService(self)
        """The knowledge base (``helpline.services.knowledge``): agents' search, reading, votes, versions, files."""
        install_notices(self)  # every transition's recipients get notices, in the transition's transaction
        install_callbacks(self)  # a transition with the effect `callback: true` opens a call-back task
        self.sync_report: SyncReport | None = None
        self._lock = threading.RLock()
        self._rule_cache: dict[tuple[str, str, str], Any] = {}
        self._listeners: list[Callable[[MetadataSet, list[tuple[str, str]]], None]] = []
        self.router: RouterService | None = None
        """The live router (``telephony.router.RouterService``) when telephony runs in this process."""
        self.desk: DeskService | None = None
        """The agent functions (``telephony.desk.service.DeskService``) when telephony runs here."""
        self.scheduler: Scheduler | None = None
        """The process's job scheduler (``helpline.services.scheduler``) when the process runs jobs."""

    # -- life cycle ------------------------------------------------------------------------------
    def start(self, db_url: str, metadata_dir: str | None) -> SyncReport | None:
        try:
            centre_zone()  # a time zone unknown: said now, not on the first page that asks for today
        except ValueError as exc:
            raise StartupError(str(exc)) from exc
        open_database(db_url)
        with session():
            create_system_tables()
            text_index.create_state_table()
        report = None
        if metadata_dir is not None:
            report = self.store.sync_files(metadata_dir)
            self.sync_report = report
            for problem in report.problems:
                log.error("%s", problem.format())
        live, problems = self.store.load_live()
        if problems:
            raise StartupError("the stored metadata is broken:\n" + "\n".join(p.format() for p in problems))
        if not len(live):
            detail = "\n".join(p.format() for p in (report.problems if report else []))
            raise StartupError("no metadata: the files could not be loaded and the database holds none\n" + detail)
        if report and report.problems:
            log.error("metadata files refused (%d problems); serving the last good revisions", len(report.problems))
        self._install(live, [])
        self.store.subscribe(self._install)
        return report

    def _install(self, metadata: MetadataSet, changed: list[tuple[str, str]]) -> None:
        models = EntityModels(metadata)
        if self.auto_migrate:
            with session():
                plan = apply_migration(models)
                if plan.steps and is_sqlite():
                    db.execute_sql("PRAGMA optimize")  # fresh planner statistics for new indexes
            hash_plain_secrets(models)
            with session():
                for name in text_index.ensure(models):
                    log.warning("the text index of %s is stale and too big to rebuild at start: searches use LIKE "
                                "until `run.py reindex --entity %s` has rebuilt it", name, name)
        with self._lock:
            self.metadata = metadata
            self.models = models
            self._rule_cache.clear()
        if any(kind == "workflow" for kind, _ in changed):
            self.workflows.apply_state_maps(metadata)
        for listener in list(self._listeners):
            listener(metadata, changed)

    def on_change(self, listener: Callable[[MetadataSet, list[tuple[str, str]]], None]) -> None:
        """Be told after every published metadata change (menus, screens, router ... reload)."""
        self._listeners.append(listener)

    def publish(self, kind: str, name: str, content: dict[str, Any] | str, *, actor: Actor, comment: str = "",
                base_revision: int | None = None, permission: str = "designer") -> int:
        """Validate and publish one object; refuses broken metadata and destructive schema changes."""
        text = content if isinstance(content, str) else self.store.text_of(kind, name, content)
        return self.publish_many([Change(kind, name, text, base_revision)], actor=actor, comment=comment,
                                 permission=permission)[0]

    def publish_many(self, changes: list[Change], *, actor: Actor, comment: str = "",
                     permission: str = "designer") -> list[int]:
        """Validate and publish several objects as one change (every publish audited); refuses broken
        metadata, stale base revisions and destructive schema changes, writing nothing then."""
        actor.require_permission(permission)
        if any(c.kind in ("entity", "workflow") for c in changes):
            candidate, _, problems = self.store.candidate_set({(c.kind, c.name): c.text for c in changes})
            if problems:
                raise ProblemsError(problems)
            if any(c.kind == "entity" for c in changes):
                self._refuse_destructive(candidate)
            if any(c.kind == "workflow" for c in changes):
                self.workflows.refuse_dropped_states(candidate)
        revisions = self.store.save_many(changes, author=actor.username, comment=comment)
        from helpline.security.audit import audit

        with session():
            for change, rev in zip(changes, revisions, strict=True):
                audit(actor, "publish", entity=f"metadata.{change.kind}", record_id=change.name,
                      detail={"revision": rev.id, "comment": comment, "removed": change.text is None})
        return [int(rev.id) for rev in revisions]

    def _refuse_destructive(self, metadata: MetadataSet) -> None:
        with session():
            plan = plan_migration(EntityModels(metadata))
        if plan.destructive:
            raise DestructiveChangeRefused(plan.destructive)

    # -- rules used by the services ----------------------------------------------------------------
    def _compiled(self, use_name: str, entity: Entity, text: str) -> Any:
        key = (use_name, entity.name, text)
        cached = self._rule_cache.get(key)
        if cached is None:
            if use_name == "scope":
                cached = check_expression(text, scope_use(entity, self.metadata))
            else:
                cached = compile_expression(text, validation_use(entity, self.metadata))
            self._rule_cache[key] = cached
        return cached

    def scope_condition(self, actor: Actor, entity_name: str) -> Cond:
        """The row scope of ``actor`` on ``entity_name`` as a condition (TRUE: everything)."""
        texts = actor.bind(self.metadata).scopes(entity_name)
        if texts is None:
            return TRUE
        if not texts:
            return FALSE
        entity = self.metadata.entities[entity_name]
        user = actor.context()

        def resolve(parts: tuple[str, ...]) -> Ref:
            if parts[0] == "record":
                return FieldRef(parts[1])
            if parts[0] == "user":
                return Const(user.get(parts[1]))
            return Const(None)

        conds = []
        for text in texts:
            result = self._compiled("scope", entity, text)
            if result.expr is None or not result.ok:
                log.error("row scope of %s is broken; showing nothing: %s", entity_name, result.problems)
                conds.append(FALSE)
                continue
            conds.append(to_condition(result.expr, resolve))
        return any_of(*conds)

    def validation_errors(self, entity: Entity, record: dict[str, Any], only: set[str] | None = None
                          ) -> dict[str, FieldError]:
        """Fields whose validation rule is false for ``record``."""
        errors: dict[str, FieldError] = {}
        for f in entity.active_fields:
            if not (f.validation and f.validation.rule) or (only is not None and f.name not in only):
                continue
            try:
                compiled = self._compiled("validation", entity, f.validation.rule)
                ok = compiled.evaluate({"value": record.get(f.name), "record": record})
            except RuleError as exc:
                log.error("validation rule of %s.%s is broken: %s", entity.name, f.name, exc)
                continue
            except Exception as exc:  # a run-time rule failure refuses the value, never crashes the save
                errors[f.name] = FieldError("errors.rule", {"message": str(exc)})
                continue
            if ok is not True:
                message = f.validation.message.get("en") if f.validation.message else f.validation.rule
                errors[f.name] = FieldError("errors.rule", {"message": message})
        return errors


def problems_text(problems: list[Problem]) -> str:
    return "\n".join(p.format() for p in problems)
