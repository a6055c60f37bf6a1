"""Facts read back from the run store in bounded memory (issue 6): they must read exactly as the
in-memory facts the crawler wrote."""

from __future__ import annotations

from datetime import date

from checks.artifacts import PageArtifacts
from checks.facts import Agency, LinkRef, PageFacts
from crawler.store import Store
from crawler.store.views import LinkTable, StoredPageFacts


def test_link_table_gives_back_every_link_in_order():
    links = [LinkRef("http://a.test/", f"http://a.test/{i % 3}.html", ["首頁", "更多", ""][i % 3], "a")
             for i in range(10)]
    table = LinkTable(links)
    assert len(table) == 10
    assert list(table) == links
    assert table[4] == links[4]
    assert table == links


def test_stored_pages_read_their_text_and_bulky_fields_from_the_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    site = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("甲", "http://a.test/"), [])
    menu = [{"key": "U", "href": "#U", "text": ":::", "id": "", "title": "上方功能區"}]
    store.add_pages(site, [
        (PageFacts(url=f"http://a.test/{i}.html", title=f"第 {i} 頁", text=f"更新日期：115-01-0{i + 1}",
                   accesskeys=[dict(k) for k in menu]), [LinkRef(f"http://a.test/{i}.html", "http://a.test/", "首頁")])
        for i in range(3)])
    facts = store.load_site_facts(site)
    assert [p.text for p in facts.pages] == ["更新日期：115-01-01", "更新日期：115-01-02", "更新日期：115-01-03"]
    # the text is not held by the page: read from the store each time
    assert isinstance(facts.pages[0], StoredPageFacts) and facts.pages[0]._kept is None
    assert not hasattr(facts.pages[0], "__dict__")
    assert [p.accesskeys for p in facts.pages] == [menu] * 3 and facts.pages[1].headings == []
    # the menu every page repeats is one object; the meta tags are decoded when read
    assert facts.pages[0].accesskeys is facts.pages[2].accesskeys
    assert facts.pages[1].title == "第 1 頁" and facts.pages[1].final_url is None
    assert [(lk.source, lk.target, lk.text) for lk in facts.links] == [
        (f"http://a.test/{i}.html", "http://a.test/", "首頁") for i in range(3)]
    store.close()


def test_a_stored_page_reads_like_the_page_facts_it_was_stored_from(tmp_path):
    """Every field of a page read back equals what was written, and a copy is a plain PageFacts."""
    import copy
    import pickle

    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    site = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("甲", "http://a.test/"), [])
    written = PageFacts(url="http://a.test/a.html", final_url="http://a.test/a.html", status=200,
                        content_type="text/html", title="關於本局", lang="zh-Hant-TW", depth=2,
                        headings=[(1, "關於本局"), (2, "業務職掌")], meta={"dc.date": ["2025-01-02"]},
                        text="更新日期：114-01-02", anchors=["main", "C"], noscript="您的瀏覽器不支援 JavaScript",
                        forms=[{"action": "/search/", "method": "get", "inputs": []}],
                        accesskeys=[{"key": "C", "href": "#C", "text": ":::", "id": "C"}],
                        images=[{"src": "/logo.png", "alt": None}], artifacts=PageArtifacts(sha1="ab"),
                        extra={"later": 1})
    store.add_pages(site, [written])
    [page] = store.load_site_facts(site).pages
    read = page.to_page_facts()
    assert read == written
    assert page.meta_first("DC.date") == "2025-01-02" and page.headings[0] == (1, "關於本局")
    assert pickle.loads(pickle.dumps(page)) == written and copy.deepcopy(page) == written
    page.artifacts.not_modified = True  # each page has its own artifacts
    again = store.load_site_facts(site).pages[0]
    assert (again.artifacts, again.extra) == (PageArtifacts(sha1="ab"), {"later": 1})
    store.close()
