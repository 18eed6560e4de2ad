# SPDX-License-Identifier: MIT
#
# Foundation system tests: the query engine and the validating resolver against
# real NSD servers and Unbound on the loopback testbed (libunbound inside zonecut),
# plus hostile peers (spoofing, silent) written here. Everything is checked from
# `zonecut query --json` output and exit codes, or from the server side.

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from netpeers import CountingProxy, SpoofingServer, free_loopback_addr  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("ZONECUT_BUILD") or (
    os.path.dirname(os.environ["ZONECUT_BIN"]) if os.environ.get("ZONECUT_BIN")
    else os.path.join(TOP, "build"))
LOADER = os.path.join(BUILD, "tests", "tools", "zc-engine-load")


@pytest.fixture(scope="module")
def tb(testbed):
    return testbed("basic")


def query(zonecut, *args, timeout=30):
    p = subprocess.run([zonecut, "query", "--json", *args], capture_output=True, text=True,
                       timeout=timeout)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, out, p.stderr


def rrs(msg, rtype):
    return [rr for rr in msg["answerRRs"] if rr["TYPEname"] == rtype]


def test_udp_answer(zonecut, tb):
    ns = tb.addr("ns1.example.")
    rc, out, err = query(zonecut, "@" + ns, "www.secure.example.", "A")
    assert rc == 0, err
    assert out["schema"] == "zonecut.query.v1"
    assert out["status"] == "ok"
    assert out["transport"] == "udp" and not out["tc_fallback"]
    assert [r["rdata"] for r in rrs(out["message"], "A")] == ["192.0.2.1"]
    assert out["message"]["AA"] == 1


def test_truncated_answer_retried_over_tcp(zonecut, tb):
    ns = tb.addr("ns1.example.")
    rc, out, err = query(zonecut, "@" + ns, "big.secure.example.", "TXT", "--dnssec")
    assert rc == 0, err
    assert out["transport"] == "tcp"
    assert out["tc_fallback"] is True
    assert len(rrs(out["message"], "TXT")) == 40
    assert rrs(out["message"], "RRSIG"), "DO bit set: the RRSIG comes along"


def test_tcp_only(zonecut, tb):
    ns = tb.addr("ns2.example.")
    rc, out, err = query(zonecut, "@" + ns, "www.secure.example.", "A", "--tcp")
    assert rc == 0, err
    assert out["transport"] == "tcp" and not out["tc_fallback"]
    assert [r["rdata"] for r in rrs(out["message"], "A")] == ["192.0.2.1"]


def test_silent_address_times_out_within_bound(zonecut, tb):
    silent = tb.addrs("ns1.example.", "silent")[0]
    t0 = time.monotonic()
    rc, out, err = query(zonecut, "@" + silent, "www.secure.example.", "A",
                         "--timeout", "200ms", "--retries", "2")
    elapsed = time.monotonic() - t0
    assert rc == 3
    assert out["status"] == "timeout"
    assert out["attempts"] == 3
    # 200 + 400 + 800 ms of back-off; generous slack for process start under ASan
    assert 1.3 <= elapsed < 5.0, elapsed


def test_spoofed_answers_are_ignored(zonecut):
    addr = free_loopback_addr()
    srv = SpoofingServer(addr, honest=True, delay=0.2)
    try:
        rc, out, err = query(zonecut, "@" + addr, "www.spoof.example.", "A", "--timeout", "2s")
    finally:
        srv.close()
    assert rc == 0, err
    # only the answer from the right port, with the right ID and question counts
    assert [r["rdata"] for r in rrs(out["message"], "A")] == ["192.0.2.99"]
    assert out["attempts"] == 1


def test_only_spoofed_answers_time_out(zonecut):
    addr = free_loopback_addr()
    srv = SpoofingServer(addr, honest=False)
    try:
        rc, out, err = query(zonecut, "@" + addr, "www.spoof.example.", "A",
                             "--timeout", "300ms", "--retries", "1")
    finally:
        srv.close()
    assert rc == 3
    assert out["status"] == "timeout"
    assert srv.queries == 2


def test_per_server_inflight_cap_seen_by_server(tb):
    if not os.path.exists(LOADER):
        pytest.skip("zc-engine-load not built")
    upstream = (tb.addr("ns1.example."), 53)
    addr = free_loopback_addr()
    proxy = CountingProxy(addr, upstream, hold=0.02)
    try:
        p = subprocess.run([LOADER, addr, "www.secure.example.", "A", "1000", "8", "0"],
                           capture_output=True, text=True, timeout=120)
    finally:
        proxy.close()
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["answered"] == 1000
    assert proxy.received >= 1000
    # seen from the server side: never more than 8 outstanding, and the cap was reached
    assert proxy.max_outstanding <= 8
    assert proxy.max_outstanding >= 4
    assert st["max_inflight_per_server_seen"] <= 8


def test_per_server_rate_limit_seen_by_server(tb):
    if not os.path.exists(LOADER):
        pytest.skip("zc-engine-load not built")
    upstream = (tb.addr("ns1.example."), 53)
    addr = free_loopback_addr()
    proxy = CountingProxy(addr, upstream, hold=0.0)
    try:
        p = subprocess.run([LOADER, addr, "www.secure.example.", "A", "150", "50", "50"],
                           capture_output=True, text=True, timeout=120)
    finally:
        proxy.close()
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["answered"] == 150
    # 150 queries at 50/s take at least two seconds, and no second sees many more than 50
    assert st["elapsed_ms"] >= 1900
    assert proxy.max_in_window(1.0) <= 55


@pytest.mark.parametrize("name,security,rc", [
    ("www.secure.example.", "secure", 0),
    ("www.insecure.example.", "insecure", 0),
    ("www.bogus.example.", "bogus", 1),
])
def test_validation_status(zonecut, tb, name, security, rc):
    code, out, err = query(zonecut, name, "A", "--trust-anchor", tb.trust_anchor,
                           "--root-hints", tb.root_hints)
    assert code == rc, err
    assert out["mode"] == "resolve"
    assert out["security"] == security
    if security == "bogus":
        assert out["why_bogus"]
    else:
        assert out["rcode"] == "NOERROR"
        assert rrs(out["message"], "A")


def test_validation_through_forwarder(zonecut, tb):
    resolver = tb.start_resolver()
    code, out, err = query(zonecut, "www.secure.example.", "A", "--trust-anchor",
                           tb.trust_anchor, "--forward", resolver)
    assert code == 0, err
    assert out["security"] == "secure"


def test_bad_usage_exit_2(zonecut):
    p = subprocess.run([zonecut, "query", "@not-an-address", "x.example."],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "see 'zonecut help query'" in p.stderr
    p = subprocess.run([zonecut, "query", "x.example.", "NOTATYPE"], capture_output=True,
                       text=True)
    assert p.returncode == 2
