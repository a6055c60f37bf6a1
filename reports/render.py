"""Render the human reports and exports from results.json only (ARCHITECTURE.md: reports/ reads the
contract, so an old run can be re-rendered).

Why so careful with text: every title, link text and URL comes from crawled sites and is untrusted.
Jinja2 autoescape is on for every template; a URL becomes a link only when it is http(s) (a
`javascript:` URL is shown as text); long strings are clipped; the page carries a Content-Security-
Policy that allows only our own inline script (by hash), so even a missed escape could not run code.
"""

from __future__ import annotations

import base64
import copy
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

from reports import exports
from reports.i18n import LANGS, feature_title, rule_title, strings

TEMPLATES = Path(__file__).parent / "templates"
MAX_TEXT = 400
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
    text = _CONTROL.sub("", str(value))
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


def site_view(site: dict[str, Any], lang: str) -> dict[str, Any]:
    """Everything one agency's report section needs, in the order the report shows it."""
    from checks.scoring import fingerprint_of  # the one shared definition of a fingerprint

    t = strings(lang)
    scores = copy.deepcopy(_dict(site.get("scores")))  # labels are added below: never touch the input
    findings = [f for f in _list(site.get("findings")) if isinstance(f, dict)]
    ind_block = _dict(scores.get("indeterminate"))
    indeterminate_fps = {str(x.get("fingerprint")) for x in _list(ind_block.get("findings")) if isinstance(x, dict)}
    rows = []
    for f in findings:
        fp = fingerprint_of(f)
        sev = str(f.get("severity") or "")
        rows.append({
            "check": clip(f.get("check"), 60), "rule": clip(f.get("rule"), 120),
            "rule_title": clip(rule_title(str(f.get("rule") or ""), lang), 160),
            "severity": sev, "severity_label": t.get(f"sev_{sev}", sev),
            "page": f.get("page"), "target": f.get("target"), "detail": _detail(f, lang),
            "evidence": _dict(f.get("evidence")), "fingerprint": fp,
            "indeterminate": fp in indeterminate_fps,
        })

    # broken links: group by (rule, target), list every source page
    link_groups: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
    for r in rows:
        if r["check"] != "links" or r["rule"] == "title-mismatch":
            continue
        key = (r["rule"], str(r["target"]))
        g = link_groups.setdefault(key, {"rule": r["rule"], "rule_title": r["rule_title"], "target": r["target"],
                                         "severity": r["severity"], "severity_label": r["severity_label"],
                                         "evidence": r["evidence"], "sources": [],
                                         "indeterminate": r["indeterminate"]})
        if r["page"] not in g["sources"]:
            g["sources"].append(r["page"])
    broken = sorted(link_groups.values(), key=lambda g: (g["indeterminate"], -len(g["sources"]), str(g["target"])))

    by_check: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_check.setdefault(r["check"], []).append(r)

    # accessibility by rule and by template
    a11y_rules: OrderedDict[str, dict[str, Any]] = OrderedDict()
    a11y_templates: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for r in by_check.get("accessibility", []):
        ev = r["evidence"]
        g = a11y_rules.setdefault(r["rule"], {"rule": r["rule"], "title": r["rule_title"], "impact": ev.get("impact"),
                                              "level": ev.get("level"), "wcag": [], "freego": [], "nodes": 0,
                                              "pages": [], "templates": [], "help": ev.get("helpUrl"),
                                              "severity": r["severity"], "severity_label": r["severity_label"]})
        for sc in _wcag(ev.get("wcag")):
            if sc not in g["wcag"]:
                g["wcag"].append(sc)
        for code in (ev.get("freego") if isinstance(ev.get("freego"), list) else [ev.get("freego")]):
            if code and code not in g["freego"]:
                g["freego"].append(str(code))
        if isinstance(ev.get("nodes"), int):
            g["nodes"] += ev["nodes"]
        if r["page"] not in g["pages"]:
            g["pages"].append(r["page"])
        if not ev.get("template"):
            continue  # page-level conventions (tw-…) belong to no template
        tpl = str(ev["template"])
        if tpl not in g["templates"]:
            g["templates"].append(tpl)
        tg = a11y_templates.setdefault(tpl, {"template": tpl, "pages_tested": None, "rules": []})
        if r["rule"] not in tg["rules"]:
            tg["rules"].append(r["rule"])
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
            title = feature_title(str(name), lang)
            if title == name and lang != "en" and isinstance(value, dict) and value.get("name"):
                title = str(value["name"])
            features.append({"id": clip(name, 80), "title": clip(title, 120),
                             "found": bool(found), "evidence": [u for u in _list(evidence)][:10]})

    disclosure = _dict(site.get("disclosure"))
    categories = [c for c in _list(disclosure.get("categories")) if isinstance(c, dict)]
    indicators = [i for i in _list(scores.get("indicators")) if isinstance(i, dict)]
    for ind in indicators:
        ind["label"] = ind.get("name_en") if lang == "en" and ind.get("name_en") else ind.get("name")
    deductions = [d for d in _list(scores.get("deductions")) if isinstance(d, dict)]
    for d in deductions:
        d["label"] = d.get("name_en") if lang == "en" and d.get("name_en") else d.get("name")
        d["rule_titles"] = [f"{rule_title(str(k), lang)} × {v}" for k, v in _dict(d.get("rules")).items()]
    manual = _dict(scores.get("manual"))
    for m in _list(manual.get("criteria")):
        if isinstance(m, dict):
            m["label"] = m.get("name_en") if lang == "en" and m.get("name_en") else m.get("name")
    excluded = [c for c in _list(ind_block.get("criteria")) if isinstance(c, dict)]
    for c in excluded:
        c["label"] = c.get("name_en") if lang == "en" and c.get("name_en") else c.get("name")
    history = [h for h in _list(site.get("history")) if isinstance(h, dict)]
    changes = site.get("changes") if isinstance(site.get("changes"), dict) else None
    note = scores.get("weights_note_en") if lang == "en" else scores.get("weights_note")
    agency = _dict(site.get("agency"))
    return {
        "agency": agency, "status": str(site.get("status") or ""), "detail": site.get("detail"),
        "stats": _dict(site.get("stats")), "scores": scores, "dimension": scores.get("dimension"),
        "indicators": indicators, "rubric_version": scores.get("rubric_version"),
        "weights_note": note or t["weights_note_default"],
        "deductions": deductions, "fix_first": deductions[:10],
        "rows": rows, "by_check": by_check, "broken": broken,
        "stale": by_check.get("staleness", []), "staleness": _dict(site.get("staleness")),
        "metadata": by_check.get("classification", []),
        "a11y": a11y, "a11y_rules": list(a11y_rules.values()), "a11y_templates": list(a11y_templates.values()),
        "a11y_incomplete": incomplete,
        "features": features,
        "service_rows": by_check.get("services", []) + by_check.get("retrieval", []),
        "disclosure": disclosure, "categories": categories,
        "disclosure_rows": by_check.get("disclosure", []),
        "other_checks": {k: v for k, v in by_check.items()
                         if k not in ("links", "staleness", "classification", "accessibility", "services",
                                      "retrieval", "disclosure")},
        "indeterminate_rows": [r for r in rows if r["indeterminate"]],
        "indeterminate_criteria": excluded, "indeterminate_share": ind_block.get("share"),
        "unscored": [x for x in _list(scores.get("unscored")) if isinstance(x, dict)],
        "manual": manual, "history": history, "trend": trend_points(history), "changes": changes,
    }


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


def render_html(results: dict[str, Any], lang: str = "zh-TW", report_links: list[str] | None = None) -> str:
    """The self-contained report.html text for every site of `results`."""
    _check_lang(lang)
    sites = _validate(results)
    css, js, csp = _static()
    views = [site_view(s, lang) for s in sites]
    return _env().get_template("report.html.j2").render(
        t=strings(lang), lang=lang, results=results, run=_dict(results.get("run")),
        tool=_dict(results.get("tool")), sites=views, css=css, js=js, csp=csp,
        report_links=report_links or [])


def render_all(results: dict[str, Any], out_dir: Path, lang: str = "zh-TW") -> list[Path]:
    """Write report.html and every export into `out_dir`; multi-agency runs also get index.html and
    one folder per agency (agencies/<nnn>-<code>/report.html ...). Returns the files written."""
    _check_lang(lang)
    sites = _validate(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    html = out / "report.html"
    html.write_text(render_html(results, lang), encoding="utf-8")
    written.append(html)
    written += exports.write_all(results, out, lang)
    if len(sites) > 1:
        written += render_overview(results, out, lang)
    return written


def render_overview(results_list: list[dict[str, Any]] | dict[str, Any], out_dir: Path,
                    lang: str = "zh-TW") -> list[Path]:
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
            written += render_all(single, folder, lang)
            own = folder / "results.json"  # so each agency's report can be re-rendered on its own
            own.write_text(json.dumps(single, ensure_ascii=False, indent=1), encoding="utf-8")
            written.append(own)
            scores = _dict(site.get("scores"))
            agency = _dict(site.get("agency"))
            entries.append({
                "agency": agency, "group": agency.get("group"), "status": site.get("status"),
                "dimension": scores.get("dimension"),
                "indicators": {i.get("id"): i.get("score") for i in _list(scores.get("indicators")) if isinstance(i, dict)},
                "findings": len(_list(site.get("findings"))), "href": f"agencies/{slug}/report.html",
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
    html = _env().get_template("overview.html.j2").render(
        t=t, lang=lang, groups=groups, indicator_ids=ids, css=css, js=js, csp=csp,
        runs=[_dict(r.get("run")) for r in runs])
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    written.append(path)
    return written
