"""Gather the facts of one HTML page: links (with text), title, headings, meta, text, anchors, forms.

This is a gatherer in the Lighthouse sense: it records what the page says, it judges nothing.
lxml is used directly (it is what Scrapy's parsel wraps) because it is the fastest tolerant parser
at hand; malformed HTML, NUL bytes and odd encodings must never raise here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from checks.facts import LinkRef, PageFacts

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


def clean(text: str | None) -> str:
    """Collapse white space (including full-width spaces) into single spaces."""
    return _WS.sub(" ", text or "").strip()


def parse_document(html: str) -> etree._Element | None:
    html = html.replace("\x00", "")
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        try:
            return lxml.html.fragment_fromstring(html, create_parent="div")
        except (etree.ParserError, ValueError):
            return None


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
        if el.text and isinstance(el.tag, str):
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    body = root.find(".//body")
    walk(body if body is not None else root)
    lines = (clean(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]


def element_text(el: etree._Element) -> str:
    """Link text as a reader meets it: text content, else image alt, else title / aria-label."""
    text = clean(el.text_content()) if el.tag not in ("img", "link", "iframe", "frame") else ""
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
    facts.text = visible_text(root)

    anchors: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("id"):
            anchors.append(el.get("id"))
        if el.tag == "a" and el.get("name"):
            anchors.append(el.get("name"))
        if len(anchors) >= MAX_ANCHORS:
            break
    facts.anchors = anchors

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
    footer_at = footer_line(root, facts.text)
    if footer_at is not None:
        facts.extra["footer_line"] = footer_at
    noscript = root.find(".//noscript")
    if noscript is not None:
        facts.noscript = clean(noscript.text_content())[:500]
    for img in root.iter("img"):
        if len(facts.images) >= 500:
            break
        facts.images.append({"src": img.get("src") or "", "alt": img.get("alt")})

    links: list[LinkRef] = []
    for tag, attr in LINK_ATTRS:
        for el in root.iter(tag):
            raw = el.get(attr)
            if raw is None:
                continue
            if tag == "link" and (el.get("rel") or "").lower() in ("dns-prefetch", "preconnect"):
                continue
            links.append(LinkRef(url, resolve(base_url, raw), element_text(el), tag))
            if len(links) >= MAX_LINKS_PER_PAGE:
                break
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "refresh":
            m = _REFRESH_URL.search(meta.get("content") or "")
            if m:
                links.append(LinkRef(url, resolve(base_url, m.group(1).strip()), "", "meta-refresh"))
    return ParsedPage(facts, links)


_SEARCH_WORDS = re.compile(r"search|query|keyword|搜尋|查詢|檢索|關鍵字", re.IGNORECASE)
_BUTTON_TYPES = ("submit", "button", "image")
MAX_SEARCH_INPUTS = 10


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
    if el.tag in markers["tags"]:
        return not any(a.tag in markers["scopes"] for a in el.iterancestors())  # an article's own footer
    if (el.get("role") or "").strip().lower() in markers["roles"]:
        return True
    tokens = f"{el.get('id') or ''} {el.get('class') or ''}".lower().split()
    prefixes = tuple(markers["prefixes"])
    return any(token.startswith(prefixes) for token in tokens)


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
            own = visible_text(el)
            if not own:
                return None
            at = text.rfind(own)  # the last copy: a mega menu at the top often repeats a fat footer
            while at > 0 and text[at - 1] != "\n":
                at = text.rfind(own, 0, at + len(own) - 1)
            return None if at < 0 else text.count("\n", 0, at)
    return None


def resolve(base: str, raw: str) -> str:
    """Resolve a link as a browser would (trim spaces; keep query and fragment as written)."""
    raw = raw.strip().replace("\n", "").replace("\r", "").replace("\t", "")
    scheme_only = _SCHEME_WITHOUT_HOST.match(raw)
    if scheme_only:
        return raw  # `http:`, `http:/x`, `http:x`, `http://`: malformed, kept as written
    try:
        return urljoin(base, raw)
    except ValueError:
        return raw
