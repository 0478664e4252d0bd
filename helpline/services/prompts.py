"""The IVR flows' prompt sound files: which ones the live flows use, which Asterisk cannot find, and making
them from the prompt texts with a text-to-speech engine that installs from Debian (espeak-ng, then sox).

Asterisk looks a prompt ``helpline/welcome`` up in its sounds folder (``/var/lib/asterisk/sounds``) by the
channel's language, as ``file.c``'s ``fileexists_core`` does: ``<lang>/helpline/welcome.<format>``, then the
language without its dialect (``zh_CN`` → ``zh``), then no language folder, then ``en``. :func:`check`
follows the same order; :func:`render_all` writes ``<sounds>/<lang>/<file>.wav`` (8 kHz, mono, 16-bit: the
``wav`` format Asterisk plays without transcoding cost) for zh_CN and en from each prompt's text.

```python
statuses = check(platform.metadata, Path("/var/lib/asterisk/sounds"))    # one per flow, prompt, language
[s for s in statuses if s.missing]
render_all(platform.metadata, Path("/var/lib/asterisk/sounds"))          # every prompt, both languages
```
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpline.metadata.ivr_checks import ivrs_of
from helpline.metadata.metaset import MetadataSet

__all__ = ["FORMATS", "LANGUAGES", "VOICES", "PromptStatus", "PromptUse", "RenderError", "Rendered", "check",
           "find_sound", "prompt_uses", "render", "render_all", "render_prompt", "sounds_dir", "target_of",
           "tts_missing"]

LANGUAGES = ("zh_CN", "en")
"""The languages prompts are checked and made in (the folders under the sounds folder)."""
VOICES = {"zh_CN": "cmn", "en": "en-us"}
"""espeak-ng voice per language (``espeak-ng --voices``)."""
FORMATS = ("wav", "WAV", "wav16", "sln", "sln16", "ulaw", "alaw", "gsm", "g722", "g729", "ilbc", "siren7",
           "siren14", "mp3", "ogg")
"""File extensions of the sound formats Asterisk plays (its format modules)."""
DEFAULT_LANGUAGE = "en"
RATE, CHANNELS, BITS = 8000, 1, 16
TIMEOUT_S = 60.0


class RenderError(Exception):
    """A prompt could not be made (no engine, an engine failure, no text)."""


@dataclass(frozen=True)
class PromptUse:
    """A prompt of a live flow in one language: its sound file (without extension) and its text there."""

    flow: str
    prompt: str
    file: str
    language: str
    text: str
    """'' when the prompt has no text in this language."""


@dataclass(frozen=True)
class PromptStatus:
    """Where Asterisk finds a prompt for one language: ``found`` (None: missing); ``exact`` when it is in the
    language's own folder, not a fallback (another language, or no language folder)."""

    use: PromptUse
    found: Path | None
    exact: bool

    @property
    def missing(self) -> bool:
        return self.found is None


def sounds_dir() -> Path:
    """``HELPLINE_SOUNDS`` (default ``var/sounds``; in production Asterisk's sounds folder)."""
    return Path(os.environ.get("HELPLINE_SOUNDS") or "var/sounds")


def prompt_uses(metadata: MetadataSet, languages: Iterable[str] = LANGUAGES) -> list[PromptUse]:
    """Every prompt of every live IVR flow, once per language, in flow and prompt order."""
    uses: list[PromptUse] = []
    for flow_name, flow in sorted(ivrs_of(metadata).items()):
        for name, prompt in flow.prompts.items():
            texts = prompt.text.model_dump() if hasattr(prompt.text, "model_dump") else dict(prompt.text)
            for language in languages:
                uses.append(PromptUse(flow_name, name, prompt.file, language, str(texts.get(language) or "")))
    return uses


def _lookup_order(language: str) -> list[str]:
    """Asterisk's language folders for ``language``: itself, without dialects, none, then the default."""
    order: list[str] = []
    lang = language
    while lang:
        order.append(lang)
        lang = lang.rpartition("_")[0]
    order.append("")
    if DEFAULT_LANGUAGE not in order:
        order.append(DEFAULT_LANGUAGE)
    return order


def find_sound(sounds: Path, language: str, file: str) -> tuple[Path | None, bool]:
    """The file Asterisk would play for ``file`` on a channel in ``language``, and whether it is in the
    language's own folder; (None, False) when there is none."""
    for index, folder in enumerate(_lookup_order(language)):
        base = sounds / folder / file if folder else sounds / file
        for fmt in FORMATS:
            candidate = base.with_name(f"{base.name}.{fmt}")
            if candidate.is_file():
                return candidate, index == 0
    return None, False


def check(metadata: MetadataSet, sounds: Path, languages: Iterable[str] = LANGUAGES) -> list[PromptStatus]:
    """One status per prompt of the live flows and language (see :func:`find_sound`)."""
    return [PromptStatus(use, *find_sound(sounds, use.language, use.file))
            for use in prompt_uses(metadata, languages)]


def tts_missing() -> list[str]:
    """The programs :func:`render` needs that are not installed (``espeak-ng``, ``sox``)."""
    return [name for name in ("espeak-ng", "sox") if shutil.which(name) is None]


def render(text: str, language: str, target: Path) -> Path:
    """Speak ``text`` in ``language`` into ``target`` (a ``.wav``: 8 kHz mono 16-bit), replacing it."""
    if not text.strip():
        raise RenderError(f"no {language} text to speak for {target.name}")
    if language not in VOICES:
        raise RenderError(f"no voice for language {language!r} (known: {', '.join(VOICES)})")
    missing = tts_missing()
    if missing:
        raise RenderError(f"{' and '.join(missing)} not installed: apt-get install espeak-ng sox")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helpline-tts-") as work:
        spoken = Path(work) / "spoken.wav"
        converted = Path(work) / "converted.wav"
        _run(["espeak-ng", "-v", VOICES[language], "-w", str(spoken), "--", text])
        _run(["sox", "-D", str(spoken), "-r", str(RATE), "-c", str(CHANNELS), "-b", str(BITS), "-e", "signed-integer",
              str(converted)])
        shutil.move(str(converted), target)
    return target


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,  # noqa: S603 - fixed programs
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{command[0]} failed: {exc}") from exc
    if done.returncode != 0:
        raise RenderError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:300]}")


def target_of(sounds: Path, language: str, file: str) -> Path:
    """Where :func:`render` writes ``file`` for ``language``: ``<sounds>/<language>/<file>.wav``."""
    base = sounds / language / file
    return base.with_name(f"{base.name}.wav")


def render_prompt(prompt: dict[str, Any], sounds: Path, languages: Iterable[str] = LANGUAGES) -> list[Path]:
    """Make one prompt (``{file, text: {en, zh_CN}}``, e.g. a designer draft's) in every language it has a
    text in; the files written."""
    file = str(prompt.get("file") or "")
    raw = prompt.get("text")
    texts: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if not file or ".." in Path(file).parts or file.startswith("/"):
        raise RenderError(f"not a prompt file name: {file!r}")
    written = [render(str(texts[lang]), lang, target_of(sounds, lang, file))
               for lang in languages if str(texts.get(lang) or "").strip()]
    if not written:
        raise RenderError(f"prompt {file} has no text to speak")
    return written


@dataclass(frozen=True)
class Rendered:
    """What :func:`render_all` did for one file and language: ``written`` or ``skipped`` (why)."""

    file: str
    language: str
    path: Path
    written: bool
    reason: str = ""


def render_all(metadata: MetadataSet, sounds: Path, languages: Iterable[str] = LANGUAGES, *,
               only_missing: bool = False, progress: Callable[[Rendered], None] | None = None) -> list[Rendered]:
    """Make every prompt of the live flows in every language from its text (each file once: the first
    flow's text wins when two flows share a file). ``only_missing`` keeps files already in the language's
    folder. A prompt without a text in a language is skipped (Asterisk falls back to another language)."""
    missing = tts_missing()
    if missing:
        raise RenderError(f"{' and '.join(missing)} not installed: apt-get install espeak-ng sox")
    done: list[Rendered] = []
    seen: set[tuple[str, str]] = set()
    for use in prompt_uses(metadata, languages):
        key = (use.file, use.language)
        if key in seen:
            continue
        seen.add(key)
        path = target_of(sounds, use.language, use.file)
        if not use.text.strip():
            outcome = Rendered(use.file, use.language, path, False, f"no {use.language} text")
        elif only_missing and find_sound(sounds, use.language, use.file)[1]:
            outcome = Rendered(use.file, use.language, path, False, "exists")
        else:
            render(use.text, use.language, path)
            outcome = Rendered(use.file, use.language, path, True)
        done.append(outcome)
        if progress is not None:
            progress(outcome)
    return done
