"""TLS verdicts per HTTPS host under named trust profiles (issue 7: "TLS trust").

Scrapy does not verify certificates, so each HTTPS host the site links to is judged here, once, with
Python's ssl module: first an unverified handshake records what the server presents (leaf validity
dates, names, how many certificates it sends), then one verifying handshake per trust profile:

- `public`: the public web PKI (certifi, Mozilla's root programme), what citizens' browsers trust;
- `system`: the operating system's store of the machine running the audit;
- `extra`: the user's extra CA bundle (`--ca-bundle`), e.g. the Taiwanese government root GRCA that
  many .gov.tw certificates chain to and that certifi lacks.

The verdict per host: `ok` is True when any profile trusts the certificate, False when none does
(the links check then reports `tls-error` with the reason), None when the host could not be reached
(the link result says why). `trusted_by` lists the profiles that accept it: a host trusted only by
`extra` or `system` is reported as `tls-untrusted-public` (a warning, not a broken link). `problems`
names what is wrong: expired, not-yet-valid, hostname-mismatch, incomplete-chain (the server sends its
own certificate without the intermediate that issued it), self-signed, untrusted-issuer.

Facts for the transport rules (issue 18, checks/transport.py): `chain` lists every certificate the
server presents (subject, issuer, notBefore, notAfter and, for certificates with the embedded SCT list
extension of RFC 6962, the SCT timestamps), `verified_chain` the path the first trusting profile built
up to its root (subjects and issuers). `legacy_tls` asks, in one extra handshake, whether a host still
accepts TLS 1.0 or 1.1; it is run for the audited hosts only (crawler/transport.py).
"""

from __future__ import annotations

import _ssl
import ipaddress
import socket
import ssl
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import certifi
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

MAX_CHAIN = 10
# RFC 6962 §3.3: the X.509v3 extension that embeds a certificate's signed certificate timestamps
SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2"
LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")
PROFILES = ("public", "system", "extra")
# OpenSSL X509_V_ERR_* codes (include/openssl/x509_vfy.h) mapped to our problem names.
_VERIFY_PROBLEMS = {9: "not-yet-valid", 10: "expired", 18: "self-signed", 19: "untrusted-issuer",
                    20: "untrusted-issuer", 21: "untrusted-issuer", 62: "hostname-mismatch",
                    64: "hostname-mismatch"}
_ISSUER_CODES = {18, 19, 20, 21}
_REASON_ZH = {"expired": "憑證已過期", "not-yet-valid": "憑證尚未生效", "hostname-mismatch": "憑證與主機名稱不符",
              "incomplete-chain": "憑證鏈不完整（伺服器未送出中繼憑證）", "self-signed": "自簽憑證",
              "untrusted-issuer": "簽發者不受信任"}


def trust_context(profile: str, extra_ca: str | None = None) -> ssl.SSLContext:
    """A verifying context for a named trust profile: public (certifi), system, or extra bundle."""
    if profile == "system":
        return ssl.create_default_context()
    if profile == "extra":
        if not extra_ca:
            raise ValueError("the extra trust profile needs a CA bundle file")
        return ssl.create_default_context(cafile=extra_ca)
    return ssl.create_default_context(cafile=certifi.where())


def host_key(host: str, port: int) -> str:
    return host if port == 443 else f"{host}:{port}"


def probe(host: str, port: int = 443, *, profile: str = "public", extra_ca: str | None = None,
          timeout: float = 10.0, connect_host: str | None = None) -> dict[str, Any]:
    """One verifying handshake under `profile`: {ok, reason, code, expires, profile}; never raises."""
    verdict: dict[str, Any] = {"ok": False, "reason": None, "code": None, "expires": None, "profile": profile}
    try:
        ctx = trust_context(profile, extra_ca)
        with socket.create_connection((connect_host or host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=host) as tls:
                cert = tls.getpeercert()
                verdict["verified_chain"] = chain_names(_chain(tls, "get_verified_chain"))
                expires = cert.get("notAfter") if cert else None
                if expires:
                    when = datetime.fromtimestamp(ssl.cert_time_to_seconds(expires), UTC)
                    verdict["expires"] = when.date().isoformat()
                verdict["ok"] = True
    except ssl.SSLCertVerificationError as exc:
        verdict["reason"] = exc.verify_message or str(exc)
        verdict["code"] = exc.verify_code
    except ssl.SSLError as exc:
        verdict["reason"] = f"TLS handshake failed: {exc.reason or exc}"
    except (OSError, ValueError) as exc:
        verdict["reason"] = None
        verdict["ok"] = None  # unreachable: not a TLS verdict; the link result says what happened
        verdict["error"] = str(exc)[:200]
    return verdict


def presented_certificates(host: str, port: int = 443, *, timeout: float = 10.0,
                           connect_host: str | None = None) -> dict[str, Any]:
    """What the server sends, without judging it: leaf dates and names, and the chain's length."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((connect_host or host, port), timeout=timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname=None if _is_ip(host) else host) as tls:
            leaf_der = tls.getpeercert(binary_form=True)
            chain = _unverified_chain(tls)
    info: dict[str, Any] = {"chain_sent": len(chain) if chain else (1 if leaf_der else 0)}
    if leaf_der:
        info.update(describe_certificate(leaf_der, host))
        info["chain"] = [chain_entry(der) for der in (chain or [leaf_der])[:MAX_CHAIN]]
    return info


def _unverified_chain(tls: ssl.SSLSocket) -> list[bytes]:
    """The certificates the peer sent (CPython ≥ 3.10 has this privately, public from 3.13)."""
    return _chain(tls, "get_unverified_chain")


def _chain(tls: ssl.SSLSocket, name: str) -> list[bytes]:
    """DER certificates of the peer's unverified (as sent) or verified (as built) chain."""
    getter = getattr(tls, name, None) or getattr(tls._sslobj, name, None)
    if getter is None:
        return []
    der = getattr(_ssl, "ENCODING_DER", 1)
    try:
        return [c.public_bytes(der) if hasattr(c, "public_bytes") else c for c in getter() or []]
    except (ssl.SSLError, ValueError, TypeError, AttributeError):
        return []


def describe_certificate(der: bytes, host: str) -> dict[str, Any]:
    """Leaf facts: subject, issuer, validity, SAN names, self-issued, and whether `host` matches."""
    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    ips: list[str] = []
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not names and not ips and cn:
        names = [str(cn[0]).lower()]  # legacy certificates without SAN: browsers reject these anyway
    not_after = cert.not_valid_after_utc
    not_before = cert.not_valid_before_utc
    return {
        "subject": cert.subject.rfc4514_string()[:300],
        "issuer": cert.issuer.rfc4514_string()[:300],
        "self_issued": cert.subject == cert.issuer,
        "not_before": not_before.date().isoformat(),
        "expires": not_after.date().isoformat(),
        "names": (names + ips)[:50],
        "hostname_match": hostname_matches(host, names, ips),
        "expired_at_probe": datetime.now(UTC) > not_after,
        "not_yet_valid_at_probe": datetime.now(UTC) < not_before,
    }


def chain_entry(der: bytes) -> dict[str, Any]:
    """One presented certificate as facts: names, validity (UTC, to the second), embedded SCT times."""
    cert = x509.load_der_x509_certificate(der)
    entry: dict[str, Any] = {
        "subject": cert.subject.rfc4514_string()[:300],
        "issuer": cert.issuer.rfc4514_string()[:300],
        "not_before": _utc(cert.not_valid_before_utc),
        "not_after": _utc(cert.not_valid_after_utc),
    }
    scts = embedded_scts(cert)
    if scts is not None:
        entry["scts"] = scts
    return entry


def embedded_scts(cert: Any) -> list[str] | None:
    """Sorted UTC timestamps of the embedded SCT list, None when the certificate has none (or it cannot
    be parsed: an unreadable list is no evidence of a date)."""
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(SCT_LIST_OID)).value
        stamps = [sct.timestamp for sct in ext]
    except (x509.ExtensionNotFound, ValueError, TypeError):
        return None
    return sorted(_utc(t if t.tzinfo else t.replace(tzinfo=UTC)) for t in stamps)[:20]


def chain_names(ders: list[bytes]) -> list[dict[str, str]]:
    """Subjects and issuers of a chain, leaf first (for the verified path up to the trust anchor)."""
    out = []
    for der in ders[:MAX_CHAIN]:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        out.append({"subject": cert.subject.rfc4514_string()[:300], "issuer": cert.issuer.rfc4514_string()[:300]})
    return out


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hostname_matches(host: str, names: list[str], ips: list[str]) -> bool:
    """RFC 6125 matching: exact names, one leftmost-label wildcard, IP addresses against IP SANs."""
    host = host.lower().rstrip(".")
    if _is_ip(host):
        want = ipaddress.ip_address(host.strip("[]"))
        return any(ipaddress.ip_address(ip) == want for ip in ips)
    for name in names:
        name = name.rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == name[2:]:
                return True
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def judge_host(host: str, port: int = 443, *, extra_ca: str | None = None, timeout: float = 10.0,
               connect_host: str | None = None) -> dict[str, Any]:
    """The full verdict for one host: what it presents and what every trust profile says of it."""
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    try:
        presented = presented_certificates(host, port, timeout=timeout, connect_host=connect_host)
    except ssl.SSLError as exc:
        return {"ok": False, "reason": f"TLS handshake failed: {exc.reason or exc}", "problems": ["handshake"],
                "profiles": {}, "trusted_by": [], "expires": None}
    except (OSError, ValueError) as exc:
        return {"ok": None, "reason": None, "error": str(exc)[:200], "profiles": {}, "trusted_by": [],
                "expires": None}
    names = ["public", "system"] + (["extra"] if extra_ca else [])
    profiles = {name: probe(host, port, profile=name, extra_ca=extra_ca, timeout=timeout,
                            connect_host=connect_host) for name in names}
    trusted_by = [name for name, v in profiles.items() if v["ok"] is True]
    problems: list[str] = []
    if presented.get("expired_at_probe"):
        problems.append("expired")
    if presented.get("not_yet_valid_at_probe"):
        problems.append("not-yet-valid")
    if presented.get("hostname_match") is False:
        problems.append("hostname-mismatch")
    codes = {v.get("code") for v in profiles.values() if v["ok"] is False}
    if presented.get("self_issued") and presented.get("chain_sent") == 1:
        if not trusted_by:
            problems.append("self-signed")
    elif presented.get("chain_sent") == 1 and codes & {20, 21}:
        # a CA-issued leaf sent alone while some store cannot find its issuer: the intermediate is
        # missing (browsers that have not cached it fail; SSL Labs calls this "chain incomplete")
        problems.append("incomplete-chain")
    # a profile that got past the issuer (it failed on dates or names, or passed) knows the issuer
    issuer_known = any(v["ok"] is True or (v["ok"] is False and v.get("code") is not None
                                                  and v["code"] not in _ISSUER_CODES)
                       for v in profiles.values())
    for code in sorted(c for c in codes if c is not None):
        problem = _VERIFY_PROBLEMS.get(code)
        if problem and problem not in problems and not (problem == "untrusted-issuer" and (
                "incomplete-chain" in problems or "self-signed" in problems or issuer_known)):
            problems.append(problem)
    verdict: dict[str, Any] = {
        "ok": bool(trusted_by) if any(v["ok"] is not None for v in profiles.values()) else None,
        "trusted_by": trusted_by,
        "trust": trusted_by[0] if trusted_by else None,
        "profiles": {name: {"ok": v["ok"], "reason": v["reason"]} for name, v in profiles.items()},
        "expires": presented.get("expires"),
        "not_before": presented.get("not_before"),
        "hostname_match": presented.get("hostname_match"),
        "chain_sent": presented.get("chain_sent"),
        "issuer": presented.get("issuer"),
        "problems": problems,
        "chain": presented.get("chain") or [],
        "verified_chain": next((v["verified_chain"] for v in profiles.values() if v.get("verified_chain")), []),
    }
    if trusted_by and ("expired" in problems or "hostname-mismatch" in problems):
        verdict["ok"] = False  # a store that accepts it anyway does not make an expired cert valid
    verdict["reason"] = None if verdict["ok"] else _reason(problems, profiles)
    if trusted_by and "public" not in trusted_by:
        verdict["trusted_only_by"] = trusted_by[0]  # kept from the first version of this module
    return verdict


def _reason(problems: list[str], profiles: dict[str, dict[str, Any]]) -> str | None:
    """The most useful one-line reason: named problems first (zh-TW + English), then OpenSSL's."""
    site_faults = [p for p in ("expired", "not-yet-valid", "hostname-mismatch", "incomplete-chain")
                   if p in problems]
    openssl = next((v["reason"] for v in profiles.values() if v.get("reason")), None)
    if site_faults:
        # only the site's own faults are named: the rubric treats an "issuer" reason as our trust
        # store's gap (indeterminate), which an expired or misnamed certificate is not
        return f"{'；'.join(_REASON_ZH[p] for p in site_faults)} / {', '.join(site_faults)}"
    trust = [p for p in ("self-signed", "untrusted-issuer") if p in problems]
    if not trust:
        return openssl
    return f"{'；'.join(_REASON_ZH[p] for p in trust)} / {', '.join(trust)}" + (f" ({openssl})" if openssl else "")


def probe_hosts(hosts: list[tuple[str, int]], *, extra_ca: str | None = None,
                timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """Judge each (host, port) under every profile; keys are `host` or `host:port` (port ≠ 443)."""

    def one(item: tuple[str, int]) -> tuple[str, dict[str, Any]]:
        host, port = item
        return host_key(host, port), judge_host(host, port, extra_ca=extra_ca, timeout=timeout)

    if not hosts:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        return dict(pool.map(one, hosts))


def legacy_tls(host: str, port: int = 443, *, timeout: float = 10.0,
               connect_host: str | None = None) -> dict[str, Any]:
    """Does the server still accept TLS 1.0 or 1.1? One handshake offering only those versions.

    {"accepted": "TLSv1.1" | "TLSv1" | None, "offered": [...], "local_support": bool, "error": ...}.
    OpenSSL 3 allows these versions only at security level 0, and some builds leave them out: then
    `local_support` is False and `accepted` None (no verdict, not a pass)."""
    out: dict[str, Any] = {"accepted": None, "offered": list(LEGACY_VERSIONS), "local_support": True, "error": None}
    try:
        ctx = _legacy_context()
    except (ValueError, ssl.SSLError, AttributeError) as exc:
        out.update(local_support=False, error=str(exc)[:200])
        return out
    try:
        with socket.create_connection((connect_host or host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=None if _is_ip(host) else host) as tls:
                out["accepted"] = tls.version()
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc)
        if "NO_PROTOCOLS_AVAILABLE" in reason or "NO_CIPHERS_AVAILABLE" in reason:
            out["local_support"] = False
        out["error"] = reason[:200]
    except (OSError, ValueError) as exc:
        out["error"] = str(exc)[:200]
    return out


def _legacy_context() -> ssl.SSLContext:
    if not (ssl.HAS_TLSv1 or ssl.HAS_TLSv1_1):
        raise ValueError("the local OpenSSL was built without TLS 1.0 and 1.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # the versions are deprecated: asking for them is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1 if ssl.HAS_TLSv1 else ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1 if ssl.HAS_TLSv1_1 else ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx
