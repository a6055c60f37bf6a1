"""Distributed crawling, the coordinator and the worker entry: `python -m disclosure_audit.distributed worker …`.

The coordinator seeds the start URL (as JSON, the form scrapy-redis expects), starts the local
workers, and decides when the run is finished: start list and queue drained and no request in flight
for a few polls. A worker whose heartbeat stops (killed, machine lost) has its in-flight requests put
back on the queue, so nothing is lost. The spider and the frontier scheduler the workers run are
crawler.distributed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from crawler.distributed import DistributedAgencySpider, keys

POLL_S = 0.5


def worker_settings(redis_url: str, run_key: str) -> dict[str, Any]:
    k = keys(run_key)
    return {
        "SCHEDULER": "crawler.distributed.FrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": k["queue"],
        "SCHEDULER_DUPEFILTER_KEY": k["dupefilter"],
        "REDIS_URL": redis_url,
        "MAX_IDLE_TIME_BEFORE_CLOSE": 0,
        "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": 300},
        # pull from the shared queue only what this worker can download now (4 per host): a worker
        # with 32 free slots would otherwise hoard requests that idle workers could take
        "CONCURRENT_REQUESTS": 4,
        "LOG_LEVEL": "ERROR",
    }


def run_worker(args: argparse.Namespace) -> None:
    """One worker process: `python -m disclosure_audit.distributed worker …` (also on other machines)."""
    # deferred: Scrapy only in a worker process (installs the reactor)
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.core.engine import ExecutionEngine

    # The engine asks its scheduler for work every 5 s when idle; with a shared queue that other
    # workers fill, that leaves this worker idle for seconds at a time. Ask every 0.2 s instead.
    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = 0.2
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in worker_settings(args.redis, args.run_key).items():
        settings.set(key, value, priority="cmdline")
    settings.set("DOWNLOAD_TIMEOUT", args.timeout, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(DistributedAgencySpider, url=args.url, max_pages=args.max_pages, max_depth=args.max_depth,
                  db_url=args.db, site_id=args.site_id, run_key=args.run_key, worker_id=args.worker_id,
                  external=args.external)
    process.start()


class Coordinator:
    """Seeds the frontier, watches workers, requeues a dead worker's requests, says when it is done."""

    def __init__(self, redis_url: str, run_key: str) -> None:
        # deferred: redis only when a distributed crawl is asked for
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.run_key = run_key
        self.k = keys(run_key)
        self.requeued = 0

    def clear(self) -> None:
        stale = list(self.redis.scan_iter(f"{self.k['base']}:*"))
        if stale:
            self.redis.delete(*stale)

    def wait_for_workers(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.redis.scard(self.k["workers"]) < count:
            time.sleep(0.1)

    def seed(self, url: str) -> None:
        self.redis.rpush(self.k["start"], json.dumps({"url": url, "meta": {}}))

    def recover_dead_workers(self) -> list[str]:
        dead = []
        for raw in self.redis.smembers(self.k["workers"]):
            worker = raw.decode()
            if self.redis.exists(f"{self.k['base']}:hb:{worker}"):
                continue
            inflight = self.redis.hgetall(f"{self.k['base']}:inflight:{worker}")
            scores = self.redis.hgetall(f"{self.k['base']}:score:{worker}")
            pipe = self.redis.pipeline()
            for key, encoded in inflight.items():
                pipe.zadd(self.k["queue"], {encoded: float(scores.get(key, b"0"))})
            pipe.delete(f"{self.k['base']}:inflight:{worker}", f"{self.k['base']}:score:{worker}")
            pipe.srem(self.k["workers"], worker)
            pipe.execute()
            self.requeued += len(inflight)
            dead.append(worker)
        return dead

    def busy(self) -> bool:
        if self.redis.llen(self.k["start"]) or self.redis.zcard(self.k["queue"]):
            return True
        for raw in self.redis.smembers(self.k["workers"]):
            if self.redis.hlen(f"{self.k['base']}:inflight:{raw.decode()}"):
                return True
        return False

    def stop(self) -> None:
        self.redis.set(self.k["stop"], "1")


def crawl_distributed(url: str, *, db_url: str, site_id: int, redis_url: str, workers: int = 2,
                      max_pages: int = 2000, max_depth: int = 10, timeout: float = 20.0,
                      max_seconds: float = 3600.0, on_started: Any = None,
                      external: str = "check") -> dict[str, Any]:
    """Run `workers` local worker processes over one Redis frontier until the frontier is drained."""
    run_key = uuid.uuid4().hex[:12]
    coordinator = Coordinator(redis_url, run_key)
    coordinator.clear()
    root = Path(__file__).resolve().parent.parent
    procs = {}
    for index in range(workers):
        worker_id = f"w{index + 1}"
        cmd = [sys.executable, "-m", "disclosure_audit.distributed", "worker", "--url", url, "--db", db_url,
               "--site-id", str(site_id), "--redis", redis_url, "--run-key", run_key, "--worker-id", worker_id,
               "--max-pages", str(max_pages), "--max-depth", str(max_depth), "--timeout", str(timeout),
               "--external", external]
        procs[worker_id] = subprocess.Popen(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    coordinator.wait_for_workers(workers, timeout=60)  # a fair start: every worker can take work
    coordinator.seed(url)
    if on_started:
        on_started(procs, coordinator)
    deadline = time.monotonic() + max_seconds
    quiet_polls, started = 0, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        coordinator.recover_dead_workers()
        if time.monotonic() - started < 2 or coordinator.busy():
            quiet_polls = 0
            continue
        quiet_polls += 1
        if quiet_polls >= 4:
            break
    coordinator.stop()
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"run_key": run_key, "workers": workers, "requeued": coordinator.requeued,
            "exit_codes": {w: p.returncode for w, p in procs.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m disclosure_audit.distributed")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="run one crawl worker on a shared Redis frontier")
    w.add_argument("--url", required=True)
    w.add_argument("--db", required=True, help="the shared run store (SQLAlchemy URL, e.g. PostgreSQL)")
    w.add_argument("--site-id", type=int, required=True)
    w.add_argument("--redis", required=True)
    w.add_argument("--run-key", required=True)
    w.add_argument("--worker-id", default="")
    w.add_argument("--max-pages", type=int, default=2000)
    w.add_argument("--max-depth", type=int, default=10)
    w.add_argument("--timeout", type=float, default=20.0)
    w.add_argument("--external", choices=("check", "skip"), default="check")
    args = parser.parse_args(argv)
    run_worker(args)


if __name__ == "__main__":
    # Run the module's own copy, not __main__'s: settings name these classes by their import path,
    # and isinstance checks between two copies of one module would fail.
    from disclosure_audit.distributed import main as _main

    _main()
