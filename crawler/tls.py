"""TLS verdicts per HTTPS host: does the certificate verify, when does it expire, for which host.

Scrapy does not verify certificates, so each HTTPS host the site links to is judged once here with
Python's ssl module against a trust store (certifi's public web PKI by default; the operating system
store or an extra CA bundle as further profiles). The links check turns a failed verdict into
`tls-error` with the reason, never into a broken link.
"""

from __future__ import annotations

import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import certifi


def trust_context(profile: str, extra_ca: str | None = None) -> ssl.SSLContext:
    """A verifying context for a named trust profile: public (certifi), system, or extra bundle."""
    if profile == "system":
        ctx = ssl.create_default_context()
    else:
        ctx = ssl.create_default_context(cafile=certifi.where())
    if extra_ca and profile == "extra":
        ctx.load_verify_locations(cafile=extra_ca)
    return ctx


def probe(host: str, port: int = 443, *, profile: str = "public", extra_ca: str | None = None,
          timeout: float = 10.0, connect_host: str | None = None) -> dict[str, Any]:
    """Handshake with `host` and report {ok, reason, expires, profile}; never raises."""
    verdict: dict[str, Any] = {"ok": False, "reason": None, "expires": None, "profile": profile}
    try:
        ctx = trust_context(profile, extra_ca)
        with socket.create_connection((connect_host or host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=host) as tls:
                cert = tls.getpeercert()
                expires = cert.get("notAfter") if cert else None
                if expires:
                    when = datetime.fromtimestamp(ssl.cert_time_to_seconds(expires), UTC)
                    verdict["expires"] = when.date().isoformat()
                verdict["ok"] = True
    except ssl.SSLCertVerificationError as exc:
        verdict["reason"] = exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        verdict["reason"] = f"TLS handshake failed: {exc.reason or exc}"
    except OSError as exc:
        verdict["reason"] = None
        verdict["ok"] = None  # unreachable: not a TLS verdict; the link result says what happened
        verdict["error"] = str(exc)[:200]
    return verdict


def probe_hosts(hosts: list[tuple[str, int]], *, extra_ca: str | None = None,
                timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """Judge each host under the public profile (and the extra bundle when one is given)."""

    def one(item: tuple[str, int]) -> tuple[str, dict[str, Any]]:
        host, port = item
        verdict = probe(host, port, timeout=timeout)
        if extra_ca and verdict["ok"] is False:
            extra = probe(host, port, profile="extra", extra_ca=extra_ca, timeout=timeout)
            verdict["profiles"] = {"public": verdict["reason"], "extra": extra["ok"]}
            if extra["ok"]:
                verdict.update(ok=True, reason=None, trusted_only_by="extra")
        return (f"{host}" if port == 443 else f"{host}:{port}"), verdict

    if not hosts:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        return dict(pool.map(one, hosts))
