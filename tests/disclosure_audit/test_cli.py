"""The command line: version, help, and bad input ending in one clear sentence and a defined code."""

from __future__ import annotations

import json
import subprocess
import sys

from paths import ROOT
from servers import page


def run_cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "disclosure_audit.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_version_and_help():
    proc = run_cli("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, "disclosure-audit 0.1.0")
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("crawl", "demo", "check", "report", "a11y"):
        assert command in proc.stdout


def test_malformed_url_is_a_usage_error(tmp_path):
    proc = run_cli("crawl", "not a url", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "not a valid http(s) URL" in proc.stderr


def test_unreachable_site_fails_with_a_sentence(tmp_path):
    proc = run_cli("crawl", "http://agency-site.invalid/", "--out", str(tmp_path), "--no-accessibility")
    assert proc.returncode == 3
    assert "Traceback" not in proc.stdout + proc.stderr
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    site = data["sites"][0]
    assert site["status"] == "failed"
    assert "無法連線到網站（dns）" in site["detail"]
    assert site["scores"]["dimension"] is None  # a dead site is not scored, not zeroed


def test_unwritable_out_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("crawl", "http://127.0.0.1:9/", "--out", str(blocker / "sub"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot write to the output folder" in proc.stderr


def test_bad_option_value_is_a_usage_error(tmp_path):
    proc = run_cli("crawl", "http://127.0.0.1/", "--out", str(tmp_path), "--today", "113-05-20")
    assert proc.returncode == 2
    assert "expected YYYY-MM-DD" in proc.stderr


def test_crawl_prints_a_summary_and_writes_results(site, tmp_path):
    site.html("/", page("首頁", '<a href="/gone">失效</a>'))
    proc = run_cli("crawl", site.url + "/", "--out", str(tmp_path), "--no-accessibility", "--today", "2026-11-23")
    assert proc.returncode == 0, proc.stderr
    assert "失效連結 1 個" in proc.stdout
    assert (tmp_path / "results.json").exists()
