# SPDX-License-Identifier: MIT
#
# `zonecut signers rollover ZONE bind zsk|ksk`: the BIND signer of a Knot+BIND
# group rolls its ZSK, then its KSK. BIND runs with `auto-dnssec maintain`; its keys-command
# (bind_keys.py: dnssec-keygen, dnssec-settime, rndc loadkeys/sign) makes it
# publish, activate and remove the ZSK when the controller says so. The new ZSK
# is in Knot's DNSKEY set before BIND signs with it; the old one stays until the
# signatures made with it expired from caches, then leaves both. The new KSK is
# named by the parent's DS set before BIND signs the DNSKEY set with it. The
# probe validates through Unbound and every signer directly all along.

import os

import dns.dnssec
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3, modes={"bind": "manual"})
    lab.signers["bind"].use_keys_command()
    yield from lab.running(group=("knot", "bind"))


def tag_of(rdata_text):
    return dns.dnssec.key_id(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                                 rdata_text))


@pytest.fixture(scope="module")
def db(workdir):
    return os.path.join(workdir, "zc.db")


def test_bind_zsk_rollover(lab, zonecut, db):
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    lab.configure(zonecut, db, group=("knot", "bind"))
    assert lab.zonecut(zonecut, "signers", "--db", db, "sync", L.CHILD).returncode == 0
    st, _ = L.drive(lab, zonecut, db)
    assert st["process"]["status"] == "done", st["process"]["error"]
    signing = bind.own_signing_keys()[0]
    assert len(signing) == 1
    old_tag = signing.pop()
    old = [k for k in bind.rd("DNSKEY") if k.startswith("256 ") and tag_of(k) == old_tag]
    assert len(old) == 1 and old[0] in knot.rd("DNSKEY")

    probe = L.Probe(lab)
    probe.start()
    try:
        p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "bind", "zsk")
        assert p.returncode == 0, p.stderr
        st, _ = L.drive(lab, zonecut, db)
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert probe.rounds > 5 and probe.pairs_checked > 5
    assert probe.failures == [], probe.failures[:10]
    runs = bind.keys_command_log()
    assert [r[1] for r in runs] == ["publish", "activate", "remove"], runs
    new = st["process"]["roll"]["new"]
    assert len(new) == 1 and new != old
    new_tag = tag_of(new[0])
    assert bind.own_signing_keys()[0] == {new_tag}
    for s in lab.signers.values():
        assert old[0] not in s.rd("DNSKEY") and new[0] in s.rd("DNSKEY"), s.name
    out, dnskey_ok = L.cross_matrix(lab)
    assert all(v is None for v in out.values()), out
    assert all(v is None for v in dnskey_ok.values()), dnskey_ok
    st = L.status(lab, zonecut, db, live=True)
    assert st["in_sync"] is True, st["findings"]


def test_bind_ksk_rollover(lab, zonecut, db):
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    ksk_tag = bind.own_signing_keys()[1]
    assert len(ksk_tag) == 1
    old_tag = ksk_tag.pop()
    old = [k for k in bind.rd("DNSKEY") if k.startswith("257 ") and tag_of(k) == old_tag]
    assert len(old) == 1 and old[0] in bind.rd("CDNSKEY") and old[0] in knot.rd("CDNSKEY")
    log0 = len(bind.keys_command_log())
    seen_ds = []

    probe = L.Probe(lab)
    probe.start()
    try:
        p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "bind", "ksk")
        assert p.returncode == 0, p.stderr
        st, _ = L.drive(lab, zonecut, db,
                        on_pass=lambda p, s: seen_ds.append(tuple(lab.parent.ds())))
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert probe.failures == [], probe.failures[:10]
    runs = bind.keys_command_log()[log0:]
    assert [r[1] for r in runs] == ["publish", "activate", "remove"], runs
    new = st["process"]["roll"]["new"]
    assert len(new) == 1 and new != old
    new_tag = tag_of(new[0])
    assert any(len(ds) == 3 for ds in seen_ds), seen_ds  # double-DS
    assert bind.own_signing_keys()[1] == {new_tag}
    ds = lab.parent.ds()
    assert ds == knot.rd("CDS") == bind.rd("CDS") and len(ds) == 2
    assert str(new_tag) in [d.split()[0] for d in ds]
    for s in lab.signers.values():
        assert old[0] not in s.rd("DNSKEY") and old[0] not in s.rd("CDNSKEY"), s.name
    out, dnskey_ok = L.cross_matrix(lab)
    assert all(v is None for v in out.values()), out
    assert all(v is None for v in dnskey_ok.values()), dnskey_ok
    assert L.status(lab, zonecut, db, live=True)["in_sync"] is True
