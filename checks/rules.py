"""The rule table: every rule id a check can emit, with its family, indicator, severity, titles and the
law article or guideline it enforces, read from `checks/data/rules.yaml` (issue 21, "rules are data").

One file instead of the same id typed in the check, the report strings, the exports and the rubric:
the checks declare the ids they emit (`CheckMeta.rules`), the rubric scores ids listed here
(`checks.scoring`), the reports and exports show the titles, and results.json carries the entries of
a run (`rules_block`). Like an axe-core rule file (`lib/rules/*.json`): the data beside, the code
elsewhere. The file is validated when first read; a broken entry names its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RULES_FILE = Path(__file__).parent / "data" / "rules.yaml"
SeverityName = Literal["error", "warning", "notice"]
IndicatorName = Literal["disclosure", "retrieval", "online_services", "e_participation"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One rule id: what results.json findings with `rule: <id>` mean."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    check: str = Field(pattern=r"^[a-z0-9_]+$")
    indicator: IndicatorName
    severity: SeverityName
    severities: tuple[SeverityName, ...] = ()
    severity_note: str | None = None
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    description_zh: str | None = None
    description_en: str | None = None
    contract: bool = False  # an id of shared/contract/results-schema.md

    @model_validator(mode="after")
    def _severity_listed(self) -> Rule:
        if self.severities and self.severity not in self.severities:
            raise ValueError(f"severity '{self.severity}' is not among severities {list(self.severities)}")
        return self

    def allows(self, severity: str) -> bool:
        """Whether a finding of this rule may carry `severity`."""
        return severity in (self.severities or (self.severity,))

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def to_json(self) -> dict[str, Any]:
        """The entry of results.json `rules.<id>` (docs/results-json.md)."""
        return {"check": self.check, "indicator": self.indicator, "severity": self.severity,
                "title_zh": self.title_zh, "title_en": self.title_en, "citation": self.citation}


class RuleSet(_Strict):
    """Rule ids taken from a tool's own catalogue (axe-core), not listed one by one."""

    id: str
    check: str
    indicator: IndicatorName
    ids: str  # how the ids look, for the rule table
    severity_note: str
    citation: str
    description_zh: str | None = None
    description_en: str | None = None

    def to_json(self, rule: str) -> dict[str, Any]:
        """A results.json `rules` entry for one id of the set: its title is the id itself and its
        severity follows each finding (null here)."""
        return {"check": self.check, "indicator": self.indicator, "severity": None, "title_zh": rule,
                "title_en": rule, "citation": self.citation}


class RuleTable(_Strict):
    rules: dict[str, Rule]
    rule_sets: dict[str, RuleSet] = {}


class RulesError(ValueError):
    """rules.yaml cannot be used; the message names the rule id and the key."""


def _parse(raw: Any, file: Path) -> RuleTable:
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), dict):
        raise RulesError(f"{file}: expected a mapping with `rules:`")
    try:
        return RuleTable.model_validate({
            "rules": {rid: {"id": rid, **(spec or {})} for rid, spec in raw["rules"].items()},
            "rule_sets": {sid: {"id": sid, **(spec or {})} for sid, spec in (raw.get("rule_sets") or {}).items()},
        })
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"])
        raise RulesError(f"{file}: {where}: {err['msg']}") from None


def load_rules(path: str | Path | None = None) -> RuleTable:
    """Read and validate a rules file (the shipped one when `path` is None; that one is cached)."""
    if path is None:
        return _default_table()
    file = Path(path)
    return _parse(yaml.safe_load(file.read_text(encoding="utf-8")), file)


@cache
def _default_table() -> RuleTable:
    return _parse(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")), RULES_FILE)


def rules() -> dict[str, Rule]:
    """Every rule of checks/data/rules.yaml, in file order."""
    return _default_table().rules


def rule_sets() -> dict[str, RuleSet]:
    return _default_table().rule_sets


def get_rule(rule_id: str) -> Rule | None:
    return rules().get(rule_id)


def rule_title(rule_id: str, lang: str) -> str:
    """The zh-TW (default) or English title of a rule id; an id not in the table shows as itself."""
    rule = get_rule(rule_id)
    return rule.title(lang) if rule else rule_id


def contract_rules() -> dict[str, str]:
    """The contract's rule ids and their check family, in file order."""
    return {rid: rule.check for rid, rule in rules().items() if rule.contract}


def rule_set_of(check: str) -> RuleSet | None:
    """The rule set whose ids a check family emits beside its listed rules (accessibility: axe-core)."""
    return next((s for s in rule_sets().values() if s.check == check), None)


def rules_block(emittable: Iterable[str], seen: Iterable[tuple[str, str]] = ()) -> dict[str, dict[str, Any]]:
    """results.json `rules`: the entries of the ids the run's checks can emit (`emittable`), and of
    the ids that appear in its findings (`seen`: (check, rule) pairs) — an axe-core id gets its set's
    entry. Sorted by id so that the block never depends on check or arrival order."""
    table = rules()
    out: dict[str, dict[str, Any]] = {rid: table[rid].to_json() for rid in emittable if rid in table}
    for check, rid in seen:
        if rid in out:
            continue
        if rid in table:
            out[rid] = table[rid].to_json()
        elif (rule_set := rule_set_of(check)) is not None:
            out[rid] = rule_set.to_json(rid)
    return dict(sorted(out.items()))
