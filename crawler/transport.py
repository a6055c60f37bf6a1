"""How each audited HTTPS host is served (issue 18, "Transport security"): a gatherer, facts only.

For every in-scope host the crawl reached over https (at most MAX_HOSTS, the start host first), three
bounded probes with the crawl's User-Agent, no body read:

- `http`: one GET of the host's `http://` form (port 80 for https on 443; other ports only when the
  caller maps them, as tests do), redirects followed by hand on the same host until the chain reaches
  an https URL (not requested) or MAX_REDIRECTS: {url, status, redirects, final_url, error};
- `headers`: one GET of the host's shallowest crawled page over https, the security headers of the
  answer kept as they are (Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options,
  Content-Security-Policy): {url, status, headers, error};
- `legacy_tls`: one handshake offering only TLS 1.0/1.1 (crawler.tls.legacy_tls).

Certificates are not verified here: crawler.tls judges trust, these probes only read what is served.
Pipeline wiring (disclosure_audit/gatherers.py, after tls): facts.artifacts.transport = probe_transport(...).
"""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning

from checks.computed.hosts import https_hosts
from checks.facts import SiteFacts
from crawler.tls import host_key, legacy_tls

MAX_HOSTS = 5
MAX_REDIRECTS = 5
SECURITY_HEADERS = ("strict-transport-security", "x-content-type-options", "x-frame-options",
                    "content-security-policy")


def audited_https_hosts(facts: SiteFacts) -> list[tuple[str, int, str]]:
    """(host, port, shallowest page URL) of the in-scope hosts crawled over https, the start host first
    (the same hosts checks/transport.py judges), at most MAX_HOSTS."""
    return [(host, port, page) for _key, host, port, page in https_hosts(facts)[:MAX_HOSTS]]


def http_form(host: str, port: int, http_ports: dict[str, int]) -> str | None:
    """The plain-http URL of an https host: port 80 for 443, a mapped port otherwise, else none."""
    mapped = http_ports.get(host_key(host, port))
    if mapped is None and port != 443:
        return None
    http_port = mapped or 80
    netloc = f"[{host}]" if ":" in host else host
    return f"http://{netloc}/" if http_port == 80 else f"http://{netloc}:{http_port}/"


def follow_http(url: str, *, timeout: float, user_agent: str, session: requests.Session) -> dict[str, Any]:
    """GET the http form, following same-host redirects until an https URL appears (never fetched)."""
    out: dict[str, Any] = {"url": url, "status": None, "redirects": [], "final_url": url, "error": None}
    current = url
    host = urlsplit(url).hostname
    try:
        for _ in range(MAX_REDIRECTS + 1):
            resp = _get(session, current, timeout, user_agent)
            location = resp.headers.get("Location")
            out.update(status=resp.status_code, final_url=current)
            if not (300 <= resp.status_code < 400 and location):
                return out
            nxt = urljoin(current, location.strip())[:500]
            out["redirects"].append(nxt)
            out["final_url"] = nxt
            parts = urlsplit(nxt)
            if parts.scheme != "http" or parts.hostname != host:
                return out  # reached https (or left the host): where it points is the fact
            current = nxt
        out["error"] = "too-many-redirects"
    except requests.exceptions.Timeout:
        out["error"] = "timeout"
    except (requests.exceptions.RequestException, OSError) as exc:
        out["error"] = type(exc).__name__[:100]
    return out


def security_headers(url: str, *, timeout: float, user_agent: str, session: requests.Session) -> dict[str, Any]:
    """The security headers of one https answer (no redirect followed: the page itself was crawled)."""
    out: dict[str, Any] = {"url": url, "status": None, "headers": {}, "error": None}
    try:
        resp = _get(session, url, timeout, user_agent)
        out["status"] = resp.status_code
        out["headers"] = {name: resp.headers[name][:300] for name in SECURITY_HEADERS if name in resp.headers}
    except requests.exceptions.Timeout:
        out["error"] = "timeout"
    except (requests.exceptions.RequestException, OSError) as exc:
        out["error"] = type(exc).__name__[:100]
    return out


def _get(session: requests.Session, url: str, timeout: float, user_agent: str) -> requests.Response:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        resp = session.get(url, headers={"User-Agent": user_agent}, timeout=timeout, allow_redirects=False,
                           stream=True, verify=False)
    resp.close()  # headers are all we read: the body is never downloaded
    return resp


def probe_transport(facts: SiteFacts, timeout: float = 10.0, user_agent: str = "disclosure-audit",
                    http_ports: dict[str, int] | None = None,
                    session: requests.Session | None = None) -> dict[str, Any]:
    """{host key: {"http", "headers", "legacy_tls"}} for each audited https host (see the docstring)."""
    http = session or requests.Session()
    out: dict[str, Any] = {}
    for host, port, page_url in audited_https_hosts(facts):
        entry: dict[str, Any] = {"page": page_url}
        plain = http_form(host, port, http_ports or {})
        entry["http"] = (follow_http(plain, timeout=timeout, user_agent=user_agent, session=http) if plain
                         else {"url": None, "error": "no-http-port"})
        entry["headers"] = security_headers(page_url, timeout=timeout, user_agent=user_agent, session=http)
        entry["legacy_tls"] = legacy_tls(host, port, timeout=timeout)
        out[host_key(host, port)] = entry
    return out
