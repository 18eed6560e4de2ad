# SPDX-License-Identifier: MIT
#
# Shared pytest fixtures for zonecut's system tests: the loopback DNSSEC
# testbed (tests/testbed/testbed.py, real NSD and Unbound on 127.x.y.z) and
# the path of the built zonecut binary. Tests that need what is missing here
# (root, nsd, ldns tools, the binary) are skipped with the reason.

import json
import os
import shutil
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED_DIR = os.path.join(REPO, "tests", "testbed")
if TESTBED_DIR not in sys.path:
    sys.path.insert(0, TESTBED_DIR)

import testbed as _testbed  # noqa: E402  (needs the sys.path entry above)

TESTBED_TOOLS = ("nsd", "ldns-keygen", "ldns-signzone", "ldns-key2ds", "dig")


@pytest.fixture(scope="session", autouse=True)
def private_state_dir(tmp_path_factory):
    """zonecut keeps state (replay protection, journal) in a default store; tests
    never touch the machine's own (/var/lib/zonecut): ZC_STATE_DIR points it here."""
    d = tmp_path_factory.mktemp("zonecut-state")
    old = os.environ.get("ZC_STATE_DIR")
    os.environ["ZC_STATE_DIR"] = str(d)
    yield str(d)
    if old is None:
        os.environ.pop("ZC_STATE_DIR", None)
    else:
        os.environ["ZC_STATE_DIR"] = old


def _find_tool(name):
    return shutil.which(name) or next(
        (os.path.join(d, name) for d in ("/usr/sbin", "/sbin")
         if os.path.exists(os.path.join(d, name))), None)


def testbed_skip_reason():
    """Why the testbed cannot run here, or None."""
    if os.geteuid() != 0:
        return "the testbed needs root (NSD binds port 53 on 127.x.y.z)"
    missing = [t for t in TESTBED_TOOLS if not _find_tool(t)]
    if missing:
        return "testbed tools missing: %s (apt-get install nsd ldnsutils bind9-dnsutils)" \
            % " ".join(missing)
    return None


def _factory(tmp_path_factory):
    """Start testbeds on demand; the same scenario is started only once.
    Returns (factory, started) where started maps cache keys to testbeds."""
    reason = testbed_skip_reason()
    if reason:
        pytest.skip(reason)
    started = {}

    def start(scenario="basic", base=None, resolver=False):
        key = scenario if isinstance(scenario, str) else json.dumps(scenario, sort_keys=True)
        tb = started.get(key)
        if tb is None:
            label = scenario if isinstance(scenario, str) else scenario.get("name", "scenario")
            workdir = tmp_path_factory.mktemp("testbed-%s" % os.path.basename(str(label)))
            tb = _testbed.Testbed(scenario, str(workdir), base=base)
            tb.start()
            started[key] = tb
        if resolver:
            tb.resolver()
        return tb

    return start, started


@pytest.fixture(scope="session")
def requires_testbed():
    """Skip the test (with the reason) where the testbed cannot run."""
    reason = testbed_skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def testbed(tmp_path_factory):
    """Factory fixture: testbed("basic"), testbed("demo"), testbed("path.json")
    or testbed({...scenario dict...}) gives a started testbed.Testbed; every
    testbed started through it is stopped when the test module ends."""
    start, started = _factory(tmp_path_factory)
    yield start
    for tb in started.values():
        tb.stop()


@pytest.fixture(scope="session")
def session_testbed(tmp_path_factory):
    """Like testbed, but the testbeds live for the whole test session (for
    read-only use by several modules)."""
    start, started = _factory(tmp_path_factory)
    yield start
    for tb in started.values():
        tb.stop()


@pytest.fixture(scope="session")
def zonecut():
    """Path of the built zonecut binary: $ZONECUT_BIN, else <repo>/build/zonecut."""
    path = os.environ.get("ZONECUT_BIN") or os.path.join(REPO, "build", "zonecut")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip("zonecut binary not found at %s (build it, or set ZONECUT_BIN)" % path)
    return path
