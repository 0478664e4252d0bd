"""Files the browser fetches outside pages: call recordings (``/recordings/<call id>``) and the workbooks of
scheduled reports (``/reports/file/<id>``, for their recipients), and the attachments of knowledge articles
(``/knowledge/file/<id>``, for the readers of the article: its checksum verified, docs/knowledge.md).

The session middleware already requires a signed-in user; the recordings service checks
``supervisor.recordings`` and the caller's row scope, and audits the play or the refusal. A refusal is a plain
403, a missing file a 404.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse, PlainTextResponse
from nicegui import app, run
from starlette.responses import Response

from helpline.security.actor import PermissionDenied
from helpline.services.recordings import RecordingMissing, recording_file

from .context import platform
from .session import current_actor


def register() -> None:
    @app.get("/recordings/{call_id}")
    async def recording(call_id: int) -> Response:
        actor = current_actor()
        if actor is None:
            return PlainTextResponse("sign in first", status_code=401)
        try:
            path: Path | None = await run.io_bound(recording_file, actor, call_id, platform=platform())
        except PermissionDenied as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except RecordingMissing as exc:
            return PlainTextResponse(str(exc), status_code=404)
        if path is None:  # the server is stopping
            return PlainTextResponse("unavailable", status_code=503)
        return FileResponse(path, media_type="audio/wav", filename=path.name)

    @app.get("/knowledge/file/{attachment_id}")
    async def knowledge_file(attachment_id: int) -> Response:
        from helpline.services.knowledge.attachments import AttachmentError
        from helpline.services.records import RecordNotFound

        actor = current_actor()
        if actor is None:
            return PlainTextResponse("sign in first", status_code=401)
        try:
            found = await run.io_bound(platform().knowledge.attachment_file, actor, attachment_id)
        except PermissionDenied as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except (RecordNotFound, AttachmentError) as exc:
            return PlainTextResponse(str(exc), status_code=404)
        if found is None:  # the server is stopping
            return PlainTextResponse("unavailable", status_code=503)
        name, kind, content = found
        disposition = "inline" if kind.startswith("image/") or kind == "application/pdf" else "attachment"
        return Response(content, media_type=kind, headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"})

    @app.get("/callbacks/{task_id}/message")
    async def callback_message(task_id: int) -> Response:
        """A call-back task's voice message (``agent.callback`` or ``supervisor.callbacks``; audited)."""
        from helpline.services.callbacks import voice_message

        actor = current_actor()
        if actor is None:
            return PlainTextResponse("sign in first", status_code=401)
        try:
            path: Path | None = await run.io_bound(voice_message, actor, task_id)
        except PermissionDenied as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except RecordingMissing as exc:
            return PlainTextResponse(str(exc), status_code=404)
        if path is None:  # the server is stopping
            return PlainTextResponse("unavailable", status_code=503)
        return FileResponse(path, media_type="audio/wav", filename=path.name)

    @app.get("/reports/file/{file_id}")
    async def report_workbook(file_id: int) -> Response:
        from helpline.services.report_schedules import report_file

        actor = current_actor()
        if actor is None:
            return PlainTextResponse("sign in first", status_code=401)
        try:
            found = await run.io_bound(report_file, actor, file_id)
        except PermissionDenied as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except KeyError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        if found is None:  # the server is stopping
            return PlainTextResponse("unavailable", status_code=503)
        name, content = found
        return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
