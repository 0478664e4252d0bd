"""Which desk action is allowed in which agent status and state, and with which permission: one table.

The server (:class:`telephony.desk.service.DeskService`) checks every agent and supervisor function against
it, and the UI enables its buttons from it (the desktop's toolbar, ``helpline/ui/views/desk_toolbar.py``;
the supervisor's actions, ``supervisor_actions.py``), so a button is enabled exactly when the server would
accept its action (``tests/telephony/desk/test_desk_actions.py`` proves it for every status and state).

An agent action's rule reads the agent's own status and state; a supervisor action's rule reads the status
and state of the agent it acts on. Every agent action also needs ``desktop`` (the agent profile check).

```python
rule = AGENT_ACTIONS["hold"]
rule.refusal("hold", AgentStatus.READY, AgentState.IDLE)   # 'hold is possible while talking, not while idle'
enabled(AGENT_ACTIONS, "hold", "ready", "talking", consulting=False, has=actor.has)   # True
```
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from telephony.router.model import ON_CALL, SIGNED_IN, AgentState, AgentStatus

__all__ = ["AGENT_ACTIONS", "SUPERVISOR_ACTIONS", "Rule", "enabled"]

ANY_STATUS = frozenset(AgentStatus)
ANY_STATE = frozenset(AgentState)
TALKING = frozenset({AgentState.TALKING, AgentState.HOLD})
"""On a call the agent has answered (talking or holding the caller)."""
NOT_ON_CALL = ANY_STATE - ON_CALL
DIAL_FROM = frozenset({AgentState.IDLE, AgentState.WRAP_UP})
"""An agent dials out (or calls another agent) without a call: idle, or during wrap-up (which ends)."""


@dataclass(frozen=True)
class Rule:
    """Where one action is allowed."""

    statuses: frozenset[AgentStatus] = ANY_STATUS
    states: frozenset[AgentState] = ANY_STATE
    permission: str | None = None
    """The action's own permission (besides ``desktop`` for agent actions), or None."""
    consulting: bool | None = None
    """True: only during a consultation; False: never during one; None: either."""
    what: str = ""
    """How a refusal names the action (default: the action's name)."""
    bulletins_first: bool = False
    """The agent must have acknowledged every must-read bulletin sent to them first (checked by the desk
    service, which reads the bulletins: ``helpline/services/bulletins.py``; the desktop shows them)."""

    def refusal(self, action: str, status: str, state: str, consulting: bool = False) -> str | None:
        """Why the action is not possible in this situation (a message for the user), or None if it is."""
        what = self.what or action.replace("_", " ")
        if status not in self.statuses:
            if status == AgentStatus.LOGGED_OUT and self.statuses <= SIGNED_IN:
                return "sign in first"
            if self.statuses == {AgentStatus.LOGGED_OUT}:
                return "already signed in"
            return f"{what} is possible while {_words(self.statuses)}, not while {status}"
        if state not in self.states:
            return f"{what} is possible while {_words(self.states)}, not while {state}"
        if self.consulting is True and not consulting:
            return f"{what} needs a consultation in progress"
        if self.consulting is False and consulting:
            return f"{what} is not possible during a consultation"
        return None

    def allows(self, status: str, state: str, consulting: bool = False) -> bool:
        return self.refusal("", status, state, consulting) is None


def _words(values: frozenset[AgentStatus] | frozenset[AgentState]) -> str:
    return ", ".join(sorted(str(v) for v in values))


SIGN_IN = Rule(statuses=frozenset({AgentStatus.LOGGED_OUT}))
SIGN_OUT = Rule(statuses=SIGNED_IN, states=NOT_ON_CALL, what="sign-out")

AGENT_ACTIONS: Mapping[str, Rule] = {
    "sign_in": SIGN_IN,
    "shift_in": SIGN_IN,
    "sign_out": SIGN_OUT,
    "shift_out": SIGN_OUT,
    "ready": Rule(statuses=SIGNED_IN - {AgentStatus.READY}, bulletins_first=True),
    "not_ready": Rule(statuses=SIGNED_IN),
    "study": Rule(statuses=SIGNED_IN - {AgentStatus.STUDY}),
    "answer": Rule(states=frozenset({AgentState.RINGING, AgentState.RESERVED})),
    "release": Rule(states=TALKING),
    "hold": Rule(states=frozenset({AgentState.TALKING}), consulting=False),
    "unhold": Rule(states=frozenset({AgentState.HOLD}), consulting=False),
    "mute": Rule(states=TALKING),
    "transfer": Rule(states=TALKING, permission="agent.transfer", consulting=False),
    "consult": Rule(states=frozenset({AgentState.TALKING}), permission="agent.consult", consulting=False),
    "complete_transfer": Rule(states=TALKING, permission="agent.transfer", consulting=True,
                              what="transfer to the consulted agent"),
    "conference": Rule(states=TALKING, consulting=True, what="a three-way call"),
    "cancel_consult": Rule(states=TALKING, consulting=True, what="cancel the consultation"),
    "end_wrap_up": Rule(states=frozenset({AgentState.WRAP_UP}), permission="agent.wrapup", what="ending wrap-up"),
    "dial": Rule(statuses=SIGNED_IN, states=DIAL_FROM, permission="agent.outbound", what="dialling out"),
    "internal_call": Rule(statuses=SIGNED_IN, states=DIAL_FROM, permission="agent.internal_call",
                          what="an internal call"),
    "dtmf": Rule(states=TALKING, permission="agent.outbound", consulting=False, what="second dialling"),
    "consult_out": Rule(states=frozenset({AgentState.TALKING}), permission="agent.outbound", consulting=False,
                        what="consulting an outside number"),
}
"""The agent's own functions (the soft-phone toolbar), by the agent's status and state."""

SUPERVISOR_ACTIONS: Mapping[str, Rule] = {
    "ready": Rule(statuses=ANY_STATUS - {AgentStatus.READY}, permission="supervisor.force_state",
                  what="forcing ready"),
    "not_ready": Rule(statuses=SIGNED_IN, permission="supervisor.force_state", what="forcing not ready"),
    "sign_out": Rule(statuses=SIGNED_IN, states=NOT_ON_CALL, permission="supervisor.force_state",
                     what="forcing sign-out"),
    "listen": Rule(states=TALKING, permission="supervisor.listen"),
    "whisper": Rule(states=TALKING, permission="supervisor.whisper"),
    "barge": Rule(states=TALKING, permission="supervisor.barge"),
    "intercept": Rule(states=TALKING, permission="supervisor.intercept"),
}
"""A supervisor's functions on an agent, by that agent's status and state."""


def enabled(table: Mapping[str, Rule], action: str, status: str, state: str, *, consulting: bool = False,
            has: Callable[[str], bool] = lambda _: True) -> bool:
    """Whether ``action`` of ``table`` is possible now and granted (``has``: the user's permission test)."""
    rule = table[action]
    return rule.allows(status, state, consulting) and (rule.permission is None or has(rule.permission))
