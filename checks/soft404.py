"""Soft 404s: a link whose target answers 200 but is an error page (results-schema rule `soft-404`).

Rule: 政府服務品質獎 資訊公開適切性與內容有效性「超連結均有效」(shared/domain/README.md §1); a page that
says 查無資料 with status 200 is as dead to a citizen as a 404. Judged from the crawl's facts and from
what each in-scope host answered for a path that cannot exist (facts.artifacts.not_found, gathered by
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
from checks.computed.urls import url_key
from checks.facts import LinkResult, PageFacts, SiteFacts, defrag
from checks.links import checked_target, fetched_links_to, result_of
from checks.textnorm import MEMO_SIZE, link_index

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
    return _find_phrase(text or "")


@lru_cache(maxsize=MEMO_SIZE)  # template lines and headings recur on every page
def _find_phrase(text: str) -> str | None:
    squashed = _squash(text)
    return next((p for p in phrases() if p in squashed), None)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_home(url: str | None, facts: SiteFacts) -> bool:
    """The site's home page: `/`, `/index.*`-like, the start URL, or where the start URL ended up."""
    if not url:
        return False
    if url_key(url) in _home_keys(facts):
        return True
    parts = urlsplit(url)
    return not parts.query and bool(_HOME_PATH.match(parts.path) or _HOME_ALIAS.match(parts.path))


def _home_keys(facts: SiteFacts) -> frozenset[str]:
    """`url_key` of the start URL and of where it ended up (cached on the facts object)."""
    cached = facts.__dict__.get("_home_keys")
    if cached is None or cached[0] != facts.agency.url:
        start = facts.page(facts.agency.url)
        homes = {url_key(facts.agency.url)} | ({url_key(start.final_url)} if start and start.final_url else set())
        cached = facts.__dict__["_home_keys"] = (facts.agency.url, frozenset(homes))
    return cached[1]


def _norm_line(line: str) -> str:
    """One line as compared: white space collapsed, cut at 200 characters, digit runs folded to 0."""
    return _DIGITS.sub("0", " ".join(line.split())[:200])


def _norm_lines(lines: list[str] | set[str]) -> set[str]:
    """Lines compared with digits folded (a clock or visitor counter in the template is not content)."""
    return {_norm_line(line) for line in lines if line.strip()}


# A line whose first SHORT_LINE + 1 characters hold no white space and no digit keeps them all when
# normalised, so it cannot be a short line: such lines (the paragraphs) are never normalised.
_SPACE_OR_DIGIT = re.compile(r"[\s\d]")
_WORD_PIECES = re.compile(r"[0\s]+")


def _anchor(normalised: str) -> str:
    """The longest piece of a normalised line that any raw line normalising to it must contain
    verbatim (its characters are neither white space nor folded digits); "" when there is none."""
    return max(_WORD_PIECES.split(normalised), key=len)


class _PageLines:
    """The lines of one page, normalised only as far as a verdict needs them (issue 6: normalising
    every line of every page cost seconds on a 10,000-page site)."""

    def __init__(self, text: str, memo: dict[str, str]) -> None:
        self.text = text
        self.raw = text.splitlines()
        self._memo = memo  # short raw lines (menus, footers) recur on every page
        self._all: set[str] | None = None

    def _norm(self, line: str) -> str:
        """`_norm_line` of a non-blank line (short lines are remembered for the whole run)."""
        if len(line) > SHORT_LINE:
            return _norm_line(line)
        normalised = self._memo.get(line)
        if normalised is None:
            normalised = _norm_line(line)
            if len(self._memo) < MEMO_SIZE:
                self._memo[line] = normalised
        return normalised

    def all(self) -> set[str]:
        """Every normalised line (what `_norm_lines` gives)."""
        if self._all is None:
            self._all = {self._norm(line) for line in self.raw if line.strip()}
        return self._all

    def present(self, wanted: set[str], anchors: dict[str, str]) -> set[str]:
        """The lines of `wanted` that the page has (`wanted & self.all()`), looking only at raw
        lines that hold a wanted line's anchor."""
        if self._all is not None:
            return wanted & self._all
        hit: set[str] = set()
        for line in wanted:
            anchor = anchors.get(line, "")
            if not anchor:
                return wanted & self.all()
            if anchor in self.text and any(
                anchor in raw and self._norm(raw) == line for raw in self.raw if raw.strip()
            ):
                hit.add(line)
        return hit

    def short(self) -> set[str]:
        """The normalised lines of at most SHORT_LINE characters."""
        if self._all is not None:
            return {line for line in self._all if len(line) <= SHORT_LINE}
        out: set[str] = set()
        memo, head = self._memo, _SPACE_OR_DIGIT.search
        for raw in self.raw:
            if len(raw) <= SHORT_LINE:
                line = memo.get(raw)
                if line is None:
                    line = _norm_line(raw) if raw.strip() else ""
                    if len(memo) < 100_000:
                        memo[raw] = line
                if line:
                    out.add(line)
            elif head(raw, 0, SHORT_LINE + 1) is not None:
                line = _norm_line(raw)
                if line and len(line) <= SHORT_LINE:  # "" only from a blank line
                    out.add(line)
        return out


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
        self.anchors = {line: _anchor(line) for line in self.message_lines}


def judge(result: LinkResult, page: PageFacts | None, learned: _Learned,
          facts: SiteFacts, line_memo: dict[str, str] | None = None) -> tuple[str, str, dict] | None:
    """(reason, confidence, extra evidence) when the target is an error page answered with 2xx."""
    if result.error or result.status is None or not 200 <= result.status < 300:
        return None
    if is_home(result.url, facts):
        return None
    if result.redirects and is_home(result.final_url, facts):
        return "redirect-home", ("high" if learned.redirects_home else "medium"), {}
    title = (page.title if page else None) or result.title or ""
    lines = _PageLines(page.text, {} if line_memo is None else line_memo) if page else None
    if lines is not None and learned.message_lines:
        hit = lines.present(learned.message_lines, learned.anchors)
        if len(hit) >= MATCH_SHARE * len(learned.message_lines):
            return "not-found-page", "high", {"matched_lines": sorted(hit)[:5]}
    if lines is not None and learned.serves_home and learned.home_lines:
        all_lines = lines.all()
        union = all_lines | learned.home_lines
        if all_lines and len(all_lines & learned.home_lines) >= HOME_SIMILARITY * len(union):
            return "home-content", "medium", {}
    phrase = find_phrase(title)
    if phrase or _TITLE_404.search(title):
        return "not-found-phrase", "high", {"phrase": phrase or "404", "where": "title"}
    if page and lines is not None:
        for level, heading in page.headings:
            phrase = find_phrase(heading) if level <= 2 else None
            if phrase:
                return "not-found-phrase", "medium", {"phrase": phrase, "where": f"h{level}"}
        for line in sorted(lines.short() - learned.home_lines):
            phrase = find_phrase(line)
            if phrase:
                return "not-found-phrase", "low", {"phrase": phrase, "where": "text"}
    return None


class Soft404Check(Check):
    meta = CheckMeta(
        id="soft-404", check="links",
        rules=("soft-404",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        not_found = facts.artifacts.not_found or {}
        learned = {origin: _Learned(entry, facts) for origin, entry in not_found.items()}
        unknown = _Learned(None, facts)
        findings: list[Finding] = []
        line_memo: dict[str, str] = {}
        # each distinct target (without fragment) is judged once; only the links to the targets
        # judged soft 404 are then visited, in page order (issue 6)
        judged: dict[str, tuple[LinkResult, tuple[str, str, dict]] | None] = {}
        wanted: list[str] = []
        for raw_target in link_index(facts).by_target:
            target = checked_target(raw_target, keep_fragment=False)
            if target is None:
                continue
            if target not in judged:
                entry = None
                result = result_of(facts, target)
                if result is not None:
                    page = facts.page(target) if result.in_scope else None
                    verdict = judge(result, page, learned.get(_origin(result.url), unknown), facts, line_memo)
                    if verdict is not None:
                        entry = (result, verdict)
                judged[target] = entry
            if judged[target] is not None:
                wanted.append(raw_target)
        order, texts = fetched_links_to(facts, wanted, keep_fragment=False)
        for link in order:
            target = defrag(link.target)[0]
            entry = judged[target]
            if entry is None:  # cannot happen: only judged targets were wanted
                continue
            result, (reason, confidence, extra) = entry
            link_texts = texts[(link.source, target)][:5]
            label = link_texts[0] if link_texts else target
            page = facts.page(target) if result.in_scope else None
            evidence = {"reason": reason, "confidence": confidence, "status": result.status,
                        "final_url": result.final_url, "title": ((page.title if page else None) or result.title
                                                                 or "")[:200],
                        "link_text": link_texts, **extra}
            findings.append(Finding.of(
                "soft-404", link.source, target,
                f"連結目標看似不存在（{REASON_ZH[reason]}，可信度{CONFIDENCE_ZH[confidence]}）：「{label}」",
                evidence,
                detail_en=f"Link target looks like a missing page answered with {result.status} "
                          f"({reason}, confidence {confidence}): “{label}”",
                severity=SEVERITY[confidence],
            ))
        return findings
