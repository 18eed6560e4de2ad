# SPDX-License-Identifier: MIT
#
# The command line contract shared by every command: help texts, usage errors
# (exit 2, one line and a pointer to the help), the config file and ZC_*
# environment carrying the same keys as the long options, with the command line
# winning, and exit 3 for operational failures.

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from netpeers import SpoofingServer, free_loopback_addr  # noqa: E402


def run(zonecut, *args, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([zonecut, *args], capture_output=True, text=True, timeout=timeout,
                          env=e)


def test_help_is_the_same_both_ways(zonecut):
    for cmd in ("scan", "query"):
        a = run(zonecut, "help", cmd)
        b = run(zonecut, cmd, "--help")
        assert a.returncode == 0 and b.returncode == 0
        assert a.stdout == b.stdout
        assert "Usage: zonecut " + cmd in a.stdout
        assert "Exit status" in a.stdout


def test_main_help_lists_commands(zonecut):
    p = run(zonecut, "--help")
    assert p.returncode == 0
    for cmd in ("scan", "query", "help", "version"):
        assert "\n  " + cmd in p.stdout
    assert run(zonecut).returncode == 2
    v = run(zonecut, "version")
    assert v.returncode == 0 and v.stdout.startswith("zonecut ")


@pytest.mark.parametrize("args,msg", [
    (["nosuchcommand"], "unknown command 'nosuchcommand'"),
    (["scan", "--nosuchoption"], "unknown option"),
    (["scan"], "exactly one of --zone FILE and --list FILE"),
    (["scan", "--zone", "a", "--list", "b"], "exactly one of"),
    (["scan", "--zone", "z", "--concurrency", "0"], "'0' is not a number from 1"),
    (["scan", "--zone", "z", "--apply", "epp"], "not one of json, nsupdate, update"),
    (["scan", "--zone", "z", "--apply", "update"], "needs --parent-primary"),
    (["scan", "--zone", "/nonexistent/zone.file"], "/nonexistent/zone.file"),
    (["query"], "missing NAME"),
])
def test_usage_errors_exit_2_with_one_line(zonecut, args, msg):
    p = run(zonecut, *args)
    assert p.returncode == 2, p.stderr
    assert msg in p.stderr, p.stderr
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) <= 2, p.stderr


def test_config_file_and_environment(zonecut, tmp_path):
    addr = free_loopback_addr()
    srv = SpoofingServer(addr, honest=True, delay=0.05)
    try:
        conf = tmp_path / "zonecut.conf"
        conf.write_text("# query defaults\njson = yes\ntimeout = 2s\nretries: 1\n")
        p = run(zonecut, "query", "--config", str(conf), "@" + addr, "a.example.")
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["status"] == "ok"       # json from the file
        # the environment too, and flags set to "no" keep their default
        conf.write_text("json = no\n")
        p = run(zonecut, "query", "--config", str(conf), "@" + addr, "a.example.",
                env={"ZC_JSON": "yes"})
        assert json.loads(p.stdout)["mode"] == "direct"
    finally:
        srv.close()


def test_config_file_errors_name_file_and_line(zonecut, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("json = yes\nno-such-option = 1\n")
    p = run(zonecut, "query", "--config", str(conf), "@127.0.0.1", "a.example.")
    assert p.returncode == 2
    assert "%s:2: unknown option 'no-such-option'" % conf in p.stderr
    conf.write_text("timeout = soon\n")
    p = run(zonecut, "query", "--config", str(conf), "@127.0.0.1", "a.example.")
    assert p.returncode == 2
    assert "%s:1" % conf in p.stderr and "timeout" in p.stderr
    conf.write_text("json = perhaps\n")
    p = run(zonecut, "query", "--config", str(conf), "@127.0.0.1", "a.example.")
    assert p.returncode == 2 and "takes yes or no" in p.stderr


def test_command_line_wins_over_file(zonecut, tmp_path):
    conf = tmp_path / "zonecut.conf"
    conf.write_text("timeout = 60s\nretries = 10\n")
    closed = free_loopback_addr()  # nothing listens: ICMP refused at once
    p = run(zonecut, "query", "--config", str(conf), "--retries", "0", "--json",
            "@" + closed, "a.example.", timeout=20)
    assert p.returncode == 3
    out = json.loads(p.stdout)
    assert out["attempts"] == 1  # --retries 0 from the command line, not 10
