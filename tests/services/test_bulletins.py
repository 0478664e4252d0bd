"""Bulletins (issue 17 item 4): targeting by role, department and region (a city reaches its counties, a
department its sub-departments), the validity window, read receipts with the list of who has not read, a
bulletin sent to nobody refused, the search through the one text search, and the notice to the audience. On
SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.notices import Notice
from helpline.data.system import User, UserRole
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.bulletins import BulletinError
from helpline.services.platform import Platform
from helpline.services.workflow.departments import DepartmentService

SYSTEM = Actor.system()


def add_user(name: str, role: str, regions: list[str] | None = None) -> None:
    """A user with a role (no password: hashing one costs a second under load, and no test here logs in)."""
    with session(), write_transaction():
        User.create(username=name, password_hash="-", regions=regions or [])
        UserRole.create(username=name, role=role)


def person(p: Platform, name: str, role: str, regions: tuple[str, ...] = ()) -> Actor:
    return Actor(name, roles=(role,), regions=regions).bind(p.metadata)


def county_of(p: Platform, city: str) -> str:
    model = p.models["region"]
    with session():
        return str(model.select(model.code).where(model.parent == city).order_by(model.code).first().code)


@pytest.fixture
def centre(platform: Platform) -> Platform:
    """Users: a1 (agent, a Changsha county), a2 (agent, Yueyang), t1 (technician, member of maint_changsha),
    s1 (supervisor); admin publishes."""
    county = county_of(platform, "changsha")
    for name, role, regions in (("a1", "agent", [county]), ("a2", "agent", ["yueyang"]), ("t1", "technician", []),
                                ("s1", "supervisor", []), ("boss", "administrator", [])):
        add_user(name, role, regions)
    DepartmentService(platform).add_member(SYSTEM, "maint_changsha", "t1")
    return platform


def titles(p: Platform, who: Actor, at=None) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.title for b in p.bulletins.bulletins_for(who, at=at)]


def test_targeting_by_role_department_region_and_window(centre: Platform) -> None:
    p = centre
    boss = person(p, "boss", "administrator")
    a1 = person(p, "a1", "agent", (county_of(p, "changsha"),))
    a2 = person(p, "a2", "agent", ("yueyang",))
    t1 = person(p, "t1", "technician")
    s1 = person(p, "s1", "supervisor")
    now = utcnow()
    p.bulletins.publish(boss, "全体坐席：新资费", "下月起新资费", roles=["agent"])
    p.bulletins.publish(boss, "长沙停电", "芙蓉区停电检修", regions=["changsha"])  # a city: its counties too
    p.bulletins.publish(boss, "维护部通知", "工具领用", departments=["maintenance"])  # its teams too
    p.bulletins.publish(boss, "Later", "not yet", roles=["agent"], starts_at=now + timedelta(hours=2))
    p.bulletins.publish(boss, "Gone", "expired", roles=["agent"], starts_at=now - timedelta(days=2),
                        ends_at=now - timedelta(days=1))
    assert titles(p, a1) == ["长沙停电", "全体坐席：新资费"]
    assert titles(p, a2) == ["全体坐席：新资费"]
    assert titles(p, t1) == ["维护部通知"]
    assert titles(p, s1) == []
    assert titles(p, a2, now + timedelta(hours=3)) == ["Later", "全体坐席：新资费"]  # the window opens
    assert titles(p, a2, now - timedelta(days=1, hours=12)) == ["Gone"]
    # a role extending another reaches its bulletins? the supervisor role is not an agent: nothing
    with pytest.raises(PermissionDenied):
        p.bulletins.publish(a1, "x", "y", roles=["agent"])


def test_sent_to_nobody_or_unknown_audience_refused(centre: Platform) -> None:
    boss = person(centre, "boss", "administrator")
    with pytest.raises(BulletinError, match="sent to nobody") as refused:
        centre.bulletins.publish(boss, "Nobody", "text")
    assert refused.value.key == "bulletins.error.no_audience"
    for kwargs, name in (({"roles": ["astronaut"]}, "astronaut"), ({"departments": ["nasa"]}, "nasa"),
                         ({"regions": ["mars"]}, "mars")):
        with pytest.raises(BulletinError, match=name):
            centre.bulletins.publish(boss, "Bad", "text", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(BulletinError, match="no active user") as refused:  # a department without members
        centre.bulletins.publish(boss, "Empty team", "text", departments=["finance"], must_read=True)
    assert refused.value.key == "bulletins.error.nobody_reached"
    with pytest.raises(BulletinError, match="end after"):
        centre.bulletins.publish(boss, "Bad", "text", roles=["agent"], ends_at=utcnow() - timedelta(hours=1))
    assert centre.bulletins.published(boss) == []


def test_must_read_receipts_and_unread_list(centre: Platform) -> None:
    p = centre
    boss = person(p, "boss", "administrator")
    a1 = person(p, "a1", "agent", (county_of(p, "changsha"),))
    a2 = person(p, "a2", "agent", ("yueyang",))
    bid = p.bulletins.publish(boss, "必读：安全规范", "请确认", roles=["agent"], must_read=True)
    normal = p.bulletins.publish(boss, "普通公告", "知悉即可", roles=["agent"])
    assert [b.id for b in p.bulletins.pending_must_read(a1)] == [bid]
    assert titles(p, a1)[0] == "必读：安全规范"  # pending must-read first
    receipts = p.bulletins.receipts(boss, bid)
    assert receipts.audience == ["a1", "a2"] and receipts.unread == ["a1", "a2"] and receipts.read == []
    p.bulletins.open(a1, normal)  # reading a normal one never acknowledges the must-read
    assert [b.id for b in p.bulletins.pending_must_read(a1)] == [bid]
    p.bulletins.acknowledge(a1, bid)
    assert p.bulletins.pending_must_read(a1) == [] and [b.id for b in p.bulletins.pending_must_read(a2)] == [bid]
    with pytest.raises(PermissionDenied):
        p.bulletins.withdraw(a2, bid)
    assert p.bulletins.statistics(boss) == {normal: (2, 1, 0), bid: (2, 1, 1)}
    receipts = p.bulletins.receipts(boss, bid)
    assert receipts.unread == ["a2"] and [r[0] for r in receipts.read] == ["a1"] and receipts.read[0][2] is not None
    with pytest.raises(BulletinError):  # not sent to the supervisor: the same answer as an unknown one
        p.bulletins.acknowledge(person(p, "s1", "supervisor"), bid)
    with pytest.raises(PermissionDenied):
        p.bulletins.receipts(a1, bid)
    with session():
        assert [e["actor"] for e in search_audit(action="bulletin.acknowledge")] == ["a1"]
        assert len(search_audit(action="bulletin.publish")) == 2
        told = sorted(n.username for n in Notice.select().where(Notice.kind == "bulletin"))
    assert told == ["a1", "a1", "a2", "a2"]


def test_search_finds_only_the_readers_bulletins(centre: Platform) -> None:
    p = centre
    boss = person(p, "boss", "administrator")
    a1 = person(p, "a1", "agent", (county_of(p, "changsha"),))
    a2 = person(p, "a2", "agent", ("yueyang",))
    p.bulletins.publish(boss, "机顶盒升级公告", "长沙地区机顶盒今晚升级", regions=["changsha"])
    p.bulletins.publish(boss, "宽带提速", "岳阳机顶盒用户提速", regions=["yueyang"])
    assert [h.title for h in p.bulletins.search(a1, "机顶盒")] == ["机顶盒升级公告"]
    assert [h.title for h in p.bulletins.search(a2, "机顶盒")] == ["宽带提速"]
    assert p.bulletins.search(person(p, "s1", "supervisor"), "机顶盒") == []
    assert p.bulletins.search(a1, '"NEAR( OR \\') == []  # hostile syntax answered, never raised


def test_a_bulletin_valid_later_is_announced_when_it_begins(centre: Platform) -> None:
    p = centre
    boss = person(p, "boss", "administrator")
    now = utcnow()
    later = p.bulletins.publish(boss, "明日起新资费", "text", roles=["agent"], starts_at=now + timedelta(hours=2))

    def told() -> list[str]:
        with session():
            return sorted(n.username for n in Notice.select().where(Notice.kind == "bulletin"))

    assert told() == [] and p.bulletins.announce_due(now) == {"announced": []}
    assert p.bulletins.announce_due(now + timedelta(hours=3)) == {"announced": [later]}
    assert told() == ["a1", "a2"]
    assert p.bulletins.announce_due(now + timedelta(hours=4)) == {"announced": []}  # once
    p.bulletins.publish(boss, "At once", "text", roles=["agent"])  # told at publication, not again by the job
    assert p.bulletins.announce_due() == {"announced": []} and told() == ["a1", "a1", "a2", "a2"]


def test_a_withdrawn_bulletin_holds_nobody(centre: Platform) -> None:
    p = centre
    boss, a2 = person(p, "boss", "administrator"), person(p, "a2", "agent", ("yueyang",))
    bid = p.bulletins.publish(boss, "必读：错误的通知", "text", roles=["agent"], must_read=True)
    assert [b.id for b in p.bulletins.pending_must_read(a2)] == [bid]
    p.bulletins.withdraw(boss, bid)
    assert p.bulletins.pending_must_read(a2) == [] and titles(p, a2) == []
    with pytest.raises(BulletinError, match="not valid now"):
        p.bulletins.withdraw(boss, bid)
    with session():
        assert [e["actor"] for e in search_audit(action="bulletin.withdraw")] == ["boss"]
