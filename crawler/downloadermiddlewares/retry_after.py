"""Retry-After (RFC 9110 §10.2.3): a server that asks us to come back later (429/503) is waited for.

The wait is bounded, then the request is asked again; what persists is left for the links check to
call `unverified-link` (rate-limited), never `broken-link`: a site must not lose points for our own
access trouble (issue 2). The number of waits (`retry_after_times`) and the header
(`retry_after_header`) are recorded in request meta.

Settings: RETRY_AFTER_MAX_DELAY (the longest wait honoured, seconds), RETRY_AFTER_MAX_TIMES (how often
one request waits), RETRY_AFTER_DEFAULT_DELAY (the wait for a 429 without Retry-After).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Wait and retry 429/503 answers; 429 without Retry-After waits a short default once."""

    def __init__(self, max_delay: float, max_times: int, default_delay: float) -> None:
        self.max_delay = max_delay
        self.max_times = max_times
        self.default_delay = default_delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        s = crawler.settings
        return cls(
            s.getfloat("RETRY_AFTER_MAX_DELAY", 30.0),
            s.getint("RETRY_AFTER_MAX_TIMES", 2),
            s.getfloat("RETRY_AFTER_DEFAULT_DELAY", 1.0),
        )

    async def process_response(self, request: Request, response: Response, spider=None):  # noqa: ANN001
        if response.status not in (429, 503):
            return response
        header = response.headers.get(b"Retry-After")
        delay = retry_after_seconds(header)
        if delay is None:
            if response.status == 503:
                return response  # a plain 503 is a server error, judged as such
            delay = self.default_delay
        tries = request.meta.get("retry_after_times", 0)
        if header:
            request.meta["retry_after_header"] = header.decode("latin-1")[:100]
        if tries >= self.max_times or delay > self.max_delay:
            return response
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_times"] = tries + 1
        retry.meta["retry_after_header"] = header.decode("latin-1") if header else None
        return retry
