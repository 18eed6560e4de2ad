# SPDX-License-Identifier: MIT
#
# A multi-signer laboratory on loopback for the `zonecut signers` system tests:
# real signers (Knot with dnskey-management incremental or full, BIND 9.18 with
# dnssec-policy and update-policy, PowerDNS when installed) serving one child
# zone, a dynamic signed parent (Knot) that takes DS and NS updates under TSIG,
# a root served by the repository's testbed (NSD) that delegates the parent's
# zone with its DS, and a validating Unbound on that root. Everything listens on
# port 53 of its own 127.A.B.n address, so that the resolver reaches every server
# through real delegations. Also: the parent's agents (zonecut scan --apply
# update for DS; a CSYNC processor for NS) and probes that validate what each
# signer serves against every other signer's DNSKEY set (dnspython).

import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import dns.update

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(TOP, "tests", "testbed"))

import testbed as tb_mod  # noqa: E402

PARENT = "example."
CHILD = "multi.example."
TSIG_NAME = "zc-signer"
PARENT_TSIG = "zc-parent"


def find(name):
    return shutil.which(name) or next(
        (os.path.join(d, name) for d in ("/usr/sbin", "/sbin")
         if os.path.exists(os.path.join(d, name))), None)


def free_block():
    """A 127.A.B block whose .1-.40 are free on port 53."""
    rnd = random.SystemRandom()
    for _ in range(50):
        base = "127.%d.%d" % (rnd.randint(60, 250), rnd.randint(0, 255))
        if all(tb_mod.address_free("%s.%d" % (base, i)) for i in range(1, 41)):
            return base
    raise RuntimeError("no free 127.A.B block")


def tsig_secret():
    return base64.b64encode(os.urandom(32)).decode()


def query(addr, name, rtype, port=53, tcp=True, dnssec=True, timeout=3.0):
    q = dns.message.make_query(name, rtype, want_dnssec=dnssec)
    q.flags &= ~dns.flags.RD
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(q, addr, port=port, timeout=timeout)


def rrset_of(msg, name, rtype, section="answer"):
    sec = getattr(msg, section)
    n = dns.name.from_text(name)
    for rr in sec:
        if rr.name == n and rr.rdtype == dns.rdatatype.from_text(rtype) \
                and rr.rdclass == dns.rdataclass.IN:
            return rr
    return None


def sigs_of(msg, name, rtype, section="answer"):
    n = dns.name.from_text(name)
    for rr in getattr(msg, section):
        if rr.name == n and rr.rdtype == dns.rdatatype.RRSIG and \
                rr.covers == dns.rdatatype.from_text(rtype):
            return rr
    return None


def rdata_text(r):
    """Presentation form of one rdata, keys and digests in one piece (as zonecut
    prints them): "256 3 13 BASE64", "TAG ALG DT HEX"."""
    if r.rdtype in (dns.rdatatype.DNSKEY, dns.rdatatype.CDNSKEY):
        return "%d %d %d %s" % (r.flags, r.protocol, r.algorithm,
                                base64.b64encode(r.key).decode())
    if r.rdtype in (dns.rdatatype.DS, dns.rdatatype.CDS):
        return "%d %d %d %s" % (r.key_tag, r.algorithm, r.digest_type, r.digest.hex().upper())
    return r.to_text()


def rdatas(addr, name, rtype, port=53):
    """Sorted presentation forms of the rdata of name/rtype at addr (TCP, no RD)."""
    m = query(addr, name, rtype, port=port)
    rr = rrset_of(m, name, rtype)
    return sorted(rdata_text(r) for r in rr) if rr else []


def key_id(rdata):
    """algorithm + public key: key identity, never the tag alone."""
    return (rdata.algorithm, bytes(rdata.key))


KNOT_CONF_HEAD = """server:
    listen: %(addr)s@53
    rundir: %(d)s
    pidfile: %(d)s/knot.pid
database:
    storage: %(d)s/db
control:
    listen: %(d)s/knot.sock
log:
  - target: stderr
    any: info
key:
  - id: %(key)s
    algorithm: hmac-sha256
    secret: %(secret)s
"""


def write_knot_conf(d, addr, key, secret, rest):
    """knot.conf in @d: the sections every Knot of the lab shares (listening address,
    directories, control socket, log, the TSIG key), then @rest."""
    head = KNOT_CONF_HEAD % {"addr": addr, "d": d, "key": key, "secret": secret}
    with open(os.path.join(d, "knot.conf"), "w") as f:
        f.write(head + rest)


class Proc:
    """A server process in its own session, stopped by SIGTERM then SIGKILL."""

    def __init__(self, cmd, log, cwd):
        self.log = log
        out = open(log, "ab")
        self.p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                  start_new_session=True, stdin=subprocess.DEVNULL)
        out.close()

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()

    def tail(self, n=3000):
        try:
            with open(self.log) as f:
                return f.read()[-n:]
        except OSError:
            return ""


def wait_for(cond, timeout, what, proc=None, step=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError("%s: the server exited:\n%s" % (what, proc.tail()))
        try:
            if cond():
                return
        except Exception as e:  # noqa: BLE001 (a server still starting)
            last = e
        time.sleep(step)
    raise RuntimeError("%s: not within %gs (%s)%s" % (what, timeout, last,
                                                      "\n" + proc.tail() if proc else ""))


def zone_text(zone, ns_names, ttl, records=()):
    lines = ["$TTL %d" % ttl,
             "@ SOA %s hostmaster.%s 1 3600 600 86400 %d" % (ns_names[0], zone, ttl)]
    lines += ["@ NS %s" % n for n in ns_names]
    lines += list(records)
    return "\n".join(lines) + "\n"


class Signer:
    """Common part: one signer of the child zone at addr@53."""

    kind = "?"

    def __init__(self, name, workdir, addr, ns_name, ttl):
        self.name, self.dir, self.addr, self.ns_name, self.ttl = name, workdir, addr, ns_name, ttl
        self.secret = tsig_secret()
        self.proc = None
        self.keys_command = None  # keys-command= of the signer (rollovers)
        self.extra_ns = []  # NS names of the other signers in the zone file from the start
        os.makedirs(workdir, exist_ok=True)

    def spec(self):
        return ("%s driver=rfc2136 server=%s tsig=hmac-sha256:%s:%s ns=%s=%s%s"
                % (self.name, self.addr, TSIG_NAME, self.secret, self.ns_name, self.addr,
                   " keys-command=" + self.keys_command if self.keys_command else ""))

    def ns_names(self):
        return [self.ns_name] + [n for n in self.extra_ns if n != self.ns_name]

    def stop(self):
        if self.proc:
            self.proc.stop()

    def rd(self, rtype, name=CHILD):
        return rdatas(self.addr, name, rtype)

    def dnskeys(self):
        m = query(self.addr, CHILD, "DNSKEY")
        return rrset_of(m, CHILD, "DNSKEY")

    def own_signing_keys(self):
        """Tags of the keys that sign the SOA and the DNSKEY set here."""
        m = query(self.addr, CHILD, "SOA")
        s = sigs_of(m, CHILD, "SOA")
        m2 = query(self.addr, CHILD, "DNSKEY")
        k = sigs_of(m2, CHILD, "DNSKEY")
        return ({r.key_tag for r in s} if s else set(), {r.key_tag for r in k} if k else set())

    def ready(self):
        """Signed, and publishing CDS for its KSK."""
        m = query(self.addr, CHILD, "SOA")
        return sigs_of(m, CHILD, "SOA") is not None and len(self.rd("CDS")) > 0


class KnotSigner(Signer):
    """mode: dnskey-management incremental or full; "manual" (incremental, with
    manual: on: its keys are made by keymgr and rolled only through the
    keys-command, knot_keys.py) or "manual-csk" (the same, signing with one CSK)."""
    kind = "knot"

    def __init__(self, name, workdir, addr, ns_name, ttl, mode="incremental", records=()):
        super().__init__(name, workdir, addr, ns_name, ttl)
        self.mode, self.records = mode, records
        self.manual = mode.startswith("manual")
        self.csk = mode == "manual-csk"

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        with open(os.path.join(d, "child.zone"), "w") as f:
            f.write(zone_text(CHILD, self.ns_names(), self.ttl, self.records))
        mode = "incremental" if self.manual else self.mode
        extra = "    delete-delay: 1d\n" if mode == "incremental" else ""
        if self.manual:
            extra += "    manual: on\n"
        if self.csk:
            extra += "    single-type-signing: on\n"
        conf = """acl:
  - id: signer-update
    key: %(key)s
    action: [update, transfer]
    update-type: [DNSKEY, CDS, CDNSKEY, CSYNC, NS]
policy:
  - id: ms
    algorithm: ecdsap256sha256
    dnskey-ttl: %(ttl)d
    zone-max-ttl: %(ttl)d
    propagation-delay: 0
    dnskey-management: %(mode)s
%(extra)s    cds-cdnskey-publish: %(cds)s
zone:
  - domain: %(zone)s
    file: %(d)s/child.zone
    dnssec-signing: on
    dnssec-policy: ms
    acl: signer-update
    zonefile-load: difference-no-serial
    journal-content: all
    zonefile-sync: -1
""" % {"addr": self.addr, "d": d, "key": TSIG_NAME, "secret": self.secret, "ttl": self.ttl,
       "mode": mode, "extra": extra, "zone": CHILD,
       # Knot keeps the CDS of its own keys to what this says: "always" names only
       # the newest ready KSK during a rollover, "double-ds" the active and the ready
       "cds": "double-ds" if self.manual else "always"}
        write_knot_conf(d, self.addr, TSIG_NAME, self.secret, conf)
        if self.manual:
            # manual: on makes no key by itself: the first ones come from keymgr
            for args in ([["ksk=yes", "zsk=yes"]] if self.csk
                         else [["ksk=yes", "zsk=no"], ["ksk=no", "zsk=yes"]]):
                r = self.keymgr("generate", *args)
                assert r.returncode == 0, r.stderr
        self.proc = Proc([find("knotd"), "-c", os.path.join(d, "knot.conf")],
                         os.path.join(d, "knot.log"), d)
        wait_for(self.ready, 20, "knot signer %s" % self.name, self.proc)
        return self

    def knotc(self, *args):
        return subprocess.run([find("knotc"), "-s", os.path.join(self.dir, "knot.sock")]
                              + list(args), capture_output=True, text=True, timeout=20)

    def keymgr(self, *args):
        return subprocess.run([find("keymgr"), "-c", os.path.join(self.dir, "knot.conf"), CHILD]
                              + list(args), capture_output=True, text=True, timeout=20)

    def use_keys_command(self, kind="knot_keys"):
        """Writes this signer's keys-command (a wrapper: keys-command takes no
        arguments of its own) and sets it: "knot_keys" runs knot_keys.py on this
        signer, "noop" does nothing and exits 0. Both log each run to
        keys-command.log."""
        path = os.path.join(self.dir, "keys-command-%s" % kind)
        with open(path, "w") as f:
            if kind == "noop":
                f.write('#!/bin/sh\necho "$@" >> %s/keys-command.log\nexit 0\n' % self.dir)
            else:
                f.write('#!/bin/sh\nexec %s %s %s "$@"\n'
                        % (sys.executable, os.path.join(HERE, "knot_keys.py"), self.dir))
        os.chmod(path, 0o755)
        self.keys_command = path
        return path

    def keys_command_log(self):
        """Every run of the keys-command: [zone, action, role, tags...]."""
        try:
            with open(os.path.join(self.dir, "keys-command.log")) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []


class BindSigner(Signer):
    """BIND 9.18 with dnssec-policy; with @manual, `auto-dnssec maintain` instead:
    its keys are made by dnssec-keygen and rolled only through the keys-command
    (bind_keys.py: dnssec-keygen, dnssec-settime, rndc), rndc on ADDR port 953."""
    kind = "bind"

    def __init__(self, name, workdir, addr, ns_name, ttl, records=(),
                 algorithm="ecdsap256sha256", manual=False):
        super().__init__(name, workdir, addr, ns_name, ttl)
        self.records, self.algorithm, self.manual = records, algorithm, manual
        self.added_addr = False

    def use_keys_command(self):
        """Writes and sets the keys-command wrapper running bind_keys.py here."""
        path = os.path.join(self.dir, "keys-command-bind_keys")
        with open(path, "w") as f:
            f.write('#!/bin/sh\nexec %s %s %s "$@"\n'
                    % (sys.executable, os.path.join(HERE, "bind_keys.py"), self.dir))
        os.chmod(path, 0o755)
        self.keys_command = path
        return path

    def keys_command_log(self):
        try:
            with open(os.path.join(self.dir, "keys-command.log")) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, "keys"), exist_ok=True)
        # BIND 9.18 listens only on configured interface addresses.
        r = subprocess.run(["ip", "addr", "add", self.addr + "/32", "dev", "lo"],
                           capture_output=True, text=True)
        self.added_addr = r.returncode == 0
        with open(os.path.join(d, "child.db"), "w") as f:
            f.write(zone_text(CHILD, self.ns_names(), self.ttl, self.records))
        with open(os.path.join(d, "tsig.key"), "w") as f:
            f.write('key "%s" { algorithm hmac-sha256; secret "%s"; };\n'
                    % (TSIG_NAME, self.secret))
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
%(controls)s
include "%(d)s/tsig.key";
dnssec-policy "ms" {
	dnskey-ttl %(ttl)d;
	max-zone-ttl %(ttl)d;
	zone-propagation-delay 0;
	publish-safety 0;
	retire-safety 0;
	parent-ds-ttl %(ttl)d;
	parent-propagation-delay 0;
	keys {
		ksk lifetime unlimited algorithm %(alg)s;
		zsk lifetime unlimited algorithm %(alg)s;
	};
};
zone "%(zone)s" {
	type primary;
	file "%(d)s/child.db";
	%(signing)s;
	key-directory "%(d)s/keys";
	inline-signing no;
	update-policy { grant %(key)s name %(zone)s DNSKEY CDS CDNSKEY CSYNC NS; };
};
""" % {"d": d, "addr": self.addr, "ttl": self.ttl, "zone": CHILD.rstrip("."), "key": TSIG_NAME,
       "alg": self.algorithm,
       "signing": "auto-dnssec maintain" if self.manual else 'dnssec-policy "ms"',
       "controls": ('key "rndc-key" { algorithm hmac-sha256; secret "%s"; };\n'
                    'controls { inet %s port 953 allow { 127.0.0.0/8; } keys { "rndc-key"; }; };'
                    % (self.secret, self.addr)) if self.manual else "controls { };"}
        with open(os.path.join(d, "named.conf"), "w") as f:
            f.write(conf)
        if self.manual:
            with open(os.path.join(d, "rndc.conf"), "w") as f:
                f.write('key "rndc-key" { algorithm hmac-sha256; secret "%s"; };\n'
                        'options { default-server %s; default-port 953; '
                        'default-key "rndc-key"; };\n' % (self.secret, self.addr))
            # a KSK whose CDS/CDNSKEY BIND publishes (sync), and a ZSK
            for extra in (["-f", "KSK", "-P", "sync", "now"], []):
                subprocess.run([find("dnssec-keygen"), "-q", "-K", os.path.join(d, "keys"),
                                "-a", self.algorithm.upper(), "-L", str(self.ttl)] + extra
                               + [CHILD], check=True, capture_output=True, text=True)
        self.proc = Proc([find("named"), "-g", "-c", os.path.join(d, "named.conf")],
                         os.path.join(d, "named.log"), d)
        wait_for(self.ready, 30, "bind signer %s" % self.name, self.proc)
        return self

    def stop(self):
        super().stop()
        if self.added_addr:
            subprocess.run(["ip", "addr", "del", self.addr + "/32", "dev", "lo"],
                           capture_output=True)
            self.added_addr = False


class PdnsSigner(Signer):
    """PowerDNS 4.7 with the gsqlite3 backend: direct-dnskey, dnsupdate under the
    TSIG key (TSIG-ALLOW-DNSUPDATE), CDS and CDNSKEY published for its CSK, the
    packet and query caches off so that a write shows at once."""

    kind = "pdns"

    def __init__(self, name, workdir, addr, ns_name, ttl, records=()):
        super().__init__(name, workdir, addr, ns_name, ttl)
        self.records = records
        self.api_port = None

    def api_spec(self, key="zc-api"):
        """This signer through the PowerDNS HTTP API driver."""
        return ("%s driver=pdns-api server=%s@%d api-key=%s ns=%s=%s"
                % (self.name, self.addr, self.api_port, key, self.ns_name, self.addr))

    def pdnsutil(self, *args):
        return subprocess.run([find("pdnsutil"), "--config-dir=" + self.dir] + list(args),
                              capture_output=True, text=True, timeout=30)

    def start(self):
        d = self.dir
        db = os.path.join(d, "pdns.db")
        schema = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"
        subprocess.run(["sqlite3", db], input=open(schema).read(), text=True, check=True)
        self.api_port = 18000 + random.randint(0, 9999)
        with open(os.path.join(d, "pdns.conf"), "w") as f:
            f.write("launch=gsqlite3\ngsqlite3-database=%s\ngsqlite3-dnssec=yes\n"
                    "local-address=%s\nlocal-port=53\nsocket-dir=%s\nguardian=no\n"
                    "daemon=no\ndisable-syslog=yes\nloglevel=6\ndirect-dnskey=yes\n"
                    "dnsupdate=yes\nallow-dnsupdate-from=127.0.0.0/8\ncache-ttl=0\n"
                    "query-cache-ttl=0\nnegquery-cache-ttl=0\napi=yes\napi-key=zc-api\n"
                    "webserver=yes\nwebserver-address=%s\nwebserver-port=%d\n"
                    "webserver-allow-from=127.0.0.0/8\n"
                    % (db, self.addr, d, self.addr, self.api_port))
        z = CHILD.rstrip(".")
        for args in (["create-zone", z, self.ns_name],
                     ["replace-rrset", z, "@", "SOA", str(self.ttl),
                      "%s hostmaster.%s 1 3600 600 86400 %d" % (self.ns_name, CHILD, self.ttl)],
                     ["replace-rrset", z, "@", "NS", str(self.ttl), self.ns_name]):
            r = self.pdnsutil(*args)
            assert r.returncode == 0, r.stderr
        for rec in self.records:
            owner, rtype, data = rec.split(None, 2)
            r = self.pdnsutil("add-record", z, owner, rtype, str(self.ttl), data)
            assert r.returncode == 0, r.stderr
        for args in (["secure-zone", z], ["set-publish-cds", z], ["set-publish-cdnskey", z],
                     ["import-tsig-key", TSIG_NAME, "hmac-sha256", self.secret],
                     ["set-meta", z, "TSIG-ALLOW-DNSUPDATE", TSIG_NAME]):
            r = self.pdnsutil(*args)
            assert r.returncode == 0, r.stderr
        self.proc = Proc([find("pdns_server"), "--config-dir=" + d], os.path.join(d, "pdns.log"), d)
        wait_for(self.ready, 20, "pdns signer %s" % self.name, self.proc)
        return self


class KnotSecondary:
    """A Knot secondary of a signer's zone at addr@53, transferring from the
    signer's primary with its TSIG key. The primary sends no NOTIFY, so the
    secondary lags until refresh() (its SOA refresh is an hour)."""

    def __init__(self, workdir, addr, primary):
        self.dir, self.addr, self.primary = workdir, addr, primary
        self.proc = None
        os.makedirs(workdir, exist_ok=True)

    def serial(self, addr):
        m = query(addr, CHILD, "SOA", dnssec=False)
        rr = rrset_of(m, CHILD, "SOA")
        return rr[0].serial if rr else None

    def in_step(self):
        return self.serial(self.addr) == self.serial(self.primary.addr)

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        conf = """remote:
  - id: primary
    address: %(primary)s@53
    key: %(key)s
zone:
  - domain: %(zone)s
    storage: %(d)s
    file: %(d)s/secondary.zone
    master: primary
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
""" % {"addr": self.addr, "d": d, "key": TSIG_NAME, "secret": self.primary.secret,
       "primary": self.primary.addr, "zone": CHILD}
        write_knot_conf(d, self.addr, TSIG_NAME, self.primary.secret, conf)
        self.proc = Proc([find("knotd"), "-c", os.path.join(d, "knot.conf")],
                         os.path.join(d, "knot.log"), d)
        wait_for(self.in_step, 20, "knot secondary of %s" % self.primary.name, self.proc)
        return self

    def refresh(self, timeout=10):
        """Transfers what the primary has now, and waits until it serves it."""
        if self.in_step():
            return
        subprocess.run([find("knotc"), "-s", os.path.join(self.dir, "knot.sock"),
                        "zone-refresh", CHILD], capture_output=True, text=True, timeout=20)
        wait_for(self.in_step, timeout, "secondary refresh", self.proc)

    def rd(self, rtype):
        return rdatas(self.addr, CHILD, rtype)

    def stop(self):
        if self.proc:
            self.proc.stop()


class KnotParent:
    """The parent zone example., signed by Knot, taking DS and NS updates for
    multi.example. under TSIG (the registry's primary)."""

    def __init__(self, workdir, addr, ttl, delegation_ns, ns_addrs, ds, extra=()):
        self.dir, self.addr, self.ttl = workdir, addr, ttl
        self.delegation_ns, self.ns_addrs, self.initial_ds = delegation_ns, ns_addrs, ds
        self.extra = list(extra)  # more records of the parent zone, e.g. a second A
        self.secret = tsig_secret()
        self.proc = None
        os.makedirs(workdir, exist_ok=True)

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        recs = ["ns1.parent A %s" % self.addr]
        recs += ["multi NS %s" % n for n in self.delegation_ns]
        recs += ["multi DS %s" % ds for ds in self.initial_ds]
        recs += ["%s A %s" % (n, a) for n, a in self.ns_addrs.items()]
        recs += self.extra
        with open(os.path.join(d, "parent.zone"), "w") as f:
            f.write(zone_text(PARENT, ["ns1.parent.example."], self.ttl, recs))
        conf = """acl:
  - id: parent-update
    key: %(key)s
    action: [update, transfer]
    update-type: [DS, NS]
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
policy:
  - id: p
    algorithm: ecdsap256sha256
    dnskey-ttl: %(ttl)d
    zone-max-ttl: %(ttl)d
    single-type-signing: on
zone:
  - domain: %(zone)s
    file: %(d)s/parent.zone
    dnssec-signing: on
    dnssec-policy: p
    acl: [parent-update, transfer]
    zonefile-sync: -1
    journal-content: all
""" % {"addr": self.addr, "d": d, "key": PARENT_TSIG, "secret": self.secret, "ttl": self.ttl,
       "zone": PARENT}
        write_knot_conf(d, self.addr, PARENT_TSIG, self.secret, conf)
        self.proc = Proc([find("knotd"), "-c", os.path.join(d, "knot.conf")],
                         os.path.join(d, "knot.log"), d)
        wait_for(lambda: sigs_of(query(self.addr, PARENT, "SOA"), PARENT, "SOA") is not None,
                 20, "knot parent", self.proc)
        return self

    def stop(self):
        if self.proc:
            self.proc.stop()

    def tsig(self):
        return "hmac-sha256:%s:%s" % (PARENT_TSIG, self.secret)

    def ds(self):
        m = query(self.addr, CHILD, "DS")
        rr = rrset_of(m, CHILD, "DS")
        return sorted(rdata_text(r) for r in rr) if rr else []

    def ds_rdata(self):
        m = query(self.addr, CHILD, "DS")
        rr = rrset_of(m, CHILD, "DS")
        return list(rr) if rr else []

    def ns(self):
        m = query(self.addr, CHILD, "NS")
        rr = rrset_of(m, CHILD, "NS", "authority") or rrset_of(m, CHILD, "NS")
        return sorted(r.to_text().lower() for r in rr) if rr else []

    def own_ds(self):
        """DS of the parent's own KSK (for the root's delegation)."""
        m = query(self.addr, PARENT, "DNSKEY")
        rr = rrset_of(m, PARENT, "DNSKEY")
        return [dns.dnssec.make_ds(PARENT, k, "SHA256").to_text() for k in rr if k.flags & 1]

    def zone_file(self, path):
        """What a registry's scan reads: SOA, the child's NS and DS, addresses."""
        m = query(self.addr, PARENT, "SOA")
        soa = rrset_of(m, PARENT, "SOA")
        lines = [soa.to_text()]
        ns = query(self.addr, CHILD, "NS")
        rr = rrset_of(ns, CHILD, "NS", "authority") or rrset_of(ns, CHILD, "NS")
        lines.append(rr.to_text())
        ds = query(self.addr, CHILD, "DS")
        rr = rrset_of(ds, CHILD, "DS")
        if rr:
            lines.append(rr.to_text())
        for n in sorted(self.ns_addrs):
            a = query(self.addr, n, "A")
            rr = rrset_of(a, n, "A")
            if rr:
                lines.append(rr.to_text())
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def update_ns(self, names):
        keyring = dns.tsigkeyring.from_text({PARENT_TSIG: self.secret})
        u = dns.update.UpdateMessage(PARENT, keyring=keyring, keyalgorithm="hmac-sha256")
        u.delete(CHILD, "NS")
        for n in names:
            u.add(CHILD, self.ttl, "NS", n)
        r = dns.query.tcp(u, self.addr, timeout=5)
        return r.rcode()


class Lab:
    """Signers, parent, testbed root and resolver for one test module."""

    def __init__(self, workdir, ttl=3, signers=("knot", "bind"), modes=None):
        """@signers: names; "knot*" are Knot signers (dnskey-management from
        @modes, default incremental), "bind*" BIND signers (algorithm from @modes,
        default ecdsap256sha256)."""
        modes = modes or {}
        self.dir, self.ttl = workdir, ttl
        self.base = free_block()
        self.parent_addr = "%s.20" % self.base
        self.signers = {}
        self.parent = None
        self.testbed = None
        self.resolver = None
        self.pinned = {}
        self.parent_extra = []  # records added to the parent zone at start()
        n = 21
        for s in signers:
            addr = "%s.%d" % (self.base, n)
            n += 1
            ns = "ns1.%s.example." % s
            recs = ["www A 192.0.2.1", "mail A 192.0.2.2", "@ TXT \"multi-signer\""]
            sdir = os.path.join(workdir, s)
            if s.startswith("knot"):
                self.signers[s] = KnotSigner(s, sdir, addr, ns, ttl,
                                             mode=modes.get(s, "incremental"), records=recs)
            elif s.startswith("bind"):
                m = modes.get(s, "ecdsap256sha256")
                self.signers[s] = BindSigner(s, sdir, addr, ns, ttl, records=recs,
                                             algorithm="ecdsap256sha256" if m == "manual" else m,
                                             manual=m == "manual")
            elif s.startswith("pdns"):
                self.signers[s] = PdnsSigner(s, sdir, addr, ns, ttl, records=recs)
            else:
                raise ValueError(s)

    def start(self, first="knot", group=None):
        """@group: the signers the zone is delegated to from the start (the parent's
        NS and DS sets, and the NS set of their zone files, name them all; their
        keys are not exchanged: the controller's `sync` does that); default
        @first alone."""
        group = list(group or [first])
        for s in self.signers.values():
            if s.name in group:
                s.extra_ns = [self.signers[g].ns_name for g in group]
            s.start()
        ds = []
        for g in group:
            keys = self.signers[g].dnskeys()
            ds += [dns.dnssec.make_ds(CHILD, k, "SHA256").to_text() for k in keys if k.flags & 1]
        self.parent = KnotParent(os.path.join(self.dir, "parent"), self.parent_addr, self.ttl,
                                 [self.signers[g].ns_name for g in group],
                                 {s.ns_name: s.addr for s in self.signers.values()},
                                 ds, extra=self.parent_extra).start()
        root = {"name": "signers", "base": self.base,
                "zones": {".": {"ttl": self.ttl, "records": [
                    "example. %d IN NS ns1.parent.example." % self.ttl,
                    "ns1.parent.example. %d IN A %s" % (self.ttl, self.parent_addr)] + [
                    "example. %d IN DS %s" % (self.ttl, d) for d in self.parent.own_ds()]}}}
        self.testbed = tb_mod.Testbed(root, os.path.join(self.dir, "testbed")).start()
        self.resolver = self.testbed.start_resolver()
        return self

    def running(self, **start_args):
        """start(**start_args), yield the lab, then stop() whatever happened: the
        body of a test module's `lab` fixture (`yield from lab.running()`)."""
        try:
            self.start(**start_args)
            yield self
        finally:
            self.stop()

    def stop(self):
        for p in self.pinned.values():
            p.stop()
        for s in self.signers.values():
            s.stop()
        if self.parent:
            self.parent.stop()
        if self.testbed:
            self.testbed.stop()

    def pinned_resolver(self, name):
        """A validating Unbound on the testbed's root that asks only signer @name
        for the child zone (stub-zone): what a resolver sees from that signer.
        Returns its address (port 53)."""
        if name in self.pinned:
            return self.pinned[name].addr
        addr = "%s.%d" % (self.base, 40 - len(self.pinned))
        d = os.path.join(self.dir, "pinned-" + name)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "unbound.conf")
        with open(conf, "w") as f:
            f.write("server:\n\tinterface: %s@53\n\taccess-control: 127.0.0.0/8 allow\n"
                    "\tusername: \"\"\n\tchroot: \"\"\n\tdirectory: \"%s\"\n"
                    "\tpidfile: \"%s/unbound.pid\"\n\tuse-syslog: no\n\tverbosity: 1\n"
                    "\tnum-threads: 1\n\tinclude: \"%s\"\n"
                    "stub-zone:\n\tname: \"%s\"\n\tstub-addr: %s@53\n"
                    "remote-control:\n\tcontrol-enable: no\n"
                    % (addr, d, d, self.testbed.unbound_conf, CHILD, self.signers[name].addr))
        p = Proc([find("unbound"), "-d", "-c", conf], os.path.join(d, "unbound.log"), d)
        p.addr = addr
        self.pinned[name] = p

        def up():
            q = dns.message.make_query(".", "SOA")
            dns.query.udp(q, addr, timeout=0.5)
            return True
        wait_for(up, 10, "pinned resolver for %s" % name, p)
        return addr

    # --- zonecut -------------------------------------------------------------

    def zonecut(self, zc, *args, check=True, env=None, timeout=300):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([zc] + list(args), capture_output=True, text=True, timeout=timeout,
                           env=e)
        if check and p.returncode not in (0, 1):
            raise AssertionError("zonecut %s: rc %d\n%s%s" % (" ".join(args), p.returncode,
                                                              p.stdout, p.stderr))
        return p

    def configure(self, zc, db, group=("knot",), api=()):
        """Signers (those in @api through the PowerDNS HTTP API driver) and the
        zone, starting with @group."""
        for n, s in self.signers.items():
            spec = s.api_spec() if n in api else s.spec()
            self.zonecut(zc, "signers", "--db", db, "add", "--replace", *spec.split())
        self.zonecut(zc, "signers", "--db", db, "zone-add", CHILD,
                     "signers=" + ",".join(group), "parent=" + self.parent_addr)

    def parent_agent(self, zc, db):
        """The registry: scan the child from the parent's zone, apply with UPDATE."""
        path = self.parent.zone_file(os.path.join(self.dir, "parent-view.zone"))
        return self.zonecut(zc, "scan", "--db", db, "--zone", path, "--json",
                            "--apply", "update", "--parent-primary", self.parent_addr,
                            "--tsig", self.parent.tsig(), "--timeout", "1s", check=False)

    def csync_agent(self):
        """RFC 7477 at the parent: when every server of the delegation publishes
        CSYNC (immediate, NS) and the same NS set, copy that NS set."""
        addrs = {s.ns_name: s.addr for s in self.signers.values()}
        deleg = self.parent.ns()
        sets, ok = [], True
        for n in deleg:
            a = addrs.get(n)
            if not a:
                return None
            try:
                cs = rdatas(a, CHILD, "CSYNC")
                ns = rdatas(a, CHILD, "NS")
            except Exception:  # noqa: BLE001
                return None
            if not cs or not any(c.split()[1] in ("1", "3") and "NS" in c.split()[2:] for c in cs):
                ok = False
            sets.append(tuple(sorted(x.lower() for x in ns)))
        if not ok or len(set(sets)) != 1 or not sets[0]:
            return None
        want = list(sets[0])
        if sorted(want) != sorted(deleg):
            self.parent.update_ns(want)
            return want
        return None


# --- probes --------------------------------------------------------------------

PROBE_DATA = [("www." + CHILD, "A"), ("mail." + CHILD, "A"), (CHILD, "TXT"), (CHILD, "SOA")]


def validate_with(keys_rrset, msg, name, rtype):
    """None when name/rtype in msg validates with keys_rrset, else the reason."""
    rr = rrset_of(msg, name, rtype)
    sig = sigs_of(msg, name, rtype)
    if rr is None or sig is None:
        return "no %s/%s or no RRSIG" % (name, rtype)
    try:
        dns.dnssec.validate(rr, sig, {dns.name.from_text(CHILD): keys_rrset})
        return None
    except dns.dnssec.ValidationFailure as e:
        return str(e)


def dnskey_validated(keys_msg, ds_rdatas):
    """None when the DNSKEY set in keys_msg is signed by a key the DS set names."""
    keys = rrset_of(keys_msg, CHILD, "DNSKEY")
    sig = sigs_of(keys_msg, CHILD, "DNSKEY")
    if keys is None or sig is None:
        return "no DNSKEY set"
    named = [k for k in keys for d in ds_rdatas
             if dns.dnssec.make_ds(CHILD, k, d.digest_type) == d]
    if not named:
        return "no key of the DNSKEY set matches the DS set"
    sub = dns.rrset.from_rdata_list(keys.name, keys.ttl, named)
    try:
        dns.dnssec.validate(keys, sig, {dns.name.from_text(CHILD): sub})
        return None
    except dns.dnssec.ValidationFailure as e:
        return "DNSKEY not signed by a DS-named key (%s)" % e


def cross_matrix(lab, names=None):
    """For every pair (A, B) of signers: does data from B validate with the
    DNSKEY set of A, and is A's DNSKEY set validated by the parent's DS?
    Returns {(A, B): None or reason}, and {A: None or reason} for DNSKEY."""
    names = names or list(lab.signers)
    ds = lab.parent.ds_rdata()
    keys, dnskey_ok, out = {}, {}, {}
    for a in names:
        m = query(lab.signers[a].addr, CHILD, "DNSKEY")
        keys[a] = rrset_of(m, CHILD, "DNSKEY")
        dnskey_ok[a] = dnskey_validated(m, ds)
    for a in names:
        for b in names:
            why = None
            for qn, qt in PROBE_DATA:
                m = query(lab.signers[b].addr, qn, qt)
                why = validate_with(keys[a], m, qn, qt)
                if why:
                    why = "%s/%s from %s with DNSKEY of %s: %s" % (qn, qt, b, a, why)
                    break
            out[(a, b)] = why
    return out, dnskey_ok


class Probe(threading.Thread):
    """Queries the zone through the validating resolver and every signer
    directly while a process runs. Signers count from the moment their NS name
    is in the parent's or any signer's NS set until the largest NS TTL after it
    left (a resolver may still use them). Any SERVFAIL, any answer without AD,
    any DNSKEY set of a counting signer not validated by the parent's DS, any
    data of a counting signer that does not validate with the DNSKEY set of
    another counting signer is recorded as a failure."""

    def __init__(self, lab, interval=0.3):
        super().__init__(daemon=True)
        self.lab, self.interval = lab, interval
        self.stop_flag = False
        self.failures = []
        self.rounds = 0
        self.resolver_queries = 0
        self.retries = 0
        self.pairs_checked = 0
        self.last_seen = {}
        self.ns_by_name = {s.ns_name: n for n, s in lab.signers.items()}
        self.hold = lab.ttl + 2

    def counting(self):
        """Signers a resolver can reach: those named in the parent's NS set, then
        those named in the apex NS set of a reachable signer (and so on)."""
        now = time.monotonic()
        names = set(self.lab.parent.ns())
        done = set()
        while True:
            new = {self.ns_by_name[n] for n in names if n in self.ns_by_name} - done
            if not new:
                break
            for sname in new:
                done.add(sname)
                try:
                    names |= {x.lower() for x in self.lab.signers[sname].rd("NS")}
                except Exception:  # noqa: BLE001 (a signer stopped)
                    pass
        for sname in done:
            self.last_seen[sname] = now
        return sorted(s for s, t in self.last_seen.items() if now - t <= self.hold)

    def resolver_round(self):
        import uuid
        qs = PROBE_DATA + [(CHILD, "DNSKEY"), (CHILD, "NS"),
                           ("nx-%s.%s" % (uuid.uuid4().hex[:8], CHILD), "A")]
        for qn, qt in qs:
            q = dns.message.make_query(qn, qt, want_dnssec=True)
            try:
                r = dns.query.udp(q, self.lab.resolver, timeout=3)
            except dns.exception.Timeout:
                # a lost datagram or a slow iteration on a loaded machine is not a
                # validation failure: ask once more, as a stub resolver would
                self.retries += 1
                try:
                    r = dns.query.udp(q, self.lab.resolver, timeout=6)
                except Exception as e:  # noqa: BLE001
                    self.failures.append((time.time(), "resolver", qn, qt, "no answer: %s" % e))
                    continue
            except Exception as e:  # noqa: BLE001
                self.failures.append((time.time(), "resolver", qn, qt, "no answer: %s" % e))
                continue
            self.resolver_queries += 1
            rc = r.rcode()
            if rc == dns.rcode.SERVFAIL or rc not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                self.failures.append((time.time(), "resolver", qn, qt, dns.rcode.to_text(rc)))
            elif not (r.flags & dns.flags.AD):
                self.failures.append((time.time(), "resolver", qn, qt, "answer without AD"))

    def direct_round(self):
        names = self.counting()
        out, dnskey_ok = cross_matrix(self.lab, names)
        for a, why in dnskey_ok.items():
            if why:
                self.failures.append((time.time(), "direct", a, "DNSKEY", why))
        for pair, why in out.items():
            self.pairs_checked += 1
            if why:
                self.failures.append((time.time(), "direct", pair[0], pair[1], why))

    def run(self):
        while not self.stop_flag:
            try:
                self.resolver_round()
                self.direct_round()
            except Exception as e:  # noqa: BLE001
                self.failures.append((time.time(), "probe", "", "", "probe error: %s" % e))
            self.rounds += 1
            time.sleep(self.interval)

    def stop(self):
        self.stop_flag = True
        self.join(timeout=30)


# --- driving a process ----------------------------------------------------------

def status(lab, zc, db, live=False):
    args = ["signers", "--db", db, "status", "--json"] + ([] if live else ["--offline"])
    p = lab.zonecut(zc, *args)
    return json.loads(p.stdout.splitlines()[0])


def drive(lab, zc, db, timeout=240, env=None, agents=True, on_pass=None, opts=()):
    """Runs `zonecut signers run` passes with the parent's agents in between until
    the zone's process is done, stopped or aborted. Returns (status, passes):
    passes lists (returncode, step before, step after) for every pass; a pass
    killed by ZONECUT_TEST_KILL_AT has returncode -9."""
    passes = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        before = status(lab, zc, db)["process"]
        p = lab.zonecut(zc, "-v", "signers", "--db", db, "--retry", "1s",
                        "--readback-timeout", "5s", *opts, "run", check=False, env=env)
        if p.returncode not in (0, 1, -9):
            raise AssertionError("zonecut signers run: rc %d\n%s%s" % (p.returncode, p.stdout,
                                                                      p.stderr))
        st = status(lab, zc, db)
        passes.append((p.returncode, before["step"], st["process"]["step"], p.stderr))
        if on_pass:
            on_pass(p, st)
        if st["process"]["status"] in ("done", "stopped", "aborted"):
            return st, passes
        if agents:
            lab.parent_agent(zc, db)
            lab.csync_agent()
        time.sleep(0.5)
    raise AssertionError("the process did not end within %ss: %s" % (timeout, status(lab, zc, db)))
