"""The run store: every run, site, page, link, link result, accessibility result and finding.

The store holds facts as the crawler saw them plus the findings the checks derived, and gives the facts
back as the checks' input (`SiteFacts`), so an old run can be re-audited. Schema: docs/run-store.md.

- `schema`: the tables (SQLAlchemy rows) and the columns added to an older store when it is opened;
- `store`: the `Store` class, its batched writes and its reads;
- `views`: the lazy read views the checks read (`StoredPageFacts`, `LinkTable`): bounded memory on a
  100,000-page site.

This package's names below are its public interface.
"""

from crawler.store.schema import (
    A11yRow,
    FindingRow,
    LinkResultRow,
    LinkRow,
    PageRow,
    RunRow,
    SiteRow,
    SkippedRow,
    url_hash,
)
from crawler.store.store import Store, default_db_url, page_row, previous_site_id

__all__ = [
    "A11yRow",
    "FindingRow",
    "LinkResultRow",
    "LinkRow",
    "PageRow",
    "RunRow",
    "SiteRow",
    "SkippedRow",
    "Store",
    "default_db_url",
    "page_row",
    "previous_site_id",
    "url_hash",
]
