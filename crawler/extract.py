"""Gather the facts of one HTML page: links (with text), title, headings, meta, text, anchors, forms.

This is a gatherer in the Lighthouse sense: it records what the page says, it judges nothing.
lxml is used directly (it is what Scrapy's parsel wraps) because it is the fastest tolerant parser
at hand; malformed HTML, NUL bytes and odd encodings must never raise here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from checks.facts import LinkRef, PageFacts
from checks.textnorm import load_yaml
from crawler.personal_ids import mask_page
from crawler.static_a11y import dom_scan

MAX_TEXT_CHARS = 200_000
MAX_LINKS_PER_PAGE = 5_000
MAX_ANCHORS = 20_000

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead", "tr",
    "ul", "caption", "option", "title",
}
_SKIP_TEXT_TAGS = {"script", "style", "noscript", "template", "head"}
_WS = re.compile(r"[ \t\r\f\v\u3000\xa0]+")
# a line of joined text parts that `clean` leaves non-empty (\s is str.isspace, what strip removes);
# group 1 starts at its first non-blank character, the match ends at its line break
_TEXT_LINE = re.compile(r"^[^\S\n]*(\S[^\n]*)", re.MULTILINE)
_SCHEME_WITHOUT_HOST = re.compile(r"^https?:(?!//[^/?#\s])", re.IGNORECASE)
_REFRESH_URL = re.compile(r"""url\s*=\s*['"]?([^'";]+)""", re.IGNORECASE)

# element -> attribute holding a URL the crawler must check (issue 2 scope)
LINK_ATTRS: tuple[tuple[str, str], ...] = (
    ("a", "href"),
    ("area", "href"),
    ("iframe", "src"),
    ("frame", "src"),
    ("link", "href"),
    ("img", "src"),
)


@dataclass
class ParsedPage:
    facts: PageFacts
    links: list[LinkRef]


class _ElementIndex:
    """One pass over the page's nodes: their document order (which also keeps lxml's element proxies
    alive, so later passes reuse them instead of building new ones), the anchors a fragment can
    name, and the first element per id and the first `<a>` per name (accesskey targets)."""

    def __init__(self, root: etree._Element) -> None:
        self.order: dict[Any, int] = {}
        self.anchors: list[str] = []
        self.ids: dict[str, Any] = {}
        self.names: dict[str, Any] = {}
        self._texts: dict[Any, str] = {}
        anchors = self.anchors
        for i, el in enumerate(root.iter()):
            self.order[el] = i
            if not isinstance(el.tag, str):
                continue
            ident = el.get("id")
            if ident is not None:
                self.ids.setdefault(ident, el)
            name = el.get("name") if el.tag == "a" else None
            if name is not None:
                self.names.setdefault(name, el)
            if len(anchors) < MAX_ANCHORS:
                if ident:
                    anchors.append(ident)
                if name:
                    anchors.append(name)

    def text_of(self, el: etree._Element) -> str:
        """`el.text_content()`, read once per element (the link texts and dom_scan both need it)."""
        text = self._texts.get(el)
        if text is None:
            text = self._texts[el] = el.text_content()
        return text

    def target(self, fragment: str) -> Any:
        """The first element in document order with id `fragment`, or `<a name>` `fragment`."""
        found = [el for el in (self.ids.get(fragment), self.names.get(fragment)) if el is not None]
        return min(found, key=self.order.__getitem__) if found else None


def clean(text: str | None) -> str:
    """Collapse white space (including full-width spaces) into single spaces."""
    return _WS.sub(" ", text or "").strip()


def parse_document(html: str) -> etree._Element | None:
    if "\x00" in html:
        html = html.replace("\x00", "")
    if not html or html.isspace():  # `not html.strip()` without copying the page
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        try:
            return lxml.html.fragment_fromstring(html, create_parent="div")
        except (etree.ParserError, ValueError):
            return None


def visible_text_regions(root: etree._Element, regions: TextRegions | None) -> tuple[str, list[list[Any]]]:
    """`visible_text`, and with `regions` the region runs of its lines (`TextRegions.lines`)."""
    if regions is None:
        return visible_text(root), []
    return _read_text(root, regions)[:2]


def _read_text(root: etree._Element, regions: TextRegions) -> tuple[str, list[list[Any]], int | None]:
    """The visible text, its region runs and its footer line (`footer_line`), from one walk."""
    walk = _TextWalk(regions)
    body = root.find(".//body")
    walk.walk(body if body is not None else root, None)
    text, runs = regions.lines(walk.parts, walk.changes)
    return text, runs, walk.footer_line(text)


class _TextWalk:
    """One walk of the page in document order: the text parts `visible_text` joins, the region of
    each part kept as run starts only (`changes`: part index, region), the label/value pairs, and the
    parts the page's first footer marker spans (`footer_line`)."""

    def __init__(self, regions: TextRegions) -> None:
        self.regions = regions
        self.parts: list[str] = []
        self.changes: list[tuple[int, str]] = []
        self.last_kind: str | None = None
        self.footer_markers = _footer_markers()
        self.footer: etree._Element | None = None  # the first footer marker, once met
        self.footer_span: tuple[int, int] | None = None  # its parts, None when walked apart

    def _change(self, kind: str) -> None:
        """The next part starts a run of region `kind` (the caller compares with `last_kind`)."""
        self.changes.append((len(self.parts), kind))
        self.last_kind = kind

    def walk(self, el: etree._Element, inherited: Inherited | None) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            return  # a comment or processing instruction: no text, no children (its tail is the parent's)
        lower = tag.lower()
        if lower in _SKIP_TEXT_TAGS:
            if self.footer is None:  # footer_line looks inside what the text leaves out
                self.footer = next((e for e in el.iter() if isinstance(e.tag, str)
                                    and _is_footer_marker(e, self.footer_markers)), None)
            return
        role = el.get("role")
        key = (el.get("id"), el.get("class"))
        best, footer_token = _TOKEN_MARKERS.get(key) or _token_markers(*key)
        regions = self.regions
        if inherited is None or role is not None or best is not None or lower in regions.markers.tags \
                or el in regions.file_rows or el in regions.boundaries:
            inherited = regions.enter(el, inherited, lower, role, best)
        elif not inherited[2] and lower in regions.markers.scopes:  # `enter` without a marker to read
            inherited = inherited[0], inherited[1], True
        if tag == "time" or tag == "dt":
            regions.mark_pair(el, tag, len(self.parts))
        at_footer = False
        if self.footer is None and (footer_token or role is not None or tag in self.footer_markers["tags"]) \
                and _footer_marker_from(el, tag, role, footer_token, self.footer_markers):
            self.footer, at_footer, start = el, True, len(self.parts)
        # the parts' region is compared inline, not in a call per part: this loop runs for every node
        parts, region = self.parts, inherited[0]
        block = lower in _BLOCK_TAGS
        text = el.text
        if block or text:
            kind = region or regions.position
            if kind != self.last_kind:
                self._change(kind)
            if block:
                parts.append("\n")
            if text:
                parts.append(text)
        walk = self.walk
        for child in el:
            walk(child, inherited)
            tail = child.tail
            if tail:
                kind = region or regions.position
                if kind != self.last_kind:
                    self._change(kind)
                parts.append(tail)
        if block:
            kind = region or regions.position
            if kind != self.last_kind:
                self._change(kind)
            parts.append("\n")
        if at_footer:
            self.footer_span = start, len(self.parts)

    def footer_line(self, text: str) -> int | None:
        """`footer_line(root, text)`, from the parts already read."""
        if self.footer is None:
            return None
        if self.footer_span is None or self.footer.find(".//body") is not None:
            own = visible_text(self.footer)
        else:
            own = _join_lines(self.parts[self.footer_span[0]:self.footer_span[1]])
        return _footer_line_of(own, text)


def _join_lines(parts: list[str]) -> str:
    lines = (clean(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]


def visible_text(root: etree._Element) -> str:
    """Page text with block elements on their own lines, so labelled dates stay on one line."""
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.lower() in _SKIP_TEXT_TAGS:
            return
        block = tag.lower() in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    body = root.find(".//body")
    walk(body if body is not None else root)
    return _join_lines(parts)


def element_text(el: etree._Element, text_of: Callable[[etree._Element], str] | None = None) -> str:
    """Link text as a reader meets it: text content, else image alt, else title / aria-label.
    `text_of(el)` is `el.text_content()`, remembered (`_ElementIndex.text_of`)."""
    text = clean(text_of(el) if text_of else el.text_content()) if el.tag not in ("img", "link", "iframe", "frame") else ""
    if not text:
        alts = [clean(img.get("alt")) for img in el.iter("img") if img.get("alt")]
        text = " ".join(a for a in alts if a)
    if not text:
        text = clean(el.get("aria-label") or el.get("title") or el.get("alt") or "")
    return text[:500]


def extract_page(html: str, url: str, *, final_url: str | None = None) -> ParsedPage:
    """Parse `html` fetched from `url` into PageFacts and the links it carries."""
    base_url = final_url or url
    facts = PageFacts(url=url, final_url=final_url or url)
    root = parse_document(html)
    if root is None:
        return ParsedPage(facts, [])

    base_el = root.find(".//base[@href]")
    if base_el is not None and base_el.get("href", "").strip():
        base_url = urljoin(base_url, base_el.get("href").strip())

    title_el = root.find(".//title")
    facts.title = clean(title_el.text_content()) if title_el is not None else ""
    facts.lang = root.get("lang") or root.get("xml:lang")
    for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        text = clean(el.text_content())
        if text:
            facts.headings.append((int(el.tag[1]), text[:300]))
    for meta in root.iter("meta"):
        key = meta.get("name") or meta.get("property") or meta.get("http-equiv") or meta.get("itemprop")
        if key:
            facts.meta.setdefault(key.strip().lower(), []).append((meta.get("content") or "").strip())
        elif meta.get("charset"):
            facts.meta.setdefault("charset", []).append(meta.get("charset").strip())
    index = _ElementIndex(root)
    regions = TextRegions.of(root, index)
    facts.text, facts.text_regions, footer_at = _read_text(root, regions)
    facts.label_values = regions.label_values
    facts.anchors = index.anchors

    for form in root.iter("form"):
        inputs = []
        for field in form.iter("input", "select", "textarea", "button"):
            inputs.append({
                "tag": field.tag,
                "type": (field.get("type") or "").lower(),
                "name": field.get("name") or "",
                "id": field.get("id") or "",
                "title": field.get("title") or "",
                "value": (field.get("value") or "")[:100],
            })
        facts.forms.append({
            "action": urljoin(base_url, (form.get("action") or "").strip()),
            "method": (form.get("method") or "get").lower(),
            "id": form.get("id") or "",
            "role": form.get("role") or "",
            "text": clean(form.text_content())[:300],
            "inputs": inputs[:100],
        })

    for el in root.iter("a"):
        if el.get("accesskey"):
            facts.accesskeys.append({
                "key": el.get("accesskey"),
                "href": el.get("href") or "",
                "text": clean(el.text_content())[:50],
                "id": el.get("id") or "",
                "title": el.get("title") or "",
            })
    facts.search_inputs = search_inputs(root)
    if footer_at is not None:
        facts.artifacts.footer_line = footer_at
    noscript = root.find(".//noscript")
    if noscript is not None:
        facts.noscript = clean(noscript.text_content())[:500]
    facts.images = images(root, base_url, index.order)
    facts.artifacts.freego = dom_scan(root, base_url, index.text_of)

    links: list[LinkRef] = []
    for tag, attr in LINK_ATTRS:
        for el in root.iter(tag):
            raw = el.get(attr)
            if raw is None:
                continue
            if tag == "link" and (el.get("rel") or "").lower() in ("dns-prefetch", "preconnect"):
                continue
            links.append(LinkRef(url, resolve(base_url, raw), element_text(el, index.text_of), tag))
            if len(links) >= MAX_LINKS_PER_PAGE:
                break
    page_scheme = (final_url or url).split(":", 1)[0].lower()
    insecure = plain_http_subresources(root, base_url) if page_scheme == "https" else []
    if insecure:  # only an https page can load mixed content
        facts.artifacts.http_subresources = insecure
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "refresh":
            m = _REFRESH_URL.search(meta.get("content") or "")
            if m:
                links.append(LinkRef(url, resolve(base_url, m.group(1).strip()), "", "meta-refresh"))
    mask_page(facts, links)  # identity numbers never reach the store in full (crawler/personal_ids.py)
    return ParsedPage(facts, links)


MAX_IMAGES = 500
_FOOTER_HINT = re.compile(r"foot", re.IGNORECASE)


def images(root: etree._Element, base_url: str, order: dict[Any, int] | None = None) -> list[dict[str, Any]]:
    """`<img>` facts: src and alt (None = no attribute); for the badge rules (辦法 §6) also the
    width/height attributes when set, the link around the image (`link`), whether it sits in the
    page's footer (`footer`: a `<footer>`, role contentinfo, or an id/class naming foot) and where
    it comes in document order (`position`, 0 = first element, 1 = last; `order`: `_ElementIndex`)."""
    if order is None:
        order = {el: i for i, el in enumerate(root.iter())}
    total = max(1, len(order) - 1)
    out: list[dict[str, Any]] = []
    for img in root.iter("img"):
        if len(out) >= MAX_IMAGES:
            break
        entry: dict[str, Any] = {"src": img.get("src") or "", "alt": img.get("alt")}
        for attr in ("width", "height"):
            if img.get(attr) is not None:
                entry[attr] = img.get(attr).strip()[:20]
        ancestors = list(img.iterancestors())
        link = next((a for a in ancestors if a.tag == "a" and a.get("href") is not None), None)
        if link is not None:
            entry["link"] = resolve(base_url, link.get("href"))
        if any(a.tag == "footer" or (a.get("role") or "").strip().lower() == "contentinfo"
               or _FOOTER_HINT.search(f"{a.get('id') or ''} {a.get('class') or ''}") for a in ancestors):
            entry["footer"] = True
        entry["position"] = round(order.get(img, 0) / total, 3)
        out.append(entry)
    return out


_SEARCH_WORDS = re.compile(r"search|query|keyword|搜尋|查詢|檢索|關鍵字", re.IGNORECASE)
_BUTTON_TYPES = ("submit", "button", "image")
MAX_SEARCH_INPUTS = 10


# <link rel> values that make the browser fetch the target as part of the page (mixed content when
# over http on an https page); alternate, canonical, next … are only references
_FETCHED_LINK_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "manifest",
                      "apple-touch-icon", "prefetch"}
MAX_HTTP_SUBRESOURCES = 20


def plain_http_subresources(root: etree._Element, base_url: str) -> list[dict[str, str]]:
    """Scripts and fetched <link>s whose URL is plain http:// (issue 18 mixed content). Links do not
    keep `rel` and scripts are not links to check, so these facts are kept apart; images and frames
    are LinkRefs already."""
    found: dict[tuple[str, str], None] = {}
    for el in root.iter("script", "link"):
        raw = el.get("src") if el.tag == "script" else el.get("href")
        if not raw or (el.tag == "link" and not set((el.get("rel") or "").lower().split()) & _FETCHED_LINK_RELS):
            continue
        url = resolve(base_url, raw)
        if url.lower().startswith("http://"):
            found.setdefault((str(el.tag), url[:500]), None)
            if len(found) >= MAX_HTTP_SUBRESOURCES:
                break
    return [{"tag": tag, "url": url} for tag, url in found]


def search_inputs(root: etree._Element) -> list[dict[str, str | bool]]:
    """Text inputs that present themselves as a search box, inside a `<form>` or not (`in_form`).

    Hyweb's HyUI templates (基隆市政府 mp.htm…) put the site search in a `<div role="search">` with an
    input and a 查詢 button wired by script, and no form: a crawler that reads forms only finds no
    search. Inside a form, the search box often has no query-like name (`name="username"
    id="mustSameAsId" accesskey="S"`, BSMI), so the form alone does not tell. Recorded (judged in
    checks/retrieval.py): the input's attributes, whether a button sits beside it (within three
    levels) and whether it is inside `role="search"`. An input counts when
    its type is search, it carries accesskey S, it is inside `role="search"`, or its name, id,
    placeholder, title, aria-label, or the id or class of its button's container speaks of searching.
    """
    out: list[dict[str, str | bool]] = []
    for field in root.iter("input"):
        kind = (field.get("type") or "text").strip().lower()
        if kind not in ("text", "search"):
            continue
        in_form = any(a.tag == "form" for a in field.iterancestors())
        attrs = {name: clean(field.get(attr))[:100] for name, attr in (
            ("name", "name"), ("id", "id"), ("placeholder", "placeholder"), ("title", "title"),
            ("aria_label", "aria-label"), ("accesskey", "accesskey"))}
        region = any((a.get("role") or "").strip().lower() == "search" for a in field.iterancestors())
        container, has_button = _search_container(field)
        hint = " ".join([*attrs.values(), *(container.get(k) or "" for k in ("id", "class"))]
                        if container is not None else attrs.values())
        if kind != "search" and attrs["accesskey"].upper() != "S" and not region and not _SEARCH_WORDS.search(hint):
            continue
        out.append({**attrs, "type": kind, "has_button": has_button, "in_search_role": region, "in_form": in_form})
        if len(out) >= MAX_SEARCH_INPUTS:
            break
    return out


def _search_container(field: etree._Element, levels: int = 3) -> tuple[etree._Element | None, bool]:
    """The nearest ancestor (at most `levels` up) holding a button next to `field`, and whether found."""
    el = field.getparent()
    for _ in range(levels):
        if el is None:
            break
        if any(b is not field and (b.tag == "button" or (b.get("type") or "").lower() in _BUTTON_TYPES)
               for b in el.iter("button", "input")):
            return el, True
        el = el.getparent()
    return field.getparent(), False


_FooterMarkers = dict[str, frozenset[str] | tuple[str, ...]]
_FOOTER_MARKERS: _FooterMarkers = {}  # checks/data/content_rules.yaml `footer`, read once


def _footer_markers() -> _FooterMarkers:
    if not _FOOTER_MARKERS:
        from checks.textnorm import load_yaml

        spec = load_yaml("content_rules.yaml")["footer"]
        _FOOTER_MARKERS.update({
            "tags": frozenset(spec["tags"]), "scopes": frozenset(spec["landmark_scopes"]),
            "roles": frozenset(spec["roles"]),
            "prefixes": tuple(p["prefix"].lower() for p in spec["token_prefixes"]),
        })
    return _FOOTER_MARKERS


def _is_footer_marker(el: etree._Element, markers: _FooterMarkers) -> bool:
    return _footer_marker_from(el, el.tag, el.get("role"), _token_markers(el.get("id"), el.get("class"))[1],
                               markers)


def _footer_marker_from(el: etree._Element, tag: Any, role: str | None, footer_token: bool,
                        markers: _FooterMarkers) -> bool:
    """`_is_footer_marker` with the element's tag, role and `_token_markers` footer flag at hand."""
    if tag in markers["tags"]:
        return not any(a.tag in markers["scopes"] for a in el.iterancestors())  # an article's own footer
    if role and role.strip().lower() in markers["roles"]:
        return True
    return footer_token


_TOKEN_MARKERS: dict[tuple[str | None, str | None], tuple[str | None, bool]] = {}
MAX_TOKEN_MARKERS = 50_000  # distinct (id, class) pairs remembered; most pages share their classes


def _token_markers(ident: str | None, classes: str | None) -> tuple[str | None, bool]:
    """What an element's id and class tokens mark (case-insensitive): the region the strongest token
    names (page_regions.yaml `tokens`, files before chrome before content), and whether a token
    starts a footer (content_rules.yaml `footer.token_prefixes`). Remembered per value pair."""
    key = (ident, classes)
    known = _TOKEN_MARKERS.get(key)
    if known is not None:
        return known
    m = region_markers()
    tokens = f"{ident or ''} {classes or ''}".lower().split()
    seen = set()
    for token in tokens:
        region = m.tokens.get(token) or next((r for prefix, r in m.prefixes if token.startswith(prefix)), None)
        if region:
            seen.add(region)
    best = next((r for r in _TOKEN_PRIORITY if r in seen), None)
    prefixes = tuple(_footer_markers()["prefixes"])
    known = best, any(token.startswith(prefixes) for token in tokens)
    if len(_TOKEN_MARKERS) >= MAX_TOKEN_MARKERS:
        _TOKEN_MARKERS.clear()
    _TOKEN_MARKERS[key] = known
    return known


def footer_line(root: etree._Element, text: str) -> int | None:
    """The line of `text` (the page's visible text) where the page's footer block starts, None when
    no element marks a footer or its text cannot be located (issue 18: the home page's footer gives
    the agency's address, telephone and hours; checks/content.py reads the lines from here on).

    The block starts at the first footer marker in document order (checks/data/content_rules.yaml:
    <footer> outside article/aside/main/nav/section, role=contentinfo, id/class footer*, fatfooter*)
    and runs to the end of the text. Only a line number is recorded, so the store holds one integer
    per page, not a second copy of every footer.
    """
    markers = _footer_markers()
    body = root.find(".//body")
    for el in (body if body is not None else root).iter():
        if isinstance(el.tag, str) and _is_footer_marker(el, markers):
            return _footer_line_of(visible_text(el), text)
    return None


def _footer_line_of(own: str, text: str) -> int | None:
    """The line of `text` where the footer's own text `own` starts (its last copy at a line start)."""
    if not own:
        return None
    at = text.rfind(own)  # the last copy: a mega menu at the top often repeats a fat footer
    while at > 0 and text[at - 1] != "\n":
        at = text.rfind(own, 0, at + len(own) - 1)
    return None if at < 0 else text.count("\n", 0, at)


def resolve(base: str, raw: str) -> str:
    """Resolve a link as a browser would (trim spaces; keep query and fragment as written)."""
    raw = raw.strip().replace("\n", "").replace("\r", "").replace("\t", "")
    scheme_only = _SCHEME_WITHOUT_HOST.match(raw)
    if scheme_only:
        return raw  # `http:`, `http:/x`, `http:x`, `http://`: malformed, kept as written
    if raw[:1] == "/" and raw[1:2] != "/" and base:
        return _join_absolute_path(base, raw)
    try:
        return urljoin(base, raw)
    except ValueError:
        return raw


_ORIGINS: dict[str, tuple[str, str] | None] = {}
_ABSOLUTE_PATH_JOINS: dict[tuple[str, str, str], str] = {}
MAX_JOINS = 20_000  # remembered per process; a site's menus repeat the same links on every page


def _join_absolute_path(base: str, raw: str) -> str:
    """`urljoin(base, raw)` for a `/path` reference: it depends on the base's scheme and host only
    (RFC 3986 §5.2.2; urllib's code path reads no other part of the base), so the result is
    remembered per (scheme, host, reference) and the menus every page repeats are joined once."""
    origin = _ORIGINS.get(base)
    if origin is None and base not in _ORIGINS:
        try:
            parts = urlsplit(base)
            origin = (parts.scheme, parts.netloc)
        except ValueError:
            origin = None
        if len(_ORIGINS) >= MAX_JOINS:
            _ORIGINS.clear()
        _ORIGINS[base] = origin
    key = (*origin, raw) if origin is not None else None
    joined = _ABSOLUTE_PATH_JOINS.get(key) if key else None
    if joined is None:
        try:
            joined = urljoin(base, raw)
        except ValueError:
            return raw
        if key:
            if len(_ABSOLUTE_PATH_JOINS) >= MAX_JOINS:
                _ABSOLUTE_PATH_JOINS.clear()
            _ABSOLUTE_PATH_JOINS[key] = joined
    return joined


# ---------------------------------------------------------------------------------------------
# Text regions (issue 16): which part of the page each line of the visible text was read in, so that
# the checks can tell a page's own date (content) from the site's footer date (chrome). Markers are
# data (checks/data/page_regions.yaml); this records where a line sits, it judges nothing.

REGION_CONTENT, REGION_CHROME, REGION_FILES, REGION_UNMARKED = "content", "chrome", "files", "unmarked"
MAX_REGION_RUNS = 256  # runs kept per page: the first and the last half (a footer is at the end)
MAX_LABEL_VALUES = 50
_TOKEN_PRIORITY = (REGION_FILES, REGION_CHROME, REGION_CONTENT)


@dataclass(frozen=True)
class RegionMarkers:
    """checks/data/page_regions.yaml, read once."""

    keys: dict[str, str]  # accesskey (upper case) -> content | top | bottom
    tags: dict[str, str]
    scoped: frozenset[str]  # tags that are landmarks only outside `scopes`
    scopes: frozenset[str]
    roles: dict[str, str]
    tokens: dict[str, str]  # whole id/class token (lower case) -> region
    prefixes: tuple[tuple[str, str], ...]
    file_items: tuple[str, ...]
    file_extensions: frozenset[str]


@lru_cache(maxsize=1)
def region_markers() -> RegionMarkers:
    data = load_yaml("page_regions.yaml")
    tokens = [t for t in data["tokens"] if not t.get("prefix")]
    return RegionMarkers(
        keys={k["key"].upper(): k["region"] for k in data["accesskeys"]},
        tags={t["tag"]: t["region"] for t in data["tags"]},
        scoped=frozenset(t["tag"] for t in data["tags"] if t.get("scoped")),
        scopes=frozenset(data["landmark_scopes"]),
        roles={r["role"]: r["region"] for r in data["roles"]},
        tokens={t["token"].lower(): t["region"] for t in tokens},
        prefixes=tuple((t["token"].lower(), t["region"]) for t in data["tokens"] if t.get("prefix")),
        file_items=tuple(data["file_items"]),
        file_extensions=frozenset(e.lower() for e in data["file_extensions"]),
    )


def _is_file_link(href: str, extensions: frozenset[str]) -> bool:
    path = href.split("#", 1)[0].split("?", 1)[0].rstrip()
    last = path.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[1].lower() in extensions


Inherited = tuple[str | None, bool, bool]  # (region of the nearest marker, from a strong marker, inside a scope)


class TextRegions:
    """Region bookkeeping for one page while its text is walked in document order.

    A line's region is its nearest marker's (element, role, id/class token, attachment row), else the
    region the 導盲磚 accesskey links place it in, else unmarked. A weak marker (id/class token) does
    not turn a strong one (tag, role) of the other kind around (`div.content` inside `<footer>` stays
    chrome); a content marker wrapping a chrome accesskey (a `div.main` around the whole page) is no
    content marker, nor is a chrome marker wrapping the C key.
    """

    def __init__(self, markers: RegionMarkers, boundaries: dict[Any, str], initial: str,
                 wraps_chrome: set[Any], wraps_content: set[Any], file_rows: set[Any]) -> None:
        self.markers = markers
        self.boundaries = boundaries
        self.position = initial
        self.wraps_chrome = wraps_chrome
        self.wraps_content = wraps_content
        self.file_rows = file_rows
        self._pair_marks: list[tuple[int, dict[str, Any]]] = []  # (part index, a label and its value)
        self.label_values: list[dict[str, Any]] = []  # filled by `lines`

    @classmethod
    def of(cls, root: etree._Element, index: _ElementIndex | None = None) -> TextRegions:
        """The regions of the page `root`: accesskey boundaries and attachment rows found first."""
        markers = region_markers()
        index = index or _ElementIndex(root)
        keyed: list[tuple[Any, str]] = []
        file_rows: set[Any] = set()
        for a in root.iter("a"):
            key = (a.get("accesskey") or "").strip().upper()
            if key in markers.keys:
                keyed.append((_accesskey_start(index, a), markers.keys[key]))
            href = a.get("href")
            if href and _is_file_link(href, markers.file_extensions):
                row = next(a.iterancestors(*markers.file_items), None)
                if row is not None:
                    file_rows.add(row)
        ordered = sorted({id(el): (index.order[el], el, kind) for el, kind in keyed}.values(),
                         key=lambda item: item[0])
        boundaries: dict[Any, str] = {}
        wraps_chrome: set[Any] = set()
        wraps_content: set[Any] = set()
        for i, (_, el, kind) in enumerate(ordered):
            if kind == "content":
                region = REGION_CONTENT
            elif kind == "bottom" or i + 1 < len(ordered):
                region = REGION_CHROME
            else:
                region = REGION_UNMARKED  # a top block with nothing after it: where it ends is unknown
            boundaries[el] = region
            (wraps_content if region == REGION_CONTENT else wraps_chrome).update(el.iterancestors())
        initial = REGION_CHROME if REGION_CONTENT in boundaries.values() else REGION_UNMARKED
        return cls(markers, boundaries, initial, wraps_chrome, wraps_content, file_rows)

    def kind(self, inherited: Inherited | None) -> str:
        return inherited[0] if inherited and inherited[0] else self.position

    def enter(self, el: etree._Element, inherited: Inherited | None, tag: str | None = None,
              role: str | None = None, best: str | None | bool = False) -> Inherited:
        """The region state inside `el` (and the accesskey position once `el` is reached). `tag`
        (lower case), `role` and `best` (`_token_markers`) may be given when the caller has them."""
        region, strong, in_scope = inherited or (None, False, False)
        start = self.boundaries.get(el)
        if start is not None:
            self.position = start
        if tag is None:
            tag, role = el.tag.lower(), el.get("role")
        if best is False:
            best = _token_markers(el.get("id"), el.get("class"))[0]
        found = self._marker(el, tag, in_scope, role, best)
        if found is not None:
            new, new_strong = found
            opposite = region in (REGION_CONTENT, REGION_CHROME) and new != region
            if new == REGION_FILES or new_strong or not (strong and opposite):
                region, strong = new, new_strong
        return region, strong, in_scope or tag in self.markers.scopes

    def _marker(self, el: etree._Element, tag: str, in_scope: bool, role_attr: str | None,
                best: str | None) -> tuple[str, bool] | None:
        m = self.markers
        role = role_attr.strip().lower().split(" ", 1)[0] if role_attr else ""
        found: tuple[str, bool] | None = None
        if role in m.roles:
            found = m.roles[role], True
        elif tag in m.tags and not (tag in m.scoped and in_scope):
            found = m.tags[tag], True
        elif el in self.file_rows:
            return REGION_FILES, False
        else:
            found = (best, False) if best else None
        if found is None:
            return None
        if found[0] == REGION_CONTENT and el in self.wraps_chrome:
            return None
        if found[0] == REGION_CHROME and el in self.wraps_content:
            return None
        return found

    def mark_pair(self, el: etree._Element, tag: str, part: int) -> None:
        """Note a value the markup labels: `<dt>label</dt><dd>value</dd>`, `<time title="label">value</time>`."""
        if len(self._pair_marks) >= MAX_LABEL_VALUES:
            return
        if tag == "dt":
            dd = el.getnext()
            while dd is not None and not isinstance(dd.tag, str):
                dd = dd.getnext()
            if dd is None or dd.tag != "dd":
                return
            pair = {"via": "dt", "label": clean(el.text_content())[:30], "value": clean(dd.text_content())[:50]}
        else:
            pair = {"via": "time", "label": clean(el.get("title"))[:30], "value": clean(el.text_content())[:50],
                    "datetime": clean(el.get("datetime"))[:50]}
        if pair["label"] and (pair["value"] or pair.get("datetime")):
            self._pair_marks.append((part, pair))

    def lines(self, parts: list[str], changes: list[tuple[int, str]]) -> tuple[str, list[list[Any]]]:
        """The visible text from its parts, and its region runs `[first line, end line, region]`
        (end exclusive, unmarked lines left out, at most MAX_REGION_RUNS); `label_values` get the
        line their label is on. `changes` are (part index, region) where the parts' region changes;
        a line's region is that of the part holding its first non-blank character."""
        starts = list(accumulate(map(len, parts), initial=0))  # offset of each part in the joined text
        change_at = [starts[index] for index, _ in changes] + [starts[-1] + 1]  # ends with a sentinel
        marks = [(starts[index], pair) for index, pair in self._pair_marks if index < len(parts)]
        marks.append((starts[-1] + 1, {}))  # a sentinel past the end
        line_kinds: list[str] = []
        change, next_change = -1, change_at[0]  # the run holding the line's start, where the next one starts
        mark = 0
        joined = "".join(parts)
        # `clean` of every line with text, in C: _WS never matches a line break, so substituting it in
        # the whole text keeps each line (and which lines are blank) where it was
        lines = [line.rstrip() for line in _TEXT_LINE.findall(_WS.sub(" ", joined))]
        for n, m in enumerate(_TEXT_LINE.finditer(joined)):  # the same lines, at their offsets
            while marks[mark][0] <= m.end():  # a label on this line: its line number is this line's
                self.label_values.append({"line": n, **marks[mark][1]})
                mark += 1
            first = m.start(1)
            while next_change <= first:
                change += 1
                next_change = change_at[change + 1]
            line_kinds.append(changes[change][1])
        for _, pair in marks[mark:-1]:
            self.label_values.append({"line": len(lines), **pair})
        text = "\n".join(lines)[:MAX_TEXT_CHARS]
        kept = text.count("\n") + 1 if text else 0
        runs: list[list[Any]] = []
        for n, kind in enumerate(line_kinds[:kept]):
            if runs and runs[-1][2] == kind and runs[-1][1] == n:
                runs[-1][1] = n + 1
            elif kind != REGION_UNMARKED:
                runs.append([n, n + 1, kind])
        if len(runs) > MAX_REGION_RUNS:
            runs = runs[: MAX_REGION_RUNS // 2] + runs[-MAX_REGION_RUNS // 2:]
        self.label_values = [pair for pair in self.label_values if pair["line"] < kept]
        return text, runs


def _accesskey_start(index: _ElementIndex, link: etree._Element) -> etree._Element:
    """Where an accesskey link's region starts: the element its `#fragment` names, else the link."""
    href = (link.get("href") or "").strip()
    if href.startswith("#") and len(href) > 1:
        target = index.target(href[1:])
        if target is not None:
            return target
    return link
