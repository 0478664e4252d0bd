"""The router core with call-back tasks (``telephony/router/callbacks.py``): offered like calls by skill, agent
group and region step, never to two agents at once, after every waiting caller, earliest due first; held for a
retry on the manual clock; no maximum wait, no service level, no leaving when the last agent signs out."""

from __future__ import annotations

from router_helpers import Harness, queue, request, settings

from telephony.router import CallRequest, RegionSteps


def task(task_id: int, queue_name: str = "billing", due: float | None = None, **kw: object) -> CallRequest:
    return request(-task_id, queue_name, callback=True, due_at=due, **kw)  # type: ignore[arg-type]


def test_a_task_waits_while_nobody_is_signed_in_and_has_no_maximum_wait() -> None:
    h = Harness(settings(queue("billing", max_wait_s=60)))
    assert h.router.queue_call(task(1)) == "queued"          # a caller would get "empty"
    assert h.call(7) == "empty"
    h.at(3600)                                              # far past max_wait_s: still waiting
    assert h.left() == [] and -1 in h.router.waiting
    h.agent("1001")
    assert h.offers() == [(-1, "1001")]


def test_offered_by_skill_and_group_only_and_never_twice_at_once() -> None:
    h = Harness(settings(queue("billing"), queue("vip", skill="billing", group="vip_team")))
    h.agent("2001", {"fault": 1})                           # wrong skill
    h.agent("3001", {"billing": 1})                         # not in the queue's group
    h.router.queue_call(task(5, "vip"))
    assert h.offers() == []
    h.agent("1001", {"billing": 1}, groups=frozenset({"vip_team"}))
    h.agent("1002", {"billing": 1}, groups=frozenset({"vip_team"}))
    assert h.offers() == [(-5, "1001")]
    assert h.router.queue_call(task(5, "vip")) == "duplicate"
    assert h.router.defer(task(5, "vip"), 100.0) == "duplicate"
    h.router.no_answer(-5)                                  # 1001 let it ring out: the other agent
    assert h.offers() == [(-5, "1001"), (-5, "1002")]
    assert h.router.answered(-5)
    h.at(500)
    assert len(h.offers()) == 2                             # worked by 1002 only


def test_callers_first_then_tasks_earliest_due_first() -> None:
    h = Harness()
    h.agent("1001", ready=False)
    h.router.queue_call(task(1, due=900.0))
    h.router.queue_call(task(2, due=300.0))                 # a VIP task: due sooner
    h.call(10)
    h.router.set_ready("1001")
    assert h.offers() == [(10, "1001")]                     # the caller on the line first
    h.router.answered(10)
    h.router.call_ended(10)
    h.at(h.router.settings.wrap_up_s + 1)
    assert h.offers()[-1] == (-2, "1001")


def test_region_steps_apply_to_tasks() -> None:
    h = Harness(settings(queue("billing", region_routing=True), region_steps=RegionSteps(county_s=10, city_s=20)))
    h.agent("1001", region="430102", city="4301")
    h.agent("1002", region="430202", city="4302")
    h.router.set_not_ready("1001", "busy")
    h.router.queue_call(task(3, region="430102", city="4301"))
    assert h.offers() == []                                 # waits for the county's agent
    h.router.set_ready("1001")
    assert h.offers() == [(-3, "1001")]


def test_retry_held_on_the_manual_clock_and_withdraw() -> None:
    h = Harness()
    h.agent("1001")
    assert h.router.defer(task(4), 1800.0) == "queued"
    assert h.decisions(-4) == ["deferred"]
    h.at(1799.9)
    assert h.offers() == []
    h.at(1800.0)
    assert h.offers() == [(-4, "1001")]
    assert h.router.withdraw(-4) and not h.router.holds(-4)
    assert h.state("1001") == ("ready", "idle")
    h.router.defer(task(6), 2000.0)
    assert h.router.withdraw(-6)
    h.at(3000)
    assert len(h.offers()) == 1


def test_tasks_count_apart_from_callers_and_never_leave_when_empty() -> None:
    h = Harness()
    h.agent("1001", ready=False)
    h.router.queue_call(task(1))
    h.call(9)
    h.router.sign_out("1001")                               # the last agent: callers leave, the task stays
    assert h.left() == [(9, "empty")]
    assert h.router.holds(-1)
    snap = h.router.snapshot()["queues"]["billing"]         # type: ignore[index]
    assert snap["waiting"] == 0                             # the wallboard counts callers only
    assert h.router.waiting_in("billing") == 0
    h.agent("1001")
    h.router.answered(-1)
    h.router.call_ended(-1)
    assert h.router.stats.names("tier") == []               # no service level from a task


def test_taken_task_stays_held_and_the_agent_waits_in_wrap_up_until_done() -> None:
    h = Harness()
    h.agent("1001")
    h.agent("1002", ready=False)
    h.router.queue_call(task(8))
    assert h.router.callback_taken(-8)
    assert h.state("1001") == ("ready", "wrap_up") and h.router.holds(-8)
    h.router.set_ready("1002")
    h.call(11)                                              # a caller meanwhile: to the free agent only
    h.at(3600)                                              # no wrap-up timer: still the task's
    assert h.offers() == [(-8, "1001"), (11, "1002")]
    assert h.router.queue_call(task(8)) == "duplicate"      # a sync cannot offer it to anyone else
    assert h.router.callback_done(-8)
    assert h.state("1001") == ("ready", "idle") and not h.router.holds(-8)
    assert not h.router.callback_taken(-8)


def test_an_agent_working_a_task_is_offered_nothing_even_when_idle_until_done() -> None:
    h = Harness()
    h.agent("1001")
    h.router.queue_call(task(9))
    h.router.callback_taken(-9)
    h.router.end_wrap_up("1001")                            # e.g. an unanswered dial left it idle
    assert h.state("1001") == ("ready", "idle")
    h.call(12)
    h.router.queue_call(task(10))
    assert h.offers() == [(-9, "1001")]                     # neither the caller nor the next task
    h.router.callback_done(-9)
    assert h.offers()[-1] == (12, "1001")
