#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# The keys-command of a Knot signer for the rollover tests: what an operator's
# script does at a provider running Knot with a policy in `manual: on` mode
# (Knot makes and rolls no key by itself; keymgr sets each key's timestamps and
# `knotc zone-keys-load` makes Knot apply them at once).
#
#   knot_keys.py KNOTDIR ZONE publish  zsk|ksk|csk [OLDTAG...]
#   knot_keys.py KNOTDIR ZONE activate zsk|ksk|csk NEWTAG OLDTAG...
#   knot_keys.py KNOTDIR ZONE remove   zsk|ksk|csk OLDTAG...
#
# publish: a new key of the role, published, not signing (active far ahead);
# activate: the new key signs from now on, the old ones retire (Knot keeps a
# retired ZSK published and drops a retired KSK or CSK at once); remove: the old
# keys go. Each action is idempotent (the controller may run it again after a
# crash): publish makes no second successor. Each run is appended to
# KNOTDIR/keys-command.log. Exit status 0 when keymgr and knotc said yes; the
# controller checks the effect itself.

import os
import shutil
import subprocess
import sys
import time


def tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        sys.stderr.write("%s: %s%s\n" % (" ".join(args[:4]), r.stdout, r.stderr))
        sys.exit(1)
    return r.stdout


def main():
    if len(sys.argv) < 5:
        sys.stderr.write("usage: knot_keys.py KNOTDIR ZONE ACTION ROLE [TAG...]\n")
        return 2
    kdir, zone, action, role, tags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], \
        sys.argv[5:]
    conf = os.path.join(kdir, "knot.conf")
    with open(os.path.join(kdir, "keys-command.log"), "a") as f:
        f.write(" ".join(sys.argv[2:]) + "\n")

    def keymgr(*a):
        return run(tool("keymgr"), "-c", conf, zone, *a)

    now = int(time.time())
    if action == "publish":
        flags = {"zsk": ["ksk=no", "zsk=yes"], "ksk": ["ksk=yes", "zsk=no"],
                 "csk": ["ksk=yes", "zsk=yes"]}[role]
        # idempotent: a successor published and not active yet is the one asked for
        for line in keymgr("list", "-e").splitlines():
            f = dict(x.split("=", 1) for x in line.split() if "=" in x)
            if all(f.get(k) == v for k, v in (x.split("=") for x in flags)) and \
                    int(f.get("active", 0)) > now and int(f.get("remove", 0)) == 0:
                break
        else:
            # a KSK or CSK is also "ready" (waiting for its DS): Knot filters the
            # CDS and CDNSKEY of its own keys, and keeps only those of ready or
            # active ones -- the controller's CDS for the new key would be ignored
            ready = ["ready=%d" % now] if role != "zsk" else []
            keymgr("generate", *flags, "publish=%d" % now, *ready,
                   "active=%d" % (now + 10 * 365 * 86400))
    elif action == "activate":
        if len(tags) < 2:
            sys.stderr.write("activate needs NEWTAG OLDTAG...\n")
            return 2
        keymgr("set", tags[0], "active=%d" % now)
        for t in tags[1:]:
            keymgr("set", t, "retire=%d" % now)
    elif action == "remove":
        for t in tags:
            keymgr("set", t, "remove=%d" % now)
    else:
        sys.stderr.write("unknown action %s\n" % action)
        return 2
    run(tool("knotc"), "-s", os.path.join(kdir, "knot.sock"), "zone-keys-load", zone)
    return 0


if __name__ == "__main__":
    sys.exit(main())
