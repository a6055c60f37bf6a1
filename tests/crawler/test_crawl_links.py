"""The foundation's link checking, end to end: a real Scrapy crawl of real loopback servers.

One site carries every behaviour issue 2 lists (HEAD refused, 301, redirect loop, 429-then-OK, 500,
refused connection, an unresolvable `.invalid` host, missing anchor, Big5, robots.txt); it is crawled
once per module and each test asserts one behaviour on the stored facts and results.json.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from paths import ROOT
from servers import Site, free_port, page

from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    out = tmp_path_factory.mktemp("crawl")
    ext = Site(host="127.0.0.2").start()
    ext.html("/ok.html", page("外部網站", '<p id="here">x</p>'))
    site = Site().start()
    dead_port = free_port()
    site.html("/", page("首頁", f"""
        <a href="/a.html">A頁</a> <a href="/missing.html">不存在的頁面</a>
        <a href="{ext.url}/ok.html#here">外部錨點正確</a> <a href="{ext.url}/ok.html#nope">外部錨點錯誤</a>
        <a href="{ext.url}/gone">外部失效</a> <a href="http://agency-site.invalid/">無法解析</a>
        <a href="http://127.0.0.1:{dead_port}/">連線被拒</a>
        <a href="mailto:mayor@example.gov.tw">信箱</a> <a href="tel:02-1234-5678">電話</a>
        <a href="javascript:void(0)">選單</a> <a href="data:text/plain,hi">資料</a>
        <a href="/doc.pdf">PDF 文件</a> <a href="/head-refused.pdf">HEAD 拒絕</a>
        <a href="/loop-a">迴圈</a> <a href="/moved">舊網址</a> <a href="/busy.pdf">忙碌</a>
        <a href="/members/">會員專區</a> <a href="/error">伺服器錯誤</a>
        <a href="/a.html#sec">段落</a> <a href="/a.html#no-such">不存在的段落</a>
        <a href="http://">格式錯誤</a> <a href="/private/secret.html">私人</a> <a href="/big5.html">舊版公告</a>
        <img src="/logo.png" alt="標誌">"""))
    site.html("/a.html", page("A頁", '<h2 id="sec">段落</h2><a href="/missing.html">又是不存在</a>'))
    site.html("/b.html", page("B頁"))
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /private/\n")
    site.routes["/doc.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 demo")
    site.routes["/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG")
    site.routes["/loop-a"] = (302, {"Location": "/loop-b"}, b"")
    site.routes["/loop-b"] = (302, {"Location": "/loop-a"}, b"")
    site.routes["/moved"] = (301, {"Location": "/b.html"}, b"")
    site.routes["/members/"] = (403, {"Content-Type": "text/html"}, b"forbidden")
    site.routes["/error"] = (500, {"Content-Type": "text/html"}, b"boom")

    def head_refused(h):
        if h.command == "HEAD":
            h.reply(405, {}, b"")
        else:
            h.reply(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")

    site.routes["/head-refused.pdf"] = head_refused
    calls = {"busy": 0}

    def busy(h):
        calls["busy"] += 1
        if calls["busy"] == 1:
            h.reply(429, {"Retry-After": "1"}, b"")
        else:
            h.reply(200, {"Content-Type": "application/pdf"}, b"%PDF")

    site.routes["/busy.pdf"] = busy
    big5 = page("舊版公告", "<p>臺北市政府公告 更新日期：113-05-20</p><a href='/a.html'>回到臺北市</a>")
    site.routes["/big5.html"] = (200, {"Content-Type": "text/html; charset=big5"}, big5.encode("cp950"))
    results = audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False,
                                      today=date(2026, 11, 23), download_timeout=5))
    store = Store(f"sqlite:///{out / 'audit.sqlite'}")
    facts = store.load_site_facts(1)
    store.close()
    yield {"results": results, "facts": facts, "site": site, "ext": ext, "out": out, "dead": dead_port}
    site.stop()
    ext.stop()


def findings(crawled, rule=None):
    site = crawled["results"]["sites"][0]
    return [f for f in site["findings"] if f["check"] == "links" and f["rule"] != "title-mismatch"
            and (rule is None or f["rule"] == rule)]


def by_target(crawled, suffix, rule=None):
    return [f for f in findings(crawled, rule) if (f["target"] or "").endswith(suffix)]


def test_results_json_follows_the_contract(crawled):
    data = json.loads((crawled["out"] / "results.json").read_text(encoding="utf-8"))
    assert data["schema"] == "disclosure-audit/1"
    assert data["tool"]["name"] == "disclosure-audit"
    assert data["run"]["today"] == "2026-11-23"
    site = data["sites"][0]
    assert site["status"] == "ok"
    assert set(site) >= {"agency", "status", "detail", "stats", "disclosure", "scores", "accessibility",
                         "findings"}
    assert site["stats"]["pages"] == 4  # /, /a.html, /moved (→ /b.html), /big5.html
    assert [c["item"] for c in site["disclosure"]["categories"]] == list(range(1, 11))
    assert site["accessibility"]["status"] == "not_run"
    for f in site["findings"]:
        assert set(f) >= {"check", "rule", "severity", "page", "target", "detail", "evidence"}
        assert f["page"].startswith("http://127.0.0.1:")


def test_dead_internal_link_is_reported_once_per_source_page(crawled):
    broken = by_target(crawled, "/missing.html", "broken-link")
    base = crawled["site"].url
    assert sorted(f["page"] for f in broken) == [base + "/", base + "/a.html"]
    assert broken[0]["evidence"]["kind"] == "http"
    assert broken[0]["evidence"]["status"] == 404
    texts = sorted(t for f in broken for t in f["evidence"]["link_text"])
    assert texts == ["不存在的頁面", "又是不存在"]


def test_external_404_dns_refused_500_loop_malformed_are_broken_with_their_kind(crawled):
    kinds = {f["target"].replace(crawled["site"].url, "").replace(crawled["ext"].url, "EXT"): f["evidence"]["kind"]
             for f in findings(crawled, "broken-link")}
    assert kinds["EXT/gone"] == "http"
    assert kinds["http://agency-site.invalid/"] == "dns"
    assert kinds[f"http://127.0.0.1:{crawled['dead']}/"] == "refused"
    assert kinds["/error"] == "http"
    assert kinds["/loop-a"] == "redirect-loop"
    assert kinds["http://"] == "malformed"
    assert set(kinds) == {"EXT/gone", "http://agency-site.invalid/", f"http://127.0.0.1:{crawled['dead']}/",
                          "/error", "/loop-a", "http://", "/missing.html"}


def test_head_refused_is_confirmed_with_get_and_not_broken(crawled):
    result = crawled["facts"].result_for(crawled["site"].url + "/head-refused.pdf")
    assert result.status == 200
    assert result.method == "GET"
    assert ("HEAD", "/head-refused.pdf") in crawled["site"].hits
    assert by_target(crawled, "/head-refused.pdf") == []


def test_working_document_is_verified_by_head_alone(crawled):
    result = crawled["facts"].result_for(crawled["site"].url + "/doc.pdf")
    assert (result.status, result.method) == (200, "HEAD")
    # the crawl asks HEAD only; after it, the document text gatherer (crawler/documents.py) reads it once
    assert [m for m, path in crawled["site"].hits if path == "/doc.pdf"] == ["HEAD", "GET"]


def test_429_with_retry_after_is_waited_for_and_then_ok(crawled):
    result = crawled["facts"].result_for(crawled["site"].url + "/busy.pdf")
    assert result.status == 200
    assert result.retries == 1
    assert by_target(crawled, "/busy.pdf") == []


def test_403_is_unverified_never_broken(crawled):
    [finding] = by_target(crawled, "/members/")
    assert finding["rule"] == "unverified-link"
    assert finding["severity"] == "notice"
    assert finding["evidence"]["kind"] == "blocked"


def test_301_is_followed_and_recorded(crawled):
    result = crawled["facts"].result_for(crawled["site"].url + "/moved")
    assert result.status == 200
    assert result.redirects == [crawled["site"].url + "/b.html"]
    assert by_target(crawled, "/moved") == []
    assert crawled["facts"].page(crawled["site"].url + "/moved").title == "B頁"


def test_anchors_are_checked_in_scope_and_out_of_scope(crawled):
    missing = sorted(f["target"].rsplit("/", 1)[1] for f in findings(crawled, "missing-anchor"))
    assert missing == ["a.html#no-such", "ok.html#nope"]
    [f] = by_target(crawled, "#nope", "missing-anchor")
    assert f["evidence"]["fragment"] == "nope"


def test_mailto_tel_javascript_data_are_neither_fetched_nor_reported(crawled):
    for f in findings(crawled):
        assert not (f["target"] or "").startswith(("mailto:", "tel:", "javascript:", "data:"))
    assert all("javascript" not in path for _, path in crawled["site"].hits)


def test_robots_txt_is_obeyed_and_blocked_page_recorded_not_broken(crawled):
    assert ("GET", "/private/secret.html") not in crawled["site"].hits
    assert {"url": crawled["site"].url + "/private/secret.html", "reason": "robots"} in crawled["facts"].skipped
    assert by_target(crawled, "/private/secret.html") == []
    assert crawled["results"]["sites"][0]["coverage"]["skipped"]["robots"] == 1


def test_big5_page_is_decoded(crawled):
    big5 = crawled["facts"].page(crawled["site"].url + "/big5.html")
    assert big5.title == "舊版公告"
    assert "更新日期：113-05-20" in big5.text
    assert big5.encoding == "cp950"
    assert any(link.text == "回到臺北市" for link in crawled["facts"].links_from(big5.url))


def test_external_pages_are_checked_but_never_crawled(crawled):
    assert ("GET", "/ok.html") in crawled["ext"].hits  # anchors need the body
    assert crawled["facts"].page(crawled["ext"].url + "/ok.html") is None


def test_polite_user_agent_and_footprint(crawled):
    footprint = crawled["results"]["sites"][0]["footprint"]
    assert footprint["127.0.0.1"]["requests"] >= 10
    assert footprint["127.0.0.2"]["requests"] >= 2


def test_every_link_result_records_the_method(crawled):
    for result in crawled["facts"].link_results.values():
        if result.error not in ("malformed", "robots"):
            assert result.method in ("HEAD", "GET"), result


def test_user_agent_is_honest(site, tmp_path):
    seen = {}

    def home(h):
        seen["ua"] = h.headers.get("User-Agent")
        h.reply(200, {"Content-Type": "text/html; charset=utf-8"}, page("首頁"))

    site.routes["/"] = home
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False))
    assert seen["ua"].startswith("disclosure-audit/0.1.0 (+https://")


def test_page_limit_keeps_checking_links(site, tmp_path):
    links = "".join(f'<a href="/p{i}.html">第{i}頁</a>' for i in range(10))
    site.html("/", page("首頁", links))
    for i in range(10):
        if i != 7:
            site.html(f"/p{i}.html", page(f"第{i}頁"))
    results = audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False, max_pages=3))
    entry = results["sites"][0]
    assert entry["stats"]["pages"] == 3
    assert entry["status"] == "partial"
    assert [f["target"] for f in entry["findings"] if f["rule"] == "broken-link"] == [site.url + "/p7.html"]
    assert entry["coverage"]["skipped"]["page-limit"] == 8


def test_calendar_trap_is_bounded(site, tmp_path):
    def calendar(h):
        day = int(h.path.split("=")[1]) if "=" in h.path else 0
        h.reply(200, {"Content-Type": "text/html; charset=utf-8"},
                page(f"行事曆 {day}", f'<a href="/cal?date={day - 1}">上一天</a><a href="/cal?date={day + 1}">下一天</a>'))

    site.html("/", page("首頁", '<a href="/cal?date=0">行事曆</a><a href="/a/a/a/a/x.html">深層</a>'))
    site.routes["/cal"] = calendar
    results = audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False, max_depth=500))
    entry = results["sites"][0]
    assert entry["stats"]["pages"] == 31  # home + 30 query variants of /cal
    assert entry["coverage"]["skipped"]["trap:query-variants"] >= 1
    assert entry["coverage"]["skipped"]["trap:repeated-segments"] == 1


def test_big5_without_any_declaration_is_detected(site, tmp_path):
    body = ("<html><head><title>舊版公告：臺北市政府環境保護局</title></head><body><p>本局公告事項，"
            "請市民朋友踴躍參與。更新日期：113-05-20</p></body></html>").encode("cp950")
    site.routes["/"] = (200, {"Content-Type": "text/html"}, body)
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False))
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    facts = store.load_site_facts(1)
    store.close()
    assert facts.pages[0].title == "舊版公告：臺北市政府環境保護局"


def test_run_store_keeps_every_run(site, tmp_path):
    site.html("/", page("首頁", '<a href="/x">x</a>'))
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False))
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False))
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    with store.session() as s:
        from crawler.store import FindingRow, PageRow, RunRow

        assert s.query(RunRow).filter(RunRow.status == "done").count() == 2
        assert s.query(PageRow).count() == 2
        assert s.query(FindingRow).filter(FindingRow.rule == "broken-link").count() == 2
        page_row = s.query(PageRow).first()
        assert page_row.status == 200 and page_row.content_type.startswith("text/html")
    store.close()


def test_db_option_takes_any_sqlalchemy_url(site, tmp_path):
    site.html("/", page("首頁"))
    db = tmp_path / "elsewhere.db"
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path / "out", accessibility=False,
                            db_url=f"sqlite:///{db}"))
    assert db.exists()
    assert not (tmp_path / "out" / "audit.sqlite").exists()


def test_scrapy_crawl_command_works_from_repository_root(site, tmp_path):
    import subprocess
    import sys

    site.html("/", page("首頁", '<a href="/gone.html">失效</a>'))
    root = ROOT
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "agency", "-a", f"url={site.url}/",
                           "-a", f"out={tmp_path}", "-s", "LOG_LEVEL=ERROR"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert [f["target"] for f in data["sites"][0]["findings"] if f["rule"] == "broken-link"] == [
        site.url + "/gone.html"]


def test_depth_is_the_shortest_click_path_so_a_long_pager_does_not_hide_shallow_pages(site, tmp_path):
    """A pager chain (第 1 頁 → 第 2 頁 → …) must not reach a page before its short path from the home
    page is seen: depth is clicks from home, and the depth limit must not skip shallow pages."""
    chain = 12
    site.html("/", page("首頁", "".join(f'<a href="/sec{s}/list-1.html">分類{s}</a>' for s in range(4))))
    for s in range(4):
        for n in range(1, chain + 1):
            nxt = f'<a href="/sec{s}/list-{n + 1}.html">下一頁</a>' if n < chain else ""
            items = f'<a href="/sec{(s + 1) % 4}/item.html">相關</a>' if n == chain else ""
            site.html(f"/sec{s}/list-{n}.html", page(f"分類{s} 第{n}頁", nxt + items))
        site.html(f"/sec{s}/item.html", page(f"分類{s} 文章"))
    for s in range(4):  # each section's article is also one click away from its first list page
        site.html(f"/sec{s}/list-1.html", page(f"分類{s} 第1頁", f'<a href="/sec{s}/list-2.html">下一頁</a>'
                                                                  f'<a href="/sec{s}/item.html">文章</a>'))
    # one request at a time: the queue order alone decides which path reaches a page first
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False, max_depth=20,
                            per_host_concurrency=1, settings={"CONCURRENT_REQUESTS": 1}))
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    depths = {p.url.replace(site.url, ""): p.depth for p in store.load_site_facts(1).pages}
    store.close()
    assert [depths[f"/sec{s}/item.html"] for s in range(4)] == [2, 2, 2, 2]
    assert depths[f"/sec0/list-{chain}.html"] == chain
