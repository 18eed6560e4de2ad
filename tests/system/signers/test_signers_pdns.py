# SPDX-License-Identifier: MIT
#
# A third provider: PowerDNS 4.7 (gsqlite3, one CSK, CDS/CDNSKEY published by
# itself) joins a group of Knot and BIND, then leaves it again -- once through the
# RFC 2136 driver, once through the PowerDNS HTTP API driver -- with the probe
# watching through a validating Unbound and every signer directly. PowerDNS signs with a CSK, so its CSK is what the others publish in
# their DNSKEY sets, and what the parent's DS names. Skipped where PowerDNS is
# not installed (apt-get install pdns-server pdns-backend-sqlite3).

import os

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module", params=["rfc2136", "pdns-api"])
def lab(request, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("signers-pdns"))
    if not L.find("pdns_server") or not L.find("pdnsutil") or not L.find("sqlite3") or \
            not os.path.exists("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"):
        pytest.skip("PowerDNS with the sqlite3 backend is not installed "
                    "(apt-get install pdns-server pdns-backend-sqlite3 sqlite3)")
    lab = L.Lab(workdir, ttl=3, signers=("knot", "bind", "pdns"))
    lab.pdns_driver = request.param
    yield from lab.running()


def test_pdns_joins_and_leaves_a_knot_bind_group(lab, zonecut):
    db = os.path.join(lab.dir, "zc.db")
    lab.configure(zonecut, db, group=("knot",),
                  api=("pdns",) if lab.pdns_driver == "pdns-api" else ())
    for s in ("bind",):
        assert lab.zonecut(zonecut, "signers", "--db", db, "join", L.CHILD, s).returncode == 0
        st, _ = L.drive(lab, zonecut, db)
        assert st["process"]["status"] == "done", st
    pdns = lab.signers["pdns"]
    csk = [k for k in pdns.rd("DNSKEY") if k.startswith("257 ")]
    assert len(csk) == 1
    probe = L.Probe(lab)
    probe.start()
    try:
        assert lab.zonecut(zonecut, "signers", "--db", db, "join", L.CHILD, "pdns").returncode == 0
        st, _ = L.drive(lab, zonecut, db)
        assert st["process"]["status"] == "done", (st["process"], st["events"][-4:])
        # the CSK is PowerDNS's zone key: every signer publishes it
        for s in lab.signers.values():
            assert csk[0] in s.rd("DNSKEY"), s.name
        assert len(lab.parent.ds()) == 3
        assert lab.parent.ns() == ["ns1.bind.example.", "ns1.knot.example.", "ns1.pdns.example."]
        out, ok = L.cross_matrix(lab)
        assert all(v is None for v in out.values()), out
        assert lab.zonecut(zonecut, "signers", "--db", db, "leave", L.CHILD, "pdns").returncode == 0
        st, _ = L.drive(lab, zonecut, db)
        assert st["process"]["status"] == "done", st
    finally:
        probe.stop()
    assert probe.failures == [], probe.failures[:10]
    assert len(lab.parent.ds()) == 2
    for s in ("knot", "bind"):
        assert csk[0] not in lab.signers[s].rd("DNSKEY")
        assert csk[0] not in lab.signers[s].rd("CDNSKEY")
    st = L.status(lab, zonecut, db, live=True)
    assert st["in_sync"] is True, st["findings"]
