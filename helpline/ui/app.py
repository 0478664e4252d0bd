"""Build and serve the NiceGUI web runtime on a started platform."""

from __future__ import annotations

import secrets

from nicegui import app, ui

from helpline.config import Settings
from helpline.services.platform import Platform

from . import inbox_counts, live_menu, media, ops_routes, pages, private_storage, session
from .context import set_platform
from .i18n import QUASAR_LANGUAGES, set_default_language
from .session import AuthMiddleware


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
    ops_routes.register(plat)


def serve(settings: Settings, plat: Platform) -> None:
    """Build the app for ``plat`` and run the web server (blocks); garbage-collector tuning applied.
    An unknown ``settings.language`` is a ValueError naming the languages there are."""
    from . import gc_tuning

    set_default_language(settings.language)
    build(plat)
    gc_tuning.install()
    ui.run(host=settings.host, port=settings.port, title="Helpline", reload=False, show=False,
           storage_secret=settings.storage_secret or secrets.token_hex(16), uvicorn_logging_level="warning",
           session_middleware_kwargs=session.cookie_settings(settings.cookie_secure),
           language=QUASAR_LANGUAGES[settings.language], favicon="☎")
