# SPDX-License-Identifier: MIT
#
# `zonecut signers leave`: a provider migration on real servers. BIND joins a zone
# signed by Knot; then Knot leaves. The controller takes Knot's NS out everywhere
# (Knot included) with a CSYNC, waits for the parent's NS set and the NS TTL,
# publishes CDS/CDNSKEY without Knot's KSK, waits for the parent's DS set (whose
# agent is `zonecut scan --apply update`) and the DS TTL, removes Knot's ZSK from
# BIND's DNSKEY set and waits the DNSKEY TTL. A probe queries through a validating
# Unbound and every signer directly all along: not one failure. At the end the
# parent's DS set names exactly BIND's KSK, and Knot's keys are gone everywhere.

import os

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3)
    yield from lab.running()


def test_leave_knot_after_bind_joined(lab, zonecut, workdir):
    db = os.path.join(workdir, "zc.db")
    lab.configure(zonecut, db, group=("knot",))
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    knot_keys = knot.rd("DNSKEY")
    assert lab.zonecut(zonecut, "signers", "--db", db, "join", L.CHILD, "bind").returncode == 0
    st, _ = L.drive(lab, zonecut, db)
    assert st["process"]["status"] == "done", st

    # the last active signer cannot leave; a non-member cannot either
    p = lab.zonecut(zonecut, "signers", "--db", db, "leave", L.CHILD, "nobody", check=False)
    assert p.returncode == 2

    probe = L.Probe(lab)
    probe.start()
    try:
        p = lab.zonecut(zonecut, "signers", "--db", db, "leave", L.CHILD, "knot")
        assert p.returncode == 0, p.stderr
        steps = []
        st, passes = L.drive(lab, zonecut, db,
                             on_pass=lambda p, s: steps.append(s["process"]["step"]))
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st
    assert probe.rounds > 5 and probe.pairs_checked > 5
    assert probe.failures == [], probe.failures[:10]
    # the order of RFC 8901 §8.2: NS out first, keys out last
    order = [s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s]
    for a, b in (("parent-ns", "ds"), ("ds", "dnskey-wait")):
        assert order.index(a) < order.index(b), order

    # the parent's DS set names exactly BIND's KSK, as its CDS says
    bind_ksk = [k for k in bind.rd("DNSKEY") if k.startswith("257 ")]
    assert len(bind_ksk) == 1
    assert bind.rd("CDNSKEY") == bind_ksk
    assert lab.parent.ds() == bind.rd("CDS") and len(lab.parent.ds()) == 1
    assert lab.parent.ns() == ["ns1.bind.example."] == bind.rd("NS")
    assert knot.rd("NS") == ["ns1.bind.example."]  # Knot dropped its own NS too
    # Knot's keys are gone everywhere: BIND's DNSKEY, CDS and CDNSKEY, the parent
    for k in knot_keys:
        assert k not in bind.rd("DNSKEY") and k not in bind.rd("CDNSKEY")
    out, ok = L.cross_matrix(lab, ["bind"])
    assert out[("bind", "bind")] is None and ok["bind"] is None
    # and what the controller had put at Knot is gone from Knot (clean-up)
    assert [k for k in knot.rd("DNSKEY") if k.startswith("256 ")] == \
        [k for k in knot_keys if k.startswith("256 ")]

    st = L.status(lab, zonecut, db, live=True)
    assert [g["signer"] for g in st["group"]] == ["bind"]
    assert st["in_sync"] is True, st["findings"]
    # knot is no longer in a group: it may be removed
    assert lab.zonecut(zonecut, "signers", "--db", db, "remove", "knot").returncode == 0
