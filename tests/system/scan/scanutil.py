# SPDX-License-Identifier: MIT
#
# Helpers for the `zonecut scan` system tests: write a parent zone file from a
# started testbed (so the test, not the testbed, decides which DS the parent
# "currently holds"), run the scan and parse its JSON Lines, check every
# decision against the zonecut.scan.v1 contract, and small hostile nameservers
# (garbage, truncating, slow) on loopback addresses of their own.

import json
import os
import random
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time

RESULTS = {"no-cds", "unchanged", "update", "delete", "rejected", "error"}
MODES = {"bootstrap", "rollover", "delete", None}
REASONS = {
    "ns-inconsistent", "cds-cdnskey-mismatch", "not-signed-by-ds-key",
    "dnskey-not-validated", "bootstrap-signal-missing", "bootstrap-signal-mismatch",
    "bootstrap-signal-insecure", "bootstrap-no-out-of-child-ns", "breaks-chain",
    "algorithm-not-allowed", "digest-not-allowed", "delete-malformed", "replay",
    "too-many-records", "timeout", "unreachable",
    # added by the implementation (include/zonecut/scan.h)
    "lame", "malformed", "signature-invalid", "delay-pending", "bootstrap-disabled",
    "ds-lookup-failed", "no-address",
}
# Reasons that say "could not get a usable answer", never a policy verdict.
TRANSPORT_REASONS = {"timeout", "unreachable", "lame", "malformed", "no-address"}
DS_TEXT = re.compile(r"^\d{1,5} \d{1,3} \d{1,3} [0-9A-F]+$")

# Every zonecut run is bounded: a hung scan fails the test instead of the suite.
RUN_TIMEOUT = 60


def fqdn(name):
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def is_subdomain(name, zone):
    name, zone = fqdn(name), fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


def norm_ds(rdata):
    """"TAG ALG DT HEX" with the digest upper-case and unsplit, as zonecut prints it."""
    parts = rdata.split()
    return " ".join(parts[:3] + ["".join(parts[3:]).upper()])


def ds_rdata(line):
    """The rdata of a "owner ttl IN DS rdata" line (testbed.json)."""
    return line.split(None, 4)[4]


def key_ds(tb, zone, key, digest=2):
    """The DS the testbed computed (ldns-key2ds) for one key of a zone."""
    return norm_ds(ds_rdata(tb.key(zone, key)["ds"][str(digest)]))


def parent_ds(tb, zone):
    """The DS set the testbed's parent publishes for zone, normalized."""
    return [norm_ds(ds_rdata(l)) for l in tb.zone(zone)["ds"]]


def write_parent_zone(path, tb, parent, children, ds=None, ns=None, glue=None):
    """A parent zone file for `zonecut scan --zone`: the parent's SOA first, its
    apex NS, then for each child its NS, its DS (the testbed's, unless @ds maps
    the child to a list of DS rdata) and glue for nameservers inside the parent
    zone (the testbed's published addresses, unless @glue maps the name to a
    list of addresses). @ns maps a child to the NS names to delegate to."""
    ds, ns, glue = ds or {}, ns or {}, glue or {}
    parent = fqdn(parent)
    hosts = tb.info["hosts"]

    def addrs(h):
        return glue[h] if h in glue else hosts[h]["published"]

    apex_ns = tb.zone(parent)["apex_ns"]
    out = ["$TTL 3600",
           "%s 3600 IN SOA %s hostmaster.%s 2024010101 3600 600 86400 300"
           % (parent, apex_ns[0], parent)]
    out += ["%s 3600 IN NS %s" % (parent, h) for h in apex_ns]
    written = set()
    for h in apex_ns:
        if is_subdomain(h, parent) and not any(is_subdomain(h, fqdn(c)) for c in children):
            out += ["%s 3600 IN A %s" % (h, a) for a in addrs(h)]
            written.add(h)
    for c in children:
        c = fqdn(c)
        names = [fqdn(h) for h in ns.get(c, tb.zone(c)["parent_ns"])]
        out += ["%s 3600 IN NS %s" % (c, h) for h in names]
        dsl = ds[c] if c in ds else [ds_rdata(l) for l in tb.zone(c)["ds"]]
        out += ["%s 3600 IN DS %s" % (c, r) for r in dsl]
        for h in names:
            if is_subdomain(h, c) and h not in written:
                out += ["%s 3600 IN A %s" % (h, a) for a in addrs(h)]
                written.add(h)
    # Glue of nameservers below the parent but outside every listed child.
    for c in children:
        for h in [fqdn(x) for x in ns.get(fqdn(c), tb.zone(fqdn(c))["parent_ns"])]:
            if h not in written and is_subdomain(h, parent) and \
                    not any(is_subdomain(h, fqdn(x)) for x in children):
                out += ["%s 3600 IN A %s" % (h, a) for a in addrs(h)]
                written.add(h)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


class ScanRun:
    def __init__(self, proc, cmd, elapsed):
        self.cmd = cmd
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed
        self.lines = [l for l in proc.stdout.splitlines() if l.strip()]
        self.decisions = []
        self.by_child = {}

    def parse_json(self):
        for l in self.lines:
            try:
                d = json.loads(l)
            except ValueError:
                raise AssertionError("stdout line is not JSON: %r\n%s" % (l, self.describe()))
            self.decisions.append(d)
            child = d.get("child")
            assert child not in self.by_child, "two decisions for %s\n%s" % (
                child, self.describe())
            self.by_child[child] = d
        return self

    def __getitem__(self, child):
        child = fqdn(child)
        assert child in self.by_child, "no decision for %s\n%s" % (child, self.describe())
        return self.by_child[child]

    def describe(self):
        return "command: %s\nexit %s after %.1fs\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.cmd), self.rc, self.elapsed, self.stdout[-6000:],
            self.stderr[-3000:])


def scan(zonecut, tb, *args, json_out=True, timeout=RUN_TIMEOUT, resolver=True,
         global_args=()):
    """Run `zonecut scan` with the testbed's trust anchor and root hints;
    @global_args go before "scan" (e.g. -v)."""
    cmd = [zonecut] + list(global_args) + ["scan"]
    if json_out:
        cmd.append("--json")
    if tb is not None and resolver:
        cmd += ["--trust-anchor", tb.trust_anchor, "--root-hints", tb.root_hints]
    cmd += [str(a) for a in args]
    if "--db" not in cmd:
        # each run starts from an empty state store unless the test shares one
        fd, db = tempfile.mkstemp(prefix="zc-scan-", suffix=".db")
        os.close(fd)
        os.unlink(db)
        cmd += ["--db", db]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    run = ScanRun(p, cmd, time.monotonic() - t0)
    if json_out:
        run.parse_json()
        for d in run.decisions:
            check_decision(d, run)
    return run


def check_decision(d, run=None):
    """The zonecut.scan.v1 contract every decision line must meet."""
    ctx = run.describe() if run else json.dumps(d)
    assert d.get("schema") == "zonecut.scan.v1", ctx
    c = d.get("child")
    assert isinstance(c, str) and c.endswith(".") and c == c.lower(), ctx
    assert d.get("result") in RESULTS, ctx
    assert d.get("mode", "missing") in MODES, ctx
    assert isinstance(d.get("reasons"), list), ctx
    assert set(d["reasons"]) <= REASONS, "unknown reason codes %s\n%s" % (
        set(d["reasons"]) - REASONS, ctx)
    assert len(set(d["reasons"])) == len(d["reasons"]), ctx
    assert isinstance(d.get("ds_old"), list), ctx
    for ds in d["ds_old"] + (d.get("ds_new") or []):
        assert DS_TEXT.match(ds), "DS text %r\n%s" % (ds, ctx)
    if d["result"] in ("update", "delete", "unchanged"):
        assert isinstance(d.get("ds_new"), list), "ds_new missing\n" + ctx
    if d["result"] == "delete":
        assert d["ds_new"] == [], ctx
    if d["result"] in ("no-cds", "unchanged", "update", "delete"):
        assert d["reasons"] == [], "reasons on an accepted result\n" + ctx
    else:
        assert d["reasons"], "a %s without reasons\n%s" % (d["result"], ctx)
    ev = d.get("evidence")
    assert isinstance(ev, dict) and isinstance(ev.get("servers"), list), ctx


def expect(run, child, result, reasons=None, mode="any", ds_new=None):
    """Assert one delegation's decision; reasons compared as a set."""
    d = run[child]
    ctx = "%s: %s\n%s" % (child, json.dumps(d, indent=1)[:5000], run.describe()[:3000])
    assert d["result"] == result, ctx
    if reasons is not None:
        assert set(d["reasons"]) == set(reasons), ctx
    if mode != "any":
        assert d["mode"] == mode, ctx
    if ds_new is not None:
        assert sorted(d["ds_new"]) == sorted(ds_new), ctx
    return d


def plain_addr(a):
    """An evidence address without a port 53 suffix ("127.1.2.3@53" or "#53")."""
    for sep in ("@", "#"):
        if a.endswith(sep + "53"):
            return a[:-3]
    return a


def server_entries(d):
    """{(ns, address): entry} from a decision's evidence."""
    return {(fqdn(s["ns"]), plain_addr(s["address"])): s for s in d["evidence"]["servers"]}


# --------------------------------------------------------------------------
# Hostile nameservers


def bind_free(tcp=False, tries=200):
    """Sockets bound to port 53 on a random 127.X.Y.Z no one uses: (addr, udp, tcp)."""
    rnd = random.SystemRandom()
    for _ in range(tries):
        addr = "127.%d.%d.%d" % (rnd.randint(20, 49), rnd.randint(1, 254), rnd.randint(1, 254))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = None
        try:
            u.bind((addr, 53))
            # Also make sure nothing listens on TCP there (we may want RST).
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((addr, 53))
            if tcp:
                t.listen(16)
            else:
                t.close()
                t = None
            return addr, u, t
        except OSError:
            u.close()
            if t:
                t.close()
    raise RuntimeError("no free loopback address")


def question_end(msg):
    i = 12
    while i < len(msg) and msg[i] != 0:
        i += 1 + msg[i]
    return i + 5


class Peer:
    """A UDP (and optionally TCP) server on its own loopback address, in a
    thread; @udp_reply(query) and @tcp_reply(query) return bytes or None."""

    def __init__(self, tcp_mode=None):
        self.addr, self.udp, self.tcp = bind_free(tcp=tcp_mode is not None)
        self.tcp_mode = tcp_mode
        self.udp.settimeout(0.1)
        if self.tcp:
            self.tcp.settimeout(0.1)
        self.queries = 0
        self.tcp_connections = 0
        self.stop_flag = False
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True)]
        if self.tcp:
            self.threads.append(threading.Thread(target=self._tcp_loop, daemon=True))
        for t in self.threads:
            t.start()

    def _udp_loop(self):
        while not self.stop_flag:
            try:
                q, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            threading.Thread(target=self._answer, args=(q, peer), daemon=True).start()

    def _answer(self, q, peer):
        try:
            r = self.udp_reply(q)
            if r is not None and not self.stop_flag:
                self.udp.sendto(r, peer)
        except OSError:
            pass

    def _tcp_loop(self):
        while not self.stop_flag:
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.tcp_connections += 1
            if self.tcp_mode == "close":
                c.close()
                continue
            threading.Thread(target=self._tcp_conn, args=(c,), daemon=True).start()

    def _tcp_conn(self, c):
        c.settimeout(5)
        try:
            while not self.stop_flag:
                hdr = c.recv(2)
                if len(hdr) < 2:
                    return
                n = struct.unpack("!H", hdr)[0]
                q = b""
                while len(q) < n:
                    chunk = c.recv(n - len(q))
                    if not chunk:
                        return
                    q += chunk
                r = self.tcp_reply(q)
                if r is not None:
                    c.sendall(struct.pack("!H", len(r)) + r)
        except OSError:
            pass
        finally:
            c.close()

    def udp_reply(self, q):
        return None

    def tcp_reply(self, q):
        return self.udp_reply(q)

    def close(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(timeout=2)
        self.udp.close()
        if self.tcp:
            self.tcp.close()


class GarbageServer(Peer):
    """Answers with the query's ID and question, QR and AA set, counts that
    promise five answers, then bytes that are no resource records at all; over
    TCP the same."""

    def __init__(self):
        super().__init__(tcp_mode="answer")

    def udp_reply(self, q):
        if len(q) < 12:
            return None
        end = question_end(q)
        hdr = q[:2] + struct.pack("!HHHHH", 0x8400, 1, 5, 0, 0)
        return hdr + q[12:end] + b"\xc0\x0c\x00\x2b\x00\x01\xff\xff\xff\xff\xff\xfe" \
            + bytes(random.getrandbits(8) for _ in range(23))


class TruncatingServer(Peer):
    """Answers every UDP query with TC set and no records; over TCP nothing
    listens (tcp_mode None: connection refused) or the connection is accepted
    and closed at once (tcp_mode "close")."""

    def udp_reply(self, q):
        if len(q) < 12:
            return None
        end = question_end(q)
        return q[:2] + struct.pack("!HHHHH", 0x8600, 1, 0, 0, 0) + q[12:end]


class SlowProxy(Peer):
    """Forwards each UDP query to a real server and holds the answer @delay s."""

    def __init__(self, upstream, delay):
        self.upstream, self.delay = upstream, delay
        super().__init__()

    def udp_reply(self, q):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        try:
            s.sendto(q, (self.upstream, 53))
            ans, _ = s.recvfrom(65535)
        except OSError:
            return None
        finally:
            s.close()
        time.sleep(self.delay)
        return ans


def nsupdate_changes(text):
    """{(op, child, DS)} of the "update add/delete NAME [TTL] [IN] DS ..." lines."""
    out = set()
    for line in text.splitlines():
        toks = line.split()
        if not toks or toks[0] != "update":
            continue
        assert toks[1] in ("add", "delete", "del"), line
        i = 3
        while i < len(toks) and toks[i].upper() != "DS":
            i += 1
        assert i < len(toks), "no DS type in %r" % line
        out.add(("add" if toks[1] == "add" else "delete", fqdn(toks[2]),
                 norm_ds(" ".join(toks[i + 1:]))))
    return out


def tempfile_in(tmp_path, name, text):
    p = os.path.join(str(tmp_path), name)
    with open(p, "w") as f:
        f.write(text)
    return p
