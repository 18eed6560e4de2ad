# SPDX-License-Identifier: MIT
#
# Small helpers for the testbed self-tests: run dig and read its header
# flags, status and answer section (dig's text output is stable enough for
# our own test servers; zonecut's tests read zonecut's JSON instead).

import re
import subprocess


class DigResult:
    """Status, header flags and answer records of one dig run."""

    def __init__(self, text):
        self.text = text
        m = re.search(r"status: ([A-Z]+)", text)
        self.status = m.group(1) if m else None
        m = re.search(r";; flags:([a-z ]*);", text)
        self.flags = set(m.group(1).split()) if m else set()
        self.answer = []
        section = None
        for line in text.splitlines():
            if line.startswith(";; ") and line.endswith("SECTION:"):
                section = line[3:].split()[0]
                continue
            if not line.strip():
                section = None
                continue
            if section == "ANSWER" and not line.startswith(";"):
                owner, ttl, cls, rtype, rdata = line.split(None, 4)
                self.answer.append((owner.lower(), int(ttl), rtype, rdata))

    def rdatas(self, rtype):
        """Normalised rdata (see norm) of the answer records of one type."""
        return sorted(norm(r[3], rtype) for r in self.answer if r[2] == rtype)

    def __repr__(self):
        return "<dig %s %s>\n%s" % (self.status, sorted(self.flags), self.text)


def dig(*args, timeout=3):
    """Run dig with one try; returns a DigResult."""
    cmd = ["dig", "+time=%d" % timeout, "+tries=1", "+nocmd", "+nomulti"] + list(args)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=30)
    return DigResult(res.stdout)


# Number of leading fields before the hex or base64 blob that dig splits
# into chunks: DS/CDS digest, DNSKEY/CDNSKEY key, RRSIG signature.
BLOB_AT = {"DS": 3, "CDS": 3, "DNSKEY": 3, "CDNSKEY": 3, "RRSIG": 8}


def norm(rdata, rtype=None):
    """Presentation rdata in one canonical spelling: lower case, single
    spaces, the trailing hex/base64 blob joined into one token."""
    toks = rdata.split()
    at = BLOB_AT.get((rtype or "").upper())
    if at is not None and len(toks) > at:
        toks = toks[:at] + ["".join(toks[at:])]
    return " ".join(toks).lower()
