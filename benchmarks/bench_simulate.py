"""simulate() over >= 1M pre-built kernel-view records against the Neo23x0 rule set (one command).

    /work/venv/bin/python benchmarks/bench_simulate.py [--records N] [--naive N] [--seed S]

Baseline in the same run: ``simulate_naive`` (every rule tried on every record, fields
interpreted one by one) on a prefix of the same records (it is ~100x slower, so a prefix keeps the
run short; rates are per record).  Targets (issue 7): >= 1M records/s and >= 10x the naive loop.
The decisions of both are compared on that prefix.

Records are synthetic but shaped like an enriched trace: mostly read/write/mmap/close/fstat/openat,
some execve/clone/connect/setuid/unlink/rename/chmod, ~3% i386 syscalls, a few hundred processes
with shared exe FileRefs, login and service credentials, PATH items (some of them files the rule
set watches, stat'ed on this host).
"""
from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "tests" / "data" / "rules" / "neo23x0" / "audit.rules"

#: (syscall name, weight, kind)
MIX = [("read", 22, "fd"), ("write", 16, "fd"), ("mmap", 8, "fd"), ("close", 10, "fd"),
       ("fstat", 6, "fd"), ("openat", 12, "open"), ("newfstatat", 5, "stat"), ("lseek", 3, "fd"),
       ("rt_sigaction", 3, "fd"), ("brk", 2, "fd"), ("futex", 3, "fd"), ("poll", 1, "fd"),
       ("execve", 0.6, "exec"), ("clone", 0.6, "fd"), ("connect", 0.4, "net"),
       ("socket", 0.4, "fd"), ("sendto", 0.3, "net"), ("setuid", 0.1, "fd"),
       ("unlink", 0.2, "parent"), ("rename", 0.1, "parent"), ("chmod", 0.1, "stat"),
       ("mkdir", 0.1, "parent"), ("exit_group", 0.5, "exit"), ("getpid", 1, "fd"),
       ("readlink", 0.5, "stat"), ("access", 1, "stat"), ("kill", 0.1, "fd")]
HOT_PATHS = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts", "/etc/ld.so.cache",
             "/etc/nsswitch.conf", "/etc/sudoers", "/etc/ssh/sshd_config", "/etc/localtime",
             "/usr/bin/sudo", "/usr/bin/id", "/usr/bin/ls", "/usr/bin/python3", "/bin/bash",
             "/usr/bin/dash", "/lib64/ld-linux-x86-64.so.2", "/etc/crontab", "/etc/audit/auditd.conf",
             "/var/log/audit/audit.log", "/tmp", "/etc", "/usr/bin", "/root/.bashrc",
             "/etc/cron.d", "/dev/null", "/proc/self/status", "/usr/lib/x86_64-linux-gnu/libc.so.6"]


def build_records(n: int, seed: int):
    from tracerule.audit.record import FileRef, Name, Record
    from tracerule.audit.tables import AUDIT_ARCH, table

    rnd = random.Random(seed)
    X, I = AUDIT_ARCH["x86_64"], AUDIT_ARCH["i386"]
    tx, ti = table("x86_64"), table("i386")
    hot = [Name.of(p) for p in HOT_PATHS]
    hot_parent = [Name.of(os.path.dirname(p) or "/", nametype="PARENT") for p in HOT_PATHS]
    synth = [Name(f"/home/u/proj/f{i}.c", realpath=f"/home/u/proj/f{i}.c", dev=2049, ino=900000 + i,
                  mode=0o100644, ouid=1000, ogid=1000, ancestry=((2049, 2), (2049, 7), (2049, 8)))
             for i in range(2000)]
    missing = Name("/nonexistent/x", nametype="UNKNOWN", exists=False)
    ld = Name.of("/lib64/ld-linux-x86-64.so.2")
    exes = [FileRef.of(p) for p in ("/usr/bin/bash", "/usr/bin/python3", "/usr/bin/ls", "/usr/bin/id",
                                     "/usr/bin/sudo", "/usr/bin/dash")] + \
        [FileRef(f"/opt/app{i}/bin/app", 2049, 700000 + i, f"/opt/app{i}/bin/app") for i in range(40)]
    procs = []
    for pid in range(1000, 1400):
        login = rnd.random() < 0.6
        uid = rnd.choice((0, 1000, 1000, 33, 0)) if login else rnd.choice((0, 0, 33, 105))
        procs.append(dict(pid=pid, ppid=pid - 1 - rnd.randrange(3), uid=uid, euid=uid, suid=uid,
                          fsuid=uid, gid=uid, egid=uid, sgid=uid, fsgid=uid,
                          groups=(27,) if uid == 1000 else (), auid=1000 if login else 4294967295,
                          sessionid=3 if login else 4294967295, pers=0, comm="p",
                          exe=rnd.choice(exes)))
    names_w = [w for _, w, _ in MIX]
    picks = rnd.choices(MIX, weights=names_w, k=n)
    recs = []
    append = recs.append
    for i in range(n):
        name, _, kind = picks[i]
        p = procs[(i * 7 + rnd.randrange(5)) % len(procs)]
        b32 = rnd.random() < 0.03 and ti.nr(name) is not None
        arch = I if b32 else X
        nr = (ti if b32 else tx).nr(name)
        exit = 0
        a1 = a2 = 0
        names = ()
        saddr = -1
        if kind == "fd":
            exit = rnd.randrange(0, 4096)
        elif kind == "open":
            a2 = rnd.choice((0, 0, 0, 0o1101, 0o2, 0o100))
            r = rnd.random()
            if r < 0.15:
                names = (missing,)
                exit = -2
            elif r < 0.5:
                names = (rnd.choice(hot),)
                exit = 3
            else:
                names = (rnd.choice(synth),)
                exit = 4
        elif kind == "stat":
            names = (rnd.choice(hot) if rnd.random() < 0.5 else rnd.choice(synth),)
        elif kind == "parent":
            j = rnd.randrange(len(HOT_PATHS))
            names = (hot_parent[j], rnd.choice(synth))
        elif kind == "exec":
            names = (rnd.choice(hot[9:16]), ld)
        elif kind == "net":
            saddr = rnd.choice((1, 2, 10))
            exit = rnd.choice((0, -115, -111))
        elif kind == "exit":
            exit = None
        append(Record(arch, nr, exit=exit, a0=rnd.randrange(1 << 33), a1=a1, a2=a2, a3=0,
                      names=names, saddr_fam=saddr, **p))
    return recs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--naive", type=int, default=20_000, help="records for the naive baseline")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="passes of simulate() (first one cold)")
    args = ap.parse_args()
    from tracerule.audit.rules import parse_file
    from tracerule.audit.simulate import compile_rules, simulate, simulate_naive

    res = parse_file(RULES)
    t0 = time.perf_counter()
    compiled = compile_rules(res.items)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    recs = build_records(args.records, args.seed)
    t_build = time.perf_counter() - t0
    nrules = len(compiled.rules)
    print(f"rules: {RULES.relative_to(ROOT)}: {nrules} loaded ({len(compiled._exit)} exit-list, "
          f"{len(compiled._inode)} inode-hash), compiled in {t_compile * 1000:.1f} ms")
    print(f"records: {len(recs):,} built in {t_build:.1f} s")

    # pass 1 is cold: it builds the per-(arch, syscall) dispatch lazily; later passes are the
    # steady state (best of --repeat passes is reported; the machine may be shared)
    times = []
    cpu = []
    decided = logged = 0
    for i in range(args.repeat):
        t0 = time.perf_counter()
        c0 = time.process_time()
        decided = logged = 0
        for d in simulate(compiled, recs):
            decided += 1
            logged += d.logged
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    cold = len(recs) / times[0]
    rate = len(recs) / min(times[1:] or times)
    print(f"simulate() cold:  {cold:>12,.0f} records/s  ({times[0]:.2f} s, includes building the dispatch)")
    print(f"simulate():       {rate:>12,.0f} records/s  (best of {max(1, len(times) - 1)}; "
          f"{decided:,} decisions, {logged:,} logged)")
    print(f"simulate() CPU:   {len(recs) / min(cpu[1:] or cpu):>12,.0f} records/s  (process time; "
          f"wall and CPU differ when the machine is shared)")

    sub = recs[:args.naive]
    t0 = time.perf_counter()
    c0 = time.process_time()
    naive = list(simulate_naive(compiled, sub))
    t_naive = time.perf_counter() - t0
    n_cpu = time.process_time() - c0
    nrate = len(sub) / t_naive
    print(f"naive loop:       {nrate:>12,.0f} records/s  ({t_naive:.2f} s on the first {len(sub):,})")
    fast = list(simulate(compiled, sub))
    same = [(d.index, d.rule, d.action, d.key, d.via, d.excluded) for d in fast] == \
        [(d.index, d.rule, d.action, d.key, d.via, d.excluded) for d in naive]
    print(f"decisions equal on the prefix: {same}")
    print(f"ratio simulate/naive: {rate / nrate:,.1f}x wall, "
          f"{(len(recs) / min(cpu[1:] or cpu)) / (len(sub) / n_cpu):,.1f}x CPU   "
          f"(targets: >= 1,000,000 records/s, >= 10x)")


if __name__ == "__main__":
    main()
