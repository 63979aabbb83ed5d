"""Which webhook URLs we may call: https (or http when allowed), never private networks (SSRF)."""
from __future__ import annotations

import ipaddress
import socket
from typing import Callable, Iterable
from urllib.parse import urlsplit

from postal_svc.errors import RuleViolation

Resolver = Callable[[str, int], Iterable[str]]


class UnsafeWebhookTarget(RuleViolation):
    code = "unsafe_webhook_url"


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address inside are judged by that address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    # `not is_global` also refuses the shared space 100.64.0.0/10, which is_private misses
    # (a cloud metadata service answers at 100.100.100.200).
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local
            or ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def check_target(url: str, *, allow_private: bool, allow_http: bool,
                 resolve: Resolver = system_resolver) -> None:
    """Raise UnsafeWebhookTarget unless `url` is one we may POST to.

    Every address the host resolves to must be public, unless `allow_private` (tests and
    the demo deliver to 127.0.0.1). Checked at registration and again before each delivery,
    since DNS may change in between.
    """
    parts = urlsplit(url)
    if parts.scheme not in ({"https", "http"} if allow_http else {"https"}):
        raise UnsafeWebhookTarget("Webhook URLs must use https.", errors={"url": ["Use https."]})
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeWebhookTarget("The webhook URL needs a host and no credentials.",
                                  errors={"url": ["Invalid host."]})
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookTarget("The webhook URL has an invalid port.",
                                  errors={"url": ["Invalid port."]}) from None
    try:
        addresses = list(resolve(parts.hostname, port))
    except (OSError, UnicodeError):
        raise UnsafeWebhookTarget("The webhook host does not resolve.",
                                  errors={"url": ["Host not found."]}) from None
    if not addresses or any(_is_private(a) for a in addresses):
        raise UnsafeWebhookTarget(
            "The webhook host resolves to a private, loopback or link-local address.",
            errors={"url": ["Private, loopback and link-local addresses are refused."]})
