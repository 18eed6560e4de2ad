#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Registry-scale workloads for `zonecut scan`, generated (never downloaded) and
# served by real NSD processes on loopback.
#
#   workload.py gen  --kind w1 --n 100000 --dir DIR   build (or reuse) a workload
#   workload.py up   --dir DIR                        start its servers
#   workload.py down --dir DIR                        stop them
#
# Shape (see BENCHMARKS.md): a parent zone `example.` whose N children are delegated
# to two DNS providers, p1.test. and p2.test., each with two nameserver hosts
# (ns1, ns2) on one loopback address each: four provider NSD processes, each
# serving every child of its provider, plus a root server and a `test.` server so
# that the nameserver names resolve and RFC 9615 signals validate from a trust
# anchor. The parent zone file holds NS (in a random order per child) and DS; no
# glue, so zonecut resolves the four nameserver hosts once through its resolver.
#
# Categories (W1): 90 % publish nothing (half signed with a DS, half unsigned),
# 5 % CDS/CDNSKEY equal to their DS, 3 % a valid rollover (new key double-signing),
# 1 % a valid RFC 9615 bootstrap (signals at both nameservers), 1 % wrong, in turns:
# inconsistent between the nameservers, forged (signed by a key the DS does not
# name), unsigned, a bootstrap without signals, CDS and CDNSKEY that disagree.
# W2: 99 % nothing, the other 1 % in the same proportions as W1's publishers.
#
# "--none names" (the W2 default) serves the children that publish nothing not as
# zones of their own but as names in one zone `example.` on their provider's
# servers: the provider answers the scan's CDS/CDNSKEY questions for them with the
# same authoritative NOERROR/NODATA it would give from the child zone (one SOA in
# the authority section), and a million children cost NSD one zone, not a million.
#
# Every child's expected decision is written to expect.tsv.

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnssec  # noqa: E402

SCHEMA = "zonecut.bench.workload.v1"
PARENT = "example."
PROVIDERS = ("p1.test.", "p2.test.")
KEY_POOL = 16
VALIDITY_DAYS = 30
RATIOS = {
    "w1": (("none", 0.90), ("equal", 0.05), ("rollover", 0.03), ("bootstrap", 0.01),
           ("wrong", 0.01)),
    "w2": (("none", 0.99), ("equal", 0.005), ("rollover", 0.003), ("bootstrap", 0.001),
           ("wrong", 0.001)),
}
WRONG_KINDS = ("inconsistent", "forged", "unsigned", "nosignal", "mismatch")
# What zonecut must decide (result, mode, the reason a rejection must carry).
EXPECT = {
    "none": ("no-cds", None, None),
    "equal": ("unchanged", None, None),
    "rollover": ("update", "rollover", None),
    "bootstrap": ("update", "bootstrap", None),
    "inconsistent": ("rejected", None, "ns-inconsistent"),
    "forged": ("rejected", None, "not-signed-by-ds-key"),
    "unsigned": ("rejected", None, "not-signed-by-ds-key"),
    "nosignal": ("rejected", None, "bootstrap-signal-missing"),
    "mismatch": ("rejected", None, "cds-cdnskey-mismatch"),
}


class WorkloadError(Exception):
    pass


def child_name(i):
    return "c%07d.%s" % (i, PARENT)


def addresses(base, nprov=len(PROVIDERS)):
    """Server addresses of the block 127.A: root .0.1, test. .0.2, provider j ns1
    .j.1 and ns2 .j.2."""
    a = {"root": base + ".0.1", "tld": base + ".0.2"}
    for j, p in enumerate(PROVIDERS[:nprov], start=1):
        a["ns1." + p] = "%s.%d.1" % (base, j)
        a["ns2." + p] = "%s.%d.2" % (base, j)
    return a


def categories(kind, n, seed):
    """The category of every child index, shuffled deterministically."""
    counts = [(c, int(round(n * r))) for c, r in RATIOS[kind] if c != "none"]
    cats = []
    for c, k in counts:
        if c == "wrong":
            cats += [WRONG_KINDS[i % len(WRONG_KINDS)] for i in range(k)]
        else:
            cats += [c] * k
    cats = cats[:n]
    cats += ["none"] * (n - len(cats))
    random.Random(seed).shuffle(cats)
    return cats


# --- per-child content ---------------------------------------------------------


def child_plan(i, cat, seed, nprov):
    """Everything about child i that the workers and the main process both need."""
    rnd = random.Random("%d/%d" % (seed, i))
    prov = PROVIDERS[i % nprov]
    ns = ["ns1." + prov, "ns2." + prov]
    rnd.shuffle(ns)
    k1, k2, k3 = i % KEY_POOL, (i + 1) % KEY_POOL, (i + 2) % KEY_POOL
    signed_none = cat == "none" and rnd.random() < 0.5
    return {"i": i, "name": child_name(i), "cat": cat, "prov": prov, "ns": ns,
            "k": (k1, k2, k3), "signed_none": signed_none}


def parent_ds(plan, keys):
    """DS rdata texts the parent holds for the child."""
    k1 = keys[plan["k"][0]]
    cat = plan["cat"]
    if cat in ("bootstrap", "nosignal") or (cat == "none" and not plan["signed_none"]):
        return []
    return [k1.ds(plan["name"])[1]]


def expected(plan, keys):
    """(result, mode, ds_new list or None, reason) for expect.tsv."""
    name, cat = plan["name"], plan["cat"]
    k1, k2, _ = (keys[x] for x in plan["k"])
    result, mode, reason = EXPECT[cat]
    ds_new = None
    if cat == "equal" or cat == "bootstrap":
        ds_new = [k1.ds(name)[1]]
    elif cat == "rollover":
        ds_new = [k2.ds(name)[1]]
    return result, mode, ds_new, reason


def child_zones(plan, keys, inception, expiration):
    """{variant: zone text}: "main" for every server of the provider, and "alt"
    (served by ns2) where the nameservers must disagree. None: no zone."""
    name, cat = plan["name"], plan["cat"]
    k1, k2, k3 = (keys[x] for x in plan["k"])
    prov = plan["prov"]

    def base():
        z = dnssec.Zone(name)
        z.soa("ns1." + prov, "hostmaster." + prov, serial=2024010101)
        for h in ("ns1." + prov, "ns2." + prov):
            z.ns(name, h)
        return z

    def publish(z, cds_key, cdnskey_key=None):
        z.ds(name, cds_key, rtype=dnssec.CDS)
        z.dnskey(name, cdnskey_key or cds_key, rtype=dnssec.CDNSKEY)

    if cat == "none":
        if not plan["signed_none"]:
            return {"main": base().text()}
        z = base()
        z.sign([k1], inception, expiration)
        return {"main": z.text()}
    if cat in ("equal", "bootstrap", "nosignal"):
        z = base()
        publish(z, k1)
        z.sign([k1], inception, expiration)
        return {"main": z.text()}
    if cat == "rollover":
        z = base()
        publish(z, k2)
        z.sign([k1, k2], inception, expiration)
        return {"main": z.text()}
    if cat == "inconsistent":
        out = {}
        for v, k in (("main", k2), ("alt", k3)):
            z = base()
            publish(z, k)
            z.sign([k1, k], inception, expiration)
            out[v] = z.text()
        return out
    if cat == "forged":
        z = base()
        publish(z, k2)
        z.sign([k2], inception, expiration)
        return {"main": z.text()}
    if cat == "unsigned":
        z = base()
        z.dnskey(name, k2)
        publish(z, k2)
        return {"main": z.text()}
    if cat == "mismatch":
        z = base()
        publish(z, k2, k3)
        z.sign([k1, k2, k3], inception, expiration)
        return {"main": z.text()}
    raise ValueError(cat)


def zone_path(name, variant):
    """Relative path of a child zone file; 256 directories keep them small."""
    h = sum(name.encode()) & 0xFF
    return "zones/%02x/%s%s" % (h, name, "zone" if variant == "main" else "alt.zone")


# --- workers ----------------------------------------------------------------------

_W = {}


def _worker_init(directory, keydir, inception, expiration, none_zones):
    _W.update(dir=directory, keys=dnssec.key_pool(keydir, KEY_POOL), inception=inception,
              expiration=expiration, none_zones=none_zones)


def _worker(plans):
    """Writes the zone files of a chunk of children; returns nothing big."""
    written = []
    for p in plans:
        if p["cat"] == "none" and not _W["none_zones"]:
            continue
        for v, text in child_zones(p, _W["keys"], _W["inception"], _W["expiration"]).items():
            rel = zone_path(p["name"], v)
            with open(os.path.join(_W["dir"], rel), "w") as f:
                f.write(text)
            written.append((p["i"], v))
    return written


# --- the hierarchy ------------------------------------------------------------------


def hierarchy(addr, keys, child_keys, boot_plans, none_names, inception, expiration, serial):
    """Zone texts of ., test., the providers (with the RFC 9615 signals of the
    bootstrapping children) and, in names mode, each provider's `example.` zone."""
    zk = {z: keys[i] for i, z in enumerate([".", "test."] + list(PROVIDERS))}  # own keys
    zones = {}
    # providers
    for p in PROVIDERS:
        if "ns1." + p not in addr:
            continue
        z = dnssec.Zone(p)
        z.soa("ns1." + p, "hostmaster." + p, serial=serial)
        for h in ("ns1." + p, "ns2." + p):
            z.ns(p, h)
            z.address(h, addr[h])
        for plan in boot_plans:
            if plan["prov"] != p:
                continue
            k = child_keys[plan["k"][0]]
            for h in plan["ns"]:
                owner = "_dsboot.%s_signal.%s" % (plan["name"], h)
                # the same CDS as at the child's apex: its digest covers the child name
                wire, text = k.ds(plan["name"])
                z.ds_rdata(owner, wire, text, rtype=dnssec.CDS)
                z.dnskey(owner, k, rtype=dnssec.CDNSKEY)
        z.sign([zk[p]], inception, expiration)
        zones[p] = z
    # test.
    z = dnssec.Zone("test.")
    z.soa("ns.nic.test.", "hostmaster.nic.test.", serial=serial)
    z.ns("test.", "ns.nic.test.")
    z.address("ns.nic.test.", addr["tld"])
    for p in zones:
        for h in ("ns1." + p, "ns2." + p):
            z.ns(p, h)
            z.address(h, addr[h])
        z.ds(p, zk[p])
    z.sign([zk["test."]], inception, expiration)
    zones["test."] = z
    # root
    z = dnssec.Zone(".")
    z.soa("a.root-servers.net.", "hostmaster.root-servers.net.", serial=serial)
    z.ns(".", "a.root-servers.net.")
    z.address("a.root-servers.net.", addr["root"])
    z.ns("test.", "ns.nic.test.")
    z.address("ns.nic.test.", addr["tld"])
    z.ds("test.", zk["test."])
    z.sign([zk["."]], inception, expiration)
    zones["."] = z
    texts = {n: z.text() for n, z in zones.items()}
    # names mode: one unsigned `example.` per provider holding its quiet children
    for p, names in none_names.items():
        lines = ["$ORIGIN .", "$TTL 3600",
                 "%s 3600 IN SOA ns1.%s hostmaster.%s %d 3600 600 86400 300"
                 % (PARENT, p, p, serial),
                 "%s 3600 IN NS ns1.%s" % (PARENT, p), "%s 3600 IN NS ns2.%s" % (PARENT, p)]
        lines += ["%s 3600 IN A 192.0.2.1" % n for n in names]
        texts["%s@%s" % (PARENT, p)] = "\n".join(lines) + "\n"
    return texts, zk["."].ds(".")[1]


# --- generation ---------------------------------------------------------------------


def _params(kind, n, seed, base, none_mode):
    return {"kind": kind, "n": n, "seed": seed, "base": base, "none": none_mode,
            "providers": len(PROVIDERS), "generator": 1}


def load(directory):
    with open(os.path.join(directory, "workload.json")) as f:
        return json.load(f)


def generate(directory, kind="w1", n=100000, seed=1, base="127.9", none_mode=None,
             keydir=None, jobs=None, log=print, force=False):
    """Builds the workload in @directory unless an identical one with enough
    signature validity is there. Returns the workload description (workload.json)."""
    none_mode = none_mode or ("names" if kind == "w2" else "zones")
    params = _params(kind, n, seed, base, none_mode)
    meta = os.path.join(directory, "workload.json")
    if not force and os.path.exists(meta):
        w = load(directory)
        if w.get("params") == params and w.get("expiration", 0) > time.time() + 3 * 86400:
            log("workload %s: reusing (%d delegations)" % (directory, n))
            return w
    t0 = time.monotonic()
    if os.path.exists(directory):
        if os.path.exists(os.path.join(directory, "run.json")):
            down(directory)
        for sub in ("zones", "servers", "queries", "hierarchy"):
            shutil.rmtree(os.path.join(directory, sub), ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    for h in range(256):
        os.makedirs(os.path.join(directory, "zones", "%02x" % h), exist_ok=True)
    os.makedirs(os.path.join(directory, "hierarchy"), exist_ok=True)
    keydir = keydir or os.path.join(directory, "keys")
    keys = dnssec.key_pool(keydir, KEY_POOL)
    now = int(time.time())
    inception, expiration = now - 3600, now + VALIDITY_DAYS * 86400
    addr = addresses(base)
    cats = categories(kind, n, seed)
    plans = [child_plan(i, c, seed, len(PROVIDERS)) for i, c in enumerate(cats)]

    # zone files, in parallel
    jobs = jobs or os.cpu_count() or 1
    chunk = 2000
    chunks = [plans[i:i + chunk] for i in range(0, n, chunk)]
    written = []
    if jobs > 1 and len(chunks) > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs, _worker_init, (directory, keydir, inception, expiration,
                                           none_mode == "zones")) as pool:
            for w in pool.imap_unordered(_worker, chunks):
                written += w
    else:
        _worker_init(directory, keydir, inception, expiration, none_mode == "zones")
        for c in chunks:
            written += _worker(c)
    variants = {}
    for i, v in written:
        variants.setdefault(i, []).append(v)
    t_zones = time.monotonic() - t0

    # hierarchy and, in names mode, the quiet children as names
    boot = [p for p in plans if p["cat"] == "bootstrap"]
    none_names = {}
    if none_mode == "names":
        for p in plans:
            if p["cat"] == "none":
                none_names.setdefault(p["prov"], []).append(p["name"])
    hkeys = dnssec.key_pool(os.path.join(keydir, "hierarchy"), 2 + len(PROVIDERS))
    texts, root_ds = hierarchy(addr, hkeys, keys, boot, none_names, inception, expiration,
                               2024010101)
    hier_files = {}
    for zname, text in texts.items():
        rel = "hierarchy/%s.zone" % zname.replace("@", "_at_").rstrip(".").replace("/", "_") \
            if zname != "." else "hierarchy/root.zone"
        with open(os.path.join(directory, rel), "w") as f:
            f.write(text)
        hier_files[zname] = rel
    with open(os.path.join(directory, "root.hints"), "w") as f:
        f.write(".\t3600000\tIN\tNS\ta.root-servers.net.\n"
                "a.root-servers.net.\t3600000\tIN\tA\t%s\n" % addr["root"])
    with open(os.path.join(directory, "trust-anchor.ds"), "w") as f:
        f.write(".\t3600\tIN\tDS\t%s\n" % root_ds)

    # parent zone, rollover subset, expectations, dnsperf query files
    parent = open(os.path.join(directory, "parent.zone"), "w")
    roll = open(os.path.join(directory, "parent-rollover.zone"), "w")
    head = ["$TTL 3600",
            "%s 3600 IN SOA ns.nic.test. hostmaster.nic.test. 2024010101 3600 600 86400 300"
            % PARENT, "%s 3600 IN NS ns.nic.test." % PARENT]
    parent.write("\n".join(head) + "\n")
    roll.write("\n".join(head) + "\n")
    expect = open(os.path.join(directory, "expect.tsv"), "w")
    expect.write("# child\tcategory\tresult\tmode\tds_new\treason\n")
    queries = {a: [] for h, a in addr.items() if h.startswith("ns")}
    counts = {}
    nq = 0
    for p in plans:
        name = p["name"]
        cat = p["cat"]
        counts[cat] = counts.get(cat, 0) + 1
        lines = ["%s 3600 IN NS %s" % (name, h) for h in p["ns"]]
        lines += ["%s 3600 IN DS %s" % (name, d) for d in parent_ds(p, keys)]
        parent.write("\n".join(lines) + "\n")
        if cat == "rollover":
            roll.write("\n".join(lines) + "\n")
        result, mode, ds_new, reason = expected(p, keys)
        expect.write("%s\t%s\t%s\t%s\t%s\t%s\n" % (
            name, cat, result, mode or "-", ",".join(sorted(ds_new)) if ds_new is not None
            else "-", reason or "-"))
        # the questions the funnel asks: CDS and CDNSKEY at the first address; for a
        # child that publishes, DNSKEY there and all three at the other address
        first, second = addr[p["ns"][0]], addr[p["ns"][1]]
        queries[first] += ["%s CDS" % name, "%s CDNSKEY" % name]
        nq += 2
        if cat != "none":
            queries[first].append("%s DNSKEY" % name)
            queries[second] += ["%s CDS" % name, "%s CDNSKEY" % name, "%s DNSKEY" % name]
            nq += 4
    parent.close()
    roll.close()
    expect.close()
    os.makedirs(os.path.join(directory, "queries"), exist_ok=True)
    for a, q in queries.items():
        # dnsperf reads the file in order and loops: shuffle so that no server sees
        # all of one kind at once
        random.Random(seed).shuffle(q)
        with open(os.path.join(directory, "queries", a + ".txt"), "w") as f:
            f.write("\n".join(q) + "\n")

    # NSD configurations
    servers = {}
    server_zones = {addr["root"]: {".": hier_files["."]},
                    addr["tld"]: {"test.": hier_files["test."]}}
    for p in PROVIDERS:
        for h in ("ns1." + p, "ns2." + p):
            a = addr[h]
            zl = {p: hier_files[p]}
            if none_mode == "names":
                zl[PARENT] = hier_files["%s@%s" % (PARENT, p)]
            server_zones[a] = zl
    for plan in plans:
        vs = variants.get(plan["i"])
        if not vs:
            continue
        for h in ("ns1." + plan["prov"], "ns2." + plan["prov"]):
            v = "alt" if (h.startswith("ns2.") and "alt" in vs) else "main"
            server_zones[addr[h]][plan["name"]] = zone_path(plan["name"], v)
    for a, zl in server_zones.items():
        sdir = os.path.join(directory, "servers", a)
        os.makedirs(sdir, exist_ok=True)
        conf = os.path.join(sdir, "nsd.conf")
        with open(conf, "w") as f:
            f.write("# generated by bench/workload.py\nserver:\n")
            for k, v in (("ip-address", a), ("port", "53"), ("database", '""'),
                         ("username", '""'), ("chroot", '""'),
                         ("zonesdir", '"%s"' % os.path.abspath(directory)),
                         ("pidfile", '"%s/nsd.pid"' % sdir),
                         ("xfrdfile", '"%s/xfrd.state"' % sdir),
                         ("zonelistfile", '"%s/zone.list"' % sdir),
                         ("xfrdir", '"%s"' % sdir), ("logfile", '"%s/nsd.log"' % sdir),
                         ("server-count", "1"), ("verbosity", "1"),
                         ("hide-version", "yes"), ("refuse-any", "no"),
                         ("tcp-count", "200"),
                         # response rate limiting would drop and truncate a load test
                         ("rrl-ratelimit", "0"), ("rrl-whitelist-ratelimit", "0")):
                f.write("\t%s: %s\n" % (k, v))
            f.write("remote-control:\n\tcontrol-enable: no\n")
            for zname, rel in zl.items():
                f.write('zone:\n\tname: "%s"\n\tzonefile: "%s"\n' % (zname, rel))
        servers[a] = {"conf": conf, "log": os.path.join(sdir, "nsd.log"),
                      "zones": len(zl), "probe": sorted(zl)[-1]}

    w = {"schema": SCHEMA, "params": params, "dir": os.path.abspath(directory),
         "created": now, "inception": inception, "expiration": expiration,
         "addresses": addr, "servers": servers, "counts": counts,
         "queries_per_pass": nq, "parent_zone": os.path.join(directory, "parent.zone"),
         "rollover_zone": os.path.join(directory, "parent-rollover.zone"),
         "expect": os.path.join(directory, "expect.tsv"),
         "root_hints": os.path.join(directory, "root.hints"),
         "trust_anchor": os.path.join(directory, "trust-anchor.ds"),
         "generation_s": round(time.monotonic() - t0, 1), "zones_s": round(t_zones, 1)}
    with open(meta + ".tmp", "w") as f:
        json.dump(w, f, indent=1)
    os.replace(meta + ".tmp", meta)
    log("workload %s: %d delegations generated in %.1fs (%s)" % (
        directory, n, time.monotonic() - t0,
        ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    return w


def read_expect(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            child, cat, result, mode, ds_new, reason = line.rstrip("\n").split("\t")
            out[child] = {"category": cat, "result": result,
                          "mode": None if mode == "-" else mode,
                          "ds_new": None if ds_new == "-" else
                          ([] if ds_new == "" else ds_new.split(",")),
                          "reason": None if reason == "-" else reason}
    return out


# --- servers --------------------------------------------------------------------------


def dns_query(addr, name, qtype, timeout=0.5):
    """(rcode, aa, ancount) of one UDP query, or None."""
    qid = random.randint(0, 0xFFFF)
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + dnssec.name_wire(name) + \
        struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (addr, 53))
        r, _ = s.recvfrom(65535)
    except OSError:
        return None
    finally:
        s.close()
    if len(r) < 12 or struct.unpack("!H", r[:2])[0] != qid:
        return None
    flags = struct.unpack("!H", r[2:4])[0]
    return flags & 0xF, bool(flags & 0x0400), struct.unpack("!H", r[6:8])[0]


def _group_alive(pgid):
    """Some process of the group (NSD's server and xfrd children) is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"nsd" in f.read()
    except OSError:
        return False


def _port_free(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((addr, 53))
        return True
    except OSError:
        return False
    finally:
        s.close()


def up(directory, timeout=120, log=print):
    """Starts one NSD per server address; returns {address: pid}."""
    w = load(directory)
    if os.path.exists(os.path.join(directory, "run.json")):
        down(directory)
    # NSD's own children may hold the port a moment after a stop
    deadline = time.monotonic() + 15
    busy = [a for a in w["servers"] if not _port_free(a)]
    while busy and time.monotonic() < deadline:
        time.sleep(0.2)
        busy = [a for a in busy if not _port_free(a)]
    if busy:
        raise WorkloadError("port 53 already in use on %s (another workload with the same "
                            "--base still running? workload.py down --dir ...)" % " ".join(busy))
    nsd = shutil.which("nsd") or "/usr/sbin/nsd"
    pids = {}
    state = os.path.join(directory, "run.json")
    t0 = time.monotonic()
    for a, s in w["servers"].items():
        for f in ("zone.list", "xfrd.state"):
            try:
                os.unlink(os.path.join(os.path.dirname(s["conf"]), f))
            except FileNotFoundError:
                pass
        with open(s["log"], "ab") as out:
            p = subprocess.Popen([nsd, "-d", "-c", s["conf"]], stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
        pids[a] = p.pid
        with open(state, "w") as f:
            json.dump({"pids": pids}, f)
    deadline = time.monotonic() + timeout
    pending = dict(w["servers"])
    while pending:
        for a, s in list(pending.items()):
            if not _alive(pids[a]):
                down(directory)
                raise WorkloadError("nsd on %s exited; see %s" % (a, s["log"]))
            r = dns_query(a, s["probe"], dnssec.SOA, timeout=0.3)
            if r and r[0] == 0 and r[1]:
                del pending[a]
        if pending:
            if time.monotonic() > deadline:
                down(directory)
                raise WorkloadError("servers %s not ready after %ds" % (
                    ", ".join(pending), timeout))
            time.sleep(0.2)
    log("servers up in %.1fs: %s" % (time.monotonic() - t0, " ".join(sorted(pids))))
    return pids


def server_pids(directory):
    try:
        with open(os.path.join(directory, "run.json")) as f:
            return json.load(f)["pids"]
    except (OSError, ValueError, KeyError):
        return {}


def down(directory):
    """Stops the servers this workload started (by their process groups)."""
    pids = server_pids(directory)
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 3.0)):
        live = []
        for pid in pids.values():
            if _alive(pid):
                try:
                    os.killpg(pid, sig)  # new session: pid == pgid
                    live.append(pid)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + wait
        while live and time.monotonic() < deadline:
            live = [p for p in live if _alive(p) or _group_alive(p)]
            if live:
                time.sleep(0.1)
        if not live:
            break
    try:
        os.unlink(os.path.join(directory, "run.json"))
    except FileNotFoundError:
        pass


def main():
    ap = argparse.ArgumentParser(description="registry-scale workloads for zonecut scan")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--kind", choices=sorted(RATIOS), default="w1")
    g.add_argument("--n", type=int, default=100000)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--base", default="127.9", help="loopback block 127.A")
    g.add_argument("--none", choices=("zones", "names"))
    g.add_argument("--dir", required=True)
    g.add_argument("--force", action="store_true")
    for c in ("up", "down"):
        sub.add_parser(c).add_argument("--dir", required=True)
    a = ap.parse_args()
    try:
        if a.cmd == "gen":
            generate(a.dir, a.kind, a.n, a.seed, a.base, a.none, force=a.force)
        elif a.cmd == "up":
            up(a.dir)
        else:
            down(a.dir)
    except WorkloadError as e:
        print("workload: %s" % e, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
