"""``tracerule suggest`` as an ordered pipeline of named steps.

    from tracerule.synth import suggest, SuggestOptions
    s = suggest(["trace.txt"], SuggestOptions(b32="pairs"))
    s.rules          # [SuggestedRule]: item (Rule/Watch) + provenance (targets, chains, lines, steps)
    s.coverage       # replay on the trace itself; s.missed / s.complete

Steps (:data:`STEPS`, in order): ``read`` (graph + sidecar per trace), ``targets``, ``handoffs``,
``ladders``, ``variants`` (simulator on synthetic variant records), ``choose``, ``assemble``
(merge, keys, order, b32), ``replay`` (coverage and noise on the trace), ``lint``.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, replace

from tracerule.audit.tables import COMPAT, canonical_arch
from tracerule.errors import InputError
from tracerule.synth.model import AUID_UNKNOWN, CATEGORIES, HostSettings, Ladder, Suggestion

STEPS = ("read", "targets", "handoffs", "ladders", "variants", "choose", "assemble", "replay", "lint")


@dataclass(frozen=True)
class SuggestOptions:
    focus: tuple[str, ...] | None = None     #: categories (None: all)
    level: str | None = None                 #: exact | program | behaviour (default: narrowest)
    b32: str = "pairs"                       #: pairs | catchall | none
    target_arch: str | None = None
    auditctl_version: str | None = None
    uid_min: int | None = None
    attack: bool = False
    sidecar: object = "auto"
    replay: bool = True
    #: baseline traces of ordinary work on the host ("default": the one shipped with the package);
    #: None or (): no baseline (noise is measured on the trace itself)
    baselines: tuple[str, ...] | None = None
    #: existing rules: a rules.d directory, a rules file, or "live" (``auditctl -l``); None: none
    existing: str | None = None
    #: the name the rules file gets in rules.d (its place in augenrules' order among --existing)
    rules_name: str = "50-tracerule.rules"
    #: start credentials the user states (win over the sidecar's recorder), as ``tracerule graph``
    uid: int | None = None
    auid: int | None = None


def login_defs_uid_min(path: str = "/etc/login.defs") -> int | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = re.match(r"\s*UID_MIN\s+(\d+)\s*(#.*)?$", line)
                if m:
                    return int(m.group(1))
    except OSError:
        return None
    return None


def auditctl_version_here() -> str | None:
    exe = shutil.which("auditctl")
    if not exe:
        return None
    try:
        res = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)", res.stdout + res.stderr)
    return m.group(1) if m else None


def settings(opts: SuggestOptions, sidecars) -> HostSettings:
    from tracerule.audit.rules.fields import AUDITCTL_VERSION

    sc = next((s for s in sidecars if s is not None), None)
    trace_arch = canonical_arch(sc.arch) if sc is not None and sc.arch else "x86_64"
    if opts.target_arch:
        arch, asrc = canonical_arch(opts.target_arch), "--target-arch"
    elif sc is not None and sc.arch:
        arch, asrc = trace_arch, "sidecar"
    else:
        arch, asrc = canonical_arch(platform.machine() or "x86_64"), "this host"
    arch = {"ppc64": "ppc64le", "s390": "s390x"}.get(arch, arch)
    from tracerule.audit.tables import ARCHES

    if arch not in ARCHES or arch in ("i386", "arm"):
        raise InputError(f"--target-arch {arch}: give a 64-bit machine with a syscall table "
                         f"({', '.join(a for a in ARCHES if a not in ('i386', 'arm'))})")
    if opts.auditctl_version:
        ver, vsrc = opts.auditctl_version, "--auditctl-version"
    else:
        here = auditctl_version_here()
        ver, vsrc = (here, "this host's auditctl") if here else (AUDITCTL_VERSION, "default")
    if opts.uid_min is not None:
        um, usrc = opts.uid_min, "--uid-min"
    elif sc is not None and sc.uid_min is not None:
        um, usrc = sc.uid_min, "sidecar"
    else:
        ld = login_defs_uid_min()
        um, usrc = (ld, "/etc/login.defs of this host") if ld is not None else (1000, "default")
    b32 = opts.b32
    if b32 not in ("pairs", "catchall", "none"):
        raise InputError(f"--b32 {b32}: use pairs, catchall or none")
    if COMPAT.get(arch) is None and b32 != "none":
        b32 = "none"
    return HostSettings(arch, asrc, COMPAT.get(arch), ver, vsrc, um, usrc, b32, trace_arch)


def suggest(traces, opts: SuggestOptions | None = None) -> Suggestion:
    """Run every step on one or more traces (merged) and return the :class:`Suggestion`."""
    from tracerule.synth import ladders as L
    from tracerule.synth.assemble import assemble
    from tracerule.synth.choose import choose
    from tracerule.synth.context import TraceContext
    from tracerule.synth.handoff import find_handoffs, handoff_ladder
    from tracerule.synth.replay import replay, replay_instances, trace_records, wanted_names
    from tracerule.synth.targets import find_targets

    opts = opts or SuggestOptions()
    paths = [str(p) for p in ([traces] if isinstance(traces, (str, os.PathLike)) else traces)]
    if not paths:
        raise InputError("suggest: give at least one trace")
    focus = None
    if opts.focus:
        bad = [f for f in opts.focus if f not in CATEGORIES]
        if bad:
            raise InputError(f"--focus {', '.join(bad)}: unknown (have: {', '.join(CATEGORIES)})")
        focus = frozenset(opts.focus)
    # step read
    graphs = []
    scanned: list = []
    kept: list = []
    for p in paths:
        if not os.path.exists(p):
            raise InputError(f"{p}: no such file or directory")
        sc = opts.sidecar if len(paths) == 1 else "auto"
        kv: list = []
        g, evs = read_trace(p, sc, uid=opts.uid, auid=opts.auid, kept=kv)
        graphs.append(g)
        scanned.append(evs)
        kept.append(kv if evs is not None else None)
    from tracerule.sidecar import read_sidecar

    sidecars = [read_sidecar(g.sidecar_used) if g.sidecar_used else None for g in graphs]
    host = settings(opts, sidecars)
    s = Suggestion(tuple(paths), host, baseline="no baseline")
    s.steps_run.append("read")
    ctxs = [TraceContext(p, g, target_arch=host.arch, trace_arch=host.trace_arch, uid_min=host.uid_min)
            for p, g in zip(paths, graphs)]
    for p, g in zip(paths, graphs):
        for w in g.warnings:
            if w.severity.value in ("medium", "high", "error"):
                s.notes.append(f"{w.location()}: {w.message}")
        if g.sidecar_used is None:
            s.notes.append(f"{p}: no sidecar: realpaths of programs come from this host where they exist")
    # steps targets + handoffs
    records: dict = {}
    handoff_targets = []
    for i, ctx in enumerate(ctxs):
        tag = f"{i + 1}." if len(ctxs) > 1 else ""
        f = find_targets(ctx, focus=focus, tag=tag, events=scanned[i])
        s.targets.extend(f.targets)
        records.update(f.records)
        s.notes.extend(f.notes)
        ht, hs, hr = find_handoffs(ctx, f.unix_connects, host.uid_min, tag=tag)
        if focus is None or "handoff" in focus:
            handoff_targets.extend(ht)
            records.update(hr)
        s.handoffs.extend(hs)
    s.steps_run += ["targets", "handoffs"]
    s.targets = _merge_targets(s.targets + handoff_targets, records)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    s.targets.sort(key=lambda t: order[t.category])
    unknown = [t.id for t in s.targets if t.auid_scope == "unknown"]
    if unknown:
        s.notes.append(f"{', '.join(unknown)}: {AUID_UNKNOWN}")
    # steps ladders + variants
    facts: dict = {}
    for ctx in ctxs:
        facts.update(ctx.path_facts())
    res = L.resolver(facts, s.targets)
    for t in s.targets:
        if t.exe_note:
            s.notes.append(f"{t.id}: {t.exe_note}")
        if t.category == "handoff":
            from tracerule.audit.rules.safety import UnsafeValue

            try:
                rungs, notes = handoff_ladder(t, host.arch, host.uid_min)
            except UnsafeValue as exc:
                rungs, notes = [], [f"{t.id}: candidate dropped: {exc}"]
        else:
            rungs, notes = L.build_ladder(t, host.arch, host.uid_min)
        s.notes.extend(notes)
        ctx = ctxs[0]
        interp = ctx.interpreter(None, host.arch)
        for c in ctxs:
            if c.sidecar is not None and t.instances:
                f0 = None
                for fobj in c.sidecar.files:
                    if fobj.realpath == t.exe and fobj.interpreter and not fobj.shebang:
                        f0 = fobj.interpreter
                interp = f0 or interp
        rungs = L.evaluate(t, rungs, records.get(t.id, []), host.arch, host.b32, res, interp)
        s.ladders.append(Ladder(t, tuple(rungs)))
    s.steps_run += ["ladders", "variants"]
    # trace records for choose (extra events) and replay
    recs = None
    same_arch = host.arch == host.trace_arch
    if opts.replay and same_arch:
        cand = [it for lad in s.ladders for r in lad.rungs for it in r.rules]
        from tracerule.synth import build as B

        names = wanted_names(B.expand(cand, host.arch, host.b32), host.arch)
        recs = trace_records(list(zip(paths, graphs)), names, kept if opts.replay else None)
    elif not same_arch:
        s.notes.append(f"rules are for {host.arch}, the trace is from {host.trace_arch}: coverage is checked "
                       "on the targets' own events mapped to that arch, noise is not measured")

    def extra(rung, target_ids):
        if recs is None:
            return None
        from tracerule.synth import build as B

        items = B.expand(list(rung.rules), host.arch, host.b32)
        tset = [t for t in s.targets if t.id in target_ids]
        cov, noise, _ = replay(items, recs, tset, host=host.arch, resolver=res)
        return sum(noise.values())

    base = None
    if opts.baselines:
        from tracerule.synth import build as B
        from tracerule.synth.baseline import load_baselines

        cand = [it for lad in s.ladders for r in lad.rungs for it in r.rules]
        bnames = wanted_names(B.expand(cand, host.arch, host.b32), host.arch)
        base = load_baselines(opts.baselines, bnames)
        s.baseline = base.label
        s.baseline_paths = base.paths
        s.notes.extend(base.notes)
    if recs is not None or base is not None:
        from tracerule.synth.minimal import CandidatePool, choose_minimal

        pool = CandidatePool(host=host.arch, b32=host.b32, resolver=res, trace_records=recs,
                             baseline_records=base.records if base is not None else None,
                             mix=base.mix if base is not None else None)
        s.chosen, notes, s.rung_stats = choose_minimal(s.ladders, pool, level=opts.level)
    else:
        s.chosen, notes = choose(s.ladders, level=opts.level, extra_on_trace=extra)
    s.notes.extend(notes)
    s.steps_run.append("choose")
    ex = None
    if opts.existing:
        from tracerule.synth.existing import already_caught, load_existing

        from tracerule.synth.existing import resolver_for

        ex = load_existing(opts.existing, rules_name=opts.rules_name, host=host.arch)
        res = resolver_for(res)
        s.existing = already_caught(ex, s.targets, records, recs, host=host.arch, resolver=res)
        skip = {c.target for c in s.existing.caught if c.complete}
        keep = [lad for lad in s.ladders if lad.target.id not in skip]
        s.rules = assemble(keep, s.chosen, host=host.arch, b32=host.b32, attack=opts.attack)
    else:
        s.rules = assemble(s.ladders, s.chosen, host=host.arch, b32=host.b32, attack=opts.attack)
    s.steps_run.append("assemble")
    items = [r.item for r in s.rules]
    sim_items, ours = (ex.combine(items) if ex is not None else (items, range(len(items))))
    ours = list(ours)
    if recs is not None:
        s.coverage, noise, _ = replay(sim_items, recs, s.targets, host=host.arch, resolver=res)
        s.noise = {i: noise.get(ours[i], 0) for i in range(len(items))}
    else:
        s.coverage = replay_instances(sim_items, records, s.targets, host=host.arch, resolver=res)
    if ex is not None:
        from tracerule.synth.existing import shadowing

        s.existing = shadowing(s.existing, ex, sim_items, ours, s.targets, records, recs,
                               host=host.arch, resolver=res)
    s.resolver = res
    from tracerule.audit.cost import SyscallMix, estimate

    if base is not None:
        bn = replay(items, base.records, [], host=host.arch, resolver=res)[1] if items else {}
        s.baseline_noise = {i: bn.get(i, 0) for i in range(len(items))}
        s.cost = estimate(items, base.mix, sum(s.baseline_noise.values()), host=host.arch,
                          is_dir=_isdir(res))
    elif same_arch:
        mix = SyscallMix.sampled(paths)
        s.cost = estimate(items, mix, sum((s.noise or {}).values()), host=host.arch, is_dir=_isdir(res))
    s.rules = [replace(r, steps=r.steps + ("replay",)) for r in s.rules]
    s.steps_run.append("replay")
    s.lint = _lint(s, items, opts.rules_name)
    s.steps_run.append("lint")
    return s


def read_trace(path: str, sidecar="auto", *, uid: int | None = None, auid: int | None = None,
               kept: list | None = None):
    """Step ``read``: the process graph and the target scan's syscall events in ONE pass over a trace
    file (an ``-ff`` set: the graph only; the scan reads it again).  ``uid``/``auid``: the start
    credentials the user states (as ``build_graph``).  ``kept``: a list that gets the syscall events
    of :func:`tracerule.synth.replay.replay_keep_names` (so replay need not read the trace again)."""
    from tracerule.graph import build_graph

    if not os.path.isfile(path):
        return build_graph(path, sidecar=sidecar, uid=uid, auid=auid), None
    from tracerule import sidecar as S
    from tracerule.graph.build import NAMES, NAMES_DECORATED, GraphBuilder, fds_decorated
    from tracerule.strace.events import Syscall
    from tracerule.strace.reader import TraceReader
    from tracerule.synth.targets import scan_keep, scan_names

    if sidecar == "auto":
        found = S.find_sidecar(path)
        sc = S.read_sidecar(found) if found is not None else None
    elif isinstance(sidecar, (str, os.PathLike)):
        sc = S.read_sidecar(sidecar)
    else:
        sc = sidecar
    gnames = NAMES_DECORATED if fds_decorated(path) else NAMES
    scan = scan_names()
    rk = frozenset()
    if kept is not None:
        from tracerule.synth.replay import replay_keep_names

        rk = replay_keep_names()
    reader = TraceReader(path, names=gnames | scan | rk)
    b = GraphBuilder(sidecar=sc, uid=uid, auid=auid, source=path)
    feed = b.feed
    events = []
    keep = events.append
    rkeep = kept.append if kept is not None else None
    for ev in reader:
        if type(ev) is Syscall:
            name = ev.name
            if name in rk:
                rkeep(ev)
            if name in scan and scan_keep(ev):
                keep(ev)
            if name not in gnames:
                continue
        feed(ev)
    return b.finish(reader.report), events


def _lint(s: Suggestion, items: list, rules_name: str) -> list:
    """Step ``lint`` on the rules as emitted: each item located at its line in the rules file
    (:func:`tracerule.synth.output.rules_text`, named ``rules_name``), so a finding names its rule.
    With ``--b32 none`` the per-rule TR102 (no b32 twin) is dropped: said once in a note instead."""
    if not items:
        return []
    from tracerule.audit.lint import lint
    from tracerule.audit.rules.model import Location
    from tracerule.synth.output import rules_text

    text = rules_text(s)
    where = [i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if len(where) != len(items):          # cannot happen (one line per rule): number the rules instead
        where = list(range(1, len(items) + 1))
        rules_name = "rule"
    located = [replace(it, location=Location(rules_name, ln)) for it, ln in zip(items, where)]
    h = s.host
    found = lint(located, arch=h.arch, host_checks=False, auditctl_version=h.auditctl_version)
    if h.b32 == "none":
        n = sum(1 for f in found if f.id == "TR102")
        found = [f for f in found if f.id != "TR102"]
        if n:
            s.notes.append(B32_OFF)
    return found


#: said once when ``--b32 none`` leaves every b64 rule without a twin (instead of one TR102 each)
B32_OFF = ("b32 turned off (--b32 none): no b32 twins and no b32 catch-all, so 32-bit syscalls "
           "(int 0x80, 32-bit programs) bypass every rule")


def _isdir(res):
    from tracerule.synth.minimal import _isdir as f

    return f(res)


def _merge_targets(targets, records):
    """Several traces: one target per (category, program, file, kind); instances concatenated."""
    out = []
    seen: dict = {}
    for t in targets:
        k = (t.category, t.exe, t.path, t.auid_scope, t.euid0, t.uid, tuple(sorted(t.detail.items())) if
             t.category in ("perm", "net", "handoff") else ())
        if k in seen:
            i = seen[k]
            o = out[i]
            out[i] = replace(o, instances=o.instances + t.instances,
                             syscalls=tuple(dict.fromkeys(o.syscalls + t.syscalls)),
                             success=o.success and t.success)
            records.setdefault(o.id, []).extend(records.get(t.id, []))
            continue
        seen[k] = len(out)
        out.append(t)
    return out
