"""The shortcuts that make the checks fast on a 10,000-page site (issue 6) give the same answers.

Each shortcut is compared with the straightforward algorithm it replaced (kept here as a reference)
on generated inputs: label scanning from anchors, the link index, per-target link verdicts, the
soft-404 line normalisation done only as far as needed, the url-pattern prefilter and the badge host
prefilter. On the benchmark site all checks give byte-identical findings (docs/performance.md, "The checks").
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from checks.dates import LabelFinder, _label_data
from checks.facts import Agency, LinkRef, LinkResult, PageFacts, SiteFacts, defrag, url_scheme
from checks.links import fetched_links, fetched_links_to
from checks.services import _required_literals, _url_features, features
from checks.soft404 import (
    _TITLE_404,
    HOME_SIMILARITY,
    MATCH_SHARE,
    SHORT_LINE,
    _Learned,
    _norm_lines,
    _PageLines,
    find_phrase,
    is_home,
    judge,
)
from checks.staleness import _notice_finder, _notice_spec
from checks.taiwan_a11y import BADGE_HOSTS, _hostname, _may_name_host
from checks.textnorm import LinkIndex, dead_reason, link_index, links_by_source

# ---------------------------------------------------------------------------------------------
# LabelFinder: the matches of `pattern.finditer`, found from a few anchor characters


def _spans(matches: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in matches]


_LABEL_PIECES = st.lists(st.sampled_from(
    ["更新日期", "最後更新日期", "資料更新", "發布時間", "日期", "截止日期", "日", "期", "更新", "時間", "新",
     "公告期間", "報名截止日", "截止日", "截止", "下架日期", "申請期限", "期間", "\n", " ", "：", "x", "出生", "測"]),
    max_size=30).map("".join)


@settings(max_examples=600)
@given(_LABEL_PIECES)
def test_label_finders_find_what_the_regular_expressions_find(text: str) -> None:
    pattern, ranks, _ = _label_data()
    assert _spans(LabelFinder(pattern, tuple(ranks)).finditer(text)) == _spans(list(pattern.finditer(text)))
    notice = _notice_spec()[0]
    assert _spans(_notice_finder().finditer(text)) == _spans(list(notice.finditer(text)))


@settings(max_examples=400)
@given(st.lists(st.sampled_from(["ab", "b", "abc", "bca", "a", "c", "cab", "x"]), max_size=25).map("".join))
def test_label_finder_with_overlapping_labels_and_a_look_behind(text: str) -> None:
    labels = ["abc", "bca", "ab", "cab", "b"]
    alternatives = [re.escape(x) if x != "b" else r"(?<!a)b" for x in sorted(labels, key=len, reverse=True)]
    pattern = re.compile("(" + "|".join(alternatives) + ")")
    assert _spans(LabelFinder(pattern, labels).finditer(text)) == _spans(list(pattern.finditer(text)))


def test_label_finder_examples() -> None:
    pattern, ranks, _ = _label_data()
    finder = LabelFinder(pattern, tuple(ranks))
    text = "截止日期：113-01-01\n日期：113-02-02 最後更新日期 113-03-03 出生日期"
    assert [m.group(1) for m in finder.finditer(text)] == ["日期", "最後更新日期"]  # 截止日期, 出生日期: not labels


# ---------------------------------------------------------------------------------------------
# LinkIndex and the per-target link passes

_URLS = ["http://a.test/", "http://a.test/p", "http://a.test/p#x", "http://a.test/p#", "http://a.test/q?#y",
         "http://a.test/p?s=1", "#", "", "javascript:void(0)", "mailto:x@a.test", "tel:123", "HTTP://A.test/P#top",
         "https://b.test/r", "https://b.test/r#Z"]
_TEXTS = ["", "首頁", "更多", "最新消息", "最新消息", "下載", "PDF"]
_LINKS = st.lists(st.builds(LinkRef, st.sampled_from(["http://a.test/", "http://a.test/p", "http://a.test/q"]),
                            st.sampled_from(_URLS), st.sampled_from(_TEXTS), st.sampled_from(["a", "a", "area", "img"])),
                  max_size=40)


@settings(max_examples=300)
@given(_LINKS, st.sets(st.sampled_from(_TEXTS)), st.sets(st.sampled_from(_URLS)))
def test_link_index_positions_and_links(links: list[LinkRef], texts: set[str], targets: set[str]) -> None:
    facts = SiteFacts(agency=Agency("a", "http://a.test/"), links=list(links))
    index = link_index(facts)
    assert list(index.at(range(len(links)))) == links
    assert list(index.with_texts(texts)) == [link for link in links if link.text in texts]
    assert list(index.with_targets(targets)) == [link for link in links if link.target in targets]
    for source, expected in links_by_source(facts).items():
        assert list(index.from_source(source)) == expected
    assert list(index.from_source("http://elsewhere.test/")) == []
    # each distinct target exactly as written, in the order it first appears, with its positions
    # ("p", "p#" and "p#x" are three targets), though only its part before "#" is held as a string
    distinct = list(dict.fromkeys(link.target for link in links))
    assert list(index.by_target) == distinct and len(index.by_target) == len(distinct)
    for target in distinct:
        assert target in index.by_target
        assert list(index.by_target[target]) == [i for i, link in enumerate(links) if link.target == target]
    for absent in ("http://elsewhere.test/#x", "http://a.test/p#nowhere", "http://a.test/q?"):
        if absent not in distinct:
            assert absent not in index.by_target
    texts_in_order = list(dict.fromkeys(link.text for link in links))
    assert list(index.by_text) == texts_in_order and len(index.by_text) == len(texts_in_order)
    for text in texts_in_order:
        assert index.by_text[text] == [i for i, link in enumerate(links) if link.text == text]
    assert "不在這裡" not in index.by_text
    both = list(index.positions(texts=texts, targets=targets))
    assert both == [i for i, link in enumerate(links) if link.text in texts or link.target in targets]
    assert [index.source_at(i) for i in range(len(links))] == [link.source for link in links]
    assert [index.target_at(i) for i in range(len(links))] == [link.target for link in links]
    # the index takes the place of the links it was built from: same links, same order
    assert facts.links is index and list(facts.links) == links and len(facts.links) == len(links)
    assert [facts.links[i] for i in range(-len(links), len(links))] == links + links
    facts.links = [*links, LinkRef("http://a.test/", "http://a.test/new", "新", "a")]  # new links: indexed anew
    assert list(link_index(facts).with_targets(["http://a.test/new"])) == [facts.links[-1]]


def test_link_index_with_many_distinct_fragments() -> None:
    """Fragment ids are one byte each until a site links to more than 255 distinct fragments."""
    links = [LinkRef(f"http://a.test/{i % 7}", f"http://a.test/{i % 3}#s{i}", "節", "a") for i in range(600)]
    index = LinkIndex(links)
    assert index.frag_of.typecode == "I" and list(index) == links
    assert list(index.by_target) == [link.target for link in links]
    assert list(index.with_targets(["http://a.test/2#s599"])) == [links[599]]
    assert LinkIndex(links[:200]).frag_of.typecode == "B"


@settings(max_examples=300)
@given(_LINKS, st.sets(st.sampled_from(_URLS)), st.booleans())
def test_fetched_links_to_is_fetched_links_for_those_targets(links: list[LinkRef], chosen: set[str],
                                                             keep_fragment: bool) -> None:
    facts = SiteFacts(agency=Agency("a", "http://a.test/"), links=list(links))
    if not keep_fragment:  # every spelling of a chosen target (the callers pass them all)
        bases = {defrag(t)[0] for t in chosen}
        chosen = {link.target for link in links if defrag(link.target)[0] in bases}
    key = (lambda t: t) if keep_fragment else (lambda t: defrag(t)[0])
    order, texts = fetched_links(facts, keep_fragment=keep_fragment)
    some_order, some_texts = fetched_links_to(facts, chosen, keep_fragment=keep_fragment)
    assert some_order == [link for link in order if link.target in chosen]
    assert {k: v for k, v in some_texts.items()} == {
        (link.source, key(link.target)): texts[(link.source, key(link.target))] for link in some_order}


def _dead_reason_reference(facts: SiteFacts, link: LinkRef, allow_schemes: tuple[str, ...]) -> str | None:
    """checks.textnorm._dead_reason before issue 6 (one evaluation per link)."""
    target = link.target.strip()
    scheme = urlsplit(target).scheme.lower()
    if scheme == "javascript":
        return "javascript"
    if scheme in allow_schemes:
        return None
    if scheme not in ("http", "https"):
        return "scheme"
    base, fragment = urldefrag(target)
    source_page = facts.page(link.source)
    source_urls = {link.source}
    if source_page is not None and source_page.final_url:
        source_urls.add(source_page.final_url)
    if base in source_urls:
        if not fragment:
            return "self"
        if source_page is not None and fragment not in source_page.anchors:
            return "missing-anchor"
        return None
    # evidence must be verified live (issue 16 item 2): a result 2xx/3xx or a served crawled page;
    # never requested (or answered 401/403/429/…) is "unverified", broken answers are dead
    from checks.computed.urls import url_key
    from checks.links import BROKEN_ERRORS

    page = facts.page(target)
    served = page is not None and (page.status is None or page.status < 400)
    result = facts.result_for(target) or {url_key(u): r for u, r in facts.link_results.items()}.get(url_key(base))
    if result is not None:
        if result.error:
            if result.error in BROKEN_ERRORS or result.error == "tls":
                return f"error:{result.error}"
            return None if served else "unverified"
        if result.status in (401, 403, 429, 999):
            return "unverified"
        if result.status is not None and result.status >= 400:
            return f"http:{result.status}"
        if result.status is not None:
            return None
    if page is not None:
        return None if served else f"http:{page.status}"
    return "unverified"


@settings(max_examples=300)
@given(_LINKS, st.sampled_from([(), ("mailto",), ("mailto", "tel")]))
def test_dead_reason_per_target_equals_per_link(links: list[LinkRef], allow: tuple[str, ...]) -> None:
    facts = SiteFacts(
        agency=Agency("a", "http://a.test/"), links=list(links),
        pages=[PageFacts(url="http://a.test/", status=200, anchors=["x"]),
               PageFacts(url="http://a.test/q", final_url="http://a.test/p", status=200, anchors=["y"]),
               PageFacts(url="http://a.test/p?s=1", status=404)],
        link_results={"http://a.test/p": LinkResult(url="http://a.test/p", status=200),
                      "https://b.test/r": LinkResult(url="https://b.test/r", error="dns"),
                      "http://a.test/q": LinkResult(url="http://a.test/q", status=500)})
    for link in links + links:  # the second time from the memo
        assert dead_reason(facts, link, allow_schemes=allow) == _dead_reason_reference(facts, link, allow)


# ---------------------------------------------------------------------------------------------
# soft 404: lines normalised only as far as a verdict needs them

_LINE_PIECES = st.lists(st.sampled_from(
    ["查無資料", "查 無 資 料", "Not Found", "404", "nginx/1.22.1", "首頁", "最新消息", "12:30", "2024", "１２３",
     "民眾服務中心，履約期限為決標日起，空氣品質監測，交通管制措施。", "網頁不存在", " ", "\t", "\u3000", "\n", "\n",
     "\r\n", "\u2028", "\x0b", "\x85", "page not found", "x" * 45, "y" * 30, "1" * 20, " " * 30]),
    max_size=30).map("".join)


def test_page_lines_at_the_short_line_boundary() -> None:
    lines = [
        "x" * 39 + "1" * 20,  # digits fold to one 0: 40 characters, short
        "x" * 40 + "1" * 5,  # 41 characters
        "x" * 41 + "1" * 5,  # 42, and the first 41 hold no digit: never normalised
        "x" * 19 + " " * 30 + "y" * 20,  # spaces collapse: 40, short
        "x" * 20 + " " * 30 + "y" * 20,  # 41
        "\u3000" * 3 + "查無資料" + "\u3000" * 50,  # white space only around it
    ]
    text = "\n".join(lines)
    assert _PageLines(text, {}).short() == {"x" * 39 + "0", "x" * 19 + " " + "y" * 20, "查無資料"}
    assert _PageLines(text, {}).short() == {line for line in _norm_lines(lines) if len(line) <= SHORT_LINE}


@settings(max_examples=500)
@given(_LINE_PIECES, _LINE_PIECES)
def test_page_lines_equal_normalising_every_line(text: str, other: str) -> None:
    every = _norm_lines(text.splitlines())
    lines = _PageLines(text, {})
    assert lines.short() == {line for line in every if len(line) <= SHORT_LINE}
    wanted = set(list(_norm_lines(other.splitlines()))[:3]) | set(list(every)[:2])
    anchors = {line: max(re.split(r"[0\s]+", line), key=len) for line in wanted}
    assert _PageLines(text, {}).present(wanted, anchors) == wanted & every
    assert lines.all() == every


def _judge_reference(result: LinkResult, page: PageFacts | None, learned: _Learned,
                     facts: SiteFacts) -> tuple[str, str, dict] | None:
    """checks.soft404.judge before issue 6 (every line of every page normalised)."""
    if result.error or result.status is None or not 200 <= result.status < 300:
        return None
    if is_home(result.url, facts):
        return None
    if result.redirects and is_home(result.final_url, facts):
        return "redirect-home", ("high" if learned.redirects_home else "medium"), {}
    title = (page.title if page else None) or result.title or ""
    lines = _norm_lines(page.text.splitlines()) if page else set()
    if page and learned.message_lines:
        hit = learned.message_lines & lines
        if len(hit) >= MATCH_SHARE * len(learned.message_lines):
            return "not-found-page", "high", {"matched_lines": sorted(hit)[:5]}
    if page and learned.serves_home and lines and learned.home_lines:
        union = lines | learned.home_lines
        if len(lines & learned.home_lines) >= HOME_SIMILARITY * len(union):
            return "home-content", "medium", {}
    phrase = find_phrase(title)
    if phrase or _TITLE_404.search(title):
        return "not-found-phrase", "high", {"phrase": phrase or "404", "where": "title"}
    if page:
        for level, heading in page.headings:
            phrase = find_phrase(heading) if level <= 2 else None
            if phrase:
                return "not-found-phrase", "medium", {"phrase": phrase, "where": f"h{level}"}
        for line in sorted(lines - learned.home_lines):
            phrase = find_phrase(line) if len(line) <= SHORT_LINE else None
            if phrase:
                return "not-found-phrase", "low", {"phrase": phrase, "where": "text"}
    return None


@settings(max_examples=400)
@given(text=_LINE_PIECES, probe=_LINE_PIECES, home=_LINE_PIECES, probe_status=st.sampled_from([200, 404]),
       title=st.sampled_from(["", "查無資料", "最新消息", "Error 404"]), heading=st.sampled_from(["", "網頁不存在", "公告"]))
def test_soft_404_verdicts_equal_normalising_every_line(text: str, probe: str, home: str, probe_status: int,
                                                        title: str, heading: str) -> None:
    facts = SiteFacts(agency=Agency("a", "http://a.test/"))
    entry = {"probes": [{"url": "http://a.test/da-1", "status": probe_status, "lines": probe.splitlines(),
                         "redirects": []}], "home_lines": home.splitlines()}
    learned = _Learned(entry, facts)
    page = PageFacts(url="http://a.test/p", title=title, headings=[(1, heading)] if heading else [], text=text)
    result = LinkResult(url="http://a.test/p", status=200, in_scope=True)
    assert judge(result, page, learned, facts, {}) == _judge_reference(result, page, learned, facts)


# ---------------------------------------------------------------------------------------------
# url patterns tried only on targets holding a word they require; badge hosts likewise

_URL_PIECES = st.lists(st.sampled_from(
    ["http://", "https://", "HTTP://", "www.", "m.", "facebook.com", "FaceBook.COM", "fb.me", "youtu.be", "/", ".",
     "eservice", "E-Service", "eService", "apply", "EPAY", "payment", "booking", "rss", "RSS", "atom", "feed",
     "en", "EN", "english", "?", "#", "=", "_", "-", "\t", "ſecurity", "security", "privacy", "PRIVACY", "臺",
     "mailbox", "join.gov.tw", "board", "forum", "poll", "survey", "sitemap", "a", "1"]), max_size=12).map("".join)


@settings(max_examples=800)
@given(_URL_PIECES)
def test_url_features_equal_trying_every_pattern(url: str) -> None:
    expected = [fid for fid, f in features().items() if any(p.search(url) for p in f.url_patterns)]
    assert _url_features(url) == expected


def test_required_literals_are_found_or_refused() -> None:
    assert _required_literals(re.compile(r"(^|[./])(epay|payment)", re.IGNORECASE)) == ("epay", "payment")
    assert _required_literals(re.compile(r"^https?://([a-z0-9-]+\.)*join\.gov\.tw(/|$)")) == ("join.gov.tw",)
    assert _required_literals(re.compile(r"/feed/?$")) == ("/feed",)
    assert _required_literals(re.compile(r"[a-z]+\d")) is None  # no literal at all: always tried
    assert _required_literals(re.compile(r"(?i:abc)d")) == ("d",)  # inline-flag groups are not used
    assert _required_literals(re.compile("臺北")) is None  # non-ASCII words are never relied on


_HOST_PIECES = st.lists(st.sampled_from(
    ["https://", "http://", "ACCESSIBILITY.moda.gov.tw", "accessibility.moda.gov.tw", "www.handicap-free.nat.gov.tw",
     "acces\tsibility", ".moda.gov.tw", "user@", ":443", "/Applications/Detail?category=20200101000000", "#x", "\n",
     "\r", " ", "[", "x.test"]), max_size=8).map("".join)


def test_badge_host_prefilter_sees_through_what_urlsplit_drops() -> None:
    url = "https://acces\tsibility.MODA.gov.tw/Applications/Detail?category=20200101000000"
    assert _hostname(url) == "accessibility.moda.gov.tw"  # urlsplit drops tabs and line breaks
    assert _may_name_host(url, BADGE_HOSTS)
    assert not _may_name_host("https://x.test/accessibility", BADGE_HOSTS)
    assert _hostname("http://[::1") is None  # not an address: never a badge, never a traceback


@settings(max_examples=800)
@given(_HOST_PIECES)
def test_badge_host_prefilter_never_hides_a_badge(url: str) -> None:
    hosts = (*BADGE_HOSTS, "Extra.Test")
    if _hostname(url) in hosts:
        assert _may_name_host(url, hosts)


def test_memoised_url_helpers_equal_urllib() -> None:
    for url in _URLS + ["HTTP://A.test/x;p?q#f", " http://a.test/\tb#c"]:
        assert defrag(url) == tuple(urldefrag(url))
        assert url_scheme(url) == urlsplit(url).scheme.lower()
