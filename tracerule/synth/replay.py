"""Step ``replay``: the final rule set through the simulator, on the trace itself.

Coverage: every recorded instance of every target must be logged (a SYSCALL record reaches the log).
Noise: the events the rules log beyond the targets' instances -- on the trace itself, marked
"no baseline" (baselines come with issue 13: :func:`replay` takes the records it is given, so a
baseline's records can be passed the same way).
"""
from __future__ import annotations

from collections import Counter

from tracerule.audit.rules.classes import kernel_class
from tracerule.audit.rules.model import Rule, Watch
from tracerule.synth.model import Coverage


def wanted_names(items, host: str) -> frozenset[str] | None:
    """Syscall names the rules can match (watches: the file classes), for enrich(names=...)."""
    from tracerule.audit.tables import COMPAT, table

    out: set[str] = set()
    arches = [host] + ([COMPAT[host]] if COMPAT.get(host) else [])
    for it in items:
        if isinstance(it, Watch) or (isinstance(it, Rule) and it.syscalls is not None and it.syscalls.all
                                     and any(getattr(f, "name", "") == "path" for f in it.fields)):
            for a in arches:
                for cls in ("write", "chattr", "read", "open", "openat", "openat2", "execve"):
                    out.update(kernel_class(a, cls))
            continue
        if not isinstance(it, Rule) or it.syscalls is None:
            continue
        if it.syscalls.all:
            return None
        t = table(it.syscalls.arch)
        for nr in it.syscalls.numbers:
            n = t.name(nr)
            if n:
                out.add(n)
                if n == "socketcall":
                    out.update({"socket", "connect", "bind", "listen", "accept", "accept4", "sendto",
                                "recvfrom", "sendmsg", "recvmsg", "getsockname", "getpeername"})
            out.add(f"syscall_{nr:#x}")
    return frozenset(out)


def trace_records(paths_graphs, names) -> list:
    """Kernel-view records of the traces (only ``names``), via :mod:`tracerule.audit.enrich`."""
    from tracerule.audit.enrich import enrich

    recs = []
    for path, graph in paths_graphs:
        recs.extend(enrich(path, graph, names=names))
    return recs


def replay(items, records, targets, *, host: str, resolver) -> tuple[list[Coverage], dict[int, int], dict]:
    """(coverage per target, noise per item index, logged keys per target)."""
    from tracerule.audit.simulate import compile_rules, simulate

    c = compile_rules(items, host=host, file_identity=resolver)
    want: dict[tuple[str, int], str] = {}
    for t in targets:
        for e in t.instances:
            want[(e.file, e.line)] = t.id
    logged: dict[tuple[str, int], str] = {}
    noise: Counter = Counter()
    for d in simulate(c, records):
        if not d.logged:
            continue
        r = records[d.index]
        k = (r.source, r.line)
        if k in want:
            logged[k] = d.key or ""
        elif d.rule is not None:
            noise[d.rule] += 1
    cov = []
    for t in targets:
        inst = [(e.file, e.line) for e in t.instances]
        missed = tuple(f"{f}:{ln}" for f, ln in inst if (f, ln) not in logged)
        keys = tuple(sorted({logged[k] for k in inst if k in logged}))
        cov.append(Coverage(t.id, len(inst), len(inst) - len(missed), missed, keys))
    return cov, dict(noise), {}


def replay_instances(items, target_records: dict, targets, *, host: str, resolver) -> list[Coverage]:
    """Coverage from the targets' own records (when the trace cannot be enriched for this host)."""
    from tracerule.synth.ladders import caught

    cov = []
    for t in targets:
        recs = target_records.get(t.id, [])
        hit = caught(items, recs, host, resolver)
        missed = tuple(f"{r.source}:{r.line}" for r, h in zip(recs, hit) if not h)
        cov.append(Coverage(t.id, len(t.instances), len(t.instances) - len(missed)
                            - (len(t.instances) - len(recs)), missed, ()))
    return cov
