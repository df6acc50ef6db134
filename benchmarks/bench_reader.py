#!/usr/bin/env python3
"""Time tracerule's strace reader over the >= 1M-line real trace, beside a bare Python line loop.

    /work/venv/bin/python benchmarks/bench_reader.py [--trace FILE] [--repeat N]

Records the trace first if it is not cached (benchmarks/workload.py).  In the same run it times:

* baseline: a bare binary ``for line in f: n += 1`` loop over the same file (page cache warm);
* ``TraceReader(trace)``: full mode, every event built;
* ``TraceReader(trace, names=tracerule.graph.NAMES)``: the filtered mode the graph uses, in one
  process (``jobs=1``) and as the commands run it on a trace this big (a helper process scanning
  ahead on a second CPU: tracerule/strace/_prefetch.py).

It prints lines/s of each and the ratio reader/baseline (how many times slower than merely
reading the lines in Python).  Best of ``--repeat`` runs.  No pass/fail: figures only.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def bare_loop(path: str) -> int:
    n = 0
    with open(path, "rb") as f:
        for _line in f:
            n += 1
    return n


def reader_full(path: str) -> int:
    from tracerule.strace.reader import TraceReader

    n = 0
    for _ev in TraceReader(path):
        n += 1
    return n


def reader_names(path: str, jobs: int | None = 1) -> int:
    from tracerule.graph import NAMES
    from tracerule.strace.reader import TraceReader

    n = 0
    for _ev in TraceReader(path, names=NAMES, jobs=jobs):
        n += 1
    return n


def reader_names_helper(path: str) -> int:
    """names mode as the commands get it on a big trace: with the helper process scanning ahead
    (tracerule/strace/_prefetch.py; two CPUs, wall time)."""
    return reader_names(path, None)


def best_of(fn, path: str, repeat: int) -> tuple[float, int]:
    best = float("inf")
    out = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(path)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trace", help="trace to read (default: the cached 1M-line workload trace)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is shown)")
    args = ap.parse_args()
    if args.trace:
        path = args.trace
        lines = bare_loop(path)
        label = path
    else:
        import workload

        info = workload.ensure("1x")["1x"]
        path, lines = info["trace"], info["lines"]
        label = f"{path} ({info['command']})"
    size = Path(path).stat().st_size
    print(f"trace: {label}")
    print(f"       {lines:,} lines, {size / 1e6:.1f} MB, {Path(path).name}")
    bare_loop(path)  # warm the page cache
    rows = []
    t, n = best_of(bare_loop, path, args.repeat)
    rows.append(("baseline: Python `for line in f` (binary)", t, f"{n:,} lines"))
    base = t
    t, n = best_of(reader_full, path, args.repeat)
    rows.append(("tracerule TraceReader (full)", t, f"{n:,} events"))
    t, n = best_of(reader_names, path, args.repeat)
    rows.append(("tracerule TraceReader (names=graph NAMES)", t, f"{n:,} events"))
    t, n = best_of(reader_names_helper, path, args.repeat)
    rows.append(("  the same with its helper process (2 CPUs)", t, f"{n:,} events"))
    print(f"\n{'what':45} {'seconds':>8} {'lines/s':>12} {'MB/s':>8} {'x baseline time':>16}  output")
    for what, t, out in rows:
        print(f"{what:45} {t:8.3f} {lines / t:12,.0f} {size / 1e6 / t:8.1f} {t / base:16.1f}  {out}")
    print(f"\nbest of {args.repeat} runs each; baseline named: bare Python binary line loop over the same file")


if __name__ == "__main__":
    main()
