"""The site search forms among the crawled pages: which form searches the site, and its query field.

Read by the retrieval check (checks/retrieval.py), submitted by the search probe
(crawler/search_probe.py) and sampled by the accessibility pass (crawler/a11y.py: the results page
of a search): one detection and one way of filling the form in for all three."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from checks.facts import SiteFacts

_SEARCH_NAME = re.compile(
    r"^(q|qs|query|keyword|keywords|kw|key|keys|search|searchword|searchtext|search_text|searchkey|"
    r"txtkeyword|txtsearch|txtquery|s|term|terms|text|word|words|querystring|sw|k|wd|fulltext)$",
    re.IGNORECASE,
)
_SEARCH_HINT = re.compile(r"search|query|sch|srch|keyword|搜尋|查詢|檢索", re.IGNORECASE)
_TEXT_TYPES = ("", "text", "search")


def search_field(form: dict[str, Any]) -> str | None:
    """The name of the query field when `form` is a site search form, else None.

    A search form has no password field and either an input of type search, a text input named
    like a query (q, keyword, kw, search…), or role=search / a search-like id, action or text
    together with exactly one named text input.
    """
    inputs = form.get("inputs") or []
    if any(i.get("type") == "password" for i in inputs):
        return None
    text_inputs = [i for i in inputs if i.get("tag") == "input" and i.get("type") in _TEXT_TYPES and i.get("name")]
    for field in text_inputs:
        if field.get("type") == "search" or _SEARCH_NAME.match(field["name"]):
            return field["name"]
    hinted = form.get("role") == "search" or any(
        _SEARCH_HINT.search(str(form.get(key) or "")) for key in ("id", "action", "text")
    ) or any(_SEARCH_HINT.search(f.get("title") or "") or _SEARCH_HINT.search(f.get("id") or "") for f in text_inputs)
    if hinted and len(text_inputs) == 1:
        return text_inputs[0]["name"]
    return None


def find_search_forms(facts: SiteFacts) -> list[tuple[str, dict[str, Any], str]]:
    """(page URL, form, query field name) for every site search form, home page first."""
    out = []
    pages = sorted(facts.pages, key=lambda p: (p.url != facts.agency.url, p.depth))
    for page in pages:
        if page.status is not None and page.status >= 400:
            continue
        for form in page.forms:
            name = search_field(form)
            if name:
                out.append((page.url, form, name))
    return out


def query_params(form: dict[str, Any], field: str, query: str) -> list[tuple[str, str]]:
    """What submitting `form` with `query` in `field` sends: that field and the hidden inputs, in order."""
    params = []
    for item in form.get("inputs") or []:
        name = item.get("name")
        if not name:
            continue
        if name == field:
            params.append((name, query))
        elif item.get("type") == "hidden":
            params.append((name, item.get("value") or ""))
    if not any(name == field for name, _ in params):
        params.append((field, query))
    return params


def query_url(form: dict[str, Any], field: str, query: str) -> str | None:
    """The results address of a GET `form` with an absolute http(s) action searched for `query`."""
    action = str(form.get("action") or "")
    if (form.get("method") or "get").lower() != "get" or not action.startswith(("http://", "https://")):
        return None
    parts = urlsplit(action)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + query_params(form, field, query)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), ""))
