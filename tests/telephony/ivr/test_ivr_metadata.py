"""The ``ivr`` and ``routing`` kinds: schema, durations, menu keys, and the rule texts inside a flow."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from helpline.metadata.kinds import Ivr
from helpline.metadata.kinds.ivr import MenuNode, parse_duration
from helpline.metadata.loader import load_directory

ROUTING = """\
    # Queues.
    kind: routing
    name: main
    label: Main
    queues:
      - {name: general, label: General, skill: general}
      - {name: vip, label: VIP, skill: vip}
"""


def flow(nodes: str, extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(nodes), "  ")
    head = "# A test flow.\nkind: ivr\nname: main\nlabel: Main\nstart: answer\n"
    head += "prompts:\n  hello: {file: t/hello, text: Hello}\n" + (textwrap.dedent(extra) + "\n" if extra else "")
    return head + "nodes:\n  answer: {type: answer, next: first}\n" + body


def problems(write_metadata: Callable[..., Path], nodes: str, extra: str = "") -> list[str]:
    root = write_metadata({"ivrs/main.yaml": flow(nodes, extra), "routings/main.yaml": ROUTING,
                           "categories/value_tier.yaml": TIERS})
    return [f"{p.id} {p.location} {p.message}" for p in load_directory(root).problems]


TIERS = """\
    # Tiers.
    kind: category
    name: value_tier
    label: Tier
    nodes:
      - {code: ordinary, label: Ordinary}
      - {code: gold, label: Gold}
"""


def test_a_valid_flow(write_metadata: Callable[..., Path]) -> None:
    nodes = """\
      first:
        type: menu
        prompt: hello
        choices: {1: vip, "2": general, "*": first, "#": bye}
        timeout: 1500ms
        after_retries: general
      vip: {type: transfer, queue: vip, priority: 10}
      general: {type: transfer, queue: general}
      bye: {type: hangup, prompt: hello}
"""
    assert problems(write_metadata, nodes) == []
    root = write_metadata({"ivrs/main.yaml": flow(nodes), "routings/main.yaml": ROUTING})
    ivr = load_directory(root).metadata.get("ivr", "main")
    assert isinstance(ivr, Ivr)
    menu = ivr.nodes["first"]
    assert isinstance(menu, MenuNode) and menu.timeout == 1.5 and set(menu.choices) == {"1", "2", "*", "#"}


def test_durations() -> None:
    assert [parse_duration(v) for v in ("5s", "500ms", "2m", 3, "1h", 0.5)] == [5.0, 0.5, 120.0, 3.0, 3600.0, 0.5]
    for bad in ("5 sec", True, "-1s", None):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.parametrize(("nodes", "expected"), [
    ("  first: {type: dance, next: answer}\n", "HL-E105 ivrs/main.yaml:10:17"),
    ("  first: {type: play, prompts: [hello], next: answer, nxt: answer}\n", "HL-E102 ivrs/main.yaml:10:55"),
    ("  first: {type: menu, prompt: hello, choices: {12: answer}, after_retries: answer}\n", "HL-E106"),
    ("  first: {type: menu, prompt: hello, choices: {1: answer}, timeout: soon, after_retries: answer}\n",
     "HL-E106 ivrs/main.yaml:10:69"),
    ("  first: {type: collect, prompt: hello, into: x, verify: magic, next: answer, after_retries: answer}\n",
     "HL-E105"),
])
def test_schema_problems_are_placed_in_the_node(write_metadata: Callable[..., Path], nodes: str,
                                                expected: str) -> None:
    found = problems(write_metadata, nodes)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_rule_texts_are_checked_with_the_flows_names(write_metadata: Callable[..., Path]) -> None:
    nodes = """\
      first:
        type: branch
        rules: |
          when customer.tier == gold then transfer vip
          when customer.tier == platnum then goto secnd
          when caller.number starts_with "0731" then transfer sales, play hallo
          otherwise goto bye
      bye: {type: say, say: number, value: "var.x +", next: last}
      last: {type: set, values: {y: "nope.z"}, next: check}
      check: {type: collect, prompt: hello, into: pin, rule: "len(call.digits)", next: end, after_retries: end}
      end: {type: hangup}
"""
    found = problems(write_metadata, nodes)
    ids = [f.split()[0] + " " + f.split()[1] for f in found]
    assert ids == [
        "HL-R206 ivrs/main.yaml:14:29",
        "HL-R213 ivrs/main.yaml:14:47",
        "HL-R213 ivrs/main.yaml:15:59",
        "HL-R213 ivrs/main.yaml:15:71",
        "HL-R108 ivrs/main.yaml:17:48",
        "HL-R201 ivrs/main.yaml:18:34",
        "HL-R212 ivrs/main.yaml:19:59",
    ], found
    assert "secnd" in found[1] and "hallo" in found[3]


def test_goto_targets_in_rules_make_nodes_reachable(write_metadata: Callable[..., Path]) -> None:
    nodes = """\
      first:
        type: branch
        rules: |
          when customer.tier == gold then goto vip
          otherwise goto general
      vip: {type: transfer, queue: vip}
      general: {type: transfer, queue: general}
      lost: {type: hangup}
"""
    found = problems(write_metadata, nodes)
    assert len(found) == 1 and found[0].startswith("HL-E307") and "'lost'" in found[0]


def test_flow_level_references(write_metadata: Callable[..., Path]) -> None:
    nodes = "  first: {type: hangup}\n"
    found = problems(write_metadata, nodes, "skip_to: vipp")
    assert [f.split()[0] for f in found] == ["HL-E301"], found
    root = write_metadata({"ivrs/main.yaml": flow(nodes, "business_line: cable"), "routings/main.yaml": ROUTING,
                           "categories/business_line.yaml": TIERS.replace("value_tier", "business_line")})
    assert [p.id for p in load_directory(root).problems] == ["HL-E219"]


def test_routing_strategy_and_overflow(write_metadata: Callable[..., Path]) -> None:
    routing = ROUTING + "      - {name: night, label: Night, skill: general, overflow: genral}\n" + \
        "    strategy: |\n      tier gold: target 80% within 20s\n"
    root = write_metadata({"routings/main.yaml": routing})
    found = [(p.id, p.location) for p in load_directory(root).problems]
    assert found == [("HL-E303", "routings/main.yaml:8:59"), ("HL-R306", "routings/main.yaml:10:3")], found
