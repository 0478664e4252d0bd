"""Indexes of the router: available agents and waiting calls, bucketed so a decision never scans.

``AgentIndex`` keeps, for each (skill, level, region scope and code, agent group), the agents who are
ready and idle in the order they became so: the first one is the longest ready. The scopes are the
province (code ``""``), the agent's county and the agent's city; the group ``""`` holds every agent, and
each agent group has its own buckets too. It also counts signed-in agents per (skill, scope, code,
group) to refuse joining an empty queue and to skip a region step nobody could answer.

``CallIndex`` keeps the waiting (not offered) calls in buckets of (skill, max level, region scope and
code, queue group, reserve), each sorted by the policy sort key. The calls a freed agent may take are the heads
of the buckets of its skills, of a max level at or above its own level, of the province, its county or
its city, and of no group or one of its groups: a handful of look-ups, however many calls wait. A call
with a reserve N (agent reservation, a rule's ``reserve N``) sits in buckets of its own, skipped while no
more than N agents of its skill up to its max level are idle (``AgentIndex.idle``, counters).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterator

from .model import Agent, WaitingCall

Bucket = tuple[str, int, str, str, str]
"""(skill, level, scope, region code, group); scope ``province`` uses the code ``""``, group ``""`` any."""
CallBucket = tuple[str, int, str, str, str, int]
"""A call's bucket: (skill, max level, scope, region code, group, reserve)."""
SignedKey = tuple[str, str, str, str]
"""(skill, scope, region code, group)."""


def _regions(agent: Agent) -> list[tuple[str, str]]:
    p = agent.profile
    found = [("province", "")]
    if p.region:
        found.append(("county", p.region))
    if p.city:
        found.append(("city", p.city))
    return found


def _groups(agent: Agent) -> list[str]:
    return ["", *sorted(agent.profile.groups)]


class AgentIndex:
    def __init__(self) -> None:
        self._idle: dict[Bucket, dict[str, Agent]] = {}
        self._where: dict[str, list[Bucket]] = {}
        self._idle_skills: dict[str, tuple[tuple[str, int], ...]] = {}
        self._idle_count: Counter[tuple[str, int]] = Counter()
        """(skill, level) → available agents with that skill at that level (any region or group)."""
        self.signed: Counter[SignedKey] = Counter()
        """(skill, scope, code, group) → agents signed in (scope ``province`` with code ``""``, group ``""``
        for every agent)."""
        self._signed_keys: dict[str, list[SignedKey]] = {}

    # -- available agents ----------------------------------------------------------------------
    def add_available(self, agent: Agent) -> None:
        if agent.id in self._where:
            return
        buckets = [(skill, level, scope, code, group) for skill, level in agent.profile.skills.items()
                   for scope, code in _regions(agent) for group in _groups(agent)]
        for b in buckets:
            self._idle.setdefault(b, {})[agent.id] = agent
        self._where[agent.id] = buckets
        skills = self._idle_skills[agent.id] = tuple(agent.profile.skills.items())
        self._idle_count.update(skills)

    def remove_available(self, agent: Agent) -> None:
        for b in self._where.pop(agent.id, ()):
            bucket = self._idle.get(b)
            if bucket is not None:
                bucket.pop(agent.id, None)
        skills = self._idle_skills.pop(agent.id, None)
        if skills:
            self._idle_count.subtract(skills)

    def idle(self, skill: str, max_level: int) -> int:
        """Available agents with the skill at levels up to ``max_level`` (any region or group; a look-up per
        level: agent reservation reads it)."""
        count = self._idle_count
        return sum(count[(skill, level)] for level in range(1, max_level + 1))

    def is_available(self, agent_id: str) -> bool:
        return agent_id in self._where

    def available(self, skill: str, level: int, scope: str = "province", code: str = "",
                  group: str = "") -> Iterator[Agent]:
        """Available agents of a skill at exactly ``level`` (of ``group`` unless ``""``), longest ready first."""
        bucket = self._idle.get((skill, level, scope, code, group))
        return iter(bucket.values()) if bucket else iter(())

    def count_available(self, skill: str, max_level: int = 99) -> int:
        """Available agents of a skill up to ``max_level`` (a scan of the buckets: for snapshots only)."""
        return sum(len(b) for (s, lv, scope, _, group), b in self._idle.items()
                   if s == skill and lv <= max_level and scope == "province" and group == "")

    # -- signed-in agents ----------------------------------------------------------------------
    def sign_in(self, agent: Agent) -> None:
        if agent.id in self._signed_keys:
            return
        keys = [(skill, scope, code, group) for skill in agent.profile.skills
                for scope, code in _regions(agent) for group in _groups(agent)]
        self.signed.update(keys)
        self._signed_keys[agent.id] = keys

    def sign_out(self, agent: Agent) -> None:
        keys = self._signed_keys.pop(agent.id, None)
        if keys:
            self.signed.subtract(keys)

    def signed_in(self, skill: str, scope: str = "province", code: str = "", group: str = "") -> int:
        return self.signed.get((skill, scope, code, group), 0)


class CallIndex:
    def __init__(self) -> None:
        self._buckets: dict[CallBucket, list[WaitingCall]] = {}
        self._where: dict[WaitingCall, CallBucket] = {}
        self._levels: dict[str, Counter[tuple[int, int]]] = {}
        """skill → (max level, reserve) → calls indexed with it (the buckets worth looking at)."""

    @staticmethod
    def bucket(call: WaitingCall, group: str | None = None) -> CallBucket:
        scope = call.region_scope
        if scope == "county":
            code = call.request.region or ""
        elif scope == "city":
            code = call.request.city or ""
        else:
            code = ""
        return (call.skill, call.max_level, scope, code, group or "", call.reserve)

    def add(self, call: WaitingCall, group: str | None = None) -> None:
        """Index a call by its current skill, max level, region scope and the queue's ``group``."""
        self.remove(call)
        b = self.bucket(call, group)
        bisect.insort(self._buckets.setdefault(b, []), call, key=lambda c: c.sort_key)
        self._where[call] = b
        self._levels.setdefault(call.skill, Counter())[(call.max_level, call.reserve)] += 1

    def remove(self, call: WaitingCall) -> None:
        """Take a call out (nothing happens if it is not indexed)."""
        b = self._where.pop(call, None)
        if b is None:
            return
        levels = self._levels[b[0]]
        lv = (b[1], b[5])
        levels[lv] -= 1
        if levels[lv] <= 0:
            del levels[lv]
        calls = self._buckets[b]
        i = bisect.bisect_left(calls, call.sort_key, key=lambda c: c.sort_key)
        while i < len(calls) and calls[i].sort_key == call.sort_key:
            if calls[i] is call:
                del calls[i]
                break
            i += 1
        else:  # sort key changed while indexed (should not happen)
            calls[:] = [c for c in calls if c is not call]
        if not calls:
            del self._buckets[b]

    def __contains__(self, call: WaitingCall) -> bool:
        return call in self._where

    def __len__(self) -> int:
        return len(self._where)

    def best_for(self, agent: Agent, idle: Callable[[str, int], int] | None = None) -> WaitingCall | None:
        """The first (smallest sort key) waiting call the agent may take: of one of its skills, whose max
        level reaches the agent's level, in the province or the agent's county or city step, of no
        group or one of the agent's groups, and whose reserve is below ``idle(skill, max level)`` (the idle
        agents the call could take, counting this one; without ``idle`` reserves are not looked at)."""
        best: WaitingCall | None = None
        regions = _regions(agent)
        groups = _groups(agent)
        for skill, level in agent.profile.skills.items():
            levels = self._levels.get(skill)
            if not levels:
                continue
            for max_level, reserve in levels:
                if max_level < level or (reserve and idle is not None and idle(skill, max_level) <= reserve):
                    continue
                for scope, code in regions:
                    for group in groups:
                        calls = self._buckets.get((skill, max_level, scope, code, group, reserve))
                        if calls and (best is None or calls[0].sort_key < best.sort_key):
                            best = calls[0]
        return best

    def in_region(self, skill: str, scope: str, code: str) -> list[WaitingCall]:
        """The calls of a skill in a county or city step (a scan of the bucket keys, not of the calls)."""
        return [c for b, calls in self._buckets.items() if b[0] == skill and b[2] == scope and b[3] == code
                for c in calls]

    def waiting(self, skill: str) -> list[WaitingCall]:
        """Every indexed call of a skill, best first (gathers the buckets: not for per-event use)."""
        found = [c for b, calls in self._buckets.items() if b[0] == skill for c in calls]
        found.sort(key=lambda c: c.sort_key)
        return found

    def skills(self) -> list[str]:
        return sorted({b[0] for b in self._buckets})
