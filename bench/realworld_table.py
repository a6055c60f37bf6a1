"""Per-check table over the real agency pages (../shared/realworld, INDEX §1 and §5): pages (or
sites) judged right and wrong against the expectations the realworld tests encode.

Run it against any checkout of the code to compare versions (the expectations are read from this
checkout's tests as data, never imported, so an older checks/ package can be measured too):

    PYTHONPATH=/path/to/old/checkout python bench/realworld_table.py
    PYTHONPATH=. python bench/realworld_table.py

Facts level: each folder's files go through crawler.extract.extract_page; in-scope targets that
are files of the folder answer 200, other in-scope targets 404, links to other hosts carry no result.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import yaml

HERE = Path(__file__).resolve().parent.parent
REALWORLD = HERE.parent / "shared" / "realworld"
B = "http://127.0.0.1:8000"
TODAY = date(2026, 12, 1)


def literal(test_file: str, name: str):
    tree = ast.parse((HERE / "tests" / "checks" / test_file).read_text(encoding="utf-8"))
    consts = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and node.value is not None:
            try:
                consts[target.id] = ast.literal_eval(ast.unparse(node.value).replace("U,", repr("更新日期") + ",")
                                                     .replace("P,", repr("發布日期") + ","))
            except (ValueError, SyntaxError):
                pass
    return consts[name]


def site_facts(folder: str, home: str):
    from checks.facts import Agency, LinkResult, SiteFacts
    from crawler.encoding import decode_html
    from crawler.extract import extract_page

    root = REALWORLD / folder
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in (".htm", ".html"))
    facts = SiteFacts(agency=Agency(name="", url=f"{B}/{home}"), hosts=["127.0.0.1:8000"])
    for rel in files:
        text = decode_html((root / rel).read_bytes(), None)[0]
        parsed = extract_page(text, f"{B}/{rel}")
        parsed.facts.status = 200
        parsed.facts.depth = 0 if rel == home else 1
        facts.pages.append(parsed.facts)
        facts.links.extend(parsed.links)
    for link in facts.links:
        base = link.target.split("#")[0]
        parts = urlsplit(base)
        if parts.netloc == "127.0.0.1:8000" and base not in facts.link_results:
            exists = (root / parts.path.lstrip("/")).is_file()
            facts.link_results[base] = LinkResult(url=base, status=200 if exists else 404, in_scope=True)
    return facts, files


def run_checks(facts):
    from checks.audit import run_checks as audit
    from checks.base import AuditContext

    ctx = AuditContext(today=TODAY, options={})
    return audit(facts, ctx), ctx


def main() -> None:
    dates = literal("test_realworld_dates.py", "EXPECTED")
    disclosure = literal("test_realworld_disclosure.py", "EXPECTED")
    labels = yaml.safe_load((HERE / "tests" / "data" / "realworld" / "labels.yaml").read_text(encoding="utf-8"))
    table = defaultdict(lambda: [0, 0])
    for folder, (home, state, _urls, _entries) in sorted(disclosure.items()):
        facts, files = site_facts(folder, home)
        findings, ctx = run_checks(facts)
        # page date
        got = {d["page"][len(B) + 1:]: d["date"] for d in ctx.summary.get("staleness", {}).get("dates", [])}
        for name, want in dates[folder][0].items():
            table["page date"][0 if got.get(name) == (want[0] if want else None) else 1] += 1
        # §7 entry
        disc = ctx.summary.get("disclosure") or {}
        missing = [f for f in findings if f.rule == "missing-disclosure-section"]
        seen = "found" if disc.get("section_urls") else "dead" if any(
            f.evidence.get("dead_links") for f in missing) else "absent"
        table["§7 entry (sites)"][0 if seen == state else 1] += 1
        # accesskeys and metadata per page
        for name in files:
            want = labels.get(f"{folder}/{name}") or {}
            url = f"{B}/{name}"
            bad = set()
            for f in findings:
                pages = f.evidence.get("pages") or [] if isinstance(f.evidence, dict) else []
                if f.rule == "tw-accesskey-missing" and (f.page == url or url in pages):
                    bad |= {(k, "missing") for k in f.evidence.get("missing", [])}
                if f.rule == "tw-accesskey-target-missing" and (f.page == url or url in pages):
                    bad.add((f.evidence.get("key"), "target-missing"))
            want_bad = {(k, v) for k, v in (want.get("accesskeys") or {}).items() if v != "ok"}
            table["accesskeys (pages)"][0 if bad == want_bad else 1] += 1
            if "metadata" in want:
                wanted = ("dc-title-mismatch", "invalid-dc-identifier", "dc-identifier-mismatch",
                          "dc-publisher-mismatch")
                got_meta = sorted(f"{f.rule}:{f.evidence.get('reason', '')}" for f in findings
                                  if f.page == url and f.rule in wanted)
                table["metadata (pages with DC)"][0 if got_meta == sorted(want["metadata"]) else 1] += 1
        # labels per site: which features a label was seen for
        want_features = set()
        for name in files:
            want_features |= set((labels.get(f"{folder}/{name}") or {}).get("labels") or {})
        services = {**ctx.summary.get("services", {}), **ctx.summary.get("service_info", {})}
        for feature in ("mailbox", "privacy-policy", "security-policy", "open-data-declaration", "sitemap"):
            entry = services.get(feature) or {}
            seen = bool(entry.get("found") or entry.get("dead_links") or entry.get("unverified_links")
                        or entry.get("evidence") or entry.get("unverified_evidence"))
            table["labels (site × feature)"][0 if seen == (feature in want_features) else 1] += 1
    print(f"{'check':28} {'right':>6} {'wrong':>6}")
    for name, (right, wrong) in table.items():
        print(f"{name:28} {right:6d} {wrong:6d}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
