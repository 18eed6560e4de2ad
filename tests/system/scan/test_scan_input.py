# SPDX-License-Identifier: MIT
#
# `zonecut scan` input and usage errors: exit status 2, a FILE:LINE message on
# stderr, nothing on stdout, nothing attempted. No testbed needed; every run is
# bounded (short query timeout, subprocess timeout) in case a scan starts anyway.

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scanutil import tempfile_in  # noqa: E402

HEAD = [
    "$TTL 3600",                                                                      # 1
    "example. 3600 IN SOA a.nic.example. hostmaster.example. 1 3600 600 86400 300",  # 2
    "example. 3600 IN NS a.nic.example.",                                             # 3
    "a.nic.example. 3600 IN A 192.0.2.53",                                            # 4
]
GOOD_CHILD = [
    "one.example. 3600 IN NS ns1.one.example.",
    "one.example. 3600 IN DS 12345 13 2 "
    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
    "ns1.one.example. 3600 IN A 192.0.2.1",
]
BOUND = ["--timeout", "100ms", "--retries", "0", "--forward", "127.0.0.1"]


def run(zonecut, *args):
    p = subprocess.run([zonecut, "scan", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check_input_error(zonecut, path, line, *extra):
    rc, out, err = run(zonecut, "--json", *extra, *BOUND)
    assert rc == 2, (rc, out, err)
    assert out == "", "nothing may be printed on stdout: %r" % out
    assert "%s:%d" % (path, line) in err, err


def test_bad_record_in_the_middle(zonecut, tmp_path):
    lines = HEAD + GOOD_CHILD + [
        "two.example. 3600 IN NS ns1.provider.test.",
        "two.example. 3600 IN DS 12345 13 2 NOT-HEX",               # line 9
        "three.example. 3600 IN NS ns1.provider.test.",
    ]
    path = tempfile_in(tmp_path, "mid.zone", "\n".join(lines) + "\n")
    check_input_error(zonecut, path, 9, "--zone", path)


def test_bad_record_on_the_last_line(zonecut, tmp_path):
    # many valid delegations first: nothing may be scanned or printed before
    # the whole file has been read
    lines = list(HEAD)
    for i in range(200):
        lines += ["c%d.example. 3600 IN NS ns1.provider.test." % i]
    lines += ["last.example. 3600 IN A 999.1.2.3"]
    path = tempfile_in(tmp_path, "last.zone", "\n".join(lines) + "\n")
    check_input_error(zonecut, path, len(lines), "--zone", path)


def test_first_record_must_be_soa(zonecut, tmp_path):
    lines = ["one.example. 3600 IN NS ns1.provider.test.",
             "example. 3600 IN SOA a.nic.example. hostmaster.example. 1 3600 600 86400 300"]
    path = tempfile_in(tmp_path, "nosoa.zone", "\n".join(lines) + "\n")
    rc, out, err = run(zonecut, "--json", "--zone", path, *BOUND)
    assert rc == 2, (rc, out, err)
    assert out == ""
    assert path in err, err


def test_child_in_two_places(zonecut, tmp_path):
    lines = HEAD + GOOD_CHILD + [
        "two.example. 3600 IN NS ns1.provider.test.",
        "one.example. 3600 IN NS ns2.provider.test.",               # line 9
    ]
    path = tempfile_in(tmp_path, "twice.zone", "\n".join(lines) + "\n")
    check_input_error(zonecut, path, 9, "--zone", path)


def test_missing_zone_file(zonecut, tmp_path):
    rc, out, err = run(zonecut, "--json", "--zone", str(tmp_path / "absent.zone"), *BOUND)
    assert rc == 2, (rc, out, err)
    assert out == ""
    assert "absent.zone" in err


def test_bad_list_line(zonecut, tmp_path):
    path = tempfile_in(tmp_path, "bad.list",
                       "one.example. ns1.provider.test.\n"
                       "two.example.\n")                              # no nameserver
    check_input_error(zonecut, path, 2, "--list", path)


@pytest.mark.parametrize("args", [
    [],                                                   # neither --zone nor --list
    ["--zone", "/dev/null", "--list", "/dev/null"],       # both
    ["--zone", "/dev/null", "--apply", "epp-magic"],      # unknown apply mode
    ["--zone", "/dev/null", "--algorithms", "13,x"],
    ["--zone", "/dev/null", "--concurrency", "0"],
    ["--zone", "/dev/null", "--timeout", "forever"],
    ["--zone", "/dev/null", "--no-such-option"],
])
def test_bad_usage_exit_2(zonecut, args):
    rc, out, err = run(zonecut, *args)
    assert rc == 2, (args, rc, out, err)
    assert out == "", out
    assert err.strip(), "a message on stderr"
