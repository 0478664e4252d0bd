"""Region routing (county → city → province, with the step times, skipping steps nobody signed in to) and
agent groups (a queue only some agents answer)."""

from __future__ import annotations

from router_helpers import Harness, brief, queue, settings

from telephony.router import CallDecision, CallLeft, RegionSteps

STEPS = RegionSteps(county_s=15.0, city_s=30.0)


def region_harness() -> Harness:
    return Harness(settings(queue(region_routing=True), region_steps=STEPS))


def scope(h: Harness, call_id: int) -> str:
    return h.router.waiting[call_id].region_scope


def staff(h: Harness, *, county_ready: bool = False, city_ready: bool = True, province_ready: bool = True) -> None:
    """c1 (county of the caller, city C), c2 (another county of city C), d (another city)."""
    h.agent("c1", region="c1", city="C", ready=county_ready)
    h.agent("c2", region="c2", city="C", ready=city_ready)
    h.agent("d", region="d1", city="D", ready=province_ready)
    h.take()


def test_county_then_city_then_province_at_the_step_times() -> None:
    h = region_harness()
    staff(h, city_ready=False, province_ready=True)
    h.call(1, region="c1", city="C")
    assert scope(h, 1) == "county"
    assert h.offers() == []  # d is ready but out of the county
    h.at(14.99)
    assert h.decisions(1) == ["queued"]
    h.at(15)
    assert scope(h, 1) == "city"
    region = [e for e in h.of(CallDecision) if e.kind == "region"]
    assert region[0].reason.startswith("region step city after 15 s")
    assert h.offers() == []  # c2 of the city is not ready
    h.at(29.99)
    assert h.offers() == []
    h.at(30)
    assert h.router.waiting.get(1) is None or scope(h, 1) == "province"
    assert h.offers() == [(1, "d")]
    assert h.decisions(1) == ["queued", "region", "region", "offered"]


def test_steps_end_at_their_time_despite_float_rounding() -> None:
    start = 59.024105  # (start + 15) - start < 15 in floats, and the same for 30
    h = Harness(settings(queue(region_routing=True), region_steps=STEPS), start=start)
    staff(h, city_ready=False, province_ready=False)
    h.call(1, region="c1", city="C")
    h.clock.set(h.next_timer())
    assert h.clock.now() == start + 15.0
    h.router.advance()
    assert scope(h, 1) == "city"
    h.clock.set(h.next_timer())
    assert h.clock.now() == start + 30.0
    h.router.advance()
    assert scope(h, 1) == "province"


def test_the_city_step_offers_to_the_city() -> None:
    h = region_harness()
    staff(h, city_ready=True)
    h.call(1, region="c1", city="C")
    h.at(15)
    assert h.offers() == [(1, "c2")]


def test_the_county_agent_gets_the_call_first() -> None:
    h = region_harness()
    staff(h, county_ready=True)
    h.call(1, region="c1", city="C")
    assert h.offers() == [(1, "c1")]


def test_a_county_agent_freed_during_the_county_step() -> None:
    h = region_harness()
    staff(h)
    h.call(1, region="c1", city="C")
    h.at(5)
    h.router.set_ready("d")  # already ready: nothing
    h.router.set_not_ready("c2", "x")
    h.router.set_ready("c2")  # another county of the city: not yet
    assert h.offers() == []
    h.router.set_ready("c1")
    assert h.offers() == [(1, "c1")]


def test_a_step_with_nobody_signed_in_is_skipped() -> None:
    h = region_harness()
    h.agent("c2", region="c2", city="C", ready=False)
    h.agent("d", region="d1", city="D", ready=False)
    h.call(1, region="c1", city="C")  # nobody of c1: straight to the city
    assert scope(h, 1) == "city"
    h.call(2, region="x1", city="X")  # nobody of county x1 nor city X: the province
    assert scope(h, 2) == "province"
    h.router.set_ready("d")
    assert h.offers() == [(2, "d")]
    h.router.answered(2)
    h.router.call_ended(2)
    h.at(29.99)
    h.router.end_wrap_up("d")
    assert h.offers() == [(2, "d")]  # call 1 is still in its city step
    h.at(30)
    assert h.offers() == [(2, "d"), (1, "d")]


def test_signed_in_but_busy_county_agents_hold_the_step() -> None:
    # "a step with no agent signed in is skipped": a signed-in county agent on a break keeps it
    h = region_harness()
    staff(h, county_ready=False)
    h.call(1, region="c1", city="C")
    assert scope(h, 1) == "county"


def test_without_region_routing_anyone_answers() -> None:
    h = Harness(settings(queue(region_routing=False), region_steps=STEPS))
    staff(h, city_ready=False)
    h.call(1, region="c1", city="C")
    assert h.router.waiting.get(1) is not None and scope(h, 1) == "province"
    assert h.offers() == [(1, "d")]


def test_a_caller_without_region_goes_to_the_province() -> None:
    h = region_harness()
    staff(h)
    h.call(1)
    assert h.offers() == [(1, "c2")]  # longest ready of the province


def test_a_region_code_equal_to_the_city_is_the_city_step() -> None:
    h = region_harness()
    staff(h, city_ready=False)
    h.call(1, region="C", city="C")
    assert scope(h, 1) == "city"
    h.at(15)
    assert h.offers() == []  # the city step lasts until 30 s
    h.at(30)
    assert h.offers() == [(1, "d")]


def test_a_freed_agent_takes_only_calls_of_its_step() -> None:
    h = region_harness()
    staff(h, city_ready=False, province_ready=False)
    h.call(1, region="c1", city="C")  # county step
    h.call(2, region="c2", city="C")  # county step of c2
    h.take()
    h.router.set_ready("d")
    assert h.offers() == []
    h.router.set_ready("c2")
    assert h.offers() == [(2, "c2")]


def test_overflow_enters_the_new_queue_at_its_first_step() -> None:
    h = Harness(settings(queue("billing", max_wait_s=20.0, overflow="general"),
                         queue("general", "billing", region_routing=True), region_steps=STEPS))
    staff(h, city_ready=False, province_ready=False)
    h.call(1, region="c1", city="C")
    assert scope(h, 1) == "province"
    h.at(20)
    call = h.router.waiting[1]
    assert (call.queue, call.region_scope) == ("general", "county")  # the steps count from the overflow
    h.at(34.99)
    assert scope(h, 1) == "county"
    h.at(35)
    assert scope(h, 1) == "city"


# ------------------------------------------------------------------------------------------ groups
def group_harness() -> Harness:
    return Harness(settings(queue("vip", "billing", group="vip_team"), queue("billing")))


def test_a_group_queue_only_reaches_agents_of_the_group() -> None:
    h = group_harness()
    h.agent("plain")
    h.agent("member", groups=frozenset({"vip_team"}), ready=False)
    h.call(1, "vip")
    assert h.offers() == []  # plain has the skill but not the group
    h.call(2, "billing")
    assert h.offers() == [(2, "plain")]
    h.router.set_ready("member")
    assert h.offers() == [(2, "plain"), (1, "member")]


def test_a_group_member_also_answers_the_plain_queue() -> None:
    h = group_harness()
    h.agent("member", groups=frozenset({"vip_team"}))
    h.call(1, "billing")
    assert h.offers() == [(1, "member")]


def test_a_group_queue_without_group_agents_is_empty() -> None:
    h = group_harness()
    h.agent("plain")
    assert h.call(1, "vip") == "empty"
    assert h.of(CallDecision)[-1].reason == "no agent of skill billing, group vip_team is signed in"
    h.agent("member", {"repair": 1}, groups=frozenset({"vip_team"}))  # the group without the skill
    assert h.call(2, "vip") == "empty"


def test_callers_leave_a_group_queue_when_its_last_member_signs_out() -> None:
    h = group_harness()
    h.agent("plain", ready=False)
    h.agent("member", groups=frozenset({"vip_team"}), ready=False)
    h.call(1, "vip")
    h.call(2, "billing")
    h.take()
    h.router.sign_out("member")
    assert brief(h.events) == [("status", "member", "not_ready", "logged_out"), ("left", 1, "empty"),
                               ("decision", 1, "empty")]
    assert h.of(CallLeft)[0].reason == "the last agent of skill billing, group vip_team signed out"
    assert set(h.router.waiting) == {2}


def test_group_and_region_together() -> None:
    h = Harness(settings(queue("vip", "billing", group="vip_team", region_routing=True), region_steps=STEPS))
    h.agent("c1_plain", region="c1", city="C")
    h.agent("c1_member", region="c1", city="C", groups=frozenset({"vip_team"}), ready=False)
    h.agent("d_member", region="d1", city="D", groups=frozenset({"vip_team"}))
    h.take()
    h.call(1, "vip", region="c1", city="C")
    assert scope(h, 1) == "county"
    assert h.offers() == []
    h.router.set_ready("c1_member")
    assert h.offers() == [(1, "c1_member")]


def test_a_group_step_counts_only_group_agents() -> None:
    h = Harness(settings(queue("vip", "billing", group="vip_team", region_routing=True), region_steps=STEPS))
    h.agent("c1_plain", region="c1", city="C")  # of the county, not of the group
    h.agent("d_member", region="d1", city="D", groups=frozenset({"vip_team"}))
    h.take()
    h.call(1, "vip", region="c1", city="C")
    assert h.offers() == [(1, "d_member")]  # no group agent in the county or city: the province at once


def test_a_step_whose_last_agent_signs_out_is_skipped_at_once() -> None:
    h = region_harness()
    staff(h, city_ready=False, province_ready=True)
    h.call(1, region="c1", city="C")
    h.at(5)
    assert scope(h, 1) == "county" and h.offers() == []
    h.take()
    h.router.sign_out("c1")  # nobody of c1 any more: the city step (c2 is not ready)
    assert scope(h, 1) == "city"
    assert h.decisions(1) == ["region"]
    h.router.sign_out("c2")  # nobody of the city either: the province, and d is ready
    assert h.offers() == [(1, "d")]


def test_a_group_step_whose_last_member_signs_out_is_skipped() -> None:
    h = Harness(settings(queue("vip", "billing", group="vip_team", region_routing=True), region_steps=STEPS))
    h.agent("c1_plain", region="c1", city="C", ready=False)
    h.agent("c1_member", region="c1", city="C", groups=frozenset({"vip_team"}), ready=False)
    h.agent("d_member", region="d1", city="D", groups=frozenset({"vip_team"}))
    h.call(1, "vip", region="c1", city="C")
    assert scope(h, 1) == "county"
    h.router.sign_out("c1_member")  # c1_plain is still signed in, but not of the group
    assert h.offers() == [(1, "d_member")]
