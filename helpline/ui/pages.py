"""The routes: ``/login``, ``/`` (the shell) and direct URLs that open the shell on one view —
``/screen/<name>``, ``/query/<name>``, ``/record/<form screen>/<id or new>``, ``/page/<name>``.
Each direct URL is checked on the server; a refused one shows a "not allowed" page and is audited."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from helpline.security.actor import Actor, PermissionDenied
from helpline.services import auth
from helpline.services.access import Target, require_open

from .context import platform
from .i18n import apply_quasar_language, current_language, t
from .session import begin_sign_in, current_actor
from .shell import Shell
from .views.admin_views import profile_view
from .views.base import ViewContext


def login_page(redirect_to: str = "/", expired: str = "") -> None:
    apply_quasar_language(current_language())
    ui.page_title(t("login.title"))
    with ui.card().classes("absolute-center w-80"):
        ui.label(t("app.name")).classes("text-h5")
        ui.label(t("app.tagline")).classes("text-caption text-grey-7")
        if expired:
            ui.label(t("login.session_expired")).classes("text-warning")
        username = ui.input(t("login.agent_id")).props("autofocus").classes("w-full username").mark("username")
        password = ui.input(t("login.password"), password=True).classes("w-full password").mark("password")
        message = ui.label("").classes("text-negative login-message").mark("login-message")

        async def submit() -> None:
            try:
                user = await run.io_bound(auth.authenticate, username.value.strip(), password.value)
            except auth.LoginFailed as exc:
                message.text = t({"locked": "login.locked", "disabled": "login.disabled"}.get(exc.reason,
                                                                                              "login.failed"))
                password.value = ""
                return
            if user is None:
                return
            target = redirect_to if redirect_to.startswith("/") and not redirect_to.startswith("//") else "/"
            if user.must_change_password:
                ui.notify(t("profile.must_change"), type="warning")
                target = "/page/profile"
            ui.navigate.to(begin_sign_in(user, target))  # a new session id for the signed-in browser

        password.on("keydown.enter", submit)
        ui.button(t("login.submit"), on_click=submit).classes("w-full login-submit").mark("login-submit")


def shell_page(kind: str | None = None, name: str | None = None, record: str | None = None,
               params: dict[str, Any] | None = None) -> None:
    actor = current_actor(password_change=True)
    if actor is None:
        ui.navigate.to("/login")
        return
    if auth.must_change_password(actor.username):
        _change_password_first(actor, f"/{kind}/{name}" if kind else "/")
        return
    apply_quasar_language(current_language())
    ui.page_title(t("app.name"))
    path = f"/{kind}/{name}" if kind else "/"
    if kind is not None and name is not None:
        access: Target = "screen" if kind == "record" else kind  # type: ignore[assignment]
        try:
            require_open(actor, platform().metadata, access, name, path)
        except PermissionDenied:
            shell = Shell(actor)
            with shell.panels:
                pass
            with ui.column().classes("absolute-center items-center not-allowed"):
                ui.icon("block", size="xl", color="negative")
                ui.label(t("errors.not_allowed")).classes("text-h5")
                ui.label(path).classes("text-caption")
                ui.button(t("shell.home"), on_click=lambda: ui.navigate.to("/"))
            return
    shell = Shell(actor)
    if kind is None:
        shell.open("page", "home")
    elif kind == "record" and name is not None:
        shell.open("record", name, record_id=None if record in (None, "new") else int(str(record)))
    elif name is not None:
        shell.open(kind, name, **(params or {}))


def _change_password_first(actor: Actor, then: str) -> None:
    """The only page of a user with a generated or reset password: change it, then go on to ``then``."""
    ui.page_title(t("app.name"))
    with ui.column().classes("absolute-center items-center password-first").mark("password-first"):
        ui.label(t("profile.must_change")).classes("text-warning")
        profile_view(ViewContext(platform=platform(), actor=actor, language=current_language(),
                                 params={"then": then}))


def register() -> None:
    """Define the routes (again after NiceGUI's test fixtures reset them)."""
    ui.page("/login")(login_page)

    @ui.page("/")
    def index() -> None:
        shell_page()

    @ui.page("/screen/{name}")
    def screen(name: str) -> None:
        shell_page("screen", name)

    @ui.page("/query/{name}")
    def query(name: str) -> None:
        shell_page("query", name)

    @ui.page("/record/{name}/{record}")
    def record(name: str, record: str) -> None:
        if record != "new" and not record.isdigit():
            ui.label(t("errors.not_found"))
            return
        shell_page("record", name, record)

    @ui.page("/ivr/console")
    def ivr_console() -> None:
        shell_page("page", "ivr_console")

    @ui.page("/supervisor")
    def supervisor() -> None:
        shell_page("page", "supervisor")

    @ui.page("/desktop")
    def desktop() -> None:
        shell_page("page", "desktop")

    @ui.page("/designer")
    def designer() -> None:
        shell_page("page", "designer")

    @ui.page("/designer/{kind}")
    def designer_kind(kind: str) -> None:  # the kind's list of objects and "new"
        shell_page("page", "designer", params={"object_kind": kind})

    @ui.page("/designer/{kind}/{name}")
    def designer_object(kind: str, name: str) -> None:
        shell_page("page", "designer", params={"object_kind": kind, "object_name": name})

    @ui.page("/page/{name}")
    def page(name: str) -> None:
        shell_page("page", name)

    @ui.page("/knowledge/{article_id}")
    def knowledge_article(article_id: int) -> None:  # the knowledge page with the article open (docs/knowledge.md)
        shell_page("page", "knowledge", params={"article": article_id})
