"""Baselines: ordinary work on a host, to measure how noisy a candidate rule is.

    from tracerule.synth.baseline import load_baselines, default_baseline_paths
    b = load_baselines(["default"], names=frozenset({"execve", "connect"}))
    b.records        # kernel-view records (only those names), from every baseline trace
    b.mix            # tracerule.audit.cost.SyscallMix: every syscall by name + untraced wall time

``"default"`` stands for the baseline shipped with the package (``tracerule/baselines/``: an admin's
root shell and a developer's user shell, recorded with ``tracerule record --time-untraced``; the
scripts that made them sit beside them).  A baseline is an ordinary strace file with its sidecar;
the sidecar's ``untraced_wall_time`` gives rates per second.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tracerule.errors import InputError

DEFAULT = "default"


def default_baseline_paths() -> list[Path]:
    """The shipped baseline traces (``*.strace.gz`` in :mod:`tracerule.baselines`)."""
    d = Path(__file__).resolve().parent.parent / "baselines"
    out = sorted(p for p in d.glob("*.strace.gz") if p.is_file())
    if not out:
        out = sorted(p for p in d.glob("*.strace") if p.is_file())
    return out


def resolve(paths) -> list[str]:
    out: list[str] = []
    for p in paths:
        if str(p) == DEFAULT:
            d = default_baseline_paths()
            if not d:
                raise InputError("the default baseline is not installed (tracerule/baselines/*.strace.gz)")
            out.extend(str(x) for x in d)
        else:
            if not os.path.exists(str(p)):
                raise InputError(f"baseline {p}: no such file or directory")
            out.append(str(p))
    return out


@dataclass
class Baseline:
    """Records of one or more baseline traces, and their syscall mix."""

    paths: tuple[str, ...]
    records: list = field(default_factory=list)
    mix: object = None                     #: tracerule.audit.cost.SyscallMix
    notes: list[str] = field(default_factory=list)
    graphs: list = field(default_factory=list)

    @property
    def label(self) -> str:
        names = [os.path.basename(p) for p in self.paths]
        return "baseline " + ", ".join(names)

    @property
    def wall(self) -> float | None:
        return getattr(self.mix, "wall", None)


MIX_SUFFIX = ".mix.json"


def mix_counts(path: str) -> dict:
    """Syscalls by name of a baseline trace; from ``TRACE.mix.json`` beside it when that was written
    for a file of this size (:func:`write_mix`), else counted from the trace."""
    import json

    from tracerule.audit.cost import count_syscall_names

    mp = path + MIX_SUFFIX
    try:
        with open(mp, encoding="utf-8") as fh:
            d = json.load(fh)
        if d.get("schema_version") == 1 and d.get("size") == os.path.getsize(path):
            return {str(k): int(v) for k, v in d["counts"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return dict(count_syscall_names(path))


def write_mix(path: str) -> str:
    """Write ``TRACE.mix.json`` (the syscall counts of a baseline trace, so loading skips counting)."""
    import json

    from tracerule.audit.cost import count_syscall_names

    d = {"schema_version": 1, "trace": os.path.basename(path), "size": os.path.getsize(path),
         "counts": dict(sorted(count_syscall_names(path).items()))}
    with open(path + MIX_SUFFIX, "w", encoding="utf-8") as fh:
        json.dump(d, fh, indent=0)
    return path + MIX_SUFFIX


def load_baselines(paths, names=None) -> Baseline:
    """Read each baseline once: its process graph, its records (``names`` only, for the simulator),
    and its syscall mix (every syscall, counted from the lines)."""
    from tracerule.audit.cost import SyscallMix
    from tracerule.audit.enrich import Enricher
    from tracerule.sidecar import find_sidecar, read_sidecar

    files = resolve(paths)
    b = Baseline(tuple(files))
    counts: dict = {}
    wall = 0.0
    wall_known = True
    for p in files:
        scp = find_sidecar(p)
        sc = read_sidecar(scp) if scp else None
        if sc is None or sc.untraced_wall_time is None:
            wall_known = False
            b.notes.append(f"{p}: no untraced wall time in its sidecar: events per second not estimated")
        else:
            wall += float(sc.untraced_wall_time)
        en = Enricher(p, None, names=names, sidecar=sc)     # graph and records in one read
        b.records.extend(en)
        b.graphs.append(en.graph)
        for k, v in mix_counts(p).items():
            counts[k] = counts.get(k, 0) + v
    b.mix = SyscallMix(counts, wall if wall_known and wall > 0 else None,
                       ", ".join(os.path.basename(p) for p in files))
    return b
