"""Accessibility gatherer: axe-core in headless Chromium through Selenium, on a sample an auditor defends.

Rule served: 身心障礙者權益保障法 §52-2 (government sites must pass accessibility testing, at least
level A, 網站無障礙規範 110.07 = WCAG 2.1). This module only *records* what axe-core reports (all four
buckets: violations, incomplete, passes, inapplicable); `checks/accessibility.py` judges.

Engine notes (see docs/accessibility.md):
- one Selenium session per worker, reused across pages; a crashed or hung browser is restarted and the
  page retried once, then recorded as failed;
- the driver and browser paths are explicit, so Selenium Manager never runs (it would download);
- axe-core 4.10.2 is vendored (crawler/vendor/axe-core) and injected through axe-selenium-python's
  `Axe(driver, script_url=...)`; options are passed as JSON text (the package formats dicts as
  Python reprs, which are not JavaScript);
- frames: axe is injected into every *same-origin* frame (recursively) and axe's own frame support
  (`iframes: true`) merges their results; cross-origin frames (maps, videos of third parties) are not
  injected: axe lists them under `incomplete` (rule `frame-tested`) for manual review.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.computed.keywords import disclosure_section_names, feature_keywords, feature_url_patterns
from checks.computed.search_forms import query_url, search_field
from checks.computed.text import contains_any
from checks.facts import A11yPageResult, PageFacts, SiteFacts

AXE_CORE_VERSION = "4.10.2"
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
MAX_NODES_PER_RULE = 50  # nodes kept per rule and bucket (the count of all nodes is kept too)
MAX_HTML_CHARS = 300  # untrusted markup snippets are bounded
MAX_FRAMES = 50
MAX_FRAME_DEPTH = 5
MAX_ALTERNATES = 5  # replacement candidates kept per kind of sampled page
MAX_REPLACEMENTS = 3  # pages tried in place of one the site did not serve

SampleEntry = tuple[str, str, str]  # (url, reason, template_id)


def _default_chromium() -> str:
    return os.environ.get("DISCLOSURE_AUDIT_CHROMIUM") or "/usr/bin/chromium"


def _default_chromedriver() -> str:
    return os.environ.get("DISCLOSURE_AUDIT_CHROMEDRIVER") or "/usr/bin/chromedriver"


# the wcag2aaa rules of axe-core 4.10.2, all disabled by default (run when the level is AAA)
AAA_RULES = ("color-contrast-enhanced", "identical-links-same-purpose", "meta-refresh-no-exceptions")


class A11yOptions(BaseModel):
    """How the accessibility pass runs; validated at the edge so a bad value gives one clear message."""

    model_config = ConfigDict(extra="forbid")

    chromium: str = Field(default_factory=_default_chromium)
    chromedriver: str = Field(default_factory=_default_chromedriver)
    webdriver_url: str | None = None  # remote WebDriver endpoint (Selenium Grid, chromedriver --port)
    remote_chromium: str | None = None  # browser path on the remote node, when it needs one
    page_timeout_s: float = Field(default=30.0, gt=0, le=600)
    script_timeout_s: float = Field(default=60.0, gt=0, le=600)
    sample_size: int | Literal["all"] = 20
    seed: int = 0
    workers: int = Field(default=1, ge=1, le=32)
    max_templates: int = Field(default=50, ge=0)
    # axe options: restrict to rule ids (runOnly) and keep nodes of passes/inapplicable or not
    rules: list[str] | None = None
    # WCAG level tested (issue 18): A = rules tagged level A only; AA (None) = axe's default rules;
    # AAA = those plus the AAA rules axe disables by default (AAA_RULES)
    level: Literal["A", "AA", "AAA"] | None = None
    full_passes: bool = False  # False: axe `resultTypes` keeps one node per passing rule (faster)
    window_size: tuple[int, int] = (1280, 1024)
    extra_args: list[str] = Field(default_factory=list)  # more Chromium flags (tests: --host-resolver-rules)

    @field_validator("sample_size", mode="before")
    @classmethod
    def _sample_size(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if text == "all":
                return "all"
            if text.isdigit():
                value = int(text)
            else:
                raise ValueError(f"a11y sample size must be a positive number or 'all', not {value!r}")
        if isinstance(value, int) and value < 1:
            raise ValueError(f"a11y sample size must be at least 1 (or 'all'), not {value}")
        return value

    @field_validator("webdriver_url")
    @classmethod
    def _webdriver_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--webdriver-url must be an http(s) URL such as http://host:4444, not {value!r}")
        return value.strip()

    def axe_options_json(self) -> str:
        """axe.run options as JSON text: axe-selenium-python would write a Python dict repr otherwise."""
        opts: dict[str, Any] = {"iframes": True, "frameWaitTime": int(self.script_timeout_s * 1000)}
        if not self.full_passes:
            opts["resultTypes"] = ["violations", "incomplete"]
        if self.rules:
            opts["runOnly"] = {"type": "rule", "values": list(self.rules)}
        elif self.level == "A":
            opts["runOnly"] = {"type": "tag", "values": ["wcag2a", "wcag21a", "wcag22a"]}
        elif self.level == "AAA":
            opts["rules"] = {rule: {"enabled": True} for rule in AAA_RULES}
        return json.dumps(opts)


@dataclass
class A11yRun:
    """Outcome of one accessibility pass over a list of pages."""

    status: str = "ok"  # ok | not_run | failed
    detail: str | None = None
    axe_version: str | None = None
    results: list[A11yPageResult] = field(default_factory=list)
    duration_s: float = 0.0
    browser_starts: int = 0

    @property
    def pages_tested(self) -> int:
        return sum(1 for r in self.results if r.status == "ok")


class A11yUnavailable(Exception):
    """The browser cannot be started at all (missing binary, unreachable endpoint): the pass is not run."""


# ---------------------------------------------------------------------------------------------------
# sampling


_CONTACT_WORDS = ("聯絡", "contact", "mailbox", "信箱")
_SEARCH_URL = re.compile(r"search|query|搜尋|查詢", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SEARCH_PROBE = "政府資訊公開"


def _is_html_page(page: PageFacts) -> bool:
    ctype = (page.content_type or "text/html").lower()
    ok_status = page.status is None or 200 <= page.status < 300
    return ok_status and ("html" in ctype or "xml" in ctype)


def url_pattern(url: str) -> str:
    """Path with digit runs replaced and query keys kept (values dropped): /news/12.html?id=3 -> /news/#.html?id."""
    parts = urlsplit(url)
    path = _DIGITS.sub("#", parts.path or "/")
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def template_signature(page: PageFacts) -> str:
    """A DOM-structure signature computed from stored facts (PageFacts holds no DOM).

    A gatherer may store its own `artifacts.dom_signature` (e.g. landmark/heading tag paths); otherwise
    the signature is: URL pattern + heading-level sequence (consecutive repeats collapsed, first 12) +
    number of forms (capped at 3). Pages built from one CMS template share all three.
    """
    own = page.artifacts.dom_signature
    if own:
        return f"dom:{own}"
    levels: list[int] = []
    for level, _text in page.headings:
        if not levels or levels[-1] != level:
            levels.append(level)
    heads = "".join(str(x) for x in levels[:12])
    return f"{url_pattern(page.final_url or page.url)}|h{heads}|f{min(len(page.forms), 3)}"


def template_id(signature: str) -> str:
    return "tpl-" + hashlib.sha1(signature.encode("utf-8")).hexdigest()[:8]


def _texts_pointing_at(facts: SiteFacts) -> dict[str, list[str]]:
    """Link texts by target URL (fragment dropped): how the site itself names each page."""
    out: dict[str, list[str]] = {}
    for link in facts.links:
        if link.tag in ("a", "area") and link.text:
            out.setdefault(link.target_no_fragment, []).append(link.text)
    return out


def _matches(page: PageFacts, texts: dict[str, list[str]], words: Iterable[str]) -> bool:
    names = [page.title] + [h for _, h in page.headings[:3]] + texts.get(page.url, [])
    if page.final_url:
        names += texts.get(page.final_url, [])
    return contains_any(" ".join(names), words) is not None


@dataclass
class SamplePlan:
    """The sample, with what replaces a page the site does not serve, and what is already known failed.

    `entries`: pages to test, in order. `alternates[url]`: the next candidates of the same kind as the
    entry `url` (tested in its place when the browser finds it was not served). `known[url]`: sampled
    candidates the crawl or the search probe already knows were not served, recorded as failed
    without being loaded, placed before the entry `url` that took their place (key None: at the end,
    no candidate of that kind was left)."""

    entries: list[SampleEntry] = field(default_factory=list)
    alternates: dict[str, list[SampleEntry]] = field(default_factory=dict)
    known: dict[str | None, list[A11yPageResult]] = field(default_factory=dict)


def select_sample(facts: SiteFacts, options: A11yOptions) -> list[SampleEntry]:
    """Pages to test, in order, each with why it was chosen and its template id (see `plan_sample`)."""
    return plan_sample(facts, options).entries


def not_served_result(url: str, reason: str, template: str, problem: NotServed,
                      replaces: str | None = None) -> A11yPageResult:
    """A sampled page that was not tested because the site did not serve it as a 2xx HTML document."""
    return A11yPageResult(url=url, status="failed", error="not served: " + problem.detail, template=template,
                          reason=reason, not_served=problem.code, http_status=problem.http_status,
                          replaces=replaces)


def _search_candidates(facts: SiteFacts, pages: list[PageFacts], by_url: dict[str, PageFacts]) -> list[str]:
    """Results pages, best first: crawled form targets, crawled search-like URLs, then probe URLs."""
    forms = [(f, name) for p in pages for f in p.forms if (name := search_field(f))]
    out: list[str] = []
    for form, _ in forms:
        target = facts.page(form.get("action", ""))
        if target is not None and target.url in by_url:
            out.append(target.url)
    out += [p.url for p in pages if _SEARCH_URL.search(urlsplit(p.url).path + "?" + urlsplit(p.url).query)]
    out += [u for u in (query_url(form, name, _SEARCH_PROBE) for form, name in forms) if u]
    return list(dict.fromkeys(out))


def plan_sample(facts: SiteFacts, options: A11yOptions) -> SamplePlan:
    """Pages to test, in order, each with why it was chosen and its template id, plus replacements.

    Always: home, 主動公開資訊 page(s), site map, search results, a page with a form, contact page;
    then one page per template (largest templates first, at most `max_templates`); then a random
    sample seeded with `options.seed` until `sample_size` pages are chosen. "all" = every page.
    Pages are considered by (depth, URL), not in the order the crawl happened to store them, so two
    audits of the same site test the same pages in the same order (and report a shared component's
    violation on the same page). A candidate the crawl (stored status / content type) or the search
    probe already knows was not served as 2xx HTML is recorded as failed and the next one taken.
    """
    plan = SamplePlan()
    pages = sorted((p for p in facts.pages if _is_html_page(p)), key=lambda p: (p.depth, p.url))
    if not pages:
        if facts.agency.url:
            plan.entries.append((facts.agency.url, "home", "tpl-unknown"))
        return plan
    by_url = {p.url: p for p in pages}
    tpl = {p.url: template_id(template_signature(p)) for p in pages}
    texts = _texts_pointing_at(facts)
    chosen: dict[str, tuple[str, str]] = {}
    search_tpl = template_id("search-results")

    def template_of(url: str) -> str:
        return tpl.get(url) or (search_tpl if url not in by_url else "tpl-unknown")

    def problem_of(url: str, reason: str) -> NotServed | None:
        found = known_not_served(facts, url)
        if found is None and reason == "search" and url not in by_url:
            found = search_probe_failure(facts, url)
        return found

    def take(reason: str, candidates: list[str], count: int = 1) -> None:
        """Up to `count` candidates of one kind, in order; one already chosen still uses its turn."""
        queue, used, failed, added = deque(candidates), 0, [], []
        while queue and used < count:
            url = queue.popleft()
            problem = problem_of(url, reason)
            if problem is not None:
                if url not in chosen:
                    failed.append(not_served_result(url, reason, template_of(url), problem))
                continue
            used += 1
            if url in chosen:
                continue
            chosen[url] = (reason, template_of(url))
            if failed:
                plan.known[url], failed = failed, []
            added.append(url)
        if failed:
            plan.known.setdefault(None, []).extend(failed)
        spare: list[SampleEntry] = []  # the next candidates of this kind, shared by its entries
        while queue and len(spare) < MAX_ALTERNATES:
            url = queue.popleft()
            if url not in chosen and problem_of(url, reason) is None:
                spare.append((url, reason, template_of(url)))
        for url in added:
            plan.alternates[url] = spare

    home = facts.page(facts.agency.url) if facts.agency.url else None
    home = home if home is not None and home.url in by_url else min(pages, key=lambda p: p.depth)
    take("home", [home.url])
    take("disclosure", [p.url for p in pages if _matches(p, texts, disclosure_section_names())], count=3)
    take("sitemap", [p.url for p in pages
                     if _matches(p, texts, feature_keywords("sitemap"))
                     or any(pattern.search(urlsplit(p.url).path) for pattern in feature_url_patterns("sitemap"))])
    take("search", _search_candidates(facts, pages, by_url))
    form_pages = [p.url for p in pages if any(search_field(f) is None for f in p.forms)]
    take("form", list(dict.fromkeys(form_pages + [p.url for p in pages if p.forms])))
    contact = [p.url for p in pages if _matches(p, texts, _CONTACT_WORDS)]
    take("contact", list(dict.fromkeys(contact + [p.url for p in pages if re.search(r"contact|mailbox", p.url, re.I)])))

    if options.sample_size != "all":
        members: dict[str, list[str]] = {}
        for p in pages:
            members.setdefault(tpl[p.url], []).append(p.url)
        covered = {t for _, t in chosen.values()}
        ranked = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))
        for tid, urls in ranked[: options.max_templates]:
            if tid not in covered:
                take("template", urls)
                covered.add(tid)
        rest = sorted(p.url for p in pages if p.url not in chosen)
        random.Random(options.seed).shuffle(rest)
        take("random", rest, count=max(0, options.sample_size - len(chosen)))
    else:
        take("all", [p.url for p in pages], count=len(pages))
    plan.entries = [(u, r, t) for u, (r, t) in chosen.items()]
    return plan


# ---------------------------------------------------------------------------------------------------
# the served-document guard: axe only ever runs on what the site itself served as 2xx HTML

HTML_CONTENT_TYPES = ("text/html", "application/xhtml+xml")
# rendered from the site's own markup (unless Chromium's XML viewer shows the tree instead)
_MARKUP_CONTENT_TYPES = ("text/xml", "application/xml", "image/svg+xml")
_MARK = "__disclosureAuditPreviousDocument"
_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)")
# What the browser ended on, read in one call. responseStatus: Chromium ≥ 109 (0 for a network error);
# #main-frame-error / .error-code: the markup of Chromium's own net-error and HTTP-error pages.
_SERVED_JS = f"""
var nav = (performance.getEntriesByType && performance.getEntriesByType('navigation')[0]) || {{}};
var code = document.querySelector('#main-frame-error .error-code, .error-code');
return {{url: String(document.URL), location: String(location.href), contentType: document.contentType || null,
  status: (typeof nav.responseStatus === 'number') ? nav.responseStatus : null,
  stale: !!window.{_MARK}, errorPage: !!document.getElementById('main-frame-error'),
  errorCode: code ? (code.textContent || '').trim().slice(0, 80) : null,
  xmlViewer: !!document.getElementById('webkit-xml-viewer-source-xml'),
  title: String(document.title || '').slice(0, 200)}};
"""


class NotServed(Exception):  # noqa: N818 - a verdict about the site, not a program error
    """The site did not serve the page as a 2xx HTML document: nothing of it may be attributed to the site."""

    def __init__(self, code: str, detail: str, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.http_status = http_status


def _is_html_type(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in HTML_CONTENT_TYPES


def judge_served(state: dict[str, Any]) -> NotServed | None:
    """The verdict on what the browser ended on (the dict `_SERVED_JS` returns); None = the site's page."""
    url, status = str(state.get("url") or ""), state.get("status")
    status = status if isinstance(status, int) and status > 0 else None
    if state.get("stale"):
        return NotServed("download", "the browser stayed on the previous document (a download, or an answer "
                                     "without a document such as 204)")
    if url.startswith("chrome-error://") or state.get("errorPage"):
        code = state.get("errorCode") or (f"HTTP {status}" if status else "unknown error")
        kind = "http-status" if status and not 200 <= status < 300 else "browser-error-page"
        return NotServed(kind, f"Chromium's own error page ({code}), not a page of the site", status)
    if status is not None and not 200 <= status < 300:
        return NotServed("http-status", f"HTTP {status}: the site answered with an error page", status)
    ctype = str(state.get("contentType") or "").lower()
    if url.startswith(("about:", "data:", "chrome:", "chrome-extension:", "devtools:")):
        return NotServed("browser-error-page", f"the browser ended on {url[:80]}, not on a page of the site", status)
    if state.get("xmlViewer"):
        return NotServed("not-html", f"not an HTML document ({ctype or 'XML'}, shown in Chromium's XML viewer)",
                         status)
    if ctype and not _is_html_type(ctype) and ctype not in _MARKUP_CONTENT_TYPES:
        viewer = "shown in Chromium's PDF viewer" if ctype == "application/pdf" else "shown by the browser"
        return NotServed("not-html", f"not an HTML document ({ctype}, {viewer})", status)
    return None


def load_site_page(driver: Any, url: str) -> dict[str, Any]:
    """Navigate `driver` to `url` and return what it ended on; raise NotServed unless the site served
    a 2xx HTML document. Every page the browser loads for the audit goes through here (axe, and any
    future rendering), so nothing Chromium draws itself is ever judged as the agency's."""
    try:
        driver.execute_script(f"window.{_MARK} = true;")  # survives only if no new document commits
    except Exception:  # noqa: BLE001, S110 - a fresh or crashed tab: the load below decides
        pass
    # deferred: the browser stack (selenium) only when an accessibility run starts
    from selenium.common.exceptions import TimeoutException, WebDriverException

    try:
        driver.get(url)
    except TimeoutException:
        raise
    except WebDriverException as exc:
        found = _NET_ERROR.search(str(getattr(exc, "msg", None) or exc))
        if found is None:
            raise
        raise NotServed("network-error", f"network error during the browser's load: {found.group(1)}") from None
    state = driver.execute_script(_SERVED_JS)
    verdict = judge_served(state if isinstance(state, dict) else {})
    if verdict is not None:
        raise verdict
    return state


def known_not_served(facts: SiteFacts, url: str) -> NotServed | None:
    """What the crawl already knows about `url`: a stored page or link answer that is not 2xx HTML."""
    page = facts.page(url)
    if page is not None:
        if page.status is not None and not 200 <= page.status < 300:
            return NotServed("http-status", f"HTTP {page.status} when crawled", page.status)
        if page.content_type and not _is_html_page(page):
            return NotServed("not-html", f"not an HTML document when crawled ({page.content_type})", page.status)
        return None
    result = facts.result_for(url)
    if result is None:
        return None
    if result.error:
        return NotServed("network-error", f"no answer when the link was checked ({result.error})")
    if result.status is not None and not 200 <= result.status < 300:
        return NotServed("http-status", f"HTTP {result.status} when the link was checked", result.status)
    if result.content_type and "html" not in result.content_type.lower():
        return NotServed("not-html", f"not an HTML document when the link was checked ({result.content_type})",
                         result.status)
    return None


def search_probe_failure(facts: SiteFacts, url: str) -> NotServed | None:
    """The site-search probe's answer (crawler/search_probe.py) for the endpoint `url` submits to."""
    probe = facts.artifacts.search
    if not isinstance(probe, dict):
        return None
    action = str(probe.get("action") or "")
    if action and _endpoint(action) != _endpoint(url):
        return None
    status, error = probe.get("status"), probe.get("error")
    if error == "out-of-scope":
        return NotServed("out-of-scope", "the search form submits to another site (not the agency's page)")
    if status == "failed" or isinstance(status, int) and status >= 400 or (
            error and error != "no-query-term"):
        what = f"HTTP {status}" if isinstance(status, int) else str(error or "probe failed")[:120]
        code = status if isinstance(status, int) else None
        return NotServed("search-failed", f"the site search failed when probed ({what})", code)
    return None


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", "", ""))


# ---------------------------------------------------------------------------------------------------
# engine


def _check_local_paths(options: A11yOptions) -> None:
    for label, path in (("Chromium", options.chromium), ("chromedriver", options.chromedriver)):
        if not path or not Path(path).is_file() or not os.access(path, os.X_OK):
            raise A11yUnavailable(
                f"{label} not found at {path!r} (install the Debian package "
                f"{'chromium' if label == 'Chromium' else 'chromium-driver'}, or set "
                f"DISCLOSURE_AUDIT_{label.upper()} / the matching option)"
            )
    if not AXE_SCRIPT.is_file():
        raise A11yUnavailable(f"axe-core script missing at {AXE_SCRIPT}")


class _AxeRunner:
    """axe-selenium-python's Axe with the script read once and a run that reports JS errors."""

    _script_cache: dict[str, str] = {}

    def __init__(self, driver: Any) -> None:
        # deferred: the browser stack (selenium, axe) only when an accessibility run starts
        from axe_selenium_python import Axe

        class _Axe(Axe):  # type: ignore[misc, valid-type]
            def inject(self_inner) -> None:  # noqa: N805 - keeps the package's API
                script = _AxeRunner._script_cache.get(self_inner.script_url)
                if script is None:
                    script = Path(self_inner.script_url).read_text(encoding="utf-8")
                    _AxeRunner._script_cache[self_inner.script_url] = script
                self_inner.selenium.execute_script(script)

        self.axe = _Axe(driver, script_url=str(AXE_SCRIPT))
        self.driver = driver

    def inject_all(self) -> int:
        """Inject axe into the top document and every same-origin frame; returns frames injected."""
        # deferred: the browser stack (selenium) only when an accessibility run starts
        from selenium.webdriver.common.by import By

        self.axe.inject()
        count = 0

        def walk(depth: int) -> None:
            nonlocal count
            if depth > MAX_FRAME_DEPTH:
                return
            for el in self.driver.find_elements(By.CSS_SELECTOR, "iframe, frame"):
                if count >= MAX_FRAMES:
                    return
                same = self.driver.execute_script(
                    "try { return !!(arguments[0].contentDocument) } catch (e) { return false }", el
                )
                if not same:
                    continue
                try:
                    self.driver.switch_to.frame(el)
                except Exception:  # noqa: BLE001 - a frame may vanish between listing and switching
                    continue
                try:
                    self.axe.inject()
                    count += 1
                    walk(depth + 1)
                finally:
                    self.driver.switch_to.parent_frame()

        walk(1)
        return count

    def run(self, options_json: str) -> dict[str, Any]:
        """axe.run with JSON options; a rejected promise comes back as {'error': ...} instead of hanging."""
        script = (
            "var callback = arguments[arguments.length - 1];"
            f"axe.run({options_json}).then(function (r) {{ callback(r); }})"
            ".catch(function (e) { callback({error: String(e && e.message || e)}); });"
        )
        return self.driver.execute_async_script(script)


def _bounded_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in nodes[:MAX_NODES_PER_RULE]:
        out.append({
            "target": node.get("target"),
            "html": str(node.get("html") or "")[:MAX_HTML_CHARS],
            "impact": node.get("impact"),
            "failureSummary": str(node.get("failureSummary") or "")[:500] or None,
        })
    return out


def _bucket(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        nodes = item.get("nodes") or []
        out.append({
            "id": str(item.get("id")),
            "impact": item.get("impact"),
            "tags": list(item.get("tags") or []),
            "help": str(item.get("help") or "")[:300],
            "description": str(item.get("description") or "")[:500],
            "helpUrl": item.get("helpUrl"),
            "nodes": _bounded_nodes(nodes),
            "nodes_total": len(nodes),
        })
    return out


def to_page_result(url: str, reason: str, template: str, raw: dict[str, Any]) -> A11yPageResult:
    """Keep all four axe buckets, with node lists and markup snippets bounded."""
    engine = raw.get("testEngine") or {}
    return A11yPageResult(
        url=url,
        status="ok",
        template=template,
        reason=reason,
        axe_version=engine.get("version"),
        violations=_bucket(raw.get("violations")),
        incomplete=_bucket(raw.get("incomplete")),
        passes=_bucket(raw.get("passes")),
        inapplicable=_bucket(raw.get("inapplicable")),
    )


class Browser:
    """One WebDriver session (local Chromium or a remote endpoint), reused across pages."""

    def __init__(self, options: A11yOptions) -> None:
        self.options = options
        self.driver: Any = None
        self._profile: str | None = None
        self.starts = 0
        self.phase = "start"  # start | load | script: what the browser was doing when something failed

    def start(self) -> None:
        # deferred: the browser stack (selenium) only when an accessibility run starts
        from selenium import webdriver

        opts = webdriver.ChromeOptions()
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--window-size={self.options.window_size[0]},{self.options.window_size[1]}")
        for flag in self.options.extra_args:
            opts.add_argument(flag)
        # the WebDriver HTTP call itself must not wait forever on a hung browser
        client_timeout = self.options.page_timeout_s + self.options.script_timeout_s + 10
        try:
            if self.options.webdriver_url:
                from selenium.webdriver.remote.client_config import ClientConfig

                if self.options.remote_chromium:
                    opts.binary_location = self.options.remote_chromium
                config = ClientConfig(remote_server_addr=self.options.webdriver_url, timeout=client_timeout)
                self.driver = webdriver.Remote(
                    command_executor=self.options.webdriver_url, options=opts, client_config=config
                )
            else:
                _check_local_paths(self.options)
                from selenium.webdriver.chrome.service import Service

                self._profile = tempfile.mkdtemp(prefix="disclosure-audit-chromium-")
                opts.add_argument(f"--user-data-dir={self._profile}")
                opts.binary_location = self.options.chromium
                service = Service(executable_path=self.options.chromedriver, log_output=subprocess.DEVNULL)
                self.driver = webdriver.Chrome(service=service, options=opts)
                self.driver.command_executor._client_config.timeout = client_timeout
        except A11yUnavailable:
            self._cleanup_profile()
            raise
        except Exception as exc:  # noqa: BLE001 - WebDriverException, urllib3 errors, OSError, ValueError
            self._cleanup_profile()
            where = self.options.webdriver_url or self.options.chromium
            raise A11yUnavailable(f"could not start the browser ({where}): {_short(exc)}") from exc
        self.driver.set_page_load_timeout(self.options.page_timeout_s)
        self.driver.set_script_timeout(self.options.script_timeout_s)
        self.starts += 1

    def quit(self) -> None:
        driver, self.driver = self.driver, None
        if driver is not None:
            done = threading.Event()

            def _quit() -> None:
                try:
                    driver.quit()
                except Exception:  # noqa: BLE001 - a dead browser cannot be asked to quit politely
                    pass
                done.set()

            threading.Thread(target=_quit, daemon=True).start()
            if not done.wait(15):
                service = getattr(driver, "service", None)
                proc = getattr(service, "process", None)
                if proc is not None:
                    proc.kill()
        self._cleanup_profile()

    def _cleanup_profile(self) -> None:
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def audit(self, url: str, reason: str, template: str) -> A11yPageResult:
        """Load `url`, inject axe, run it. Raises on timeouts and browser failures (the caller retries)."""
        self.phase = "start"
        if self.driver is None:
            self.start()
        self.phase = "load"
        load_site_page(self.driver, url)  # raises NotServed: nothing is run on that page
        self.phase = "script"
        runner = _AxeRunner(self.driver)
        runner.inject_all()
        raw = runner.run(self.options.axe_options_json())
        if not isinstance(raw, dict):
            raise RuntimeError("axe returned no result")
        if raw.get("error"):
            raise RuntimeError(f"axe error: {str(raw['error'])[:300]}")
        result = to_page_result(url, reason, template, raw)
        result.layout = mobile_layout(self.driver)
        return result


MOBILE_WINDOW = (360, 640)  # a common phone's CSS viewport (issue 18: horizontal-scroll)
_LAYOUT_JS = ("var d = document.documentElement;"
              "return [d.scrollWidth, d.clientWidth, window.innerWidth, window.innerHeight];")


def mobile_layout(driver: Any) -> dict[str, int] | None:
    """The loaded page's widths at 360 × 640 (the window is put back afterwards): a `scroll_width` above
    `client_width` means sideways scrolling (checks/content.py judges). None when the browser refused."""
    try:
        before = driver.get_window_size()
        driver.set_window_size(*MOBILE_WINDOW)
        try:
            scroll, client, width, height = driver.execute_script(_LAYOUT_JS)
        finally:
            driver.set_window_size(before["width"], before["height"])
        return {"width": int(width), "height": int(height), "scroll_width": int(scroll), "client_width": int(client)}
    except Exception:  # noqa: BLE001 - a measurement that fails must not fail the page's axe result
        return None


def _short(exc: BaseException) -> str:
    text = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


def _describe_failure(exc: BaseException, browser: Browser) -> str:
    """One sentence for the report: which phase failed and why (timeouts named with their limit)."""
    # deferred: the browser stack (selenium) only when an accessibility run starts
    from selenium.common.exceptions import TimeoutException

    options = browser.options
    hung = isinstance(exc, TimeoutError) or "timed out" in _short(exc).lower()
    if isinstance(exc, TimeoutException) or hung:
        if browser.phase == "load":
            return f"page load timeout: the page did not load within {options.page_timeout_s:g} s"
        if browser.phase == "script":
            return f"script timeout: the page or axe did not answer within {options.script_timeout_s:g} s"
        return "browser did not answer: " + _short(exc)
    return f"{browser.phase}: {_short(exc)}"


def _audit_with_retry(browser: Browser, entry: SampleEntry) -> A11yPageResult:
    """Try a page; on any failure restart the browser and retry once, then record the page as failed."""
    url, reason, template = entry
    error = ""
    for attempt in range(2):
        try:
            return browser.audit(url, reason, template)
        except A11yUnavailable:
            raise
        except NotServed as problem:  # the site's answer, not the browser's fault: no retry
            return not_served_result(url, reason, template, problem)
        except Exception as exc:  # noqa: BLE001 - timeouts, crashed tabs, dead sessions, JS errors
            error = _describe_failure(exc, browser)
            browser.quit()  # a fresh browser for the retry (and for the next page)
            if attempt == 0:
                continue
    return A11yPageResult(url=url, status="failed", error=error, template=template, reason=reason)


def _test_slot(browser: Browser, entry: SampleEntry, alternates: list[SampleEntry], claim: Callable[[str], bool],
               ) -> list[A11yPageResult]:
    """One sampled page and, when the site did not serve it, the next candidates of its kind in its
    place (at most MAX_REPLACEMENTS), each claimed first so no page is tested twice."""
    results = [_audit_with_retry(browser, entry)]
    spare = list(alternates)
    while results[-1].not_served and spare and len(results) <= MAX_REPLACEMENTS:
        candidate = spare.pop(0)
        if not claim(candidate[0]):
            continue
        result = _audit_with_retry(browser, candidate)
        result.replaces = entry[0]
        results.append(result)
    return results


def run_accessibility(
    pages: list[SampleEntry],
    options: A11yOptions,
    progress: Callable[[A11yPageResult], None] | None = None,
    alternates: dict[str, list[SampleEntry]] | None = None,
) -> A11yRun:
    """Test `pages` with axe-core, one browser per worker. Never raises for a missing browser: the run
    comes back as status "not_run" with the reason, so the rest of the audit still reports.

    A page the site did not serve as 2xx HTML is recorded as failed (`not_served`) and, where
    `alternates[url]` names more candidates of its kind, the next one is tested in its place
    (`replaces` = the sampled URL). `results` keeps sample order, replacements after their page."""
    started = time.monotonic()
    run = A11yRun()
    if not pages:
        run.status, run.detail = "not_run", "no pages to test"
        return run
    if not options.webdriver_url:
        try:
            _check_local_paths(options)
        except A11yUnavailable as exc:
            run.status, run.detail = "not_run", str(exc)
            return run

    work: queue.Queue[tuple[int, SampleEntry]] = queue.Queue()
    for i, entry in enumerate(pages):
        work.put((i, entry))
    results: dict[int, list[A11yPageResult]] = {}
    problems: list[str] = []
    lock = threading.Lock()
    browsers: list[Browser] = []
    taken = {entry[0] for entry in pages}

    def claim(url: str) -> bool:
        with lock:
            if url in taken:
                return False
            taken.add(url)
            return True

    def worker() -> None:
        browser = Browser(options)
        with lock:
            browsers.append(browser)
        try:
            while True:
                try:
                    i, entry = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    slot = _test_slot(browser, entry, (alternates or {}).get(entry[0], []), claim)
                except A11yUnavailable as exc:
                    with lock:
                        problems.append(str(exc))
                    work.put((i, entry))  # another worker may still manage; else left untested
                    return
                with lock:
                    results[i] = slot
                if progress is not None:
                    for result in slot:
                        progress(result)
        finally:
            browser.quit()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(options.workers, len(pages)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    run.results = [result for i in sorted(results) for result in results[i]]
    run.browser_starts = sum(b.starts for b in browsers)
    run.axe_version = next((r.axe_version for r in run.results if r.axe_version), None)
    run.duration_s = round(time.monotonic() - started, 3)
    if not run.results and problems:
        run.status, run.detail = "not_run", problems[0]
    elif run.pages_tested == 0:
        run.status = "failed"
        run.detail = "no page could be tested: " + (run.results[0].error or "unknown error")
    else:
        not_served = sum(1 for r in run.results if r.not_served)
        failed = len(run.results) - run.pages_tested - not_served
        untested = len(pages) - len(results)
        run.status = "ok"
        notes = []
        if failed:
            notes.append(f"{failed} page(s) failed")
        if not_served:
            notes.append(f"{not_served} page(s) not served by the site as HTML (not tested)")
        if untested:
            notes.append(f"{untested} page(s) not tested: {problems[0] if problems else 'browser unavailable'}")
        run.detail = "; ".join(notes) or None
    return run


def apply_to_facts(facts: SiteFacts, run: A11yRun) -> None:
    """Copy a run into the site's facts (what the store pipeline persists and the checks read)."""
    facts.a11y_status = run.status
    facts.a11y_detail = run.detail
    facts.a11y = list(run.results)
    facts.artifacts.axe_version = run.axe_version  # the artifact the results writer reads
