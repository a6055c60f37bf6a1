"""Shared fixtures: real loopback servers, the realworld folder, temporary output folders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
REALWORLD = ROOT.parent / "shared" / "realworld"

from servers import Site  # noqa: E402


@pytest.fixture
def realworld() -> Path:
    if not REALWORLD.is_dir():
        pytest.skip(f"real-world material not found: {REALWORLD} (../shared/realworld beside the checkout)")
    return REALWORLD


@pytest.fixture
def site():
    """A fresh loopback site on 127.0.0.1; add routes, then crawl `site.url`."""
    s = Site().start()
    yield s
    s.stop()


@pytest.fixture
def external_site():
    """An 'external' host on 127.0.0.2: out of scope, checked but never crawled."""
    s = Site(host="127.0.0.2").start()
    yield s
    s.stop()
