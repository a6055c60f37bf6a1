"""Trend: score history across runs and new/fixed/unchanged findings matched by fingerprint."""

from __future__ import annotations

from checks.identity import fingerprint_of
from checks.trend import annotate_trend


def f(rule: str, page: str, target: str | None = None) -> dict:
    out = {"check": "links", "rule": rule, "severity": "error", "page": page, "target": target,
           "detail": "x", "evidence": {}}
    out["fingerprint"] = fingerprint_of(out)
    return out


def entry(run_id: str, dimension: float | None, findings: list[dict], status: str = "ok") -> dict:
    return {"agency": {"name": "測試機關", "url": "https://a.example/"}, "status": status,
            "run": {"id": run_id, "finished_at": f"{run_id}T00:00:00Z", "today": run_id},
            "scores": {"dimension": dimension}, "findings": findings}


def test_history_and_changes_by_fingerprint() -> None:
    a, b, c = f("broken-link", "https://a.example/1", "https://a.example/x"), \
        f("stale-page", "https://a.example/2"), f("broken-link", "https://a.example/3", "https://a.example/y")
    old = entry("2024-01-01", 60.0, [a, b])
    failed = entry("2024-06-01", None, [], status="failed")
    current = entry("2025-01-01", 72.5, [dict(b, detail="reworded"), c])
    # a finding without a stored fingerprint still matches (computed the same way)
    current["findings"][0].pop("fingerprint")
    annotate_trend(current, [old, failed])
    assert current["history"] == [
        {"run_id": "2024-01-01", "finished_at": "2024-01-01T00:00:00Z", "today": "2024-01-01", "dimension": 60.0},
        {"run_id": "2024-06-01", "finished_at": "2024-06-01T00:00:00Z", "today": "2024-06-01", "dimension": None},
        {"run_id": "2025-01-01", "finished_at": "2025-01-01T00:00:00Z", "today": "2025-01-01", "dimension": 72.5},
    ]
    changes = current["changes"]
    assert changes["since_run"] == "2024-01-01"  # the failed run has nothing to compare with
    assert [x["fingerprint"] for x in changes["new"]] == [c["fingerprint"]]
    assert [x["fingerprint"] for x in changes["fixed"]] == [a["fingerprint"]]
    assert changes["unchanged"] == 1


def test_first_run_has_history_but_no_changes() -> None:
    current = entry("2025-01-01", 80.0, [f("stale-page", "https://a.example/2")])
    annotate_trend(current, [])
    assert [h["run_id"] for h in current["history"]] == ["2025-01-01"]
    assert current["changes"] is None
