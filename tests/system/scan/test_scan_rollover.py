# SPDX-License-Identifier: MIT
#
# `zonecut scan`, secured delegations (RFC 7344, RFC 8078, SPECS.md S4-S11)
# against the scan-rollover testbed: rollovers, deletes, unchanged, no-cds and
# every policy rejection; replay protection through --db; --list; --child;
# --apply json and --apply nsupdate. The parent zone file is written here with
# the DS set the testbed's parent holds, unless a test says otherwise.

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scanutil import (TRANSPORT_REASONS, expect, key_ds, nsupdate_changes,  # noqa: E402
                      parent_ds, scan, server_entries, write_parent_zone)

SCENARIO = "scan-rollover"
CHILDREN = [
    "roll-add.example.", "roll-swap.example.", "roll-zsk.example.", "roll-breaks.example.",
    "roll-replay.example.", "roll-expired.example.", "del-ok.example.",
    "del-mixed.example.", "unchanged.example.", "nocds.example.", "mismatch.example.",
    "sha1.example.", "toomany.example.", "alg15.example.", "roll-dszsk.example.",
    "sub-cds.example.", "roll-alg.example.", "roll-alg-unsigned.example.",
]
REJECTED = {
    "roll-zsk.example.": {"not-signed-by-ds-key"},
    "roll-breaks.example.": {"breaks-chain"},
    # S9, strict (the default): the new DS set names an Ed25519 key that signs
    # nothing, so that algorithm would not validate the DNSKEY RRset
    "roll-alg-unsigned.example.": {"breaks-chain"},
    "del-mixed.example.": {"delete-malformed"},
    "mismatch.example.": {"cds-cdnskey-mismatch"},
    "sha1.example.": {"digest-not-allowed"},
    "toomany.example.": {"too-many-records"},
    # the parent's DS names the ZSK, which signs the CDS but not the DNSKEY RRset:
    # the key set cannot be validated through the current DS set (S5)
    "roll-dszsk.example.": {"dnskey-not-validated"},
}


@pytest.fixture(scope="module")
def tb(testbed):
    return testbed(SCENARIO)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("scan-rollover")


@pytest.fixture(scope="module")
def zonefile(tb, workdir):
    return write_parent_zone(str(workdir / "example.zone"), tb, "example.", CHILDREN)


@pytest.fixture(scope="module")
def full(zonecut, tb, zonefile):
    """One scan of every child under the default policy."""
    return scan(zonecut, tb, "--zone", zonefile)


def rollover_ds(tb, child, keys):
    return [key_ds(tb, child, k) for k in keys]


def expected_changes(tb):
    """(op, child, DS) an nsupdate script must hold for the default-policy scan."""
    ch = set()
    for child, keys in (("roll-add.example.", ["ksk2"]), ("roll-replay.example.", ["ksk2"]),
                        ("alg15.example.", ["ksk2"]), ("roll-swap.example.", ["b"])):
        for k in keys:
            ch.add(("add", child, key_ds(tb, child, k)))
    ch.add(("add", "roll-alg.example.", key_ds(tb, "roll-alg.example.", "ed")))
    ch.add(("delete", "roll-swap.example.", key_ds(tb, "roll-swap.example.", "a")))
    ch.add(("delete", "del-ok.example.", key_ds(tb, "del-ok.example.", "csk")))
    return ch


def test_every_child_decided_once(full, tb):
    assert sorted(full.by_child) == sorted(CHILDREN), full.describe()
    assert full.rc == 1, full.describe()        # some rejected
    for c in CHILDREN:
        assert sorted(full[c]["ds_old"]) == sorted(parent_ds(tb, c)), full[c]
        assert full[c]["evidence"]["ds_source"] == "zone"


def test_rollover_add_key(full, tb):
    c = "roll-add.example."
    d = expect(full, c, "update", [], mode="rollover",
               ds_new=rollover_ds(tb, c, ["ksk", "ksk2"]))
    assert d["ds_old"] == [key_ds(tb, c, "ksk")]
    # what each server served: both asked, both with the same signed CDS set
    ent = server_entries(d)
    assert {ns for ns, _ in ent} == {"ns1.provider.test.", "ns2.provider.test."}, ent
    for (ns, addr), e in ent.items():
        assert e["CDS"]["status"] == "ok" and e["CDS"]["rcode"] == "NOERROR", e
        assert e["CDS"]["aa"] is True, e
        assert sorted(e["CDS"]["records"]) == sorted(rollover_ds(tb, c, ["ksk", "ksk2"])), e
        assert e["CDS"]["rrsigs"] >= 1, e
        assert e["DNSKEY"]["rrsigs"] >= 1, e


def test_rollover_swap_to_new_key(full, tb):
    # CDS names only B (already signing), signed by A which the DS names
    c = "roll-swap.example."
    expect(full, c, "update", [], mode="rollover", ds_new=[key_ds(tb, c, "b")])


def test_rollover_alg15_default_policy(full, tb):
    c = "alg15.example."
    expect(full, c, "update", [], mode="rollover", ds_new=rollover_ds(tb, c, ["csk", "ksk2"]))


def test_rollover_second_algorithm(full, tb):
    # S9, strict: each algorithm of the new DS set validates the DNSKEY RRset
    # through a key it names: ECDSA through the CSK (its signature already checked
    # through the current DS), Ed25519 through the new key's own signature
    c = "roll-alg.example."
    expect(full, c, "update", [], mode="rollover", ds_new=rollover_ds(tb, c, ["csk", "ed"]))


def test_lenient_continuity_one_algorithm_is_enough(zonecut, tb, zonefile):
    c = "roll-alg-unsigned.example."
    run = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--lenient-continuity")
    expect(run, c, "update", [], mode="rollover", ds_new=rollover_ds(tb, c, ["csk", "ed"]))


@pytest.mark.parametrize("child", sorted(REJECTED))
def test_rejected(full, child):
    d = expect(full, child, "rejected", REJECTED[child])
    assert not set(d["reasons"]) & TRANSPORT_REASONS


def test_expired_signatures_rejected(full):
    d = expect(full, "roll-expired.example.", "rejected")
    assert "signature-invalid" in d["reasons"], d
    assert not set(d["reasons"]) & TRANSPORT_REASONS, d


def test_delete(full, tb):
    d = expect(full, "del-ok.example.", "delete", [], mode="delete", ds_new=[])
    assert d["ds_old"] == [key_ds(tb, "del-ok.example.", "csk")]


def test_unchanged(full, tb):
    d = expect(full, "unchanged.example.", "unchanged", [])
    assert d["ds_new"] == d["ds_old"] == [key_ds(tb, "unchanged.example.", "csk")], d


def test_no_cds(full):
    expect(full, "nocds.example.", "no-cds", [])


def test_algorithm_not_allowed(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "alg15.example.",
               "--algorithms", "8,13")
    expect(run, "alg15.example.", "rejected", {"algorithm-not-allowed"})
    assert run.rc == 1, run.describe()


def test_ds_comes_from_the_zone_file(zonecut, tb, workdir):
    # The parent zone file already holds both DS: nothing to do for roll-add.
    c = "roll-add.example."
    both = rollover_ds(tb, c, ["ksk", "ksk2"])
    f = write_parent_zone(str(workdir / "both.zone"), tb, "example.", [c], ds={c: both})
    run = scan(zonecut, tb, "--zone", f)
    d = expect(run, c, "unchanged", [], ds_new=both)
    assert sorted(d["ds_old"]) == sorted(both)
    assert run.rc == 0, run.describe()
    # The parent holds a DS naming a key that signs nothing in the child: the
    # CDS is not signed by a key of the DS set.
    foreign = [key_ds(tb, "nocds.example.", "csk")]
    f = write_parent_zone(str(workdir / "foreign.zone"), tb, "example.", [c], ds={c: foreign})
    run = scan(zonecut, tb, "--zone", f)
    d = expect(run, c, "rejected")
    assert "not-signed-by-ds-key" in d["reasons"] or "dnskey-not-validated" in d["reasons"], d
    assert d["ds_old"] == foreign


def test_replay(zonecut, tb, zonefile, workdir):
    c = "roll-replay.example."
    db = str(workdir / "replay.db")
    # 1: the change is applied (handed on as JSON) and recorded
    run = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db", db, "--apply", "json",
               json_out=False)
    run.parse_json()
    expect(run, c, "update", [], mode="rollover", ds_new=rollover_ds(tb, c, ["csk", "ksk2"]))
    assert run.rc == 0, run.describe()
    # 2: the parent zone file still holds the old DS and the child serves the
    # same signed CDS: same RRSIG inception as the change already applied
    run = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db", db)
    expect(run, c, "rejected", {"replay"})
    assert run.rc == 1, run.describe()
    # control: another (empty) store has nothing recorded
    run = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db",
               str(workdir / "other.db"))
    expect(run, c, "update")


def test_list_mode_rollover(zonecut, tb, workdir):
    lst = workdir / "children.list"
    lst.write_text("roll-add.example. ns1.provider.test. ns2.provider.test.\n"
                   "# the current DS set comes from DNS, validated\n"
                   "del-ok.example. ns1.provider.test. ns2.provider.test.\n"
                   "unchanged.example. ns1.provider.test. ns2.provider.test.\n")
    run = scan(zonecut, tb, "--list", str(lst))
    assert sorted(run.by_child) == ["del-ok.example.", "roll-add.example.",
                                    "unchanged.example."], run.describe()
    c = "roll-add.example."
    d = expect(run, c, "update", [], mode="rollover", ds_new=rollover_ds(tb, c, ["ksk", "ksk2"]))
    assert d["ds_old"] == [key_ds(tb, c, "ksk")], d
    assert d["evidence"]["ds_source"] == "dns", d["evidence"]
    expect(run, "del-ok.example.", "delete", [], mode="delete", ds_new=[])
    expect(run, "unchanged.example.", "unchanged", [])
    assert run.rc == 0, run.describe()


def test_child_filter(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "del-ok.example.")
    assert list(run.by_child) == ["del-ok.example."], run.describe()
    expect(run, "del-ok.example.", "delete", [], ds_new=[])
    assert run.rc == 0


def test_child_filter_unknown_child(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "absent.example.")
    assert run.decisions == [], run.describe()


def test_apply_json_prints_only_changes(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--apply", "json", json_out=False)
    run.parse_json()
    assert sorted(run.by_child) == sorted(["roll-add.example.", "roll-swap.example.",
                                           "roll-replay.example.", "alg15.example.",
                                           "roll-alg.example.", "del-ok.example."]), \
        run.describe()
    for d in run.decisions:
        assert d["result"] in ("update", "delete"), d
    assert run.by_child["del-ok.example."]["ds_new"] == []
    # rejected delegations exist in this zone: exit 1 all the same
    assert run.rc == 1, run.describe()


def _script_changes(tb, text):
    """nsupdate changes, a "delete the whole DS RRset" expanded to the old DS."""
    out = set()
    for op, child, ds in nsupdate_changes(text):
        if op == "delete" and ds == "":
            out |= {("delete", child, x) for x in parent_ds(tb, child)}
        else:
            out.add((op, child, ds))
    return out


def test_apply_nsupdate_output_file(zonecut, tb, zonefile, workdir):
    out = str(workdir / "changes.nsupdate")
    run = scan(zonecut, tb, "--zone", zonefile, "--apply", "nsupdate", "--output", out)
    text = open(out).read()
    assert _script_changes(tb, text) == expected_changes(tb), text + run.describe()
    assert text.rstrip().endswith("send"), text
    for c in REJECTED:
        assert c.rstrip(".") not in text, text
    # decisions still on stdout with --json
    assert sorted(run.by_child) == sorted(CHILDREN)


def test_apply_nsupdate_stdout(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--apply", "nsupdate", json_out=False)
    assert _script_changes(tb, run.stdout) == expected_changes(tb), run.describe()
    # stdout is the script only: every line an nsupdate command
    for line in run.lines:
        assert line.split()[0] in ("server", "zone", "prereq", "update", "send", "ttl", ";"), \
            run.describe()


def test_records_below_the_apex_do_not_count(full):
    # S1 (RFC 7344 §4.1): only CDS/CDNSKEY at the child apex count; this child
    # publishes them at sub.sub-cds.example. only
    d = expect(full, "sub-cds.example.", "no-cds", [])
    assert d["queries"] == 2, d

