"""Distributed crawling: several worker processes (on one or many machines) share one Redis frontier
(scrapy-redis) and write to one run store (PostgreSQL for a shared deployment).

The coordinator seeds the start URL (as JSON, the form scrapy-redis expects), starts the local
workers, and decides when the run is finished: start list and queue drained and no request in flight
for a few polls. Every request a worker takes from the queue is recorded as in flight in Redis until
its callback's output has been stored; a worker whose heartbeat stops (killed, machine lost) has its
in-flight requests put back on the queue, so nothing is lost, and the store's idempotent inserts
(unique page and result per site and URL) keep a request processed twice from counting twice.

scrapy-redis traps handled here (issue 6): SCHEDULER_PERSIST is true (else the first worker to
finish deletes the shared queue), MAX_IDLE_TIME_BEFORE_CLOSE is 0 (it counts from process start and
would close busy workers: the coordinator's stop key closes them instead), start URLs are JSON.
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

from scrapy import Request
from scrapy_redis.scheduler import Scheduler
from scrapy_redis.spiders import RedisMixin

from checks.links import url_key
from crawler.items import Acknowledge, PageItem
from crawler.spiders.agency import AgencySpider

HEARTBEAT_TTL = 5
POLL_S = 0.5


def keys(run_key: str) -> dict[str, str]:
    base = f"da:{run_key}"
    return {"start": f"{base}:start_urls", "queue": f"{base}:requests", "dupefilter": f"{base}:dupefilter",
            "workers": f"{base}:workers", "stop": f"{base}:stop", "base": base}


# Mark-as-seen and push in one step: a worker killed between the two would otherwise leave a URL
# marked as seen that no queue holds, and it would never be crawled.
_ENQUEUE = """
if ARGV[4] == '1' or redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  if ARGV[5] ~= '' then
    redis.call('HDEL', KEYS[3], ARGV[5])
    redis.call('HDEL', KEYS[4], ARGV[5])
  end
  return 1
end
return 0
"""
# Pop and record as in flight in one step, for the same reason.
_POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return nil end
redis.call('ZREM', KEYS[1], found[1])
local key = redis.sha1hex(found[1])
redis.call('HSET', KEYS[2], key, found[1])
redis.call('HSET', KEYS[3], key, found[2])
return {key, found[1]}
"""


class FrontierScheduler(Scheduler):
    """scrapy-redis scheduler whose enqueue and pop are atomic, and which records each popped
    request as in flight for this worker until its output is stored."""

    def open(self, spider: Any) -> None:
        super().open(spider)
        self.worker = spider.worker_id
        self.base = keys(spider.run_key)["base"]
        self._enqueue = self.server.register_script(_ENQUEUE)
        self._pop = self.server.register_script(_POP)

    def enqueue_request(self, request: Request) -> bool:
        fingerprint = self.df.request_fingerprint(request)
        # a retry is a copy of a request in flight here: queue the copy and drop the old record together
        previous = request.meta.pop("da_inflight", "")
        added = self._enqueue(keys=[self.df.key, self.queue.key, f"{self.base}:inflight:{self.worker}",
                                    f"{self.base}:score:{self.worker}"],
                              args=[fingerprint, -request.priority, self.queue._encode_request(request),
                                    "1" if request.dont_filter else "0", previous])
        if not added:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis", spider=self.spider)
        return True

    def next_request(self) -> Request | None:
        popped = self._pop(keys=[self.queue.key, f"{self.base}:inflight:{self.worker}",
                                 f"{self.base}:score:{self.worker}"])
        if not popped:
            return None
        key, encoded = popped
        request = self.queue._decode_request(encoded)
        request.meta["da_inflight"] = key.decode() if isinstance(key, bytes) else key
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis", spider=self.spider)
        return request


class DistributedAgencySpider(RedisMixin, AgencySpider):
    """The agency spider fed from a shared Redis frontier."""

    name = "agency-distributed"
    # items are written in batches; a request is acknowledged (its in-flight record cleared) only
    # after everything it produced is stored, so a killed worker loses nothing (crawler.items.Acknowledge)

    def __init__(self, *args: Any, run_key: str = "", worker_id: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_key = run_key
        self.worker_id = worker_id or uuid.uuid4().hex[:8]
        self.redis_key = keys(run_key)["start"]
        self.max_idle_time = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DistributedAgencySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        from twisted.internet import task

        spider.server.sadd(keys(spider.run_key)["workers"], spider.worker_id)
        spider._beat()
        spider.heartbeat = task.LoopingCall(spider._beat)
        spider.heartbeat.start(1.0, now=False)
        return spider

    def _beat(self) -> None:
        self.server.set(f"{keys(self.run_key)['base']}:hb:{self.worker_id}", "1", ex=HEARTBEAT_TTL)

    async def start(self):  # noqa: ANN201 - starts come from Redis
        return
        yield

    def make_request_from_data(self, data: bytes) -> Request | None:
        payload = json.loads(data)
        url = payload.get("url")
        if not url:
            return None
        self.targets[url_key(url)] = {"mode": "page", "anchors": False}
        self.pages_scheduled += 1
        return self._request(url, mode="page", depth=0, method="GET")

    def acknowledge(self, request_keys: list[str]) -> None:
        """Clear the in-flight records of requests whose outputs are all in the run store."""
        base = keys(self.run_key)["base"]
        pipe = self.server.pipeline()
        for key in request_keys:
            if key:
                pipe.hdel(f"{base}:inflight:{self.worker_id}", key)
                pipe.hdel(f"{base}:score:{self.worker_id}", key)
        pipe.execute()

    def spider_idle(self) -> None:
        if self.server.exists(keys(self.run_key)["stop"]):
            return  # the coordinator says the run is finished: let the spider close
        super().spider_idle()

    def on_response(self, response: Any):  # noqa: ANN201
        for output in super().on_response(response):
            if isinstance(output, PageItem):
                output.facts.extra["worker"] = self.worker_id
            yield output
        yield Acknowledge(response.request.meta.get("da_inflight", ""))

    def on_error(self, failure: Any):  # noqa: ANN201
        yield from super().on_error(failure)
        yield Acknowledge(failure.request.meta.get("da_inflight", ""))


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
    """One worker process: `python -m crawler.distributed worker …` (also on other machines)."""
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
        cmd = [sys.executable, "-m", "crawler.distributed", "worker", "--url", url, "--db", db_url,
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
    parser = argparse.ArgumentParser(prog="python -m crawler.distributed")
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
    from crawler.distributed import main as _main

    _main()
