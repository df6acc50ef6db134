"""Read and format every public rule set in one run; prints lines/s (one command).

    /work/venv/bin/python benchmarks/bench_rules.py [--repeat N]

Baseline in the same run: a bare split of the same lines on spaces (the floor any reader pays).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "tests" / "data" / "rules"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    from tracerule.audit.rules.emit import canonical, source_lines
    from tracerule.audit.rules.model import ControlLine
    from tracerule.audit.rules.parse import ParseOptions, parse_text

    files = sorted(SETS.rglob("*.rules"))
    texts = [(str(p), p.read_text()) for p in files]
    nlines = sum(len(t.splitlines()) for _, t in texts)
    opts = ParseOptions(is_dir=lambda p: False)
    t0 = time.perf_counter()
    rules = 0
    for _ in range(args.repeat):
        for name, text in texts:
            res = parse_text(text, file=name, options=opts)
            for it in res.items:
                if not isinstance(it, ControlLine):
                    canonical(it)
                    source_lines(it)
                    rules += 1
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _ in range(args.repeat):
        for _, text in texts:
            for line in text.splitlines():
                line.split(" ")
    base = time.perf_counter() - t1
    total = nlines * args.repeat
    print(f"files {len(files)}  lines {nlines}  rules {rules // args.repeat}  repeat {args.repeat}")
    print(f"read+format: {total / dt:,.0f} lines/s ({rules / dt:,.0f} rules/s)")
    print(f"baseline (split only): {total / base:,.0f} lines/s; ratio {base / dt:.3f}")


if __name__ == "__main__":
    main()
