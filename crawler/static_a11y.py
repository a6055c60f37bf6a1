"""Static accessibility facts for the Freego v3 machine checks that axe-core does not run (issue 18).

A gatherer: it records what the markup and the style sheets say, checks/freego.py judges. Two parts:

- `dom_scan(root)`, called by crawler.extract for every page: per Freego code the number of elements
  or declarations that match the code's failing predicate (checks/data/freego_v3_rules.csv) and a few
  short examples, plus the page's linked style sheets. Stored in `PageFacts.artifacts.freego`.
- `gather_assets(facts, …)`, run after the crawl: fetches the site's linked style sheets (in scope
  only, bounded in number, size and time, the crawl's User-Agent) and scans them the same way, and
  reads the pixel size of the home page's badge images from their first bytes (PNG, GIF, JPEG
  headers, parsed here with the standard library: Pillow is not installed). Stored in
  `SiteFacts.artifacts.freego_assets`.

CSS is read with a tolerant scanner (comments dropped, `selector { declarations }` blocks, the
innermost block of an `@media` rule), not a full CSS parser: what it records are declarations as
written, which is also what Freego reads.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

MAX_EXAMPLES = 5
MAX_EXAMPLE_CHARS = 120
MAX_STYLESHEETS_PER_PAGE = 30
MAX_STYLESHEETS = 20  # per site
MAX_CSS_BYTES = 512 * 1024
MAX_BADGE_IMAGES = 5
IMAGE_HEAD_BYTES = 64 * 1024
MAX_CSS_CHARS = 400_000  # of one <style> block or style sheet scanned

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_BLOCK = re.compile(r"([^{}]*)\{([^{}]*)\}")
_ABS_UNIT = r"(?:px|pt|pc|cm|mm|in|q)"
_ABS_LENGTH = re.compile(rf"(?<![\w.-])\d*\.?\d+\s*{_ABS_UNIT}\b", re.IGNORECASE)
# Freego reads the property as written: font-size (CS2140401C), max-width (CS3140801C), line-height
# (CS3140802C); the `font` shorthand is not what its predicate names, so it is not recorded
CSS_CODES = {"font-size": "CS2140401C", "max-width": "CS3140801C", "line-height": "CS3140802C"}
DEPRECATED = ("acronym", "applet", "basefont", "big", "blink", "center", "dir", "font", "isindex",
              "marquee", "strike", "tt")
_WS = re.compile(r"\s+")
_READ_TAGS = frozenset(("style", "link", "fieldset", "nav", "img", "a", *DEPRECATED))


def _short(text: str) -> str:
    return _WS.sub(" ", text).strip()[:MAX_EXAMPLE_CHARS]


def _add(out: dict[str, dict[str, Any]], code: str, example: str) -> None:
    entry = out.get(code)
    if entry is None:
        entry = out[code] = {"count": 0, "examples": []}
    entry["count"] += 1
    if len(entry["examples"]) >= MAX_EXAMPLES:
        return  # counted; the examples are full (most links of a page fire the same code)
    example = _short(example)
    if example and example not in entry["examples"]:
        entry["examples"].append(example)


def declarations(block: str) -> list[tuple[str, str]]:
    """(property, value) pairs of a declaration block, properties lower-cased."""
    out = []
    for part in block.split(";"):
        prop, sep, value = part.partition(":")
        if sep and prop.strip():
            out.append((prop.strip().lower(), value.strip()))
    return out


def _scan_declarations(block: str, where: str, out: dict[str, dict[str, Any]], *, tag: str | None = None) -> None:
    """Record the declarations in absolute units: `sel { prop: value }`, or `<tag style="…">` for a
    style attribute (`tag` given)."""
    for prop, value in declarations(block):
        code = CSS_CODES.get(prop)
        if code and _ABS_LENGTH.search(value):
            _add(out, code, f'<{tag} style="{prop}: {value}">' if tag else f"{where} {{ {prop}: {value} }}")


def css_scan(text: str) -> dict[str, dict[str, Any]]:
    """Per Freego code, the declarations of a style sheet (or `<style>` block) in absolute units."""
    out: dict[str, dict[str, Any]] = {}
    css = _COMMENT.sub("", text[:MAX_CSS_CHARS])
    for m in _BLOCK.finditer(css):
        selector = _short(m.group(1).split(";")[-1]) or "*"
        _scan_declarations(m.group(2), selector, out)
    return out


def _describe(el: etree._Element) -> str:
    """`tag#id.class` of an element: an example an editor can find in the page source."""
    text = el.tag if isinstance(el.tag, str) else "?"
    if el.get("id"):
        text += "#" + el.get("id").strip()
    classes = (el.get("class") or "").split()
    if classes:
        text += "." + ".".join(classes[:2])
    return text


def _hidden(el: etree._Element) -> bool:
    """Hidden from everyone (hidden attribute, inline display:none, aria-hidden): Freego skips it."""
    for node in (el, *el.iterancestors()):
        style = (node.get("style") or "").replace(" ", "").lower()
        if node.get("hidden") is not None or "display:none" in style or node.get("aria-hidden") == "true":
            return True
    return False


def _text_content(el: etree._Element) -> str:
    return el.text_content()


def _merge(out: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]) -> None:
    for code, entry in found.items():
        target = out.setdefault(code, {"count": 0, "examples": []})
        target["count"] += entry["count"]
        for example in entry["examples"]:
            if example not in target["examples"] and len(target["examples"]) < MAX_EXAMPLES:
                target["examples"].append(example)


def dom_scan(root: etree._Element, base_url: str,
             text_of: Callable[[etree._Element], str] | None = None) -> dict[str, Any]:
    """What the page's own markup says for the static Freego codes (see module docstring).
    `text_of(el)` is `el.text_content()`, remembered by the caller (crawler.extract reads link texts too)."""
    text_of = text_of or _text_content
    codes: dict[str, dict[str, Any]] = {}
    sheets: list[str] = []
    root_lang = (root.get("lang") or root.get("xml:lang") or "").strip().lower()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        style = el.get("style")
        if style:
            _scan_declarations(style, "", codes, tag=_describe(el))
        if tag in _READ_TAGS:  # the tags the codes below read (most elements are none of them)
            if tag == "style" and el.text:
                _merge(codes, css_scan(el.text))
            elif tag == "link" and "stylesheet" in (el.get("rel") or "").lower().split() and el.get("href"):
                href = urljoin(base_url, el.get("href").strip())
                if href not in sheets and len(sheets) < MAX_STYLESHEETS_PER_PAGE:
                    sheets.append(href)
            elif tag == "fieldset" and not any(isinstance(c.tag, str) and c.tag.lower() == "legend"
                                               and c.text_content().strip() for c in el):
                _add(codes, "HM1130103C", _describe(el))
            elif tag == "nav" and not _hidden(el) and not el.text_content().strip() and \
                    not any(c.get("alt") for c in el.iter("img")):
                _add(codes, "HM1240102C", _describe(el))
            elif tag == "img" and el.get("alt") is not None and not el.get("alt").strip() \
                    and el.get("title") is not None:
                _add(codes, "HM1110106C", f'<img src="{(el.get("src") or "")[:80]}" alt="" title="{el.get("title")}">')
            elif tag in DEPRECATED:
                _add(codes, "HM1410100C", f"<{tag}>")
            if tag == "a" and el.get("href") is not None and not (el.get("title") or "").strip() and (
                    text_of(el).strip() or any((i.get("alt") or "").strip() for i in el.iter("img"))):
                _add(codes, "HM3240900C", f'<a href="{el.get("href")[:80]}">')
        lang = el.get("lang")
        if lang is not None and el is not root and tag != "html" and root_lang and \
                lang.strip().lower() == root_lang:
            _add(codes, "HM2310200C", f'<{_describe(el)} lang="{lang}">')
    return {"codes": codes, "stylesheets": sheets}


# ------------------------------------------------------------------------------------------------
# image sizes from the first bytes (no decoding)

def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from a PNG, GIF or JPEG header, None when the bytes are none of them."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[str, int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _SOF and i + 9 <= len(data):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return "jpeg", width, height
        i += 2 + length
    return None


# ------------------------------------------------------------------------------------------------
# the post-crawl gatherer: linked style sheets and badge images, in scope only

def _in_scope(url: str, hosts: set[str]) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in hosts


def _get(session: Any, url: str, *, timeout: float, limit: int, user_agent: str) -> tuple[dict[str, Any], bytes]:
    """GET `url` reading at most `limit` bytes; the outcome (status, error, bytes) and the body."""
    import requests

    info: dict[str, Any] = {"status": None, "error": None, "bytes": 0}
    try:
        with session.get(url, timeout=timeout, stream=True, allow_redirects=True,
                         headers={"User-Agent": user_agent}) as response:
            info["status"] = response.status_code
            body = b""
            for chunk in response.iter_content(16 * 1024):
                body += chunk
                if len(body) >= limit:
                    info["truncated"] = True
                    break
            body = body[:limit]
            info["bytes"] = len(body)
            info["content_type"] = response.headers.get("Content-Type")
            return info, body
    except requests.RequestException as exc:
        info["error"] = type(exc).__name__
        return info, b""


def stylesheet_urls(facts: Any, hosts: set[str]) -> list[str]:
    """The site's linked style sheets in scope, most used first (then by URL), at most MAX_STYLESHEETS."""
    uses: dict[str, int] = {}
    for page in facts.pages:
        for url in (page.artifacts.freego or {}).get("stylesheets", []):
            if _in_scope(url, hosts):
                uses[url] = uses.get(url, 0) + 1
    return sorted(uses, key=lambda u: (-uses[u], u))[:MAX_STYLESHEETS]


def gather_assets(facts: Any, *, timeout: float, user_agent: str, badge_images: list[str] | None = None
                  ) -> dict[str, Any]:
    """Scan the site's linked style sheets and read the size of its badge images (module docstring).

    `badge_images` are absolute image URLs to measure (the caller picks them: the home page's
    badge candidates); only in-scope ones are requested."""
    import requests

    hosts = {h.lower() for h in facts.hosts if h}
    home_host = urlsplit(facts.agency.url or "").hostname
    if home_host:
        hosts.add(home_host.lower())
    out: dict[str, Any] = {"stylesheets": {}, "images": {}}
    with requests.Session() as session:
        for url in stylesheet_urls(facts, hosts):
            info, body = _get(session, url, timeout=timeout, limit=MAX_CSS_BYTES, user_agent=user_agent)
            if info["status"] == 200 and body:
                info["codes"] = css_scan(body.decode("utf-8", "replace"))
            out["stylesheets"][url] = info
        for url in sorted(set(badge_images or []))[:MAX_BADGE_IMAGES]:
            if not _in_scope(url, hosts):
                out["images"][url] = {"status": None, "error": "not-in-scope", "bytes": 0}
                continue
            info, body = _get(session, url, timeout=timeout, limit=IMAGE_HEAD_BYTES, user_agent=user_agent)
            size = image_size(body) if info["status"] == 200 else None
            if size:
                info.update(format=size[0], width=size[1], height=size[2])
            out["images"][url] = info
    return out
