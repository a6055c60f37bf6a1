"""Decode a page's bytes the way the issue asks: HTTP charset, then <meta charset>, then detection.

A byte-order mark wins over everything (HTML Standard, "encoding sniffing"). Big5 is read as CP950
(its Windows superset) because real Taiwanese pages use the extra characters. A declared charset that
does not fit the bytes (Big5 served as UTF-8) falls back to detection instead of yielding mojibake.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_SUPERSETS = {"big5": "cp950", "big5-tw": "cp950", "csbig5": "cp950", "x-x-big5": "cp950",
              "gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
              "us-ascii": "cp1252", "ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalise_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, _SUPERSETS.get(canonical, canonical))


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return m.group(1) if m else None


def _decode_strict(body: bytes, encoding: str) -> str | None:
    """Decode strictly, but forgive a character cut in half at the end (a body read up to a limit)."""
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 4:
            try:
                return body[:exc.start].decode(encoding)
            except UnicodeDecodeError:
                return None
        return None
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str, str]:
    """Return (text, encoding, source) where source is bom | http | meta | detected | fallback."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body.decode(enc, errors="replace"), enc, "bom"
    candidates: list[tuple[str | None, str]] = [(normalise_charset(header_charset(content_type)), "http")]
    m = _META_CHARSET.search(body[:4096])
    candidates.append((normalise_charset(m.group(1).decode("ascii", "ignore")) if m else None, "meta"))
    for enc, source in candidates:
        if enc:
            text = _decode_strict(body, enc)
            if text is not None:
                return text, enc, source
    text = _decode_strict(body, "utf-8")
    if text is not None:
        return text, "utf-8", "detected"
    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        enc = normalise_charset(best.encoding) or best.encoding
        return body.decode(enc, errors="replace"), enc, "detected"
    return body.decode("utf-8", errors="replace"), "utf-8", "fallback"
