# SPDX-License-Identifier: MIT
#
# End to end: `zonecut scan --apply update` against a real parent primary.
#
#   .  ->  example.  (testbed, NSD)  ->  reg.example.  (a real primary: BIND 9 with
#   dnssec-policy, or Knot DNS with automatic signing; DS updates under TSIG)
#   ->  boot. / roll. / del. / retry.reg.example.  (testbed, NSD at the provider)
#
# The registry's input is the AXFR of reg.example. from the primary (TSIG), taken
# afresh before every run. One run bootstraps boot.reg.example. (RFC 9615
# signals), rolls roll.reg.example. over to its new key and removes the DS of
# del.reg.example.; a validating Unbound (fresh, empty cache) then answers boot.'s
# data with AD, roll.'s still with AD and del.'s without (NOERROR, insecure). A
# second run changes nothing: every result unchanged, no UPDATE, same serial.
# Before all that, the change for retry.reg.example. fails at the primary (a wrong
# TSIG secret; then a key the primary knows but lets update nothing): the journal
# keeps it and the good run completes it exactly once.
#
# The steps build on each other: each is a module fixture that runs once per
# primary, in order (before -> failing runs -> first run -> resolver view ->
# second run); the tests only read what the steps recorded.

import base64
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2eutil import (CHILDREN, PARENT, PRIMARIES, PRIMARY_HOST, TOOLS,  # noqa: E402
                     find_tool, journal, norm_ds, rdata_of, resolve, scan,
                     scenario_with_parent_ds)

BOOT, ROLL, DEL, RETRY, QUIET = CHILDREN
CHANGED = [BOOT, ROLL, DEL, RETRY]
WWW = {c: "www." + c for c in CHILDREN}
ADDR = {BOOT: "192.0.2.10", ROLL: "192.0.2.11", DEL: "192.0.2.12", RETRY: "192.0.2.13",
        QUIET: "192.0.2.14"}


def key_ds(tb, child, key):
    """The DS (SHA-256) of one key of a child, as the testbed computed it."""
    return norm_ds(rdata_of(tb.key(child, key)["ds"]["2"]))


class World:
    """The testbed, the primary, the state store shared by every run of a module."""

    def __init__(self, kind, zonecut, tb, primary, db, work):
        self.kind, self.zonecut, self.tb, self.primary = kind, zonecut, tb, primary
        self.db, self.work = db, work
        self.n_axfr = 0

    def expected(self):
        """The DS set each child should have at the parent once its CDS is acted on."""
        tb = self.tb
        return {BOOT: [key_ds(tb, BOOT, "csk")],
                ROLL: [key_ds(tb, ROLL, "b")],
                DEL: [],
                RETRY: sorted([key_ds(tb, RETRY, "csk"), key_ds(tb, RETRY, "ksk2")]),
                QUIET: [key_ds(tb, QUIET, "csk")]}

    def initial(self):
        """The DS set each child has in the parent zone the test starts with."""
        tb = self.tb
        return {BOOT: [], ROLL: [key_ds(tb, ROLL, "a")], DEL: [key_ds(tb, DEL, "csk")],
                RETRY: [key_ds(tb, RETRY, "csk")], QUIET: [key_ds(tb, QUIET, "csk")]}

    def axfr(self):
        """A fresh transfer of the parent zone: the input of one run."""
        self.n_axfr += 1
        return self.primary.axfr(os.path.join(self.work, "reg.example.axfr.%d" % self.n_axfr))

    def snapshot(self):
        p = self.primary
        return {"serial": p.serial(), "ds": {c: p.child_ds(c) for c in CHILDREN},
                "updates": len(p.updates()), "tsig_failures": p.tsig_failures()}

    def scan(self, *args, **kw):
        """One `zonecut scan --apply update` over a fresh AXFR with the shared
        state store; records the primary's state before and after, the UPDATE
        messages it received meanwhile and the journal afterwards."""
        st0 = self.snapshot()
        run = scan(self.zonecut, self.tb, self.axfr(), self.primary, self.db, *args, **kw)
        run.before, run.after = st0, self.snapshot()
        run.journal = journal(self.db)
        run.primary_updates = self.primary.updates()[st0["updates"]:]
        run.primary_tsig_failures = run.after["tsig_failures"] - st0["tsig_failures"]
        return run

    def view(self):
        """What a fresh validating Unbound (empty cache) answers."""
        res = self.tb.start_resolver()
        out = {"resolver": res, "parent": resolve(res, PARENT, "SOA")}
        for c in CHILDREN:
            out[c] = {"www": resolve(res, WWW[c], "A"), "ds": resolve(res, c, "DS")}
        return out


@pytest.fixture(scope="module", params=sorted(PRIMARIES))
def world(request, testbed, zonecut, tmp_path_factory):
    kind = request.param
    missing = [t for t in TOOLS[kind] + ("dig", "unbound") if not find_tool(t)]
    if missing:
        pytest.skip("%s: tools missing: %s (apt-get install bind9 bind9-dnsutils knot "
                    "unbound iproute2)" % (kind, " ".join(missing)))
    work = str(tmp_path_factory.mktemp("e2e-%s" % kind))
    primary = PRIMARIES[kind](work)
    try:
        ds = primary.prepare()
        tb = testbed(scenario_with_parent_ds(ds))
        # The primary listens where example. delegates reg.example. to: the
        # testbed's "closed" address of ns1.reg.example. (nothing else there).
        primary.start(tb, tb.addrs(PRIMARY_HOST, "closed")[0])
        yield World(kind, zonecut, tb, primary, os.path.join(work, "zonecut.db"), work)
    finally:
        primary.stop()


@pytest.fixture(scope="module")
def before(world):
    return {"view": world.view(), "state": world.snapshot()}


@pytest.fixture(scope="module")
def failing(world, before):
    """Two runs for retry.reg.example. only, with keys the primary does not accept
    for the UPDATE: a wrong secret (BADSIG), then a key it knows but lets
    update nothing (REFUSED from BIND, NOTAUTH/BADKEY from Knot)."""
    wrong = base64.b64encode(os.urandom(32)).decode()
    badsig = world.scan("--child", RETRY, tsig="hmac-sha256:zc-test:" + wrong)
    refused = world.scan("--child", RETRY, tsig_file=world.primary.keyfile_nogrant)
    return badsig, refused


@pytest.fixture(scope="module")
def first(world, failing):
    return world.scan()


@pytest.fixture(scope="module")
def after(world, first):
    return world.view()


@pytest.fixture(scope="module")
def second(world, after):
    return world.scan()


def ctx(run, child=None):
    """Assertion context: the decision (or the whole run) and the primary's view."""
    head = "" if child is None else "decision of %s: %s\n" % (child, run.by_child.get(child))
    return "%sprimary before %s\nprimary after %s\nUPDATEs at the primary: %s\njournal: %s\n%s" \
        % (head, run.before, run.after, run.primary_updates, run.journal, run.describe())


# --------------------------------------------------------------------------
# The starting point


def test_before_parent_secure_boot_insecure_others_secure(world, before):
    v = before["view"]
    assert v["parent"].status == "NOERROR" and v["parent"].ad, \
        "the primary's reg.example. must validate through example.'s DS:\n%r" % v["parent"]
    for c in CHILDREN:
        www = v[c]["www"]
        assert www.status == "NOERROR" and www.rdatas("A") == [ADDR[c]], www
        assert www.ad == (c != BOOT), "%s: AD %s before any run\n%r" % (c, www.ad, www)
    # boot. has no DS, and the resolver has a signed proof of that
    ds = v[BOOT]["ds"]
    assert ds.status == "NOERROR" and ds.rdatas("DS") == [] and ds.ad, ds
    assert before["state"]["ds"] == world.initial(), before["state"]


# --------------------------------------------------------------------------
# A primary that does not accept the change


def test_wrong_tsig_secret_fails_and_is_journaled(world, failing):
    run = failing[0]
    assert run.rc == 1, ctx(run)
    assert list(run.by_child) == [RETRY], ctx(run)
    d = run[RETRY]
    assert d["result"] == "update" and d["mode"] == "rollover", ctx(run, RETRY)
    assert sorted(d["ds_new"]) == world.expected()[RETRY], ctx(run, RETRY)
    a = d.get("apply")
    assert a and a["state"] == "failed", ctx(run, RETRY)
    # the DS set is read first, signed with the same key: nothing is sent
    assert a["sent"] is False and a["resumed"] is False, ctx(run, RETRY)
    assert "BADSIG" in a["message"], ctx(run, RETRY)
    assert [(e["child"], e["state"], e["id"]) for e in run.journal] == \
        [(RETRY, "failed", a["journal"])], ctx(run)
    assert run.primary_updates == [] and run.primary_tsig_failures >= 1, ctx(run)
    assert run.after["serial"] == run.before["serial"], ctx(run)
    assert run.after["ds"] == run.before["ds"] == world.initial(), ctx(run)


def test_refused_update_fails_and_is_journaled(world, failing):
    badsig, run = failing
    assert run.rc == 1, ctx(run)
    d = run[RETRY]
    a = d.get("apply")
    assert a and a["state"] == "failed", ctx(run, RETRY)
    # the same journal entry, taken up again; this time the UPDATE left
    assert a["journal"] == badsig[RETRY]["apply"]["journal"], ctx(run, RETRY)
    assert a["resumed"] is True and a["sent"] is True, ctx(run, RETRY)
    # BIND answers REFUSED; Knot NOTAUTH with TSIG error BADKEY (key not allowed)
    assert ("REFUSED" if world.kind == "bind" else "BADKEY") in a["message"], ctx(run, RETRY)
    assert [(e["child"], e["state"]) for e in run.journal] == [(RETRY, "failed")], ctx(run)
    assert set(run.primary_updates) == {"refused"}, ctx(run)
    assert run.after["serial"] == run.before["serial"], ctx(run)
    assert run.after["ds"] == world.initial(), ctx(run)


def test_failed_change_is_sent_once_per_run(world, failing):
    # One run, one attempt: the change that failed in this run is not sent again
    # by the same run's retry of "earlier runs' unfinished changes".
    badsig, run = failing
    # BADSIG: the one DS read (signed with the wrong secret) is not repeated
    assert badsig.primary_tsig_failures == 1, ctx(badsig)
    # REFUSED: one UPDATE went out, once
    assert run.primary_updates == ["refused"], ctx(run)
    assert [e["attempts"] for e in run.journal] == [1], ctx(run)


# --------------------------------------------------------------------------
# The run that changes the parent


def test_first_run_bootstrap_rollover_delete_applied(world, first):
    run = first
    assert run.rc == 0, ctx(run)
    assert sorted(run.by_child) == sorted(CHILDREN), ctx(run)
    exp, init = world.expected(), world.initial()
    want = {BOOT: ("update", "bootstrap"), ROLL: ("update", "rollover"),
            DEL: ("delete", "delete"), RETRY: ("update", "rollover")}
    d = run[QUIET]
    assert (d["result"], d["reasons"]) == ("no-cds", []) and "apply" not in d, ctx(run, QUIET)
    for c in CHANGED:
        d = run[c]
        assert (d["result"], d["mode"]) == want[c], ctx(run, c)
        assert d["reasons"] == [], ctx(run, c)
        assert sorted(d["ds_old"]) == init[c], ctx(run, c)
        assert sorted(d["ds_new"]) == exp[c], ctx(run, c)
        assert d["evidence"]["ds_source"] == "zone", ctx(run, c)
        a = d.get("apply")
        assert a and a["state"] == "done" and a["sent"] is True, ctx(run, c)
        assert a["resumed"] is (c == RETRY), ctx(run, c)
    # the primary holds (and serves, signed) the new DS sets; its serial moved
    assert run.after["ds"] == exp, ctx(run)
    assert run.after["serial"] > run.before["serial"], ctx(run)


def test_first_run_one_update_per_change(world, failing, first):
    run = first
    # four changes, four UPDATE messages, all accepted
    assert run.primary_updates == ["applied"] * 4, ctx(run)
    j = {e["child"]: e for e in run.journal}
    assert sorted(j) == sorted(CHANGED) and len(run.journal) == 4, ctx(run)
    assert all(e["state"] == "done" for e in run.journal), ctx(run)
    for c in (BOOT, ROLL, DEL):
        assert j[c]["attempts"] == 1, ctx(run)
    # the change journaled by the failing runs was completed by one more attempt
    earlier = {e["id"]: e for e in failing[1].journal}
    r = j[RETRY]
    assert r["id"] == run[RETRY]["apply"]["journal"] and r["id"] in earlier, ctx(run)
    assert r["attempts"] == earlier[r["id"]]["attempts"] + 1, ctx(run)


def test_primary_serves_new_ds_signed(world, first):
    p = world.primary
    for c in (BOOT, ROLL, RETRY):
        d = p.dig(c, "DS")
        assert d.status == "NOERROR" and "aa" in d.flags, d
        assert any(r.split()[0] == "DS" for r in d.rdatas("RRSIG")), \
            "%s: DS served without signature\n%r" % (c, d)


# --------------------------------------------------------------------------
# What validating resolvers see now


def test_resolver_after_boot_secure(world, after):
    v = after
    www, ds = v[BOOT]["www"], v[BOOT]["ds"]
    assert www.status == "NOERROR" and www.rdatas("A") == [ADDR[BOOT]], www
    assert www.ad, "bootstrapped child must validate:\n%r" % www
    assert ds.ad and sorted(norm_ds(r) for r in ds.rdatas("DS")) == world.expected()[BOOT], ds


def test_resolver_after_roll_still_secure_with_new_ds(world, after):
    www, ds = after[ROLL]["www"], after[ROLL]["ds"]
    assert www.status == "NOERROR" and www.rdatas("A") == [ADDR[ROLL]] and www.ad, www
    assert ds.ad and sorted(norm_ds(r) for r in ds.rdatas("DS")) == world.expected()[ROLL], ds


def test_resolver_after_del_insecure_but_resolving(world, after):
    www, ds = after[DEL]["www"], after[DEL]["ds"]
    assert www.status == "NOERROR" and www.rdatas("A") == [ADDR[DEL]], www
    assert not www.ad, "a child without DS is insecure:\n%r" % www
    # and the parent proves (signed) that there is no DS
    assert ds.status == "NOERROR" and ds.rdatas("DS") == [] and ds.ad, ds


@pytest.mark.parametrize("child", [RETRY, QUIET])
def test_resolver_after_others_secure(world, after, child):
    www, ds = after[child]["www"], after[child]["ds"]
    assert www.status == "NOERROR" and www.rdatas("A") == [ADDR[child]] and www.ad, www
    assert ds.ad and sorted(norm_ds(r) for r in ds.rdatas("DS")) == world.expected()[child], ds


# --------------------------------------------------------------------------
# A second run


def test_second_run_changes_nothing(world, first, second):
    run = second
    assert run.rc == 0, ctx(run)
    assert sorted(run.by_child) == sorted(CHILDREN), ctx(run)
    exp = world.expected()
    for c in CHILDREN:
        d = run[c]
        want = "no-cds" if c == QUIET else "unchanged"
        assert d["result"] == want and d["reasons"] == [], ctx(run, c)
        # the input was re-read from the primary: it already holds the new DS
        assert sorted(d["ds_old"]) == exp[c], ctx(run, c)
        assert "apply" not in d, "nothing to apply, yet: %s" % ctx(run, c)
    assert "1 no-cds, 4 unchanged, 0 update, 0 delete, 0 rejected, 0 error" in run.stderr, \
        ctx(run)
    assert run.primary_updates == [], ctx(run)
    assert run.after["serial"] == run.before["serial"] == first.after["serial"], ctx(run)
    assert run.after["ds"] == exp, ctx(run)
    assert run.journal == first.journal, ctx(run)
