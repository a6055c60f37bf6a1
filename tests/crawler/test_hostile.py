"""Hostile sites (issue 7): traps, huge and endless bodies, a decompression bomb, servers that never
answer or drip, redirect tricks, broken encodings and URLs, firewalls and rate limits, soft 404s, and
the private-address guard. Real servers on 127.x; each crawl asserts the exact findings, a bounded
wall time and memory, and that the rest of the site was still audited.

One module-scoped crawl carries most cases (they run concurrently, as on a real site); the cases that
need their own site (private addresses, soft 404s, scoring) get small crawls of their own.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hostile_servers import HostileSite, RawServer, gzip_bomb, peak_child_rss_mb, run_audit
from servers import page

from checks.computed.urls import url_key

HTML = {"Content-Type": "text/html; charset=utf-8"}
MB = 1024 * 1024
FULLWIDTH_PATH = "/新聞/ｎｅｗｓ１.html"


def html_reply(h, body: str, status: int = 200, **headers: str) -> None:
    h.reply(status, {**HTML, **headers}, body)


# --- the hostile site -----------------------------------------------------------------------------
def build_hostile(site: HostileSite, ext: HostileSite, hang: RawServer, drip: RawServer, ftp: RawServer) -> None:
    ftp_port = ftp.sock.getsockname()[1]
    site.html("/", page("首頁", f"""
        <a href="/ok.html">一般頁面</a>
        <a href="/cal?date=0">行事曆</a> <a href="/sess/p0;jsessionid={secrets.token_hex(16)}">會員專區</a>
        <a href="/news?id=0&sid={secrets.token_hex(16)}">新聞</a> <a href="/facet?a=1">分類查詢</a>
        <a href="/a/">目錄</a>
        <a href="/big.html">大頁面</a> <a href="/bomb.html">壓縮炸彈</a> <a href="/endless.html">無盡頁面</a>
        <a href="{hang.url}/doc">不回應</a> <a href="{drip.url}/doc">滴水</a>
        <a href="/r/c1">轉址鏈</a> <a href="/r/loop">轉址迴圈</a> <a href="/r/long0">過長轉址</a>
        <a href="/r/ftp">轉到FTP</a> <a href="/r/file">轉到檔案</a>
        <a href="ftp://127.0.0.3:{ftp_port}/pub/x.pdf">FTP 檔案</a> <a href="file:///etc/passwd">本機檔案</a>
        <a href="gopher://127.0.0.3:{ftp_port}/">gopher</a>
        <a href="/enc/big5-as-utf8.html">錯標UTF8</a> <a href="/enc/utf8-as-big5.html">錯標Big5</a>
        <a href="/enc/bom.html">BOM</a> <a href="/enc/nul.html">NUL</a> <a href="/enc/broken.html">壞HTML</a>
        <a href="/p/%zz%E4%B8">壞百分比</a> <a href="/p/100%">百分之百</a>
        <a href="http://政府.invalid/">國際化網域</a> <a href="http://ｅｘａｍｐｌｅ．invalid/">全形網域</a>
        <a href="{FULLWIDTH_PATH}">全形網址</a>
        <a href="/members/">會員</a> <a href="/forbidden.html">禁止</a> <a href="/waf.html">防火牆</a>
        <a href="{ext.url}/cf">雲端防護</a> <a href="{ext.url}/js-challenge#main">JS 驗證</a>
        <a href="{ext.url}/busy">忙碌</a> <a href="{ext.url}/maint">維護中</a> <a href="/maint-soon.pdf">稍候</a>
    """))
    site.html("/ok.html", page("一般頁面", '<p id="main">內容</p>'))
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, "User-agent: *\nAllow: /\n")

    # traps
    def calendar(h):
        day = int(dict(parse_qsl(urlsplit(h.path).query)).get("date", 0))
        html_reply(h, page(f"行事曆 {day}", f'<a href="/cal?date={day - 1}">前一天</a>'
                                            f'<a href="/cal?date={day + 1}">後一天</a>'))

    def session_page(h):
        n = int(h.path.split("/sess/p")[1][0])
        nxt = (n + 1) % 3
        html_reply(h, page(f"會員 {n}", f'<a href="/sess/p{nxt};jsessionid={secrets.token_hex(16)}">下一頁</a>'
                                      f'<a href="/sess/p{n};jsessionid={secrets.token_hex(16)}">本頁</a>'))

    def news(h):
        n = int(dict(parse_qsl(urlsplit(h.path).query))["id"])
        links = "".join(f'<a href="/news?sid={secrets.token_hex(16)}&id={i}">新聞{i}</a>' for i in range(3))
        html_reply(h, page(f"新聞 {n}", links))

    def facet(h):
        params = dict(parse_qsl(urlsplit(h.path).query))
        links = []
        for perm in itertools.permutations(params.items()):  # the same query in every order
            links.append("&".join(f"{k}={v}" for k, v in perm))
        for extra in "abcdefgh":  # and one more facet each: endless combinations
            if extra not in params:
                links.append("&".join(f"{k}={v}" for k, v in {**params, extra: "1"}.items()))
        html_reply(h, page("分類", "".join(f'<a href="/facet?{q}">篩選</a>' for q in links[:60])))

    site.routes["/cal"] = calendar
    site.routes["/news"] = news
    site.routes["/facet"] = facet
    site.prefixes.append(("/sess/p", session_page))
    site.prefixes.append(("/a/", lambda h: html_reply(h, page("目錄", '<a href="a/">子目錄</a><a href="b/">乙</a>'))))

    # bodies
    def big(h):
        head = page("大頁面", "<p>").encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(50 * MB))
        h.end_headers()
        if h.command == "HEAD":
            return
        filler = ("公告內容 " * 6000).encode()[: 64 * 1024]
        try:
            h.wfile.write(head)
            sent = len(head)
            while sent < 50 * MB:
                chunk = filler[: 50 * MB - sent]
                h.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass

    def endless(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        if h.command == "HEAD":
            return
        chunk = ("<p>無盡的內容</p>" * 2000).encode()
        try:
            first = page("無盡頁面", "").encode()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
            while True:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass

    site.routes["/big.html"] = big
    site.routes["/endless.html"] = endless
    site.routes["/bomb.html"] = (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip_bomb())

    # redirects
    site.routes["/r/c1"] = (302, {"Location": "c2"}, b"")
    site.routes["/r/c2"] = (301, {"Location": "../r/c3"}, b"")
    site.routes["/r/c3"] = (307, {"Location": "./c4"}, b"")
    site.routes["/r/c4"] = (308, {"Location": "/r/c5"}, b"")
    site.routes["/r/c5"] = (303, {"Location": f"{site.url}/r/end.html"}, b"")
    site.html("/r/end.html", page("轉址終點"))
    site.routes["/r/loop"] = (302, {"Location": "/r/loop2"}, b"")
    site.routes["/r/loop2"] = (302, {"Location": "/r/loop"}, b"")
    for i in range(15):
        site.routes[f"/r/long{i}"] = (302, {"Location": f"/r/long{i + 1}"}, b"")
    site.routes["/r/ftp"] = (302, {"Location": f"ftp://127.0.0.3:{ftp_port}/pub/file.pdf"}, b"")
    site.routes["/r/file"] = (302, {"Location": "file:///etc/passwd"}, b"")

    # encodings and odd URLs
    big5 = page("舊版公告", "<p>臺北市政府公告 更新日期：113-05-20</p>").replace('<meta charset="utf-8">', "")
    site.routes["/enc/big5-as-utf8.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, big5.encode("cp950"))
    utf8 = page("新版公告", "<p>臺中市政府公告 本局公告事項</p>").replace('<meta charset="utf-8">', "")
    site.routes["/enc/utf8-as-big5.html"] = (200, {"Content-Type": "text/html; charset=big5"}, utf8.encode())
    site.routes["/enc/bom.html"] = (200, {"Content-Type": "text/html"},
                                    b"\xef\xbb\xbf" + page("有BOM的頁面").replace('<meta charset="utf-8">', "").encode())
    site.routes["/enc/nul.html"] = (200, HTML, page("含NUL\x00的頁面", "<p>a\x00b</p><a href='/ok.html'>回</a>").encode())
    site.routes["/enc/broken.html"] = (200, HTML, "<html><title>壞掉的HTML</title><body><div><p><a href='/ok.html'>"
                                                  "回首頁<a href=\"/r/end.html>未關閉</table></span><<>>&&;<td></tr>")
    site.prefixes.append(("/p/", lambda h: html_reply(h, page("百分比頁"))))
    site.html(quote(FULLWIDTH_PATH), page("全形網址頁"))

    # answers that say nothing about the link: auth, firewalls, rate limits, maintenance
    site.routes["/members/"] = (401, {**HTML, "WWW-Authenticate": 'Basic realm="members"'}, page("請登入"))
    site.routes["/forbidden.html"] = (403, HTML, page("Forbidden"))
    site.routes["/waf.html"] = (200, HTML, "<html><head><title>Request Rejected</title></head><body>The requested URL "
                                           "was rejected. Please consult with your administrator.<br><br>Your support ID "
                                           "is: 1428571428571428571</body></html>")
    ext.routes["/cf"] = (403, HTML, "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                                    "<script>window._cf_chl_opt={cvId: '3'};</script></body></html>")
    ext.routes["/js-challenge"] = (200, HTML, "<html><head><script>document.cookie='__jsl=1a2b;path=/';"
                                              "location.reload();</script></head><body></body></html>")
    ext.routes["/busy"] = (429, HTML, page("Too Many Requests"))
    far = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    ext.routes["/maint"] = (503, {**HTML, "Retry-After": far}, page("系統維護中"))
    calls = {"n": 0}

    def maint_soon(h):
        calls["n"] += 1
        if calls["n"] == 1:
            soon = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
            h.reply(503, {"Retry-After": soon}, b"")
        else:
            h.reply(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")

    site.routes["/maint-soon.pdf"] = maint_soon
    site.far_date = far  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    site = HostileSite().start()
    ext = HostileSite(host="127.0.0.2").start()
    hang, drip, ftp = RawServer("127.0.0.3", "hang"), RawServer("127.0.0.3", "drip"), RawServer("127.0.0.3", "hang")
    build_hostile(site, ext, hang, drip, ftp)
    audit = run_audit(site.url + "/", tmp_path_factory.mktemp("hostile"), max_depth=500)
    yield {"audit": audit, "site": site, "ext": ext, "hang": hang, "drip": drip, "ftp": ftp,
           "rss_mb": peak_child_rss_mb()}
    for server in (site, ext, hang, drip, ftp):
        server.stop()


def gets(site: HostileSite, prefix: str) -> list[str]:
    return [path for method, path in site.hits if method == "GET" and path.startswith(prefix)]


def test_the_whole_hostile_crawl_is_bounded_in_time_and_memory(hostile):
    audit = hostile["audit"]
    assert audit.seconds < 45, audit.seconds  # ~40 hostile cases at once, 3 s download timeout
    assert hostile["rss_mb"] < 500
    assert audit.site["status"] == "ok"
    assert audit.facts.page(hostile["site"].url + "/ok.html").title == "一般頁面"  # the rest is audited
    assert audit.facts.page(hostile["site"].url + "/r/end.html") is not None


def test_endless_calendar_stops_at_the_query_variant_cap(hostile):
    assert len(gets(hostile["site"], "/cal?")) == 30
    assert hostile["audit"].site["coverage"]["skipped"]["trap:query-variants"] >= 1


def test_session_ids_in_paths_and_queries_do_not_multiply_pages(hostile):
    sess = gets(hostile["site"], "/sess/")
    assert sorted(path.split(";")[0] for path in sess) == ["/sess/p0", "/sess/p1", "/sess/p2"]
    news = gets(hostile["site"], "/news?")
    assert sorted(dict(parse_qsl(urlsplit(p).query))["id"] for p in news) == ["0", "1", "2"]
    assert [f for f in hostile["audit"].findings() if "/sess/" in (f["target"] or "")] == []


def test_query_permutations_are_one_page_and_combinations_are_capped(hostile):
    facets = gets(hostile["site"], "/facet?")
    keys = [url_key("http://x" + p) for p in facets]
    assert len(keys) == len(set(keys))  # `?a=1&b=1` and `?b=1&a=1` fetched once
    assert 2 <= len(facets) <= 30


def test_repeated_path_segments_are_a_trap(hostile):
    dirs = gets(hostile["site"], "/a/")
    assert dirs and all(max(p.split("/").count(s) for s in p.split("/") if s) < 3 for p in dirs)
    assert hostile["audit"].site["coverage"]["skipped"]["trap:repeated-segments"] >= 1


def test_50_mb_page_is_read_up_to_the_page_limit_and_recorded_as_truncated(hostile):
    big = hostile["audit"].facts.page(hostile["site"].url + "/big.html")
    assert big.title == "大頁面"
    assert 5 * MB < big.artifacts.truncated_at_bytes <= 5 * MB + 256 * 1024
    assert big.artifacts.declared_length == 50 * MB
    assert hostile["audit"].by_target("/big.html") == []


def test_endless_chunked_response_is_truncated(hostile):
    endless = hostile["audit"].facts.page(hostile["site"].url + "/endless.html")
    assert endless.title == "無盡頁面"
    assert endless.artifacts.truncated_at_bytes > 5 * MB


def test_decompression_bomb_is_refused_not_inflated(hostile):
    result = hostile["audit"].facts.result_for(hostile["site"].url + "/bomb.html")
    assert result.error == "too-large"
    assert "decompression" in result.error_detail
    [finding] = hostile["audit"].by_target("/bomb.html")
    assert (finding["rule"], finding["evidence"]["kind"]) == ("unverified-link", "too-large")
    assert hostile["audit"].facts.page(hostile["site"].url + "/bomb.html") is None


def test_server_that_never_answers_and_one_that_drips_end_as_timeouts(hostile):
    for server in ("hang", "drip"):
        [finding] = hostile["audit"].by_target(hostile[server].url + "/doc")
        assert (finding["rule"], finding["evidence"]["kind"]) == ("broken-link", "timeout"), finding
        # robots.txt once, HEAD once, then GET with one retry: never more
        assert hostile[server].accepted <= 4, (server, hostile[server].accepted)


def test_redirect_chain_with_relative_targets_is_followed(hostile):
    base = hostile["site"].url
    result = hostile["audit"].facts.result_for(base + "/r/c1")
    assert result.redirects == [base + "/r/c2", base + "/r/c3", base + "/r/c4", base + "/r/c5", base + "/r/end.html"]
    assert result.status == 200
    assert hostile["audit"].by_target("/r/c1") == []


def test_redirect_loops_and_long_chains_are_broken(hostile):
    [loop] = hostile["audit"].by_target("/r/loop")
    assert (loop["rule"], loop["evidence"]["kind"]) == ("broken-link", "redirect-loop")
    [long] = hostile["audit"].by_target("/r/long0")
    assert (long["rule"], long["evidence"]["kind"]) == ("broken-link", "redirect-loop")
    assert len(long["evidence"]["redirects"]) == 11
    assert len(gets(hostile["site"], "/r/long")) == 11


def test_other_schemes_are_never_fetched_even_through_redirects(hostile):
    audit = hostile["audit"]
    for suffix in ("/r/ftp", "/r/file"):
        [finding] = audit.by_target(suffix)
        assert (finding["rule"], finding["evidence"]["kind"]) == ("unverified-link", "scheme")
    for target in ("file:///etc/passwd", "gopher://127.0.0.3"):
        result = next(r for u, r in audit.facts.link_results.items() if u.startswith(target))
        assert (result.error, result.method) == ("scheme", None)
        assert [f for f in audit.findings() if (f["target"] or "").startswith(target)] == []
    assert hostile["ftp"].accepted == 0  # nothing ever connected to the FTP port


def test_wrong_and_missing_charsets_bom_nul_and_broken_html(hostile):
    pages = {p.url.rsplit("/", 1)[1]: p for p in hostile["audit"].facts.pages if "/enc/" in p.url}
    assert pages["big5-as-utf8.html"].title == "舊版公告"
    assert "更新日期：113-05-20" in pages["big5-as-utf8.html"].text
    assert pages["utf8-as-big5.html"].title == "新版公告"
    assert pages["bom.html"].title == "有BOM的頁面"
    assert pages["nul.html"].title == "含NUL的頁面"
    assert pages["broken.html"].title.startswith("壞掉的HTML")
    assert any(link.target.endswith("/ok.html") for link in hostile["audit"].facts.links_from(pages["broken.html"].url))


def test_invalid_percent_encoding_idn_and_full_width_urls(hostile):
    audit, base = hostile["audit"], hostile["site"].url
    assert sorted(p.title for p in audit.facts.pages if "/p/" in p.url) == ["百分比頁", "百分比頁"]
    assert audit.facts.page(base + FULLWIDTH_PATH).title == "全形網址頁"
    for host in ("http://政府.invalid/", "http://ｅｘａｍｐｌｅ．invalid/"):
        [finding] = audit.by_target(host)
        assert (finding["rule"], finding["evidence"]["kind"]) == ("broken-link", "dns")


def test_auth_firewalls_and_rate_limits_are_unverified_never_broken(hostile):
    audit = hostile["audit"]
    expected = {"/members/": "auth", "/forbidden.html": "blocked", "/waf.html": "blocked", "/cf": "blocked",
                "/js-challenge": "blocked", "/busy": "rate-limited", "/maint": "rate-limited"}
    for suffix, kind in expected.items():
        [finding] = audit.by_target(suffix)
        assert (finding["rule"], finding["severity"], finding["evidence"]["kind"]) == (
            "unverified-link", "notice", kind), finding
    assert "F5" in audit.by_target("/waf.html")[0]["evidence"]["reason"]
    assert "Cloudflare" in audit.by_target("/cf")[0]["evidence"]["reason"]
    assert audit.by_target("/maint")[0]["evidence"]["retry_after"] == hostile["site"].far_date
    assert audit.facts.page(hostile["site"].url + "/waf.html") is None  # a firewall page is not content
    soon = audit.facts.result_for(hostile["site"].url + "/maint-soon.pdf")
    assert (soon.status, soon.retries) == (200, 1)  # an HTTP-date Retry-After two seconds ahead: waited


def test_only_real_failures_are_broken(hostile):
    audit = hostile["audit"]
    broken = sorted(f["target"].replace(hostile["site"].url, "").replace(hostile["hang"].url, "HANG")
                    .replace(hostile["drip"].url, "DRIP") for f in audit.findings("broken-link"))
    assert broken == ["/r/long0", "/r/loop", "DRIP/doc", "HANG/doc", "http://政府.invalid/",
                      "http://ｅｘａｍｐｌｅ．invalid/"]


def test_footprint_per_host(hostile):
    footprint = hostile["audit"].site["footprint"]
    own = footprint["127.0.0.1"]
    assert own["requests"] >= 80
    assert own["bytes"] > 10 * MB  # two 5 MB pages read
    assert set(footprint) == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}  # names that never resolved cost nothing


# --- private addresses ----------------------------------------------------------------------------
def test_links_to_private_addresses_are_refused_before_any_request(site, external_site, tmp_path):
    external_site.html("/ok.html", page("外部"))
    site.html("/", page("首頁", f"""
        <a href="http://10.0.0.1/">內網</a> <a href="http://192.168.1.1/admin">路由器</a>
        <a href="http://0xa.0.0.2/">十六進位</a> <a href="http://3232235777/">整數位址</a>
        <a href="http://169.254.169.254/latest/meta-data/">雲端中繼資料</a> <a href="http://[fd00::1]/">IPv6 內網</a>
        <a href="/go-intranet">轉到內網</a> <a href="{external_site.url}/ok.html">同機外部</a>"""))
    site.routes["/go-intranet"] = (302, {"Location": "http://10.0.0.9/"}, b"")
    audit = run_audit(site.url + "/", tmp_path)
    assert audit.seconds < 30
    refused = {f["target"]: f for f in audit.findings("unverified-link")}
    assert sorted(refused) == sorted([
        "http://10.0.0.1/", "http://192.168.1.1/admin", "http://0xa.0.0.2/", "http://3232235777/",
        "http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/", site.url + "/go-intranet"])
    assert {f["evidence"]["kind"] for f in refused.values()} == {"private-address"}
    for url in ("http://10.0.0.1/", "http://192.168.1.1/admin"):
        result = audit.facts.result_for(url)
        assert (result.error, result.method, result.status) == ("private-address", None, None)
    assert "10.0.0.9" in audit.facts.result_for(site.url + "/go-intranet").error_detail
    # the site lives on loopback, so its loopback neighbour is checked as usual
    assert ("HEAD", "/ok.html") in external_site.hits
    assert audit.findings("broken-link") == []
    assert set(audit.site["footprint"]) == {"127.0.0.1", "127.0.0.2"}  # no other host was contacted
    own = [hit for hit in site.hits if not hit[1].startswith("/da-")]
    footprint = audit.site["footprint"]["127.0.0.1"]
    assert footprint["requests"] == len(own)
    if "peak_per_second" in footprint:  # copied by crawler/pipelines.py once the lead wires the new keys
        assert 1 <= footprint["peak_per_second"] <= footprint["requests"]
        assert 0 <= footprint["seconds"] < audit.seconds
        assert footprint["first_at"].endswith("Z")


def test_host_names_resolving_to_private_addresses_are_refused_unless_allowed(site, tmp_path):
    port = site.server.server_address[1]
    site.html("/", page("首頁", f'<a href="http://localhost:{port}/x.html">本機名稱</a>'))
    site.html("/x.html", page("X"))
    # a site that counts as public (no private kind allowed): `localhost` must not be asked
    audit = run_audit(site.url + "/", tmp_path / "public", settings={"PRIVATE_ADDRESS_KINDS": []})
    [finding] = audit.findings("unverified-link")
    assert finding["evidence"]["kind"] == "private-address"
    assert "localhost → 127.0.0.1" in finding["evidence"]["reason"]
    assert ("HEAD", "/x.html") not in site.hits and ("GET", "/x.html") not in site.hits
    # the user allows private addresses (an intranet audit): it is checked
    audit = run_audit(site.url + "/", tmp_path / "allowed",
                      settings={"PRIVATE_ADDRESS_KINDS": [], "ALLOW_PRIVATE_ADDRESSES": True})
    assert audit.findings("unverified-link") == []
    assert ("HEAD", "/x.html") in site.hits


# --- indeterminate results never cost points ------------------------------------------------------
def test_unverified_links_do_not_lower_the_score(site, tmp_path):
    site.html("/", page("首頁", '<a href="/m/">會員</a><a href="/f.html">禁止</a><a href="/busy">忙碌</a>'
                              '<a href="/waf.html">防火牆</a><a href="/ok.html">正常</a>'))
    site.html("/ok.html", page("正常"))
    site.routes["/m/"] = (401, HTML, page("登入"))
    site.routes["/f.html"] = (403, HTML, page("Access Denied"))
    site.routes["/busy"] = (503, {**HTML, "Retry-After": "3600"}, page("維護"))
    site.routes["/waf.html"] = (200, HTML, "<title>Request Rejected</title>The requested URL was rejected. Please "
                                           "consult with your administrator. Your support ID is: 123456789012")
    audit = run_audit(site.url + "/", tmp_path)
    assert audit.findings("broken-link") == []
    assert len(audit.findings("unverified-link")) == 4
    scores = audit.site["scores"]
    if not scores.get("deductions") and scores.get("dimension") is None:
        pytest.skip("scoring module not installed")
    assert [d for d in scores["deductions"] if d["criterion"] == "links-valid"] == []


# --- soft 404s ------------------------------------------------------------------------------------
TEMPLATE = ("<!DOCTYPE html><html lang='zh-Hant-TW'><head><meta charset='utf-8'><title>{title}</title></head><body>"
            "<nav><a href='/'>首頁</a><a href='/news/1.html'>最新消息</a><a href='/about.html'>關於本府</a></nav>"
            "<main>{main}</main><footer>臺灣示範市政府 版權所有</footer></body></html>")


def templated(main: str, title: str = "臺灣示範市政府") -> str:
    return TEMPLATE.format(title=title, main=main)


def test_soft_404_pages_answered_with_200(tmp_path):
    site = HostileSite().start()
    try:
        site.html("/", templated('<h1>歡迎</h1><a href="/gone.html">已刪除的頁面</a><a href="/404.html">錯誤標題</a>'
                                 '<a href="/News_Content.aspx?n=1&s=999">已下架新聞</a><a href="/list.aspx?c=7">空清單</a>'
                                 '<a href="/News_Content.aspx?n=1&s=1">新聞一</a><a href="/about.html">關於</a>'))
        site.html("/news/1.html", templated("<h1>最新消息</h1><p>市府公告</p>"))
        site.html("/about.html", templated("<h1>關於本府</h1><p>本府位於臺北</p>"))
        site.html("/404.html", templated("<p>Sorry</p>", title="404 Not Found"))

        def news(h):
            s = dict(parse_qsl(urlsplit(h.path).query)).get("s")
            main = "<h1>新聞一</h1><p>市長視察</p>" if s == "1" else "<h2>查無資料</h2>"
            html_reply(h, templated(main))

        site.routes["/News_Content.aspx"] = news
        site.routes["/list.aspx"] = (200, HTML, templated("<h1>公告清單</h1><p>目前查無資料</p>"))
        # every unknown path: the site's own not-found page, answered with 200
        site.prefixes.append(("/", lambda h: html_reply(h, templated("<h1>很抱歉，找不到您要的網頁</h1>"
                                                                    "<p>請回首頁重新查詢</p>"))))
        audit = run_audit(site.url + "/", tmp_path)
        assert audit.seconds < 30
        found = {f["target"].replace(site.url, ""): (f["severity"], f["evidence"]["reason"], f["evidence"]["confidence"])
                 for f in audit.findings("soft-404")}
        assert found == {
            "/gone.html": ("error", "not-found-page", "high"),
            "/404.html": ("error", "not-found-phrase", "high"),
            "/News_Content.aspx?n=1&s=999": ("warning", "not-found-phrase", "medium"),
            "/list.aspx?c=7": ("notice", "not-found-phrase", "low"),
        }
        assert audit.by_target("/News_Content.aspx?n=1&s=999", "soft-404")[0]["evidence"]["phrase"] == "查無資料"
        probes = [path for _m, path in site.hits if path.startswith("/da-")]
        assert len(probes) == 2 and probes[1].endswith(".html")  # learned before judging
        assert audit.findings("broken-link") == []
    finally:
        site.stop()


def test_soft_404_unknown_paths_redirected_to_the_home_page(tmp_path):
    site = HostileSite().start()
    try:
        site.html("/", page("首頁", '<a href="/old/page.html">舊頁面</a><a href="/ch/">中文版</a>'
                                  '<a href="/moved.html">已搬移</a><a href="/old/report.pdf">舊報告</a>'))
        site.html("/new.html", page("新頁面"))
        site.routes["/moved.html"] = (301, {"Location": "/new.html"}, b"")
        site.prefixes.append(("/", lambda h: h.reply(302, {"Location": "/"}, b"")))
        audit = run_audit(site.url + "/", tmp_path)
        found = {f["target"].replace(site.url, ""): (f["evidence"]["reason"], f["evidence"]["confidence"])
                 for f in audit.findings("soft-404")}
        assert found == {"/old/page.html": ("redirect-home", "high"), "/old/report.pdf": ("redirect-home", "high")}
        assert audit.findings("broken-link") == []
    finally:
        site.stop()


# --- pure parts ------------------------------------------------------------------------------------
def test_challenge_sniffing_spares_ordinary_pages():
    from crawler.spiders.agency import challenge_marker

    procurement = page("資訊設備採購", "<p>採購 Web Application Firewall 一套，如遇 Access Denied 請洽資訊室</p>").encode()
    assert challenge_marker(procurement, 200) is None
    spa = b"<html><body><noscript>Please enable JavaScript to run this app.</noscript><div id=root></div></body></html>"
    assert challenge_marker(spa, 200) is None  # a small single-page app is not a challenge
    assert challenge_marker(spa, 403) == "block page: Please enable JavaScript"
    redirect = b"<script>location.href='/ch/index.aspx'</script>"  # a home page that only redirects
    assert challenge_marker(redirect, 200) is None
    assert challenge_marker(b"<title>Access Denied</title>You don't have permission to access", 200) == (
        "Akamai: Access Denied")


def test_url_key_strips_sessions_and_sorts_queries_only():
    assert url_key("http://A.gov.tw/p;jsessionid=0F1E2D?b=2&a=1#x") == "http://a.gov.tw/p?a=1&b=2"
    assert url_key("http://a/l?sid=9f8e7d6c5b4a39281716&page=1") == "http://a/l?page=1"
    assert url_key("http://a/l?page=1&sid=3") == "http://a/l?page=1&sid=3"  # a section id, kept
    assert url_key("http://a/(S(lit3py55t21z5v55vlm25s55))/News.aspx?n=1&s=2") == "http://a/News.aspx?n=1&s=2"
    assert url_key("http://a/x?PHPSESSID=abc&ASPSESSIONIDQAT=def&q=稅") == "http://a/x?q=%E7%A8%85"


def test_not_found_page_that_echoes_the_path_and_shows_a_clock_is_still_recognised():
    from checks.base import AuditContext
    from checks.facts import Agency, LinkRef, LinkResult, SiteFacts
    from checks.soft404 import Soft404Check
    from crawler.extract import extract_page
    from crawler.soft404 import page_lines

    base = "http://www.city.gov.tw"
    home = extract_page(templated("<h1>歡迎</h1><p>現在時間 10:31:07</p>"), base + "/").facts
    gone = extract_page(templated("<h1>找不到 /old.html</h1><p>頁面可能已移至新網址</p><p>現在時間 10:32:59</p>"),
                        base + "/old.html").facts
    probe = extract_page(templated("<h1>找不到 /da-0011223344556677</h1><p>頁面可能已移至新網址</p>"
                                   "<p>現在時間 10:33:12</p>"), base + "/da-0011223344556677").facts
    facts = SiteFacts(agency=Agency(name="市府", url=base + "/"), hosts=["www.city.gov.tw"], pages=[home, gone],
                      links=[LinkRef(base + "/", base + "/old.html", "舊頁")],
                      link_results={base + "/old.html": LinkResult(url=base + "/old.html", status=200, method="GET",
                                                                   final_url=base + "/old.html", in_scope=True)})
    facts.artifacts.not_found = {base: {"home_lines": page_lines(home.text), "probes": [
        {"url": base + "/da-0011223344556677", "status": 200, "final_url": base + "/da-0011223344556677",
         "redirects": [], "title": probe.title, "lines": page_lines(probe.text), "error": None}]}}
    [finding] = Soft404Check().run(facts, AuditContext(today=datetime.now(UTC).date()))
    assert (finding.evidence["reason"], finding.evidence["confidence"]) == ("not-found-page", "high")
