# SPDX-License-Identifier: MIT
#
# `zonecut signers rollover ZONE knot csk`: Knot signs the zone with a single key
# (a CSK: SEP flag, signs everything), BIND with a KSK and a ZSK. A CSK rollover
# takes both constraints: the new CSK goes into BIND's DNSKEY set as a zone key
# and into CDS/CDNSKEY everywhere, the parent's DS set names it (DS-Wait) before
# Knot signs with it; the old CSK stays published for Signature-Wait, then leaves
# every DNSKEY set, and after the DNSKEY TTL the CDS/CDNSKEY and DS sets. The
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
    lab = L.Lab(workdir, ttl=3, modes={"knot": "manual-csk"})
    lab.signers["knot"].use_keys_command()
    yield from lab.running(group=("knot", "bind"))


def tag_of(rdata_text):
    return dns.dnssec.key_id(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                                 rdata_text))


def test_csk_rollover(lab, zonecut, workdir):
    db = os.path.join(workdir, "zc.db")
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    lab.configure(zonecut, db, group=("knot", "bind"))
    assert lab.zonecut(zonecut, "signers", "--db", db, "sync", L.CHILD).returncode == 0
    st, _ = L.drive(lab, zonecut, db)
    assert st["process"]["status"] == "done", st["process"]["error"]
    old = knot.rd("CDNSKEY")
    old = [k for k in old if k in knot.rd("DNSKEY") and k in bind.rd("DNSKEY")]
    assert len(old) == 1  # Knot's CSK: in BIND's DNSKEY set, and in CDNSKEY
    old_tag = tag_of(old[0])
    assert knot.own_signing_keys() == ({old_tag}, {old_tag})
    log0 = len(knot.keys_command_log())

    probe = L.Probe(lab)
    probe.start()
    seen = []

    def watch(p, st):
        seen.append((st["process"]["step"], st["process"]["waiting_for"], tuple(lab.parent.ds()),
                     tuple(bind.rd("DNSKEY"))))
    try:
        p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "knot", "csk")
        assert p.returncode == 0, p.stderr
        st, _ = L.drive(lab, zonecut, db, on_pass=watch)
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert probe.rounds > 5 and probe.pairs_checked > 5
    assert probe.failures == [], probe.failures[:10]

    runs = knot.keys_command_log()[log0:]
    assert [r[1] for r in runs] == ["publish", "activate", "remove"], runs
    assert st["process"]["roll"]["old"] == old
    new = st["process"]["roll"]["new"]
    assert len(new) == 1 and new != old
    new_tag = tag_of(new[0])
    assert runs[1][3:] == [str(new_tag), str(old_tag)] and runs[2][3:] == [str(old_tag)]
    # before Knot signed with the new CSK, BIND published it and the parent named it
    steps = [s for s, _, _, _ in seen]
    at_activate = [x for x in seen if x[0] == "activate"] or [x for x in seen
                                                              if x[0] == "sig-wait"]
    assert at_activate, steps
    assert new[0] in at_activate[0][3]
    assert len(at_activate[0][2]) == 3, at_activate[0]  # old CSK, new CSK, BIND's KSK
    assert any(w and w.startswith("Signature-Wait") for _, w, _, _ in seen), seen
    # the end: the new CSK everywhere and signing; the old one nowhere; the DS set
    # exactly Knot's new CSK and BIND's KSK
    for s in lab.signers.values():
        assert new[0] in s.rd("DNSKEY") and old[0] not in s.rd("DNSKEY"), s.name
        assert old[0] not in s.rd("CDNSKEY"), s.name
    assert knot.own_signing_keys() == ({new_tag}, {new_tag})
    ds = lab.parent.ds()
    assert ds == knot.rd("CDS") == bind.rd("CDS") and len(ds) == 2
    assert str(new_tag) in [d.split()[0] for d in ds]
    out, dnskey_ok = L.cross_matrix(lab)
    assert all(v is None for v in out.values()), out
    assert all(v is None for v in dnskey_ok.values()), dnskey_ok
    assert L.status(lab, zonecut, db, live=True)["in_sync"] is True
