"""The audit step after a recrawl's crawl made cheaper (issue 6): the same bytes, less time.

- `reports.streaming.encode_indented` (what results.json and results.sarif write per finding) gives
  exactly `json.dumps(..., ensure_ascii=False, indent=N)` shifted to its depth, for any JSON value,
  and the json module's own error for anything else;
- `disclosure_audit.warmup.WarmUp` (run by the crawl's parent while the child crawls) imports the
  audit step's modules (read from its stages) and compiles the report templates, never fails, and changes no output.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from paths import ROOT

from reports.streaming import StreamedList, encode_indented, write_json


class _Int(int):
    pass


class _Float(float):
    pass


class _Str(str):
    pass


def _expected(value: Any, indent: int, level: int) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent).replace("\n", "\n" + " " * (indent * level))


ODD_VALUES: list[Any] = [
    {"check": "links", "rule": "broken-link", "page": "http://例.tw/a?b=1&c=<2>", "target": None,
     "detail": 'quote " backslash \\ newline \n tab \t nul \x00 line-sep \u2028 lone \ud800 emoji 🎉',
     "evidence": {"status": 404, "chain": [], "headers": {}, "ratio": 0.1, "ok": False, "on": True,
                  "nested": {"list": [1, [2, [3, {}]], ()], "none": None}}, "fingerprint": "ab" * 16},
    [float("nan"), float("inf"), -float("inf"), 1e300, -0.0, 5e-324, 10 ** 40, -7],
    [_Int(3), _Float(2.5), _Str("sub"), (1, (2,)), True, False, None],
    {3: "int key", 2.5: "float key", True: "bool key", None: "none key", "s": "str key"},
    {_Str("k"): [_Int(1)]},
    "a plain string", 12, 1.5, None, True, [], {}, [[]], [{}], {"": ""},
]


@pytest.mark.parametrize("indent", [1, 2, 4])
@pytest.mark.parametrize("level", [0, 1, 3])
def test_encode_indented_equals_json_dumps_shifted(indent: int, level: int) -> None:
    for value in ODD_VALUES:
        assert encode_indented(value, indent, level) == _expected(value, indent, level), value


def test_encode_indented_on_random_documents() -> None:
    rng = random.Random(6)
    scalars = [None, True, False, 0, -1, 2 ** 70, 0.5, -1e-9, float("inf"), "", "x", "中文", "\x1f\"\\", "\udfff"]

    def make(depth: int) -> Any:
        roll = rng.random()
        if depth > 5 or roll < 0.4:
            return rng.choice(scalars)
        if roll < 0.7:
            return [make(depth + 1) for _ in range(rng.randrange(4))]
        return {rng.choice(["a", "b", "鍵", "", "\n"]) + str(i): make(depth + 1) for i in range(rng.randrange(4))}

    for _ in range(500):
        value = make(0)
        for indent in (1, 2):
            assert encode_indented(value, indent, 2) == _expected(value, indent, 2)


def test_encode_indented_deep_nesting_and_errors_are_the_json_modules() -> None:
    deep: Any = "leaf"
    for _ in range(200):
        deep = [deep, {"k": deep if isinstance(deep, str) else 1}]
    assert encode_indented(deep, 2, 1) == _expected(deep, 2, 1)
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_indented({"a": object()}, 2)
    with pytest.raises(TypeError, match="keys must be"):
        encode_indented({(1, 2): "tuple key"}, 2)
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        encode_indented(cycle, 2)


def test_results_json_with_odd_findings_is_byte_identical(tmp_path: Path) -> None:
    # (a lone surrogate cannot be written as UTF-8 at all, before and after: left out of the file)
    findings = [json.loads(json.dumps(v).replace("\\ud800", "?")) if v is ODD_VALUES[0] else v
                for v in ODD_VALUES if not isinstance(v, dict) or all(isinstance(k, str) for k in v)] * 3
    findings.append({1: "an int key inside a finding"})
    doc = {"run": {"id": "r"}, "sites": [{"agency": {"name": "機關"}, "findings": findings, "n": 1.0}]}
    streamed = {"run": {"id": "r"}, "sites": [{"agency": {"name": "機關"},
                                               "findings": StreamedList(lambda: iter(findings), len(findings)),
                                               "n": 1.0}]}
    for indent in (1, 2):
        path = write_json(streamed, tmp_path / f"results-{indent}.json", indent=indent)
        assert path.read_text(encoding="utf-8") == json.dumps(doc, ensure_ascii=False, indent=indent)


def test_warm_up_imports_and_compiles_and_never_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from disclosure_audit import warmup
    from reports import render

    monkeypatch.setattr(warmup, "STAGES", (*warmup.STAGES, "no_such_module_da"))
    render._env.cache_clear()
    warmup.WarmUp().run()
    for name in ("reports.render", "reports.exports", "checks.trend", "disclosure_audit.reuse", "openpyxl",
                 "crawler.soft404", "checks.freego", "checks.staleness"):
        assert name in sys.modules
    assert "no_such_module_da" not in sys.modules
    loaded = render._env().cache
    assert loaded is not None and any("report.html.j2" in str(key) for key in loaded.keys())  # noqa: SIM118

    def broken() -> None:
        raise RuntimeError("templates unavailable")

    monkeypatch.setattr(render, "warm_templates", broken)
    warmup.WarmUp().run()  # only a head start: a failure here is not the audit's


def test_reports_are_the_same_with_and_without_warm_templates(tmp_path: Path) -> None:
    from reports import render

    results = {"run": {"id": "r1", "today": "2025-06-30"}, "tool": {"name": "disclosure-audit", "version": "0"},
               "sites": [{"agency": {"name": "測試機關", "url": "http://127.0.0.1/"}, "status": "ok",
                          "findings": [{"check": "links", "rule": "broken-link", "severity": "error",
                                        "page": "http://127.0.0.1/a", "target": "http://127.0.0.1/b",
                                        "detail": "404", "evidence": {"status": 404}, "fingerprint": "f" * 32}],
                          "scores": {"dimension": 80}}]}
    render._env.cache_clear()
    cold = render.render_html(results)
    render._env.cache_clear()
    render.warm_templates()
    assert render.render_html(results) == cold


def test_crawl_site_prepares_the_audit_step_while_the_child_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from disclosure_audit import crawl
    from disclosure_audit.options import AuditOptions

    calls: list[str] = []

    class Child:
        exitcode = 0

        def __init__(self, **kwargs: Any) -> None:
            pass

        def start(self) -> None:
            calls.append("start")

        def join(self, timeout: float | None = None) -> None:
            calls.append("join")

        def is_alive(self) -> bool:
            return False

    class Context:
        Process = Child

    monkeypatch.setattr(crawl.multiprocessing, "get_context", lambda method: Context())
    monkeypatch.setattr(crawl.WarmUp, "run", lambda self: calls.append("prepare"))
    crawl.crawl_site(AuditOptions(url="http://127.0.0.1/", out_dir=Path(".")), "sqlite://", 1)
    assert calls == ["start", "prepare", "join"]


def _trend_case(findings: list[dict[str, Any]], base_findings: list[dict[str, Any]]) -> tuple[dict, list[dict]]:
    site = {"run": {"id": "r3", "today": "2025-07-01"}, "status": "ok", "scores": {"dimension": 70},
            "findings": StreamedList(lambda: iter(findings), len(findings))}
    previous = [{"run": {"id": "r1"}, "status": "ok", "scores": {"dimension": 60}, "findings": []},
                {"run": {"id": "r2"}, "status": "ok", "scores": {"dimension": 70},
                 "findings": StreamedList(lambda: ({k: f.get(k) for k in ("fingerprint", "check", "rule", "severity",
                                                                            "page", "target", "detail")}
                                                   for f in base_findings), len(base_findings))},
                {"run": {"id": "r2b"}, "status": "failed", "findings": None}]
    return site, previous


def test_trend_of_copied_findings_is_the_same_in_one_pass() -> None:
    from checks.trend import annotate_trend

    findings = [{"check": "links", "rule": "broken-link", "severity": "error", "page": f"http://x/{i % 7}",
                 "target": None, "detail": "d", "evidence": {"i": i}, "fingerprint": f"{i % 5:032d}"}
                for i in range(40)]  # duplicate fingerprints: distinct ones are counted
    for copied in ("r2", "r1", None):
        full_site, previous = _trend_case(findings, findings)
        annotate_trend(full_site, previous)
        short_site, previous = _trend_case(findings, findings)
        passes = {"n": 0}

        def counted(inner: Any = previous[1]["findings"].produce, passes: dict = passes) -> Any:
            passes["n"] += 1
            return inner()

        previous[1]["findings"].produce = counted
        annotate_trend(short_site, previous, copied_from_run=copied)
        assert short_site["changes"] == full_site["changes"] and short_site["history"] == full_site["history"]
        assert full_site["changes"]["unchanged"] == 5 and full_site["changes"]["since_run"] == "r2"
        assert passes["n"] == (1 if copied == "r2" else 2)


def test_trend_of_copied_findings_without_stored_fingerprints_takes_the_long_way() -> None:
    from checks.trend import annotate_trend

    findings = [{"check": "links", "rule": "broken-link", "severity": "error", "page": "http://x/a",
                 "target": "http://x/b", "detail": "d", "evidence": {"status": 404}, "fingerprint": ""}]
    full_site, previous = _trend_case(findings, findings)
    annotate_trend(full_site, previous)
    short_site, previous = _trend_case(findings, findings)
    annotate_trend(short_site, previous, copied_from_run="r2")
    assert short_site["changes"] == full_site["changes"]


def test_a_real_recrawl_takes_the_trend_shortcut_with_the_full_comparisons_result(
        site: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recrawl that reuses the previous findings takes the shortcut, and what it writes (history,
    changes: all the trend adds to the entry, hence to every output) equals the full comparison."""
    from datetime import date

    from checks import trend
    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site
    from tests.crawler.test_incremental import build

    build(site)
    audit = lambda: audit_site(AuditOptions(  # noqa: E731
        url=site.url + "/", out_dir=tmp_path, today=date(2026, 11, 23), accessibility=False))
    first = audit()
    seen: list[Any] = []
    full = trend.annotate_trend

    def both(entry: Any, previous: Any, copied_from_run: Any = None) -> None:
        long_way = dict(entry)
        full(long_way, previous)
        full(entry, previous, copied_from_run=copied_from_run)
        seen.append((copied_from_run, entry["changes"], long_way["changes"], entry["history"], long_way["history"]))

    monkeypatch.setattr(trend, "annotate_trend", both)
    second = audit()
    assert second["sites"][0]["reused"]["findings_from_run"] == first["run"]["id"]
    (copied, short_changes, long_changes, short_history, long_history), = seen
    assert copied == first["run"]["id"]
    assert short_changes == long_changes and short_history == long_history
    assert short_changes["unchanged"] == len({f["fingerprint"] for f in first["sites"][0]["findings"]}) > 0


def test_spreadsheet_cells_are_the_same_with_and_without_the_cell_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """report.xlsx and report.ods remember the text of repeated cells per column: the members are the
    same bytes as when every cell is made anew (1, 1.0 and True stay different cells)."""
    import zipfile

    from reports import exports

    odd = [1, 1.0, True, "1", None, float("nan"), float("inf"), "=SUM(A1)", " lead", "<&>", "\x01ctl", 2 ** 60, ["x"]]
    findings = [{"check": "links", "rule": "broken-link", "severity": "error", "page": f"http://x/{i}",
                 "target": odd[i % len(odd)], "detail": odd[(i * 7) % len(odd)], "evidence": {"v": i % 3},
                 "fingerprint": f"{i % 9:032d}"} for i in range(600)]
    results = {"run": {"id": "r"}, "tool": {"name": "disclosure-audit", "version": "0"},
               "sites": [{"agency": {"name": "機關", "code": "A1", "url": "http://x/"}, "status": "ok",
                          "findings": StreamedList(lambda: iter(findings), len(findings)),
                          "scores": {"dimension": 1.0}}]}

    def members(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist() if i.filename != "docProps/core.xml"}

    cached = {n: members(w(results, tmp_path / f"c.{n}")) for n, w in (("xlsx", exports.write_xlsx),
                                                                       ("ods", exports.write_ods))}
    monkeypatch.setattr(exports, "_CACHED_PER_COLUMN", 0)
    fresh = {n: members(w(results, tmp_path / f"f.{n}")) for n, w in (("xlsx", exports.write_xlsx),
                                                                      ("ods", exports.write_ods))}
    assert cached == fresh
    sheet = cached["xlsx"]["xl/worksheets/sheet2.xml"]
    assert b'<v>1</v>' in sheet and b"<t>True</t>" in sheet and b"<t>1</t>" in sheet


def test_the_audit_step_finds_the_previous_audit_as_the_crawl_does_without_scrapy(site: Any, tmp_path: Path) -> None:
    """The audit step (disclosure_audit.reuse) finds the previous audit with the run store's query, the one
    the crawl's conditional requests use (crawler.store.previous_site_id); the audit step's modules (what
    the warm-up imports) do not import Scrapy."""
    import subprocess
    from datetime import date

    from crawler.store import Store, previous_site_id
    from disclosure_audit import reuse
    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site
    from tests.crawler.test_incremental import build

    build(site)
    for _ in range(2):
        audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, today=date(2026, 11, 23),
                                accessibility=False))
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        assert reuse.previous_site_id is previous_site_id  # one query, in the store
        assert [previous_site_id(store, site.url + "/", exclude) for exclude in (1, 2, 3)] == [2, 1, 2]
        assert previous_site_id(store, "http://127.0.0.1:9/none", 1) is None
    finally:
        store.close()
    code = ("import sys, disclosure_audit.pipeline, disclosure_audit.warmup as w; w.WarmUp().run(); "
            "import disclosure_audit.reuse; sys.exit(1 if 'scrapy' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
