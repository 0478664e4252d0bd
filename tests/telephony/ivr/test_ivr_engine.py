"""The IVR engine on the simulated switch, through the demo flows (metadata/ivrs/main.yaml, broadband.yaml).

Callers are those of conftest.py. Keys: the greeting is interruptible, so the first key pressed is taken
during it and becomes the main menu's choice; ``,`` is a pause (an input times out).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpline.services.calls import CallService
from telephony.ivr import CallOutcome, IvrEngine
from telephony.switch.simulated import SimulatedSwitch

ORDINARY, GOLD, PLATINUM, BLACKLISTED, YUEYANG, NO_PASSWORD = (f"1380000000{i}" for i in range(1, 7))
BLACKLIST_ENTRY, EXPIRED_ENTRY = "13900000009", "13900000010"


def call(engine: IvrEngine, keys: str = "", number: str | None = ORDINARY, *, dnid: str | None = "96266",
         flow: str | None = None, **options: Any) -> tuple[CallOutcome, SimulatedSwitch]:
    switch = SimulatedSwitch(keys, **options)
    outcome = engine.run_call(switch, caller_number=number, dnid=dnid, flow_name=flow)
    return outcome, switch


def nodes(outcome: CallOutcome) -> list[str]:
    return [s["node"] for s in outcome.trail]


@pytest.mark.parametrize(("keys", "queue", "via"), [
    ("10", "consult", "consult_menu"),
    ("1,3", "consult", "consult_menu"),
    ("2" + "123456" + "0", "query", "query_menu"),
    ("31", "complaint", "complaint_menu"),
    ("32", "fault", "complaint_menu"),
    ("5", "business", "main_menu"),
    ("0", "general", "to_agent"),
    ("999", "general", "to_agent"),
])
def test_each_menu_branch_reaches_its_queue(engine: IvrEngine, keys: str, queue: str, via: str) -> None:
    outcome, switch = call(engine, keys)
    assert (outcome.result, outcome.queue) == ("transfer", queue), switch.transcript()
    assert via in nodes(outcome)
    assert switch.variables["HELPLINE_RESULT"] == "transfer"
    assert switch.variables["HELPLINE_QUEUE"] == queue
    assert switch.variables["HELPLINE_TIER"] == "ordinary"
    assert switch.variables["HELPLINE_CALL_ID"] == str(outcome.call_id)


def test_consultation_information_then_back_to_the_menu(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "11,0")
    assert nodes(outcome)[:8] == ["answer", "outage", "greeting", "screen", "main_menu", "consult_menu",
                                  "consult_tv", "consult_menu"]
    assert "数字电视基本收视维护费每月26元。" in "\n".join(switch.transcript())
    assert outcome.queue == "consult"


def test_star_goes_back_to_the_main_menu(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "1*5")
    assert nodes(outcome)[4:7] == ["main_menu", "consult_menu", "main_menu"]
    assert outcome.queue == "business"


def test_timeouts_replay_the_menu_then_go_to_an_agent(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "")
    menu = next(s for s in outcome.trail if s["node"] == "main_menu")
    assert menu["digits"] == ["(timeout)"] * 3
    assert menu["outcome"] == "retries exhausted" and menu["next"] == "to_agent"
    assert switch.prompts_heard.count("main_menu") == 3
    assert switch.prompts_heard.count("no_input") == 2
    assert outcome.queue == "general"


def test_invalid_keys_are_retried(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "991")
    menu = next(s for s in outcome.trail if s["node"] == "main_menu")
    assert menu["digits"] == ["9", "9", "1"] and menu["choice"] == "1"
    assert switch.prompts_heard[:6] == ["welcome", "invalid", "main_menu", "invalid", "main_menu", "consult_menu"]


def test_wrong_password_twice_ends_the_service(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "2" + "111111" + "222222")
    assert outcome.result == "completed"
    assert nodes(outcome)[-2:] == ["query_password", "service_ended"]
    step = next(s for s in outcome.trail if s["node"] == "query_password")
    assert step["digits"] == ["***", "***"] and step["outcome"] == "2 wrong entries"
    assert switch.prompts_heard[-1] == "service_ended" and not switch.alive
    assert switch.variables["HELPLINE_RESULT"] == "completed"
    record = CallService().get(outcome.call_id)
    assert record is not None and "111111" not in json.dumps(record, default=str)


def test_password_right_on_the_second_try(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "2" + "999999" + "123456" + "0")
    step = next(s for s in outcome.trail if s["node"] == "query_password")
    assert step["outcome"] == "accepted on attempt 2"
    assert outcome.queue == "query" and outcome.variables["password"] == "***"


def test_password_rule_rejects_a_short_entry(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "2" + "123#" + "123#")
    assert nodes(outcome)[-1] == "service_ended"


def test_customer_without_a_password_cannot_pass(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "2" + "123456" + "123456", NO_PASSWORD)
    assert nodes(outcome)[-1] == "service_ended"


def test_unknown_caller_gives_the_customer_number_first(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "2" + "00000001#" + "123456" + "0", "13712345678")
    assert nodes(outcome)[5:8] == ["query_identify", "query_account", "query_password"]
    assert outcome.customer_id is not None and outcome.queue == "query"
    assert outcome.variables["account"] == "00000001"


def test_unknown_account_twice_ends_the_service(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "2" + "4242#" + "4343#", "13712345678")
    assert nodes(outcome)[-2:] == ["query_account", "service_ended"]


def test_say_the_number_and_the_balance_hook(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "2" + "123456" + "1" + "2" + "0")
    said = [e.text for e in switch.events if e.op == "say"]
    assert said[0] == f"digits: {ORDINARY}"
    assert said[1].startswith("number: ") and int(said[1].split(": ")[1]) == outcome.variables["balance"]
    assert outcome.queue == "query"


def test_complaint_suggestion_is_recorded(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "33#")
    assert outcome.result == "completed" and nodes(outcome)[-2:] == ["suggestion", "goodbye"]
    record = CallService().get(outcome.call_id)
    assert record is not None and record["recording"] == f"helpline/messages/{outcome.call_id}-suggestion.wav"


def test_hang_up_while_recording_keeps_the_message(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "33", hangup_at="record")
    assert (outcome.result, outcome.hangup_node) == ("hangup", "suggestion")
    assert CallService().get(outcome.call_id)["recording"].endswith("-suggestion.wav")  # type: ignore[index]


def test_callback_request(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "41")
    assert outcome.result == "callback" and not switch.alive
    assert CallService().get(outcome.call_id)["callback_number"] == ORDINARY  # type: ignore[index]


def test_goto_another_flow(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "421")
    assert outcome.trail[-1]["flow"] == "broadband" and outcome.queue == "fault"
    assert [s["node"] for s in outcome.trail if s["flow"] == "broadband"] == ["menu", "to_fault"]


def test_vip_skips_the_menu(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "", PLATINUM)
    assert nodes(outcome) == ["answer", "outage", "greeting", "screen", "to_vip"]
    assert (outcome.queue, outcome.priority, outcome.tier) == ("vip", 50, "platinum")
    assert switch.variables["HELPLINE_TIER"] == "platinum"
    screen = outcome.trail[3]
    assert screen["rule"]["line"] == 2 and "skip_ivr" in screen["rule"]["source"]


def test_gold_caller_gets_priority_at_the_agent(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "0", GOLD)
    assert (outcome.queue, outcome.priority) == ("general", 20)
    assert outcome.variables["priority_caller"] is True


@pytest.mark.parametrize("number", [BLACKLISTED, BLACKLIST_ENTRY])
def test_blacklisted_callers_never_reach_a_queue(engine: IvrEngine, number: str) -> None:
    outcome, switch = call(engine, "0", number)
    assert outcome.result == "blocked" and outcome.queue is None
    assert switch.prompts_heard[-1] == "blocked" and "HELPLINE_QUEUE" not in switch.variables
    assert switch.variables["HELPLINE_RESULT"] == "blocked"


def test_blacklisted_caller_blocked_at_a_transfer_of_a_flow_without_screening(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "0", BLACKLISTED, flow="broadband")
    assert outcome.result == "blocked" and outcome.queue is None
    assert nodes(outcome)[-2:] == ["to_broadband", "blocked"]


def test_expired_blacklist_entry_is_ignored(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "0", EXPIRED_ENTRY)
    assert outcome.result == "transfer"


def test_outage_is_announced_first_to_the_callers_region(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "0", YUEYANG)
    lines = switch.transcript()
    assert lines[1] == "▶ 请注意以下故障公告。" and "信号中断" in lines[2]
    assert lines.index(lines[2]) < next(i for i, line in enumerate(lines) if "欢迎" in line)
    assert outcome.queue == "fault", "an outage region's agent calls go to fault reports"
    _, switch_en = call(engine, "0", YUEYANG, language="en")
    assert "signal outage" in switch_en.transcript()[2]


def test_expired_outage_and_other_regions_hear_no_notice(engine: IvrEngine) -> None:
    outcome, switch = call(engine, "0", ORDINARY)
    assert outcome.trail[1]["outcome"] == "no active outage"
    assert not any("公告" in line for line in switch.transcript())


def test_fixed_line_region_by_area_code_is_remembered(engine: IvrEngine) -> None:
    number = "073088880000"
    first, switch = call(engine, "0", number)
    assert "信号中断" in switch.transcript()[2]
    record = CallService().get(first.call_id)
    assert record is not None and (record["region"], record["city"]) == ("yueyang", "yueyang")
    assert CallService().remembered_region(number) == "yueyang"
    assert engine.identifier.identify(number).region_source == "remembered"


def test_flow_chosen_by_number_or_script(engine: IvrEngine) -> None:
    by_number, _ = call(engine, "1", dnid="96267")
    assert by_number.flow == "broadband" and by_number.queue == "fault"
    by_script, _ = call(engine, "1", dnid="96267", flow="main")
    assert by_script.flow == "main"
    nothing, switch = call(engine, "1", dnid="12345")
    assert nothing.result == "error" and nothing.error["id"] == "IVR-NO-FLOW"  # type: ignore[index]
    assert switch.variables["HELPLINE_RESULT"] == "error"
    record = CallService().get(nothing.call_id)
    assert record is not None and record["result"] == "error" and record["ended_at"] is not None


def test_unknown_caller_number(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "0", None)
    assert outcome.result == "transfer" and outcome.customer_id is None


def test_channel_failure_and_hangup_are_recorded(engine: IvrEngine) -> None:
    broken, _ = call(engine, "1", fail_at="get_digits consult_menu")
    assert broken.result == "error" and broken.error["id"] == "IVR-SWITCH"  # type: ignore[index]
    hung, _ = call(engine, "1", hangup_at="get_digits consult_menu")
    assert (hung.result, hung.hangup_node) == ("hangup", "consult_menu")
    record = CallService().get(hung.call_id)
    assert record is not None and record["hangup_node"] == "consult_menu" and record["result"] == "hangup"
    assert record["trail"][-1]["outcome"] == "caller hung up"


def test_hang_up_at_every_operation(engine: IvrEngine) -> None:
    reference, switch = call(engine, "2" + "123456" + "1" + "0")
    operations = [e.index for e in switch.events if e.op not in ("set", "hangup")]
    assert len(operations) >= 8
    for index in operations:
        outcome, _ = call(engine, "2" + "123456" + "1" + "0", hangup_at=index)
        assert outcome.result == "hangup", index
        assert outcome.hangup_node in {s["node"] for s in reference.trail}, index
        record = CallService().get(outcome.call_id)
        assert record is not None and record["result"] == "hangup" and record["ended_at"] is not None


def test_call_record(engine: IvrEngine) -> None:
    outcome, _ = call(engine, "0", GOLD)
    record = CallService().get(outcome.call_id)
    assert record is not None
    assert record["flow"] == "main" and record["dnid"] == "96266" and record["caller_number"] == GOLD
    assert record["customer_name"] == "李强" and record["tier"] == "gold" and record["city"] == "changsha"
    assert record["result"] == "transfer" and record["queue"] == "general" and record["priority"] == 20
    assert record["switch"] == "simulated" and record["ended_at"] >= record["started_at"]
    assert record["identify_ms"] is not None and record["error"] is None
    assert [s["node"] for s in record["trail"]] == nodes(outcome)
    screen = record["trail"][3]
    assert screen["rule"]["source"].startswith("when customer.tier in {gold, silver}")
    assert all("at_ms" in s and "duration_ms" in s for s in record["trail"])
