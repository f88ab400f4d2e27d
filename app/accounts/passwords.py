"""Staff passwords: argon2id via argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.i18n import N_, Message

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # far above any passphrase; keeps a hostile login from hashing megabytes

_hasher = PasswordHasher()

# Verifying against this keeps the time of a login for an unknown email close to that of a wrong password.
_DUMMY_HASH = _hasher.hash("smplat-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> Message | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Message(N_("must be at least %(count)s characters"), {"count": MIN_PASSWORD_LENGTH})
    if len(password) > MAX_PASSWORD_LENGTH:
        return Message(N_("must be at most %(count)s characters"), {"count": MAX_PASSWORD_LENGTH})
    if password.strip() != password:
        return Message(N_("must not start or end with spaces"))
    if any(ord(char) < 32 or ord(char) == 127 for char in password):
        return Message(N_("must not contain control characters"))
    return None
