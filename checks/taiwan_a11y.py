"""Taiwan's accessibility conventions and the certification badge, checked on stored page facts (no browser).

Rules enforced (documented in docs/accessibility.md):
- 身心障礙者權益保障法 §52-2: government websites pass accessibility testing (at least level A) and
  carry the certification badge (無障礙標章). The badge links to
  https://accessibility.moda.gov.tw/Applications/Detail?category=<14-digit id> (older host
  www.handicap-free.nat.gov.tw); the id is a timestamp and the mark is valid for three years.
- Conventions of 網站無障礙規範 sites *(convention, domain/README.md §5: notices, never hard failures)*:
  導盲磚 `:::` anchors with accesskey U (top), C (content), Z (bottom) pointing at existing targets,
  a `<noscript>` notice, and a 網站導覽 page explaining Alt+U / Alt+C / Alt+Z. Some templates use
  B or F for the bottom block (BSMI, 新北市稅捐處, 臺中市政府: F; 衛福部英文網 site map: B): they stand
  for Z, and findings name the key the page really uses. `href="#"` (or an empty href, or `#top`
  with no such element) jumps to the top of the page, never to the block: a target as missing as
  a dead `#x`. One key on two elements of a page (行政院公報 prototype: S twice) reaches only one
  of them (`tw-accesskey-duplicate`).
- Scope (issue 16 item 9): `tw-badge-level-not-met` judges the axe results of the audited site's
  own hosts and, since issue 18, the static Freego failures (checks/freego.py), so without the
  browser pass it is judged on those alone (`partial`); every other `tw-` rule reads stored page
  facts and runs with `--no-accessibility` too (docs/accessibility.md).
A problem repeated on many pages of one template is reported once, on the first page (home first),
with the number of pages affected.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

from checks.accessibility import site_results, wcag_level
from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.computed.badges import (  # noqa: F401 - re-exported: the badge is part of these conventions
    BADGE_HOSTS,
    _hostname,
    _may_name_host,
    badge_image,
    find_badges,
)
from checks.computed.badges import html_pages as _html_pages
from checks.computed.keywords import feature_keywords, feature_url_patterns
from checks.computed.text import contains_any
from checks.facts import PageFacts, SiteFacts, defrag
from checks.freego import static_failures
from checks.rules import rules as rules_table
from checks.textnorm import link_index

REQUIRED_KEYS = ("U", "C", "Z")
# keys some templates use for a required role, in order of preference (Z first when both exist:
# NCYU has Z for the bottom function area and F for the bottom navigation)
ROLE_KEYS = {"U": ("U",), "C": ("C",), "Z": ("Z", "B", "F")}
ROLE_ZH = {"U": "上方區塊", "C": "中央內容區", "Z": "下方區塊"}
BROWSER_RULES = ("tw-badge-level-not-met",)  # need the axe pass; the other tw- rules read page facts
BADGE_VALID_YEARS = 3
_ALT_KEY = re.compile(r"alt\s*[+＋]\s*(?:shift\s*[+＋]\s*)?([A-Za-z])", re.IGNORECASE)
MAX_PAGES_LISTED = 20
# A+ was the old standard's level for priority 1 + 2 (無障礙網頁開發規範 1.0), i.e. today's AA.
_LEVELS_UP_TO = {"A": ("A",), "AA": ("A", "AA"), "AAA": ("A", "AA", "AAA")}


def accesskeys_of(page: PageFacts) -> dict[str, dict[str, str]]:
    """Accesskey anchors by upper-case key (whitespace around the attribute value ignored)."""
    out: dict[str, dict[str, str]] = {}
    for ak in page.accesskeys:
        key = (ak.get("key") or "").strip().upper()
        if key and key not in out:
            out[key] = ak
    return out


def missing_target(page: PageFacts, href: str) -> str | None:
    """The fragment an in-page href points at when no element has that id or name, else None.

    Browsers strip spaces around href values but keep them in id values, so `href="#aC "` finds only
    `id="aC"`, never `id="aC "` (the Keelung template bug). `#`, an empty or absent href and `#top`
    without such an element lead to the top of the page, not to a block: the missing fragment is
    then "" (or "top"). A `javascript:` href and a link to another page are not judged here.
    """
    href = href.strip()
    if not href:
        return ""
    if href.lower().startswith("javascript:"):
        return None
    if not href.startswith("#"):
        base, fragment = urldefrag(href)
        own = urldefrag(page.final_url or page.url)[0]
        if not fragment or (base and base != own and not base.endswith(urlsplit(own).path)):
            return None
    else:
        fragment = href[1:]
    fragment = unquote(fragment)
    return None if fragment and fragment in set(page.anchors) else fragment


def role_keys(page: PageFacts) -> dict[str, str | None]:
    """The key the page uses for each required role (U, C, Z; B or F stand for Z), None when absent."""
    keys = accesskeys_of(page)
    return {role: next((k for k in candidates if k in keys), None) for role, candidates in ROLE_KEYS.items()}


def duplicate_keys(page: PageFacts) -> dict[str, int]:
    """Keys set on more than one element of the page, with the number of elements."""
    counts: dict[str, int] = {}
    for ak in page.accesskeys:
        key = (ak.get("key") or "").strip().upper()
        if key:
            counts[key] = counts.get(key, 0) + 1
    return {k: n for k, n in sorted(counts.items()) if n > 1}


def accesskey_verdicts(page: PageFacts) -> dict[str, str]:
    """Per key of the page: `ok` or `target-missing`; per required role absent: `missing`.

    Keys are the page's own (F stays F); a role is named by its key only when the page lacks it
    (`Z: missing` on a page with neither Z, B nor F)."""
    out = {key: ("ok" if missing_target(page, ak.get("href") or "") is None else "target-missing")
           for key, ak in accesskeys_of(page).items()}
    for role, key in role_keys(page).items():
        if key is None:
            out[role] = "missing"
    return dict(sorted(out.items()))


def _key_name(key: str, role: str) -> tuple[str, str]:
    """How a key is named in a finding: `F（下方區塊）` when it stands for a role of another letter."""
    if key != role and role in ROLE_ZH:
        return f"{key}（{ROLE_ZH[role]}，相當於 {role}）", f"{key} (the {role} role)"
    return key, key


def _target_missing(key: str, role: str, href: str, fragment: str, group: list[PageFacts]) -> Finding:
    zh, en = _also(group)
    name_zh, name_en = _key_name(key, role)
    if fragment in ("", "top"):
        shown = href or "（空白）"
        detail = f"快速鍵 {name_zh} 的連結 {shown} 只會回到頁面頂端，沒有指向區塊錨點{zh}。"
        detail_en = f"Access key {name_en} links to {href or 'nothing'}, which only jumps to the top of the page{en}."
        ids_like: list[str] = []
    else:
        ids_like = [a for a in group[0].anchors if a.strip() == fragment and a != fragment][:3]
        hint = f"；頁面上的 id 屬性值為「{ids_like[0]}」（多了空白，無法對應）" if ids_like else ""
        detail = f"快速鍵 {name_zh} 的連結 {href} 指向不存在的錨點 #{fragment}{hint}{zh}。"
        detail_en = f"Access key {name_en} links to {href}, but no element has id or name {fragment!r}{en}."
    return Finding.of(
        "tw-accesskey-target-missing",
        page=group[0].url, target=None, detail=detail, detail_en=detail_en,
        evidence={"key": key, "role": role, "href": href, "fragment": fragment,
                  "reason": "top-of-page" if fragment in ("", "top") else "no-such-anchor",
                  "example": f"a[accesskey={key}]", "near_miss_ids": ids_like, **_pages_evidence(group)},
    )


def _names_sitemap(text: str) -> bool:
    """Whether `text` names the site map: the sitemap feature's words (service_features.yaml)."""
    return contains_any(text, feature_keywords("sitemap")) is not None


def _addresses_sitemap(url: str) -> bool:
    return any(p.search(url) for p in feature_url_patterns("sitemap"))


def _grouped(items: list[tuple[Any, PageFacts]]) -> list[tuple[Any, list[PageFacts]]]:
    groups: dict[Any, list[PageFacts]] = {}
    for key, page in items:
        groups.setdefault(key, []).append(page)
    return list(groups.items())


def _pages_evidence(pages: list[PageFacts]) -> dict[str, Any]:
    return {"pages_affected": len(pages), "pages": [p.url for p in pages[:MAX_PAGES_LISTED]]}


def _also(pages: list[PageFacts]) -> tuple[str, str]:
    if len(pages) <= 1:
        return "", ""
    return (f"（同樣情形共 {len(pages)} 頁，僅報告一次）", f" (same on {len(pages)} pages, reported once)")


def certificate_date(cert_id: str) -> date | None:
    """The date encoded in a 14-digit certificate id (YYYYMMDDhhmmss), None when it is not a date."""
    try:
        return date(int(cert_id[:4]), int(cert_id[4:6]), int(cert_id[6:8]))
    except ValueError:
        return None


class TaiwanAccessibility(Check):
    meta = CheckMeta(
        id="taiwan-conventions", check="accessibility",
        rules=("tw-accesskey-missing", "tw-accesskey-target-missing", "tw-accesskey-duplicate", "tw-noscript-missing",
               "tw-sitemap-accesskey-help-missing", "tw-badge-missing", "tw-badge-link-invalid",
               "tw-badge-expired", "tw-badge-level-not-met"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        pages = _html_pages(facts)
        if not pages:
            return []
        findings = self._accesskeys(pages) + self._noscript(pages) + self._sitemap(facts, pages)
        findings += self._badge(facts, ctx, pages[0].url)
        ran = facts.a11y_status == "ok"
        # without the browser, the level claim is still judged on the static Freego facts
        # (checks/freego.py); a store older than those facts has none, and the rule is not run
        static = any(p.artifacts.freego is not None for p in pages)
        ctx.summary.setdefault("accessibility", {})["tw_rules"] = {
            "static": [r for r in self.meta.rules if r not in BROWSER_RULES],
            "browser": list(BROWSER_RULES),
            "not_run": [] if ran or static else list(BROWSER_RULES),
            "partial": [] if ran or not static else list(BROWSER_RULES),
        }
        return findings

    def _accesskeys(self, pages: list[PageFacts]) -> list[Finding]:
        out: list[Finding] = []
        missing = [(tuple(r for r, key in role_keys(p).items() if key is None), p) for p in pages]
        for roles, group in _grouped([(r, p) for r, p in missing if r]):
            zh, en = _also(group)
            out.append(Finding.of(
                "tw-accesskey-missing", page=group[0].url,
                target=None,
                detail=f"缺少導盲磚快速鍵 {'/'.join(roles)}（慣例：U 上方、C 中央內容、Z 下方，以 ::: 錨點標示）{zh}。",
                detail_en=f"No access key {'/'.join(roles)} anchor (the ::: U/C/Z convention){en}.",
                evidence={"missing": list(roles), "found": sorted(accesskeys_of(group[0])),
                          "roles": {r: k for r, k in role_keys(group[0]).items() if k}, **_pages_evidence(group)},
            ))
        broken: list[tuple[tuple[str, str, str, str], PageFacts]] = []
        for page in pages:
            roles = {k: r for r, k in role_keys(page).items() if k}
            for key, ak in accesskeys_of(page).items():
                fragment = missing_target(page, ak.get("href") or "")
                if fragment is not None:
                    broken.append(((key, roles.get(key, key), (ak.get("href") or "").strip(), fragment), page))
        for (key, role, href, fragment), group in _grouped(broken):
            out.append(_target_missing(key, role, href, fragment, group))
        duplicated = [(key, p) for p in pages for key in duplicate_keys(p)]
        for key, group in _grouped(duplicated):
            zh, en = _also(group)
            out.append(Finding.of(
                "tw-accesskey-duplicate", page=group[0].url,
                target=None,
                detail=f"快速鍵 {key} 同時設定在 {duplicate_keys(group[0])[key]} 個元素上，按下時只會到達其中一個{zh}。",
                detail_en=f"Access key {key} is set on {duplicate_keys(group[0])[key]} elements; "
                          f"only one of them can be reached{en}.",
                evidence={"key": key, "elements": duplicate_keys(group[0])[key], **_pages_evidence(group)},
            ))
        return out

    def _noscript(self, pages: list[PageFacts]) -> list[Finding]:
        group = [p for p in pages if p.noscript is None]
        if not group:
            return []
        zh, en = _also(group)
        return [Finding.of(
            "tw-noscript-missing", page=group[0].url, target=None,
            detail=f"頁面沒有 <noscript> 說明（慣例：告知瀏覽器不支援 JavaScript 時如何使用本網站）{zh}。",
            detail_en=f"No <noscript> notice for users without JavaScript{en}.",
            evidence=_pages_evidence(group),
        )]

    def _sitemap(self, facts: SiteFacts, pages: list[PageFacts]) -> list[Finding]:
        # targets of a link whose text names the site map (once per distinct text and target, issue 6)
        index = link_index(facts)
        sitemap_targets = {defrag(link.target)[0]
                           for link in index.with_texts(t for t in index.by_text if _names_sitemap(t))
                           if link.tag in ("a", "area")}
        candidates = [p for p in pages
                      if p.url in sitemap_targets or _names_sitemap(" ".join([p.title] + [h for _, h in p.headings[:3]]))
                      or _addresses_sitemap(urlsplit(p.url).path)]
        for page in candidates:
            keys = {m.group(1).upper() for m in _ALT_KEY.finditer(page.text)}
            if all(k in keys for k in REQUIRED_KEYS):
                return []
        if candidates:
            page = candidates[0]
            keys = sorted({m.group(1).upper() for m in _ALT_KEY.finditer(page.text)})
            missing = [k for k in REQUIRED_KEYS if k not in keys]
            detail = f"網站導覽頁未說明快速鍵 {'/'.join('Alt+' + k for k in missing)} 的用途。"
            detail_en = f"The site map page does not explain {', '.join('Alt+' + k for k in missing)}."
        else:
            page = pages[0]
            keys, missing = [], list(REQUIRED_KEYS)
            detail = "找不到網站導覽頁，因此沒有快速鍵（Alt+U/C/Z）說明。"
            detail_en = "No site map (網站導覽) page was found, so the access keys are not explained."
        return [Finding.of(
            "tw-sitemap-accesskey-help-missing", page=page.url,
            target=None, detail=detail, detail_en=detail_en,
            evidence={"sitemap_found": bool(candidates), "explained": keys, "missing": missing},
        )]

    def _badge(self, facts: SiteFacts, ctx: AuditContext, home: str) -> list[Finding]:
        badge = find_badges(facts, tuple(ctx.option("badge_hosts", ())))
        summary = ctx.summary.setdefault("accessibility", {})
        summary["badge"] = {k: badge[k] for k in ("present", "claimed_level", "level_equivalent", "certificate_ids")}
        if not badge["present"]:
            return [Finding.of(
                "tw-badge-missing", page=home, target=None,
                detail="找不到無障礙標章（身心障礙者權益保障法第52條之2：政府網站應通過無障礙檢測並取得標章）。",
                detail_en="No accessibility certification badge found (People with Disabilities Rights "
                          "Protection Act art. 52-2).",
                evidence={"searched_pages": len(_html_pages(facts))},
            )]
        out: list[Finding] = []
        where = (badge["images"] or badge["links"] or [{"page": home}])[0]["page"]
        if not badge["certificate_ids"]:
            out.append(Finding.of(
                "tw-badge-link-invalid", page=where, target=None,
                detail="無障礙標章未連結至標章證書頁（https://accessibility.moda.gov.tw/Applications/Detail?category=14位數字）。",
                detail_en="The badge does not link to its certificate page "
                          "(accessibility.moda.gov.tw/Applications/Detail?category=<14 digits>).",
                evidence={"links": badge["links"], "images": badge["images"], "claimed_level": badge["claimed_level"]},
            ))
        for cert in badge["certificate_ids"]:
            issued = certificate_date(cert)
            if issued is None:
                continue
            try:
                limit = issued.replace(year=issued.year + BADGE_VALID_YEARS)
            except ValueError:  # 29 February
                limit = issued.replace(year=issued.year + BADGE_VALID_YEARS, day=28)
            if limit < ctx.today:
                out.append(Finding.of(
                    "tw-badge-expired", page=where,
                    target=next((lk["href"] for lk in badge["links"] if cert in lk["href"]), None),
                    detail=f"無障礙標章證書編號 {cert} 的核發日期為 {issued.isoformat()}，已逾 {BADGE_VALID_YEARS} 年"
                           f"（至 {limit.isoformat()}），請確認是否重新檢測。",
                    detail_en=f"Badge certificate {cert} dates from {issued.isoformat()}, more than "
                              f"{BADGE_VALID_YEARS} years before {ctx.today.isoformat()}.",
                    evidence={"certificate_id": cert, "issued": issued.isoformat(), "valid_until": limit.isoformat(),
                              "claimed_level": badge["claimed_level"]},
                ))
        out += self._level_not_met(facts, badge, where)
        return out

    def _level_not_met(self, facts: SiteFacts, badge: dict[str, Any], where: str) -> list[Finding]:
        claimed = badge["level_equivalent"]
        if not claimed:
            return []
        # the same tag -> level reading and the same site scope as the axe check

        allowed = _LEVELS_UP_TO[claimed]
        failing: dict[str, dict[str, Any]] = {}
        for result in site_results(facts) if facts.a11y_status == "ok" else []:
            if result.status != "ok":
                continue
            for v in result.violations:
                level = wcag_level(list(v.get("tags") or []))
                if level in allowed:
                    entry = failing.setdefault(v["id"], {"rule": v["id"], "level": level, "pages": 0})
                    entry["pages"] += 1
        for entry in static_failures(facts):  # Freego checks axe does not run (CS2140401C px fonts …)
            if entry["level"] in allowed:
                failing.setdefault(entry["rule"], dict(entry))
        if not failing:
            return []
        rules = sorted(failing.values(), key=lambda e: (e["level"], -e["pages"], e["rule"]))
        names = "、".join(f"{_rule_name_zh(e['rule'])}（{e['level']} 級{'，Freego ' + e['freego'] if e.get('freego') else ''}）"
                         for e in rules[:8])
        return [Finding.of(
            "tw-badge-level-not-met", page=where, target=None,
            detail=f"網站標示通過 {badge['claimed_level']} 等級無障礙檢測，但自動檢測發現該等級以內的規則未通過：{names}。",
            detail_en=f"The site claims level {badge['claimed_level']} but automated testing (axe and the static "
                      f"Freego checks) found failures of rules at that level or below: "
                      f"{', '.join(e['rule'] for e in rules[:8])}.",
            evidence={"claimed_level": badge["claimed_level"], "level_equivalent": claimed,
                      "rules": rules[:50], "level_a_failures": sum(1 for e in rules if e["level"] == "A"),
                      "freego_static": sorted(e["freego"] for e in rules if e.get("freego")),
                      "axe_ran": facts.a11y_status == "ok"},
        )]


def _rule_name_zh(rule_id: str) -> str:
    """A failing rule as an evaluator reads it: our rules by their zh title, axe's by its id (axe has no zh names)."""
    entry = rules_table().get(rule_id)
    return f"「{entry.title_zh}」" if entry is not None and entry.title_zh else f"axe 規則「{rule_id}」"
