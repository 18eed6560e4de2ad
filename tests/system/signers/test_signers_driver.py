# SPDX-License-Identifier: MIT
#
# The RFC 2136 driver of `zonecut signers` against real signers: every write is
# read back from every authoritative server of the signer, and a NOERROR that
# changed nothing is told apart from success -- Knot with dnskey-management
# incremental takes foreign keys, Knot with full answers NOERROR and drops them,
# BIND 9.18 takes them but keeps the keys it signs with; a signer whose
# secondary lags is "partial"; a wrong TSIG key is refused; no server at all is
# transient (the outcome is unknown).

import json
import os
import subprocess

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def signers(workdir):
    base = L.free_block()
    s = {
        "inc": L.KnotSigner("inc", os.path.join(workdir, "inc"), base + ".21", "ns1.inc.example.", 3),
        "full": L.KnotSigner("full", os.path.join(workdir, "full"), base + ".22",
                             "ns1.full.example.", 3, mode="full"),
        "bind": L.BindSigner("bind", os.path.join(workdir, "bind"), base + ".23",
                             "ns1.bind.example.", 3),
        "other": L.KnotSigner("other", os.path.join(workdir, "other"), base + ".24",
                              "ns1.other.example.", 3),
    }
    if L.find("pdns_server") and L.find("sqlite3") and \
            os.path.exists("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"):
        s["pdns"] = L.PdnsSigner("pdns", os.path.join(workdir, "pdns"), base + ".25",
                                 "ns1.pdns.example.", 3)
    try:
        for x in s.values():
            x.start()
        yield s
    finally:
        for x in s.values():
            x.stop()


def write(tool, spec, add=(), delete=(), readback_ms=3000):
    args = [tool, "write", "--signer", spec, "--zone", L.CHILD,
            "--readback-timeout", str(readback_ms), "--timeout", "2000"]
    for a in add:
        args += ["--add", a]
    for d in delete:
        args += ["--del", d]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)


def rdata(rr):
    return " ".join(rr.split()[4:])


def test_knot_incremental_takes_and_drops_a_foreign_key(signers, signers_tool, make_key):
    s = signers["inc"]
    key = make_key(256)
    r = write(signers_tool, s.spec(), add=[key])
    assert r["outcome"] == "ok", r
    assert r["servers"] == 1
    assert rdata(key) in s.rd("DNSKEY")
    # and the signer keeps it across a re-sign
    assert s.knotc("zone-sign", L.CHILD).returncode == 0
    L.wait_for(lambda: rdata(key) in s.rd("DNSKEY"), 5, "key after re-sign")
    r = write(signers_tool, s.spec(), delete=[key])
    assert r["outcome"] == "ok", r
    assert rdata(key) not in s.rd("DNSKEY")


def test_knot_full_answers_noerror_and_changes_nothing(signers, signers_tool, make_key):
    s = signers["full"]
    key = make_key(256)
    r = write(signers_tool, s.spec(), add=[key])
    assert r["outcome"] == "ignored", r
    assert r["rcode"] == 0  # NOERROR
    assert "answered NOERROR but changed nothing" in r["why"]
    assert rdata(key) not in s.rd("DNSKEY")


def test_bind_takes_foreign_keys_cds_ns_and_csync(signers, signers_tool, make_key):
    s = signers["bind"]
    key = make_key(256)
    ksk = make_key(257)
    cdnskey = ksk.replace(" DNSKEY ", " CDNSKEY ")
    ns = "%s 3 IN NS ns9.elsewhere.example." % L.CHILD
    csync = "%s 3 IN CSYNC 0 1 NS" % L.CHILD
    r = write(signers_tool, s.spec(), add=[key, cdnskey, ns, csync])
    assert r["outcome"] == "ok", r
    assert rdata(key) in s.rd("DNSKEY")
    assert rdata(cdnskey) in s.rd("CDNSKEY")
    assert "ns9.elsewhere.example." in s.rd("NS")
    assert s.rd("CSYNC") == ["0 1 NS"]
    r = write(signers_tool, s.spec(), delete=[key, cdnskey, ns, csync])
    assert r["outcome"] == "ok", r
    assert rdata(key) not in s.rd("DNSKEY") and s.rd("CSYNC") == []


def test_bind_keeps_its_own_key_and_that_is_caught(signers, signers_tool):
    s = signers["bind"]
    own = [k for k in s.rd("DNSKEY") if k.startswith("256 ")][0]
    r = write(signers_tool, s.spec(), delete=["%s 3 IN DNSKEY %s" % (L.CHILD, own)])
    assert r["outcome"] == "ignored", r
    assert own in s.rd("DNSKEY")


def test_every_server_is_read_back_a_lagging_one_is_partial(signers, signers_tool, make_key):
    s, other = signers["inc"], signers["other"]
    # one signer, two "authoritative servers": the second never hears of the change
    spec = "%s driver=rfc2136 server=%s tsig=hmac-sha256:%s:%s ns=%s=%s,%s" % (
        s.name, s.addr, L.TSIG_NAME, s.secret, s.ns_name, s.addr, other.addr)
    key = make_key(256)
    r = write(signers_tool, spec, add=[key], readback_ms=1500)
    assert r["outcome"] == "partial", r
    assert r["servers"] == 2
    assert other.addr in r["why"]
    assert rdata(key) in s.rd("DNSKEY")
    write(signers_tool, s.spec(), delete=[key])


def test_wrong_tsig_key_is_refused(signers, signers_tool, make_key):
    s = signers["inc"]
    spec = s.spec().replace(s.secret, L.tsig_secret())
    r = write(signers_tool, spec, add=[make_key(256)])
    assert r["outcome"] == "refused", r
    assert "BADSIG" in r["why"] or "TSIG" in r["why"]


def test_no_server_is_transient(signers_tool, make_key):
    addr = L.free_block() + ".9"
    spec = "gone driver=rfc2136 server=%s tsig=hmac-sha256:%s:%s ns=ns1.gone.example.=%s" % (
        addr, L.TSIG_NAME, L.tsig_secret(), addr)
    r = write(signers_tool, spec, add=[make_key(256)])
    assert r["outcome"] == "transient", r


@pytest.fixture
def pdns(signers):
    if "pdns" not in signers:
        pytest.skip("PowerDNS with the sqlite3 backend is not installed")
    return signers["pdns"]


def test_pdns_rfc2136_takes_keys_cds_ns_and_drops_csync(pdns, signers_tool, make_key):
    key = make_key(256)
    cds = "%s 3 IN CDS 12345 13 2 %s" % (L.CHILD, "AB" * 32)
    ns = "%s 3 IN NS ns9.elsewhere.example." % L.CHILD
    csync = "%s 3 IN CSYNC 0 1 NS" % L.CHILD
    r = write(signers_tool, pdns.spec(), add=[key, cds, ns, csync])
    assert r["outcome"] == "ok", r
    assert rdata(key) in pdns.rd("DNSKEY") and pdns.rd("CSYNC") == ["0 1 NS"]
    # PowerDNS 4.7 does not delete a CSYNC by its rdata: it goes as a whole RRset
    r = write(signers_tool, pdns.spec(), delete=[key, cds, ns, csync])
    assert r["outcome"] == "ok", r
    assert rdata(key) not in pdns.rd("DNSKEY") and pdns.rd("CSYNC") == []
    assert "ns9.elsewhere.example." not in pdns.rd("NS")


def test_pdns_api_driver_replaces_only_what_it_put_there(pdns, signers_tool, make_key):
    own = pdns.rd("DNSKEY")  # PowerDNS's own CSK (its keystore)
    own_cds = pdns.rd("CDS")
    k1, k2 = make_key(256), make_key(256)
    ksk = make_key(257)
    cdnskey = ksk.replace(" DNSKEY ", " CDNSKEY ")
    r = write(signers_tool, pdns.api_spec(), add=[k1, k2, cdnskey])
    assert r["outcome"] == "ok", r
    assert sorted(own + [rdata(k1), rdata(k2)]) == pdns.rd("DNSKEY")
    assert rdata(cdnskey) in pdns.rd("CDNSKEY")
    r = write(signers_tool, pdns.api_spec(), delete=[k1, cdnskey])
    assert r["outcome"] == "ok", r
    assert sorted(own + [rdata(k2)]) == pdns.rd("DNSKEY")
    assert pdns.rd("CDS") == own_cds
    r = write(signers_tool, pdns.api_spec(), delete=[k2])
    assert r["outcome"] == "ok", r
    assert pdns.rd("DNSKEY") == own


def test_pdns_api_wrong_key_is_refused(pdns, signers_tool, make_key):
    r = write(signers_tool, pdns.api_spec(key="wrong"), add=[make_key(256)])
    assert r["outcome"] == "refused", r
    assert "HTTP 401" in r["why"]
