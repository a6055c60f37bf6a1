"""The newcomer's first command, end to end: serve the demo agency, audit it (accessibility included),
and compare every finding, §7 item, date and page with the machine-readable answer key."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.store import Store
from disclosure_audit.demo import compare_findings, load_answer_key, serve_demo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run the real CLI's demo path through its library function, with the demo server kept up."""
    from urllib.parse import urlsplit

    from disclosure_audit.demo import DEMO_AGENCY, demo_today
    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site

    out = tmp_path_factory.mktemp("demo")
    with serve_demo() as demo:
        opts = AuditOptions(url=demo.url, out_dir=out, today=demo_today(), agency_name=DEMO_AGENCY["name"],
                            agency_code=DEMO_AGENCY["code"], group=DEMO_AGENCY["group"])
        opts.check_options["badge_hosts"] = [urlsplit(demo.external_url).hostname]
        opts.a11y["sample_size"] = "all"  # as `disclosure-audit demo` does
        started = time.monotonic()
        results = audit_site(opts)
        elapsed = time.monotonic() - started
        key = load_answer_key(demo)
        store = Store(f"sqlite:///{out / 'audit.sqlite'}")
        facts = store.load_site_facts(1)
        store.close()
        yield {"results": results, "site": results["sites"][0], "demo": demo, "key": key, "out": out,
               "facts": facts, "elapsed": elapsed}


def test_findings_match_the_answer_key_exactly(demo_run):
    site = demo_run["site"]
    satisfied = {"badge_hosts"} | ({"accessibility"} if site["accessibility"]["status"] == "ok" else set())
    comparison = compare_findings(site["findings"], demo_run["demo"], satisfied=satisfied)
    assert comparison.ok, comparison.describe()


def test_accessibility_ran_with_the_vendored_axe(demo_run):
    a11y = demo_run["site"]["accessibility"]
    assert a11y["status"] == "ok", a11y.get("detail")
    assert a11y["axe_version"] == demo_run["key"]["accessibility"]["axe_version"]
    found = {}
    for f in demo_run["site"]["findings"]:
        if f["check"] == "accessibility" and not f["rule"].startswith("tw-"):
            found.setdefault(f["page"], []).append(f["rule"])
    expected = {demo_run["demo"].absolute(path): rules
                for path, rules in demo_run["key"]["accessibility"]["violations"].items()}
    assert found == expected


def test_disclosure_items_match(demo_run):
    expected = demo_run["key"]["disclosure"]
    got = demo_run["site"]["disclosure"]
    assert got["section_urls"] == expected["section_urls"]
    for want, have in zip(expected["categories"], got["categories"], strict=True):
        assert (have["item"], have["found"]) == (want["item"], want["found"])
        for url in want.get("evidence_includes", []):
            assert url in have["evidence"]


def test_last_update_dates_match(demo_run):
    dates = {d["page"]: d for d in demo_run["site"]["staleness"]["dates"]}
    for want in demo_run["key"]["last_update"]:
        have = dates.get(want["page"])
        if want["date"] is None:
            assert have is None or have.get("date") is None
        else:
            assert (have["date"], have["source"]) == (want["date"], want["source"]), want["page"]


def test_crawled_pages_match(demo_run):
    expected = set(demo_run["key"]["crawl"]["pages"])
    crawled = {p.url for p in demo_run["facts"].pages}
    assert crawled == expected


def test_fingerprints_are_the_stored_ones(demo_run):
    """Fingerprints stay byte for byte what users' baselines hold (checks.identity): the demo's
    findings, with its two hosts written as in tests/data/demo_fingerprints.json (made before the
    identity moved to checks/identity.py), give the stored fingerprints. A change to the demo's
    findings regenerates that file; a change to the fingerprint formula must not."""
    from checks.identity import fingerprint_of

    demo = demo_run["demo"]
    hosts = {demo.url.rstrip("/"): "http://demo.invalid", demo.external_url.rstrip("/"): "http://external.invalid"}

    def rewrite(node):
        if isinstance(node, dict):
            return {k: rewrite(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        if isinstance(node, str):
            for real, stored in hosts.items():
                node = node.replace(real, stored)
        return node

    got, findings = [], list(demo_run["site"]["findings"])
    for f in findings:
        assert f["fingerprint"] == fingerprint_of({k: v for k, v in f.items() if k != "fingerprint"})
        bare = rewrite({k: f[k] for k in ("rule", "page", "target", "evidence")})
        got.append((bare["rule"], bare["page"], bare["target"] or "", fingerprint_of(bare)))
    stored = json.loads((ROOT / "tests" / "data" / "demo_fingerprints.json").read_text(encoding="utf-8"))
    assert sorted(got) == sorted((s["rule"], s["page"], s["target"] or "", s["fingerprint"]) for s in stored)


def test_robots_disallowed_path_was_never_requested(demo_run):
    assert not demo_run["demo"].requested("/private/")


def test_reports_are_written_and_scored(demo_run):
    out = demo_run["out"]
    for name in ("results.json", "report.html", "findings.csv", "report.xlsx", "report.ods", "junit.xml",
                 "results.sarif"):
        assert (out / name).stat().st_size > 0, name
    scores = demo_run["site"]["scores"]
    assert 0 < scores["dimension"] < 100
    assert [i["id"] for i in scores["indicators"]] == ["disclosure", "retrieval", "online_services",
                                                        "e_participation"]


def test_demo_command_runs_under_a_minute(tmp_path):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "disclosure_audit.cli", "demo", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "臺灣示範市政府環境保護局：ok" in proc.stdout
    assert "report.html" in proc.stdout
    assert elapsed < 60, f"demo took {elapsed:.1f} s"
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["sites"][0]["agency"]["code"] == "399990100E"


def test_every_emitted_rule_is_in_rules_yaml_and_the_rules_block(demo_run):
    """rules.yaml ↔ code (issue 21): each finding's id is a rules.yaml entry of the same family whose
    severity it may carry (or an axe-core id of the accessibility family), and results.json `rules`
    describes it."""
    from checks.rules import rule_set_of, rules

    table, block = rules(), demo_run["results"]["rules"]
    for f in demo_run["site"]["findings"]:
        rule = table.get(f["rule"])
        if rule is None:
            assert rule_set_of(f["check"]) is not None, f["rule"]
        else:
            assert rule.check == f["check"] and rule.allows(f["severity"]), (f["rule"], f["check"], f["severity"])
        assert block[f["rule"]]["check"] == f["check"]
    assert set(block) >= set(table)


def test_every_demo_document_carries_a_title_in_its_properties(demo_run):
    """document-title-missing is judged on the demo's documents and none fires: each one has a title."""
    stored = {d["url"].rsplit("/", 1)[-1]: (d["properties"] or {}).get("title")
              for d in demo_run["facts"].artifacts.documents["documents"]}
    assert demo_run["site"]["content"]["document_titles"] == {"documents": len(stored), "judged": len(stored),
                                                              "untitled": 0}
    assert len(stored) == 18 and all(stored.values())  # 14 PDF (Info /Title), 2 ODT + 1 ODS (meta.xml), 1 DOCX
    assert (stored["petition-letter.odt"], stored["stats-113.ods"]) == ("人民陳情書", "113年業務統計年報")
