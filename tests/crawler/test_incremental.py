"""Incremental recrawl: the second audit of an unchanged site asks with If-None-Match, reuses the
stored facts of pages answered 304 (no re-parsing, accessibility reused by content hash), and still
verifies every link."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date

import pytest
from servers import page

from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site


def conditional(site, path: str, body: str) -> None:
    """Serve `body` at `path` with an ETag; answer If-None-Match with 304."""
    data = body.encode("utf-8")
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
    site.seen_conditional = getattr(site, "seen_conditional", [])

    def handler(h):
        if h.headers.get("If-None-Match") == etag:
            site.seen_conditional.append(path)
            h.reply(304, {"ETag": etag})
        else:
            h.reply(200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag,
                          "Last-Modified": "Mon, 02 Nov 2026 08:00:00 GMT"}, data)

    site.routes[path] = handler


def build(site, about_extra: str = "") -> None:
    conditional(site, "/", page("首頁", '<a href="/about.html">關於本局</a><a href="/news.html">最新消息</a>'
                                      '<a href="/doc.pdf">年報</a><a href="/gone.html">舊網頁</a>'))
    conditional(site, "/about.html", page("關於本局", "<p>更新日期：115-10-01</p>" + about_extra))
    conditional(site, "/news.html", page("最新消息", '<p>更新日期：112-03-15</p><a href="/about.html">關於本局</a>'))
    site.routes["/doc.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")


def fingerprints(results) -> set[str]:
    return {f["fingerprint"] for f in results["sites"][0]["findings"]}


def audit(site, out, **kw):
    return audit_site(AuditOptions(url=site.url + "/", out_dir=out, today=date(2026, 11, 23), **kw))


def test_second_run_of_unchanged_site_uses_304_and_keeps_every_finding(site, tmp_path):
    build(site)
    first = audit(site, tmp_path, accessibility=False)
    site.hits.clear()
    second = audit(site, tmp_path, accessibility=False)
    assert sorted(site.seen_conditional) == ["/", "/about.html", "/news.html"]
    assert second["sites"][0]["stats"]["pages"] == first["sites"][0]["stats"]["pages"] == 3
    assert fingerprints(second) == fingerprints(first)
    rules = sorted(f["rule"] for f in second["sites"][0]["findings"] if f["rule"] in ("broken-link", "stale-page"))
    assert rules == ["broken-link", "stale-page"]
    # every link is still verified, not taken from the last run
    assert ("HEAD", "/doc.pdf") in site.hits and ("GET", "/gone.html") in site.hits
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    facts, before = store.load_site_facts(2), store.load_site_facts(1)
    assert all(p.artifacts.not_modified for p in facts.pages)
    # the unchanged pages were copied inside the database: same text, depth and links as last time
    assert sorted((p.url, p.depth, p.text) for p in facts.pages) == \
        sorted((p.url, p.depth, p.text) for p in before.pages)
    assert "更新日期：112-03-15" in facts.page(site.url + "/news.html").text
    assert sorted((lk.source, lk.target, lk.text) for lk in facts.links) == \
        sorted((lk.source, lk.target, lk.text) for lk in before.links)
    assert len(facts.links) == 5  # 4 on the home page, 1 on news.html
    # the text of an unchanged page is not written again: it is read where the first audit stored it
    assert store.raw_query("SELECT count(*) FROM pages WHERE site_id = 2 AND page_text IS NOT NULL", ())[0][0] == 0
    # a batch replayed after an interruption is not copied twice
    assert store.copy_unchanged_pages(2, 1, {site.url + "/": 0}) == 0
    assert len(store.load_site_facts(2).links) == 5
    # removing the first audit moves the texts the second one reads into its own rows
    texts = sorted((p.url, p.text) for p in before.pages)
    assert all(text for _, text in texts)
    store.delete_site(1)
    assert sorted((p.url, p.text) for p in store.load_site_facts(2).pages) == texts
    store.close()


def test_store_written_by_an_earlier_version_is_upgraded_and_still_read(tmp_path):
    """Stores from before the text moved to its own column keep working: columns are added, and a
    page whose text is still inside its facts JSON is read as it was."""
    import sqlite3

    from checks.facts import Agency, PageFacts

    db = tmp_path / "old.sqlite"
    store = Store(f"sqlite:///{db}")
    site_id = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("舊", "http://a.test/"), [])
    store.add_pages(site_id, [PageFacts(url="http://a.test/", title="首頁", text="更新日期：115-01-02")])
    store.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE pages SET facts = json_set(facts, '$.text', page_text)")
    for column in ("page_text", "depth", "reused_from"):
        conn.execute(f"ALTER TABLE pages DROP COLUMN {column}")
    conn.commit()
    conn.close()
    store = Store(f"sqlite:///{db}")
    [page] = store.load_site_facts(site_id).pages
    assert page.title == "首頁" and page.text == "更新日期：115-01-02"
    store.add_pages(site_id, [PageFacts(url="http://a.test/b.html", text="新的")])
    assert [p.text for p in store.load_site_facts(site_id).pages] == ["更新日期：115-01-02", "新的"]
    store.close()


def test_changed_page_is_fetched_and_parsed_again(site, tmp_path):
    build(site)
    audit(site, tmp_path, accessibility=False)
    build(site, about_extra='<a href="/new-gone.html">新連結</a>')
    second = audit(site, tmp_path, accessibility=False)
    assert "/about.html" not in site.seen_conditional[-3:]
    broken = {f["target"].rsplit("/", 1)[1] for f in second["sites"][0]["findings"] if f["rule"] == "broken-link"}
    assert broken == {"gone.html", "new-gone.html"}


def test_full_option_disables_conditional_requests(site, tmp_path):
    build(site)
    audit(site, tmp_path, accessibility=False)
    audit(site, tmp_path, accessibility=False, incremental=False)
    assert site.seen_conditional == []


@pytest.mark.skipif(not shutil.which("chromedriver"), reason="chromedriver not installed (./dev setup installs it)")
def test_accessibility_results_are_reused_by_content_hash(site, tmp_path):
    build(site)
    first = audit(site, tmp_path, a11y={"sample_size": "all"})
    second = audit(site, tmp_path, a11y={"sample_size": "all"})
    assert first["sites"][0]["accessibility"]["status"] == "ok"
    assert second["sites"][0]["accessibility"]["status"] == "ok"
    assert second["sites"][0]["accessibility"]["pages_tested"] == 3
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    assert store.site(2).extra.get("a11y_reused") == 3
    store.close()
    a11y = lambda r: {f["fingerprint"] for f in r["sites"][0]["findings"] if f["check"] == "accessibility"}  # noqa: E731
    assert a11y(second) == a11y(first)


def test_unchanged_site_reuses_the_previous_findings_and_scores(site, tmp_path):
    """Nothing judged changed (pages 304, same link answers, same date and options): the checks are not
    run again; the findings, scores and summaries are the previous audit's, and say so."""
    build(site)
    first = audit(site, tmp_path, accessibility=False)
    second = audit(site, tmp_path, accessibility=False)
    before, after = first["sites"][0], second["sites"][0]
    assert "reused" not in before
    assert after["reused"] == {"findings_from_site": 1, "findings_from_run": first["run"]["id"]}
    assert after["findings"] == before["findings"] and len(after["findings"]) >= 3
    assert after["scores"] == before["scores"] and after["disclosure"] == before["disclosure"]
    assert after["coverage"] == before["coverage"]
    assert after["changes"]["new"] == [] and after["changes"]["fixed"] == []
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    assert store.counts(2)["findings"] == store.counts(1)["findings"] == len(before["findings"])
    assert list(store.findings_json(2)) == before["findings"]
    store.close()
    # another judging date or other options judge anew
    later = audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, today=date(2027, 11, 23),
                                    accessibility=False))
    assert "reused" not in later["sites"][0]
    stale = lambda r: {f["page"].rsplit("/", 1)[1] for f in r["sites"][0]["findings"]  # noqa: E731
                       if f["rule"] == "stale-page"}
    assert stale(first) == {"news.html"} and stale(later) == {"", "about.html", "news.html"}  # "": the home page (Last-Modified)
    other = audit(site, tmp_path, accessibility=False, check_options={"stale_days": 30})
    assert "reused" not in other["sites"][0]


def test_a_link_broken_since_the_last_audit_is_judged_anew(site, tmp_path):
    """Every page answers 304, but a document they link to is gone now: the checks run again."""
    build(site)
    first = audit(site, tmp_path, accessibility=False)
    assert not any(f["target"].endswith("/doc.pdf") for f in first["sites"][0]["findings"]
                   if f["target"] and f["check"] == "links")  # (its stand-in bytes are no readable PDF)
    site.routes["/doc.pdf"] = (404, {"Content-Type": "text/html"}, b"gone")
    second = audit(site, tmp_path, accessibility=False)
    assert sorted(site.seen_conditional) == ["/", "/about.html", "/news.html"]
    assert "reused" not in second["sites"][0]
    broken = {f["target"].rsplit("/", 1)[1] for f in second["sites"][0]["findings"] if f["rule"] == "broken-link"}
    assert broken == {"gone.html", "doc.pdf"}
