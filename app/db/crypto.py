"""Encrypted columns with a key ring: the first key encrypts, every key of the ring decrypts.

The ring is ``Settings.key_ring`` (``SMPLAT_ENCRYPTION_KEYS``, else ``SMPLAT_SECRET_KEY`` alone). Each entry is a
passphrase; the Fernet key of a column is derived from it with the column's purpose label, exactly as
advanced-alchemy's ``EncryptedString`` (which wrote these columns before) derived it from its key callable:
Fernet key = urlsafe-base64(SHA-256(SHA-256("smplat:<purpose>:" + passphrase))). Stored values are plain Fernet
tokens in a VARCHAR, so rows written before the ring existed are read without a data migration.

A value that no key of the ring decrypts (written under a key the ring no longer holds) never fails a query: it
loads as :class:`UnreadableSecret`, so lists and details render and the record shows "key unreadable"; code that
needs the plaintext refuses with a domain error naming the record. Written back unchanged, it keeps its
ciphertext. ``smplat keys rotate`` (``app.db.key_rotation``) re-encrypts every value with the first key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.config import get_settings


def fernet_key(passphrase: str, purpose: str) -> bytes:
    """The Fernet key that one ring entry gives one kind of column (the derivation data was written with)."""
    inner = hashlib.sha256(f"smplat:{purpose}:".encode() + passphrase.encode()).digest()
    return base64.urlsafe_b64encode(hashlib.sha256(inner).digest())


class KeyRing:
    """The Fernet keys of one purpose, newest first: encrypts with the first, decrypts with any."""

    def __init__(self, passphrases: Sequence[str], purpose: str) -> None:
        if not passphrases:
            raise ValueError("a key ring needs at least one key")
        self.fernets = tuple(Fernet(fernet_key(p, purpose)) for p in passphrases)
        self._ring = MultiFernet(list(self.fernets))

    def __repr__(self) -> str:
        return f"<KeyRing of {len(self.fernets)} keys>"

    def encrypt(self, plaintext: str) -> str:
        return self._ring.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext; raises ``cryptography.fernet.InvalidToken`` when no key of the ring reads it."""
        try:
            return self._ring.decrypt(token.encode()).decode()
        except UnicodeError as exc:  # not ours: treat it like any token no key reads
            raise InvalidToken from exc

    def rotate(self, token: str) -> str:
        """The same plaintext (and timestamp) encrypted with the first key; ``InvalidToken`` if unreadable."""
        return self._ring.rotate(token.encode()).decode("ascii")

    def key_index(self, token: str) -> int | None:
        """Which key of the ring reads ``token`` (0 is the first), or None when none does."""
        for index, fernet in enumerate(self.fernets):
            try:
                fernet.decrypt(token.encode())
            except (InvalidToken, UnicodeError):
                continue
            return index
        return None


@lru_cache(maxsize=16)
def key_ring(passphrases: tuple[str, ...], purpose: str) -> KeyRing:
    return KeyRing(passphrases, purpose)


def configured_keys() -> tuple[str, ...]:
    """The ring of the settings this process runs with."""
    return get_settings().key_ring


@dataclass(frozen=True)
class UnreadableSecret:
    """A stored secret that no key of the ring decrypts. Never the plaintext; shows as "(unreadable)"."""

    ciphertext: str = field(repr=False)

    def __str__(self) -> str:
        return "(unreadable)"


class EncryptedSecret(TypeDecorator[Any]):
    """A string column stored as a Fernet token under the configured key ring (see the module docstring).

    Loads ``str`` (decrypted), ``None``, or :class:`UnreadableSecret`; accepts the same. ``length`` limits the
    plaintext (the stored token is longer, so the column itself is an unbounded VARCHAR).
    """

    impl = sa.String
    cache_ok = True

    def __init__(
        self, purpose: str, length: int | None = None, keys: Callable[[], tuple[str, ...]] = configured_keys
    ) -> None:
        super().__init__()
        self.purpose = purpose
        self.length = length
        self.keys = keys

    def __repr__(self) -> str:
        return f"EncryptedSecret({self.purpose!r}, length={self.length})"

    @property
    def python_type(self) -> type[str]:
        return str

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(sa.String())

    def ring(self) -> KeyRing:
        return key_ring(self.keys(), self.purpose)

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        if value is None:
            return None
        if isinstance(value, UnreadableSecret):
            return value.ciphertext  # written back as it was read: nothing lost
        if not isinstance(value, str):
            raise TypeError(f"an encrypted {self.purpose} must be a string, not {type(value).__name__}")
        if self.length is not None and len(value) > self.length:
            raise ValueError(f"an encrypted {self.purpose} holds at most {self.length} characters")
        return self.ring().encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | UnreadableSecret | None:  # noqa: ARG002
        if value is None:
            return None
        try:
            return self.ring().decrypt(value)
        except InvalidToken:
            return UnreadableSecret(value)


def encrypted_columns(metadata: sa.MetaData) -> list[sa.Column[Any]]:
    """Every column of ``metadata`` stored with :class:`EncryptedSecret`, in table then column order."""
    return [
        column
        for table in sorted(metadata.tables.values(), key=lambda t: t.name)
        for column in table.columns
        if isinstance(column.type, EncryptedSecret)
    ]
