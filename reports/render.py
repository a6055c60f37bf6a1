"""Render the human reports and exports from results.json only (ARCHITECTURE.md: reports/ reads the
contract, so an old run can be re-rendered).

Why so careful with text: every title, link text and URL comes from crawled sites and is untrusted.
Jinja2 autoescape is on for every template; a URL becomes a link only when it is http(s) (a
`javascript:` URL is shown as text); long strings are clipped; the page carries a Content-Security-
Policy that allows only our own inline script (by hash), so even a missed escape could not run code.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from markupsafe import Markup

from checks.identity import fingerprint_of
from reports import exports
from reports.i18n import LANGS, entry_status, feature_title, rule_title, status_text, strings
from reports.streaming import atomic_text, items_of, write_chunks, write_json

TEMPLATES = Path(__file__).parent / "templates"
MAX_TEXT = 400
# rows per rule in each table of report.html (docs/reports.md "Large sites"); the exports keep all
MAX_ROWS_PER_RULE = 200
MAX_URL = 2048
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ReportError(ValueError):
    """results.json that cannot be rendered (not the contract's shape); the message says why."""


# --------------------------------------------------------------------------------------------------
# filters


def is_http(url: Any) -> bool:
    """True only for an absolute http(s) URL without whitespace or control characters."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        return False
    if any(ch <= " " or ch == "\x7f" for ch in url):
        return False
    low = url.lower()
    return (low.startswith("http://") or low.startswith("https://")) and len(url) > 8


def clip(value: Any, limit: int = MAX_TEXT) -> str:
    """Bounded, control-character-free text (escaping is Jinja's job)."""
    if value is None:
        return ""
    text = str(value)
    if not text.isprintable():  # every control character is non-printable: skip the regex for the rest
        text = _CONTROL.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt_score(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def evidence_text(evidence: Any, limit: int = 300) -> str:
    """Compact `key: value` rendering of a finding's evidence."""
    if not isinstance(evidence, dict) or not evidence:
        return ""
    parts = []
    for key, value in evidence.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {value}")
    return clip("; ".join(parts), limit)


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    """One environment per process: compiling the templates is the slow part of rendering."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=ChainableUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clip=clip, score=fmt_score, evidence=evidence_text)
    env.tests["http"] = is_http
    return env


def warm_templates() -> None:
    """Compile the templates into the process's environment ahead of rendering (the crawl's parent
    calls it while it waits: compiling report.html.j2 is ~0.5 s of a recrawl's audit step)."""
    env = _env()
    for name in ("report.html.j2", "overview.html.j2"):
        env.get_template(name)
    _static()


@functools.lru_cache(maxsize=1)
def _static() -> tuple[Markup, Markup, str]:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
           f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")
    # constant files shipped with the package, not site content: safe to emit as they are
    return Markup(css), Markup(js), csp


# --------------------------------------------------------------------------------------------------
# view model: everything the template shows, computed here so the template stays simple


def _validate(results: Any) -> list[dict[str, Any]]:
    if not isinstance(results, dict):
        raise ReportError("results.json: expected a JSON object with \"sites\"")
    sites = results.get("sites")
    if not isinstance(sites, list):
        raise ReportError("results.json: key \"sites\" must be a list")
    out = []
    for i, site in enumerate(sites):
        if not isinstance(site, dict) or not isinstance(site.get("agency"), dict):
            raise ReportError(f"results.json: sites[{i}] has no \"agency\" object")
        out.append(site)
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _detail(f: dict[str, Any], lang: str) -> str:
    if lang == "en" and f.get("detail_en"):
        return str(f["detail_en"])
    return str(f.get("detail") or "")


def _wcag(values: Any) -> list[str]:
    out = []
    for v in _list(values):
        s = str(v)
        m = re.fullmatch(r"wcag(\d)(\d)(\d+)", s)
        out.append(f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else s)
    return out


class Table:
    """The rows of one findings table, at most `cap` per rule (None: all of them).

    Why a cap: a 10,000-page site has ~40,000 findings; a report that lists each of them twice is a
    50 MB page no evaluator reads and that takes seconds to render. The first `cap` rows of each rule
    (in results.json order) show the pattern; the rows left out are counted, and the page says how
    many and where the full list is (findings.csv / results.json keep every finding)."""

    __slots__ = ("rows", "cap", "_shown", "_hidden", "_titles")

    def __init__(self, cap: int | None) -> None:
        self.rows: list[Any] = []
        self.cap = cap
        self._shown: dict[str, int] = {}
        self._hidden: dict[str, int] = {}
        self._titles: dict[str, str] = {}

    def admit(self, rule: str, title: str) -> bool:
        """True when the next row of `rule` is shown; otherwise it is only counted."""
        shown = self._shown.get(rule, 0)
        if self.cap is None or shown < self.cap:
            self._shown[rule] = shown + 1
            return True
        self._hidden[rule] = self._hidden.get(rule, 0) + 1
        self._titles.setdefault(rule, title)
        return False

    def extend(self, other: Table) -> None:
        """Append `other`'s rows and counts (two check families shown in one table)."""
        self.rows.extend(other.rows)
        for rule, n in other._shown.items():
            self._shown[rule] = self._shown.get(rule, 0) + n
        for rule, n in other._hidden.items():
            self._hidden[rule] = self._hidden.get(rule, 0) + n
            self._titles.setdefault(rule, other._titles[rule])

    @property
    def hidden(self) -> int:
        return sum(self._hidden.values())

    @property
    def more(self) -> list[dict[str, Any]]:
        """One entry per rule with rows left out: its id, title, rows shown and rows left out."""
        return [{"rule": rule, "title": self._titles[rule], "shown": self._shown.get(rule, 0), "hidden": n}
                for rule, n in self._hidden.items()]

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Any:
        return iter(self.rows)


class _Distinct:
    """Distinct values in first-seen order, in O(1) per value for hashable ones (a broken link in
    the site's menu has 10,000 source pages; `value not in list` made that quadratic)."""

    __slots__ = ("items", "_seen")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._seen: set[Any] = set()

    def add(self, value: Any) -> None:
        try:
            if value in self._seen:
                return
            self._seen.add(value)
        except TypeError:  # a list or object where a URL should be: compare the slow way
            if value in self.items:
                return
        self.items.append(value)


def check_max_rows(max_rows: Any) -> int | None:
    """`max_rows` as the cap of rows per rule in each HTML table (None: no cap), or a clear error."""
    if max_rows is None:
        return None
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ReportError(f"max rows per rule: expected a whole number of at least 1, got {max_rows!r}")
    return max_rows


def site_view(site: dict[str, Any], lang: str, max_rows: int | None = None) -> dict[str, Any]:
    """Everything one agency's report section needs, in the order the report shows it.

    One pass over the findings (a list, or a StreamedList read once from the run store): a row (the
    dict a table shows) is built only for findings some table shows, so a 40,000-finding site costs
    the few thousand rows the capped tables hold. Besides those rows it keeps one group per broken
    link target (its distinct source pages, which the table counts) and one per accessibility rule;
    never the findings themselves."""
    max_rows = check_max_rows(max_rows)
    t = strings(lang)
    scores = _dict(site.get("scores"))  # never changed: labelled copies are made below
    ind_block = _dict(scores.get("indeterminate"))
    indeterminate_fps = {str(x.get("fingerprint")) for x in _list(ind_block.get("findings")) if isinstance(x, dict)}

    # per-rule and per-severity values repeat across thousands of findings: compute each once
    checks: dict[Any, str] = {}
    rules: dict[Any, tuple[str, str]] = {}
    sev_labels: dict[str, str] = {}

    def rule_of(raw: Any) -> tuple[str, str]:
        hit = rules.get(raw) if isinstance(raw, str | None) else None
        if hit is None:
            hit = (clip(raw, 120), clip(rule_title(str(raw or ""), lang), 160))
            if isinstance(raw, str | None):
                rules[raw] = hit
        return hit

    all_rows, titles, stale, metadata = Table(max_rows), Table(max_rows), Table(max_rows), Table(max_rows)
    disclosure_rows, indeterminate_rows = Table(max_rows), Table(max_rows)
    services, retrieval = Table(max_rows), Table(max_rows)
    other: dict[str, Table] = {}
    by_family = {"staleness": stale, "classification": metadata, "disclosure": disclosure_rows,
                 "services": services, "retrieval": retrieval}
    link_groups: dict[tuple[str, str], dict[str, Any]] = {}
    a11y_rules: dict[str, dict[str, Any]] = {}
    a11y_templates: dict[str, dict[str, Any]] = {}

    for f in items_of(site.get("findings")):
        if not isinstance(f, dict):
            continue
        raw_check = f.get("check")
        check = checks.get(raw_check) if isinstance(raw_check, str | None) else None
        if check is None:
            check = clip(raw_check, 60)
            if isinstance(raw_check, str | None):
                checks[raw_check] = check
        rule, title = rule_of(f.get("rule"))
        fp = fingerprint_of(f)
        indeterminate = fp in indeterminate_fps
        sev = str(f.get("severity") or "")
        label = sev_labels.get(sev)
        if label is None:
            label = sev_labels[sev] = t.get(f"sev_{sev}", sev)
        row: dict[str, Any] | None = None

        if check == "links" and rule != "title-mismatch":
            # broken links: group by (rule, target), list every source page
            key = (rule, str(f.get("target")))
            g = link_groups.get(key)
            if g is None:
                g = link_groups[key] = {"rule": rule, "rule_title": title, "target": f.get("target"),
                                        "severity": sev, "severity_label": label,
                                        "evidence": _dict(f.get("evidence")), "sources": _Distinct(),
                                        "indeterminate": indeterminate}
            g["sources"].add(f.get("page"))
            targets: tuple[Table, ...] = ()
        elif check == "links":
            targets = (titles,)
        elif check == "accessibility":
            _add_a11y(a11y_rules, a11y_templates, rule, title, sev, label, f)
            targets = ()
        elif check in by_family:
            targets = (by_family[check],)
        else:
            targets = (other.setdefault(check, Table(max_rows)),)
        if indeterminate:
            targets += (indeterminate_rows,)
        for table in (*targets, all_rows):
            if table.admit(rule, title):
                if row is None:
                    row = {"check": check, "rule": rule, "rule_title": title, "severity": sev,
                           "severity_label": label, "page": f.get("page"), "target": f.get("target"),
                           "detail": _detail(f, lang), "evidence": _dict(f.get("evidence")),
                           "fingerprint": fp, "indeterminate": indeterminate}
                table.rows.append(row)

    for g in link_groups.values():
        g["sources"] = g["sources"].items
    broken = Table(max_rows)
    for g in sorted(link_groups.values(), key=lambda g: (g["indeterminate"], -len(g["sources"]), str(g["target"]))):
        if broken.admit(g["rule"], g["rule_title"]):
            broken.rows.append(g)
    for g in a11y_rules.values():
        g["pages"] = g["pages"].items

    a11y = _dict(site.get("accessibility"))
    # the accessibility check writes {template: {pages_tested, violations_by_rule}}; a list of
    # {template, pages_tested, violations} is accepted too
    templates = a11y.get("templates")
    if isinstance(templates, dict):
        templates = [{"template": k, **v} for k, v in templates.items() if isinstance(v, dict)]
    for entry in _list(templates):
        if isinstance(entry, dict) and entry.get("template") is not None:
            tpl = str(entry["template"])
            tg = a11y_templates.setdefault(tpl, {"template": tpl, "pages_tested": None, "rules": []})
            tg["pages_tested"] = entry.get("pages_tested")
            for rule in (*_dict(entry.get("violations")), *_dict(entry.get("violations_by_rule"))):
                if rule not in tg["rules"]:
                    tg["rules"].append(str(rule))
    incomplete = []  # items axe could not decide: for manual review, never scored
    for item in _list(a11y.get("incomplete")):
        if isinstance(item, dict):
            incomplete.append({**item, "wcag": _wcag(item.get("wcag"))})

    # services and e-participation summaries
    features = []
    for block in ("services", "service_info"):
        for name, value in _dict(site.get(block)).items():
            if isinstance(value, dict) and "found" not in value:
                continue  # not a feature (e.g. a block of figures)
            found = value.get("found") if isinstance(value, dict) else bool(value)
            evidence = value.get("evidence") if isinstance(value, dict) else value if isinstance(value, list) else []
            ftitle = feature_title(str(name), lang)
            if ftitle == name and lang != "en" and isinstance(value, dict) and value.get("name"):
                ftitle = str(value["name"])
            status = entry_status(value) if isinstance(value, dict) else ("found" if found else "missing")
            features.append({"id": clip(name, 80), "title": clip(ftitle, 120), "found": bool(found),
                             "status": status, "status_text": status_text(status, lang, found_word="yes"),
                             "evidence": [u for u in _list(evidence)][:10]})

    def labelled(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        return {**item, "label": item.get("name_en") if lang == "en" and item.get("name_en") else item.get("name")}

    disclosure = _dict(site.get("disclosure"))
    categories = [{**c, "status": entry_status(c), "status_text": status_text(entry_status(c), lang)}
                  for c in _list(disclosure.get("categories")) if isinstance(c, dict)]
    indicators = [labelled(i) for i in _list(scores.get("indicators")) if isinstance(i, dict)]
    deductions = [labelled(d) for d in _list(scores.get("deductions")) if isinstance(d, dict)]
    for d in deductions:
        d["rule_titles"] = [f"{rule_title(str(k), lang)} × {v}" for k, v in _dict(d.get("rules")).items()]
    manual = _dict(scores.get("manual"))
    if isinstance(manual.get("criteria"), list):
        manual = {**manual, "criteria": [labelled(m) for m in manual["criteria"]]}
    excluded = [labelled(c) for c in _list(ind_block.get("criteria")) if isinstance(c, dict)]
    unscored = Table(max_rows)
    for x in _list(scores.get("unscored")):
        if isinstance(x, dict) and unscored.admit(*rule_of(x.get("rule"))):
            unscored.rows.append(x)
    history = [h for h in _list(site.get("history")) if isinstance(h, dict)]
    changes = site.get("changes") if isinstance(site.get("changes"), dict) else None
    change_tables = {}
    for key in ("new", "fixed"):
        items = [c for c in _list(changes.get(key)) if isinstance(c, dict)] if changes else []
        shown = items if max_rows is None else items[:max_rows]
        change_tables[key] = {"rows": shown, "shown": len(shown), "hidden": len(items) - len(shown)}
    note = scores.get("weights_note_en") if lang == "en" else scores.get("weights_note")
    agency = _dict(site.get("agency"))
    services.extend(retrieval)
    tables = [all_rows, titles, stale, metadata, disclosure_rows, indeterminate_rows, services, broken,
              unscored, *other.values()]
    capped = any(table.hidden for table in tables) or any(c["hidden"] for c in change_tables.values())
    return {
        "agency": agency, "status": str(site.get("status") or ""), "detail": site.get("detail"),
        "stats": _dict(site.get("stats")), "scores": scores, "dimension": scores.get("dimension"),
        "indicators": indicators, "rubric_version": scores.get("rubric_version"),
        "weights_note": note or t["weights_note_default"],
        "deductions": deductions, "fix_first": deductions[:10],
        "rows": all_rows, "titles": titles, "broken": broken,
        "stale": stale, "staleness": _dict(site.get("staleness")),
        "metadata": metadata,
        "a11y": a11y, "a11y_rules": list(a11y_rules.values()), "a11y_templates": list(a11y_templates.values()),
        "a11y_incomplete": incomplete,
        "features": features,
        "service_rows": services,
        "disclosure": disclosure, "categories": categories,
        "disclosure_rows": disclosure_rows,
        "other_checks": other,
        "indeterminate_rows": indeterminate_rows,
        "indeterminate_criteria": excluded, "indeterminate_share": ind_block.get("share"),
        "unscored": unscored,
        "manual": manual, "history": history, "trend": trend_points(history), "changes": changes,
        "change_tables": change_tables, "max_rows": max_rows, "capped": capped,
    }


def _add_a11y(groups: dict[str, dict[str, Any]], templates: dict[str, dict[str, Any]], rule: str, title: str,
              sev: str, label: str, f: dict[str, Any]) -> None:
    """Accessibility findings by rule (WCAG SC, Freego code, nodes, pages) and by template."""
    ev = _dict(f.get("evidence"))
    g = groups.get(rule)
    if g is None:
        g = groups[rule] = {"rule": rule, "title": title, "impact": ev.get("impact"), "level": ev.get("level"),
                            "wcag": [], "freego": [], "nodes": 0, "pages": _Distinct(), "templates": [],
                            "help": ev.get("helpUrl"), "severity": sev, "severity_label": label}
    for sc in _wcag(ev.get("wcag")):
        if sc not in g["wcag"]:
            g["wcag"].append(sc)
    for code in (ev.get("freego") if isinstance(ev.get("freego"), list) else [ev.get("freego")]):
        if code and code not in g["freego"]:
            g["freego"].append(str(code))
    if isinstance(ev.get("nodes"), int):
        g["nodes"] += ev["nodes"]
    g["pages"].add(f.get("page"))
    if not ev.get("template"):
        return  # page-level conventions (tw-…) belong to no template
    tpl = str(ev["template"])
    if tpl not in g["templates"]:
        g["templates"].append(tpl)
    tg = templates.setdefault(tpl, {"template": tpl, "pages_tested": None, "rules": []})
    if rule not in tg["rules"]:
        tg["rules"].append(rule)


def trend_points(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SVG coordinates of the score line (viewBox 600 x 220; y = 0..100 mapped to 190..20)."""
    pts = [h for h in history if isinstance(h.get("dimension"), int | float)]
    if len(pts) < 2:
        return []
    step = 520 / (len(pts) - 1)
    return [{"x": round(50 + i * step, 1), "y": round(190 - 1.7 * float(h["dimension"]), 1),
             "score": h["dimension"], "label": clip(h.get("today") or str(h.get("finished_at") or "")[:10], 20)}
            for i, h in enumerate(pts)]


def site_slug(index: int, site: dict[str, Any]) -> str:
    """A filesystem-safe folder name for one agency (never derived from raw untrusted text alone)."""
    agency = _dict(site.get("agency"))
    base = str(agency.get("code") or "")
    if not base:
        m = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)", str(agency.get("url") or ""))
        base = m.group(1) if m else "site"
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-")[:60] or "site"
    return f"{index + 1:03d}-{base}"


# --------------------------------------------------------------------------------------------------
# entry points


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results.json for `report` / `--baseline`, with one clear message when it is unusable."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"results file {file}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"results file {file}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"results file {file}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    try:
        _validate(data)
    except ReportError as exc:
        raise ReportError(f"results file {file}: {str(exc).removeprefix('results.json: ')}") from None
    return data


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ReportError(f"--lang: expected one of {', '.join(LANGS)}, got {lang!r}")


def _report_stream(results: dict[str, Any], lang: str, report_links: list[str] | None,
                   max_rows: int | None) -> Any:
    _check_lang(lang)
    max_rows = check_max_rows(max_rows)
    sites = _validate(results)
    css, js, csp = _static()
    # a generator: each site's view (the capped rows of its tables) is built when the template
    # reaches that site, so only one site's view is alive at a time
    views = (site_view(s, lang, max_rows) for s in sites)
    return _env().get_template("report.html.j2").generate(
        t=strings(lang), lang=lang, results=results, run=_dict(results.get("run")),
        tool=_dict(results.get("tool")), sites=views, site_count=len(sites),
        site_names=[_dict(s.get("agency")).get("name") for s in sites], css=css, js=js, csp=csp,
        report_links=report_links or [])


def render_html(results: dict[str, Any], lang: str = "zh-TW", report_links: list[str] | None = None,
                max_rows: int | None = MAX_ROWS_PER_RULE) -> str:
    """The self-contained report.html text for every site of `results` (for tests and small runs;
    `write_html` streams the same text into a file)."""
    return "".join(_report_stream(results, lang, report_links, max_rows))


def write_html(results: dict[str, Any], path: str | Path, lang: str = "zh-TW",
               report_links: list[str] | None = None, max_rows: int | None = MAX_ROWS_PER_RULE) -> Path:
    """Write report.html chunk by chunk as the template produces it: the page is never one string."""
    path = Path(path)
    chunks = _report_stream(results, lang, report_links, max_rows)
    with atomic_text(path) as fh:
        write_chunks(fh, chunks)
    return path


def render_all(results: dict[str, Any], out_dir: Path, lang: str = "zh-TW",
               max_rows: int | None = MAX_ROWS_PER_RULE) -> list[Path]:
    """Write report.html and every export into `out_dir`; multi-agency runs also get index.html and
    one folder per agency (agencies/<nnn>-<code>/report.html ...). Returns the files written.

    `max_rows` caps the rows per rule in each table of report.html (None: every finding); the
    exports always hold every finding. Passes over each site's findings: 7 (report.html, CSV, XLSX,
    ODS, JUnit one each, SARIF two); a multi-agency run makes them again for each agency's folder,
    plus one for its results.json."""
    _check_lang(lang)
    max_rows = check_max_rows(max_rows)
    sites = _validate(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = [write_html(results, out / "report.html", lang, max_rows=max_rows)]
    written += exports.write_all(results, out, lang)
    if len(sites) > 1:
        written += render_overview(results, out, lang, max_rows=max_rows)
    return written


def render_overview(results_list: list[dict[str, Any]] | dict[str, Any], out_dir: Path,
                    lang: str = "zh-TW", max_rows: int | None = MAX_ROWS_PER_RULE) -> list[Path]:
    """index.html ranking agencies within their group, linking to each agency's own report, which is
    written beside it as agencies/<slug>/report.html (with that agency's exports)."""
    _check_lang(lang)
    runs = [results_list] if isinstance(results_list, dict) else list(results_list)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries: list[dict[str, Any]] = []
    index = 0
    for results in runs:
        for site in _validate(results):
            slug = site_slug(index, site)
            index += 1
            folder = out / "agencies" / slug
            if folder.exists():
                shutil.rmtree(folder)
            single = {**results, "sites": [site]}
            written += render_all(single, folder, lang, max_rows=max_rows)
            # so each agency's report can be re-rendered on its own
            written.append(write_json(single, folder / "results.json", indent=1))
            scores = _dict(site.get("scores"))
            agency = _dict(site.get("agency"))
            entries.append({
                "agency": agency, "group": agency.get("group"), "status": site.get("status"),
                "dimension": scores.get("dimension"),
                "indicators": {i.get("id"): i.get("score") for i in _list(scores.get("indicators")) if isinstance(i, dict)},
                "findings": len(items_of(site.get("findings"))), "href": f"agencies/{slug}/report.html",
                "run": _dict(results.get("run")),
            })
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    t = strings(lang)
    for e in sorted(entries, key=lambda e: (e["group"] is None, str(e["group"] or ""))):
        groups.setdefault(str(e["group"]) if e["group"] else t["no_group"], []).append(e)
    for members in groups.values():
        members.sort(key=lambda e: (not isinstance(e["dimension"], int | float), -(e["dimension"] or 0)))
        rank = 0
        for e in members:
            if isinstance(e["dimension"], int | float):
                rank += 1
                e["rank"] = rank
            else:
                e["rank"] = None
    css, js, csp = _static()
    ids = ("disclosure", "retrieval", "online_services", "e_participation")
    chunks = _env().get_template("overview.html.j2").generate(
        t=t, lang=lang, groups=groups, indicator_ids=ids, css=css, js=js, csp=csp,
        runs=[_dict(r.get("run")) for r in runs])
    path = out / "index.html"
    with atomic_text(path) as fh:
        write_chunks(fh, chunks)
    written.append(path)
    return written
