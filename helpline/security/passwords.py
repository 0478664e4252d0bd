"""Password hashing: argon2id (argon2-cffi) at OWASP's minimum cost, in self-describing strings.

New hashes are argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's first choice, memory-hard):
``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``. Hashes of earlier versions —
``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` — still verify; :func:`needs_rehash` tells the caller to store
a new hash after the next successful sign-in. Verification is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MEMORY_KIB, TIME_COST, PARALLELISM = 19 * 1024, 2, 1
HASH_PREFIXES = ("$argon2id$", "scrypt$")
"""How a stored hash starts (anything else is not a hash of this module)."""

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, hash_len=32,
                         salt_len=16, type=Type.ID)
_dummy: str | None = None


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password is empty")
    return _hasher.hash(password)


def is_hash(encoded: object) -> bool:
    """True when ``encoded`` is a hash this module made (now or in an earlier version)."""
    return isinstance(encoded, str) and encoded.startswith(HASH_PREFIXES)


def verify_password(password: str, encoded: str) -> bool:
    if not isinstance(encoded, str):
        return False
    if encoded.startswith("$argon2"):
        try:
            return bool(_hasher.verify(encoded, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=2**28)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str) -> bool:
    """True when ``encoded`` is weaker than what :func:`hash_password` makes now (scrypt, lower argon2 cost)."""
    if not encoded.startswith("$argon2id$"):
        return True
    try:
        return bool(_hasher.check_needs_rehash(encoded))
    except (InvalidHashError, ValueError):
        return True


def spend_like_verify(password: str) -> None:
    """The work of one :func:`verify_password`, for a sign-in whose user does not exist (so its timing does not
    tell which user names exist)."""
    global _dummy
    if _dummy is None:
        _dummy = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _dummy)


def generate_password(length: int = 14) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
