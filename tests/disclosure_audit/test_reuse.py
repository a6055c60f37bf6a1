"""disclosure_audit.reuse reads stored JSON as data, not with patterns: a page's facts lose only the
request time (`elapsed_s`), the gatherers' results only the not-found probe's random token. The texts
fed to the digest are the ones the earlier regular expressions gave (`"elapsed_s": ?<number>, ?` cut,
`da-<16 hex>` read as `da-PROBE`), so an audit digest recorded before still matches."""

from __future__ import annotations

import json
import re

from crawler.store.store import _dumps
from disclosure_audit.reuse import _judged_extra, _judged_page_facts

EARLIER_ELAPSED = re.compile(r'"elapsed_s": ?[-0-9.eE+]+, ?')
EARLIER_TOKEN = re.compile(r"da-[0-9a-f]{16}")


def test_page_facts_lose_only_the_request_time_as_the_earlier_pattern_did() -> None:
    for elapsed in (0.0123, 1e-05, 12, -0.5):
        facts = {"url": "http://127.0.0.1/a", "status": 200, "size": 10, "elapsed_s": elapsed, "depth": 1,
                 "title": '標題 "elapsed_s": 9, 不是欄位'}
        stored = _dumps(facts)
        assert _judged_page_facts(stored) == EARLIER_ELAPSED.sub("", stored)
        assert "elapsed_s" not in _judged_page_facts(stored).replace('\\"elapsed_s\\"', "")
        decoded = json.loads(stored)  # a driver that returns the JSON decoded: sorted, as before
        assert _judged_page_facts(decoded) == EARLIER_ELAPSED.sub("", json.dumps(
            decoded, ensure_ascii=False, sort_keys=True, default=str))
    assert _judged_page_facts(None) == ""
    assert _judged_page_facts(_dumps({"url": "u"})) == _dumps({"url": "u"})


def test_gatherer_results_read_each_probe_token_as_the_placeholder() -> None:
    token_a, token_b = "da-0123456789abcdef", "da-fedcba9876543210"
    extra = {"not_found": {
        "http://127.0.0.1:1": {"probes": [{"url": f"http://127.0.0.1:1/{token_a}", "status": 404,
                                           "final_url": f"http://127.0.0.1:1/{token_a}", "title": "找不到"},
                                          {"url": f"http://127.0.0.1:1/{token_a}-x.html", "status": 404}],
                               "home_lines": ["首頁"]},
        "http://127.0.0.1:2": {"probes": [{"url": f"http://127.0.0.1:2/{token_b}-x", "status": 200,
                                           "final_url": f"http://127.0.0.1:2/?q={token_b}"}]}},
        "search": {"status": "ok"}, "footprint": {"requests": 3}}
    text = _judged_extra(extra)
    judged = {k: v for k, v in extra.items() if k != "footprint"}
    earlier = EARLIER_TOKEN.sub("da-PROBE", json.dumps(judged, ensure_ascii=False, sort_keys=True, default=str))
    assert text == earlier and token_a not in text and token_b not in text and "footprint" not in text
    assert _judged_extra({"not_found": {"error": "timeout"}}) == '{"not_found": {"error": "timeout"}}'
