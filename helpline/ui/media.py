"""Files the browser fetches outside pages: call recordings (``/recordings/<call id>``), the workbooks of
scheduled reports (``/reports/file/<id>``, for their recipients), the attachments of knowledge articles
(``/knowledge/file/<id>``, for the readers of the article: its checksum verified, docs/knowledge.md) and the
voice messages of call-back tasks (``/callbacks/<id>/message``).

The session middleware already requires a signed-in user; the recordings service checks
``supervisor.recordings`` and the caller's row scope, and audits the play or the refusal. A refusal is a plain
403, a missing file a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi.responses import FileResponse, PlainTextResponse
from nicegui import app, run
from starlette.responses import Response

from helpline.security.actor import Actor, PermissionDenied
from helpline.services.recordings import RecordingMissing, recording_file

from .context import platform
from .session import current_actor


async def _fetch(call: Callable[[Actor], Any], missing: tuple[type[Exception], ...]) -> Any:
    """``call(actor)`` off the event loop for the signed-in user: its result, or the response that refuses it
    (401 not signed in, 403 not allowed, 404 for ``missing``, 503 while the server stops)."""
    actor = current_actor()
    if actor is None:
        return PlainTextResponse("sign in first", status_code=401)
    try:
        found = await run.io_bound(call, actor)
    except PermissionDenied as exc:
        return PlainTextResponse(str(exc), status_code=403)
    except missing as exc:
        return PlainTextResponse(str(exc), status_code=404)
    if found is None:  # the server is stopping
        return PlainTextResponse("unavailable", status_code=503)
    return found


def register() -> None:
    @app.get("/recordings/{call_id}")
    async def recording(call_id: int) -> Response:
        found = await _fetch(lambda actor: recording_file(actor, call_id, platform=platform()), (RecordingMissing,))
        if isinstance(found, Response):
            return found
        return FileResponse(found, media_type="audio/wav", filename=found.name)

    @app.get("/knowledge/file/{attachment_id}")
    async def knowledge_file(attachment_id: int) -> Response:
        from helpline.services.knowledge.attachments import AttachmentError
        from helpline.services.records import RecordNotFound

        found = await _fetch(lambda actor: platform().knowledge.attachment_file(actor, attachment_id),
                             (RecordNotFound, AttachmentError))
        if isinstance(found, Response):
            return found
        name, kind, content = found
        disposition = "inline" if kind.startswith("image/") or kind == "application/pdf" else "attachment"
        return Response(content, media_type=kind, headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"})

    @app.get("/callbacks/{task_id}/message")
    async def callback_message(task_id: int) -> Response:
        """A call-back task's voice message (``agent.callback`` or ``supervisor.callbacks``; audited)."""
        from helpline.services.callbacks import voice_message

        found = await _fetch(lambda actor: voice_message(actor, task_id), (RecordingMissing,))
        if isinstance(found, Response):
            return found
        return FileResponse(found, media_type="audio/wav", filename=found.name)

    @app.get("/reports/file/{file_id}")
    async def report_workbook(file_id: int) -> Response:
        from helpline.services.report_schedules import report_file

        found = await _fetch(lambda actor: report_file(actor, file_id), (KeyError,))
        if isinstance(found, Response):
            return found
        name, content = found
        return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
