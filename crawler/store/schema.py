"""The run store's tables: runs, sites, pages, links, link results, skipped URLs, accessibility
results and findings (docs/run-store.md), and the columns a store written by an earlier version gets
when it is opened (`add_missing_columns`). Rows are keyed on `url_hash` where a URL is unique per site.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

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
    inspect,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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
    # the site's results.json entry without its findings (those are rows below): what a later audit
    # reuses when nothing it judges has changed (disclosure_audit/reuse.py)
    entry: Mapped[dict | None] = mapped_column(JSON, nullable=True)


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
    facts: Mapped[dict] = mapped_column(JSON, default=dict)  # PageFacts without its text
    # the visible text: the bulk of a page's facts, read only by the checks that need it, one page at a
    # time (StoredPageFacts), so an audit never holds every page's text at once
    page_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    depth: Mapped[int | None] = mapped_column(Integer, nullable=True)  # link depth in THIS run
    reused_from: Mapped[int | None] = mapped_column(Integer, nullable=True)  # site id a 304 page was copied from
    # the site whose row of this page holds its text (NULL: this row): an unchanged page's text is not
    # written again on every recrawl; `delete_site` moves a text back before removing its holder
    text_from: Mapped[int | None] = mapped_column(Integer, nullable=True)


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
    detail_en: Mapped[str | None] = mapped_column(Text, nullable=True)


# columns added after the first release, per table: an older store gets them on open
ADDED_COLUMNS = {
    "pages": {"page_text": "TEXT", "depth": "INTEGER", "reused_from": "INTEGER", "text_from": "INTEGER"},
    "sites": {"entry": "JSON"},
    "findings": {"detail_en": "TEXT"},
}


def add_missing_columns(engine: Engine) -> None:
    """Bring a store written by an earlier version up to this schema (new nullable columns only)."""
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table, added in ADDED_COLUMNS.items():
            existing = {c["name"] for c in inspector.get_columns(table)}
            for name, sql_type in added.items():
                if name not in existing:
                    conn.execute(sql_text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))


def url_hash(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()
