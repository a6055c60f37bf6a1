"""Facts read back from the run store in bounded memory: what lets a 100,000-page site be audited.

Checks read `facts.links` and `page.text` exactly as they read in-memory facts built by tests; these two
containers only change where the bytes live (issue 6: memory must not grow with the page count beyond
the stored facts):

- `LinkTable` keeps every link as four small integers into one table of distinct strings (menus repeat
  the same targets and texts on every page), and hands out `LinkRef` objects while it is iterated;
- `StoredPageFacts` leaves a page's visible text in the store and reads it again each time a check asks
  (the text is the bulk of a page's facts, and only a few checks read it, one page at a time).

`Store.load_site_facts` (crawler/store/store.py) builds them; checks/ only sees `PageFacts`-shaped
pages and a list-like `facts.links`, never this module.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING, fields
from functools import lru_cache
from typing import Any

from checks.facts import LinkRef, PageFacts


class LinkTable:
    """A list-like, append-only sequence of `LinkRef`, stored as indices into shared strings.

    `LinkTable.deferred(rows)` reads its rows only when the links are first used: an audit that reuses
    the previous findings (disclosure_audit/reuse.py) never reads the half million links of a large site."""

    __slots__ = ("_strings", "_index", "_source", "_target", "_text", "_tag", "_pending", "_rows_from")

    def __init__(self, links: Iterable[LinkRef] = ()) -> None:
        self._strings: list[str] = []
        self._index: dict[str, int] = {}
        self._source, self._target, self._text, self._tag = (array("I") for _ in range(4))
        self._pending: Callable[[], Iterable[tuple[str, str, str, str]]] | None = None
        self._rows_from: Callable[[str], Iterable[tuple[str, str, str, str]]] | None = None
        self.extend(links)

    @classmethod
    def deferred(cls, rows: Callable[[], Iterable[tuple[str, str, str, str]]],
                 rows_from: Callable[[str], Iterable[tuple[str, str, str, str]]] | None = None) -> LinkTable:
        """A table filled from `rows()` (source, target, text, tag) the first time it is read;
        `rows_from(source)` answers `links_from` for one page until then."""
        table = cls()
        table._pending, table._rows_from = rows, rows_from
        return table

    def links_from(self, source: str) -> list[LinkRef]:
        """The links of one page, in order (read from the store alone while the table is unread)."""
        if self._pending is not None and self._rows_from is not None:
            return [LinkRef(*row) for row in self._rows_from(source)]
        return [link for link in self if link.source == source]

    def take_unread_rows(self) -> Iterable[tuple[str, str, str, str]] | None:
        """The stored rows of a table not read yet, handed over once (to build `LinkIndex` from them
        without holding the table as well); None when the table was read or filled in memory."""
        if self._pending is None:
            return None
        rows, self._pending = self._pending, None
        return rows()

    def _load(self) -> None:
        if self._pending is not None:
            rows, self._pending = self._pending, None
            self.add_rows(rows())

    def _id(self, value: str) -> int:
        ident = self._index.get(value)
        if ident is None:
            ident = self._index[value] = len(self._strings)
            self._strings.append(value)
        return ident

    def add(self, source: str, target: str, text: str, tag: str) -> None:
        self._load()
        self._source.append(self._id(source))
        self._target.append(self._id(target))
        self._text.append(self._id(text))
        self._tag.append(self._id(tag))

    def add_rows(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Append (source, target, text, tag) rows: the fast path for loading a stored site."""
        index, strings = self._index, self._strings
        columns = (self._source, self._target, self._text, self._tag)
        for row in rows:
            for value, column in zip(row, columns, strict=True):
                ident = index.get(value)
                if ident is None:
                    ident = index[value] = len(strings)
                    strings.append(value)
                column.append(ident)

    def append(self, link: LinkRef) -> None:
        self.add(link.source, link.target, link.text, link.tag)

    def extend(self, links: Iterable[LinkRef]) -> None:
        for link in links:
            self.append(link)

    def __len__(self) -> int:
        self._load()
        return len(self._source)

    def __iter__(self) -> Iterator[LinkRef]:
        self._load()
        s = self._strings
        for i, j, k, m in zip(self._source, self._target, self._text, self._tag, strict=True):
            yield LinkRef(s[i], s[j], s[k], s[m])

    def __getitem__(self, position: int) -> LinkRef:
        self._load()
        s = self._strings
        return LinkRef(s[self._source[position]], s[self._target[position]], s[self._text[position]],
                       s[self._tag[position]])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinkTable | list) and list(self) == list(other)

    def __repr__(self) -> str:
        return "LinkTable(not read yet)" if self._pending is not None else f"LinkTable({len(self)} links)"


# what a stored page holds: the small fields as they are, the structures a template repeats (menus,
# forms, access keys, images, headings, anchors) one object per distinct value across the site
# (`SharedValues`), and the meta tags, which differ on every page (DC.title…), as compact JSON decoded
# when read. The visible text stays in the store.
SMALL_FIELDS = ("url", "final_url", "status", "content_type", "size", "elapsed_s", "depth", "encoding",
                "last_modified", "etag", "title", "lang", "headings", "anchors", "forms", "accesskeys",
                "text_regions", "label_values", "noscript", "images", "artifacts", "extra",
                "search_inputs")


class SharedValues:
    """One object for each distinct value of the read-only page fields that repeat across a site.

    A template prints the same images, access keys, forms and headings on thousands of pages; JSON
    decoding makes a new list per occurrence. Checks never mutate facts, so equal values can be one
    object. `repr` (computed in C) tells JSON values apart exactly: equal reprs are equal values."""

    def __init__(self, limit: int = 500_000) -> None:
        self._memo: dict[str, Any] = {}
        self._limit = limit

    def share(self, value: Any) -> Any:
        if not value or len(self._memo) > self._limit:  # all-different values: stop growing
            return value
        return self._memo.setdefault(repr(value), value)

    def share_items(self, value: list[Any]) -> list[Any]:
        """The list shared, and each of its items shared (a menu image appears in many lists)."""
        return self.share([self.share(item) for item in value]) if value else value


@lru_cache(maxsize=512)
def _meta_of(blob: bytes) -> dict[str, list[str]]:
    """The meta tags of a page from their stored JSON (equal blobs: one dict, decoded once)."""
    return json.loads(blob)


class StoredPageFacts:
    """A page read back from the run store: reads as `PageFacts`, holds only its small fields.

    The visible text stays in the store (`text_loader`, read on every access, not kept); the meta tags
    are held as compact UTF-8 JSON (`meta_json`) and decoded when read; structures a template repeats
    are shared across pages (`SharedValues`). A 100,000-page site is held as ~100,000 small slotted
    objects (issue 6: memory must not grow with the page count beyond the stored facts). A value set
    explicitly (tests, an old store whose text sits in the facts JSON) is kept as given.
    """

    __slots__ = (*SMALL_FIELDS, "text_loader", "_meta_json", "_kept")

    def __init__(self, *, text_loader: Callable[[str], str] | None = None, meta_json: bytes | None = None,
                 **values: Any) -> None:
        self.text_loader = text_loader
        self._meta_json = meta_json
        self._kept: dict[str, Any] | None = None
        for name in SMALL_FIELDS:
            value = values.pop(name, _SMALL_DEFAULTS[name])
            setattr(self, name, value() if callable(value) else value)
        for name, value in values.items():  # text or meta given explicitly
            if name not in ("text", "meta"):
                raise TypeError(f"StoredPageFacts has no field {name!r}")
            self._keep_value(name, value)

    def _keep_value(self, name: str, value: Any) -> None:
        if self._kept is None:
            self._kept = {}
        self._kept[name] = value

    @property
    def text(self) -> str:
        if self._kept is not None and "text" in self._kept:
            return self._kept["text"] or ""
        return self.text_loader(self.url) if self.text_loader is not None else ""

    @text.setter
    def text(self, value: str) -> None:
        self._keep_value("text", value)

    @property
    def meta(self) -> dict[str, list[str]]:
        if self._kept is not None and "meta" in self._kept:
            return self._kept["meta"]
        return _meta_of(self._meta_json) if self._meta_json else {}

    @meta.setter
    def meta(self, value: dict[str, list[str]]) -> None:
        self._keep_value("meta", value)

    meta_first = PageFacts.meta_first
    stored_extra = PageFacts.stored_extra

    def to_page_facts(self) -> PageFacts:
        """A plain `PageFacts` with every field read (for pickling, copies and tests)."""
        return PageFacts(**{f.name: getattr(self, f.name) for f in fields(PageFacts)})

    def __reduce__(self) -> tuple[Any, ...]:  # pickled/copied: a plain PageFacts, loaders dropped
        page = self.to_page_facts()
        return (PageFacts, (page.url,), page.__dict__)

    def __repr__(self) -> str:
        return f"StoredPageFacts(url={self.url!r}, status={self.status!r}, title={self.title!r})"


# defaults of the small fields: a value, or a factory called per page (`extra`, `headings`: lists and
# dicts of their own); `url` is always given
_SMALL_DEFAULTS: dict[str, Any] = {
    f.name: f.default if f.default is not MISSING else (f.default_factory if f.default_factory is not MISSING
                                                        else None)
    for f in fields(PageFacts) if f.name in SMALL_FIELDS}
