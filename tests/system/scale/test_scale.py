# SPDX-License-Identifier: MIT
#
# `zonecut scan` at scale (issue #4), against a registry-like workload from the
# benchmark's generator (bench/workload.py): a few thousand delegations on two
# DNS providers' shared nameservers (four NSD processes on loopback, plus a root
# and a TLD server for the RFC 9615 signals), 90 % publishing nothing, 5 % CDS
# equal to the DS, 3 % valid rollovers, 1 % valid bootstraps, 1 % wrong
# (inconsistent, forged, unsigned, bootstrap without signals, CDS/CDNSKEY
# mismatch).
#
#  - every decision equals the generator's expectation, and the funnel asks one
#    address only for the children that publish nothing;
#  - the decisions at full concurrency on three workers (threads) equal those of
#    --concurrency 1;
#  - politeness, seen from the server side: counting proxies in front of two
#    nameservers record every query's arrival and how many are outstanding, and
#    --qps-per-server / --inflight-per-server (and the default in-flight limit)
#    hold there, for the whole scan while three workers share them.
#
# ZC_SCALE_N sets the number of delegations (default 3000).

import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scan"))
sys.path.insert(0, os.path.dirname(HERE))
import workload  # noqa: E402
from netpeers import CountingProxy  # noqa: E402
from scanutil import check_decision  # noqa: E402

N = int(os.environ.get("ZC_SCALE_N", "3000"))
RUN_TIMEOUT = 300


def _needs():
    if os.geteuid() != 0:
        return "needs root (NSD binds port 53 on 127.x.y.z)"
    for tool in ("nsd",):
        if not (shutil.which(tool) or os.path.exists("/usr/sbin/" + tool)):
            return "%s not installed" % tool
    if importlib.util.find_spec("cryptography") is None:
        return "python3-cryptography not installed (the workload generator signs with it)"
    return None


def _free_base():
    """A 127.A block whose server addresses (127.A.0-2.1-2) are all free on port 53."""
    rnd = random.SystemRandom()
    for _ in range(100):
        base = "127.%d" % rnd.randint(10, 19)
        addrs = list(workload.addresses(base).values())
        if all(workload._port_free(a) for a in addrs):
            return base
    raise RuntimeError("no free loopback block")


def _free_addr():
    rnd = random.SystemRandom()
    for _ in range(200):
        a = "127.%d.%d.%d" % (rnd.randint(10, 19), rnd.randint(1, 254), rnd.randint(100, 254))
        if workload._port_free(a):
            return a
    raise RuntimeError("no free loopback address")


@pytest.fixture(scope="module")
def wl(tmp_path_factory):
    reason = _needs()
    if reason:
        pytest.skip(reason)
    d = str(tmp_path_factory.mktemp("scale-w1"))
    w = workload.generate(d, "w1", N, seed=4, base=_free_base(), log=lambda m: None)
    workload.up(d, log=lambda m: None)
    yield w
    workload.down(d)


def run_scan(zonecut, w, zone, out, *args, timeout=RUN_TIMEOUT, env=None, default_qps=False,
             global_args=()):
    """Without a --qps-per-server of its own (or @default_qps), the scan runs without
    the Internet default rate cap: the servers are ours."""
    db = out + ".db"
    args = [str(a) for a in args]
    if "--qps-per-server" not in args and not default_qps:
        args += ["--qps-per-server", "0"]
    cmd = [zonecut, *global_args, "scan", "--zone", zone, "--json", "--trust-anchor", w["trust_anchor"],
           "--root-hints", w["root_hints"], "--db", db] + args
    t0 = time.monotonic()
    with open(out, "w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True, timeout=timeout,
                           env=env)
    elapsed = time.monotonic() - t0
    assert p.returncode in (0, 1), "exit %d: %s\n%s" % (p.returncode, " ".join(cmd),
                                                        p.stderr[-3000:])
    decisions = {}
    with open(out) as f:
        for line in f:
            d = json.loads(line)
            check_decision(d)
            assert d["child"] not in decisions, "two decisions for %s" % d["child"]
            decisions[d["child"]] = d
    return decisions, p.stderr, elapsed


def key(d):
    return (d["result"], d["mode"], tuple(sorted(d["reasons"])),
            tuple(sorted(d["ds_new"])) if "ds_new" in d else None)


def test_every_decision_as_generated(zonecut, wl, tmp_path):
    expect = workload.read_expect(wl["expect"])
    dec, err, elapsed = run_scan(zonecut, wl, wl["parent_zone"], str(tmp_path / "scan.jsonl"))
    assert set(dec) == set(expect), "children missing or unexpected"
    wrong = []
    for child, e in expect.items():
        d = dec[child]
        ok = d["result"] == e["result"] and (e["mode"] is None or d["mode"] == e["mode"])
        if e["ds_new"] is not None:
            ok = ok and sorted(d.get("ds_new") or []) == sorted(e["ds_new"])
        if e["reason"] is not None:
            ok = ok and e["reason"] in d["reasons"]
        # the funnel: nothing published means CDS and CDNSKEY at one address only;
        # a child that publishes is asked all three types at both addresses
        if e["category"] == "none":
            ok = ok and d["queries"] == 2 and len(d["evidence"]["servers"]) == 1
        else:
            ok = ok and d["queries"] == 6
        if not ok:
            wrong.append("%s (%s): got %s" % (child, e, json.dumps(d)[:600]))
    assert not wrong, "%d of %d decisions differ from the generator's, e.g.:\n%s" % (
        len(wrong), len(expect), "\n".join(wrong[:5]))
    counts = {}
    for e in expect.values():
        counts[e["result"]] = counts.get(e["result"], 0) + 1
    summary = "%d delegations: " % N
    assert summary in err, err
    # nameserver host addresses resolved once each (four hosts, A and AAAA),
    # not once per delegation: the scan finished, in a bounded time
    assert elapsed < RUN_TIMEOUT


def test_concurrency_does_not_change_decisions(zonecut, wl, tmp_path):
    one, _, _ = run_scan(zonecut, wl, wl["parent_zone"], str(tmp_path / "c1.jsonl"),
                         "--concurrency", "1")
    # three event loops on threads sharing the input, whatever the CPU count
    many, _, _ = run_scan(zonecut, wl, wl["parent_zone"], str(tmp_path / "c2000.jsonl"),
                          "--concurrency", "2000", "--inflight-per-server", "100",
                          "--workers", "3")
    assert set(one) == set(many)
    diff = [c for c in one if key(one[c]) != key(many[c])]
    assert not diff, "%d decisions differ, e.g. %s: %s vs %s" % (
        len(diff), diff[0], key(one[diff[0]]), key(many[diff[0]]))


def test_tcp_only_same_decisions(zonecut, wl, tmp_path):
    """Over TCP only (RFC 7766: connections reused, queries pipelined on them), the
    scan decides every delegation as over UDP, and asks every question over TCP."""
    udp, _, _ = run_scan(zonecut, wl, wl["parent_zone"], str(tmp_path / "udp.jsonl"))
    tcp, err, _ = run_scan(zonecut, wl, wl["parent_zone"], str(tmp_path / "tcp.jsonl"),
                           "--tcp-only", "--inflight-per-server", "50")
    assert set(udp) == set(tcp)
    diff = [c for c in udp if key(udp[c]) != key(tcp[c])]
    assert not diff, "%d decisions differ, e.g. %s: %s vs %s" % (
        len(diff), diff[0], key(udp[diff[0]]), key(tcp[diff[0]]))
    transports = set()
    for d in tcp.values():
        assert d["queries"] == udp[d["child"]]["queries"], d
        for srv in d["evidence"]["servers"]:
            for t in ("CDS", "CDNSKEY", "DNSKEY"):
                if t in srv and "transport" in srv[t]:
                    transports.add(srv[t]["transport"])
    assert transports == {"tcp"}, transports
    assert "%d delegations: " % N in err, err


def test_second_pass_without_temporary_file(zonecut, wl, tmp_path):
    """The zone source keeps pass 1's delegations in an unlinked temporary file for
    pass 2; where none can be made (TMPDIR unusable), pass 2 parses the zone file
    again, with the same delegations, in the same order."""
    n = min(N, 600)
    zone = str(tmp_path / "part.zone")
    with open(wl["parent_zone"]) as f, open(zone, "w") as out:
        seen = set()
        for line in f:
            owner = line.split(None, 1)[0]
            if owner.startswith("c") and owner not in seen:
                if len(seen) == n:
                    break
                seen.add(owner)
            out.write(line)
    env = dict(os.environ, TMPDIR=str(tmp_path / "does-not-exist"))
    spool, _, _ = run_scan(zonecut, wl, zone, str(tmp_path / "spool.jsonl"))
    reparse, _, _ = run_scan(zonecut, wl, zone, str(tmp_path / "reparse.jsonl"), env=env)
    assert len(spool) == n
    assert set(spool) == set(reparse)
    for c in spool:
        assert key(spool[c]) == key(reparse[c]) and spool[c]["ds_old"] == reparse[c]["ds_old"], c


# --- politeness, counted at the servers ---------------------------------------------


@pytest.fixture(scope="module")
def proxied(wl, tmp_path_factory):
    """A parent zone of 200 children of provider p1 that need no resolver (nothing,
    equal, rollover), delegated to two in-zone names whose glue points at two
    counting proxies, one in front of each of p1's nameservers."""
    return _proxied_zone(wl, tmp_path_factory, 200)


@pytest.fixture(scope="module")
def proxied_large(wl, tmp_path_factory):
    """The same with 1,200 children: about 1,400 queries at each proxy, enough to
    run into the default rate limit for a few seconds."""
    return _proxied_zone(wl, tmp_path_factory, 1200)


def _proxied_zone(wl, tmp_path_factory, count):
    expect = workload.read_expect(wl["expect"])
    prov = workload.PROVIDERS[0]
    children = []
    for i in range(N):
        c = workload.child_name(i)
        if i % len(workload.PROVIDERS) == 0 and \
                expect[c]["category"] in ("none", "equal", "rollover"):
            children.append(c)
    children = children[:count]
    assert len(children) == count
    ds = {}
    with open(wl["parent_zone"]) as f:
        for line in f:
            t = line.split(None, 4)
            if len(t) == 5 and t[3] == "DS":
                ds.setdefault(t[0], []).append(t[4].strip())
    a1, a2 = _free_addr(), _free_addr()
    path = str(tmp_path_factory.mktemp("scale-proxy") / "parent.zone")
    with open(path, "w") as f:
        f.write("$TTL 3600\nexample. 3600 IN SOA ns.nic.test. h.nic.test. 1 3600 600 86400 300\n"
                "example. 3600 IN NS ns.nic.test.\n")
        for i, c in enumerate(children):
            order = ("pa.example.", "pb.example.") if i % 2 else ("pb.example.", "pa.example.")
            for h in order:
                f.write("%s 3600 IN NS %s\n" % (c, h))
            for r in ds.get(c, []):
                f.write("%s 3600 IN DS %s\n" % (c, r))
        f.write("pa.example. 3600 IN A %s\npb.example. 3600 IN A %s\n" % (a1, a2))
    up = {a1: wl["addresses"]["ns1." + prov], a2: wl["addresses"]["ns2." + prov]}
    expected_queries = sum(2 if expect[c]["category"] == "none" else 6 for c in children)
    return {"zone": path, "proxies": up, "children": children,
            "expect": {c: expect[c] for c in children}, "queries": expected_queries}


def _proxies(proxied, hold):
    return [CountingProxy(a, (u, 53), hold=hold) for a, u in proxied["proxies"].items()]


def _check_results(proxied, dec):
    assert set(dec) == set(proxied["children"])
    for c, e in proxied["expect"].items():
        assert dec[c]["result"] == e["result"], (c, dec[c])


@pytest.mark.parametrize("qps", [40, None])
def test_qps_per_server_seen_by_the_servers(zonecut, wl, proxied, proxied_large, tmp_path, qps):
    # None: the default (500 a second per address), over enough children to show it
    if not qps:
        proxied = proxied_large
    args = ["--qps-per-server", qps] if qps else []
    qps = qps or 500
    proxies = _proxies(proxied, hold=0.005)
    try:
        dec, _, elapsed = run_scan(zonecut, wl, proxied["zone"], str(tmp_path / "q.jsonl"),
                                   *args, "--inflight-per-server", 50,
                                   "--timeout", "3s", "--workers", 3, default_qps=True)
    finally:
        for p in proxies:
            p.close()
    _check_results(proxied, dec)
    total = sum(p.received for p in proxies)
    assert total == proxied["queries"], "the scan asked %d queries, expected %d" % (
        total, proxied["queries"])
    # the buckets allow qps + qps/100 in any second (arrival times are the kernel's);
    # a datagram leaves at the end of the engine turn that took its token, so a busy
    # machine can hold a few back into the next second: 10 ms worth on top
    allowed = qps + max(1, qps // 100) + max(2, qps // 100)
    for p in proxies:
        worst = p.max_in_window(1.0)
        print("%s: %d queries, at most %d within one second (--qps-per-server %d)"
              % (p.addr, p.received, worst, qps))
        assert worst <= allowed, "%s saw %d queries within one second (limit %d)" % (
            p.addr, worst, qps)
        # the limit was what held the scan back, not something else
        assert worst >= qps * 0.75, "%s saw at most %d queries a second" % (p.addr, worst)
    slowest = max(p.received for p in proxies)
    assert elapsed >= (slowest - qps) / qps * 0.9


@pytest.mark.parametrize("inflight", [3, None])
def test_inflight_per_server_seen_by_the_servers(zonecut, wl, proxied, tmp_path, inflight):
    proxies = _proxies(proxied, hold=0.04)
    args = ["--inflight-per-server", inflight] if inflight else []
    limit = inflight or 10  # the default
    try:
        # The limit holds for the whole scan, shared out over three workers, with
        # the default --concurrency of 1,000: more than the 200 delegations, which
        # the workers share within a few of each other (the first to start could
        # take them all, and a server would see that worker's share of the limit
        # only).
        dec, err, _ = run_scan(zonecut, wl, proxied["zone"], str(tmp_path / "i.jsonl"),
                               "--timeout", "3s", "--workers", 3, *args,
                               global_args=("-v", "-v", "-v"))
    finally:
        for p in proxies:
            p.close()
    _check_results(proxied, dec)
    per_worker = [int(n) for n in re.findall(r"this scan: (\d+) delegations decided", err)]
    print("delegations per worker:", per_worker)
    assert len(per_worker) == 3 and sum(per_worker) == len(dec), per_worker
    # each in progress within 8 of the others': with everything taken at once (the
    # proxies hold every answer 40 ms), each worker gets about a third
    assert min(per_worker) >= len(dec) // 3 - 16, per_worker
    for p in proxies:
        print("%s: %d queries, at most %d outstanding (limit %d)" % (
            p.addr, p.received, p.max_outstanding, limit))
        assert p.max_outstanding <= limit, "%s had %d queries outstanding (limit %d)" % (
            p.addr, p.max_outstanding, limit)
        assert p.max_outstanding >= limit - 1, "%s: at most %d outstanding, limit %d" % (
            p.addr, p.max_outstanding, limit)


def test_inflight_per_server_seen_by_the_servers_over_tcp(zonecut, wl, proxied, tmp_path):
    """Over TCP only, pipelined, the in-flight limit is the same: counted at the
    servers, never more queries outstanding than the limit, on however many
    connections."""
    proxies = _proxies(proxied, hold=0.04)
    limit = 5
    try:
        dec, _, _ = run_scan(zonecut, wl, proxied["zone"], str(tmp_path / "t.jsonl"),
                             "--timeout", "3s", "--workers", 3, "--tcp-only",
                             "--inflight-per-server", limit)
    finally:
        for p in proxies:
            p.close()
    _check_results(proxied, dec)
    for p in proxies:
        print("%s: %d queries over %d TCP connections, at most %d outstanding (limit %d)" % (
            p.addr, p.tcp_queries, p.tcp_connections, p.max_outstanding, limit))
        assert p.tcp_queries == p.received > 0, (p.tcp_queries, p.received)
        assert p.tcp_connections <= 3 * 2, p.tcp_connections  # per worker, reused
        assert limit - 1 <= p.max_outstanding <= limit, p.max_outstanding
