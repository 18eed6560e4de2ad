# SPDX-License-Identifier: MIT
#
# Fixtures for the apply/ system tests: a real BIND 9 primary on 127.0.0.1 with a
# free port, in a temporary directory, serving a parent zone signed with
# dnssec-policy (no inline signing, so UPDATE works on 9.18) that accepts DS
# updates under a TSIG key made by tsig-keygen; and the zc-apply-tool test tool.
# Every process started here is stopped by the fixture's finalizer.

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _build_dir():
    if os.environ.get("ZONECUT_BUILD"):
        return os.environ["ZONECUT_BUILD"]
    if os.environ.get("ZONECUT_BIN"):
        return os.path.dirname(os.environ["ZONECUT_BIN"])
    return os.path.join(TOP, "build")


def _find(name):
    return shutil.which(name) or next(
        (os.path.join(d, name) for d in ("/usr/sbin", "/sbin")
         if os.path.exists(os.path.join(d, name))), None)


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


# Children delegated from the parent zone: one per test, so tests do not interfere.
CHILDREN = ["boot", "again", "badkey", "conflict", "pending", "sent", "refused", "delete",
            "script", "replay", "sha384", "roll"]


class BindPrimary:
    """named -g on 127.0.0.1:port with zone "example." and three TSIG keys:
    zc-test (hmac-sha256, may update DS), zc-384 (hmac-sha384, may update DS),
    zc-nogrant (known, but not allowed to update)."""

    ZONE = "example."

    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_port()
        self.addr = "127.0.0.1@%d" % self.port
        self.proc = None
        self.log = os.path.join(workdir, "named.log")
        self.keyfile = os.path.join(workdir, "zc-test.key")
        self.keyfile384 = os.path.join(workdir, "zc-384.key")
        self.keyfile_nogrant = os.path.join(workdir, "zc-nogrant.key")

    def _keygen(self, alg, name, path):
        out = subprocess.run([_find("tsig-keygen"), "-a", alg, name], check=True,
                             capture_output=True, text=True).stdout
        with open(path, "w") as f:
            f.write(out)
        os.chmod(path, 0o600)

    def secret(self, path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("secret"):
                    return line.split('"')[1]
        raise RuntimeError("no secret in " + path)

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, "keys"), exist_ok=True)
        self._keygen("hmac-sha256", "zc-test", self.keyfile)
        self._keygen("hmac-sha384", "zc-384", self.keyfile384)
        self._keygen("hmac-sha256", "zc-nogrant", self.keyfile_nogrant)
        zone = ["$TTL 300",
                "@ SOA ns1.example. hostmaster.example. 1 3600 600 86400 300",
                "@ NS ns1.example.",
                "ns1 A 127.0.0.1"]
        for c in CHILDREN:
            zone += ["%s NS ns1.%s.example." % (c, c), "ns1.%s A 192.0.2.53" % c]
        with open(os.path.join(d, "example.db"), "w") as f:
            f.write("\n".join(zone) + "\n")
        conf = """
options {
	directory "%(d)s";
	pid-file "%(d)s/named.pid";
	listen-on port %(port)d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	session-keyfile "%(d)s/session.key";
	managed-keys-directory "%(d)s";
};
controls { };
include "%(k1)s";
include "%(k2)s";
include "%(k3)s";
dnssec-policy "zc" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
};
zone "example" {
	type primary;
	file "%(d)s/example.db";
	dnssec-policy "zc";
	key-directory "%(d)s/keys";
	update-policy {
		grant zc-test zonesub DS;
		grant zc-384 zonesub DS;
	};
};
""" % {"d": d, "port": self.port, "k1": self.keyfile, "k2": self.keyfile384,
       "k3": self.keyfile_nogrant}
        conf_path = os.path.join(d, "named.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        logf = open(self.log, "w")
        self.proc = subprocess.Popen([_find("named"), "-g", "-c", conf_path],
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("named exited: " + open(self.log).read()[-2000:])
            out = self.dig(self.ZONE, "SOA", check=False)
            if "RRSIG\tSOA" in out or "RRSIG SOA" in out:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("named did not serve a signed zone: " + open(self.log).read()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def dig(self, name, rtype, check=True):
        p = subprocess.run(["dig", "+dnssec", "+norec", "+tcp", "+time=2", "+tries=1",
                            "-p", str(self.port), "@127.0.0.1", name, rtype],
                           capture_output=True, text=True, timeout=15)
        if check:
            assert p.returncode == 0, p.stderr
        return p.stdout

    def answer(self, name, rtype):
        """The answer section records of type rtype as (type, rdata) pairs."""
        out = self.dig(name, rtype)
        rrs = []
        section = False
        for line in out.splitlines():
            if line.startswith(";; ANSWER SECTION"):
                section = True
                continue
            if section and (not line.strip() or line.startswith(";;")):
                break
            if section:
                f = line.split()
                rrs.append((f[3], " ".join(f[4:])))
        return rrs

    def ds(self, child):
        """The DS set at the primary, as sorted 'KEYTAG ALG DT HEX' strings."""
        return sorted("%s %s %s %s" % tuple(r.split()[:3] + ["".join(r.split()[3:])])
                      for t, r in self.answer(child, "DS") if t == "DS")

    def serial(self):
        return int([r for t, r in self.answer(self.ZONE, "SOA") if t == "SOA"][0].split()[2])


@pytest.fixture(scope="module")
def bind_primary(tmp_path_factory):
    missing = [t for t in ("named", "tsig-keygen", "dig", "nsupdate") if not _find(t)]
    if missing:
        pytest.skip("BIND tools missing: %s (apt-get install bind9 bind9-dnsutils)"
                    % " ".join(missing))
    srv = BindPrimary(str(tmp_path_factory.mktemp("bind-parent")))
    try:
        srv.start()
    except Exception:
        srv.stop()
        raise
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def apply_tool():
    path = os.environ.get("ZC_APPLY_TOOL") or os.path.join(_build_dir(), "tests", "tools",
                                                           "zc-apply-tool")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip("zc-apply-tool not found at %s (build it, or set ZC_APPLY_TOOL)" % path)
    return path


class KnotPrimary(BindPrimary):
    """knotd on 127.0.0.1:port, zone "example." signed automatically (ECDSA P-256),
    DS updates allowed for the TSIG key zc-test (ACL update-type DS)."""

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        self._keygen("hmac-sha256", "zc-test", self.keyfile)
        secret = self.secret(self.keyfile)
        zone = ["$TTL 300",
                "@ SOA ns1.example. hostmaster.example. 1 3600 600 86400 300",
                "@ NS ns1.example.",
                "ns1 A 127.0.0.1"]
        for c in CHILDREN:
            zone += ["%s NS ns1.%s.example." % (c, c), "ns1.%s A 192.0.2.53" % c]
        with open(os.path.join(d, "example.db"), "w") as f:
            f.write("\n".join(zone) + "\n")
        conf = """server:
    listen: 127.0.0.1@%(port)d
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
  - id: zc-test
    algorithm: hmac-sha256
    secret: %(secret)s
acl:
  - id: ds-update
    key: zc-test
    action: update
    update-type: [DS]
policy:
  - id: zc
    algorithm: ecdsap256sha256
    single-type-signing: on
zone:
  - domain: example.
    file: %(d)s/example.db
    dnssec-signing: on
    dnssec-policy: zc
    acl: ds-update
    zonefile-sync: -1
    journal-content: all
""" % {"d": d, "port": self.port, "secret": secret}
        conf_path = os.path.join(d, "knot.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        logf = open(self.log, "w")
        self.proc = subprocess.Popen([_find("knotd"), "-c", conf_path], stdout=logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("knotd exited: " + open(self.log).read()[-2000:])
            out = self.dig(self.ZONE, "SOA", check=False)
            if "RRSIG\tSOA" in out or "RRSIG SOA" in out:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("knotd did not serve a signed zone: " + open(self.log).read()[-2000:])


@pytest.fixture(scope="module")
def knot_primary(tmp_path_factory):
    missing = [t for t in ("knotd", "tsig-keygen", "dig") if not _find(t)]
    if missing:
        pytest.skip("tools missing: %s (apt-get install knot bind9 bind9-dnsutils)"
                    % " ".join(missing))
    srv = KnotPrimary(str(tmp_path_factory.mktemp("knot-parent")))
    try:
        srv.start()
    except Exception:
        srv.stop()
        raise
    yield srv
    srv.stop()
