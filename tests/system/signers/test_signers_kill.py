# SPDX-License-Identifier: MIT
#
# kill -9 of the controller at every step of a join, then resume. The controller
# (zonecut signers run) is killed with SIGKILL at each point where a process can
# be interrupted -- before each UPDATE leaves, right after it left or after its
# read-back (in turns: after the first the second is never reached), right after
# each deadline is recorded, after each step is recorded done -- one point after
# the other in a single join. After every kill the next pass goes on
# where the last one stood: the process completes, ends in the same state as an
# uninterrupted join, a recorded deadline is kept across the kill, and nothing is
# done twice: each signer receives exactly as many UPDATE messages as in a join
# without kills (each record is added exactly once).

import collections
import os
import re

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")

SIGNERS = ("knot", "bind")


def points():
    """Every interruption point of a join of bind into {knot}, in order."""
    out = ["join/check/done"]

    def writes(step, after):
        # a kill right after the UPDATE left means the next pass finds it done
        # and never reaches "verified": the write steps take turns
        for s in SIGNERS:
            out.extend("join/%s/%s/%s" % (step, w, s) for w in ("before-send", after))
        out.append("join/%s/done" % step)

    writes("dnskey", "after-send")
    out += ["join/dnskey-wait/waiting", "join/dnskey-wait/done"]
    writes("cds", "verified")
    out += ["join/ds/waiting", "join/ds/done", "join/ds-wait/waiting", "join/ds-wait/done"]
    writes("ns", "after-send")
    out += ["join/parent-ns/waiting", "join/parent-ns/done"]
    writes("csync-remove", "verified")
    out += ["join/ns-wait/waiting", "join/ns-wait/done", "join/done/finished"]
    return out


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3)
    yield from lab.running()


def knot_updates(lab):
    with open(os.path.join(lab.signers["knot"].dir, "knot.log")) as f:
        return sum("DDNS, processing" in line for line in f)


def bind_added(lab):
    """Records BIND added by UPDATE, with how often each was added."""
    c = collections.Counter()
    with open(os.path.join(lab.signers["bind"].dir, "named.log")) as f:
        for line in f:
            m = re.search(r"adding an RR at '([^']*)' (.*)$", line)
            if m:
                c[(m.group(1), " ".join(m.group(2).split()))] += 1
    return c


def test_kill_at_every_point_of_a_join(lab, zonecut, workdir):
    db = os.path.join(workdir, "zc.db")
    lab.configure(zonecut, db, group=("knot",))
    knot0, bind0 = knot_updates(lab), sum(bind_added(lab).values())
    p = lab.zonecut(zonecut, "signers", "--db", db, "join", L.CHILD, "bind", check=False,
                    env={"ZONECUT_TEST_KILL_AT": "join/check/done"})
    assert p.returncode == -9, (p.returncode, p.stderr)
    killed = ["join/check/done"]
    probe = L.Probe(lab)
    probe.start()
    try:
        # Each pass is killed at the first of the points not yet killed at that it
        # reaches; the progress is monotonic, so every point on the path is hit once.
        remaining = points()[1:]
        for _ in range(200):
            if not remaining:
                break
            p = lab.zonecut(zonecut, "-v", "signers", "--db", db, "--retry", "1s",
                            "--readback-timeout", "5s", "run", check=False,
                            env={"ZONECUT_TEST_KILL_AT": "|".join(remaining)})
            after = L.status(lab, zonecut, db)["process"]
            assert after["status"] != "stopped", after
            if p.returncode == -9:
                point = p.stderr.split("killed at ")[1].split()[0]
                killed.append(point)
                # the points before it were not on this path (nothing to send there)
                remaining = remaining[remaining.index(point) + 1:]
                if point.endswith("-wait/waiting"):
                    # the deadline recorded just before the kill is the one kept
                    lab.zonecut(zonecut, "signers", "--db", db, "run", check=False)
                    again = L.status(lab, zonecut, db)["process"]
                    assert again["step"] == after["step"] and again["until"] == after["until"], \
                        (after, again)
                continue
            assert p.returncode in (0, 1), p.stderr
            if after["status"] == "done":
                break
            lab.parent_agent(zonecut, db)
            lab.csync_agent()
        st, _ = L.drive(lab, zonecut, db)
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st
    # the controller was killed at least once in every step, at every write point
    for step in ("check", "dnskey", "dnskey-wait", "cds", "ds", "ds-wait", "ns", "parent-ns",
                 "csync-remove", "ns-wait", "done"):
        assert any(k.split("/")[1] == step for k in killed), (step, killed)
    print("killed at %d points: %s" % (len(killed), " ".join(killed)))
    assert killed == points(), killed  # every point was reached, each once
    # zero validation failures over the whole interrupted process
    assert probe.failures == [], probe.failures[:10]
    # the same end state as an uninterrupted join
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    assert knot.rd("CDS") == bind.rd("CDS") == lab.parent.ds() and len(lab.parent.ds()) == 2
    assert knot.rd("NS") == bind.rd("NS") == lab.parent.ns()
    out, dnskey_ok = L.cross_matrix(lab)
    assert all(v is None for v in out.values()) and all(v is None for v in dnskey_ok.values())
    # nothing done twice: 4 UPDATEs per signer (dnskey, cds, ns+csync, csync
    # removal), as without kills, and every record added exactly once
    assert knot_updates(lab) - knot0 == 4
    added = bind_added(lab)
    assert sum(added.values()) - bind0 == len(added) and all(n == 1 for n in added.values()), added
    # Knot's ZSK; Knot's CDS and CDNSKEY (BIND publishes its own); NS and CSYNC
    assert len(added) == 1 + 2 + 2
