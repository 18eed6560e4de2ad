# SPDX-License-Identifier: MIT
#
# DS changes applied to a real BIND 9 primary with RFC 2136 UPDATE + TSIG,
# through zc-apply-tool (the same library calls as `zonecut scan --apply update`):
# added DS served signed; a repeat changes nothing (no second UPDATE, serial
# unchanged); wrong keys fail clearly and stay journaled until a retry with the
# right key completes them; a DS set changed behind our back is a conflict and is
# left alone; entries left 'pending' or 'sent' by a crash complete exactly once;
# the nsupdate script runs through the real nsupdate -k.

import json
import socket
import sqlite3
import subprocess

import pytest

DIG = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
DS1 = "11111 13 2 " + DIG
DS2 = "22222 13 2 " + DIG
DS3 = "33333 13 2 " + DIG
DS4 = "44444 13 2 " + DIG
WRONG = "zc-test:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo0NTY3ODkwMTI="


def run(tool, *args, timeout=60):
    p = subprocess.run([tool, *args], capture_output=True, text=True, timeout=timeout)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, out, p.stderr


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "zonecut.db")


def update(tool, srv, db, child, old="", new="", key=None, *extra):
    args = ["update", "--db", db, "--primary", srv.addr, "--child", child + ".example.",
            "--zone", "example.", "--old", old, "--new", new, *extra]
    args += ["--tsig", key] if key else ["--tsig-file", srv.keyfile]
    return run(tool, *args)


def journal(tool, db):
    rc, out, err = run(tool, "list", "--db", db)
    assert rc == 0, err
    return out


def nsupdate(srv, script, keyfile=None):
    p = subprocess.run(["nsupdate", "-k", keyfile or srv.keyfile], input=script,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr


def test_bootstrap_adds_ds_served_signed(apply_tool, bind_primary, db):
    srv = bind_primary
    assert srv.ds("boot.example.") == []
    rc, res, err = update(apply_tool, srv, db, "boot", "", DS1, None, "--mode", "bootstrap")
    assert rc == 0, err
    assert res["state"] == "done" and res["sent"] is True and res["rcode"] == 0, res
    assert srv.ds("boot.example.") == [DS1]
    # served signed by the parent
    rrs = srv.answer("boot.example.", "DS")
    sigs = [r for t, r in rrs if t == "RRSIG"]
    assert sigs and sigs[0].split()[0] == "DS" and sigs[0].split()[7] == "example."
    # the TTL is the default for a delegation that had no DS
    assert "3600" in srv.dig("boot.example.", "DS").split("\tDS\t")[0].split()[-3:]
    entries = journal(apply_tool, db)
    assert [(e["state"], e["attempts"], e["mode"]) for e in entries] == [("done", 1, "bootstrap")]
    assert entries[0]["target"] == srv.addr


def test_second_identical_apply_changes_nothing(apply_tool, bind_primary, db):
    srv = bind_primary
    rc, res, err = update(apply_tool, srv, db, "again", "", DS1)
    assert rc == 0 and res["state"] == "done" and res["sent"], (res, err)
    serial = srv.serial()
    rc, res, err = update(apply_tool, srv, db, "again", "", DS1)
    assert rc == 0, err
    assert res["state"] == "done"
    assert res["sent"] is False, "read first: no second UPDATE"
    assert srv.serial() == serial
    assert srv.ds("again.example.") == [DS1]


def test_wrong_secret_fails_clearly_then_retry_completes(apply_tool, bind_primary, db):
    srv = bind_primary
    rc, res, err = update(apply_tool, srv, db, "badkey", "", DS2, WRONG)
    assert rc == 1
    assert res["state"] == "failed" and res["tsig_error_text"] == "BADSIG", res
    assert "BADSIG" in res["message"] and "zc-test" in res["message"]
    assert srv.ds("badkey.example.") == []
    # a key the primary does not know at all
    rc, res, err = update(apply_tool, srv, db, "badkey", "", DS2,
                          "nokey:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo0NTY3ODkwMTI=")
    assert rc == 1 and res["tsig_error_text"] == "BADKEY" and res["existing"], res
    entries = journal(apply_tool, db)
    assert [e["state"] for e in entries] == ["failed"], "kept for the next run"
    assert "BADKEY" in entries[0]["last_error"]
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0, err
    assert [(r["state"], r["sent"], r["attempts"]) for r in out] == [("done", True, 1)]
    assert srv.ds("badkey.example.") == [DS2]
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0 and out == [], "nothing left to retry"


def test_refused_update_is_kept_for_retry(apply_tool, bind_primary, db):
    srv = bind_primary
    key = "zc-nogrant:" + srv.secret(srv.keyfile_nogrant)
    rc, res, err = update(apply_tool, srv, db, "refused", "", DS1, key)
    assert rc == 1
    assert res["state"] == "failed" and res["sent"] is True, res
    assert res["rcode"] == 5 and "REFUSED" in res["message"], res
    assert srv.ds("refused.example.") == []
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0, err
    assert [(r["state"], r["attempts"]) for r in out] == [("done", 2)]
    assert srv.ds("refused.example.") == [DS1]


def test_changed_behind_our_back_is_conflict_untouched(apply_tool, bind_primary, db):
    srv = bind_primary
    rc, res, err = update(apply_tool, srv, db, "conflict", "", DS1)
    assert rc == 0 and res["state"] == "done", (res, err)
    # someone else replaces the DS set at the primary
    nsupdate(srv, "server 127.0.0.1 %d\nzone example.\nupdate delete conflict.example. IN DS\n"
             "update add conflict.example. 600 IN DS %s\nsend\n" % (srv.port, DS3))
    serial = srv.serial()
    rc, res, err = update(apply_tool, srv, db, "conflict", DS1, DS2)
    assert rc == 1
    assert res["state"] == "conflict" and res["sent"] is False, res
    assert "33333" in res["message"]
    assert srv.ds("conflict.example.") == [DS3]
    assert srv.serial() == serial
    # a conflict is final: a retry does not touch it
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0 and out == []
    assert srv.ds("conflict.example.") == [DS3]


def test_crash_left_pending_completes_once(apply_tool, bind_primary, db):
    srv = bind_primary
    rc, out, err = run(apply_tool, "journal", "--db", db, "--child", "pending.example.",
                       "--zone", "example.", "--new", DS1 + ";" + DS2, "--state", "pending")
    assert rc == 0 and out["state"] == "pending", err
    assert srv.ds("pending.example.") == []
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0, err
    assert [(r["state"], r["sent"], r["attempts"]) for r in out] == [("done", True, 1)]
    assert srv.ds("pending.example.") == sorted([DS1, DS2])
    serial = srv.serial()
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0 and out == []
    assert srv.serial() == serial


def test_crash_after_send_is_not_sent_again(apply_tool, bind_primary, db):
    srv = bind_primary
    # the run journaled the change, marked it sent, the UPDATE reached the primary,
    # and the process died before recording the answer
    rc, out, err = run(apply_tool, "journal", "--db", db, "--child", "sent.example.",
                       "--zone", "example.", "--new", DS4, "--state", "sent",
                       "--primary", srv.addr)
    assert rc == 0 and out["state"] == "sent", err
    nsupdate(srv, "server 127.0.0.1 %d\nzone example.\nprereq nxrrset sent.example. IN DS\n"
             "update add sent.example. 3600 IN DS %s\nsend\n" % (srv.port, DS4))
    serial = srv.serial()
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0, err
    assert [(r["state"], r["sent"]) for r in out] == [("done", False)]
    assert srv.serial() == serial, "applied exactly once"
    assert srv.ds("sent.example.") == [DS4]
    entries = journal(apply_tool, db)
    assert entries[0]["state"] == "done" and entries[0]["attempts"] == 1


def test_sent_but_lost_is_sent_once_more(apply_tool, bind_primary, db):
    srv = bind_primary
    # marked sent, but the UPDATE never arrived: the retry sends it (prerequisite
    # guarded) and it lands once; the journal is edited to look like a crashed run
    rc, res, err = update(apply_tool, srv, db, "roll", "", DS1)
    assert rc == 0 and res["state"] == "done"
    rc, out, err = run(apply_tool, "journal", "--db", db, "--child", "roll.example.",
                       "--zone", "example.", "--old", DS1, "--new", DS2, "--state", "sent",
                       "--primary", srv.addr)
    assert rc == 0, err
    rc, out, err = run(apply_tool, "retry", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile)
    assert rc == 0, err
    assert [(r["state"], r["sent"], r["attempts"]) for r in out] == [("done", True, 2)]
    assert srv.ds("roll.example.") == [DS2]


def test_delete_removes_every_ds(apply_tool, bind_primary, db):
    srv = bind_primary
    rc, res, err = update(apply_tool, srv, db, "delete", "", DS1 + ";" + DS2)
    assert rc == 0 and res["state"] == "done", (res, err)
    rc, res, err = update(apply_tool, srv, db, "delete", DS1 + ";" + DS2, "", None,
                          "--mode", "delete")
    assert rc == 0 and res["state"] == "done" and res["sent"], (res, err)
    assert srv.ds("delete.example.") == []


def test_replayed_inception_changes_nothing(apply_tool, bind_primary, db):
    srv = bind_primary
    rc, res, err = update(apply_tool, srv, db, "replay", "", DS1, None, "--inception", "2000")
    assert rc == 0 and res["state"] == "done", (res, err)
    serial = srv.serial()
    rc, res, err = update(apply_tool, srv, db, "replay", DS1, DS2, None, "--inception", "2000")
    assert rc == 1 and res["state"] == "error", res
    assert srv.ds("replay.example.") == [DS1]
    assert srv.serial() == serial
    rc, res, err = update(apply_tool, srv, db, "replay", DS1, DS2, None, "--inception", "2001")
    assert rc == 0 and res["state"] == "done", (res, err)
    # the journal holds only what was applied
    states = [(e["ds_new"].split()[0], e["state"], e["inception"]) for e in journal(apply_tool, db)]
    assert states == [("11111", "done", 2000), ("22222", "done", 2001)]


def test_hmac_sha384_key_from_bind_file(apply_tool, bind_primary, db):
    # ldns 1.8.3 cannot sign with hmac-sha384; our TSIG code can
    srv = bind_primary
    rc, res, err = run(apply_tool, "update", "--db", db, "--primary", srv.addr,
                       "--tsig-file", srv.keyfile384, "--child", "sha384.example.",
                       "--zone", "example.", "--new", DS3)
    assert rc == 0 and res["state"] == "done", (res, err)
    assert srv.ds("sha384.example.") == [DS3]


def test_nsupdate_script_runs_through_real_nsupdate(apply_tool, bind_primary):
    srv = bind_primary
    p = subprocess.run([apply_tool, "nsupdate", "--child", "script.example.", "--zone",
                        "example.", "--new", DS1 + ";" + DS2, "--server", srv.addr,
                        "--prereq"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "server 127.0.0.1 %d" % srv.port,
        "zone example.",
        "prereq nxrrset script.example. IN DS",
        "update add script.example. 3600 IN DS " + DS1,
        "update add script.example. 3600 IN DS " + DS2,
        "send",
    ]
    nsupdate(srv, p.stdout)
    assert srv.ds("script.example.") == sorted([DS1, DS2])
    # a rollover script: only the difference
    p = subprocess.run([apply_tool, "nsupdate", "--child", "script.example.", "--zone",
                        "example.", "--old", DS1 + ";" + DS2, "--new", DS2 + ";" + DS3,
                        "--server", srv.addr, "--prereq"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    nsupdate(srv, p.stdout)
    assert srv.ds("script.example.") == sorted([DS2, DS3])
    # replaying the same script fails on its prerequisite and changes nothing
    serial = srv.serial()
    r = subprocess.run(["nsupdate", "-k", srv.keyfile], input=p.stdout, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "NXRRSET" in (r.stdout + r.stderr)
    assert srv.serial() == serial


def test_unreachable_primary_is_failed_and_kept(apply_tool, bind_primary, db):
    srv = bind_primary
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    dead = "127.0.0.1@%d" % s.getsockname()[1]
    s.close()  # nothing listens there now
    rc, res, err = run(apply_tool, "update", "--db", db, "--primary", dead,
                       "--tsig-file", srv.keyfile, "--child", "boot.example.",
                       "--zone", "example.", "--old", DS1, "--new", DS2, "--timeout", "1000")
    assert rc == 1 and res["state"] == "failed", res
    assert "connection refused" in res["message"], res
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT state FROM journal").fetchall() == [("failed",)]
