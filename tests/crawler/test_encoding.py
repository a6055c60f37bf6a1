"""Decoding order (BOM, HTTP charset, <meta charset>, detection) and the cases that used to go wrong."""

from __future__ import annotations

import codecs

import pytest

from crawler.encoding import decode_html

TEXT = "<html><head><title>臺北市政府環境保護局公告</title></head><body>更新日期：113-05-20，本局公告事項。</body></html>"


@pytest.mark.parametrize(("body", "ctype", "encoding", "source"), [
    (TEXT.encode("utf-8"), "text/html; charset=utf-8", "utf-8", "http"),
    (TEXT.encode("cp950"), "text/html; charset=big5", "cp950", "http"),
    (TEXT.replace("<head>", '<head><meta charset="big5">').encode("cp950"), "text/html", "cp950", "meta"),
    (TEXT.encode("cp950"), "text/html; charset=utf-8", "cp950", "detected"),  # Big5 served as UTF-8
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "text/html; charset=big5", "utf-8-sig", "bom"),
    (TEXT.encode("utf-8"), None, "utf-8", "detected"),
])
def test_decoding_order(body, ctype, encoding, source):
    text, enc, how = decode_html(body, ctype)
    assert (enc, how) == (encoding, source)
    assert "臺北市政府環境保護局公告" in text


def test_a_character_cut_by_the_size_limit_does_not_cause_mojibake():
    body = TEXT.encode("utf-8")
    cut = body[: body.index("本局".encode()) + 1]  # ends inside 本
    text, enc, how = decode_html(cut, "text/html; charset=utf-8")
    assert (enc, how) == ("utf-8", "http")
    assert text.endswith("更新日期：113-05-20，")
