"""The ``job`` kind: scheduled work in metadata — when (a crontab expression in a time zone), what (an import
definition or an extension's job), how often to retry and who is told when it fails.

```yaml
kind: job
name: nightly_customers
cron: '0 2 * * *'
timezone: Asia/Shanghai
run: {import: customers_boss}
retries: 2
retry_delay: 5m
notify: ['role:administrator']
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .common import MetaObject, Name, Strict
from .sla import Duration


class JobTarget(Strict):
    """What a job runs: exactly one of an import definition or an extension job (``<extension>.<job>``)."""

    import_: Name | None = Field(default=None, alias="import")
    extension: str | None = None
    """``<extension>.<job>``: a job of ``SCHEDULED_JOBS`` of ``extensions/<extension>/``."""

    @model_validator(mode="after")
    def _one(self) -> JobTarget:
        if bool(self.import_) == bool(self.extension):
            raise ValueError("say what the job runs: exactly one of 'import' or 'extension'")
        return self


class Job(MetaObject):
    kind: Literal["job"]
    cron: str
    """Five crontab fields (minute hour day-of-month month day-of-week) or ``@every <n>s``."""
    timezone: str = "Asia/Shanghai"
    run: JobTarget
    retries: int = Field(default=0, ge=0, le=10)
    retry_delay: Duration = "1m"
    """Wait before each retry (doubled each time: back-off)."""
    notify: list[str] = []
    """Who is told when the job fails after its retries: ``role:<role>`` or ``user:<username>``."""
    enabled: bool = True

    @model_validator(mode="after")
    def _cron(self) -> Job:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        expr = self.cron.strip()
        if not expr.startswith("@every ") and len(expr.split()) != 5:
            raise ValueError(f"cron '{self.cron}' needs 5 fields (minute hour day-of-month month day-of-week)")
        if not expr.startswith("@every "):
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(expr)
            except ValueError as exc:
                raise ValueError(f"cron '{self.cron}' is not valid: {exc}") from exc
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{self.timezone}' is not a time zone (e.g. Asia/Shanghai, UTC)") from exc
        for who in self.notify:
            kind, _, target = who.partition(":")
            if kind not in ("role", "user") or not target:
                raise ValueError(f"'{who}': notify 'role:<role>' or 'user:<username>'")
        return self

