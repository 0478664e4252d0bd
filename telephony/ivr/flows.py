"""Flows ready to run: an ``ivr`` metadata object with its rules compiled and its prompts resolved.

:class:`FlowCatalog` finds the flow of a call (by name from the script path, else by the dialled
number) in the platform's live metadata and compiles it once per revision. A call holds the
:class:`CompiledFlow` it started with, so a flow published during the call does not change it.
"""

from __future__ import annotations

import threading
from typing import Any

from helpline.metadata.ivr_checks import expression_use, ivr_use, ivrs_of
from helpline.metadata.kinds import Ivr
from helpline.metadata.kinds.ivr import BranchNode, CollectNode, SayNode, SetNode
from helpline.metadata.metaset import MetadataSet, Source
from helpline.rules import CompiledExpression, CompiledRules, compile_expression, compile_rules
from helpline.services.platform import Platform
from helpline.services.values import normalise_phone
from telephony.switch.base import PromptRef


class CompiledFlow:
    """One flow revision with compiled rule texts (branch rules, say/set expressions, collect rules)."""

    def __init__(self, flow: Ivr, metadata: MetadataSet) -> None:
        self.flow = flow
        self.name = flow.name
        self.source: Source = metadata.source(flow)
        use = ivr_use(flow, metadata)
        value_use = expression_use(use, condition=False)
        condition_use = expression_use(use, condition=True)
        self.branches: dict[str, CompiledRules] = {}
        self.expressions: dict[tuple[str, str], CompiledExpression] = {}
        self.conditions: dict[str, CompiledExpression] = {}
        for name, node in flow.nodes.items():
            if isinstance(node, BranchNode):
                self.branches[name] = compile_rules(node.rules, use)
            elif isinstance(node, SayNode):
                self.expressions[(name, "value")] = compile_expression(node.value, value_use)
            elif isinstance(node, SetNode):
                for var, text in node.values.items():
                    self.expressions[(name, var)] = compile_expression(text, value_use)
            elif isinstance(node, CollectNode) and node.rule:
                self.conditions[name] = compile_expression(node.rule, condition_use)
        self.prompts: dict[str, PromptRef] = {
            name: PromptRef(name, p.file, {"en": p.text.en, **({"zh_CN": p.text.zh_CN} if p.text.zh_CN else {})})
            for name, p in flow.prompts.items()
        }

    def prompt(self, name: str | None) -> PromptRef | None:
        return self.prompts.get(name) if name else None


class FlowCatalog:
    """Live flows of a platform, compiled once per published revision (thread-safe)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._lock = threading.Lock()
        self._compiled: dict[int, tuple[Ivr, CompiledFlow]] = {}
        self._metadata: Any = None

    def _flows(self) -> tuple[MetadataSet, dict[str, Ivr]]:
        metadata = self.platform.metadata
        if metadata is not self._metadata:
            with self._lock:
                self._compiled.clear()
                self._metadata = metadata
        return metadata, ivrs_of(metadata)

    def compiled(self, flow: Ivr, metadata: MetadataSet) -> CompiledFlow:
        key = id(flow)
        with self._lock:
            found = self._compiled.get(key)
            if found is not None and found[0] is flow:
                return found[1]
        compiled = CompiledFlow(flow, metadata)
        with self._lock:
            self._compiled[key] = (flow, compiled)
        return compiled

    def get(self, name: str) -> CompiledFlow | None:
        """The live flow called ``name``, compiled."""
        metadata, flows = self._flows()
        flow = flows.get(name)
        return self.compiled(flow, metadata) if flow is not None else None

    def by_number(self, dnid: str | None) -> CompiledFlow | None:
        """The live flow whose access numbers include ``dnid``."""
        if not dnid:
            return None
        wanted = normalise_phone(dnid) or dnid
        metadata, flows = self._flows()
        for flow in flows.values():
            if any(wanted in (n, normalise_phone(n)) for n in flow.access_numbers):
                return self.compiled(flow, metadata)
        return None

    def choose(self, *, flow_name: str | None, dnid: str | None) -> CompiledFlow | None:
        """The flow named by the script path if it exists, else the flow of the dialled number."""
        if flow_name:
            found = self.get(flow_name)
            if found is not None:
                return found
        return self.by_number(dnid)

    def names(self) -> list[str]:
        return sorted(self._flows()[1])
