"""Soft 404s: a link whose target answers 200 but is an error page (results-schema rule `soft-404`).

Rule: 政府服務品質獎 資訊公開適切性與內容有效性「超連結均有效」(shared/domain/README.md §1); a page that
says 查無資料 with status 200 is as dead to a citizen as a 404. Judged from the crawl's facts and from
what each in-scope host answered for a path that cannot exist (facts.extra["not_found"], gathered by
crawler/soft404.py before judging), so the site's own not-found page is recognised, not guessed:

- `redirect-home`: the target redirects to the home page. Confidence high when the host also sends
  unknown paths home (learned), medium otherwise (a page retired on purpose, still a dead link);
- `not-found-page`: the target shows the host's own not-found message (the lines of the learned
  not-found page that its home page does not carry): high;
- `home-content`: the host answers unknown paths with its home page unchanged and the target shows
  exactly that: medium;
- `not-found-phrase`: a not-found phrase (checks/data/soft404_phrases.yaml: 查無資料, 找不到網頁, 頁面不存在,
  網頁不存在, …, or "404") in the title: high; in a main heading: medium; only in a short line of the
  body that the home page does not carry: low (an empty list says 查無資料 too: a hint, which the default
  rubric treats as indeterminate).

Evidence: `reason`, `confidence` (high | medium | low), `status`, `final_url`, `title`, and `phrase` or
`matched_lines` when those decided.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

import yaml

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.facts import LinkResult, PageFacts, SiteFacts
from checks.links import fetched_links, url_key

RULE = "政府服務品質獎 資訊公開適切性與內容有效性：超連結均有效（含回應 200 的錯誤頁）"
_HOME_PATH = re.compile(r"^/?((index|default|home|main)\.[a-z0-9]{2,5})?$", re.IGNORECASE)
# language or portal roots that many sites redirect to their home page on purpose
_HOME_ALIAS = re.compile(r"^/(ch|cht|tw|zh|zh-tw|zh_tw|zh-hant|big5|default|home|index|main|mp|portal|"
                         r"chinese)/?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_TITLE_404 = re.compile(r"(?<![0-9])404(?![0-9])")
MATCH_SHARE = 0.8
HOME_SIMILARITY = 0.95
SHORT_LINE = 40
SEVERITY = {"high": "error", "medium": "warning", "low": "notice"}
REASON_ZH = {"redirect-home": "重新導向至首頁", "not-found-page": "顯示網站自己的「找不到網頁」頁面",
             "home-content": "未知網址一律顯示首頁內容", "not-found-phrase": "頁面含有「查無資料」等字樣"}
CONFIDENCE_ZH = {"high": "高", "medium": "中", "low": "低"}


@lru_cache(maxsize=1)
def phrases() -> tuple[str, ...]:
    data = yaml.safe_load(resources.files("checks").joinpath("data/soft404_phrases.yaml").read_text("utf-8"))
    return tuple(_squash(p) for group in ("zh", "en") for p in data.get(group) or [])


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


def find_phrase(text: str | None) -> str | None:
    squashed = _squash(text or "")
    return next((p for p in phrases() if p in squashed), None)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_home(url: str | None, facts: SiteFacts) -> bool:
    """The site's home page: `/`, `/index.*`-like, the start URL, or where the start URL ended up."""
    if not url:
        return False
    key = url_key(url)
    start = facts.page(facts.agency.url)
    homes = {url_key(facts.agency.url)} | ({url_key(start.final_url)} if start and start.final_url else set())
    if key in homes:
        return True
    parts = urlsplit(url)
    return not parts.query and bool(_HOME_PATH.match(parts.path) or _HOME_ALIAS.match(parts.path))


def _norm_lines(lines: list[str] | set[str]) -> set[str]:
    """Lines compared with digits folded (a clock or visitor counter in the template is not content)."""
    return {_DIGITS.sub("0", " ".join(line.split())[:200]) for line in lines if line.strip()}


class _Learned:
    """What one origin answered for paths that cannot exist (see crawler/soft404.py)."""

    def __init__(self, entry: dict | None, facts: SiteFacts) -> None:
        entry = entry or {}
        probes = [p for p in entry.get("probes") or [] if not p.get("error")]
        self.known = bool(probes)
        self.home_lines = _norm_lines(entry.get("home_lines") or [])
        self.redirects_home = any(p.get("redirects") and is_home(p.get("final_url"), facts) for p in probes)
        self.message_lines: set[str] = set()
        self.serves_home = False
        for p in probes:
            token = urlsplit(p.get("url") or "").path.strip("/").split("-x")[0] or "\x00"
            # a not-found page that echoes the requested path: that line is not the template's
            lines = _norm_lines([line for line in p.get("lines") or [] if token not in line])
            if not lines or p.get("redirects"):
                continue
            specific = lines - self.home_lines
            if specific:
                self.message_lines |= specific
            elif p.get("status") == 200 and self.home_lines:
                self.serves_home = True


def judge(result: LinkResult, page: PageFacts | None, learned: _Learned,
          facts: SiteFacts) -> tuple[str, str, dict] | None:
    """(reason, confidence, extra evidence) when the target is an error page answered with 2xx."""
    if result.error or result.status is None or not 200 <= result.status < 300:
        return None
    if is_home(result.url, facts):
        return None
    if result.redirects and is_home(result.final_url, facts):
        return "redirect-home", ("high" if learned.redirects_home else "medium"), {}
    title = (page.title if page else None) or result.title or ""
    lines = _norm_lines(page.text.splitlines()) if page else set()
    if page and learned.message_lines:
        hit = learned.message_lines & lines
        if len(hit) >= MATCH_SHARE * len(learned.message_lines):
            return "not-found-page", "high", {"matched_lines": sorted(hit)[:5]}
    if page and learned.serves_home and lines and learned.home_lines:
        union = lines | learned.home_lines
        if len(lines & learned.home_lines) >= HOME_SIMILARITY * len(union):
            return "home-content", "medium", {}
    phrase = find_phrase(title)
    if phrase or _TITLE_404.search(title):
        return "not-found-phrase", "high", {"phrase": phrase or "404", "where": "title"}
    if page:
        for level, heading in page.headings:
            phrase = find_phrase(heading) if level <= 2 else None
            if phrase:
                return "not-found-phrase", "medium", {"phrase": phrase, "where": f"h{level}"}
        for line in sorted(lines - learned.home_lines):
            phrase = find_phrase(line) if len(line) <= SHORT_LINE else None
            if phrase:
                return "not-found-phrase", "low", {"phrase": phrase, "where": "text"}
    return None


class Soft404Check(Check):
    meta = CheckMeta(
        id="links", title_zh="回應 200 的錯誤頁（軟性 404）", title_en="Soft 404 (error page answered with 200)",
        indicator="disclosure", rule=RULE, rules=("soft-404",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        not_found = facts.extra.get("not_found") or {}
        learned = {origin: _Learned(entry, facts) for origin, entry in not_found.items()}
        unknown = _Learned(None, facts)
        by_key = {url_key(url): result for url, result in facts.link_results.items()}
        order, texts = fetched_links(facts, keep_fragment=False)
        findings: list[Finding] = []
        judged: dict[str, tuple[str, str, dict] | None] = {}
        for link in order:
            target = link.target_no_fragment
            result = facts.result_for(target) or by_key.get(url_key(target))
            if result is None:
                continue
            if target not in judged:
                page = facts.page(target) if result.in_scope else None
                judged[target] = judge(result, page, learned.get(_origin(result.url), unknown), facts)
            verdict = judged[target]
            if verdict is None:
                continue
            reason, confidence, extra = verdict
            link_texts = texts[(link.source, target)][:5]
            label = link_texts[0] if link_texts else target
            page = facts.page(target) if result.in_scope else None
            evidence = {"reason": reason, "confidence": confidence, "status": result.status,
                        "final_url": result.final_url, "title": ((page.title if page else None) or result.title
                                                                 or "")[:200],
                        "link_text": link_texts, **extra}
            findings.append(Finding(
                "links", "soft-404", SEVERITY[confidence], link.source, target,
                f"連結目標看似不存在（{REASON_ZH[reason]}，可信度{CONFIDENCE_ZH[confidence]}）：「{label}」",
                evidence,
                detail_en=f"Link target looks like a missing page answered with {result.status} "
                          f"({reason}, confidence {confidence}): “{label}”",
            ))
        return findings
