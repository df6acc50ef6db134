#!/usr/bin/env python3
"""CPU-time figures (and optionally a profile) of the strace reader's modes on one trace.

    /work/venv/bin/python benchmarks/bench_reader_profile.py TRACE [--repeat N] [--profile MODE]
        [--modes bare,names,procnames,full,graph,cli]

CPU time (``time.process_time``), not wall time: the machine is shared.  Best of ``--repeat``.

* ``bare``: a binary ``for line in f`` loop (the named baseline);
* ``names``: ``TraceReader(trace, names=...)`` with the names ``tracerule graph`` passes for it;
* ``procnames``: ``names=`` only the process/credential syscalls (creation, exec, set*id, exit);
* ``full``: every event built;
* ``graph``: ``build_graph(trace)`` in this process;
* ``cli``: ``python -m tracerule graph --format json TRACE`` as a child (start-up included;
  CPU time of the child from ``getrusage(RUSAGE_CHILDREN)``).

``--profile MODE`` runs that mode once under cProfile and prints the top functions.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PROC_NAMES = frozenset({
    "clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "setgroups", "capset", "prctl", "unshare", "setns", "kill", "tgkill",
})


def bare(path: str) -> int:
    n = 0
    with open(path, "rb") as f:
        for _line in f:
            n += 1
    return n


def _read(path: str, names) -> int:
    from tracerule.strace.reader import TraceReader

    n = 0
    for _ev in TraceReader(path, names=names):
        n += 1
    return n


def names(path: str) -> int:
    from tracerule.graph.build import NAMES

    try:            # the set the graph really passes for this trace (-y traces need no open/dup/close)
        from tracerule.graph.build import NAMES_DECORATED, fds_decorated

        if fds_decorated(path):
            return _read(path, NAMES_DECORATED)
    except ImportError:
        pass
    return _read(path, NAMES)


def procnames(path: str) -> int:
    return _read(path, PROC_NAMES)


def full(path: str) -> int:
    return _read(path, None)


def graph(path: str) -> int:
    from tracerule.graph import build_graph

    return len(list(build_graph(path)))


def cli(path: str) -> int:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "tracerule", "graph", "--format", "json", path],
                   stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int(1e6 * ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)))


MODES = {"bare": bare, "names": names, "procnames": procnames, "full": full, "graph": graph, "cli": cli}


def cpu(fn, path: str) -> tuple[float, int]:
    t0 = time.process_time()
    out = fn(path)
    t = time.process_time() - t0
    if fn is cli:
        t = out / 1e6
    return t, out


def main() -> None:
    # CPU time of this process says what the reading costs only when all of it runs here: no
    # helper process (tracerule/strace/_prefetch.py) unless asked for
    os.environ.setdefault("TRACERULE_JOBS", "1")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default="bare,names,procnames,full")
    ap.add_argument("--profile", choices=sorted(MODES))
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    path = args.trace
    lines = bare(path)
    size = os.path.getsize(path)
    print(f"trace: {path}: {lines:,} lines, {size / 1e6:.1f} MB")
    if args.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        MODES[args.profile](path)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(args.top)
        return
    print(f"{'mode':10} {'cpu s':>8} {'lines/s':>12}  output")
    for mode in args.modes.split(","):
        fn = MODES[mode]
        best, out = float("inf"), 0
        for _ in range(args.repeat):
            t, out = cpu(fn, path)
            best = min(best, t)
        print(f"{mode:10} {best:8.3f} {lines / best:12,.0f}  {out:,}", flush=True)


if __name__ == "__main__":
    main()
