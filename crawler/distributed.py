"""The distributed crawl's Scrapy side: the agency spider fed from a shared Redis frontier (scrapy-redis).

Several worker processes (on one or many machines) share one Redis frontier and write to one run
store (PostgreSQL for a shared deployment). Every request a worker takes from the queue is recorded
as in flight in Redis until its callback's output has been stored; a worker whose heartbeat stops has
its in-flight requests put back on the queue by the coordinator (disclosure_audit.distributed, which
also starts the workers), and the store's idempotent inserts (unique page and result per site and
URL) keep a request processed twice from counting twice.

scrapy-redis traps handled here and in the worker settings (issue 6): SCHEDULER_PERSIST is true
(else the first worker to finish deletes the shared queue), MAX_IDLE_TIME_BEFORE_CLOSE is 0 (it
counts from process start and would close busy workers: the coordinator's stop key closes them
instead), start URLs are JSON.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from scrapy import Request
from scrapy_redis.scheduler import Scheduler
from scrapy_redis.spiders import RedisMixin

from checks.computed.urls import url_key
from crawler.items import Acknowledge, PageItem
from crawler.spiders.agency import AgencySpider

HEARTBEAT_TTL = 5


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
        # deferred: importing the reactor installs it; Scrapy chooses which first
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
                output.facts.artifacts.worker = self.worker_id
            yield output
        yield Acknowledge(response.request.meta.get("da_inflight", ""))

    def on_error(self, failure: Any):  # noqa: ANN201
        yield from super().on_error(failure)
        yield Acknowledge(failure.request.meta.get("da_inflight", ""))
