"""The run store: every run, site, page, link, link result, accessibility result and finding.

SQLAlchemy, so the default embedded SQLite file and a shared PostgreSQL (any SQLAlchemy URL given with
`--db`) behave the same. The store holds facts as the crawler saw them plus the findings the checks
derived; `load_site_facts` rebuilds the checks' input from it, so an old run can be re-audited.
Schema: docs/run-store.md.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from checks.facts import A11yPageResult, Agency, LinkRef, LinkResult, PageFacts, SiteFacts


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    today: Mapped[str] = mapped_column(String(10))
    tool_version: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    results: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # results.json as written


class SiteRow(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    url: Mapped[str] = mapped_column(Text)
    group: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hosts: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | partial | failed
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    a11y_status: Mapped[str] = mapped_column(String(16), default="not_run")
    a11y_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PageRow(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("site_id", "url_hash", name="uq_page_site_url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(40))
    final_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_s: Mapped[float] = mapped_column(Float, default=0.0)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    etag: Mapped[str | None] = mapped_column(String(300), nullable=True)
    facts: Mapped[dict] = mapped_column(JSON, default=dict)


class LinkRow(Base):
    __tablename__ = "links"
    __table_args__ = (Index("ix_links_site_source", "site_id", "source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    tag: Mapped[str] = mapped_column(String(20), default="a")


class LinkResultRow(Base):
    __tablename__ = "link_results"
    __table_args__ = (UniqueConstraint("site_id", "url_hash", name="uq_result_site_url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(40))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(40), nullable=True)
    method: Mapped[str | None] = mapped_column(String(8), nullable=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class SkippedRow(Base):
    __tablename__ = "skipped"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(60))


class A11yRow(Base):
    __tablename__ = "a11y_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # all four axe buckets


class FindingRow(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    check: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(10))
    page: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)


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
                                            json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False))
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.session_factory()

    def close(self) -> None:
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
        """Remove a site and all its rows (a site interrupted mid-crawl is audited again from scratch)."""
        with self.session() as s, s.begin():
            for model in (PageRow, LinkRow, LinkResultRow, SkippedRow, A11yRow, FindingRow):
                s.query(model).filter(model.site_id == site_id).delete()
            s.query(SiteRow).filter(SiteRow.id == site_id).delete()

    def finish_run(self, run_id: str, status: str, results: dict | None) -> None:
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
        """Site entries of earlier finished runs for the same start URL, oldest first (for trends)."""
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
        return out

    # --- facts ----------------------------------------------------------------------------------
    def add_pages(self, site_id: int, pages: Iterable[PageFacts | tuple[PageFacts, list[LinkRef]]]) -> None:
        """Insert pages (with their links) once: a page already stored for the site is skipped with
        its links, so a request processed twice (a distributed worker killed mid-page) counts once."""
        with self.session() as s, s.begin():
            for item in pages:
                p, links = item if isinstance(item, tuple) else (item, [])
                row = {"site_id": site_id, "url": p.url, "url_hash": url_hash(p.url), "final_url": p.final_url,
                       "status": p.status, "content_type": p.content_type, "size": p.size,
                       "elapsed_s": p.elapsed_s, "last_modified": p.last_modified, "etag": p.etag,
                       "facts": _jsonable(asdict(p))}
                inserted = s.execute(_insert_ignore(self.engine, PageRow, row)).rowcount
                if inserted and links:
                    s.execute(LinkRow.__table__.insert(), [
                        {"site_id": site_id, "source": lk.source, "target": lk.target, "text": lk.text,
                         "tag": lk.tag} for lk in links])

    def add_links(self, site_id: int, links: Iterable[LinkRef]) -> None:
        rows = [{"site_id": site_id, "source": lk.source, "target": lk.target, "text": lk.text,
                 "tag": lk.tag} for lk in links]
        if rows:
            with self.session() as s, s.begin():
                s.execute(LinkRow.__table__.insert(), rows)

    def add_link_results(self, site_id: int, results: Iterable[LinkResult]) -> None:
        with self.session() as s, s.begin():
            for r in results:
                row = {"site_id": site_id, "url": r.url, "url_hash": url_hash(r.url), "status": r.status,
                       "error": r.error, "method": r.method, "data": _jsonable(asdict(r))}
                s.execute(_upsert(self.engine, LinkResultRow, row, ("site_id", "url_hash")))

    def add_skipped(self, site_id: int, items: Iterable[tuple[str, str]]) -> None:
        rows = [{"site_id": site_id, "url": url, "reason": reason} for url, reason in items]
        if rows:
            with self.session() as s, s.begin():
                s.execute(SkippedRow.__table__.insert(), rows)

    def add_a11y(self, site_id: int, results: Iterable[A11yPageResult]) -> None:
        with self.session() as s, s.begin():
            for r in results:
                s.add(A11yRow(site_id=site_id, url=r.url, status=r.status, data=asdict(r)))

    def replace_findings(self, site_id: int, findings: Iterable[Any]) -> None:
        with self.session() as s, s.begin():
            s.query(FindingRow).filter(FindingRow.site_id == site_id).delete()
            for f in findings:
                s.add(FindingRow(site_id=site_id, check=f.check, rule=f.rule, severity=f.severity,
                                 page=f.page, target=f.target, fingerprint=f.fingerprint,
                                 detail=f.detail, evidence=_jsonable(f.evidence)))

    def load_site_facts(self, site_id: int) -> SiteFacts:
        with self.session() as s:
            site = s.get(SiteRow, site_id)
            facts = SiteFacts(
                agency=Agency(name=site.name, url=site.url, code=site.code, group=site.group),
                hosts=list(site.hosts or []), a11y_status=site.a11y_status,
                a11y_detail=site.a11y_detail, extra=dict(site.extra or {}),
            )
            # plain columns, streamed: ORM rows would keep every raw facts dict alive beside its PageFacts
            for data in s.execute(select(PageRow.facts).where(PageRow.site_id == site_id).order_by(PageRow.id)
                                  .execution_options(yield_per=500)).scalars():
                data["headings"] = [tuple(h) for h in data.get("headings", [])]
                facts.pages.append(PageFacts(**data))
            # menus repeat the same targets and texts on every page: share one string object each
            shared: dict[str, str] = {}
            intern = lambda value: shared.setdefault(value, value)  # noqa: E731
            for row in s.execute(select(LinkRow.source, LinkRow.target, LinkRow.text, LinkRow.tag)
                                 .where(LinkRow.site_id == site_id).order_by(LinkRow.id)):
                facts.links.append(LinkRef(intern(row.source), intern(row.target), intern(row.text),
                                           intern(row.tag)))
            for data in s.execute(select(LinkResultRow.data).where(LinkResultRow.site_id == site_id)
                                  .execution_options(yield_per=1000)).scalars():
                result = LinkResult(**data)
                facts.link_results[result.url] = result
            seen_skips: set[tuple[str, str]] = set()
            for row in s.execute(select(SkippedRow.url, SkippedRow.reason)
                                 .where(SkippedRow.site_id == site_id).order_by(SkippedRow.id)):
                if (row.url, row.reason) not in seen_skips:
                    seen_skips.add((row.url, row.reason))
                    facts.skipped.append({"url": row.url, "reason": row.reason})
            for row in s.scalars(select(A11yRow).where(A11yRow.site_id == site_id).order_by(A11yRow.id)):
                facts.a11y.append(A11yPageResult(**row.data))
        return facts

    def counts(self, site_id: int) -> dict[str, int]:
        from sqlalchemy import func

        with self.session() as s:
            def count(model: Any) -> int:
                return s.scalar(select(func.count()).select_from(model).where(model.site_id == site_id))

            return {"pages": count(PageRow), "links": count(LinkRow), "link_results": count(LinkResultRow),
                    "skipped": count(SkippedRow), "findings": count(FindingRow)}


def url_hash(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()


def _insert_ignore(engine: Engine, model: Any, row: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model.__table__).values(**row).on_conflict_do_nothing()


def _upsert(engine: Engine, model: Any, row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE: a later answer for the same target (a GET that read the
    anchors after a HEAD) replaces the earlier one; a repeated one changes nothing."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(model.__table__).values(**row)
    return stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={k: v for k, v in row.items() if k not in keys})


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if value else None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
