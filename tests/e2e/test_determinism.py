"""Two audits of an unchanged site give byte-identical findings (issue 16 item 7).

A small agency site is served from loopback with a random delay per request (80 ms ± 20 %, a
different seed per audit) and crawled with several requests per host at once, so pages arrive in a
different order each time. Its 主動公開資訊 area is reachable by two paths of different depth
(`disclosure/list-1.html` one click from the home page, `disclosure/000005.html` two clicks), and it
carries what the other checks judge (broken links, stale pages, missing metadata, mismatched titles,
`#` links), so every "first seen" choice is exercised. The `findings` of results.json, fingerprints
included, must be the same bytes.
"""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import date

import pytest
from servers import Handler, Server, Site, free_port

from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

MENU = (
    '<nav><a href="/index.html">首頁</a> <a href="/disclosure/list-1.html">政府資訊公開</a> '
    '<a href="/about.html">機關介紹</a> <a href="/news/index.html">最新消息</a> '
    '<a href="#">網站導覽</a> <a href="/gone.html">舊版網站</a></nav>'
)


def html(title: str, body: str, updated: str = "2026-11-20") -> str:
    return (f'<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8"><title>{title} - 測試部</title>'
            f'</head><body>{MENU}<main><h1>{title}</h1>{body}<p>更新日期：{updated}</p></main></body></html>')


def site_pages() -> dict[str, str]:
    pages = {
        "/index.html": html("測試部", '<a href="/news/1.html">新聞一</a><a href="/news/2.html">新聞二</a>'),
        "/about.html": html("機關介紹", '<a href="/disclosure/000005.html">主動公開資訊</a>'
                                      '<a href="/org.html">組織職掌</a>'),
        "/org.html": html("組織職掌", "<p>組織</p>", updated="2019-01-01"),
        "/disclosure/list-1.html": html("主動公開資訊", (
            '<a href="/disclosure/000005.html">主動公開資訊一覽</a><a href="/disclosure/laws.html">法規查詢</a>'
            '<a href="/disclosure/budget.html">預算及決算書</a><a href="#">行政指導</a>'
            '<a href="/disclosure/petitions.html">訴願決定</a>')),
        "/disclosure/000005.html": html("主動公開資訊", (
            '<a href="/disclosure/plans.html">施政計畫</a><a href="/disclosure/meetings.html">會議紀錄</a>'
            '<a href="/disclosure/laws.html">主管法規</a><a href="/disclosure/missing.html">補助</a>')),
        "/disclosure/laws.html": html("法規查詢", "<p>法規</p>"),
        "/disclosure/budget.html": html("預算書", '<a href="/files/budget.docx">預算書.docx</a>', updated="2018-05-01"),
        "/disclosure/plans.html": html("施政計畫", "<p>計畫</p>"),
        "/disclosure/meetings.html": html("委員會會議紀錄", "<p>紀錄</p>"),
        "/news/index.html": html("最新消息", "".join(f'<a href="/news/{i}.html">新聞{i}</a>' for i in range(1, 9))),
    }
    for i in range(1, 9):
        pages[f"/news/{i}.html"] = html(f"新聞{i}", f'<a href="/news/{i % 8 + 1}.html">下一則</a>'
                                                  '<a href="/disclosure/000005.html">主動公開資訊</a>',
                                        updated=f"20{15 + i}-03-0{i}")
    return pages


def serve(seed: int, port: int) -> Site:
    """The site on `port` (the same for both audits: URLs, hence fingerprints, include it), each answer
    delayed 80 ms ± 20 % drawn from `seed` (the server's threads share one generator)."""
    rng = random.Random(seed)
    lock = threading.Lock()
    site = Site()

    def delayed(body: str | bytes, ctype: str):
        def route(handler) -> None:  # noqa: ANN001 - tests/servers.py Handler
            with lock:
                delay = rng.uniform(0.064, 0.096)
            time.sleep(delay)
            handler.reply(200, {"Content-Type": ctype}, body)
        return route

    for path, body in site_pages().items():
        site.routes[path] = delayed(body, "text/html; charset=utf-8")
    site.routes["/"] = site.routes["/index.html"]
    site.routes["/files/budget.docx"] = delayed(b"PK\x03\x04", "application/vnd.openxmlformats-officedocument"
                                                               ".wordprocessingml.document")
    site.routes["/robots.txt"] = delayed("User-agent: *\nAllow: /\n", "text/plain")
    site.server = Server((site.host, port), Handler)
    site.server.site = site
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    return site


def findings_bytes(results: dict) -> str:
    """The findings of results.json as bytes."""
    return json.dumps(results["sites"][0]["findings"], ensure_ascii=False)


@pytest.fixture(scope="module")
def two_audits(tmp_path_factory):
    runs = []
    port = free_port()
    for seed in (1, 2):
        out = tmp_path_factory.mktemp(f"determinism-{seed}")
        site = serve(seed, port)
        try:
            audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False,
                                    today=date(2026, 12, 1), per_host_concurrency=4,
                                    download_timeout=5, incremental=False))
        finally:
            site.stop()
        runs.append((json.loads((out / "results.json").read_text(encoding="utf-8")), site.url))
    return runs


def test_findings_are_byte_identical_across_arrival_orders(two_audits) -> None:
    (first, _), (second, _) = two_audits
    one, two = findings_bytes(first), findings_bytes(second)
    assert json.loads(one), "the site must have findings to compare"
    assert one == two


def test_the_area_anchor_is_the_shallowest_page(two_audits) -> None:
    for results, base in two_audits:
        disclosure = results["sites"][0]["disclosure"]
        assert disclosure["section_urls"][:2] == [f"{base}/disclosure/list-1.html", f"{base}/disclosure/000005.html"]
        missing = [f for f in results["sites"][0]["findings"] if f["rule"] == "missing-disclosure-category"]
        assert {f["page"] for f in missing} == {f"{base}/disclosure/list-1.html"}
