# SPDX-License-Identifier: MIT
#
# `zonecut signers join` end to end, on real servers: a zone signed by Knot with
# its DS at a Knot parent under the testbed's root; BIND, signing with its own
# keys, joins the group. Before the key exchange, data signed by one signer is
# bogus against the other's DNSKEY set; the controller exchanges ZSKs, waits the
# DNSKEY TTL, publishes CDS/CDNSKEY for both KSKs, waits for the parent (whose
# agent is `zonecut scan --apply update`) and the DS TTL, adds BIND's NS with a
# CSYNC, waits for the parent's NS set and the NS TTL. A probe queries the zone
# through a validating Unbound and every signer directly all along: not one
# SERVFAIL, not one bogus answer. At the end the DS set names exactly both KSKs,
# and Unbound answers every name from every signer with AD.

import os
import time

import dns.flags
import dns.message
import dns.query
import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3)
    yield from lab.running()


def test_join_bind_into_knot_group(lab, zonecut, workdir):
    db = os.path.join(workdir, "zc.db")
    lab.configure(zonecut, db, group=("knot",))
    knot, bind = lab.signers["knot"], lab.signers["bind"]

    # Before the key exchange: each signer's data is bogus with the other's keys.
    out, dnskey_ok = L.cross_matrix(lab)
    assert out[("knot", "knot")] is None and out[("bind", "bind")] is None
    assert out[("knot", "bind")] is not None, "BIND's data validates with Knot's keys?"
    assert out[("bind", "knot")] is not None, "Knot's data validates with BIND's keys?"
    assert dnskey_ok["knot"] is None and dnskey_ok["bind"] is not None

    st = L.status(lab, zonecut, db, live=True)
    assert st["in_sync"] is True and st["process"] is None

    probe = L.Probe(lab)
    probe.start()
    try:
        p = lab.zonecut(zonecut, "signers", "--db", db, "--retry", "1s", "join", L.CHILD,
                        "bind")
        assert p.returncode == 0, p.stderr
        seen_waits = {}

        def watch(p, st):
            pr = st["process"]
            if pr["status"] == "waiting" and pr["until"]:
                seen_waits.setdefault(pr["step"], (pr["waiting_for"], pr["until"], time.time()))

        st, passes = L.drive(lab, zonecut, db, on_pass=watch)
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st
    assert probe.rounds > 5 and probe.resolver_queries > 20 and probe.pairs_checked > 5
    assert probe.failures == [], probe.failures[:10]

    # TTL waits were real, visible in status, and computed from the TTLs served.
    for step, what in (("dnskey-wait", "DNSKEY-Wait"), ("ds-wait", "DS-Wait"),
                       ("ns-wait", "NS-Wait")):
        assert step in seen_waits, (step, seen_waits)
        assert seen_waits[step][0].startswith(what) and "3s" in seen_waits[step][0]
    ev = [e for e in st["events"] if e["action"] == "wait"]
    assert len(ev) == 3

    # The end state RFC 8901 asks for.
    ksks = {k: [x for x in s.rd("DNSKEY") if x.startswith("257 ")] for k, s in lab.signers.items()}
    zsks = {k: [x for x in s.rd("DNSKEY") if x.startswith("256 ")] for k, s in lab.signers.items()}
    assert len(ksks["knot"]) == 1 and len(ksks["bind"]) == 1
    for s in lab.signers.values():
        dnskey = s.rd("DNSKEY")
        for z in zsks.values():
            for key in z:
                assert key in dnskey
    assert knot.rd("CDS") == bind.rd("CDS") and len(knot.rd("CDS")) == 2
    assert knot.rd("CDNSKEY") == bind.rd("CDNSKEY") == sorted(ksks["knot"] + ksks["bind"])
    assert knot.rd("NS") == bind.rd("NS") == ["ns1.bind.example.", "ns1.knot.example."]
    assert knot.rd("CSYNC") == bind.rd("CSYNC") == []
    # the parent's DS set is exactly the CDS set: one SHA-256 DS per KSK
    assert lab.parent.ds() == knot.rd("CDS")
    assert lab.parent.ns() == ["ns1.bind.example.", "ns1.knot.example."]

    # every name from every signer validates with every signer's DNSKEY set
    out, dnskey_ok = L.cross_matrix(lab)
    assert all(v is None for v in out.values()), out
    assert all(v is None for v in dnskey_ok.values()), dnskey_ok
    # a validating Unbound answers every name from every signer with AD: one
    # resolver per signer, each asking only that signer for the zone
    for signer in lab.signers:
        res = lab.pinned_resolver(signer)
        for name, rtype in L.PROBE_DATA + [(L.CHILD, "DNSKEY"), (L.CHILD, "NS"),
                                           ("nx." + L.CHILD, "A")]:
            q = dns.message.make_query(name, rtype, want_dnssec=True)
            r = dns.query.udp(q, res, timeout=3)
            assert r.rcode() in (0, 3) and r.flags & dns.flags.AD, (signer, name, rtype, r)
        # and what it validated came from that signer: its SOA serial
        q = dns.message.make_query(L.CHILD, "SOA")
        r = dns.query.udp(q, res, timeout=3)
        assert r.answer[0][0].serial == \
            L.query(lab.signers[signer].addr, L.CHILD, "SOA").answer[0][0].serial

    st = L.status(lab, zonecut, db, live=True)
    assert st["in_sync"] is True, st["findings"]
    assert [g["state"] for g in st["group"]] == ["active", "active"]
    owners = {k["tag"]: k["owner"] for s in st["signers"] for k in s["dnskey"]}
    assert sorted(set(owners.values())) == ["bind", "knot"]
    p = lab.zonecut(zonecut, "signers", "--db", db, "status", L.CHILD)
    assert p.returncode == 0 and "in sync: yes" in p.stdout
