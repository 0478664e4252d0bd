"""The signed-in user of a browser session: sign-in state in ``app.storage.user``, idle expiry, and the
:class:`Actor` every service call is made as (rebuilt from the database on each page, so a disabled
user or a changed role takes effect at once).

A sign-in rotates the session: the login page (a websocket event, which cannot set a cookie) leaves a one-time
token bound to the browser's session id and sends the browser to ``/login/complete``, which gives the browser a
new session id (a new signed cookie), moves the sign-in there and drops the old storage — so a session id known
before the login (fixation) is worth nothing after it."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app
from nicegui.storage import request_contextvar
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from helpline.data.system import User
from helpline.security.actor import Actor
from helpline.services.auth import AuthSettings, actor_for, find_user

from .context import platform

OPEN_PATHS = ("/login", "/_nicegui", "/favicon", "/static", "/healthz", "/metrics")


SIGN_IN_TOKEN_SECONDS = 60.0
AUTH_KEYS = ("username", "since", "seen")


@dataclass(frozen=True)
class _PendingSignIn:
    username: str
    language: str
    session_id: str
    target: str
    expires: float


_pending: dict[str, _PendingSignIn] = {}


def begin_sign_in(user: User, target: str) -> str:
    """The URL that completes ``user``'s sign-in in this browser on a new session id, then opens ``target``."""
    request = request_contextvar.get()
    session_id = str(request.session.get("id", "")) if request is not None else ""
    now = time.time()
    for token in [k for k, v in _pending.items() if v.expires < now]:
        _pending.pop(token, None)
    token = secrets.token_urlsafe(24)
    _pending[token] = _PendingSignIn(user.username, user.language, session_id, target, now + SIGN_IN_TOKEN_SECONDS)
    return f"/login/complete?token={token}"


async def complete_sign_in(request: Request, token: str = "") -> Response:
    """``/login/complete``: a new session id for this browser, signed in; the old one's storage dropped."""
    pending = _pending.pop(token, None)
    old_id = str(request.session.get("id", ""))
    if pending is None or pending.expires < time.time() or not old_id or pending.session_id != old_id:
        return RedirectResponse("/login", status_code=303)
    storage = app.storage
    old = storage._users.pop(old_id, None)  # NiceGUI keeps user storage by session id
    kept = {k: v for k, v in (old or {}).items() if k not in AUTH_KEYS}
    new_id = str(uuid.uuid4())
    request.session["id"] = new_id  # the session middleware sends the new signed cookie with this response
    await storage._create_user_storage(new_id)
    now = time.time()
    storage._users[new_id].update({**kept, "username": pending.username, "since": now, "seen": now,
                                   "language": pending.language})
    if old is not None:
        old.clear()  # deletes its file
    return RedirectResponse(pending.target, status_code=303)


def cookie_settings(secure: bool, auth: AuthSettings | None = None) -> dict[str, object]:
    """The session cookie: it lives as long as an idle session (``HELPLINE_SESSION_MINUTES``, renewed with each
    response), ``Secure`` when ``secure``, HttpOnly (Starlette's default) and SameSite=Lax."""
    minutes = (auth or AuthSettings.from_env()).session_minutes
    return {"max_age": minutes * 60, "https_only": secure, "same_site": "lax"}


def register() -> None:
    """The sign-in completion route (again after NiceGUI's test fixtures reset the routes)."""
    app.add_api_route("/login/complete", complete_sign_in, methods=["GET"], include_in_schema=False)


def sign_out() -> None:
    for key in ("username", "since", "seen"):
        app.storage.user.pop(key, None)


def session_expired(storage: dict[str, object], settings: AuthSettings | None = None) -> bool:
    settings = settings or AuthSettings.from_env()
    seen = storage.get("seen")
    return not isinstance(seen, (int, float)) or time.time() - seen > settings.session_minutes * 60


def current_actor(*, password_change: bool = False) -> Actor | None:
    """The actor of this browser session, or None when nobody (or a disabled user) is signed in. A user who
    must still change a generated or reset password has an actor only for the password change
    (``password_change=True``: the page that shows nothing else)."""
    username = app.storage.user.get("username")
    if not username:
        return None
    user = find_user(str(username))
    if user is None or not user.active:
        sign_out()
        return None
    if user.must_change_password and not password_change:
        return None
    return actor_for(user, platform().metadata)


class AuthMiddleware(BaseHTTPMiddleware):
    """Every page but the open ones needs a live session; an idle one expires."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if not path.startswith(OPEN_PATHS):
            storage = app.storage.user
            if not storage.get("username"):
                return RedirectResponse(f"/login?redirect_to={quote(path)}")
            if session_expired(storage):
                sign_out()
                return RedirectResponse(f"/login?expired=1&redirect_to={quote(path)}")
            storage["seen"] = time.time()
        return await call_next(request)
