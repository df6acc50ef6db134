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


#: syscalls whose events the read step keeps for replay (rare lines: the trace is then not read
#: again when the candidate rules name only these); frequent ones (open, openat ...) are not kept
REPLAY_KEEP = frozenset({
    "execve", "execveat", "connect", "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32",
    "lchown32", "chmod", "fchmod", "fchmodat", "fchmodat2", "setuid", "setgid", "setreuid", "setregid",
    "setresuid", "setresgid", "setfsuid", "setfsgid", "setuid32", "setgid32", "setreuid32",
    "setregid32", "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "mount", "umount",
    "umount2", "pivot_root", "ptrace", "init_module", "finit_module", "delete_module", "unshare",
    "setns", "chdir", "fchdir", "prctl", "personality"})
#: the arches whose ``syscall_0x..`` forms of :data:`REPLAY_KEEP` the read step asks for too
REPLAY_ARCHES = ("x86_64", "i386")


def replay_keep_names() -> frozenset[str]:
    """:data:`REPLAY_KEEP` and their ``syscall_0x..`` forms (unknown-name lines) on x86_64/i386."""
    from tracerule.audit.tables import table

    out = set(REPLAY_KEEP)
    for a in REPLAY_ARCHES:
        t = table(a)
        for n in REPLAY_KEEP:
            try:
                nr = t.nr(n)
            except Exception:  # noqa: BLE001 - a name this arch has not
                nr = None
            if nr is not None:
                out.add(f"syscall_{nr:#x}")
    return frozenset(out)


def trace_records(paths_graphs, names, kept=None) -> list:
    """Kernel-view records of the traces (only ``names``), via :mod:`tracerule.audit.enrich`.
    ``kept``: per trace, the syscall events of :func:`replay_keep_names` its read step kept (or
    None); used instead of reading the trace again when ``names`` (and enrich's own state names)
    are all among them."""
    from tracerule.audit import enrich as EN

    recs = []
    kept = kept or [None] * len(paths_graphs)
    for (path, graph), evs in zip(paths_graphs, kept):
        if evs is not None and names is not None and graph is not None \
                and (frozenset(names) | EN.STATE_NAMES) <= replay_keep_names():
            recs.extend(EN.Enricher(path, graph, names=names).from_events(evs))
            continue
        recs.extend(EN.enrich(path, graph, names=names))
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
