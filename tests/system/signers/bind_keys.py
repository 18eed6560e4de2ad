#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# The keys-command of a BIND 9.18 signer for the rollover tests: what an
# operator's script does at a provider running BIND with `auto-dnssec maintain`
# (BIND follows the timing metadata of the key files; dnssec-policy would roll
# on its own schedule instead). ZSKs and KSKs.
#
#   bind_keys.py BINDDIR ZONE publish  zsk|ksk [OLDTAG...]
#   bind_keys.py BINDDIR ZONE activate zsk|ksk NEWTAG OLDTAG...
#   bind_keys.py BINDDIR ZONE remove   zsk|ksk OLDTAG...
#
# publish: dnssec-keygen -P now -A none (published, never active yet; a KSK
# also with its CDS/CDNSKEY published: -P sync now), unless such a successor
# exists already (idempotent); activate: the new key active now, the old
# inactive (a KSK: and its CDS/CDNSKEY withdrawn, -D sync), `rndc loadkeys`,
# then for a ZSK `rndc sign`: without it BIND signs only the SOA with the new
# key and the rest when the old key is deleted; remove: the old key deleted
# now. Each run is appended to BINDDIR/keys-command.log.

import glob
import os
import shutil
import subprocess
import sys


def tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        sys.stderr.write("%s: %s%s\n" % (" ".join(args[:3]), r.stdout, r.stderr))
        sys.exit(1)
    return r.stdout


def key_file(kdir, zone, tag):
    """The key file name (without .key) of key @tag."""
    found = glob.glob(os.path.join(kdir, "K%s+*+%05d.key" % (zone, int(tag))))
    if len(found) != 1:
        sys.stderr.write("no key file for tag %s in %s\n" % (tag, kdir))
        sys.exit(1)
    return found[0][:-4]


def successor(kdir, zone, flags_wanted):
    """A key published and never activated (a successor from an earlier run)."""
    for path in glob.glob(os.path.join(kdir, "K%s+*.key" % zone)):
        with open(path) as f:
            text = f.read()
        rr = [x for x in text.splitlines() if x and not x.startswith(";")][0].split()
        flags = rr[rr.index("DNSKEY") + 1]
        if flags == flags_wanted and "; Activate:" not in text and "; Delete:" not in text:
            return path
    return None


def main():
    if len(sys.argv) < 5:
        sys.stderr.write("usage: bind_keys.py BINDDIR ZONE ACTION ROLE [TAG...]\n")
        return 2
    bdir, zone, action, role, tags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], \
        sys.argv[5:]
    with open(os.path.join(bdir, "keys-command.log"), "a") as f:
        f.write(" ".join(sys.argv[2:]) + "\n")
    if role not in ("zsk", "ksk"):
        sys.stderr.write("bind_keys.py rolls ZSKs and KSKs\n")
        return 2
    ksk = role == "ksk"
    kdir, rndc = os.path.join(bdir, "keys"), [tool("rndc"), "-c", os.path.join(bdir, "rndc.conf")]
    name = zone.rstrip(".")
    if action == "publish":
        if not successor(kdir, zone, "257" if ksk else "256"):
            run(tool("dnssec-keygen"), "-q", "-K", kdir, "-a", "ECDSAP256SHA256", "-L", "3",
                "-P", "now", "-A", "none", *(["-f", "KSK", "-P", "sync", "now"] if ksk else []),
                zone)
        run(*rndc, "loadkeys", name)
    elif action == "activate":
        if len(tags) < 2:
            sys.stderr.write("activate needs NEWTAG OLDTAG...\n")
            return 2
        run(tool("dnssec-settime"), "-K", kdir, "-A", "now", key_file(kdir, zone, tags[0]))
        for t in tags[1:]:
            run(tool("dnssec-settime"), "-K", kdir, "-I", "now",
                *(["-D", "sync", "now"] if ksk else []), key_file(kdir, zone, t))
        run(*rndc, "loadkeys", name)
        if not ksk:
            run(*rndc, "sign", name)
    elif action == "remove":
        for t in tags:
            run(tool("dnssec-settime"), "-K", kdir, "-D", "now", key_file(kdir, zone, t))
        run(*rndc, "loadkeys", name)
    else:
        sys.stderr.write("unknown action %s\n" % action)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
