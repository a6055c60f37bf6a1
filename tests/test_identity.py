"""One finding identity (checks.identity): fingerprints are frozen, because users keep them.

A `--baseline` gate, a trend and every report match findings across runs by `findings[].fingerprint`;
a changed formula would show an unchanged site as all-new. The expected values below and in
tests/data/demo_fingerprints.json were computed by the code before the identity moved into
checks/identity.py (checks.base.Finding.fingerprint then); tests/data/sample_results.json stores
fingerprints written by an older release. Each must come out byte for byte the same from every way
the project computes one: `Finding.fingerprint`, `fingerprint_of` (results read back) and `fingerprint`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.base import Finding
from checks.identity import anchor, fingerprint, fingerprint_of, run_key

DATA = Path(__file__).resolve().parent / "data"

# (rule, page, target, evidence, fingerprint): the anchor's corners (no target, empty target, item 0,
# example before item, non-ASCII page), each value from the code before the move.
PINNED = [
    ("missing-disclosure-category", "https://a.example/", None, {"item": 3}, "3c8e25b5f77b4740"),
    ("missing-disclosure-category", "https://a.example/", None, {"item": 0}, "44148149bd07a113"),
    ("missing-disclosure-category", "https://a.example/", None, {}, "44148149bd07a113"),
    ("broken-link", "https://a.example/", "", {"example": "x"}, "7dbfc006f00c28ca"),
    ("broken-link", "https://a.example/", "https://a.example/b", {"example": "ignored"}, "8100ab2d14a33ad3"),
    ("image-alt", "https://a.example/頁", None, {"example": "img", "item": "not used"}, "ea00714dd4463106"),
    ("image-alt", "https://a.example/頁", None, {"example": "", "item": "使用"}, "157464619dd56f4a"),
    ("stale-page", "", None, {"example": None}, "756be3bfb8740131"),
]


def _stored(name: str) -> list[dict]:
    doc = json.loads((DATA / name).read_text(encoding="utf-8"))
    if isinstance(doc, dict):  # a results.json
        return [f for site in doc["sites"] for f in site.get("findings") or []]
    return doc


STORED = [pytest.param(f, id=f"{name}:{i}") for name in ("sample_results.json", "demo_fingerprints.json")
          for i, f in enumerate(_stored(name))]


@pytest.mark.parametrize("rule, page, target, evidence, expected", PINNED)
def test_pinned_fingerprints_are_unchanged(rule, page, target, evidence, expected):
    assert fingerprint(rule, page, target, evidence) == expected
    assert Finding(check="x", rule=rule, severity="notice", page=page, target=target, detail="",
                   evidence=evidence).fingerprint == expected
    assert fingerprint_of({"rule": rule, "page": page, "target": target, "evidence": evidence}) == expected


@pytest.mark.parametrize("finding", STORED)
def test_stored_fingerprints_are_recomputed_byte_for_byte(finding):
    stored = finding["fingerprint"]
    bare = {k: v for k, v in finding.items() if k != "fingerprint"}
    assert fingerprint_of(bare) == stored
    made = Finding(check=finding["check"], rule=finding["rule"], severity="notice", page=finding["page"],
                   target=finding["target"], detail="", evidence=finding["evidence"])
    assert made.fingerprint == stored
    assert made.to_json()["fingerprint"] == stored


def test_the_stored_samples_cover_findings_with_and_without_a_target():
    targets = [f["target"] for param in STORED for f in param.values]
    assert None in targets and any(targets)


def test_a_stored_fingerprint_is_kept_as_it_is():
    assert fingerprint_of({"rule": "r", "page": "p", "fingerprint": "abc"}) == "abc"
    assert fingerprint_of({"rule": "r", "page": "p", "fingerprint": ""}) == fingerprint("r", "p", None, {})


def test_evidence_given_as_pairs_is_read_as_a_mapping():
    assert fingerprint_of({"rule": "r", "page": "p", "evidence": [("item", 2)]}) == fingerprint("r", "p", None,
                                                                                                 {"item": 2})


def test_anchor_is_the_target_else_example_else_item():
    assert anchor("t", {"example": "e"}) == "t"
    assert anchor(None, {"example": "e", "item": 1}) == "e"
    assert anchor(None, {"item": 1}) == "1"
    assert anchor("", {}) == ""


def test_run_key_keeps_apart_what_the_contract_keeps_apart():
    page = "https://a.example/"
    assert run_key("r", page, None, {"item": 1}) == run_key("r", page, None, {"item": 1, "other": 2})
    assert run_key("r", page, None, {"item": 1}) != run_key("r", page, None, {"item": 2})
    assert run_key("r", page, "https://a.example/x", {"item": 1}) == run_key("r", page, "https://a.example/x", {})
    assert run_key("r", page, None, {}) != run_key("r", page, "", {})
    # finer than the fingerprint: "no target, example x" and "target x" are two findings of one run
    assert fingerprint("r", page, None, {"example": "x"}) == fingerprint("r", page, "x", {})
    assert run_key("r", page, None, {"example": "x"}) != run_key("r", page, "x", {})
    assert len(run_key("r", page, None, {"example": "\udcff"})) == 12  # surrogates from odd bytes
