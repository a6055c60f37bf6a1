"""Fleet runs: configuration validation, failure isolation, resume after kill -9, the store lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paths import ROOT
from servers import Site, page

from crawler.store import Store
from disclosure_audit.fleet import FleetOptions, Lock, run_fleet
from disclosure_audit.fleet_config import ConfigError, load_config, name_quality
from disclosure_audit.options import AuditError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_errors_name_file_entry_and_field(tmp_path):
    cfg = write(tmp_path / "agencies.yaml", """
agencies:
  - name: 臺北市政府
    url: https://www.gov.taipei/
    code: 379000000A
  - name: 環保局
    url: ftp://dep.example/
  - name: 工務局
    url: https://pwd.example/
    code: ABC
""")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    message = str(err.value)
    assert f"{cfg}: agencies[1] (環保局), field `url`: Value error, must be an http:// or https:// URL" in message
    assert f"{cfg}: agencies[2] (工務局), field `code`" in message


def test_yaml_syntax_error_names_the_line(tmp_path):
    cfg = write(tmp_path / "agencies.yaml", "agencies:\n  - name: a\n    url: [unclosed\n")
    with pytest.raises(ConfigError, match=r"agencies.yaml line \d+: 不是有效的 YAML"):
        load_config(cfg)


def test_unknown_field_is_rejected(tmp_path):
    cfg = write(tmp_path / "agencies.yaml", "agencies:\n  - name: a\n    url: https://a.example/\n    depht: 3\n")
    with pytest.raises(ConfigError, match=r"agencies\[0\] \(a\), field `depht`: Extra inputs are not permitted"):
        load_config(cfg)


def test_taipei_csv_with_bom_loads(realworld):
    path = realworld / "taipei-doit__TCGweb-health-checker" / "config" / "websites.csv"
    cfg = load_config(path)
    assert len(cfg.agencies) == 466
    assert all(a.url.startswith("https://") for a in cfg.agencies)
    assert len(name_quality(cfg)) == 5
    assert sum(1 for a in cfg.agencies if a.max_depth == 2) == 1


def test_csv_bad_depth_names_the_line(tmp_path):
    cfg = tmp_path / "sites.csv"
    cfg.write_bytes("\ufeffURL,name,depth,save_html,pagination\nhttps://a.example/,甲,two,,\n".encode())
    with pytest.raises(ConfigError, match=r"sites.csv line 2: field `depth`"):
        load_config(cfg)


@pytest.fixture
def two_sites():
    a, b = Site().start(), Site(host="127.0.0.3").start()
    a.html("/", page("甲機關", '<a href="/x.html">x</a><a href="/gone">失效</a>'))
    a.html("/x.html", page("x"))
    b.html("/", page("乙機關", '<a href="/y.html">y</a>'))
    b.html("/y.html", page("y"))
    yield a, b
    a.stop()
    b.stop()


def fleet_yaml(tmp_path: Path, a: Site, b: Site) -> Path:
    return write(tmp_path / "agencies.yaml", f"""
defaults:
  accessibility: false
  timeout: 5
agencies:
  - {{name: 甲機關, url: "{a.url}/", code: 379000000A, group: 第1組}}
  - {{name: 死站, url: "http://dead-agency.invalid/", group: 第1組}}
  - {{name: 乙機關, url: "{b.url}/", group: 第2組}}
""")


def test_fleet_audits_all_and_isolates_a_dead_site(tmp_path, two_sites):
    a, b = two_sites
    out = tmp_path / "out"
    results = run_fleet(FleetOptions(config=fleet_yaml(tmp_path, a, b), out_dir=out, jobs=2, quiet=True))
    status = {s["agency"]["name"]: s["status"] for s in results["sites"]}
    assert status == {"甲機關": "ok", "死站": "failed", "乙機關": "ok"}
    dead = next(s for s in results["sites"] if s["agency"]["name"] == "死站")
    assert "dns" in dead["detail"]
    first = results["sites"][0]
    assert [f["target"] for f in first["findings"] if f["rule"] == "broken-link"] == [a.url + "/gone"]
    assert (out / "379000000A-127.0.0.1_{}".format(a.url.rsplit(":", 1)[1]) / "results.json").exists()
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(on_disk["sites"]) == 3 and on_disk["run"]["id"] == results["run"]["id"]


def test_second_run_on_same_store_is_refused(tmp_path):
    with Lock(tmp_path):
        with pytest.raises(AuditError, match="another run is active on this output folder") as err:
            with Lock(tmp_path):
                pass
    assert err.value.exit_code == 2


def test_kill_9_then_rerun_resumes_without_losses_or_duplicates(tmp_path):
    slow = Site().start()
    fast = Site(host="127.0.0.3").start()

    def slow_page(h):
        time.sleep(0.3)
        h.reply(200, {"Content-Type": "text/html; charset=utf-8"}, page("慢", ""))

    slow.html("/", page("慢機關", "".join(f'<a href="/p{i}">p{i}</a>' for i in range(30))))
    for i in range(30):
        slow.routes[f"/p{i}"] = slow_page
    fast.html("/", page("快機關", '<a href="/gone">失效</a>'))
    cfg = write(tmp_path / "agencies.yaml", f"""
defaults: {{accessibility: false, per_host: 1}}
agencies:
  - {{name: 快機關, url: "{fast.url}/"}}
  - {{name: 慢機關, url: "{slow.url}/"}}
""")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "disclosure_audit.cli", "run", "--config", str(cfg), "--out", str(out), "--jobs", "1",
           "--today", "2026-11-23", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    state_path = out / "fleet-state.json"
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the slow site is mid-crawl
        if state_path.exists() and len([h for h in slow.hits if h[1].startswith("/p")]) >= 3:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads(state_path.read_text(encoding="utf-8"))
    statuses = sorted(s["status"] for s in state["sites"].values())
    assert statuses == ["ok", "running"]
    fast_hits = len(fast.hits)

    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert len(fast.hits) == fast_hits  # the finished site was not audited again
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["run"]["id"] == state["run_id"]
    pages = {s["agency"]["name"]: s["stats"]["pages"] for s in results["sites"]}
    assert pages == {"快機關": 1, "慢機關": 31}
    store = Store(f"sqlite:///{out / 'audit.sqlite'}")
    with store.session() as s:
        from crawler.store import FindingRow, PageRow, SiteRow

        assert s.query(SiteRow).count() == 2  # the interrupted site's partial rows were replaced
        assert s.query(PageRow).count() == 32
        assert s.query(FindingRow).filter(FindingRow.rule == "broken-link").count() == 1
    store.close()
    slow.stop()
    fast.stop()
