"""Knowledge kept once (issue 21): the checks and crawler/'s gatherers read one definition each.

Search-form detection and the query a form sends (checks/computed/search_forms.py), text folding
(checks/computed/text.py) and the site-map / 主動公開資訊 words (checks/computed/keywords.py, from
the data files) used to be typed again in crawler/a11y.py and checks/taiwan_a11y.py, and disagreed:
a login form with id "search-box" was a search form for the sampling only; "Site Map" named the site
map for the sampling and the services check, not for the Taiwan accessibility check.
"""

from __future__ import annotations

from checks.computed.keywords import disclosure_section_names, feature_keywords
from checks.computed.search_forms import find_search_forms, query_params, query_url, search_field
from checks.computed.text import contains_any
from checks.facts import Agency, SiteFacts
from checks.services import features
from checks.taiwan_a11y import _names_sitemap
from crawler.a11y import A11yOptions, select_sample
from crawler.extract import extract_page

BASE = "https://www.example.gov.tw"


def _site(pages: dict[str, str]) -> SiteFacts:
    facts = SiteFacts(agency=Agency(name="測試機關", url=BASE + "/"))
    for depth, (path, body) in enumerate(pages.items()):
        parsed = extract_page(f"<html lang='zh-Hant'><head><title>機關</title></head><body>{body}</body></html>",
                              BASE + path)
        parsed.facts.status, parsed.facts.content_type, parsed.facts.depth = 200, "text/html", min(depth, 1)
        facts.pages.append(parsed.facts)
        facts.links.extend(parsed.links)
    return facts


def test_the_sampled_search_page_is_the_form_the_retrieval_check_and_probe_use():
    facts = _site({
        "/": "<form id='search-box' action='/login'><input name='user'><input name='pw' type='password'></form>"
             "<form action='/find' method='get'><input name='keyword'><input type='hidden' name='lang' value='zh'>"
             "</form>",
    })
    [(page, form, field)] = find_search_forms(facts)  # the login form is no search form
    assert (page, field) == (BASE + "/", "keyword")
    search = [url for url, reason, _ in select_sample(facts, A11yOptions(sample_size=10)) if reason == "search"]
    assert search == [query_url(form, field, "政府資訊公開")]
    assert search[0].startswith(BASE + "/find?keyword=") and search[0].endswith("&lang=zh")
    assert query_params(form, field, "q") == [("keyword", "q"), ("lang", "zh")]  # what the probe sends


def test_a_login_form_is_sampled_as_a_page_with_a_form():
    facts = _site({"/": "<form action='/find'><input name='q'></form>", "/login.html": "<form id='search-box' action='/login'>"
                                                      "<input name='user'><input name='pw' type='password'></form>"})
    assert search_field(facts.pages[1].forms[0]) is None
    reasons = {url: reason for url, reason, _ in select_sample(facts, A11yOptions(sample_size=10))}
    assert reasons[BASE + "/login.html"] == "form"  # not the home page's search form


def test_site_map_words_are_the_sitemap_feature_for_every_reader():
    assert feature_keywords("sitemap") == features()["sitemap"].keywords
    for text in ("網站導覽", "Site Map", "ＳＩＴＥＭＡＰ", "網站地圖（臺北）"):
        assert _names_sitemap(text), text
    assert not _names_sitemap("網站資料開放宣告")


def test_the_sampling_finds_the_disclosure_area_by_the_section_names():
    assert {"主動公開資訊", "政府資訊公開", "資訊公開"} <= set(disclosure_section_names())
    facts = _site({"/": "<a href='/open.html'>政府資訊公開專區</a>", "/open.html": "<h1>清單</h1>"})
    reasons = {url: reason for url, reason, _ in select_sample(facts, A11yOptions(sample_size=10))}
    assert reasons[BASE + "/open.html"] == "disclosure"


def test_text_folding_is_nfkc_tai_and_spaces():
    assert contains_any("臺北市　政府 ＳＩＴＥ map", ["台北市政府", "sitemap"]) == "台北市政府"
    assert contains_any("site map", ["sitemap"]) == "sitemap"
