"""Every zh-TW finding text reads as a native speaker wrote it (issue 16 item 8).

Read over the demo audit and every real agency site of ../shared/realworld: no §7 item name is cut short,
and no ASCII word stands in a zh-TW sentence where Chinese has a word for it. Technical names with no
Chinese equivalent an evaluator would use (DC.Title, HTTP, WCAG, ODF, an accesskey letter, a CSS selector
or an axe rule id quoted as code) are allowed; the site's own words (quoted in 「」), URLs, fragment ids
and code in backticks are the site's, not ours, and are left out before the check.
"""

from __future__ import annotations

import csv
import json
import re
from urllib.parse import urlsplit

import pytest
from paths import ROOT
from realworld_sites import HOMES, audit_realworld

# Names kept in Latin letters in zh-TW government writing, each with why.
TECHNICAL = [
    r"DC\.[A-Za-z.]+",  # metadata element names (FL043379 writes them so)
    r"Category\.(?:Theme|Cake|Service)",  # classification element names (same source)
    r"HTTPS?", r"TLS", r"WCAG", r"Freego", r"HM\d{7}[A-Z]", r"CS\d{7}[A-Z]",  # standards and their check codes
    r"axe(?:-core)?", r"ACT",  # the engine and rule set, proper names
    r"ODF|ODT|ODS|ODP|PDF|DOCX?|XLSX?|PPTX?|CSV|RSS|HTML|JSON|XML|SARIF",  # format names
    r"JavaScript", r"Chromium", r"robots\.txt", r"Last-Modified", r"Retry-After", r"ETag", r"OpenData",
    r"Alt\+[A-Z]", r"[A-Z]",  # accesskey letters (U/C/Z…) and keyboard chords
    r"id|name|href|alt|title|lang|accesskey|noscript",  # HTML attribute and element names, written as in the code
    r"A{1,3}\+?", r"[A-Z]{1,2}\d+",  # conformance levels (A, AA, AAA, A+) and codes
]
_TECHNICAL = re.compile(r"^(?:" + "|".join(TECHNICAL) + r")$")
_SITE_WORDS = re.compile(r"「[^」]*」|“[^”]*”|`[^`]*`|https?://\S+|#[\w:.-]+|[\w.-]+\.(?:html?|png|jpe?g|gif|svg|aspx?)\b")
_SELECTOR = re.compile(r"[\w#.\[\]=\"'>:() -]*(?:>|:nth-child|\[)[\w#.\[\]=\"'>:() -]*")  # CSS selectors quoted by axe


def _zh_texts(site: dict) -> list[tuple[str, str]]:
    return [(f["rule"], f["detail"]) for f in site["findings"] if f.get("detail")]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> dict:
    from disclosure_audit.demo import DEMO_AGENCY, demo_today, serve_demo
    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site

    out = tmp_path_factory.mktemp("zh-demo")
    with serve_demo() as demo:
        opts = AuditOptions(url=demo.url, out_dir=out, today=demo_today(), agency_name=DEMO_AGENCY["name"],
                            agency_code=DEMO_AGENCY["code"], group=DEMO_AGENCY["group"])
        opts.check_options["badge_hosts"] = [urlsplit(demo.external_url).hostname]
        audit_site(opts)
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["sites"][0]


def _sites(demo_site: dict) -> dict[str, dict]:
    return {"demo": demo_site, **{folder: audit_realworld(folder) for folder in sorted(HOMES)}}


def stray_words(text: str) -> list[str]:
    """ASCII words of `text` outside the site's own words that are not technical names."""
    ours = _SITE_WORDS.sub(" ", text)
    ours = _SELECTOR.sub(" ", ours) if ("nth-child" in ours or ">" in ours) else ours
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9+.:_-]*[A-Za-z0-9+]|[A-Za-z]", ours)
            if not _TECHNICAL.match(w.rstrip(".:"))]


def test_the_check_itself_catches_english_in_a_zh_sentence():
    assert stray_words("沒有指向可用的頁面（self）") == ["self"]
    assert stray_words("連結失效（error:dns）") == ["error:dns"]
    assert stray_words("「Mailbox」連結的目標是 # ：DC.Title 只有網站名稱，HTTP 404") == []


def test_no_ascii_word_stands_in_a_zh_sentence(demo_site):
    bad = {}
    for name, site in _sites(demo_site).items():
        for rule, text in _zh_texts(site):
            words = stray_words(text)
            if words:
                bad.setdefault((rule, tuple(words)), (name, text))
    assert not bad, "\n".join(f"{rule} {words}: {name}: {text}" for (rule, words), (name, text) in bad.items())


def test_no_article_7_item_name_is_cut(demo_site):
    with (ROOT / "checks" / "data" / "info_disclosure_art7.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    names = {int(row["item_no"]): row["statutory_text_zh"] for row in rows}
    assert len(names) == 10
    seen = 0
    for site in _sites(demo_site).values():
        for finding in site["findings"]:
            item = (finding.get("evidence") or {}).get("item")
            if finding["check"] == "disclosure" and isinstance(item, int):
                assert names[item] in finding["detail"], finding["detail"]
                seen += 1
    assert seen > 10  # the real sites lack many items: the names were really read
