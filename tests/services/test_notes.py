"""Notes (issue 17 item 5): kept per user, a team note read by the team's members, a personal note never
visible to another user — administrator included — in a list, a read, a search, the generic record paths or the
audit log; only the owner changes or deletes a note. On SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

import pytest

from helpline.data.database import session, write_transaction
from helpline.data.query import ListQuery
from helpline.data.system import User, UserRole
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.notes import NoteError
from helpline.services.platform import Platform
from helpline.services.records import ValidationFailed
from helpline.services.workflow.departments import DepartmentService

SYSTEM = Actor.system()


def add_user(name: str, role: str, regions: list[str] | None = None) -> None:
    """A user with a role (no password: hashing one costs a second under load, and no test here logs in)."""
    with session(), write_transaction():
        User.create(username=name, password_hash="-", regions=regions or [])
        UserRole.create(username=name, role=role)


def person(p: Platform, name: str, role: str) -> Actor:
    return Actor(name, roles=(role,)).bind(p.metadata)


@pytest.fixture
def team(platform: Platform) -> Platform:
    for name, role in (("a1", "agent"), ("a2", "agent"), ("a3", "agent"), ("boss", "administrator")):
        add_user(name, role)
    DepartmentService(platform).add_member(SYSTEM, "customer_service", "a1")
    DepartmentService(platform).add_member(SYSTEM, "customer_service", "a2")
    return platform


def test_personal_notes_never_leak(team: Platform) -> None:
    p = team
    a1, a2, a3, boss = (person(p, n, r) for n, r in (("a1", "agent"), ("a2", "agent"), ("a3", "agent"),
                                                      ("boss", "administrator")))
    mine = p.notes.save(a1, "机顶盒密码提示", "客户常忘记机顶盒密码：先查身份证后四位")
    shared = p.notes.save(a1, "机顶盒换机流程", "班组共享：换机先登记", team="customer_service")
    p.notes.save(a2, "我的机顶盒笔记", "a2 自己的")
    assert [n.title for n in p.notes.notes(a1)] == ["机顶盒换机流程", "机顶盒密码提示"]  # newest first
    assert [n.title for n in p.notes.notes(a2)] == ["我的机顶盒笔记", "机顶盒换机流程"]
    assert [n.title for n in p.notes.notes(a3)] == [] and p.notes.notes(boss) == []
    assert sorted(h.title for h in p.notes.search(a1, "机顶盒")) == ["机顶盒密码提示", "机顶盒换机流程"]
    assert sorted(h.title for h in p.notes.search(a2, "机顶盒")) == ["我的机顶盒笔记", "机顶盒换机流程"]
    assert p.notes.search(a3, "机顶盒") == [] and p.notes.search(boss, "身份证") == []
    assert p.notes.search(a2, "身份证") == []  # a personal note's words do not find it for another user
    assert p.notes.get(a2, shared.id).title == "机顶盒换机流程"
    for other in (a2, a3, boss):  # a personal note is 'not found' for everyone else
        with pytest.raises(NoteError):
            p.notes.get(other, mine.id)
    for generic in (lambda: p.records.get(boss, "note", mine.id),
                    lambda: p.records.list_page(boss, ListQuery(entity="note")),
                    lambda: p.search.search(boss, "note", "机顶盒")):
        with pytest.raises(PermissionDenied):  # no role reads note records directly, not even the administrator
            generic()
    with session():
        logged = search_audit(entity="note")
    assert {e["action"] for e in logged} == {"note.create"}
    assert "身份证" not in repr(logged)  # the audit log keeps no note text


def test_only_the_owner_changes_a_note(team: Platform) -> None:
    p = team
    a1, a2 = person(p, "a1", "agent"), person(p, "a2", "agent")
    shared = p.notes.save(a1, "Team", "text", team="customer_service")
    with pytest.raises(NoteError):
        p.notes.save(a2, "Hijacked", "x", note_id=shared.id)
    with pytest.raises(NoteError):
        p.notes.delete(a2, shared.id)
    with pytest.raises(NoteError, match="not a member"):
        p.notes.save(person(p, "a3", "agent"), "Wrong team", "x", team="customer_service")
    with pytest.raises(ValidationFailed):
        p.notes.save(a1, "", "no title")
    changed = p.notes.save(a1, "Team v2", "new text 换机", team=None, note_id=shared.id)
    assert changed.personal and p.notes.notes(a2) == []  # unshared: gone from the team
    assert [h.title for h in p.notes.search(a1, "换机")] == ["Team v2"]
    p.notes.delete(a1, shared.id)
    assert p.notes.notes(a1) == [] and p.notes.search(a1, "换机") == []
