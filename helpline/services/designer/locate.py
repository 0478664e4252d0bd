"""Place problems on the objects and values that cause them, so a designer shows each beside its field.

A :class:`~helpline.diagnostics.Problem` points at ``file:line:col`` of an object's YAML; the designers
edit data. :func:`object_of` maps the file back to (kind, name); :func:`path_at` maps the position back to
the path of the value in the data (as :class:`~helpline.metadata.yamlpos.Positioned` records them).
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from helpline.diagnostics import Problem
from helpline.metadata.kinds import KIND_OF_FOLDER
from helpline.metadata.yamlpos import Path, Positioned, load_with_positions


def object_of(problem: Problem) -> tuple[str, str] | None:
    """(kind, name) of the object whose file the problem is in (``entities/customer.yaml``)."""
    if not problem.file or "/" not in problem.file:
        return None
    folder, _, base = problem.file.partition("/")
    kind = KIND_OF_FOLDER.get(folder)
    if kind is None or not base.endswith(".yaml"):
        return None
    return kind, base[:-5]


def path_at(positioned: Positioned, line: int | None, column: int | None) -> Path:
    """The path of the innermost value starting at or before (line, column); () when unknown."""
    if line is None:
        return ()
    where = (line, column or 1)
    best: Path = ()
    best_pos = (0, 0)
    for path, pos in positioned.positions.items():
        if pos <= where and (pos > best_pos or (pos == best_pos and len(path) > len(best))):
            best, best_pos = path, pos
    exact = best_pos == where
    for path, pos in positioned.key_positions.items():
        if pos == where and (not exact or len(path) >= len(best)):  # a problem placed on a key is about it
            best, exact = path, True
    return best


class ProblemIndex:
    """The problems of one object by the path of the value they are about."""

    def __init__(self, text: str, problems: Iterable[Problem]):
        problems = list(problems)
        try:
            positioned = load_with_positions(text) if text and problems else Positioned(data=None)
        except yaml.YAMLError:  # a syntax error: every problem stays at the top
            positioned = Positioned(data=None)
        self.items: list[tuple[Path, Problem]] = [(path_at(positioned, p.line, p.column), p) for p in problems]

    def __len__(self) -> int:
        return len(self.items)

    def at(self, *prefix: str | int) -> list[Problem]:
        """Problems about the value at ``prefix`` or inside it."""
        return [p for path, p in self.items if path[:len(prefix)] == prefix]

    def exactly(self, *path: str | int) -> list[Problem]:
        return [p for found, p in self.items if found == path]

    @property
    def errors(self) -> list[Problem]:
        return [p for _, p in self.items if p.severity == "error"]
