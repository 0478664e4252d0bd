"""Post-call survey answers (满意度调查) onto the contact record of their call.

The IVR's ``survey`` nodes keep the caller's answers on the call (``hl_call.variables["survey"]``,
question → answer code). :func:`land` writes them to the contact record of that call (found by its serial
number) as the fields ``survey_<question>`` and ``survey_at``; when the agent's desktop has not created the
record yet, the answers wait on the call and :func:`land_pending` writes them when it does.

The fields are the system's, never the agent's: roles mask them (``hidden``), so an agent neither sees nor
changes them (the record service refuses a masked field in an update), and they are not on the agent's
form. Landing them does not bump the record's version: the agent, editing the record in wrap-up while the
caller answers, saves without a conflict, and cannot overwrite an answer (no form sends these fields). Each
landing is audited as ``system``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from helpline.data.base import utcnow
from helpline.data.calls import Call
from helpline.data.database import session, write_transaction
from helpline.security.audit import audit
from helpline.services.platform import Platform

log = logging.getLogger(__name__)

ENTITY = "contact_record"
PREFIX = "survey_"
"""A question ``q`` lands on the contact record's field ``survey_<q>``."""


def survey_of_call(call_id: int) -> dict[str, str | None] | None:
    """The survey answers kept on a call record, or None when no survey ran."""
    with session():
        row = Call.select(Call.variables).where(Call.id == call_id).first()
    found = (row.variables or {}).get("survey") if row is not None else None
    return dict(found) if isinstance(found, Mapping) else None


def land(platform: Platform, serial_no: str, answers: Mapping[str, str | None]) -> int | None:
    """Write ``answers`` to the contact record ``serial_no``; its id, or None when there is no such record
    yet. Questions without a ``survey_<question>`` field on the entity are left on the call only."""
    entity = platform.metadata.entities.get(ENTITY)
    if entity is None:
        return None
    model = platform.models[ENTITY]
    names = {f.name for f in entity.active_fields}
    values: dict[str, Any] = {f"{PREFIX}{q}": a for q, a in answers.items() if f"{PREFIX}{q}" in names}
    if f"{PREFIX}at" in names:
        values[f"{PREFIX}at"] = datetime.now().replace(microsecond=0)
    with session(), write_transaction():
        row = model.select().where(getattr(model, "serial_no") == serial_no).dicts().first()  # noqa: B009
        if row is None:
            return None
        before = {k: row.get(k) for k in values}
        if values:
            model.update(**values, updated_at=utcnow()).where(model.id == row["id"]).execute()
        audit("system", "survey", entity=ENTITY, record_id=row["id"], before=_json(before), after=_json(values))
        return int(row["id"])


def land_pending(platform: Platform, call_id: int, serial_no: str) -> int | None:
    """Land the answers of call ``call_id`` if its survey ran before the contact record existed."""
    answers = survey_of_call(call_id)
    if not answers:
        return None
    try:
        return land(platform, serial_no, answers)
    except Exception:
        log.exception("call %s: the survey answers could not be written to contact record %s", call_id, serial_no)
        return None


def _json(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
