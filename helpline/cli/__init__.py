"""The ``run.py`` command line: one entry point, a subcommand per task, ``--help`` for each.

Subcommands register themselves through a module with ``add_parser(subparsers)``; each sets
``func`` (taking the parsed arguments, returning the exit code) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from helpline.config import Settings

SUBCOMMANDS = ["serve", "agi", "check", "export", "migrate", "reindex", "import", "demo", "rules", "simulate",
               "prompts", "stats", "backup", "restore"]
"""Modules ``helpline.cli.<name>_cmd`` in help order; ``serve`` is the default."""


def add_settings_options(parser: argparse.ArgumentParser, *, db: bool = True, metadata: bool = True) -> None:
    defaults = Settings.from_env()
    if db:
        parser.add_argument("--db", default=defaults.db,
                            help="database URL: sqlite:///path or postgresql://user:pass@host:port/db "
                                 "(env HELPLINE_DB; default %(default)s)")
    if metadata:
        parser.add_argument("--metadata", default=defaults.metadata, metavar="DIR",
                            help="metadata directory (env HELPLINE_METADATA; default %(default)s)")


def add_ami_options(parser: argparse.ArgumentParser) -> None:
    """The Asterisk manager (AMI) options of the commands that act on calls (``serve``, ``agi``). The secret
    is read from ``HELPLINE_AMI_SECRET`` only: an option would show it in the process list."""
    defaults = Settings.from_env()
    parser.add_argument("--ami-host", default=defaults.ami_host,
                        help="Asterisk manager host for call control (env HELPLINE_AMI_HOST; default: none, "
                             "simulated call control)")
    parser.add_argument("--ami-port", type=int, default=defaults.ami_port,
                        help="Asterisk manager port (env HELPLINE_AMI_PORT; default %(default)s)")
    parser.add_argument("--ami-user", default=defaults.ami_user,
                        help="Asterisk manager user (env HELPLINE_AMI_USER; default %(default)s; the secret "
                             "comes from HELPLINE_AMI_SECRET)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="Helpline contact-centre platform.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"helpline.cli.{name}_cmd")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "serve")
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args))
