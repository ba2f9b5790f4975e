"""Client addresses and venue networks, shared by the frontend and the tracker.

Both halves decide from a request's address whether a viewer sits in the
venue; this module is the one place that knows how to read the address
behind a proxy and how venue networks are written.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any


def in_networks(address: str, networks: Iterable[str]) -> bool:
    """Whether an IP address is in one of the networks (CIDRs or addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(meta: Mapping[str, Any], trusted_proxies: Iterable[str]) -> str:
    """The client's address: the connection's, or X-Forwarded-For's right-most
    address that is not a trusted proxy when the connection comes from one.

    The right-most untrusted entry is the one our own proxies added; anything
    to its left was written by the client and can't be believed.
    """
    trusted = list(trusted_proxies)
    address = meta.get("REMOTE_ADDR", "")
    if not in_networks(address, trusted):
        return address
    for hop in reversed([part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]):
        if not in_networks(hop, trusted):
            return hop
    return address


def is_venue(address: str, localips: Iterable[str]) -> bool:
    """Whether an address is in the venue: `localips` entries are CIDRs or regexes."""
    for entry in localips:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if re.match(entry, address):
                return True
            continue
        if in_networks(address, [str(network)]):
            return True
    return False


def scope_address(scope: Mapping[str, Any]) -> str:
    """A websocket's client address (an ASGI scope), believing TRUSTED_PROXIES only."""
    from django.conf import settings

    client = scope.get("client") or ("", 0)
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
    return client_address(
        {"REMOTE_ADDR": client[0], "HTTP_X_FORWARDED_FOR": ",".join(forwarded)}, settings.TRUSTED_PROXIES
    )


def request_address(request: Any) -> str:
    """A Django request's client address, believing TRUSTED_PROXIES only."""
    from django.conf import settings

    return client_address(request.META, settings.TRUSTED_PROXIES)


def client_key(address: str) -> str:
    """Who a budget counts: the address itself for IPv4, its /64 for IPv6.

    One IPv6 client usually holds a whole /64 (SLAAC, privacy addresses), so
    counting exact addresses would hand it 2^64 budgets.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def is_loopback(address: str) -> bool:
    """Whether an address is this machine's own (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
