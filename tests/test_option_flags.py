"""The option table (disclosure_audit/option_flags.py) and the composed AuditOptions (options.py).

The flag lists below were captured from `disclosure-audit crawl|demo|check --help` before the options
were moved into the table; the CLI must keep offering exactly these, in this order.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from disclosure_audit.cli import build_parser
from disclosure_audit.fleet import FleetOptions, audit_options
from disclosure_audit.fleet_config import FleetConfig
from disclosure_audit.option_flags import AUDIT_FLAGS, options_from_args
from disclosure_audit.options import PARTS, AuditError, AuditOptions, CrawlOptions

ROOT = Path(__file__).resolve().parent.parent
URL = "http://a.test/"

CRAWL_FLAGS_BEFORE = (
    "-h --out --today --max-pages --max-depth --host --no-accessibility --a11y-pages --a11y-level --webdriver-url "
    "--db --name --code --group --lang --timeout --per-host --stale-days --rubric --manual --ca-bundle --full "
    "--external --seed --allow-private --code-tables --annual-rules --notice-grace-days --no-disclosure-fallback "
    "--quiet --workers --redis").split()
GATE_FLAGS = ["--fail-under", "--fail-on", "--baseline", "--max-indeterminate"]


def help_flags(command: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "disclosure_audit.cli", command, "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return re.findall(r"^  (-[-a-z0-9]+)", proc.stdout, flags=re.M)


def test_crawl_help_lists_the_same_flags_as_before():
    assert help_flags("crawl") == CRAWL_FLAGS_BEFORE


@pytest.mark.parametrize(("command", "expected"), [("demo", CRAWL_FLAGS_BEFORE),
                                                    ("check", CRAWL_FLAGS_BEFORE + GATE_FLAGS)])
def test_demo_and_check_share_the_table(command, expected):
    assert help_flags(command) == expected


def parse(*argv: str) -> AuditOptions:
    args = build_parser().parse_args(["crawl", URL, *argv])
    return options_from_args(args, args.url)


def test_the_table_defaults_are_the_parts_defaults():
    """No flag given: the options equal the parts' own defaults (plus the one check option always set)."""
    opts = parse("--out", "o")
    expected = AuditOptions(url=URL, out_dir=Path("o"), today=opts.today, check_options={"stale_days": 365})
    assert opts == expected


def test_every_flag_reaches_its_part():
    opts = parse(
        "--out", "o", "--today", "2026-01-02", "--max-pages", "5", "--max-depth", "3", "--host", "b.test",
        "--host", "c.test", "--no-accessibility", "--a11y-pages", "all", "--a11y-level", "aaa",
        "--webdriver-url", "http://wd", "--db", "sqlite:///x", "--name", "N", "--code", "379000000A",
        "--group", "G", "--lang", "en", "--timeout", "3.5", "--per-host", "2", "--stale-days", "30",
        "--rubric", "r.yaml", "--manual", "m.yaml", "--ca-bundle", "ca.pem", "--full", "--external", "skip",
        "--seed", "http://a.test/x", "--allow-private", "--code-tables", "Category.Theme=t.csv",
        "--annual-rules", "a.yaml", "--notice-grace-days", "0", "--no-disclosure-fallback", "--quiet",
        "--workers", "3", "--redis", "redis://r")
    assert opts.crawl == CrawlOptions(
        url=URL, hosts=["b.test", "c.test"], seeds=["http://a.test/x"], max_pages=5, max_depth=3,
        per_host_concurrency=2, download_timeout=3.5, external="skip", allow_private=True, incremental=False,
        workers=3, redis_url="redis://r", tls_extra_ca="ca.pem")
    assert (opts.axe.accessibility, opts.axe.a11y) == (False, {"sample_size": "all", "webdriver_url": "http://wd",
                                                              "level": "AAA"})
    assert opts.checks.today == date(2026, 1, 2)
    assert opts.checks.check_options == {
        "stale_days": 30, "a11y_level": "AAA", "code_tables": {"Category.Theme": "t.csv"},
        "annual_documents": "a.yaml", "notice_grace_days": 0, "disclosure_sitewide_fallback": False}
    assert (opts.out_dir, opts.db_url, opts.lang, opts.rubric, opts.manual, opts.quiet) == \
        (Path("o"), "sqlite:///x", "en", "r.yaml", "m.yaml", True)
    assert (opts.agency.agency_name, opts.agency.agency_code, opts.agency.group) == ("N", "379000000A", "G")


def test_every_table_target_is_a_part_field():
    owners = {part: {f for f in cls.__dataclass_fields__} for part, cls in PARTS.items()}
    for spec in AUDIT_FLAGS:
        for target in spec.targets:
            part, name, *_ = target.split(".")
            assert name in owners[part], spec.flag


def test_bad_code_table_is_a_usage_error():
    with pytest.raises(AuditError) as err:
        parse("--out", "o", "--code-tables", "Category.Theme")
    assert err.value.exit_code == 2 and "expected FIELD=CSV" in str(err.value)


def test_flat_names_are_views_onto_the_parts():
    opts = AuditOptions(url=URL, out_dir=Path("o"), max_pages=5, agency_name="N", a11y={"level": "A"})
    assert (opts.crawl.max_pages, opts.agency.agency_name, opts.axe.a11y) == (5, "N", {"level": "A"})
    opts.quiet = True
    assert opts.output.quiet is True
    assert pickle.loads(pickle.dumps(opts)) == opts  # crawl_site hands it to a spawned process
    with pytest.raises(TypeError, match="max_page"):
        AuditOptions(url=URL, out_dir=Path("o"), max_page=5)
    parts_given = AuditOptions(crawl=opts.crawl, output=opts.output, max_depth=2)
    assert (parts_given.url, parts_given.max_depth, parts_given.max_pages) == (URL, 2, 5)


def test_the_fleet_builds_the_same_parts_as_the_cli(tmp_path):
    cfg = FleetConfig.model_validate({"agencies": [{"name": "N", "url": URL, "code": "379000000A", "group": "G",
                                                    "hosts": ["b.test"], "max_pages": 5, "external": "skip"}]})
    fleet = FleetOptions(config=tmp_path / "agencies.yaml", out_dir=tmp_path, today=date(2026, 1, 2), lang="en")
    from_yaml = audit_options(fleet, cfg, cfg.agencies[0], tmp_path)
    from_cli = parse("--out", str(tmp_path), "--today", "2026-01-02", "--lang", "en", "--quiet", "--name", "N",
                     "--code", "379000000A", "--group", "G", "--host", "b.test", "--max-pages", "5",
                     "--external", "skip")
    assert from_yaml.crawl == from_cli.crawl
    assert (from_yaml.axe, from_yaml.output, from_yaml.agency) == (from_cli.axe, from_cli.output, from_cli.agency)
    assert from_yaml.checks.today == from_cli.checks.today
