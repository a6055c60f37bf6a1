"""The post-crawl gatherers are declared components, each yielding one named artifact of
`SiteFacts.artifacts` (checks/artifacts.py, issue 21), stored under the keys runs always used."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.artifacts import PageArtifacts, SiteArtifacts
from checks.facts import Agency, PageFacts, SiteFacts
from crawler.store import Store
from crawler.store.store import page_row
from disclosure_audit.gatherers import Gatherer, run_site_gatherers, site_gatherers

# what the gatherers read of the audit options
OPTS = SimpleNamespace(download_timeout=1.0, tls_extra_ca=None, http_ports={})

# the `extra` column of a site as runs before the artifacts wrote it (values shortened)
OLD_EXTRA = {
    "footprint": {"a.test": {"requests": 3, "bytes": 1200}},
    "finish_reason": "finished",
    "tls": {"a.test": {"ok": True, "trusted_by": ["public"]}},
    "transport": {"a.test": {"page": "https://a.test/", "http": {"url": None, "error": "no-http-port"}}},
    "search": {"form_page": "https://a.test/", "query": "市政", "status": 200, "error": None},
    "not_found": {"https://a.test:443": {"probes": [], "home_lines": ["首頁"]}},
    "freego_assets": {"stylesheets": {}, "images": {}},
    "documents": {"documents": [], "candidates": 0, "not_read": 0},
    "axe_version": "4.9.1",
    "a11y_reused": 2,
    "facts_digest": "f" * 40,
    "audit_digest": "a" * 40,
}


def test_a_run_stored_before_the_artifacts_loads_into_them(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    site = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("甲", "https://a.test/"), [])
    store.update_site(site, extra=OLD_EXTRA)
    facts = store.load_site_facts(site)
    assert facts.artifacts.search == OLD_EXTRA["search"]
    assert facts.artifacts.tls == OLD_EXTRA["tls"] and facts.artifacts.not_found == OLD_EXTRA["not_found"]
    assert (facts.artifacts.axe_version, facts.artifacts.a11y_reused) == ("4.9.1", 2)
    assert facts.artifacts.footprint == OLD_EXTRA["footprint"]
    # what is not an artifact stays bookkeeping; the stored form written back is the same mapping
    assert facts.extra == {"finish_reason": "finished", "facts_digest": "f" * 40, "audit_digest": "a" * 40}
    assert facts.stored_extra() == OLD_EXTRA
    store.close()


def test_an_artifact_not_gathered_is_none_and_not_stored():
    facts = SiteFacts(Agency("甲", "https://a.test/"))
    assert facts.artifacts.search is None and facts.artifacts.gathered("search") is None
    facts.artifacts.search = {"query": "市政"}
    facts.extra["finish_reason"] = "finished"
    assert facts.stored_extra() == {"finish_reason": "finished", "search": {"query": "市政"}}


# a page's `extra` in its stored facts as runs before the page artifacts wrote it, in the order the
# extractor and the spider wrote it (values shortened), plus a key no gatherer of today knows
OLD_PAGE_EXTRA = {
    "footer_line": 12,
    "freego": {"codes": {"HM1130103C": {"count": 1, "examples": ["<a>"]}}, "stylesheets": ["https://a.test/s.css"]},
    "http_subresources": [{"tag": "img", "url": "http://a.test/x.png"}],
    "personal_ids": {"numbers": [{"masked": "A12****789", "kind": "national-id"}], "count": 1,
                     "occurrences": 1, "invalid": 0},
    "sha1": "b" * 40,
    "truncated_at_bytes": 5_300_000,
    "declared_length": 50_000_000,
    "worker": "w1",
    "dom_signature": "main>h1",
    "later_gatherer": {"x": 1},
}


def test_a_page_stored_before_the_page_artifacts_loads_into_them(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    site = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("甲", "https://a.test/"), [])
    store.add_pages(site, [PageFacts(url="https://a.test/", status=200, extra=dict(OLD_PAGE_EXTRA))])
    [page] = store.load_site_facts(site).pages
    assert page.artifacts.sha1 == "b" * 40 and page.artifacts.footer_line == 12
    assert page.artifacts.freego == OLD_PAGE_EXTRA["freego"] and page.artifacts.worker == "w1"
    assert page.artifacts.personal_ids["count"] == 1 and page.artifacts.dom_signature == "main>h1"
    assert (page.artifacts.truncated_at_bytes, page.artifacts.declared_length) == (5_300_000, 50_000_000)
    assert page.artifacts.not_modified is None and page.extra == {"later_gatherer": {"x": 1}}
    # written again, the stored facts hold the same keys in the same order (the recrawl digest reads them)
    stored = page_row(site, page.to_page_facts())["facts"]["extra"]
    assert list(stored.items()) == [(k, v) for k, v in OLD_PAGE_EXTRA.items() if k != "later_gatherer"] + \
        [("later_gatherer", {"x": 1})]
    store.close()


def test_a_page_artifact_not_recorded_is_none_and_not_stored():
    page = PageFacts(url="https://a.test/")
    assert page.artifacts == PageArtifacts() and page.stored_extra() == {}
    page.artifacts.sha1 = "c" * 40
    assert page_row(1, page)["facts"]["extra"] == {"sha1": "c" * 40} and "artifacts" not in page_row(1, page)["facts"]


def test_each_gatherer_yields_a_declared_artifact_once():
    names = [g.name for g in site_gatherers()]
    assert names == ["tls", "transport", "search", "not_found", "freego_assets", "documents"]
    assert set(names) <= {f.name for f in fields(SiteArtifacts)}
    known = {f.name for f in fields(SiteFacts)} | set(names)
    assert all(set(g.needs) <= known for g in site_gatherers())


def test_a_failing_probe_yields_a_failure_record_and_an_unguarded_one_raises():
    def broken(facts, opts):
        raise OSError("connection reset by peer")

    facts = SiteFacts(Agency("甲", "https://a.test/"))
    assert Gatherer("search", ("pages",), broken).run(facts, OPTS) == {
        "status": "failed", "error": "connection reset by peer"}
    with pytest.raises(OSError):
        Gatherer("tls", ("link_results",), broken, guarded=False).run(facts, OPTS)


def test_the_gatherers_fill_their_artifacts_without_the_network():
    """A site with no https link, no search form, no document: each artifact is what its gatherer says
    about nothing to probe (all hosts are `.invalid`, so nothing can be reached either)."""
    home = "http://a.invalid/"
    facts = SiteFacts(Agency("甲", home), hosts=["a.invalid"],
                      pages=[PageFacts(url=home, final_url=home, status=200, content_type="text/html")])
    run_site_gatherers(facts, OPTS)
    assert facts.artifacts.tls is None and facts.artifacts.search is None
    assert facts.artifacts.transport == {}
    [(origin, learned)] = facts.artifacts.not_found.items()  # asked, unanswered: a record, not a failure
    assert origin == "http://a.invalid" and [p["error"] for p in learned["probes"]] == ["ConnectionError"] * 2
    assert facts.artifacts.documents is not None and facts.artifacts.documents["documents"] == []
    assert facts.artifacts.freego_assets == {"stylesheets": {}, "images": {}}
    assert set(facts.artifacts.to_extra()) == {"transport", "not_found", "freego_assets", "documents"}
