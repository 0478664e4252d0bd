"""The Lark grammar, the lazily built LALR parser, the statement splitter and syntax-error messages.

A rule list is split into statements *before* Lark sees it (:func:`split_statements`): a statement ends at
a newline, unless the line ends with a backslash or a parenthesis/brace is still open. Each statement is
parsed on its own, so several broken lines are all reported at once and one unclosed ``(`` cannot swallow
the rest of the file (a line starting with ``when``/``otherwise``/``tier`` always starts a statement).

The parser is built once (module level, on first use) with ``keep_all_tokens=True`` and an inline
transformer, so parsing yields AST nodes directly, without recursion; positions come from the tokens.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from helpline.diagnostics import Problem

from .errors import make_problem

MAX_LENGTH = 20_000
MAX_DEPTH = 64

GRAMMAR = r"""
?statement: rule | otherwise | tier_decl
expression: expr

rule: WHEN expr THEN actions
otherwise: OTHERWISE actions
actions: action (COMMA action)*
action: NAME arg*                                   -> action
      | NAME LPAR (expr (COMMA expr)*)? RPAR        -> action_call
?arg: literal | name | set | call | signed
signed: SIGNED

tier_decl: TIER NAME COLON clause (COMMA clause)*
clause: TARGET tvalue WITHIN tvalue                 -> target_clause
      | PRIORITY tvalue                             -> priority_clause
      | OPEN LEVEL tvalue AFTER tvalue              -> open_clause
      | STARVE AFTER tvalue                         -> starve_clause
tvalue: (MINUS | PLUS)? (NUMBER | DURATION | PERCENT)

?expr: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr                             -> not_op
         | predicate
?predicate: sum
          | sum COMPOP sum                          -> compare
          | sum EQ1 sum                             -> single_eq
          | sum IN sum                              -> in_op
          | sum NOT IN sum                          -> not_in_op
          | sum (STARTS_WITH | ENDS_WITH | CONTAINS | MATCHES) sum -> string_test
          | sum IS EMPTY                            -> is_empty
          | sum IS NOT EMPTY                        -> is_not_empty
?sum: product
    | sum (PLUS | MINUS) product                    -> binary
?product: unary
        | product (STAR | SLASH | MOD) unary        -> binary
?unary: (MINUS | PLUS) unary                        -> unary
      | atom
?atom: literal | name | set | call
     | LPAR expr RPAR                               -> paren
literal: NUMBER | DURATION | PERCENT | STRING | TRUE | FALSE
name: NAME (DOT NAME)*
set: LBRACE (expr (COMMA expr)*)? RBRACE
call: NAME LPAR (expr (COMMA expr)*)? RPAR

WHEN: "when"
THEN: "then"
OTHERWISE: "otherwise"
TIER: "tier"
TARGET: "target"
WITHIN: "within"
PRIORITY: "priority"
OPEN: "open"
LEVEL: "level"
AFTER: "after"
STARVE: "starve"
AND: "and"
OR: "or"
NOT: "not"
IN: "in"
IS: "is"
EMPTY: "empty"
TRUE: "true"
FALSE: "false"
STARTS_WITH: "starts_with"
ENDS_WITH: "ends_with"
CONTAINS: "contains"
MATCHES: "matches"

COMPOP: "==" | "!=" | "<=" | ">=" | "<" | ">"
EQ1: "="
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
MOD: "%"
LPAR: "("
RPAR: ")"
LBRACE: "{"
RBRACE: "}"
COMMA: ","
DOT: "."
COLON: ":"

SIGNED.4: /[+-]\d+(\.\d+)?((ms|s|m|h|d)(?!\w)|%(?![\w(]))?(?![\w.])/
DURATION.3: /\d+(\.\d+)?(ms|s|m|h|d)(?!\w)/
PERCENT.3: /\d+(\.\d+)?%(?![\w(])/
NUMBER.2: /\d+(\.\d+)?/
STRING: /"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*'/
NAME: /[^\W\d]\w*/
COMMENT: /#[^\n]*/

%ignore /[ \t\f\r\n]+/
%ignore /\\[ \t]*\r?\n/
%ignore COMMENT
"""

_lock = threading.Lock()
_parser: Lark | None = None


def get_parser() -> Lark:
    """The shared LALR parser (built on first use, about 30 ms)."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                from .parser import AstBuilder

                _parser = Lark(
                    GRAMMAR,
                    parser="lalr",
                    start=["statement", "expression"],
                    keep_all_tokens=True,
                    maybe_placeholders=False,
                    transformer=AstBuilder(),
                    cache=True,  # the LALR tables are kept in a temporary file: ~12 ms instead of ~125 ms
                )
    return _parser


@dataclass(frozen=True)
class Chunk:
    """One statement of a rule list: its first line (1-based), its text and its deepest nesting."""

    line: int
    text: str
    max_depth: int


_SCAN = re.compile(r""""(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|\#.*|[(){}]|\\[ \t]*$""")
_STARTER = re.compile(r"^[ \t]*(when|otherwise|tier)\b")


def split_statements(text: str) -> list[Chunk]:
    """Split a rule list into statements (see the module docstring); blank/comment-only lines vanish."""
    chunks: list[Chunk] = []
    cur: list[str] = []
    start = 0
    depth = max_depth = 0
    continued = False
    meaningful = False
    for no, line in enumerate(text.split("\n"), start=1):
        if cur and not continued and (depth == 0 or _STARTER.match(line)):
            if meaningful:
                chunks.append(Chunk(start, "\n".join(cur), max_depth))
            cur, depth, max_depth, meaningful = [], 0, 0, False
        if not cur:
            start = no
        cur.append(line)
        continued = False
        code_end = len(line)
        for m in _SCAN.finditer(line):
            tok = m.group()
            if tok in ("(", "{"):
                depth += 1
                max_depth = max(max_depth, depth)
            elif tok in (")", "}"):
                depth = max(0, depth - 1)
            elif tok.startswith("#"):
                code_end = m.start()
                break
            elif tok.startswith("\\"):
                continued = True
        if line[:code_end].strip():
            meaningful = True
    if cur and meaningful:
        chunks.append(Chunk(start, "\n".join(cur), max_depth))
    return chunks


_DESCRIBE = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "DURATION": "a duration",
    "PERCENT": "a percentage",
    "COMPOP": "a comparison",
    "EQ1": "=",
    "PLUS": "+",
    "MINUS": "-",
    "STAR": "*",
    "SLASH": "/",
    "MOD": "%",
    "LPAR": "(",
    "RPAR": ")",
    "LBRACE": "{",
    "RBRACE": "}",
    "COMMA": ",",
    "DOT": ".",
    "COLON": ":",
    "$END": "end of line",
    "SIGNED": "a signed number",
}
_VALUE_START = {"NAME", "NUMBER", "STRING", "LPAR"}


def _describe(term: str) -> str:
    return _DESCRIBE.get(term, f"`{term.lower()}`")


def _expected_text(expected: set[str]) -> str:
    if expected >= _VALUE_START:
        rest = sorted(
            e
            for e in expected
            if e
            not in _VALUE_START | {"DURATION", "PERCENT", "TRUE", "FALSE", "MINUS", "PLUS", "NOT", "LBRACE"}
        )
        words = ["a value"] + [_describe(e) for e in rest]
    else:
        words = sorted(_describe(e) for e in expected)
    if len(words) > 8:
        words = [*words[:8], "..."]
    return ", ".join(words)


def _token_text(tok: Token) -> str:
    return "end of line" if tok.type == "$END" else f"`{tok.value}`"


def syntax_problem(err: UnexpectedInput, text: str, mode: str = "statement") -> Problem:
    """Translate a Lark error into a specific, fixable :class:`Problem` (token inspection).

    ``mode`` is the start symbol (``statement`` or ``expression``): LALR merges the states of both, so
    the terminals that only the other start symbol accepts are dropped from the expected set.
    """
    line, col = err.line, err.column
    if isinstance(err, UnexpectedCharacters):
        at = err.pos_in_stream if err.pos_in_stream is not None else -1
        ch = text[at] if 0 <= at < len(text) else ""
        if ch in "\"'":
            return make_problem("HL-R102", "unterminated string", text, line, col)
        if ch in "&|":
            word = "and" if ch == "&" else "or"
            return make_problem("HL-R111", f"`{ch}` is not an operator; use `{word}`", text, line, col)
        if ch == "!":
            return make_problem("HL-R111", "`!` is not an operator; use `not` (or `!=`)", text, line, col)
        if ch == "\\":
            return make_problem(
                "HL-R105", "a backslash continues a line only at its very end", text, line, col
            )
        return make_problem("HL-R105", f"unexpected character {ch!r}", text, line, col)
    if isinstance(err, UnexpectedToken):
        tok = err.token
        expected = set(err.expected) - ({"THEN"} if mode == "expression" else {"$END"})
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            line = len(lines)
            col = len(lines[-1].rstrip()) + 1
            if "THEN" in expected:
                return make_problem("HL-R104", "missing `then` after the condition", text, line, col)
            if "RPAR" in expected or "RBRACE" in expected:
                closer = ")" if "RPAR" in expected else "}"
                return make_problem("HL-R106", f"missing `{closer}`", text, line, col)
            return make_problem(
                "HL-R108",
                f"unexpected end of text; expected {_expected_text(expected)}",
                text,
                line,
                col,
            )
        width = max(1, len(str(tok.value)))
        line, col = tok.line or line, tok.column or col
        if tok.type == "EQ1":
            return make_problem("HL-R103", "`=` is not a comparison", text, line, col)
        if tok.type == "NAME" and col > 1 and _prev_char(text, line, col).isdigit():
            return make_problem("HL-R109", f"invalid number or unit near `{tok.value}`", text, line, col)
        if tok.type in ("THEN", "COMMA", "RBRACE", "RPAR") and expected & {"RPAR", "RBRACE"}:
            closer = ")" if "RPAR" in expected else "}"
            if tok.value != closer:
                return make_problem("HL-R106", f"missing `{closer}` before `{tok.value}`", text, line, col)
        if "THEN" in expected and tok.type != "THEN":
            return make_problem(
                "HL-R104", f"missing `then` before {_token_text(tok)}", text, line, col, width=width
            )
        if tok.type in ("RPAR", "RBRACE"):
            return make_problem(
                "HL-R106", f"unexpected `{tok.value}` without its opening pair", text, line, col
            )
        if "WHEN" in expected and "OTHERWISE" in expected:
            return make_problem(
                "HL-R112", f"expected a rule, found {_token_text(tok)}", text, line, col, width=width
            )
        hint = None
        if tok.type in ("PLUS", "MINUS", "STAR", "SLASH", "MOD") and "SIGNED" in expected:
            hint = "to compute an action argument, use the call form: name(arg, arg)"
        elif tok.type == "COMPOP":
            hint = "comparisons cannot be chained: write `a < b and b < c`"
        elif tok.type in ("WHEN", "OTHERWISE", "TIER"):
            hint = "a single condition is expected here, not a rule"
        return make_problem(
            "HL-R101",
            f"unexpected {_token_text(tok)}; expected {_expected_text(expected)}",
            text,
            line,
            col,
            width=width,
            hint=hint,
        )
    return make_problem("HL-R101", "invalid syntax", text, line, col)


def _prev_char(text: str, line: int, col: int) -> str:
    lines = text.split("\n")
    if 1 <= line <= len(lines) and 2 <= col <= len(lines[line - 1]) + 1:
        return lines[line - 1][col - 2]
    return ""
