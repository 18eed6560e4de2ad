# SPDX-License-Identifier: MIT
#
# The probe of the join/leave/kill tests is not blind: adding a signer the naive
# way -- its NS at the parent and in the apex right away, without exchanging
# keys first -- makes the same probe see failures (bogus answers through the
# validating resolver, or data of one signer that does not validate with the
# other's DNSKEY set). This is what `zonecut signers join` avoids.

import os
import time

import pytest

import signerlab as L

pytestmark = pytest.mark.usefixtures("lab_ok")


@pytest.fixture(scope="module")
def lab(workdir):
    lab = L.Lab(workdir, ttl=3)
    yield from lab.running()


def test_naive_add_is_caught_by_the_probe(lab):
    knot = lab.signers["knot"]
    probe = L.Probe(lab)
    probe.start()
    try:
        time.sleep(2)
        assert probe.failures == [], probe.failures[:5]
        # BIND's NS at the parent and at Knot's apex, no key exchange
        import dns.query
        import dns.tsigkeyring
        import dns.update
        keyring = dns.tsigkeyring.from_text({L.TSIG_NAME: knot.secret})
        u = dns.update.UpdateMessage(L.CHILD, keyring=keyring, keyalgorithm="hmac-sha256")
        u.add(L.CHILD, 3, "NS", "ns1.bind.example.")
        assert dns.query.tcp(u, knot.addr, timeout=5).rcode() == 0
        assert lab.parent.update_ns(["ns1.knot.example.", "ns1.bind.example."]) == 0
        deadline = time.time() + 20
        while time.time() < deadline and not probe.failures:
            time.sleep(0.5)
    finally:
        probe.stop()
    assert probe.failures, "the probe saw nothing wrong with a naive add"
    kinds = {f[1] for f in probe.failures}
    assert "direct" in kinds, probe.failures[:5]
