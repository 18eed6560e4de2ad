# SPDX-License-Identifier: MIT
#
# `zonecut signers rollover`: one signer of a Knot+BIND group rolls its ZSK, then
# its KSK, on real servers. Knot runs with `manual: on`; its keys-command
# (knot_keys.py: keymgr + knotc zone-keys-load) makes it publish, activate and
# remove keys when the controller says so, and the controller checks every effect
# in what Knot serves. ZSK (pre-publish): the new ZSK goes into BIND's DNSKEY set
# before Knot signs with it; the old one stays until the signatures made with it
# expired from caches. KSK (double-DS): the parent's DS set (its agent is
# `zonecut scan --apply update`) names the new KSK before Knot signs with it, and
# the old DS goes only after the DNSKEY TTL. A probe queries through a validating
# Unbound and every signer directly all along: not one failure. Then: kill -9 at
# several points of a ZSK and of a KSK rollover (each action of the keys-command
# runs once, each UPDATE is sent once), a keys-command that does nothing (the
# process stops), keys-command=manual (the operator acts when told),
# and the refusals up front.

import collections
import os
import re
import subprocess
import sys
import time

import dns.dnssec
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3, modes={"knot": "manual"})
    lab.signers["knot"].use_keys_command()
    yield from lab.running(group=("knot", "bind"))


@pytest.fixture(scope="module")
def db(lab, zonecut, workdir):
    """The group {knot, bind}, delegated to both, brought in sync by `sync`."""
    path = os.path.join(workdir, "zc.db")
    lab.configure(zonecut, path, group=("knot", "bind"))
    p = lab.zonecut(zonecut, "signers", "--db", path, "sync", L.CHILD)
    assert p.returncode == 0, p.stderr
    st, _ = L.drive(lab, zonecut, path)
    assert st["process"]["status"] == "done", st["process"]["error"]
    return path


def bind_own(lab):
    """BIND's own keys, from its key files (K*.key): "FLAGS 3 ALG BASE64"."""
    d = os.path.join(lab.signers["bind"].dir, "keys")
    out = set()
    for name in os.listdir(d):
        if name.endswith(".key"):
            with open(os.path.join(d, name)) as f:
                line = [x for x in f if not x.startswith(";")][0].split()
            i = line.index("DNSKEY") + 1  # "NAME [TTL] IN DNSKEY FLAGS 3 ALG KEY..."
            out.add("%s %s" % (" ".join(line[i:i + 3]), "".join(line[i + 3:])))
    return out


def keys(signer, flags, lab=None):
    """Keys of @flags a signer serves; Knot's own only (without BIND's) with @lab."""
    other = bind_own(lab) if lab is not None and signer.name == "knot" else set()
    return [k for k in signer.rd("DNSKEY") if k.startswith("%d " % flags) and k not in other]


def tag_of(rdata_text):
    return dns.dnssec.key_id(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                                 rdata_text))


def knot_updates(lab):
    with open(os.path.join(lab.signers["knot"].dir, "knot.log")) as f:
        return sum("DDNS, processing" in line for line in f)


def bind_changes(lab):
    """Records BIND added or deleted by UPDATE, with how often each."""
    c = collections.Counter()
    with open(os.path.join(lab.signers["bind"].dir, "named.log")) as f:
        for line in f:
            # "adding an RR at 'NAME' TYPE RDATA", "deleting an RR at NAME TYPE"
            m = re.search(r"(adding|deleting) an RR at '?([^' ]*)'? (.*)$", line)
            if m:
                c[(m.group(1), m.group(2), " ".join(m.group(3).split()))] += 1
    return c


def roll(lab, zonecut, db, role, env=None):
    p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "knot", role,
                    check=False, env=env)
    return p


def run_with_probe(lab, zonecut, db, role):
    probe = L.Probe(lab)
    probe.start()
    waits = {}

    def watch(p, st):
        pr = st["process"]
        if pr["status"] == "waiting" and pr["until"]:
            waits.setdefault(pr["step"], pr["waiting_for"])
    try:
        p = roll(lab, zonecut, db, role)
        assert p.returncode == 0, p.stderr
        st, _ = L.drive(lab, zonecut, db, on_pass=watch)
    finally:
        probe.stop()
    return st, probe, waits


def assert_all_validate(lab):
    out, dnskey_ok = L.cross_matrix(lab)
    assert all(v is None for v in out.values()), out
    assert all(v is None for v in dnskey_ok.values()), dnskey_ok


def test_zsk_rollover(lab, zonecut, db):
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    old = keys(knot, 256, lab)
    assert len(old) == 1 and old[0] in bind.rd("DNSKEY")
    old_tag = tag_of(old[0])
    ksk_before = keys(knot, 257, lab)
    log0 = len(knot.keys_command_log())

    st, probe, waits = run_with_probe(lab, zonecut, db, "zsk")
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert st["process"]["kind"] == "roll-zsk"
    assert probe.rounds > 5 and probe.resolver_queries > 20 and probe.pairs_checked > 5
    assert probe.failures == [], probe.failures[:10]

    # the waits: DNSKEY-Wait before Knot signs with the new key, Signature-Wait
    # before the old one goes; both from the TTLs served (3s)
    assert waits["dnskey-wait"].startswith("DNSKEY-Wait") and "3s" in waits["dnskey-wait"]
    assert waits["sig-wait"].startswith("Signature-Wait") and "3s" in waits["sig-wait"]
    # the keys-command ran once per action, in order
    runs = knot.keys_command_log()[log0:]
    assert [r[1] for r in runs] == ["publish", "activate", "remove"], runs
    new = keys(knot, 256, lab)
    assert len(new) == 1 and new != old
    new_tag = tag_of(new[0])
    assert runs[1][3:] == [str(new_tag), str(old_tag)] and runs[2][3:] == [str(old_tag)]
    # the old ZSK is gone everywhere, the new one everywhere; Knot signs with it
    for s in lab.signers.values():
        assert old[0] not in s.rd("DNSKEY"), s.name
        assert new[0] in s.rd("DNSKEY"), s.name
    assert knot.own_signing_keys()[0] == {new_tag}
    assert keys(knot, 257, lab) == ksk_before
    assert_all_validate(lab)
    st = L.status(lab, zonecut, db, live=True)
    assert st["in_sync"] is True, st["findings"]
    ev = [e["action"] for e in st["events"]]
    assert ev.count("keys-command") == 6  # each run: the command line, then its exit
    assert st["process"]["roll"] == {"old": old, "new": new}


def test_ksk_rollover(lab, zonecut, db):
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    old = keys(knot, 257, lab)
    assert len(old) == 1
    old_tag = tag_of(old[0])
    zsk = keys(knot, 256, lab)
    ds0 = lab.parent.ds()
    assert len(ds0) == 2
    log0 = len(knot.keys_command_log())
    seen_ds = []

    probe = L.Probe(lab)
    probe.start()
    waits = {}

    def watch(p, st):
        pr = st["process"]
        if pr["status"] == "waiting" and pr["until"]:
            waits.setdefault(pr["step"], pr["waiting_for"])
        seen_ds.append((pr["step"], tuple(lab.parent.ds())))
    try:
        p = roll(lab, zonecut, db, "ksk")
        assert p.returncode == 0, p.stderr
        st, _ = L.drive(lab, zonecut, db, on_pass=watch)
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert probe.rounds > 5 and probe.pairs_checked > 5
    assert probe.failures == [], probe.failures[:10]

    new = keys(knot, 257, lab)
    assert len(new) == 1 and new != old
    new_tag = tag_of(new[0])
    runs = knot.keys_command_log()[log0:]
    # Knot drops a retired KSK at once: nothing left for "remove" to do
    assert [r[1] for r in runs] == ["publish", "activate"], runs
    assert runs[1][3:] == [str(new_tag), str(old_tag)]
    # double-DS: the parent named the new KSK (three DS) before Knot signed with it
    assert any(len(ds) == 3 for step, ds in seen_ds), seen_ds
    assert waits["ds-wait"].startswith("DS-Wait") and "3s" in waits["ds-wait"]
    assert waits["dnskey-wait"].startswith("DNSKEY-Wait")
    # the end: the parent's DS set is exactly the group's KSKs (Knot's new, BIND's)
    ds = lab.parent.ds()
    assert ds == knot.rd("CDS") == bind.rd("CDS") and len(ds) == 2
    assert sorted(d.split()[0] for d in ds) == sorted(
        [str(new_tag)] + [str(tag_of(k)) for k in keys(bind, 257)])
    for s in lab.signers.values():
        assert old[0] not in s.rd("DNSKEY") and old[0] not in s.rd("CDNSKEY"), s.name
    assert knot.own_signing_keys()[1] == {new_tag}
    assert keys(knot, 256, lab) == zsk
    assert_all_validate(lab)
    assert L.status(lab, zonecut, db, live=True)["in_sync"] is True


POINTS = ["roll-zsk/check/done", "roll-zsk/publish/after-send/knot",
          "roll-zsk/dnskey/before-send/bind", "roll-zsk/dnskey-wait/waiting",
          "roll-zsk/activate/before-send/knot", "roll-zsk/activate/verified/knot",
          "roll-zsk/sig-wait/waiting", "roll-zsk/remove/after-send/knot",
          "roll-zsk/dnskey-clean/after-send/bind", "roll-zsk/done/finished"]


def test_kill_during_zsk_rollover(lab, zonecut, db):
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    old = keys(knot, 256, lab)
    log0 = len(knot.keys_command_log())
    k0, b0 = knot_updates(lab), bind_changes(lab)
    p = roll(lab, zonecut, db, "zsk", env={"ZONECUT_TEST_KILL_AT": POINTS[0]})
    assert p.returncode == -9, (p.returncode, p.stderr)
    killed = [POINTS[0]]
    remaining = POINTS[1:]
    probe = L.Probe(lab)
    probe.start()
    try:
        t0 = time.monotonic()
        while remaining and time.monotonic() - t0 < 120:
            p = lab.zonecut(zonecut, "-v", "signers", "--db", db, "--retry", "1s",
                            "--readback-timeout", "5s", "run", check=False,
                            env={"ZONECUT_TEST_KILL_AT": "|".join(remaining)})
            after = L.status(lab, zonecut, db)["process"]
            assert after["status"] != "stopped", (after, p.stderr)
            if p.returncode == -9:
                point = p.stderr.split("killed at ")[1].split()[0]
                killed.append(point)
                remaining = remaining[remaining.index(point) + 1:]
                continue
            assert p.returncode in (0, 1), p.stderr
            if after["status"] == "done":
                break
            time.sleep(0.5)
        st, _ = L.drive(lab, zonecut, db)
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert killed == POINTS, killed
    assert probe.failures == [], probe.failures[:10]
    # nothing done twice: the keys-command ran once per action (a kill right after
    # it ran is resumed by looking at what Knot serves, never by running it again)
    runs = knot.keys_command_log()[log0:]
    assert [r[1] for r in runs] == ["publish", "activate", "remove"], runs
    # one UPDATE to BIND with the new ZSK, one taking the old out; none to Knot
    assert knot_updates(lab) == k0
    changes = bind_changes(lab) - b0
    assert sorted(k[0] for k in changes) == ["adding", "deleting"], changes
    assert all(n == 1 for n in changes.values()), changes
    new = keys(knot, 256, lab)
    assert new != old and len(new) == 1
    for s in lab.signers.values():
        assert old[0] not in s.rd("DNSKEY") and new[0] in s.rd("DNSKEY")
    assert_all_validate(lab)


def kill_through(lab, zonecut, db, points):
    """Kills one pass after the other at @points (each once, in order), with the
    parent's agents in between; then drives the process to its end. Returns the
    points killed at and the last status."""
    killed, remaining = [], list(points)
    t0 = time.monotonic()
    while remaining and time.monotonic() - t0 < 120:
        p = lab.zonecut(zonecut, "-v", "signers", "--db", db, "--retry", "1s",
                        "--readback-timeout", "5s", "run", check=False,
                        env={"ZONECUT_TEST_KILL_AT": "|".join(remaining)})
        after = L.status(lab, zonecut, db)["process"]
        assert after["status"] != "stopped", (after, p.stderr)
        if p.returncode == -9:
            point = p.stderr.split("killed at ")[1].split()[0]
            killed.append(point)
            remaining = remaining[remaining.index(point) + 1:]
            continue
        assert p.returncode in (0, 1), p.stderr
        if after["status"] == "done":
            break
        lab.parent_agent(zonecut, db)
        time.sleep(0.5)
    st, _ = L.drive(lab, zonecut, db)
    return killed, st


KSK_POINTS = ["roll-ksk/publish/before-send/knot", "roll-ksk/cds/after-send/bind",
              "roll-ksk/ds/waiting", "roll-ksk/ds-wait/waiting",
              "roll-ksk/activate/after-send/knot", "roll-ksk/dnskey-wait/waiting",
              "roll-ksk/cds-clean/before-send/bind", "roll-ksk/ds-clean/waiting",
              "roll-ksk/done/finished"]


def test_kill_during_ksk_rollover(lab, zonecut, db):
    knot, bind = lab.signers["knot"], lab.signers["bind"]
    old = keys(knot, 257, lab)
    log0 = len(knot.keys_command_log())
    k0, b0 = knot_updates(lab), bind_changes(lab)
    p = roll(lab, zonecut, db, "ksk", env={"ZONECUT_TEST_KILL_AT": KSK_POINTS[0]})
    assert p.returncode == -9, (p.returncode, p.stderr)
    probe = L.Probe(lab)
    probe.start()
    try:
        killed, st = kill_through(lab, zonecut, db, KSK_POINTS[1:])
    finally:
        probe.stop()
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert [KSK_POINTS[0]] + killed == KSK_POINTS, killed
    assert probe.failures == [], probe.failures[:10]
    # killed before the publish command started: the next pass looked for a new
    # KSK, saw none, and ran the command -- once
    runs = knot.keys_command_log()[log0:]
    assert [r[1] for r in runs] == ["publish", "activate"], runs
    # BIND: the new KSK's CDS and CDNSKEY in, the old one's out, each once; Knot
    # publishes the CDS of its own keys itself (double-ds): no UPDATE
    assert knot_updates(lab) == k0
    changes = bind_changes(lab) - b0
    assert sorted(k[0] for k in changes) == ["adding", "adding", "deleting", "deleting"], \
        changes
    assert all(n == 1 for n in changes.values()), changes
    new = keys(knot, 257, lab)
    assert new != old and len(new) == 1
    ds = lab.parent.ds()
    assert ds == knot.rd("CDS") == bind.rd("CDS") and len(ds) == 2
    assert str(tag_of(new[0])) in [d.split()[0] for d in ds]
    assert_all_validate(lab)


def test_manual_zsk_rollover(lab, zonecut, db):
    """keys-command=manual: the operator acts at the provider when status says
    what the controller waits for (here: knot_keys.py run by hand)."""
    knot = lab.signers["knot"]
    old = keys(knot, 256, lab)
    good = knot.keys_command
    knot.keys_command = "manual"
    lab.zonecut(zonecut, "signers", "--db", db, "add", "--replace", *knot.spec().split())
    log0 = len(knot.keys_command_log())
    asked = []

    def operator(p, st):
        pr = st["process"]
        w = pr["waiting_for"] or ""
        if not w.startswith("the operator to make signer knot "):
            return
        old_t = [str(tag_of(k)) for k in pr["roll"]["old"]]
        new_t = [str(tag_of(k)) for k in pr["roll"]["new"]]
        action = ("publish" if "publish a new zsk" in w else
                  "activate" if "sign with the new zsk" in w else
                  "remove" if "remove the old zsk" in w else None)
        assert action, w
        if (pr["step"], action) in asked:
            return  # done already; the controller looks again after --retry
        asked.append((pr["step"], action))
        tags = (new_t + old_t) if action == "activate" else old_t
        r = subprocess.run([sys.executable, os.path.join(L.HERE, "knot_keys.py"), knot.dir,
                            L.CHILD, action, "zsk"] + tags, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr

    probe = L.Probe(lab)
    probe.start()
    try:
        p = roll(lab, zonecut, db, "zsk")
        assert p.returncode == 0, p.stderr
        st, _ = L.drive(lab, zonecut, db, on_pass=operator)
    finally:
        probe.stop()
        knot.keys_command = good
        lab.zonecut(zonecut, "signers", "--db", db, "add", "--replace", *knot.spec().split())
    assert st["process"]["status"] == "done", st["process"]["error"]
    assert probe.failures == [], probe.failures[:10]
    # asked once for each, at the right step, and the controller paced the rest
    assert asked == [("publish", "publish"), ("activate", "activate"), ("remove", "remove")], \
        asked
    assert [r[1] for r in knot.keys_command_log()[log0:]] == ["publish", "activate", "remove"]
    new = keys(knot, 256, lab)
    assert new != old and len(new) == 1
    for s in lab.signers.values():
        assert old[0] not in s.rd("DNSKEY") and new[0] in s.rd("DNSKEY"), s.name
    assert_all_validate(lab)


def test_ignored_keys_command_stops(lab, zonecut, db):
    knot = lab.signers["knot"]
    before = knot.rd("DNSKEY")
    good = knot.keys_command
    knot.use_keys_command("noop")
    try:
        lab.zonecut(zonecut, "signers", "--db", db, "add", "--replace", *knot.spec().split())
        p = lab.zonecut(zonecut, "signers", "--db", db, "--readback-timeout", "3s",
                        "rollover", L.CHILD, "knot", "zsk", check=False)
        assert p.returncode == 1, (p.returncode, p.stderr)
        st = L.status(lab, zonecut, db)
        pr = st["process"]
        assert pr["status"] == "stopped" and pr["step"] == "publish", pr
        assert "does not serve a new zsk" in pr["error"] and "ignored" in pr["error"], pr
        assert knot.keys_command_log()[-1][:3] == [L.CHILD, "publish", "zsk"]
        assert knot.rd("DNSKEY") == before
        # resume runs the command again (the stop cleared it), and it is ignored again
        n = len(knot.keys_command_log())
        p = lab.zonecut(zonecut, "signers", "--db", db, "--readback-timeout", "2s", "resume",
                        L.CHILD, check=False)
        assert p.returncode == 1 and len(knot.keys_command_log()) == n + 1, p.stderr
        assert L.status(lab, zonecut, db)["process"]["status"] == "stopped"
        assert lab.zonecut(zonecut, "signers", "--db", db, "abort", L.CHILD).returncode == 0
    finally:
        knot.keys_command = good
        lab.zonecut(zonecut, "signers", "--db", db, "add", "--replace", *knot.spec().split())


def test_refused_up_front(lab, zonecut, db):
    # BIND has no keys-command: the controller cannot make it roll
    p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "bind", "zsk",
                    check=False)
    assert p.returncode == 2 and "keys-command" in p.stderr, p.stderr
    # not a member
    p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "nobody", "zsk",
                    check=False)
    assert p.returncode == 2, p.stderr
    # Knot signs with a KSK and a ZSK: there is no CSK to roll (check step)
    p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "knot", "csk",
                    check=False)
    assert p.returncode == 1, p.stderr
    pr = L.status(lab, zonecut, db)["process"]
    assert pr["status"] == "stopped" and pr["step"] == "check" and "no csk" in pr["error"], pr
    # another process is unfinished: refused
    p = lab.zonecut(zonecut, "signers", "--db", db, "rollover", L.CHILD, "knot", "zsk",
                    check=False)
    assert p.returncode == 2 and "unfinished" in p.stderr, p.stderr
    assert lab.zonecut(zonecut, "signers", "--db", db, "abort", L.CHILD).returncode == 0
