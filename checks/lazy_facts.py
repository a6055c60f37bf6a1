"""Facts read back from the run store in bounded memory: what lets a 100,000-page site be audited.

Checks read `facts.links` and `page.text` exactly as they read in-memory facts built by tests; these two
containers only change where the bytes live (issue 6: memory must not grow with the page count beyond
the stored facts):

- `LinkTable` keeps every link as four small integers into one table of distinct strings (menus repeat
  the same targets and texts on every page), and hands out `LinkRef` objects while it is iterated;
- `SharedValues` gives equal read-only structures (the menu's images and access keys, the search form,
  the same meta tags on every page) one object across all pages;
- `StoredPageFacts` leaves a page's visible text in the store and reads it again each time a check asks
  (the text is the bulk of a page's facts, and only a few checks read it, one page at a time).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from checks.facts import LinkRef, PageFacts


class LinkTable:
    """A list-like, append-only sequence of `LinkRef`, stored as indices into shared strings.

    `LinkTable.deferred(rows)` reads its rows only when the links are first used: an audit that reuses
    the previous findings (crawler/reuse.py) never reads the half million links of a large site."""

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


class SharedValues:
    """One object for each distinct value of the read-only page fields that repeat across a site.

    A template prints the same images, access keys, forms and meta tags on thousands of pages; JSON
    decoding makes a new dict per occurrence, which cost more memory than all the pages' own content.
    Checks never mutate these fields (they are facts), so equal values can be one object."""

    SHARED_FIELDS = ("images", "accesskeys", "forms", "meta", "headings", "anchors")

    def __init__(self, limit: int = 500_000) -> None:
        self._memo: dict[Any, Any] = {}
        self._limit = limit

    def share(self, value: Any) -> Any:
        if len(self._memo) > self._limit:  # a site of all-different pages gains nothing: stop growing
            return value
        try:
            key = _frozen(value)
        except TypeError:
            return value
        return self._memo.setdefault(key, value)

    def share_page(self, data: dict[str, Any]) -> None:
        """Replace the repeated fields of one page's decoded facts with their shared instances."""
        for name in self.SHARED_FIELDS:
            value = data.get(name)
            if not value:
                continue
            if isinstance(value, list):
                value = [self.share(item) for item in value]
            elif isinstance(value, dict):
                value = {k: self.share(v) for k, v in value.items()}
            data[name] = self.share(value)


def _frozen(value: Any) -> Any:
    """A hashable, type-tagged image of a JSON value (dicts and lists told apart from tuples)."""
    if isinstance(value, dict):
        return ("d", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("l" if isinstance(value, list) else "t", tuple(_frozen(v) for v in value))
    hash(value)
    return value


class StoredPageFacts(PageFacts):
    """A page whose visible text stays in the run store until a check reads it.

    `text` reads through `loader(url)` on every access and is not kept: a check that walks all pages
    holds one page's text at a time. A text set explicitly (an old store kept it in the facts JSON)
    is kept as given.
    """

    loader: Callable[[str], str] | None = None

    @property  # type: ignore[override]
    def text(self) -> str:
        kept = self.__dict__.get("_text")
        if kept is None and self.loader is not None:
            return self.loader(self.url)
        return kept or ""

    @text.setter
    def text(self, value: str) -> None:
        self.__dict__["_text"] = value or None

    def __getstate__(self) -> dict[str, Any]:  # pickled/copied: keep the text, drop the loader
        state = dict(self.__dict__)
        state["_text"] = self.text
        state.pop("loader", None)
        return state
