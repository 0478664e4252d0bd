"""The knowledge base (docs/knowledge.md): :mod:`.service` (finding, reading, votes, versions, attachments),
:mod:`.markdown` (Markdown rendered sanitised, charts), :mod:`.attachments` (files on disk with a checksum),
:mod:`.stats` (usage statistics), :mod:`.learned` (keywords learned from searches, for review), :mod:`.desk` (the
search pre-filled from a call)."""

from .service import ArticleUnavailable, KnowledgeService

__all__ = ["ArticleUnavailable", "KnowledgeService"]
