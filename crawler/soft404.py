"""Learn each in-scope host's own "not found" answer, so that soft 404s can be told apart (issue 7).

A gatherer (network allowed, in scope only): many government sites answer a missing page with 200 and
a 查無資料 / 找不到網頁 page, or redirect every unknown path to the home page. Before the `soft-404`
check judges a link, this module asks each in-scope origin (scheme + host + port of the crawled
pages) for one or two paths that cannot exist (random tokens: one bare, one with the extension most
of the site's pages use, e.g. `.aspx`) and records what came back, without judging it:

    {"http://host:port": {"probes": [{"url", "status", "final_url", "redirects", "title",
                                      "content_type", "lines", "error"}],
                          "home_lines": [...]}}

`lines` are the page's visible text lines (bounded), compared by checks/soft404.py with the target's
text; `home_lines` are those of the site's home page (from the crawl), so that template lines can be
told from the not-found message. Pipeline wiring (disclosure_audit/gatherers.py, after tls):

    facts.artifacts.not_found = probe_not_found(facts, timeout=min(opts.download_timeout, 15.0),
                                               user_agent=_user_agent())
"""

from __future__ import annotations

import posixpath
import secrets
from collections import Counter
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from checks.facts import SiteFacts
from crawler.encoding import decode_html
from crawler.extract import extract_page

MAX_BODY_BYTES = 512 * 1024
MAX_LINES = 400
MAX_LINE_CHARS = 200
MAX_REDIRECTS = 5
MAX_ORIGINS = 5


def page_lines(text: str) -> list[str]:
    """Visible text as distinct, non-empty, bounded lines (order kept): the page's fingerprint."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        line = " ".join(line.split())[:MAX_LINE_CHARS]
        if line and line not in seen:
            seen[line] = None
            if len(seen) >= MAX_LINES:
                break
    return list(seen)


def _origins(facts: SiteFacts) -> list[str]:
    """scheme://host:port of the crawled in-scope pages, the start URL's first."""
    hosts = {h.lower() for h in facts.hosts if h}
    found: Counter[str] = Counter()
    start = urlsplit(facts.agency.url)
    first = f"{start.scheme}://{start.netloc}".lower()
    for page in facts.pages:
        parts = urlsplit(page.final_url or page.url)
        if (parts.hostname or "").lower() in hosts or not hosts:
            found[f"{parts.scheme}://{parts.netloc}".lower()] += 1
    ordered = [first] + [o for o, _ in found.most_common() if o != first]
    return ordered[:MAX_ORIGINS]


def _common_extension(facts: SiteFacts, origin: str) -> str:
    exts: Counter[str] = Counter()
    for page in facts.pages:
        if page.url.lower().startswith(origin):
            ext = posixpath.splitext(urlsplit(page.url).path)[1].lower()
            if ext and len(ext) <= 6:
                exts[ext] += 1
    return exts.most_common(1)[0][0] if exts else ".html"


def fetch(url: str, *, timeout: float, user_agent: str, session: requests.Session) -> dict[str, Any]:
    """GET `url`, following up to 5 redirects by hand (each hop recorded), body bounded."""
    out: dict[str, Any] = {"url": url, "status": None, "final_url": url, "redirects": [], "title": None,
                           "content_type": None, "lines": [], "error": None}
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            resp = session.get(current, headers={"User-Agent": user_agent}, timeout=timeout,
                               allow_redirects=False, stream=True)
            try:
                location = resp.headers.get("Location")
                if 300 <= resp.status_code < 400 and location:
                    nxt = urljoin(current, location.strip())
                    if urlsplit(nxt).scheme not in ("http", "https") or urlsplit(nxt).netloc != urlsplit(url).netloc:
                        out.update(status=resp.status_code, final_url=nxt)
                        out["redirects"].append(nxt)
                        return out  # leaves the host: what matters is that it redirected
                    out["redirects"].append(nxt)
                    current = nxt
                    continue
                body = resp.raw.read(MAX_BODY_BYTES, decode_content=True) if resp.raw else b""
            finally:
                resp.close()
            ctype = resp.headers.get("Content-Type")
            out.update(status=resp.status_code, final_url=current, content_type=ctype)
            if body and (not ctype or "html" in ctype.lower()):
                text, _enc, _src = decode_html(body, ctype)
                parsed = extract_page(text, current)
                out["title"] = parsed.facts.title[:300]
                out["lines"] = page_lines(parsed.facts.text)
            return out
        out["error"] = "too-many-redirects"
    except requests.exceptions.Timeout:
        out["error"] = "timeout"
    except (requests.exceptions.RequestException, OSError) as exc:
        out["error"] = f"{type(exc).__name__}"[:100]
    return out


def probe_not_found(facts: SiteFacts, timeout: float = 15.0, user_agent: str = "disclosure-audit",
                    session: requests.Session | None = None) -> dict[str, Any]:
    """Ask each in-scope origin for two random paths; record its not-found answers and home lines."""
    http = session or requests.Session()
    http.trust_env = False  # never send the probe through a proxy picked up from the environment
    out: dict[str, Any] = {}
    try:
        for origin in _origins(facts):
            token = "da-" + secrets.token_hex(8)
            paths = [f"/{token}", f"/{token}-x{_common_extension(facts, origin)}"]
            probes = [fetch(origin + path, timeout=timeout, user_agent=user_agent, session=http)
                      for path in paths]
            home = facts.page(origin + "/") or (facts.page(facts.agency.url)
                                                if facts.agency.url.lower().startswith(origin) else None)
            out[origin] = {"probes": probes, "home_lines": page_lines(home.text) if home else []}
    finally:
        if session is None:
            http.close()
    return out
