"""A finding's identity: the one definition used by findings, the audit, scoring, trends and reports.

Two questions share one anchor (what tells a finding apart on its page):
- `fingerprint`: the same problem across runs — results.json `findings[].fingerprint`, compared by
  `--baseline` gates, trends (checks/trend.py) and reports. Users keep baselines of these values, so
  the formula is frozen: sha1 of rule, page and target-or-anchor, 16 hex digits
  (tests/test_identity.py pins it against stored results and the demo).
- `run_key`: the same finding twice within one run — the contract's de-duplication on
  (rule, page, target) in checks/audit.py. It keeps "no target" apart from a target equal to the
  anchor, so it is finer than the fingerprint and never merges findings the fingerprint would not.

The anchor of a finding without a target is its evidence `example` or `item`: the ten
`missing-disclosure-category` findings of one page are ten findings, not one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

_SEP = "\x1f"


def anchor(target: str | None, evidence: Mapping[str, Any]) -> str:
    """What tells apart findings of one rule on one page: the target, else evidence example/item."""
    return target or str(evidence.get("example") or evidence.get("item") or "")


def fingerprint(rule: str, page: str, target: str | None, evidence: Mapping[str, Any]) -> str:
    """Stable identity across runs (rule + page + target/anchor), for trends and baselines."""
    raw = _SEP.join((rule, page, anchor(target, evidence)))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


def fingerprint_of(finding: Mapping[str, Any]) -> str:
    """A results.json finding's fingerprint: the stored one, computed when results lack it."""
    fp = finding.get("fingerprint")
    if isinstance(fp, str) and fp:
        return fp
    evidence = finding.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        evidence = dict(evidence)  # as a hand-made file may give it: pairs
    return fingerprint(str(finding.get("rule") or ""), str(finding.get("page") or ""), finding.get("target"),
                       evidence)


def run_key(rule: str, page: str, target: str | None, evidence: Mapping[str, Any]) -> bytes:
    """A 12-byte digest telling findings of one run apart (180,000 of them at 100,000 pages, issue 6)."""
    untargeted = "" if target else anchor(None, evidence)
    raw = _SEP.join((rule, page, target or "", untargeted, "t" if target is None else ""))
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=12).digest()


__all__ = ["anchor", "fingerprint", "fingerprint_of", "run_key"]
