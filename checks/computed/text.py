"""Text folding: how a label, heading or title is compared with a keyword, the same way everywhere.

domain/README.md §2 asks that link texts, headings and titles be matched with full-width/half-width
characters and 臺/台 normalised: NFKC, 臺 → 台, case-folded, white space removed. The checks
(through checks/textnorm.py) and crawler/a11y.py's sampling (which page is the site map, the
contact page…) fold text here, so a keyword matches the same texts in both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

# Characters that carry no meaning when comparing labels: spaces, punctuation, symbols.
_NOISE = re.compile(r"[\s\u3000\W_]+", re.UNICODE)
_SPACE = re.compile(r"\s+")


def norm(text: str | None) -> str:
    """NFKC (full-width → half-width), 臺 → 台, case-folded, white space removed."""
    if not text:
        return ""
    return _norm(text)


# Caches and memos hold MEMO_SIZE entries at most: what repeats (menus, footers: a few hundred values)
# comes back at once and stays; what is seen once (a page's own title, its links into itself: 500,000 at
# 100,000 pages) must not pile up (issue 6: < 600 MB at 100,000 pages).
MEMO_SIZE = 1 << 15


@lru_cache(maxsize=MEMO_SIZE)  # menu and footer texts repeat on every page of a site
def _norm(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).replace("臺", "台").casefold())


def norm_loose(text: str | None) -> str:
    """`norm` without any punctuation or symbols: for similarity, not for keyword tests."""
    if not text:
        return ""
    return _norm_loose(text)


@lru_cache(maxsize=MEMO_SIZE)  # link texts and titles repeat on every page
def _norm_loose(text: str) -> str:
    return _NOISE.sub("", _norm(text))


@lru_cache(maxsize=8192)
def _norm_cached(keyword: str) -> str:
    return norm(keyword)


def contains_any(text: str | None, keywords: Iterable[str]) -> str | None:
    """The first keyword (as written in the data file) whose normal form occurs in `text`."""
    haystack = norm(text)
    if not haystack:
        return None
    for keyword in keywords:
        needle = _norm_cached(keyword)
        if needle and needle in haystack:
            return keyword
    return None


class KeywordGroups:
    """Several named keyword lists matched against one text at once (the text is normalised once)."""

    def __init__(self, groups: dict[Any, Iterable[str]]) -> None:
        self.groups = {key: [n for n in (norm(w) for w in words) if n] for key, words in groups.items()}
        self._memo: dict[str, list[Any]] = {}  # menus repeat on every page: match each text once

    def _match_one(self, text: str) -> list[Any]:
        hit = self._memo.get(text)
        if hit is None:
            hay = norm(text)
            hit = [key for key, needles in self.groups.items() if hay and any(n in hay for n in needles)]
            if len(self._memo) < MEMO_SIZE:
                self._memo[text] = hit
        return hit

    def match(self, *texts: str | None) -> list[Any]:
        """Keys of the groups with a keyword in any of `texts`, in group order."""
        if len(texts) == 1:  # the common case (one link text): already in group order
            return list(self._match_one(texts[0])) if texts[0] else []
        found: set[Any] = set()
        for text in texts:
            if text:
                found.update(self._match_one(text))
        return [key for key in self.groups if key in found]


