"""The ``category`` kind: a tree of codes with labels per language (types, tiers, regions, ...).

Nodes are a flat list with ``parent`` references, in display order: easy to edit at run time (add, rename,
move, retire) and to diff. A retired code stays valid on old records but is not offered for new ones.
"""

from __future__ import annotations

from typing import Literal

from .common import Code, Label, MetaObject, Strict


class CategoryNode(Strict):
    code: Code
    label: Label
    parent: Code | None = None
    retired: bool = False


class Category(MetaObject):
    kind: Literal["category"]
    label: Label
    nodes: list[CategoryNode] = []
    selectable: Literal["leaves", "any"] = "any"
    """Whether only leaf codes may be chosen on a record."""

    def node(self, code: str) -> CategoryNode | None:
        for n in self.nodes:
            if n.code == code:
                return n
        return None

    def codes(self, *, include_retired: bool = True) -> set[str]:
        return {n.code for n in self.nodes if include_retired or not n.retired}

    def children(self, code: str | None) -> list[CategoryNode]:
        return [n for n in self.nodes if n.parent == code]

    def path(self, code: str) -> list[CategoryNode]:
        """The node and its ancestors, root first (stops on a cycle)."""
        chain: list[CategoryNode] = []
        seen: set[str] = set()
        current = self.node(code)
        while current is not None and current.code not in seen:
            seen.add(current.code)
            chain.append(current)
            current = self.node(current.parent) if current.parent else None
        return list(reversed(chain))
