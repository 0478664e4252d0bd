"""The AGI environment block: limits, parser and the typed ``AgiEnvironment``.

Asterisk opens every AGI session with ``agi_*: value`` lines ended by a blank line (FastAGI adds
``agi_network: yes`` first). ``parse_environment`` turns those lines into an ``AgiEnvironment``;
``read_environment`` pulls them from any ``readline``-like callable. Anything malformed or oversized
raises ``AgiProtocolError`` with a message that says what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from telephony.agi.errors import AgiNoEnvironment, AgiProtocolError

__all__ = [
    "MAX_ARGS",
    "MAX_ENV_LINES",
    "MAX_LINE",
    "AgiEnvironment",
    "parse_environment",
    "read_environment",
]

#: Longest line accepted in either direction (Asterisk's own limit is 8 KiB).
MAX_LINE = 8192
#: Most ``agi_arg_N`` values Asterisk passes (source: res_agi.c).
MAX_ARGS = 128
#: Most lines accepted in one environment block (about 22 standard keys plus the arguments).
MAX_ENV_LINES = 200

_ARG_KEY = re.compile(r"agi_arg_(\d+)")
_KEY = re.compile(r"[A-Za-z0-9_]+")
_UNKNOWN = {"", "unknown"}


@dataclass(frozen=True)
class AgiEnvironment:
    """What Asterisk tells about the call when an AGI session starts (all values as sent)."""

    network_script: str = ""
    script_path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    request: str = ""
    network: bool = False
    channel: str = ""
    language: str = ""
    type: str = ""
    uniqueid: str = ""
    version: str = ""
    callerid: str = ""
    calleridname: str = ""
    dnid: str = ""
    rdnis: str = ""
    context: str = ""
    extension: str = ""
    priority: str = ""
    accountcode: str = ""
    threadid: str = ""
    args: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def caller_number(self) -> str | None:
        """The caller's number, or None when Asterisk sent ``unknown`` or nothing."""
        return None if self.callerid.strip().lower() in _UNKNOWN else self.callerid

    @property
    def dialled_number(self) -> str | None:
        """The dialled number (access code), or None when unknown."""
        return None if self.dnid.strip().lower() in _UNKNOWN else self.dnid

    @property
    def flow(self) -> str:
        """The part of the script path after its first segment (``ivr/main`` gives ``main``)."""
        _, _, rest = self.script_path.partition("/")
        return rest


def split_script(network_script: str) -> tuple[str, dict[str, list[str]]]:
    """Split ``ivr/main?lang=en`` into the path ``ivr/main`` and the parsed query."""
    path, _, query = network_script.partition("?")
    return path.strip("/"), parse_qs(query, keep_blank_values=True)


def _split_line(line: str, number: int) -> tuple[str, str]:
    key, sep, value = line.partition(":")
    key = key.strip()
    if not sep:
        raise AgiProtocolError(f"environment line {number} has no ':': {line[:80]!r}")
    if not _KEY.fullmatch(key):
        raise AgiProtocolError(f"environment line {number} has an invalid key: {key[:80]!r}")
    if value.startswith(" "):
        value = value[1:]
    return key, value.rstrip("\r")


def parse_environment(lines: Iterable[str]) -> AgiEnvironment:
    """Build an ``AgiEnvironment`` from the block's lines (without the terminating blank line)."""
    raw: dict[str, str] = {}
    numbered: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        if number > MAX_ENV_LINES:
            raise AgiProtocolError(f"environment block longer than {MAX_ENV_LINES} lines")
        if len(line) > MAX_LINE:
            raise AgiProtocolError(f"environment line {number} longer than {MAX_LINE} characters")
        key, value = _split_line(line, number)
        arg = _ARG_KEY.fullmatch(key)
        if arg:
            index = int(arg.group(1))
            if not 1 <= index <= MAX_ARGS or len(numbered) >= MAX_ARGS:
                raise AgiProtocolError(f"more than {MAX_ARGS} AGI arguments ({key})")
            numbered[index] = value
        raw[key] = value
    network_script = raw.get("agi_network_script", "")
    path, query = split_script(network_script)
    return AgiEnvironment(
        network_script=network_script,
        script_path=path,
        query=query,
        request=raw.get("agi_request", ""),
        network=raw.get("agi_network", "").lower() == "yes",
        channel=raw.get("agi_channel", ""),
        language=raw.get("agi_language", ""),
        type=raw.get("agi_type", ""),
        uniqueid=raw.get("agi_uniqueid", ""),
        version=raw.get("agi_version", ""),
        callerid=raw.get("agi_callerid", ""),
        calleridname=raw.get("agi_calleridname", ""),
        dnid=raw.get("agi_dnid", ""),
        rdnis=raw.get("agi_rdnis", ""),
        context=raw.get("agi_context", ""),
        extension=raw.get("agi_extension", ""),
        priority=raw.get("agi_priority", ""),
        accountcode=raw.get("agi_accountcode", ""),
        threadid=raw.get("agi_threadid", ""),
        args=[numbered[i] for i in sorted(numbered)],
        raw=raw,
    )


def read_environment(readline: Callable[[], str]) -> AgiEnvironment:
    """Read the block line by line up to the blank line; ``readline`` returns '' at end of stream.

    A connection that ends before any line (a health probe's connect-and-close) raises ``AgiNoEnvironment``."""
    lines: list[str] = []
    while True:
        line = readline()
        if line == "":
            if not lines:
                raise AgiNoEnvironment("connection closed before the environment block")
            raise AgiProtocolError("connection closed inside the environment block")
        line = line.rstrip("\r\n")
        if line == "":
            return parse_environment(lines)
        if len(lines) >= MAX_ENV_LINES:
            raise AgiProtocolError(f"environment block longer than {MAX_ENV_LINES} lines")
        lines.append(line)
