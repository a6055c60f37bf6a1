"""The shape every check shares: declared metadata, a pure run() over stored facts, findings out.

Modelled on Lighthouse audits (static `meta` + a pure function of artifacts) and axe-core rules
(rules are data, code is reused). A check never touches the network, a browser or the clock: the
date it judges against comes in `AuditContext.today`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal

from checks.facts import SiteFacts
from checks.identity import fingerprint
from checks.rules import Rule, rule_sets
from checks.rules import rules as rules_table

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True)
class CheckMeta:
    """What a check declares about itself: a unique id, its family and the rule ids it emits.

    Titles, severities, indicators and citations are not typed here: they are the rules' entries in
    checks/data/rules.yaml (`checks.rules`), so that a rule is described once. A rule id declared here
    must be in that file under the same `check`; otherwise the module does not import."""

    id: str  # unique per check class: link-validity, soft-404, stale-pages, ...
    check: str  # the family its findings carry in results.json `findings[].check`: links, staleness, ...
    rules: tuple[str, ...] = ()  # the rule ids it emits, each an entry of rules.yaml
    rule_set: str | None = None  # ids from a tool's catalogue it emits too (rules.yaml `rule_sets`: axe-core)

    def __post_init__(self) -> None:
        table = rules_table()
        for rid in self.rules:
            entry = table.get(rid)
            if entry is None:
                raise ValueError(f"check {self.id}: rule '{rid}' is not in checks/data/rules.yaml")
            if entry.check != self.check:
                raise ValueError(f"check {self.id}: rule '{rid}' belongs to check '{entry.check}' in "
                                 f"rules.yaml, not '{self.check}'")
        if self.rule_set is not None and self.rule_set not in rule_sets():
            raise ValueError(f"check {self.id}: no rule set '{self.rule_set}' in checks/data/rules.yaml")

    @property
    def entries(self) -> tuple[Rule, ...]:
        """The rules.yaml entries of the rules this check emits."""
        table = rules_table()
        return tuple(table[rid] for rid in self.rules)

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicators its rules belong to (most checks: one)."""
        sets = (rule_sets()[self.rule_set],) if self.rule_set else ()
        return tuple(dict.fromkeys([e.indicator for e in self.entries] + [s.indicator for s in sets]))

    @property
    def citations(self) -> tuple[str, ...]:
        """The law articles / guidelines its rules enforce, each once."""
        sets = (rule_sets()[self.rule_set],) if self.rule_set else ()
        return tuple(dict.fromkeys([e.citation for e in self.entries] + [s.citation for s in sets]))


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

    @classmethod
    def of(cls, rule: str, page: str, target: str | None, detail: str,
           evidence: dict[str, Any] | None = None, *, detail_en: str | None = None,
           severity: str | None = None) -> Finding:
        """A finding of a rules.yaml rule: its `check` and `severity` are the rule's entry, not typed
        again by the check. `severity` is given only where the evidence decides (the entry lists
        `severities`: soft-404 by confidence) and must be one the entry allows."""
        entry = rules_table().get(rule)
        if entry is None:
            raise ValueError(f"rule '{rule}' is not in checks/data/rules.yaml")
        if severity is not None and not entry.allows(severity):
            raise ValueError(f"rule '{rule}': severity '{severity}' is not one rules.yaml allows")
        return cls(check=entry.check, rule=rule, severity=severity or entry.severity,  # type: ignore[arg-type]
                   page=page, target=target, detail=detail, evidence=evidence if evidence is not None else {},
                   detail_en=detail_en)

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs, for trends and baselines (checks.identity.fingerprint)."""
        return fingerprint(self.rule, self.page, self.target, self.evidence)

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
