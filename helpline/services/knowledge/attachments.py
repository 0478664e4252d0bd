"""Attachments of knowledge articles: files on disk under their SHA-256, their type read from their content.

:func:`check_file` refuses, with the limit named, a file over :data:`MAX_BYTES`, an article that already has
:data:`MAX_PER_ARTICLE` files, an empty file, a name over 200 characters, and any content whose first bytes are
not one of :data:`TYPES` (the name's extension is not trusted; SVG is refused: it can carry script). A file is
written once per content (``<dir>/<sha256[:2]>/<sha256>``, through a temporary file and a rename); when read
back it is hashed again and a file that no longer matches its checksum is refused (:class:`AttachmentError`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_ARTICLE = 20
MAX_NAME = 200
TYPES: list[tuple[bytes, int, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "PNG image"),
    (b"\xff\xd8\xff", 0, "image/jpeg", "JPEG image"),
    (b"GIF87a", 0, "image/gif", "GIF image"),
    (b"GIF89a", 0, "image/gif", "GIF image"),
    (b"WEBP", 8, "image/webp", "WebP image"),
    (b"%PDF-", 0, "application/pdf", "PDF document"),
    (b"PK\x03\x04", 0, "application/zip", "Office document (xlsx, docx, pptx) or zip"),
]
"""(magic bytes, offset, content type, what it is) of the files an article may carry; plain UTF-8 text too."""
OFFICE = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


class AttachmentError(ValueError):
    """The file is refused; the message (English) says why and names the limit. ``key`` is the locale key of the
    same text (``knowledge.error.*``, with ``params``) for a page in the user's language; empty for the errors of
    a stored file, which only the file route meets."""

    def __init__(self, message: str, key: str = "", **params: object) -> None:
        super().__init__(message)
        self.key, self.params = key, params


def allowed_types() -> str:
    return ", ".join(dict.fromkeys(t[3] for t in TYPES)) + ", plain text (UTF-8)"


def content_type(name: str, content: bytes) -> str:
    """The content's type from its first bytes; AttachmentError when it is none of the allowed ones."""
    for magic, offset, kind, _what in TYPES:
        if content[offset:offset + len(magic)] == magic:
            if kind == "image/webp" and content[:4] != b"RIFF":
                continue
            if kind == "application/zip":
                return OFFICE.get(Path(name).suffix.lower(), kind)
            return kind
    head = content[:4096]
    if b"<svg" in head.lower() or b"<script" in head.lower() or b"<html" in head.lower():
        raise AttachmentError("SVG and HTML files are not accepted (they can carry script); allowed: "
                              + allowed_types(), "knowledge.error.script")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 4096th byte
            raise AttachmentError(f"'{name}' is not a file type an article may carry; allowed: "
                                  f"{allowed_types()}", "knowledge.error.type", name=name) from exc
    if b"\x00" in head:
        raise AttachmentError(f"'{name}' is not a file type an article may carry; allowed: {allowed_types()}",
                              "knowledge.error.type", name=name)
    return "text/plain"


def check_file(name: str, content: bytes, existing: int) -> str:
    """The content type of an acceptable file (AttachmentError otherwise)."""
    if not name.strip() or len(name) > MAX_NAME:
        raise AttachmentError(f"a file name must have 1 to {MAX_NAME} characters", "knowledge.error.name",
                              max=MAX_NAME)
    if existing >= MAX_PER_ARTICLE:
        raise AttachmentError(f"the article already has {existing} attachments; an article takes at most "
                              f"{MAX_PER_ARTICLE}", "knowledge.error.count", count=existing, max=MAX_PER_ARTICLE)
    if not content:
        raise AttachmentError(f"'{name}' is empty", "knowledge.error.empty", name=name)
    if len(content) > MAX_BYTES:
        raise AttachmentError(f"'{name}' is {len(content):,} bytes; an attachment takes at most {MAX_BYTES:,} "
                              f"bytes ({MAX_BYTES // (1024 * 1024)} MB)", "knowledge.error.size", name=name,
                              size=f"{len(content):,}", max=f"{MAX_BYTES:,}", mb=MAX_BYTES // (1024 * 1024))
    return content_type(name, content)


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def path_of(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def store(root: Path, content: bytes) -> str:
    """Write the content once (same content, same file); returns its SHA-256."""
    sha = digest(content)
    target = path_of(root, sha)
    if target.exists() and digest(target.read_bytes()) == sha:
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha


def read_checked(root: Path, sha256: str) -> bytes:
    """The stored content, hashed again: a missing or altered file is refused."""
    path = path_of(root, sha256)
    try:
        content = path.read_bytes()
    except FileNotFoundError as exc:
        raise AttachmentError(f"the file {sha256[:12]}… is missing from the attachments folder") from exc
    if digest(content) != sha256:
        raise AttachmentError(f"the file {sha256[:12]}… does not match its checksum (altered on disk)")
    return content
