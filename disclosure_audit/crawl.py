"""The crawl step of an audit: Scrapy in a child process (or distributed workers) writing to the run store.

The crawl runs in a child process: Twisted's reactor cannot be restarted, and a child keeps a hostile
site's memory away from the caller (the CLI, a fleet run, a test). While the child crawls, the
parent warms up what the audit step needs next (disclosure_audit.warmup.WarmUp).
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from crawler.store import Store, previous_site_id
from disclosure_audit.options import AuditError, AuditOptions
from disclosure_audit.warmup import WarmUp


def scrapy_settings(opts: AuditOptions) -> dict[str, Any]:
    # deferred: Scrapy (~0.4 s, 30 MB) only in the crawl; the audit step runs without it
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
    # deferred: Scrapy only in the crawl child; the audit step runs without it
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.agency import AgencySpider

    process = CrawlerProcess(scrapy_settings(opts))
    previous = None
    if opts.incremental:
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
        WarmUp().run()
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


def run_distributed(opts: AuditOptions, db_url: str, site_id: int) -> None:
    if not opts.redis_url:
        raise AuditError("分散式爬取需要 --redis / distributed crawling needs --redis URL", 2)
    # deferred: Scrapy and redis only for a distributed crawl
    from disclosure_audit.distributed import crawl_distributed

    crawl_distributed(opts.url, db_url=db_url, site_id=site_id, redis_url=opts.redis_url,
                      workers=max(1, opts.workers), max_pages=opts.max_pages, max_depth=opts.max_depth,
                      timeout=opts.download_timeout, max_seconds=opts.max_seconds, external=opts.external)
