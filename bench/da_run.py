"""One disclosure-audit run, links only, as the benchmark measures it (a separate process per run).

This is the library call the CLI makes (`disclosure_audit.pipeline.audit_site`), with the benchmark's tuning passed
through `AuditOptions`: no accessibility pass, a page cap above the site's size, per-host concurrency
raised from the polite default of 4, and AutoThrottle off (it exists to spare a real agency's server;
on loopback nginx it only adds delay). Everything else — robots.txt, HEAD-then-GET, the run store,
checks, scoring, reports — runs as in production.

    python -m bench.da_run URL OUT_DIR [--pages N] [--per-host 16] [--concurrent 32] [--max-seconds S]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=10_000, help="size of the site (the page cap is above it)")
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--concurrent", type=int, default=32, help="Scrapy CONCURRENT_REQUESTS")
    parser.add_argument("--max-seconds", type=int, default=3600)
    parser.add_argument("--reactor", default=None, help="TWISTED_REACTOR override (e.g. the epoll reactor)")
    args = parser.parse_args(argv)

    from disclosure_audit.options import AuditError, AuditOptions
    from disclosure_audit.pipeline import audit_site

    settings: dict = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": max(args.concurrent, args.per_host)}
    if args.reactor:
        settings["TWISTED_REACTOR"] = args.reactor
    opts = AuditOptions(
        url=args.url, out_dir=args.out, today=date(2025, 6, 30), max_pages=args.pages * 2 + 100,
        max_depth=100, accessibility=False, per_host_concurrency=args.per_host, max_seconds=args.max_seconds,
        quiet=True, settings=settings,
    )
    t0 = time.monotonic()
    try:
        results = audit_site(opts)
    except AuditError as exc:
        print(f"da_run: {exc}", file=sys.stderr)
        return exc.exit_code
    site = results["sites"][0]
    print(json.dumps({"wall_s": round(time.monotonic() - t0, 2), "status": site["status"],
                      "stats": site["stats"], "coverage": site.get("coverage")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
