"""Reuse the previous audit's findings when nothing the checks judge has changed (issue 6, recrawl).

Checks are pure functions of the stored facts, the gatherers' results, the judging date, the options
and the check code (ARCHITECTURE.md: "a check never touches the network, a browser or the clock").
So when a digest of all of these equals the one recorded for the previous audit of the same start
URL, running every check again can only give the same findings and scores: they are copied instead
(`Store.copy_findings`), and the site entry is the previous one with this run's duration, footprint
and trend. Every link was still verified by this run's crawl: a link that broke since changes the
digest, and the checks run in full.

What the digest leaves out, and why it may: how long a request took (`elapsed_s`), the depth a page
was first reached at (fetched concurrently, a page of an unchanged site is sometimes first reached
one click later than last time: the previous value is as true as this one), the byte count and
headers of a 304 answer other than Retry-After (no check reads them), the crawl footprint (it is
reported as measured, not judged), and the random path of the not-found probe (crawler/soft404.py
asks for a fresh one each time; its answer is what is judged). A page answered 304 counts as the 200
it revalidated: no check tells the two apart (both are "< 400").
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler import __version__
from crawler.store import SiteRow, Store, previous_site_id

_ELAPSED_KEY = '"elapsed_s": '  # JSON quotes inside a string are escaped: this is only ever a key
PROBE_PLACEHOLDER = "da-PROBE"  # what the not-found probe's random token reads as in the digest
_EXTRA_NOT_JUDGED = ("footprint", "audit_digest", "facts_digest", "a11y_reused")


def _text(value: Any) -> str:
    """A stored JSON value as canonical text, whether the driver returned text or decoded it."""
    if value is None:
        return ""
    if isinstance(value, str | bytes):
        return value.decode() if isinstance(value, bytes) else value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _judged_page_facts(value: Any) -> str:
    """A page's stored facts as canonical text without `"elapsed_s": <seconds>, ` (how long its request
    took: not judged). The store writes facts as `json.dumps` does (`"key": value` members joined by
    ", "), and a number holds no ", ": the member ends at the first one after its key. Cut as text, not
    decoded and encoded again: a tenth of the time on a recrawl of thousands of pages."""
    text = _text(value)
    start = text.find(_ELAPSED_KEY)
    end = text.find(", ", start) if start >= 0 else -1
    return text[:start] + text[end + 2:] if end >= 0 else text


def _probe_tokens(extra: dict[str, Any]) -> list[str]:
    """The random tokens this run's not-found probe asked for (crawler.soft404: `/da-<token>[-x.ext]`)."""
    tokens = set()
    for learned in (extra.get("not_found") or {}).values():
        for probe in (learned.get("probes") or []) if isinstance(learned, dict) else []:
            first = urlsplit(str(probe.get("url") or "")).path.lstrip("/").split("-x", 1)[0]
            if first.startswith("da-"):
                tokens.add(first)
    return sorted(tokens)


def _judged_extra(extra: dict[str, Any]) -> str:
    """The gatherers' results as canonical text, each probe token read as one placeholder (it is random)."""
    text = _text({k: v for k, v in extra.items() if k not in _EXTRA_NOT_JUDGED})
    for token in _probe_tokens(extra):
        text = text.replace(token, PROBE_PLACEHOLDER)
    return text


def _link_result(data: Any) -> str:
    """A stored link result as the checks see it: a 304 is the 200 it revalidated, headers only Retry-After."""
    result = json.loads(data) if isinstance(data, str | bytes) else dict(data)
    if result.get("status") == 304:
        result["status"] = 200
    headers = result.get("headers") or {}
    result["headers"] = {k: v for k, v in headers.items() if k.lower() == "retry-after"}
    return json.dumps(result, ensure_ascii=False, sort_keys=True, default=str)


def facts_digest(store: Store, site_id: int) -> str:
    """Digest of a site's stored facts (pages, link results, skips) in a canonical order.

    The crawl order differs between runs (concurrency), so rows are read sorted: equal facts give
    equal digests whatever order they were fetched in. A page's links are not read: they are what
    `crawler.extract` finds in its body (whose SHA-1 is in the page's facts) at its final URL, so equal
    pages and equal extractor code (in `code_digest`) mean equal links — half a million rows not hashed."""
    digest = hashlib.blake2b(digest_size=20)

    def feed(*parts: Any) -> None:
        digest.update("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")

    site = store.site(site_id)
    feed("site", site.url, site.name, site.code, site.group, _text(sorted(site.hosts or [])))
    for url, final_url, status, ctype, last_modified, etag, facts in store.raw_rows(
            "SELECT url, final_url, status, content_type, last_modified, etag, facts FROM pages "
            "WHERE site_id = ? ORDER BY url_hash", (site_id,)):
        feed("page", url, final_url, status, ctype, last_modified, etag, _judged_page_facts(facts))
    for url, data in store.raw_rows(
            "SELECT url, data FROM link_results WHERE site_id = ? ORDER BY url_hash", (site_id,)):
        feed("result", url, _link_result(data))
    for url, reason in store.raw_rows(
            "SELECT DISTINCT url, reason FROM skipped WHERE site_id = ? ORDER BY url, reason", (site_id,)):
        feed("skipped", url, reason)
    return digest.hexdigest()


# what turns a page into facts and facts into findings: changed code judges anew
_CODE = ("checks", "crawler/extract.py", "crawler/encoding.py", "crawler/static_a11y.py")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Digest of the tool version, the page extractor and every check module and data file."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=20)
    root = Path(__file__).resolve().parents[1]
    files: list[Path] = []
    for name in _CODE:
        path = root / name
        files += sorted(p for p in path.rglob("*") if p.suffix in (".py", ".yaml", ".csv", ".json")) \
            if path.is_dir() else [path]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _file_digest(path: str | None) -> str:
    if not path:
        return ""
    try:
        return hashlib.blake2b(Path(path).read_bytes(), digest_size=20).hexdigest()
    except OSError:
        return "unreadable"


def audit_digest(facts_digest_value: str, store: Store, site_id: int, extra: dict[str, Any], *,
                 today: str, lang: str, check_options: dict[str, Any], rubric: str | None,
                 manual: str | None) -> str:
    """Digest of everything the checks and the scoring read: facts, gatherers, accessibility, options."""
    digest = hashlib.blake2b(digest_size=20)
    site = store.site(site_id)
    parts = [facts_digest_value, code_digest(), today, lang, _text(check_options), _file_digest(rubric),
             _file_digest(manual), site.a11y_status, site.a11y_detail or "",
             _judged_extra(extra)]
    for url, status, data in store.raw_rows(
            "SELECT url, status, data FROM a11y_results WHERE site_id = ? ORDER BY url, id", (site_id,)):
        parts.append(f"{url}\x1f{status}\x1f{_text(data)}")
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def previous_audit(store: Store, site_id: int) -> SiteRow | None:
    """The latest earlier audit of the same start URL that finished (ok/partial) with its entry stored."""
    site = store.site(site_id)
    previous = previous_site_id(store, site.url, site_id)
    row = store.site(previous) if previous is not None else None
    return row if row is not None and row.entry else None


def reusable_entry(previous: SiteRow | None, digest: str) -> dict[str, Any] | None:
    """The previous site entry (its findings are rows to copy) when its audit digest equals `digest`."""
    if previous is None or (previous.extra or {}).get("audit_digest") != digest:
        return None
    return {key: value for key, value in previous.entry.items() if key not in ("history", "changes")}
