"""The `Store` class: open a run store, write facts and findings in batches, read them back.

SQLAlchemy, so the default embedded SQLite file and a shared PostgreSQL (any SQLAlchemy URL given with
`--db`) behave the same. Writes are batched (insert statements built once, `executemany`, unchanged
pages copied inside the database); `load_site_facts` rebuilds the checks' input from the tables
(crawler/store/schema.py) as the lazy views of crawler/store/views.py, so an old run can be re-audited.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, bindparam, case, create_engine, event, func, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from checks.facts import (
    A11yPageResult,
    Agency,
    LinkRef,
    LinkResult,
    PageArtifacts,
    PageFacts,
    SiteArtifacts,
    SiteFacts,
)
from checks.streamed import StreamedList
from crawler.store.schema import (
    A11yRow,
    Base,
    FindingRow,
    LinkResultRow,
    LinkRow,
    PageRow,
    RunRow,
    SiteRow,
    SkippedRow,
    add_missing_columns,
    url_hash,
)
from crawler.store.views import SMALL_FIELDS, LinkTable, SharedValues, StoredPageFacts


def default_db_url(out_dir: Path) -> str:
    """The embedded default: one SQLite file in the output folder (history accumulates there)."""
    return f"sqlite:///{(out_dir / 'audit.sqlite').resolve()}"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """A thin face over the database: open, write facts in batches, read them back as SiteFacts."""

    def __init__(self, url: str) -> None:
        self.url = url
        # UTF-8 JSON, not \uXXXX escapes: Chinese page text is stored in a fifth of the space
        self.engine: Engine = create_engine(url, future=True,
                                            json_serializer=_dumps)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()
        self._raw_connections: list[Any] = []

    def session(self) -> Session:
        return self.session_factory()

    def close(self) -> None:
        for conn in self._raw_connections:
            conn.close()
        self._raw_connections.clear()
        self.engine.dispose()

    # --- runs and sites -------------------------------------------------------------------------
    def create_run(self, today: date, tool_version: str, options: dict[str, Any]) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        with self.session() as s, s.begin():
            s.add(RunRow(id=run_id, started_at=utcnow(), today=today.isoformat(),
                         tool_version=tool_version, options=_jsonable(options)))
        return run_id

    def create_site(self, run_id: str, agency: Agency, hosts: list[str]) -> int:
        with self.session() as s, s.begin():
            row = SiteRow(run_id=run_id, name=agency.name, code=agency.code, url=agency.url,
                          group=agency.group, hosts=hosts, started_at=utcnow())
            s.add(row)
            s.flush()
            return row.id

    def update_site(self, site_id: int, **fields: Any) -> None:
        with self.session() as s, s.begin():
            row = s.get(SiteRow, site_id)
            for key, value in fields.items():
                setattr(row, key, value)

    def delete_site(self, site_id: int) -> None:
        """Remove a site and all its rows (a site interrupted mid-crawl is audited again from scratch).
        Texts that later audits read from this site's rows are moved into those rows first."""
        with self.session() as s, s.begin():
            t = PageRow.__table__
            holder = t.alias("holder")
            s.execute(t.update().where(t.c.text_from == site_id).values(
                page_text=select(holder.c.page_text).where(holder.c.site_id == site_id,
                                                           holder.c.url_hash == t.c.url_hash)
                .scalar_subquery(), text_from=None))
            for model in (PageRow, LinkRow, LinkResultRow, SkippedRow, A11yRow, FindingRow):
                s.query(model).filter(model.site_id == site_id).delete()
            s.query(SiteRow).filter(SiteRow.id == site_id).delete()

    def finish_run(self, run_id: str, status: str, results: dict | None) -> None:
        """Close a run and keep its results.json, each site's findings left in the findings table
        (`"findings": null` here): a 100,000-page site's findings are not written twice, nor read back
        whole for a trend (`earlier_results`)."""
        if results is not None:
            results = {**results, "sites": [{**site, "findings": None} for site in results.get("sites", [])]}
        with self.session() as s, s.begin():
            row = s.get(RunRow, run_id)
            row.finished_at = utcnow()
            row.status = status
            row.results = results

    def run(self, run_id: str) -> RunRow | None:
        with self.session() as s:
            return s.get(RunRow, run_id)

    def site(self, site_id: int) -> SiteRow | None:
        with self.session() as s:
            return s.get(SiteRow, site_id)

    def sites_of_run(self, run_id: str) -> list[SiteRow]:
        with self.session() as s:
            return list(s.scalars(select(SiteRow).where(SiteRow.run_id == run_id).order_by(SiteRow.id)))

    def earlier_results(self, agency_url: str, before_run: str) -> list[dict]:
        """Site entries of earlier finished runs for the same start URL, oldest first (for trends).

        The latest one that did not fail carries its findings (the fields a trend compares, read from
        the findings table); the older ones only their scores."""
        out: list[dict] = []
        with self.session() as s:
            rows = s.scalars(select(RunRow).where(RunRow.status == "done", RunRow.id != before_run)
                             .order_by(RunRow.started_at))
            for run in rows:
                for site in (run.results or {}).get("sites", []):
                    if site.get("agency", {}).get("url") == agency_url:
                        entry = dict(site)
                        entry["run"] = {"id": run.id, "finished_at": _iso(run.finished_at),
                                        "today": run.today}
                        out.append(entry)
        base = next((entry for entry in reversed(out) if entry.get("status") != "failed"), None)
        if base is not None and base.get("findings") is None:
            base["findings"] = self._trend_findings(base["run"]["id"], agency_url)
        return out

    def _trend_findings(self, run_id: str, agency_url: str) -> Any:
        """The findings of one audit with the fields a trend shows (checks.trend._brief), as a stream
        read from the findings table (checks.streamed.StreamedList): never all in memory."""
        with self.session() as s:
            site_id = s.scalar(select(SiteRow.id).where(SiteRow.run_id == run_id, SiteRow.url == agency_url)
                               .order_by(SiteRow.id.desc()).limit(1))
        if site_id is None:
            return []

        def briefs() -> Iterator[dict[str, Any]]:
            for fp, check, rule, severity, page, target, detail in self.raw_rows(
                    "SELECT fingerprint, \"check\", rule, severity, page, target, detail FROM findings "
                    "WHERE site_id = ? ORDER BY id", (site_id,)):
                yield {"fingerprint": fp, "check": check, "rule": rule, "severity": severity, "page": page,
                       "target": target, "detail": detail}

        count = self.raw_query("SELECT count(*) FROM findings WHERE site_id = ?", (site_id,), one=True)[0]
        return StreamedList(briefs, count)

    # --- facts ----------------------------------------------------------------------------------
    def add_pages(self, site_id: int, pages: Iterable[PageFacts | tuple[PageFacts, list[LinkRef]]]) -> None:
        """Insert pages (with their links) once: a page already stored for the site is skipped with
        its links, so a request processed twice (a distributed worker killed mid-page) counts once."""
        with self.session() as s, s.begin():
            for item in pages:
                p, links = item if isinstance(item, tuple) else (item, [])
                inserted = s.execute(self._statement("insert_page"), page_row(site_id, p)).rowcount
                if inserted and links:
                    s.execute(LinkRow.__table__.insert(), [
                        {"site_id": site_id, "source": lk.source, "target": lk.target, "text": lk.text,
                         "tag": lk.tag} for lk in links])

    def copy_unchanged_pages(self, site_id: int, previous_site: int, depths: dict[str, int]) -> int:
        """Copy pages answered 304 (and their links) from the previous audit, inside the database.

        An unchanged page is neither re-parsed nor re-encoded: its row and links are copied with one
        INSERT … SELECT each (issue 6, incremental recrawl). Pages already stored for `site_id` are left
        alone, so a batch replayed after an interruption counts once. Returns the pages copied."""
        hashes = {url_hash(url): (url, depth) for url, depth in depths.items()}
        with self.session() as s, s.begin():
            present = set(s.scalars(select(PageRow.url_hash).where(PageRow.site_id == site_id,
                                                                   PageRow.url_hash.in_(list(hashes)))))
            wanted = [h for h in hashes if h not in present]
            if not wanted:
                return 0
            page_cols = ["url", "url_hash", "final_url", "status", "content_type", "size", "elapsed_s",
                         "last_modified", "etag", "facts"]
            t = PageRow.__table__
            holder = case((t.c.page_text.is_(None) & t.c.text_from.isnot(None), t.c.text_from),
                          else_=_literal(previous_site))
            s.execute(t.insert().from_select(
                ["site_id", *page_cols, "reused_from", "text_from"],
                select(_literal(site_id), *(t.c[c] for c in page_cols), _literal(previous_site), holder)
                .where(t.c.site_id == previous_site, t.c.url_hash.in_(wanted))))
            s.execute(t.update().where(t.c.site_id == site_id, t.c.url_hash == _bind("h"))
                      .values(depth=_bind("d")), [{"h": h, "d": hashes[h][1]} for h in wanted])
            lt = LinkRow.__table__
            s.execute(lt.insert().from_select(
                ["site_id", "source", "target", "text", "tag"],
                select(_literal(site_id), lt.c.source, lt.c.target, lt.c.text, lt.c.tag)
                .where(lt.c.site_id == previous_site, lt.c.source.in_([hashes[h][0] for h in wanted]))
                .order_by(lt.c.source, lt.c.id)))  # page by page in link order: walks (site_id, source)
        return len(wanted)

    def page_text(self, site_id: int, url: str) -> str:
        """The stored visible text of one page ("" when none was kept), wherever its row keeps it.

        Called once per page by each check that reads text, so it uses a plain DB-API cursor kept per
        thread: through the ORM the lookups cost more than the checks themselves."""
        row = self.raw_query("SELECT page_text, text_from FROM pages WHERE site_id = ? AND url_hash = ?",
                             (site_id, url_hash(url)), one=True)
        if row and row[0] is None and row[1] is not None:
            row = self.raw_query("SELECT page_text, text_from FROM pages WHERE site_id = ? AND url_hash = ?",
                                 (row[1], url_hash(url)), one=True)
        return (row[0] or "") if row else ""

    def raw_query(self, sql: str, params: tuple, *, one: bool = False) -> Any:
        """A read through a DB-API cursor kept per thread (`?` placeholders, any dialect): for lookups
        made once per page, where the ORM's per-statement work would dominate."""
        conn = getattr(self._local, "raw_conn", None)
        if conn is None:
            conn = self._local.raw_conn = self.engine.raw_connection()
            self._raw_connections.append(conn)
        if self.engine.dialect.paramstyle != "qmark":
            sql = sql.replace("?", "%s")
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            result = cursor.fetchone() if one else cursor.fetchall()
        finally:
            cursor.close()
        if self.engine.dialect.name != "sqlite":
            conn.rollback()  # end the read transaction: a long-lived one would hold back vacuum
        return result

    def raw_rows(self, sql: str, params: tuple, *, batch: int = 2000) -> Iterator[tuple]:
        """Rows of a read streamed in batches through a DB-API cursor (`?` placeholders): for scans
        over every row of a site that must not hold them all at once (disclosure_audit/reuse.py)."""
        conn = self.engine.raw_connection()
        try:
            if self.engine.dialect.paramstyle != "qmark":
                sql = sql.replace("?", "%s")
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(batch):
                    yield from rows
            finally:
                cursor.close()
        finally:
            conn.close()

    def copy_findings(self, from_site: int, to_site: int) -> int:
        """Copy a site's findings rows to another site in their order (INSERT … SELECT); returns how many."""
        t = FindingRow.__table__
        cols = ["check", "rule", "severity", "page", "target", "fingerprint", "detail", "evidence", "detail_en"]
        with self.session() as s, s.begin():
            s.execute(t.delete().where(t.c.site_id == to_site))
            result = s.execute(t.insert().from_select(
                ["site_id", *cols],
                select(_literal(to_site), *(t.c[c] for c in cols)).where(t.c.site_id == from_site)
                .order_by(t.c.id)))
            return result.rowcount

    def findings_json(self, site_id: int) -> Iterator[dict[str, Any]]:
        """A site's findings in results.json shape (`Finding.to_json`), in the order they were found."""
        for check, rule, severity, page, target, fingerprint, detail, evidence, detail_en in self.raw_rows(
                "SELECT \"check\", rule, severity, page, target, fingerprint, detail, evidence, detail_en "
                "FROM findings WHERE site_id = ? ORDER BY id", (site_id,)):
            out = {"check": check, "rule": rule, "severity": severity, "page": page, "target": target,
                   "detail": detail, "evidence": json.loads(evidence) if isinstance(evidence, str | bytes)
                   else evidence, "fingerprint": fingerprint}
            if detail_en:
                out["detail_en"] = detail_en
            yield out

    def add_link_results(self, site_id: int, results: Iterable[LinkResult]) -> None:
        """Upsert link results in one executemany: a later answer for a URL replaces an earlier one."""
        rows: dict[str, dict[str, Any]] = {}
        for r in results:
            key = url_hash(r.url)
            rows.pop(key, None)  # keep the batch in arrival order, the last answer last
            rows[key] = {"site_id": site_id, "url": r.url, "url_hash": key, "status": r.status,
                         "error": r.error, "method": r.method, "data": _shallow_dict(r)}
        if rows:
            with self.session() as s, s.begin():
                s.execute(self._statement("upsert_result"), list(rows.values()))

    def _statement(self, name: str) -> Any:
        """Insert statements built once per store: building one per row made SQLAlchemy compile each."""
        cache = self.__dict__.setdefault("_statements", {})
        if name not in cache:
            if self.engine.dialect.name == "postgresql":
                # deferred: only the dialect of the store in use (postgresql ~20 ms)
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            if name == "upsert_result":
                stmt = insert(LinkResultRow.__table__)
                keys = ("site_id", "url_hash")
                cache[name] = stmt.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={c.name: stmt.excluded[c.name] for c in LinkResultRow.__table__.c
                          if c.name not in (*keys, "id")})
            elif name == "insert_page":
                cache[name] = insert(PageRow.__table__).on_conflict_do_nothing()
        return cache[name]

    def add_skipped(self, site_id: int, items: Iterable[tuple[str, str]]) -> None:
        rows = [{"site_id": site_id, "url": url, "reason": reason} for url, reason in items]
        if rows:
            with self.session() as s, s.begin():
                s.execute(SkippedRow.__table__.insert(), rows)

    def add_a11y(self, site_id: int, results: Iterable[A11yPageResult]) -> None:
        with self.session() as s, s.begin():
            for r in results:
                s.add(A11yRow(site_id=site_id, url=r.url, status=r.status, data=asdict(r)))

    def replace_findings(self, site_id: int, findings: Iterable[Any]) -> int:
        """Replace a site's findings, written in batches of plain rows as they come (tens of thousands at
        10k pages; `findings` may be a generator, never held whole). Returns how many were written."""
        table = FindingRow.__table__
        with self.session() as s, s.begin():
            s.execute(table.delete().where(table.c.site_id == site_id))
            written = 0
            batch: list[dict[str, Any]] = []
            for f in findings:
                batch.append({"site_id": site_id, "check": f.check, "rule": f.rule, "severity": f.severity,
                              "page": f.page, "target": f.target, "fingerprint": f.fingerprint,
                              "detail": f.detail, "evidence": _jsonable(f.evidence),
                              "detail_en": f.detail_en})
                if len(batch) >= 2000:
                    s.execute(table.insert(), batch)
                    written += len(batch)
                    batch = []
            if batch:
                s.execute(table.insert(), batch)
                written += len(batch)
        return written

    def load_site_facts(self, site_id: int) -> SiteFacts:
        with self.session() as s:
            site = s.get(SiteRow, site_id)
            artifacts, bookkeeping = SiteArtifacts.from_extra(site.extra)  # earlier runs: the same keys
            facts = SiteFacts(
                agency=Agency(name=site.name, url=site.url, code=site.code, group=site.group),
                hosts=list(site.hosts or []), a11y_status=site.a11y_status,
                a11y_detail=site.a11y_detail, artifacts=artifacts, extra=bookkeeping,
            )
            # small slotted objects, streamed: the text stays in the store, the meta tags are kept as
            # compact JSON, template structures are shared (StoredPageFacts, SharedValues)
            text_loader = lambda url: self.page_text(site_id, url)  # noqa: E731
            shared = SharedValues()
            # a page's URL and title are also its link result's: one string each (issue 6: 100,000 pages)
            page_strings: dict[str, str] = {}
            common: dict[str, str] = {}  # repeated short values (content type, language, dates): one string
            with self.engine.connect() as conn:
                for data, depth, reused in conn.execute(
                        select(PageRow.facts, PageRow.depth, PageRow.reused_from)
                        .where(PageRow.site_id == site_id).order_by(PageRow.id)
                        .execution_options(stream_results=True, yield_per=500)):
                    small = {name: data[name] for name in SMALL_FIELDS if name in data}
                    if small.get("headings"):
                        small["headings"] = [tuple(h) for h in small["headings"]]
                    for name in ("headings", "anchors", "forms", "accesskeys", "images", "search_inputs"):
                        if small.get(name):
                            small[name] = shared.share_items(small[name])
                    for name in ("content_type", "encoding", "lang", "last_modified", "noscript"):
                        if isinstance(small.get(name), str):
                            small[name] = common.setdefault(small[name], small[name])
                    if small.get("final_url") == small.get("url"):
                        small["final_url"] = small.get("url")
                    # the artifacts are stored under `extra`, as before they were typed (PageArtifacts)
                    small["artifacts"], small["extra"] = PageArtifacts.from_extra(data.get("extra"))
                    if data.get("text"):  # an older store kept the text inside the facts
                        small["text"] = data["text"]
                    meta = data.get("meta")
                    page = StoredPageFacts(text_loader=text_loader, **small, meta_json=json.dumps(
                        meta, ensure_ascii=False, separators=(",", ":")).encode() if meta else None)
                    if depth is not None:
                        page.depth = depth
                    if reused is not None:
                        page.artifacts.not_modified = True
                    facts.pages.append(page)
                    page_strings[page.url] = page.url
                    if page.title:
                        page_strings[page.title] = page.title
            facts.links = LinkTable.deferred(lambda: self._link_rows(site_id), lambda source: self.raw_query(
                "SELECT source, target, text, tag FROM links WHERE site_id = ? AND source = ? ORDER BY id",
                (site_id, source)))
            shared_results: dict[str, Any] = {}
            for data in s.execute(select(LinkResultRow.data).where(LinkResultRow.site_id == site_id)
                                  .execution_options(yield_per=1000)).scalars():
                # the checks read one header (Retry-After): the rest stays in the store; repeated values
                # (a template's anchors, content types) are one object (issue 6: 100,000 results)
                headers = data.get("headers") or {}
                data["headers"] = {k: v for k, v in headers.items() if k.lower() == "retry-after"}
                if data.get("anchors"):
                    data["anchors"] = shared_results.setdefault(repr(data["anchors"]), data["anchors"])
                for name in ("content_type", "method", "error"):
                    if isinstance(data.get(name), str):
                        data[name] = shared_results.setdefault(data[name], data[name])
                for name in ("url", "title"):
                    if isinstance(data.get(name), str):
                        data[name] = page_strings.get(data[name], data[name])
                if data.get("final_url") == data.get("url"):
                    data["final_url"] = data["url"]
                result = LinkResult(**data)
                facts.link_results[result.url] = result
            del page_strings
            seen_skips: set[tuple[str, str]] = set()
            for row in s.execute(select(SkippedRow.url, SkippedRow.reason)
                                 .where(SkippedRow.site_id == site_id).order_by(SkippedRow.id)):
                if (row.url, row.reason) not in seen_skips:
                    seen_skips.add((row.url, row.reason))
                    facts.skipped.append({"url": row.url, "reason": row.reason})
            for row in s.scalars(select(A11yRow).where(A11yRow.site_id == site_id).order_by(A11yRow.id)):
                facts.a11y.append(A11yPageResult(**row.data))
        return facts

    def _link_rows(self, site_id: int) -> Iterator[tuple[str, str, str, str]]:
        """(source, target, text, tag) of a site's links in stored order, streamed."""
        with self.engine.connect() as conn:  # Core rows: the ORM's per-row wrapping costs seconds here
            yield from conn.execute(
                select(LinkRow.source, LinkRow.target, LinkRow.text, LinkRow.tag)
                .where(LinkRow.site_id == site_id).order_by(LinkRow.id)
                .execution_options(stream_results=True, yield_per=5000))

    def counts(self, site_id: int) -> dict[str, int]:
        with self.session() as s:
            def count(model: Any) -> int:
                return s.scalar(select(func.count()).select_from(model).where(model.site_id == site_id))

            return {"pages": count(PageRow), "links": count(LinkRow), "link_results": count(LinkResultRow),
                    "skipped": count(SkippedRow), "findings": count(FindingRow)}


def page_row(site_id: int, page: PageFacts) -> dict[str, Any]:
    """The `pages` row of one page: facts as JSON without the text, the text compressed beside it."""
    data = _shallow_dict(page)
    text = data.pop("text", "") or ""
    del data["artifacts"]
    data["extra"] = page.stored_extra()  # the stored form of the artifacts: unchanged keys (PageArtifacts)
    return {"site_id": site_id, "url": page.url, "url_hash": url_hash(page.url), "final_url": page.final_url,
            "status": page.status, "content_type": page.content_type, "size": page.size,
            "elapsed_s": page.elapsed_s, "last_modified": page.last_modified, "etag": page.etag,
            "facts": data, "depth": page.depth,
            "page_text": text or None}


def _literal(value: int) -> Any:
    return literal(value, Integer)


def _bind(name: str) -> Any:
    return bindparam(name)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if value else None


def _dumps(value: Any) -> str:
    """JSON as the store keeps it: UTF-8 text (not \\uXXXX), anything unusual as its string."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _shallow_dict(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict without asdict's deep copy (the serializer reads nested values)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def previous_site_id(store: Store, agency_url: str, exclude_site: int) -> int | None:
    """The latest finished (ok/partial) audit of the same start URL: the one a recrawl sends conditional
    requests for (crawler.incremental) and whose findings the audit step may reuse (disclosure_audit.reuse). Kept
    in the store, not beside the middleware, so that the audit step does not import Scrapy (30 MB, ~0.4 s)."""
    with store.session() as s:
        return s.scalar(select(SiteRow.id).where(SiteRow.url == agency_url, SiteRow.id != exclude_site,
                                                 SiteRow.status.in_(("ok", "partial")))
                        .order_by(SiteRow.id.desc()).limit(1))
