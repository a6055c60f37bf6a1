"""Declarative scoring: a rubric file maps findings to the four indicators of the information-services
dimension (資訊流通服務) and those to a dimension score 0-100.

Rule enforced: the indicators of the 政府服務品質獎 / 提升服務品質實施計畫 information-services dimension
(shared/domain/README.md §1). No official weights exist in public sources, so the default rubric
(`checks/data/rubric.yaml`) weighs the four indicators equally and says so; every weight is data.

Principles, in the order they matter to an evaluator:
- Every lost point traces to rule x weight x evidence fingerprints (`deductions`): the answer to "why 72?".
- Indeterminate results (our network trouble, a check that could not run, low-confidence guesses)
  are excluded from the score and listed separately: a site is never penalised for them.
- Criteria no crawler can judge are `manual`: evaluators fill them in a small YAML file; they never
  change the automated score and are reported beside it.
- A rule id that the rubric does not list is scored by its prefix or check family (`prefixes`,
  `defaults`), so a new check needs no code change here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from checks.identity import fingerprint_of
from checks.rules import rules as rules_table

DEFAULT_RUBRIC = Path(__file__).parent / "data" / "rubric.yaml"
REQUIRED_INDICATORS = ("disclosure", "retrieval", "online_services", "e_participation")
Method = Literal["per_page_share", "capped_deduction", "pass_fail", "presence"]
Severity = Literal["error", "warning", "notice"]


class RubricError(ValueError):
    """A rubric or manual-scores file that cannot be used; the message names the file and the key."""


# --------------------------------------------------------------------------------------------------
# The rubric model (validated at the edge, ARCHITECTURE.md "Configuration is validated at the edge")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One scored (or manual) item of an indicator."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name_zh: str
    name_en: str
    source: str | None = None
    weight: float = Field(gt=0)
    method: Method | None = None
    manual: bool = False
    rules: tuple[str, ...] = ()
    points: float | None = Field(default=None, gt=0)
    cap: float | None = Field(default=None, gt=0)
    features: tuple[str, ...] = ()
    any_feature: bool = False
    pages_from: Literal["stats", "accessibility"] = "stats"
    # site-entry blocks that must be present for the criterion to be judged (a check that did not
    # run must not read as "no problems"); "accessibility" also needs status "ok"
    requires: tuple[str, ...] = ()
    severities: tuple[Severity, ...] | None = None

    @model_validator(mode="after")
    def _method_fields(self) -> Criterion:
        if self.manual:
            if self.method or self.rules or self.features:
                raise ValueError("a manual criterion takes no method, rules or features")
            return self
        if self.method is None:
            raise ValueError("method: required unless manual: true "
                             "(per_page_share, capped_deduction, pass_fail or presence)")
        if self.method == "capped_deduction" and self.points is None:
            raise ValueError("points: required for method capped_deduction")
        if self.cap is not None and self.cap > self.weight:
            raise ValueError(f"cap: {self.cap} is larger than weight {self.weight}")
        if self.method == "presence" and not self.features:
            raise ValueError("features: required for method presence")
        if self.method not in ("presence", "pass_fail") and self.features:
            raise ValueError("features: only methods presence and pass_fail read features")
        return self

    @property
    def feature_rules(self) -> dict[str, str]:
        """`missing-<feature>` rule id -> feature path, for presence criteria."""
        return {f"missing-{f.rsplit('.', 1)[-1]}": f for f in self.features}


class Indicator(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name_zh: str
    name_en: str
    weight: float = Field(ge=0)
    criteria: tuple[Criterion, ...] = Field(min_length=1)


class IndeterminateCondition(_Strict):
    """A finding of `rule` is indeterminate when evidence[key] is in `values`, below `below` or
    matches `pattern`."""

    rule: str
    key: str
    values: tuple[Any, ...] = ()
    below: float | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _pattern_compiles(self) -> IndeterminateCondition:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern: not a regular expression ({exc})") from None
        return self

    def matches(self, finding: dict[str, Any]) -> bool:
        if finding.get("rule") != self.rule:
            return False
        value = (finding.get("evidence") or {}).get(self.key)
        if value is None:
            return False
        if value in self.values:
            return True
        if self.below is not None and isinstance(value, int | float) and not isinstance(value, bool):
            if value < self.below:
                return True
        return bool(self.pattern and isinstance(value, str) and re.search(self.pattern, value))


class Indeterminate(_Strict):
    rules: tuple[str, ...] = ()
    conditions: tuple[IndeterminateCondition, ...] = ()


class DimensionName(_Strict):
    name_zh: str
    name_en: str


class Rubric(_Strict):
    """The whole rubric; `criterion_for(finding)` is the single place a rule meets its criterion."""

    version: str = Field(min_length=1)
    dimension: DimensionName
    weights_note_zh: str
    weights_note_en: str
    count_severities: tuple[Severity, ...] = ("error", "warning")
    indeterminate: Indeterminate = Indeterminate()
    prefixes: dict[str, str] = {}
    defaults: dict[str, str] = {}
    indicators: tuple[Indicator, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [i.id for i in self.indicators]
        missing = [i for i in REQUIRED_INDICATORS if i not in ids]
        if missing:
            raise ValueError(f"indicators: missing required indicator(s) {', '.join(missing)}")
        if len(set(ids)) != len(ids):
            raise ValueError("indicators: indicator ids must be unique")
        if not any(i.weight > 0 for i in self.indicators):
            raise ValueError("indicators: at least one indicator needs a weight above 0")
        crit: dict[str, Criterion] = {}
        owner: dict[str, str] = {}
        for ind in self.indicators:
            for c in ind.criteria:
                if c.id in crit:
                    raise ValueError(f"indicators.{ind.id}.criteria: criterion id '{c.id}' is used twice")
                crit[c.id] = c
                for rule in (*c.rules, *c.feature_rules):
                    if rule in owner:
                        raise ValueError(f"indicators.{ind.id}.criteria.{c.id}.rules: rule '{rule}' is "
                                         f"already scored by criterion '{owner[rule]}'")
                    owner[rule] = c.id
        self._rules_known()
        for key, table in (("defaults", self.defaults), ("prefixes", self.prefixes)):
            for name, target in table.items():
                c = crit.get(target)
                if c is None:
                    raise ValueError(f"{key}.{name}: no criterion '{target}' in the rubric")
                if c.manual or c.method == "presence":
                    raise ValueError(f"{key}.{name}: criterion '{target}' is manual or presence "
                                     "and cannot score findings")
        return self

    def _rules_known(self) -> None:
        """Every rule id the rubric names is an entry of checks/data/rules.yaml: a typo or a rule that
        was renamed is an error, not a criterion that silently never matches."""
        known = rules_table()
        named = [(f"indicators.{ind.id}.criteria.{c.id}.rules", rid) for ind in self.indicators
                 for c in ind.criteria for rid in c.rules]
        named += [("indeterminate.rules", rid) for rid in self.indeterminate.rules]
        named += [("indeterminate.conditions", cond.rule) for cond in self.indeterminate.conditions]
        for key, rid in named:
            if rid not in known:
                raise ValueError(f"{key}: rule '{rid}' is not in checks/data/rules.yaml")

    def unscored_rules(self) -> list[str]:
        """The rules.yaml ids this rubric neither scores by name (a criterion's `rules` or `features`,
        a `prefixes` entry) nor declares unscored (`indeterminate.rules`): reached, if at all, only by
        a check-family default. The shipped rubric has none (tests/test_rules.py)."""
        return [rid for rid in rules_table()
                if rid not in self.indeterminate.rules
                and not any(rid in c.rules or rid in c.feature_rules for _, c in self.criteria())
                and not any(rid.startswith(prefix) for prefix in self.prefixes)]

    # lookups ------------------------------------------------------------------------------------
    def criteria(self) -> list[tuple[Indicator, Criterion]]:
        return [(ind, c) for ind in self.indicators for c in ind.criteria]

    def criterion(self, cid: str) -> Criterion | None:
        return next((c for _, c in self.criteria() if c.id == cid), None)

    def criterion_for(self, rule: str, check: str | None) -> Criterion | None:
        """Explicit rule > longest matching prefix > check-family default > None (unscored)."""
        for _, c in self.criteria():
            if rule in c.rules or rule in c.feature_rules:
                return c
        prefixes = sorted((p for p in self.prefixes if rule.startswith(p)), key=len, reverse=True)
        if prefixes:
            return self.criterion(self.prefixes[prefixes[0]])
        if check and check in self.defaults:
            return self.criterion(self.defaults[check])
        return None

    def is_indeterminate(self, finding: dict[str, Any]) -> bool:
        if finding.get("rule") in self.indeterminate.rules:
            return True
        return any(cond.matches(finding) for cond in self.indeterminate.conditions)


# --------------------------------------------------------------------------------------------------
# Loading


def _loc_to_key(raw: Any, loc: tuple[Any, ...]) -> str:
    """Turn a pydantic location into a readable key, naming list items by their id when they have one."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
            label = node.get("id") if isinstance(node, dict) else None
            parts.append(f"[{step}]" + (f"({label})" if label else ""))
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(step))
    return "".join(parts) or "(top level)"


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RubricError(f"{what} file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"{what} file {path}: cannot be read ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise RubricError(f"{what} file {path}:{where} is not valid YAML") from None


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Load and validate a rubric (the shipped default when `path` is None)."""
    file = Path(path) if path else DEFAULT_RUBRIC
    raw = _read_yaml(file, "rubric")
    if not isinstance(raw, dict):
        raise RubricError(f"rubric file {file}: expected a mapping with version, indicators, ...")
    try:
        return Rubric.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:5]:
            msg = str(err["msg"]).removeprefix("Value error, ")
            loc = tuple(err["loc"])
            # model-level checks name their key at the start of the message
            lines.append(f"key {_loc_to_key(raw, loc)}: {msg}" if loc else f"key {msg}")
        raise RubricError(f"rubric file {file}: " + "; ".join(lines)) from None


class ManualScore(_Strict):
    score: float = Field(ge=0, le=1)
    note: str | None = Field(default=None, max_length=2000)


def load_manual(path: str | Path, rubric: Rubric | None = None) -> dict[str, dict[str, Any]]:
    """Read an evaluator's manual scores: `criterion-id: {score: 0..1, note: "..."}` (or a bare number).

    With `rubric`, every key must name a manual criterion of it, so a typo is an error, not a silent 0.
    """
    file = Path(path)
    raw = _read_yaml(file, "manual scores")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RubricError(f"manual scores file {file}: expected a mapping of criterion id to score")
    out: dict[str, dict[str, Any]] = {}
    manual_ids = {c.id for _, c in rubric.criteria() if c.manual} if rubric else None
    for key, value in raw.items():
        if manual_ids is not None and key not in manual_ids:
            raise RubricError(f"manual scores file {file}: key {key}: not a manual criterion of rubric "
                              f"{rubric.version} (expected one of {', '.join(sorted(manual_ids))})")
        entry = {"score": value} if isinstance(value, int | float) and not isinstance(value, bool) else value
        try:
            out[str(key)] = ManualScore.model_validate(entry).model_dump()
        except ValidationError as exc:
            err = exc.errors()[0]
            sub = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            raise RubricError(f"manual scores file {file}: key {key}{'.' + sub if sub else ''}: "
                              f"{msg} (expected score 0..1 and an optional note)") from None
    return out


# --------------------------------------------------------------------------------------------------
# Scoring


def _feature_state(site: dict[str, Any], path: str) -> bool | None:
    """True/False when the site's summaries say whether `path` was found, None when nobody looked."""
    if path == "disclosure.section":
        disc = site.get("disclosure")
        if not isinstance(disc, dict):
            return None
        if disc.get("section_urls"):
            return True
        # an entry seen only through links never verified live: indeterminate, not absent
        return None if disc.get("unverified_section_links") else False
    m = re.fullmatch(r"disclosure\.item\.(\d+)", path)
    if m:
        disc = site.get("disclosure")
        if not isinstance(disc, dict):
            return None
        for cat in disc.get("categories") or []:
            if isinstance(cat, dict) and str(cat.get("item")) == m.group(1):
                # an item seen only through links never verified live is indeterminate, not absent
                return None if cat.get("status") == "unverified" else bool(cat.get("found"))
        return None
    block, _, name = path.rpartition(".")
    table = site.get(block or "services")
    if not isinstance(table, dict) or name not in table:
        return None
    value = table[name]
    if isinstance(value, dict) and value.get("status") == "unverified":
        return None  # seen only through links never verified live: indeterminate, not absent
    if isinstance(value, dict):
        return bool(value.get("found")) if "found" in value else bool(value.get("evidence"))
    return bool(value)


def _finding_summary(f: dict[str, Any], reason: str, fp: str | None = None) -> dict[str, Any]:
    return {"fingerprint": fp if fp is not None else fingerprint_of(f), "check": f.get("check"),
            "rule": f.get("rule"), "severity": f.get("severity"), "page": f.get("page"),
            "target": f.get("target"), "reason": reason}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x + 0.0, 2)


class _Tally:
    """What scoring keeps of the findings one criterion counts, gathered finding by finding: their
    fingerprints (the deduction lists them), rule counts, distinct pages (per_page_share), and only
    for the few findings of a presence criterion, or of a criterion excluded before the pass, their
    summaries. A 100,000-finding criterion costs its fingerprints and pages, not its findings."""

    __slots__ = ("fps", "rules", "pages", "summaries", "items")

    def __init__(self) -> None:
        self.fps: list[str] = []
        self.rules: dict[str, int] = {}
        self.pages: set[str] = set()
        self.summaries: list[dict[str, Any]] = []  # _finding_summary without its reason
        self.items: list[str] = []  # evidence["item"] as text, for presence criteria (_claims)

    def add(self, f: dict[str, Any], c: Criterion, keep_summary: bool) -> None:
        fp = fingerprint_of(f)
        self.fps.append(fp)
        rule = str(f.get("rule"))
        self.rules[rule] = self.rules.get(rule, 0) + 1
        if c.method == "per_page_share":
            self.pages.add(str(f.get("page")))
        if keep_summary or c.method == "presence":
            self.summaries.append(_finding_summary(f, "", fp))
        if c.method == "presence":
            evidence = f.get("evidence")
            self.items.append(str(evidence.get("item") if isinstance(evidence, dict) else None))

    def __len__(self) -> int:
        return len(self.fps)


def score_site(site: dict[str, Any], rubric: Rubric, manual: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `scores` block of one results.json site entry (contract keys plus documented additions).

    One pass over the site's findings (a list, or a StreamedList read once from the run store):
    each finding adds to its criterion's `_Tally` or becomes an indeterminate/unscored summary
    (which the scores list); the findings themselves are not kept."""
    failed = site.get("status") == "failed"
    a11y = site.get("accessibility") if isinstance(site.get("accessibility"), dict) else {}
    stats = site.get("stats") if isinstance(site.get("stats"), dict) else {}
    # criteria judged indeterminate whatever their findings (see _judge): their findings are listed
    pre_excluded = {c.id for _, c in rubric.criteria()
                    if failed or ("accessibility" in c.requires and a11y.get("status") != "ok")}

    indeterminate: list[dict[str, Any]] = []
    unscored: list[dict[str, Any]] = []
    by_crit: dict[str, _Tally] = {}
    notices: dict[str, int] = {}
    unverified: set[Any] = set()
    for f in site.get("findings") or []:
        if not isinstance(f, dict):
            continue
        rule, check = str(f.get("rule") or ""), f.get("check")
        if f.get("rule") in rubric.indeterminate.rules:
            unverified.add(f.get("target"))
        if rubric.is_indeterminate(f):
            indeterminate.append(_finding_summary(f, "indeterminate-rule"))
            continue
        crit = rubric.criterion_for(rule, check if isinstance(check, str) else None)
        if crit is None:
            unscored.append(_finding_summary(f, "no-criterion"))
            continue
        severities = crit.severities or rubric.count_severities
        if crit.method != "presence" and f.get("severity") not in severities:
            notices[crit.id] = notices.get(crit.id, 0) + 1
            continue
        tally = by_crit.get(crit.id)
        if tally is None:
            tally = by_crit[crit.id] = _Tally()
        tally.add(f, crit, crit.id in pre_excluded)

    indicators_out: list[dict[str, Any]] = []
    deductions: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    manual_out: list[dict[str, Any]] = []
    manual = manual or {}
    total_auto_weight = 0.0
    excluded_weight = 0.0
    # per indicator: (weight, automated determinate weight, earned, manual weight supplied, earned)
    tallies: list[tuple[Indicator, float, float, float, float, list[tuple[Criterion, dict]]]] = []

    for ind in rubric.indicators:
        w_auto = earned = w_man = earned_man = 0.0
        losses: list[tuple[Criterion, dict[str, Any]]] = []
        crit_out: list[dict[str, Any]] = []
        for c in ind.criteria:
            if c.manual:
                entry = manual.get(c.id)
                row = {"id": c.id, "indicator": ind.id, "name": c.name_zh, "name_en": c.name_en,
                       "weight": c.weight, "score": None, "note": None, "source": c.source}
                if isinstance(entry, dict) and entry.get("score") is not None:
                    row["score"] = float(entry["score"])
                    row["note"] = entry.get("note")
                    w_man += c.weight
                    earned_man += c.weight * float(entry["score"])
                manual_out.append(row)
                crit_out.append({"id": c.id, "status": "manual", "weight": c.weight})
                continue
            total_auto_weight += c.weight
            mine = by_crit.get(c.id) or _Tally()
            reason, lost, info = _judge(c, mine, site, a11y, stats, failed)
            if reason is not None:
                excluded_weight += c.weight
                excluded.append({"indicator": ind.id, "criterion": c.id, "name": c.name_zh,
                                 "name_en": c.name_en, "weight": c.weight, "reason": reason})
                if len(mine.summaries) != len(mine):  # _judge excludes only what pre_excluded foresaw
                    raise AssertionError(f"scoring: criterion {c.id} excluded without its findings' summaries")
                indeterminate.extend({**x, "reason": f"criterion-{reason}"} for x in mine.summaries)
                crit_out.append({"id": c.id, "status": "indeterminate", "weight": c.weight,
                                 "reason": reason})
                continue
            w_auto += c.weight
            earned += c.weight - lost
            crit_out.append({"id": c.id, "status": "scored", "weight": c.weight,
                             "lost": _r(lost), "notices": notices.get(c.id, 0)})
            if lost > 0:
                losses.append((c, {"lost": lost, **info}))
        tallies.append((ind, w_auto, earned, w_man, earned_man, losses))
        indicators_out.append({"id": ind.id, "name": ind.name_zh, "name_en": ind.name_en,
                               "score": None, "max": 100, "automated": True, "weight": ind.weight,
                               "criteria": crit_out})

    scored = [(t, out) for t, out in zip(tallies, indicators_out, strict=True) if t[1] > 0]
    weight_sum = sum(t[0].weight for t, _ in scored)
    dimension: float | None = None
    if scored and weight_sum > 0:
        dimension = 0.0
        for (ind, w_auto, earned, _wm, _em, losses), out in scored:
            score = 100.0 * earned / w_auto
            out["score"] = _r(score)
            dimension += ind.weight * score / weight_sum
            for c, info in losses:
                points = 100.0 * info["lost"] / w_auto
                deductions.append(_deduction(ind, c, info, points, points * ind.weight / weight_sum))
    elif scored:  # every scored indicator has weight 0: indicator scores only
        for (_ind, w_auto, earned, *_rest), out in scored:
            out["score"] = _r(100.0 * earned / w_auto)
    deductions.sort(key=lambda d: (-d["dimension_points"], d["criterion"]))

    # manual figures: shown beside the automated score, never folded into it
    dim_with_manual: float | None = None
    if any(m["score"] is not None for m in manual_out) and not failed:
        num = den = 0.0
        for (ind, w_auto, earned, w_man, earned_man, _l), out in zip(tallies, indicators_out, strict=True):
            if w_auto + w_man > 0:
                combined = 100.0 * (earned + earned_man) / (w_auto + w_man)
                out["score_with_manual"] = _r(combined)
                num += ind.weight * combined
                den += ind.weight
        dim_with_manual = _r(num / den) if den > 0 else None

    links_checked = stats.get("links_checked") or 0
    link_share = min(1.0, len(unverified) / links_checked) if links_checked else (1.0 if unverified else 0.0)
    weight_share = excluded_weight / total_auto_weight if total_auto_weight else 0.0
    return {
        "dimension": _r(dimension) if not failed else None,
        "indicators": indicators_out,
        "rubric_version": rubric.version,
        "weights_note": rubric.weights_note_zh,
        "weights_note_en": rubric.weights_note_en,
        "deductions": deductions,
        "indeterminate": {"findings": indeterminate, "criteria": excluded,
                          "weight_share": _r(weight_share), "link_share": _r(link_share),
                          "share": _r(max(weight_share, link_share))},
        "unscored": unscored,
        "manual": {"supplied": any(m["score"] is not None for m in manual_out),
                   "criteria": manual_out, "dimension_with_manual": dim_with_manual,
                   "unknown": sorted(k for k in manual if k not in {m["id"] for m in manual_out})},
    }


def _judge(c: Criterion, mine: _Tally, site: dict[str, Any], a11y: dict[str, Any],
           stats: dict[str, Any], failed: bool) -> tuple[str | None, float, dict[str, Any]]:
    """(indeterminate reason or None, points lost on the criterion's own weight, evidence info).

    Excluded with findings only when the site failed or the accessibility run did not: score_site
    keeps those findings' summaries (pre_excluded); the other reasons need no finding or, for
    presence, keep the summaries presence criteria always keep."""
    if failed:
        return "site-failed", 0.0, {}
    if "accessibility" in c.requires and a11y.get("status") != "ok":
        return f"accessibility-{a11y.get('status') or 'not_run'}", 0.0, {}
    for block in c.requires:  # findings of the criterion prove that its check ran
        if block != "accessibility" and not isinstance(site.get(block), dict) and not mine:
            return f"{block}-not-checked", 0.0, {}
    fps = mine.fps
    info: dict[str, Any] = {"fingerprints": fps, "rules": mine.rules, "findings": len(mine)}
    if c.method == "per_page_share":
        pages = mine.pages
        total = (a11y.get("pages_tested") if c.pages_from == "accessibility" else stats.get("pages")) or 0
        denominator = max(int(total), len(pages))
        if denominator == 0:
            return "no-pages", 0.0, {}
        info.update(pages=len(pages), pages_total=denominator)
        return None, c.weight * len(pages) / denominator, info
    if c.method == "capped_deduction":
        cap = c.cap if c.cap is not None else c.weight
        info.update(points_each=c.points, cap=cap)
        return None, min(cap, (c.points or 0.0) * len(mine)), info
    if c.method == "pass_fail":
        if not mine and c.features and all(_feature_state(site, p) is None for p in c.features):
            return "unverified", 0.0, {}  # nothing failed, but what would pass was never verified
        return None, (c.weight if mine else 0.0), info
    # presence: the summaries decide; a finding naming the feature says "absent" when they are silent
    claims = list(zip((x["rule"] for x in mine.summaries), mine.items, strict=True))
    states: dict[str, bool] = {}
    for path in c.features:
        state = _feature_state(site, path)
        if state is None and any(_claims(c, rule, item, path) for rule, item in claims):
            state = False
        if state is not None:
            states[path] = state
    if not states:
        return "features-not-checked", 0.0, {}
    found = [p for p, ok in states.items() if ok]
    absent = [p for p, ok in states.items() if not ok]
    lost = (0.0 if found else c.weight) if c.any_feature else c.weight * len(absent) / len(states)
    info.update(fingerprints=[fp for (rule, item), fp in zip(claims, fps, strict=True)
                              if any(_claims(c, rule, item, p) for p in absent)],
                found=found, missing_features=absent, features_judged=len(states))
    return None, lost, info


def _claims(c: Criterion, rule: Any, item: str, path: str) -> bool:
    """Does a finding of `rule` with evidence `item` (as text) report feature `path` as absent?
    (`missing-<name>`, or a listed rule whose evidence `item` is the §7 item number of a
    `disclosure.item.N` feature)."""
    name = path.rsplit(".", 1)[-1]
    if rule == f"missing-{name}":
        return True
    if path.startswith("disclosure.item.") and rule in c.rules:
        return item == name
    return False


def _deduction(ind: Indicator, c: Criterion, info: dict[str, Any], points: float,
               dim_points: float) -> dict[str, Any]:
    if c.method == "per_page_share":
        formula = f"{c.weight:g} × {info['pages']}/{info['pages_total']}"
    elif c.method == "capped_deduction":
        formula = f"min({info['cap']:g}, {info['points_each']:g} × {info['findings']})"
    elif c.method == "pass_fail":
        formula = f"{c.weight:g} (pass/fail)"
    else:
        formula = f"{c.weight:g} × {len(info['missing_features'])}/{info['features_judged']}"
    out = {"indicator": ind.id, "criterion": c.id, "name": c.name_zh, "name_en": c.name_en,
           "source": c.source, "method": c.method, "weight": c.weight, "lost": _r(info["lost"]),
           "formula": formula, "points": _r(points), "dimension_points": _r(dim_points),
           "rules": info.get("rules", {}), "findings": info.get("findings", 0),
           "fingerprints": info.get("fingerprints", [])}
    for key in ("pages", "pages_total", "missing_features", "found"):
        if key in info:
            out[key] = info[key]
    return out


def score_results(results: dict[str, Any], rubric: Rubric, manual: dict[str, Any] | None = None) -> None:
    """Score every site of a results.json dict in place and record the rubric version at the top."""
    for site in results.get("sites") or []:
        if isinstance(site, dict):
            site["scores"] = score_site(site, rubric, manual)
    results["rubric"] = {"version": rubric.version}


__all__ = ["Rubric", "RubricError", "load_manual", "load_rubric", "score_results",
           "score_site"]
