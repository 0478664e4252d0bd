"""Reply lines from Asterisk: parsing ``200 result=... (data) key=value`` and the typed command results.

pyst2's reply regex needs a non-empty value, so ``200 result= (timeout)`` (GET DATA with no digits)
loses its flag, and it treats a variable whose value is ``hangup`` as a hang-up. ``parse_reply`` keeps
every flag; ``AgiReply.as_pyst2()`` gives pyst2's ``{'result': (value, data), ...}`` shape so the
inherited pyst2 helpers keep working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from telephony.agi.errors import AgiProtocolError

__all__ = [
    "AgiReply",
    "DigitsResult",
    "PlaybackResult",
    "RecordResult",
    "SoundFileMissing",
    "parse_reply",
]

_STATUS = re.compile(r"(?P<code>\d{3})(?P<sep>[ -]|$)(?P<rest>.*)")
_RESULT = re.compile(r"result=(?P<value>\S*)\s*(?P<tail>.*)")
_DATA = re.compile(r"\((?P<data>.*)\)(?P<fields>(?:\s+\w+=\S*)*)\s*")
_FIELD = re.compile(r"(\w+)=(\S*)")


@dataclass(frozen=True)
class AgiReply:
    """One parsed reply line: ``code``, ``result`` value, the ``(data)`` flag and extra ``key=value``s."""

    code: int
    text: str
    result: str = ""
    data: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def endpos(self) -> int:
        """The ``endpos=`` field as an int (0 when absent or not a number)."""
        value = self.fields.get("endpos", "")
        return int(value) if value.lstrip("-").isdigit() else 0

    def as_pyst2(self) -> dict[str, tuple[str, str]]:
        """pyst2's result shape: ``{'result': ('0', 'timeout'), 'endpos': ('8000', '')}``."""
        out = {"result": (self.result, self.data)}
        out.update({key: (value, "") for key, value in self.fields.items()})
        return out


def parse_reply(line: str) -> AgiReply:
    """Parse a status line such as ``200 result=1 (a b "q")``; garbage raises ``AgiProtocolError``."""
    status = _STATUS.fullmatch(line)
    if not status:
        raise AgiProtocolError(f"unexpected line from Asterisk: {line[:120]!r}")
    code = int(status.group("code"))
    rest = status.group("rest")
    if code != 200:
        return AgiReply(code=code, text=rest)
    result = _RESULT.match(rest.strip())
    if not result:
        raise AgiProtocolError(f"200 reply without result=: {line[:120]!r}")
    tail = result.group("tail")
    data = ""
    fields_text = tail
    if tail.startswith("("):
        with_data = _DATA.fullmatch(tail)
        if not with_data:
            raise AgiProtocolError(f"unbalanced '(' in reply: {line[:120]!r}")
        data, fields_text = with_data.group("data"), with_data.group("fields")
    fields = dict(_FIELD.findall(fields_text))
    return AgiReply(code=code, text=rest, result=result.group("value"), data=data, fields=fields)


def digit_of(result: str) -> str:
    """Turn an ASCII code result (``53``) into the digit (``5``); ``0`` or empty gives ''."""
    if result in ("", "0"):
        return ""
    try:
        return chr(int(result))
    except (ValueError, OverflowError) as exc:
        raise AgiProtocolError(f"result is not a digit code: {result!r}") from exc


@dataclass(frozen=True)
class PlaybackResult:
    """STREAM FILE finished: ``digit`` is the key that interrupted it ('' if it played to the end)."""

    digit: str
    endpos: int

    @property
    def interrupted(self) -> bool:
        """True when a key press stopped the playback."""
        return self.digit != ""


@dataclass(frozen=True)
class SoundFileMissing:
    """The sound file does not exist (``200 result=-1 endpos=0`` with no HANGUP after it)."""

    filename: str


@dataclass(frozen=True)
class DigitsResult:
    """GET DATA finished: the digits typed, and whether input ended by timeout (``(timeout)`` flag)."""

    digits: str
    timed_out: bool


@dataclass(frozen=True)
class RecordResult:
    """RECORD FILE finished: by ``digit`` (``(dtmf)``), by timeout/silence, or by the caller hanging up."""

    digit: str
    endpos: int
    timed_out: bool = False
    hung_up: bool = False
