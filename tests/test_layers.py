"""Imports point one way: rules → metadata → data → security → services → telephony → ui → cli.

A module may import its own layer and the layers to its left, never one to its right; imports inside
functions count too (a lazy import is still a dependency). ``helpline.diagnostics`` and ``helpline.config``
are the foundation every layer may use, and import nothing of the project. docs/architecture.md explains
the layers.
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
    """(line, module) of every project import in ``path``, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
    bad.write_text("def f():\n    from helpline.ui.shell import Shell\n    from ..services import records\n",
                   encoding="utf-8")
    found = violations([(bad, "helpline.data.probe")])
    assert len(found) == 2 and "helpline.ui.shell" in found[0] and "helpline.services" in found[1]
