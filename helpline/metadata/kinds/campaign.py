"""The ``campaign`` kind: an agent-attended outbound campaign — who is called (a list from an import definition or
a query screen), how (strategy, call windows per region and day, attempts and retry intervals per outcome), and
what the agent says and asks (a script and a questionnaire with answer types, branching and required answers).

```yaml
kind: campaign
name: satisfaction_survey
label: {en: Satisfaction survey, zh_CN: 满意度回访}
list: {query: yesterdays_callers, inputs: {started: [yesterday, yesterday]}, phone: caller_number}
strategy: progressive
queue: general
windows:
  - {days: [mon, tue, wed, thu, fri], from: '09:00', to: '20:00'}
  - {regions: [north], days: [sat], from: '10:00', to: '16:00'}
max_attempts: 3
retry: {busy: 10m, no_answer: 1h, machine: 4h, failed: 30m}
script: {en: 'Good morning {name}, this is the service centre ...', zh_CN: '您好 {name}，这里是客服中心……'}
questions:
  - {name: satisfied, type: yes_no, required: true, label: {en: 'Were you satisfied?', zh_CN: 您满意吗？}}
  - {name: reason, type: text, when: 'answer.satisfied == false', label: {en: 'Why not?', zh_CN: 不满意的原因}}
  - {name: score, type: rating, required: true, label: {en: Score 1-5, zh_CN: 评分}}
```

The runtime is :mod:`helpline.services.campaigns` (lists, windows, retries, do-not-call, attempts) and
:mod:`telephony.outbound.dialler` (the hopper and dialling); docs/outbound.md describes both.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from .common import Label, MetaObject, Name, Strict
from .sla import Duration

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OUTCOMES = ("busy", "no_answer", "machine", "failed")
"""Outcomes of an attempt that are retried (``answered``, ``dnc``, ``invalid`` never are)."""
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
RELATIVE_DATES = ("today", "yesterday")
"""Words a list's query inputs may hold instead of a date (also ``-<n>d``: n days ago)."""


class CampaignList(Strict):
    """Who is called: the rows of one import definition's source or of one query screen's result."""

    import_: Name | None = Field(default=None, alias="import")
    """An import definition (metadata/imports/): its source is read and its columns mapped; nothing is stored
    in its entity."""
    query: Name | None = None
    """A query screen (metadata/queries/), run with ``inputs`` as the campaign's creator."""
    inputs: dict[Name, Any] = {}
    """(query) The inputs' values; a date may be ``today``, ``yesterday`` or ``-<n>d``."""
    phone: Name
    """The field of the rows that holds the number to dial."""
    name: Name | None = None
    """The field shown as the person's name (script placeholder ``{name}``)."""
    region: Name | None = None
    """The field holding the region whose call window applies."""

    @model_validator(mode="after")
    def _one(self) -> CampaignList:
        if bool(self.import_) == bool(self.query):
            raise ValueError("say where the list comes from: exactly one of 'import' or 'query'")
        return self


class Window(Strict):
    """When numbers may be dialled: days of the week and a time span, for some regions or for all."""

    days: list[Day] = Field(default_factory=lambda: list(DAYS[:5]), min_length=1)
    from_: str = Field(alias="from")
    to: str
    regions: list[str] = []
    """Regions this window is for; empty: every region without a window of its own."""

    @model_validator(mode="after")
    def _times(self) -> Window:
        for t in (self.from_, self.to):
            if not _TIME.match(t):
                raise ValueError(f"'{t}' is not a time of day like '09:00'")
        if self.to <= self.from_:
            raise ValueError(f"the window ends ({self.to}) before it starts ({self.from_})")
        return self


class Retry(Strict):
    """How long to wait before the next attempt, per outcome of the last one."""

    busy: Duration = "10m"
    no_answer: Duration = "1h"
    machine: Duration = "4h"
    """An answering machine."""
    failed: Duration = "30m"
    """The switch could not place the call (congestion, an unreachable number)."""


class Choice(Strict):
    code: Name
    label: Label | None = None


class Question(Strict):
    """One question of the questionnaire."""

    name: Name
    label: Label
    type: Literal["text", "number", "yes_no", "choice", "multi_choice", "rating"] = "text"
    choices: list[Choice] = []
    """(choice, multi_choice) The answers offered."""
    required: bool = False
    """The agent cannot file the call's result without an answer (when the question is shown)."""
    when: str | None = None
    """Branching: a rule-language condition (place of use ``campaign``) over ``answer.<question>`` and
    ``contact.<field>``; the question is asked only while it holds."""
    min: float | None = None
    max: float | None = None
    """(number) The range of a valid answer; a rating is always 1-5."""

    @model_validator(mode="after")
    def _choices(self) -> Question:
        if self.type in ("choice", "multi_choice") and not self.choices:
            raise ValueError(f"a '{self.type}' question needs 'choices'")
        if self.type not in ("choice", "multi_choice") and self.choices:
            raise ValueError(f"a '{self.type}' question has no 'choices'")
        return self


class Callbacks(Strict):
    """Call-backs the agent may book for a reached person who asks to be called later."""

    personal: bool = True
    """The agent may book it for himself."""
    shared: bool = True
    """The agent may leave it to whichever agent of the campaign is free."""
    max_days: int = Field(default=14, ge=1, le=365)
    """How far ahead a call-back may be booked."""


class Campaign(MetaObject):
    kind: Literal["campaign"]
    list_: CampaignList = Field(alias="list")
    strategy: Literal["preview", "progressive", "predictive"] = "progressive"
    """``preview``: the agent sees the number and dials; ``progressive``: one call per free agent;
    ``predictive``: more calls than free agents, paced (telephony/outbound/pacing.py)."""
    queue: Name
    """The routing queue whose signed-in agents work the campaign (metadata/routings/)."""
    timezone: str = "Asia/Shanghai"
    windows: list[Window] = Field(min_length=1)
    max_attempts: int = Field(default=3, ge=1, le=20)
    retry: Retry = Retry()
    callbacks: Callbacks = Callbacks()
    do_not_call: bool = True
    """Check every number against the do-not-call list when the list is loaded and again before dialling."""
    hopper: int = Field(default=50, ge=1, le=5000)
    """Numbers kept ready to dial (refilled in the background)."""
    max_lines: int = Field(default=20, ge=1, le=1000)
    """Predictive: the most customer-first lines in flight at once (ringing, or answered and waiting for an
    agent); the pacer's count is cut to it."""
    script: Label | None = None
    """What the agent says; ``{name}`` and ``{phone}`` are the person's."""
    questions: list[Question] = []

    @model_validator(mode="after")
    def _zone(self) -> Campaign:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{self.timezone}' is not a time zone (e.g. Asia/Shanghai, UTC)") from exc
        return self

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions if q.name == name), None)
