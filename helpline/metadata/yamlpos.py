"""Read YAML keeping where every value came from, so problems point at ``file:line:col``.

:func:`load_with_positions` returns plain Python data and a map from each value's path (a tuple of keys
and list indexes, as in pydantic's ``loc``) to its 1-based (line, column). Duplicate keys are reported
rather than silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]


@dataclass
class Positioned:
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path`` or of its nearest ancestor that has one (the key's position if ``key``)."""
        p = tuple(path)
        while True:
            if key and p in self.key_positions:
                return self.key_positions[p]
            if p in self.positions:
                return self.positions[p]
            if not p:
                return (1, 1)
            p = p[:-1]


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter when available (ten times faster: the designers write an object after every edit)."""


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader (no Python objects; libyaml's C parser when available); ``on``/``off``/``yes``/``no`` stay
    strings as in YAML 1.2."""


# YAML 1.1 reads yes/no/on/off as booleans; people write `no: ...` keys and `on` values. Keep only true/false.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Constructor(yaml.SafeLoader):
    """Builds scalars with the same resolvers as :class:`_Loader` (pure Python, used node by node)."""


_Constructor.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_with_positions(text: str) -> Positioned:
    """Parse one YAML document. Raises ``yaml.YAMLError`` (with marks) on a syntax error."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    result = Positioned(data=None)
    if root is None:
        return result
    constructor = _Constructor("")

    def build(node: Node, path: Path) -> Any:
        result.positions[path] = _pos(node)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            constructor.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    key = str(key)
                kpath = (*path, key)
                if key in out:
                    result.duplicates.append((kpath, *_pos(key_node)))
                result.key_positions[kpath] = _pos(key_node)
                out[key] = build(value_node, kpath)
            return out
        if isinstance(node, SequenceNode):
            return [build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return constructor.construct_object(node, deep=True)

    result.data = build(root, ())
    constructor.dispose()
    return result


def dump(data: Any) -> str:
    """Canonical YAML for metadata written by Helpline (designers, export of web-made revisions)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=110)
