# SPDX-License-Identifier: MIT
#
# `zonecut scan`, unsecured delegations: authenticated bootstrapping (RFC 9615,
# SPECS.md S6) against the scan-bootstrap testbed. The parent zone file is written
# here (no DS for any child); signals are looked up through zonecut's own
# validating resolver pointed at the testbed root.

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scanutil import (TRANSPORT_REASONS, expect, fqdn, key_ds, scan,  # noqa: E402
                      server_entries, write_parent_zone)

CHILDREN = [
    "boot-ok.example.", "boot-cdnskey.example.", "boot-multi.example.",
    "boot-half.example.", "boot-missing.example.", "boot-mismatch.example.",
    "boot-wild.example.", "boot-away.example.",
    "boot-insecure.example.", "boot-island.example.", "boot-forged.example.",
    "boot-inside.example.",
    "boot-unsigned.example.", "boot-nocds.example.",
]


@pytest.fixture(scope="module")
def tb(testbed):
    return testbed("scan-bootstrap")


@pytest.fixture(scope="module")
def zonefile(tb, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("scan-bootstrap") / "example.zone")
    return write_parent_zone(path, tb, "example.", CHILDREN, ds={c: [] for c in CHILDREN})


@pytest.fixture(scope="module")
def full(zonecut, tb, zonefile):
    """One scan of every child; the tests below read their decision from it."""
    return scan(zonecut, tb, "--zone", zonefile)


def test_every_child_decided_once_exit_1(full):
    assert sorted(full.by_child) == sorted(CHILDREN), full.describe()
    # some are rejected: exit status 1
    assert full.rc == 1, full.describe()
    for d in full.decisions:
        assert d["ds_old"] == [], d


@pytest.mark.parametrize("child", ["boot-ok.example.", "boot-multi.example."])
def test_bootstrap_accepted(full, tb, child):
    d = expect(full, child, "update", [], mode="bootstrap", ds_new=[key_ds(tb, child, "csk")])
    # every nameserver was asked, and the signal under each was found secure
    asked = {ns for ns, _ in server_entries(d)}
    assert asked == set(tb.zone(child)["parent_ns"]), d["evidence"]
    # the signal under every (out-of-child) nameserver was looked up, and secure
    signals = {fqdn(s["ns"]): s for s in d["evidence"]["signals"]}
    assert set(signals) == set(tb.zone(child)["parent_ns"]), d["evidence"]
    for s in signals.values():
        for t in ("CDS", "CDNSKEY"):
            assert s[t]["security"] == "secure", s


def test_signals_checked_with_the_signers_keys_or_by_the_resolver(zonecut, tb, zonefile):
    """Positive signals signed by a secure zone's key are checked by zonecut with
    that key; the others (a denial, the island's and the forged RRSIG) go to the
    validating resolver, whose verdict the results above show."""
    run = scan(zonecut, tb, "--zone", zonefile, "--workers", "1",
               global_args=("-v", "-v", "-v"))
    m = re.search(r"RFC 9615 signals: (\d+) checked with the signer's keys, (\d+) validated "
                  r"by the resolver", run.stderr)
    assert m, run.describe()
    checked, resolved = int(m.group(1)), int(m.group(2))
    assert checked >= 8, run.describe()   # boot-ok, boot-multi: 2 nameservers x 2 types
    assert resolved >= 4, run.describe()  # at least the missing, island and forged ones
    assert run["boot-forged.example."]["result"] == "rejected", run.describe()


def test_signals_asked_at_their_nameserver_first(zonecut, tb, zonefile):
    """A signal is asked first at the nameserver it is named after: ns1.provider.test.
    serves its own signals and its answer is checked with the signer's keys; the zone
    of ns1.away.test. is served by another server, so ns1.away.test. refuses and the
    unvalidating resolver finds that server. Both kinds are checked with the signer's
    keys, none needs the validating resolver."""
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "boot-away.example.",
               "--workers", "1", global_args=("-v", "-v", "-v"))
    expect(run, "boot-away.example.", "update", [], mode="bootstrap",
           ds_new=[key_ds(tb, "boot-away.example.", "csk")])
    assert re.search(r"RFC 9615 signals: 4 checked with the signer's keys, 0 validated by "
                     r"the resolver; 4 asked at their own nameserver first, 2 of them "
                     r"checked from its answer", run.stderr), run.describe()
    # the summary counts them beside the delegation's own queries
    assert re.search(r"^1 delegations: .*; \d+ queries, 4 signal queries$", run.stderr,
                     re.M), run.describe()


def test_signal_denial_checked_with_the_signers_keys(zonecut, tb, zonefile):
    """boot-missing has no signal under one of its nameservers: that server answers
    NXDOMAIN with the NSEC records that prove it (the name, and the wildcard at the
    closest encloser). They are checked with the signer's keys, as the resolver
    would, and the result is the resolver's: secure, NXDOMAIN, no records."""
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "boot-missing.example.",
               "--workers", "1", global_args=("-v", "-v", "-v"))
    d = expect(run, "boot-missing.example.", "rejected")
    assert set(d["reasons"]) == {"bootstrap-signal-missing"}, d
    n = len(d["evidence"]["signals"])
    denied = [s for s in d["evidence"]["signals"] if s["CDS"]["rcode"] == "NXDOMAIN"]
    assert denied, d["evidence"]
    for s in denied:
        for t in ("CDS", "CDNSKEY"):
            assert s[t]["status"] == "ok" and s[t]["rcode"] == "NXDOMAIN", s
            assert s[t]["security"] == "secure" and s[t]["records"] == [], s
    assert re.search(r"RFC 9615 signals: %d checked with the signer's keys, 0 validated by "
                     r"the resolver; %d asked at their own nameserver first, %d of them "
                     r"checked from its answer" % (2 * n, 2 * n, 2 * n), run.stderr), \
        run.describe()


def test_wildcard_signals_go_to_the_resolver(zonecut, tb, zonefile):
    """Signals synthesised from *._signal.<ns> (RRSIG Labels below the name's): the
    validating resolver proves the expansion and vouches for them; zonecut's own
    check leaves them alone."""
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "boot-wild.example.",
               "--workers", "1", global_args=("-v", "-v", "-v"))
    expect(run, "boot-wild.example.", "update", [], mode="bootstrap",
           ds_new=[key_ds(tb, "boot-wild.example.", "csk")])
    assert re.search(r"RFC 9615 signals: 0 checked with the signer's keys, 2 validated by "
                     r"the resolver", run.stderr), run.describe()


def test_bootstrap_cdnskey_only(full, tb):
    # No CDS anywhere: the parent computes the DS (SHA-256) from the CDNSKEY.
    expect(full, "boot-cdnskey.example.", "update", [], mode="bootstrap",
           ds_new=[key_ds(tb, "boot-cdnskey.example.", "csk")])


def test_bootstrap_in_child_ns_skipped(full, tb):
    # ns1.boot-half.example. is inside the child: skipped; ns1.provider.test. signs.
    expect(full, "boot-half.example.", "update", [], mode="bootstrap",
           ds_new=[key_ds(tb, "boot-half.example.", "csk")])


@pytest.mark.parametrize("child,reason", [
    ("boot-missing.example.", "bootstrap-signal-missing"),
    ("boot-mismatch.example.", "bootstrap-signal-mismatch"),
    ("boot-insecure.example.", "bootstrap-signal-insecure"),   # signal zone unsigned
    ("boot-island.example.", "bootstrap-signal-insecure"),     # signed, no DS in test.
    ("boot-forged.example.", "bootstrap-signal-insecure"),     # secure zone, forged RRSIG
    ("boot-inside.example.", "bootstrap-no-out-of-child-ns"),
    ("boot-unsigned.example.", "breaks-chain"),
])
def test_bootstrap_rejected(full, child, reason):
    d = expect(full, child, "rejected")
    assert reason in d["reasons"], d
    # nothing is wrong with the transport: every server answered
    assert not set(d["reasons"]) & TRANSPORT_REASONS, d


def test_bootstrap_signal_missing_names_only_that(full):
    d = full["boot-missing.example."]
    assert set(d["reasons"]) == {"bootstrap-signal-missing"}, d


def test_bootstrap_signal_mismatch_names_only_that(full):
    d = full["boot-mismatch.example."]
    assert set(d["reasons"]) == {"bootstrap-signal-mismatch"}, d


def test_bootstrap_nothing_published(full):
    expect(full, "boot-nocds.example.", "no-cds", [])


def test_child_filter(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "BOOT-OK.example")
    assert list(run.by_child) == ["boot-ok.example."], run.describe()
    assert run.rc == 0, run.describe()
    expect(run, "boot-ok.example.", "update", [], mode="bootstrap",
           ds_new=[key_ds(tb, "boot-ok.example.", "csk")])


def test_list_mode_bootstrap(zonecut, tb, tmp_path):
    # --list: the current DS set (none: example. proves there is no DS) is read
    # from DNS through the validating resolver.
    lst = tmp_path / "children.list"
    lst.write_text("# child nameservers\nboot-ok.example. ns1.provider.test. ns2.provider.test.\n"
                   "boot-missing.example ns1.provider.test. ns2.provider.test.\n")
    run = scan(zonecut, tb, "--list", str(lst))
    assert sorted(run.by_child) == ["boot-missing.example.", "boot-ok.example."], run.describe()
    d = expect(run, "boot-ok.example.", "update", [], mode="bootstrap",
               ds_new=[key_ds(tb, "boot-ok.example.", "csk")])
    assert d["ds_old"] == []
    assert d["evidence"]["ds_source"] == "dns", d["evidence"]
    d = expect(run, "boot-missing.example.", "rejected")
    assert "bootstrap-signal-missing" in d["reasons"], d
    assert run.rc == 1, run.describe()


def test_no_bootstrap_policy(zonecut, tb, zonefile):
    run = scan(zonecut, tb, "--zone", zonefile, "--child", "boot-ok.example.",
               "--no-bootstrap")
    d = run["boot-ok.example."]
    assert d["result"] in ("rejected",), run.describe()
    assert "bootstrap-disabled" in d["reasons"], d


def test_apply_json_bootstrap(zonecut, tb, zonefile):
    # --apply json: only update/delete decisions on stdout
    run = scan(zonecut, tb, "--zone", zonefile, "--apply", "json", json_out=False)
    run.parse_json()
    assert sorted(run.by_child) == sorted(["boot-ok.example.", "boot-cdnskey.example.",
                                           "boot-multi.example.", "boot-half.example.",
                                           "boot-wild.example.", "boot-away.example."]), \
        run.describe()
    for d in run.decisions:
        assert d["result"] == "update" and d["mode"] == "bootstrap", d
        assert d["ds_new"] == [key_ds(tb, d["child"], "csk")], d
    assert fqdn("boot-ok.example") in run.by_child


def test_accept_after_delay(zonecut, tb, zonefile, tmp_path):
    # S7 (RFC 8078 §3.3): without signals, a bootstrap is accepted only once the
    # same CDS set has been seen over several runs for the configured delay; the
    # observation lives in the state store. Off by default.
    import time

    c = "boot-missing.example."
    db = str(tmp_path / "delay.db")
    default = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db", db)
    d = expect(default, c, "rejected", mode="bootstrap")
    assert "delay-pending" not in d["reasons"] and "bootstrap-signal-missing" in d["reasons"]

    first = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db", db,
                 "--accept-after-delay", "2s")
    d = expect(first, c, "rejected", mode="bootstrap")
    assert "delay-pending" in d["reasons"], d
    time.sleep(0.5)
    early = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db", db,
                 "--accept-after-delay", "2s")
    assert "delay-pending" in early[c]["reasons"], early[c]
    time.sleep(2.1)
    late = scan(zonecut, tb, "--zone", zonefile, "--child", c, "--db", db,
                "--accept-after-delay", "2s")
    expect(late, c, "update", [], mode="bootstrap", ds_new=[key_ds(tb, c, "csk")])
    # another store has seen nothing yet: pending again
    other = scan(zonecut, tb, "--zone", zonefile, "--child", c,
                 "--accept-after-delay", "2s")
    assert "delay-pending" in other[c]["reasons"], other[c]
