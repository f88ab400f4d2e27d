"""Who is asking, and for which address: proxy headers from trusted peers only, and the allowed hosts.

Behind a reverse proxy the TCP peer is the proxy. Its ``X-Forwarded-For``/``-Proto``/``-Host`` headers say
who the client is, how it connected and which host it asked for, but any client can send those headers
too: they are believed only when the peer is listed in ``SMPLAT_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from app.config import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IPAddress | None:
    """An address as proxies write it: ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1`` or ``[2001:db8::1]:443``."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class Proxies:
    """The configured trusted proxies."""

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        self.networks = tuple(networks)

    def trusts(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, peer: str | None, forwarded_for: list[str]) -> str | None:
        """The client's address: the peer, or, from a trusted peer, the nearest untrusted hop it reports.

        ``X-Forwarded-For`` lists hops oldest first; each proxy appends the address it saw. Walking from the
        end, every hop added by a trusted proxy is believed, until the first address that is not a trusted
        proxy: that is the client. An entry that is not an address ends the walk (nothing behind it is
        believed).
        """
        peer_address = parse_ip(peer) if peer else None
        if not self.trusts(peer_address):
            return peer
        client: IPAddress | None = peer_address
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            address = parse_ip(hop)
            if address is None:
                break
            client = address
            if not self.trusts(address):
                break
        return str(client) if client is not None else peer


def first_value(values: list[str]) -> str | None:
    """The first entry of a possibly repeated, comma-separated header (the value the outermost proxy set)."""
    for value in values:
        for entry in value.split(","):
            if entry.strip():
                return entry.strip()
    return None


def host_name(host: str) -> str:
    """``Host`` header to host name: lower case, without the port (``[::1]:8000`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str | None, patterns: tuple[str, ...]) -> bool:
    """Whether ``host`` matches: ``*`` any host, ``.example.com`` the domain and its subdomains, else exactly."""
    if "*" in patterns:
        return True
    if not host:
        return False
    name = host_name(host)
    if not name or any(char in name for char in "/\\@ "):
        return False
    return any(
        name == pattern or (pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern)))
        for pattern in patterns
    )
