"""``CallControl``: what agents and supervisors do to calls in progress, whatever the switch.

The IVR and router hold a caller and ring an agent through :class:`~telephony.switch.base.Switch`; once the
agent answered, the desktop and the supervisor console act on the call through this interface: hold,
mute, release, transfer (to an agent, a queue, an IVR flow, an external number), consult another agent
and then transfer or conference, and the supervisor's listen / whisper / barge / intercept, and
recording. Two implementations: :class:`~telephony.control.simulated.SimulatedCallControl` (the
simulated agents' phones, in memory) and ``telephony.ami.AmiCallControl`` (Asterisk Manager Interface
through pyst2's manager).

Calls are named by the router's call id; agents by their endpoint (``PJSIP/1001``). Every method
raises :class:`ControlError` with a readable message when the switch refuses; none blocks for long.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

TargetKind = Literal["agent", "queue", "ivr", "external", "endpoint"]
"""``endpoint`` is internal: an intercepting supervisor's endpoint, dialled directly."""
SpyMode = Literal["listen", "whisper", "barge"]


class ControlError(Exception):
    """The switch refused or failed a call-control action (the message says why)."""


@dataclass(frozen=True)
class Target:
    """Where a call is transferred: ``agent`` (agent number), ``queue`` (queue name), ``ivr`` (flow name),
    ``external`` (a phone number)."""

    kind: TargetKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def parse_any(cls, text: str) -> Target:
        """Like :meth:`parse`, also accepting the internal ``endpoint:`` kind."""
        kind, _, value = text.partition(":")
        if kind == "endpoint" and value:
            return cls("endpoint", value)
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> Target:
        kind, _, value = text.partition(":")
        if kind not in ("agent", "queue", "ivr", "external") or not value:
            raise ValueError(f"not a transfer target: {text!r} (agent:1002, queue:billing, ivr:main, "
                             f"external:13800000000)")
        return cls(kind, value)  # type: ignore[arg-type]


DialEventKind = Literal["agent_ringing", "ringback", "answered", "ended"]
DialOutcome = Literal["answered", "busy", "congestion", "noanswer", "unavailable", "failed", "cancelled",
                      "link_down"]


@dataclass(frozen=True)
class DialEvent:
    """How a call placed by :meth:`CallControl.dial_out` / :meth:`CallControl.dial_agent` goes on.

    ``kind``: ``agent_ringing`` (the agent's own phone rings: the switch calls the agent first),
    ``ringback`` (the agent picked up and hears the far end ring), ``answered`` (the far end answered: talk),
    ``ended`` (always last, exactly once). ``outcome`` (only on ``ended``): ``answered`` (a talk took place),
    ``busy``, ``congestion``, ``noanswer``, ``unavailable`` (the agent's or the far endpoint cannot be reached),
    ``failed``, ``cancelled`` (the agent hung up before the far end answered) or ``link_down`` (the switch
    connection was lost). ``at``: ``time.monotonic()`` when it happened. ``detail``: the switch's words."""

    call_id: int
    kind: DialEventKind
    outcome: DialOutcome | None = None
    at: float = 0.0
    detail: str = ""


DialListener = Callable[[DialEvent], None]
"""Receives :class:`DialEvent` s on a switch thread: it must hand over and return quickly."""


class CallControl(abc.ABC):
    """Acting on answered calls (see the module docstring)."""

    kind: str = "control"

    def answer(self, call_id: int, endpoint: str) -> None:
        """Answer a ringing offer from the desktop. A real phone is answered on the phone itself (or by its
        auto-answer); only the simulated phones can be answered from here."""
        raise ControlError("answer the call on your phone (this switch cannot answer it for you)")

    def set_auto_answer(self, endpoint: str, on: bool) -> None:  # noqa: B027 - optional
        """The agent's phone answers offers at once (a real phone: its own setting or the SIP
        ``answer-after`` header the dialplan adds; nothing to do here by default)."""

    @abc.abstractmethod
    def hold(self, call_id: int, endpoint: str) -> None:
        """Put the caller on music on hold (the agent stays on the line)."""

    @abc.abstractmethod
    def unhold(self, call_id: int, endpoint: str) -> None:
        """Take the caller off hold."""

    @abc.abstractmethod
    def mute(self, call_id: int, endpoint: str, on: bool) -> None:
        """Mute (or unmute) the agent's microphone towards the caller."""

    @abc.abstractmethod
    def hang_up(self, call_id: int, endpoint: str) -> None:
        """The agent releases the call."""

    @abc.abstractmethod
    def transfer(self, call_id: int, endpoint: str, target: Target) -> None:
        """Blind transfer: the caller goes to ``target``; the agent's leg ends."""

    @abc.abstractmethod
    def consult(self, call_id: int, endpoint: str, target_endpoint: str) -> None:
        """Internal help: the caller is held, the agent's line calls ``target_endpoint``."""

    @abc.abstractmethod
    def cancel_consult(self, call_id: int, endpoint: str) -> None:
        """End the consultation and return to the caller."""

    @abc.abstractmethod
    def complete_transfer(self, call_id: int, endpoint: str) -> None:
        """Attended transfer: the caller is connected to the consulted agent; this agent leaves."""

    @abc.abstractmethod
    def conference(self, call_id: int, endpoint: str) -> None:
        """Three-way: the caller, this agent and the consulted agent together."""

    @abc.abstractmethod
    def spy(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str, mode: SpyMode) -> None:
        """A supervisor listens (``listen``), speaks to the agent only (``whisper``) or joins (``barge``)."""

    @abc.abstractmethod
    def intercept(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str) -> None:
        """The supervisor takes the call over; the agent's leg ends."""

    @abc.abstractmethod
    def start_recording(self, call_id: int, endpoint: str, path: str) -> None:
        """Record both directions of the call into ``path`` (MixMonitor on Asterisk)."""

    # --------------------------------------------------------------------------- dialling out
    def dial_out(self, call_id: int, endpoint: str, number: str, *, caller_id: str | None = None,
                 variables: dict[str, str] | None = None, timeout_s: float = 30.0,
                 on_event: DialListener | None = None) -> None:
        """Place an outbound call for the agent at ``endpoint`` to the outside ``number`` (digits, ``+``,
        ``*``, ``#``) and return at once; what happens next arrives as :class:`DialEvent` s on ``on_event``.

        ``call_id`` names the call from now on (the ``hl_call`` record the caller opened, as for inbound
        calls): hold, mute, release, transfer, consult and ``send_dtmf`` take it like any answered call.
        The switch rings the agent's phone first (``agent_ringing``; an auto-answer phone picks up at
        once), then the number (``ringback``: the agent hears it ring); ``answered`` when the far end picks
        up; ``ended`` last with the outcome. ``caller_id`` is the number shown to the called party (None:
        the trunk's default); ``variables`` are channel variables handed to the dialplan (campaign ids...);
        ``timeout_s`` is how long the far end may ring. Raises :class:`ControlError` when the switch refuses
        at once (bad number, link down); no ``ended`` event follows then.

        On Asterisk: AMI ``Originate`` Channel=<endpoint> Context=helpline-outbound Exten=<number>, the
        dialplan then ``Dial`` s the trunk and bridges the agent (telephony/asterisk/extensions.conf)."""
        raise ControlError(f"{self.kind} call control cannot dial out")

    def dial_agent(self, call_id: int, endpoint: str, target_endpoint: str, *, timeout_s: float = 30.0,
                   on_event: DialListener | None = None) -> None:
        """An internal call: the agent at ``endpoint`` calls the agent at ``target_endpoint`` (events as
        :meth:`dial_out`; ``ringback`` is the other agent's phone ringing)."""
        raise ControlError(f"{self.kind} call control cannot place internal calls")

    def send_dtmf(self, call_id: int, endpoint: str, digits: str) -> None:
        """Second dialling: send ``digits`` (0-9, *, #, A-D) to the far end of the agent's call (an
        extension after the IVR of the number called)."""
        raise ControlError(f"{self.kind} call control cannot send digits")

    def consult_out(self, call_id: int, endpoint: str, number: str) -> None:
        """External help: the caller is held while the agent's line calls the outside ``number``; then
        :meth:`complete_transfer`, :meth:`conference` or :meth:`cancel_consult` as for an internal
        consultation."""
        raise ControlError(f"{self.kind} call control cannot consult an outside number")

    def channel_alive(self, switch: str, channel: str, uniqueid: str) -> bool | None:
        """Does the switch still carry this call's channel? True, False, or None when this call control
        cannot tell (used at start to close the records an earlier process left open)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (the AMI client logs off)."""
