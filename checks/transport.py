"""Transport security of the audited HTTPS hosts (issue 18, docs/rules-transport.md).

Judges, per audited host, the facts crawler/tls.py (`facts.artifacts.tls`: presented chain, SCTs, dates)
and crawler/transport.py (`facts.artifacts.transport`: http:// form, security headers, TLS 1.0/1.1) record,
and per HTTPS page the plain-http sub-resources it loads:

- `tls-distrusted-by-chrome` (error): the certificate chains to a Chunghwa Telecom root Chrome stopped
  trusting for certificates dated (earliest SCT, else notBefore) after 2025-07-31 23:59:59 UTC —
  Chrome Root Program announcement 2025-05-30, Chrome 139+: citizens get a full-page warning;
- `http-not-redirected` (warning) and `mixed-content` (warning): 資通安全責任等級分級辦法 附表十
  資通系統防護基準「系統與通訊保護：傳輸之機密性與完整性」(transmission encrypted); W3C Mixed Content;
- `tls-legacy-version` (warning): TLS 1.0/1.1 accepted — RFC 8996 deprecates them; same 防護基準;
- `tls-expiring` (notice) and `missing-security-headers` (notice): best practice, no legal basis.
Pure: no network; `ctx.today` is the judging date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.computed.hosts import https_hosts
from checks.facts import SiteFacts

DATA = Path(__file__).resolve().parent / "data" / "transport.yaml"
FRAME_TAGS = ("iframe", "frame")
MIXED_TAGS = ("img", *FRAME_TAGS)
_ACTIVE = {"script", "link", *FRAME_TAGS}
_SOURCE_ZH = {"sct": "憑證透明度時間戳記", "notBefore": "憑證生效時間"}
_TAG_ZH = {"img": "圖片", "iframe": "內嵌框架", "frame": "框架", "script": "指令碼", "link": "樣式或圖示"}


@lru_cache(maxsize=1)
def rules_data() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def name_attributes(rfc4514: str) -> frozenset[tuple[str, str]] | None:
    """A distinguished name as a set of (attribute short name, value): order and escaping ignored."""
    # deferred: cryptography (~45 ms) only when a certificate's names are compared
    from cryptography import x509

    try:
        name = x509.Name.from_rfc4514_string(rfc4514)
    except (ValueError, TypeError):
        return None
    return frozenset((attr.rfc4514_attribute_name, str(attr.value)) for attr in name)


def distrusted_root(chain: list[dict[str, Any]]) -> str | None:
    """The label of the distrusted root any certificate of `chain` is, or is issued by."""
    roots = [(r["label"], frozenset((k, str(v)) for k, v in r["name"].items()))
             for r in rules_data()["chrome_distrust"]["roots"]]
    for cert in chain:
        for field in ("issuer", "subject"):
            attrs = name_attributes(str(cert.get(field) or ""))
            for label, want in roots:
                if attrs == want:
                    return label
    return None


def chrome_date(leaf: dict[str, Any]) -> tuple[str, str] | None:
    """(date, source) Chrome judges the certificate by: its earliest embedded SCT, else notBefore."""
    if leaf.get("scts"):
        return min(leaf["scts"]), "sct"
    if leaf.get("not_before"):
        return str(leaf["not_before"]), "notBefore"
    return None


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class TransportCheck(Check):
    meta = CheckMeta(
        id="transport-security", check="transport",
        rules=("tls-distrusted-by-chrome", "http-not-redirected", "mixed-content", "tls-legacy-version",
               "tls-expiring", "missing-security-headers"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        tls = facts.artifacts.tls or {}
        transport = facts.artifacts.transport or {}
        hosts = https_hosts(facts)
        findings: list[Finding] = []
        for key, _host, _port, page in hosts:
            verdict = tls.get(key) if isinstance(tls.get(key), dict) else {}
            probe = transport.get(key) if isinstance(transport.get(key), dict) else {}
            for judge in (distrust_finding, expiring_finding):
                finding = judge(key, page, verdict, ctx.today)
                if finding:
                    findings.append(finding)
            for judge in (http_finding, legacy_finding, headers_finding):
                finding = judge(key, page, probe)
                if finding:
                    findings.append(finding)
        findings.extend(mixed_content_findings(facts))
        if hosts:  # results.json `transport`: what was probed per host (docs/results-json.md)
            block: dict[str, Any] = {"hosts": {k: transport.get(k) if isinstance(transport.get(k), dict)
                                               else {"page": page, "probed": False} for k, _h, _p, page in hosts}}
            if transport.get("status") == "failed":
                block["error"] = transport.get("error")
            ctx.summary["transport"] = block
        return findings


def distrust_finding(key: str, page: str, verdict: dict[str, Any], today: date) -> Finding | None:
    chain = list(verdict.get("chain") or [])
    root = distrusted_root(chain + list(verdict.get("verified_chain") or []))
    when = chrome_date(chain[0]) if chain else None
    cutoff = rules_data()["chrome_distrust"]["after"]
    if root is None or when is None or _instant(when[0]) <= _instant(cutoff):
        return None
    stamp, source = when
    evidence = {"root": root, "date": stamp, "date_source": source, "cutoff": cutoff,
                "chain": [{"subject": c.get("subject"), "issuer": c.get("issuer")} for c in chain],
                "verified_chain": list(verdict.get("verified_chain") or [])}
    return Finding.of(
        "tls-distrusted-by-chrome", page, f"https://{key}/",
        f"主機 {key} 的憑證鏈結至中華電信根憑證「{root}」，{_SOURCE_ZH[source]}為 {stamp[:10]}，晚於 2025 年 7 月 31 日："
        f"「Chrome」瀏覽器 139 版起會以全頁警告阻擋民眾開啟本網站",
        evidence,
        detail_en=f"The certificate of {key} chains to the Chunghwa Telecom root “{root}” and is dated {stamp[:10]} "
                  f"({source}), after 2025-07-31: Chrome 139 and later block the site with a full-page warning",
    )


def expiring_finding(key: str, page: str, verdict: dict[str, Any], today: date) -> Finding | None:
    expires = verdict.get("expires")
    if not expires:
        return None
    try:
        left = (date.fromisoformat(str(expires)[:10]) - today).days
    except ValueError:
        return None
    days = int(rules_data()["expiring_days"])
    if not 0 <= left <= days:
        return None  # already expired: tls-error says so
    return Finding.of(
        "tls-expiring", page, f"https://{key}/",
        f"主機 {key} 的憑證將於 {expires} 到期（剩 {left} 天），請及早更新",
        {"expires": expires, "days_left": left, "within_days": days},
        detail_en=f"The certificate of {key} expires on {expires} ({left} days left): renew it in time",
    )


def http_finding(key: str, page: str, probe: dict[str, Any]) -> Finding | None:
    http = probe.get("http") or {}
    if not http.get("url") or http.get("status") is None:
        return None  # no http port, refused or timed out: nothing is served over plain http
    final = str(http.get("final_url") or "")
    if final.lower().startswith("https://"):
        return None
    status = http["status"]
    evidence = {"url": http["url"], "status": status, "redirects": list(http.get("redirects") or []),
                "final_url": final}
    return Finding.of(
        "http-not-redirected", page, http["url"],
        f"以 HTTP 開啟主機 {key}（{http['url']}）未轉址至 HTTPS（回應 HTTP {status}），連線未加密",
        evidence,
        detail_en=f"The http:// form of {key} ({http['url']}) does not redirect to https:// (HTTP {status}): "
                  f"the connection is not encrypted",
    )


def legacy_finding(key: str, page: str, probe: dict[str, Any]) -> Finding | None:
    legacy = probe.get("legacy_tls") or {}
    accepted = legacy.get("accepted")
    if not accepted:
        return None
    shown = accepted.replace("TLSv", "TLS ")
    return Finding.of(
        "tls-legacy-version", page, f"https://{key}/",
        f"主機 {key} 仍接受已淘汰的 {shown} 加密連線（應只提供 TLS 1.2 以上版本）",
        {"accepted": accepted, "offered": list(legacy.get("offered") or [])},
        detail_en=f"{key} still accepts the deprecated {shown} (RFC 8996): offer TLS 1.2 or later only",
    )


def missing_headers(headers: dict[str, str]) -> list[str]:
    """Labels of the security-header requirements `headers` (lower-case names) does not meet."""
    missing = []
    for req in rules_data()["security_headers"]:
        value = headers.get(req["header"])
        if req["header"] == "strict-transport-security" and value is not None and _hsts_off(value):
            value = None
        directive = req.get("csp_directive")
        if value is None and directive:
            csp = headers.get("content-security-policy") or ""
            if any(part.strip().lower().startswith(directive) for part in csp.split(";")):
                value = csp
        if value is None:
            missing.append(req["label"])
    return missing


def _hsts_off(value: str) -> bool:
    """`max-age=0` tells the browser to forget HSTS: as good as no header."""
    for part in value.split(";"):
        name, _, arg = part.strip().partition("=")
        if name.lower() == "max-age":
            return arg.strip().strip('"') in ("0", "")
    return True  # no max-age: invalid (RFC 6797 §6.1.1), ignored by browsers


def headers_finding(key: str, page: str, probe: dict[str, Any]) -> Finding | None:
    answer = probe.get("headers") or {}
    if answer.get("status") is None:
        return None  # no answer: nothing to judge
    missing = missing_headers({k.lower(): v for k, v in (answer.get("headers") or {}).items()})
    if not missing:
        return None
    return Finding.of(
        "missing-security-headers", page, f"https://{key}/",
        f"主機 {key} 的回應缺少安全標頭：{'、'.join(f'`{m}`' for m in missing)}（最佳實務建議）",
        {"missing": missing, "url": answer.get("url"), "present": sorted(answer.get("headers") or {})},
        detail_en=f"Responses of {key} lack the security headers {', '.join(missing)} (best practice)",
    )


def mixed_content_findings(facts: SiteFacts) -> list[Finding]:
    """One finding per HTTPS page that loads images, frames, scripts or styles over plain http."""
    by_page: dict[str, set[tuple[str, str]]] = {}
    https_pages = {p.url: p for p in facts.pages if (p.final_url or p.url).lower().startswith("https://")}
    if not https_pages:
        return []  # an http-only site: its links are not read at all
    for link in facts.links:
        if link.tag in MIXED_TAGS and link.source in https_pages and link.target.lower().startswith("http://"):
            by_page.setdefault(link.source, set()).add((link.tag, link.target_no_fragment))
    for url, page in https_pages.items():
        for item in page.artifacts.http_subresources or []:
            by_page.setdefault(url, set()).add((str(item.get("tag")), str(item.get("url"))))
    findings = []
    for url in sorted(by_page, key=lambda u: (https_pages[u].depth, u)):
        items = sorted(by_page[url])
        active = sorted({tag for tag, _ in items if tag in _ACTIVE})
        kinds = "、".join(_TAG_ZH.get(t, t) for t in sorted({tag for tag, _ in items}))
        findings.append(Finding.of(
            "mixed-content", url,
            next((u for t, u in items if t in _ACTIVE), items[0][1]),  # what browsers block, first
            f"以 HTTPS 提供的網頁以未加密的 HTTP 載入{kinds}（{len(items)} 項）"
            + ("，瀏覽器會封鎖這些內容" if active else "，瀏覽器會顯示不安全"),
            {"resources": [{"tag": t, "url": u} for t, u in items[:20]], "count": len(items), "blocked_kinds": active},
            detail_en=f"An HTTPS page loads {len(items)} resource(s) over plain http ("
                      f"{', '.join(sorted({t for t, _ in items}))})"
                      + ("; browsers block the active ones" if active else "; browsers flag the page as not secure"),
        ))
    return findings
