"""Benchmark disclosure-audit against LinkChecker and linkinator on one synthetic agency site (issue 6).

On the same site, in the same go: generate (or reuse) an N-page site, serve it on 127.0.0.1 with nginx
(or the threaded Python server), measure the server's own ceiling with wrk on one page, then run
disclosure-audit (links only), LinkChecker and linkinator, each bounded in time, and print for each
the wall time, URLs per second, CPU seconds, peak RSS of the whole process tree, and whether it found
exactly the broken links the generator planted (extra / missing listed). disclosure-audit then runs a
second time over the unchanged site (the recrawl target: ≤ 25 % of the first run's wall time).

Each peer gets its best settings (see BENCHMARKS.md for why): LinkChecker 16 threads, no robots.txt
wait, `maxrequestspersecond` raised (the server sends the `LinkChecker` header that lifts its 10/s
floor); linkinator 7 (Node 20) with --recurse and concurrency 100. No traffic leaves 127.0.0.1.

    python bench/run_bench.py --pages 10000                # everything, figures on stdout + JSON
    python bench/run_bench.py --pages 1000 --tools da      # a quick look at our crawler only
    python bench/run_bench.py --install-peers              # put LinkChecker / linkinator under /tmp
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate_site import generate  # noqa: E402 - after the path fix for `python bench/run_bench.py`
from bench.measure import Measurement, run_measured  # noqa: E402
from bench.serve import serve  # noqa: E402

PEERS = Path("/tmp/da-bench-peers")
DEFAULT_LINKCHECKER = PEERS / "lcvenv" / "bin" / "linkchecker"
DEFAULT_LINKINATOR = PEERS / "linkinator" / "node_modules" / ".bin" / "linkinator"
TOOLS = ("da", "linkchecker", "linkinator")

LINKCHECKER_RC = """\
[checking]
threads={threads}
maxrequestspersecond={rps}
timeout=20
recursionlevel=-1
[filtering]
checkextern=0
[output]
status=0
warnings=0
"""


# --- comparing what a tool found with what the generator planted ----------------------------------
def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def compare(found: set[tuple[str, str]], manifest: dict) -> dict:
    """(source, target) pairs as paths, against the manifest's known broken links."""
    expected = {(b["source"], b["target"]) for b in manifest["broken"]}
    extra, missing = sorted(found - expected), sorted(expected - found)
    return {"found": len(found), "expected": len(expected), "exact": not extra and not missing,
            "extra": [list(p) for p in extra[:20]], "missing": [list(p) for p in missing[:20]],
            "extra_count": len(extra), "missing_count": len(missing)}


def parse_da(out_dir: Path) -> tuple[set[tuple[str, str]], dict]:
    results = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    site = results["sites"][0]
    found = {(_path(f["page"]), _path(f["target"])) for f in site["findings"]
             if f["check"] == "links" and f["rule"] == "broken-link"}
    other = sorted({f["rule"] for f in site["findings"] if f["check"] == "links" and f["rule"] != "broken-link"})
    info = {"urls": site["stats"]["links_checked"], "pages": site["stats"]["pages"],
            "crawl_s": site["stats"]["duration_s"], "status": site["status"], "other_link_rules": other}
    return found, info


def parse_linkchecker(text: str) -> tuple[set[tuple[str, str]], dict]:
    """LinkChecker's text output: one block per error, then "That's it. N links in M URLs checked."."""
    found: set[tuple[str, str]] = set()
    checked = None
    for block in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(URL|Parent URL|Real URL|Result)\s+(.*)$", block, re.M))
        if fields.get("Result", "").startswith("Error") and "Real URL" in fields:
            parent = fields.get("Parent URL", "").split(", line")[0]
            found.add((_path(parent), _path(fields["Real URL"].strip())))
    match = re.search(r"(\d+) links? in (\d+) URLs? checked", text)
    if match:
        checked = int(match.group(2))
    return found, {"urls": checked}


def parse_linkinator(text: str) -> tuple[set[tuple[str, str]], dict]:
    found: set[tuple[str, str]] = set()
    urls: set[str] = set()
    start = text.find("url,status,state")
    for row in csv.DictReader(io.StringIO(text[start:] if start >= 0 else "")):
        urls.add(row["url"])
        if row.get("state") == "BROKEN":
            found.add((_path(row.get("parent") or ""), _path(row["url"])))
    return found, {"urls": len(urls)}


# --- the runs -------------------------------------------------------------------------------------
def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _row(name: str, m: Measurement, urls: int | None, pages: int, comparison: dict | None,
         **extra: object) -> dict:
    row = {"tool": name, "wall_s": round(m.wall_s, 2), "cpu_s": round(m.cpu_s, 2),
           "peak_rss_mb": round(m.peak_rss_mb, 1), "peak_pss_mb": round(m.peak_pss_mb, 1), "urls": urls, "pages": pages,
           "urls_per_s": round(urls / m.wall_s, 1) if urls and m.wall_s else None,
           "pages_per_s": round(pages / m.wall_s, 1) if m.wall_s else None,
           "returncode": m.returncode, "timed_out": m.timed_out, "broken": comparison}
    row.update(extra)
    return row


def run_da(url: str, out: Path, args: argparse.Namespace, logs: Path, name: str, manifest: dict) -> dict:
    cmd = [sys.executable, "-m", "bench.da_run", url, str(out), "--pages", str(args.pages),
           "--per-host", str(args.per_host), "--concurrent", str(args.concurrent),
           "--max-seconds", str(int(args.timeout))]
    load = _load()
    m = run_measured(cmd, timeout=args.timeout + 180, out_dir=logs, name=name, cwd=ROOT)
    if m.returncode != 0 or not (out / "results.json").exists():
        return _row(name, m, None, 0, None, error=m.stderr()[-800:], load_before=load)
    found, info = parse_da(out)
    row = _row(name, m, info["urls"], info["pages"], compare(found, manifest), load_before=load,
               crawl_s=info["crawl_s"], site_status=info["status"], other_link_findings=info["other_link_rules"],
               settings={"per_host_concurrency": args.per_host, "CONCURRENT_REQUESTS": args.concurrent,
                         "AUTOTHROTTLE_ENABLED": False, "accessibility": False})
    row["crawl_pages_per_s"] = round(info["pages"] / info["crawl_s"], 1) if info["crawl_s"] else None
    return row


def run_linkchecker(url: str, args: argparse.Namespace, work: Path, logs: Path, manifest: dict) -> dict:
    binary = Path(args.linkchecker)
    if not binary.exists():
        return {"tool": "linkchecker", "skipped": f"not installed at {binary} (run with --install-peers)"}
    conf_dir = work / "linkchecker"
    conf_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(conf_dir, 0o755)  # LinkChecker drops root to `nobody` before it reads its config
    rc = conf_dir / "linkcheckerrc"
    rc.write_text(LINKCHECKER_RC.format(threads=args.lc_threads, rps=args.lc_rps))
    os.chmod(rc, 0o644)
    cmd = [str(binary), "-f", str(rc), "--no-robots", "-o", "text", url]
    load = _load()
    m = run_measured(cmd, timeout=args.timeout, out_dir=logs, name="linkchecker")
    found, info = parse_linkchecker(m.stdout() + "\n" + m.stderr())
    return _row("linkchecker", m, info["urls"], manifest["html_pages"] if not m.timed_out else 0,
                compare(found, manifest), load_before=load,
                settings={"threads": args.lc_threads, "maxrequestspersecond": args.lc_rps, "robots": "off"})


def run_linkinator(url: str, args: argparse.Namespace, logs: Path, manifest: dict) -> dict:
    binary = Path(args.linkinator)
    if not binary.exists():
        return {"tool": "linkinator", "skipped": f"not installed at {binary} (run with --install-peers)"}
    # no --timeout: linkinator 7 starts a request's timer when the link is queued, so on a large site
    # every link still waiting after the timeout ends as status 0 "BROKEN" (seen: 20,000 false alarms)
    cmd = [str(binary), url, "--recurse", "--concurrency", str(args.lk_concurrency), "--format", "csv"]
    load = _load()
    m = run_measured(cmd, timeout=args.timeout, out_dir=logs, name="linkinator")
    found, info = parse_linkinator(m.stdout())
    return _row("linkinator", m, info["urls"], manifest["html_pages"] if not m.timed_out else 0,
                compare(found, manifest), load_before=load, settings={"concurrency": args.lk_concurrency})


def wrk_ceiling(url: str, seconds: int = 5) -> dict:
    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed (apt-get install -y wrk)"}
    try:
        out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", url], capture_output=True, text=True,
                             timeout=seconds + 30).stdout
    except subprocess.TimeoutExpired:
        return {"skipped": "wrk did not finish in time"}
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    transfer = re.search(r"Transfer/sec:\s+(\S+)", out)
    return {"url": url, "requests_per_s": float(match.group(1)) if match else None,
            "transfer_per_s": transfer.group(1) if transfer else None, "threads": 2, "connections": 64}


def versions(args: argparse.Namespace, server: str) -> dict:
    def cmd(argv: list[str]) -> str | None:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else None

    import scrapy
    import twisted

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version(), "scrapy": scrapy.__version__,
            "twisted": twisted.__version__, "server": server, "node": cmd(["node", "--version"]),
            "linkchecker": cmd([str(args.linkchecker), "--version"]),
            "linkinator": cmd([str(args.linkinator), "--version"]), "wrk": cmd(["wrk", "--version"])}


def install_peers() -> int:
    """LinkChecker in its own venv (its pinned deps must not touch ours), linkinator 7 in a temp dir."""
    PEERS.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(PEERS / "lcvenv")],
        [str(PEERS / "lcvenv" / "bin" / "pip"), "install", "-q", "linkchecker"],
    ]
    (PEERS / "linkinator").mkdir(exist_ok=True)
    for step in steps:
        if subprocess.run(step, timeout=600).returncode != 0:
            print(f"run_bench: failed: {' '.join(step)}", file=sys.stderr)
            return 1
    npm = subprocess.run(["npm", "install", "--silent", "--prefix", str(PEERS / "linkinator"), "linkinator@7"],
                         timeout=600)
    if npm.returncode != 0:
        print("run_bench: npm install linkinator@7 failed (Node 20 is needed)", file=sys.stderr)
        return 1
    print(f"peers installed under {PEERS}")
    return 0


# --- report ---------------------------------------------------------------------------------------
def print_table(rows: list[dict]) -> None:
    head = f"{'tool':<28}{'wall s':>9}{'URLs':>8}{'URLs/s':>9}{'pages/s':>9}{'CPU s':>9}{'RSS MB':>8}{'PSS MB':>8}  broken links"
    print(head)
    print("-" * len(head))
    for row in rows:
        if "skipped" in row:
            print(f"{row['tool']:<28}skipped: {row['skipped']}")
            continue
        b = row.get("broken")
        if b is None:
            verdict = f"run failed (exit {row['returncode']})"
        elif b["exact"]:
            verdict = f"exact ({b['found']}/{b['expected']})"
        else:
            verdict = f"{b['found']} found, {b['extra_count']} extra, {b['missing_count']} missing"
        if row.get("timed_out"):
            verdict += " [TIMED OUT]"
        print(f"{row['tool']:<28}{row['wall_s']:>9.1f}{row['urls'] or 0:>8}{row['urls_per_s'] or 0:>9.1f}"
              f"{row['pages_per_s'] or 0:>9.1f}{row['cpu_s']:>9.1f}{row['peak_rss_mb']:>8.0f}{row['peak_pss_mb']:>8.0f}  {verdict}")


def targets(rows: list[dict], pages: int) -> list[str]:
    by = {r["tool"]: r for r in rows if "skipped" not in r and r.get("urls_per_s")}
    lines = []
    da = by.get("disclosure-audit")
    if not da:
        return ["disclosure-audit did not complete: no target can be judged"]
    if "linkchecker" in by:
        ratio = da["urls_per_s"] / by["linkchecker"]["urls_per_s"]
        lines.append(f"≥ 2× tuned LinkChecker: {ratio:.2f}× — {'met' if ratio >= 2 else 'NOT met'}")
    if "linkinator" in by:
        ratio = da["urls_per_s"] / by["linkinator"]["urls_per_s"]
        lines.append(f"≥ ½ linkinator (one process): {ratio:.2f}× — {'met' if ratio >= 0.5 else 'NOT met'}")
    limit = 300 if pages <= 10_000 else 600
    lines.append(f"peak RSS < {limit} MB at {pages} pages: {da['peak_rss_mb']:.0f} MB summed over the "
                 f"process tree ({da['peak_pss_mb']:.0f} MB PSS) — "
                 f"{'met' if da['peak_rss_mb'] < limit else 'met by PSS only' if da['peak_pss_mb'] < limit else 'NOT met'}")
    exact = da["broken"] and da["broken"]["exact"]
    lines.append(f"every known broken link found, none invented: {'met' if exact else 'NOT met'}")
    again = by.get("disclosure-audit (recrawl)")
    if again:
        share = again["wall_s"] / da["wall_s"]
        lines.append(f"recrawl ≤ 25 % of the first run: {share:.0%} — {'met' if share <= 0.25 else 'NOT met'}")
    lines.append("two worker processes ≥ linkinator: measured separately with bench/two_workers.py (needs redis-server)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark disclosure-audit against LinkChecker and linkinator.")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/da-bench"))
    parser.add_argument("--server", choices=("nginx", "python"), default="nginx")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma list of da,linkchecker,linkinator")
    parser.add_argument("--no-recrawl", action="store_true", help="skip the second run of disclosure-audit")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per tool run (default 3600)")
    parser.add_argument("--per-host", type=int, default=16, help="our per-host concurrency (default 16)")
    parser.add_argument("--concurrent", type=int, default=32, help="our CONCURRENT_REQUESTS (default 32)")
    parser.add_argument("--lc-threads", type=int, default=16)
    parser.add_argument("--lc-rps", type=float, default=10_000, help="LinkChecker maxrequestspersecond")
    parser.add_argument("--lk-concurrency", type=int, default=100)
    parser.add_argument("--linkchecker", default=str(DEFAULT_LINKCHECKER))
    parser.add_argument("--linkinator", default=str(DEFAULT_LINKINATOR))
    parser.add_argument("--install-peers", action="store_true", help="install LinkChecker and linkinator, exit")
    args = parser.parse_args(argv)
    if args.install_peers:
        return install_peers()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        print(f"run_bench: unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(TOOLS)}",
              file=sys.stderr)
        return 2

    site_dir = args.workdir / f"site-{args.pages}"
    t0 = time.monotonic()
    try:
        manifest = generate(site_dir, args.pages, args.seed)
    except (ValueError, OSError) as exc:
        print(f"run_bench: cannot generate the site: {exc}", file=sys.stderr)
        return 2
    print(f"site: {manifest['html_pages']} pages, {len(manifest['broken'])} known broken links, "
          f"{len(manifest['documents'])} documents, avg {manifest['avg_page_bytes'] / 1024:.1f} KB/page, "
          f"{manifest['links_per_page']['min']}–{manifest['links_per_page']['max']} links/page, "
          f"depth {manifest['max_depth']} (ready in {time.monotonic() - t0:.0f} s)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logs = args.workdir / f"logs-{args.pages}-{stamp}"
    rows: list[dict] = []
    try:
        server_cm = serve(site_dir, prefer=args.server)
        with server_cm as served:
            print(f"server: {served.version} at {served.url}")
            info = versions(args, served.version)
            ceiling = wrk_ceiling(served.url + "news/000011.html")
            print(f"server ceiling (wrk, one page): {ceiling.get('requests_per_s')} requests/s")
            if "da" in tools:
                out = args.workdir / f"da-out-{args.pages}-{stamp}"
                rows.append(run_da(served.url, out, args, logs, "disclosure-audit", manifest))
                print_table(rows[-1:])
                if not args.no_recrawl:
                    rows.append(run_da(served.url, out, args, logs, "disclosure-audit (recrawl)", manifest))
                    print_table(rows[-1:])
            if "linkchecker" in tools:
                rows.append(run_linkchecker(served.url, args, args.workdir, logs, manifest))
                print_table(rows[-1:])
            if "linkinator" in tools:
                rows.append(run_linkinator(served.url, args, logs, manifest))
                print_table(rows[-1:])
    except RuntimeError as exc:
        print(f"run_bench: {exc}", file=sys.stderr)
        return 3
    print()
    print_table(rows)
    print()
    for line in targets(rows, args.pages):
        print(line)
    for row in rows:
        b = row.get("broken")
        if b and not b["exact"]:
            print(f"{row['tool']}: extra {b['extra']} missing {b['missing']}")
    report = {"machine": info, "site": {k: v for k, v in manifest.items() if k not in ("documents", "broken")},
              "server_ceiling": ceiling, "runs": rows, "targets": targets(rows, args.pages)}
    path = args.workdir / f"bench-{args.pages}-{stamp}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nfigures written to {path}; tool logs in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
