"""The named artifacts the post-crawl gatherers yield for one site (disclosure_audit/gatherers.py).

Each gatherer (a network probe, the document reader, the browser) yields one artifact and the checks
read it by name, `facts.artifacts.search`, never from an untyped bag. The record shapes are the
gatherers' own (documented in their modules) and are typed here as TypedDicts, so a check, the
results writer and the store agree on one name and one shape per artifact.

Stored form: the run store keeps a site's artifacts in its `extra` JSON column under the same keys
as before ("tls", "search", …), so runs written earlier load unchanged (`SiteArtifacts.from_extra`).
A probe that fails yields `ProbeFailed` instead of its record; a probe with nothing to probe (no
search form, no https host) yields None.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypedDict


class ProbeFailed(TypedDict):
    """A gatherer that raised: recorded, never losing the audit."""

    status: str  # "failed"
    error: str


class SearchProbe(TypedDict, total=False):
    """crawler/search_probe.py: one query submitted to the site's own search form."""

    form_page: str
    query: str | None
    results_url: str | None
    status: int | str | None
    results_found: bool | None
    paged: bool | None
    sortable: bool | None
    field: str
    method: str
    action: str
    error: str | None


class NotFoundOrigin(TypedDict, total=False):
    """crawler/soft404.py: what one origin answers for paths that cannot exist."""

    probes: list[dict[str, Any]]  # {url, status, final_url, redirects, title, content_type, lines, error}
    home_lines: list[str]


class TransportHost(TypedDict, total=False):
    """crawler/transport.py: how one audited https host is served."""

    page: str
    http: dict[str, Any]  # {url, status, redirects, final_url, error}
    headers: dict[str, Any]  # {url, status, headers, error}
    legacy_tls: dict[str, Any]


class FreegoAssets(TypedDict, total=False):
    """crawler/static_a11y.py `gather_assets`: linked style sheets scanned, badge images measured."""

    stylesheets: dict[str, dict[str, Any]]  # url -> {status, error, bytes, codes, …}
    images: dict[str, dict[str, Any]]  # url -> {status, error, bytes, format, width, height}


class DocumentsRead(TypedDict, total=False):
    """crawler/documents.py: the site's own documents read for identity numbers and titles."""

    documents: list[dict[str, Any]]  # {url, format, page, status, reason, bytes, chars, personal_ids, properties}
    candidates: int
    not_read: int
    limits: dict[str, Any]


class HostFootprint(TypedDict):
    """crawler/pipelines.py: requests and bytes the crawl sent to one host."""

    requests: int
    bytes: int


TlsVerdicts = dict[str, dict[str, Any]]  # crawler/tls.py: host key -> verdict {ok, reason, trusted_by, chain, …}
NotFoundProbe = dict[str, NotFoundOrigin]  # origin -> what it answered
TransportProbe = dict[str, TransportHost]  # host key -> how it is served


@dataclass
class SiteArtifacts:
    """What the gatherers yielded for one site, one named field per artifact (None: not gathered)."""

    tls: TlsVerdicts | ProbeFailed | None = None
    transport: TransportProbe | ProbeFailed | None = None
    search: SearchProbe | ProbeFailed | None = None
    not_found: NotFoundProbe | ProbeFailed | None = None
    freego_assets: FreegoAssets | ProbeFailed | None = None
    documents: DocumentsRead | ProbeFailed | None = None
    axe_version: str | None = None  # the browser gatherer (crawler/a11y.py)
    a11y_reused: int | None = None  # accessibility results reused from the previous audit
    footprint: dict[str, HostFootprint] | None = None  # the crawl itself (crawler/pipelines.py)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_extra(cls, extra: dict[str, Any] | None) -> tuple[SiteArtifacts, dict[str, Any]]:
        """Split a stored site `extra` mapping into the artifacts and the other (bookkeeping) keys."""
        extra = dict(extra or {})
        known = {name: extra.pop(name) for name in cls.names() if name in extra}
        return cls(**known), extra

    def to_extra(self) -> dict[str, Any]:
        """The stored form: the gathered artifacts under their names (None ones left out)."""
        return {name: value for name in self.names() if (value := getattr(self, name)) is not None}

    def gathered(self, name: str) -> dict[str, Any] | None:
        """An artifact when it is a gathered record (a mapping), None when absent or not a mapping."""
        value = getattr(self, name)
        return value if isinstance(value, dict) else None


# --- one page -----------------------------------------------------------------------------------

class FreegoScan(TypedDict):
    """crawler/static_a11y.py `dom_scan`: what the page's own markup says for the static Freego codes."""

    codes: dict[str, dict[str, Any]]  # code -> {count, examples}
    stylesheets: list[str]  # linked style sheets, absolute URLs in page order


class HttpSubresource(TypedDict):
    """crawler/extract.py `plain_http_subresources`: an http:// resource an https page loads."""

    tag: str
    url: str


class PersonalIds(TypedDict):
    """crawler/personal_ids.py `Found.to_json`: the identity numbers seen (masked) in the page."""

    numbers: list[dict[str, str]]  # {masked, kind}, sorted
    count: int
    occurrences: int
    invalid: int


@dataclass(slots=True)  # slots: one per page, 100,000 pages in memory during an audit
class PageArtifacts:
    """What the extractor, the spider and the store recorded about one page beyond its parsed fields.

    Stored form: the run store keeps them in the page's facts JSON under `extra`, with the same keys
    and in the same order as before this type existed, so runs written earlier load unchanged and the
    recrawl digest (disclosure_audit/reuse.py) reads the same bytes (`from_extra`, `to_extra`)."""

    footer_line: int | None = None  # crawler/extract.py: text line where the page's footer starts
    freego: FreegoScan | None = None  # crawler/extract.py (static_a11y.dom_scan), every parsed page
    http_subresources: list[HttpSubresource] | None = None  # crawler/extract.py, https pages only
    personal_ids: PersonalIds | None = None  # crawler/personal_ids.py, only when a number was seen
    sha1: str | None = None  # crawler/spiders/agency.py: SHA-1 of the body (accessibility reuse)
    truncated_at_bytes: int | None = None  # the spider stopped a body over the size limit here
    declared_length: int | None = None  # the Content-Length such a body declared
    worker: str | None = None  # crawler/distributed.py: the worker that fetched the page
    dom_signature: str | None = None  # a gatherer's own template signature (crawler/a11y.py)
    not_modified: bool | None = None  # crawler/store: reused from the previous audit (answered 304)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return _PAGE_NAMES

    @classmethod
    def from_extra(cls, extra: dict[str, Any] | None) -> tuple[PageArtifacts, dict[str, Any]]:
        """Split a stored page `extra` mapping into the artifacts and the other (unknown) keys."""
        if not extra:
            return cls(), {}
        rest = dict(extra)
        known = {name: rest.pop(name) for name in _PAGE_NAMES if name in rest}
        return cls(**known), rest

    def to_extra(self) -> dict[str, Any]:
        """The stored form: the recorded artifacts under their names (None ones left out)."""
        return {name: value for name in _PAGE_NAMES if (value := getattr(self, name)) is not None}


_PAGE_NAMES = tuple(f.name for f in fields(PageArtifacts))
