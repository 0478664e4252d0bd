"""The live preview of a screen in the screen designer, rendered by the runtime's own views.

The preview builds the same :class:`~helpline.ui.views.form_view.FormView` or
:class:`~helpline.ui.views.list_view.ListView` agents see, from the author's *draft* metadata
(:meth:`DraftService.preview`), so a field just added in an entity draft can be placed and previewed
before anything is published. The views get a :class:`PreviewPlatform` in their context: it carries the
draft metadata and, instead of the record service, :class:`SampleRecords`, which serves sample rows and
refuses every write. The preview therefore never reads or writes the database (no rows, no audit entries).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from nicegui import ui

from helpline.data.query import ListQuery, Page
from helpline.metadata.kinds import Entity, EntityField, RelatedList, Screen
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.designer.screen_ops import sample_page, sample_record, sample_rows
from helpline.services.platform import Platform

from ...i18n import t
from ..base import ViewContext
from ..form_view import FormView
from ..list_view import ListView

SAMPLE_ROWS = 5


class SampleRecords:
    """Stands in for the record service in a preview: sample rows, nothing read, every write refused."""

    def __init__(self, metadata: MetadataSet) -> None:
        self.metadata = metadata

    def _rows(self, entity_name: str) -> list[dict[str, Any]]:
        entity = self.metadata.entities.get(entity_name)
        return [] if entity is None else sample_rows(entity, self.metadata, SAMPLE_ROWS)

    def list_page(self, actor: Actor, query: ListQuery, *, purpose: str = "list") -> Page:
        return sample_page(self._rows(query.entity), query.sort, query.page, query.page_size)

    def rows_for_export(self, actor: Actor, query: ListQuery, limit: int = 100_000) -> Iterator[dict[str, Any]]:
        yield from sample_page(self._rows(query.entity), query.sort, 1, limit).rows

    def related(self, actor: Actor, entity_name: str, record: Any, spec: RelatedList) -> Page:
        return Page(rows=[], total=0, capped=False, page=1, page_size=spec.limit)

    def titles(self, actor: Actor, entity_name: str, key: str, keys: list[Any]) -> dict[Any, str]:
        return {}

    def hidden(self, actor: Actor, entity_name: str) -> frozenset[str]:
        """The fields masked for the author (as :meth:`RecordService.hidden`: not offered as filters)."""
        return frozenset(actor.masks(entity_name))

    def link_options(self, actor: Actor, field: EntityField, *, search: str | None, limit: int = 500
                     ) -> dict[Any, str]:
        return {}

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("a preview does not read or write records")

    get = create = update = delete = _refuse


class PreviewPlatform:
    """What the runtime views use of the platform, on the draft metadata and sample records."""

    desk = None
    """No telephony in a preview: phone fields show no click-to-dial button."""

    def __init__(self, metadata: MetadataSet) -> None:
        self.metadata = metadata
        self.records = SampleRecords(metadata)


class PreviewForm(FormView):
    """The runtime form on a new record with sample values; saving only says it is a preview."""

    async def save(self) -> None:
        ui.notify(t("designer.screen.preview_no_save"), type="info")

    async def confirm_delete(self) -> None:
        ui.notify(t("designer.screen.preview_no_save"), type="info")


def preview_context(ctx: ViewContext, metadata: MetadataSet) -> ViewContext:
    """The designer's context with the draft metadata and sample records in place of the platform."""
    return ViewContext(platform=cast(Platform, PreviewPlatform(metadata)), actor=ctx.actor, language=ctx.language)


def render_preview(ctx: ViewContext, metadata: MetadataSet, screen_name: str) -> None:
    """The screen ``screen_name`` of the draft metadata as agents would see it, into the current container
    (or why it cannot be shown: the draft is broken)."""
    screen: Screen | None = metadata.screens.get(screen_name)
    entity: Entity | None = metadata.entities.get(screen.entity) if screen is not None else None
    if screen is None or entity is None:
        ui.label(t("designer.screen.preview_broken")).classes("text-grey-7").mark("screen-preview-broken")
        return
    pctx = preview_context(ctx, metadata)
    if screen.view == "list":
        ListView(pctx, screen)
    else:
        PreviewForm(pctx, screen, record_id=None, defaults=sample_record(entity, metadata))
