"""Click counters and redirectors are navigation, not crawler traps (issue 16 item 2).

A real Scrapy crawl of a loopback site whose menu is 64 distinct Umbraco click-counter links
(`/umbraco/surface/Ini/CountAndRedirectUrl?nodeId=N`, each a 302 to a real page), one of them the
site's 政府資訊公開 area: every counter target is requested and verified, none is skipped as a
trap, and the §7 area reached through a counter is found. An endless calendar on the same site is
still cut off as a trap.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from servers import Site, page

from crawler.spiders.agency import is_redirector
from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

COUNTER = "/umbraco/surface/Ini/CountAndRedirectUrl"
NODES = range(1001, 1065)  # 64 distinct nodeIds: more than max_query_variants (30)
AREA_NODE = 1064


def counter_route(handler) -> None:  # noqa: ANN001 - tests/servers.py Handler
    node = parse_qs(urlsplit(handler.path).query).get("nodeId", [""])[0]
    if not node.isdigit() or int(node) not in NODES:
        handler.reply(404, {"Content-Type": "text/html; charset=utf-8"}, "<title>404</title>")
        return
    handler.reply(302, {"Location": f"/node/{node}.html"}, b"")


def calendar_route(handler) -> None:  # noqa: ANN001
    month = int(parse_qs(urlsplit(handler.path).query).get("month", ["0"])[0])
    links = "".join(f'<a href="/calendar?month={m}">{m} 月</a>' for m in range(month + 1, month + 41))
    handler.reply(200, {"Content-Type": "text/html; charset=utf-8"}, page(f"行事曆 {month}", links))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    out = tmp_path_factory.mktemp("redirectors")
    site = Site().start()
    menu = "".join(f'<a href="{COUNTER}?nodeId={n}">選單 {n}</a>' for n in NODES if n != AREA_NODE)
    menu += f'<a href="{COUNTER}?nodeId={AREA_NODE}">政府資訊公開</a><a href="/calendar?month=0">行事曆</a>'
    site.html("/", page("測試部", menu))
    for n in NODES:
        title = "政府資訊公開" if n == AREA_NODE else f"第 {n} 頁"
        body = '<a href="/node/laws.html">法規查詢</a>' if n == AREA_NODE else ""
        site.html(f"/node/{n}.html", page(title, body))
    site.html("/node/laws.html", page("法規查詢"))
    site.routes[COUNTER] = counter_route
    site.routes["/calendar"] = calendar_route
    results = audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False,
                                      today=date(2026, 12, 1), download_timeout=5, max_depth=50))
    store = Store(f"sqlite:///{out / 'audit.sqlite'}")
    facts = store.load_site_facts(1)
    store.close()
    yield {"results": results, "facts": facts, "site": site}
    site.stop()


def test_counter_urls_are_recognised_and_calendars_are_not() -> None:
    assert is_redirector(f"http://x{COUNTER}?nodeId=5")
    assert is_redirector("http://x/frontend/jump.aspx?id=7")
    assert is_redirector("http://x/anything?url=https://example.invalid/")
    assert not is_redirector("http://x/calendar?month=3")
    assert not is_redirector("http://x/news/detail?id=3")  # an id alone names no redirector
    assert not is_redirector(f"http://x{COUNTER}")  # no query: nothing to tell targets apart


def test_every_counter_target_is_followed_once_and_verified(crawled) -> None:
    facts, site = crawled["facts"], crawled["site"]
    base = site.url
    for n in NODES:
        result = facts.result_for(f"{base}{COUNTER}?nodeId={n}")
        assert result is not None, n
        assert (result.status, result.error) == (200, None), n
        assert result.final_url == f"{base}/node/{n}.html"
    skipped = [s for s in facts.skipped if COUNTER in s["url"]]
    assert skipped == []
    counter_hits = [path for method, path in site.hits if path.startswith(COUNTER)]
    assert sorted(counter_hits) == sorted(f"{COUNTER}?nodeId={n}" for n in NODES)  # once each


def test_calendar_trap_is_still_cut_off(crawled) -> None:
    facts = crawled["facts"]
    reasons = {s["reason"] for s in facts.skipped if "/calendar" in s["url"]}
    assert reasons == {"trap:query-variants"}
    assert crawled["results"]["sites"][0]["coverage"]["skipped"]["trap:query-variants"] > 0


def test_the_area_behind_a_counter_is_found_with_verified_evidence(crawled) -> None:
    site = crawled["results"]["sites"][0]
    base = crawled["site"].url
    disclosure = site["disclosure"]
    assert disclosure["section_urls"] == [f"{base}{COUNTER}?nodeId={AREA_NODE}"]
    item1 = disclosure["categories"][0]
    assert (item1["status"], item1["evidence"]) == ("found", [f"{base}/node/laws.html"])
