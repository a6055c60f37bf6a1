"""Facts read back from the run store in bounded memory (issue 6): they must read exactly as the
in-memory facts the crawler wrote."""

from __future__ import annotations

from datetime import date

from checks.facts import Agency, LinkRef, PageFacts
from checks.lazy_facts import LinkTable, SharedValues
from crawler.store import Store


def test_link_table_gives_back_every_link_in_order():
    links = [LinkRef("http://a.test/", f"http://a.test/{i % 3}.html", ["首頁", "更多", ""][i % 3], "a")
             for i in range(10)]
    table = LinkTable(links)
    assert len(table) == 10
    assert list(table) == links
    assert table[4] == links[4]
    assert table == links


def test_equal_page_structures_are_one_object_and_different_ones_stay_apart():
    shared = SharedValues()
    menu = [{"src": "/logo.png", "alt": "臺灣範例市政府"}, {"src": "/gov.png", "alt": None}]
    first = {"images": [dict(m) for m in menu], "meta": {"dc.title": ["關於本局"]}}
    second = {"images": [dict(m) for m in menu], "meta": {"dc.title": ["最新消息"]}}
    shared.share_page(first)
    shared.share_page(second)
    assert first["images"] is second["images"] and first["images"] == menu
    assert first["meta"] is not second["meta"]
    assert first["meta"] == {"dc.title": ["關於本局"]} and second["meta"] == {"dc.title": ["最新消息"]}


def test_stored_pages_read_their_text_from_the_store_and_share_their_menus(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    site = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("甲", "http://a.test/"), [])
    menu = [{"key": "U", "href": "#U", "text": ":::", "id": "", "title": "上方功能區"}]
    store.add_pages(site, [
        (PageFacts(url=f"http://a.test/{i}.html", title=f"第 {i} 頁", text=f"更新日期：115-01-0{i + 1}",
                   accesskeys=[dict(k) for k in menu]), [LinkRef(f"http://a.test/{i}.html", "http://a.test/", "首頁")])
        for i in range(3)])
    facts = store.load_site_facts(site)
    store.close()
    assert [p.text for p in facts.pages] == ["更新日期：115-01-01", "更新日期：115-01-02", "更新日期：115-01-03"]
    assert "text" not in facts.pages[0].__dict__ or facts.pages[0].__dict__.get("_text") is None
    assert facts.pages[0].accesskeys is facts.pages[2].accesskeys and facts.pages[0].accesskeys == menu
    assert [(lk.source, lk.target, lk.text) for lk in facts.links] == [
        (f"http://a.test/{i}.html", "http://a.test/", "首頁") for i in range(3)]
