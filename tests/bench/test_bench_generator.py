"""The benchmark's synthetic agency site (bench/generate_site.py) is what BENCHMARKS.md says it is.

A benchmark whose "known broken links" are wrong compares nothing, so this checks, over real HTTP from
the bench's own threaded server on 127.0.0.1: the site has exactly N HTML pages, all reachable from
"/"; every link the manifest calls broken answers 404 and no other internal link does; pages are
20–40 KB with 29–70 links. Not a timing test: figures live in BENCHMARKS.md only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from paths import ROOT

if str(ROOT) not in sys.path:  # `pytest` run without `python -m`: bench/ is not an installed package
    sys.path.insert(0, str(ROOT))


from bench.generate_site import MANIFEST, Layout, generate  # noqa: E402
from bench.serve import serve_python  # noqa: E402

PAGES = 900  # > 750 articles: two planted broken links (one page, one PDF)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-site")
    manifest = generate(root, PAGES, seed=7)
    with serve_python(root) as served:
        yield root, manifest, served.url


def fetch(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def crawl(start: str) -> tuple[dict[str, bytes], dict[str, int], set[tuple[str, str]]]:
    """A plain breadth-first crawl: HTML pages seen, status of every internal target, 404 pairs."""
    host = urlsplit(start).netloc
    pages: dict[str, bytes] = {}
    status: dict[str, int] = {}
    sources: dict[str, str] = {}
    queue = deque([start])
    status[start] = 0
    with ThreadPoolExecutor(16) as pool:
        while queue:
            batch = [queue.popleft() for _ in range(len(queue))]
            for url, (code, body, ctype) in zip(batch, pool.map(fetch, batch), strict=True):
                status[url] = code
                if code != 200 or "text/html" not in ctype:
                    continue
                pages[url] = body
                for href in lxml.html.fromstring(body).xpath("//a/@href | //link/@href | //img/@src"):
                    target = urljoin(url, href).split("#")[0]
                    if urlsplit(target).netloc == host and target not in status:
                        status[target] = 0
                        sources[target] = url
                        queue.append(target)
    broken = {(urlsplit(sources[u]).path, urlsplit(u).path) for u, code in status.items() if code == 404}
    return pages, status, broken


def test_manifest_lists_exactly_the_planted_broken_links(site):
    root, manifest, _url = site
    on_disk = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    assert on_disk["pages"] == on_disk["html_pages"] == PAGES
    assert [(b["source"], b["target"]) for b in on_disk["broken"]] == [
        ("/news/000251.html", "/news/000251-old.html"),
        ("/news/000751.html", "/files/000751-missing.pdf"),
    ]
    assert len(on_disk["documents"]) == 3 and all((root / d.lstrip("/")).is_file() for d in on_disk["documents"])
    assert on_disk["unique_urls"] == PAGES + 3 + 3 + 2


def test_served_site_has_n_pages_and_only_the_known_broken_links(site):
    _root, manifest, url = site
    pages, status, broken = crawl(url)
    assert len(pages) == PAGES  # "/" plus every page, each reachable by links
    assert broken == {(b["source"], b["target"]) for b in manifest["broken"]}
    assert sorted(code for code in status.values() if code != 200) == [404, 404]
    sizes = sorted(len(body) for body in pages.values())
    assert 18_000 <= sizes[len(sizes) // 2] <= 40_000  # realistic page weight (median)
    assert sizes[-1] <= 45_000


def test_pages_carry_a_realistic_zh_tw_chrome_and_fan_out(site):
    root, manifest, _url = site
    article = (root / "news" / "000011.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hant-TW">' in article and "跳到主要內容區塊" in article and "網站導覽" in article
    assert 29 <= manifest["links_per_page"]["min"] and manifest["links_per_page"]["max"] <= 70
    doc = lxml.html.fromstring(article)
    assert 35 <= len(doc.xpath("//a[starts-with(@href, '/')]")) <= 70


def test_layout_is_exact_for_any_size_and_deterministic(tmp_path):
    for pages in (27, 28, 100, 1001, 10_000, 100_000):
        layout = Layout.for_pages(pages)
        assert len(list(layout.html_paths())) == pages
    with pytest.raises(ValueError, match="at least"):
        Layout.for_pages(5)
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, 60, seed=3)
    generate(b, 60, seed=3)
    assert (a / "news" / "000011.html").read_bytes() == (b / "news" / "000011.html").read_bytes()
