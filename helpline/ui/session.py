"""The signed-in user of a browser session: sign-in state in ``app.storage.user``, idle expiry, and the
:class:`Actor` every service call is made as (rebuilt from the database on each page, so a disabled
user or a changed role takes effect at once)."""

from __future__ import annotations

import time
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from helpline.data.system import User
from helpline.security.actor import Actor
from helpline.services.auth import AuthSettings, actor_for, find_user

from .context import platform

OPEN_PATHS = ("/login", "/_nicegui", "/favicon", "/static", "/healthz")


def sign_in(user: User) -> None:
    now = time.time()
    app.storage.user.update({"username": user.username, "since": now, "seen": now, "language": user.language})


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
