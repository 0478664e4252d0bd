"""Scheduled reports: a report with fixed inputs, sent daily or weekly as an Excel workbook to users' notice
centres (and by e-mail when a sender is configured: the notice's channels, ``HELPLINE_NOTICE_CHANNELS``
for the kind ``report``).

The scheduler's ``report_schedules`` job (every morning, ``HELPLINE_REPORT_CRON``) calls :func:`send_due`: a
``daily`` schedule covers yesterday, a ``weekly`` one last Monday to Sunday and is sent on Mondays. Each
recipient gets the figures of their own row scope (a city's supervisor their city): one workbook per scope.
A schedule sent today is not sent again (``last_sent_on``), so a second run or a restart sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from helpline.data.base import centre_today
from helpline.data.database import session, write_transaction
from helpline.data.stats import ReportFile, ReportSchedule
from helpline.data.system import User
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from .auth import actor_for
from .notices import notify
from .platform import Platform
from .reports import ReportInputError, _report, report_xlsx, run_report
from .workflow.directory import Directory

log = logging.getLogger(__name__)
EVERY = ("daily", "weekly")
PERMISSION = "supervisor"


def period_of(every: str, today: date) -> tuple[date, date]:
    """The days a run on ``today`` covers: yesterday, or the last full Monday-Sunday week."""
    if every == "daily":
        return today - timedelta(days=1), today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def add_schedule(platform: Platform, actor: Actor, report: str, every: str, recipients: list[str],
                 inputs: dict[str, Any] | None = None) -> int:
    """Schedule ``report`` (permission ``supervisor``); ValueError naming a bad report, rhythm or recipient."""
    if not actor.has(PERMISSION):
        raise PermissionDenied("scheduling a report needs the supervisor permission")
    if every not in EVERY:
        raise ValueError(f"every must be daily or weekly (got {every!r})")
    try:
        definition = _report(platform.metadata, report)
    except KeyError as exc:
        raise ValueError(str(exc)) from None
    period = next(i.name for i in definition.inputs if i.dimension == "day" and i.op == "between")
    fixed = {k: v for k, v in (inputs or {}).items() if k != period}
    unknown = [k for k in fixed if definition.input(k) is None]
    if unknown:
        raise ValueError(f"report '{report}' has no input {', '.join(unknown)}")
    names = [r.strip() for r in recipients if r and r.strip()]
    if not names:
        raise ValueError("a scheduled report needs at least one recipient")
    with session(), write_transaction():
        users = {u.username for u in User.select(User.username).where(User.username.in_(
            [n for n in names if not n.startswith("role:")]))}
        missing = [n for n in names if not n.startswith("role:") and n not in users]
        if missing:
            raise ValueError(f"no user {', '.join(missing)}")
        schedule_id = int(ReportSchedule.insert(report=report, every=every, inputs=fixed, recipients=names,
                                                created_by=actor.username).execute())
        audit(actor, "report.schedule", entity="report", record_id=schedule_id,
              after={"report": report, "every": every, "recipients": names, "inputs": fixed})
    return schedule_id


def list_schedules() -> list[dict[str, Any]]:
    with session():
        found: list[Any] = list(ReportSchedule.select().order_by(ReportSchedule.id).dicts())
    return [dict(r) for r in found]


def remove_schedule(actor: Actor, schedule_id: int) -> None:
    if not actor.has(PERMISSION):
        raise PermissionDenied("removing a scheduled report needs the supervisor permission")
    with session(), write_transaction():
        ReportSchedule.delete().where(ReportSchedule.id == schedule_id).execute()
        audit(actor, "report.unschedule", entity="report", record_id=schedule_id)


def _usernames(entries: list[str]) -> list[str]:
    directory = Directory()
    out: list[str] = []
    with session():
        for entry in entries:
            out.extend(directory.role_users(entry[5:]) if entry.startswith("role:") else [entry])
    return list(dict.fromkeys(out))


def send_due(platform: Platform, today: date | None = None) -> dict[str, int]:
    """Send every schedule due ``today`` (default: the centre's today) not yet sent today."""
    today = today or centre_today()
    sent = files = 0
    for schedule in list_schedules():
        if schedule["last_sent_on"] == today or (schedule["every"] == "weekly" and today.weekday() != 0):
            continue
        try:
            files += send_schedule(platform, schedule, today)
            sent += 1
        except Exception:
            log.exception("scheduled report %s (%s) could not be sent", schedule["id"], schedule["report"])
    return {"schedules": sent, "files": files}


def send_schedule(platform: Platform, schedule: dict[str, Any], today: date) -> int:
    """One schedule's workbooks and notices; returns how many workbooks were made."""
    definition = _report(platform.metadata, schedule["report"])
    period_input = next(i.name for i in definition.inputs if i.dimension == "day" and i.op == "between")
    start, end = period_of(schedule["every"], today)
    values = {**schedule["inputs"], period_input: [start.isoformat(), end.isoformat()]}
    with session():
        users = list(User.select().where(User.username.in_(_usernames(schedule["recipients"])) & User.active))
    by_scope: dict[tuple[str, ...], list[Actor]] = {}
    for user in users:
        actor = actor_for(user, platform.metadata)
        scope = () if not actor.regions or actor.has("reports.all") else tuple(sorted(actor.regions))
        by_scope.setdefault(scope, []).append(actor)
    title = definition.title.get("en")
    made = 0
    with session(), write_transaction():
        for actors in by_scope.values():
            try:
                result = run_report(platform.metadata, actors[0], definition.name, values, page_size=10_000)
            except ReportInputError as exc:
                log.error("scheduled report %s: %s", schedule["id"], exc)
                continue
            name = f"{definition.name}-{start.isoformat()}-{end.isoformat()}.xlsx"
            content = report_xlsx(result, title)
            usernames = [a.username for a in actors]
            file_id = int(ReportFile.insert(schedule_id=schedule["id"], report=definition.name, name=name,
                                            recipients=usernames, content=content).execute())
            notify(usernames, "notice.report.title", "notice.report.body", kind="report",
                   params={"report": title, "start": start.isoformat(), "end": end.isoformat(),
                           "file": file_id, "url": f"/reports/file/{file_id}", "rows": result.total_rows})
            made += 1
        ReportSchedule.update(last_sent_on=today).where(ReportSchedule.id == schedule["id"]).execute()
    return made


def report_file(actor: Actor, file_id: int) -> tuple[str, bytes]:
    """A scheduled workbook for one of its recipients (or a supervisor without a row scope)."""
    with session():
        found = ReportFile.get_or_none(ReportFile.id == file_id)
    if found is None:
        raise KeyError(f"no report file {file_id}")
    if actor.username not in (found.recipients or []) and not (actor.has(PERMISSION) and not actor.regions):
        raise PermissionDenied("this workbook was sent to others")
    return str(found.name), bytes(found.content)
