"""Steps the import page's user-fixture tests share: a workbook made in memory, and a file dropped on /page/imports
for a definition."""

from __future__ import annotations

import io

from nicegui import ui
from nicegui.testing import User
from openpyxl import Workbook


def book(rows: list[list[object]]) -> bytes:
    """An xlsx holding ``rows`` (the first is the header) on its first sheet."""
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def drop_file(user: User, content: bytes, definition: str = "customers_xlsx", name: str = "boss.xlsx",
                    choose: bool = True) -> None:
    """Wait for the page, choose ``definition`` (unless already chosen) and drop ``content`` as ``name``."""
    await user.should_see(marker="imports-upload", retries=150)
    if choose:
        user.find(marker="imports-definition").elements.pop().value = definition
    upload = user.find(marker="imports-upload").elements.pop()
    assert isinstance(upload, ui.upload)
    await upload.handle_uploads([ui.upload.SmallFileUpload(name, "application/octet-stream", content)])
