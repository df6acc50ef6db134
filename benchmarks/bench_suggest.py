#!/usr/bin/env python3
"""Time ``tracerule suggest TRACE`` (with the default baseline) against ``tracerule graph`` over the
same inputs (the trace and the baseline traces), in the same run, on the >= 1M-line workload trace.

    /work/venv/bin/python benchmarks/bench_suggest.py [--repeat N] [--trace FILE]

Both run as whole subprocesses (start-up and imports included), output to /dev/null.  The trace is
the one ``benchmarks/workload.py`` records and caches (``benchmarks/.cache/workload-1x.txt``).  The
baseline of the comparison is ``tracerule graph --format json`` run once on the trace and once on each
default baseline trace (suggest reads all of them).  Printed: wall seconds of both, the ratio
suggest/graph (target: <= 1.5), and suggest without a baseline for information.  No pass/fail.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PY = sys.executable


def run(argv: list[str]) -> tuple[float, int]:
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        rc = subprocess.run(argv, stdout=null, stderr=null, stdin=subprocess.DEVNULL).returncode
        return time.perf_counter() - t0, rc


def best(argvs: list[list[str]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        tot = 0.0
        for argv in argvs:
            t, rc = run(argv)
            if rc not in (0, 1):
                sys.exit(f"bench_suggest: {' '.join(argv)} exited with {rc}")
            tot += t
        times.append(tot)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per command (best is kept)")
    ap.add_argument("--trace", help="trace (default: the cached >= 1M-line workload trace)")
    args = ap.parse_args()
    if args.trace:
        trace = args.trace
    else:
        import workload

        trace = str(workload.ensure("1x")["1x"]["trace"])
    from tracerule.synth.baseline import default_baseline_paths

    bases = [str(p) for p in default_baseline_paths()]
    with open(trace, "rb") as fh:
        lines = sum(1 for _ in fh)
    tr = [PY, "-m", "tracerule"]
    graph = [tr + ["graph", "--format", "json", t] for t in [trace] + bases]
    sug = [tr + ["suggest", trace, "--json"]]
    sug0 = [tr + ["suggest", trace, "--json", "--no-baseline"]]
    g = best(graph, args.repeat)
    s = best(sug, args.repeat)
    s0 = best(sug0, args.repeat)
    print(f"trace: {trace} ({lines:,} lines); default baseline: {', '.join(os.path.basename(b) for b in bases)}")
    print(f"graph (trace + baselines): {g:.2f} s")
    print(f"suggest (default baseline): {s:.2f} s   ratio suggest/graph = {s / g:.2f}  (target <= 1.5)")
    print(f"suggest --no-baseline:      {s0:.2f} s   (graph of the trace alone is part of the figure above)")


if __name__ == "__main__":
    main()
