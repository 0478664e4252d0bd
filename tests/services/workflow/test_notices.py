"""Notices: written in the transition's transaction (a failure rolls the transition back), worded in the
reader's language, delivered once by e-mail (a real local SMTP server, aiosmtpd) and SMS (a local HTTP stub),
retried with back-off while a gateway is down (the in-app notice is there all along), given up and retried by
an administrator, and sent exactly once by a new process after the old one died before its delivery pass."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from apscheduler.triggers.interval import IntervalTrigger
from wf_helpers import actor

from helpline.config import Settings
from helpline.data.base import utcnow
from helpline.data.database import db, session, write_transaction
from helpline.data.notices import Notice, NoticeDelivery
from helpline.data.system import User
from helpline.data.workflow import WorkflowInstance
from helpline.security.actor import PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.notices import centre, configure, mark_read, notices, notify, unread_count
from helpline.services.notices.outbox import deliver_due, failed, retry
from helpline.services.notices.senders import DeliveryConfig, parse_channels
from helpline.services.platform import Platform
from helpline.services.scheduler import SchedulerError, parse_cron


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, box
    controller.stop()


class SmsGateway(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []
    answer = 200
    delay = 0.0

    def do_POST(self) -> None:
        time.sleep(type(self).delay)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append((self.headers.get("Content-Type", ""), body))
        self.send_response(type(self).answer)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sms() -> Iterator[tuple[str, type[SmsGateway]]]:
    handler = type("Gateway", (SmsGateway,), {"received": [], "answer": 200, "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def people(wf_platform: Platform) -> Iterator[Platform]:
    """tech1 (English, e-mail and phone) and boss1 (Chinese, e-mail) of 'maintenance'; the delivery settings
    restored afterwards."""
    with session():
        User.create(username="tech1", password_hash="x", language="en", email="tech1@example.test",
                    phone="13800000001")
        User.create(username="boss1", password_hash="x", language="zh_CN", email="boss1@example.test")
    saved = centre._config
    yield wf_platform
    centre._config = saved


def forward(p: Platform) -> int:
    agent = actor(p, "agent1", "agent")
    oid = p.records.create(agent, "work_order", {"type": "complaint", "title": "No signal", "city": "changsha"}).id
    p.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"}, comment="line fault")
    return oid


def rows() -> list[NoticeDelivery]:
    with session():
        return list(NoticeDelivery.select().order_by(NoticeDelivery.id))


def test_a_transition_notifies_its_recipients_in_their_language(people: Platform) -> None:
    configure(DeliveryConfig())  # no channel set up: the notice centre only
    oid = forward(people)
    assert unread_count("tech1") == 1 and unread_count("boss1") == 1 and unread_count("agent1") == 0
    (en,) = notices("tech1", "en")
    assert en.title == "Work order “No signal”: Dispatched" and en.body == "agent1 took “Forward”: line fault"
    assert (en.entity, en.record_id, en.kind) == ("work_order", oid, "transition")
    (zh,) = notices("boss1", "zh_CN")
    assert zh.title == "电子工单“No signal”：已派单" and zh.body == "agent1 执行了“转派”：line fault"
    assert rows() == []  # no channel: nothing in the outbox
    assert mark_read("tech1", [en.id]) == 1 and unread_count("tech1") == 0
    assert mark_read("boss1") == 1 and notices("boss1", "en", unread_only=True) == []


def test_a_failing_notice_rolls_the_transition_back(people: Platform) -> None:
    """Decided: notices are part of the transition — if they cannot be written, the transition is not taken
    (nobody is left uninformed of a move); sending is outside the transaction and never undoes one."""
    configure(DeliveryConfig())
    agent = actor(people, "agent1", "agent")
    oid = people.records.create(agent, "work_order", {"type": "complaint", "title": "x", "city": "changsha"}).id
    with session():
        db.execute_sql("DROP TABLE hl_notice")
    try:
        with pytest.raises(Exception, match=r"(?i)hl_notice"):
            people.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
    finally:
        with session():
            Notice.create_table()
    with session():
        inst = WorkflowInstance.get(WorkflowInstance.record_id == oid)
    assert (inst.state, inst.version) == ("new", 1)
    assert people.records.get(agent, "work_order", oid).values["department"] in (None, "")


def test_email_and_sms_are_delivered_once(people: Platform, smtp: tuple[Controller, Mailbox],
                                          sms: tuple[str, type[SmsGateway]]) -> None:
    controller, box = smtp
    url, gateway = sms
    configure(DeliveryConfig(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_from="helpline@centre.test",
                             sms_url=url, channels=parse_channels("transition=email,sms")))
    forward(people)
    assert sorted((r.channel, r.address, r.status) for r in rows()) == [
        ("email", "boss1@example.test", "pending"), ("email", "tech1@example.test", "pending"),
        ("sms", "13800000001", "pending")]
    assert deliver_due() == {"due": 3, "sent": 3, "retry": 0, "failed": 0, "skipped": 0, "left": 0}
    assert deliver_due(utcnow() + timedelta(hours=2))["due"] == 0  # nothing twice
    assert sorted(to for to, _ in box.messages) == [["boss1@example.test"], ["tech1@example.test"]]
    mail = dict((to[0], text) for to, text in box.messages)
    assert all(text.isascii() for text in mail.values())  # 7-bit clean
    tech_mail = email.message_from_string(mail["tech1@example.test"], policy=email.policy.default)
    assert tech_mail["Subject"] == "Work order “No signal”: Dispatched"  # in tech1's language
    assert tech_mail["From"] == "helpline@centre.test"
    assert tech_mail.get_content().strip() == "agent1 took “Forward”: line fault"  # type: ignore[attr-defined]
    boss_mail = email.message_from_string(mail["boss1@example.test"], policy=email.policy.default)
    assert boss_mail["Subject"] == "电子工单“No signal”：已派单"
    (content_type, body), = gateway.received
    sent = json.loads(body)
    assert content_type.startswith("application/json")
    assert sent == {"to": "13800000001",
                    "text": "Work order “No signal”: Dispatched\nagent1 took “Forward”: line fault"}
    assert {r.status for r in rows()} == {"sent"} and all(r.attempts == 1 for r in rows())


def test_sms_as_a_form(people: Platform, sms: tuple[str, type[SmsGateway]]) -> None:
    url, gateway = sms
    configure(DeliveryConfig(sms_url=url, sms_format="form", sms_body="mobile={phone}&msg={text}&key=k1",
                             channels=parse_channels("*=sms")))
    notify(["tech1"], "Line 3 & 4 down", kind="custom")
    assert deliver_due()["sent"] == 1
    (content_type, body), = gateway.received
    assert content_type == "application/x-www-form-urlencoded"
    assert body == b"mobile=13800000001&msg=Line+3+%26+4+down&key=k1"


def test_gateways_down_retry_with_back_off_and_the_notice_stays(people: Platform, smtp: tuple[Controller, Mailbox],
                                                                sms: tuple[str, type[SmsGateway]]) -> None:
    controller, box = smtp
    url, gateway = sms
    gateway.answer = 503
    configure(DeliveryConfig(smtp_host="127.0.0.1", smtp_port=free_port(), sms_url=url, max_attempts=3,
                             channels=parse_channels("transition=email,sms")))
    forward(people)
    assert unread_count("tech1") == 1  # the in-app notice, whatever the gateways do
    start = utcnow()
    assert deliver_due(start)["retry"] == 3
    first = {r.channel + r.address: r for r in rows()}
    assert all(r.status == "pending" and r.attempts == 1 for r in first.values())
    assert "ConnectionRefusedError" in first["emailtech1@example.test"].last_error
    assert "SMS gateway answered 503" in first["sms13800000001"].last_error
    for r in first.values():  # 30 s after the first failure
        assert timedelta(seconds=29) < (r.next_attempt_at or start) - start < timedelta(seconds=35)
    assert deliver_due(start + timedelta(seconds=10))["due"] == 0  # not due yet
    assert deliver_due(start + timedelta(seconds=40))["retry"] == 3
    second = rows()
    assert all(r.attempts == 2 for r in second)
    assert all(timedelta(seconds=115) < (r.next_attempt_at or start) - start < timedelta(seconds=130)
               for r in second)  # then 2 minutes
    assert deliver_due(start + timedelta(minutes=5))["failed"] == 3  # the third attempt was the last
    assert {r.status for r in rows()} == {"failed"} and all(r.next_attempt_at is None for r in rows())
    assert unread_count("tech1") == 1 and unread_count("boss1") == 1
    listed = failed()
    assert len(listed) == 3 and {f.username for f in listed} == {"tech1", "boss1"}
    # the administrator retries one after the mail server is back (here: pointed at the running one)
    assert box.messages == []
    configure(DeliveryConfig(smtp_host="127.0.0.1", smtp_port=controller.port, sms_url=url, max_attempts=3,
                             channels=parse_channels("transition=email,sms")))
    mail = next(f for f in listed if f.address == "tech1@example.test")
    with pytest.raises(PermissionDenied):
        retry(actor(people, "agent1", "agent"), mail.id)
    assert retry(actor(people, "admin", "administrator"), mail.id) == "sent"
    assert [to for to, _ in box.messages] == [["tech1@example.test"]]
    with pytest.raises(LookupError):
        retry(actor(people, "admin", "administrator"), mail.id)  # sent: nothing to retry


def test_killed_before_delivery_a_new_process_sends_exactly_once(people: Platform, db_url: str, demo_metadata: Any,
                                                                 smtp: tuple[Controller, Mailbox]) -> None:
    controller, box = smtp
    configure(DeliveryConfig(smtp_host="127.0.0.1", smtp_port=controller.port,
                             channels=parse_channels("transition=email")))
    forward(people)  # committed; the process "dies" before any delivery pass
    assert len(rows()) == 2 and box.messages == []
    db.close()
    restarted = Platform()
    restarted.start(db_url, None)
    configure(DeliveryConfig(smtp_host="127.0.0.1", smtp_port=controller.port,
                             channels=parse_channels("transition=email")))
    results: list[dict[str, int]] = []
    passes = [threading.Thread(target=lambda: results.append(deliver_due())) for _ in range(3)]  # overlapping
    for t in passes:
        t.start()
    for t in passes:
        t.join(30)
    assert sum(r["sent"] for r in results) == 2
    assert sorted(to[0] for to, _ in box.messages) == ["boss1@example.test", "tech1@example.test"]
    assert deliver_due(utcnow() + timedelta(hours=3))["due"] == 0


def test_service_level_notices_come_through_the_engine_hook(people: Platform) -> None:
    configure(DeliveryConfig())
    agent = actor(people, "agent1", "agent")
    oid = people.records.create(agent, "work_order", {"type": "complaint", "title": "Slow", "city": "changsha"}).id
    detail = {"entity": "work_order", "record_id": oid, "policy": "fault_60", "target": "resolution",
              "due": "2026-12-07T01:30:00"}
    with session(), write_transaction():
        for hook in people.workflows.notices:
            hook(["tech1", "boss1"], "sla_breach", detail)
    (en,) = notices("tech1", "en")
    assert en.title == "Work order “Slow”: the resolution deadline has passed"
    assert en.body == "It was due 2026-12-07 09:30 (fault_60)."  # Asia/Shanghai
    (zh,) = notices("boss1", "zh_CN")
    assert zh.title == "电子工单“Slow”：解决已超时" and zh.record_id == oid


def test_bad_settings_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="kind=channel"):
        parse_channels("email")
    assert parse_channels("transition= *=email") == {"transition": [], "*": ["email"]}
    with pytest.raises(ValueError, match="needs a kind"):
        notify(["tech1"], "x", kind="")
    for bad, why in (({"HELPLINE_SMS_FORMAT": "xml"}, "must be json or form"),
                     ({"HELPLINE_SMS_URL": "file:///etc/passwd"}, "must be an http"),
                     ({"HELPLINE_NOTICE_MAX_ATTEMPTS": "0"}, "at least 1"),
                     ({"HELPLINE_NOTICE_CHANNELS": "sla_breach"}, "is not kind=channel")):
        with pytest.raises(ValueError, match=why):
            DeliveryConfig.from_settings(Settings.from_env(bad))
    good = DeliveryConfig.from_settings(Settings.from_env({
        "HELPLINE_SMTP_HOST": "mail.centre", "HELPLINE_SMTP_PORT": "587", "HELPLINE_SMTP_STARTTLS": "1"}))
    assert (good.smtp_host, good.smtp_port, good.smtp_starttls) == ("mail.centre", 587, True)
    assert good.channels_for("sla_breach") == ["email", "sms"] and good.channels_for("transition") == ["email"]
    assert isinstance(parse_cron("@every 30s"), IntervalTrigger)  # the delivery job's schedule
    with pytest.raises(SchedulerError, match="@every <seconds>s"):
        parse_cron("@every 2m")


def test_a_user_sets_where_notices_go(people: Platform, smtp: tuple[Controller, Mailbox]) -> None:
    controller, box = smtp
    configure(DeliveryConfig(smtp_host="127.0.0.1", smtp_port=controller.port, channels=parse_channels("*=email")))
    with pytest.raises(centre.ContactRejected, match="not an e-mail address") as bad:
        centre.set_contact("tech1", "tech1.example.test", "")
    assert bad.value.key == "notices.contact.bad_email"
    with pytest.raises(centre.ContactRejected, match="not a phone number"):
        centre.set_contact("tech1", "", "call me")
    assert centre.contact("tech1") == ("tech1@example.test", "13800000001")  # unchanged by the refusals
    centre.set_contact("tech1", " t1@centre.test ", "+86 138-0000-0002")
    assert centre.contact("tech1") == ("t1@centre.test", "+8613800000002")
    with pytest.raises(PermissionDenied):  # another user's addresses: administrators only
        centre.set_contact("boss1", "evil@example.test", "", actor(people, "agent1", "agent"))
    centre.set_contact("boss1", "", "", actor(people, "admin", "administrator"))  # the notice centre only
    with session():
        assert search_audit(actor="agent1", action="denied")[0]["record_id"] == "boss1"
        change = search_audit(actor="admin", action="update", entity="user")[0]
    assert change["before"] == {"email": "boss1@example.test", "phone": None}
    assert change["after"] == {"email": None, "phone": None}
    notify(["tech1", "boss1"], "Line down", kind="custom")
    assert [(r.channel, r.address) for r in rows()] == [("email", "t1@centre.test")]
    assert deliver_due()["sent"] == 1 and [to for to, _ in box.messages] == [["t1@centre.test"]]


def test_an_extensions_channel_is_retried_like_the_others(people: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    import helpline.extension_registry as ext_registry

    got: list[tuple[str, str, str]] = []

    def wecom(recipient: str, subject: str, body: str) -> None:
        if recipient == "boss1" and not any(r == "boss1" for _, r, _ in got):
            got.append(("refused", recipient, subject))
            raise ConnectionError("WeCom is down")
        got.append(("sent", recipient, subject))

    monkeypatch.setattr(ext_registry, "_registry", ext_registry.ExtensionRegistry(
        [ext_registry.Extension("wecom_demo", 2.0, senders={"wecom": wecom})]))
    configure(DeliveryConfig(channels=parse_channels("transition=wecom")))
    forward(people)
    assert sorted(r.address for r in rows()) == ["boss1", "tech1"]  # the channel's address is the username
    first = deliver_due()
    assert (first["sent"], first["retry"]) == (1, 1)
    refused = next(r for r in rows() if r.status == "pending")
    assert "wecom sender failed" in refused.last_error and refused.attempts == 1
    assert deliver_due(utcnow() + timedelta(seconds=31))["sent"] == 1
    assert sorted((s, r) for s, r, _ in got) == [("refused", "boss1"), ("sent", "boss1"), ("sent", "tech1")]
    boss_reads = next(t for s, r, t in got if r == "boss1" and s == "sent")
    assert boss_reads == "电子工单“No signal”：已派单"  # in boss1's language


def test_a_slow_gateway_does_not_hold_the_pass(people: Platform, sms: tuple[str, type[SmsGateway]]) -> None:
    url, gateway = sms
    gateway.delay = 0.4
    configure(DeliveryConfig(sms_url=url, channels=parse_channels("*=sms")))
    with session():
        User.update(phone="13800000002").where(User.username == "boss1").execute()
    notify(["tech1", "boss1"], "one", kind="custom")
    notify(["tech1", "boss1"], "two", kind="custom")
    first = deliver_due(budget_s=0.5)
    assert first["sent"] < 4 and first["left"] == 4 - first["sent"]  # stopped claiming after its budget
    assert sum(r.status == "pending" and r.attempts == 0 for r in rows()) == first["left"]  # untouched, still due
    assert deliver_due()["sent"] == first["left"] and len(gateway.received) == 4  # the next pass sends the rest
