"""Distributed mode: two workers on one real Redis frontier write to one real PostgreSQL run store.

Proves no duplicates and no losses, also when one worker is killed with SIGKILL mid-run. The servers
are started here on loopback (redis-server and PostgreSQL from Debian, installed by ./dev); the test
skips with a message when they are not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from servers import Site, free_port, page
from sqlalchemy import func, select

from checks.facts import Agency
from crawler.store import LinkResultRow, PageRow, Store
from disclosure_audit.distributed import crawl_distributed
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

PAGES = 80


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server not installed (./dev setup installs Debian's redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        pytest.skip("PostgreSQL not installed (./dev setup installs Debian's postgresql)")
    bindir = Path(initdb[-1]).parent
    workdir = Path(tempfile.mkdtemp(prefix="disclosure-audit-pg-"))  # pytest's tmp is 0700 root
    datadir = workdir / "data"
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the postgres account
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(workdir, 0o777)
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(datadir / "log"), "-w",
                    "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {datadir}", "start"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                    "audit"], check=True, capture_output=True)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/audit"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def chain_site():
    """80 slow pages (a wide frontier: the home page links them all), 4 known broken links."""
    site = Site().start()

    def make(i):
        def handler(h):
            time.sleep(0.1)
            links = "".join(f'<a href="/p{j}">第{j}頁</a>' for j in range(max(0, i - 3), min(PAGES, i + 4)))
            if i % 20 == 0:
                links += f'<a href="/gone{i}">失效{i}</a>'
            h.reply(200, {"Content-Type": "text/html; charset=utf-8"}, page(f"第{i}頁", links))
        return handler

    site.html("/", page("首頁", "".join(f'<a href="/p{i}">第{i}頁</a>' for i in range(PAGES))))
    for i in range(PAGES):
        site.routes[f"/p{i}"] = make(i)
    yield site
    site.stop()


def expected_broken(site):
    return {f"{site.url}/gone{i}" for i in range(0, PAGES, 20)}


def test_two_workers_crawl_one_site_into_postgresql_without_duplicates(chain_site, redis_url, postgres_url,
                                                                      tmp_path):
    results = audit_site(AuditOptions(url=chain_site.url + "/", out_dir=tmp_path, accessibility=False,
                                      today=date(2026, 11, 23), max_depth=200, db_url=postgres_url,
                                      workers=2, redis_url=redis_url, download_timeout=5))
    site = results["sites"][0]
    assert site["status"] == "ok"
    assert site["stats"]["pages"] == PAGES + 1
    broken = {f["target"] for f in site["findings"] if f["rule"] == "broken-link"}
    assert broken == expected_broken(chain_site)
    store = Store(postgres_url)
    facts = store.load_site_facts(1)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(PageRow)) == PAGES + 1
        assert s.scalar(select(func.count(func.distinct(PageRow.url)))) == PAGES + 1
        assert s.scalar(select(func.count()).select_from(LinkResultRow)) == len(facts.link_results)
    store.close()
    workers = {p.artifacts.worker for p in facts.pages}
    assert workers == {"w1", "w2"}  # both workers did real work
    page_hits = [path for method, path in chain_site.hits if method == "GET" and path.startswith("/p")]
    assert len(page_hits) == len(set(page_hits)) == PAGES  # each page fetched once


def test_killing_a_worker_mid_run_loses_nothing(chain_site, redis_url, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    store = Store(db_url)
    run_id = store.create_run(date(2026, 11, 23), "test", {})
    site_id = store.create_site(run_id, Agency(name="鏈狀網站", url=chain_site.url + "/"), ["127.0.0.1"])
    killed = {}

    def kill_w1_after_some_pages(procs, coordinator):
        def watch():
            deadline = time.time() + 60
            while time.time() < deadline:
                if len([h for h in chain_site.hits if h[1].startswith("/p")]) >= 20:
                    os.kill(procs["w1"].pid, signal.SIGKILL)
                    killed["at"] = len(chain_site.hits)
                    return
                time.sleep(0.05)
        threading.Thread(target=watch, daemon=True).start()

    info = crawl_distributed(chain_site.url + "/", db_url=db_url, site_id=site_id, redis_url=redis_url,
                             workers=2, max_depth=200, timeout=5, on_started=kill_w1_after_some_pages)
    assert killed, "worker w1 was never killed"
    assert info["exit_codes"]["w1"] == -signal.SIGKILL
    assert info["requeued"] >= 1  # w1 had requests in flight, and they went back on the queue
    facts = store.load_site_facts(site_id)
    urls = [p.url for p in facts.pages]
    assert len(urls) == len(set(urls)) == PAGES + 1
    assert {u for u, r in facts.link_results.items() if r.status == 404} == expected_broken(chain_site)
    store.close()
