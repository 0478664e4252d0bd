"""Write changed metadata back into its YAML text, keeping the file's comments, key order and flow style.

The designers edit an object as plain data and save the whole object after every edit. Dumping that data
afresh would rewrite the file (comments lost, ``{en: .., zh_CN: ..}`` expanded to blocks), so history and
diffs would show every line as changed. :func:`update_text` instead loads the previous text with
ruamel.yaml's round-trip loader, merges the new data into it (mappings key by key, lists item by item —
items matched by their ``name`` or ``code`` — and scalars only where the value changed) and dumps it with
the file's own indentation: a one-item change is a one-line diff.
"""

from __future__ import annotations

import difflib
import io
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from .yamlpos import dump

_IDENTITY_KEYS = ("name", "code")
"""Keys that identify an item of a list (menu items, fields, category nodes, IVR nodes by name)."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long flow mapping: the line stays as it was written
    yaml.allow_unicode = True
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # [{notify: [x]}] stays, not [notify: [x]]
    return yaml


def update_text(old_text: str, data: Mapping[str, Any]) -> str:
    """``data`` as YAML, written into ``old_text`` so that only what changed differs (comments, key order,
    flow style and quoting of the rest kept). Without usable old text: the canonical dump."""
    if not old_text.strip():
        return dump(dict(data))
    with _lock:
        tree = _trees.pop(old_text, None)  # taken: a tree is merged into by one caller only
    if tree is None:
        try:
            tree = _yaml().load(old_text)
        except YAMLError:
            return dump(dict(data))
    if not isinstance(tree, CommentedMap):
        return dump(dict(data))
    _merge_map(tree, data)
    yaml = _yaml()
    yaml.indent(**_indentation(old_text))
    out = io.StringIO()
    yaml.dump(tree, out)
    text = _keep_rewrapped_lines(old_text, out.getvalue())
    with _lock:
        _trees[text] = tree
        while len(_trees) > _TREES_KEPT:
            _trees.pop(next(iter(_trees)))
    return text


_TREES_KEPT = 64
_trees: dict[str, CommentedMap] = {}
"""The parsed tree of recently written texts: the designer's next edit merges into it without parsing the
text again (ruamel's round-trip parser is pure Python: ~10 ms per 100 lines)."""
_lock = threading.Lock()
_SEQ_ITEM = re.compile(r"^( *)- ")
_KEY_ONLY = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")


def _keep_rewrapped_lines(old: str, new: str) -> str:
    """``new`` with the old lines put back where they differ only in line breaks and spaces: ruamel writes a
    flow mapping that the file wraps over two lines on one line."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if old_lines == new_lines:
        return new
    kept: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        was, now = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "replace" and _SPACES.sub(" ", was) == _SPACES.sub(" ", now):
            kept.extend(old_lines[i1:i2])
        else:
            kept.extend(new_lines[j1:j2])
    return "".join(kept)


_SPACES = re.compile(r"\s+")


def _indentation(text: str) -> dict[str, int]:
    """The file's mapping indent, sequence indent and dash offset (``items:\n  - {..}``: 2, 4, 2), read from
    the first block list and nested mapping (defaults: 2, 4, 2 as the shipped files)."""
    mapping, offset = 0, -1
    parent: int | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        item = _SEQ_ITEM.match(line)
        if parent is not None:
            if item and offset < 0:
                offset = indent - parent
            elif not item and indent > parent and not mapping:
                mapping = indent - parent
        key = _KEY_ONLY.match(line)
        parent = len(key.group(1)) if key else None
        if mapping and offset >= 0:
            break
    mapping = mapping or 2
    offset = 2 if offset < 0 else offset
    return {"mapping": mapping, "sequence": offset + 2, "offset": offset}


# ------------------------------------------------------------------------------------------------ merging
def _same_scalar(old: Any, new: Any) -> bool:
    if isinstance(old, (Mapping, list)) or isinstance(new, (Mapping, list)):
        return False
    if isinstance(old, bool) != isinstance(new, bool) or isinstance(old, str) != isinstance(new, str):
        return False
    return bool(old == new)


def _merge(old: Any, new: Any, like: Any = None) -> Any:
    """``new`` with as much of ``old`` (and its formatting) kept as the values allow."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        _merge_map(old, new)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        _merge_seq(old, new)
        return old
    if _same_scalar(old, new):
        return old
    return _fresh(new, like=old if like is None else like)


def _merge_map(old: CommentedMap, new: Mapping[str, Any]) -> None:
    for key in [k for k in old if k not in new]:
        del old[key]
    previous: Any = None
    for key, value in new.items():
        if key in old:
            old[key] = _merge(old[key], value)
        else:
            keys = list(old)
            position = keys.index(previous) + 1 if previous in old else 0
            old.insert(position, key, _fresh(value))
        previous = key
    # keys only in a different order stay where the file has them (a mapping's order means nothing)


def _identity(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, Mapping):
        for key in _IDENTITY_KEYS:
            value = item.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return key, value
    return None


def _merge_seq(old: CommentedSeq, new: list[Any]) -> None:
    by_identity: dict[tuple[str, Any], int] = {}
    for i, item in enumerate(old):
        ident = _identity(item)
        if ident is not None:
            by_identity.setdefault(ident, i)
    used: set[int] = set()
    merged: list[tuple[int | None, Any]] = []
    sibling = next((o for o in old if isinstance(o, (CommentedMap, CommentedSeq))), None)
    for j, value in enumerate(new):
        ident = _identity(value)
        match: int | None = by_identity.get(ident) if ident is not None else None
        if match is None and ident is None and j < len(old) and _identity(old[j]) is None:
            match = j  # items without a name: matched by position
        if match is not None and match not in used:
            used.add(match)
            merged.append((match, _merge(old[match], value)))
        else:
            merged.append((None, _fresh(value, like=sibling)))
    comments = dict(old.ca.items)
    list.clear(old)  # the list's own methods would shift the comments index by index
    list.extend(old, [value for _, value in merged])
    old.ca.items.clear()
    for position, (index, _) in enumerate(merged):
        if index is not None and index in comments:
            old.ca.items[position] = comments[index]


def _flat(value: Any) -> bool:
    items = value.values() if isinstance(value, Mapping) else value
    return all(not isinstance(v, (Mapping, list)) and not (isinstance(v, str) and "\n" in v) for v in items)


def _fresh(value: Any, like: Any = None) -> Any:
    """A new value in the file's style: flow style like its siblings, or for a small mapping or list of
    plain values (labels, field lists); multi-line text as a literal block."""
    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _fresh(item)
        flow = like.fa.flow_style() if isinstance(like, (CommentedMap, CommentedSeq)) else None
        if flow or (flow is None and value and _flat(value) and len(value) <= 4):
            node.fa.set_flow_style()
        return node
    if isinstance(value, Sequence) and not isinstance(value, str):
        seq = CommentedSeq([_fresh(v) for v in value])
        if value and _flat(value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value
