"""Failures inside a flow: a rule failing at run time, a command that cannot run, a hook that raises.

Each takes the node's fallback (``on_error``, else the flow's ``on_error``) and is kept on the trail with
its rule position; the call goes on. A flow published during a call does not change that call.
"""

from __future__ import annotations

import textwrap

from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.ivr import HookCall, HookRegistry, IvrEngine
from telephony.switch.simulated import SimulatedSwitch

FAULTY = textwrap.dedent("""\
    # A flow whose rules fail at run time.
    kind: ivr
    name: faulty
    label: Faulty
    access_numbers: ["96999"]
    start: answer
    on_error: rescue
    prompts:
      hello: {file: t/hello, text: {en: Hello, zh_CN: 你好}}
      rescued: {file: t/rescued, text: {en: Rescued, zh_CN: 正在转接}}
    nodes:
      answer: {type: answer, next: zero}
      zero: {type: set, values: {zero: "0", word: '"abc"'}, next: divide}
      divide:
        type: branch
        rules: |
          when var.zero == 7 then goto hello
          when 10 / var.zero > 1 then goto hello
          otherwise goto hello
        on_error: say_word
      say_word: {type: say, say: number, value: var.word, next: hello, on_error: balance}
      balance: {type: hook, hook: billing_demo.balance, next: hello, on_error: last}
      last:
        type: branch
        rules: "when var.word + 1 > 2 then goto hello"
      hello: {type: play, prompts: [hello], next: rescue}
      rescue: {type: transfer, queue: general, prompt: rescued}
""")

REVISED = textwrap.dedent("""\
    # A flow republished while a call is in it.
    kind: ivr
    name: revised
    label: Revised
    access_numbers: ["96998"]
    start: hook
    prompts:
      bye: {file: t/bye, text: {en: TEXT, zh_CN: TEXT}}
    nodes:
      hook: {type: hook, hook: billing_demo.balance, next: bye}
      bye: {type: hangup, prompt: bye}
""")


def test_rule_failures_take_the_fallbacks(ivr_platform: Platform, engine: IvrEngine) -> None:
    ivr_platform.store.save("ivr", "faulty", FAULTY, author="test")
    switch = SimulatedSwitch("")
    outcome = engine.run_call(switch, caller_number="13711112222", dnid="96999")
    steps = {s["node"]: s for s in outcome.trail}
    assert [s["node"] for s in outcome.trail] == ["answer", "zero", "divide", "say_word", "balance", "last",
                                                   "rescue"]
    divide = steps["divide"]["error"]
    assert (divide["id"], divide["line"], divide["rule_line"]) == ("HL-R401", 2, 2)
    assert divide["location"] == "ivrs/faulty.yaml:18:12", divide
    assert steps["divide"]["next"] == "say_word" and steps["divide"]["outcome"] == "failed"
    assert steps["say_word"]["error"]["id"] == "IVR-COMMAND"
    assert steps["balance"]["error"]["id"] == "IVR-HOOK"
    assert "no customer record" in steps["balance"]["error"]["message"]
    assert steps["last"]["error"]["id"] == "HL-R402" and steps["last"]["next"] == "rescue"
    assert (outcome.result, outcome.queue) == ("transfer", "general")
    record = CallService().get(outcome.call_id)
    assert record is not None and record["error"]["id"] == "HL-R402" and record["result"] == "transfer"


def test_a_call_finishes_on_the_flow_revision_it_started_with(ivr_platform: Platform) -> None:
    ivr_platform.store.save("ivr", "revised", REVISED.replace("TEXT", "old"), author="test")

    def republish(call: HookCall) -> None:
        ivr_platform.store.save("ivr", "revised", REVISED.replace("TEXT", "new"), author="test")

    engine = IvrEngine(ivr_platform, hooks=HookRegistry({"billing_demo.balance": republish}))
    first = SimulatedSwitch("")
    assert engine.run_call(first, caller_number=None, dnid="96998").result == "completed"
    assert "▶ old" in first.transcript() and "▶ new" not in first.transcript()
    second = SimulatedSwitch("")
    engine.run_call(second, caller_number=None, dnid="96998")
    assert "▶ new" in second.transcript()


def test_a_loop_is_stopped(ivr_platform: Platform, engine: IvrEngine) -> None:
    loop = textwrap.dedent("""\
        # A flow that never ends.
        kind: ivr
        name: loop
        label: Loop
        start: a
        max_steps: 10
        nodes:
          a: {type: set, values: {n: "1"}, next: b}
          b: {type: set, values: {n: "2"}, next: a}
    """)
    ivr_platform.store.save("ivr", "loop", loop, author="test")
    switch = SimulatedSwitch("")
    outcome = engine.run_call(switch, caller_number=None, flow_name="loop")
    assert outcome.result == "error" and "more than 10 steps" in outcome.error["message"]  # type: ignore[index]
    assert len(outcome.trail) == 10 and switch.variables["HELPLINE_RESULT"] == "error"
