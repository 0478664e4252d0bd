"""Imports point one way: rules → metadata → data → security → services → telephony → ui → cli.

A module may import its own layer and the layers to its left, never one to its right; imports inside
functions count too (a lazy import is still a dependency); only imports under ``if TYPE_CHECKING:`` do not
(they name types for the checker and never run, like ``Platform.router``'s type). ``helpline.diagnostics``
and ``helpline.config`` are the foundation every layer may use, and import nothing of the project.
docs/architecture.md explains the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["helpline.rules", "helpline.metadata", "helpline.data", "helpline.security", "helpline.services",
          "helpline.demo", "telephony", "helpline.ui", "helpline.cli"]
"""Left to right; ``helpline.demo`` (the demo data generator, used by the CLI) sits on the services."""
FOUNDATION = {"helpline", "helpline.diagnostics", "helpline.config"}


def layer_of(module: str) -> int | None:
    for index, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return index
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every project import in ``path`` that runs (not under ``if TYPE_CHECKING:``),
    relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node.test)
                   for statement in node.body for inner in ast.walk(statement)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return [(line, name) for line, name in found if name.split(".")[0] in ("helpline", "telephony")]


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def violations(modules: list[tuple[Path, str]]) -> list[str]:
    """Every import of ``modules`` ((file, dotted module name) pairs) that points the wrong way."""
    wrong = []
    for path, module in modules:
        own = layer_of(module)
        for line, name in imported(path, module):
            target = layer_of(name)
            if module in FOUNDATION and name not in FOUNDATION:
                wrong.append(f"{path.name}:{line}: the foundation imports {name}")
            elif own is not None and target is not None and target > own:
                wrong.append(f"{module}:{line}: {LAYERS[own]} imports {name} ({LAYERS[target]})")
    return wrong


def test_imports_point_one_way() -> None:
    paths = sorted([*ROOT.glob("helpline/**/*.py"), *ROOT.glob("telephony/**/*.py")])
    assert len(paths) > 100
    assert violations([(path, module_name(path)) for path in paths]) == []


def test_a_wrong_import_is_found(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from helpline.ui.shell import Page\n"
                   "else:\n    import telephony.router\n"
                   "def f():\n    from helpline.ui.shell import Shell\n    from ..services import records\n",
                   encoding="utf-8")
    found = violations([(bad, "helpline.data.probe")])
    assert len(found) == 3 and "telephony.router" in found[0] and "helpline.ui.shell" in found[1] \
        and "helpline.services" in found[2]
