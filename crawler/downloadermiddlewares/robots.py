"""A bounded robots.txt lookup: robots.txt is a courtesy, fetched once and never retried.

A host that hangs then costs one download timeout there instead of two before its links are even asked
for. Reads no setting of its own: it marks the spider's robots.txt requests (`dont_obey_robotstxt`)
with `max_retry_times = 0`, which Scrapy's RetryMiddleware (RETRY_TIMES) honours.
"""

from __future__ import annotations

from scrapy import Request


class BoundedRobotsMiddleware:
    """robots.txt is a courtesy lookup: fetched once, never retried, so a host that hangs costs one
    download timeout there instead of two before its links are even asked for."""

    async def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            request.meta.setdefault("max_retry_times", 0)
        return None
