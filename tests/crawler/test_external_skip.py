"""`--external skip`: links to other hosts are listed as not checked and never requested (issue 16 item 10).

Real pages link to real hosts (www.google.com, *.gov.tw, facebook…): a test or an audit of saved pages
must not leave the machine. With skip, every link to a host outside the site's scope becomes an
`unverified-link` of kind `not-checked` (never `broken-link`), a redirect from the site to another host
is not followed, and no TLS probe is sent to those hosts.
"""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from realworld_sites import HOMES, audit_realworld, folder_path, page_files, rel
from servers import Site, page

from disclosure_audit.fleet_config import load_config
from disclosure_audit.options import AuditError, AuditOptions
from disclosure_audit.pipeline import audit_site


@pytest.fixture
def two_hosts():
    ext = Site(host="127.0.0.2").start()
    ext.html("/ok.html", page("外部網站"))
    site = Site().start()
    site.html("/", page("首頁", f"""<a href="/a.html">A頁</a> <a href="{ext.url}/ok.html">外部網站</a>
        <a href="{ext.url}/gone">外部失效</a> <a href="/away">轉到外部</a> <a href="https://agency.invalid/">無法解析</a>"""))
    site.html("/a.html", page("A頁"))
    site.html("/unlinked.html", page("沒有連結指向的頁面"))
    site.routes["/away"] = (302, {"Location": f"{ext.url}/ok.html", "Content-Length": "0"}, b"")
    yield site, ext
    site.stop()
    ext.stop()


def _audit(site: Site, out, **kw):
    audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False, quiet=True, **kw))
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["sites"][0]


def test_skip_requests_nothing_outside_and_lists_every_external_link(two_hosts, tmp_path):
    site, ext = two_hosts
    result = _audit(site, tmp_path / "skip", external="skip")
    assert ext.hits == []
    by_target = {f["target"]: f for f in result["findings"] if f["rule"] in ("broken-link", "unverified-link")}
    for target in (f"{ext.url}/ok.html", f"{ext.url}/gone", "https://agency.invalid/"):
        assert by_target[target]["rule"] == "unverified-link"
        assert by_target[target]["evidence"]["kind"] == "not-checked"
        assert "依設定不檢查外部連結" in by_target[target]["detail"]
    away = by_target[site.url + "/away"]  # the site's own redirect to another host: not followed
    assert (away["rule"], away["evidence"]["kind"]) == ("unverified-link", "not-checked")
    assert not [f for f in result["findings"] if f["rule"] == "broken-link"]


def test_check_is_the_default_and_still_requests_other_hosts(two_hosts, tmp_path):
    site, ext = two_hosts
    result = _audit(site, tmp_path / "check")
    assert ("GET", "/gone") in ext.hits or ("HEAD", "/gone") in ext.hits
    broken = {f["target"] for f in result["findings"] if f["rule"] == "broken-link"}
    assert f"{ext.url}/gone" in broken


def test_seeds_audit_pages_no_link_reaches(two_hosts, tmp_path):
    site, _ = two_hosts
    result = _audit(site, tmp_path / "seed", external="skip", seeds=[site.url + "/unlinked.html"])
    assert result["stats"]["pages"] == 3
    with pytest.raises(AuditError, match="seed"):
        _audit(site, tmp_path / "bad", seeds=["http://elsewhere.invalid/x.html"])
    with pytest.raises(AuditError, match="external"):
        _audit(site, tmp_path / "bad2", external="sometimes")


def test_fleet_entry_can_skip_external_links(tmp_path):
    cfg = tmp_path / "agencies.yaml"
    cfg.write_text("defaults: {external: skip}\nagencies:\n"
                   "  - {name: 甲機關, url: 'http://127.0.0.1:1/'}\n"
                   "  - {name: 乙機關, url: 'http://127.0.0.1:2/', external: check}\n", encoding="utf-8")
    fleet = load_config(cfg)
    assert [fleet.limits_for(a).external for a in fleet.agencies] == ["skip", "check"]


def _external_targets(folder: str, origin: str) -> set[str]:
    """Every http(s) link of the folder's pages to a host other than the site's, read with BeautifulSoup
    (a parser independent of ours) as the crawler would resolve it."""
    root = folder_path(folder)
    found = set()
    for name in page_files(folder):
        soup = BeautifulSoup((root / name).read_bytes(), "html.parser")
        base = f"{origin}/{name}"
        for tag, attr in (("a", "href"), ("area", "href"), ("iframe", "src"), ("frame", "src"), ("link", "href"),
                          ("img", "src")):
            for el in soup.find_all(tag):
                raw = el.get(attr)
                if raw is None:
                    continue
                raw = raw.strip().replace("\n", "").replace("\r", "").replace("\t", "")
                try:
                    url = urljoin(base, raw)
                    parts = urlsplit(url)
                    host = parts.hostname
                except ValueError:
                    continue
                if parts.scheme in ("http", "https") and host and parts.netloc and host != "127.0.0.1":
                    found.add(url.split("#")[0])
    return found


@pytest.mark.parametrize("folder", sorted(HOMES))
def test_real_pages_are_audited_without_leaving_the_machine(folder):
    """Each real site: every page of the folder audited, every link to another host not checked."""
    result = audit_realworld(folder)
    seen = {rel(d["page"], folder) for d in result["staleness"]["dates"]} | {
        rel(u, folder) for u in result["staleness"]["undated_pages"]}
    assert {p.split("?")[0] for p in seen} == set(page_files(folder))  # roads also has lp.html?P
    not_checked = {f["target"] for f in result["findings"]
                   if f["rule"] == "unverified-link" and f["evidence"].get("kind") == "not-checked"}
    assert not_checked == _external_targets(folder, result["_origin"])
    broken = [f["target"] for f in result["findings"] if f["rule"] == "broken-link"]
    assert all(rel(t, folder) != t for t in broken), "only the site's own links can be broken"
    about_others = Counter((f["rule"], f["evidence"].get("kind")) for f in result["findings"]
                           if f.get("target") in not_checked and f["rule"] in ("broken-link", "unverified-link"))
    assert set(about_others) == {("unverified-link", "not-checked")}
