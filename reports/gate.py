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

Findings are read as a stream (a list or a StreamedList, issue 6): at most two passes over a site's
findings (its unverified links, when the scores do not say or --fail-on asks; then the failing ones
with --fail-on), keeping fingerprints and counts, never the findings. With a StreamedList the
failing findings are handed back as a StreamedList too, read again when someone iterates them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from checks.identity import fingerprint_of
from reports.streaming import StreamedList, items_of

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
    # a list when every site's findings are a list; a StreamedList (re-read on each iteration)
    # when some site's findings are streamed
    failing_findings: list[dict[str, Any]] | StreamedList = field(default_factory=list)


def _indeterminate_block(site: dict[str, Any]) -> dict[str, Any]:
    scores = site.get("scores") if isinstance(site.get("scores"), dict) else {}
    return scores.get("indeterminate") if isinstance(scores.get("indeterminate"), dict) else {}


def _unverified(site: dict[str, Any]) -> tuple[set[str], set[Any]]:
    """Fingerprints and targets of the site's unverified-link findings (one pass)."""
    fps: set[str] = set()
    targets: set[Any] = set()
    for f in items_of(site.get("findings")):
        if isinstance(f, dict) and f.get("rule") == "unverified-link":
            fps.add(fingerprint_of(f))
            try:
                targets.add(f.get("target"))
            except TypeError:  # an unhashable target in a hand-made file: nothing to count it by
                pass
    return fps, targets


def _indeterminate_fps(site: dict[str, Any], unverified_fps: set[str]) -> set[str]:
    fps = {str(f.get("fingerprint")) for f in _indeterminate_block(site).get("findings") or [] if isinstance(f, dict)}
    # results without scores: unverified links are indeterminate by contract
    return fps | unverified_fps


def _indeterminate_share(site: dict[str, Any], unverified: Callable[[], tuple[set[str], set[Any]]]) -> float:
    ind = _indeterminate_block(site)
    if isinstance(ind.get("share"), int | float):
        return float(ind["share"])
    checked = (site.get("stats") or {}).get("links_checked") or 0
    return min(1.0, len(unverified()[1]) / checked) if checked else 0.0


def _name(site: dict[str, Any]) -> str:
    agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
    return str(agency.get("name") or agency.get("url") or "?")[:120]


def evaluate_gate(results: dict[str, Any], fail_under: float | None, fail_on: str | None,
                  baseline: dict[str, Any] | None, max_indeterminate_share: float = 0.5,
                  lang: str = "zh-TW") -> GateResult:
    """Apply the gate to every site of `results`; the worst outcome decides the exit code.

    Per site at most two passes over its findings (see the module docstring); the baseline's
    findings are read once, for their fingerprints."""
    t = _MSG.get(lang, _MSG["zh-TW"])
    if fail_on is not None and fail_on not in ("error", "warning"):
        raise ValueError(f"--fail-on: expected error or warning, got {fail_on!r}")
    sites = [s for s in results.get("sites") or [] if isinstance(s, dict)]
    if not sites:
        return GateResult(EXIT_INCOMPLETE, f"{t['incomplete']}: {t['no_sites']}", [t["no_sites"]])
    known: set[str] | None = None
    if baseline is not None:
        known = {fingerprint_of(f) for s in baseline.get("sites") or [] if isinstance(s, dict)
                 for f in items_of(s.get("findings")) if isinstance(f, dict)}

    incomplete: list[str] = []
    failed: list[str] = []
    # per site with failing findings, in site order: (its hits, None) when its findings are a list;
    # (its StreamedList, the test a finding fails) when streamed: filtered again when read
    parts: list[tuple[Iterable[dict[str, Any]], Callable[[Any], bool] | None]] = []
    total = 0
    for site in sites:
        name = _name(site)
        if site.get("status") == "failed":
            incomplete.append(t["failed_site"].format(agency=name, detail=str(site.get("detail") or "-")[:200]))
            continue
        unverified = functools.cache(functools.partial(_unverified, site))  # read only if needed
        share = _indeterminate_share(site, unverified)
        if share > max_indeterminate_share:
            incomplete.append(t["indeterminate"].format(agency=name, share=share, limit=max_indeterminate_share))
        if fail_under is not None:
            score = (site.get("scores") or {}).get("dimension")
            if not isinstance(score, int | float):
                incomplete.append(t["not_scored"].format(agency=name, limit=fail_under))
            elif score < fail_under:
                failed.append(t["under"].format(agency=name, score=score, limit=fail_under))
        if fail_on is not None:
            is_hit = _failing_test(_indeterminate_fps(site, unverified()[0]), known, _RANK[fail_on])
            findings = items_of(site.get("findings"))
            stream = isinstance(findings, StreamedList)
            hits: list[dict[str, Any]] = []
            n, first = 0, None
            for f in findings:
                if is_hit(f):
                    n += 1
                    if first is None:
                        first = f
                    if not stream:
                        hits.append(f)
            if first is not None:
                parts.append((findings, is_hit) if stream else (hits, None))
                total += n
                failed.append(t["findings"].format(agency=name, n=n, new=t["new"] if known is not None else "",
                                                   level=fail_on, rule=first.get("rule"),
                                                   page=str(first.get("page"))[:200]))
    failing: list[dict[str, Any]] | StreamedList
    if any(test is not None for _, test in parts):
        failing = StreamedList(lambda: (f for src, test in parts for f in src if test is None or test(f)), total)
    else:
        failing = [f for hits, _ in parts for f in hits]
    reasons = incomplete + failed
    if incomplete:
        return GateResult(EXIT_INCOMPLETE, t["incomplete"] + ":\n- " + "\n- ".join(reasons), reasons, failing)
    if failed:
        return GateResult(EXIT_FAIL, t["fail"] + ":\n- " + "\n- ".join(reasons), reasons, failing)
    return GateResult(EXIT_PASS, t["pass"].format(n=len(sites)), [], [])


def _failing_test(skip: set[str], known: set[str] | None, rank: int) -> Callable[[Any], bool]:
    """Does a finding fail the gate: at or above `rank`, not indeterminate, not in the baseline."""
    def test(f: Any) -> bool:
        if not isinstance(f, dict) or _RANK.get(str(f.get("severity")), -1) < rank:
            return False
        fp = fingerprint_of(f)
        return fp not in skip and (known is None or fp not in known)
    return test
