#!/usr/bin/env python3
"""Time ``tracerule graph --format json TRACE`` against ``strace-process-tree TRACE`` (the baseline).

    /work/venv/bin/python benchmarks/bench_graph.py [--repeat N] [--no-long]

All run as whole subprocesses (interpreter start-up and imports included), on the same
>= 1M-line ``strace -f -tt -T -yy`` trace of a real workload (benchmarks/workload.py records and
caches it), in the same run, output to /dev/null, each after one unmeasured warm-up run (bytecode
cached as in an installed copy: see ``ENV``), their runs alternated.  tracerule runs twice: as
installed (on a trace this big and >= 2 CPUs its reader has a helper process scan ahead:
tracerule/strace/_prefetch.py) and with ``TRACERULE_JOBS=1`` (one process).  Printed for each:
best wall seconds, CPU seconds (the command and its helper, from ``os.wait4``), lines/s (wall)
and the ratio to strace-process-tree's lines/s (target: >= 5x), also per CPU second.

Memory, in separate untimed runs sampled every 5 ms from /proc (sampling costs CPU): the peak RSS
of the tracerule process, of its helper, and the peak PSS of both together (shared pages counted
once), beside the start-up's (``tracerule --help``); then the same on the "10x" trace (the same
processes running 10x longer).  Targets: peak within start-up + 20 MB, flat between 1x and 10x.

The baseline is the PyPI package strace-process-tree (``pip install strace-process-tree``; the
project's ``bench`` extra).  No pass/fail: figures only.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Run ``argv`` with stdout/stderr to /dev/null: (wall seconds, CPU seconds of it and the
    children it waited for, exit status)."""
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=null, stdin=subprocess.DEVNULL, env=env or ENV)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


def memory(argv: list[str], env: dict | None = None) -> dict:
    """One run of ``argv`` sampled every 5 ms: peak RSS (KiB) of the process and of its children,
    and the peak of their PSS summed (shared pages counted once)."""

    def rollup(pid: int) -> tuple[int, int]:
        rss = pss = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for ln in f:
                    if ln.startswith("Rss:"):
                        rss = int(ln.split()[1])
                    elif ln.startswith("Pss:"):
                        pss = int(ln.split()[1])
        except OSError:
            pass
        return rss, pss

    peak = {"main": 0, "helper": 0, "pss": 0}
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, stdout=null, stderr=null, stdin=subprocess.DEVNULL, env=env or ENV)
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            m_rss, m_pss = rollup(proc.pid)
            kid = [rollup(k) for k in kids]
            peak["main"] = max(peak["main"], m_rss)
            peak["helper"] = max([peak["helper"]] + [r for r, _ in kid])
            peak["pss"] = max(peak["pss"], m_pss + sum(p for _, p in kid))
            time.sleep(0.005)
    return peak


#: Both tools run as installed programs do: with their bytecode cached.  This environment may set
#: PYTHONDONTWRITEBYTECODE (an editable install then compiles every tracerule module on every run,
#: about 0.07 s and 4 MB that no installed copy pays), so the children get a private pycache
#: (benchmarks/.cache/pycache, filled by one unmeasured warm-up run of each command).
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TRACERULE_JOBS")}
ENV["PYTHONPYCACHEPREFIX"] = str(HERE / ".cache" / "pycache")
ONE = dict(ENV, TRACERULE_JOBS="1")


def best_of(cmds: list[tuple[list[str], dict]], repeat: int) -> list[tuple[float, float, int]]:
    """Best wall and CPU of ``repeat`` runs of each (argv, env), alternated, after a warm-up each."""
    got: list[list[tuple[float, float, int]]] = [[] for _ in cmds]
    for i in range(repeat + 1):
        for k, (argv, env) in enumerate(cmds):
            r = run(argv, env)
            if i:
                got[k].append(r)
    return [(min(w for w, _, _ in g), min(c for _, c, _ in g), g[-1][2]) for g in got]


def tool(name: str) -> str | None:
    cand = Path(sys.executable).parent / name
    if cand.exists():
        return str(cand)
    return shutil.which(name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best wall, max RSS)")
    ap.add_argument("--no-long", action="store_true", help="skip the 10x-longer trace (memory check)")
    args = ap.parse_args()
    import workload

    infos = workload.ensure("1x" if args.no_long else "both")
    one = infos["1x"]
    trace, lines = one["trace"], one["lines"]
    tr = tool("tracerule")
    tr_cmd = [tr] if tr else [sys.executable, "-m", "tracerule"]
    spt = tool("strace-process-tree")
    print(f"trace: {trace}\n       {lines:,} lines, {one['bytes'] / 1e6:.1f} MB, {one['processes']:,} processes, "
          f"{one['execs']:,} execs; {one['command']}; {one['strace']}")
    with open(trace, "rb") as f:     # warm the page cache
        while f.read(1 << 24):
            pass
    graph = tr_cmd + ["graph", "--format", "json", trace]
    cmds = [(graph, ENV), (graph, ONE)] + ([([spt, trace], ENV)] if spt else [])
    res = best_of(cmds, args.repeat)
    names = ["tracerule graph --format json", "  the same, one process (TRACERULE_JOBS=1)",
             "baseline: strace-process-tree"]
    print(f"\n{'command (whole process, start-up included)':45} {'wall s':>7} {'CPU s':>7} {'lines/s':>11} "
          f"{'ratio':>7} {'per CPU s':>10} {'exit':>5}")
    base = res[2] if spt else None
    for what, (w, c, rc) in zip(names, res):
        ratio = f"{base[0] / w:6.2f}x" if base else "   -"
        per_cpu = f"{base[1] / c:9.2f}x" if base else "   -"
        print(f"{what:45} {w:7.3f} {c:7.3f} {lines / w:11,.0f} {ratio:>7} {per_cpu:>10} {rc:5d}")
    if not spt:
        print("strace-process-tree is not installed: pip install strace-process-tree (the 'bench' extra)")
    else:
        print(f"\nratio (lines/s, wall): tracerule {base[0] / res[0][0]:.2f}x strace-process-tree's "
              f"(one process: {base[0] / res[1][0]:.2f}x); target >= 5x")
    start = memory(tr_cmd + ["--help"])
    m1 = memory(graph)
    m1one = memory(graph, ONE)
    mb = memory([spt, trace]) if spt else None
    print(f"\nmemory (MB; untimed runs sampled every 5 ms)   {'RSS':>7} {'helper RSS':>11} {'PSS, both':>10}")
    print(f"{'tracerule start-up (tracerule --help)':45} {start['main'] / 1024:7.1f} {'-':>11} {start['pss'] / 1024:10.1f}")
    for what, mm in (("tracerule graph on 1x", m1), ("  the same, one process", m1one)):
        print(f"{what:45} {mm['main'] / 1024:7.1f} {mm['helper'] / 1024:11.1f} {mm['pss'] / 1024:10.1f}")
    if mb:
        print(f"{'strace-process-tree on 1x':45} {mb['main'] / 1024:7.1f} {'-':>11} {mb['pss'] / 1024:10.1f}")
    print(f"tracerule graph on 1x: peak PSS of both processes = start-up + {(m1['pss'] - start['pss']) / 1024:.1f} MB, "
          f"peak RSS of the main one = start-up + {(m1['main'] - start['main']) / 1024:.1f} MB "
          f"(target: within start-up + 20 MB)")
    if not args.no_long:
        ten = infos["10x"]
        g10 = tr_cmd + ["graph", "--format", "json", ten["trace"]]
        t10, c10, rc10 = run(g10)
        m10 = memory(g10)
        print(f"\n10x trace: {ten['trace']}: {ten['lines']:,} lines ({ten['lines'] / lines:.1f}x), "
              f"{ten['processes']:,} processes (1x: {one['processes']:,})")
        print(f"tracerule graph on 10x: {t10:.2f} s wall, {c10:.2f} s CPU, {ten['lines'] / t10:,.0f} lines/s, exit {rc10}; "
              f"peak PSS {m10['pss'] / 1024:.1f} MB (10x/1x {m10['pss'] / m1['pss']:.2f}), peak RSS "
              f"{m10['main'] / 1024:.1f} MB (10x/1x {m10['main'] / m1['main']:.2f}), helper {m10['helper'] / 1024:.1f} MB "
              f"(flat ~ 1.0)")


if __name__ == "__main__":
    main()
