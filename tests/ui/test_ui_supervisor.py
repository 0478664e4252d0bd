"""The supervisor console: the live wallboard (pushed by the router), the supervisor's actions on agents
and their refusal, and the routing rules editor (live check, what-if simulation, publish, roll back)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from nicegui import ui
from nicegui.testing import User
from ui_helpers import PASSWORD, log_in, see

from helpline.data.database import session
from helpline.security.actor import PermissionDenied
from helpline.security.audit import search_audit
from helpline.services import auth
from helpline.services.auth import actor_for, find_user
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.ui.context import platform
from helpline.ui.i18n import catalogue
from telephony.ivr import IvrEngine
from telephony.switch.simulated import SimulatedSwitch

LOCALE = Path(__file__).parents[2] / "locale"
VIEWS = Path(__file__).parents[2] / "helpline" / "ui" / "views"


# ------------------------------------------------------------------------------------------- helpers
async def until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Wait on the test's event loop (the page's timers keep running) until ``check()`` is truthy."""
    for _ in range(int(timeout / 0.05)):
        found = check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached: {what}")


def text_of(user: User, marker: str) -> str:
    try:
        return " ".join(str(getattr(e, "text", "")) for e in user.find(marker=marker).elements)
    except AssertionError:
        return ""


def actor(username: str) -> Any:
    found = find_user(username)
    assert found is not None
    return actor_for(found, platform().metadata)


async def open_console(user: User, username: str = "supervisor1") -> None:
    await log_in(user, username, path="/supervisor")
    await user.should_see(marker="wall-mode", retries=150)


class Caller:
    """A caller on a thread who presses 0 in the main menu (queue ``general``) and waits for an agent."""

    def __init__(self, platform: Platform, desk: Any) -> None:
        self.switch = SimulatedSwitch("0", interactive=True, language="en", phones=desk.phones)
        engine = IvrEngine(platform, router=platform.router)
        self.thread = threading.Thread(target=engine.run_call, args=(self.switch,), daemon=True,
                                       kwargs={"caller_number": "13800000001", "flow_name": "main"})
        self.thread.start()

    def hang_up(self) -> None:
        self.switch.hang_up()
        self.thread.join(10)


@pytest.fixture
def talking(ui_platform: Platform, desk: Any) -> Iterator[Caller]:
    """Agent 1001 signed in and talking to a caller."""
    ui_platform.router.do(lambda r: r.sign_in("1001"))
    caller = Caller(ui_platform, desk)
    phone = desk.phones.phone("PJSIP/1001")
    assert phone.wait_for("ringing", 10)
    assert phone.answer()
    deadline = time.monotonic() + 10
    while ui_platform.router.agent("1001")["state"] != "talking" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ui_platform.router.agent("1001")["state"] == "talking"
    yield caller
    caller.hang_up()


def audited(username: str, action: str) -> list[dict[str, Any]]:
    with session():
        return list(search_audit(actor=username, action=action))


# ------------------------------------------------------------------------------------------ wallboard
async def test_wallboard_shows_agents_queues_tiers_and_is_pushed(user: User, ui_platform: Platform,
                                                                  desk: Any) -> None:
    await open_console(user)
    await user.should_see(marker="agent-row-1001", retries=100)
    await user.should_see(marker="agent-row-1002")
    await user.should_see(marker="agent-row-1009")
    assert "Signed out" in text_of(user, "agent-status-1001")
    queues = user.find(marker="queues").elements.pop()
    assert {"General service", "VIP service"} <= {r["queue"] for r in queues.rows}
    tiers = user.find(marker="tiers").elements.pop()
    assert {"Platinum card", "Gold card", "Ordinary"} <= {r["tier"] for r in tiers.rows}
    assert next(r for r in tiers.rows if r["tier"] == "Gold card")["target"] == "85.0% / 20s"
    chart = user.find(marker="tier-chart").elements.pop()
    assert "Gold card" in chart.options["xAxis"]["data"] and len(chart.options["series"]) == 3
    # an agent signs in elsewhere: the router pushes the change, the board shows it without a reload
    ui_platform.router.do(lambda r: r.sign_in("1001"))
    await until(lambda: "Ready" in text_of(user, "agent-status-1001"), "1001 shown ready")
    assert text_of(user, "kpi-signed_in") == "1"
    ui_platform.router.do(lambda r: r.set_not_ready("1001", "meal"))
    await until(lambda: "Not ready · Meal" in text_of(user, "agent-status-1001"), "1001 shown not ready")
    # the time in state ticks
    first = text_of(user, "agent-time-1001")
    await until(lambda: text_of(user, "agent-time-1001") != first, "the time in state ticks", timeout=15)


async def test_alerts_arrive_newest_first(user: User, ui_platform: Platform, desk: Any) -> None:
    from telephony.router.events import AgentAlert, TierAlert

    await open_console(user)
    await user.should_see(marker="agent-row-1001", retries=100)
    router = ui_platform.router
    router.do(lambda r: r.emit(AgentAlert(r.now(), "1002", "no_answer", "did not answer call 7", 7)))
    router.do(lambda r: r.emit(TierAlert(r.now(), "gold", True, 0.5, 0.85)))
    await see(user, "Tier Gold card is behind its target answer rate")
    texts = [" ".join(str(getattr(e, "text", "")) for e in row.descendants())
             for row in user.find(marker="alerts").elements.pop().default_slot.children]
    assert "Gold card" in texts[0] and "50.0% / 85.0%" in texts[0]
    assert "Agent 1002 did not answer" in texts[1]


async def test_talking_agent_shows_call_and_tier(user: User, talking: Caller) -> None:
    await open_console(user)
    await until(lambda: "Talking" in text_of(user, "agent-state-1001"), "1001 talking")
    assert text_of(user, "agent-call-1001").startswith("#")
    assert text_of(user, "agent-tier-1001") == "Ordinary"
    assert text_of(user, "kpi-talking") == "1"


# ------------------------------------------------------------------------------------------- actions
async def test_force_ready_not_ready_and_sign_out(user: User, ui_platform: Platform, desk: Any) -> None:
    router = ui_platform.router
    await open_console(user)
    await user.should_see(marker="sv-ready-1001", retries=100)
    await user.should_not_see(marker="sv-listen-1001")  # not on a call
    user.find(marker="sv-ready-1001").click()
    await see(user, "Force ready: done for agent 1001")
    assert router.agent("1001")["status"] == "ready"
    await until(lambda: "Ready" in text_of(user, "agent-status-1001"), "board shows ready")

    user.find(marker="sv-not_ready-1001").click()
    await user.should_see(marker="sv-reason", retries=50)
    user.find(marker="sv-reason").elements.pop().value = "meeting"
    user.find(marker="sv-reason-ok").click()
    await see(user, "Force not ready: done for agent 1001")
    agent = router.agent("1001")
    assert agent["status"] == "not_ready" and agent["reason"] == "meeting"

    await until(lambda: user.find(marker="sv-sign_out-1001"), "sign-out offered")
    user.find(marker="sv-sign_out-1001").click()
    await user.should_see(marker="sv-confirm", retries=50)
    user.find(marker="sv-confirm").click()
    await see(user, "Force sign-out: done for agent 1001")
    assert router.agent("1001")["status"] == "logged_out"
    for action in ("supervisor.force_ready", "supervisor.force_not_ready", "supervisor.force_sign_out"):
        assert audited("supervisor1", action), action


async def test_listen_whisper_barge_and_intercept(user: User, desk: Any, talking: Caller) -> None:
    phone = desk.phones.phone("PJSIP/1001")
    await open_console(user)
    await until(lambda: user.find(marker="sv-listen-1001"), "listen offered while talking")
    for mode, caption in (("listen", "Listen"), ("whisper", "Whisper"), ("barge", "Barge in")):
        user.find(marker=f"sv-{mode}-1001").click()
        await see(user, f"{caption}: done for agent 1001")
        assert phone.spies["PJSIP/1009"] == mode
        assert audited("supervisor1", f"supervisor.{mode}")
    user.find(marker="sv-intercept-1001").click()
    await user.should_see(marker="sv-confirm", retries=50)
    user.find(marker="sv-confirm").click()
    await see(user, "Intercept: done for agent 1001")
    supervisor_phone = desk.phones.phone("PJSIP/1009")
    await until(lambda: supervisor_phone.state == "ringing", "the call rings the supervisor's phone")
    assert phone.state == "idle"  # the call left the agent
    assert audited("supervisor1", "supervisor.intercept")
    supervisor_phone.answer()


async def test_a_refused_action_is_shown(user: User, ui_platform: Platform, desk: Any) -> None:
    router = ui_platform.router
    await open_console(user)
    await user.should_see(marker="agent-row-1002", retries=100)
    await user.should_not_see(marker="sv-not_ready-1002")  # signed out: nothing to force
    router.do(lambda r: r.sign_in("1002"))
    await until(lambda: "Ready" in text_of(user, "agent-status-1002"), "1002 shown ready")
    # the agent signs out just as the supervisor clicks: the router refuses and the error is shown
    router.do(lambda r: r.sign_out("1002"))
    user.find(marker="sv-not_ready-1002").click()
    await user.should_see(marker="sv-reason", retries=50)
    user.find(marker="sv-reason-ok").click()
    await see(user, "Force not ready for agent 1002 was refused")
    assert router.agent("1002")["status"] == "logged_out"


async def test_play_a_recording(user: User, desk: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path))
    (tmp_path / "helpline").mkdir()
    (tmp_path / "helpline" / "42-1001.wav").write_bytes(b"RIFF")
    calls = CallService()
    recorded = calls.open(caller_number="13800000001", call_recording="helpline/42-1001.wav")
    silent = calls.open(caller_number="13800000002")
    await open_console(user)
    await user.should_see(marker="sv-recording-play", retries=100)
    user.find(marker="sv-recording-call").elements.pop().value = silent
    user.find(marker="sv-recording-play").click()
    await see(user, f"Call {silent} has no recording.")
    user.find(marker="sv-recording-call").elements.pop().value = recorded
    user.find(marker="sv-recording-play").click()
    await user.should_see(marker="sv-audio", retries=50)
    assert user.find(marker="sv-audio").elements.pop().props["src"] == f"/recordings/{recorded}"


async def test_agents_may_not_open_the_console(user: User, desk: Any) -> None:
    await log_in(user, "agent1", path="/supervisor")
    await see(user, "Not allowed: you do not have permission to open this page.")
    denied = audited("agent1", "denied")
    assert any((e["detail"] or {}).get("name") == "supervisor" for e in denied)


def test_the_desk_service_refuses_every_action_without_the_permission(ui_platform: Platform, desk: Any) -> None:
    agent1 = actor("agent1")
    for attempt in (lambda: desk.force(agent1, "1002", "ready"), lambda: desk.force(agent1, "1002", "sign_out"),
                    lambda: desk.force(agent1, "1002", "not_ready", "meal"),
                    lambda: desk.spy(agent1, "1002", "listen"), lambda: desk.spy(agent1, "1002", "whisper"),
                    lambda: desk.spy(agent1, "1002", "barge"), lambda: desk.intercept(agent1, "1002"),
                    lambda: desk.wallboard(agent1)):
        with pytest.raises(PermissionDenied):
            attempt()


async def test_without_action_permissions_the_buttons_are_hidden(user: User, ui_platform: Platform,
                                                                  desk: Any) -> None:
    admin = actor("admin")
    ui_platform.publish("role", "watcher", {
        "kind": "role", "name": "watcher", "label": {"en": "Watcher"}, "menus": ["main.home", "main.telephony",
                                                                                   "main.supervisor"],
        "permissions": ["supervisor"]}, actor=admin, comment="wallboard only")
    auth.create_user(admin, "watcher1", PASSWORD, ["watcher"], language="en")
    await open_console(user, "watcher1")
    await user.should_see(marker="agent-row-1001", retries=100)
    for action in ("ready", "not_ready", "listen", "intercept", "recording"):
        await user.should_not_see(marker=f"sv-{action}-1001")
    await user.should_not_see(marker="sv-recording-play")  # no supervisor.recordings
    await user.should_not_see(marker="routing-strategy")  # no routing.edit


# ------------------------------------------------------------------------------------- routing editor
def editor(user: User) -> ui.codemirror:
    return user.find(marker="routing-strategy").elements.pop()  # type: ignore[return-value]


async def test_routing_editor_checks_as_one_types(user: User, desk: Any) -> None:
    await open_console(user)
    await user.should_see(marker="routing-strategy", retries=100)
    await see(user, "No problems.")
    code = editor(user)
    code.value = code.value.replace("tier.service_level < tier.target", "tier.servce_level < tier.target")
    await see(user, "HL-R201")
    assert "unknown name `tier.servce_level`" in " ".join(
        str(getattr(e, "text", "")) for e in user.find(marker="routing-problems").elements.pop().descendants())
    line = code.value.split("\n").index(next(x for x in code.value.split("\n") if "servce" in x)) + 1
    assert any(d["kind"] == "widget" and "HL-R201" in d["text"] for d in code.decorations)
    assert {"kind": "line", "line": line, "class": "hl-rule-error-line"} in code.decorations
    await user.should_see(marker="routing-draft")
    code.value = code.value.replace("when call.wait > 20s", "when call.wait > 20 s then")
    await see(user, "HL-R")


async def test_what_if_compares_draft_and_live(user: User, desk: Any) -> None:
    await open_console(user)
    await user.should_see(marker="routing-strategy", retries=100)
    code = editor(user)
    code.value = code.value.replace("when call.wait > 20s then priority -15\n", "")
    user.find(marker="whatif-run").click()
    table = await until(lambda: [t for t in user.find(ui.table).elements if t.props.get("row-key") == "tier"
                                 and any(c["name"] == "draft" for c in t.columns)], "what-if results", timeout=30)
    rows = table[0].rows
    tiers = {r["tier"] for r in rows}
    assert {"Platinum card", "Gold card", "Ordinary"} <= tiers
    for row in rows[:3]:
        assert re.match(r"\d+\.\d% / \d+%", row["draft"]) and re.match(r"\d+\.\d% / \d+%", row["live"])
    assert rows[-1]["tier"] == "Worst shortfall (pts)"


async def test_publish_is_used_by_the_router_and_roll_back(user: User, ui_platform: Platform, desk: Any) -> None:
    router = ui_platform.router.router
    assert router.policy.strategy.tiers["gold"].target == pytest.approx(0.85)
    assert router.settings.wrap_up_s == 15
    before = ui_platform.store.current("routing", "main").id
    await open_console(user)
    await user.should_see(marker="routing-strategy", retries=100)
    code = editor(user)
    code.value = code.value.replace("tier gold: target 85%", "tier gold: target 95%")
    user.find(marker="routing-wrap_up_s").elements.pop().value = 20
    user.find(marker="routing-comment").type("gold to 95%")
    user.find(marker="routing-publish").click()
    await see(user, "the router uses it now")
    current = ui_platform.store.current("routing", "main")
    assert current.id > before and current.comment == "gold to 95%" and current.author == "supervisor1"
    assert router.policy.strategy.tiers["gold"].target == pytest.approx(0.95)  # applied without a restart
    assert router.settings.wrap_up_s == 20
    assert audited("supervisor1", "publish")
    # the history lists both; roll back to the first
    history = user.find(marker="routing-history").elements.pop()
    await until(lambda: len(history.rows) >= 2, "history rows")
    history.selected = [next(r for r in history.rows if r["id"] == before)]
    user.find(marker="routing-rollback").click()
    await see(user, f"Rolled back to revision {before}")
    assert router.policy.strategy.tiers["gold"].target == pytest.approx(0.85)
    assert router.settings.wrap_up_s == 15
    assert ui_platform.store.current("routing", "main").origin == "rollback"
    await until(lambda: "tier gold: target 85%" in editor(user).value, "editor shows the live strategy")


# -------------------------------------------------------------------------------------------- locale
def test_supervisor_strings_exist_in_both_languages() -> None:
    en = yaml.safe_load((LOCALE / "en" / "supervisor.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((LOCALE / "zh_CN" / "supervisor.yaml").read_text(encoding="utf-8"))
    assert list(en) == list(zh)
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key
    base = yaml.safe_load((LOCALE / "en.yaml").read_text(encoding="utf-8"))
    assert not set(en) & set(base), "the area file only adds keys"
    merged_en, merged_zh = catalogue("en"), catalogue("zh_CN")
    sources = "".join(p.read_text(encoding="utf-8") for p in VIEWS.glob("*.py")
                      if p.name.startswith(("supervisor", "routing_editor")))
    for key in set(re.findall(r"t\(\"(supervisor\.[\w.]+)\"", sources)):
        assert key in merged_en and key in merged_zh, key
    for prefix, names in {"status": ("logged_out", "ready", "not_ready", "study"),
                          "state": ("idle", "reserved", "ringing", "talking", "hold", "wrap_up"),
                          "alert": ("no_answer", "not_ready_over_limit", "disconnected", "tier_behind",
                                    "tier_caught_up")}.items():
        for name in names:
            assert f"supervisor.{prefix}.{name}" in merged_zh
    assert "示忙" in zh["supervisor.status.not_ready"] and "示闲" in zh["supervisor.status.ready"]
