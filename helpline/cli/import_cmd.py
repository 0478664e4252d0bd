"""``run.py import DEFINITION FILE [--dry-run]``: run an import definition on a file from the command line.

A dry run validates every row and writes nothing; ``--errors OUT.xlsx`` saves the rejected rows with an error
column. A real run commits in batches; ``--resume RUN`` goes on with a crashed or cancelled run, ``--undo RUN``
takes a run back. Exit code 0 when every row was loaded, 1 when some were rejected, 2 when the source or the
definition was refused (nothing loaded).

Messages (row problems, refusals, the error workbook, the summary, a failed run's error) are in ``--language``,
else the language of the environment's locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh*`` is Chinese), else
English.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from helpline.cli import add_settings_options

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "import", help="import a file (xlsx, csv) or a definition's own source",
        description="Run import DEFINITION (metadata/imports/) on FILE; sql, http and extension sources need no "
                    "file. See docs/imports.md.")
    p.add_argument("definition", nargs="?", help="import definition name")
    p.add_argument("file", nargs="?", type=Path, help="the xlsx or csv file")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--errors", type=Path, metavar="OUT.xlsx", help="save the rejected rows with an error column")
    p.add_argument("--resume", type=int, metavar="RUN", help="go on with a crashed or cancelled run")
    p.add_argument("--undo", type=int, metavar="RUN", help="undo a run")
    p.add_argument("--confirm-delete", action="store_true",
                   help="also delete records the source lacks (only if the definition says delete_missing)")
    p.add_argument("--language", choices=("zh_CN", "en"),
                   help="language of the messages (default: from LC_ALL/LC_MESSAGES/LANG, else en)")
    add_settings_options(p)
    p.set_defaults(func=run)


def _progress(done: int, total: int | None, report: Any) -> None:
    print(f"  {done:,}{f' / {total:,}' if total else ''} rows: {report.inserted:,} inserted, "
          f"{report.updated:,} updated, {report.rejected:,} rejected", file=sys.stderr)


def language_of(given: str | None) -> str:
    """``--language``, else the POSIX locale's language (the first of LC_ALL, LC_MESSAGES, LANG that is set)."""
    if given:
        return given
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"


def run(args: argparse.Namespace) -> int:
    from helpline.security.actor import Actor
    from helpline.services.imports import ImportService, SourceError
    from helpline.services.imports.changes import ImportRefused
    from helpline.services.imports.report import error_workbook
    from helpline.services.imports.words import both, failure_text, line, refusal, say

    language = language_of(getattr(args, "language", None))

    platform = start_platform(settings_from(args))
    if platform is None:
        return 2
    service = ImportService(platform)
    actor = Actor.system()
    started = time.perf_counter()
    try:
        if args.undo is not None:
            print(say(language, "imports.cli.undone", run=args.undo, count=service.undo(actor, args.undo)))
            return 0
        if args.resume is not None:
            report = service.resume(actor, args.resume, progress=_progress)
        else:
            if not args.definition:
                print("run.py import: say which DEFINITION (metadata/imports/<name>.yaml)", file=sys.stderr)
                return 2
            if args.file is not None and not args.file.is_file():
                print(f"run.py import: no file {args.file}", file=sys.stderr)
                return 2
            if args.dry_run:
                report = service.dry_run(actor, args.definition, args.file, progress=_progress)
            else:
                path = service.copy_for_run(args.file) if args.file is not None else None
                report = service.run(actor, args.definition, path, args.file.name if args.file else None,
                                     progress=_progress, confirm_delete=args.confirm_delete)
    except (SourceError, ImportRefused) as exc:
        print(say(language, "imports.cli.refused", message=refusal(exc, language)), file=sys.stderr)
        return 2
    for problem in report.problems[:50]:
        severity = both(problem.severity, say("zh_CN", f"imports.severity.{problem.severity}"))
        print(say(language, "imports.cli.problem", severity=severity, line=line(problem, language)))
    if len(report.problems) > 50:
        print(say(language, "imports.cli.more", count=len(report.problems) - 50))
    if args.errors is not None and report.rejected_rows:
        args.errors.write_bytes(error_workbook(report, language))
        print(say(language, "imports.cli.written", path=args.errors))
    what = say(language, "imports.cli.dry_run") if report.dry_run else say(language, "imports.cli.run",
                                                                            run=report.run_id)
    rate = report.rows / max(time.perf_counter() - started, 1e-6)
    deleted = say(language, "imports.cli.deleted", count=f"{report.deleted:,}") if report.deleted else ""
    status = both(report.status, say("zh_CN", f"imports.status.{report.status}"))
    print(say(language, "imports.cli.summary", what=what, status=status, rows=f"{report.rows:,}",
              inserted=f"{report.inserted:,}", updated=f"{report.updated:,}", unchanged=f"{report.unchanged:,}",
              rejected=f"{report.rejected:,}", warnings=f"{report.warnings:,}", deleted=deleted,
              seconds=f"{report.seconds:.1f}", rate=f"{rate:,.0f}")
          + (("；" if language == "zh_CN" else "; ") + failure_text(report.error, language) if report.error else ""))
    if report.status not in ("done", "checked"):
        return 2
    return 1 if report.rejected else 0
