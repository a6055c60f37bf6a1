"""The crawl step of an audit: Scrapy in a child process (or distributed workers) writing to the run store.

The crawl runs in a child process: Twisted's reactor cannot be restarted, and a child keeps a hostile
site's memory away from the caller (the CLI, a fleet run, a test). While the child crawls, the
parent warms up what the audit step needs next (`prepare_post_crawl`).
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from crawler.store import Store
from disclosure_audit.options import AuditError, AuditOptions


def scrapy_settings(opts: AuditOptions) -> dict[str, Any]:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("DOWNLOAD_TIMEOUT", opts.download_timeout, priority="cmdline")
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", opts.per_host_concurrency, priority="cmdline")
    settings.set("AUTOTHROTTLE_TARGET_CONCURRENCY", float(opts.per_host_concurrency), priority="cmdline")
    settings.set("CLOSESPIDER_TIMEOUT", opts.max_seconds, priority="cmdline")
    settings.set("LOG_LEVEL", "CRITICAL", priority="cmdline")
    settings.set("ALLOW_PRIVATE_ADDRESSES", opts.allow_private, priority="cmdline")
    for key, value in opts.settings.items():
        settings.set(key, value, priority="cmdline")
    return settings


def _crawl_child(opts: AuditOptions, db_url: str, site_id: int) -> None:
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.agency import AgencySpider

    process = CrawlerProcess(scrapy_settings(opts))
    previous = None
    if opts.incremental:
        from crawler.store import previous_site_id

        store = Store(db_url)
        previous = previous_site_id(store, opts.url, site_id)
        store.close()
    process.crawl(AgencySpider, url=opts.url, hosts=opts.hosts, max_pages=opts.max_pages,
                  max_depth=opts.max_depth, db_url=db_url, site_id=site_id, previous_site_id=previous,
                  external=opts.external, seeds=opts.seeds)
    process.start()


_CHILDREN: set[Any] = set()


def kill_children() -> None:
    """Stop every crawl child still running (the fleet's interrupt handler)."""
    for child in list(_CHILDREN):
        if child.is_alive():
            child.kill()


def crawl_site(opts: AuditOptions, db_url: str, site_id: int, start_method: str | None = None) -> None:
    """Crawl in a child process (fork where available; spawn when the caller runs threads) and wait."""
    method = start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    ctx = multiprocessing.get_context(method)
    child = ctx.Process(target=_crawl_child, args=(opts, db_url, site_id), daemon=False)
    child.start()
    _CHILDREN.add(child)
    try:
        prepare_post_crawl()
        child.join(opts.max_seconds + 120)
    finally:
        _CHILDREN.discard(child)
    if child.is_alive():
        child.kill()
        child.join()
        raise AuditError("爬取逾時被中止 / the crawl did not finish in time and was stopped")
    if child.exitcode not in (0, None):
        raise AuditError(f"爬蟲程序異常結束（代碼 {child.exitcode}）/ the crawler process failed "
                         f"(exit code {child.exitcode})")


# what the audit step imports after the crawl (reuse, gatherers, trend, report writers)
_POST_CRAWL_MODULES = ("disclosure_audit.reuse", "crawler.search_probe", "crawler.soft404",
                       "crawler.tls", "checks.scoring", "checks.trend", "reports.render", "reports.exports",
                       "openpyxl", "openpyxl.cell", "openpyxl.styles", "openpyxl.utils", "zipfile")


def prepare_post_crawl() -> None:
    """While the crawl child runs, make this process ready for what follows: import the modules the
    audit step and the report writers use and compile the report template (~1 s of a recrawl's
    audit step, issue 6). The parent only waits for the child meanwhile; imported after the fork,
    nothing is added to the child. Only a head start: whatever fails here is done again later."""
    import importlib

    for name in _POST_CRAWL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a module that cannot be imported fails later, where it is used
            continue
    try:
        from disclosure_audit.reuse import code_digest
        from reports.render import warm_templates

        code_digest()
        warm_templates()
    except Exception:  # noqa: BLE001, S110 - see above
        pass


def run_distributed(opts: AuditOptions, db_url: str, site_id: int) -> None:
    if not opts.redis_url:
        raise AuditError("分散式爬取需要 --redis / distributed crawling needs --redis URL", 2)
    from disclosure_audit.distributed import crawl_distributed

    crawl_distributed(opts.url, db_url=db_url, site_id=site_id, redis_url=opts.redis_url,
                      workers=max(1, opts.workers), max_pages=opts.max_pages, max_depth=opts.max_depth,
                      timeout=opts.download_timeout, max_seconds=opts.max_seconds, external=opts.external)
