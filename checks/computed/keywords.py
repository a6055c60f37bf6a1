"""Keyword lists read from the data files, for the checks and for crawler/'s accessibility sampling.

A site map, a 主動公開資訊 area or a contact page is named by the same words whether the services
check looks for the feature, the Taiwan accessibility check looks for the site map's access-key
notice, or the accessibility pass picks the pages an auditor tests: one list per thing, in
checks/data/service_features.yaml (features: keywords + variant labels, url_patterns) and
checks/data/disclosure_keywords.yaml (section names), matched with checks.computed.text folding.
"""

from __future__ import annotations

import re
from functools import cache

from checks.textnorm import load_yaml


def _terms(entries: list[object] | None) -> list[str]:
    return [str(e["term"] if isinstance(e, dict) else e) for e in entries or ()]


@cache
def feature_keywords(feature: str) -> tuple[str, ...]:
    """A service_features.yaml feature's keywords and the labels of its seen variants, each once."""
    spec = load_yaml("service_features.yaml")["features"][feature]
    return tuple(dict.fromkeys([*(spec.get("keywords") or ()), *(v["label"] for v in spec.get("variants") or ())]))


@cache
def feature_url_patterns(feature: str) -> tuple[re.Pattern[str], ...]:
    """A service_features.yaml feature's address patterns (case-insensitive regular expressions)."""
    spec = load_yaml("service_features.yaml")["features"][feature]
    return tuple(re.compile(p, re.IGNORECASE) for p in spec.get("url_patterns") or ())


@cache
def disclosure_section_names() -> tuple[str, ...]:
    """The names of the 主動公開資訊 area (disclosure_keywords.yaml `section`: contains and exact)."""
    section = load_yaml("disclosure_keywords.yaml")["section"]
    return tuple(dict.fromkeys(_terms(section.get("contains")) + _terms(section.get("exact"))))
