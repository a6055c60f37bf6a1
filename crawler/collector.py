"""Python's cyclic garbage collector kept off objects that live until a stretch of work ends (issue 6).

A full collection walks every tracked object; an audited site's facts (a 10,000-page site's pages, links
and results) live until its audit ends, and three full collections over them cost about a second.
`frozen_while()` moves what is alive when the block starts out of the collector's passes and back when
it ends, whatever happens, so a fleet auditing many sites in one process still frees each site's objects.
The crawl does the same while a spider is open with a Scrapy extension
(crawler.extensions.gc_tuning.GarbageCollectorTuning, setting GC_FREEZE); this helper is for code
outside a crawl (disclosure_audit.pipeline.finalize_site) and imports no Scrapy.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_while() -> Iterator[None]:
    """Leave what is alive now out of the collector's passes until the block ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
