"""Load metadata objects from YAML text or a directory, reporting every problem of every file at once.

The directory layout is one object per file under ``<dir>/<folder>/<name>.yaml`` with the folders of
:data:`helpline.metadata.kinds.FOLDERS`. Schema errors from pydantic are turned into catalogued problems
placed at the line and column of the offending value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from helpline.diagnostics import Problem, caret_excerpt

from .checks import advice, cross_check
from .kinds import FOLDERS, KIND_OF_FOLDER, KINDS, MetaObject
from .metaset import MetadataSet, Source
from .problems import problem
from .yamlpos import AliasExpansionError, load_with_positions

NAME_FIELDS = {"name", "code", "parent", "field", "entity", "category", "link", "link_key", "via", "screen",
               "query", "form", "rows", "columns", "of"}

_ERROR_IDS = {
    "missing": "HL-E101",
    "extra_forbidden": "HL-E102",
    "literal_error": "HL-E105",
    "enum": "HL-E105",
    "value_error": "HL-E106",
    "assertion_error": "HL-E106",
    "too_short": "HL-E106",
    "too_long": "HL-E106",
    "less_than": "HL-E106",
    "less_than_equal": "HL-E106",
    "greater_than": "HL-E106",
    "greater_than_equal": "HL-E106",
    "string_too_short": "HL-E106",
    "string_too_long": "HL-E106",
}


@dataclass
class ParsedObject:
    obj: MetaObject | None
    source: Source
    problems: list[Problem] = field(default_factory=list)


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Drop pydantic's union-branch tags from ``loc`` so it is a path into the data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part not in current and not _is_tag(part):
            path.append(part)  # a missing key: keep it for the message, position falls back to the parent
            current = None
    return tuple(path)


def _is_tag(part: str) -> bool:
    return part[:1].isupper() or "[" in part or part in {"str", "int", "float", "bool", "list", "dict", "none"}


def _schema_problems(err: ValidationError, data: Any, source: Source) -> list[Problem]:
    grouped: dict[tuple[str | int, ...], list[dict[str, Any]]] = {}
    for detail in err.errors(include_url=False):
        grouped.setdefault(_clean_loc(tuple(detail["loc"]), data), []).append(dict(detail))
    problems: list[Problem] = []
    for path, errors in grouped.items():
        where = ".".join(str(p) for p in path) or "(top level)"
        if len(errors) > 1 and len({e["type"] for e in errors}) > 1 and not any(
                e["type"] in ("missing", "extra_forbidden") for e in errors):
            forms = "; ".join(sorted({e["msg"] for e in errors}))
            problems.append(source.problem("HL-E103", f"{where}: value matches none of the allowed forms ({forms})",
                                           path))
            continue
        for e in errors:
            kind = str(e["type"])
            check_id = _ERROR_IDS.get(kind, "HL-E103")
            if kind == "string_pattern_mismatch" and path and (path[-1] in NAME_FIELDS or isinstance(path[-1], int)):
                check_id = "HL-E104"
            msg = str(e["msg"]).removeprefix("Value error, ")
            if kind == "missing":
                text = f"{where}: required property is missing"
                problems.append(source.problem(check_id, text, path[:-1] if path else path))
            elif kind == "extra_forbidden":
                problems.append(source.problem(check_id, f"{where}: unknown property", path, key=True))
            elif check_id == "HL-E104" and e.get("input") == "":
                problems.append(source.problem(check_id, f"{where}: is empty; fill it in or remove it", path))
            elif check_id == "HL-E104":
                problems.append(source.problem(check_id, f"{where}: {e.get('input')!r} is not a valid name", path))
            else:
                problems.append(source.problem(check_id, f"{where}: {msg}", path))
    return problems


_CACHE: dict[tuple[str, str, str | None, str | None], ParsedObject] = {}
_CACHE_LIMIT = 4096


def parse_text(text: str, file: str, expected_kind: str | None = None,
               expected_name: str | None = None) -> ParsedObject:
    """Parse and validate one object from YAML text. Never raises for bad input: problems are returned.

    Results are memoised by (text, file, kind, name): the store re-reads the same revisions on every sync
    and publish. Parsed objects are shared, so callers must not mutate them (copy with ``model_copy``)."""
    key = (text, file, expected_kind, expected_name)
    cached = _CACHE.get(key)
    if cached is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        cached = _CACHE[key] = _parse_text(text, file, expected_kind, expected_name)
    return cached


def yaml_syntax_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    """``HL-E001`` for a file that is not YAML, at the position libyaml reports (with a caret); ``HL-E005``
    for aliases that would expand too far."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        excerpt = caret_excerpt(text, line, col) if line and col else ""
        if isinstance(exc, AliasExpansionError):
            return problem("HL-E005", str(exc.problem), file=file, line=line, column=col, excerpt=excerpt)
        return problem("HL-E001", f"YAML syntax error: {exc.problem or exc}", file=file, line=line, column=col,
                       excerpt=excerpt)
    return problem("HL-E001", f"YAML syntax error: {exc}", file=file)


def _parse_text(text: str, file: str, expected_kind: str | None, expected_name: str | None) -> ParsedObject:
    source = Source(file=file, text=text)
    try:
        positioned = load_with_positions(text)
    except yaml.YAMLError as exc:
        return ParsedObject(None, source, [yaml_syntax_problem(exc, text, file)])
    source.positioned = positioned
    problems = [source.problem("HL-E003", f"duplicate key '{path[-1]}'", path, key=True)
                for path, _, _ in positioned.duplicates]
    data = positioned.data
    if not isinstance(data, dict):
        problems.append(source.problem("HL-E002", "the file must hold one mapping with 'kind' and 'name'"))
        return ParsedObject(None, source, problems)
    kind = data.get("kind")
    if kind is None:
        problems.append(source.problem("HL-E101", "(top level): required property 'kind' is missing"))
        return ParsedObject(None, source, problems)
    if kind not in KINDS:
        problems.append(source.problem("HL-E010", f"unknown kind {kind!r}; kinds are: {', '.join(KINDS)}", ("kind",)))
        return ParsedObject(None, source, problems)
    if expected_kind and kind != expected_kind:
        problems.append(source.problem(
            "HL-E011", f"a '{kind}' in the folder of '{expected_kind}' objects ({FOLDERS[expected_kind]}/)",
            ("kind",), hint=f"Move the file to {FOLDERS[str(kind)]}/ or set 'kind: {expected_kind}'."))
    try:
        obj = KINDS[kind].model_validate(data)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, data, source))
        return ParsedObject(None, source, problems)
    if expected_name and obj.name != expected_name:
        problems.append(source.problem("HL-E012", f"object '{obj.name}' is in file '{expected_name}.yaml'", ("name",)))
    return ParsedObject(obj, source, problems)


@dataclass
class LoadResult:
    metadata: MetadataSet
    problems: list[Problem]
    files: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in self.metadata.counts().items())
        return f"{len(self.metadata)} objects from {self.files} files ({counts}) in {self.seconds * 1000:.0f} ms"


def metadata_files(directory: Path) -> list[tuple[str, Path]]:
    """(folder, path) of every YAML file under the kind folders, sorted for stable reports."""
    found: list[tuple[str, Path]] = []
    for folder in sorted(KIND_OF_FOLDER):
        base = directory / folder
        if base.is_dir():
            found += [(folder, p) for p in sorted(base.rglob("*.y*ml")) if p.suffix in (".yaml", ".yml")]
    return found


def read_file(path: Path, rel: str) -> tuple[str | None, Problem | None]:
    try:
        return path.read_bytes().decode("utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, problem("HL-E004", f"cannot read the file: {exc}", file=rel)


def build_set(parsed: list[ParsedObject]) -> tuple[MetadataSet, list[Problem]]:
    """Index parsed objects (reporting duplicate names) and run the cross-reference checks."""
    mset = MetadataSet()
    problems: list[Problem] = []
    for item in parsed:
        problems.extend(item.problems)
        if item.obj is None:
            data = item.source.positioned.data if item.source.positioned else None
            if isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(data.get("name"), str):
                mset.broken.add((data["kind"], data["name"]))
            continue
        existing = mset.get(item.obj.kind, item.obj.name)
        if existing is not None:
            other = mset.source(existing).file
            problems.append(item.source.problem("HL-E201", f"{item.obj.kind} '{item.obj.name}' is defined again "
                                                f"(first in {other})", ("name",)))
            continue
        mset.add(item.obj, item.source)
    problems.extend(cross_check(mset))
    return mset, problems


def load_directory(directory: str | Path) -> LoadResult:
    """Load and check every metadata file under ``directory``."""
    start = time.perf_counter()
    root = Path(directory)
    parsed: list[ParsedObject] = []
    files = metadata_files(root)
    read_problems: list[Problem] = []
    for folder, path in files:
        rel = path.relative_to(root).as_posix()
        text, err = read_file(path, rel)
        if err:
            read_problems.append(err)
            continue
        assert text is not None
        parsed.append(parse_text(text, rel, KIND_OF_FOLDER[folder], path.stem))
    mset, problems = build_set(parsed)
    problems += advice(mset)  # warnings: reported here, never refusing a start or a publish
    return LoadResult(mset, read_problems + problems, len(files), time.perf_counter() - start)
