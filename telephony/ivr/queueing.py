"""The transfer node with a router: hold the caller on music until an agent is assigned, dial the agent.

```
enqueue ──empty──▶ node.empty (or leave the IVR with result "empty")
   │
   ▼ hold (music on hold, woken by the router) ◀─────────── no answer / busy: back to the head
   │ Offer(agent)                                   │
   ▼                                                │
 dial agent endpoint ──answer──▶ talk ──▶ call over (result "connected", routed "answered")
   │ caller hangs up: abandon        CallLeft timeout ──▶ node.timeout (or result "timeout")
```

Every report goes back to the router through the call's ticket: ringing, answered (the moment the
agent picks up, from the switch), no answer, abandoned, ended. Whatever happens — the caller hangs up,
the channel breaks, this thread fails — the ticket is closed, so nothing stays reserved.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from helpline.metadata.kinds.ivr import TransferNode
from helpline.services.recordings import recording_name
from telephony.control.base import Target
from telephony.control.channels import CHANNELS
from telephony.ivr.context import CallState
from telephony.ivr.trail import Step
from telephony.router.events import CallLeft, Offer
from telephony.router.model import CallRequest
from telephony.switch.base import CommandFailed, DialResult, SwitchHangup

if TYPE_CHECKING:
    from telephony.ivr.engine import IvrEngine
    from telephony.ivr.nodes import Next
    from telephony.router.service import RouterService, Ticket

log = logging.getLogger(__name__)

HOLD_S = 5.0
MAX_TRANSFERS = 10
TRANSFER_PRIORITY = 50
"""A transferred caller has waited once already: it goes ahead of callers who have not."""
EXTERNAL_RING_S = 60.0
"""Longest single hold before the ticket is looked at again (a router event wakes it sooner)."""


def request_for(call: CallState, node: TransferNode) -> CallRequest:
    """What the router needs to know about the caller (tier, region, the tier rules' context)."""
    context = call.context()
    tier = call.tier or call.ident.tier or "ordinary"
    return CallRequest(
        call_id=call.call_id, queue=node.queue, tier=str(tier), priority=node.priority + (call.priority or 0),
        region=call.ident.region, city=call.ident.city, caller_number=call.ident.number,
        context={"caller": context.get("caller", {}), "customer": context.get("customer", {}),
                 "now": context.get("now", {}), "today": context.get("today", {}), "trail": call.trail.as_list()},
    )


def connect(engine: IvrEngine, call: CallState, node: TransferNode, step: Step, router: RouterService, *,
            agent: str | None = None) -> Next:
    """Queue the caller, hold, dial the agent the router picks (only ``agent`` if given); follow the agents'
    transfers; where the call goes next."""
    from telephony.ivr.nodes import END, Jump

    call.queue = node.queue
    request = request_for(call, node)
    if agent is not None:
        request = replace(request, agent=agent, priority=request.priority + TRANSFER_PRIORITY)
    for _ in range(MAX_TRANSFERS):
        outcome = _serve(call, step, node, router, request)
        if not isinstance(outcome, Target):
            return outcome
        step.transfers.append(str(outcome))
        if outcome.kind == "queue":
            request = replace(request, queue=outcome.value, agent=None,
                              priority=request.priority + TRANSFER_PRIORITY)
            call.queue = outcome.value
        elif outcome.kind == "agent":
            request = replace(request, agent=outcome.value, priority=request.priority + TRANSFER_PRIORITY)
        elif outcome.kind == "ivr":
            call.result = None
            return Jump(outcome.value)
        else:  # an external number or an intercepting supervisor's endpoint: dialled directly
            endpoint = outcome.value if outcome.kind == "endpoint" else \
                router.router.settings.external_endpoint.format(number=outcome.value)
            result = call.switch.dial(endpoint, EXTERNAL_RING_S, call_id=call.call_id)
            if result.status == "hangup":
                raise SwitchHangup(f"the caller hung up while {endpoint} was ringing")
            call.result = "connected" if result.answered else "transfer"
            step.outcome = f"transferred to {outcome} ({result.status})"
            return END
    raise CommandFailed(f"more than {MAX_TRANSFERS} transfers in one call")


def _serve(call: CallState, step: Step, node: TransferNode, router: RouterService,
           request: CallRequest) -> Next | Target:
    """One stay in the router: hold until an agent answers (END, or a transfer Target) or the queue gives
    the call back (the node's ``empty`` / ``timeout`` branch)."""
    ticket = router.enqueue(request)
    if ticket.result == "unknown_queue":
        raise CommandFailed(f"the router has no queue '{request.queue}'")
    if ticket.result != "queued":
        return _left(call, step, node, "empty", "no agent signed in")
    ticket.wake = call.switch.wake
    started = time.monotonic()
    try:
        while True:
            event = ticket.next()
            if event is None:
                held = time.monotonic()
                call.switch.hold(HOLD_S, music_class=router.router.settings.hold_music)
                if time.monotonic() - held < 0.02:  # a switch whose hold cannot wait: do not spin
                    event = ticket.next(timeout=0.1)
                if event is None:
                    continue
            if isinstance(event, CallLeft):
                if event.how in ("timeout", "empty"):
                    call.switch.music_off()
                    return _left(call, step, node, event.how, event.reason)
                continue
            answered = _dial(call, step, ticket, event, router)
            if answered is not None:
                call.routed_wait_s = round(ticket.answered_wait_s or (time.monotonic() - started), 3)
                if answered.transfer:
                    return Target.parse_any(answered.transfer)
                call.result = "connected"
                return _after_talk(call, step, router, answered)
    except SwitchHangup:
        ticket.abandon()
        call.routed = call.routed or "abandoned"
        call.routed_wait_s = round(time.monotonic() - started, 3)
        raise
    finally:
        ticket.close()


def _dial(call: CallState, step: Step, ticket: Ticket, offer: Offer, router: RouterService) -> DialResult | None:
    """Ring the offered agent; the dial's result when the call was answered (and the talk is over), None
    when the offer goes back to the queue."""
    call.switch.music_off()
    ticket.ringing()
    settings = router.router.settings
    timeout = settings.offer_timeout_s
    queue = settings.queues.get(offer.queue)
    if queue is not None and queue.record and not call.call_recording:
        path = recording_name(call.call_id, offer.agent_id)
        try:
            call.switch.record_call(path)
            call.call_recording = f"{path}.wav"
        except CommandFailed as exc:
            log.warning("call %s: the conversation cannot be recorded: %s", call.call_id, exc)

    def on_answer() -> None:
        ticket.answered()

    result = call.switch.dial(offer.endpoint, timeout, call_id=call.call_id, on_answer=on_answer)
    if result.status == "answer":
        ticket.answered()  # no-op when the switch already reported the answer
        entry = CHANNELS.get(call.call_id)
        if entry is not None and entry.detached and not result.transfer:
            # call control (AMI) moved the caller out of this session (hold, consult): the conversation goes
            # on in the dialplan; it ends for the router when the caller's channel hangs up
            ticket.detach()
            CHANNELS.when_gone(call.call_id, ticket.end_later)
        else:
            ticket.ended()
        call.agent, call.routed, call.talk_s = offer.agent_id, "answered", round(result.talk_s, 3)
        step.outcome = f"answered by agent {offer.agent_id}"
        return result
    if result.status == "hangup":
        ticket.abandon()
        call.routed = "abandoned"
        raise SwitchHangup(f"the caller hung up while agent {offer.agent_id} was ringing")
    ticket.no_answer(f"did not answer ({result.status})")
    log.info("call %s: agent %s %s; back in the queue", call.call_id, offer.agent_id, result.status)
    return None


def _after_talk(call: CallState, step: Step, router: RouterService, answered: DialResult) -> Next:
    """The agent released and the caller is still on the line: the queue's post-call survey flow, if it
    has one (``survey`` in the routing), else the call is over."""
    from telephony.ivr.nodes import END, Jump

    queue = router.router.settings.queues.get(call.queue or "")
    flow = queue.survey if queue is not None else None
    if not flow or answered.hung_up_by != "agent" or not call.switch.alive:
        return END
    step.outcome = f"{step.outcome}; survey {flow}"
    call.survey_from = call.flow.name
    return Jump(flow)


def _left(call: CallState, step: Step, node: TransferNode, how: str, reason: str) -> Next:
    from telephony.ivr.nodes import END

    call.routed = how
    target = node.empty if how == "empty" else node.timeout
    step.outcome = f"{how}: {reason}"
    if target:
        return target
    call.result = how
    return END


def routing_record(call: CallState) -> dict[str, Any]:
    """The call-record columns the router part of the call filled."""
    return {"agent": call.agent, "wait_s": call.routed_wait_s, "routed": call.routed, "talk_s": call.talk_s,
            "call_recording": call.call_recording}
