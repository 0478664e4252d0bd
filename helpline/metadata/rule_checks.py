"""Check the rule texts embedded in metadata with the rule language's checker.

Query logic (place of use ``query``), row scopes (``scope``) and validation rules (``validation``) are
checked against the context their object declares; problems keep the rule ids (``HL-R...``) and are placed
in the metadata file at the rule's line.
"""

from __future__ import annotations

from helpline.diagnostics import Problem

from .metaset import MetadataSet


def rule_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every rule text in the set (filled in once the rule language is wired in)."""
    return []
