"""IVR node facts from the call trails (issue 20): visits, exits (hung up, self-service, sent to a queue) and errors
per flow and node — a sub-flow's nodes in the sub-flow —, the same after ``stats rebuild``, and the ``ivr_nodes``
report over them; a city's supervisor sees none (the facts are the centre's)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatIvrNode
from helpline.security.actor import Actor
from helpline.services import stats
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.services.reports import run_report

DAY = date(2026, 12, 1)
PERIOD = {"period": ["2026-12-01", "2026-12-01"]}


def step(node: str, kind: str, flow: str = "main", ms: float = 1000.0, **more: Any) -> dict[str, Any]:
    return {"node": node, "type": kind, "flow": flow, "at_ms": 0.0, "duration_ms": ms, **more}


def call(trail: list[dict[str, Any]], **close: Any) -> None:
    with session():
        call_id = int(Call.insert(started_at=datetime(2026, 12, 1, 9, 0), flow="main", trail=trail).execute())
    CallService().close(call_id, **close)


def nodes() -> dict[tuple[str, str], dict[str, Any]]:
    with session():
        return {(r["flow"], r["node"]): {k: v for k, v in r.items() if k not in ("id", "day", "flow", "node")}
                for r in StatIvrNode.select().dicts()}


def test_node_visits_and_exits_per_flow(platform: Platform) -> None:
    welcome, menu = step("welcome", "play"), step("menu", "menu", ms=4000.0)
    call([welcome, menu, step("menu", "menu"), step("to_agent", "transfer")], routed="answered", wait_s=3.0,
         result="connected")
    call([welcome, menu], result="hangup")
    call([welcome, menu, step("balance", "play", flow="billing"), step("bye", "hangup", flow="billing")],
         result="completed")
    call([welcome, step("lookup", "data", error={"message": "timeout"})], result="error")
    call([], result="hangup")  # no trail: no node facts
    found = nodes()
    assert set(found) == {("main", "welcome"), ("main", "menu"), ("main", "to_agent"), ("main", "lookup"),
                          ("billing", "balance"), ("billing", "bye")}
    assert (found["main", "welcome"]["visits"], found["main", "welcome"]["calls"],
            found["main", "welcome"]["exits"]) == (4, 4, 0)
    menu_row = found["main", "menu"]
    assert (menu_row["visits"], menu_row["calls"], menu_row["exits"], menu_row["hangups"]) == (4, 3, 1, 1)
    assert menu_row["time_s"] == 4 * 4.0 - 3.0  # the second visit of the first call lasted 1 s
    assert (found["main", "to_agent"]["exits"], found["main", "to_agent"]["transfers_out"]) == (1, 1)
    assert (found["billing", "bye"]["exits"], found["billing", "bye"]["completions"]) == (1, 1)
    assert found["billing", "balance"]["exits"] == 0
    assert (found["main", "lookup"]["errors"], found["main", "lookup"]["exits"]) == (1, 1)
    kept = found
    stats.rebuild(DAY, DAY)
    assert nodes() == kept

    result = run_report(platform.metadata, Actor.system(), "ivr_nodes", PERIOD)
    by = {(r["flow"], r["node"]): r for r in result.rows}
    assert by["main", "menu"]["exit_rate"] == round(1 / 3, 4) and by["main", "menu"]["avg_time_s"] == 3.2
    assert result.totals["exits"] == 4  # one exit per record with a trail
    assert (result.totals["hangups"], result.totals["completions"], result.totals["transfers_out"]) == (1, 1, 1)
    billing = run_report(platform.metadata, Actor.system(), "ivr_nodes", {**PERIOD, "flow": ["billing"]})
    assert [r["node"] for r in billing.rows] == ["balance", "bye"]
    city = Actor(username="sup", roles=("supervisor",), regions=("4301",)).bind(platform.metadata)
    assert run_report(platform.metadata, city, "ivr_nodes", PERIOD).rows == []
