"""Run every registered check over one site's facts and collect findings and site-level summaries."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import checks
from checks.base import AuditContext, Check, Finding
from checks.facts import SiteFacts
from checks.identity import run_key

_NOT_CHECK_MODULES = {"base", "facts", "identity", "audit", "results", "rules", "rules_doc", "scoring", "trend",
                      "computed", "streamed"}


def load_checks() -> list[type[Check]]:
    """Import every module of the checks package so that Check subclasses register themselves.

    In module-name order, then definition order within a module: the order findings are produced in
    (and written to results.json) never depends on which module someone happened to import first."""
    names = [info.name for info in pkgutil.iter_modules(checks.__path__)
             if info.name not in _NOT_CHECK_MODULES and not info.name.startswith("_")]
    for name in names:
        importlib.import_module(f"checks.{name}")
    position = {f"checks.{name}": index for index, name in enumerate(sorted(names))}
    registered = list(Check.registry)
    return sorted(registered, key=lambda cls: (position.get(cls.__module__, len(position)), cls.__module__,
                                               registered.index(cls)))


def canonical_order(facts: SiteFacts) -> None:
    """Put the pages in an order that does not depend on when they arrived: click depth, then URL.

    Pages are stored as the crawl's concurrent downloads finish, so a check that reports a shared
    problem "on the first page" or lists pages as it meets them gave different findings for an
    unchanged site (issue 16 item 7: fingerprints changed, a `--baseline` gate saw new findings)."""
    if isinstance(facts.pages, list) and len(facts.pages) > 1:
        facts.pages.sort(key=lambda page: (page.depth, page.url))
        facts.__dict__.pop("_page_index", None)  # first-of-each-URL follows the order


def iter_findings(facts: SiteFacts, ctx: AuditContext) -> Iterator[Finding]:
    """All findings for one site as the checks produce them, de-duplicated on (rule, page, target) as
    the contract requires: a caller can store them as they come, never holding them all (issue 6).

    A finding without a target is told apart by the same anchor its fingerprint uses (evidence
    `example` or `item`, checks.identity): the ten `missing-disclosure-category` findings of one page
    are distinct.
    """
    seen: set[bytes] = set()  # a 12-byte digest per finding: 180,000 at 100,000 pages (issue 6)
    canonical_order(facts)
    for check_cls in load_checks():
        for finding in check_cls().iter_run(facts, ctx):
            key = run_key(finding.rule, finding.page, finding.target, finding.evidence)
            if key not in seen:
                seen.add(key)
                yield finding


def run_checks(facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
    """All findings for one site, de-duplicated (see `iter_findings`), as a list."""
    return list(iter_findings(facts, ctx))
