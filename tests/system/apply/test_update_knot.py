# SPDX-License-Identifier: MIT
#
# The same DS change flow against a second primary implementation, Knot DNS:
# bootstrap (served signed), an idempotent repeat, a rollover, a conflict left
# untouched, a wrong key kept for retry, and the retry completing a delete.

import json
import subprocess

DIG = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
DS1 = "11111 13 2 " + DIG
DS2 = "22222 13 2 " + DIG
DS3 = "33333 13 2 " + DIG
WRONG = "zc-test:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo0NTY3ODkwMTI="


def run(tool, *args):
    p = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def test_knot_primary_full_flow(apply_tool, knot_primary, tmp_path):
    srv = knot_primary
    db = str(tmp_path / "zc.db")
    base = ["--db", db, "--primary", srv.addr, "--tsig-file", srv.keyfile]

    def update(old, new, *extra):
        return run(apply_tool, "update", *base, "--child", "roll.example.", "--zone",
                   "example.", "--old", old, "--new", new, *extra)

    rc, res, err = update("", DS1)
    assert rc == 0 and res["state"] == "done" and res["sent"], (res, err)
    assert srv.ds("roll.example.") == [DS1]
    assert any(t == "RRSIG" for t, _ in srv.answer("roll.example.", "DS"))
    serial = srv.serial()
    rc, res, err = update("", DS1)
    assert rc == 0 and res["state"] == "done" and not res["sent"], (res, err)
    assert srv.serial() == serial
    rc, res, err = update(DS1, DS2)
    assert rc == 0 and res["state"] == "done" and res["sent"], (res, err)
    assert srv.ds("roll.example.") == [DS2]
    rc, res, err = update(DS1, DS3)  # stale view of the parent
    assert rc == 1 and res["state"] == "conflict", res
    assert srv.ds("roll.example.") == [DS2]
    rc, res, err = run(apply_tool, "update", "--db", db, "--primary", srv.addr, "--tsig", WRONG,
                       "--child", "roll.example.", "--zone", "example.", "--old", DS2,
                       "--new", "", "--mode", "delete")
    assert rc == 1 and res["state"] == "failed" and res["tsig_error_text"] == "BADSIG", res
    rc, out, err = run(apply_tool, "retry", *base)
    assert rc == 0, err
    assert [(r["state"], r["sent"]) for r in out] == [("done", True)]
    assert srv.ds("roll.example.") == []
