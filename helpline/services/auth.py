"""Users and sign-in: argon2id passwords (old scrypt hashes are replaced at the next sign-in), lock-out after
repeated failures, disabling, password changes.

Every login, logout and failed login is written to the audit log. The first start creates ``admin`` (its
password from ``HELPLINE_ADMIN_PASSWORD`` or generated and printed once); the demo adds ``agent1``,
``agent2``, ``supervisor1`` and ``qa1`` (password from ``HELPLINE_DEMO_PASSWORD``, shared, for demos; else one
generated password per user, printed once). A generated password must be changed at the first sign-in.
An unknown user name costs the same password work as a wrong password, so timing does not tell which exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.system import User, UserRole
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit
from helpline.security.passwords import (
    generate_password,
    hash_password,
    needs_rehash,
    spend_like_verify,
    verify_password,
)

MAX_FAILED_LOGINS = 5
MIN_PASSWORD_LENGTH = 8
DEMO_USERS = {
    "agent1": ("agent", ("changsha", "zhuzhou", "xiangtan"), "座席一号"),
    "agent2": ("agent", ("yueyang", "yiyang", "changde"), "座席二号"),
    "supervisor1": ("supervisor", (), "值班长"),
    "qa1": ("qa", (), "质检员"),
    "tech1": ("technician", ("changsha",), "维护员一号"),
}


class LoginFailed(Exception):
    """Sign-in refused; ``reason`` is ``invalid``, ``locked`` or ``disabled`` (shown without telling which
    of user name or password was wrong)."""

    def __init__(self, reason: Literal["invalid", "locked", "disabled"]):
        self.reason = reason
        super().__init__(reason)


class PasswordRejected(ValueError):
    pass


@dataclass(frozen=True)
class AuthSettings:
    lockout_minutes: int = 15
    session_minutes: int = 480

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(lockout_minutes=int(os.environ.get("HELPLINE_LOCKOUT_MINUTES", "15")),
                   session_minutes=int(os.environ.get("HELPLINE_SESSION_MINUTES", "480")))


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def roles_of(username: str) -> tuple[str, ...]:
    with session():
        return tuple(r.role for r in UserRole.select().where(UserRole.username == username).order_by(UserRole.id))


def actor_for(user: User, metadata: MetadataSet) -> Actor:
    return Actor(username=user.username, roles=roles_of(user.username), regions=tuple(user.regions or ()),
                 user_id=user.id, display_name=user.display_name, language=user.language).bind(metadata)


def find_user(username: str) -> User | None:
    with session():
        found: User | None = User.get_or_none(User.username == username)
        return found


def authenticate(username: str, password: str, settings: AuthSettings | None = None) -> User:
    """The user, or :class:`LoginFailed`. Five failures in a row lock the account for a while.

    The failure count and the audit entry are committed before the refusal is raised."""
    settings = settings or AuthSettings.from_env()
    with session(), write_transaction():
        user: User | None = User.get_or_none(User.username == username)
        failure = _check_login(user, username, password, settings)
        if failure is None and user is not None:
            user.failed_logins = 0
            user.locked_until = None
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.save()
            audit(username, "login")
    if failure is not None or user is None:
        raise LoginFailed(failure or "invalid")
    return user


def _check_login(user: User | None, username: str, password: str, settings: AuthSettings
                 ) -> Literal["invalid", "locked", "disabled"] | None:
    """Why this sign-in fails (recording the failure), or None."""
    now = utcnow()
    if user is None:
        spend_like_verify(password)
        audit(username or "?", "login_failed", detail={"reason": "unknown user"})
        return "invalid"
    right = verify_password(password, user.password_hash)
    if not user.active:
        audit(username, "login_failed", detail={"reason": "disabled"})
        return "disabled"
    if user.locked_until and user.locked_until > now:
        audit(username, "login_failed", detail={"reason": "locked"})
        return "locked"
    if right:
        return None
    user.failed_logins += 1
    locked = user.failed_logins >= MAX_FAILED_LOGINS
    if locked:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        user.failed_logins = 0
    user.save()
    audit(username, "login_failed", detail={"reason": "password", "locked": locked})
    return "locked" if locked else "invalid"


def logout(username: str) -> None:
    with session():
        audit(username, "logout")


def change_password(username: str, old: str, new: str) -> None:
    check_password_rules(new)
    with session(), write_transaction():
        user = User.get(User.username == username)
        right = verify_password(old, user.password_hash)
        if right:
            user.password_hash = hash_password(new)
            user.password_changed_at = utcnow()
            user.must_change_password = False
            user.save()
        audit(username, "password_change" if right else "password_change_failed")
    if not right:
        raise PasswordRejected("the current password is wrong")


def create_user(actor: Actor, username: str, password: str, roles: list[str], *, regions: list[str] | None = None,
                display_name: str = "", language: str = "") -> User:
    actor.require_permission("users.manage")
    check_password_rules(password)
    with session(), write_transaction():
        if User.select().where(User.username == username).exists():
            raise PermissionDenied(f"the user '{username}' exists already")
        user = User.create(username=username, password_hash=hash_password(password), regions=regions or [],
                           display_name=display_name, language=language)
        for role in roles:
            UserRole.create(username=username, role=role)
        audit(actor, "create", entity="user", record_id=username, after={"roles": roles, "regions": regions or []})
        return user


def reset_password(actor: Actor, username: str, password: str | None = None) -> str:
    """Set a new password (generated if not given) that the user must change; unlocks the account."""
    actor.require_permission("users.manage")
    new = password or generate_password()
    check_password_rules(new)
    with session(), write_transaction():
        n = (User.update(password_hash=hash_password(new), must_change_password=True, failed_logins=0,
                         locked_until=None).where(User.username == username).execute())
        if n != 1:
            raise PermissionDenied(f"no user '{username}'")
        audit(actor, "password_reset", entity="user", record_id=username)
    return new


def set_active(actor: Actor, username: str, active: bool) -> None:
    actor.require_permission("users.manage")
    if username == actor.username and not active:
        raise PermissionDenied("you cannot disable yourself")
    with session(), write_transaction():
        User.update(active=active).where(User.username == username).execute()
        audit(actor, "enable" if active else "disable", entity="user", record_id=username)


def set_roles(actor: Actor, username: str, roles: list[str], regions: list[str]) -> None:
    actor.require_permission("users.manage")
    with session(), write_transaction():
        before = list(roles_of(username))
        UserRole.delete().where(UserRole.username == username).execute()
        for role in roles:
            UserRole.create(username=username, role=role)
        User.update(regions=regions).where(User.username == username).execute()
        audit(actor, "update", entity="user", record_id=username, before={"roles": before},
              after={"roles": roles, "regions": regions})


def set_language(username: str, language: str) -> None:
    with session():
        User.update(language=language).where(User.username == username).execute()


def list_users() -> list[dict[str, object]]:
    with session():
        users = list(User.select().order_by(User.username))
        roles: dict[str, list[str]] = {}
        for r in UserRole.select():
            roles.setdefault(r.username, []).append(r.role)
        return [{"username": u.username, "display_name": u.display_name, "active": u.active,
                 "roles": roles.get(u.username, []), "regions": u.regions or [],
                 "locked": bool(u.locked_until and u.locked_until > utcnow())} for u in users]


def ensure_bootstrap_users(*, demo: bool, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Create ``admin`` (and the demo users) when missing; returns the generated passwords to print once.

    A password from the environment (``HELPLINE_ADMIN_PASSWORD``, ``HELPLINE_DEMO_PASSWORD`` shared by the demo
    users) is kept as given; without one, each user gets a password of its own that must be changed at the first
    sign-in."""
    env = os.environ if environ is None else environ
    printed: dict[str, str] = {}
    wanted: dict[str, tuple[str, tuple[str, ...], str, str]] = {}
    admin_pw = env.get("HELPLINE_ADMIN_PASSWORD")
    wanted["admin"] = ("administrator", (), "系统管理员", admin_pw or "")
    if demo:
        demo_pw = env.get("HELPLINE_DEMO_PASSWORD") or ""
        for name, (role, regions, display) in DEMO_USERS.items():
            wanted[name] = (role, regions, display, demo_pw)
    with session(), write_transaction():
        existing = {u.username for u in User.select(User.username)}
        for name, (role, regions, display, given) in wanted.items():
            if name in existing:
                continue
            password = given or generate_password()
            if not given:
                printed[name] = password
            User.create(username=name, password_hash=hash_password(password), regions=list(regions),
                        display_name=display, must_change_password=not given)
            UserRole.create(username=name, role=role)
            audit("system", "create", entity="user", record_id=name, after={"roles": [role]})
    return printed


def must_change_password(username: str) -> bool:
    """True while the user still has a generated or reset password (the UI then shows only the profile page)."""
    user = find_user(username)
    return bool(user and user.must_change_password)
