# SPDX-License-Identifier: MIT
#
# Self-tests of the scenario features the parental-agent tests rely on: who
# signs CDS, explicit DS sets, per-server overrides (keys, serial, apex NS,
# expired or unsigned data on one server), record removal, stripped RRSIGs,
# undelegated zones, key caching and scenario validation.

import time

import pytest

import testbed as tbmod
from dnsutil import dig, norm

NS = ["ns1.prov.example.", "ns2.prov.example."]
FAKE_DS = "12345 13 2 " + "ab" * 32

FEATURES = {
    "name": "features",
    "zones": {
        ".": {},
        "example.": {"layout": "split"},
        "prov.example.": {"nameservers": NS},
        "zskcds.example.": {"layout": "split", "cds": True, "cds_signer": "zsk",
                            "nameservers": NS},
        "allcds.example.": {"layout": "split", "cdnskey": True, "cds_signer": "all",
                            "nameservers": NS},
        "multi.example.": {
            "keys": [{"name": "a", "role": "csk"},
                     {"name": "b", "role": "csk", "algorithm": "ED25519", "ds": False}],
            "extra_keys": [{"name": "next", "publish": False}],
            "cds": ["a", "next"],
            "records": ["www A 192.0.2.1", "mail 60 IN MX 10 www",
                        'txt TXT "hello world"', "bare A 192.0.2.2"],
            "remove": ["txt TXT"],
            "strip_rrsig": ["bare A"],
            "nameservers": NS,
            "overrides": {
                "ns2.prov.example.": {
                    "key_state": {"b": {"publish": False, "sign": False}},
                    "serial": 7, "apex_ns": ["ns1.prov.example."], "expired": True,
                },
            },
        },
        "half.example.": {"nameservers": NS,
                          "overrides": {"ns2.prov.example.": {"signed": False}}},
        "orphan.example.": {"delegate": False, "nameservers": NS},
        "fake.example.": {"signed": False, "ds": [FAKE_DS], "nameservers": NS},
        "inbw.example.": {"nameservers": ["ns1.inbw.example."], "records": ["www A 192.0.2.9"]},
    },
}


@pytest.fixture(scope="module")
def tb(testbed):
    return testbed(FEATURES)


def ask(tb, host, *args):
    return dig("@" + tb.addr(host), "+norec", "+dnssec", *args)


def sig_tags(r, covered):
    return sorted(int(x.split()[6]) for x in r.rdatas("RRSIG") if x.split()[0] == covered.lower())


def test_cds_signer(tb):
    keys = {k["name"]: k["tag"] for k in tb.zone("zskcds.example.")["keys"]}
    r = ask(tb, NS[0], "zskcds.example.", "CDS")
    assert len(r.rdatas("CDS")) == 1 and sig_tags(r, "CDS") == [keys["zsk"]], r
    keys = {k["name"]: k["tag"] for k in tb.zone("allcds.example.")["keys"]}
    r = ask(tb, NS[1], "allcds.example.", "CDNSKEY")
    assert sig_tags(r, "CDNSKEY") == sorted(keys.values()), r


def test_keys_ds_and_cds_selection(tb):
    zone = tb.zone("multi.example.")
    keys = {k["name"]: k for k in zone["keys"]}
    assert keys["b"]["algorithm"] == 15 and not keys["next"]["published"]
    assert zone["ds"] == [keys["a"]["ds"]["2"]]
    r = ask(tb, "a.nic.example.", "multi.example.", "DS")
    assert r.rdatas("DS") == [norm(keys["a"]["ds"]["2"].split(None, 4)[4], "DS")]
    r = ask(tb, NS[0], "multi.example.", "CDS")
    assert sorted(int(x.split()[0]) for x in r.rdatas("CDS")) == \
        sorted([keys["a"]["tag"], keys["next"]["tag"]])
    r = ask(tb, NS[0], "multi.example.", "DNSKEY")
    assert len(r.rdatas("DNSKEY")) == 2
    assert sig_tags(r, "DNSKEY") == sorted([keys["a"]["tag"], keys["b"]["tag"]])


def test_records_remove_and_strip(tb):
    r = ask(tb, NS[0], "mail.multi.example.", "MX")
    assert r.rdatas("MX") == ["10 www.multi.example."] and r.answer[0][1] == 60
    assert ask(tb, NS[0], "txt.multi.example.", "TXT").status == "NXDOMAIN"
    r = ask(tb, NS[0], "bare.multi.example.", "A")
    assert r.rdatas("A") == ["192.0.2.2"] and not r.rdatas("RRSIG"), r
    assert ask(tb, NS[0], "www.multi.example.", "A").rdatas("RRSIG")


def test_per_server_override(tb):
    keys = {k["name"]: k["tag"] for k in tb.zone("multi.example.")["keys"]}
    one = ask(tb, NS[0], "multi.example.", "SOA")
    two = ask(tb, NS[1], "multi.example.", "SOA")
    assert one.rdatas("SOA")[0].split()[2] != "7"
    assert two.rdatas("SOA")[0].split()[2] == "7"
    r = ask(tb, NS[1], "multi.example.", "DNSKEY")
    assert len(r.rdatas("DNSKEY")) == 1 and sig_tags(r, "DNSKEY") == [keys["a"]]
    expiration = r.rdatas("RRSIG")[0].split()[4]
    assert expiration < time.strftime("%Y%m%d%H%M%S", time.gmtime())
    assert ask(tb, NS[1], "multi.example.", "NS").rdatas("NS") == [NS[0]]
    assert ask(tb, NS[0], "multi.example.", "NS").rdatas("NS") == NS
    # Unsigned on ns2 only.
    assert ask(tb, NS[0], "half.example.", "SOA").rdatas("RRSIG")
    r = ask(tb, NS[1], "half.example.", "SOA")
    assert r.rdatas("SOA") and not r.rdatas("RRSIG"), r


def test_undelegated_and_explicit_ds(tb):
    r = ask(tb, "a.nic.example.", "orphan.example.", "NS")
    assert r.status == "NXDOMAIN", r
    r = ask(tb, NS[0], "orphan.example.", "SOA")
    assert r.status == "NOERROR" and "aa" in r.flags
    r = ask(tb, "a.nic.example.", "fake.example.", "DS")
    assert r.rdatas("DS") == [norm(FAKE_DS, "DS")]


def test_keys_are_cached_in_the_work_dir(tmp_path, requires_testbed):
    scenario = {"zones": {".": {}, "example.": {"layout": "split"}}}
    wd = str(tmp_path / "tb")
    with tbmod.Testbed(scenario, wd) as tb:
        first = [k["tag"] for k in tb.zone("example.")["keys"]]
    with tbmod.Testbed(scenario, wd) as tb:
        assert [k["tag"] for k in tb.zone("example.")["keys"]] == first
        assert dig("@" + tb.addr("a.nic.example."), "+norec", "example.", "SOA").status \
            == "NOERROR"


@pytest.mark.parametrize("scenario, message", [
    ({"zones": {"example.": {"sigend": False}}}, "unknown fields"),
    ({"zones": {"example.": {"overrides": {"ns9.example.": {"cds": True}}}}},
     "does not serve it"),
    ({"zones": {"example.": {"overrides": {"a.nic.example.": {"nameservers": []}}}}},
     "cannot be overridden"),
    ({"zones": {"example.": {"keys": [{"name": "k", "role": "big"}]}}}, "role"),
    ({"zonez": {}}, "unknown fields"),
])
def test_bad_scenarios_are_rejected(scenario, message):
    with pytest.raises(tbmod.TestbedError, match=message):
        tbmod.Testbed(scenario)


def test_in_bailiwick_nameserver_gets_glue(tb):
    addr = tb.addr("ns1.inbw.example.")
    r = dig("@" + tb.addr("a.nic.example."), "+norec", "www.inbw.example.", "A")
    assert "ns1.inbw.example." in r.text and addr in r.text     # referral with glue
    r = dig("@" + tb.resolver(), "www.inbw.example.", "A")
    assert r.status == "NOERROR" and "ad" in r.flags and r.rdatas("A") == ["192.0.2.9"], r
