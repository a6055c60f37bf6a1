"""Scrapy settings for the agency crawler: polite by default (robots.txt, per-host caps, AutoThrottle,
an honest User-Agent), bounded in size and time, with our own redirect and Retry-After handling so
every hop and wait is recorded as a fact, and a guard against probing private networks (issue 7)."""

from crawler import __version__

BOT_NAME = "disclosure-audit"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = (
    f"disclosure-audit/{__version__} (+https://github.com/disclosure-audit/disclosure-audit; "
    "government website service-quality audit)"
)
ROBOTSTXT_OBEY = True

# Politeness: a cap per host, AutoThrottle adapting to the server's latency.
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0
# Items are written by one synchronous, batching pipeline: processing a response's items one at a time
# loses nothing. Scrapy's default (100) starts 100 asyncio tasks per response to process them "in
# parallel"; on the 10,000-page benchmark that overhead alone was 40 % of the crawl's CPU time.
CONCURRENT_ITEMS = 1
# Breadth-first: a page's depth is recorded when it is first seen, so pages must be seen in order of
# their distance from the home page. Scrapy's default LIFO queues crawl depth-first: on a 100,000-page
# site a pagination chain reached depth 100 before the pages' short paths were found, and 22,962
# shallow pages were skipped as "too deep". FIFO queues, with each page request's priority set to
# minus its depth by the spider, give the shortest click depth (Scrapy FAQ: "Does Scrapy crawl in
# breadth-first or depth-first order?"; crawler.spiders.agency.CHECK_PRIORITY says why both).
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
# Scrapy re-reads and parses the callback's source (inspect + ast) for every response to warn about
# `return value` in generators; our callbacks are covered by tests, and the check cost 4 % of the crawl.
WARN_ON_GENERATOR_RETURN_VALUE = False
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0

# Bounds: nothing a site sends can hold us forever or fill memory.
DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # also bounds decompressed size (decompression bombs)
DOWNLOAD_WARNSIZE = 0
REDIRECT_ENABLED = False  # the spider follows redirects itself to record chains and loops
METAREFRESH_ENABLED = False
RETRY_ENABLED = True
RETRY_TIMES = 1
RETRY_HTTP_CODES = [502, 504, 522, 524, 408]  # 429/503 go through RetryAfterMiddleware
HTTPERROR_ENABLED = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
# No "Crawled …"/"Scraped …" DEBUG records built for nothing above DEBUG
# (crawler.logformatter.QuietLogFormatter).
LOG_FORMATTER = "crawler.logformatter.QuietLogFormatter"
# Scrapy's request/response byte counters: nothing reads them (the footprint counts bytes itself), and
# sizing each request's HTTP representation cost 1-2 % of a recrawl.
DOWNLOADER_STATS = False
DNS_TIMEOUT = 10
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# The spider requests each target once itself (AgencySpider.targets, keyed on checks.links.url_key) and
# marks its own repeats (a GET after a HEAD, a redirect hop) dont_filter: Scrapy's duplicate filter only
# hashed every request's canonical URL (2 % of the recrawl's reactor time) and kept a fingerprint per
# request in memory. The distributed workers set their shared Redis filter (crawler.distributed).
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"

DOWNLOADER_MIDDLEWARES = {
    "crawler.downloadermiddlewares.conditional.ConditionalRequestsMiddleware": 550,
    # before RobotsTxtMiddleware (100): a refused host is not even asked for its robots.txt
    "crawler.downloadermiddlewares.private_address.PrivateAddressMiddleware": 50,
    "crawler.downloadermiddlewares.robots.BoundedRobotsMiddleware": 51,
    "crawler.downloadermiddlewares.retry_after.RetryAfterMiddleware": 560,
    # Scrapy components with nothing to do here, each paid on every request or every output: the
    # offsite filter (the spider decides its scope itself and sets no allowed_domains), and below the
    # depth counter (the spider records each target's depth itself; no DEPTH_LIMIT) and a development
    # aid that inspects every request's meta for keys copied from a response.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
ITEM_PIPELINES = {
    "crawler.pipelines.StorePipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.gc_tuning.GarbageCollectorTuning": 0,
}
# First-generation threshold of Python's garbage collector while a spider is open (Python's default
# is 700; 0 leaves it alone): fewer, larger collections
# (crawler.extensions.gc_tuning.GarbageCollectorTuning).
# Left alone by default: 10,000 made the 10,000-page crawl ~8 % faster but raised its peak RSS from
# 251 to 339 MB (issue 6 asks < 300 MB); a machine with memory to spare can set it.
GC_GEN0_THRESHOLD = 0
# Objects alive when the spider opens are left out of the collector's passes (gc.freeze), unfrozen at
# close: ~1.5 s less CPU on the 10,000-page recrawl, no memory cost measured (142 MB peak either way).
GC_FREEZE = True
# A recrawl first asks the previous audit's pages conditionally in one aiohttp pass, with the rules above
# (robots.txt, USER_AGENT, per-host cap, DOWNLOAD_DELAY; stops at 429/503), and takes a page answered
# 304 there without a Scrapy request: Scrapy's per-request cost was 16 of a 22 s recrawl (crawler.revalidate).
DA_REVALIDATE_AHEAD = True

# How long we honour a Retry-After at most, and how often (seconds / times).
RETRY_AFTER_MAX_DELAY = 30.0
RETRY_AFTER_MAX_TIMES = 2

# Safety (issue 7): links to loopback/private/link-local addresses are refused unless the audited site
# itself lives on such a network; True lets the crawler contact them all (an intranet audit).
ALLOW_PRIVATE_ADDRESSES = False
# None: the kinds (loopback, private, link-local, reserved) the site's own hosts resolve to; or an
# explicit list of the kinds that may be contacted ([] = public addresses only).
PRIVATE_ADDRESS_KINDS = None
