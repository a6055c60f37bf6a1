"""Benchmark: pages per minute per browser for our axe pass, against @axe-core/cli and pa11y-ci.

All three tools test the same ~30 pages of the demo site (disclosure_audit/demo_site) served from 127.0.0.1,
with the same Chromium (/usr/bin/chromium) and chromedriver, one browser each (concurrency 1),
browser start-up included. Peers are npm packages installed into a temporary folder with their
browser downloads disabled (PUPPETEER_SKIP_DOWNLOAD=1, CHROMEDRIVER_SKIP_DOWNLOAD=true); pass
`--peers DIR` to reuse an existing install, `--no-peers` to time ours only.

    python bench/a11y_bench.py [--pages 30] [--workers 1] [--peers DIR | --no-peers]

The browser never leaves 127.0.0.1 (--host-resolver-rules). This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.a11y import AXE_CORE_VERSION, AXE_SCRIPT, CHROMIUM_FLAGS, A11yOptions, run_accessibility  # noqa: E402

DEMO = ROOT / "crawler" / "demo_site"
CHROMIUM = os.environ.get("DISCLOSURE_AUDIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DISCLOSURE_AUDIT_CHROMEDRIVER", "/usr/bin/chromedriver")
# every non-loopback request goes to a dead proxy (no comma: @axe-core/cli splits its options on commas)
LOOPBACK_ONLY = "--proxy-server=http://127.0.0.1:9"
PEERS = ("@axe-core/cli@" + AXE_CORE_VERSION, "pa11y-ci@3.1.0")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def demo_pages(base: str, count: int) -> list[str]:
    """`count` page URLs of the demo site (repeated with ?copy=N when it has fewer pages)."""
    files = sorted(p.relative_to(DEMO).as_posix() for p in DEMO.rglob("*.html")
                   if "_build" not in p.parts and p.name != "404.html")
    if not files:
        raise SystemExit(f"no demo pages under {DEMO}")
    urls, copy = [], 0
    while len(urls) < count:
        for rel in files:
            if len(urls) >= count:
                break
            urls.append(f"{base}{rel}" + (f"?copy={copy}" if copy else ""))
        copy += 1
    return urls


def install_peers(folder: Path) -> Path:
    env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1", "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1",
           "CHROMEDRIVER_SKIP_DOWNLOAD": "true"}
    (folder / "package.json").write_text('{"name": "a11y-peers", "version": "1.0.0", "private": true}')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", *PEERS],
                   cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
    return folder


def time_ours(urls: list[str], workers: int) -> tuple[float, int]:
    started = time.monotonic()
    run = run_accessibility([(u, "bench", "t") for u in urls],
                            A11yOptions(workers=workers, extra_args=[LOOPBACK_ONLY]))
    elapsed = time.monotonic() - started
    if run.status != "ok":
        raise SystemExit(f"our run failed: {run.detail}")
    return elapsed, run.pages_tested


def time_axe_cli(peers: Path, urls: list[str]) -> tuple[float, int]:
    flags = ",".join(f.lstrip("-") for f in (*CHROMIUM_FLAGS, LOOPBACK_ONLY))
    cmd = [str(peers / "node_modules" / ".bin" / "axe"), *urls, "--chromedriver-path", CHROMEDRIVER,
           "--chrome-path", CHROMIUM, f"--chrome-options={flags}", "--axe-source", str(AXE_SCRIPT), "--stdout"]
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - started
    try:
        tested = len(json.loads(out.stdout))
    except json.JSONDecodeError:
        raise SystemExit(f"@axe-core/cli failed: {out.stderr[-500:]}") from None
    return elapsed, tested


def time_pa11y_ci(peers: Path, urls: list[str], workers: int) -> tuple[float, int]:
    config = {
        "defaults": {
            "runners": ["axe"], "concurrency": workers, "timeout": 60000,
            # pa11y-ci fails pages at concurrency > 1 with incognito contexts (pa11y-ci issue #354)
            "useIncognitoBrowserContext": False,
            "chromeLaunchConfig": {"executablePath": CHROMIUM, "args": [*CHROMIUM_FLAGS, LOOPBACK_ONLY]},
        },
        "urls": urls,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(config, fh)
    cmd = [str(peers / "node_modules" / ".bin" / "pa11y-ci"), "--config", fh.name, "--json"]
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - started
    os.unlink(fh.name)
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"pa11y-ci failed: {out.stderr[-500:]}") from None
    failed = sum(1 for results in report.get("results", {}).values()
                 if any(isinstance(r, dict) and r.get("message", "").startswith("Error") for r in results))
    return elapsed, report.get("total", len(urls)) - failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--peers", type=Path, help="folder where the npm peers are installed")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(DEMO)))
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = demo_pages(f"http://127.0.0.1:{server.server_port}/", args.pages)

    rows: list[tuple[str, float, int]] = []
    elapsed, tested = time_ours(urls, args.workers)
    rows.append((f"disclosure-audit (Selenium + axe-core {AXE_CORE_VERSION})", elapsed, tested))
    if not args.no_peers:
        with tempfile.TemporaryDirectory(prefix="a11y-peers-") as tmp:
            peers = args.peers or install_peers(Path(tmp))
            elapsed, tested = time_axe_cli(peers, urls)
            rows.append((f"@axe-core/cli {AXE_CORE_VERSION}", elapsed, tested))
            elapsed, tested = time_pa11y_ci(peers, urls, args.workers)
            rows.append(("pa11y-ci 3.1.0 (axe runner)", elapsed, tested))
    server.shutdown()

    print(f"{len(urls)} demo pages, {args.workers} browser(s) each, start-up included, Chromium {CHROMIUM}")
    print("| tool | pages ok | seconds | pages/min per browser | s/page |")
    print("|---|---|---|---|---|")
    for name, elapsed, tested in rows:
        ppm = tested / elapsed * 60 / args.workers if elapsed else 0.0
        print(f"| {name} | {tested}/{len(urls)} | {elapsed:.1f} | {ppm:.0f} | {elapsed / max(tested, 1):.2f} |")
    if len(rows) == 3:
        ours, pa11y = rows[0], rows[2]
        ratio = (ours[2] / ours[1]) / (pa11y[2] / pa11y[1]) if pa11y[2] else float("inf")
        print(f"\nours / pa11y-ci pages per minute: {ratio:.2f}x (target >= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
