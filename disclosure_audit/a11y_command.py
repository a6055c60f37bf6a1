"""`disclosure-audit a11y URL [URL…] --out DIR`: accessibility-test exactly the given pages, no crawl.

Rule served: 身心障礙者權益保障法 §52-2 (see crawler/a11y.py). Every URL is tested (no sampling), the
axe findings are judged by checks/accessibility.py (page = the URL given) and results.json is written
in the usual contract shape, with a single "site" named after the first URL's host.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from checks.accessibility import Accessibility
from checks.base import AuditContext
from checks.facts import Agency, SiteFacts
from checks.results import results_document, site_entry
from crawler import __version__
from crawler.a11y import A11yOptions, apply_to_facts, run_accessibility, template_id, url_pattern
from disclosure_audit.options import AuditError, prepare_out_dir, validate_url
from disclosure_audit.writer import iso_utc, write_outputs

EXIT_OK, EXIT_INCOMPLETE = 0, 3


def run_a11y_command(args: argparse.Namespace) -> int:
    """Test args.urls, write results.json (and reports) into args.out; exit 3 when nothing could be tested."""
    urls = list(dict.fromkeys(validate_url(u) for u in args.urls))
    out_dir = prepare_out_dir(Path(args.out))
    today: date = getattr(args, "today", None) or datetime.now(UTC).date()
    lang = getattr(args, "lang", "zh-TW")
    try:
        options = A11yOptions(webdriver_url=getattr(args, "webdriver_url", None), sample_size="all")
    except ValidationError as exc:
        raise AuditError("; ".join(e["msg"] for e in exc.errors()), 2) from None
    started = datetime.now(UTC)
    run = run_accessibility([(u, "given", template_id(url_pattern(u))) for u in urls], options)

    facts = SiteFacts(agency=Agency(name=urlsplit(urls[0]).hostname or urls[0], url=urls[0]),
                      hosts=sorted({urlsplit(u).hostname or "" for u in urls}))
    apply_to_facts(facts, run)
    ctx = AuditContext(today=today, lang=lang)
    findings = Accessibility().run(facts, ctx)
    status = "ok" if run.status == "ok" and run.pages_tested == len(urls) else "partial"
    detail = None if status == "ok" else (run.detail or run.status)
    entry = site_entry(facts, findings, ctx, status=status, detail=detail, duration_s=run.duration_s)
    entry["stats"]["pages"] = run.pages_tested
    results = results_document(run_id=uuid.uuid4().hex[:12], started_at=iso_utc(started),
                               finished_at=iso_utc(), today=today.isoformat(),
                               version=__version__, sites=[entry])
    write_outputs(results, out_dir, lang)
    if not getattr(args, "quiet", False):
        print(f"無障礙檢測 / accessibility: {run.status}, {run.pages_tested}/{len(urls)} 頁 pages, "
              f"{len(findings)} 項發現 findings (axe-core {run.axe_version or '-'})"
              + (f" — {run.detail}" if run.detail else ""))
        print(f"→ {out_dir / 'results.json'}")
    return EXIT_OK if run.pages_tested else EXIT_INCOMPLETE
