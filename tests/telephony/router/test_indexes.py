"""The router's indexes: available agents (longest ready first) and waiting calls by bucket."""

from __future__ import annotations

from typing import Any

from router_helpers import profile, request

from telephony.router.indexes import AgentIndex, CallIndex
from telephony.router.model import Agent, RegionScope, WaitingCall


def agent(agent_id: str, skills: dict[str, int] | None = None, **kw: Any) -> Agent:
    return Agent(profile(agent_id, skills, **kw))


def call(call_id: int, key: float, *, skill: str = "billing", max_level: int = 1, scope: RegionScope = "province",
         region: str | None = None, city: str | None = None) -> WaitingCall:
    c = WaitingCall(request(call_id, region=region, city=city), "billing", skill, 0.0, 0.0)
    c.max_level, c.region_scope, c.sort_key = max_level, scope, (key,)
    return c


# ------------------------------------------------------------------------------------------ AgentIndex
def test_available_agents_longest_ready_first_per_skill_and_level() -> None:
    idx = AgentIndex()
    a, b, c = agent("a", {"billing": 1}), agent("b", {"billing": 1, "repair": 2}), agent("c", {"billing": 2})
    for x in (b, c, a):
        idx.add_available(x)
    assert [x.id for x in idx.available("billing", 1)] == ["b", "a"]
    assert [x.id for x in idx.available("billing", 2)] == ["c"]
    assert [x.id for x in idx.available("repair", 2)] == ["b"]
    assert list(idx.available("repair", 1)) == []
    idx.add_available(b)  # already in: keeps its place
    assert [x.id for x in idx.available("billing", 1)] == ["b", "a"]
    idx.remove_available(b)
    assert not idx.is_available("b")
    assert [x.id for x in idx.available("repair", 2)] == []
    idx.add_available(b)  # back: now the most recently ready
    assert [x.id for x in idx.available("billing", 1)] == ["a", "b"]
    assert idx.count_available("billing") == 3
    assert idx.count_available("billing", max_level=1) == 2
    idx.remove_available(agent("nobody"))  # not there: nothing happens


def test_available_agents_by_region_and_group() -> None:
    idx = AgentIndex()
    a = agent("a", region="c1", city="C", groups=frozenset({"vip"}))
    b = agent("b", region="c2", city="C")
    for x in (a, b):
        idx.add_available(x)
    assert [x.id for x in idx.available("billing", 1, "county", "c1")] == ["a"]
    assert [x.id for x in idx.available("billing", 1, "city", "C")] == ["a", "b"]
    assert [x.id for x in idx.available("billing", 1, group="vip")] == ["a"]
    assert [x.id for x in idx.available("billing", 1, "county", "c2", "vip")] == []
    assert [x.id for x in idx.available("billing", 1, "city", "C", "vip")] == ["a"]
    assert idx.count_available("billing") == 2  # every agent once, whatever its buckets


def test_signed_in_counts_by_skill_region_and_group() -> None:
    idx = AgentIndex()
    a = agent("a", {"billing": 1, "repair": 2}, region="c1", city="C", groups=frozenset({"vip"}))
    b = agent("b", region="c2", city="C")
    idx.sign_in(a)
    idx.sign_in(a)  # twice counts once
    idx.sign_in(b)
    assert idx.signed_in("billing") == 2
    assert idx.signed_in("repair") == 1
    assert idx.signed_in("billing", "county", "c1") == 1
    assert idx.signed_in("billing", "city", "C") == 2
    assert idx.signed_in("billing", group="vip") == 1
    assert idx.signed_in("billing", "county", "c2", "vip") == 0
    idx.sign_out(a)
    idx.sign_out(a)  # twice is fine
    assert (idx.signed_in("billing"), idx.signed_in("repair"), idx.signed_in("billing", group="vip")) == (1, 0, 0)
    assert idx.signed_in("nothing") == 0


# ------------------------------------------------------------------------------------------- CallIndex
def test_calls_sorted_by_key_and_removed_by_identity() -> None:
    idx = CallIndex()
    c1, c2, c3, c4 = call(1, 5.0), call(2, 1.0), call(3, 5.0), call(4, 3.0)
    for c in (c1, c2, c3, c4):
        idx.add(c)
    assert [c.call_id for c in idx.waiting("billing")] == [2, 4, 1, 3]
    idx.remove(c3)  # same key as c1: the right one goes
    assert [c.call_id for c in idx.waiting("billing")] == [2, 4, 1]
    idx.remove(c3)  # not indexed: nothing happens
    assert len(idx) == 3
    assert c1 in idx and c3 not in idx
    assert idx.skills() == ["billing"]
    for c in (c1, c2, c4):
        idx.remove(c)
    assert len(idx) == 0 and idx.skills() == [] and idx.waiting("billing") == []


def test_adding_again_moves_a_call_to_its_new_bucket() -> None:
    idx = CallIndex()
    c = call(1, 1.0)
    idx.add(c)
    c.max_level, c.sort_key = 2, (0.5,)
    idx.add(c)  # re-added with new fields: only once, in the new bucket
    assert len(idx) == 1
    assert idx.best_for(agent("l2", {"billing": 2})) is c


def test_best_for_respects_the_agent_level() -> None:
    idx = CallIndex()
    early_l1, late_l2 = call(1, 1.0, max_level=1), call(2, 2.0, max_level=2)
    idx.add(early_l1)
    idx.add(late_l2)
    assert idx.best_for(agent("a", {"billing": 1})) is early_l1
    assert idx.best_for(agent("b", {"billing": 2})) is late_l2
    assert idx.best_for(agent("c", {"billing": 3})) is None
    assert idx.best_for(agent("d", {"repair": 1})) is None


def test_best_for_across_skills_takes_the_smallest_key() -> None:
    idx = CallIndex()
    idx.add(call(1, 9.0, skill="billing"))
    repair = call(2, 4.0, skill="repair")
    idx.add(repair)
    assert idx.best_for(agent("a", {"billing": 1, "repair": 1})) is repair


def test_best_for_respects_region_steps() -> None:
    idx = CallIndex()
    county = call(1, 1.0, scope="county", region="c1", city="C")
    city = call(2, 2.0, scope="city", region="c9", city="C")
    province = call(3, 3.0)
    for c in (county, city, province):
        idx.add(c)
    assert idx.best_for(agent("in_c1", region="c1", city="C")) is county
    assert idx.best_for(agent("in_c2", region="c2", city="C")) is city
    assert idx.best_for(agent("elsewhere", region="x", city="X")) is province
    assert idx.best_for(agent("no_region")) is province


def test_best_for_respects_queue_groups() -> None:
    idx = CallIndex()
    vip = call(1, 1.0)
    idx.add(vip, "vip")
    plain = call(2, 2.0)
    idx.add(plain)
    assert idx.best_for(agent("member", groups=frozenset({"vip"}))) is vip
    assert idx.best_for(agent("other")) is plain


class CountingCall(WaitingCall):
    reads = 0

    def __getattribute__(self, name: str) -> Any:
        CountingCall.reads += 1
        return super().__getattribute__(name)


def test_best_for_does_not_scan_the_calls_it_cannot_take() -> None:
    idx = CallIndex()
    for i in range(2000):
        c = CountingCall(request(i, region=f"r{i}", city="C"), "billing", "billing", 0.0, 0.0)
        c.max_level, c.sort_key = 1, (float(i),)
        c.region_scope = "county" if i % 2 else "province"
        idx.add(c)
    CountingCall.reads = 0
    assert idx.best_for(agent("level2", {"billing": 2}, region="r1", city="C")) is None
    assert idx.best_for(agent("other_county", {"billing": 2}, region="r3", city="C")) is None
    assert CountingCall.reads == 0
    found = idx.best_for(agent("level1", {"billing": 1}, region="r7", city="C"))
    assert found is not None and found.call_id == 0
    assert CountingCall.reads < 20  # the heads of a few buckets, not 2000 calls
