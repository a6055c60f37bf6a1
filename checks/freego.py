"""Freego v3 machine checks that axe-core does not run, and the badge rules of 辦法 §6 (issue 18).

Rules enforced (domain notes: docs/rules-freego.md):
- 網站無障礙規範 110.07 as Freego v3 tests it (checks/data/freego_v3_rules.csv): the checks a scan of
  the markup or the CSS decides and axe has no rule for (checks/data/freego_static.yaml), e.g.
  CS2140401C font sizes in px/pt in style attributes, `<style>` and the site's linked style sheets,
  HM1130103C fieldset without legend, HM1240102C empty nav, HM1110106C empty alt with a title.
  Judged up to the target level: `--a11y-level` (check option `a11y_level`), else AAA when the
  site claims AAA, else AA (the level axe's default rules cover). Severity as for axe findings:
  A → error (身心障礙者權益保障法 §52-2 requires at least A), AA → warning, AAA → notice. Their
  failures also count in `tw-badge-level-not-met` (checks/taiwan_a11y.py), without a browser.
- 各級機關機構學校網站無障礙檢測及認證標章核發辦法 §6: the badge is 88 × 31 px, not resized,
  posted at the bottom of the home page and linked to the page the authority designates (the
  badge's certificate page): `tw-badge-size`, `tw-badge-placement` (notices: the badge is the
  authority's to revoke; this tool only points at what §6 says).
- A page whose `<meta http-equiv="refresh">` leaves at once is not the page axe tested: its axe
  result is set aside (`checks.accessibility.site_results`) and it is judged from these static
  facts only (listed in `accessibility.freego.static_only`).
Facts come from crawler/static_a11y.py (`PageFacts.artifacts.freego`, `SiteFacts.artifacts.freego_assets`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import yaml

from checks.accessibility import freego_rules
from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.computed.badges import BADGE_HOSTS, badge_image, find_badges, html_pages
from checks.computed.refresh import refresh_target  # noqa: F401 - part of this module's interface (tests, docs)
from checks.facts import PageFacts, SiteFacts

DATA = Path(__file__).resolve().parent / "data"
LEVELS = ("A", "AA", "AAA")
_SEVERITY = {"A": "error", "AA": "warning", "AAA": "notice"}
BADGE_SIZE = (88, 31)
BOTTOM_POSITION = 0.5  # an image in the second half of the home page's elements counts as "下方"
MAX_PAGES_LISTED = 20


@lru_cache(maxsize=1)
def static_rules() -> dict[str, dict[str, str]]:
    """The static Freego rules by code, with level and WCAG SC from freego_v3_rules.csv."""

    rows = yaml.safe_load((DATA / "freego_static.yaml").read_text(encoding="utf-8"))["rules"]
    table = freego_rules()
    return {r["code"]: {**r, "level": table[r["code"]]["level"], "wcag": table[r["code"]]["wcag_sc"]}
            for r in rows}


def claimed_level(facts: SiteFacts, extra_hosts: tuple[str, ...] = ()) -> str | None:
    """The level the site's badge or `Accessible_website` meta claims (A+ read as AA), or None."""

    return find_badges(facts, extra_hosts)["level_equivalent"]


def target_level(facts: SiteFacts, ctx: AuditContext) -> str:
    """`a11y_level` when given, else AAA for a site claiming AAA, else AA."""
    chosen = str(ctx.option("a11y_level", "") or "").upper()
    if chosen in LEVELS:
        return chosen
    return "AAA" if claimed_level(facts, tuple(ctx.option("badge_hosts", ()))) == "AAA" else "AA"


def _pages(facts: SiteFacts) -> list[PageFacts]:

    return html_pages(facts)


def page_codes(page: PageFacts) -> dict[str, dict[str, Any]]:
    return (page.artifacts.freego or {}).get("codes") or {}


def stylesheet_failures(facts: SiteFacts) -> dict[str, dict[str, dict[str, Any]]]:
    """Per scanned style sheet, its failing codes (crawler gatherer `freego_assets`)."""
    sheets = (facts.artifacts.freego_assets or {}).get("stylesheets") or {}
    return {url: info.get("codes") or {} for url, info in sheets.items()}


def _sheet_pages(pages: list[PageFacts]) -> dict[str, list[PageFacts]]:
    out: dict[str, list[PageFacts]] = {}
    for page in pages:
        for url in (page.artifacts.freego or {}).get("stylesheets", []):
            out.setdefault(url, []).append(page)
    return out


def static_failures(facts: SiteFacts) -> list[dict[str, Any]]:
    """Every static Freego code that fails somewhere on the site, with its level and the number of
    pages it fails on (inline or through a linked style sheet): what `tw-badge-level-not-met` adds."""
    rules, pages = static_rules(), _pages(facts)
    where: dict[str, set[str]] = {}
    for page in pages:
        for code in page_codes(page):
            where.setdefault(code, set()).add(page.url)
    using = _sheet_pages(pages)
    for url, codes in stylesheet_failures(facts).items():
        for code in codes:
            where.setdefault(code, set()).update(p.url for p in using.get(url, []))
    return sorted(({"rule": rules[c]["rule"], "freego": c, "level": rules[c]["level"], "pages": len(urls)}
                   for c, urls in where.items() if c in rules and urls),
                  key=lambda e: (LEVELS.index(e["level"]), e["freego"]))


def _level_zh(level: str) -> str:
    return f"{level} 級"


def _also(group: list[PageFacts]) -> tuple[str, str]:
    if len(group) <= 1:
        return "", ""
    return f"（同樣情形共 {len(group)} 頁，僅報告一次）", f" (same on {len(group)} pages, reported once)"


class FreegoStatic(Check):
    meta = CheckMeta(
        id="freego-static", check="accessibility",
        rules=tuple(r["rule"] for r in yaml.safe_load(
            (DATA / "freego_static.yaml").read_text(encoding="utf-8"))["rules"]),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        pages = _pages(facts)
        level = target_level(facts, ctx)
        allowed = LEVELS[:LEVELS.index(level) + 1]
        rules = static_rules()
        judged = sorted(c for c, r in rules.items() if r["level"] in allowed)
        sheets = (facts.artifacts.freego_assets or {}).get("stylesheets") or {}
        ctx.summary.setdefault("accessibility", {})["freego"] = {
            "level": level,
            "judged": judged,
            "not_judged": sorted(c for c in rules if c not in judged),
            "pages_scanned": sum(1 for p in pages if p.artifacts.freego is not None),
            "stylesheets": {"scanned": sum(1 for i in sheets.values() if i.get("status") == 200),
                            "unreadable": sorted(u for u, i in sheets.items() if i.get("status") != 200)},
            "static_only": [{"url": p.url, "refresh": t} for p in pages if (t := refresh_target(p))],
        }
        return self._inline(pages, judged) + self._sheets(facts, pages, judged)

    def _inline(self, pages: list[PageFacts], judged: list[str]) -> list[Finding]:
        groups: dict[tuple[str, tuple[str, ...]], list[PageFacts]] = {}
        for page in pages:
            for code, entry in sorted(page_codes(page).items()):
                if code in judged:
                    groups.setdefault((code, tuple(entry.get("examples") or ())), []).append(page)
        out = []
        for (code, _), group in groups.items():
            entry = page_codes(group[0])[code]
            out.append(_finding(code, group[0].url, None, entry, group, "page"))
        return out

    def _sheets(self, facts: SiteFacts, pages: list[PageFacts], judged: list[str]) -> list[Finding]:
        using = _sheet_pages(pages)
        out = []
        for url, codes in sorted(stylesheet_failures(facts).items()):
            group = using.get(url) or []
            for code, entry in sorted(codes.items()):
                if code in judged and group:
                    out.append(_finding(code, group[0].url, url, entry, group, "stylesheet"))
        return out


def _finding(code: str, page: str, sheet: str | None, entry: dict[str, Any], group: list[PageFacts],
             source: str) -> Finding:
    rule = static_rules()[code]
    level, examples = rule["level"], list(entry.get("examples") or [])
    zh, en = _also(group)
    in_zh = f"樣式表 {sheet} 中" if sheet else ""
    in_en = f" in style sheet {sheet}" if sheet else ""
    example_zh = f"，例如「{examples[0]}」" if examples else ""
    return Finding.of(
        rule["rule"], severity=_SEVERITY[level],
        page=page, target=sheet,
        detail=f"Freego {code}（{_level_zh(level)}，WCAG {rule['wcag']}）：{in_zh}{rule['what_zh']}，"
               f"共 {entry.get('count', 0)} 處{example_zh}{zh}。",
        detail_en=f"Freego {code} (level {level}, WCAG {rule['wcag']}): {rule['what_en']}{in_en}, "
                  f"{entry.get('count', 0)} occurrence(s){', e.g. ' + examples[0] if examples else ''}{en}.",
        evidence={"freego": code, "level": level, "wcag": [rule["wcag"]], "source": source,
                  "count": int(entry.get("count", 0)), "examples": examples, "example": examples[0] if examples
                  else None, "stylesheet": sheet, "pages_affected": len(group),
                  "pages": [p.url for p in group[:MAX_PAGES_LISTED]]},
    )


# ------------------------------------------------------------------------------------------------
# 辦法 §6: the badge's size, place and link

def home_page(facts: SiteFacts) -> PageFacts | None:
    pages = _pages(facts)
    return pages[0] if pages else None


def home_badge_images(facts: SiteFacts) -> list[dict[str, Any]]:
    """The home page's badge images (same test as `find_badges`), each with its absolute `url`."""

    home = home_page(facts)
    if home is None:
        return []
    base = home.final_url or home.url
    return [{**img, "url": urljoin(base, (img.get("src") or "").strip())}
            for img in home.images if badge_image(img)]


def badge_image_urls(facts: SiteFacts) -> list[str]:
    """What the post-crawl gatherer measures: the home page's badge image addresses."""
    return sorted({img["url"] for img in home_badge_images(facts) if img["url"].startswith(("http:", "https:"))})


def _int(value: Any) -> int | None:
    text = str(value or "").strip().lower().removesuffix("px").strip()
    return int(text) if text.isdigit() else None


def _certificate_link(href: str | None, hosts: tuple[str, ...]) -> bool:
    if not href:
        return False
    parts = urlsplit(href)
    return (parts.hostname or "") in hosts and bool(parse_qs(parts.query).get("category", [""])[0].strip())


class BadgeSection6(Check):
    meta = CheckMeta(
        id="badge-section-6", check="accessibility",
        rules=("tw-badge-size", "tw-badge-placement"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:

        home = home_page(facts)
        hosts = (*BADGE_HOSTS, *tuple(ctx.option("badge_hosts", ())))
        badge = find_badges(facts, tuple(ctx.option("badge_hosts", ())))
        if home is None or not badge["present"]:
            return []  # no badge at all: tw-badge-missing says so
        images = home_badge_images(facts)
        measured = (facts.artifacts.freego_assets or {}).get("images") or {}
        out = [f for img in images if (f := self._size(home, img, measured.get(img["url"]) or {}))]
        out += self._placement(home, images, badge, hosts)
        return out

    def _size(self, home: PageFacts, img: dict[str, Any], measured: dict[str, Any]) -> Finding | None:
        shown = (_int(img.get("width")), _int(img.get("height")))
        intrinsic = (measured.get("width"), measured.get("height"))
        problems = []
        if None not in intrinsic and tuple(intrinsic) != BADGE_SIZE:
            problems.append("image")
        if shown[0] is not None and shown[1] is not None and shown != BADGE_SIZE:
            problems.append("attributes")
        elif (shown[0] is not None and shown[0] != BADGE_SIZE[0]) or (shown[1] is not None and shown[1] != BADGE_SIZE[1]):
            problems.append("attributes")
        if not problems:
            return None
        size = f"{intrinsic[0]} × {intrinsic[1]}" if "image" in problems else \
            f"{shown[0] if shown[0] is not None else '?'} × {shown[1] if shown[1] is not None else '?'}"
        how_zh = "圖檔本身" if problems[0] == "image" else "網頁顯示時（`width`／`height` 屬性）"
        how_en = "the image file is" if problems[0] == "image" else "the page shows it at (width/height)"
        return Finding.of(
            "tw-badge-size", page=home.url, target=img["url"],
            detail=f"無障礙標章{how_zh}為 {size} 像素，不是規定的寬 88 像素、高 31 像素"
                   f"（標章核發辦法第6條：不得變更尺寸或變形）。",
            detail_en=f"The accessibility badge: {how_en} {size} px, not the 88 × 31 px that art. 6 of the "
                      f"badge regulation prescribes (no resizing or distortion).",
            evidence={"src": img.get("src"), "alt": img.get("alt"), "problems": problems,
                      "width_attr": img.get("width"), "height_attr": img.get("height"),
                      "image_width": intrinsic[0], "image_height": intrinsic[1],
                      "image_format": measured.get("format"), "required": list(BADGE_SIZE)},
        )

    def _placement(self, home: PageFacts, images: list[dict[str, Any]], badge: dict[str, Any],
                   hosts: tuple[str, ...]) -> list[Finding]:
        if not images:
            where = (badge["images"] or badge["links"] or [{"page": home.url}])[0]["page"]
            problems, img = ["not-on-home"], {}
            detail = f"首頁沒有張貼無障礙標章（標章見於 {where}；標章核發辦法第6條：張貼於網站首頁下方）。"
            detail_en = f"The home page does not show the accessibility badge (seen on {where}); art. 6: " \
                        f"the badge is posted at the bottom of the home page."
        else:
            img = images[0]
            problems = []
            if not img.get("footer") and float(img.get("position") or 0) < BOTTOM_POSITION:
                problems.append("not-at-bottom")
            if badge["certificate_ids"] and not _certificate_link(img.get("link"), hosts):
                problems.append("not-linked-to-certificate")
            if not problems:
                return []
            parts_zh = {"not-at-bottom": "不在首頁下方（頁尾區塊）",
                        "not-linked-to-certificate": "未連結至標章證書頁（主管機關指定之網頁）"}
            parts_en = {"not-at-bottom": "is not at the bottom of the home page (footer)",
                        "not-linked-to-certificate": "does not link to its certificate page"}
            detail = f"首頁的無障礙標章{'，且'.join(parts_zh[p] for p in problems)}（標章核發辦法第6條）。"
            detail_en = f"The home page's badge {' and '.join(parts_en[p] for p in problems)} (badge regulation art. 6)."
        return [Finding.of(
            "tw-badge-placement", page=home.url,
            target=img.get("url"), detail=detail, detail_en=detail_en,
            evidence={"problems": problems, "src": img.get("src"), "link": img.get("link"),
                      "in_footer": bool(img.get("footer")), "position": img.get("position"),
                      "certificate_ids": badge["certificate_ids"]},
        )]
