"""The notice centre: :func:`notify` writes notices (and their outbox rows) in the caller's transaction; the
workflow engine's listener and the service-level timer's hook call it; the web UI reads, counts and marks
notices and is told, after the commit, whose count changed (:func:`on_new`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.config import Settings
from helpline.data.base import utcnow
from helpline.data.database import after_commit, db, session, write_transaction
from helpline.data.notices import Notice, NoticeDelivery
from helpline.data.system import User
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from .senders import DeliveryConfig
from .texts import render

if TYPE_CHECKING:
    from helpline.services.platform import Platform
    from helpline.services.workflow.engine import TransitionEvent

log = logging.getLogger("helpline.notices")

_config: DeliveryConfig | None = None
_followers: list[Callable[[list[str]], None]] = []


def config() -> DeliveryConfig:
    """The process's delivery settings (from the environment at first use, unless :func:`configure`\\ d)."""
    global _config
    if _config is None:
        _config = DeliveryConfig.from_settings(Settings.from_env())
    return _config


def configure(value: DeliveryConfig | Settings) -> DeliveryConfig:
    """Use these delivery settings from now on (``run.py serve`` passes its settings; tests their stubs)."""
    global _config
    _config = value if isinstance(value, DeliveryConfig) else DeliveryConfig.from_settings(value)
    return _config


def on_new(follower: Callable[[list[str]], None]) -> None:
    """Be told the usernames that got notices, after the transaction that wrote them committed (called on the
    writing thread: hand UI work to the event loop)."""
    _followers.append(follower)


def _announce(usernames: list[str]) -> None:
    for follower in list(_followers):
        try:
            follower(usernames)
        except Exception:
            log.exception("a notice follower failed")


def notify(usernames: Iterable[str], title: str, body: str = "", link: tuple[str, int] | None = None, *,
           kind: str, params: dict[str, Any] | None = None) -> list[int]:
    """A notice to each of ``usernames`` (duplicates and empty names dropped) and its outbox rows, in the
    caller's transaction when one is open (else in one of its own); returns the notice ids.

    ``title`` and ``body`` are locale keys of ``locale/*/notices.yaml`` (text that is no key is shown as it
    is) and ``params`` their values (see :mod:`.texts`); ``link`` is ``(entity, record_id)``; ``kind`` picks
    the channels (``HELPLINE_NOTICE_CHANNELS``). A failure raises and so rolls the caller's transaction back:
    a cause is never kept without its notices."""
    names = list(dict.fromkeys(u for u in usernames if u))
    if not names:
        return []
    if not kind:
        raise ValueError("notify: a notice needs a kind")
    with session():
        if not db.in_transaction():
            with write_transaction():
                return _write(names, title, body, link, kind, params)
        return _write(names, title, body, link, kind, params)


def _write(names: list[str], title: str, body: str, link: tuple[str, int] | None, kind: str,
           params: dict[str, Any] | None) -> list[int]:
    cfg = config()
    channels = [(c, s) for c in cfg.channels_for(kind) if (s := cfg.sender(c)) is not None]
    users = {u.username: u for u in User.select(User.username, User.email, User.phone, User.active)
             .where(User.username.in_(names))}
    now = utcnow()
    entity, record_id = link if link is not None else (None, None)
    rows = [{"username": name, "kind": kind, "title_key": title, "body_key": body, "params": params or {},
             "entity": entity, "record_id": record_id, "created_at": now} for name in names]
    written = Notice.insert_many(rows).returning(Notice.id, Notice.username).tuples().execute()  # one round trip
    id_of = {str(r[1]): int(r[0]) for r in written}  # RETURNING's order is not promised: by username (unique)
    ids = [id_of[name] for name in names]
    outbox: list[dict[str, Any]] = []
    for name, notice_id in zip(names, ids, strict=True):
        user = users.get(name)
        if user is None or not user.active:
            continue
        for channel, _sender in channels:
            address = {"email": user.email, "sms": user.phone}.get(channel, name)
            if address:
                outbox.append({"notice_id": notice_id, "channel": channel, "address": address, "next_attempt_at": now,
                               "created_at": now})
    if outbox:
        NoticeDelivery.insert_many(outbox).execute()
    after_commit(lambda: _announce(names))
    return ids


# -- what the workflow engine and its timer hand over ----------------------------------------------------------
def _record_params(platform: Platform, entity: str, record: dict[str, Any], record_id: int) -> dict[str, Any]:
    ent = platform.metadata.entities.get(entity)
    title = record.get(ent.title_field) if ent is not None and ent.title_field else None
    return {"entity": ent.label.model_dump() if ent is not None else entity,
            "record": str(title) if title not in (None, "") else f"#{record_id}"}


def on_transition(platform: Platform, event: TransitionEvent) -> None:
    """The engine's listener: a ``transition`` notice to each recipient of the transition's ``notify``
    effects, in the transition's transaction."""
    tr = event.transition
    if tr is None or not event.recipients:
        return
    flow = event.workflow
    state = flow.state(tr.to)
    record_id = int(event.instance.record_id)
    params = {**_record_params(platform, flow.entity, event.record, record_id),
              "action": tr.label.model_dump(), "state": state.label.model_dump() if state else tr.to,
              "actor": event.actor.display_name or event.actor.username, "comment": event.step.comment or ""}
    notify(event.recipients, "notice.transition.title",
           "notice.transition.body_comment" if event.step.comment else "notice.transition.body",
           (flow.entity, record_id), kind="transition", params=params)


def on_timer(platform: Platform, usernames: list[str], kind: str, detail: dict[str, Any]) -> None:
    """The service-level timer's hook (``sla_warning``, ``sla_breach``, ``escalate``), in its transaction."""
    entity, record_id = str(detail.get("entity") or ""), int(detail.get("record_id") or 0)
    record: dict[str, Any] = {}
    ent = platform.metadata.entities.get(entity)
    if ent is not None and ent.title_field and entity in platform.models:
        model = platform.models[entity]
        row = model.select(getattr(model, ent.title_field)).where(model.id == record_id).dicts().first()
        record = dict(row or {})
    target = str(detail.get("target") or "")
    params = {**_record_params(platform, entity, record, record_id),
              "target": {"en": target, "zh_CN": {"response": "响应", "resolution": "解决"}.get(target, target)},
              "due": {"utc": str(detail.get("due") or "")}, "policy": _policy_label(platform, detail.get("policy"))}
    notify(usernames, f"notice.{kind}.title", f"notice.{kind}.body", (entity, record_id) if entity else None,
           kind=kind, params=params)


def _policy_label(platform: Platform, name: Any) -> Any:
    from helpline.metadata.sla_checks import slas_of

    policy = slas_of(platform.metadata).get(str(name or ""))
    return policy.label.model_dump() if policy is not None and policy.label is not None else str(name or "")


def install(platform: Platform) -> None:
    """Have every transition of ``platform``'s engine, and every service-level notice of its timer, write
    notices (called when the platform is made)."""
    platform.workflows.listeners.append(lambda event: on_transition(platform, event))
    hooks = getattr(platform.workflows, "notices", None)
    if isinstance(hooks, list):
        hooks.append(lambda users, kind, detail: on_timer(platform, users, kind, detail))


# -- reading -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoticeView:
    id: int
    kind: str
    title: str
    body: str
    entity: str | None
    record_id: int | None
    created_at: datetime
    read_at: datetime | None


def view(notice: Notice, language: str) -> NoticeView:
    return NoticeView(notice.id, notice.kind, render(notice.title_key, notice.params, language),
                      render(notice.body_key, notice.params, language), notice.entity, notice.record_id,
                      notice.created_at, notice.read_at)


def unread_count(username: str) -> int:
    with session():
        return int(Notice.select().where((Notice.username == username) & Notice.read_at.is_null()).count())


def notices(username: str, language: str, *, unread_only: bool = False, limit: int = 100) -> list[NoticeView]:
    """``username``'s newest notices, worded in ``language``."""
    with session():
        query = Notice.select().where(Notice.username == username)
        if unread_only:
            query = query.where(Notice.read_at.is_null())
        return [view(n, language) for n in query.order_by(Notice.id.desc()).limit(limit)]


def mark_read(username: str, notice_ids: Iterable[int] | None = None) -> int:
    """Mark ``username``'s notices read (all unread ones when ``notice_ids`` is None); returns how many."""
    with session(), write_transaction():
        query = Notice.update(read_at=utcnow()).where((Notice.username == username) & Notice.read_at.is_null())
        if notice_ids is not None:
            query = query.where(Notice.id.in_(list(notice_ids)))
        count = int(query.execute())
    if count:
        _announce([username])
    return count


# -- where a user's notices go ---------------------------------------------------------------------------------
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")


class ContactRejected(ValueError):
    """An e-mail address or phone number that cannot be used; ``key`` is the locale key saying why."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def contact(username: str) -> tuple[str, str]:
    """The user's (e-mail, phone) for notices (empty: none)."""
    with session():
        user = User.get_or_none(User.username == username)
        return (user.email or "", user.phone or "") if user is not None else ("", "")


def set_contact(username: str, email: str, phone: str, actor: Actor | None = None) -> None:
    """Set where ``username``'s notices go besides the notice centre (empty: not by that channel). Another
    user's (``actor`` not the user) needs ``users.manage``; the change is audited."""
    email, phone = email.strip(), phone.strip().replace(" ", "").replace("-", "")
    if actor is not None and actor.username != username:
        try:
            actor.require_permission("users.manage")
        except PermissionDenied:
            with session():
                audit(actor.username, "denied", entity="user", record_id=username, detail={"action": "contact"})
            raise
    if email and not _EMAIL.match(email):
        raise ContactRejected("notices.contact.bad_email", f"'{email}' is not an e-mail address")
    if phone and not _PHONE.match(phone):
        raise ContactRejected("notices.contact.bad_phone", f"'{phone}' is not a phone number (digits, + first)")
    with session(), write_transaction():
        before = User.get_or_none(User.username == username)
        if before is None:
            raise LookupError(f"there is no user '{username}'")
        User.update(email=email or None, phone=phone or None).where(User.username == username).execute()
        audit(actor.username if actor is not None else username, "update", entity="user", record_id=username,
              before={"email": before.email, "phone": before.phone}, after={"email": email or None,
                                                                           "phone": phone or None})
