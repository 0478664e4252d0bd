"""``SimulatedCallControl``: call control over the simulated agents' phones (``telephony.switch.phones``).

What Asterisk would do to channels happens to the phones in memory, so the desktop and supervisor flows
run end to end without Asterisk: answer picks up a ringing phone; hold, mute, consult, conference, spy
and recording set the phone's flags (``held``, ``muted``, ``consulting``, ``conference``, ``spies``,
``recording``), which tests and the console read; release hangs up; a transfer ends the agent's talk
with a target, and the IVR thread holding the caller (``telephony.ivr.queueing``) takes the caller on
to that queue, agent, flow or number; an intercept is a transfer to the supervisor's endpoint.
"""

from __future__ import annotations

from telephony.control.base import CallControl, ControlError, DialListener, SpyMode, Target
from telephony.control.outbound import OUTSIDE, SimulatedOutside, start_dial_agent, start_dial_out
from telephony.switch.phones import PHONES, SimulatedPhone, SimulatedPhones

__all__ = ["SimulatedCallControl"]


class SimulatedCallControl(CallControl):
    kind = "simulated"

    def __init__(self, phones: SimulatedPhones | None = None, outside: SimulatedOutside | None = None) -> None:
        self.phones = phones if phones is not None else PHONES
        self.outside = outside if outside is not None else OUTSIDE
        """The outside numbers outbound calls reach (``telephony.control.outbound``)."""

    def channel_alive(self, switch: str, channel: str, uniqueid: str) -> bool | None:
        """A simulated call lives in the memory of the process that ran it: gone with that process. Asterisk's
        channels are unknown here (None)."""
        return False if switch == "simulated" else None

    def _phone(self, call_id: int, endpoint: str, *states: str) -> SimulatedPhone:
        phone = self.phones.get(endpoint)
        wanted = states or ("talking",)
        if phone is None or phone.call_id != call_id or phone.state not in wanted:
            state = "no phone" if phone is None else f"{phone.state}, call {phone.call_id}"
            raise ControlError(f"call {call_id} is not {' or '.join(wanted)} on {endpoint} ({state})")
        return phone

    def answer(self, call_id: int, endpoint: str) -> None:
        if not self._phone(call_id, endpoint, "ringing").answer():
            raise ControlError(f"call {call_id} stopped ringing on {endpoint}")

    def set_auto_answer(self, endpoint: str, on: bool) -> None:
        self.phones.phone(endpoint).auto_answer = on

    def hold(self, call_id: int, endpoint: str) -> None:
        self._phone(call_id, endpoint).held = True

    def unhold(self, call_id: int, endpoint: str) -> None:
        self._phone(call_id, endpoint).held = False

    def mute(self, call_id: int, endpoint: str, on: bool) -> None:
        self._phone(call_id, endpoint).muted = on

    def hang_up(self, call_id: int, endpoint: str) -> None:
        """Release the call; a phone still ringing (an outbound call not picked up yet) stops ringing."""
        if not self._phone(call_id, endpoint, "talking", "ringing").hang_up():
            raise ControlError(f"call {call_id} is already over on {endpoint}")

    def transfer(self, call_id: int, endpoint: str, target: Target) -> None:
        if not self._phone(call_id, endpoint).transfer(str(target)):
            raise ControlError(f"call {call_id} is already over on {endpoint}")

    def consult(self, call_id: int, endpoint: str, target_endpoint: str) -> None:
        phone = self._phone(call_id, endpoint)
        other = self.phones.phone(target_endpoint)
        if other.state != "idle":
            raise ControlError(f"{target_endpoint} is busy ({other.state})")
        phone.held, phone.consulting = True, target_endpoint

    def cancel_consult(self, call_id: int, endpoint: str) -> None:
        phone = self._consulting(call_id, endpoint)
        phone.held, phone.consulting = False, None

    def complete_transfer(self, call_id: int, endpoint: str) -> None:
        phone = self._consulting(call_id, endpoint)
        target = phone.consulting or ""
        phone.transfer(target if target.startswith("external:") else f"endpoint:{target}")

    def conference(self, call_id: int, endpoint: str) -> None:
        phone = self._consulting(call_id, endpoint)
        phone.conference.add(phone.consulting or "")
        phone.held, phone.consulting = False, None

    def _consulting(self, call_id: int, endpoint: str) -> SimulatedPhone:
        phone = self._phone(call_id, endpoint)
        if phone.consulting is None:
            raise ControlError(f"no consultation in progress on {endpoint}")
        return phone

    def dial_out(self, call_id: int, endpoint: str, number: str, *, caller_id: str | None = None,
                 variables: dict[str, str] | None = None, timeout_s: float = 30.0,
                 on_event: DialListener | None = None) -> None:
        start_dial_out(self.phones, self.outside, call_id, endpoint, number, timeout_s, on_event)

    def dial_agent(self, call_id: int, endpoint: str, target_endpoint: str, *, timeout_s: float = 30.0,
                   on_event: DialListener | None = None) -> None:
        start_dial_agent(self.phones, call_id, endpoint, target_endpoint, timeout_s, on_event)

    def send_dtmf(self, call_id: int, endpoint: str, digits: str) -> None:
        self._phone(call_id, endpoint)
        leg = self.outside.leg(call_id)
        if leg is None or leg.state != "talking":
            raise ControlError(f"call {call_id} has no answered outside party to send digits to")
        leg.digits += digits

    def consult_out(self, call_id: int, endpoint: str, number: str) -> None:
        phone = self._phone(call_id, endpoint)
        if phone.consulting is not None:
            raise ControlError(f"call {call_id}: already consulting {phone.consulting}")
        if self.outside.behaviour(number).result != "answer":
            raise ControlError(f"{number} did not answer ({self.outside.behaviour(number).result})")
        phone.held, phone.consulting = True, f"external:{number}"

    def spy(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str, mode: SpyMode) -> None:
        self._phone(call_id, agent_endpoint, "talking").spies[supervisor_endpoint] = mode

    def intercept(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str) -> None:
        phone = self._phone(call_id, agent_endpoint)
        phone.transfer(str(Target("endpoint", supervisor_endpoint)))

    def start_recording(self, call_id: int, endpoint: str, path: str) -> None:
        self._phone(call_id, endpoint).recording = path
