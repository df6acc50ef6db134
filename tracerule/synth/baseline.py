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


def _open_graph(path: str):
    from tracerule.graph import build_graph
    from tracerule.sidecar import find_sidecar

    return build_graph(path, sidecar="auto"), find_sidecar(path)


def load_baselines(paths, names=None) -> Baseline:
    """Read each baseline once: its process graph, its records (``names`` only, for the simulator),
    and its syscall mix (every syscall, counted from the lines)."""
    from tracerule.audit.cost import SyscallMix, count_syscall_names
    from tracerule.audit.enrich import enrich
    from tracerule.sidecar import read_sidecar

    files = resolve(paths)
    b = Baseline(tuple(files))
    counts: dict = {}
    wall = 0.0
    wall_known = True
    for p in files:
        g, scp = _open_graph(p)
        b.graphs.append(g)
        sc = read_sidecar(scp) if scp else None
        if sc is None or sc.untraced_wall_time is None:
            wall_known = False
            b.notes.append(f"{p}: no untraced wall time in its sidecar: events per second not estimated")
        else:
            wall += float(sc.untraced_wall_time)
        b.records.extend(enrich(p, g, names=names, sidecar=str(scp) if scp else None))
        for k, v in count_syscall_names(p).items():
            counts[k] = counts.get(k, 0) + v
    b.mix = SyscallMix(counts, wall if wall_known and wall > 0 else None,
                       ", ".join(os.path.basename(p) for p in files))
    return b
