"""A provider's API key, for the code that talks to the provider (and only for it).

``Provider.api_key`` is deferred: lists and details never load (or decrypt) it unless they ask. A key that no
key of the ring decrypts loads as :class:`~app.db.crypto.UnreadableSecret`; asking for it here refuses with a
domain error naming the provider, so one unreadable key stops that provider's work alone.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.crypto import UnreadableSecret
from app.errors import DomainError, NotFound
from app.fulfillment.models import Provider
from app.i18n import N_


class KeyState(StrEnum):
    MISSING = "missing"
    STORED = "stored"
    UNREADABLE = "unreadable"


def key_state(value: str | UnreadableSecret | None) -> KeyState:
    if isinstance(value, UnreadableSecret):
        return KeyState.UNREADABLE
    return KeyState.STORED if value else KeyState.MISSING


class ProviderKeyUnreadable(DomainError):
    """The stored key was encrypted under a key the ring no longer holds; staff must enter it again."""

    code = "provider_key_unreadable"
    title = N_("API key unreadable")

    def __init__(self, provider: str) -> None:
        super().__init__(
            N_("The API key of provider %(provider)s is unreadable: enter it again in the back office"),
            provider=provider,
        )


class ProviderKeyMissing(DomainError):
    code = "provider_key_missing"
    title = N_("API key missing")

    def __init__(self, provider: str) -> None:
        super().__init__(N_("Provider %(provider)s has no API key"), provider=provider)


def usable_api_key(name: str, value: str | UnreadableSecret | None) -> str:
    """The plaintext key of provider ``name``, or a refusal that names the provider."""
    state = key_state(value)
    if state is KeyState.UNREADABLE:
        raise ProviderKeyUnreadable(name)
    if state is KeyState.MISSING or not isinstance(value, str):
        raise ProviderKeyMissing(name)
    return value


async def provider_api_key(session: AsyncSession, provider_id: int) -> str:
    """Load and decrypt one provider's API key (the only query that asks for it outside the provider pages)."""
    row = (await session.execute(sa.select(Provider.name, Provider.api_key).where(Provider.id == provider_id))).first()
    if row is None:
        raise NotFound(N_("Provider %(id)s does not exist"), id=provider_id)
    return usable_api_key(row.name, row.api_key)
