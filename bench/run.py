#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# zonecut registry-scale benchmark: generates the workloads (bench/workload.py),
# serves them with real NSD processes on loopback and runs, in one go:
#
#   W1 (N delegations, 90 % publishing nothing, 10 % CDS/CDNSKEY of every kind)
#     dnsperf      the servers' ceiling: one dnsperf per provider address, all at
#                  once, with exactly the questions zonecut asks (same names, types,
#                  DO bit), best of a few client settings
#     zonecut -C 1 the reference decisions
#     zonecut      default options, then raised per-server limits
#                  (delegations/s, queries/s, queries per delegation, CPU seconds per
#                  1,000 delegations, peak RSS; every decision compared with -C 1 and
#                  with what the generator expects)
#     rollover subset: zonecut against BIND's dnssec-cds fed by dig per zone (its
#                  documented pipeline), same DS results required
#     perf         where zonecut's time goes (perf record, call graphs)
#   W2 (N2 delegations, 99 % publishing nothing): peak RSS, rate, decisions
#
# and prints a Markdown table (also written to WORKDIR/results.md and .json).
#
#   bench/run.py [--n 100000] [--n2 1000000] [--workdir /var/tmp/zcbench]
#   bench/run.sh --quick            (N=5000, N2=20000, no profile: a smoke test)
#
# Needs root (NSD binds port 53 on 127.x), nsd, dnsperf, dig, dnssec-cds, perf
# (optional) and python3-cryptography.

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import workload  # noqa: E402

# "N delegations: <counts>; Q queries[, S signal queries]": Q are the delegations' own,
# S the RFC 9615 signal queries asked at the nameservers themselves
SUMMARY = re.compile(r"^(\d+) delegations: (.*); (\d+) queries(?:, (\d+) signal queries)?$",
                     re.M)


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def which(tool):
    return shutil.which(tool) or next((p for p in ("/usr/sbin/" + tool, "/sbin/" + tool)
                                       if os.path.exists(p)), None)


# --- process accounting --------------------------------------------------------------


def group_procs(pgids):
    """(pid, fields of /proc/<pid>/stat after the command name) of every process in
    these process groups."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[2]) in pgids:  # pgrp
            yield d, fields


def group_cpu(pgids):
    """CPU seconds (user + system) used so far by every process in these groups."""
    total = sum(int(f[11]) + int(f[12]) for _, f in group_procs(pgids))
    return total / os.sysconf("SC_CLK_TCK")


def group_wakeups(pgids):
    """Voluntary context switches so far of every process in these groups: each is a
    server going to sleep for want of a query (and being woken by the next one)."""
    total = 0
    for pid, _ in group_procs(pgids):
        try:
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


def machine_busy():
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_measured(cmd, stdout_path, env=None, cwd=None):
    """Runs @cmd with stdout to a file; returns wall, user, sys, maxrss (kB), stderr.
    CPU and peak RSS come from /usr/bin/time when there is one: a child forked by
    this (large) Python process counts the parent's pages in its own peak RSS until
    it execs, so wait4()'s ru_maxrss would overstate small programs."""
    err = tempfile.TemporaryFile()
    gnutime = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    tfile = None
    if gnutime:
        fd, tfile = tempfile.mkstemp(prefix="zcbench-time-")
        os.close(fd)
        cmd = [gnutime, "-q", "-f", "%U %S %M", "-o", tfile] + list(cmd)
    with open(stdout_path, "wb") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    text = err.read().decode(errors="replace")
    r = {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "maxrss_kb": ru.ru_maxrss,
         "rc": p.returncode, "stderr": text}
    if tfile:
        with open(tfile) as f:
            fields = f.read().split()
        os.unlink(tfile)
        if len(fields) >= 3:
            r["user"], r["sys"], r["maxrss_kb"] = float(fields[-3]), float(fields[-2]), \
                int(fields[-1])
    return r


# --- zonecut ------------------------------------------------------------------------


def decisions(path):
    """{child: (result, mode, reasons, ds_new)} and the total of "queries"."""
    out, queries = {}, 0
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            out[d["child"]] = (d["result"], d.get("mode"), tuple(sorted(d["reasons"])),
                               tuple(sorted(d.get("ds_new") or ())) if "ds_new" in d else None)
            queries += d.get("queries", 0)
    return out, queries


def check_expect(dec, expect):
    """Children whose decision differs from the generator's expectation."""
    bad = []
    for child, e in expect.items():
        d = dec.get(child)
        if d is None:
            bad.append((child, "missing"))
            continue
        result, mode, reasons, ds_new = d
        ok = result == e["result"] and (e["mode"] is None or mode == e["mode"])
        if e["ds_new"] is not None:
            ok = ok and ds_new is not None and sorted(ds_new) == sorted(e["ds_new"])
        if e["reason"] is not None:
            ok = ok and e["reason"] in reasons
        if not ok:
            bad.append((child, "%s expected %s" % (d, e)))
    bad += [(c, "unexpected") for c in dec if c not in expect]
    return bad


def zonecut_scan(zc, w, zone, label, outdir, args=(), pgids=(), perf=None):
    db = os.path.join(outdir, "state-%s.db" % label)
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass
    args = list(args)
    if "--qps-per-server" not in args:
        # the servers are ours: no Internet politeness rate cap (default 500 a second
        # per address); the in-flight cap (default 10 per address) stays
        args += ["--qps-per-server", "0"]
    cmd = [zc, "scan", "--zone", zone, "--json", "--trust-anchor", w["trust_anchor"],
           "--root-hints", w["root_hints"], "--db", db] + args
    if perf:
        cmd = perf + ["--"] + cmd
    out = os.path.join(outdir, "zonecut-%s.jsonl" % label)
    cpu0, busy0, wake0 = group_cpu(pgids), machine_busy(), group_wakeups(pgids)
    r = run_measured(cmd, out)
    r["server_cpu"] = group_cpu(pgids) - cpu0
    r["server_wakeups"] = group_wakeups(pgids) - wake0
    # CPU that neither zonecut nor the servers used while it ran: other load on the
    # machine, which the measurement shares the cores with
    r["other_cpu"] = max(0.0, machine_busy() - busy0 - r["server_cpu"] - r["user"] - r["sys"])
    r["cmd"] = " ".join(cmd)
    r["out"] = out
    m = SUMMARY.search(r["stderr"])
    if r["rc"] not in (0, 1) or not m:
        raise RuntimeError("zonecut %s failed (exit %s): %s" % (
            label, r["rc"], r["stderr"][-2000:]))
    r["delegations"] = int(m.group(1))
    r["summary"] = m.group(2)
    # every query zonecut sent to the servers: the delegations' and the signals'
    r["signal_queries"] = int(m.group(4) or 0)
    r["queries"] = int(m.group(3)) + r["signal_queries"]
    n = r["delegations"]
    r["deleg_per_s"] = n / r["wall"]
    r["qps"] = r["queries"] / r["wall"]
    r["q_per_deleg"] = r["queries"] / n if n else 0
    r["cpu_per_1000"] = (r["user"] + r["sys"]) * 1000 / n if n else 0
    r["server_cpu_per_1000"] = r["server_cpu"] * 1000 / n if n else 0
    r["server_us_per_query"] = r["server_cpu"] * 1e6 / r["queries"] if r["queries"] else 0
    r["queries_per_wakeup"] = r["queries"] / r["server_wakeups"] if r["server_wakeups"] else 0
    log("%-22s %d delegations in %.1fs: %.0f/s, %.0f queries/s, %.2f q/deleg, "
        "%.2f CPU s/1000, RSS %.0f MB, other load %.1f CPU s (%s)" % (
            label, n, r["wall"], r["deleg_per_s"], r["qps"], r["q_per_deleg"],
            r["cpu_per_1000"], r["maxrss_kb"] / 1024, r["other_cpu"], r["summary"]))
    return r


def zonecut_best(repeat, *args, **kw):
    """The fastest of @repeat runs (the machine is shared: the others are slowed by
    load that is not zonecut's); every run's wall time is kept."""
    runs = [zonecut_scan(*args, **kw) for _ in range(max(1, repeat))]
    best = min(runs, key=lambda r: r["wall"])
    best["walls"] = [round(r["wall"], 2) for r in runs]
    return best


# --- dnsperf -----------------------------------------------------------------------------


def dnsperf_once(w, clients, outstanding, seconds, outdir, tag="", pgids=(), stats=None,
                 mode="udp"):
    """Every provider address queried at once by its own dnsperf with its share of
    the scan's questions, over @mode (udp or tcp); returns the total rate, the lost
    queries, the rate per address. @stats (a dict) gets the servers' CPU and wakeups
    per query."""
    dnsperf = which("dnsperf")
    qdir = os.path.join(w["dir"], "queries")
    addrs = sorted(f[:-4] for f in os.listdir(qdir) if f.endswith(".txt"))
    procs = []
    cpu0, wake0 = group_cpu(pgids), group_wakeups(pgids)
    for a in addrs:
        path = os.path.join(outdir, "dnsperf-%s-%s-c%d-q%d%s.txt" % (
            a, mode, clients, outstanding, tag))
        f = open(path, "w")
        procs.append((a, path, f, subprocess.Popen(
            [dnsperf, "-m", mode, "-s", a, "-d", os.path.join(qdir, a + ".txt"), "-D", "-l",
             str(seconds), "-c", str(clients), "-q", str(outstanding), "-t", "2"],
            stdout=f, stderr=subprocess.STDOUT)))
    total, lost, per, done = 0.0, 0, {}, 0
    for a, path, f, p in procs:
        p.wait()
        f.close()
    cpu, wakeups = group_cpu(pgids) - cpu0, group_wakeups(pgids) - wake0
    for a, path, f, p in procs:
        text = open(path).read()
        m = re.search(r"Queries per second:\s+([\d.]+)", text)
        ml = re.search(r"Queries lost:\s+(\d+)", text)
        mc = re.search(r"Queries completed:\s+(\d+)", text)
        q = float(m.group(1)) if m else 0.0
        per[a] = q
        total += q
        lost += int(ml.group(1)) if ml else 0
        done += int(mc.group(1)) if mc else 0
    if stats is not None and done:
        stats["server_us_per_query"] = cpu * 1e6 / done
        stats["queries_per_wakeup"] = done / wakeups if wakeups else 0
    log("dnsperf -m %s -c %d -q %d on %d addresses: %.0f queries/s (lost %d)%s"
        % (mode, clients, outstanding, len(addrs), total, lost,
           "; servers %.1f CPU us/query, %.1f queries per wakeup" % (
               stats["server_us_per_query"], stats["queries_per_wakeup"])
           if stats and "server_us_per_query" in stats else ""))
    return total, lost, per


def dnsperf_ceiling(w, seconds, outdir, pgids=()):
    """The best total of dnsperf_once() over a few client settings, UDP and TCP (the
    same questions over TCP, each dnsperf client on one connection)."""
    dnsperf = which("dnsperf")
    if not dnsperf:
        return None
    qdir = os.path.join(w["dir"], "queries")
    addrs = sorted(f[:-4] for f in os.listdir(qdir) if f.endswith(".txt"))
    best, totals = None, []
    # a short warm-up first: right after start-up a server may still be busy
    warm = [subprocess.Popen([dnsperf, "-s", a, "-d", os.path.join(qdir, a + ".txt"), "-D",
                              "-l", "3", "-q", "20"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for a in addrs]
    for p in warm:
        p.wait()
    by_mode = {}
    for mode, clients, outstanding in (("udp", 1, 20), ("udp", 1, 50), ("udp", 1, 100),
                                       ("udp", 2, 200), ("tcp", 1, 100), ("tcp", 4, 200)):
        st = {}
        total, lost, per = dnsperf_once(w, clients, outstanding, seconds, outdir,
                                        pgids=pgids, stats=st, mode=mode)
        totals.append(total)
        by_mode[mode] = max(by_mode.get(mode, 0), total)
        if best is None or total > best["qps"]:
            best = {"qps": total, "clients": clients, "outstanding": outstanding,
                    "mode": mode, "per_server": per, "lost": lost, "seconds": seconds}
            best.update(st)
    best["all"] = totals
    best["by_mode"] = by_mode
    return best


def paired_rounds(n, zc, w, outdir, ceiling, pgids, tcp_args=None):
    """@n rounds of dnsperf (the ceiling's setting) then zonecut (defaults), and
    zonecut over TCP (@tcp_args) when given, back to back: on a shared machine whose
    speed drifts, each ratio compares measurements taken under the same conditions."""
    rounds = []
    for i in range(n):
        st = {}
        total, lost, _ = dnsperf_once(w, ceiling["clients"], ceiling["outstanding"],
                                      ceiling["seconds"], outdir, tag="-pair%d" % i,
                                      pgids=pgids, stats=st, mode=ceiling.get("mode", "udp"))
        r = zonecut_scan(zc, w, w["parent_zone"], "w1-pair%d" % i, outdir, [], pgids)
        os.unlink(r["out"])
        rounds.append({"dnsperf_qps": total, "dnsperf_lost": lost, "zonecut_qps": r["qps"],
                       "zonecut_wall": r["wall"], "ratio": r["qps"] / total if total else 0,
                       "dnsperf_server_us": st.get("server_us_per_query", 0),
                       "dnsperf_per_wakeup": st.get("queries_per_wakeup", 0),
                       "zonecut_server_us": r["server_us_per_query"],
                       "zonecut_per_wakeup": r["queries_per_wakeup"]})
        msg = "round %d: dnsperf %.0f queries/s, zonecut %.0f queries/s: %.0f %%" % (
            i + 1, total, r["qps"], 100 * rounds[-1]["ratio"])
        if tcp_args:
            t = zonecut_scan(zc, w, w["parent_zone"], "w1-pair%d-tcp" % i, outdir, tcp_args,
                             pgids)
            os.unlink(t["out"])
            rounds[-1].update({"tcp_qps": t["qps"], "tcp_wall": t["wall"],
                               "tcp_ratio": t["qps"] / total if total else 0,
                               "tcp_server_us": t["server_us_per_query"]})
            msg += "; zonecut over TCP %.0f queries/s: %.0f %%" % (
                t["qps"], 100 * rounds[-1]["tcp_ratio"])
        log(msg)
    return rounds


# --- dnssec-cds ---------------------------------------------------------------------


def norm_ds(rdata):
    p = rdata.split()
    return " ".join(p[:3] + ["".join(p[3:]).upper()])


def dnssec_cds_run(w, outdir, limit=None):
    """BIND's documented pipeline, one child at a time: dig the child's DNSKEY, CDNSKEY
    and CDS (with RRSIGs) from its first nameserver, pipe into dnssec-cds with the
    current DS set (dsset- file). Returns timing and {child: [DS rdata]}."""
    dig, cds = which("dig"), which("dnssec-cds")
    if not dig or not cds:
        return None
    first = {}
    with open(w["rollover_zone"]) as f:
        for line in f:
            t = line.split()
            if len(t) >= 5 and t[3] == "NS" and t[0] != workload.PARENT and t[0] not in first:
                first[t[0]] = t[4]
    ds = {}
    with open(w["rollover_zone"]) as f:
        for line in f:
            t = line.split(None, 4)
            if len(t) == 5 and t[3] == "DS":
                ds.setdefault(t[0], []).append(t[4].strip())
    children = list(first)[:limit] if limit else list(first)
    work = os.path.join(outdir, "dnssec-cds")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "dsset"))
    os.makedirs(os.path.join(work, "out"))
    # the child's signatures were made at generation time: the dsset- files (whose
    # modification time is dnssec-cds's replay bound) must be older
    mtime = w["inception"] - 60
    with open(os.path.join(work, "children.txt"), "w") as lst:
        for c in children:
            p = os.path.join(work, "dsset", "dsset-" + c)
            with open(p, "w") as f:
                f.write("".join("%s 3600 IN DS %s\n" % (c, r) for r in ds.get(c, [])))
            os.utime(p, (mtime, mtime))
            lst.write("%s %s\n" % (c, w["addresses"][first[c]]))
    script = os.path.join(work, "pipeline.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n# dnssec-cds(1) EXAMPLES, with the child's nameserver named\n"
                "while read d a; do\n"
                "  %s @$a +norec +dnssec +noall +answer $d DNSKEY $d CDNSKEY $d CDS |\n"
                "  %s -f /dev/stdin -d dsset/dsset-$d $d > out/$d 2>&1\n"
                "done < children.txt\n" % (dig, cds))
    os.chmod(script, 0o755)
    t0 = time.monotonic()
    r = run_measured(["/bin/sh", script], os.path.join(work, "pipeline.out"), cwd=work)
    r["wall"] = time.monotonic() - t0
    results = {}
    for c in children:
        with open(os.path.join(work, "out", c)) as f:
            text = f.read()
        results[c] = sorted(norm_ds(line.split(None, 4)[4]) for line in text.splitlines()
                            if len(line.split()) > 4 and line.split()[3] == "DS")
    r["delegations"] = len(children)
    r["deleg_per_s"] = len(children) / r["wall"]
    r["results"] = results
    log("dnssec-cds pipeline: %d delegations in %.1fs: %.1f/s" % (
        len(children), r["wall"], r["deleg_per_s"]))
    return r


# --- perf ------------------------------------------------------------------------------

# What each of zonecut's functions stands for, for "where the time goes".
PROFILE_ROWS = (
    ("zc_zone_source_new", "input, pass 1: read (plain lines from our own buffer, NS/DS/A/AAAA "
     "without ldns) and check the whole parent zone file"),
    ("zone_next", "input, pass 2: one delegation at a time, from pass 1's spool"),
    ("worker_main", "the scan workers' threads (everything below but pass 1)"),
    ("job_decide", "decisions for children that publish (incl. verification, store)"),
    ("zc_rrsig_check_cached", "RRSIG checks (signed data, candidate keys), decide.c"),
    ("dns_verify", "... of which cryptography after the verification cache (OpenSSL)"),
    ("sys_send", "send(): kernel UDP incl. loopback delivery to NSD (each server's "
     "datagrams at the end of the turn)"),
    ("sys_recv", "recv()"),
    ("sys_open", "socket() + connect() for a new UDP socket"),
    ("sys_close", "close()"),
    ("zc_answer_match", "answer checks on the wire (ID, question, structure)"),
    ("on_apex_answer", "answers: the answer section of those with records parsed "
     "(zc_pkt_answer_records), RRsets taken"),
    ("ev_server", "evidence of each decision, per server, written as JSON text (scan.c)"),
    ("on_decision", "output: the decision's JSON line (decision_text) and writing it (cmd)"),
    ("nettle_ecdsa_verify", "libunbound validating the RFC 9615 signals (nettle; part of the "
     "gmp/hogweed time is not attributed to it)"),
    ("tc_malloc", "malloc (tcmalloc, self)"),
)


def perf_profile(zc, w, outdir, args, pgids):
    perf = which("perf")
    if not perf:
        return None
    data = os.path.join(outdir, "perf.data")
    r = zonecut_scan(zc, w, w["parent_zone"], "profile", outdir, args, pgids,
                     perf=[perf, "record", "-q", "-F", "299", "--call-graph", "dwarf,16384",
                           "-o", data])
    rep = subprocess.run([perf, "report", "-i", data, "--children", "--sort", "sym",
                          "--stdio", "-g", "none"], capture_output=True, text=True)
    children = {}
    for line in rep.stdout.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if m:
            children.setdefault(m.group(3), (float(m.group(1)), float(m.group(2))))
    rows = [(sym, what, children.get(sym, (0.0, 0.0))) for sym, what in PROFILE_ROWS]
    dso = subprocess.run([perf, "report", "-i", data, "--no-children", "--sort", "dso",
                          "--stdio", "-g", "none"], capture_output=True, text=True)
    dsos = []
    for line in dso.stdout.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)", line)
        if m:
            dsos.append((m.group(2), float(m.group(1))))
    selfs = subprocess.run([perf, "report", "-i", data, "--no-children", "--sort", "dso,sym",
                            "--stdio", "-g", "none"], capture_output=True, text=True)
    top = []
    for line in selfs.stdout.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if m and len(top) < 15:
            top.append((m.group(3), m.group(2), float(m.group(1))))
    with open(os.path.join(outdir, "perf-report.txt"), "w") as f:
        f.write(rep.stdout)
    os.unlink(data)
    return {"run": {k: r[k] for k in ("wall", "user", "sys", "delegations")},
            "rows": rows, "dso": dsos[:10], "top_self": top}


# --- the whole thing ----------------------------------------------------------------------


def machine():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            info["cpu"] = m.group(1).strip() if m else "?"
    except OSError:
        info["cpu"] = "?"
    info["cores"] = os.cpu_count()
    with open("/proc/meminfo") as f:
        info["mem_gib"] = round(int(f.readline().split()[1]) / 1048576)
    info["kernel"] = os.uname().release
    try:
        info["os"] = re.search(r'PRETTY_NAME="(.*)"', open("/etc/os-release").read()).group(1)
    except (OSError, AttributeError):
        info["os"] = "?"

    def ver(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    info["nsd"] = ver([which("nsd") or "nsd", "-v"])
    try:
        p = subprocess.run([which("dnsperf") or "dnsperf", "-h"], capture_output=True, text=True)
        info["dnsperf"] = "dnsperf " + next((l.split()[-1] for l in (p.stdout + p.stderr)
                                             .splitlines() if l.startswith("Version")), "?")
    except OSError:
        info["dnsperf"] = "dnsperf ?"
    info["dnssec-cds"] = ver([which("dnssec-cds") or "dnssec-cds", "-V"])
    return info


def fmt_row(label, r, ref_ok=None, exp_bad=None):
    row = "| %s | %d | %.1f | **%.0f** | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f %% | %s | %s |"
    return row % (
        label, r["delegations"], r["wall"], r["deleg_per_s"], r["qps"], r["q_per_deleg"],
        r["cpu_per_1000"], r["server_cpu_per_1000"], r["maxrss_kb"] / 1024,
        100 * r["other_cpu"] / (r["wall"] * (os.cpu_count() or 1)),
        "-" if ref_ok is None else ("yes" if ref_ok else "**NO**"),
        "-" if exp_bad is None else ("all" if not exp_bad else "**%d differ**" % len(exp_bad)))


def main():
    ap = argparse.ArgumentParser(description="zonecut registry-scale benchmark")
    ap.add_argument("--n", type=int, default=100000, help="W1 delegations (100000)")
    ap.add_argument("--n2", type=int, default=1000000, help="W2 delegations (1000000)")
    ap.add_argument("--workdir", default="/var/tmp/zcbench")
    ap.add_argument("--zonecut", default=os.path.join(REPO, "build-release", "zonecut"))
    ap.add_argument("--base", default="127.9",
                    help="loopback block 127.A (servers on 127.A.0-2.1-2)")
    ap.add_argument("--dnsperf-seconds", type=int, default=10)
    ap.add_argument("--raise", dest="raised", default="--inflight-per-server 50",
                    help="options of the raised-limits run")
    ap.add_argument("--tcp", dest="tcp", default="--tcp-only --inflight-per-server 50",
                    help="options of the run over TCP (pipelined, RFC 7766); '' for none")
    ap.add_argument("--cds-limit", type=int, default=0,
                    help="dnssec-cds on at most this many rollover children (0: all)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each W1 zonecut measurement; the fastest is reported (3)")
    ap.add_argument("--pairs", type=int, default=5,
                    help="rounds of dnsperf (best setting) then zonecut, back to back (5)")
    ap.add_argument("--no-w1", action="store_true")
    ap.add_argument("--no-w2", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--no-dnssec-cds", action="store_true")
    a = ap.parse_args()

    if os.geteuid() != 0:
        sys.exit("bench: needs root (NSD binds port 53 on 127.x.y.z)")
    zc = os.path.abspath(a.zonecut)
    if not os.access(zc, os.X_OK):
        sys.exit("bench: %s not found (bench/run.sh builds it)" % zc)
    os.makedirs(a.workdir, exist_ok=True)
    outdir = os.path.join(a.workdir, "results-%s" % time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(outdir)
    res = {"machine": machine(), "args": vars(a), "zonecut": zc,
           "command": " ".join([sys.argv[0]] + sys.argv[1:])}
    raised = a.raised.split()
    tcp = a.tcp.split()
    lines = []

    if not a.no_w1:
        wdir = os.path.join(a.workdir, "w1-%d" % a.n)
        w = workload.generate(wdir, "w1", a.n, base=a.base, log=log)
        pids = workload.up(wdir, log=log)
        pgids = set(pids.values())
        try:
            res["w1_generation_s"] = w["generation_s"]
            res["dnsperf"] = dnsperf_ceiling(w, a.dnsperf_seconds, outdir, pgids)
            ref = zonecut_scan(zc, w, w["parent_zone"], "w1-c1", outdir, ["-C", "1"], pgids)
            dflt = zonecut_best(a.repeat, zc, w, w["parent_zone"], "w1-default", outdir, [],
                                pgids)
            rais = zonecut_best(a.repeat, zc, w, w["parent_zone"], "w1-raised", outdir, raised,
                                pgids)
            expect = workload.read_expect(w["expect"])
            ref_dec, _ = decisions(ref["out"])
            runs = {"c1": ref, "default": dflt, "raised": rais}
            if tcp:
                runs["tcp"] = zonecut_best(a.repeat, zc, w, w["parent_zone"], "w1-tcp", outdir,
                                           tcp, pgids)
            for k, r in runs.items():
                dec, _ = decisions(r["out"])
                r["same_as_c1"] = dec == ref_dec
                r["expect_bad"] = check_expect(dec, expect)
                if r["expect_bad"]:
                    log("%s: %d decisions differ from the expectation, e.g. %s" % (
                        k, len(r["expect_bad"]), r["expect_bad"][:3]))
                if not r["same_as_c1"]:
                    diff = [c for c in ref_dec if dec.get(c) != ref_dec[c]]
                    log("%s: %d decisions differ from -C 1, e.g. %s" % (
                        k, len(diff), [(c, ref_dec[c], dec.get(c)) for c in diff[:3]]))
                    r["diff_c1"] = len(diff)
            res["w1"] = {k: {x: y for x, y in r.items() if x not in ("stderr",)}
                         for k, r in runs.items()}
            # rollover subset: zonecut against dnssec-cds
            roll = zonecut_best(a.repeat, zc, w, w["rollover_zone"], "rollover", outdir, [],
                                pgids)
            res["rollover_zonecut"] = {x: y for x, y in roll.items() if x != "stderr"}
            if not a.no_dnssec_cds:
                cds = dnssec_cds_run(w, outdir, a.cds_limit or None)
                if cds:
                    rdec, _ = decisions(roll["out"])
                    same = sum(1 for c, ds in cds["results"].items()
                               if rdec.get(c) and list(rdec[c][3] or ()) == ds)
                    cds["same_ds"] = same
                    res["dnssec_cds"] = {x: y for x, y in cds.items()
                                         if x not in ("results", "stderr")}
                    log("dnssec-cds: %d of %d DS sets equal to zonecut's" % (
                        same, cds["delegations"]))
            if res["dnsperf"] and a.pairs:
                res["pairs"] = paired_rounds(a.pairs, zc, w, outdir, res["dnsperf"], pgids,
                                             tcp or None)
            if not a.no_profile:
                res["profile"] = perf_profile(zc, w, outdir, raised, pgids)
        finally:
            workload.down(wdir)

    if not a.no_w2:
        wdir = os.path.join(a.workdir, "w2-%d" % a.n2)
        w = workload.generate(wdir, "w2", a.n2, base=a.base, log=log)
        pids = workload.up(wdir, timeout=600, log=log)
        pgids = set(pids.values())
        try:
            res["w2_generation_s"] = w["generation_s"]
            r = zonecut_scan(zc, w, w["parent_zone"], "w2-default", outdir, [], pgids)
            dec, _ = decisions(r["out"])
            r["expect_bad"] = check_expect(dec, workload.read_expect(w["expect"]))
            res["w2"] = {x: y for x, y in r.items() if x != "stderr"}
            os.unlink(r["out"])  # a million lines
        finally:
            workload.down(wdir)

    # --- the table
    m = res["machine"]
    lines.append("Machine: %s, %d cores, %d GiB, %s, kernel %s; %s; %s." % (
        m["cpu"], m["cores"], m["mem_gib"], m["os"], m["kernel"], m["nsd"], m["dnsperf"]))
    lines.append("")
    lines.append("Every zonecut run: `--qps-per-server 0` (no rate cap: the servers are ours; "
                 "the Internet default is 500 queries/s per address), defaults otherwise "
                 "(--workers: one per CPU, 10 queries in flight per address).")
    lines.append("")
    lines.append("| run | delegations | wall s | delegations/s | queries/s | queries/deleg "
                 "| zonecut CPU s /1000 | NSD CPU s /1000 | peak RSS MB | other load "
                 "| = -C 1 | = expected |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    if "w1" in res:
        w1 = res["w1"]
        lines.append(fmt_row("W1 zonecut -C 1", w1["c1"], None, w1["c1"]["expect_bad"]))
        lines.append(fmt_row("W1 zonecut (defaults)", w1["default"], w1["default"]["same_as_c1"],
                             w1["default"]["expect_bad"]))
        lines.append(fmt_row("W1 zonecut %s" % " ".join(raised), w1["raised"],
                             w1["raised"]["same_as_c1"], w1["raised"]["expect_bad"]))
        if "tcp" in w1:
            lines.append(fmt_row("W1 zonecut %s" % " ".join(tcp), w1["tcp"],
                                 w1["tcp"]["same_as_c1"], w1["tcp"]["expect_bad"]))
        rz = res["rollover_zonecut"]
        lines.append(fmt_row("W1 rollover subset, zonecut", rz))
        if res.get("dnssec_cds"):
            c = res["dnssec_cds"]
            lines.append("| W1 rollover subset, dig + dnssec-cds per zone | %d | %.1f | **%.1f** "
                         "| - | 3 | %.1f | - | - | - | - | %d of %d DS sets equal |" % (
                             c["delegations"], c["wall"], c["deleg_per_s"],
                             (c["user"] + c["sys"]) * 1000 / c["delegations"],
                             c["same_ds"], c["delegations"]))
    if "w2" in res:
        lines.append(fmt_row("W2 zonecut (defaults)", res["w2"], None, res["w2"]["expect_bad"]))
    lines.append("")
    if "w1" in res:
        w1runs = [r for k, r in res["w1"].items() if k != "c1"]
        best = max(r["qps"] for r in w1runs)
        bestd = max(r["deleg_per_s"] for r in w1runs)
        if res.get("dnsperf"):
            d = res["dnsperf"]
            lines.append("Server ceiling (dnsperf, one per provider address at once, same "
                         "questions, -m %s -c %d -q %d, %d s; best over UDP %.0f, over TCP "
                         "%.0f): **%.0f queries/s**; zonecut reaches %.0f queries/s (its best "
                         "W1 run) = **%.0f %%** of it. The servers under that dnsperf "
                         "run: %.1f CPU us per query, %.1f queries per wakeup." % (
                             d.get("mode", "udp"), d["clients"], d["outstanding"], d["seconds"],
                             d.get("by_mode", {}).get("udp", 0),
                             d.get("by_mode", {}).get("tcp", 0), d["qps"], best,
                             100 * best / d["qps"], d.get("server_us_per_query", 0),
                             d.get("queries_per_wakeup", 0)))
        if res.get("pairs"):
            pr = res["pairs"]
            ratios = sorted(x["ratio"] for x in pr)
            lines.append("Paired rounds (dnsperf at that setting, then zonecut with defaults, "
                         "back to back): " + "; ".join(
                             "%.0f vs %.0f queries/s = %.0f %%" % (
                                 x["zonecut_qps"], x["dnsperf_qps"], 100 * x["ratio"])
                             for x in pr) +
                         "; median **%.0f %%**, lowest %.0f %%." % (
                             100 * ratios[len(ratios) // 2], 100 * ratios[0]))
            if all("tcp_ratio" in x for x in pr):
                tr = sorted(x["tcp_ratio"] for x in pr)
                lines.append("The same rounds, zonecut %s right after: " % " ".join(tcp) +
                             "; ".join("%.0f queries/s = %.0f %%" % (
                                 x["tcp_qps"], 100 * x["tcp_ratio"]) for x in pr) +
                             "; median **%.0f %%**, lowest %.0f %%." % (
                                 100 * tr[len(tr) // 2], 100 * tr[0]))
            lines.append("")
            lines.append("The servers in each round (NSD CPU per query answered, queries "
                         "per NSD wakeup, i.e. per voluntary context switch): " + "; ".join(
                             "dnsperf %.1f us, %.1f / zonecut %.1f us, %.1f" % (
                                 x.get("dnsperf_server_us", 0), x.get("dnsperf_per_wakeup", 0),
                                 x.get("zonecut_server_us", 0), x.get("zonecut_per_wakeup", 0))
                             for x in pr) + ".")
        if res.get("dnsperf") and res.get("pairs"):
            # the strictest reading: the highest rate either tool reached anywhere
            # in this run, every setting and round counted
            dmax = max(res["dnsperf"]["all"] + [x["dnsperf_qps"] for x in res["pairs"]])
            zmax = max([best] + [x["zonecut_qps"] for x in res["pairs"]] +
                       [x.get("tcp_qps", 0) for x in res["pairs"]])
            lines.append("")
            lines.append("Highest rates anywhere in this run (every dnsperf setting and round, "
                         "every zonecut W1 run): dnsperf %.0f, zonecut %.0f queries/s = "
                         "**%.0f %%**." % (dmax, zmax, 100 * zmax / dmax))
        if res.get("dnssec_cds"):
            lines.append("Rollover subset: zonecut %.0f delegations/s vs dig + dnssec-cds %.1f/s: "
                         "**%.0f times** faster." % (
                             res["rollover_zonecut"]["deleg_per_s"],
                             res["dnssec_cds"]["deleg_per_s"],
                             res["rollover_zonecut"]["deleg_per_s"] /
                             res["dnssec_cds"]["deleg_per_s"]))
        lines.append("W1 best: %.0f delegations/s (target 5,000)." % bestd)
    if res.get("profile"):
        p = res["profile"]
        lines.append("")
        lines.append("Where zonecut's time goes (perf, W1, %s; %% of zonecut's CPU samples, "
                     "inclusive):" % " ".join(raised))
        lines.append("")
        lines.append("| function | what | incl. % | self % |")
        lines.append("|---|---|---|---|")
        for sym, what, (incl, slf) in p["rows"]:
            lines.append("| %s | %s | %.1f | %.1f |" % (sym, what, incl, slf))
        lines.append("")
        lines.append("By library (self): " + ", ".join("%s %.1f %%" % d for d in p["dso"]))
        lines.append("")
        lines.append("Top functions (self): " + ", ".join(
            "%s (%s) %.1f %%" % (s, os.path.basename(d), v) for s, d, v in p["top_self"]))
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    log("results in %s" % outdir)
    ok = True
    for k in ("c1", "default", "raised", "tcp"):
        r = res.get("w1", {}).get(k)
        if r and (r["expect_bad"] or not r.get("same_as_c1", True)):
            ok = False
    if res.get("w2") and res["w2"]["expect_bad"]:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
