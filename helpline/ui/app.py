"""The NiceGUI web runtime: pages registered on one app, the platform shared by all of them."""

from __future__ import annotations

import secrets
from typing import Any

from nicegui import app, run, ui

from helpline.config import Settings
from helpline.data.database import session
from helpline.services.platform import Platform

STATE: dict[str, Any] = {}


def platform() -> Platform:
    p = STATE.get("platform")
    if p is None:
        raise RuntimeError("the platform is not started")
    return p  # type: ignore[no-any-return]


def _counts() -> dict[str, int]:
    p = platform()
    with session():
        return {name: p.models[name].select().count() for name in p.metadata.entities}


@ui.page("/")
async def home() -> None:
    p = platform()
    lang = "zh_CN"
    ui.label("Helpline").classes("text-h4")
    ui.label(", ".join(f"{n} {k}" for k, n in p.metadata.counts().items())).classes("text-caption")
    counts = await run.io_bound(_counts) or {}
    columns = [{"name": "entity", "label": "Entity", "field": "entity"},
               {"name": "records", "label": "Records", "field": "records"}]
    rows = [{"entity": p.metadata.entities[k].label.get(lang), "records": v} for k, v in counts.items()]
    ui.table(columns=columns, rows=rows, row_key="entity")


def serve(settings: Settings, plat: Platform) -> None:
    STATE["platform"] = plat
    app.on_shutdown(lambda: None)
    ui.run(host=settings.host, port=settings.port, title="Helpline", reload=False, show=False,
           storage_secret=settings.storage_secret or secrets.token_hex(16), uvicorn_logging_level="warning")
