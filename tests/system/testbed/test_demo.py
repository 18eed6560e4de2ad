# SPDX-License-Identifier: MIT
#
# Self-tests of the demo scenario (tests/testbed/scenarios/demo.json): every
# child shows the DNSSEC state it is meant to show through a real validating
# Unbound, and what each nameserver publishes (CDS, RFC 9615 signals,
# per-server differences) is what the scenario describes.

import random

import pytest

from dnsutil import dig, norm


@pytest.fixture(scope="module")
def demo(testbed):
    return testbed("demo", resolver=True)


@pytest.mark.parametrize("name, status, ad", [
    ("www.secure.example.", "NOERROR", True),
    ("www.insecure.example.", "NOERROR", False),
    ("www.bogus.example.", "SERVFAIL", False),
    ("www.tampered.example.", "SERVFAIL", False),
    ("www.expired.example.", "SERVFAIL", False),
    ("www.rollover.example.", "NOERROR", True),
    ("www.delete.example.", "NOERROR", True),
    ("www.bootstrap.example.", "NOERROR", False),
    ("www.mixed.example.", "NOERROR", True),
    ("www.nsec3.example.", "NOERROR", True),
    ("www.rsa.example.", "NOERROR", True),
    ("www.provider.test.", "NOERROR", True),
])
def test_children_validate_as_designed(demo, name, status, ad):
    r = dig("@" + demo.resolver(), name, "A")
    assert r.status == status, r
    assert ("ad" in r.flags) == ad, r


def test_rfc9615_signals_are_validated_and_match_the_apex(demo):
    child = demo.zone("bootstrap.example.")
    assert child["ds"] == [] and child["cds"] and child["cdnskey"]
    apex_cds = sorted(norm(l.split(None, 4)[4], "CDS") for l in child["cds"])
    holders = {s["nameserver"]: s["zone"] for s in child["signals"]}
    assert holders == {"ns1.provider.test.": "provider.test.",
                       "ns2.provider.test.": "_signal.ns2.provider.test."}
    for sig in child["signals"]:
        r = dig("@" + demo.resolver(), "+dnssec", sig["name"], "CDS")
        assert r.status == "NOERROR" and "ad" in r.flags, r
        assert r.rdatas("CDS") == apex_cds
    # The apex itself is insecure (no DS) but signed.
    r = dig("@" + demo.addr("ns1.provider.test."), "+norec", "+dnssec",
            "bootstrap.example.", "CDS")
    assert r.rdatas("CDS") == apex_cds and r.rdatas("RRSIG")


def test_per_server_cds_differs(demo):
    zone = demo.zone("mixed.example.")
    assert len(zone["variants"]) == 3
    csk = zone["keys"][0]
    want = {
        demo.addr("ns1.provider.test.", 0): [norm(csk["ds"]["2"].split(None, 4)[4], "CDS")],
        demo.addr("ns1.provider.test.", 1): ["0 0 0 00"],
        demo.addr("ns2.provider.test.", 0): [],
    }
    for addr, cds in want.items():
        r = dig("@" + addr, "+norec", "mixed.example.", "CDS")
        assert r.status == "NOERROR" and r.rdatas("CDS") == cds, (addr, r)


def test_rollover_cds_is_signed_by_the_ksk(demo):
    zone = demo.zone("rollover.example.")
    keys = {k["name"]: k for k in zone["keys"]}
    assert set(keys) == {"ksk", "zsk", "ksk2"}
    assert not keys["ksk2"]["signs"] and not keys["ksk2"]["in_ds"]
    assert zone["ds"] == [keys["ksk"]["ds"]["2"]]
    r = dig("@" + demo.resolver(), "+dnssec", "rollover.example.", "CDS")
    assert "ad" in r.flags, r
    assert sorted(int(x.split()[0]) for x in r.rdatas("CDS")) == \
        sorted([keys["ksk"]["tag"], keys["ksk2"]["tag"]])
    sig_tags = [int(x.split()[6]) for x in r.rdatas("RRSIG")]
    assert sig_tags == [keys["ksk"]["tag"]]


def test_delete_records_are_served_signed(demo):
    r = dig("@" + demo.resolver(), "+dnssec", "delete.example.", "CDNSKEY")
    assert "ad" in r.flags and r.rdatas("CDNSKEY") == ["0 3 0 aa=="], r


def test_silent_nameserver_address(demo):
    (silent,) = demo.addrs("dead.provider.test.", "silent")
    r = dig("@" + silent, "+norec", "slow.example.", "SOA", timeout=1)
    assert r.status is None and "timed out" in r.text
    r = dig("@" + demo.resolver(), "www.slow.example.", "A")
    assert r.status == "NOERROR" and "ad" in r.flags, r


def test_resolver_on_a_high_port(demo):
    port = random.randint(20000, 60000)
    addr = demo.start_resolver(port=port)
    r = dig("@" + addr, "-p", str(port), "www.secure.example.", "A")
    assert r.status == "NOERROR" and "ad" in r.flags, r
