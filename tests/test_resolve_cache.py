"""crawler.extract.resolve remembers the join of a `/path` reference per (scheme, host, reference):
it must answer exactly what urllib's urljoin answers for every base, also from the cache."""

from __future__ import annotations

import itertools
import random
from urllib.parse import urljoin

from crawler.extract import _SCHEME_WITHOUT_HOST, resolve

BASES = ["http://127.0.0.1:8000/a/b.html", "HTTP://Host.Example:80/x/;p?q=1#f", "https://u:p@h/a/b/c/",
         "http://[::1]:8080/z", "http://[bad/x", "", "rel/path.html", "/abs/base", "ftp://h/a/b", "mailto:x@y",
         "http://h", "http://h?x", "file:///tmp/a/b", "https://h/a/b;params", "http://h/a/../b/./c"]
REFERENCES = ["/", "/x", "/./x", "/../x", "/a/../../b", "/x;p?q#f", "/%2e%2e/y", " /x ", "/x\n/y", "/?", "/#",
              "/x?", "/x#", "//h2/x", "/ä/ü", "/x:y", "/\\x", "/[", "/a//b", "/.", "/..", "/a/b/..", "x", "#f", ""]


def plain(base: str, raw: str) -> str:
    """resolve() as it was before the cache."""
    raw = raw.strip().replace("\n", "").replace("\r", "").replace("\t", "")
    if _SCHEME_WITHOUT_HOST.match(raw):
        return raw
    try:
        return urljoin(base, raw)
    except ValueError:
        return raw


def test_resolve_equals_urljoin_first_time_and_from_the_cache() -> None:
    for _ in range(2):  # the second round answers from the cache
        for base, raw in itertools.product(BASES, REFERENCES):
            assert resolve(base, raw) == plain(base, raw), (base, raw)


def test_resolve_equals_urljoin_on_random_paths() -> None:
    rnd = random.Random(7)
    for _ in range(5000):
        base = rnd.choice(BASES)
        raw = "/" + "".join(rnd.choice("/.:;?#@%[]ab\\ ") for _ in range(rnd.randint(0, 8)))
        assert resolve(base, raw) == plain(base, raw), (base, raw)


def test_same_reference_two_hosts_two_answers() -> None:
    assert resolve("http://a.example/x/y.html", "/p") == "http://a.example/p"
    assert resolve("http://b.example/x/y.html", "/p") == "http://b.example/p"
    assert resolve("https://a.example/", "/p") == "https://a.example/p"
