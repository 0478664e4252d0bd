"""A higher tier's move across a ``tier.higher_lead`` gate evaluates the lower tier's waiting calls in sweep
slices, never in one router call (issue 22 item 2: the work of each router call is bounded, whatever the gate
does to the calls; hypothesis (a) of the longest-call hunt)."""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import Harness, helpline, settings

from telephony.router import Router

GATED = """\
tier gold: target 80% within 20s, priority 30, open level 2 after 0s, starve after 600s
tier ordinary: target 70% within 20s, priority 10, starve after 600s
when tier.name == "ordinary" and tier.higher_lead >= 5% then open_level 2
"""
WAITING = 200


class Counted(Harness):
    """A harness whose every router call records how many calls its policy evaluated."""

    def __init__(self, slice_calls: int) -> None:
        super().__init__(settings(wrap_up_s=0), helpline(GATED))
        self.router = Router(self.router.settings, self.router.policy, clock=self.clock,
                             sinks=[self.events.append], sweep_slice=slice_calls)
        self.evaluations = 0
        self.per_call: list[tuple[str, int]] = []
        evaluate = self.router.policy.evaluate

        def counting(*args: Any) -> Any:
            self.evaluations += 1
            return evaluate(*args)

        setattr(self.router.policy, "evaluate", counting)  # noqa: B010 (an instance attribute over the method)

    def do(self, name: str, *args: Any) -> Any:
        self.evaluations = 0
        result = getattr(self.router, name)(*args)
        self.per_call.append((name, self.evaluations))
        return result

    def until(self, t: float) -> None:
        while (due := self.router.next_timer_at()) is not None and due <= t:
            self.clock.set(max(due, self.clock.now()))
            self.do("advance")
        self.clock.set(t)


@pytest.mark.parametrize("slice_calls", [8, 0])
def test_the_gate_crossing_evaluates_at_most_a_slice_per_router_call(slice_calls: int) -> None:
    h = Counted(slice_calls)
    h.agent("l1", {"billing": 1})
    h.agent("l2a", {"billing": 2})
    h.agent("l2b", {"billing": 2})
    h.call(1)
    h.router.answered(1)  # l1 talks: the ordinary calls below wait at level 1 (gold has no level yet)
    for i in range(2, WAITING + 2):
        h.clock.set(i * 0.01)
        h.call(i)
    assert all(c.max_level == 1 for c in h.router.waiting.values())
    h.clock.set(3.0)
    h.call(9999, tier="gold")  # gold takes l2a at once
    h.per_call.clear()
    h.do("answered", 9999)  # within 20 s: gold 100 %, 20 pts ahead: the gate opens for every ordinary call
    bound = h.router.sweeps.bound_s(len(h.router.waiting), 2)
    h.until(3.0 + bound + 1e-3)
    swept = sum(n for _, n in h.per_call)
    assert swept >= WAITING  # every ordinary call evaluated again...
    most = max(n for _, n in h.per_call)
    if slice_calls:
        assert most <= slice_calls + 1  # ...a slice per router call (and the one call an offer moves)
    else:
        assert most >= WAITING  # the reference: all in one advance
    assert all(c.max_level == 2 for c in h.router.waiting.values() if c.agent_id is None)
    assert len({a for _, a in h.offers()}) == 3  # l2b took an ordinary call once its level opened
