"""Link validity: every hyperlink on the site must work (資訊公開適切性與內容有效性: 「超連結均有效」).

Judges the facts the spider recorded (status, network error, redirect chain, anchors, TLS verdict per
host) into the contract's rules: `broken-link`, `unverified-link`, `missing-anchor`, `tls-error`, and
`tls-untrusted-public` (a host only a non-public trust profile accepts, e.g. the government root GRCA).
Fairness: 401/403/429, a WAF challenge, a 503 that asks us to come back later, a private address we
refused to probe and anything we could not judge are `unverified-link`, never broken, so an agency never
loses points for the auditor's own access trouble (issues 2 and 7; shared/domain/README.md §1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.computed.urls import BROKEN_ERRORS, result_of
from checks.facts import LinkRef, LinkResult, SiteFacts, defrag, url_scheme
from checks.textnorm import link_index, page_order

NOT_CHECKED_SCHEMES = {"mailto", "tel", "javascript", "data", "sms", "fax", "callto", "skype", "about"}
UNVERIFIED_ERRORS = {"redirect-scheme": "scheme", "too-large": "too-large", "ignored": "blocked",
                     "challenge": "blocked", "private-address": "private-address", "other": "network",
                     "not-checked": "not-checked"}
KIND_ZH = {"http": "HTTP 錯誤", "dns": "網域名稱無法解析", "refused": "連線被拒", "timeout": "連線逾時",
           "redirect-loop": "重新導向迴圈", "malformed": "網址格式錯誤", "reset": "連線中斷"}
MAX_CHAIN = 12
UNVERIFIED_ZH = {"auth": "需要登入", "blocked": "伺服器拒絕存取", "rate-limited": "請求過於頻繁",
                 "scheme": "導向非 HTTP 網址", "too-large": "內容過大", "network": "網路問題",
                 "private-address": "內部網路位址，未連線檢查",
                 "not-checked": "依設定不檢查外部連結"}


def tls_key(url: str) -> str:
    """The key of a host in facts.artifacts.tls: `host`, or `host:port` when the port is not 443."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    return host if port in (None, 443) else f"{host}:{port}"


def verdict(result: LinkResult, tls: dict | None) -> tuple[str, dict] | None:
    """(rule, evidence) for a target, or None when it works. Pure: no network, no clock."""
    evidence: dict = {"status": result.status, "method": result.method}
    if result.redirects:
        evidence["redirects"] = result.redirects[:MAX_CHAIN]
    if result.error_detail:
        evidence["reason"] = result.error_detail[:300]
    host = tls_key(result.url) if result.url.startswith("https:") else ""
    if host and tls and host in tls and tls[host].get("ok") is False:
        evidence["reason"] = tls[host].get("reason")
        if tls[host].get("problems"):
            evidence["problems"] = list(tls[host]["problems"])
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
    retry_after = result.retry_after or result.headers.get("retry-after")
    if status == 429 or (status == 503 and (result.retries or retry_after)):
        # 503 + Retry-After is the server saying "maintenance, come back later" (RFC 9110 §15.6.4)
        return "unverified-link", {**evidence, "kind": "rate-limited", "retry_after": retry_after}
    if status >= 400:
        return "broken-link", {**evidence, "kind": "http"}
    return None


def _only_privately_trusted(verdict: dict | None) -> bool:
    """True for a host that verifies, but not under the public web PKI (e.g. only under GRCA)."""
    if not verdict or verdict.get("ok") is not True:
        return False
    trusted_by = verdict.get("trusted_by")
    return bool(trusted_by) and "public" not in trusted_by


def anchor_missing(link: LinkRef, result: LinkResult) -> bool:
    return _anchor_missing(link.fragment, result)


def _anchor_missing(fragment: str, result: LinkResult) -> bool:
    if not fragment or fragment.lower() == "top" or result.anchors is None:
        return False
    if result.status is None or not 200 <= result.status < 300:
        return False
    anchors = set(result.anchors)
    return fragment not in anchors and unquote(fragment) not in anchors


def checked_target(target: str, *, keep_fragment: bool) -> str | None:
    """The target as `fetched_links` keys it, None for a link we never fetch (mailto:, tel:, …)."""
    scheme = url_scheme(target) if ":" in target else ""
    if scheme in NOT_CHECKED_SCHEMES:
        return None
    return target if keep_fragment else defrag(target)[0]


def fetched_links(facts: SiteFacts, *, keep_fragment: bool) -> tuple[list[LinkRef],
                                                                   dict[tuple[str, str], list[str]]]:
    """Each (source page, target) once, in page order, with every link text it carries there.
    Links we never fetch (mailto:, tel:, javascript:, data:) are left out."""
    return _first_links(facts.links, keep_fragment=keep_fragment)


def fetched_links_to(facts: SiteFacts, targets: Iterable[str], *,
                     keep_fragment: bool) -> tuple[list[LinkRef], dict[tuple[str, str], list[str]]]:
    """`fetched_links` restricted to the links whose target (as written) is one of `targets`.

    A check judges each distinct target once and then needs only the links to the few targets that
    have a problem (issue 6). With `keep_fragment=False`, pass every spelling of a target that
    differs only in its fragment, so that each (page, target) keeps all its texts."""
    return _first_links(link_index(facts).with_targets(targets), keep_fragment=keep_fragment)


def _first_links(links: Iterable[LinkRef], *, keep_fragment: bool) -> tuple[list[LinkRef],
                                                                          dict[tuple[str, str], list[str]]]:
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    order: list[LinkRef] = []
    keyed: dict[str, str | None] = {}  # per distinct target: menus repeat on every page
    for link in links:
        target = link.target
        if target in keyed:
            key_target = keyed[target]
        else:
            key_target = keyed[target] = checked_target(target, keep_fragment=keep_fragment)
        if key_target is None:
            continue
        key = (link.source, key_target)
        seen = texts.get(key)
        if seen is None:
            order.append(link)
            seen = texts[key] = []
        if link.text and link.text not in seen:
            seen.append(link.text)
    return order, texts


class LinksCheck(Check):
    meta = CheckMeta(
        id="link-validity", check="links",
        rules=("broken-link", "unverified-link", "missing-anchor", "tls-error",
               "tls-untrusted-public"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        tls = facts.artifacts.tls or {}
        # each distinct target is judged once; only the links to targets with a problem are then
        # visited, in page order (issue 6: ~500,000 links, tens of thousands of targets)
        judged_targets: dict[str, tuple[LinkResult, str, bool, bool]] = {}
        by_result: dict[int, tuple[str, bool]] = {}  # targets differing in fragment share a result
        for target in link_index(facts).by_target:
            if checked_target(target, keep_fragment=True) is None:
                continue
            judged_target = self._judge_target(facts, target, tls, by_result)
            if judged_target is not None and (judged_target[1] or judged_target[2] or judged_target[3]):
                judged_targets[target] = judged_target
        order, texts = fetched_links_to(facts, judged_targets, keep_fragment=True)
        findings: list[Finding] = []
        untrusted: dict[str, list[str]] = {}
        untrusted_seen: set[tuple[str, str]] = set()
        for link in order:
            result, untrusted_host, broken, no_anchor = judged_targets[link.target]
            if untrusted_host:
                pages = untrusted.setdefault(untrusted_host, [])
                if (untrusted_host, link.source) not in untrusted_seen:
                    untrusted_seen.add((untrusted_host, link.source))
                    pages.append(link.source)
            if not broken and not no_anchor:
                continue
            link_texts = texts[(link.source, link.target)][:5]
            label = link_texts[0] if link_texts else link.target
            judged = verdict(result, tls) if broken else None
            if judged:
                rule, evidence = judged
                evidence["link_text"] = link_texts
                evidence["tag"] = link.tag
                findings.append(self._finding(rule, link, evidence, label))
            else:
                findings.append(Finding.of(
                    "missing-anchor", page=link.source,
                    target=link.target,
                    detail=f"連結「{label}」指向的頁面沒有錨點 #{link.fragment}",
                    detail_en=f"Link “{label}” points to #{link.fragment}, which the target page lacks",
                    evidence={"fragment": link.fragment, "link_text": link_texts, "status": result.status},
                ))
        for host, pages in untrusted.items():
            pages.sort(key=lambda url: page_order(facts, url))
            findings.append(self._untrusted_public(host, tls[host], pages))
        # links are stored as their pages arrived: order the findings as pages are ordered, so two
        # audits of an unchanged site give the same bytes (issue 16 item 7)
        findings.sort(key=lambda f: (*page_order(facts, f.page), f.target or "", f.rule))
        return findings

    @staticmethod
    def _judge_target(facts: SiteFacts, target: str, tls: dict,
                      by_result: dict[int, tuple[str, bool]]) -> tuple[LinkResult, str, bool, bool] | None:
        """(result, host trusted only privately or "", judged by `verdict`, anchor missing) for one
        target; None when the target has no recorded result. `by_result` remembers what depends
        on the result alone (keyed by identity: results are not changed while checks run)."""
        result = result_of(facts, target)
        if result is None:
            return None
        known = by_result.get(id(result))
        if known is None:
            host = tls_key(result.url) if result.url.startswith("https:") else ""
            untrusted_host = host if host and _only_privately_trusted(tls.get(host)) else ""
            known = by_result[id(result)] = (untrusted_host, verdict(result, tls) is not None)
        untrusted_host, broken = known
        return result, untrusted_host, broken, (not broken and _anchor_missing(defrag(target)[1], result))

    def _untrusted_public(self, host: str, verdict: dict, pages: list[str]) -> Finding:
        """One finding per host: its certificate verifies only under a non-public trust profile."""
        by = ", ".join(verdict.get("trusted_by") or [])
        public = (verdict.get("profiles") or {}).get("public") or {}
        evidence = {"reason": public.get("reason"), "trusted_by": list(verdict.get("trusted_by") or []),
                    "expires": verdict.get("expires"), "pages": len(pages), "example_pages": pages[:5]}
        return Finding.of(
            "tls-untrusted-public", pages[0], f"https://{host}/",
            f"主機 {host} 的憑證僅受額外信任清單（{by}）信任，一般民眾的瀏覽器可能顯示不安全警告"
            f"（{len(pages)} 個頁面連結至此主機）",
            evidence,
            detail_en=f"The certificate of {host} is trusted only by the {by} trust profile, not by the public "
                      f"web PKI: citizens' browsers may reject it ({len(pages)} pages link to this host)",
        )

    def _finding(self, rule: str, link: LinkRef, evidence: dict, label: str) -> Finding:
        target = link.target_no_fragment
        if rule == "broken-link":
            kind = evidence["kind"]
            what = f"HTTP {evidence['status']}" if kind == "http" else KIND_ZH.get(kind, kind)
            return Finding.of(rule, link.source, target,
                           f"連結失效（{what}）：「{label}」", evidence,
                           detail_en=f"Broken link ({kind}{' ' + str(evidence['status']) if kind == 'http' else ''}): “{label}”")
        if rule == "unverified-link":
            kind = evidence["kind"]
            return Finding.of(rule, link.source, target,
                           f"無法確認連結（{UNVERIFIED_ZH.get(kind, kind)}），不列入扣分：「{label}」", evidence,
                           detail_en=f"Link could not be verified ({kind}); not counted against the site: “{label}”")
        return Finding.of(rule, link.source, target,
                       f"連結目標的憑證無法驗證：{evidence.get('reason') or ''}", evidence,
                       detail_en=f"The target's TLS certificate cannot be verified: {evidence.get('reason') or ''}")
