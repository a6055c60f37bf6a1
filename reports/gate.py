"""The CI gate: decide an exit code from results.json (and optionally a baseline results.json).

Exit codes (the CLI adds 2 for usage and configuration errors):
  0  the site passes the gate;
  1  the gate failed: the dimension score is below --fail-under, or there are findings at or above
     --fail-on (with a baseline: only findings whose fingerprint is not in the baseline);
  3  the audit could not be completed: a site failed to crawl, was not scored while --fail-under
     asks for a score, or the indeterminate share is above the threshold. 3 wins over 1 because a
     verdict on an incomplete audit would be misleading; the message still lists the failures.
Indeterminate findings (unverified links, ...) never fail the gate: a site is never failed for our
own network trouble.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checks.scoring import fingerprint_of

EXIT_PASS, EXIT_FAIL, EXIT_INCOMPLETE = 0, 1, 3
_RANK = {"error": 2, "warning": 1, "notice": 0}

_MSG = {
    "zh-TW": {
        "pass": "通過：{n} 個網站符合門檻。",
        "failed_site": "{agency}：網站無法檢測（{detail}）",
        "no_sites": "results.json 中沒有任何網站",
        "not_scored": "{agency}：未能評分，無法比較 --fail-under {limit:g}",
        "indeterminate": "{agency}：無法判定的比例 {share:.0%} 高於上限 {limit:.0%}",
        "under": "{agency}：資訊流通服務分數 {score:g} 低於門檻 {limit:g}",
        "findings": "{agency}：{n} 項{new}{level}以上的發現，例如 {rule} 於 {page}",
        "new": "新增的",
        "incomplete": "檢測未完成（結束碼 3）",
        "fail": "未通過門檻（結束碼 1）",
    },
    "en": {
        "pass": "Passed: {n} site(s) meet the gate.",
        "failed_site": "{agency}: the site could not be audited ({detail})",
        "no_sites": "results.json holds no site",
        "not_scored": "{agency}: not scored, cannot compare with --fail-under {limit:g}",
        "indeterminate": "{agency}: indeterminate share {share:.0%} is above the limit {limit:.0%}",
        "under": "{agency}: information-services score {score:g} is below {limit:g}",
        "findings": "{agency}: {n} {new}finding(s) at {level} or above, e.g. {rule} on {page}",
        "new": "new ",
        "incomplete": "Audit incomplete (exit code 3)",
        "fail": "Gate failed (exit code 1)",
    },
}


@dataclass
class GateResult:
    exit_code: int
    message: str
    reasons: list[str] = field(default_factory=list)
    failing_findings: list[dict[str, Any]] = field(default_factory=list)


def _indeterminate_fps(site: dict[str, Any]) -> set[str]:
    scores = site.get("scores") if isinstance(site.get("scores"), dict) else {}
    ind = scores.get("indeterminate") if isinstance(scores.get("indeterminate"), dict) else {}
    fps = {str(f.get("fingerprint")) for f in ind.get("findings") or [] if isinstance(f, dict)}
    # results without scores: unverified links are indeterminate by contract
    fps |= {fingerprint_of(f) for f in site.get("findings") or []
            if isinstance(f, dict) and f.get("rule") == "unverified-link"}
    return fps


def _indeterminate_share(site: dict[str, Any]) -> float:
    scores = site.get("scores") if isinstance(site.get("scores"), dict) else {}
    ind = scores.get("indeterminate") if isinstance(scores.get("indeterminate"), dict) else {}
    if isinstance(ind.get("share"), int | float):
        return float(ind["share"])
    checked = (site.get("stats") or {}).get("links_checked") or 0
    unverified = {f.get("target") for f in site.get("findings") or []
                  if isinstance(f, dict) and f.get("rule") == "unverified-link"}
    return min(1.0, len(unverified) / checked) if checked else 0.0


def _name(site: dict[str, Any]) -> str:
    agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
    return str(agency.get("name") or agency.get("url") or "?")[:120]


def evaluate_gate(results: dict[str, Any], fail_under: float | None, fail_on: str | None,
                  baseline: dict[str, Any] | None, max_indeterminate_share: float = 0.5,
                  lang: str = "zh-TW") -> GateResult:
    """Apply the gate to every site of `results`; the worst outcome decides the exit code."""
    t = _MSG.get(lang, _MSG["zh-TW"])
    if fail_on is not None and fail_on not in ("error", "warning"):
        raise ValueError(f"--fail-on: expected error or warning, got {fail_on!r}")
    sites = [s for s in results.get("sites") or [] if isinstance(s, dict)]
    if not sites:
        return GateResult(EXIT_INCOMPLETE, f"{t['incomplete']}: {t['no_sites']}", [t["no_sites"]])
    known: set[str] | None = None
    if baseline is not None:
        known = {fingerprint_of(f) for s in baseline.get("sites") or [] if isinstance(s, dict)
                 for f in s.get("findings") or [] if isinstance(f, dict)}

    incomplete: list[str] = []
    failed: list[str] = []
    failing: list[dict[str, Any]] = []
    for site in sites:
        name = _name(site)
        if site.get("status") == "failed":
            incomplete.append(t["failed_site"].format(agency=name, detail=str(site.get("detail") or "-")[:200]))
            continue
        share = _indeterminate_share(site)
        if share > max_indeterminate_share:
            incomplete.append(t["indeterminate"].format(agency=name, share=share, limit=max_indeterminate_share))
        if fail_under is not None:
            score = (site.get("scores") or {}).get("dimension")
            if not isinstance(score, int | float):
                incomplete.append(t["not_scored"].format(agency=name, limit=fail_under))
            elif score < fail_under:
                failed.append(t["under"].format(agency=name, score=score, limit=fail_under))
        if fail_on is not None:
            skip = _indeterminate_fps(site)
            hits = [f for f in site.get("findings") or [] if isinstance(f, dict)
                    and _RANK.get(str(f.get("severity")), -1) >= _RANK[fail_on]
                    and fingerprint_of(f) not in skip
                    and (known is None or fingerprint_of(f) not in known)]
            if hits:
                failing.extend(hits)
                failed.append(t["findings"].format(agency=name, n=len(hits), new=t["new"] if known is not None else "",
                                                   level=fail_on, rule=hits[0].get("rule"),
                                                   page=str(hits[0].get("page"))[:200]))
    reasons = incomplete + failed
    if incomplete:
        return GateResult(EXIT_INCOMPLETE, t["incomplete"] + ":\n- " + "\n- ".join(reasons), reasons, failing)
    if failed:
        return GateResult(EXIT_FAIL, t["fail"] + ":\n- " + "\n- ".join(reasons), reasons, failing)
    return GateResult(EXIT_PASS, t["pass"].format(n=len(sites)), [], [])
