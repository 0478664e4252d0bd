"""``run.py rules``: check a rule file or evaluate a rule text from the command line.

``rules check FILE --use ivr`` prints every problem as ``FILE:LINE:COL: ID message`` with its caret
excerpt and hint, and exits 1 if any is an error (0 with a one-line "ok" summary otherwise).
``rules eval TEXT --use ivr --context '{"caller": {"number": "0731"}}'`` prints the value of an expression
(any expression, in any place: ``rules eval "1 + 2 * 3"`` prints 7), the matched rule(s) of a rule list or,
with ``--tier NAME`` on a tier strategy, the tier decision, as JSON. Names present in ``--context`` that the
place does not declare are declared with the type of their JSON value (the place's own names keep theirs).
``--declare NAME=TYPE`` adds context names (e.g. ``record.status=text`` for a scope or query).
Run standalone as ``python -m helpline.cli.rules_cmd ...``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpline.rules import (
    USES,
    RuleError,
    RuleRuntimeError,
    Use,
    check,
    compile_expression,
    compile_rules,
    compile_tier_strategy,
    with_values,
)
from helpline.rules.parser import parse_expression_lenient


def _use(args: argparse.Namespace) -> Use:
    use = USES[args.use]
    declared: dict[str, str] = {}
    for item in args.declare or []:
        name, _, typ = item.partition("=")
        declared[name.strip()] = typ.strip() or "any"
    return use.with_context(declared) if declared else use


def _json_default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, _dt.date | _dt.datetime | _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return str(value)


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default)


def cmd_check(args: argparse.Namespace) -> int:
    """Handler of ``rules check``."""
    try:
        use = _use(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    name = args.file
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as err:
        print(f"error: cannot read {name}: {err}", file=sys.stderr)
        return 2
    problems = check(text, use, file="<stdin>" if name == "-" else name)
    for p in problems:
        print(p.format())
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        print(f"{errors} error(s), {warnings} warning(s)")
        return 1
    print(f"ok: {name} ({use.name}), {warnings} warning(s)")
    return 0


def _is_expression(text: str) -> bool:
    """Does ``text`` read as one expression (not a rule list)?"""
    return not parse_expression_lenient(text)[1]


def cmd_eval(args: argparse.Namespace) -> int:
    """Handler of ``rules eval``."""
    try:
        use = _use(args)
        context = json.loads(args.context) if args.context else {}
    except (ValueError, json.JSONDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not isinstance(context, dict):
        print("error: --context must be a JSON object", file=sys.stderr)
        return 2
    use = with_values(use, context)
    try:
        if use.mode == "expression" or (not args.tier and _is_expression(args.text)):
            result: Any = {"value": compile_expression(args.text, use.for_value()).evaluate(context)}
        elif args.tier:
            result = {"decision": compile_tier_strategy(args.text, use).decide(args.tier, context).as_dict()}
        else:
            result = {"matches": compile_rules(args.text, use).run(context)}
    except RuleError as err:
        for p in err.problems:
            print(p.format(), file=sys.stderr)
        return 1
    except RuleRuntimeError as err:
        print(err.problem.format(), file=sys.stderr)
        return 1
    except KeyError as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 1
    print(_dump(result))
    return 0


def handle(args: argparse.Namespace) -> int:
    """Dispatch ``rules check|eval``."""
    if getattr(args, "rules_func", None) is None:
        args.rules_parser.print_help()
        return 2
    return int(args.rules_func(args))


def add_parser(subparsers: Any) -> None:
    """Add the ``rules`` subcommand (with ``check`` and ``eval``) to an argparse subparsers object."""
    rules = subparsers.add_parser(
        "rules", help="check or evaluate rule-language texts", description=__doc__.split("\n")[0]
    )
    rules.set_defaults(func=handle, rules_parser=rules, rules_func=None)
    sub = rules.add_subparsers(title="rules commands")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--use", choices=sorted(USES), default="ivr", help="place of use (default: ivr)")
    common.add_argument(
        "--declare", action="append", metavar="NAME=TYPE", help="add a context name, e.g. record.status=text"
    )
    p_check = sub.add_parser(
        "check",
        parents=[common],
        help="report every problem of a rule file",
        description="Print every problem as FILE:LINE:COL: ID message; exit 1 on errors.",
    )
    p_check.add_argument("file", metavar="FILE", help="rule text file ('-' for stdin)")
    p_check.set_defaults(rules_func=cmd_check)
    p_eval = sub.add_parser(
        "eval",
        parents=[common],
        help="evaluate an expression or rules against a JSON context",
        description="Print the value, the matched rules or the tier decision as JSON.",
    )
    p_eval.add_argument("text", metavar="TEXT", help="expression or rule text")
    p_eval.add_argument("--context", default="{}", help="context as a JSON object")
    p_eval.add_argument("--tier", help="with --use tier: decide for this tier")
    p_eval.set_defaults(rules_func=cmd_eval)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: ``python -m helpline.cli.rules_cmd rules check FILE``."""
    parser = argparse.ArgumentParser(prog="helpline")
    subparsers = parser.add_subparsers()
    add_parser(subparsers)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
