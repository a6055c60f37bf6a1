"""The address policy (issue 7, safety): which hosts the crawler may contact.

A public site must not make the crawler probe the evaluator's intranet. A loopback, private, link-local
or reserved address is refused with `private-address` unless the audited site itself lives on that kind
of network (the demo on 127.0.0.1 may check 127.0.0.2) or everything is allowed. The spider asks the
policy before it schedules a request (IP literals) and builds it from the settings
ALLOW_PRIVATE_ADDRESSES and PRIVATE_ADDRESS_KINDS; crawler.downloadermiddlewares.private_address asks it
again for every host name once resolved.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable

ADDRESS_KINDS = ("loopback", "private", "link-local", "reserved")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)  # asked for every request's host; hosts repeat
def literal_ip(host: str | None) -> str | None:
    """The IP address a host name denotes by itself, or None for a name that needs DNS.

    Besides dotted quads and IPv6 literals, the resolver also accepts the old inet_aton forms
    (`0x7f.1`, `2130706433`, `012.0.0.1`): they are normalised here so none slips past the guard."""
    if not host:
        return None
    h = host.strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        pass
    if _NUMERIC_HOST.match(h):
        try:
            return socket.inet_ntoa(socket.inet_aton(h))
        except OSError:
            return None
    return None


def address_kind(ip: str) -> str:
    """public, loopback, private, link-local or reserved (unspecified, multicast, other non-global)."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"  # 169.254.169.254 is where cloud metadata services live
    if addr.is_unspecified or addr.is_multicast or addr.is_reserved:
        return "reserved"
    if addr.is_private or not addr.is_global:
        return "private"
    return "public"


class AddressPolicy:
    """Which non-public address kinds may be contacted: those the audited site lives on, or all.

    The site's own hosts (the crawl's scope) are always allowed: they are what the user asked for."""

    def __init__(self, allowed: Iterable[str] = (), allow_all: bool = False,
                 own_hosts: Iterable[str] = ()) -> None:
        self.allowed = set(allowed) - {"public"}
        self.allow_all = allow_all
        self.own_hosts = {h.lower().rstrip(".") for h in own_hosts if h}

    @classmethod
    def for_site(cls, hosts: Iterable[str], allow_all: bool = False,
                 kinds: Iterable[str] | None = None) -> AddressPolicy:
        """Allow the kinds of address the site's own hosts resolve to (blocking lookup, once), or
        exactly `kinds` when given (setting PRIVATE_ADDRESS_KINDS)."""
        hosts = [h for h in hosts if h]
        if kinds is None:
            kinds = {address_kind(ip) for host in hosts for ip in resolve_all(host)}
        return cls(kinds, allow_all, hosts)

    def refusal(self, host: str, ip: str) -> str | None:
        """A one-line reason when `host` (at `ip`) must not be contacted, else None."""
        if self.allow_all or host.lower().rstrip(".") in self.own_hosts:
            return None
        kind = address_kind(ip)
        if kind == "public" or kind in self.allowed:
            return None
        shown = host if host == ip else f"{host} → {ip}"
        return (f"private-address: {shown} is a {kind} address; not requested because the audited site "
                f"does not live on such a network (ALLOW_PRIVATE_ADDRESSES / --allow-private to permit)")

    def literal_refusal(self, host: str | None) -> str | None:
        ip = literal_ip(host)
        return self.refusal(host or "", ip) if ip else None


def resolve_all(host: str) -> list[str]:
    """Every address `host` resolves to (literal or DNS); [] when it does not resolve."""
    ip = literal_ip(host)
    if ip:
        return [ip]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})
