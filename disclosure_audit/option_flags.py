"""The audit's command-line options, declared once: each flag's argparse form and where its value goes.

`add_audit_flags` builds the arguments of `crawl`, `demo` and `check` from `AUDIT_FLAGS`, and
`options_from_args` builds the composed `AuditOptions` (options.py) from the parsed values with the
same table, so adding an option is one row here and one field in its part.

A row's target is `part.field` (`crawl.max_pages`) or `part.field.key` for a key of one of the two
option dicts (`axe.a11y.level`: crawler.a11y.A11yOptions; `checks.check_options.stale_days`:
checks/disclosure_options.py). A dict key is set only when the flag was given (`when`), so the checks
keep their own defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from disclosure_audit.options import PARTS, AuditError, AuditOptions


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式應為 YYYY-MM-DD / expected YYYY-MM-DD, got {value!r}") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"需要正整數 / expected a positive whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"需要正整數 / expected a positive whole number, got {value!r}")
    return number


def _code_tables(items: list[str]) -> dict[str, str]:
    """`--code-tables FIELD=CSV` (repeatable) as {field: csv path}."""
    tables = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise AuditError(f"--code-tables 應為 FIELD=CSV / expected FIELD=CSV, got {item!r}", 2)
        tables[name.strip()] = path.strip()
    return tables


def _given(value: Any) -> bool:
    return value is not None


def _always(value: Any) -> bool:
    return True


def _same(value: Any) -> Any:
    return value


def _not(value: Any) -> bool:
    return not value


@dataclass(frozen=True)
class Flag:
    """One option: its flag and help, the other add_argument keywords, and the target(s) of its value."""
    flag: str
    to: str | tuple[str, ...]
    help: str
    arg: dict[str, Any] = field(default_factory=dict)
    when: Callable[[Any], bool] = _given  # which parsed values are used (others leave the part's default)
    value: Callable[[Any], Any] = _same  # parsed value -> option value

    @property
    def dest(self) -> str:
        return self.arg.get("dest") or self.flag.lstrip("-").replace("-", "_")

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.to,) if isinstance(self.to, str) else self.to


_FLAG = {"action": "store_true"}
AUDIT_FLAGS: tuple[Flag, ...] = (
    Flag("--out", "output.out_dir", "output folder (results.json, reports)", {"type": Path, "required": True},
         when=_always),  # None until main() picks the command's default folder
    Flag("--today", "checks.today", "the date all date rules use (default: today)", {"type": _date}),
    Flag("--max-pages", "crawl.max_pages", "pages to crawl at most (default 2000)",
         {"type": _positive, "default": 2000}),
    Flag("--max-depth", "crawl.max_depth", "link depth from the start page (default 10)",
         {"type": _positive, "default": 10}),
    Flag("--host", "crawl.hosts", "another host that belongs to the site (repeatable)",
         {"action": "append", "default": [], "dest": "hosts", "metavar": "HOST"}),
    Flag("--no-accessibility", "axe.accessibility", "skip the axe-core browser tests", _FLAG, value=_not),
    Flag("--a11y-pages", "axe.a11y.sample_size", "pages to test for accessibility",
         {"default": None, "metavar": "N|all"}, when=bool),
    Flag("--a11y-level", ("axe.a11y.level", "checks.check_options.a11y_level"),  # axe's rule set and checks.freego
         "WCAG level tested and judged (default: AA, AAA when the site claims AAA)",
         {"default": None, "choices": ("A", "AA", "AAA"), "type": str.upper}, when=bool),
    Flag("--webdriver-url", "axe.a11y.webdriver_url", "remote WebDriver endpoint (Selenium Grid)",
         {"default": None}, when=bool),
    Flag("--db", "output.db_url", "run store as an SQLAlchemy URL (default: sqlite file in --out)",
         {"default": None, "metavar": "URL"}),
    Flag("--name", "agency.agency_name", "agency name shown in reports", {"default": None}),
    Flag("--code", "agency.agency_code", "機關代碼 (agency code)", {"default": None}),
    Flag("--group", "agency.group", "group for rankings (e.g. 第1組)", {"default": None}),
    Flag("--lang", "output.lang", "report language", {"choices": ("zh-TW", "en"), "default": "zh-TW"}),
    Flag("--timeout", "crawl.download_timeout", "seconds per request (default 20)", {"type": float, "default": 20.0}),
    Flag("--per-host", "crawl.per_host_concurrency", "concurrent requests per host (default 4)",
         {"type": _positive, "default": 4}),
    Flag("--stale-days", "checks.check_options.stale_days", "a page older than this is stale",
         {"type": _positive, "default": 365}),
    Flag("--rubric", "output.rubric", "scoring rubric YAML (default: the shipped one)", {"default": None}),
    Flag("--manual", "output.manual", "YAML with manual criteria scores", {"default": None}),
    Flag("--ca-bundle", "crawl.tls_extra_ca", "extra CA bundle (e.g. the government root GRCA)", {"default": None}),
    Flag("--full", "crawl.incremental",
         "re-fetch every page (no conditional requests against the previous audit)", _FLAG, value=_not),
    Flag("--external", "crawl.external",
         "links to other hosts: check them (default) or list them as not checked, never requested",
         {"choices": ("check", "skip"), "default": "check"}),
    Flag("--seed", "crawl.seeds", "another start page on the site (repeatable), for pages no link reaches",
         {"action": "append", "default": [], "dest": "seeds", "metavar": "URL"}),
    Flag("--allow-private", "crawl.allow_private",
         "also check links to private/intranet addresses (refused by default)", _FLAG),
    Flag("--code-tables", "checks.check_options.code_tables",
         "official code table for Category.Theme / Category.Cake / Category.Service (repeatable)",
         {"action": "append", "default": [], "metavar": "FIELD=CSV"}, when=bool, value=_code_tables),
    Flag("--annual-rules", "checks.check_options.annual_documents", "annual-document series rules",
         {"default": None, "metavar": "YAML"}, when=bool),
    Flag("--notice-grace-days", "checks.check_options.notice_grace_days", "days an expired notice may stay listed",
         {"type": int, "default": None}),
    Flag("--no-disclosure-fallback", "checks.check_options.disclosure_sitewide_fallback",
         "do not search the whole site for §7 items when no 主動公開資訊 area is found", _FLAG, when=bool, value=_not),
    Flag("--quiet", "output.quiet", "print nothing but errors (for cron)", _FLAG),
    Flag("--workers", "crawl.workers", "crawl with N worker processes sharing a Redis frontier (needs --redis)",
         {"type": _positive, "default": 1}),
    Flag("--redis", "crawl.redis_url", "Redis URL for distributed crawling", {"default": None, "metavar": "URL"}),
)


def add_audit_flags(parser: argparse.ArgumentParser, *, out_required: bool = True,
                    flags: tuple[Flag, ...] = AUDIT_FLAGS) -> None:
    for spec in flags:
        arg = dict(spec.arg, help=spec.help)
        if isinstance(arg.get("default"), list):
            arg["default"] = []  # a parser's own list, never the table's
        if spec.flag == "--out":
            arg["required"] = out_required
        parser.add_argument(spec.flag, **arg)


def options_from_args(args: argparse.Namespace, url: str, flags: tuple[Flag, ...] = AUDIT_FLAGS) -> AuditOptions:
    """The composed AuditOptions for the parsed flags and the start URL."""
    values: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
    values["crawl"]["url"] = url
    for spec in flags:
        raw = getattr(args, spec.dest)
        if not spec.when(raw):
            continue
        value = spec.value(raw)
        for target in spec.targets:
            part, name, *key = target.split(".")
            if key:
                values[part].setdefault(name, {})[key[0]] = value
            else:
                values[part][name] = value
    return AuditOptions(**{part: cls(**values[part]) for part, cls in PARTS.items()})
