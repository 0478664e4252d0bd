"""What each node type does. A handler returns where the call goes next.

``handler(engine, call, name, node, step)`` returns a node name of the current flow, a :class:`Jump`
to another flow, :data:`END` (the call leaves the IVR; ``call.result`` says how), or raises:

* :class:`Blocked` — the caller is blacklisted and the node would reach a queue;
* ``RuleRuntimeError``, ``CommandFailed``, ``HookError`` or anything a hook raises — the engine records
  the error and takes the node's fallback;
* ``SwitchHangup`` / ``SwitchError`` — the call is over.

Handlers fill the trail step (prompts, digits, rule, choice) as they go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from helpline.metadata.kinds.ivr import (
    AnnounceNode,
    AnswerNode,
    BranchNode,
    CallbackNode,
    CollectNode,
    GotoNode,
    HangupNode,
    HookNode,
    LookupNode,
    MenuNode,
    NodeBase,
    PlayNode,
    RecordNode,
    SayNode,
    SetNode,
    SurveyNode,
    TransferNode,
)
from helpline.services.secrets import secret_matches
from telephony.ivr.context import SECRET, CallState
from telephony.ivr.hooks import HookCall, HookError
from telephony.ivr.trail import Step
from telephony.switch.base import CommandFailed, PromptRef, SwitchHangup

if TYPE_CHECKING:
    from telephony.ivr.engine import IvrEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Jump:
    """Continue in another flow (at its start, or at ``node``)."""

    flow: str
    node: str | None = None


class _End:
    def __repr__(self) -> str:
        return "END"


END = _End()
Next = str | Jump | _End


class Blocked(Exception):
    """The caller is blacklisted: this call must not reach a queue."""


def _play(call: CallState, step: Step, names: list[str | None], *, interruptible: bool = False) -> str:
    prompts = [p for p in (call.flow.prompt(n) for n in names if n) if p is not None]
    if not prompts:
        return ""
    step.prompts += [p.name for p in prompts]
    result = call.switch.play(prompts, interruptible=interruptible)
    _missing(call, step, list(result.missing))
    return result.digit


def _missing(call: CallState, step: Step, names: list[str]) -> None:
    """Keep prompts whose sound file is missing on the trail and log each with its flow and node."""
    for name in names:
        found = call.flow.prompt(name)
        log.warning("call %s: sound file %r of prompt %s is missing (flow %s, node %s); "
                    "`run.py prompts check` lists them, `run.py prompts render` makes them", call.call_id,
                    found.file if found else "", name, call.flow.name, step.node)
    step.missing += names


def _prompt(call: CallState, name: str) -> PromptRef:
    found = call.flow.prompt(name)
    if found is None:  # cannot happen in a checked flow; keeps a hand-built flow from crashing
        return PromptRef(name, "")
    return found


def answer(engine: IvrEngine, call: CallState, name: str, node: AnswerNode, step: Step) -> Next:
    call.switch.answer()
    return node.next


def play(engine: IvrEngine, call: CallState, name: str, node: PlayNode, step: Step) -> Next:
    digit = _play(call, step, list(node.prompts), interruptible=node.interruptible)
    if digit:
        call.pending_digit = digit
        step.digits.append(digit)
    return node.next


def _say_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value)


def say(engine: IvrEngine, call: CallState, name: str, node: SayNode, step: Step) -> Next:
    _play(call, step, [node.prompt])
    text = _say_text(call.flow.expressions[(name, "value")].evaluate(call.context()))
    if text is None:
        step.outcome = "nothing to say"
        return node.next
    if node.say == "number":
        try:
            float(text)
        except ValueError as exc:
            raise CommandFailed(f"cannot say {text!r} as a number") from exc
    elif node.say == "date":
        try:
            date.fromisoformat(text[:10])
        except ValueError as exc:
            raise CommandFailed(f"cannot say {text!r} as a date (YYYY-MM-DD)") from exc
    step.digits.append(f"{node.say}:{text}")
    call.switch.say(node.say, text)
    return node.next


def menu(engine: IvrEngine, call: CallState, name: str, node: MenuNode, step: Step) -> Next:
    for attempt in range(node.retries):
        call.retries = attempt
        if call.pending_digit:
            digit, timed_out = call.pending_digit, False
            call.pending_digit = ""
        else:
            step.prompts.append(node.prompt)
            got = call.switch.get_digits(_prompt(call, node.prompt), min_digits=1, max_digits=1,
                                         timeout=node.timeout, terminator="")
            if got.missing:
                _missing(call, step, [node.prompt])
            digit, timed_out = got.digits[:1], got.timed_out and not got.digits
        step.digits.append("(timeout)" if timed_out else digit)
        call.digits = digit
        if digit in node.choices:
            step.choice = digit
            return node.choices[digit]
        last = attempt == node.retries - 1
        if timed_out and not digit:
            if node.on_timeout:
                step.outcome = "timeout"
                return node.on_timeout
            if not last:
                _play(call, step, [node.timeout_prompt or node.invalid_prompt])
        elif not last:
            _play(call, step, [node.invalid_prompt])
    step.outcome = "retries exhausted"
    return node.after_retries


def _verify(engine: IvrEngine, call: CallState, node: CollectNode, digits: str) -> bool:
    if node.verify == "account":
        customer = engine.identifier.customer_by_account(digits)
        if customer is None:
            return False
        engine.identifier.apply_customer(call.ident, customer)
        call.tier = None
        return True
    if node.verify == "service_password":
        return secret_matches(engine.platform.models, "customer", call.customer, "service_password", digits)
    return True


def collect(engine: IvrEngine, call: CallState, name: str, node: CollectNode, step: Step) -> Next:
    secret = node.verify == "service_password"
    if secret:
        call.secret_vars.add(node.into)
    for attempt in range(node.attempts):
        call.retries = attempt
        step.prompts.append(node.prompt)
        got = call.switch.get_digits(_prompt(call, node.prompt), min_digits=node.min_digits,
                                     max_digits=node.max_digits, timeout=node.timeout, terminator=node.terminator)
        if got.missing:
            _missing(call, step, [node.prompt])
        digits = got.digits
        step.digits.append(SECRET if secret and digits else (digits or "(timeout)"))
        call.digits = digits
        if not digits and got.timed_out and node.on_timeout:
            step.outcome = "timeout"
            return node.on_timeout
        ok = node.min_digits <= len(digits) <= node.max_digits and bool(digits or node.min_digits == 0)
        if ok and name in call.flow.conditions:
            ok = call.flow.conditions[name].test(call.context())
        if ok:
            ok = _verify(engine, call, node, digits)
        if ok:
            call.vars[node.into] = digits
            step.outcome = f"accepted on attempt {attempt + 1}"
            return node.next
        if attempt < node.attempts - 1:
            _play(call, step, [node.invalid_prompt])
    step.outcome = f"{node.attempts} wrong entries"
    return node.after_retries


def branch(engine: IvrEngine, call: CallState, name: str, node: BranchNode, step: Step) -> Next:
    match = call.flow.branches[name].evaluate(call.context())
    if match is None:
        if node.otherwise:
            step.outcome = "no rule matched"
            return node.otherwise
        raise CommandFailed("no rule matched and the node has no 'otherwise'")
    step.rule = {"index": match.rule_index, "line": match.line, "source": match.source,
                 "otherwise": match.otherwise}
    target: Next | None = None
    for action in match.actions:
        args = action.args
        if action.name == "set":
            call.vars[str(args[0])] = args[1]
        elif action.name == "tier":
            call.tier = str(args[0])
        elif action.name == "play":
            _play(call, step, [str(args[0])])
        elif target is not None:
            continue
        elif action.name == "goto":
            target = str(args[0])
        elif action.name == "transfer":
            target = _transfer(call, str(args[0]), None)
        elif action.name == "block":
            raise Blocked("a rule blocked the caller")
        elif action.name == "skip_ivr":
            if not call.flow.flow.skip_to:
                raise CommandFailed("skip_ivr, but the flow has no 'skip_to' node")
            target = call.flow.flow.skip_to
        elif action.name == "hangup":
            call.result = "completed"
            call.switch.hangup()
            target = END
    if target is None:
        if node.otherwise:
            return node.otherwise
        raise CommandFailed(f"rule on line {match.line} takes no goto, transfer, block, skip_ivr or hangup")
    return target


def set_values(engine: IvrEngine, call: CallState, name: str, node: SetNode, step: Step) -> Next:
    for var in node.values:
        call.vars[var] = call.flow.expressions[(name, var)].evaluate(call.context())
    return node.next


def lookup(engine: IvrEngine, call: CallState, name: str, node: LookupNode, step: Step) -> Next:
    if node.by == "caller":
        found = call.customer is not None
    else:
        account = str(call.vars.get(node.account_var, "") if node.account_var else call.digits)
        customer = engine.identifier.customer_by_account(account)
        if customer is not None:
            engine.identifier.apply_customer(call.ident, customer)
            call.tier = None
        found = customer is not None
    step.outcome = "found" if found else "not found"
    return node.found if found else node.not_found


def announce(engine: IvrEngine, call: CallState, name: str, node: AnnounceNode, step: Step) -> Next:
    notices = call.ident.outages[:node.max_notices]
    if not notices:
        step.outcome = "no active outage"
        return node.next
    _play(call, step, [node.prompt])
    prompts = [PromptRef(f"outage_{n.id}", n.sound_file, n.text) for n in notices]
    step.prompts += [p.name for p in prompts]
    result = call.switch.play(prompts)
    step.missing += list(result.missing)  # notices are data, not prompts of the flow
    step.outcome = f"{len(notices)} notice(s)"
    return node.next


def record(engine: IvrEngine, call: CallState, name: str, node: RecordNode, step: Step) -> Next:
    _play(call, step, [node.prompt])
    path = f"helpline/messages/{call.call_id}-{name}"
    result = call.switch.record(path, max_duration=node.max_duration, silence=node.silence, beep=node.beep,
                                fmt=node.format)
    call.recording = f"{result.path}.{node.format}"
    call.vars["recording"] = call.recording
    step.outcome = f"recorded ({result.ended_by})"
    if result.ended_by == "hangup":
        raise SwitchHangup("the caller hung up after leaving a message")
    return node.next


def _transfer(call: CallState, queue: str, priority: int | None) -> Next:
    if call.ident.blacklisted:
        raise Blocked(f"a blacklisted caller cannot reach queue {queue}")
    call.result, call.queue = "transfer", queue
    call.priority = priority if priority is not None else call.priority
    return END


def transfer(engine: IvrEngine, call: CallState, name: str, node: TransferNode, step: Step) -> Next:
    """With a router: hold, dial the agent it picks (``telephony.ivr.queueing``); without one, leave the IVR
    with ``HELPLINE_QUEUE`` set so the dialplan's own ``Queue()`` takes the call."""
    if call.ident.blacklisted:
        raise Blocked(f"a blacklisted caller cannot reach queue {node.queue}")
    _play(call, step, [node.prompt])
    step.outcome = f"to queue {node.queue}"
    if engine.router is not None:
        from telephony.ivr.queueing import connect

        call.priority = node.priority + (call.priority or 0)
        return connect(engine, call, node, step, engine.router)
    return _transfer(call, node.queue, node.priority)


def callback(engine: IvrEngine, call: CallState, name: str, node: CallbackNode, step: Step) -> Next:
    number = call.vars.get(node.number_var) if node.number_var else None
    call.callback_number = str(number or call.ident.number or "") or None
    call.callback_queue = node.queue
    _play(call, step, [node.prompt])
    step.outcome = f"call back {call.callback_number or '(no number)'}"
    return node.next


def goto(engine: IvrEngine, call: CallState, name: str, node: GotoNode, step: Step) -> Next:
    return Jump(node.flow, node.node)


def hangup(engine: IvrEngine, call: CallState, name: str, node: HangupNode, step: Step) -> Next:
    _play(call, step, [node.prompt])
    call.result = node.result
    call.switch.hangup()
    return END


def hook(engine: IvrEngine, call: CallState, name: str, node: HookNode, step: Step) -> Next:
    function = engine.hooks.get(node.hook)
    hook_call = HookCall(call.call_id, call.flow.name, name, call.ident.number, call.customer, call.tier,
                         call.ident.region, call.language, dict(node.params), call.vars)
    target = function(hook_call)
    if target is None:
        return node.next
    if target not in call.flow.flow.nodes:
        raise HookError(f"hook {node.hook} returned {target!r}, which is not a node of flow {call.flow.name}")
    step.outcome = f"hook chose {target}"
    return str(target)


def survey(engine: IvrEngine, call: CallState, name: str, node: SurveyNode, step: Step) -> Next:
    """Ask one survey question: the answer is kept at once (a caller hanging up later keeps it)."""
    answers = call.survey if call.survey is not None else {}
    call.survey = answers
    answers.setdefault(node.question, None)
    for attempt in range(node.retries):
        call.retries = attempt
        step.prompts.append(node.prompt)
        got = call.switch.get_digits(_prompt(call, node.prompt), min_digits=1, max_digits=1, timeout=node.timeout,
                                     terminator="")
        if got.missing:
            _missing(call, step, [node.prompt])
        digit = got.digits[:1]
        step.digits.append(digit or "(timeout)")
        if digit in node.answers:
            answers[node.question] = node.answers[digit]
            step.choice = digit
            step.outcome = f"{node.question}: {node.answers[digit]}"
            return node.next
        if attempt < node.retries - 1:
            _play(call, step, [node.invalid_prompt])
    step.outcome = f"{node.question}: no answer"
    return node.next


Handler = Callable[..., Next]
HANDLERS: dict[str, Handler] = {
    "answer": answer, "play": play, "say": say, "menu": menu, "collect": collect, "branch": branch,
    "set": set_values, "lookup": lookup, "announce": announce, "record": record, "transfer": transfer,
    "callback": callback, "goto": goto, "hangup": hangup, "hook": hook, "survey": survey,
}


def fallback_of(node: NodeBase) -> str | None:
    """Where a failing node sends the call: its ``on_error``, else a branch's ``otherwise``."""
    if node.on_error:
        return node.on_error
    if isinstance(node, BranchNode):
        return node.otherwise
    return None
