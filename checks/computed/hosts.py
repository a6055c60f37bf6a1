"""The audited https hosts of a site: asked by the transport probe (crawler/transport.py), judged by
checks/transport.py."""

from __future__ import annotations

from urllib.parse import urlsplit

from checks.facts import SiteFacts


def https_hosts(facts: SiteFacts) -> list[tuple[str, str, int, str]]:
    """(host key, host, port, shallowest page URL) of the in-scope hosts crawled over https, the start
    host first, then by depth and name (deterministic whatever the crawl order)."""
    scope = {h.lower() for h in facts.hosts if h}
    best: dict[tuple[str, int], tuple[int, str]] = {}
    for page in facts.pages:
        url = page.final_url or page.url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not host or (scope and host not in scope):
            continue
        key = (host, parts.port or 443)
        if key not in best or (page.depth, url) < best[key]:
            best[key] = (page.depth, url)
    start = urlsplit(facts.agency.url)
    first = ((start.hostname or "").lower(), start.port or 443)
    order = sorted(best, key=lambda k: (k != first, best[k][0], k))
    return [(h if p == 443 else f"{h}:{p}", h, p, best[(h, p)][1]) for h, p in order]
