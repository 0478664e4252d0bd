"""Every document the code and the docs point to is in the repository.

* In code (``*.py``, the YAML metadata and locale files, ``*.conf``): every ``something.md`` named, e.g.
  ``docs/asterisk-agi.md`` in a docstring, exists — a path relative to the repository root, a bare name in
  the root or in ``docs/``.
* In every ``*.md`` file: every relative link ``[text](path#anchor)`` names a file that exists (relative
  to the linking file), and the anchor is a heading of the target; every ``.md`` path named in the text
  exists too.

Documents outside the repository (a ``../shared`` folder, a design document only some people have) are
what this guards against: users never see them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", "var", "build", "dist", "node_modules",
             "__pycache__"}
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".conf", ".toml"}

_MD_NAME = re.compile(r"(?<![\w./-])((?:\.\./|\./)?[\w][\w./-]*\.md)(?![\w])")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _files(suffixes: set[str]) -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        if path.is_file() and path.suffix in suffixes and path != Path(__file__).resolve():
            found.append(path)
    return sorted(found)


def _exists_named(name: str, where: Path, root: Path) -> bool:
    """A ``.md`` name as written in text: relative to the root or the writing file, or a bare name."""
    candidates = [root / name, where.parent / name]
    if "/" not in name:
        candidates.append(root / "docs" / name)
    return any(c.resolve().is_file() for c in candidates)


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    seen: Counter[str] = Counter()
    out: set[str] = set()
    in_fence = False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            base = slug(line.lstrip("#"))
            out.add(base if not seen[base] else f"{base}-{seen[base]}")
            seen[base] += 1
    return out


def broken_links(markdown: Path, root: Path = ROOT) -> list[str]:
    problems = []
    in_fence = False
    for number, line in enumerate(markdown.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for target in _LINK.findall(line):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            path = (markdown.parent / path_part).resolve() if path_part else markdown
            where = f"{_rel(markdown, root)}:{number}: {target}"
            if not path.exists():
                problems.append(f"{where}: no such file")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                problems.append(f"{where}: no heading with anchor #{anchor}")
    return problems


def named_but_missing(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for name in _MD_NAME.findall(re.sub(r"https?://\S+", "", line)):
            if not _exists_named(name, path, root):
                problems.append(f"{_rel(path, root)}:{number}: {name}")
    return problems


def test_documents_named_in_code_exist() -> None:
    files = _files(CODE_SUFFIXES)
    assert any(p.name == "channel.py" for p in files)
    missing = [problem for path in files for problem in named_but_missing(path)]
    assert missing == [], "\n".join(missing)


def test_documents_named_in_markdown_exist() -> None:
    files = _files({".md"})
    assert ROOT / "README.md" in files
    missing = [problem for path in files for problem in named_but_missing(path)]
    assert missing == [], "\n".join(missing)


def test_links_in_markdown_resolve() -> None:
    broken = [problem for path in _files({".md"}) for problem in broken_links(path)]
    assert broken == [], "\n".join(broken)


@pytest.mark.parametrize("doc", ["architecture.md", "asterisk-agi.md", "glossary.md"])
def test_the_project_documents_itself(doc: str) -> None:
    """The documents the code relies on are the repository's own, linked from the README's tour."""
    assert (ROOT / "docs" / doc).is_file()
    assert f"(docs/{doc})" in (ROOT / "README.md").read_text(encoding="utf-8") or doc == "glossary.md"


def test_the_checks_catch_what_they_should(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# Readme\n", encoding="utf-8")
    (tmp_path / "docs" / "rules.md").write_text("# Rules\n\n## Places of use\n\n## Places of use\n",
                                                encoding="utf-8")
    page = tmp_path / "docs" / "probe.md"
    page.write_text(
        "See [rules](rules.md#places-of-use-1), [gone](nowhere.md), [bad anchor](rules.md#no-such-heading),\n"
        "[ok](../README.md), [here](#see) and ../shared/docs/DESIGN.md, DESIGN.md, docs/rules.md, rules.md.\n"
        "```\n[inside a fence](ignored.md)\n```\n", encoding="utf-8")
    links = broken_links(page, tmp_path)
    names = named_but_missing(page, tmp_path)
    assert [p.split(": ", 1)[1] for p in links] == [
        "nowhere.md: no such file", "rules.md#no-such-heading: no heading with anchor #no-such-heading",
        "#see: no heading with anchor #see"]
    assert [p.split(": ", 1)[1] for p in names] == ["nowhere.md", "../shared/docs/DESIGN.md", "DESIGN.md", "ignored.md"]
    assert slug("pyst2's defects and the workarounds") == "pyst2s-defects-and-the-workarounds"
    assert slug("Errors: 510, 511, 520") == "errors-510-511-520"
