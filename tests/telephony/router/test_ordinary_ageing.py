"""The shipped tier strategies' ageing of a long-waiting ordinary caller (issue 22 item 3): past 40 s it goes
ahead of every fresh ordinary caller but stays behind every fresh caller of a higher tier (priority
10 - 15 + 20 = 15). With +30 (25) it went ahead of fresh gold callers, which cost gold its target at 95 %
load (docs/routing.md, "No starving tier")."""

from __future__ import annotations

from pathlib import Path

import pytest
from router_helpers import Harness, helpline, settings
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = [ROOT / "bench" / "routing_quality.yaml", ROOT / "metadata" / "routings" / "main.yaml"]
NEXT_ABOVE = {"routing_quality.yaml": "gold", "main.yaml": "silver"}
"""The tier of the lowest base priority above ordinary in each file."""


def strategy(path: Path) -> str:
    text = YAML(typ="safe").load(path.read_text(encoding="utf-8"))["strategy"]
    assert isinstance(text, str)
    return text


def one_agent(path: Path) -> Harness:
    h = Harness(settings(wrap_up_s=0), helpline(strategy(path)))
    h.agent("a", {"billing": 1})
    h.call(1)  # the agent takes it; every later call waits for it
    h.router.answered(1)
    return h


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_an_aged_ordinary_caller_stays_behind_a_fresh_caller_of_a_higher_tier(path: Path) -> None:
    h = one_agent(path)
    h.at(1)
    h.call(2)  # ordinary, will have waited 54 s
    h.at(50)
    h.call(3, tier=NEXT_ABOVE[path.name])  # fresh: 5 s when the agent frees
    h.at(55)
    assert h.router.waiting[2].priority < h.router.waiting[3].priority
    h.router.call_ended(1)
    assert h.offers()[-1] == (3, "a")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_an_aged_ordinary_caller_goes_before_fresh_ordinary_ones(path: Path) -> None:
    h = one_agent(path)
    h.at(1)
    h.call(2)  # will have waited 54 s: aged
    h.at(50)
    h.call(3)  # fresh ordinary, 5 s
    h.at(55)
    assert h.router.waiting[2].priority > h.router.waiting[3].priority
    h.router.call_ended(1)
    assert h.offers()[-1] == (2, "a")
