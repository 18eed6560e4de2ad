# SPDX-License-Identifier: MIT
#
# The controller stops rather than continue on a false belief. A signer that
# answers NOERROR to an UPDATE and ignores it (Knot with dnskey-management:
# full) is detected by the read-back and the join stops there, with the reason,
# and stays stopped until the operator acts. A signer that signs with another
# algorithm (BIND with RSASHA256 next to ECDSA P-256) is refused up front, before
# anything is written (RFC 8901 §4).

import os

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3, signers=("knot", "knotfull", "bindrsa"),
                modes={"knotfull": "full", "bindrsa": "rsasha256"})
    yield from lab.running()


@pytest.fixture(scope="module")
def db(lab, zonecut, workdir):
    db = os.path.join(workdir, "zc.db")
    lab.configure(zonecut, db, group=("knot",))
    return db


def updates(st):
    return [e for e in st["events"] if e["action"] == "update"]


def test_signer_ignoring_updates_stops_the_join(lab, zonecut, db):
    full = lab.signers["knotfull"]
    before = full.rd("DNSKEY")
    p = lab.zonecut(zonecut, "signers", "--db", db, "--readback-timeout", "3s", "join", L.CHILD,
                    "knotfull")
    assert p.returncode == 1, p.stderr  # a process stopped: needs attention
    st = L.status(lab, zonecut, db)
    pr = st["process"]
    assert pr["status"] == "stopped" and pr["step"] == "dnskey", pr
    assert "signer 'knotfull' answered NOERROR but changed nothing" in pr["error"]
    assert "dnskey-management" in pr["error"]
    assert full.rd("DNSKEY") == before
    # it stays stopped: another pass does nothing
    n = len(updates(st))
    p = lab.zonecut(zonecut, "signers", "--db", db, "run")
    assert p.returncode == 1
    st = L.status(lab, zonecut, db)
    assert st["process"]["status"] == "stopped" and len(updates(st)) == n
    # status says so, in text and in the exit code
    p = lab.zonecut(zonecut, "signers", "--db", db, "status", L.CHILD)
    assert p.returncode == 1 and "stopped: signer 'knotfull' answered NOERROR" in p.stdout
    # resume tries again (and stops again: the signer still ignores it)
    p = lab.zonecut(zonecut, "signers", "--db", db, "--readback-timeout", "2s", "resume",
                    L.CHILD)
    assert p.returncode == 1
    assert L.status(lab, zonecut, db)["process"]["status"] == "stopped"
    assert lab.zonecut(zonecut, "signers", "--db", db, "abort", L.CHILD).returncode == 0
    st = L.status(lab, zonecut, db)
    assert st["process"]["status"] == "aborted"
    # the parent never saw anything of it
    assert lab.parent.ns() == ["ns1.knot.example."] and len(lab.parent.ds()) == 1
    # the half-joined signer must be settled before anything else starts
    assert {g["signer"]: g["state"] for g in st["group"]}["knotfull"] == "joining"
    p = lab.zonecut(zonecut, "signers", "--db", db, "join", L.CHILD, "bindrsa", check=False)
    assert p.returncode == 2 and "'knotfull' is still joining" in p.stderr, p.stderr
    # leaving backs it out: its key goes from Knot's DNSKEY set again
    knot_keys = lab.signers["knot"].rd("DNSKEY")
    assert len(knot_keys) == 3  # knotfull's ZSK is there
    assert lab.zonecut(zonecut, "signers", "--db", db, "leave", L.CHILD, "knotfull").returncode == 0
    st, _ = L.drive(lab, zonecut, db)
    assert st["process"]["status"] == "done", st
    assert [g["signer"] for g in st["group"]] == ["knot"]
    assert len(lab.signers["knot"].rd("DNSKEY")) == 2


def test_algorithm_mismatch_is_refused_up_front(lab, zonecut, db):
    knot, rsa = lab.signers["knot"], lab.signers["bindrsa"]
    k_before, r_before = knot.rd("DNSKEY"), rsa.rd("DNSKEY")
    p = lab.zonecut(zonecut, "signers", "--db", db, "join", L.CHILD, "bindrsa")
    assert p.returncode == 1
    st = L.status(lab, zonecut, db)
    pr = st["process"]
    assert pr["status"] == "stopped" and pr["step"] == "check", pr
    assert "algorithm mismatch" in pr["error"] and "RFC 8901" in pr["error"]
    assert " 8" in pr["error"] and " 13" in pr["error"]
    assert updates(st) == []
    assert knot.rd("DNSKEY") == k_before and rsa.rd("DNSKEY") == r_before
    assert lab.zonecut(zonecut, "signers", "--db", db, "abort", L.CHILD).returncode == 0
