"""The axe-core engine against a real headless Chromium and pages served from 127.0.0.1.

Covers: a known violation is found (also inside a same-origin iframe), the four axe buckets are kept,
a slow page is retried once in a fresh browser and then recorded as failed without stopping the run,
a missing chromedriver gives status "not_run" with the reason, a remote WebDriver endpoint (a local
`chromedriver --port`) works, and the auditor's sample (select_sample) is chosen as documented.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import ValidationError

from checks.facts import Agency, SiteFacts
from crawler.a11y import A11yOptions, run_accessibility, select_sample, template_id, template_signature
from crawler.extract import extract_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"

needs_browser = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()), reason="Chromium/chromedriver not installed in /usr/bin"
)

BAD_PAGE = """<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>壞頁</title></head>
<body><main><h1>最新消息</h1>
<img src="/logo.png" id="logo-noalt">
<p style="background-image:url(/bg.png); color:#777">淺色字在背景圖上</p>
<iframe src="/frame.html" title="內嵌"></iframe>
</main></body></html>"""
FRAME_PAGE = """<!doctype html><html lang="en"><head><title>frame</title></head>
<body><main><img src="/in-frame.png" class="framed"></main></body></html>"""
GOOD_PAGE = """<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>好頁</title></head>
<body><main><h1>首頁</h1><img src="/logo.png" alt="機關標誌"><p>內容</p></main></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?")[0]
        _Handler.hits[path] = _Handler.hits.get(path, 0) + 1
        if path == "/slow.html":
            time.sleep(8)
        body = {"/bad.html": BAD_PAGE, "/frame.html": FRAME_PAGE, "/good.html": GOOD_PAGE, "/slow.html": GOOD_PAGE}
        if path in body:
            data = body[path].encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            data = b"not found"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.request_queue_size = 128
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _opts(**kw) -> A11yOptions:
    base = {"page_timeout_s": 10, "script_timeout_s": 10, "extra_args": [LOOPBACK_ONLY]}
    base.update(kw)
    return A11yOptions(**base)


def _rule(bucket: list[dict], rule: str) -> dict | None:
    return next((item for item in bucket if item["id"] == rule), None)


@needs_browser
def test_known_violation_found_with_four_buckets_and_iframe(site: str) -> None:
    run = run_accessibility([(f"{site}/bad.html", "home", "tpl-a"), (f"{site}/good.html", "random", "tpl-b")], _opts())
    assert run.status == "ok" and run.detail is None
    assert run.axe_version == "4.10.2"
    assert run.browser_starts == 1  # one browser reused across pages
    bad, good = run.results
    assert (bad.reason, bad.template, bad.status) == ("home", "tpl-a", "ok")
    image_alt = _rule(bad.violations, "image-alt")
    assert image_alt is not None and image_alt["impact"] == "critical"
    assert "wcag111" in image_alt["tags"]
    targets = [n["target"] for n in image_alt["nodes"]]
    assert ["#logo-noalt"] in targets
    assert ["iframe", "img"] in targets  # axe was injected in the same-origin frame too
    assert image_alt["nodes_total"] == 2
    # the four buckets are all kept
    assert _rule(bad.incomplete, "color-contrast") is not None  # text over a background image
    assert _rule(bad.passes, "document-title") is not None
    assert _rule(bad.inapplicable, "video-caption") is not None
    assert _rule(good.violations, "image-alt") is None
    assert _rule(good.passes, "image-alt") is not None


@needs_browser
def test_slow_page_retried_once_then_failed_and_run_goes_on(site: str) -> None:
    _Handler.hits.pop("/slow.html", None)
    pages = [(f"{site}/slow.html", "random", "t"), (f"{site}/good.html", "random", "t")]
    started = time.monotonic()
    run = run_accessibility(pages, _opts(page_timeout_s=3))
    elapsed = time.monotonic() - started
    slow, good = run.results
    assert slow.status == "failed"
    assert slow.error == "page load timeout: the page did not load within 3 s"
    assert slow.violations == [] and slow.passes == []
    assert _Handler.hits["/slow.html"] == 2  # tried, browser restarted, retried once
    assert good.status == "ok", good.error  # the next page gets a fresh, working browser
    assert run.browser_starts == 3
    assert run.status == "ok" and run.detail == "1 page(s) failed"
    assert elapsed < 40


def test_missing_chromedriver_is_not_run_with_reason(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-chromedriver"
    run = run_accessibility([("http://127.0.0.1:9/", "home", "t")], A11yOptions(chromedriver=str(missing)))
    assert run.status == "not_run"
    assert run.detail.startswith(f"chromedriver not found at '{missing}'")
    assert "chromium-driver" in run.detail
    assert run.results == []
    run = run_accessibility([("http://127.0.0.1:9/", "home", "t")], A11yOptions(chromium=str(missing)))
    assert run.status == "not_run" and run.detail.startswith(f"Chromium not found at '{missing}'")


def test_env_var_paths_and_option_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCLOSURE_AUDIT_CHROMEDRIVER", "/opt/x/chromedriver")
    monkeypatch.setenv("DISCLOSURE_AUDIT_CHROMIUM", "/opt/x/chromium")
    opts = A11yOptions()
    assert (opts.chromedriver, opts.chromium) == ("/opt/x/chromedriver", "/opt/x/chromium")
    assert A11yOptions(sample_size="all").sample_size == "all"
    assert A11yOptions(sample_size="12").sample_size == 12
    with pytest.raises(ValidationError, match="positive number or 'all'"):
        A11yOptions(sample_size="many")
    with pytest.raises(ValidationError, match="at least 1"):
        A11yOptions(sample_size=0)
    with pytest.raises(ValidationError, match="must be an http"):
        A11yOptions(webdriver_url="ftp://grid.invalid")
    # options reach axe as JSON text (axe-selenium-python would print a Python dict)
    assert A11yOptions(rules=["image-alt"]).axe_options_json().startswith('{"iframes": true')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_browser
def test_remote_webdriver_endpoint(site: str, tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}", "--allowed-ips=127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        run = run_accessibility(
            [(f"{site}/bad.html", "home", "t")],
            _opts(webdriver_url=f"http://127.0.0.1:{port}", remote_chromium=str(CHROMIUM),
                  chromedriver="/nonexistent/local/driver"),  # the local driver is not used at all
        )
        assert run.status == "ok", run.detail
        assert _rule(run.results[0].violations, "image-alt") is not None
    finally:
        proc.terminate()
        proc.wait(10)


def test_unreachable_remote_endpoint_is_not_run() -> None:
    port = _free_port()  # nothing listens there
    run = run_accessibility([("http://127.0.0.1:9/", "home", "t")], _opts(webdriver_url=f"http://127.0.0.1:{port}"))
    assert run.status == "not_run"
    assert run.detail.startswith(f"could not start the browser (http://127.0.0.1:{port})")


# ------------------------------------------------------------------------------------------------
# sampling

_BASE = "https://www.example.gov.tw"


def _page(path: str, body: str, title: str = "機關網站") -> str:
    return f"<html lang='zh-Hant'><head><title>{title}</title></head><body>{body}</body></html>"


def _site(n_news: int = 30) -> SiteFacts:
    nav = (
        "<a href='/disclosure.html'>主動公開資訊</a><a href='/sitemap.html'>網站導覽</a>"
        "<a href='/contact.html'>聯絡我們</a><form action='/search.aspx' role='search'>"
        "<input name='q' type='text'><input type='hidden' name='site' value='1'></form>"
    )
    html = {
        "/": _page("/", nav + "<h1>首頁</h1><h2>最新消息</h2>"),
        "/disclosure.html": _page("", "<h1>主動公開資訊</h1><h2>法規</h2>"),
        "/sitemap.html": _page("", "<h1>網站導覽</h1>"),
        "/contact.html": _page("", "<h1>聯絡我們</h1>"),
        "/apply.html": _page("", "<h1>線上申辦</h1><form action='/apply'><input name='name'></form>"),
    }
    for i in range(1, n_news + 1):
        html[f"/news/{i}.html"] = _page("", f"<h1>新聞</h1><h2>第{i}則</h2><h3>附件</h3><h3>相關</h3>")
    for i in range(1, 6):
        html[f"/law.aspx?id={i}"] = _page("", "<h1>法規</h1><h4>條文</h4>")
    facts = SiteFacts(agency=Agency(name="測試機關", url=_BASE + "/"))
    for depth, (path, text) in enumerate(html.items()):
        parsed = extract_page(text, _BASE + path)
        parsed.facts.status, parsed.facts.content_type, parsed.facts.depth = 200, "text/html", min(depth, 2)
        facts.pages.append(parsed.facts)
        facts.links.extend(parsed.links)
    return facts


def test_sample_always_includes_the_auditor_pages_then_templates_then_seeded_random() -> None:
    facts = _site()
    sample = select_sample(facts, A11yOptions(sample_size=12, seed=7))
    reasons = {url.replace(_BASE, ""): reason for url, reason, _ in sample}
    assert reasons["/"] == "home"
    assert reasons["/disclosure.html"] == "disclosure"
    assert reasons["/sitemap.html"] == "sitemap"
    assert reasons["/apply.html"] == "form"
    assert reasons["/contact.html"] == "contact"
    # no crawled results page: the GET search form is probed with a neutral query
    search = [u for u, r, _ in sample if r == "search"]
    assert search == [_BASE + "/search.aspx?q=%E6%94%BF%E5%BA%9C%E8%B3%87%E8%A8%8A%E5%85%AC%E9%96%8B&site=1"]
    templates = {t for u, r, t in sample if r != "search"}
    news_tpl = template_id(template_signature(facts.page(_BASE + "/news/1.html")))
    law_tpl = template_id(template_signature(facts.page(_BASE + "/law.aspx?id=1")))
    assert news_tpl in templates and law_tpl in templates  # one page at least per template
    assert len(sample) == 12
    assert select_sample(facts, A11yOptions(sample_size=12, seed=7)) == sample  # seeded: repeatable
    assert select_sample(facts, A11yOptions(sample_size=12, seed=8)) != sample
    # all news pages share one template; the 5 law pages another
    assert len({template_signature(p) for p in facts.pages if "/news/" in p.url}) == 1
    assert len({template_signature(p) for p in facts.pages if "law.aspx" in p.url}) == 1


def test_sample_all_means_every_page() -> None:
    facts = _site(n_news=8)
    sample = select_sample(facts, A11yOptions(sample_size="all"))
    crawled = {p.url for p in facts.pages}
    assert crawled <= {u for u, _, _ in sample}
    assert len([u for u, _, _ in sample if u in crawled]) == len(crawled)


@needs_browser
def test_a11y_command_tests_exactly_the_given_pages(site: str, tmp_path: Path) -> None:
    import argparse
    import json

    from disclosure_audit.a11y_command import run_a11y_command

    out = tmp_path / "out"
    args = argparse.Namespace(urls=[f"{site}/bad.html", f"{site}/good.html"], out=out, today=None,
                              webdriver_url=None, lang="zh-TW", quiet=True)
    assert run_a11y_command(args) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    entry = results["sites"][0]
    assert entry["accessibility"]["status"] == "ok" and entry["accessibility"]["pages_tested"] == 2
    assert entry["accessibility"]["axe_version"] == "4.10.2"
    image_alt = [f for f in entry["findings"] if f["rule"] == "image-alt"]
    assert [f["page"] for f in image_alt] == [f"{site}/bad.html"]
    assert image_alt[0]["evidence"]["wcag"] == ["1.1.1"] and image_alt[0]["severity"] == "error"
    assert [s["reason"] for s in entry["accessibility"]["sample"]] == ["given", "given"]
