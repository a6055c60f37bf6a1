"""TLS trust profiles on real HTTPS servers (issue 7): certificates made at test time with trustme for
127.x hosts; no network. certifi cannot know a test CA, which is exactly the "untrusted issuer" case;
the test CA passed as the extra bundle plays the government root (GRCA)."""

from __future__ import annotations

import re
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hostile_servers import HostileSite, run_audit
from paths import ROOT
from servers import page

from crawler.tls import hostname_matches, judge_host, probe_hosts

trustme = pytest.importorskip("trustme", reason="trustme is in the test extras: pip install -e .[test]")
RUBRIC = ROOT / "checks" / "data" / "rubric.yaml"


def server_context(leaf, *, leaf_only: bool = False, tmp: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if leaf_only:
        assert tmp is not None
        cert, key = tmp / "leaf.pem", tmp / "leaf.key"
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        ctx.load_cert_chain(str(cert), str(key))
    else:
        leaf.configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def root():
    return trustme.CA(organization_name="Test Government Root CA")


@pytest.fixture(scope="module")
def ca(root):
    """Issues the servers' certificates: an intermediate under the root, as public CAs (and GCA under
    GRCA) do; servers send leaf + intermediate unless a test says otherwise."""
    return root.create_child_ca()


@pytest.fixture(scope="module")
def ca_file(root, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "grca.pem"
    root.cert_pem.write_to_path(str(path))
    return str(path)


def https_site(ctx: ssl.SSLContext, host: str = "127.0.0.1") -> HostileSite:
    site = HostileSite(host=host, tls=ctx).start()
    site.html("/", page("安全網站"))
    return site


@pytest.fixture
def served():
    sites: list[HostileSite] = []

    def serve(ctx: ssl.SSLContext, host: str = "127.0.0.1") -> HostileSite:
        site = https_site(ctx, host)
        sites.append(site)
        return site

    yield serve
    for site in sites:
        site.stop()


def judge(site: HostileSite, extra_ca: str | None = None) -> dict:
    return judge_host(site.host, site.server.server_address[1], extra_ca=extra_ca, timeout=5)


def test_host_trusted_only_by_the_extra_bundle_is_the_grca_case(ca, ca_file, served):
    leaf = ca.issue_cert("127.0.0.1", not_after=datetime(2031, 3, 4, 12, 0, tzinfo=UTC))
    verdict = judge(served(server_context(leaf)), extra_ca=ca_file)
    assert verdict["ok"] is True
    assert verdict["trusted_by"] == ["extra"]
    assert verdict["profiles"]["public"]["ok"] is False
    assert verdict["profiles"]["public"]["reason"] == "unable to get local issuer certificate"
    assert verdict["profiles"]["system"]["ok"] is False
    assert verdict["profiles"]["extra"] == {"ok": True, "reason": None}
    assert verdict["expires"] == "2031-03-04"
    assert verdict["hostname_match"] is True
    assert verdict["chain_sent"] == 2
    assert verdict["problems"] == []


def test_untrusted_issuer_without_extra_bundle_fails_every_profile(ca, served):
    leaf = ca.issue_cert("127.0.0.1")
    verdict = judge(served(server_context(leaf)))
    assert verdict["ok"] is False
    assert set(verdict["profiles"]) == {"public", "system"}
    assert verdict["chain_sent"] == 2
    assert verdict["problems"] == ["untrusted-issuer"]
    # our trust store's gap, not the site's fault: the default rubric treats it as indeterminate
    pattern = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))["indeterminate"]["conditions"]
    tls_pattern = next(c["pattern"] for c in pattern if c["rule"] == "tls-error")
    assert re.search(tls_pattern.replace("(?i)", ""), verdict["reason"], re.IGNORECASE)


def test_expired_certificate_is_named_and_counts_against_the_site(ca, ca_file, served):
    now = datetime.now(UTC)
    leaf = ca.issue_cert("127.0.0.1", not_before=now - timedelta(days=400), not_after=now - timedelta(days=3))
    verdict = judge(served(server_context(leaf)), extra_ca=ca_file)
    assert verdict["ok"] is False
    assert verdict["problems"] == ["expired"]
    assert verdict["expires"] == (now - timedelta(days=3)).date().isoformat()
    assert verdict["profiles"]["extra"]["reason"] == "certificate has expired"
    assert verdict["reason"] == "憑證已過期 / expired"
    conditions = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))["indeterminate"]["conditions"]
    tls_pattern = next(c["pattern"] for c in conditions if c["rule"] == "tls-error")
    assert not re.search(tls_pattern.replace("(?i)", ""), verdict["reason"], re.IGNORECASE)


def test_hostname_mismatch(ca, ca_file, served):
    leaf = ca.issue_cert("127.0.0.2", "www.example.gov.tw")  # served on 127.0.0.1
    verdict = judge(served(server_context(leaf)), extra_ca=ca_file)
    assert verdict["ok"] is False
    assert verdict["hostname_match"] is False
    assert verdict["problems"] == ["hostname-mismatch"]
    assert "IP address mismatch" in verdict["profiles"]["extra"]["reason"]


def test_incomplete_chain_leaf_without_its_intermediate(ca, ca_file, served, tmp_path):
    leaf = ca.issue_cert("127.0.0.1")
    broken = judge(served(server_context(leaf, leaf_only=True, tmp=tmp_path)), extra_ca=ca_file)
    assert broken["chain_sent"] == 1
    assert broken["ok"] is False
    assert broken["problems"] == ["incomplete-chain"]
    assert broken["reason"].startswith("憑證鏈不完整")
    fixed = judge(served(server_context(leaf)), extra_ca=ca_file)  # same leaf, full chain sent
    assert fixed["chain_sent"] == 2
    assert (fixed["ok"], fixed["trusted_by"], fixed["problems"]) == (True, ["extra"], [])


def test_unreachable_host_is_no_tls_verdict():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    verdict = probe_hosts([("127.0.0.1", port)], timeout=2)[f"127.0.0.1:{port}"]
    assert verdict["ok"] is None
    assert "refused" in verdict["error"].lower()


def test_hostname_matching_rules():
    assert hostname_matches("www.moda.gov.tw", ["*.moda.gov.tw"], [])
    assert not hostname_matches("a.b.moda.gov.tw", ["*.moda.gov.tw"], [])
    assert not hostname_matches("moda.gov.tw", ["*.moda.gov.tw"], [])
    assert hostname_matches("127.0.0.1", [], ["127.0.0.1"])
    assert not hostname_matches("127.0.0.1", ["127.0.0.1"], [])  # an IP must be an IP SAN


def test_audit_reports_grca_host_as_warning_and_expired_host_as_tls_error(ca, ca_file, served, site, tmp_path):
    now = datetime.now(UTC)
    grca = served(server_context(ca.issue_cert("127.0.0.2")), host="127.0.0.2")
    grca.html("/law.html", page("法規"))
    expired = served(server_context(ca.issue_cert("127.0.0.3", not_before=now - timedelta(days=30),
                                                  not_after=now - timedelta(days=1))), host="127.0.0.3")
    site.html("/", page("首頁", f'<a href="{grca.url}/">政府入口</a><a href="{grca.url}/law.html">法規</a>'
                              f'<a href="{expired.url}/">過期網站</a>'))
    site.html("/a.html", page("A", f'<a href="{grca.url}/law.html">法規</a>'))
    site.routes["/"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                        page("首頁", f'<a href="{grca.url}/">政府入口</a><a href="{grca.url}/law.html">法規</a>'
                                   f'<a href="{expired.url}/">過期網站</a><a href="/a.html">A</a>'))
    audit = run_audit(site.url + "/", tmp_path, tls_extra_ca=ca_file)
    assert audit.seconds < 30
    grca_key = f"127.0.0.2:{grca.server.server_address[1]}"
    [warning] = audit.findings("tls-untrusted-public")
    assert warning["severity"] == "warning"
    assert warning["target"] == f"https://{grca_key}/"
    assert warning["evidence"]["trusted_by"] == ["extra"]
    assert warning["evidence"]["pages"] == 2
    assert [f["target"] for f in audit.findings("tls-error")] == [expired.url + "/"]
    assert audit.findings("tls-error")[0]["evidence"]["problems"] == ["expired"]
    assert audit.findings("broken-link") == []
    assert audit.site["tls"][grca_key]["trusted_by"] == ["extra"]
