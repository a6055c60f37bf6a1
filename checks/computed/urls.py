"""The identity of a link target (fragment dropped, session ids stripped, query parameters sorted) and the
recorded result a target is found under; the transport errors that mean a target is dead (BROKEN_ERRORS),
shared by the link check (checks/links.py) and link liveness (checks/textnorm.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from checks.facts import LinkResult, SiteFacts, defrag

# Query parameters that only carry a session: stripped when deciding whether two URLs are the same
# target, so a site that puts a fresh session id into every link cannot make the crawl endless.
SESSION_PARAMS = {"jsessionid", "phpsessid", "aspsessionid", "sessionid", "session_id", "sessid", "cfid",
                  "cftoken", "sid", "s_id", "zenid", "oscsid", "wt.sessionid"}
# Names that are session ids only when the value looks like a token (long, letters and digits mixed):
# `sid=3` is a section id on some sites, `sid=9f8e…` is a session.
_AMBIGUOUS_PARAMS = {"sid", "s_id"}
_TOKEN = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-.]{16,}$")
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/?#]*", re.IGNORECASE)
_ASPNET_COOKIELESS = re.compile(r"/\((?:[A-Z]\([A-Za-z0-9_\-]*\))+\)(?=/)")


def _is_session_param(name: str, value: str) -> bool:
    low = name.lower()
    if low.startswith("aspsessionid"):
        return True
    if low in _AMBIGUOUS_PARAMS:
        return bool(_TOKEN.match(value))
    return low in SESSION_PARAMS


def url_key(url: str) -> str:
    """The identity of a target: fragment dropped, session ids stripped, query parameters sorted.

    Shared with the spider, which de-duplicates on it (issue 7: session ids in URLs, query
    permutations), so that the result of `/a?x=1&sid=…` also answers for `/a?sid=…&x=1`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = _ASPNET_COOKIELESS.sub("", _PATH_SESSION.sub("", parts.path))
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = sorted((k, v) for k, v in pairs if not _is_session_param(k, v))
        query = urlencode(kept)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


BROKEN_ERRORS = {"dns": "dns", "refused": "refused", "timeout": "timeout", "redirect-loop": "redirect-loop",
                 "too-many-redirects": "redirect-loop", "malformed": "malformed", "reset": "reset"}


def results_by_key(facts: SiteFacts) -> dict[str, LinkResult]:
    """facts.link_results keyed by `url_key` (built once, only when a target is not found as it is)."""
    index = facts.__dict__.get("_results_by_key")
    if index is None:
        index = {url_key(url): result for url, result in facts.link_results.items()}
        facts.__dict__["_results_by_key"] = index
    return index


def result_of(facts: SiteFacts, target: str) -> LinkResult | None:
    """The recorded result of `target`, else the result of the same target up to session ids and
    parameter order (the spider de-duplicates on `url_key`)."""
    # facts.result_for(target) is keyed without the fragment: look it up from the memoised split
    return facts.result_for(defrag(target)[0]) or results_by_key(facts).get(url_key(target))
