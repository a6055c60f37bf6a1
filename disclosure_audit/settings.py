"""The Scrapy settings `scrapy.cfg` names: the crawler's component settings plus what composes an audit.

crawler.settings holds only Scrapy component settings (politeness, middlewares, the store pipeline)
and is what the audit pipeline and the distributed workers load. This module adds the extension that
lets `scrapy crawl agency -a url=…` from the repository root finish an audit (results.json and the
reports) like `disclosure-audit crawl` does.
"""

from crawler.settings import *  # noqa: F403 - the crawler's settings are this project's settings
from crawler.settings import EXTENSIONS as _CRAWLER_EXTENSIONS

EXTENSIONS = {**_CRAWLER_EXTENSIONS, "disclosure_audit.extensions.StandaloneAudit": 500}
