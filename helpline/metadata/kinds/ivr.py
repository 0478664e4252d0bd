"""The ``ivr`` kind: an IVR flow (语音导航) as a set of named nodes, with the prompts it plays.

A flow is chosen by the access number the caller dialled (``access_numbers``, Asterisk's ``agi_dnid``) or
by the FastAGI script path (``agi://host/ivr/<flow>``). The call starts at ``start`` and moves from node
to node; each node's ``type`` says what it does (answer, play, menu, collect, branch ...) and which
properties it takes. Every node may name an ``on_error`` node: where the call goes when the node fails
(a rule fails at run time, an extension raises); without one the flow's ``on_error`` is used, and
without that the call ends with the result ``error`` (the dialplan then falls back to its own queue).

Conditions and values are written in the rule language (place of use ``ivr``). The interpreter is
``telephony.ivr``; ``helpline.metadata.ivr_checks`` checks every reference of a flow.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from .common import Label, MetaObject, Name, Strict

DTMF_KEYS = "0123456789*#"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> Any:
    """``500ms``, ``5s``, ``2m``, ``1h`` or a plain number of seconds → seconds (float)."""
    if isinstance(value, bool):
        raise ValueError("a duration is written like 5s, 500ms or 2m")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise ValueError(f"{value!r} is not a duration; write it like 5s, 500ms or 2m")


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0, le=86400)]
"""Seconds, written ``5s``, ``500ms``, ``2m`` or as a number."""

AccessNumber = Annotated[str, Field(pattern=r"^\+?[0-9*#]{2,32}$")]


class Prompt(Strict):
    """A recorded prompt: the sound file Asterisk plays, and what it says (shown by the simulated switch)."""

    file: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_./-]+$")
    text: Label


class NodeBase(Strict):
    type: str
    """The node type; each subclass narrows it to its own name."""
    note: str | None = None
    """A remark for administrators."""
    on_error: Name | None = None


class AnswerNode(NodeBase):
    type: Literal["answer"]
    next: Name


class PlayNode(NodeBase):
    type: Literal["play"]
    prompts: list[Name] = Field(min_length=1)
    interruptible: bool = False
    next: Name


class SayNode(NodeBase):
    type: Literal["say"]
    say: Literal["digits", "number", "date"]
    value: str = Field(min_length=1)
    """A rule-language expression: ``caller.number``, ``var.balance``, ``today.date``."""
    prompt: Name | None = None
    next: Name


def _choice_keys(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, target in value.items():
            text = str(key)
            if len(text) != 1 or text not in DTMF_KEYS:
                raise ValueError(f"menu choice {text!r} is not one key of 0-9, * or # (quote * and #)")
            out[text] = target
        return out
    return value


class MenuNode(NodeBase):
    type: Literal["menu"]
    prompt: Name
    choices: Annotated[dict[str, Name], BeforeValidator(_choice_keys)] = Field(min_length=1)
    timeout: Duration = 5.0
    retries: int = Field(default=3, ge=1, le=10)
    invalid_prompt: Name | None = None
    timeout_prompt: Name | None = None
    on_timeout: Name | None = None
    after_retries: Name


class CollectNode(NodeBase):
    type: Literal["collect"]
    prompt: Name
    into: Name
    """The call variable (``var.<into>``) that receives the digits."""
    min_digits: int = Field(default=1, ge=0, le=64)
    max_digits: int = Field(default=20, ge=1, le=64)
    terminator: Literal["#", ""] = "#"
    timeout: Duration = 5.0
    rule: str | None = None
    """A rule-language condition the entry must meet (``call.digits`` holds it): ``len(call.digits) == 6``."""
    verify: Literal["account", "service_password"] | None = None
    attempts: int = Field(default=2, ge=1, le=10)
    invalid_prompt: Name | None = None
    on_timeout: Name | None = None
    next: Name
    after_retries: Name


class BranchNode(NodeBase):
    type: Literal["branch"]
    rules: str = Field(min_length=1)
    otherwise: Name | None = None


class SetNode(NodeBase):
    type: Literal["set"]
    values: dict[Name, str] = Field(min_length=1)
    """Call variable → rule-language expression (``"customer.tier"``, ``'"zh"'``, ``"var.count + 1"``)."""
    next: Name


class LookupNode(NodeBase):
    type: Literal["lookup"]
    by: Literal["caller", "account"] = "caller"
    account_var: Name | None = None
    found: Name
    not_found: Name


class AnnounceNode(NodeBase):
    type: Literal["announce"]
    prompt: Name | None = None
    max_notices: int = Field(default=3, ge=1, le=20)
    next: Name


class RecordNode(NodeBase):
    type: Literal["record"]
    prompt: Name | None = None
    max_duration: Duration = 60.0
    silence: Duration = 0.0
    beep: bool = True
    format: Literal["wav", "gsm", "ulaw", "alaw", "sln"] = "wav"
    next: Name


class TransferNode(NodeBase):
    """Hand the caller to the router: music on hold until an agent is free, then the agent's phone rings.

    ``empty``: where the call goes when no agent of the queue is signed in (or the last one signs out);
    ``timeout``: after the queue's maximum wait (and any overflow). Without them the call leaves the IVR
    with the result ``empty`` / ``timeout`` and the dialplan decides (voicemail, Asterisk's own queue).
    """

    type: Literal["transfer"]
    queue: Name
    priority: int = Field(default=0, ge=0, le=1000)
    prompt: Name | None = None
    empty: Name | None = None
    timeout: Name | None = None


class CallbackNode(NodeBase):
    type: Literal["callback"]
    queue: Name | None = None
    prompt: Name | None = None
    number_var: Name | None = None
    next: Name


class SurveyNode(NodeBase):
    """One question of a post-call survey (满意度调查): the caller answers with one key.

    The answer's code is kept on the call (``survey``), lands on the contact record's field
    ``survey_<question>`` and is counted in the statistics; an unanswered question is left empty.
    """

    type: Literal["survey"]
    question: Name
    """The question's name (``satisfaction``, ``resolved``): the contact record's field ``survey_<question>``."""
    prompt: Name
    answers: Annotated[dict[str, Name], BeforeValidator(_choice_keys)] = Field(min_length=1)
    """Key → answer code (``"1": very_satisfied``), each a code of ``category``."""
    category: Name = "satisfaction"
    """The category tree the answer codes belong to."""
    timeout: Duration = 5.0
    retries: int = Field(default=2, ge=1, le=10)
    invalid_prompt: Name | None = None
    next: Name


class GotoNode(NodeBase):
    type: Literal["goto"]
    flow: Name
    node: Name | None = None


class HangupNode(NodeBase):
    type: Literal["hangup"]
    prompt: Name | None = None
    result: Literal["hangup", "completed", "blocked", "callback", "error"] = "completed"


class HookNode(NodeBase):
    type: Literal["hook"]
    hook: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    """``<extension>.<function>``: a function from ``extensions/<extension>/``."""
    params: dict[str, Any] = {}
    next: Name


NODE_MODELS: dict[str, type[NodeBase]] = {
    "answer": AnswerNode, "play": PlayNode, "say": SayNode, "menu": MenuNode, "collect": CollectNode,
    "branch": BranchNode, "set": SetNode, "lookup": LookupNode, "announce": AnnounceNode, "record": RecordNode,
    "transfer": TransferNode, "callback": CallbackNode, "goto": GotoNode, "hangup": HangupNode, "hook": HookNode,
    "survey": SurveyNode,
}
"""Node type → model."""


class UnknownNode(BaseModel):
    """Stands in for a node whose ``type`` is missing or unknown, so that only ``type`` is reported."""

    model_config = ConfigDict(extra="ignore")
    type: Literal[
        "answer", "play", "say", "menu", "collect", "branch", "set", "lookup", "announce", "record", "transfer",
        "callback", "goto", "hangup", "hook", "survey",
    ]


def _node_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"Node_{kind}" if isinstance(kind, str) and kind in NODE_MODELS else "Node_unknown"


Node = Annotated[
    Annotated[AnswerNode, Tag("Node_answer")]
    | Annotated[PlayNode, Tag("Node_play")]
    | Annotated[SayNode, Tag("Node_say")]
    | Annotated[MenuNode, Tag("Node_menu")]
    | Annotated[CollectNode, Tag("Node_collect")]
    | Annotated[BranchNode, Tag("Node_branch")]
    | Annotated[SetNode, Tag("Node_set")]
    | Annotated[LookupNode, Tag("Node_lookup")]
    | Annotated[AnnounceNode, Tag("Node_announce")]
    | Annotated[RecordNode, Tag("Node_record")]
    | Annotated[TransferNode, Tag("Node_transfer")]
    | Annotated[CallbackNode, Tag("Node_callback")]
    | Annotated[GotoNode, Tag("Node_goto")]
    | Annotated[HangupNode, Tag("Node_hangup")]
    | Annotated[HookNode, Tag("Node_hook")]
    | Annotated[SurveyNode, Tag("Node_survey")]
    | Annotated[UnknownNode, Tag("Node_unknown")],
    Discriminator(_node_tag),
]


class Ivr(MetaObject):
    kind: Literal["ivr"]
    label: Label
    business_line: Name | None = None
    access_numbers: list[AccessNumber] = []
    language: Literal["zh_CN", "en"] = "zh_CN"
    start: Name
    skip_to: Name | None = None
    on_block: Name | None = None
    on_error: Name | None = None
    max_steps: int = Field(default=200, ge=10, le=10000)
    prompts: dict[Name, Prompt] = {}
    nodes: dict[Name, Node] = Field(min_length=1)

    def node(self, name: str) -> NodeBase | None:
        found = self.nodes.get(name)
        return found if isinstance(found, NodeBase) else None


def node_targets(node: NodeBase) -> list[tuple[tuple[str | int, ...], str]]:
    """(path inside the node, node name) of every node ``node`` can move to (not counting rule texts)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for key in ("next", "on_error", "on_timeout", "after_retries", "otherwise", "found", "not_found", "empty",
                "timeout"):
        value = getattr(node, key, None)
        if isinstance(value, str):
            out.append(((key,), value))
    if isinstance(node, MenuNode):
        out += [(("choices", digit), target) for digit, target in node.choices.items()]
    return out


def node_prompts(node: NodeBase) -> list[tuple[tuple[str | int, ...], str]]:
    """(path inside the node, prompt name) of every prompt ``node`` plays."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for key in ("prompt", "invalid_prompt", "timeout_prompt"):
        value = getattr(node, key, None)
        if isinstance(value, str):
            out.append(((key,), value))
    if isinstance(node, PlayNode):
        out += [(("prompts", i), name) for i, name in enumerate(node.prompts)]
    return out
