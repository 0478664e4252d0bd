"""Sign-in: argon2id at OWASP's minimum, old scrypt hashes verified then replaced, the same password work for
unknown users, and one generated password per bootstrap user that must be changed."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any

import pytest

from helpline.data.database import session
from helpline.data.system import User
from helpline.security import passwords
from helpline.security.passwords import hash_password, needs_rehash, verify_password
from helpline.services import auth
from helpline.services.platform import Platform


def old_scrypt_hash(password: str) -> str:
    """A hash as earlier versions made it (scrypt, N=2^14)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_new_hashes_are_argon2id_at_owasp_minimum() -> None:
    h = hash_password("秘密 pass")
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and h != hash_password("秘密 pass")
    assert verify_password("秘密 pass", h) and not verify_password("秘密 pas", h)
    assert not needs_rehash(h) and needs_rehash(old_scrypt_hash("x"))
    weaker = passwords.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x")
    assert verify_password("x", weaker) and needs_rehash(weaker)
    assert not verify_password("x", "$argon2id$garbage")


def test_old_scrypt_hash_verifies_and_is_replaced_at_the_next_sign_in(platform: Platform) -> None:
    auth.ensure_bootstrap_users(demo=False, environ={"HELPLINE_ADMIN_PASSWORD": "admin-pass-1"})
    old = old_scrypt_hash("admin-pass-1")
    with session():
        User.update(password_hash=old).where(User.username == "admin").execute()
    with pytest.raises(auth.LoginFailed):
        auth.authenticate("admin", "wrong-pass-1")
    assert auth.find_user("admin").password_hash == old, "a failed sign-in does not rehash"
    auth.authenticate("admin", "admin-pass-1")
    new = auth.find_user("admin").password_hash
    assert new.startswith("$argon2id$") and verify_password("admin-pass-1", new)
    assert auth.authenticate("admin", "admin-pass-1").password_hash == new, "rehashed once"


def test_an_unknown_user_costs_the_same_password_work(platform: Platform, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    auth.ensure_bootstrap_users(demo=False, environ={"HELPLINE_ADMIN_PASSWORD": "admin-pass-1"})
    verified: list[str] = []
    real = passwords.verify_password

    def counting(password: str, encoded: str) -> Any:  # a spy: the real verification still runs
        verified.append(password)
        return real(password, encoded)

    monkeypatch.setattr(passwords, "verify_password", counting)  # used by spend_like_verify
    monkeypatch.setattr(auth, "verify_password", counting)
    timings: dict[str, float] = {}
    for name in ("nobody", "admin", "nobody", "admin"):  # the second round: the dummy hash exists
        started = time.perf_counter()
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(name, "wrong-pass-1")
        timings[name] = time.perf_counter() - started
    assert verified == ["wrong-pass-1"] * 4
    assert timings["nobody"] > 0.5 * timings["admin"], timings


def test_generated_passwords_are_per_user_and_must_be_changed(platform: Platform) -> None:
    printed = auth.ensure_bootstrap_users(demo=True, environ={})
    assert set(printed) == {"admin", "agent1", "agent2", "supervisor1", "qa1", "tech1"}
    assert len(set(printed.values())) == 6, "one password per user"
    for name, password in printed.items():
        user = auth.authenticate(name, password)
        assert user.must_change_password, name
        assert auth.must_change_password(name)
    assert auth.ensure_bootstrap_users(demo=True, environ={}) == {}, "printed once"
    auth.change_password("agent1", printed["agent1"], "agent1-own-pass")
    assert not auth.must_change_password("agent1") and auth.must_change_password("agent2")


def test_an_explicit_demo_password_is_shared_and_usable(platform: Platform) -> None:
    printed = auth.ensure_bootstrap_users(demo=True, environ={"HELPLINE_DEMO_PASSWORD": "demo-pass-9"})
    assert set(printed) == {"admin"}
    for name in ("agent1", "agent2", "supervisor1", "qa1", "tech1"):
        assert not auth.authenticate(name, "demo-pass-9").must_change_password
    assert auth.must_change_password("admin")
