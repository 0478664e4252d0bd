"""The router core reconfigured while calls wait or ring (a published routing change): queues removed,
skills and max waits changed, a new service window or policy."""

from __future__ import annotations

from typing import Any

from router_helpers import Harness, brief, helpline, queue, settings

from telephony.router import (
    AppQueuePolicy,
    CallLeft,
)


# ------------------------------------------------------------------------------------- reconfigure
def test_reconfigure_removes_calls_of_a_queue_that_is_gone() -> None:
    h = Harness(settings(queue("billing"), queue("repair")))
    h.agent("1001", {"billing": 1, "repair": 1}, ready=False)
    h.call(1, "billing")
    h.call(2, "repair")
    h.take()
    h.router.reconfigure(settings(queue("billing")), AppQueuePolicy())
    assert brief(h.events) == [("tier", "ordinary", True), ("left", 2, "timeout"), ("decision", 2, "timeout")]
    assert h.of(CallLeft)[0].reason == "queue repair no longer exists"
    assert set(h.router.waiting) == {1}
    h.router.set_ready("1001")
    assert h.offers() == [(1, "1001")]


def test_reconfigure_while_ringing_then_no_answer() -> None:
    h = Harness(settings(queue("billing"), queue("repair")))
    h.agent("1001", {"billing": 1, "repair": 1})
    h.call(1, "repair")
    h.router.reconfigure(settings(queue("billing")), AppQueuePolicy())
    assert h.left() == []  # the offer goes on
    h.take()
    assert h.router.no_answer(1)
    assert h.left() == [(1, "timeout")]
    assert h.router.waiting == {}
    assert h.router.agents["1001"].state == "idle"


def test_reconfigure_while_ringing_then_answer() -> None:
    h = Harness(settings(queue("billing"), queue("repair")))
    h.agent("1001", {"billing": 1, "repair": 1})
    h.call(1, "repair")
    h.router.reconfigure(settings(queue("billing")), AppQueuePolicy())
    assert h.router.answered(1)
    assert h.router.call_ended(1)


def test_reconfigure_moves_calls_to_the_new_skill_of_their_queue() -> None:
    h = Harness(settings(queue("billing", "billing")))
    h.agent("1001", {"billing": 1}, ready=False)
    h.agent("2001", {"accounts": 1}, ready=False)
    h.call(1)
    h.router.reconfigure(settings(queue("billing", "accounts")), AppQueuePolicy())
    h.router.set_ready("1001")
    assert h.offers() == []
    h.router.set_ready("2001")
    assert h.offers() == [(1, "2001")]


def test_reconfigure_offers_calls_that_can_now_be_served() -> None:
    h = Harness(settings(queue()), AppQueuePolicy(level_step_s=100.0))
    h.agent("1002", {"billing": 2})
    h.call(1)
    h.at(10)
    assert h.offers() == []
    h.router.reconfigure(settings(queue()), AppQueuePolicy(level_step_s=5.0))
    h.at(10)
    assert h.offers() == [(1, "1002")]
    assert h.decisions(1) == ["queued", "level", "offered"]


def test_reconfigure_with_a_shorter_max_wait() -> None:
    h = Harness(settings(queue(max_wait_s=300.0)))
    h.agent("1001", ready=False)
    h.call(1)
    h.at(100)
    h.router.reconfigure(settings(queue(max_wait_s=60.0)), AppQueuePolicy())
    h.at(100)
    assert h.left() == [(1, "timeout")]


def test_reconfigure_with_a_new_service_window() -> None:
    h = Harness(settings(queue(), service_window_s=900.0))
    h.agent("1001")
    h.call(1)
    h.router.answered(1)
    h.router.reconfigure(settings(queue(), service_window_s=600.0, windows=(600.0, 1800.0)), AppQueuePolicy())
    assert h.router.service_level("ordinary") == 1.0
    snap: Any = h.router.snapshot()
    assert set(snap["tiers"]["ordinary"]) >= {"10m", "30m"}


def test_reconfigure_to_another_policy_reorders() -> None:
    h = Harness(settings(queue()), AppQueuePolicy())
    h.agent("1001", ready=False)
    h.call(1, tier="ordinary")
    h.at(5)
    h.call(2, tier="gold")
    h.router.reconfigure(settings(queue()), helpline())
    h.router.set_ready("1001")
    assert h.offers() == [(2, "1001")]
