"""CI gate: exit 0 pass, 1 gate failed, 3 audit incomplete; a baseline lets only new findings fail."""

from __future__ import annotations

import copy
import json

import pytest
from paths import SAMPLE

from reports.gate import evaluate_gate


@pytest.fixture()
def results() -> dict:
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    data["sites"] = data["sites"][:1]  # 範例市政府, scored 75.06
    return data


def test_pass_without_thresholds(results: dict) -> None:
    gate = evaluate_gate(results, None, None, None)
    assert (gate.exit_code, gate.message) == (0, "通過：1 個網站符合門檻。")


def test_fail_under(results: dict) -> None:
    assert evaluate_gate(results, 75.0, None, None).exit_code == 0
    gate = evaluate_gate(results, 80, None, None, lang="en")
    assert gate.exit_code == 1
    assert gate.message == ("Gate failed (exit code 1):\n"
                            "- 範例市政府: information-services score 75.06 is below 80")


def test_fail_on_error_and_warning(results: dict) -> None:
    gate = evaluate_gate(results, None, "error", None)
    assert gate.exit_code == 1
    # error findings, excluding the indeterminate ones
    assert {f["rule"] for f in gate.failing_findings} == {"broken-link", "tls-error",
                                                          "missing-disclosure-category", "image-alt", "label"}
    assert len(gate.failing_findings) == 8
    warn = evaluate_gate(results, None, "warning", None)
    assert "unverified-link" not in {f["rule"] for f in warn.failing_findings}
    assert "soft-404" in {f["rule"] for f in warn.failing_findings}  # the high-confidence one
    assert len(warn.failing_findings) == 22  # 28 findings - 4 notices - 2 indeterminate


def test_notices_only_pass(results: dict) -> None:
    site = results["sites"][0]
    site["findings"] = [f for f in site["findings"] if f["severity"] == "notice"]
    assert evaluate_gate(results, None, "warning", None).exit_code == 0


def test_baseline_only_new_findings_fail(results: dict) -> None:
    baseline = copy.deepcopy(results)
    assert evaluate_gate(results, None, "error", baseline).exit_code == 0
    new = {"check": "links", "rule": "broken-link", "severity": "error", "page": "https://www.sample-city.example/",
           "target": "https://www.sample-city.example/new-404", "detail": "連結失效", "evidence": {}}
    results["sites"][0]["findings"].append(new)
    gate = evaluate_gate(results, None, "error", baseline)
    assert gate.exit_code == 1
    assert [f["target"] for f in gate.failing_findings] == ["https://www.sample-city.example/new-404"]
    assert "1 項新增的error以上的發現" in gate.message


def test_failed_site_is_incomplete() -> None:
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    gate = evaluate_gate(data, 50, "error", None)
    assert gate.exit_code == 3  # 範例衛生局 could not be crawled: 3 wins over the failures
    assert "範例衛生局：網站無法檢測（DNS 無法解析 health.sample-city.invalid）" in gate.message
    assert any("範例市政府" in r for r in gate.reasons)


def test_indeterminate_share_above_threshold_is_incomplete(results: dict) -> None:
    results["sites"][0]["scores"]["indeterminate"]["share"] = 0.6
    gate = evaluate_gate(results, None, None, None, max_indeterminate_share=0.5)
    assert gate.exit_code == 3
    assert "無法判定的比例 60% 高於上限 50%" in gate.message
    assert evaluate_gate(results, None, None, None, max_indeterminate_share=0.7).exit_code == 0


def test_unscored_site_with_fail_under_is_incomplete(results: dict) -> None:
    del results["sites"][0]["scores"]
    assert evaluate_gate(results, 60, None, None).exit_code == 3
    assert evaluate_gate(results, None, None, None).exit_code == 0


def test_no_sites_and_bad_fail_on() -> None:
    assert evaluate_gate({"sites": []}, None, None, None).exit_code == 3
    with pytest.raises(ValueError, match="--fail-on: expected error or warning"):
        evaluate_gate({"sites": []}, None, "fatal", None)
