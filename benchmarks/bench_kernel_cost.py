#!/usr/bin/env python3
"""Measure what suggested rule sets cost the real kernel, and compare with tracerule.audit.cost.

    sudo /work/venv/bin/python benchmarks/bench_kernel_cost.py [--rounds 5] [--scale 1.0]

The measurement of ``kernel_overhead.sh`` (kernel-overhead.md: W1 = a getppid loop, W2b = an
openat+newfstatat+close loop over four ordinary files), reproduced through the kernel harness: every
rule is loaded with ``KernelAudit.add_rule`` and a run key (appended, never ``-D``), deleted after,
settings restored -- the shell tool itself loads rules without run keys and uses ``auditctl -D``, so
it must not run on a shared machine.  Configurations, interleaved in a fresh random order each round:

* ``none``: audit enabled, no rule of ours (what the host has anyway -- the baseline of the deltas);
* ``seed``: the rules ``suggest`` writes for the seed sample;
* ``scenarios``: the union of the rules ``suggest`` writes for the recorded scenarios (tests/data/scenarios);
* ``S10``: 10 ``-S all`` rules that never match (calibrates the every-syscall figure).

Printed per configuration and workload: median ns per syscall, the delta against ``none``, and the
model's prediction (``tracerule.audit.cost.estimate`` on that workload's syscall mix: the rules' own
cost plus the fixed audit-context cost any loaded rule brings -- 'none' has no rule, so it is part of
every delta).  No pass/fail.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

C_SOURCE = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static long long ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {
    long n = atol(argv[2]), i; long long t0, t1; struct stat st;
    if (!strcmp(argv[1], "getppid")) {
        volatile long s = 0; t0 = ns(); for (i = 0; i < n; i++) s += syscall(SYS_getppid); t1 = ns();
        printf("%.2f\n", (double)(t1 - t0) / n); return s == 0;
    }
    const char *p[] = {"/etc/passwd", "/etc/hostname", "/usr/bin/true", "/usr/share/doc/bash/copyright"};
    t0 = ns();
    for (i = 0; i < n; i++) { const char *f = p[i % 4]; int fd = openat(AT_FDCWD, f, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return 1; fstatat(AT_FDCWD, f, &st, 0); close(fd); }
    t1 = ns(); printf("%.2f\n", (double)(t1 - t0) / (3.0 * n)); return 0;
}
"""

MIX = {"W1": {"getppid": 1}, "W2b": {"openat": 1, "newfstatat": 1, "close": 1}}


def suggested_items():
    from tracerule.synth import SuggestOptions, suggest

    seed = suggest([str(ROOT / "samples" / "sudo_docker_alice_tt_T_yy.txt")], SuggestOptions())
    scen = []
    seen = set()
    from tracerule.audit.rules import canonical

    for t in sorted((ROOT / "tests" / "data" / "scenarios").glob("*.strace")):
        s = suggest([str(t)], SuggestOptions(baselines=("default",)))
        for r in s.rules:
            c = canonical(r.item)
            if c not in seen:
                seen.add(c)
                scen.append(r.item)
    return [r.item for r in seed.rules], scen


def argv_of(item, key):
    from tracerule.audit.rules import source_lines
    from tracerule.audit.rules.parse import split_line

    return [w for w, _ in split_line(source_lines(item.with_keys((key,)), version="3.0.9")[-1])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="workload size factor (1.0: 1M getppid, 100k file ops)")
    args = ap.parse_args()
    from tracerule.audit.cost import SyscallMix, estimate
    from tracerule.audit.kernel import KernelAudit, RuleRefused
    from tracerule.audit.rules import parse_text

    seed, scen = suggested_items()
    s10 = parse_text("\n".join(f"-a always,exit -F arch=b64 -S all -F auid={4000000 + i}" for i in range(10))).items
    configs = {"none": [], "seed": seed, "scenarios": scen, "S10": s10}
    work = Path(tempfile.mkdtemp(prefix="tr-kcost-"))
    exe = work / "bench"
    (work / "bench.c").write_text(C_SOURCE)
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(work / "bench.c")], check=True)
    n1, n2 = str(int(1_000_000 * args.scale)), str(int(100_000 * args.scale))
    cmds = {"W1": [str(exe), "getppid", n1], "W2b": [str(exe), "files", n2]}
    res: dict = {(c, w): [] for c in configs for w in cmds}
    refused: dict = {c: 0 for c in configs}
    loaded: dict = {c: 0 for c in configs}
    with KernelAudit.session(what="bench_kernel_cost") as k:
        k.enable()
        for rnd in range(args.rounds):
            order = list(configs)
            random.shuffle(order)
            for c in order:
                rules = []
                for it in configs[c]:
                    try:
                        rules.append(k.add_rule(argv_of(it, k.new_key(c))))
                    except RuleRefused:
                        if rnd == 0:
                            refused[c] += 1
                loaded[c] = len(rules)
                for w in cmds:
                    out = subprocess.run(cmds[w], capture_output=True, text=True, check=True).stdout
                    res[(c, w)].append(float(out.strip()))
                for r in reversed(rules):
                    k.delete_rule(r)
        lost = k.lost_rose()
    subprocess.run(["rm", "-rf", str(work)])
    print(f"kernel {os.uname().release}; {args.rounds} rounds; medians in ns per syscall"
          + ("; WARNING: lost rose (inconclusive)" if lost else ""))
    print(f"{'config':<10} {'rules':>5} {'refused':>7} | {'W1 ns':>8} {'delta':>7} {'model':>7} | {'W2b ns':>8} {'delta':>7} {'model':>7}")
    base = {w: statistics.median(res[("none", w)]) for w in cmds}
    for c in configs:
        cells = []
        for w in cmds:
            m = statistics.median(res[(c, w)])
            e = estimate(configs[c], SyscallMix(MIX[w]), host="x86_64")
            pred = e.total_ns_per_syscall if configs[c] else 0.0
            cells.append(f"{m:8.1f} {m - base[w]:7.1f} {pred:7.1f}")
        print(f"{c:<10} {loaded[c]:>5} {refused[c]:>7} | " + " | ".join(cells))
    print("spread (min-max of rounds): " + "; ".join(
        f"{c}/{w} {min(res[(c, w)]):.0f}-{max(res[(c, w)]):.0f}" for c in configs for w in cmds))


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench_kernel_cost: run as root (kernel audit)")
    main()
