# SPDX-License-Identifier: MIT
#
# Self-tests of the loopback testbed (tests/testbed/testbed.py): the basic
# scenario comes up and every server answers; a real validating Unbound sees
# secure, insecure and bogus children as such; big answers are truncated over
# UDP; stopping (API and CLI) leaves no process behind.

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import testbed as tbmod
from dnsutil import dig, norm


@pytest.fixture(scope="module")
def basic(testbed):
    return testbed("basic", resolver=True)


def test_every_server_answers_authoritatively(basic):
    servers = [s for s in basic.info["servers"] if s["kind"] == "nsd"]
    assert len(servers) == 4
    for srv in servers:
        assert srv["zones"], srv
        for zone in srv["zones"]:
            r = dig("@" + srv["address"], "+norec", zone, "SOA")
            assert r.status == "NOERROR" and "aa" in r.flags, r


def test_state_file_describes_the_testbed(basic):
    with open(os.path.join(basic.dir, "testbed.json")) as f:
        st = json.load(f)
    assert st["schema"] == "zonecut.testbed.v1" and st["running"]
    secure = st["zones"]["secure.example."]
    assert secure["parent"] == "example." and secure["signed"]
    (csk,) = secure["keys"]
    assert csk["flags"] == 257 and csk["algorithm"] == 13
    assert secure["ds"] == [csk["ds"]["2"]]
    # The parent really serves that DS.
    parent_addr = basic.servers_for("example.")[0]
    r = dig("@" + parent_addr, "+norec", "secure.example.", "DS")
    assert r.rdatas("DS") == [norm(csk["ds"]["2"].split(None, 4)[4], "DS")]
    # bogus.example.: same key tag and algorithm in DS, wrong digest.
    bogus = st["zones"]["bogus.example."]
    good = bogus["keys"][0]["ds"]["2"].split()
    bad = bogus["ds"][0].split()
    assert bad[4:7] == good[4:7] and bad[7] != good[7]
    assert st["zones"]["insecure.example."]["ds"] == []
    # Resolver files.
    with open(st["trust_anchor"]) as f:
        assert [l.strip() for l in f if l.strip()] == st["zones"]["."]["ds"]
    with open(st["root_hints"]) as f:
        hints = f.read()
    assert basic.addr("a.root-servers.net.") in hints
    assert basic.addr("ns1.example.") == st["hosts"]["ns1.example."]["addresses"][0]


def test_unpublished_silent_address(basic):
    (silent,) = basic.addrs("ns1.example.", "silent")
    assert basic.addrs("ns1.example.", "published") == [basic.addr("ns1.example.")]
    r = dig("@" + basic.addr("a.nic.example."), "+norec", "ns1.example.", "A")
    assert r.rdatas("A") == [basic.addr("ns1.example.")], r
    r = dig("@" + silent, "+norec", "secure.example.", "SOA", timeout=1)
    assert r.status is None and "timed out" in r.text


def test_resolver_config_is_valid(basic):
    checker = shutil.which("unbound-checkconf") or "/usr/sbin/unbound-checkconf"
    if not os.path.exists(checker):
        pytest.skip("unbound-checkconf not installed")
    conf = basic.info["resolvers"][0]["conf"]
    res = subprocess.run([checker, conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    assert res.returncode == 0, res.stdout


@pytest.mark.parametrize("name, status, ad", [
    ("www.secure.example.", "NOERROR", True),
    ("www.insecure.example.", "NOERROR", False),
    ("www.bogus.example.", "SERVFAIL", False),
])
def test_resolver_validates(basic, name, status, ad):
    r = dig("@" + basic.resolver(), name, "A")
    assert r.status == status, r
    assert ("ad" in r.flags) == ad, r
    if status == "NOERROR":
        assert len(r.rdatas("A")) == 1, r


def test_big_rrset_needs_tcp(basic):
    addr = basic.servers_for("secure.example.")[0]
    r = dig("@" + addr, "+norec", "+dnssec", "+bufsize=1232", "+ignore",
            "big.secure.example.", "TXT")
    assert "tc" in r.flags, r
    r = dig("@" + addr, "+norec", "+dnssec", "+tcp", "big.secure.example.", "TXT")
    assert len(r.rdatas("TXT")) == 40 and "tc" not in r.flags, r
    r = dig("@" + basic.resolver(), "big.secure.example.", "TXT")
    assert r.status == "NOERROR" and "ad" in r.flags and len(r.rdatas("TXT")) == 40, r


TINY = {
    "name": "tiny",
    "hosts": {"ns.example.": {"addresses": 1, "silent": 1, "closed": 1}},
    "zones": {".": {}, "example.": {"nameservers": ["ns.example."],
                                    "records": ["www A 192.0.2.1"]}},
}


def test_stop_kills_every_process_and_frees_addresses(tmp_path, requires_testbed):
    tb = tbmod.Testbed(TINY, str(tmp_path / "tb")).start()
    resolver = tb.start_resolver()
    pgids = set(tb.info["pgids"])
    assert len(pgids) == 4          # root NSD, example. NSD, blackhole, unbound
    assert len(tbmod.group_members(pgids, tb.dir)) >= 4
    # A silent address swallows queries; a closed one refuses at once.
    t0 = time.monotonic()
    assert tbmod.dns_query(tb.addrs("ns.example.", "silent")[0], "example.", timeout=0.5) is None
    assert time.monotonic() - t0 >= 0.45
    t0 = time.monotonic()
    assert tbmod.dns_query(tb.addrs("ns.example.", "closed")[0], "example.", timeout=2) is None
    assert time.monotonic() - t0 < 1.0
    addrs = [s["address"] for s in tb.info["servers"] if s["kind"] == "nsd"]
    addrs += tb.addrs("ns.example.", "silent") + [resolver]
    tb.stop()
    assert tbmod.group_members(pgids, tb.dir) == []
    assert all(tbmod.address_free(a) for a in addrs)
    with open(os.path.join(tb.dir, "testbed.json")) as f:
        assert json.load(f)["running"] is False
    tb.stop()                       # idempotent


def test_cli_up_status_down(tmp_path, requires_testbed):
    script = os.path.join(os.path.dirname(tbmod.__file__), "testbed.py")
    wd = str(tmp_path / "cli")

    def cli(*args):
        return subprocess.run([sys.executable, script] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)

    up = cli("up", "basic", "--dir", wd)
    try:
        assert up.returncode == 0, up.stdout
        assert "secure.example." in up.stdout
        with open(os.path.join(wd, "testbed.json")) as f:
            st = json.load(f)
        pgids = set(st["pgids"])
        assert tbmod.group_members(pgids, wd)       # servers outlive "up"
        status = cli("status", "--dir", wd)
        assert status.returncode == 0, status.stdout
        again = cli("up", "basic", "--dir", wd)
        assert again.returncode == 3 and "already running" in again.stdout
    finally:
        down = cli("down", "--dir", wd)
    assert down.returncode == 0, down.stdout
    assert tbmod.group_members(pgids, wd) == []
    assert cli("status", "--dir", wd).returncode == 1



class _UbResult(ctypes.Structure):
    """struct ub_result of unbound.h (libunbound 1.17)."""
    _fields_ = [("qname", ctypes.c_char_p), ("qtype", ctypes.c_int), ("qclass", ctypes.c_int),
                ("data", ctypes.c_void_p), ("len", ctypes.c_void_p),
                ("canonname", ctypes.c_char_p), ("rcode", ctypes.c_int),
                ("answer_packet", ctypes.c_void_p), ("answer_len", ctypes.c_int),
                ("havedata", ctypes.c_int), ("nxdomain", ctypes.c_int),
                ("secure", ctypes.c_int), ("bogus", ctypes.c_int),
                ("why_bogus", ctypes.c_char_p)]


@pytest.mark.parametrize("how", ["config_file", "set_option"])
def test_libunbound_validates_with_the_generated_settings(basic, how):
    name = ctypes.util.find_library("unbound")
    if not name:
        pytest.skip("libunbound not installed")
    lib = ctypes.CDLL(name)
    lib.ub_ctx_create.restype = ctypes.c_void_p
    lib.ub_ctx_config.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.ub_ctx_set_option.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.ub_resolve.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                               ctypes.POINTER(ctypes.POINTER(_UbResult))]
    lib.ub_resolve_free.argtypes = [ctypes.POINTER(_UbResult)]
    lib.ub_ctx_delete.argtypes = [ctypes.c_void_p]
    ctx = lib.ub_ctx_create()
    try:
        if how == "config_file":
            assert lib.ub_ctx_config(ctx, basic.unbound_conf.encode()) == 0
        else:
            for opt, val in basic.unbound_options:
                assert lib.ub_ctx_set_option(ctx, opt.encode(), val.encode()) == 0, opt
        got = {}
        for qname in ("www.secure.example.", "www.insecure.example.", "www.bogus.example."):
            res = ctypes.POINTER(_UbResult)()
            assert lib.ub_resolve(ctx, qname.encode(), 1, 1, ctypes.byref(res)) == 0
            got[qname] = (res.contents.secure, res.contents.bogus, res.contents.havedata)
            lib.ub_resolve_free(res)
    finally:
        lib.ub_ctx_delete(ctx)
    assert got == {"www.secure.example.": (1, 0, 1), "www.insecure.example.": (0, 0, 1),
                   "www.bogus.example.": (0, 1, 1)}
