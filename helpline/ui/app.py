"""Build and serve the NiceGUI web runtime on a started platform."""

from __future__ import annotations

import secrets
from typing import Any

from nicegui import app, ui

from helpline.config import Settings
from helpline.services.platform import Platform

from . import inbox_counts, listener_ids, live_menu, media, ops_routes, pages, private_storage, session, socket_hops
from .context import set_platform
from .i18n import QUASAR_LANGUAGES, set_default_language
from .session import AuthMiddleware

RECONNECT_TIMEOUT_S = 15.0
"""How long a page waits for its browser to come back after its socket dropped before the server deletes it.
NiceGUI's 3 s default was shorter than a busy server or browser takes to reconnect (a missed ping at a load of
15-25 on 2 cores): the page was deleted, the reconnecting browser's handshake refused and the browser reloaded the
page, losing everything typed into it. The socket's ping interval and timeout follow it (0.8x and 0.4x: 12 s and
6 s), so a browser that vanishes without closing its socket is noticed within 18 s (the router's
``browser_grace_s`` counts from then)."""
RUN_OPTIONS: dict[str, Any] = {"title": "Helpline", "reload": False, "show": False,
                               "reconnect_timeout": RECONNECT_TIMEOUT_S}
"""The ``ui.run`` options of the web runtime (also those of the tests' app, tests/ui/app_main.py)."""


def build(plat: Platform) -> None:
    """Register the middleware and every route for ``plat`` (call before ``ui.run``)."""
    set_platform(plat)
    live_menu.install(plat)
    inbox_counts.install(plat)
    app.add_middleware(AuthMiddleware)
    pages.register()
    media.register()
    session.register()
    private_storage.install()
    socket_hops.install()
    listener_ids.install()
    ops_routes.register(plat)


def serve(settings: Settings, plat: Platform) -> None:
    """Build the app for ``plat`` and run the web server (blocks); garbage-collector tuning applied.
    An unknown ``settings.language`` is a ValueError naming the languages there are."""
    from . import gc_tuning

    set_default_language(settings.language)
    build(plat)
    gc_tuning.install()
    ui.run(host=settings.host, port=settings.port, **RUN_OPTIONS,
           storage_secret=settings.storage_secret or secrets.token_hex(16), uvicorn_logging_level="warning",
           session_middleware_kwargs=session.cookie_settings(settings.cookie_secure),
           language=QUASAR_LANGUAGES[settings.language], favicon="☎")
