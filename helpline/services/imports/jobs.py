"""The ``job`` objects of the metadata as jobs of the process scheduler: an import definition run on its own
source, or an extension's job, retried with back-off, and a notice to the people named when it still fails.

A failed attempt waits ``retry_delay``, then twice that, and so on; after the last retry the job's run is
``failed`` on the jobs page (its error is the last attempt's) and each user of ``notify`` (``role:<role>``,
``user:<name>``) gets a notice (kind ``job_failed``) whose error reads in each reader's language (both languages
kept, :func:`failure_words`): a known failure (a refused source, BOSS unreachable, slow or malformed, a database
error, a failed import run's stored error) worded, then its technical detail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from helpline.data.database import session
from helpline.data.system import UserRole
from helpline.metadata.kinds import Job
from helpline.metadata.kinds.sla import duration_seconds
from helpline.security.actor import Actor

from ..scheduler import JobResult, JobSpec
from .words import both, failure_of, failure_text, say, word

if TYPE_CHECKING:
    from ..platform import Platform

log = logging.getLogger("helpline.jobs")
Sleep = Callable[[float], None]


class JobFailed(RuntimeError):
    """An import job's run did not finish; the message (English) names the import, the run and its error,
    :func:`failure_words` words it in a reader's language."""

    def __init__(self, definition: str, run: int | None, status: str, error: str) -> None:
        self.definition, self.run, self.status, self.error = definition, run, status, error
        super().__init__(self.words("en"))

    def words(self, language: str) -> str:
        status = both(self.status, say("zh_CN", f"imports.status.{self.status}"))
        return say(language, "imports.failed.job", definition=self.definition, run=self.run, status=status,
                   error=failure_text(self.error, language))


def failure_words(exc: BaseException) -> dict[str, str]:
    """A job's last error as a notice parameter worded in English and in Chinese (see the module docstring)."""
    if isinstance(exc, JobFailed):
        return both(exc.words("en")[:500], exc.words("zh_CN")[:500])
    found = failure_of(exc, "imports.failed.job_unexpected")
    return both(word(found, "en")[:500], word(found, "zh_CN")[:500])


def recipients(notify: list[str]) -> list[str]:
    """The usernames of ``role:<role>`` and ``user:<name>`` entries."""
    names: list[str] = []
    with session():
        for who in notify:
            kind, _, target = who.partition(":")
            if kind == "user":
                names.append(target)
            elif kind == "role":
                names.extend(r.username for r in UserRole.select(UserRole.username).where(UserRole.role == target))
    return list(dict.fromkeys(names))


def import_target(platform: Platform, definition: str) -> Callable[[], JobResult]:
    """Run import ``definition`` on its own source (sql, http or an extension's) as the system user."""
    from .engine import ImportService

    def run() -> dict[str, Any]:
        report = ImportService(platform).run(Actor.system(), definition, None)
        if report.status != "done":
            raise JobFailed(definition, report.run_id, report.status, report.error)
        return {"run": report.run_id, **report.counts()}

    return run


def with_retries(job: Job, func: Callable[[], JobResult], sleep: Sleep = time.sleep) -> Callable[[], JobResult]:
    """``func`` tried ``1 + job.retries`` times with back-off; the last failure notifies ``job.notify`` and is
    raised."""
    def run() -> JobResult:
        delay = duration_seconds(job.retry_delay)
        for attempt in range(job.retries + 1):
            try:
                return func()
            except Exception as exc:
                log.warning("job %s: attempt %d of %d failed: %s", job.name, attempt + 1, job.retries + 1, exc)
                if attempt < job.retries:
                    sleep(delay * 2 ** attempt)
                    continue
                from helpline.services.notices import notify

                try:
                    notify(recipients(job.notify), "notices.job_failed.title", "notices.job_failed.body",
                           kind="job_failed", params={"job": job.name, "attempts": job.retries + 1,
                                                      "error": failure_words(exc)})
                except Exception:
                    log.exception("job %s: the failure notice could not be written", job.name)
                raise
        return None

    return run


def metadata_jobs(platform: Platform, extension_jobs: dict[str, Callable[[], Any]],
                  sleep: Sleep = time.sleep) -> tuple[list[JobSpec], list[str]]:
    """The scheduler's specs of the enabled ``job`` objects, and a problem for each that cannot run (an
    extension job that no extension declares)."""
    specs: list[JobSpec] = []
    problems: list[str] = []
    for job in platform.metadata.objects.get("job", {}).values():
        if not isinstance(job, Job) or not job.enabled:
            continue
        if job.run.import_:
            target = import_target(platform, job.run.import_)
            what = f"import {job.run.import_}"
        else:
            found = extension_jobs.get(job.run.extension or "")
            if found is None:
                problems.append(f"job '{job.name}': no extension job '{job.run.extension}' (SCHEDULED_JOBS of "
                                f"extensions/{(job.run.extension or '').partition('.')[0]}/)")
                continue
            target, what = found, f"extension job {job.run.extension}"
        label = job.label.en if job.label else what
        specs.append(JobSpec(f"job.{job.name}", job.cron, with_retries(job, target, sleep),
                             f"{label} ({what}; {job.retries} retries)", timezone=job.timezone))
    return specs, problems
