"""Site-search probe: submit a real query to the site's own search form and record what came back.

A gatherer (network allowed): the plans' indicator 資訊檢索完整性與便捷性 asks for a site search
with paging and sorting (../shared/domain/README.md §1). Whether the form merely exists is visible
in the crawled facts; whether it *works* needs one request. The probe:

1. finds the search form in the crawled pages (checks.computed.search_forms.find_search_forms),
2. picks a query from the site's own text: the 2–4 character CJK term (or Latin word) found on
   the most pages, navigation words excluded, so a working search must find something,
3. submits the form once (GET or POST as declared, hidden fields kept) with `requests`, a timeout
   and the crawl's User-Agent, only to a host in the crawl's scope (never a third-party engine),
4. records {"form_page", "query", "results_url", "status", "results_found", "paged", "sortable"}
   (+ "field", "method", "error") for `facts.artifacts.search`; checks/retrieval.py judges it.

No judgement here beyond reading the results page: the thresholds live in the check.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import charset_normalizer
import requests
import urllib3

from checks.computed.search_forms import find_search_forms, query_params
from checks.facts import SiteFacts
from crawler.extract import extract_page

DEFAULT_TIMEOUT = 15.0
MAX_BODY_BYTES = 5_000_000

# Words every government site carries in its navigation: searching them proves nothing.
STOP_TERMS = frozenset({
    "網站導覽", "回首頁", "首頁", "搜尋", "查詢", "進階搜尋", "更多", "關閉", "列印", "友善列印", "回上一頁",
    "上一頁", "下一頁", "字型大小", "分享", "轉寄", "網站", "日期", "點閱", "次數", "版權所有", "隱私權政策",
    "資訊安全政策", "資料開放宣告", "英文版", "回頁首", "主選單", "主要內容", "跳到主要內容", "服務時間",
    "地址", "電話", "傳真", "熱門", "瀏覽人次", "更新日期", "發布日期", "小", "中", "大",
})
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
_NO_RESULTS = re.compile(
    r"查無(相關)?(資料|結果)|沒有符合|找不到(符合|相關)|無(搜尋|查詢)結果|共\s*0\s*筆|0\s*筆(資料|結果)|"
    r"no results|nothing found|did not match|0 results",
    re.IGNORECASE,
)
_RESULT_COUNT = re.compile(r"共\s*([\d,]+)\s*筆|([\d,]+)\s*筆(資料|結果)|([\d,]+)\s*results?", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^(下一?頁|後一頁|next|next page|›|»|>|>>|下10頁)$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^(?:第\s*)?(\d{1,4})(?:\s*頁)?$")
_PAGE_PARAM = re.compile(r"^(page|p|pg|pageno|pagenum|pageindex|currentpage|start|offset|startrow|pi)$", re.IGNORECASE)
_PAGES_TEXT = re.compile(r"第\s*\d+\s*/\s*(\d+)\s*頁|共\s*(\d+)\s*頁|page\s*\d+\s*of\s*(\d+)", re.IGNORECASE)
_SORT_HINT = re.compile(r"排序|依(相關|日期|時間|類別|主題)|相關度|相關性|最新優先|sort\s*by|relevance", re.IGNORECASE)
_SORT_PARAM = re.compile(r"^(sort|order|orderby|sortby|sort_by|order_by|sortorder|od)$", re.IGNORECASE)


def choose_query(facts: SiteFacts) -> str | None:
    """The site's most widespread 2–4 character term (pages it occurs on, then length, then text)."""
    df: Counter[str] = Counter()
    for page in facts.pages:
        terms = {run for run in _CJK_RUN.findall(page.text) if 2 <= len(run) <= 4 and run not in STOP_TERMS}
        df.update(terms)
    if not df:
        for page in facts.pages:
            df.update({w.lower() for w in _LATIN_WORD.findall(page.text)})
    if not df:
        return None
    return sorted(df.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0]))[0][0]


def _in_scope(url: str, facts: SiteFacts) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    hosts = {h.lower() for h in facts.hosts} or {urlsplit(facts.agency.url).netloc.lower()}
    names = {h.split(":")[0] for h in hosts}
    return parts.netloc.lower() in hosts or parts.hostname.lower() in names


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_body(body: bytes, content_type: str) -> str:
    """Bytes → text: the header's charset, else the page's <meta charset>, else a detector guess."""
    candidates = []
    m = re.search(r"charset\s*=\s*([\w.:-]+)", content_type or "")
    if m:
        candidates.append(m.group(1))
    m2 = _META_CHARSET.search(body[:4096])
    if m2:
        candidates.append(m2.group(1).decode("ascii", "replace"))
    for name in candidates:
        try:
            return body.decode(name, errors="replace")
        except LookupError:
            continue
    best = charset_normalizer.from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", errors="replace")


def analyse_results(html: str, url: str, query: str, form_page_links: set[str]) -> dict[str, bool]:
    """Read a results page: are there results, is there paging, can the order be changed?"""
    parsed = extract_page(html, url)
    text = parsed.facts.text
    links = [link for link in parsed.links if link.tag in ("a", "area")]
    count_match = _RESULT_COUNT.search(text)
    count = None
    if count_match:
        digits = next(g for g in count_match.groups() if g and g[0].isdigit())
        count = int(digits.replace(",", ""))
    result_links = [
        link for link in links
        if query.lower() in link.text.lower() and link.target not in form_page_links
    ]
    if _NO_RESULTS.search(text) or count == 0:
        found = False
    else:
        found = bool(result_links) or bool(count)

    paged = False
    for link in links:
        page_params = [k for k, _ in parse_qsl(urlsplit(link.target).query) if _PAGE_PARAM.match(k)]
        label = link.text.strip()
        number = _PAGE_NUMBER.match(label)
        if (_NEXT_TEXT.match(label) and link.target != url) or (number and int(number.group(1)) >= 2 and page_params):
            paged = True
            break
    if not paged:
        for m in _PAGES_TEXT.finditer(text):
            total = next(int(g) for g in m.groups() if g)
            if total > 1:
                paged = True
                break

    sortable = bool(_SORT_HINT.search(text))
    if not sortable:
        for form in parsed.facts.forms:
            if any(_SORT_PARAM.match(i.get("name") or "") for i in form.get("inputs") or []):
                sortable = True
                break
    if not sortable:
        for link in links:
            if any(_SORT_PARAM.match(k) for k, _ in parse_qsl(urlsplit(link.target).query)):
                sortable = True
                break
    return {"results_found": found, "paged": paged, "sortable": sortable}


def probe_site_search(
    facts: SiteFacts,
    *,
    user_agent: str,
    timeout: float = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
    query: str | None = None,
) -> dict[str, Any] | None:
    """Probe the site's search once; None when the site has no search form at all.

    `query`: the term to search when it is already known (a recrawl of unchanged pages chooses the
    same term, so the text of every page need not be read again); chosen from the text otherwise."""
    forms = find_search_forms(facts)
    if not forms:
        return None
    form_page, form, field = forms[0]
    action = form.get("action") or form_page
    method = (form.get("method") or "get").lower()
    query = query or choose_query(facts)
    out: dict[str, Any] = {
        "form_page": form_page, "query": query, "results_url": None, "status": None,
        "results_found": None, "paged": None, "sortable": None,
        "field": field, "method": method, "action": action, "error": None,
    }
    if query is None:
        out["error"] = "no-query-term"
        return out
    if not _in_scope(action, facts):
        out["error"] = "out-of-scope"  # e.g. a Google custom search: never query third parties
        return out
    http = session or requests.Session()
    headers = {"User-Agent": user_agent, "Referer": form_page}
    params = query_params(form, field, query)
    try:
        if method == "post":
            resp = http.post(action, data=params, headers=headers, timeout=timeout, stream=True)
        else:
            resp = http.get(action, params=params, headers=headers, timeout=timeout, stream=True)
        try:
            body = resp.raw.read(MAX_BODY_BYTES + 1, decode_content=True) if resp.raw else b""
        finally:
            resp.close()
    except (requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        out["error"] = "timeout"
        return out
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        out["error"] = f"request: {type(exc).__name__}"
        return out
    finally:
        if session is None:
            http.close()
    out["results_url"] = resp.url
    out["status"] = resp.status_code
    if resp.status_code >= 400:
        return out
    ctype = (resp.headers.get("Content-Type") or "").lower()
    if ctype and "html" not in ctype:
        out["error"] = f"content-type: {ctype.split(';')[0]}"
        return out
    html = decode_body(body[:MAX_BODY_BYTES], ctype)
    form_links = {link.target for link in facts.links_from(form_page)}
    out.update(analyse_results(html, resp.url, query, form_links))
    return out
