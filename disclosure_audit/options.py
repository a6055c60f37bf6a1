"""What one audit is asked to do (composed option objects) and the errors a user can fix.

Kept apart from the pipeline so the CLI, the fleet runner and the `scrapy crawl` extension build the
same `AuditOptions` without importing the crawl or the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
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
class CrawlOptions:
    """Where the crawl goes and how hard it pushes (read by disclosure_audit/crawl.py)."""
    url: str
    hosts: list[str] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)  # extra start pages on the site's hosts
    max_pages: int = 2000
    max_depth: int = 10
    per_host_concurrency: int = 4
    download_timeout: float = 20.0
    max_seconds: int = 3600
    external: str = "check"  # check: request links to other hosts; skip: list them as not checked
    allow_private: bool = False  # let links to private/intranet addresses be checked
    incremental: bool = True  # conditional requests against the previous audit of the same site
    workers: int = 1  # >1: distributed crawl over a shared Redis frontier (crawler/distributed.py)
    redis_url: str | None = None
    tls_extra_ca: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # extra Scrapy settings (tests, tuning)
    http_ports: dict[str, int] = field(default_factory=dict)  # https host key -> its plain-http port (tests)


@dataclass
class AxeOptions:
    """The axe-core browser tests: whether they run, and the options crawler.a11y.A11yOptions takes."""
    accessibility: bool = True
    a11y: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckOptions:
    """What the pure checks are given: the date every date rule uses and their options
    (checks/disclosure_options.py validates them)."""
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    check_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class OutputOptions:
    """Where results go and how they are scored and worded."""
    out_dir: Path
    db_url: str | None = None
    lang: str = "zh-TW"
    rubric: str | None = None
    manual: str | None = None
    quiet: bool = False


@dataclass
class AgencyInfo:
    """Who the site belongs to, as the reports and rankings name it."""
    agency_name: str | None = None
    agency_code: str | None = None
    group: str | None = None


PARTS: dict[str, type] = {"crawl": CrawlOptions, "axe": AxeOptions, "checks": CheckOptions,
                          "output": OutputOptions, "agency": AgencyInfo}
OWNER: dict[str, str] = {f.name: part for part, cls in PARTS.items() for f in fields(cls)}


@dataclass(init=False)
class AuditOptions:
    """One audit, composed of its parts. Every field of a part is also readable and writable here under
    its own name (`opts.max_pages` is `opts.crawl.max_pages`), and the constructor takes those names
    too, so `AuditOptions(url=..., out_dir=..., max_pages=5)` builds the parts."""
    crawl: CrawlOptions
    axe: AxeOptions
    checks: CheckOptions
    output: OutputOptions
    agency: AgencyInfo

    def __init__(self, url: str | None = None, out_dir: Path | None = None, **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in PARTS if name in kwargs}
        if url is not None or "crawl" not in given:
            kwargs["url"] = url
        if out_dir is not None or "output" not in given:
            kwargs["out_dir"] = out_dir
        unknown = sorted(set(kwargs) - set(OWNER))
        if unknown:
            raise TypeError(f"AuditOptions got unexpected options: {', '.join(unknown)}")
        for name, cls in PARTS.items():
            mine = {key: value for key, value in kwargs.items() if OWNER[key] == name}
            part = given.get(name)
            setattr(self, name, cls(**mine) if part is None else replace(part, **mine))


def _view(part: str, name: str) -> property:
    def get(self: AuditOptions) -> Any:
        return getattr(getattr(self, part), name)

    def set_(self: AuditOptions, value: Any) -> None:
        setattr(getattr(self, part), name, value)

    return property(get, set_, doc=f"`{part}.{name}`")


for _name, _part in OWNER.items():
    setattr(AuditOptions, _name, _view(_part, _name))


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
