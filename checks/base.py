"""The shape every check shares: declared metadata, a pure run() over stored facts, findings out.

Modelled on Lighthouse audits (static `meta` + a pure function of artifacts) and axe-core rules
(rules are data, code is reused). A check never touches the network, a browser or the clock: the
date it judges against comes in `AuditContext.today`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal

from checks.facts import SiteFacts

Severity = Literal["error", "warning", "notice"]
Indicator = Literal["disclosure", "retrieval", "online_services", "e_participation"]


@dataclass(frozen=True)
class CheckMeta:
    """What a check declares about itself: used by the registry, the rubric and the reports."""

    id: str  # the check family in results.json: links, staleness, classification, ...
    title_zh: str
    title_en: str
    indicator: Indicator
    rule: str  # the law article / guideline / WCAG SC the check enforces, cited in reports
    rules: tuple[str, ...] = ()  # rule ids this check may emit (documented in the README table)


@dataclass
class Finding:
    """One problem seen on one page, in the exact shape of results.json `findings[]`."""

    check: str
    rule: str
    severity: Severity
    page: str
    target: str | None
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    detail_en: str | None = None

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs (rule + page + target/selector), for trends and baselines."""
        anchor = self.target or str(self.evidence.get("example") or self.evidence.get("item") or "")
        raw = "\x1f".join((self.rule, self.page, anchor))
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "rule": self.rule,
            "severity": self.severity,
            "page": self.page,
            "target": self.target,
            "detail": self.detail,
            "evidence": self.evidence,
            "fingerprint": self.fingerprint,
        }
        if self.detail_en:
            out["detail_en"] = self.detail_en
        return out


@dataclass
class AuditContext:
    """Inputs a check may use besides the facts: the judging date and user configuration."""

    today: date
    lang: str = "zh-TW"
    options: dict[str, Any] = field(default_factory=dict)
    # site-level figures a check wants in results.json (e.g. "disclosure", "classification");
    # each key is merged into the site entry as it is, so keys must be documented additions.
    summary: dict[str, Any] = field(default_factory=dict)

    def option(self, key: str, default: Any) -> Any:
        return self.options.get(key, default)


class Check:
    """Base class: subclasses set `meta` and implement `run`; registration is automatic."""

    meta: ClassVar[CheckMeta]
    registry: ClassVar[list[type[Check]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "meta" in cls.__dict__:
            Check.registry.append(cls)

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:  # pragma: no cover
        raise NotImplementedError

    def iter_run(self, facts: SiteFacts, ctx: AuditContext) -> Iterable[Finding]:
        """The findings as they are made: what the audit stores as a stream. A check with a finding
        per page yields them here (and `run` lists them), so that 100,000 findings are never held at
        once (issue 6); its `ctx.summary` entries are set once the iterator is exhausted."""
        return self.run(facts, ctx)
