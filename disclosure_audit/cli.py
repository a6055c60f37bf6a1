"""The `disclosure-audit` command: a thin face over library functions.

It parses arguments, builds an options object, calls one function and maps the outcome to an exit
code and one clear sentence. Exit codes: 0 done / gate passed, 1 gate failed, 2 usage or configuration
error, 3 the audit itself could not be completed (site unreachable, output not writable).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler import __version__
from disclosure_audit.option_flags import _date, _positive, add_audit_flags, options_from_args

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class UsageError(Exception):
    pass


def summarise(results: dict[str, Any], out_dir: Path, lang: str) -> str:
    """The few lines the CLI prints after an audit. One pass over each site's findings (a list or
    a StreamedList read from the run store) to count its broken links; nothing is kept."""
    lines = []
    for site in results["sites"]:
        findings = site["findings"] or []
        broken = sum(1 for f in findings if isinstance(f, dict) and f.get("rule") == "broken-link")
        score = site.get("scores", {}).get("dimension")
        name = site["agency"]["name"]
        stats = site["stats"]
        if lang == "en":
            lines.append(f"{name}: {site['status']}, {stats['pages']} pages, {stats['links_checked']} links "
                         f"checked, {broken} broken links, {len(findings)} findings"
                         + (f", score {score:.1f}" if isinstance(score, int | float) else ""))
        else:
            lines.append(f"{name}：{site['status']}，{stats['pages']} 頁，檢查 {stats['links_checked']} 個連結，"
                         f"失效連結 {broken} 個，發現 {len(findings)} 項"
                         + (f"，分數 {score:.1f}" if isinstance(score, int | float) else ""))
        if site.get("detail"):
            lines.append(f"  {site['detail']}")
    report = out_dir / "report.html"
    lines.append(f"→ {out_dir / 'results.json'}" + (f"\n→ {report}" if report.exists() else ""))
    return "\n".join(lines)


def cmd_crawl(args: argparse.Namespace) -> int:
    from disclosure_audit.pipeline import audit_site

    results = audit_site(options_from_args(args, args.url))
    if not args.quiet:
        print(summarise(results, args.out, args.lang))
    failed = all(site["status"] == "failed" for site in results["sites"])
    return EXIT_INCOMPLETE if failed else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from disclosure_audit.demo import DEMO_AGENCY, demo_today, serve_demo
    from disclosure_audit.options import AgencyInfo
    from disclosure_audit.pipeline import audit_site

    args.out = args.out or Path("demo-out")
    with serve_demo() as demo:
        if not args.quiet:
            print(f"示範網站 / demo site: {demo.url}")
        opts = options_from_args(args, demo.url)
        opts.checks.today = args.today or demo_today()
        opts.agency = AgencyInfo(agency_name=args.name or DEMO_AGENCY["name"],
                                 agency_code=args.code or DEMO_AGENCY["code"],
                                 group=args.group or DEMO_AGENCY["group"])
        # the demo's accessibility badge links to its stand-in for accessibility.moda.gov.tw
        opts.checks.check_options["badge_hosts"] = [urlsplit(demo.external_url).hostname]
        opts.axe.a11y.setdefault("sample_size", "all")  # a small site: test every page
        results = audit_site(opts)
    if not args.quiet:
        print(summarise(results, args.out, args.lang))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from disclosure_audit.pipeline import audit_site
    from reports.gate import evaluate_gate

    baseline = _load_json(args.baseline, "--baseline") if args.baseline else None
    if not 0 <= args.max_indeterminate <= 1:
        raise UsageError(f"--max-indeterminate 應介於 0 與 1 / expected a share from 0 to 1, got {args.max_indeterminate}")
    results = audit_site(options_from_args(args, args.url))
    gate = evaluate_gate(results, args.fail_under, args.fail_on, baseline, args.max_indeterminate, args.lang)
    if not args.quiet:
        print(summarise(results, args.out, args.lang))
    print(gate.message)
    return gate.exit_code


def _max_rows(value: str) -> str:
    if value == "all" or (value.isdigit() and int(value) >= 1):
        return value
    raise argparse.ArgumentTypeError(f"expected a whole number of at least 1 or 'all', got {value!r}")


def cmd_report(args: argparse.Namespace) -> int:
    from checks.scoring import load_manual, load_rubric, score_results
    from reports.render import ReportError, load_results, render_all

    try:
        results = load_results(args.results)
        if args.rubric or args.manual:
            rubric = load_rubric(args.rubric)
            score_results(results, rubric, load_manual(args.manual, rubric) if args.manual else None)
    except (ReportError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    out = args.out or Path(args.results).parent
    out.mkdir(parents=True, exist_ok=True)
    max_rows = None if args.html_max_rows == "all" else int(args.html_max_rows)
    try:
        written = render_all(results, out, lang=args.lang, max_rows=max_rows)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        if not args.quiet:
            print(f"→ {path}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from disclosure_audit.fleet import FleetOptions, run_fleet
    from disclosure_audit.fleet_config import ConfigError

    kwargs: dict[str, Any] = {"today": args.today} if args.today else {}
    fleet = FleetOptions(config=Path(args.config), out_dir=args.out, jobs=args.jobs, schedule=args.schedule,
                         db_url=args.db, accessibility=False if args.no_accessibility else None,
                         lang=args.lang, quiet=args.quiet, **kwargs)
    try:
        results = run_fleet(fleet)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    failed = sum(1 for site in results["sites"] if site["status"] == "failed")
    return EXIT_INCOMPLETE if failed == len(results["sites"]) else EXIT_OK


def cmd_a11y(args: argparse.Namespace) -> int:
    from disclosure_audit.a11y_command import run_a11y_command

    return run_a11y_command(args)


def _load_json(path: str | Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"找不到檔案 / file not found: {path} ({what})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} 不是有效的 JSON / is not valid JSON: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="disclosure-audit",
        description="政府網站資訊流通服務稽核工具：主動公開資訊、失效連結、資料更新、詮釋資料、無障礙、線上服務。"
                    " Audits Taiwanese government websites for the service-quality information dimension.",
    )
    parser.add_argument("--version", action="version", version=f"disclosure-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("crawl", help="crawl one site and write results.json and reports")
    p.add_argument("url", help="start URL of the agency site")
    add_audit_flags(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("demo", help="serve the bundled demo agency site, audit it, write the reports")
    add_audit_flags(p, out_required=False)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check", help="audit a site as a CI gate (exit 0 pass, 1 fail, 2 usage, 3 incomplete)")
    p.add_argument("url")
    add_audit_flags(p, out_required=False)
    p.add_argument("--fail-under", type=float, default=None, help="fail when the dimension score is below")
    p.add_argument("--fail-on", choices=("error", "warning"), default=None,
                   help="fail on any finding of this severity or worse")
    p.add_argument("--baseline", default=None, help="earlier results.json: only new findings fail the gate")
    p.add_argument("--max-indeterminate", type=float, default=0.5,
                   help="exit 3 when more than this share of findings could not be judged (default 0.5)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("report", help="re-render the reports from a results.json")
    p.add_argument("results")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--rubric", default=None, help="re-score with this rubric")
    p.add_argument("--manual", default=None, help="re-score with these manual criteria")
    p.add_argument("--lang", choices=("zh-TW", "en"), default="zh-TW")
    p.add_argument("--html-max-rows", default="200", type=_max_rows, metavar="N|all",
                   help="findings listed per rule in report.html (default 200; the exports list all)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("run", help="audit every agency of agencies.yaml (or a CSV list); resumable")
    p.add_argument("--config", required=True, help="agencies.yaml or URL,name,depth,save_html,pagination CSV")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--jobs", type=_positive, default=2, help="sites audited at the same time (default 2)")
    p.add_argument("--schedule", default=None, help="only agencies with this schedule tag")
    p.add_argument("--today", type=_date)
    p.add_argument("--db", default=None)
    p.add_argument("--no-accessibility", action="store_true")
    p.add_argument("--lang", choices=("zh-TW", "en"), default="zh-TW")
    p.add_argument("--quiet", action="store_true", help="no progress lines (for cron)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("a11y", help="accessibility-test exactly the given pages (no crawl)")
    p.add_argument("urls", nargs="+")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--today", type=_date)
    p.add_argument("--webdriver-url", default=None)
    p.add_argument("--lang", choices=("zh-TW", "en"), default="zh-TW")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_a11y)
    return parser


def main(argv: list[str] | None = None) -> int:
    from disclosure_audit.options import AuditError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "out", None) is None and args.command == "check":
        args.out = Path("disclosure-audit-out")
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"disclosure-audit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AuditError as exc:
        print(f"disclosure-audit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("disclosure-audit: 已中斷 / interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
