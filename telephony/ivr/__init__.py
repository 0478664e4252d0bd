"""The IVR interpreter: metadata-defined flows (kind ``ivr``) run against a switch.

* :class:`IvrEngine` (engine.py) runs one call: flow choice, caller identification, nodes, the call
  record, the channel variables. ``run_call(switch, caller_number=..., dnid=..., flow_name=...)``.
* nodes.py: what each node type does; flows.py: flows compiled per revision; identify.py: caller
  identification; context.py: the per-call state and rule context; trail.py: the trail; hooks.py:
  extension hooks.
* agi_handler.py: ``make_agi_handler(platform)`` for ``FastAGIServer.route('ivr', ...)``.

Reference: docs/ivr.md.
"""

from telephony.ivr.engine import CHANNEL_VARIABLES, CallOutcome, IvrEngine
from telephony.ivr.hooks import HookCall, HookError, HookRegistry

__all__ = ["CHANNEL_VARIABLES", "CallOutcome", "HookCall", "HookError", "HookRegistry", "IvrEngine"]
