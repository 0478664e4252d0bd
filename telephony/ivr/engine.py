"""The IVR interpreter: runs one call through a flow on any :class:`~telephony.switch.base.Switch`.

```python
engine = IvrEngine(platform)
outcome = engine.run_call(SimulatedSwitch("1,2"), caller_number="13800000000", dnid="96100")
outcome.result, outcome.queue, outcome.trail          # 'transfer', 'consult', [{'node': 'start', ...}, ...]
```

A call: choose the flow (script path name, else dialled number) → open the call record → identify the
caller → run nodes from ``start`` until one ends the call (transfer, hang-up, block, error) → set the
channel variables ``HELPLINE_RESULT``, ``HELPLINE_QUEUE``, ``HELPLINE_TIER``, ``HELPLINE_CALL_ID`` →
close the call record with the trail. Whatever happens (the caller hangs up, the peer misbehaves, a
rule or hook fails) the record is closed, and a failing node takes its fallback (``on_error``, a
branch's ``otherwise``, the flow's ``on_error``) before the call is given up with ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpline.data.database import session
from helpline.metadata.kinds.ivr import BranchNode, CollectNode, NodeBase, SayNode
from helpline.metadata.rule_checks import place
from helpline.rules import RuleRuntimeError
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.control.base import Target
from telephony.ivr.context import CallState
from telephony.ivr.flows import CompiledFlow, FlowCatalog
from telephony.ivr.hooks import HookError, HookRegistry
from telephony.ivr.identify import CallerIdentifier, Identification
from telephony.ivr.nodes import END, HANDLERS, Blocked, Jump, fallback_of
from telephony.ivr.queueing import routing_record
from telephony.ivr.survey import land_survey
from telephony.router.service import RouterService
from telephony.switch.base import CommandFailed, Switch, SwitchError, SwitchHangup

__all__ = ["CHANNEL_VARIABLES", "CallOutcome", "IvrEngine"]

log = logging.getLogger(__name__)

CHANNEL_VARIABLES = ("HELPLINE_RESULT", "HELPLINE_QUEUE", "HELPLINE_TIER", "HELPLINE_CALL_ID")
"""Channel variables set when the IVR lets a call go (the dialplan reads them after ``AGI()``)."""


@dataclass(frozen=True)
class TransferIn:
    """A call coming back after an agent's transfer: the target, the call it continues, its queue."""

    target: Target
    from_call: int
    queue: str | None = None


@dataclass(frozen=True)
class CallOutcome:
    """How a call left the IVR (also stored on its call record)."""

    call_id: int
    result: str
    flow: str | None
    queue: str | None = None
    tier: str | None = None
    priority: int | None = None
    hangup_node: str | None = None
    error: dict[str, Any] | None = None
    trail: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    identify_ms: float = 0.0


class IvrEngine:
    """Runs calls through the platform's live IVR flows (one engine serves every call, thread-safe)."""

    def __init__(self, platform: Platform, *, calls: CallService | None = None,
                 hooks: HookRegistry | None = None, router: RouterService | None = None) -> None:
        self.platform = platform
        self.router = router
        """The router transfer nodes hand callers to; None: the dialplan's own queue takes them."""
        self.calls = calls or CallService()
        self.catalog = FlowCatalog(platform)
        self.identifier = CallerIdentifier(platform, self.calls)
        self.hooks = hooks or HookRegistry()

    # ------------------------------------------------------------------------------------------ a call
    def run_call(self, switch: Switch, *, caller_number: str | None, dnid: str | None = None,
                 flow_name: str | None = None, uniqueid: str = "", channel: str = "",
                 language: str | None = None, on_open: Callable[[int], None] | None = None,
                 transfer: TransferIn | None = None, variables: dict[str, Any] | None = None) -> CallOutcome:
        """Run one call to its end and return how it ended (never raises for call problems).

        ``variables``: call variables the flow starts with (``var.*``; a reminder campaign's amount and due date).

        ``transfer``: the call comes back from Asterisk after an agent transferred it (AMI ``Redirect`` to
        the dialplan's transfer context, ``agi://…/transfer/<kind>/<value>?call=<id>``): a queue or agent
        target goes straight to the router, an ``ivr`` target runs that flow; the new call record notes
        ``transferred_from``.

        ``on_open(call_id)`` is told the call id as soon as the call record is open (not when it could
        not be opened); a callback that raises is logged and the call goes on.
        """
        flow: CompiledFlow | None = None
        problem: dict[str, Any] | None = None
        try:
            flow = self.catalog.choose(flow_name=flow_name, dnid=dnid)
        except Exception as exc:  # a flow that does not compile (only possible with unchecked metadata)
            log.exception("IVR flow for %s/%s cannot be compiled", flow_name, dnid)
            problem = {"id": "IVR-FLOW", "message": f"the flow cannot be compiled: {exc}"}
        with session():  # one connection for the record and the identification
            call_id = self._open(uniqueid=uniqueid, channel=channel[:128], switch=switch.kind,
                                 flow=flow.name if flow else flow_name, dnid=dnid, caller_number=caller_number)
            ident = self.identifier.identify(caller_number) if flow is not None else None
        if on_open is not None and call_id:
            try:
                on_open(call_id)
            except Exception:
                log.exception("call %s: the on_open callback failed", call_id)
        if flow is None or ident is None:
            problem = problem or {"id": "IVR-NO-FLOW",
                                  "message": f"no IVR flow for script {flow_name!r} or number {dnid!r}"}
            ident = Identification(number=caller_number or "")
            call = CallState(call_id, _NO_FLOW, switch, ident, dnid or "")
            call.result, call.error = "error", problem
            return self._finish(call)
        call = CallState(call_id, flow, switch, ident, dnid or "", language or flow.flow.language)
        call.vars.update(variables or {})
        if transfer is not None:
            call.vars["transferred_from"] = transfer.from_call
        try:
            if transfer is not None and transfer.target.kind in ("queue", "agent"):
                self._run_transfer(call, transfer)
            else:
                self._run(call)
        except SwitchHangup:
            call.result = "hangup"
            call.hangup_node = call.trail.current.node if call.trail.current else None
        except SwitchError as exc:
            log.warning("call %s: the channel failed: %s", call_id, exc)
            call.result = "error"
            call.fail({"id": "IVR-SWITCH", "message": str(exc), "node": _node(call)})
            if call.trail.current is not None:
                call.trail.end(call.trail.current, outcome="channel failed")
        except Exception as exc:
            log.exception("call %s: the IVR failed", call_id)
            call.result = "error"
            call.fail({"id": "IVR-INTERNAL", "message": repr(exc), "node": _node(call)})
        return self._finish(call)

    def _run_transfer(self, call: CallState, transfer: TransferIn) -> None:
        """A transferred call: straight to the router, for the queue or the agent named."""
        from helpline.metadata.kinds.ivr import TransferNode
        from telephony.ivr.queueing import connect

        if self.router is None:
            raise CommandFailed("a transfer needs the router, and this process has none")
        target = transfer.target
        settings = self.router.router.settings
        queue = target.value if target.kind == "queue" else (transfer.queue or next(iter(settings.queues), ""))
        node = TransferNode(type="transfer", queue=queue)
        step = call.trail.begin("transfer", "transfer", call.flow.name)
        try:
            connect(self, call, node, step, self.router, agent=target.value if target.kind == "agent" else None)
        finally:
            call.trail.end(step, outcome=step.outcome or call.result or "")
        call.result = call.result or "transfer"

    def _open(self, **values: Any) -> int:
        try:
            return self.calls.open(**values)
        except Exception:
            log.exception("the call record could not be opened; the call goes on without one")
            return 0

    # ------------------------------------------------------------------------------------- the loop
    def _run(self, call: CallState) -> None:
        node_name: str = call.flow.flow.start
        steps = 0
        block_routed = False
        while True:
            steps += 1
            flow = call.flow.flow
            node = flow.node(node_name)
            if steps > flow.max_steps or node is None:
                why = (f"more than {flow.max_steps} steps (a loop in the flow?)" if node is not None
                       else f"no node '{node_name}' in flow '{flow.name}'")
                call.result = "error"
                call.fail({"id": "IVR-FLOW", "message": why, "node": node_name, "flow": flow.name})
                return
            step = call.trail.begin(node_name, node.type, call.flow.name)
            try:
                nxt = HANDLERS[node.type](self, call, node_name, node, step)
            except SwitchHangup:
                call.trail.end(step, outcome="caller hung up")
                call.hangup_node = node_name
                call.result = "hangup"
                return
            except Blocked as exc:
                call.blocked = True
                target = flow.on_block if flow.on_block and not block_routed else None
                call.trail.end(step, target, outcome=f"blocked: {exc}")
                if target is None:
                    call.result = "blocked"
                    call.switch.hangup()
                    return
                block_routed = True
                node_name = target
                continue
            except SwitchError:
                raise
            except Exception as exc:
                error = self._error(call, node_name, node, exc)
                call.fail(error)
                target = fallback_of(node) or (flow.on_error if flow.on_error != node_name else None)
                log.warning("call %s: node %s failed (%s); %s", call.call_id, node_name, error["message"],
                            f"going to {target}" if target else "giving up")
                call.trail.end(step, target, outcome="failed")
                if target is None:
                    call.result = "error"
                    return
                node_name = target
                continue
            if nxt is END:
                call.trail.end(step, outcome=call.result or "")
                return
            if isinstance(nxt, Jump):
                other = self.catalog.get(nxt.flow)
                call.trail.end(step, f"{nxt.flow}:{nxt.node or 'start'}")
                if other is None:
                    call.result = "error"
                    call.fail({"id": "IVR-FLOW", "message": f"no IVR flow '{nxt.flow}'", "node": node_name})
                    return
                call.flow = other
                node_name = nxt.node or other.flow.start
                continue
            assert isinstance(nxt, str)
            call.trail.end(step, nxt)
            node_name = nxt

    def _error(self, call: CallState, name: str, node: NodeBase, exc: Exception) -> dict[str, Any]:
        if isinstance(exc, RuleRuntimeError):
            error: dict[str, Any] = {"id": exc.id, "message": exc.message, "node": name, "flow": call.flow.name,
                                     "line": exc.line, "column": exc.column, "excerpt": exc.excerpt}
            if exc.rule_line is not None:
                error["rule_line"] = exc.rule_line
            prop = {BranchNode: "rules", SayNode: "value", CollectNode: "rule"}.get(type(node))
            if prop and exc.line:
                placed = place(exc.problem, call.flow.source, ("nodes", name, prop))
                error["location"] = placed.location
            return error
        kind = "IVR-HOOK" if isinstance(exc, HookError) or node.type == "hook" else (
            "IVR-COMMAND" if isinstance(exc, CommandFailed) else "IVR-INTERNAL")
        if kind == "IVR-INTERNAL":
            log.error("call %s: node %s raised", call.call_id, name, exc_info=exc)
        return {"id": kind, "message": str(exc) or repr(exc), "node": name, "flow": call.flow.name}

    # ------------------------------------------------------------------------------------ finishing
    def _finish(self, call: CallState) -> CallOutcome:
        result = call.result or "completed"
        if call.blocked and result != "transfer":
            result = "blocked"
        if call.survey is not None and call.routed == "answered":
            result = "connected"  # the talk was over before the survey (a caller leaving it ends nothing more)
        tier = call.tier or call.ident.tier
        values = {"HELPLINE_RESULT": result, "HELPLINE_CALL_ID": str(call.call_id),
                  "HELPLINE_QUEUE": call.queue or "", "HELPLINE_TIER": tier or ""}
        for name in CHANNEL_VARIABLES:
            if name in ("HELPLINE_QUEUE", "HELPLINE_TIER") and not values[name]:
                continue
            try:
                call.switch.set_variable(name, values[name])
            except (SwitchHangup, SwitchError, CommandFailed) as exc:
                log.info("call %s: cannot set %s (%s)", call.call_id, name, exc)
                break
        trail = call.trail.as_list()
        customer = call.ident.customer
        customer_id = int(customer["id"]) if customer and customer.get("id") is not None else None
        flow = call.survey_from or (call.flow.name if call.flow is not _NO_FLOW else None)
        variables = call.public_vars()
        if call.survey is not None:
            variables["survey"] = dict(call.survey)
        record: dict[str, Any] = {
            "flow": flow,
            "customer_id": customer_id, "customer_name": (customer or {}).get("name"),
            "tier": tier, "region": call.ident.region, "city": call.ident.city,
            "blacklisted": call.ident.blacklisted, "result": result, "queue": call.queue,
            "priority": call.priority, "hangup_node": call.hangup_node, "error": call.error, "trail": trail,
            "variables": variables, "recording": call.recording, "callback_number": call.callback_number,
            "identify_ms": round(call.ident.elapsed_ms, 3), **routing_record(call),
        }
        if call.call_id:
            self.calls.close(call.call_id, **record)
            if call.survey:
                land_survey(self.platform, call.call_id, call.survey)
        if call.ident.remember and call.ident.region:
            self.calls.remember_region(call.ident.number, call.ident.region)
        if call.call_id and (call.callback_number or call.recording) and not call.blocked:
            self._callback_task(call, tier, customer_id)
        log.info("call %s from %s: %s%s after %d node(s)", call.call_id, call.ident.number or "unknown", result,
                 f" to {call.queue}" if call.queue else "", len(trail))
        return CallOutcome(call.call_id, result, flow, call.queue, tier, call.priority, call.hangup_node,
                           call.error, trail, variables, customer_id, call.ident.elapsed_ms)

    def _callback_task(self, call: CallState, tier: str | None, customer_id: int | None) -> None:
        """A call-back request or a voice message becomes a task of the call-back queue (handed to the router
        at once when this process routes, else found by the routing process's sync); never fails the call."""
        from helpline.services import callbacks as callback_service
        from telephony.callbacks import CallbackQueue

        try:
            policy = callback_service.policy_of(self.platform.metadata)
            queue = call.callback_queue or call.queue or policy.default_queue()
            if queue is None:
                return
            args: dict[str, Any] = {
                "call_id": call.call_id, "number": call.callback_number or call.ident.number, "queue": queue,
                "tier": tier, "recording": call.recording, "customer_id": customer_id,
                "customer_name": (call.ident.customer or {}).get("name"), "region": call.ident.region,
                "city": call.ident.city}
            if self.router is not None:
                CallbackQueue(self.platform, self.router).from_call(**args)
            else:
                callback_service.create(source="message" if call.recording else "ivr", policy=policy, **args)
        except callback_service.CallbackError as exc:
            log.info("call %s: no call-back task: %s", call.call_id, exc)
        except Exception:
            log.exception("call %s: the call-back task could not be made", call.call_id)


def _node(call: CallState) -> str | None:
    return call.trail.current.node if call.trail.current else None


class _NoFlow(CompiledFlow):
    """Stands in for the flow of a call that found none (nothing to compile)."""

    def __init__(self) -> None:
        self.name = ""
        self.prompts = {}
        self.branches = {}
        self.expressions = {}
        self.conditions = {}


_NO_FLOW = _NoFlow()
