"""``tracerule review``: re-verification after an edit, incremental (per-rule hit caches) vs a full
re-run of the simulator, against a 100k-line baseline.

    python benchmarks/bench_review.py [--lines 100000] [--repeat 5]

The baseline trace is the first N lines of ``workload-1x.txt`` (benchmarks/workload.py records it
once into benchmarks/.cache/).  The session is the review sample (tests/data/review/multi.strace).
Named baseline, same run: "full" = compile every rule the review could write and simulate it over
the trace's and the baseline's records (what a review without caches does after each edit).
Target (issue 12): an edit updates coverage and noise in under 200 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def baseline_trace(lines: int) -> Path:
    sys.path.insert(0, str(HERE))
    import workload

    info = workload.ensure("1x")
    src = Path(info["1x"]["trace"]) if isinstance(info.get("1x"), dict) and "trace" in info["1x"] \
        else HERE / ".cache" / "workload-1x.txt"
    out = HERE / ".cache" / f"review-baseline-{lines}.txt"
    if not out.exists():
        with open(src, "rb") as fi, open(out, "wb") as fo:
            for i, line in enumerate(fi):
                if i >= lines:
                    break
                fo.write(line)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    from tracerule.audit.simulate import compile_rules, simulate
    from tracerule.review.session import ReviewSession
    from tracerule.synth.pipeline import SuggestOptions

    base = baseline_trace(a.lines)
    t0 = time.perf_counter()
    rs = ReviewSession.from_traces([str(ROOT / "tests/data/review/multi.strace")],
                                   SuggestOptions(auditctl_version="3.0.9"), baseline=[str(base)])
    load = time.perf_counter() - t0
    nb = len(rs._base.records)
    print(f"baseline: {base.name}: {a.lines} lines -> {nb} records; session load (suggest + both reads) {load:.2f} s")
    for pid in rs.ids:                       # warm: every proposal's rules simulated once
        rs.view(pid)
    rs.coverage()

    def full() -> float:
        items = [it for pid in rs.ids for it in rs._expanded(pid, rs._st[pid])]
        t = time.perf_counter()
        c = compile_rules(items, host=rs.host.arch, file_identity=rs._trace.resolver)
        for _ in simulate(c, rs._trace.records):
            pass
        for _ in simulate(c, rs._base.records):
            pass
        return time.perf_counter() - t

    edits = []
    pids = list(rs.ids)
    vals = [f"euid={1000 + i}" for i in range(a.repeat * 4)]

    def edit(i: int) -> float:
        pid = pids[i % len(pids)]
        t = time.perf_counter()
        kind = i % 4
        if kind == 0:
            rs.set_field(pid, vals[i], confirm=True)     # a new rule: simulated on trace + baseline
        elif kind == 1:
            rs.widen(pid, confirm=True)
        elif kind == 2:
            rs.toggle_b32(pid, confirm=True)
        else:
            rs.accept(pid, confirm=True)
        rs.view(pid)
        rs.coverage()
        return time.perf_counter() - t

    for i in range(a.repeat * 4):
        edits.append(edit(i))
    fulls = [full() for _ in range(a.repeat)]
    med, worst = statistics.median(edits), max(edits)
    fmed = statistics.median(fulls)
    print(f"edit -> coverage + noise (incremental): median {med * 1000:.1f} ms, worst {worst * 1000:.1f} ms "
          f"over {len(edits)} edits (set field / widen / b32 / accept)")
    print(f"baseline 'full' re-simulation of all {sum(len(rs._expanded(p, rs._st[p])) for p in rs.ids)} rules: "
          f"median {fmed * 1000:.1f} ms")
    print(f"ratio full/incremental (median): {fmed / med:.1f}x; target: worst edit < 200 ms: "
          f"{'met' if worst < 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
