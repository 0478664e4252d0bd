"""``SimulatedCallControl``: call control over the simulated agents' phones (``telephony.switch.phones``).

What Asterisk would do to channels happens to the phones in memory, so the desktop and supervisor flows
run end to end without Asterisk: answer picks up a ringing phone; hold, mute, consult, conference, spy
and recording set the phone's flags (``held``, ``muted``, ``consulting``, ``conference``, ``spies``,
``recording``), which tests and the console read; release hangs up; a transfer ends the agent's talk
with a target, and the IVR thread holding the caller (``telephony.ivr.queueing``) takes the caller on
to that queue, agent, flow or number; an intercept is a transfer to the supervisor's endpoint.
"""

from __future__ import annotations

from telephony.control.base import CallControl, ControlError, SpyMode, Target
from telephony.switch.phones import PHONES, SimulatedPhone, SimulatedPhones

__all__ = ["SimulatedCallControl"]


class SimulatedCallControl(CallControl):
    kind = "simulated"

    def __init__(self, phones: SimulatedPhones | None = None) -> None:
        self.phones = phones if phones is not None else PHONES

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
        if not self._phone(call_id, endpoint).hang_up():
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
        target = phone.consulting
        phone.transfer(f"endpoint:{target}")

    def conference(self, call_id: int, endpoint: str) -> None:
        phone = self._consulting(call_id, endpoint)
        phone.conference.add(phone.consulting or "")
        phone.held, phone.consulting = False, None

    def _consulting(self, call_id: int, endpoint: str) -> SimulatedPhone:
        phone = self._phone(call_id, endpoint)
        if phone.consulting is None:
            raise ControlError(f"no consultation in progress on {endpoint}")
        return phone

    def spy(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str, mode: SpyMode) -> None:
        self._phone(call_id, agent_endpoint, "talking").spies[supervisor_endpoint] = mode

    def intercept(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str) -> None:
        phone = self._phone(call_id, agent_endpoint)
        phone.transfer(str(Target("endpoint", supervisor_endpoint)))

    def start_recording(self, call_id: int, endpoint: str, path: str) -> None:
        self._phone(call_id, endpoint).recording = path
