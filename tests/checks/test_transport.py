"""Transport security (issue 18): Chrome's distrust of the Chunghwa Telecom roots, http:// → https://,
mixed content, expiring certificates, TLS 1.0/1.1 and security headers — on real HTTPS servers on 127.x
with certificates made at test time (no network).

trustme cannot name a CA without a CN nor embed SCTs, so the Chunghwa-named chains are built with
`cryptography` directly: a root whose subject is exactly the distrusted root's, an intermediate under it,
and a leaf whose notBefore / embedded SCT list (RFC 6962, an unsigned list: only the timestamp is read,
as Chrome's rule reads it) puts it before or after 2025-07-31 23:59:59 UTC."""

from __future__ import annotations

import ipaddress
import re
import ssl
import struct
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hostile_servers import HostileSite, run_audit
from servers import Site, page

from checks.artifacts import SiteArtifacts
from checks.base import AuditContext
from checks.facts import Agency, LinkRef, PageFacts, SiteFacts
from checks.transport import TransportCheck, missing_headers
from crawler.extract import extract_page
from crawler.tls import SCT_LIST_OID, judge_host, legacy_tls

trustme = pytest.importorskip("trustme", reason="trustme is in the test extras: pip install -e .[test]")
x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

EPKI = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chunghwa Telecom Co., Ltd."),
                  x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "ePKI Root Certification Authority")])
HIPKI = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
                   x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chunghwa Telecom Co., Ltd."),
                   x509.NameAttribute(NameOID.COMMON_NAME, "HiPKI Root CA - G1")])
OTHER = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
                   x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Other Root")])
CUTOFF = datetime(2025, 7, 31, 23, 59, 59, tzinfo=UTC)
LATE, EARLY = CUTOFF + timedelta(days=30), CUTOFF - timedelta(days=30)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def sct_list(*stamps: datetime) -> bytes:
    """The extnValue of an embedded SCT list: OCTET STRING of a TLS-encoded list of v1 SCTs."""
    items = b""
    for when in stamps:
        sct = (b"\x00" + b"\x11" * 32 + struct.pack(">Q", int(when.timestamp() * 1000)) + b"\x00\x00"
               + b"\x04\x03" + struct.pack(">H", 2) + b"\x30\x00")
        items += struct.pack(">H", len(sct)) + sct
    body = struct.pack(">H", len(items)) + items
    return b"\x04" + bytes([0x81, len(body)] if len(body) > 127 else [len(body)]) + body


class Chain:
    """root → intermediate → leaf for one 127.x address; `pem` files for a server and the root bundle."""

    def __init__(self, root_name: x509.Name, host: str, *, not_before: datetime, not_after: datetime | None = None,
                 scts: tuple[datetime, ...] = (), tmp: Path) -> None:
        now = datetime.now(UTC)
        root_key, mid_key, leaf_key = _key(), _key(), _key()
        root = self._cert(root_name, root_name, root_key.public_key(), root_key, now - timedelta(days=3650),
                          now + timedelta(days=3650), ca=True)
        mid_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
                              x509.NameAttribute(NameOID.COMMON_NAME, "Test TLS CA")])
        mid = self._cert(mid_name, root_name, mid_key.public_key(), root_key, now - timedelta(days=3000),
                         now + timedelta(days=3000), ca=True)
        leaf = self._cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]), mid_name,
                          leaf_key.public_key(), mid_key, not_before, not_after or now + timedelta(days=200),
                          ca=False, host=host, scts=scts)
        self.root_file = tmp / f"root-{host}.pem"
        self.root_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        self.cert_file = tmp / f"chain-{host}.pem"
        self.cert_file.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, mid)))
        self.key_file = tmp / f"key-{host}.pem"
        self.key_file.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))

    @staticmethod
    def _cert(subject, issuer, public_key, signing_key, not_before, not_after, *, ca, host=None, scts=()):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(not_before)
                   .not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        if scts:
            builder = builder.add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier(SCT_LIST_OID), sct_list(*scts)), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    def context(self, *, legacy: bool = False) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        if legacy:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        return ctx


@pytest.fixture
def servers():
    started: list[Site] = []

    def start(site: Site) -> Site:
        started.append(site.start())
        return site

    yield start
    for site in started:
        site.stop()


def judge(chain: Chain, site: HostileSite) -> dict:
    return judge_host(site.host, site.server.server_address[1], extra_ca=str(chain.root_file), timeout=5)


def facts_for(url: str, verdict: dict, transport: dict | None = None) -> SiteFacts:
    host = url.split("//", 1)[1].rstrip("/")
    facts = SiteFacts(Agency("測試機關", url), hosts=[host.split(":")[0]], pages=[PageFacts(url=url, final_url=url)])
    facts.artifacts = SiteArtifacts(tls={host: verdict}, transport=transport or {})
    return facts


def run_check(facts: SiteFacts, today: date = date(2026, 12, 1)) -> list[dict]:
    return [f.to_json() for f in TransportCheck().run(facts, AuditContext(today=today))]


@pytest.mark.parametrize(("root_name", "label", "not_before", "scts", "fires", "source"), [
    (EPKI, "ePKI Root Certification Authority", LATE, (), True, "notBefore"),
    (HIPKI, "HiPKI Root CA - G1", EARLY, (CUTOFF + timedelta(seconds=1),), True, "sct"),
    (HIPKI, "HiPKI Root CA - G1", EARLY, (), False, "notBefore"),
    # the earliest SCT decides, not notBefore: logged before the cutoff, still trusted
    (EPKI, "ePKI Root Certification Authority", LATE, (LATE, CUTOFF - timedelta(seconds=1)), False, "sct"),
    (OTHER, None, LATE, (LATE,), False, "sct"),
], ids=["epki-late", "hipki-sct-late", "hipki-early", "epki-sct-early", "other-root"])
def test_chrome_distrust_of_chunghwa_roots(tmp_path, servers, root_name, label, not_before, scts, fires, source):
    chain = Chain(root_name, "127.0.0.1", not_before=not_before, scts=scts, tmp=tmp_path)
    site = servers(HostileSite(tls=chain.context()))
    site.html("/", page("首頁"))
    verdict = judge(chain, site)
    assert verdict["trusted_by"] == ["extra"]
    leaf, mid = verdict["chain"]
    assert mid["issuer"] == root_name.rfc4514_string()
    assert leaf["not_before"] == not_before.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert leaf.get("scts", []) == sorted(s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in scts)
    assert verdict["verified_chain"][-1] == {"subject": root_name.rfc4514_string(),
                                             "issuer": root_name.rfc4514_string()}
    key = f"127.0.0.1:{site.server.server_address[1]}"
    findings = [f for f in run_check(facts_for(f"https://{key}/", verdict)) if f["rule"] == "tls-distrusted-by-chrome"]
    if not fires:
        assert findings == []
        return
    [finding] = findings
    used = min(scts) if scts else not_before
    assert finding["severity"] == "error"
    assert finding["target"] == f"https://{key}/"
    assert finding["evidence"]["root"] == label
    assert finding["evidence"]["date"] == used.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert finding["evidence"]["date_source"] == source
    assert finding["evidence"]["chain"] == [{"subject": c["subject"], "issuer": c["issuer"]} for c in verdict["chain"]]
    assert f"「{label}」" in finding["detail"] and "139" in finding["detail_en"]


def test_distrust_is_found_from_the_verified_path_when_the_server_sends_the_leaf_alone():
    """A server that sends only its leaf: the trusting profile's path still shows the root."""
    leaf = {"subject": "CN=www.example.gov.tw", "issuer": "CN=Government TLS CA,C=TW",
            "not_before": "2025-09-01T00:00:00Z", "not_after": "2026-09-01T00:00:00Z"}
    path = [{"subject": leaf["subject"], "issuer": leaf["issuer"]},
            {"subject": "CN=Government TLS CA,C=TW", "issuer": "OU=ePKI Root Certification Authority,"
                                                               "O=Chunghwa Telecom Co.\\, Ltd.,C=TW"}]
    facts = facts_for("https://www.example.gov.tw/", {"chain": [leaf], "verified_chain": path})
    [finding] = run_check(facts)
    assert (finding["rule"], finding["evidence"]["date_source"]) == ("tls-distrusted-by-chrome", "notBefore")
    facts = facts_for("https://www.example.gov.tw/", {"chain": [leaf], "verified_chain": path[:1]})
    assert run_check(facts) == []


def test_expiring_within_thirty_days_of_today_is_a_notice():
    def rules(expires: str) -> list[tuple[str, int]]:
        found = run_check(facts_for("https://a.gov.tw/", {"expires": expires}), today=date(2026, 12, 1))
        return [(f["rule"], f["evidence"]["days_left"]) for f in found]

    assert rules("2026-12-31") == [("tls-expiring", 30)]
    assert rules("2026-12-01") == [("tls-expiring", 0)]
    assert rules("2027-01-01") == []  # 31 days left
    assert rules("2026-11-30") == []  # expired: tls-error reports it


def test_legacy_tls_accepted_and_refused(tmp_path, servers):
    chain = Chain(OTHER, "127.0.0.1", not_before=EARLY, tmp=tmp_path)
    old = servers(HostileSite(tls=chain.context(legacy=True)))
    modern = servers(HostileSite(tls=chain.context()))
    old_probe = legacy_tls(old.host, old.server.server_address[1], timeout=5)
    if not old_probe["local_support"]:
        pytest.skip(f"this OpenSSL cannot offer TLS 1.0/1.1: {old_probe['error']}")
    assert old_probe["accepted"] == "TLSv1.1"
    modern_probe = legacy_tls(modern.host, modern.server.server_address[1], timeout=5)
    assert (modern_probe["accepted"], modern_probe["local_support"]) == (None, True)
    assert "VERSION" in modern_probe["error"].upper() or "HANDSHAKE" in modern_probe["error"].upper()


def test_security_header_requirements():
    assert missing_headers({}) == ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"]
    full = {"strict-transport-security": "max-age=31536000; includeSubDomains", "x-content-type-options": "nosniff",
            "x-frame-options": "SAMEORIGIN"}
    assert missing_headers(full) == []
    csp = {**full, "content-security-policy": "default-src 'self'; frame-ancestors 'self'"}
    del csp["x-frame-options"]
    assert missing_headers(csp) == []
    assert missing_headers({**full, "strict-transport-security": "max-age=0"}) == ["Strict-Transport-Security"]
    assert missing_headers({**csp, "content-security-policy": "default-src 'self'"}) == ["X-Frame-Options"]


def test_mixed_content_from_links_and_scripts():
    html = ('<html><head><link rel="stylesheet" href="http://cdn.example.tw/a.css">'
            '<link rel="alternate" href="http://www.example.gov.tw/en/">'
            '<script src="http://cdn.example.tw/a.js"></script><script src="/local.js"></script></head>'
            '<body><img src="http://img.example.tw/logo.png" alt="標誌"><img src="/ok.png" alt="">'
            '<a href="http://other.gov.tw/">其他機關</a></body></html>')
    parsed = extract_page(html, "https://www.example.gov.tw/")
    assert parsed.facts.artifacts.http_subresources == [{"tag": "link", "url": "http://cdn.example.tw/a.css"},
                                                       {"tag": "script", "url": "http://cdn.example.tw/a.js"}]
    assert extract_page(html, "http://www.example.gov.tw/").facts.artifacts.http_subresources is None
    facts = SiteFacts(Agency("測試機關", "https://www.example.gov.tw/"), hosts=["www.example.gov.tw"],
                      pages=[parsed.facts], links=parsed.links)
    [finding] = run_check(facts)
    assert finding["rule"] == "mixed-content" and finding["severity"] == "warning"
    assert finding["evidence"]["resources"] == [{"tag": "img", "url": "http://img.example.tw/logo.png"},
                                               {"tag": "link", "url": "http://cdn.example.tw/a.css"},
                                               {"tag": "script", "url": "http://cdn.example.tw/a.js"}]
    assert finding["evidence"]["blocked_kinds"] == ["link", "script"]
    only_image = SiteFacts(facts.agency, hosts=facts.hosts, pages=[PageFacts(url="https://www.example.gov.tw/")],
                           links=[LinkRef("https://www.example.gov.tw/", "http://img.example.tw/logo.png", "", "img")])
    assert [f["evidence"]["blocked_kinds"] for f in run_check(only_image)] == [[]]


def _zh_ok(text: str) -> bool:
    from tests.e2e.test_zh_text import stray_words

    return stray_words(text) == [] or stray_words(text) == ["Chrome"]


def test_audit_end_to_end_bad_and_good_https_sites(tmp_path, servers):
    """Two sites crawled over https: one with every fault of this area, one with none."""
    now = datetime.now(UTC)
    bad_chain = Chain(EPKI, "127.0.0.2", not_before=LATE, not_after=now + timedelta(days=10), tmp=tmp_path)
    good_chain = Chain(OTHER, "127.0.0.3", not_before=EARLY, tmp=tmp_path)
    insecure = servers(Site(host="127.0.0.4"))
    insecure.routes["/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG")
    insecure.routes["/a.js"] = (200, {"Content-Type": "text/javascript"}, "")
    bad = servers(HostileSite(host="127.0.0.2", tls=bad_chain.context(legacy=True)))
    bad.html("/", page("首頁", f'<img src="{insecure.url}/logo.png" alt="標誌"><script src="{insecure.url}/a.js"></script>'
                             '<a href="/b.html">B</a>'))
    bad.html("/b.html", page("B"))
    bad_http = servers(Site(host="127.0.0.2"))
    bad_http.html("/", page("首頁（未加密）"))  # the http form answers 200 itself
    good = servers(HostileSite(host="127.0.0.3", tls=good_chain.context()))
    secure = {"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff",
              "Content-Security-Policy": "frame-ancestors 'self'"}
    good.html("/", page("首頁", '<img src="/logo.png" alt="標誌">'), **secure)
    good.routes["/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG")
    good_http = servers(Site(host="127.0.0.3"))
    good_http.routes["/"] = (301, {"Location": f"{good.url}/"}, "")

    bad_key = f"127.0.0.2:{bad.server.server_address[1]}"
    audit = run_audit(bad.url + "/", tmp_path / "bad", tls_extra_ca=str(bad_chain.root_file), today=now.date(),
                      http_ports={bad_key: bad_http.server.server_address[1]})
    found = sorted((f["rule"], f["severity"], f["page"], f["target"]) for f in audit.site["findings"]
                   if f["check"] == "transport")
    home = bad.url + "/"
    assert found == [
        ("http-not-redirected", "warning", home, f"{bad_http.url}/"),
        ("missing-security-headers", "notice", home, f"https://{bad_key}/"),
        ("mixed-content", "warning", home, f"{insecure.url}/a.js"),
        ("tls-distrusted-by-chrome", "error", home, f"https://{bad_key}/"),
        ("tls-expiring", "notice", home, f"https://{bad_key}/"),
        ("tls-legacy-version", "warning", home, f"https://{bad_key}/"),
    ]
    by_rule = {f["rule"]: f for f in audit.site["findings"] if f["check"] == "transport"}
    assert by_rule["tls-expiring"]["evidence"]["days_left"] == 10
    assert by_rule["tls-legacy-version"]["evidence"]["accepted"] == "TLSv1.1"
    assert by_rule["missing-security-headers"]["evidence"]["missing"] == [
        "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"]
    assert by_rule["http-not-redirected"]["evidence"]["status"] == 200
    assert by_rule["mixed-content"]["evidence"]["count"] == 2
    assert by_rule["tls-distrusted-by-chrome"]["evidence"]["date_source"] == "notBefore"
    assert all(_zh_ok(f["detail"]) for f in by_rule.values()), [f["detail"] for f in by_rule.values()]
    assert list(audit.site["transport"]["hosts"]) == [bad_key]
    assert audit.site["transport"]["hosts"][bad_key]["http"]["status"] == 200
    assert [m for m, _ in bad_http.hits] == ["GET"]  # one request to the http form
    criteria = {c["id"]: c for i in audit.site["scores"]["indicators"] for c in i["criteria"]}
    assert criteria["transport-security"]["status"] == "scored" and criteria["transport-security"]["lost"] > 0

    good_key = f"127.0.0.3:{good.server.server_address[1]}"
    audit = run_audit(good.url + "/", tmp_path / "good", tls_extra_ca=str(good_chain.root_file), today=now.date(),
                      http_ports={good_key: good_http.server.server_address[1]})
    assert [f for f in audit.site["findings"] if f["check"] == "transport"] == []
    transport = audit.site["transport"]["hosts"]
    assert transport[good_key]["http"]["final_url"] == f"{good.url}/"
    assert transport[good_key]["legacy_tls"]["accepted"] is None
    assert re.fullmatch(r"max-age=\d+", transport[good_key]["headers"]["headers"]["strict-transport-security"])


def test_http_only_site_gets_no_transport_findings_and_no_probe(site, tmp_path):
    site.html("/", page("首頁", '<img src="http://127.0.0.9:9/x.png" alt="x">'))
    audit = run_audit(site.url + "/", tmp_path)
    assert [f for f in audit.site["findings"] if f["check"] == "transport"] == []
    assert audit.facts.artifacts.transport == {}
    assert "transport" not in audit.site
