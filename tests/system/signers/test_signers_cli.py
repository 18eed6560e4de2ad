# SPDX-License-Identifier: MIT
#
# `zonecut signers` configuration from the command line and from the config
# file, kept in the state store: add, remove, zone-add, list (text and JSON,
# secrets never shown), status --offline, usage errors (exit 2, one line and a
# pointer to the help), and refusals that protect a running group.

import json
import os
import subprocess

import pytest

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="


def run(zonecut, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([zonecut, "signers"] + list(args), capture_output=True, text=True,
                          timeout=30, env=e)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "zc.db")


def test_add_list_remove(zonecut, db):
    p = run(zonecut, "--db", db, "add", "knot", "server=192.0.2.1",
            "tsig=hmac-sha256:zc:" + SECRET, "ns=ns1.knot.example=192.0.2.1")
    assert p.returncode == 0, p.stderr
    p = run(zonecut, "--db", db, "add", "bind", "server=192.0.2.2@5300",
            "tsig-file=/etc/zc/bind.key", "ns=ns1.bind.example", "ns=ns2.bind.example")
    assert p.returncode == 0, p.stderr
    # adding again is refused; --replace changes it
    p = run(zonecut, "--db", db, "add", "knot", "server=192.0.2.9", "ns=ns1.knot.example")
    assert p.returncode == 2 and "exists" in p.stderr
    p = run(zonecut, "--db", db, "add", "--replace", "knot", "server=192.0.2.9",
            "tsig=hmac-sha256:zc:" + SECRET, "ns=ns1.knot.example=192.0.2.9")
    assert p.returncode == 0, p.stderr
    p = run(zonecut, "--db", db, "zone-add", "Multi.Example", "signers=knot",
            "parent=192.0.2.53", "cds-digests=2,4")
    assert p.returncode == 0, p.stderr
    p = run(zonecut, "--db", db, "list", "--json")
    assert p.returncode == 0
    o = json.loads(p.stdout)
    assert o["schema"] == "zonecut.signers.list.v1"
    assert [s["name"] for s in o["signers"]] == ["bind", "knot"]
    knot = o["signers"][1]
    assert knot["server"] == "192.0.2.9@53" and knot["ns"] == ["ns1.knot.example."]
    assert SECRET not in p.stdout and "tsig=hmac-sha256:zc:***" in knot["spec"]
    assert o["zones"] == [{"zone": "multi.example.", "signers": ["knot"],
                           "spec": "multi.example. signers=knot parent=192.0.2.53@53 "
                                   "cds-digests=2,4"}]
    p = run(zonecut, "--db", db, "list")
    assert "2 signers" in p.stdout and "1 zone" in p.stdout and SECRET not in p.stdout
    # a signer in a group cannot go; one that is not can
    p = run(zonecut, "--db", db, "remove", "knot")
    assert p.returncode == 2 and "leave first" in p.stderr
    assert run(zonecut, "--db", db, "remove", "bind").returncode == 0
    assert run(zonecut, "--db", db, "remove", "bind").returncode == 2
    # status without queries: the group and no process
    p = run(zonecut, "--db", db, "status", "--offline", "--json")
    st = json.loads(p.stdout)
    assert p.returncode == 0 and st["schema"] == "zonecut.signers.v1"
    assert st["group"] == [{"signer": "knot", "state": "active", "pushed_keys": 0}]
    assert st["process"] is None
    assert run(zonecut, "--db", db, "zone-remove", "multi.example").returncode == 0
    assert json.loads(run(zonecut, "--db", db, "list", "--json").stdout)["zones"] == []


def test_config_file_and_environment(zonecut, db, tmp_path):
    conf = tmp_path / "zc.conf"
    conf.write_text("# the controller's signers and zones\n"
                    "db = %s\n"
                    "signer = knot server=192.0.2.1 tsig=hmac-sha256:zc:%s "
                    "ns=ns1.knot.example=192.0.2.1\n"
                    "signer = bind server=192.0.2.2 ns=ns1.bind.example=192.0.2.2\n"
                    "zone = multi.example signers=knot,bind parent=192.0.2.53\n"
                    "retry = 2s\n" % (db, SECRET))
    p = run(zonecut, "--config", str(conf), "list", "--json")
    assert p.returncode == 0, p.stderr
    o = json.loads(p.stdout)
    assert [s["name"] for s in o["signers"]] == ["bind", "knot"]
    assert o["zones"][0]["signers"] == ["knot", "bind"]
    # the store keeps them: without the file they are still there
    o = json.loads(run(zonecut, "--db", db, "list", "--json").stdout)
    assert len(o["signers"]) == 2
    # the environment, as every option
    p = run(zonecut, "list", "--json", env={"ZC_DB": db})
    assert p.returncode == 0 and len(json.loads(p.stdout)["signers"]) == 2
    # an unknown key in a spec is an error with the line, nothing attempted
    bad = tmp_path / "bad.conf"
    bad.write_text("signer = x server=192.0.2.1 ns=a.example colour=red\n")
    p = run(zonecut, "--db", db, "--config", str(bad), "list")
    assert p.returncode == 2 and "unknown key 'colour'" in p.stderr


@pytest.mark.parametrize("args, why", [
    ([], "a verb is needed"),
    (["frobnicate"], "unknown verb"),
    (["add"], "needs a NAME"),
    (["add", "Bad", "server=192.0.2.1", "ns=a.example"], "signer name"),
    (["add", "k", "server=192.0.2.1"], "at least one ns"),
    (["zone-add", "x.example", "cds-digests=1"], "cds-digests"),
    (["zone-add", "x.example", "max-zone-ttl=1x"], "max-zone-ttl"),
    (["add", "k", "server=192.0.2.1", "ns=a.example", "keys-command=keys.sh"],
     "not an absolute path"),
    (["join", "x.example"], "join takes ZONE SIGNER"),
    (["rollover", "x.example", "k", "zzz"], "not zsk, ksk or csk"),
    (["status", "a.example", "b.example"], "at most one ZONE"),
    (["--timeout", "0", "list"], "not a duration"),
])
def test_usage_errors(zonecut, db, args, why):
    p = run(zonecut, "--db", db, *args)
    assert p.returncode == 2, (args, p.stderr)
    assert why in p.stderr and "see 'zonecut help signers'" in p.stderr


def test_process_refusals(zonecut, db):
    assert run(zonecut, "--db", db, "add", "knot", "server=192.0.2.1",
               "ns=ns1.knot.example").returncode == 0
    assert run(zonecut, "--db", db, "zone-add", "x.example", "signers=knot").returncode == 0
    for args, why in ((["join", "x.example", "knot"], "in the group"),
                      (["join", "x.example", "nobody"], "not configured"),
                      (["join", "y.example", "knot"], "not run by the controller"),
                      (["leave", "x.example", "knot"], "last active signer"),
                      (["abort", "x.example"], "no process to abort"),
                      (["rollover", "x.example", "knot", "zsk"], "has no keys-command"),
                      (["rollover", "x.example", "nobody", "ksk"], "not configured")):
        p = run(zonecut, "--db", db, *args)
        assert p.returncode == 2 and why in p.stderr, (args, p.stderr)


def test_help(zonecut):
    a = subprocess.run([zonecut, "help", "signers"], capture_output=True, text=True)
    b = subprocess.run([zonecut, "signers", "--help"], capture_output=True, text=True)
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout
    assert "RFC 8901" in a.stdout and "--readback-timeout" in a.stdout
