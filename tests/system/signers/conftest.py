# SPDX-License-Identifier: MIT
#
# Fixtures for the `zonecut signers` system tests: the multi-signer laboratory
# (signerlab.py: Knot and BIND signers, a Knot parent, the testbed's root and a
# validating Unbound, all on port 53 of 127.A.B.n), the zc-signers-tool test
# tool, and real DNSSEC keys made by dnssec-keygen. Every process is stopped by
# the fixture that started it.

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import signerlab  # noqa: E402

TOOLS = ("knotd", "knotc", "keymgr", "named", "nsd", "unbound", "dnssec-keygen", "ldns-signzone",
         "ldns-keygen", "ldns-key2ds", "ip")


def lab_skip_reason():
    if os.geteuid() != 0:
        return "the signers lab needs root (port 53 on 127.x.y.z, ip addr for BIND)"
    missing = [t for t in TOOLS if not signerlab.find(t)]
    if missing:
        return "tools missing: %s (apt-get install knot bind9 nsd unbound ldnsutils)" \
            % " ".join(missing)
    try:
        import dns.dnssec  # noqa: F401
        import cryptography  # noqa: F401
    except ImportError:
        return "python3-dnspython with python3-cryptography is needed"
    return None


@pytest.fixture(scope="session")
def lab_ok():
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)


def _build_dir():
    if os.environ.get("ZONECUT_BUILD"):
        return os.environ["ZONECUT_BUILD"]
    if os.environ.get("ZONECUT_BIN"):
        return os.path.dirname(os.environ["ZONECUT_BIN"])
    return os.path.join(signerlab.TOP, "build")


@pytest.fixture(scope="session")
def signers_tool():
    path = os.environ.get("ZC_SIGNERS_TOOL") or os.path.join(_build_dir(), "tests", "tools",
                                                             "zc-signers-tool")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip("zc-signers-tool not found at %s (build it, or set ZC_SIGNERS_TOOL)" % path)
    return path


@pytest.fixture(scope="module")
def make_key(tmp_path_factory):
    """make_key(flags=256) -> 'multi.example. 3 IN DNSKEY 256 3 13 ...' (a real key)."""
    d = str(tmp_path_factory.mktemp("keys"))

    def make(flags=256, zone=signerlab.CHILD, ttl=3):
        args = [signerlab.find("dnssec-keygen"), "-q", "-K", d, "-a", "ECDSAP256SHA256"]
        if flags & 1:
            args += ["-f", "KSK"]
        base = subprocess.run(args + [zone], check=True, capture_output=True,
                              text=True).stdout.strip()
        with open(os.path.join(d, base + ".key")) as f:
            line = [x for x in f if not x.startswith(";")][0].split()
        # "zone. IN DNSKEY flags 3 13 key..." (the key in one piece)
        return "%s %d IN DNSKEY %s %s" % (zone, ttl, " ".join(line[3:6]), "".join(line[6:]))
    return make


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("signers"))
