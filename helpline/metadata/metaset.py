"""A loaded, indexed set of metadata objects with the source each came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from helpline.diagnostics import Problem, caret_excerpt

from .kinds import KINDS, Category, Entity, Menu, MetaObject, Query, Role, Screen
from .problems import problem
from .yamlpos import Path, Positioned

T = TypeVar("T", bound=MetaObject)


@dataclass
class Source:
    """Where an object came from: a file (relative to the metadata directory) or a stored revision."""

    file: str
    text: str = ""
    positioned: Positioned | None = None

    def locate(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        if self.positioned is None:
            return None, None
        return self.positioned.locate(path, key=key)

    def problem(self, check_id: str, message: str, path: Path = (), *, key: bool = False,
                hint: str | None = None) -> Problem:
        line, column = self.locate(path, key=key)
        excerpt = caret_excerpt(self.text, line, column) if line and column and self.text else ""
        return problem(check_id, message, hint=hint, file=self.file, line=line, column=column, excerpt=excerpt)


@dataclass
class MetadataSet:
    """Objects by kind and name; ``sources`` keeps the file and positions of each for problem reports."""

    objects: dict[str, dict[str, MetaObject]] = field(default_factory=lambda: {k: {} for k in KINDS})
    sources: dict[tuple[str, str], Source] = field(default_factory=dict)
    broken: set[tuple[str, str]] = field(default_factory=set)
    """(kind, name) of objects that exist but failed their own checks: references to them are not reported."""

    def add(self, obj: MetaObject, source: Source) -> None:
        self.objects.setdefault(obj.kind, {})[obj.name] = obj
        self.sources[(obj.kind, obj.name)] = source

    def get(self, kind: str, name: str) -> MetaObject | None:
        return self.objects.get(kind, {}).get(name)

    def typed(self, kind: str, name: str, cls: type[T]) -> T | None:
        obj = self.get(kind, name)
        return obj if isinstance(obj, cls) else None

    def source(self, obj: MetaObject) -> Source:
        return self.sources.get((obj.kind, obj.name)) or Source(file=f"<{obj.kind}:{obj.name}>")

    def __iter__(self) -> Iterator[MetaObject]:
        for kind in KINDS:
            yield from self.objects.get(kind, {}).values()

    def __len__(self) -> int:
        return sum(len(v) for v in self.objects.values())

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.objects.items() if v}

    @property
    def entities(self) -> dict[str, Entity]:
        return self._of("entity", Entity)

    @property
    def categories(self) -> dict[str, Category]:
        return self._of("category", Category)

    @property
    def screens(self) -> dict[str, Screen]:
        return self._of("screen", Screen)

    @property
    def queries(self) -> dict[str, Query]:
        return self._of("query", Query)

    @property
    def menus(self) -> dict[str, Menu]:
        return self._of("menu", Menu)

    @property
    def roles(self) -> dict[str, Role]:
        return self._of("role", Role)

    def _of(self, kind: str, cls: type[T]) -> dict[str, T]:
        return {n: o for n, o in self.objects.get(kind, {}).items() if isinstance(o, cls)}

    def replaced(self, obj: MetaObject | None, kind: str, name: str, source: Source | None = None) -> MetadataSet:
        """A copy with one object replaced, added (``obj``) or removed (``obj`` None); the rest shared."""
        copy = MetadataSet(objects={k: dict(v) for k, v in self.objects.items()}, sources=dict(self.sources),
                           broken=set(self.broken) - {(kind, name)})
        copy.objects.setdefault(kind, {}).pop(name, None)
        copy.sources.pop((kind, name), None)
        if obj is not None:
            copy.add(obj, source or Source(file=f"<{kind}:{name}>"))
        return copy
