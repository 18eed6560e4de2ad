# SPDX-License-Identifier: MIT
#
# Nameserver names given without addresses (`ns=NAME`): the controller resolves
# them (A and AAAA) through its validating resolver -- here Unbound's library on
# the testbed's root, which delegates example. to the lab's signed Knot parent --
# and reads every write back from every address it got. The Knot signer's name
# has two A records: the signer itself, and a Knot secondary of it that the
# primary never notifies, so that a write shows there only after the test
# refreshes it between passes: each write to Knot is seen to wait for the
# address that came from DNS. A name that does not resolve (NXDOMAIN) holds the
# process where it stands, and status says which name and why.

import json
import os

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3)
    sec_addr = "%s.30" % lab.base
    # ns1.knot.example. has two addresses: the signer and its lagging secondary
    lab.parent_extra = ["ns1.knot.example. A %s" % sec_addr]
    lab.secondary = None
    try:
        lab.start(group=("knot", "bind"))
        lab.secondary = L.KnotSecondary(os.path.join(workdir, "secondary"), sec_addr,
                                        lab.signers["knot"]).start()
        yield lab
    finally:
        if lab.secondary:
            lab.secondary.stop()
        lab.stop()


@pytest.fixture(scope="module")
def db(workdir):
    return os.path.join(workdir, "zc.db")


def resolver_opts(lab):
    return ["--trust-anchor", lab.testbed.trust_anchor, "--root-hints", lab.testbed.root_hints]


def knot_spec(lab, names):
    """The Knot signer with nameserver @names, none of them with an address."""
    k = lab.signers["knot"]
    spec = "%s driver=rfc2136 server=%s tsig=hmac-sha256:%s:%s" % (k.name, k.addr, L.TSIG_NAME,
                                                                  k.secret)
    return spec.split() + ["ns=%s" % n for n in names]


def live(lab, zonecut, db):
    p = lab.zonecut(zonecut, "signers", "--db", db, *resolver_opts(lab), "status", "--json")
    return json.loads(p.stdout.splitlines()[0]), p.returncode


def signer_of(st, name):
    return [s for s in st["signers"] if s["name"] == name][0]


def test_readback_waits_for_every_address_from_dns(lab, zonecut, db):
    knot, bind, sec = lab.signers["knot"], lab.signers["bind"], lab.secondary
    lab.zonecut(zonecut, "signers", "--db", db, "add", *knot_spec(lab, [knot.ns_name]))
    lab.zonecut(zonecut, "signers", "--db", db, "add", *bind.spec().split())
    lab.zonecut(zonecut, "signers", "--db", db, "zone-add", L.CHILD, "signers=knot,bind",
                "parent=" + lab.parent_addr)

    st, _ = live(lab, zonecut, db)
    ks, bs = signer_of(st, "knot"), signer_of(st, "bind")
    assert ks["error"] is None, ks["error"]
    want = sorted([knot.addr + "@53", sec.addr + "@53"])
    assert sorted(s["address"] for s in ks["servers"]) == want
    assert {(s["source"], s["ns"]) for s in ks["servers"]} == {("dns", knot.ns_name)}
    assert ks["nameservers"] == [{"name": knot.ns_name, "source": "dns", "addresses":
                                  ks["nameservers"][0]["addresses"], "security": "secure",
                                  "error": None}]
    assert sorted(ks["nameservers"][0]["addresses"]) == want
    assert [(s["address"], s["source"]) for s in bs["servers"]] == [(bind.addr + "@53",
                                                                     "config")]

    # sync: the first write to Knot shows at the primary, not at the secondary
    opts = resolver_opts(lab) + ["--readback-timeout", "1s"]
    p = lab.zonecut(zonecut, "signers", "--db", db, "--retry", "1s", *opts, "sync", L.CHILD)
    assert p.returncode == 0, p.stderr
    proc = L.status(lab, zonecut, db)["process"]
    assert proc["status"] == "waiting" and proc["step"] == "dnskey", proc
    assert sec.addr + "@53 does not serve DNSKEY" in proc["error"], proc["error"]
    bind_zsk = [k for k in bind.rd("DNSKEY") if k.startswith("256 ")]
    assert bind_zsk and bind_zsk[0] in knot.rd("DNSKEY")
    assert bind_zsk[0] not in sec.rd("DNSKEY")

    # the secondary catches up between passes only: every write to Knot waits for it
    st, passes = L.drive(lab, zonecut, db, opts=opts, on_pass=lambda p, s: sec.refresh())
    assert st["process"]["status"] == "done", st["process"]["error"]
    sec.refresh()
    assert sec.rd("DNSKEY") == knot.rd("DNSKEY") and bind_zsk[0] in sec.rd("DNSKEY")
    assert sec.rd("CDS") == knot.rd("CDS") == bind.rd("CDS")
    events = [e for e in st["events"] if e["signer"] == "knot"]
    updates = [i for i, e in enumerate(events) if e["action"] == "update"]
    assert len(updates) >= 2, events  # DNSKEY and CDS/CDNSKEY
    for i in updates:
        after = events[i + 1]
        assert after["action"] == "retry" and sec.addr + "@53" in after["detail"], events
    # BIND's writes were read back from its one configured address
    assert any(e["signer"] == "bind" and e["action"] == "verified" and
               "1 server" in e["detail"] for e in st["events"]), st["events"]
    st, rc = live(lab, zonecut, db)
    assert st["in_sync"] is True and rc == 0, st["findings"]


def test_a_name_that_does_not_resolve_holds_the_process(lab, zonecut, db):
    knot, sec = lab.signers["knot"], lab.secondary
    ns_before = knot.rd("NS")
    # ns7.knot.example. does not exist (NXDOMAIN from the signed parent)
    bad = "ns7.knot.example."
    lab.zonecut(zonecut, "signers", "--db", db, "add", "--replace",
                *knot_spec(lab, [knot.ns_name, bad]))
    opts = resolver_opts(lab) + ["--retry", "1s", "--readback-timeout", "1s"]
    p = lab.zonecut(zonecut, "signers", "--db", db, *opts, "sync", L.CHILD)
    assert p.returncode == 0, p.stderr
    for _ in range(2):
        proc = L.status(lab, zonecut, db)["process"]
        assert proc["status"] == "waiting" and proc["step"] == "check", proc
        assert bad in proc["error"] and "NXDOMAIN" in proc["error"], proc["error"]
        p = lab.zonecut(zonecut, "signers", "--db", db, *opts, "run", "--loop", "--max-time",
                        "2s")
        assert p.returncode == 0, p.stderr
    # nothing was sent: the NS name that cannot be read from is not published
    st = L.status(lab, zonecut, db)
    assert not any(e["action"] in ("update", "checked") for e in st["events"]), st["events"]
    assert knot.rd("NS") == ns_before and bad not in knot.rd("NS")

    st, rc = live(lab, zonecut, db)
    ks = signer_of(st, "knot")
    assert bad in ks["error"] and "NXDOMAIN" in ks["error"], ks["error"]
    # never "in sync" while a server cannot be read (exit 0: a process is waiting)
    assert st["in_sync"] is False and rc == 0
    assert st["process"]["status"] == "waiting"
    assert any(bad in f for f in st["findings"]), st["findings"]
    by_name = {n["name"]: n for n in ks["nameservers"]}
    assert by_name[bad]["addresses"] == [] and "NXDOMAIN" in by_name[bad]["error"]
    assert sorted(by_name[knot.ns_name]["addresses"]) == sorted([knot.addr + "@53",
                                                                sec.addr + "@53"])

    # the operator fixes the name: the process goes on at once
    lab.zonecut(zonecut, "signers", "--db", db, "add", "--replace",
                *knot_spec(lab, [knot.ns_name]))
    st, _ = L.drive(lab, zonecut, db, opts=resolver_opts(lab) + ["--readback-timeout", "1s"],
                    on_pass=lambda p, s: sec.refresh())
    assert st["process"]["status"] == "done", st["process"]["error"]
