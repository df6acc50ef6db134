#!/usr/bin/env python3
"""Time ``tracerule graph --format json TRACE`` against ``strace-process-tree TRACE`` (the baseline).

    /work/venv/bin/python benchmarks/bench_graph.py [--repeat N] [--no-long]

Both run as whole subprocesses (interpreter start-up and imports included), on the same
>= 1M-line ``strace -f -tt -T -yy`` trace of a real workload (benchmarks/workload.py records and
caches it), in the same run, output to /dev/null, each after one unmeasured warm-up run (bytecode
cached as in an installed copy: see ``ENV``).  Printed: wall seconds, lines/s of both, the
ratio (target: tracerule >= 5x strace-process-tree's lines/s) and the peak RSS of both (from
``os.wait4`` rusage).  Then tracerule's peak RSS on the "10x" trace (the same processes running
10x longer) beside its start-up RSS (``tracerule --help``) -- target: peak RSS within start-up +
20 MB, and flat between 1x and 10x.

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


def run(argv: list[str]) -> tuple[float, int, int]:
    """Run ``argv`` with stdout/stderr to /dev/null: (wall seconds, peak RSS KiB, exit status).

    Peak RSS comes from ``/usr/bin/time -f %M`` when present: a child spawned straight from this
    (bigger) Python process inherits its RSS high-water mark across exec on Linux (vfork/exec keeps
    ``signal->maxrss``), which would inflate small figures.  Without /usr/bin/time: ``os.wait4``.
    """
    import tempfile

    gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    with open(os.devnull, "wb") as null, tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [gnu_time, "-f", "%M %x", "-o", tf.name, *argv] if gnu_time else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=null, stderr=null, stdin=subprocess.DEVNULL, env=ENV)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        rss = ru.ru_maxrss
        if gnu_time:
            parts = tf.read().split()
            if len(parts) >= 2:
                rss, rc = int(parts[-2]), int(parts[-1])
    proc.returncode = rc
    return wall, rss, rc


#: Both tools run as installed programs do: with their bytecode cached.  This environment may set
#: PYTHONDONTWRITEBYTECODE (an editable install then compiles every tracerule module on every run,
#: about 0.07 s and 4 MB that no installed copy pays), so the children get a private pycache
#: (benchmarks/.cache/pycache, filled by one unmeasured warm-up run of each command).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = str(HERE / ".cache" / "pycache")


def best(argv: list[str], repeat: int, warm: bool = True) -> tuple[float, int, int]:
    if warm:
        run(argv)  # warm-up: bytecode cache, page cache
    runs = [run(argv) for _ in range(repeat)]
    wall = min(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    rc = runs[-1][2]
    return wall, rss, rc


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
    rows = []
    t_tr, rss_tr, rc = best(tr_cmd + ["graph", "--format", "json", trace], args.repeat)
    rows.append(("tracerule graph --format json", t_tr, rss_tr, rc))
    if spt:
        t_b, rss_b, rc_b = best([spt, trace], args.repeat)
        rows.append(("baseline: strace-process-tree", t_b, rss_b, rc_b))
    else:
        t_b = None
        print("strace-process-tree is not installed: pip install strace-process-tree (the 'bench' extra)")
    print(f"\n{'command (whole process, start-up included)':45} {'wall s':>8} {'lines/s':>12} {'peak RSS MB':>12} {'exit':>5}")
    for what, t, rss, rc in rows:
        print(f"{what:45} {t:8.3f} {lines / t:12,.0f} {rss / 1024:12.1f} {rc:5d}")
    if t_b:
        print(f"\nratio: tracerule lines/s / strace-process-tree lines/s = {t_b / t_tr:.2f}x (target >= 5x)")
    t_s, rss_start, _ = best(tr_cmd + ["--help"], args.repeat)
    print(f"tracerule start-up (tracerule --help): {t_s:.3f} s, peak RSS {rss_start / 1024:.1f} MB")
    print(f"tracerule graph peak RSS on 1x: {rss_tr / 1024:.1f} MB = start-up + {(rss_tr - rss_start) / 1024:.1f} MB "
          f"(target: within start-up + 20 MB)")
    if not args.no_long:
        ten = infos["10x"]
        t10, rss10, rc10 = best(tr_cmd + ["graph", "--format", "json", ten["trace"]], 1, warm=False)
        print(f"\n10x trace: {ten['trace']}: {ten['lines']:,} lines ({ten['lines'] / lines:.1f}x), "
              f"{ten['processes']:,} processes (1x: {one['processes']:,})")
        print(f"tracerule graph on 10x: {t10:.2f} s, {ten['lines'] / t10:,.0f} lines/s, peak RSS {rss10 / 1024:.1f} MB "
              f"= start-up + {(rss10 - rss_start) / 1024:.1f} MB; 10x/1x peak RSS = {rss10 / rss_tr:.2f} (flat ~ 1.0); "
              f"exit {rc10}")


if __name__ == "__main__":
    main()
