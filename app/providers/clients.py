"""Which API client talks to a provider: API v2 for SMM panels and the sandbox, none for manual work.

The seeded sandbox provider's address is a placeholder (``sandbox://smm``): the sandbox runs inside a process
(``smplat demo``, a test) on a free port, and that process registers where with :func:`register_sandbox`.
A sandbox provider whose address is a real ``http://`` URL is used as it is.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.fulfillment.credentials import provider_api_key
from app.fulfillment.models import Provider, ProviderKind
from app.i18n import N_
from app.providers.smm_v2 import SmmV2Client, Timeouts

SANDBOX_SCHEME = "sandbox://"
_running_sandboxes: dict[str, str] = {}


class SandboxNotRunning(DomainError):
    code = "sandbox_not_running"
    title = N_("Sandbox not running")

    def __init__(self, provider: str, address: str) -> None:
        super().__init__(
            N_("Provider %(provider)s is the built-in sandbox (%(address)s); it answers only while `smplat demo` runs"),
            provider=provider,
            address=address,
        )


class ProviderHasNoAddress(DomainError):
    code = "provider_has_no_address"
    title = N_("API address missing")

    def __init__(self, provider: str) -> None:
        super().__init__(N_("Provider %(provider)s has no API address"), provider=provider)


def register_sandbox(address: str, url: str | None) -> None:
    """Point a sandbox placeholder address (``sandbox://smm``) at a running sandbox's URL; None forgets it."""
    if url is None:
        _running_sandboxes.pop(address, None)
    else:
        _running_sandboxes[address] = url


def api_address(provider: Provider) -> str:
    """The URL the provider's API answers at (a sandbox placeholder resolved to the running sandbox)."""
    address = (provider.api_url or "").strip()
    if not address:
        raise ProviderHasNoAddress(provider.name)
    if provider.kind == ProviderKind.SANDBOX and address.startswith(SANDBOX_SCHEME):
        url = _running_sandboxes.get(address)
        if url is None:
            raise SandboxNotRunning(provider.name, address)
        return url
    return address


async def client_for(
    session: AsyncSession, provider: Provider, *, timeouts: Timeouts | None = None
) -> SmmV2Client | None:
    """An API v2 client with the provider's decrypted key (close it: ``async with``); None for manual work.

    Refuses with a domain error naming the provider when its key is missing or unreadable, or its sandbox is not
    running. The key lives only inside the client.
    """
    if provider.kind == ProviderKind.MANUAL:
        return None
    url = api_address(provider)
    return SmmV2Client(url, await provider_api_key(session, provider.id), timeouts=timeouts)
