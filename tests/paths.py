"""Where things are, for every test module at any depth under tests/ (no counting of parents)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA = TESTS / "data"
SAMPLE = DATA / "sample_results.json"
REALWORLD = ROOT.parent / "shared" / "realworld"
