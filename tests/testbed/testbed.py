# SPDX-License-Identifier: MIT
#
# Loopback DNSSEC testbed: builds a signed DNS hierarchy (root, TLDs, providers,
# children) from a scenario description, serves it with one NSD process per
# simulated server address on 127.x.y.z port 53, and writes the root hints,
# trust anchor and Unbound settings a validating resolver needs.
# Python 3 standard library only; uses ldns-keygen, ldns-key2ds, ldns-signzone, nsd.

"""Loopback DNSSEC testbed generator for zonecut's system tests and demo.

Python API::

    from testbed import Testbed
    with Testbed("basic", "/tmp/tb") as tb:
        tb.addr("ns1.example.")           # first address of a nameserver host
        tb.zone("secure.example.")        # dict: keys, DS, CDS, servers, files
        res = tb.start_resolver()         # a validating unbound on the testbed

Command line::

    testbed.py up SCENARIO --dir DIR [--base 127.A.B] [--resolver]
    testbed.py status --dir DIR
    testbed.py down --dir DIR

The scenario format is described in tests/testbed/README.md.
"""

import argparse
import atexit
import calendar
import copy
import errno
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_DIR = os.path.join(HERE, "scenarios")
STATE_FILE = "testbed.json"
SCHEMA = "zonecut.testbed.v1"

# DNSSEC algorithm numbers by mnemonic (RFC 8624 table); numbers pass through.
ALGORITHMS = {
    "RSASHA1": 5, "RSASHA1-NSEC3-SHA1": 7, "RSASHA256": 8, "RSASHA512": 10,
    "ECDSAP256SHA256": 13, "ECDSAP384SHA384": 14, "ED25519": 15, "ED448": 16,
}
RSA_ALGORITHMS = (5, 7, 8, 10)
DIGEST_FLAGS = {1: "-1", 2: "-2", 4: "-4"}

# RFC 8078 §4: the "delete" forms of CDS and CDNSKEY.
CDS_DELETE = "0 0 0 00"
CDNSKEY_DELETE = "0 3 0 AA=="

# Zone names that Unbound 1.17 serves locally by default (unbound.conf(5),
# "local-zone"); a testbed using one of them needs "local-zone: <z> nodefault".
UNBOUND_DEFAULT_ZONES = (
    ["localhost.", "test.", "invalid.", "onion.", "home.arpa.",
     "0.in-addr.arpa.", "10.in-addr.arpa.", "127.in-addr.arpa.",
     "254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.", "168.192.in-addr.arpa.",
     "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
     "255.255.255.255.in-addr.arpa.", "d.f.ip6.arpa.", "8.e.f.ip6.arpa.",
     "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
     "8.b.d.0.1.0.0.2.ip6.arpa.",
     "0." * 32 + "ip6.arpa.", "1." + "0." * 31 + "ip6.arpa."]
    + ["%d.172.in-addr.arpa." % i for i in range(16, 32)]
    + ["%d.100.in-addr.arpa." % i for i in range(64, 128)])

# Fields a zone description may carry, and which of them a per-server
# override may change. List fields in an override are appended, the others
# replace the zone's value.
ZONE_FIELDS = {
    "signed", "algorithm", "bits", "layout", "keys", "extra_keys", "nameservers",
    "apex_ns", "parent_ns", "delegate", "ds", "ds_digests", "ttl", "dnskey_ttl",
    "serial", "negative_ttl", "records", "bulk_txt", "remove", "cds", "cdnskey",
    "cds_digests", "cds_signer", "signal", "validity", "expired", "nsec3",
    "tamper", "strip_rrsig", "key_state", "overrides",
}
OVERRIDE_FIELDS = {
    "signed", "apex_ns", "serial", "records", "bulk_txt", "remove", "cds",
    "cdnskey", "cds_digests", "cds_signer", "validity", "expired", "nsec3",
    "tamper", "strip_rrsig", "key_state",
}
APPEND_FIELDS = {"records", "bulk_txt", "remove", "tamper", "strip_rrsig"}
KEY_FIELDS = {"name", "role", "algorithm", "bits", "publish", "sign", "ds"}
HOST_FIELDS = {"addresses", "silent", "closed", "publish"}
ADDRESS_KINDS = ("addresses", "silent", "closed")
SCENARIO_FIELDS = {"name", "description", "base", "defaults", "hosts", "zones"}

DEFAULT_VALIDITY = {"inception": "-1h", "expiration": "+30d"}
EXPIRED_VALIDITY = {"inception": "-30d", "expiration": "-1d"}


class TestbedError(Exception):
    """A scenario that cannot be built, or servers that do not come up."""


# --------------------------------------------------------------------------
# Names, times and record lines


def fqdn(name):
    """Lower-case absolute form of a domain name ("." for the root)."""
    name = str(name).strip().lower()
    if name in ("", ".", "@"):
        return "."
    return name if name.endswith(".") else name + "."


def is_subdomain(name, zone):
    """True if name is zone or below it (both absolute, lower-case)."""
    return zone == "." or name == zone or name.endswith("." + zone)


def zone_label(zone):
    """A file-system friendly name for a zone."""
    return "root" if zone == "." else zone.rstrip(".")


def absolute(owner, origin):
    """Owner name of a zone-file line, made absolute against origin."""
    if owner == "@":
        return origin
    if owner.endswith("."):
        return owner.lower()
    return (owner + "." + (origin if origin != "." else "")).lower()


def parse_time(value, now):
    """Absolute UTC time (epoch seconds) from "+30d", "-1h", "now", an epoch
    number or YYYYMMDD[hhmmss]."""
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text == "now":
        return int(now)
    m = re.fullmatch(r"([+-])(\d+)([smhdw]?)", text)
    if m:
        mult = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(3)]
        delta = int(m.group(2)) * mult
        return int(now) + (delta if m.group(1) == "+" else -delta)
    if re.fullmatch(r"\d{8}(\d{6})?", text):
        text = (text + "000000")[:14]
        return calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))
    if re.fullmatch(r"\d+", text):
        return int(text)
    raise TestbedError("bad time value %r (use +30d, -1h, now, epoch or "
                       "YYYYMMDDhhmmss)" % value)


def ldns_time(epoch):
    """YYYYMMDDhhmmss (UTC), the unambiguous date form ldns-signzone takes."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch))


def parse_ttl(text):
    """TTL in seconds from "3600" or "1h"-style text; None if not a TTL."""
    m = re.fullmatch(r"(\d+)([smhdwSMHDW]?)", text)
    if not m:
        return None
    mult = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return int(m.group(1)) * mult[m.group(2).lower()]


def tokenize(line):
    """Split a zone-file line into (token, start, end) triples. Quoted strings
    stay one token, ';' starts a comment, parentheses are dropped."""
    tokens = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace() or c in "()":
            i += 1
            continue
        if c == ";":
            break
        start = i
        if c == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
        else:
            while i < n and not line[i].isspace() and line[i] not in '();"':
                i += 2 if line[i] == "\\" else 1
        tokens.append((line[start:i], start, min(i, n)))
    return tokens


class RR:
    """One resource record in presentation format, owner absolute."""

    __slots__ = ("owner", "ttl", "rtype", "rdata")

    def __init__(self, owner, ttl, rtype, rdata):
        self.owner, self.ttl, self.rtype, self.rdata = owner, ttl, rtype.upper(), rdata

    @classmethod
    def parse(cls, line, origin, default_ttl, partial=False):
        """Parse "owner [ttl] [class] TYPE rdata". With partial, the type and
        rdata may be missing (used for removal patterns)."""
        toks = tokenize(line)
        if not toks:
            raise TestbedError("empty record line")
        owner = absolute(toks[0][0], origin)
        ttl, idx = None, 1
        while idx < len(toks):
            tok = toks[idx][0]
            if ttl is None and parse_ttl(tok) is not None:
                ttl = parse_ttl(tok)
            elif tok.upper() in ("IN", "CH", "HS", "CS"):
                if tok.upper() != "IN":
                    raise TestbedError("only class IN is supported: %r" % line)
            else:
                break
            idx += 1
        if idx >= len(toks):
            if partial:
                return cls(owner, ttl, "", "")
            raise TestbedError("record without type: %r" % line)
        rtype = toks[idx][0].upper()
        if idx + 1 < len(toks):
            rdata = " ".join(t for t, _, _ in toks[idx + 1:])
        elif partial:
            rdata = ""
        else:
            raise TestbedError("record without data: %r" % line)
        return cls(owner, default_ttl if ttl is None else ttl, rtype, rdata)

    def key(self):
        """Owner and type: the RRset this record belongs to."""
        return (self.owner, self.rtype)

    def norm_rdata(self):
        return " ".join(self.rdata.split()).lower()

    def covered(self):
        """Type covered, for an RRSIG record."""
        return self.rdata.split()[0].upper() if self.rtype == "RRSIG" else None

    def text(self):
        return "%s\t%d\tIN\t%s\t%s" % (self.owner, self.ttl, self.rtype, self.rdata)

    def matches(self, pattern):
        """True if this record matches a removal pattern (an RR parsed with
        partial=True: owner, owner+type or a full record)."""
        if self.owner != pattern.owner:
            return False
        if pattern.rtype and self.rtype != pattern.rtype:
            return False
        return not pattern.rdata or self.norm_rdata() == pattern.norm_rdata()


def read_zone_lines(path, origin):
    """Records of a zone file written by us or by ldns-signzone (one record
    per line, $ORIGIN/$TTL directives only)."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith(";") or line.startswith("$"):
                continue
            out.append(RR.parse(line, origin, 0))
    return out


def write_zone(path, origin, ttl, records):
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL %d\n" % (origin, ttl))
        for rr in records:
            f.write(rr.text() + "\n")


def run(cmd, cwd=None):
    """Run a tool, returning its stdout; a failure raises with its stderr."""
    try:
        res = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True,
                             timeout=120)
    except FileNotFoundError:
        raise TestbedError("%s not found (install ldnsutils / nsd)" % cmd[0])
    if res.returncode != 0:
        raise TestbedError("%s failed (exit %d): %s" % (
            " ".join(cmd), res.returncode, res.stderr.strip()))
    return res.stdout


# --------------------------------------------------------------------------
# Tiny DNS client, only to see whether a server is up (stdlib only)


def dns_query(addr, qname, qtype=6, rd=False, timeout=1.0, port=53):
    """Send one UDP query; return (rcode, aa, tc) or None on timeout/error."""
    qid = random.randrange(65536)
    flags = 0x0100 if rd else 0
    wire = b""
    if qname != ".":
        for label in qname.rstrip(".").split("."):
            wire += bytes([len(label)]) + label.encode()
    wire += b"\0"
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + wire + struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.connect((addr, port))
        s.send(msg)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = s.recv(65535)
            if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                fl = struct.unpack("!H", data[2:4])[0]
                return (fl & 0xF, bool(fl & 0x0400), bool(fl & 0x0200))
    except OSError:
        return None
    finally:
        s.close()
    return None


def address_free(addr, port=53):
    """True if nothing is bound to addr:port (UDP and TCP)."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((addr, port))
        except PermissionError:
            raise TestbedError("cannot bind %s:%d: binding port 53 needs root" % (addr, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                return False
            raise
        finally:
            s.close()
    return True


# --------------------------------------------------------------------------
# Processes


def _proc_stat(pid):
    """(process group, command line) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return int(fields[2]), cmdline


def group_members(pgids, marker):
    """Live pids whose process group is in pgids and whose command line holds
    marker (our work directory): this never matches a recycled pid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _proc_stat(int(entry))
        if st and st[0] in pgids and marker in st[1]:
            found.append(int(entry))
    return found


def kill_groups(pgids, marker, popens=(), grace=5.0):
    """SIGTERM every process of the given groups (started by us: command line
    holds marker), then SIGKILL what is left after grace seconds."""
    pgids = set(pgids)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        members = group_members(pgids, marker)
        if not members:
            break
        if sig == signal.SIGTERM:
            # Only the group leaders (nsd's main process): it stops and reaps
            # its own children, so none is left orphaned.
            members = [p for p in members if p in pgids] or members
        for pid in members:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for p in popens:
                p.poll()            # reap our own children so they leave /proc
            if not group_members(pgids, marker):
                break
            time.sleep(0.02)
    for p in popens:
        try:
            p.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
    left = group_members(pgids, marker)
    if left:
        raise TestbedError("processes %s did not stop" % left)


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def blackhole_main(addrs, ready_file):
    """Bind UDP and TCP port 53 on each address and never answer: queries to
    a "silent" address time out instead of getting ICMP port unreachable."""
    socks, conns = [], []
    for a in addrs:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((a, 53))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, 53))
        t.listen(64)
        socks += [u, t]
    with open(ready_file, "w") as f:
        f.write("%d\n" % os.getpid())
    while True:
        readable, _, _ = select.select(socks + conns, [], [])
        for s in readable:
            if s in conns:
                if not s.recv(65535):
                    conns.remove(s)
                    s.close()
            elif s.type == socket.SOCK_STREAM:
                c, _ = s.accept()
                conns.append(c)      # hold it open, read and drop
            else:
                s.recv(65535)


# --------------------------------------------------------------------------
# Scenario model


class Key:
    """One DNSSEC key of a zone: generated with ldns-keygen, cached in the
    work directory under keys/<zone>/<name>/."""

    def __init__(self, zone, spec, zone_spec, extra):
        unknown = set(spec) - KEY_FIELDS
        if unknown:
            raise TestbedError("zone %s key: unknown fields %s" % (zone, sorted(unknown)))
        if "name" not in spec:
            raise TestbedError("zone %s: every key needs a name" % zone)
        self.zone = zone
        self.name = str(spec["name"])
        self.role = spec.get("role", "ksk" if extra else "csk")
        if self.role not in ("csk", "ksk", "zsk"):
            raise TestbedError("zone %s key %s: role must be csk, ksk or zsk" % (zone, self.name))
        alg = spec.get("algorithm", zone_spec.get("algorithm", 13))
        self.algorithm = ALGORITHMS.get(str(alg).upper(), None) or int(alg)
        # Key size matters only for RSA; ECDSA and EdDSA sizes are fixed.
        self.bits = None
        if self.algorithm in RSA_ALGORITHMS:
            self.bits = int(spec.get("bits") or zone_spec.get("bits") or 2048)
        self.flags = 256 if self.role == "zsk" else 257
        self.publish = bool(spec.get("publish", True))
        self.sign = bool(spec.get("sign", not extra))
        self.in_ds = bool(spec.get("ds", self.flags == 257 and not extra))
        self.base = None       # path of K<zone>+<alg>+<tag> without extension
        self.tag = None
        self.rdata = None      # DNSKEY rdata
        self.ds_rdata = {}     # digest type -> DS rdata

    def generate(self, keydir):
        """Create the key pair, or reuse the cached one with the same shape."""
        d = os.path.join(keydir, zone_label(self.zone), self.name)
        meta_path = os.path.join(d, "meta.json")
        meta = {"algorithm": self.algorithm, "bits": self.bits, "flags": self.flags}
        cached = None
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                cached = json.load(f)
            if cached.get("shape") != meta or not os.path.exists(cached["base"] + ".private"):
                shutil.rmtree(d)
                cached = None
        if cached is None:
            os.makedirs(d, exist_ok=True)
            cmd = ["ldns-keygen", "-a", str(self.algorithm), "-r", "/dev/urandom"]
            if self.bits:
                cmd += ["-b", str(self.bits)]
            if self.flags == 257:
                cmd.append("-k")
            base = run(cmd + [self.zone], cwd=d).strip().splitlines()[-1]
            cached = {"shape": meta, "base": os.path.join(d, base)}
            with open(meta_path, "w") as f:
                json.dump(cached, f)
        self.base = cached["base"]
        self.tag = int(self.base.rsplit("+", 1)[1])
        with open(self.base + ".key") as f:
            line = [l for l in f if l.strip() and not l.startswith(";")][0]
        rr = RR.parse(line, self.zone, 0)
        if rr.rtype != "DNSKEY":
            raise TestbedError("unexpected key file %s.key" % self.base)
        self.rdata = rr.rdata

    def ds(self, digest):
        """DS rdata for this key with the given digest type (ldns-key2ds)."""
        if digest not in self.ds_rdata:
            if digest not in DIGEST_FLAGS:
                raise TestbedError("digest type %s not supported (1, 2, 4)" % digest)
            out = run(["ldns-key2ds", "-n", "-f", DIGEST_FLAGS[digest], self.base + ".key"])
            rr = RR.parse(out.strip().splitlines()[0], self.zone, 0)
            self.ds_rdata[digest] = rr.rdata
        return self.ds_rdata[digest]

    def info(self, ttl):
        return {
            "name": self.name, "role": self.role, "flags": self.flags,
            "algorithm": self.algorithm, "tag": self.tag, "published": self.publish,
            "signs": self.sign, "in_ds": self.in_ds,
            "dnskey": "%s %d IN DNSKEY %s" % (self.zone, ttl, self.rdata),
            "ds": {str(dt): "%s %d IN DS %s" % (self.zone, ttl, self.ds(dt))
                   for dt in (2, 4)},
            "files": {"key": self.base + ".key", "private": self.base + ".private"},
        }


class Host:
    """A nameserver host name and its loopback addresses."""

    def __init__(self, name, spec):
        unknown = set(spec) - HOST_FIELDS
        if unknown:
            raise TestbedError("host %s: unknown fields %s" % (name, sorted(unknown)))
        self.name = name
        self.n_live = int(spec.get("addresses", 1))
        self.n_silent = int(spec.get("silent", 0))
        self.n_closed = int(spec.get("closed", 0))
        # Which kinds of address appear in DNS (A records, glue, hints).
        self.publish = list(spec.get("publish", ADDRESS_KINDS))
        if set(self.publish) - set(ADDRESS_KINDS):
            raise TestbedError("host %s: publish takes %s" % (name, list(ADDRESS_KINDS)))
        self.live, self.silent, self.closed = [], [], []

    def all(self):
        return self.live + self.silent + self.closed

    def published(self):
        """Addresses published in DNS."""
        kinds = {"addresses": self.live, "silent": self.silent, "closed": self.closed}
        return [a for k in ADDRESS_KINDS if k in self.publish for a in kinds[k]]


class Zone:
    """One zone of the scenario with its defaults filled in."""

    def __init__(self, name, spec, defaults):
        self.name = name
        merged = dict(defaults)
        merged.update(spec)
        unknown = set(merged) - ZONE_FIELDS
        if unknown:
            raise TestbedError("zone %s: unknown fields %s" % (name, sorted(unknown)))
        self.spec = merged
        self.signed = bool(merged.get("signed", True))
        self.ttl = int(merged.get("ttl", 3600))
        default_ns = ["a.root-servers.net."] if name == "." else ["a.nic." + name]
        self.nameservers = [fqdn(h) for h in merged.get("nameservers", default_ns)]
        self.parent_ns = [fqdn(h) for h in merged.get("parent_ns", self.nameservers)]
        self.delegate = bool(merged.get("delegate", True))
        self.parent = None
        self.children = []
        self.keys = []
        if self.signed or merged.get("keys") or merged.get("extra_keys"):
            layout = merged.get("layout", "csk")
            if "keys" in merged:
                specs = merged["keys"]
            elif layout == "csk":
                specs = [{"name": "csk", "role": "csk"}]
            elif layout == "split":
                specs = [{"name": "ksk", "role": "ksk"}, {"name": "zsk", "role": "zsk"}]
            else:
                raise TestbedError("zone %s: layout must be csk or split" % name)
            self.keys = [Key(name, k, merged, False) for k in specs]
            self.keys += [Key(name, k, merged, True) for k in merged.get("extra_keys", [])]
            names = [k.name for k in self.keys]
            if len(set(names)) != len(names):
                raise TestbedError("zone %s: duplicate key names %s" % (name, names))
        self.overrides = {}
        for target, ov in merged.get("overrides", {}).items():
            unknown = set(ov) - OVERRIDE_FIELDS
            if unknown:
                raise TestbedError("zone %s override %s: fields %s cannot be overridden"
                                   % (name, target, sorted(unknown)))
            host, _, idx = target.partition("#")
            self.overrides[(fqdn(host), int(idx) if idx else None)] = ov
        self.variants = {}      # variant id -> dict (override, servers, files)
        self.server_files = {}  # address -> signed zone file served there

    def key(self, name):
        for k in self.keys:
            if k.name == name:
                return k
        raise TestbedError("zone %s has no key named %r" % (self.name, name))

    def effective(self, override):
        """The zone description with a per-server override applied."""
        spec = copy.deepcopy(self.spec)
        for field, value in override.items():
            if field in APPEND_FIELDS:
                spec[field] = list(spec.get(field, [])) + list(value)
            elif field == "key_state":
                ks = dict(spec.get("key_state", {}))
                for kname, st in value.items():
                    ks[kname] = dict(ks.get(kname, {}), **st)
                spec[field] = ks
            else:
                spec[field] = value
        return spec


def load_scenario(scenario):
    """A scenario dict from a dict, a JSON file path or a name under
    tests/testbed/scenarios/."""
    if isinstance(scenario, dict):
        return copy.deepcopy(scenario)
    path = str(scenario)
    if not os.path.exists(path):
        cand = os.path.join(SCENARIO_DIR, path + ("" if path.endswith(".json") else ".json"))
        if os.path.exists(cand):
            path = cand
        else:
            raise TestbedError("scenario %r not found (not a file, nor in %s)"
                               % (scenario, SCENARIO_DIR))
    with open(path) as f:
        return json.load(f)


# --------------------------------------------------------------------------
# The testbed


class Testbed:
    """Build and serve a scenario. Use as a context manager, or call start()
    and stop(). With detach=True the servers outlive this Python process
    (the CLI "up"); otherwise they are stopped at exit at the latest."""

    def __init__(self, scenario, workdir=None, base=None, detach=False):
        self.scenario = load_scenario(scenario)
        unknown = set(self.scenario) - SCENARIO_FIELDS
        if unknown:
            raise TestbedError("scenario: unknown fields %s" % sorted(unknown))
        self._own_dir = workdir is None
        self.dir = os.path.abspath(workdir) if workdir else None
        self.base = base or self.scenario.get("base")
        self.detach = detach
        self.now = int(time.time())
        self.hosts = {}
        self.zones = {}
        self.servers = {}      # address -> dict(host, index, zones, conf, log, pid)
        self.resolvers = []    # dicts (address, port, conf, log, pid)
        self._popens = []
        self._pgids = set()
        self.state = None
        self._model()

    # ---- model

    def _host(self, name):
        if name not in self.hosts:
            self.hosts[name] = Host(name, {})
        return self.hosts[name]

    def _model(self):
        defaults = self.scenario.get("defaults", {})
        zones = self.scenario.get("zones", {})
        if isinstance(zones, list):
            zones = {z["name"]: {k: v for k, v in z.items() if k != "name"} for z in zones}
        for name, spec in zones.items():
            z = Zone(fqdn(name), spec or {}, defaults)
            if z.name in self.zones:
                raise TestbedError("zone %s given twice" % z.name)
            self.zones[z.name] = z
        if "." not in self.zones:
            self.zones["."] = Zone(".", {}, defaults)
        # Parent = the closest enclosing zone of the scenario.
        for z in self.zones.values():
            if z.name == ".":
                continue
            cands = [p for p in self.zones if p != z.name and is_subdomain(z.name, p)]
            z.parent = self.zones[max(cands, key=len)]
            if z.delegate:
                z.parent.children.append(z)
        for name, spec in self.scenario.get("hosts", {}).items():
            self.hosts[fqdn(name)] = Host(fqdn(name), spec or {})
        # Root servers first, so the root gets the first address of the block.
        root = self.zones["."]
        for h in root.nameservers + root.parent_ns:
            self._host(h)
        for z in self.zones.values():
            for h in z.nameservers + z.parent_ns + [fqdn(x) for x in z.spec.get("apex_ns", [])]:
                self._host(h)
            for ov in z.spec.get("overrides", {}).values():
                for h in ov.get("apex_ns", []):
                    self._host(fqdn(h))
        for z in self.zones.values():
            for (host, idx) in z.overrides:
                if host not in z.nameservers:
                    raise TestbedError("zone %s: override for %s, which does not serve it"
                                       % (z.name, host))
                if idx is not None and idx >= self.hosts[host].n_live:
                    raise TestbedError("zone %s: override for %s#%d, but that host has %d "
                                       "listening address(es)"
                                       % (z.name, host, idx, self.hosts[host].n_live))
        order = list(self.hosts)
        self.hosts = dict(sorted(self.hosts.items(), key=lambda kv: (
            kv[0] not in root.nameservers, order.index(kv[0]))))

    def auth_zone(self, name):
        """The scenario zone holding authoritative data for name."""
        cands = [z for z in self.zones if is_subdomain(name, z)]
        return self.zones[max(cands, key=len)]

    # ---- addresses

    def _allocate(self):
        need = sum(h.n_live + h.n_silent + h.n_closed for h in self.hosts.values())
        if need > 250:
            raise TestbedError("scenario needs %d addresses, a /24 block has 254" % need)
        if self.base:
            bases = [self.base.rstrip(".")]
        else:
            rnd = random.SystemRandom()
            bases = ["127.%d.%d" % (rnd.randint(50, 250), rnd.randint(0, 255))
                     for _ in range(20)]
        for base in bases:
            if not re.fullmatch(r"127\.\d{1,3}\.\d{1,3}", base):
                raise TestbedError("base must look like 127.A.B, not %r" % base)
            addrs = ["%s.%d" % (base, i) for i in range(1, need + 1)]
            if all(address_free(a) for a in addrs):
                self.base = base
                it = iter(addrs)
                for h in self.hosts.values():
                    h.live = [next(it) for _ in range(h.n_live)]
                    h.silent = [next(it) for _ in range(h.n_silent)]
                    h.closed = [next(it) for _ in range(h.n_closed)]
                return
            if self.base:
                raise TestbedError("addresses in %s.0/24 are in use" % base)
        raise TestbedError("no free 127.A.B.0/24 block found")

    def _spare_address(self):
        used = {a for h in self.hosts.values() for a in h.all()}
        used |= {r["address"] for r in self.resolvers}
        for i in range(1, 255):
            a = "%s.%d" % (self.base, i)
            if a not in used and address_free(a):
                return a
        raise TestbedError("no free address left in %s.0/24" % self.base)

    # ---- zone content

    def _ds_rdatas(self, z):
        """DS rdata the parent publishes for z (also the root trust anchor)."""
        mode = z.spec.get("ds", "auto" if z.signed else "none")
        digests = [int(d) for d in z.spec.get("ds_digests", [2])]
        if mode == "none" or mode is None or mode is False:
            return []
        if mode in ("auto", "wrong", True):
            keys = [k for k in z.keys if k.in_ds]
            out = [k.ds(d) for k in keys for d in digests]
            if mode == "wrong":
                # Same key tag and algorithm, one digest nibble flipped: the
                # resolver finds the key but the digest does not match.
                bad = []
                for r in out:
                    parts = r.split()
                    digest = parts[3]
                    last = "0" if digest[-1].lower() != "0" else "1"
                    bad.append(" ".join(parts[:3] + [digest[:-1] + last]))
                out = bad
            return out
        out = []
        for item in ([mode] if isinstance(mode, str) else mode):
            if " " in str(item).strip():
                out.append(str(item).strip())        # explicit DS rdata
            else:
                out += [z.key(item).ds(d) for d in digests]
        return out

    def _cds_rdatas(self, z, spec, kind):
        """CDS or CDNSKEY rdata for a zone description (kind "cds"/"cdnskey")."""
        mode = spec.get(kind)
        if mode in (None, False, "none"):
            return []
        if mode == "delete":
            return [CDS_DELETE if kind == "cds" else CDNSKEY_DELETE]
        if mode is True or mode == "auto":
            keys = [k for k in z.keys if k.flags == 257 and self._key_state(z, k, spec)[0]]
            return self._key_rdatas(keys, spec, kind)
        out = []
        for item in ([mode] if isinstance(mode, str) else mode):
            if " " in str(item).strip():
                out.append(str(item).strip())        # explicit rdata
            else:
                out += self._key_rdatas([z.key(item)], spec, kind)
        return out

    @staticmethod
    def _key_rdatas(keys, spec, kind):
        if kind == "cdnskey":
            return [k.rdata for k in keys]
        digests = [int(d) for d in spec.get("cds_digests", [2])]
        return [k.ds(d) for k in keys for d in digests]

    @staticmethod
    def _key_state(z, k, spec):
        """(publish, sign) of key k under a (possibly overridden) description."""
        st = spec.get("key_state", {}).get(k.name, {})
        unknown = set(st) - {"publish", "sign"}
        if unknown:
            raise TestbedError("zone %s key_state %s: only publish and sign" % (z.name, k.name))
        return bool(st.get("publish", k.publish)), bool(st.get("sign", k.sign))

    def _signals(self):
        """RFC 9615 §2: for child C with nameserver N, CDS/CDNSKEY at
        _dsboot.<C>._signal.<N>, in the zone that holds that name."""
        sig = {}      # zone name -> [RR]
        info = {}
        for z in self.zones.values():
            opt = z.spec.get("signal")
            if not opt:
                continue
            opt = {} if opt is True else dict(opt)
            unknown = set(opt) - {"nameservers", "cds", "cdnskey", "wildcard"}
            if unknown:
                raise TestbedError("zone %s signal: unknown fields %s" % (z.name, sorted(unknown)))
            hosts = [fqdn(h) for h in opt.get("nameservers", z.nameservers)]
            spec = dict(z.spec)
            for kind in ("cds", "cdnskey"):
                if kind in opt:
                    spec[kind] = opt[kind]
                elif not spec.get(kind):
                    spec[kind] = True
            cds = self._cds_rdatas(z, spec, "cds")
            cdnskey = self._cds_rdatas(z, spec, "cdnskey")
            if not cds and not cdnskey:
                raise TestbedError("zone %s: signal requested but no keys" % z.name)
            owners = []
            for h in hosts:
                child = z.name.rstrip(".") if z.name != "." else ""
                owner = "_dsboot.%s._signal.%s" % (child, h)
                if opt.get("wildcard"):
                    # a wildcard that the signal name expands (RFC 4592)
                    owner = "*._signal.%s" % h
                holder = self.auth_zone(owner)
                ttl = z.ttl
                recs = sig.setdefault(holder.name, [])
                recs += [RR(owner, ttl, "CDS", r) for r in cds]
                recs += [RR(owner, ttl, "CDNSKEY", r) for r in cdnskey]
                owners.append({"name": owner, "zone": holder.name, "nameserver": h})
            info[z.name] = owners
        return sig, info

    def _content(self, z, spec, signals):
        """Unsigned records of zone z for one (possibly overridden) description."""
        ttl = int(spec.get("ttl", z.ttl))
        dnskey_ttl = int(spec.get("dnskey_ttl", ttl))
        apex_ns = [fqdn(h) for h in spec.get("apex_ns", z.nameservers)]
        if not apex_ns:
            raise TestbedError("zone %s: no apex NS (nameservers or apex_ns is empty)" % z.name)
        serial = int(spec.get("serial", self.now))
        neg = int(spec.get("negative_ttl", 300))
        recs = [RR(z.name, ttl, "SOA", "%s hostmaster.%s %d 3600 600 86400 %d" % (
            apex_ns[0], z.name if z.name != "." else "", serial, neg))]
        recs += [RR(z.name, ttl, "NS", h) for h in apex_ns]
        if spec.get("signed", z.signed):
            for k in z.keys:
                if self._key_state(z, k, spec)[0]:
                    recs.append(RR(z.name, dnskey_ttl, "DNSKEY", k.rdata))
        glue = set()
        for c in z.children:
            recs += [RR(c.name, ttl, "NS", h) for h in c.parent_ns]
            recs += [RR(c.name, ttl, "DS", r) for r in self._ds_rdatas(c)]
            for h in c.parent_ns:
                # Glue: names in this zone's namespace but below one of its cuts.
                if is_subdomain(h, z.name) and self.auth_zone(h) is not z:
                    glue.add(h)
        for h in sorted(glue):
            recs += [RR(h, ttl, "A", a) for a in self.hosts[h].published()]
        for h in self.hosts.values():
            if self.auth_zone(h.name) is z:
                recs += [RR(h.name, ttl, "A", a) for a in h.published()]
        for kind in ("cds", "cdnskey"):
            recs += [RR(z.name, ttl, kind.upper(), r) for r in self._cds_rdatas(z, spec, kind)]
        recs += signals.get(z.name, [])
        for line in spec.get("records", []):
            recs.append(RR.parse(line, z.name, ttl))
        for bulk in spec.get("bulk_txt", []):
            owner = absolute(bulk["owner"], z.name)
            size = int(bulk.get("size", 100))
            for i in range(int(bulk.get("count", 40))):
                text = ("%03d-" % i + "x" * size)[:size]
                recs.append(RR(owner, int(bulk.get("ttl", ttl)), "TXT", '"%s"' % text))
        for pat in spec.get("remove", []):
            p = RR.parse(pat, z.name, ttl, partial=True)
            recs = [r for r in recs if not r.matches(p)]
        # Drop exact duplicates (glue named by several delegations, etc.).
        seen, out = set(), []
        for r in recs:
            k = (r.owner, r.rtype, r.norm_rdata())
            if k not in seen:
                seen.add(k)
                out.append(r)
        return out

    def _sign(self, z, spec, records, path_unsigned, path_signed):
        """Sign with ldns-signzone, then apply the deliberate damage asked for."""
        write_zone(path_unsigned, z.name, z.ttl, records)
        if not spec.get("signed", z.signed):
            out = records
        else:
            states = {k.name: self._key_state(z, k, spec) for k in z.keys}
            signers = [k for k in z.keys if states[k.name][1]]
            if not signers:
                raise TestbedError("zone %s: signed but no key signs" % z.name)
            validity = spec.get("validity")
            if validity is None:
                validity = EXPIRED_VALIDITY if spec.get("expired") else DEFAULT_VALIDITY
            inception = ldns_time(parse_time(validity.get("inception", "-1h"), self.now))
            expiration = ldns_time(parse_time(validity.get("expiration", "+30d"), self.now))
            opts = ["-d", "-i", inception, "-e", expiration, "-o", z.name]
            nsec3 = spec.get("nsec3")
            if nsec3:
                nsec3 = {} if nsec3 is True else nsec3
                opts += ["-n", "-t", str(int(nsec3.get("iterations", 0)))]
                if nsec3.get("salt") not in (None, "", "-"):
                    opts += ["-s", nsec3["salt"]]
                if nsec3.get("optout"):
                    opts.append("-p")
            run(["ldns-signzone"] + opts + ["-f", path_signed, path_unsigned]
                + [k.base for k in signers])
            out = read_zone_lines(path_signed, z.name)
            out = self._cds_signer(z, spec, records, signers, opts, out, path_unsigned)
        # Damage after signing: replaced data keeps the old RRSIGs (bogus).
        tamper = [RR.parse(l, z.name, z.ttl) for l in spec.get("tamper", [])]
        if tamper:
            keys = {t.key() for t in tamper}
            out = [r for r in out if r.key() not in keys] + tamper
        for pat in spec.get("strip_rrsig", []):
            p = RR.parse(pat, z.name, z.ttl, partial=True)
            out = [r for r in out if not (r.rtype == "RRSIG" and r.owner == p.owner
                                          and (not p.rtype or r.covered() == p.rtype))]
        write_zone(path_signed, z.name, z.ttl, out)

    def _cds_signer(self, z, spec, records, signers, opts, signed, path_unsigned):
        """ldns-signzone signs CDS/CDNSKEY like DNSKEY: with the KSKs when a
        zone has KSK and ZSK. cds_signer "zsk" (ZSKs only) or "all" (both)
        re-signs them separately with the other key set."""
        mode = spec.get("cds_signer", "ksk")
        if mode not in ("ksk", "zsk", "all"):
            raise TestbedError("zone %s: cds_signer must be ksk, zsk or all" % z.name)
        zsks = [k for k in signers if k.flags == 256]
        if mode == "ksk" or not zsks or len(zsks) == len(signers):
            return signed
        apex = [r for r in records if r.owner == z.name
                and r.rtype in ("SOA", "DNSKEY", "CDS", "CDNSKEY")]
        if not any(r.rtype in ("CDS", "CDNSKEY") for r in apex):
            return signed
        mini_in, mini_out = path_unsigned + ".cds", path_unsigned + ".cds.signed"
        write_zone(mini_in, z.name, z.ttl, apex)
        # Only flags-256 keys given: ldns-signzone signs every RRset with them.
        run(["ldns-signzone"] + opts + ["-f", mini_out, mini_in] + [k.base for k in zsks])
        extra = [r for r in read_zone_lines(mini_out, z.name) if r.rtype == "RRSIG"
                 and r.owner == z.name and r.covered() in ("CDS", "CDNSKEY")]
        if mode == "zsk":
            signed = [r for r in signed if not (r.rtype == "RRSIG" and r.owner == z.name
                                                and r.covered() in ("CDS", "CDNSKEY"))]
        return signed + extra

    def _build(self):
        """Keys, then zone contents and signed files for every variant."""
        keydir = os.path.join(self.dir, "keys")
        for z in self.zones.values():
            for k in z.keys:
                k.generate(keydir)
        signals, self._signal_info = self._signals()
        shutil.rmtree(os.path.join(self.dir, "zones"), ignore_errors=True)
        for z in self.zones.values():
            zdir = os.path.join(self.dir, "zones", zone_label(z.name))
            os.makedirs(zdir, exist_ok=True)
            groups = {}      # override JSON -> [addresses]
            for h in z.nameservers:
                host = self.hosts[h]
                for i, addr in enumerate(host.live):
                    ov = {}
                    for target in ((h, None), (h, i)):
                        for f, v in z.overrides.get(target, {}).items():
                            if f in APPEND_FIELDS:
                                ov[f] = list(ov.get(f, [])) + list(v)
                            else:
                                ov[f] = v
                    groups.setdefault(json.dumps(ov, sort_keys=True), []).append(addr)
            if not groups:
                groups[json.dumps({})] = []      # built anyway, served by nobody
            for n, (ovj, addrs) in enumerate(sorted(groups.items(), key=lambda kv: kv[0] != "{}")):
                vid = "v%d" % n
                ov = json.loads(ovj)
                spec = z.effective(ov)
                recs = self._content(z, spec, signals)
                unsigned = os.path.join(zdir, vid + ".zone")
                signed = os.path.join(zdir, vid + ".signed")
                self._sign(z, spec, recs, unsigned, signed)
                z.variants[vid] = {"override": ov, "servers": addrs,
                                   "unsigned": unsigned, "file": signed,
                                   "cds": ["%s %d IN CDS %s" % (z.name, z.ttl, r)
                                           for r in self._cds_rdatas(z, spec, "cds")],
                                   "cdnskey": ["%s %d IN CDNSKEY %s" % (z.name, z.ttl, r)
                                               for r in self._cds_rdatas(z, spec, "cdnskey")]}
                for a in addrs:
                    z.server_files[a] = signed

    # ---- resolver files

    def _resolver_files(self):
        root = self.zones["."]
        hints = os.path.join(self.dir, "root.hints")
        with open(hints, "w") as f:
            for h in root.nameservers:
                f.write(".\t3600000\tIN\tNS\t%s\n" % h)
            for h in root.nameservers:
                for a in self.hosts[h].published():
                    f.write("%s\t3600000\tIN\tA\t%s\n" % (h, a))
        anchors = ["%s %d IN DS %s" % (".", root.ttl, r) for r in self._ds_rdatas(root)]
        ta = os.path.join(self.dir, "trust-anchor.ds")
        with open(ta, "w") as f:
            f.write("".join(l + "\n" for l in anchors))
        names = set(self.zones) | set(self.hosts)
        local = sorted(d for d in UNBOUND_DEFAULT_ZONES
                       if any(is_subdomain(n, d) for n in names))
        options = [("root-hints:", hints)]
        if anchors:
            options.append(("trust-anchor-file:", ta))
        options += [("do-not-query-localhost:", "no")]
        options += [("local-zone:", "%s nodefault" % d) for d in local]
        options += [("val-log-level:", "2"), ("qname-minimisation:", "yes"),
                    ("do-ip6:", "no")]
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write("# Generated by tests/testbed/testbed.py: resolution settings for\n"
                    "# unbound (include:) and libunbound (ub_ctx_config).\nserver:\n")
            for k, v in options:
                if k in ("root-hints:", "trust-anchor-file:"):
                    v = '"%s"' % v
                elif k == "local-zone:":
                    name, kind = v.split()
                    v = '"%s" %s' % (name, kind)
                f.write("\t%s %s\n" % (k, v))
        return {"root_hints": hints, "trust_anchor": ta if anchors else None,
                "trust_anchor_ds": anchors, "unbound_conf": conf,
                "unbound_options": [[k, v] for k, v in options]}

    # ---- servers

    def _write_nsd_conf(self, addr, host, index):
        sdir = os.path.join(self.dir, "servers", addr)
        shutil.rmtree(sdir, ignore_errors=True)      # logs of an earlier run
        os.makedirs(os.path.join(sdir, "xfr"))
        zones = {z.name: z.server_files[addr] for z in self.zones.values()
                 if addr in z.server_files}
        conf = os.path.join(sdir, "nsd.conf")
        with open(conf, "w") as f:
            f.write("# Generated by tests/testbed/testbed.py for %s (%s #%d)\n"
                    % (addr, host, index))
            f.write("server:\n")
            for k, v in (("ip-address", addr), ("port", "53"), ("database", '""'),
                         ("username", '""'), ("chroot", '""'), ("zonesdir", '"%s"' % self.dir),
                         ("pidfile", '"%s/nsd.pid"' % sdir),
                         ("xfrdfile", '"%s/xfrd.state"' % sdir),
                         ("zonelistfile", '"%s/zone.list"' % sdir),
                         ("xfrdir", '"%s/xfr"' % sdir), ("logfile", '"%s/nsd.log"' % sdir),
                         ("cookie-secret-file", '"%s/cookiesecrets.txt"' % sdir),
                         ("server-count", "1"), ("verbosity", "1"),
                         ("hide-version", "yes"), ("refuse-any", "no"),
                         # Response rate limiting would drop and truncate the answers
                         # of load tests from one loopback source: off in a testbed.
                         ("rrl-ratelimit", "0"), ("rrl-whitelist-ratelimit", "0")):
                f.write("\t%s: %s\n" % (k, v))
            f.write("remote-control:\n\tcontrol-enable: no\n")
            for name, path in sorted(zones.items()):
                f.write('zone:\n\tname: "%s"\n\tzonefile: "%s"\n' % (name, path))
        return {"host": host, "index": index, "address": addr, "zones": zones,
                "conf": conf, "log": os.path.join(sdir, "nsd.log"), "pid": None,
                "kind": "nsd"}

    def _spawn(self, cmd, log):
        out = open(log, "ab")
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 cwd=self.dir, close_fds=True)
        finally:
            out.close()
        self._popens.append(p)
        self._pgids.add(p.pid)     # new session: pid == process group id
        self._save()
        return p

    def _wait_up(self, timeout):
        deadline = time.monotonic() + timeout
        pending = dict(self.servers)
        while pending:
            for addr, srv in list(pending.items()):
                p = srv["_popen"]
                if p.poll() is not None:
                    raise TestbedError("nsd on %s exited (status %s); log %s:\n%s" % (
                        addr, p.returncode, srv["log"], tail(srv["log"])))
                probe = sorted(srv["zones"]) or ["."]
                ok = True
                for zname in probe:
                    res = dns_query(addr, zname, 6, timeout=0.3)
                    if res is None or (srv["zones"] and (res[0] != 0 or not res[1])):
                        ok = False
                        break
                if ok:
                    del pending[addr]
                elif " error: " in tail(srv["log"], 200):
                    # e.g. a zone file NSD rejects: it keeps running without it.
                    raise TestbedError("nsd on %s reports errors; log %s:\n%s" % (
                        addr, srv["log"], tail(srv["log"])))
            if pending and time.monotonic() > deadline:
                addr, srv = next(iter(pending.items()))
                raise TestbedError("nsd on %s does not serve %s within %gs; log %s:\n%s" % (
                    addr, sorted(srv["zones"]) or ".", timeout, srv["log"], tail(srv["log"])))
            if pending:
                time.sleep(0.05)

    def start(self, timeout=10.0):
        """Build everything and start the servers; returns self."""
        if self._pgids or (self.state and self.state.get("running")):
            raise TestbedError("this testbed is already started")
        for tool in ("ldns-keygen", "ldns-key2ds", "ldns-signzone", "nsd"):
            if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
                raise TestbedError("%s not found (apt-get install ldnsutils nsd)" % tool)
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="zonecut-testbed-")
        os.makedirs(self.dir, exist_ok=True)
        old = os.path.join(self.dir, STATE_FILE)
        if os.path.exists(old):
            with open(old) as f:
                prev = json.load(f)
            if prev.get("running") and group_members(set(prev.get("pgids", [])), self.dir):
                raise TestbedError("a testbed is already running in %s (run down first)"
                                   % self.dir)
        self._allocate()
        if not self.detach:
            atexit.register(self._atexit)
        # A first state file, rewritten at each spawn: "down" works even if
        # this process dies half-way through start().
        self.state = {"schema": SCHEMA, "running": True, "dir": self.dir, "base": self.base,
                      "servers": [], "resolvers": [], "pgids": []}
        try:
            self._build()
            files = self._resolver_files()
            silent = [a for h in self.hosts.values() for a in h.silent]
            if silent:
                ready = os.path.join(self.dir, "blackhole.ready")
                if os.path.exists(ready):
                    os.unlink(ready)
                log = os.path.join(self.dir, "blackhole.log")
                p = self._spawn([sys.executable, os.path.abspath(__file__), "_blackhole",
                                 "--dir", self.dir, "--ready", ready] + silent, log)
                self._blackhole = {"kind": "blackhole", "addresses": silent,
                                   "pid": p.pid, "log": log}
                deadline = time.monotonic() + timeout
                while not os.path.exists(ready):
                    if p.poll() is not None or time.monotonic() > deadline:
                        raise TestbedError("blackhole for %s failed:\n%s" % (silent, tail(log)))
                    time.sleep(0.02)
            else:
                self._blackhole = None
            nsd = shutil.which("nsd") or "/usr/sbin/nsd"
            for h in self.hosts.values():
                for i, addr in enumerate(h.live):
                    srv = self._write_nsd_conf(addr, h.name, i)
                    p = self._spawn([nsd, "-d", "-c", srv["conf"]], srv["log"])
                    srv["pid"], srv["_popen"] = p.pid, p
                    self.servers[addr] = srv
            self._wait_up(timeout)
        except BaseException:
            self.stop()
            raise
        self.state = self._state(files)
        self._save()
        return self

    def _atexit(self):
        if self._pgids:
            try:
                self.stop()
            except TestbedError as e:
                sys.stderr.write("testbed: %s\n" % e)

    def stop(self):
        """Stop every process this testbed started (idempotent)."""
        if self._pgids:
            try:
                kill_groups(self._pgids, self.dir, self._popens)
            finally:
                self._pgids.clear()
                self._popens = []
        if self.state:
            self.state["running"] = False
            self._save()
        if self._own_dir and self.dir and not os.environ.get("ZONECUT_TESTBED_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if self.state is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- state

    def _state(self, files):
        zones = {}
        for z in self.zones.values():
            info = {
                "parent": z.parent.name if z.parent else None,
                "signed": z.signed, "delegated": z.delegate and z.parent is not None,
                "nameservers": z.nameservers, "parent_ns": z.parent_ns,
                "apex_ns": [fqdn(h) for h in z.spec.get("apex_ns", z.nameservers)],
                "keys": [k.info(int(z.spec.get("dnskey_ttl", z.ttl))) for k in z.keys],
                "ds": ["%s %d IN DS %s" % (z.name, z.parent.ttl if z.parent else z.ttl, r)
                       for r in self._ds_rdatas(z)],
                "servers": {a: f for a, f in z.server_files.items()},
                "variants": z.variants,
                "cds": ["%s %d IN CDS %s" % (z.name, z.ttl, r)
                        for r in self._cds_rdatas(z, z.spec, "cds")],
                "cdnskey": ["%s %d IN CDNSKEY %s" % (z.name, z.ttl, r)
                            for r in self._cds_rdatas(z, z.spec, "cdnskey")],
                "signals": self._signal_info.get(z.name, []),
            }
            zones[z.name] = info
        servers = [{k: v for k, v in s.items() if not k.startswith("_")}
                   for s in self.servers.values()]
        if self._blackhole:
            servers.append(dict(self._blackhole))
        st = {
            "schema": SCHEMA, "running": True, "dir": self.dir, "base": self.base,
            "created": self.now, "scenario": self.scenario.get("name"),
            "hosts": {h.name: {"addresses": h.live, "silent": h.silent, "closed": h.closed,
                               "published": h.published()}
                      for h in self.hosts.values()},
            "servers": servers, "resolvers": self.resolvers, "zones": zones,
            "pgids": sorted(self._pgids),
        }
        st.update(files)
        return st

    def _save(self):
        if not self.state or not os.path.isdir(self.dir):
            return
        self.state["pgids"] = sorted(self._pgids)
        tmp = os.path.join(self.dir, STATE_FILE + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, os.path.join(self.dir, STATE_FILE))

    # ---- accessors

    @property
    def info(self):
        """The content of testbed.json."""
        return self.state

    @property
    def root_hints(self):
        return self.state["root_hints"]

    @property
    def trust_anchor(self):
        return self.state["trust_anchor"]

    @property
    def unbound_conf(self):
        return self.state["unbound_conf"]

    @property
    def unbound_options(self):
        """(option, value) pairs for ub_ctx_set_option()."""
        return [tuple(o) for o in self.state["unbound_options"]]

    def addr(self, host, index=0):
        """The index-th listening address of a nameserver host."""
        return self.addrs(host)[index]

    def addrs(self, host, kind="addresses"):
        """Addresses of a host: kind "addresses" (live), "silent" or "closed"."""
        h = self.state["hosts"].get(fqdn(host))
        if h is None:
            raise KeyError("no host %s in this testbed" % fqdn(host))
        return list(h[kind])

    def zone(self, name):
        """Description of a zone: keys, DS, CDS, servers, variants, files."""
        return self.state["zones"][fqdn(name)]

    def key(self, zone, name):
        for k in self.zone(zone)["keys"]:
            if k["name"] == name:
                return k
        raise KeyError("zone %s has no key %s" % (fqdn(zone), name))

    def servers_for(self, zone):
        """Addresses where the zone is served."""
        return sorted(self.zone(zone)["servers"])

    def resolver(self):
        """Address of this testbed's validating resolver (port 53), started
        on first use."""
        for r in self.resolvers:
            if r["port"] == 53:
                return r["address"]
        return self.start_resolver()

    def start_resolver(self, address=None, port=53, timeout=10.0):
        """Start a validating unbound on this testbed; returns its address.
        It is stopped with the testbed."""
        unbound = shutil.which("unbound") or "/usr/sbin/unbound"
        if not os.path.exists(unbound):
            raise TestbedError("unbound not found (apt-get install unbound)")
        address = address or self._spare_address()
        rdir = os.path.join(self.dir, "resolver-%s-%d" % (address, port))
        os.makedirs(rdir, exist_ok=True)
        conf = os.path.join(rdir, "unbound.conf")
        log = os.path.join(rdir, "unbound.log")
        with open(conf, "w") as f:
            f.write("# Generated by tests/testbed/testbed.py: validating resolver\n"
                    "server:\n")
            for k, v in (("interface", "%s@%d" % (address, port)),
                         ("access-control", "127.0.0.0/8 allow"),
                         ("username", '""'), ("chroot", '""'),
                         ("directory", '"%s"' % rdir), ("pidfile", '"%s/unbound.pid"' % rdir),
                         ("use-syslog", "no"), ("logfile", '"%s"' % log),
                         ("verbosity", "1"), ("num-threads", "1"),
                         ("include", '"%s"' % self.unbound_conf)):
                f.write("\t%s: %s\n" % (k, v))
            f.write("remote-control:\n\tcontrol-enable: no\n")
        p = self._spawn([unbound, "-d", "-c", conf], log)
        entry = {"kind": "unbound", "address": address, "port": port, "conf": conf,
                 "log": log, "pid": p.pid}
        self.resolvers.append(entry)
        self._save()
        deadline = time.monotonic() + timeout
        while dns_query(address, ".", 6, rd=True, timeout=0.5, port=port) is None:
            if p.poll() is not None or time.monotonic() > deadline:
                raise TestbedError("unbound on %s@%d did not come up; log %s:\n%s"
                                   % (address, port, log, tail(log)))
            time.sleep(0.05)
        return address

    @staticmethod
    def down(workdir):
        """Stop the processes recorded in workdir/testbed.json."""
        path = os.path.join(os.path.abspath(workdir), STATE_FILE)
        with open(path) as f:
            st = json.load(f)
        pgids = set(st.get("pgids", []))
        pgids |= {s["pid"] for s in st.get("servers", []) + st.get("resolvers", [])
                  if s.get("pid")}
        kill_groups(pgids, st["dir"])
        st["running"] = False
        with open(path, "w") as f:
            json.dump(st, f, indent=2, sort_keys=True)
            f.write("\n")
        return st


# --------------------------------------------------------------------------
# Command line


def summary(st):
    lines = ["testbed in %s (block %s.0/24)" % (st["dir"], st["base"])]
    for s in st["servers"]:
        if s["kind"] == "nsd":
            lines.append("  %-15s %-28s pid %-7s %s" % (
                s["address"], s["host"], s["pid"], " ".join(sorted(s["zones"])) or "(no zones)"))
        else:
            lines.append("  %-15s %-28s pid %-7s" % (
                " ".join(s["addresses"]), "(silent addresses)", s["pid"]))
    for h, info in st["hosts"].items():
        if info["closed"]:
            lines.append("  %-15s %-28s (closed: nothing listens)" % (
                " ".join(info["closed"]), h))
    for r in st.get("resolvers", []):
        lines.append("  %-15s %-28s pid %-7s port %d" % (r["address"], "(unbound resolver)",
                                                          r["pid"], r["port"]))
    lines.append("zones:")
    for name, z in st["zones"].items():
        sec = "unsigned" if not z["signed"] else ("DS in parent" if z["ds"] else "no DS")
        tags = ",".join(str(k["tag"]) for k in z["keys"])
        var = " (%d per-server variants)" % len(z["variants"]) if len(z["variants"]) > 1 else ""
        lines.append("  %-28s %-13s keys %-12s ns %s%s" % (
            name, sec, tags or "-", " ".join(z["nameservers"]), var))
    lines.append("resolver settings: %s" % st["unbound_conf"])
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="zonecut loopback DNSSEC testbed")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build a scenario and start its servers")
    up.add_argument("scenario", help="scenario JSON file or name in %s" % SCENARIO_DIR)
    up.add_argument("--dir", required=True, help="work directory")
    up.add_argument("--base", help="address block 127.A.B (default: random free block)")
    up.add_argument("--resolver", action="store_true", help="also start a validating unbound")
    for name in ("down", "status"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
    bh = sub.add_parser("_blackhole")       # internal: silent addresses
    bh.add_argument("--dir", required=True)
    bh.add_argument("--ready", required=True)
    bh.add_argument("addrs", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "_blackhole":
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
            blackhole_main(args.addrs, args.ready)
        elif args.cmd == "up":
            tb = Testbed(args.scenario, args.dir, base=args.base, detach=True)
            tb.start()
            if args.resolver:
                try:
                    tb.start_resolver()
                except BaseException:
                    tb.stop()
                    raise
            print(summary(tb.state))
        elif args.cmd == "down":
            st = Testbed.down(args.dir)
            print("testbed in %s stopped" % st["dir"])
        elif args.cmd == "status":
            with open(os.path.join(os.path.abspath(args.dir), STATE_FILE)) as f:
                st = json.load(f)
            print(summary(st))
            bad = 0
            print("state:")
            for s in st["servers"] + st.get("resolvers", []):
                alive = bool(group_members({s["pid"]}, st["dir"]))
                if s["kind"] == "blackhole":
                    state = "up" if alive else "down"
                    label = " ".join(s["addresses"])
                else:
                    rd = s["kind"] == "unbound"
                    qname = sorted(s["zones"])[0] if s.get("zones") else "."
                    ans = dns_query(s["address"], qname, rd=rd, port=s.get("port", 53),
                                    timeout=1.0) if alive else None
                    state = "up" if ans else ("not answering" if alive else "down")
                    label = s["address"]
                bad += state != "up"
                print("  %-15s %-8s %s" % (label, s["kind"], state))
            return 0 if bad == 0 else 1
    except TestbedError as e:
        sys.stderr.write("testbed: %s\n" % e)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
