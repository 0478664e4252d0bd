"""Checks of ``scorecard`` objects.

- ``HL-E430``: the sections' weights, or the items' weights inside one section, do not add up to 100.
- ``HL-E204``: ``errors`` names a category tree the set lacks; ``HL-E212``: two sections, or two items of one
  section, share a name.
"""

from __future__ import annotations

from helpline.diagnostics import Problem

from .kinds.scorecard import Scorecard
from .metaset import MetadataSet

_TOLERANCE = 0.01


def scorecards_of(mset: MetadataSet) -> dict[str, Scorecard]:
    return {n: o for n, o in mset.objects.get("scorecard", {}).items() if isinstance(o, Scorecard)}


def _scorecard(mset: MetadataSet, card: Scorecard) -> list[Problem]:
    src = mset.source(card)
    out: list[Problem] = []
    total = sum(s.weight for s in card.sections)
    if abs(total - 100) > _TOLERANCE:
        out.append(src.problem("HL-E430", f"the sections' weights add up to {total:g}, not 100", ("sections",)))
    seen: set[str] = set()
    for i, section in enumerate(card.sections):
        if section.name in seen:
            out.append(src.problem("HL-E212", f"section '{section.name}' appears twice", ("sections", i, "name")))
        seen.add(section.name)
        part = sum(item.weight for item in section.items)
        if abs(part - 100) > _TOLERANCE:
            out.append(src.problem("HL-E430", f"the items of section '{section.name}' weigh {part:g} together, "
                                              f"not 100", ("sections", i, "items")))
        names: set[str] = set()
        for j, item in enumerate(section.items):
            if item.name in names:
                out.append(src.problem("HL-E212", f"item '{item.name}' appears twice in section '{section.name}'",
                                       ("sections", i, "items", j, "name")))
            names.add(item.name)
    if card.errors and card.errors not in mset.categories and ("category", card.errors) not in mset.broken:
        out.append(src.problem("HL-E204", f"unknown category tree '{card.errors}'", ("errors",)))
    return out


def scorecard_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every scorecard of the set."""
    problems: list[Problem] = []
    for card in scorecards_of(mset).values():
        problems.extend(_scorecard(mset, card))
    return problems
