"""Where a `<meta http-equiv="refresh">` without delay sends the reader: the page leaves before a reader (or
axe) sees it (WCAG 2.2.1 / 3.2.5; Freego judges such a page from its static facts). Shared by the accessibility
check and the Freego rules."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from checks.facts import PageFacts

_REFRESH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:[;,]\s*(?:url\s*=\s*)?['\"]?([^'\"]*))?", re.IGNORECASE)


def refresh_target(page: PageFacts) -> str | None:
    """Where a `<meta http-equiv="refresh">` with no delay sends the reader (another URL), else None."""
    for content in page.meta.get("refresh", []):
        m = _REFRESH.match(content or "")
        if m and float(m.group(1)) == 0 and (m.group(2) or "").strip():
            target = urljoin(page.final_url or page.url, m.group(2).strip())
            if target.split("#")[0] != (page.final_url or page.url).split("#")[0]:
                return target
    return None
