"""Built-in pages: category trees (view; add, rename, move, retire for allowed roles), the audit log,
users (create, reset password, disable, roles and regions), the user's profile, and home."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from nicegui import run, ui

from helpline.data.database import session
from helpline.diagnostics import ProblemsError
from helpline.security.actor import PermissionDenied
from helpline.security.audit import search_audit
from helpline.services import auth, categories
from helpline.services.metadata_store import RevisionConflict

from ..i18n import catalogue, current_language, label, t
from .base import ViewContext
from .notices_view import contact_card, contact_dialog


def category_view(ctx: ViewContext) -> None:
    trees = ctx.platform.metadata.categories
    can_edit = ctx.actor.has(categories.PERMISSION)
    state: dict[str, Any] = {"tree": next(iter(trees), None), "code": None}
    ui.label(t("category.title")).classes("text-h6")
    with ui.row().classes("w-full no-wrap gap-4"):
        picker = ui.select({n: label(c.label, n) for n, c in trees.items()}, value=state["tree"],
                           with_input=True).classes("w-64").props("dense").mark("category-picker")
        panel = ui.column().classes("grow")

    def nodes_of(name: str) -> list[dict[str, Any]]:
        tree = ctx.platform.metadata.categories[name]

        def build(parent: str | None) -> list[dict[str, Any]]:
            out = []
            for n in tree.children(parent):
                text = f"{label(n.label, n.code)}  [{n.code}]" + (f"  ({t('category.retired')})" if n.retired else "")
                out.append({"id": n.code, "label": text, "children": build(n.code)})
            return out

        return build(None)

    def render() -> None:
        panel.clear()
        name = state["tree"]
        if not name or name not in ctx.platform.metadata.categories:
            return
        with panel:
            tree_el = ui.tree(nodes_of(name), label_key="label", on_select=lambda e: state.update(code=e.value)) \
                .mark("category-tree")
            tree_el.expand()
            if can_edit:
                with ui.row().classes("gap-2"):
                    ui.button(t("category.add"), icon="add", on_click=lambda: edit_dialog("add")).props("dense") \
                        .mark("category-add")
                    ui.button(t("category.rename"), on_click=lambda: edit_dialog("rename")).props("dense outline")
                    ui.button(t("category.move"), on_click=lambda: edit_dialog("move")).props("dense outline")
                    ui.button(t("category.retire"), on_click=lambda: retire(True)).props("dense outline")
                    ui.button(t("category.restore"), on_click=lambda: retire(False)).props("dense flat")

    async def apply(fn: Any, *args: Any) -> bool:
        try:
            await run.io_bound(fn, ctx.platform, ctx.actor, state["tree"], *args)
        except ProblemsError as exc:
            ui.notify("; ".join(f"{p.id} {p.message}" for p in exc.problems), type="negative", multi_line=True)
            return False
        except (categories.CategoryEditError, PermissionDenied, RevisionConflict) as exc:
            ui.notify(str(exc), type="negative")
            return False
        ui.notify(t("form.saved"), type="positive")
        render()
        return True

    async def retire(flag: bool) -> None:
        if state["code"]:
            await apply(categories.set_retired, state["code"], flag)

    def edit_dialog(mode: str) -> None:
        tree = ctx.platform.metadata.categories[state["tree"]]
        node = tree.node(state["code"]) if state["code"] else None
        if mode != "add" and node is None:
            ui.notify(t("category.choose_code"), type="warning")
            return
        with ui.dialog() as dialog, ui.card().classes("min-w-[24rem]"):
            code = ui.input(t("category.code"), value="" if mode == "add" else state["code"]) \
                .props("readonly" if mode != "add" else "").mark("category-code")
            en = ui.input(f"{t('category.label')} (English)", value=node.label.en if node and mode != "add" else "") \
                .mark("category-en")
            zh = ui.input(f"{t('category.label')} (中文)", value=(node.label.zh_CN or "") if node and mode != "add"
                          else "").mark("category-zh")
            parents = {"": "—", **{n.code: label(n.label, n.code) for n in tree.nodes}}
            parent = ui.select(parents, label=t("category.parent"),
                               value=(state["code"] or "") if mode == "add" else (node.parent or "") if node else "")
            if mode == "rename":
                parent.set_visibility(False)
            if mode == "move":
                en.set_visibility(False)
                zh.set_visibility(False)

            async def ok() -> None:
                text = {"en": en.value.strip(), **({"zh_CN": zh.value.strip()} if zh.value.strip() else {})}
                if mode == "add":
                    done = await apply(categories.add_code, code.value.strip(), text, parent.value or None)
                elif mode == "rename":
                    done = await apply(categories.rename_code, state["code"], text)
                else:
                    done = await apply(categories.move_code, state["code"], parent.value or None)
                if done:
                    dialog.close()

            with ui.row():
                ui.button(t("app.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("app.ok"), on_click=ok).classes("category-ok").mark("category-ok")
        dialog.open()

    def choose(e: Any) -> None:
        state.update(tree=e.value, code=None)
        render()

    picker.on_value_change(choose)
    render()


AUDIT_ACTIONS = ("login", "login_failed", "logout", "create", "update", "delete", "read", "list", "query", "export",
                 "publish", "denied", "password_reset")


def action_label(action: str, language: str | None = None) -> str:
    """An audit action in the user's words (its code when the locale has none)."""
    key = f"audit.action.{action}"
    return catalogue(language or current_language()).get(key) or catalogue("en").get(key) or action


def audit_view(ctx: ViewContext) -> None:
    ui.label(t("audit.title")).classes("text-h6")
    with ui.row().classes("items-end gap-2"):
        who = ui.input(t("audit.user")).props("dense clearable")
        actions = {"": "", **{a: action_label(a, ctx.language) for a in AUDIT_ACTIONS}}
        action = ui.select(actions, label=t("audit.action"), value="").props("dense").classes("w-40")
        entity = ui.input(t("audit.object")).props("dense clearable")
        since = ui.input(t("query.from"), value=(datetime.now() - timedelta(days=7)).date().isoformat()) \
            .props("dense type=date stack-label")
        ui.button(t("app.search"), icon="search", on_click=lambda: load()).classes("audit-search").mark("audit-search")
    columns = [{"name": k, "field": k, "label": t(f"audit.{v}"), "align": "left"} for k, v in
               (("at", "time"), ("actor", "user"), ("action", "action"), ("object", "object"), ("detail", "detail"))]
    table = ui.table(columns=columns, rows=[], row_key="id").classes("w-full").props("flat dense bordered")

    def fetch() -> list[dict[str, Any]]:
        with session():
            found = search_audit(actor=who.value or None, action=action.value or None, entity=entity.value or None,
                                 since=datetime.fromisoformat(since.value) if since.value else None, page_size=200)
        return [{"id": e["id"], "at": e["at"].isoformat(sep=" ", timespec="seconds"), "actor": e["actor"],
                 "action": action_label(e["action"], ctx.language),
                 "object": " ".join(str(x) for x in (e["entity"], e["record_id"]) if x),
                 "detail": json.dumps({k: v for k in ("before", "after", "detail") if (v := e[k])},
                                      ensure_ascii=False, default=str)[:300]} for e in found]

    async def load() -> None:
        rows = await run.io_bound(fetch)
        table.rows = rows or []
        table.update()

    ui.timer(0, load, once=True)


def users_view(ctx: ViewContext) -> None:
    ui.label(t("users.title")).classes("text-h6")
    roles = list(ctx.platform.metadata.roles)
    columns = [{"name": k, "field": k, "label": t(f"users.{k}"), "align": "left"}
               for k in ("username", "display_name", "roles", "regions", "state")]
    table = ui.table(columns=columns, rows=[], row_key="username", selection="single").classes("w-full") \
        .props("flat dense bordered")

    def refresh() -> None:
        table.rows = [{**u, "roles": ", ".join(u["roles"]), "regions": ", ".join(u["regions"]),  # type: ignore[arg-type]
                       "state": t("users.locked") if u["locked"] else
                       (t("users.active") if u["active"] else t("users.disabled"))} for u in auth.list_users()]
        table.update()

    def selected() -> str | None:
        return table.selected[0]["username"] if table.selected else None

    def guarded(fn: Any) -> Any:
        try:
            return fn()
        except (PermissionDenied, auth.PasswordRejected) as exc:
            ui.notify(str(exc), type="negative")
            return None

    def create() -> None:
        with ui.dialog() as dialog, ui.card():
            name = ui.input(t("users.username"))
            display = ui.input(t("users.display_name"))
            password = ui.input(t("login.password"), password=True, password_toggle_button=True)
            chosen = ui.select(roles, label=t("users.roles"), multiple=True, value=[])
            regions = ui.input(t("users.regions"))

            def ok() -> None:
                done = guarded(lambda: auth.create_user(
                    ctx.actor, name.value.strip(), password.value, chosen.value, display_name=display.value,
                    regions=[r.strip() for r in regions.value.split(",") if r.strip()]))
                if done:
                    dialog.close()
                    refresh()

            ui.button(t("app.ok"), on_click=ok)
        dialog.open()

    def reset() -> None:
        user = selected()
        if user:
            new = guarded(lambda: auth.reset_password(ctx.actor, user))
            if new:
                with ui.dialog() as dialog, ui.card():
                    ui.label(t("users.new_password", user=user))
                    ui.label(new).classes("text-h6 font-mono new-password")
                    ui.button(t("app.close"), on_click=dialog.close)
                dialog.open()
                refresh()

    def toggle(active: bool) -> None:
        user = selected()
        if user:
            guarded(lambda: auth.set_active(ctx.actor, user, active))
            refresh()

    def contact_of(user: str | None) -> None:
        if user:
            contact_dialog(ctx, user)

    with ui.row().classes("gap-2"):
        ui.button(t("users.create"), icon="person_add", on_click=create).props("dense")
        ui.button(t("users.reset_password"), on_click=reset).props("dense outline")
        ui.button(t("users.disable"), on_click=lambda: toggle(False)).props("dense outline")
        ui.button(t("users.enable"), on_click=lambda: toggle(True)).props("dense flat")
        ui.button(t("notices.contact.button"), icon="contact_mail", on_click=lambda: contact_of(selected())) \
            .props("dense flat").mark("users-contact")
    refresh()


def profile_view(ctx: ViewContext) -> None:
    ui.label(t("shell.profile")).classes("text-h6")
    with ui.card().props("flat bordered"):
        ui.label(t("profile.change_password")).classes("text-subtitle1")
        old = ui.input(t("profile.old_password"), password=True).mark("old-password")
        new = ui.input(t("profile.new_password"), password=True).mark("new-password")
        again = ui.input(t("profile.repeat_password"), password=True).mark("repeat-password")

        def change() -> None:
            if new.value != again.value:
                ui.notify(t("profile.mismatch"), type="negative")
                return
            try:
                auth.change_password(ctx.actor.username, old.value, new.value)
            except auth.PasswordRejected as exc:
                ui.notify(str(exc), type="negative")
                return
            ui.notify(t("profile.changed"), type="positive")
            for w in (old, new, again):
                w.value = ""
            if ctx.params.get("then"):  # the forced first change: go on to the page asked for
                ui.navigate.to(str(ctx.params["then"]))

        ui.button(t("profile.change_password"), on_click=change).classes("change-password").mark("change-password")
    contact_card(ctx)


def home_view(ctx: ViewContext) -> None:
    ui.label(t("home.welcome", name=ctx.actor.display_name or ctx.actor.username)).classes("text-h5")
    ui.label(t("app.tagline")).classes("text-subtitle1 text-grey-7")
