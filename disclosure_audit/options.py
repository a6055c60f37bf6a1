"""What one audit is asked to do (composed option objects) and the errors a user can fix.

Kept apart from the pipeline so the CLI, the fleet runner and the `scrapy crawl` extension build the
same `AuditOptions` without importing the crawl or the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class AuditError(Exception):
    """A problem the user can fix (bad URL, unwritable folder): one clear sentence, no traceback.

    `exit_code` is 2 for usage/configuration errors and 3 when the audit could not be completed."""

    def __init__(self, message: str, exit_code: int = 3) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class AuditOptions:
    url: str
    out_dir: Path
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    max_pages: int = 2000
    max_depth: int = 10
    hosts: list[str] = field(default_factory=list)
    db_url: str | None = None
    accessibility: bool = True
    a11y: dict[str, Any] = field(default_factory=dict)  # options for crawler.a11y
    lang: str = "zh-TW"
    agency_name: str | None = None
    agency_code: str | None = None
    group: str | None = None
    download_timeout: float = 20.0
    per_host_concurrency: int = 4
    max_seconds: int = 3600
    check_options: dict[str, Any] = field(default_factory=dict)
    rubric: str | None = None
    manual: str | None = None
    tls_extra_ca: str | None = None
    quiet: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # extra Scrapy settings (tests, tuning)
    incremental: bool = True  # conditional requests against the previous audit of the same site
    allow_private: bool = False  # let links to private/intranet addresses be checked
    workers: int = 1  # >1: distributed crawl over a shared Redis frontier (crawler/distributed.py)
    redis_url: str | None = None
    external: str = "check"  # check: request links to other hosts; skip: list them as not checked
    seeds: list[str] = field(default_factory=list)  # extra start pages on the site's hosts
    http_ports: dict[str, int] = field(default_factory=dict)  # https host key -> its plain-http port (tests)


@dataclass
class SiteOutcome:
    site_id: int
    status: str
    detail: str | None
    duration_s: float


def validate_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuditError(f"「{url}」不是有效的網址（需要 http:// 或 https:// 開頭）/ not a valid http(s) URL: {url}", 2)
    return url.strip()


def prepare_out_dir(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise AuditError(f"無法寫入輸出資料夾 / cannot write to the output folder {out_dir}: "
                         f"{exc.strerror or exc}", 2) from None
    return out_dir
