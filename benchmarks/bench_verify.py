#!/usr/bin/env python3
"""Time ``tracerule verify RULES TRACE --json`` against ``tracerule graph --format json TRACE``
(the baseline) on the same >= 1M-line ``strace -f -tt -T -yy`` trace of a real workload.

    /work/venv/bin/python benchmarks/bench_verify.py [--repeat N] [--rules FILE]

Both run as whole subprocesses (start-up and imports included), output to /dev/null, in the same
run, on the trace ``benchmarks/workload.py`` records and caches (``benchmarks/.cache/``), with their
bytecode cached as an installed program has it (the environment of ``bench_graph.py``), after one
unmeasured warm-up run each, their runs alternated.  The default rules are a typical targeted set
(execs of chosen programs, set*id, module loads, a socket connect and an openat of a sensitive
file, b64 and b32), written to the cache directory.  Printed: the best wall and CPU seconds of
both and the ratio verify/graph of each (target: <= 1.5).  A second line times a rule set with a
watch (every syscall enriched) for information.  Both also run in one process each
(``TRACERULE_JOBS=1``: no helper process scanning the trace ahead), for information.  No pass/fail.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_graph import ENV, ONE  # noqa: E402  (both benchmarks run their children alike)

TARGETED = """\
-a always,exit -F arch=b64 -S execve,execveat -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k priv
-a always,exit -F arch=b32 -S execve,execveat -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k priv
-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/gzip -k gz
-a always,exit -F arch=b64 -S setuid,setreuid,setresuid,setgid,setresgid -k ids
-a always,exit -F arch=b32 -S setuid32,setreuid32,setresuid32 -k ids
-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules
-a always,exit -F arch=b64 -S connect -F saddr_fam=2 -k net
-a always,exit -F arch=b64 -S openat -F a2&0x3 -F success=1 -k writes
"""
WATCH = "-w /etc/passwd -p wa -k passwd\n-a always,exit -F arch=b64 -S execve -k exec\n"


def run(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Run ``argv`` with output to /dev/null: (wall seconds, CPU seconds of the child and the
    children it waited for, exit status).  The child runs as an installed program does, with its
    bytecode cached (``bench_graph.ENV``)."""
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=null, stdin=subprocess.DEVNULL, env=env or ENV)
        _, status, ru = os.wait4(proc.pid, 0)
        return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


def best_pair(a: list[str], b: list[str], repeat: int,
              env: dict | None = None) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best (wall, CPU) of ``repeat`` runs of each command, the two alternated (a drift of the
    shared machine's load then hits both alike), after one unmeasured warm-up run of each."""
    res: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for i in range(repeat + 1):
        for k, argv in enumerate((a, b)):
            wall, cpu, rc = run(argv, env)
            if rc not in (0, 1):
                sys.exit(f"bench_verify: {' '.join(argv)} exited with {rc}")
            if i:
                res[k].append((wall, cpu))
    return tuple((min(w for w, _ in res[k]), min(c for _, c in res[k])) for k in (0, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per command (best is kept)")
    ap.add_argument("--rules", help="rules file (default: a targeted set written to the cache)")
    ap.add_argument("--no-watch", action="store_true", help="skip the watch (all syscalls) line")
    args = ap.parse_args()
    import workload

    info = workload.ensure("1x")["1x"]
    trace = info["trace"]
    cache = HERE / ".cache"
    rules = args.rules
    if rules is None:
        rules = str(cache / "bench_verify.rules")
        Path(rules).write_text(TARGETED)
    py = sys.executable
    graph = [py, "-m", "tracerule", "graph", "--format", "json", trace]
    verify = [py, "-m", "tracerule", "verify", rules, trace, "--json"]
    print(f"trace: {trace}: {info['lines']:,} lines, {info['processes']:,} processes "
          f"({info['strace']})")
    (tg, cg), (tv, cv) = best_pair(graph, verify, args.repeat)
    print(f"{'':30}   wall s   CPU s   lines/s (wall)")
    print(f"tracerule graph --format json : {tg:7.2f} {cg:7.2f}   {info['lines'] / tg / 1e6:.2f} M")
    print(f"tracerule verify (targeted)   : {tv:7.2f} {cv:7.2f}   {info['lines'] / tv / 1e6:.2f} M")
    print(f"ratio verify/graph            : {tv / tg:7.2f}x {cv / cg:6.2f}x  (target <= 1.5x; wall, CPU)")
    # both again in one process each (no helper scanning ahead: tracerule/strace/_prefetch.py)
    (tg1, cg1), (tv1, cv1) = best_pair(graph, verify, args.repeat, ONE)
    print(f"one process each (TRACERULE_JOBS=1): graph {tg1:.2f} s, verify {tv1:.2f} s wall: "
          f"{tv1 / tg1:.2f}x (CPU {cv1 / cg1:.2f}x)")
    if not args.no_watch:
        wr = cache / "bench_verify_watch.rules"
        wr.write_text(WATCH)
        tw, cw, _ = run([py, "-m", "tracerule", "verify", str(wr), trace, "--json"])
        print(f"tracerule verify (a watch: every syscall enriched): {tw:7.2f} s  "
              f"({tw / tg:.2f}x graph; information)")


if __name__ == "__main__":
    main()
