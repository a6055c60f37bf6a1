"""Link validity: every hyperlink on the site must work (資訊公開適切性與內容有效性: 「超連結均有效」).

Judges the facts the spider recorded (status, network error, redirect chain, anchors, TLS verdict per
host) into the contract's rules: `broken-link`, `unverified-link`, `missing-anchor`, `tls-error`.
Fairness: 401/403/429 and anything we could not judge are `unverified-link`, never broken, so an agency
never loses points for the auditor's own access trouble (issue 2; shared/domain/README.md §1).
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import unquote, urlsplit

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.facts import LinkRef, LinkResult, SiteFacts

RULE = "政府服務品質獎 資訊公開適切性與內容有效性：超連結均有效"
NOT_CHECKED_SCHEMES = {"mailto", "tel", "javascript", "data", "sms", "fax", "callto", "skype", "about"}
BROKEN_ERRORS = {"dns": "dns", "refused": "refused", "timeout": "timeout", "redirect-loop": "redirect-loop",
                 "too-many-redirects": "redirect-loop", "malformed": "malformed", "reset": "reset"}
UNVERIFIED_ERRORS = {"redirect-scheme": "scheme", "too-large": "too-large", "ignored": "blocked",
                     "other": "network"}
KIND_ZH = {"http": "HTTP 錯誤", "dns": "網域名稱無法解析", "refused": "連線被拒", "timeout": "連線逾時",
           "redirect-loop": "重新導向迴圈", "malformed": "網址格式錯誤", "reset": "連線中斷"}
MAX_CHAIN = 12
UNVERIFIED_ZH = {"auth": "需要登入", "blocked": "伺服器拒絕存取", "rate-limited": "請求過於頻繁",
                 "scheme": "導向非 HTTP 網址", "too-large": "內容過大", "network": "網路問題"}


def verdict(result: LinkResult, tls: dict | None) -> tuple[str, dict] | None:
    """(rule, evidence) for a target, or None when it works. Pure: no network, no clock."""
    evidence: dict = {"status": result.status, "method": result.method}
    if result.redirects:
        evidence["redirects"] = result.redirects[:MAX_CHAIN]
    if result.error_detail:
        evidence["reason"] = result.error_detail[:300]
    host = (urlsplit(result.url).hostname or "") if result.url.startswith("https:") else ""
    if host and tls and host in tls and not tls[host].get("ok", True):
        evidence["reason"] = tls[host].get("reason")
        return "tls-error", evidence
    if result.error == "robots" or result.error == "scheme":
        return None
    if result.error == "tls":
        return "tls-error", evidence
    if result.error in BROKEN_ERRORS:
        return "broken-link", {**evidence, "kind": BROKEN_ERRORS[result.error]}
    if result.error:
        return "unverified-link", {**evidence, "kind": UNVERIFIED_ERRORS.get(result.error, "network")}
    status = result.status or 0
    if status == 401:
        return "unverified-link", {**evidence, "kind": "auth"}
    if status in (403, 999):
        return "unverified-link", {**evidence, "kind": "blocked"}
    if status == 429 or (status == 503 and result.retries):
        return "unverified-link", {**evidence, "kind": "rate-limited", "retry_after": result.retry_after}
    if status >= 400:
        return "broken-link", {**evidence, "kind": "http"}
    return None



def anchor_missing(link: LinkRef, result: LinkResult) -> bool:
    fragment = link.fragment
    if not fragment or fragment.lower() == "top" or result.anchors is None:
        return False
    if result.status is None or not 200 <= result.status < 300:
        return False
    anchors = set(result.anchors)
    return fragment not in anchors and unquote(fragment) not in anchors


class LinksCheck(Check):
    meta = CheckMeta(
        id="links", title_zh="超連結有效性", title_en="Link validity", indicator="disclosure",
        rule=RULE, rules=("broken-link", "unverified-link", "missing-anchor", "tls-error"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        tls = facts.extra.get("tls") or {}
        texts: dict[tuple[str, str], list[str]] = defaultdict(list)
        order: list[LinkRef] = []
        for link in facts.links:
            scheme = urlsplit(link.target).scheme.lower() if ":" in link.target else ""
            if scheme in NOT_CHECKED_SCHEMES:
                continue
            key = (link.source, link.target)
            if key not in texts:
                order.append(link)
            if link.text and link.text not in texts[key]:
                texts[key].append(link.text)
        findings: list[Finding] = []
        for link in order:
            result = facts.result_for(link.target)
            if result is None:
                continue
            link_texts = texts[(link.source, link.target)][:5]
            label = link_texts[0] if link_texts else link.target
            judged = verdict(result, tls)
            if judged:
                rule, evidence = judged
                evidence["link_text"] = link_texts
                evidence["tag"] = link.tag
                findings.append(self._finding(rule, link, evidence, label))
            elif anchor_missing(link, result):
                findings.append(Finding(
                    check="links", rule="missing-anchor", severity="warning", page=link.source,
                    target=link.target,
                    detail=f"連結「{label}」指向的頁面沒有錨點 #{link.fragment}",
                    detail_en=f"Link “{label}” points to #{link.fragment}, which the target page lacks",
                    evidence={"fragment": link.fragment, "link_text": link_texts, "status": result.status},
                ))
        return findings

    def _finding(self, rule: str, link: LinkRef, evidence: dict, label: str) -> Finding:
        target = link.target_no_fragment
        if rule == "broken-link":
            kind = evidence["kind"]
            what = f"HTTP {evidence['status']}" if kind == "http" else KIND_ZH.get(kind, kind)
            return Finding("links", rule, "error", link.source, target,
                           f"連結失效（{what}）：「{label}」", evidence,
                           detail_en=f"Broken link ({kind}{' ' + str(evidence['status']) if kind == 'http' else ''}): “{label}”")
        if rule == "unverified-link":
            kind = evidence["kind"]
            return Finding("links", rule, "notice", link.source, target,
                           f"無法確認連結（{UNVERIFIED_ZH.get(kind, kind)}），不列入扣分：「{label}」", evidence,
                           detail_en=f"Link could not be verified ({kind}); not counted against the site: “{label}”")
        return Finding("links", rule, "warning", link.source, target,
                       f"連結目標的憑證無法驗證：{evidence.get('reason') or ''}", evidence,
                       detail_en=f"The target's TLS certificate cannot be verified: {evidence.get('reason') or ''}")
