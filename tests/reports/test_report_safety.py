"""Everything a crawled site sends is untrusted (issue 7, Safety): crawl a page full of script and
attribute-injection payloads, render the report, open it in headless Chromium and prove that no
script ran, no injected element exists and no request left the page."""

from __future__ import annotations

import json
from datetime import date

from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site
from reports.render import render_all


def payloads(beacon: str) -> str:
    """Title, link texts, URLs and attribute values that would run script or phone home if unescaped."""
    return f"""<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8">
<title>首頁<script>window.__pwned=1;fetch('{beacon}/title')</script></title>
<meta name="DC.Title" content="&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;">
<meta name="Category.Theme" content="&lt;svg onload=window.__pwned=3&gt;">
</head><body><h1>歡迎 &lt;img src={beacon}/h1 onerror=window.__pwned=4&gt;</h1>
<a href="/gone.html">&lt;script&gt;window.__pwned=5&lt;/script&gt;</a>
<a href="/missing&quot;onmouseover=&quot;window.__pwned=6.html">" onmouseover="window.__pwned=6</a>
<a href="javascript:window.__pwned=7">點我</a>
<a href="/x.html#&quot;&gt;&lt;script&gt;window.__pwned=8&lt;/script&gt;">錨點</a>
<a href="/y.html"><img src="{beacon}/img.png" alt="&lt;/td&gt;&lt;script&gt;window.__pwned=9&lt;/script&gt;"></a>
<a href="{beacon}/external&quot;&gt;&lt;iframe src=&quot;{beacon}/iframe">外部</a>
</body></html>"""


def test_report_of_a_hostile_site_is_inert(site, external_site, driver, tmp_path):
    beacon = external_site.url
    site.html("/", payloads(beacon))
    site.html("/y.html", "<html><title>Y</title></html>")
    audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False, today=date(2026, 11, 23)))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "window.__pwned" in html  # the payloads are shown to the evaluator, as text
    assert 'href="javascript:' not in html
    external_site.hits.clear()

    render_all(json.loads((tmp_path / "results.json").read_text(encoding="utf-8")), tmp_path / "en", lang="en")
    for report in (tmp_path / "report.html", tmp_path / "en" / "report.html"):
        assert report.exists()
        driver.get(report.resolve().as_uri())
        driver.execute_script("document.querySelectorAll('a').forEach(a => a.dispatchEvent("
                              "new MouseEvent('mouseover', {bubbles: true})));")
        assert driver.execute_script("return window.__pwned === undefined")
        injected = driver.execute_script(
            "return Array.from(document.querySelectorAll('script:not([src]), iframe, svg[onload], img[onerror],"
            " [onmouseover], [onerror], [onload]')).filter(e => e.tagName !== 'SCRIPT' || "
            "e.textContent.includes('__pwned')).length")
        assert injected == 0
        hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        assert not [h for h in hrefs if h.lower().startswith("javascript:")]
    assert external_site.hits == []  # no request left the report for the beacon host
