"""The routing load of the router benches: queues one per skill, agents with random skills, and the pick of a
random call to end. ``routing_speed.py`` times a bare :class:`~telephony.router.Router` with it, ``bench_campaign.py``
a :class:`~telephony.router.service.RouterService` beside a campaign load."""

from __future__ import annotations

import random

from telephony.router import AgentProfile, QueueSettings, RouterSettings


def router_settings(skills: list[str], wrap_up_s: float) -> RouterSettings:
    """One queue per skill (its name), callers never timed out."""
    return RouterSettings(queues={s: QueueSettings(name=s, skill=s, max_wait_s=86400) for s in skills},
                          wrap_up_s=wrap_up_s)


def _pick(rng: random.Random, choices: tuple[int, ...]) -> int:
    return choices[0] if len(choices) == 1 else rng.choice(choices)


def agent_profiles(rng: random.Random, skills: list[str], agents: int, *, per_agent: tuple[int, ...] = (2,),
                   levels: tuple[int, ...] = (1,)) -> list[AgentProfile]:
    """Agents ``1001``, ``1002``...: each with ``per_agent`` skills (one of the counts, at random), the first at
    level 1, the others at one of ``levels``."""
    profiles = []
    for i in range(agents):
        chosen = rng.sample(skills, _pick(rng, per_agent))
        profiles.append(AgentProfile(id=str(1001 + i), skills={s: 1 if k == 0 else _pick(rng, levels)
                                                                for k, s in enumerate(chosen)}))
    return profiles


def pop_random(rng: random.Random, calls: list[int]) -> int:
    """Take a random call out of ``calls`` (in O(1): swapped with the last)."""
    i = rng.randrange(len(calls))
    calls[i], calls[-1] = calls[-1], calls[i]
    return calls.pop()
