"""Error catalogue and exception types of the rule language.

Every static problem has a stable id (``HL-R1xx`` syntax, ``HL-R2xx`` names, types and actions,
``HL-R3xx`` structure and limits); run-time failures use ``HL-R4xx``. :data:`CATALOGUE` maps each id to
a title and a generic hint; docs/rules.md lists the same table (a test keeps both in step).

* :class:`RuleError` -- compile failure, carries every :class:`~helpline.diagnostics.Problem`.
* :class:`RuleSyntaxError` -- a :class:`RuleError` raised by the parser.
* :class:`RuleRuntimeError` -- the ONE exception evaluation raises (division by zero, a bad value in an
  ``any`` name, a bad run-time regex, overflow); it carries the source position of the failing node so an
  IVR can take its fallback and log where the rule failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from helpline.diagnostics import Problem, ProblemsError, Severity, caret_excerpt


@dataclass(frozen=True)
class ErrorInfo:
    """Title and generic hint of one error id."""

    title: str
    hint: str


CATALOGUE: dict[str, ErrorInfo] = {
    # syntax
    "HL-R101": ErrorInfo("unexpected token", "check the spelling and the order of words near the caret"),
    "HL-R102": ErrorInfo(
        "unterminated string", "close the string with the same quote it opened with (\" or ')"
    ),
    "HL-R103": ErrorInfo("`=` instead of `==`", "use == to compare"),
    "HL-R104": ErrorInfo("missing `then`", "write a rule as: when <condition> then <action>"),
    "HL-R105": ErrorInfo("unexpected character", "remove the character or put the text in quotes"),
    "HL-R106": ErrorInfo("unbalanced parentheses or braces", "every ( needs a ) and every { needs a }"),
    "HL-R107": ErrorInfo("invalid escape in string", r"use \" \' \\ \n \t or \uXXXX inside strings"),
    "HL-R108": ErrorInfo(
        "unexpected end of text",
        "the condition or action is incomplete; continue a line with \\ or inside parentheses",
    ),
    "HL-R109": ErrorInfo("invalid number or unit", "durations are written 20s, 5m, 2h, 1d; percentages 90%"),
    "HL-R110": ErrorInfo("empty expression", "write a condition, e.g. customer.tier == gold"),
    "HL-R111": ErrorInfo("symbolic logic operator", "use the words and, or, not"),
    "HL-R112": ErrorInfo(
        "expected a rule", "a line is `when <condition> then <action>`, `otherwise <action>` or `tier ...`"
    ),
    # names, types and actions
    "HL-R201": ErrorInfo("unknown name", "use one of the names this place declares"),
    "HL-R202": ErrorInfo("type mismatch", "compare and combine values of the same kind"),
    "HL-R203": ErrorInfo("unknown action", "use one of the actions this place declares"),
    "HL-R204": ErrorInfo(
        "wrong number of action arguments", "give the action exactly the arguments it takes"
    ),
    "HL-R205": ErrorInfo(
        "wrong action argument type", "give the argument the kind of value the action takes"
    ),
    "HL-R206": ErrorInfo("unknown category code", "use a code of the category tree"),
    "HL-R207": ErrorInfo("tier declarations not allowed here", "declare tiers only in a tier strategy"),
    "HL-R208": ErrorInfo("duplicated tier", "declare each tier once"),
    "HL-R209": ErrorInfo("duplicated tier clause", "give each clause once per tier"),
    "HL-R210": ErrorInfo("unknown function",
                         "use min, max, abs, round, len, lower, upper, trim, digits, part or replace"),
    "HL-R211": ErrorInfo("wrong function arguments", "check the number and kind of the function's arguments"),
    "HL-R212": ErrorInfo("condition is not true/false", "a condition must compare or test something"),
    "HL-R213": ErrorInfo("unknown reference", "name a node, queue, prompt or tier that exists"),
    "HL-R214": ErrorInfo("group name used as a value", "use one of its fields, or test it with `is empty`"),
    "HL-R215": ErrorInfo(
        "invalid tier clause value",
        "target is a percentage up to 100%, levels start at 2, times are durations like 20s",
    ),
    "HL-R216": ErrorInfo(
        "invalid action value", "`reserve N` keeps N idle agents: a whole number from 0 to 99, e.g. reserve 1"
    ),
    # structure and limits
    "HL-R301": ErrorInfo("unreachable rule after `otherwise`", "`otherwise` must be the last rule"),
    "HL-R302": ErrorInfo("unreachable rule", "a rule above always matches; move it down or drop it"),
    "HL-R303": ErrorInfo("regular expression does not compile", "fix the pattern (Python re syntax)"),
    "HL-R304": ErrorInfo("text too long", "split the rules or simplify them"),
    "HL-R305": ErrorInfo("nesting too deep", "simplify the expression or split it into several rules"),
    "HL-R306": ErrorInfo(
        "missing required tier clause", "a tier needs `target N% within Ts` and `priority N`"
    ),
    "HL-R307": ErrorInfo("tier strategy declares no tier", "add at least one `tier NAME: ...` line"),
    # run time
    "HL-R401": ErrorInfo("division by zero", "guard the rule, e.g. `when x != 0 and y / x > 2 ...`"),
    "HL-R402": ErrorInfo("value of the wrong kind at run time", "check the value the context provides"),
    "HL-R403": ErrorInfo(
        "bad regular expression at run time", "use a literal pattern, checked at compile time"
    ),
    "HL-R404": ErrorInfo("arithmetic overflow", "keep numbers within a sensible range"),
}


def make_problem(
    pid: str,
    message: str,
    text: str,
    line: int | None,
    column: int | None,
    *,
    width: int = 1,
    hint: str | None = None,
    severity: Severity = "error",
) -> Problem:
    """A :class:`Problem` with the catalogue hint (unless given) and a caret excerpt of ``text``."""
    excerpt = caret_excerpt(text, line, column, width) if line is not None and column is not None else ""
    return Problem(
        id=pid,
        message=message,
        hint=CATALOGUE[pid].hint if hint is None else hint,
        line=line,
        column=column,
        excerpt=excerpt,
        severity=severity,
    )


class RuleError(ProblemsError):
    """A rule text does not compile; ``.problems`` holds every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        super().__init__(problems)


class RuleSyntaxError(RuleError):
    """The text does not parse (or breaks a limit checked while parsing)."""


class RuleRuntimeError(Exception):
    """Evaluation failed; carries the id, message and source position of the failing node."""

    def __init__(
        self,
        pid: str,
        message: str,
        *,
        line: int = 0,
        column: int = 0,
        excerpt: str = "",
        rule_index: int | None = None,
        rule_line: int | None = None,
    ):
        self.id = pid
        self.message = message
        self.line = line
        self.column = column
        self.excerpt = excerpt
        self.rule_index = rule_index  # set by CompiledRules: which rule (0-based) and its first line
        self.rule_line = rule_line
        super().__init__(f"{line}:{column}: {pid} {message}")

    @property
    def problem(self) -> Problem:
        """The failure as a :class:`Problem` (for logs and the IVR trail)."""
        return Problem(
            id=self.id,
            message=self.message,
            hint=CATALOGUE[self.id].hint if self.id in CATALOGUE else "",
            line=self.line or None,
            column=self.column or None,
            excerpt=self.excerpt,
        )
