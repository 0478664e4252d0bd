"""Password hashing, masks, and what an actor's roles allow (menus, entities, permissions, extends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.metadata.loader import load_directory
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.masking import mask_value
from helpline.security.passwords import generate_password, hash_password, verify_password

DEMO_METADATA = Path(__file__).resolve().parents[2] / "metadata"


def test_password_hashes_verify_and_are_salted() -> None:
    h1, h2 = hash_password("秘密 pass"), hash_password("秘密 pass")
    assert h1.startswith("$argon2id$") and h1 != h2
    assert verify_password("秘密 pass", h1) and not verify_password("秘密 pas", h1)
    assert not verify_password("x", "garbage") and not verify_password("x", "bcrypt$1$2$3$4$5")
    with pytest.raises(ValueError):
        hash_password("")
    assert len(generate_password()) == 14


@pytest.mark.parametrize(("value", "mask", "shown"), [
    ("13812345678", "phone", "138****5678"),
    ("073188881234", "phone", "073*****1234"),
    ("123", "phone", "***"),
    ("张三丰", "name", "张**"),
    ("a.b@example.com", "email", "a***@example.com"),
    ("430102198001011234", "id", "43**************34"),
    ("anything", "hidden", "****"),
    (None, "phone", None),
])
def test_masks(value: object, mask: str, shown: object) -> None:
    assert mask_value(value, mask) == shown


def test_actor_menus_entities_permissions() -> None:
    mset = load_directory(DEMO_METADATA).metadata
    agent = Actor("agent1", roles=("agent",)).bind(mset)
    assert agent.can("customer", "read") and not agent.can("customer", "delete")
    assert agent.has("desktop") and not agent.has("designer")
    with pytest.raises(PermissionDenied, match="designer"):
        agent.require_permission("designer")
    assert agent.sees_menu("main", "customers") and not agent.sees_menu("main", "designer")
    assert agent.scopes("customer") and agent.scopes("knowledge_article") and agent.scopes("region") is None
    admin = Actor("admin", roles=("administrator",)).bind(mset)
    assert admin.sees_menu("main", "designer") and admin.scopes("customer") is None
    both = Actor("x", roles=("agent", "administrator")).bind(mset)
    assert both.scopes("customer") is None, "the widest role wins"
    qa = Actor("qa1", roles=("qa",)).bind(mset)
    assert qa.masks("customer")["phone"] == "phone"
    assert Actor("x", roles=("qa", "administrator")).bind(mset).masks("customer") == {}


def test_granted_group_item_grants_its_children_and_roles_extend(write_metadata) -> None:
    root = write_metadata({
        "menus/main.yaml": """
            kind: menu
            name: main
            label: Main
            items:
              - {name: group, label: G}
              - {name: child, label: C, parent: group, page: home}
              - {name: other, label: O, page: home}
            """,
        "roles/base.yaml": "kind: role\nname: base\nmenus: [main.group]\npermissions: [export]\n",
        "roles/lead.yaml": "kind: role\nname: lead\nextends: [base]\npermissions: [supervisor]\n",
    })
    result = load_directory(root)
    assert result.ok, [p.format() for p in result.problems]
    lead = Actor("l", roles=("lead",)).bind(result.metadata)
    assert lead.sees_menu("main", "child") and not lead.sees_menu("main", "other")
    assert lead.has("export") and lead.has("supervisor")
