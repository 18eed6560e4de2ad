# SPDX-License-Identifier: MIT
#
# A small, fast DNSSEC zone signer for the benchmark workloads (bench/ only).
#
# The testbed signs each zone with ldns-signzone, one process per zone: right for a
# few dozen zones, far too slow for 100,000. This module builds zones in memory and
# signs them in-process with ECDSA P-256 / SHA-256 (algorithm 13, RFC 6605) through
# the `cryptography` package (Debian: python3-cryptography): canonical RR order and
# wire form (RFC 4034 section 6), RRSIG over the RRSIG rdata plus the RRset
# (section 3.1.8.1), an NSEC chain in canonical name order (section 6.1), DS and
# key tags (section 5.1.4, appendix B). The output is zone-file text that NSD loads.
#
# Only what the workloads need: the types A, AAAA, NS, SOA, TXT, DNSKEY, CDNSKEY,
# DS, CDS, NSEC, RRSIG; absolute names; no wildcards, no NSEC3.

import base64
import hashlib
import ipaddress
import os
import struct
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

A, NS, SOA, TXT, AAAA, DS, RRSIG, NSEC, DNSKEY, CDS, CDNSKEY = \
    1, 2, 6, 16, 28, 43, 46, 47, 48, 59, 60
TYPE_NAMES = {A: "A", NS: "NS", SOA: "SOA", TXT: "TXT", AAAA: "AAAA", DS: "DS",
              RRSIG: "RRSIG", NSEC: "NSEC", DNSKEY: "DNSKEY", CDS: "CDS",
              CDNSKEY: "CDNSKEY"}
ALG_ECDSAP256SHA256 = 13


def fqdn(name):
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def labels(name):
    """Labels of an absolute name, leftmost first, without the root label."""
    name = fqdn(name)
    return [] if name == "." else name[:-1].split(".")


def name_wire(name):
    """Uncompressed, lower-case (canonical) wire form of an absolute name."""
    out = bytearray()
    for lab in labels(name):
        b = lab.encode("ascii")
        if not 0 < len(b) < 64:
            raise ValueError("bad label in %r" % name)
        out.append(len(b))
        out += b
    out.append(0)
    if len(out) > 255:
        raise ValueError("name too long: %r" % name)
    return bytes(out)


def canonical_key(name):
    """Sort key of RFC 4034 section 6.1: labels compared right to left, as bytes."""
    return tuple(lab.encode("ascii") for lab in reversed(labels(name)))


def is_at_or_below(name, zone):
    name, zone = fqdn(name), fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


def ts(t):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t))


def type_bitmap(types):
    """NSEC type bit maps (RFC 4034 section 4.1.2)."""
    windows = {}
    for t in types:
        windows.setdefault(t >> 8, set()).add(t & 0xFF)
    out = bytearray()
    for w in sorted(windows):
        bits = windows[w]
        n = max(bits) // 8 + 1
        bm = bytearray(n)
        for b in bits:
            bm[b // 8] |= 0x80 >> (b % 8)
        out += bytes([w, n]) + bm
    return bytes(out)


# --- keys --------------------------------------------------------------------


class Key:
    """An ECDSA P-256 DNSSEC key (flags 257: a CSK that signs everything)."""

    def __init__(self, priv, flags=257):
        self.priv = priv
        self.flags = flags
        nums = priv.public_key().public_numbers()
        self.pub = nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
        self.rdata = struct.pack("!HBB", flags, 3, ALG_ECDSAP256SHA256) + self.pub
        self.tag = key_tag(self.rdata)
        self.b64 = base64.b64encode(self.pub).decode()

    @classmethod
    def generate(cls, flags=257):
        return cls(ec.generate_private_key(ec.SECP256R1()), flags)

    @classmethod
    def load(cls, path, flags=257):
        with open(path, "rb") as f:
            return cls(serialization.load_pem_private_key(f.read(), None), flags)

    def save(self, path):
        pem = self.priv.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(pem)
        os.replace(tmp, path)

    def dnskey_text(self):
        return "%d 3 %d %s" % (self.flags, ALG_ECDSAP256SHA256, self.b64)

    def ds(self, owner, digest=2):
        """(rdata wire, "TAG ALG DT HEX" text) of the DS of this key at @owner."""
        h = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}[digest]
        d = h(name_wire(owner) + self.rdata).digest()
        wire = struct.pack("!HBB", self.tag, ALG_ECDSAP256SHA256, digest) + d
        return wire, "%d %d %d %s" % (self.tag, ALG_ECDSAP256SHA256, digest, d.hex().upper())

    def sign(self, data):
        r, s = decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def key_tag(rdata):
    """RFC 4034 appendix B."""
    acc = 0
    for i, b in enumerate(rdata):
        acc += b if i & 1 else b << 8
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def key_pool(directory, n):
    """@n keys, generated once and kept in @directory (reused by later runs)."""
    os.makedirs(directory, exist_ok=True)
    keys = []
    for i in range(n):
        p = os.path.join(directory, "k%03d.pem" % i)
        if os.path.exists(p):
            keys.append(Key.load(p))
        else:
            k = Key.generate()
            k.save(p)
            keys.append(k)
    return keys


# --- zones -------------------------------------------------------------------


class Zone:
    """Records by owner and type, each (ttl, rdata wire, rdata text); signs itself."""

    def __init__(self, origin, ttl=3600, negative_ttl=300):
        self.origin = fqdn(origin)
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.names = {}

    def add(self, owner, rtype, wire, text, ttl=None):
        owner = fqdn(owner)
        if not is_at_or_below(owner, self.origin):
            raise ValueError("%s outside %s" % (owner, self.origin))
        rrs = self.names.setdefault(owner, {}).setdefault(rtype, [])
        ttl = self.ttl if ttl is None else ttl
        if rrs and rrs[0][0] != ttl:
            ttl = rrs[0][0]  # one TTL per RRset
        if all(w != wire for _, w, _ in rrs):
            rrs.append((ttl, wire, text))

    # typed helpers
    def soa(self, mname, rname, serial=1, refresh=3600, retry=600, expire=86400, minimum=None):
        minimum = self.negative_ttl if minimum is None else minimum
        wire = name_wire(mname) + name_wire(rname) + struct.pack(
            "!IIIII", serial, refresh, retry, expire, minimum)
        self.add(self.origin, SOA, wire, "%s %s %d %d %d %d %d" % (
            fqdn(mname), fqdn(rname), serial, refresh, retry, expire, minimum))

    def ns(self, owner, target):
        self.add(owner, NS, name_wire(target), fqdn(target))

    def address(self, owner, addr):
        ip = ipaddress.ip_address(addr)
        self.add(owner, A if ip.version == 4 else AAAA, ip.packed, str(ip))

    def txt(self, owner, text):
        b = text.encode()
        self.add(owner, TXT, bytes([len(b)]) + b, '"%s"' % text)

    def dnskey(self, owner, key, rtype=DNSKEY):
        self.add(owner, rtype, key.rdata, key.dnskey_text())

    def ds(self, owner, key, digest=2, rtype=DS):
        wire, text = key.ds(owner, digest)
        self.add(owner, rtype, wire, text)

    def ds_rdata(self, owner, wire, text, rtype=DS):
        self.add(owner, rtype, wire, text)

    # structure
    def _cuts(self):
        return {n for n, t in self.names.items() if NS in t and n != self.origin}

    def _below_cut(self, name, cuts):
        n = name
        while n != self.origin:
            n = n.split(".", 1)[1] or "."
            if n in cuts:
                return True
        return False

    def sign(self, keys, inception, expiration, signers=None):
        """Adds an NSEC chain and RRSIGs. @keys are published as DNSKEY unless the
        zone already has a DNSKEY set; @signers maps a type to the keys that sign
        its RRset (default: every key in @keys)."""
        signers = signers or {}
        if DNSKEY not in self.names.get(self.origin, {}):
            for k in keys:
                self.dnskey(self.origin, k)
        cuts = self._cuts()
        auth = [n for n in self.names if not self._below_cut(n, cuts)]
        auth.sort(key=canonical_key)
        for i, n in enumerate(auth):
            nxt = auth[(i + 1) % len(auth)]
            types = set(self.names[n]) | {NSEC, RRSIG}
            bitmap = type_bitmap(sorted(types))
            text = "%s %s" % (nxt, " ".join(TYPE_NAMES[t] for t in sorted(types)))
            self.add(n, NSEC, name_wire(nxt) + bitmap, text, ttl=self.negative_ttl)
        sigs = []
        for n in auth:
            for t, rrs in self.names[n].items():
                if n in cuts and t not in (DS, NSEC):
                    continue
                for k in signers.get(t, keys):
                    sigs.append((n, rrsig(n, t, rrs, k, self.origin, inception, expiration)))
        for n, (ttl, wire, text) in sigs:
            self.names[n].setdefault(RRSIG, []).append((ttl, wire, text))

    def text(self):
        out = ["$ORIGIN .", "$TTL %d" % self.ttl]
        order = sorted(self.names, key=canonical_key)
        for n in order:
            types = self.names[n]
            # SOA first in the file (apex sorts first)
            for t in sorted(types, key=lambda t: (t != SOA, t)):
                for ttl, _, text in types[t]:
                    tn = TYPE_NAMES[t]
                    out.append("%s %d IN %s %s" % (n, ttl, tn, text))
        return "\n".join(out) + "\n"


def rrsig(owner, rtype, rrs, key, signer, inception, expiration):
    """(ttl, wire, text) of the RRSIG by @key over the RRset (owner, rtype, rrs)."""
    ttl = rrs[0][0]
    nlabels = len([x for x in labels(owner) if x != "*"])
    head = struct.pack("!HBBIIIH", rtype, ALG_ECDSAP256SHA256, nlabels, ttl, expiration,
                       inception, key.tag) + name_wire(signer)
    ow = name_wire(owner)
    data = bytearray(head)
    for w in sorted(w for _, w, _ in rrs):
        data += ow + struct.pack("!HHIH", rtype, 1, ttl, len(w)) + w
    sig = key.sign(bytes(data))
    text = "%s %d %d %d %s %s %d %s %s" % (
        TYPE_NAMES[rtype], ALG_ECDSAP256SHA256, nlabels, ttl, ts(expiration), ts(inception),
        key.tag, fqdn(signer), base64.b64encode(sig).decode())
    return ttl, head + sig, text
