# SPDX-License-Identifier: MIT
#
# Helpers for the end-to-end test of `zonecut scan --apply update`: a real parent
# primary (BIND 9 or Knot DNS) serving a signed, dynamically updated parent zone on
# a loopback address of a testbed (tests/testbed), the scenario with the primary's
# DS filled in, dig-based looks at the primary and at a validating Unbound, and
# one bounded zonecut run with its JSON Lines parsed.
#
# Every process started here is stopped by stop(); every loopback address added
# is removed again (fixture finalizers call both, also after failures).

import copy
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SCENARIO = os.path.join(REPO, "tests", "testbed", "scenarios", "e2e-scan-apply.json")

PARENT = "reg.example."
PRIMARY_HOST = "ns1.reg.example."
CHILDREN = ["boot.reg.example.", "roll.reg.example.", "del.reg.example.",
            "retry.reg.example.", "quiet.reg.example."]

# Every external command is bounded; a hung tool fails the test, not the suite.
TOOL_TIMEOUT = 20
SCAN_TIMEOUT = 60
START_TIMEOUT = 20


def find_tool(name):
    return shutil.which(name) or next(
        (os.path.join(d, name) for d in ("/usr/sbin", "/sbin")
         if os.path.exists(os.path.join(d, name))), None)


def fqdn(name):
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def norm_ds(rdata):
    """"TAG ALG DT HEX": digest upper-case and unsplit, as zonecut prints DS."""
    parts = rdata.split()
    return " ".join(parts[:3] + ["".join(parts[3:]).upper()])


def rdata_of(line):
    """The rdata of an "owner ttl IN TYPE rdata" line."""
    return line.split(None, 4)[4]


def scenario_with_parent_ds(ds_rdatas):
    """The e2e scenario with the primary's DS set for reg.example. in example."""
    with open(SCENARIO) as f:
        sc = json.load(f)
    sc = copy.deepcopy(sc)
    sc["zones"][PARENT]["ds"] = list(ds_rdatas)
    return sc


# --------------------------------------------------------------------------
# dig


class Dig:
    """Status, header flags and answer records of one dig run."""

    def __init__(self, cmd, proc):
        self.cmd = cmd
        self.text = proc.stdout + proc.stderr
        self.rc = proc.returncode
        m = re.search(r"status: ([A-Z]+)", self.text)
        self.status = m.group(1) if m else None
        m = re.search(r";; flags:([a-z ]*);", self.text)
        self.flags = set(m.group(1).split()) if m else set()
        self.answer = []
        section = None
        for line in proc.stdout.splitlines():
            if line.startswith(";; ") and line.endswith("SECTION:"):
                section = line[3:].split()[0]
                continue
            if not line.strip():
                section = None
                continue
            if section == "ANSWER" and not line.startswith(";"):
                owner, ttl, cls, rtype, rdata = line.split(None, 4)
                self.answer.append((owner.lower(), int(ttl), rtype, rdata))

    @property
    def ad(self):
        return "ad" in self.flags

    def rdatas(self, rtype):
        return [r[3] for r in self.answer if r[2] == rtype]

    def __repr__(self):
        return "<%s: %s %s>\n%s" % (" ".join(self.cmd), self.status, sorted(self.flags),
                                    self.text)


def dig(server, name, rtype, *opts, port=53):
    cmd = [find_tool("dig"), "+time=2", "+tries=2", "+nocmd", "+nomulti", "-p", str(port),
           "@" + server, name, rtype] + list(opts)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    return Dig(cmd, p)


def resolve(resolver, name, rtype="A"):
    """Ask a validating resolver (recursion, DO bit): the answer and its AD flag."""
    return dig(resolver, name, rtype, "+dnssec", "+rec")


# --------------------------------------------------------------------------
# Loopback address for BIND (it listens only on addresses of interfaces)


class LoopbackAddress:
    """ip addr add ADDR/32 dev lo, removed again by remove() (only if we added it)."""

    def __init__(self, addr):
        self.addr = addr
        self.added = False

    def add(self):
        out = subprocess.run([find_tool("ip"), "-4", "addr", "show", "dev", "lo"],
                             capture_output=True, text=True, timeout=TOOL_TIMEOUT).stdout
        if re.search(r"inet %s/" % re.escape(self.addr), out):
            return self
        subprocess.run([find_tool("ip"), "addr", "add", self.addr + "/32", "dev", "lo"],
                       check=True, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        self.added = True
        return self

    def remove(self):
        if self.added:
            subprocess.run([find_tool("ip"), "addr", "del", self.addr + "/32", "dev", "lo"],
                           capture_output=True, text=True, timeout=TOOL_TIMEOUT)
            self.added = False


# --------------------------------------------------------------------------
# The parent primary


class Primary:
    """What the test sees of a parent primary: its zone over DNS (authoritative,
    TCP), the AXFR a registry would feed to zonecut, its log and process."""

    kind = "?"

    def __init__(self, workdir):
        self.dir = workdir
        self.addr = None
        self.proc = None
        self.log = os.path.join(workdir, "%s.log" % self.kind)
        self.keyfile = os.path.join(workdir, "zc-test.key")
        self.keyfile_nogrant = os.path.join(workdir, "zc-nogrant.key")
        self.ds = []          # DS rdata of the parent's KSK (for example.)
        self.extra = []       # stop() also undoes these (loopback addresses)

    # ---- keys

    def _tsig_keygen(self, name, path):
        out = subprocess.run([find_tool("tsig-keygen"), "-a", "hmac-sha256", name], check=True,
                             capture_output=True, text=True, timeout=TOOL_TIMEOUT).stdout
        with open(path, "w") as f:
            f.write(out)
        os.chmod(path, 0o600)

    @staticmethod
    def secret(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("secret"):
                    return line.split('"')[1]
        raise RuntimeError("no secret in " + path)

    # ---- zone content

    def zone_text(self, tb):
        """The parent zone as the registry starts it: apex, the primary's own
        address, and for every child the delegation (NS, and DS as the testbed
        computed it: none for boot., key a for roll., ...)."""
        lines = ["$TTL 300",
                 "@ 300 IN SOA %s hostmaster.%s 1 3600 600 86400 300" % (PRIMARY_HOST, PARENT),
                 "@ 300 IN NS %s" % PRIMARY_HOST,
                 "%s 300 IN A %s" % (PRIMARY_HOST, self.addr)]
        for c in CHILDREN:
            z = tb.zone(c)
            lines += ["%s 300 IN NS %s" % (c, h) for h in z["parent_ns"]]
            lines += ["%s 300 IN DS %s" % (c, rdata_of(l)) for l in z["ds"]]
        return "\n".join(lines) + "\n"

    # ---- looking at the primary

    def dig(self, name, rtype, *opts):
        return dig(self.addr, name, rtype, "+dnssec", "+norec", "+tcp", *opts)

    def child_ds(self, child):
        """The DS set of a child at the primary (authoritative), normalized, sorted."""
        d = self.dig(child, "DS")
        assert d.status in ("NOERROR", "NXDOMAIN") and "aa" in d.flags, d
        return sorted(norm_ds(r) for r in d.rdatas("DS"))

    def serial(self):
        d = self.dig(PARENT, "SOA")
        soa = d.rdatas("SOA")
        assert soa, d
        return int(soa[0].split()[2])

    def is_signed(self):
        """The SOA is served signed by the key whose DS example. publishes."""
        d = self.dig(PARENT, "SOA")
        tags = {r.split()[0] for r in self.ds}
        return d.status == "NOERROR" and any(
            r.split()[0] == "SOA" and r.split()[6] in tags for r in d.rdatas("RRSIG"))

    def axfr(self, path):
        """The parent zone as transferred with the TSIG key: what a registry hands
        to `zonecut scan --zone` (SOA first, no trailing SOA, no TSIG record)."""
        cmd = [find_tool("dig"), "+time=3", "+tries=1", "-k", self.keyfile, "@" + self.addr,
               PARENT, "AXFR", "+noall", "+answer", "+onesoa"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        assert p.returncode == 0 and "SOA" in p.stdout and "Transfer failed" not in p.stdout, \
            "AXFR failed: %s\n%s" % (p.stdout, p.stderr)
        with open(path, "w") as f:
            f.write(p.stdout)
        return path

    TSIG_FAILURE = None     # log line of a message whose TSIG did not verify

    def tsig_failures(self):
        """How many messages the primary rejected for their TSIG (log lines)."""
        return sum(1 for l in self.log_text().splitlines() if self.TSIG_FAILURE.search(l))

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # ---- process

    def _spawn(self, cmd):
        logf = open(self.log, "a")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            logf.close()

    def _wait_signed(self, what):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited: %s" % (what, self.log_text()[-3000:]))
            if self.is_signed():
                return
            time.sleep(0.2)
        raise RuntimeError("%s did not serve a signed %s within %ds: %s"
                           % (what, PARENT, START_TIMEOUT, self.log_text()[-3000:]))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        for x in self.extra:
            x.remove()
        self.extra = []


BIND_POLICY = """dnssec-policy "zc-e2e" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
	dnskey-ttl 300;
};
"""


class BindPrimary(Primary):
    """named 9.18 -g: zone reg.example. signed by dnssec-policy (a CSK made before
    the testbed, so its DS can go into example.), no inline signing, UPDATE of DS
    records allowed for TSIG key zc-test, AXFR for zc-test; zc-nogrant is a key
    BIND knows but lets update nothing."""

    kind = "named"
    TSIG_FAILURE = re.compile(r"tsig verify failure")

    def prepare(self):
        """Keys, before the testbed exists; returns the DS rdata for example."""
        self.keydir = os.path.join(self.dir, "keys")
        os.makedirs(self.keydir, exist_ok=True)
        self._tsig_keygen("zc-test", self.keyfile)
        self._tsig_keygen("zc-nogrant", self.keyfile_nogrant)
        self.policy = os.path.join(self.dir, "policy.conf")
        with open(self.policy, "w") as f:
            f.write(BIND_POLICY)
        subprocess.run([find_tool("dnssec-keygen"), "-q", "-k", "zc-e2e", "-l", self.policy,
                        "-K", self.keydir, PARENT], check=True, capture_output=True,
                       text=True, timeout=TOOL_TIMEOUT)
        self.ds = []
        for fn in sorted(os.listdir(self.keydir)):
            if fn.endswith(".key"):
                out = subprocess.run([find_tool("dnssec-dsfromkey"), "-2",
                                      os.path.join(self.keydir, fn)], check=True,
                                     capture_output=True, text=True,
                                     timeout=TOOL_TIMEOUT).stdout
                self.ds += [l.split(None, 3)[3] for l in out.splitlines() if " DS " in l]
        assert self.ds, "dnssec-keygen made no KSK"
        return self.ds

    def start(self, tb, addr):
        self.addr = addr
        lo = LoopbackAddress(addr).add()
        self.extra.append(lo)
        d = self.dir
        with open(os.path.join(d, "reg.example.db"), "w") as f:
            f.write(self.zone_text(tb))
        conf = """options {
	directory "%(d)s";
	pid-file "%(d)s/named.pid";
	listen-on port 53 { %(addr)s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	session-keyfile "%(d)s/session.key";
	managed-keys-directory "%(d)s";
};
controls { };
logging {
	channel stderr_all { stderr; severity info; print-category yes; print-time yes; };
	category default { stderr_all; };
	category update { stderr_all; };
	category update-security { stderr_all; };
	category security { stderr_all; };
	category xfer-out { stderr_all; };
	category lame-servers { null; };
};
include "%(k1)s";
include "%(k2)s";
include "%(policy)s";
zone "%(zone)s" {
	type primary;
	file "%(d)s/reg.example.db";
	dnssec-policy "zc-e2e";
	key-directory "%(keys)s";
	update-policy { grant zc-test zonesub DS; };
	allow-transfer { key zc-test; };
};
""" % {"d": d, "addr": addr, "k1": self.keyfile, "k2": self.keyfile_nogrant,
       "policy": self.policy, "zone": PARENT.rstrip("."), "keys": self.keydir}
        path = os.path.join(d, "named.conf")
        with open(path, "w") as f:
            f.write(conf)
        self._spawn([find_tool("named"), "-g", "-c", path])
        self._wait_signed("named")

    # client @0x7f.. 127.1.2.3#5353/key zc-test: updating zone 'reg.example/IN': ...
    _UPDATE_LINE = re.compile(r"client @(0x[0-9a-f]+) ([0-9.]+#\d+)/key ([^:]+): "
                              r"updating zone '[^']+': (.*)$")

    def updates(self):
        """The UPDATE messages the primary received, in order, from its log:
        "applied" or "refused" each (a message changing several records logs
        one line per record, all from the same client socket)."""
        out, last = [], None
        for line in self.log_text().splitlines():
            m = self._UPDATE_LINE.search(line)
            if not m:
                continue
            client = (m.group(1), m.group(2))
            verdict = "refused" if "update failed" in m.group(4) else "applied"
            if client != last:
                out.append(verdict)
                last = client
            elif verdict == "refused":
                out[-1] = verdict
        return out


class KnotPrimary(Primary):
    """knotd 3.2: zone reg.example. signed automatically with a CSK made by keymgr
    before the testbed (manual key management: Knot uses that key), DS updates
    and AXFR for TSIG key zc-test (ACL update-type DS); zc-nogrant is a key Knot
    knows (Knot verifies only keys some ACL names: it may transfer) and that may
    update nothing."""

    kind = "knotd"
    TSIG_FAILURE = re.compile(r"TSIG, key '[^']*', verification failed")

    def prepare(self):
        self._tsig_keygen("zc-test", self.keyfile)
        self._tsig_keygen("zc-nogrant", self.keyfile_nogrant)
        self.db = os.path.join(self.dir, "db")
        kasp = os.path.join(self.db, "keys")
        os.makedirs(kasp, exist_ok=True)
        subprocess.run([find_tool("keymgr"), "-D", kasp, PARENT, "generate",
                        "algorithm=ecdsap256sha256", "ksk=yes", "zsk=yes"], check=True,
                       capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        out = subprocess.run([find_tool("keymgr"), "-D", kasp, PARENT, "ds"], check=True,
                             capture_output=True, text=True, timeout=TOOL_TIMEOUT).stdout
        self.ds = [l.split(None, 2)[2] for l in out.splitlines()
                   if l.split()[1:2] == ["DS"] and l.split()[4] == "2"]
        assert self.ds, "keymgr made no key: " + out
        return self.ds

    def start(self, tb, addr):
        self.addr = addr
        d = self.dir
        with open(os.path.join(d, "reg.example.db"), "w") as f:
            f.write(self.zone_text(tb))
        conf = """server:
    listen: %(addr)s@53
    rundir: %(d)s
    pidfile: %(d)s/knot.pid
database:
    storage: %(db)s
control:
    listen: %(d)s/knot.sock
log:
  - target: stderr
    any: debug
key:
  - id: zc-test
    algorithm: hmac-sha256
    secret: %(s1)s
  - id: zc-nogrant
    algorithm: hmac-sha256
    secret: %(s2)s
acl:
  - id: registry
    key: zc-test
    action: [update, transfer]
    update-type: [DS]
  - id: nogrant
    key: zc-nogrant
    action: transfer
policy:
  - id: zc-e2e
    algorithm: ecdsap256sha256
    single-type-signing: on
    manual: on
    dnskey-ttl: 300
zone:
  - domain: %(zone)s
    file: %(d)s/reg.example.db
    dnssec-signing: on
    dnssec-policy: zc-e2e
    acl: [registry, nogrant]
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: all
""" % {"d": d, "addr": addr, "db": self.db, "s1": self.secret(self.keyfile),
       "s2": self.secret(self.keyfile_nogrant), "zone": PARENT}
        path = os.path.join(d, "knot.conf")
        with open(path, "w") as f:
            f.write(conf)
        self._spawn([find_tool("knotd"), "-c", path])
        self._wait_signed("knotd")

    _PROCESSING = re.compile(r"DDNS, processing (\d+) updates")

    def updates(self):
        """"applied" for each UPDATE Knot processed, "refused" for each it denied
        (ACL; logged at debug level), in order, from its log."""
        out = []
        for line in self.log_text().splitlines():
            m = self._PROCESSING.search(line)
            if m:
                out += ["applied"] * int(m.group(1))
            elif "ACL, denied, action update" in line:
                out.append("refused")
        return out


PRIMARIES = {"bind": BindPrimary, "knot": KnotPrimary}
TOOLS = {
    "bind": ("named", "dnssec-keygen", "dnssec-dsfromkey", "tsig-keygen", "ip"),
    "knot": ("knotd", "keymgr", "tsig-keygen"),
}


# --------------------------------------------------------------------------
# zonecut


class ScanRun:
    def __init__(self, cmd, proc, elapsed):
        self.cmd = cmd
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed
        self.by_child = {}
        for line in proc.stdout.splitlines():
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError:
                raise AssertionError("stdout line is not JSON: %r\n%s" % (line, self.describe()))
            assert d.get("schema") == "zonecut.scan.v1", self.describe()
            assert d["child"] not in self.by_child, "two decisions for %s\n%s" % (
                d["child"], self.describe())
            self.by_child[d["child"]] = d

    def __getitem__(self, child):
        assert fqdn(child) in self.by_child, "no decision for %s\n%s" % (child, self.describe())
        return self.by_child[fqdn(child)]

    def describe(self):
        return "command: %s\nexit %s after %.1fs\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.cmd), self.rc, self.elapsed, self.stdout[-8000:], self.stderr[-4000:])


def scan(zonecut, tb, zonefile, primary, db, *extra, tsig_file=None, tsig=None):
    cmd = [zonecut, "scan", "--json", "--zone", zonefile,
           "--trust-anchor", tb.trust_anchor, "--root-hints", tb.root_hints,
           "--db", db, "--apply", "update", "--parent-primary", primary.addr]
    if tsig is not None:
        cmd += ["--tsig", tsig]
    else:
        cmd += ["--tsig-file", tsig_file or primary.keyfile]
    cmd += list(extra)
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=SCAN_TIMEOUT)
    return ScanRun(cmd, p, time.monotonic() - t0)


def journal(db):
    """The journal of a state store: [dict] in id order (read-only look)."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(
            "SELECT id, child, parent, ds_old, ds_new, mode, state, attempts, last_rcode, "
            "last_error FROM journal ORDER BY id")]
    finally:
        con.close()
