"""``run.py prompts check|render``: the IVR flows' prompt sound files in Asterisk's sounds folder.

``check`` lists every prompt the live flows use, per language, with the file Asterisk would play (or
MISSING) and exits 1 when any is missing; ``render`` makes them from the prompt texts with espeak-ng and
sox (``helpline.services.prompts``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from helpline.cli import add_settings_options
from helpline.services import prompts

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "prompts", help="check or make the IVR prompts' sound files",
        description="The sound files of the prompts of the live IVR flows, in Asterisk's sounds folder "
                    "(<sounds>/<language>/<file>.wav, looked up as Asterisk does).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="list every prompt per language and which sound files are missing (exit 1 if any)",
        description="List every prompt the live flows use, per language, with the file Asterisk would play "
                    "(its own language's folder, or a fallback folder) or MISSING. Exit 1 if any is missing.")
    render = actions.add_parser(
        "render", help="make every prompt's sound file from its text (espeak-ng, sox)",
        description="Speak every prompt's text of the live flows with espeak-ng, converted by sox to 8 kHz "
                    "mono 16-bit WAV, into <sounds>/<language>/<file>.wav, for zh_CN and en.")
    render.add_argument("--missing", action="store_true",
                        help="only the files missing from their language's folder")
    for action in (check, render):
        action.add_argument("--sounds", type=Path, default=prompts.sounds_dir(), metavar="DIR",
                            help="Asterisk's sounds folder, e.g. /var/lib/asterisk/sounds "
                                 "(env HELPLINE_SOUNDS; default %(default)s)")
        action.add_argument("--language", action="append", choices=prompts.LANGUAGES, dest="languages",
                            help="only this language (repeatable; default: zh_CN and en)")
        add_settings_options(action)
        action.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    platform = start_platform(settings_from(args))
    if platform is None:
        return 1
    languages = tuple(args.languages or prompts.LANGUAGES)
    sounds: Path = args.sounds
    if args.action == "check":
        return _check(platform.metadata, sounds, languages)
    try:
        done = prompts.render_all(platform.metadata, sounds, languages, only_missing=args.missing,
                                  progress=lambda r: print(
                                      f"{r.language:6} {r.file:32} " + (f"written {r.path}" if r.written
                                                                          else f"skipped ({r.reason})"),
                                      flush=True))
    except prompts.RenderError as exc:
        print(f"helpline: cannot render the prompts: {exc}", file=sys.stderr)
        return 1
    written = sum(1 for r in done if r.written)
    print(f"{written} sound file(s) written under {sounds}, {len(done) - written} skipped")
    return 0


def _check(metadata: Any, sounds: Path, languages: tuple[str, ...]) -> int:
    statuses = prompts.check(metadata, sounds, languages)
    if not statuses:
        print("no prompts: the live metadata has no IVR flow")
        return 0
    print(f"sounds folder: {sounds}")
    for language in languages:
        print(f"\n{language}:")
        for status in (s for s in statuses if s.use.language == language):
            use = status.use
            if status.found is None:
                state = "MISSING"
            else:
                where = status.found.relative_to(sounds) if status.found.is_relative_to(sounds) else status.found
                state = f"ok {where}" if status.exact else f"fallback {where}"
            print(f"  {use.flow}/{use.prompt:20} {use.file:32} {state}")
    missing = [s for s in statuses if s.missing]
    files = {(s.use.file, s.use.language) for s in missing}
    print(f"\n{len(statuses)} prompt(s) checked, {len(files)} sound file(s) missing"
          + ("; make them with: run.py prompts render --sounds " + str(sounds) if files else ""))
    return 1 if missing else 0
