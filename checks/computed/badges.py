"""The accessibility badge (無障礙標章) as a site shows it: badge images, links to the certificate hosts,
the `Accessible_website` meta and the level they claim (身心障礙者權益保障法 §52-2; 各級機關機構學校網站無障礙檢測及
認證標章核發辦法). Shared by the Taiwan accessibility conventions (checks/taiwan_a11y.py) and the badge's §6 rules
(checks/freego.py), so neither imports the other for it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from checks.facts import PageFacts, SiteFacts, url_hostname
from checks.textnorm import link_index

BADGE_HOSTS = ("accessibility.moda.gov.tw", "www.handicap-free.nat.gov.tw", "handicap-free.nat.gov.tw")
_BADGE_ALT = re.compile(r"無障礙.*(檢測|標章|等級)|(檢測|等級).*無障礙|accessib", re.IGNORECASE)
_BADGE_SRC = re.compile(r"accessib|handicap|freego|無障礙|(^|/)(a|aa|aaa|a\+|aplus)\.(jpe?g|png|gif|svg)$",
                        re.IGNORECASE)
_LEVEL = re.compile(r"(AAA|AA|A\+|A)\s*(?:級|檢測|優先|等級|無障礙)", re.IGNORECASE)
_CERT_ID = re.compile(r"^\d{14}$")
_LEVEL_EQUIV = {"A": "A", "A+": "AA", "AA": "AA", "AAA": "AAA"}


def html_pages(facts: SiteFacts) -> list[PageFacts]:
    """In-scope HTML pages that answered, home page first (so shared problems land on the home page),
    then by click depth and URL: the page a grouped finding names never depends on crawl order."""
    pages = sorted((p for p in facts.pages
                    if (p.status is None or 200 <= p.status < 300) and "html" in (p.content_type or "text/html").lower()),
                   key=lambda p: (p.depth, p.url))
    home = facts.page(facts.agency.url) if facts.agency.url else None
    if home is not None and home in pages:
        pages.remove(home)
        pages.insert(0, home)
    return pages


def _hostname(url: str) -> str | None:
    """`urlsplit(url).hostname`, None for an address that cannot be parsed (never a badge)."""
    try:
        return url_hostname(url)
    except ValueError:
        return None


def _may_name_host(url: str, hosts: tuple[str, ...]) -> bool:
    """False when `urlsplit(url).hostname` cannot be any of `hosts`: the host name is a lower-cased
    piece of the address once tabs and line breaks are dropped (as urlsplit drops them); a cheap
    test that spares parsing tens of thousands of addresses."""
    lowered = url.lower()
    if "\t" in lowered or "\r" in lowered or "\n" in lowered:
        lowered = lowered.replace("\t", "").replace("\r", "").replace("\n", "")
    return any(host.lower() in lowered for host in hosts)


def badge_image(img: dict[str, Any]) -> bool:
    """Whether an image looks like the accessibility badge (its alt text or its file name)."""
    alt, src = (img.get("alt") or "").strip(), (img.get("src") or "").strip()
    return bool((alt and _BADGE_ALT.search(alt)) or _BADGE_SRC.search(src.split("?")[0]))


def find_badges(facts: SiteFacts, extra_hosts: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the site shows of its accessibility badge: images, certificate links, meta, claimed level."""
    images: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    metas: list[str] = []
    pages = html_pages(facts)
    page_urls = {p.url for p in pages}
    for page in pages:
        for img in page.images:
            if badge_image(img):
                alt, src = (img.get("alt") or "").strip(), (img.get("src") or "").strip()
                images.append({"page": page.url, "src": src[:300], "alt": alt[:200]})
        metas.extend(v[:300] for v in page.meta.get("accessible_website", []) if v)
    badge_hosts = (*BADGE_HOSTS, *extra_hosts)
    index = link_index(facts)  # each distinct target is looked at once (issue 6)
    for link in index.with_targets(t for t in index.by_target if _may_name_host(t, badge_hosts)
                                   and _hostname(t) in badge_hosts):
        if link.source in page_urls:
            links.append({"page": link.source, "href": link.target[:300], "text": link.text[:200]})
    claims = [c for c in ([i["alt"] for i in images] + [lk["text"] for lk in links] + metas) if c]
    level = None
    for text in claims:
        m = _LEVEL.search(text.replace("＋", "+"))
        if m:
            level = m.group(1).upper()
            break
    cert_ids = []
    for lk in links:
        category = parse_qs(urlsplit(lk["href"]).query).get("category", [""])[0].strip()
        if _CERT_ID.match(category) and category not in cert_ids:
            cert_ids.append(category)
    return {
        "present": bool(images or links or metas),
        "claimed_level": level,
        "level_equivalent": _LEVEL_EQUIV.get(level) if level else None,
        "certificate_ids": cert_ids,
        "images": images[:5], "links": links[:5], "meta": metas[:2],
    }
