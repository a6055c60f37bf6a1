"""Shared fixtures: real loopback servers, the realworld folder, temporary output folders."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared helpers, from any test folder

from paths import REALWORLD  # noqa: E402
from servers import Site  # noqa: E402

CHROMIUM = os.environ.get("DISCLOSURE_AUDIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DISCLOSURE_AUDIT_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def driver():
    """One headless Chromium (Debian's, explicit driver path: Selenium Manager never runs) per module,
    with a fresh profile and the browser console log kept."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"Chromium or chromedriver not found ({CHROMIUM}, {CHROMEDRIVER}); ./dev setup installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="disclosure-audit-test-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


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
