"""Extension hooks: a Python function from ``extensions/<name>/`` called by a ``hook`` node.

An extension is a package ``extensions/<name>/__init__.py`` with a mapping ``IVR_HOOKS`` of function
name → callable. A ``hook`` node names ``<extension>.<function>``; the function is called with one
:class:`HookCall` and returns None (go on to the node's ``next``) or the name of a node of the flow to
go to. It may read the caller and customer and set call variables (``call.vars``), which later nodes
use as ``var.<name>``. Anything it raises is caught: the node's ``on_error`` fallback is taken and the
error is kept on the call record. Hooks may block (e.g. ask a billing system), but every second they take
the caller waits in silence: each runs within its extension's time limit (``TIME_LIMIT_S``, default 2 s;
see ``helpline.extension_registry``), and one that runs over is an error like any other.

```python
# extensions/billing_demo/__init__.py
def balance(call: HookCall) -> str | None:
    call.vars["balance"] = 42
    return None

IVR_HOOKS = {"balance": balance}
```
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from helpline.extension_registry import registry

__all__ = ["HookCall", "HookError", "HookFunction", "HookRegistry"]


@dataclass
class HookCall:
    """What a hook function sees of the call."""

    call_id: int
    flow: str
    node: str
    caller_number: str
    customer: Mapping[str, Any] | None
    tier: str | None
    region: str | None
    language: str
    params: Mapping[str, Any]
    vars: dict[str, Any] = field(default_factory=dict)


HookFunction = Callable[[HookCall], str | None]


class HookError(Exception):
    """A hook cannot be found or did something not allowed (e.g. named an unknown node)."""


class HookRegistry:
    """Finds hook functions by ``<extension>.<function>``; extra ones can be registered (tests)."""

    def __init__(self, extra: Mapping[str, HookFunction] | None = None) -> None:
        self._extra: dict[str, HookFunction] = dict(extra or {})
        self._found: dict[str, HookFunction] = {}

    def register(self, name: str, function: HookFunction) -> None:
        self._extra[name] = function

    def get(self, name: str) -> HookFunction:
        if name in self._extra:
            return self._extra[name]
        if name not in self._found:
            found = registry().ivr_hook(name)
            if isinstance(found, str):
                raise HookError(found)
            self._found[name] = found
        return self._found[name]
