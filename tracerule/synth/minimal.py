"""Minimising against baselines: every candidate rule measured in one replay pass.

The records of the trace and of the baselines are enriched once (only the syscalls any candidate
can match) and indexed by syscall number once.  Each distinct candidate rule (with its b32 twin, as
it would be written) is compiled once and run through the simulator over the records its mask can
hold -- a rule's ``-S`` mask is tested by number, so that bucket is exactly what the kernel would
evaluate it on; watches and ``path=`` rules see the records that resolved names.  The result per
candidate is the set of records it logs, on the trace and on the baseline, so a rung (several rules)
or a whole choice is measured by set union, with no further replay.

:func:`choose_minimal` then picks per target, among the rungs that catch every recorded instance, by
number of rules, then baseline events, then kernel cost -- where cost differences under
:data:`COST_EPSILON_NS` count as equal and the narrowest rung wins (without a baseline that is issue
10's narrowest rung) --
and replaces several targets' rules by one identical broader rule only when that rule logs nothing
more on the trace and no more on the baseline than the rules it replaces.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tracerule.audit.rules.emit import canonical
from tracerule.audit.rules.model import Rule, Watch
from tracerule.synth import build as B
from tracerule.synth.model import LEVEL_RANK, Ladder


@dataclass(frozen=True, slots=True)
class RungStats:
    """What one rung (as written, twins included) costs."""

    rules: int                   #: lines it adds to the rules file
    trace_extra: int | None      #: trace events it logs beyond the given targets' instances
    baseline_events: int | None  #: baseline events it logs (None: no baseline)
    cost_ns: float               #: ns per syscall it adds over the baseline's mix (0: no mix)

    def key(self, level: str) -> tuple:
        return (self.rules, self.baseline_events or 0, round(self.cost_ns, 1), LEVEL_RANK.get(level, 9))


class _Indexed:
    """Records indexed by syscall number (any arch) and by 'has names'."""

    def __init__(self, records) -> None:
        self.records = records
        self.by_nr: dict[int, list[int]] = defaultdict(list)
        self.named: list[int] = []
        for i, r in enumerate(records):
            self.by_nr[r.nr].append(i)
            if r.names:
                self.named.append(i)

    def select(self, items) -> list[int] | None:
        """Indices a set of items can match (None: all)."""
        nrs: set[int] = set()
        named = False
        for it in items:
            if isinstance(it, Watch):
                named = True
                continue
            if not isinstance(it, Rule) or it.syscalls is None:
                return None
            if it.syscalls.all:
                if it.get("path") or it.get("inode"):
                    named = True
                    continue
                return None
            nrs |= it.syscalls.numbers
        idx: set[int] = set(self.named) if named else set()
        for n in nrs:
            idx.update(self.by_nr.get(n, ()))
        return sorted(idx)


class CandidatePool:
    """Per candidate rule: the trace and baseline records it logs (one replay pass for all)."""

    def __init__(self, *, host: str, b32: str, resolver, trace_records=None, baseline_records=None,
                 mix=None) -> None:
        self.host = host
        self.b32 = b32
        self.resolver = resolver
        self.trace = _Indexed(trace_records) if trace_records is not None else None
        self.base = _Indexed(baseline_records) if baseline_records is not None else None
        self.mix = mix
        self._mix_nrs = None
        self._cache: dict[str, tuple[frozenset, frozenset | None, float]] = {}
        self.compiled = 0

    @staticmethod
    def text(item) -> str:
        return canonical(item.with_keys(()))

    def _run(self, idx: _Indexed | None, items) -> frozenset | None:
        from tracerule.audit.simulate import compile_rules, simulate

        if idx is None:
            return None
        sel = idx.select(items)
        recs = idx.records if sel is None else [idx.records[i] for i in sel]
        if not recs:
            return frozenset()
        c = compile_rules(items, host=self.host, file_identity=self.resolver)
        out = set()
        for d in simulate(c, recs):
            if d.logged:
                out.add(d.index if sel is None else sel[d.index])
        return frozenset(out)

    def _cost(self, items) -> float:
        if self.mix is None or not self.mix.total:
            return 0.0
        from tracerule.audit.cost import _mix_numbers, rule_ns

        if self._mix_nrs is None:
            self._mix_nrs = _mix_numbers(self.mix, self.host)
        isdir = _isdir(self.resolver)
        return sum(rule_ns(it, self._mix_nrs, self.mix.total, self.host, isdir).ns_per_syscall for it in items)

    def measure(self, item) -> tuple[frozenset, frozenset | None, float]:
        """(trace record indices logged, baseline record indices logged or None, ns/syscall)."""
        k = self.text(item)
        got = self._cache.get(k)
        if got is None:
            items = B.expand([item], self.host, self.b32 if self.b32 == "pairs" else "none")
            self.compiled += 1
            got = (self._run(self.trace, items) or frozenset(), self._run(self.base, items), self._cost(items))
            self._cache[k] = got
        return got

    def prime(self, ladders) -> None:
        for lad in ladders:
            for r in lad.rungs:
                for it in r.rules:
                    self.measure(it)

    def rung_sets(self, rules) -> tuple[frozenset, frozenset | None, float]:
        tr: set = set()
        bs: set | None = set() if self.base is not None else None
        ns = 0.0
        for it in rules:
            t, b, c = self.measure(it)
            tr |= t
            if bs is not None and b is not None:
                bs |= b
            ns += c
        return frozenset(tr), (frozenset(bs) if bs is not None else None), ns

    def instance_indices(self, targets) -> set[int]:
        if self.trace is None:
            return set()
        want = {(e.file, e.line) for t in targets for e in t.instances}
        return {i for i, r in enumerate(self.trace.records) if (r.source, r.line) in want}

    def stats(self, rules, targets) -> RungStats:
        tr, bs, ns = self.rung_sets(rules)
        n = len(B.expand(list(rules), self.host, self.b32 if self.b32 == "pairs" else "none"))
        extra = len(tr - self.instance_indices(targets)) if self.trace is not None else None
        return RungStats(n, extra, None if bs is None else len(bs), ns)


def _isdir(res):
    def f(path: str):
        try:
            v = res(path).is_dir
        except Exception:   # a resolver that cannot tell: assume a file, as compile_rules notes
            return False
        return bool(v)
    return f


def choose_minimal(ladders: list[Ladder], pool: CandidatePool, *, level: str | None = None
                   ) -> tuple[dict[str, str], list[str], dict[str, RungStats]]:
    """({target id: level}, notes, {target id: stats of the chosen rung})."""
    from tracerule.synth.choose import choose

    chosen, notes = choose(ladders, level=level)
    tmap = {lad.target.id: lad for lad in ladders}
    stats: dict[str, RungStats] = {}
    if level:
        for tid, lv in chosen.items():
            r = tmap[tid].rung(lv)
            if r is not None:
                stats[tid] = pool.stats(r.rules, [tmap[tid].target])
        return chosen, notes, stats
    for lad in ladders:
        full = [r for r in lad.rungs if not r.misses_instances]
        if not full:
            continue
        scored = [(pool.stats(r.rules, [lad.target]), r) for r in full]
        best_s, best = _pick(scored)
        if best.level != chosen.get(lad.target.id):
            narrow = next(s for s, r in scored if r.level == full[0].level)
            notes.append(f"{lad.target.id}: {best.level} rung instead of {full[0].level}: "
                         f"{_why(narrow, best_s)}")
        chosen[lad.target.id] = best.level
        stats[lad.target.id] = best_s
    # several targets' rules replaced by one identical broader rule, when it is not noisier
    by_text: dict[str, list] = {}
    for lad in ladders:
        for r in lad.rungs:
            if r.level in ("behaviour", "directory", "program", "path") and not r.misses_instances:
                by_text.setdefault("\n".join(pool.text(x) for x in r.rules), []).append((lad, r))
    for members in sorted(by_text.values(), key=lambda m: -len(m)):
        lads = [lad for lad, _ in members]
        if len(lads) < 2:
            continue
        if all(chosen.get(lad.target.id) == r.level for lad, r in members):
            continue
        targets = [lad.target for lad in lads]
        merged = pool.stats(members[0][1].rules, targets)
        cur_rules = []
        for lad in lads:
            r = lad.rung(chosen.get(lad.target.id, ""))
            if r is not None:
                cur_rules.extend(r.rules)
        cur = pool.stats(tuple(cur_rules), targets)
        if merged.rules >= cur.rules:
            continue
        if (merged.trace_extra or 0) > (cur.trace_extra or 0) or pool.trace is None:
            continue
        if (merged.baseline_events or 0) > (cur.baseline_events or 0):
            notes.append(f"targets {', '.join(t.id for t in targets)}: one {members[0][1].level} rule would "
                         f"replace {cur.rules} rules but logs {merged.baseline_events} baseline event(s) "
                         f"against {cur.baseline_events or 0}: kept the narrow rules")
            continue
        for lad, r in members:
            chosen[lad.target.id] = r.level
            stats[lad.target.id] = merged
        notes.append(f"targets {', '.join(t.id for t in targets)}: one {members[0][1].level} rule replaces "
                     f"{cur.rules} rules and logs nothing more on the trace"
                     + ("" if merged.baseline_events is None else " or the baseline"))
    return chosen, notes, stats


#: kernel cost differences below this (ns per syscall, averaged over the baseline) are noise: the
#: measurements do not resolve them (kernel-overhead.md: differences under ~10% of a ~600 ns syscall)
COST_EPSILON_NS = 1.0


def _pick(scored):
    """Fewest rules, then fewest baseline events; among those the narrowest rung, unless a broader one
    is cheaper for the kernel by at least :data:`COST_EPSILON_NS`."""
    top = min((st.rules, st.baseline_events or 0) for st, _ in scored)
    group = [(st, r) for st, r in scored if (st.rules, st.baseline_events or 0) == top]
    group.sort(key=lambda x: LEVEL_RANK.get(x[1].level, 9))
    narrow_s, narrow = group[0]
    cheap_s, cheap = min(group, key=lambda x: (round(x[0].cost_ns, 3), LEVEL_RANK.get(x[1].level, 9)))
    if cheap_s.cost_ns <= narrow_s.cost_ns - COST_EPSILON_NS:
        return cheap_s, cheap
    return narrow_s, narrow


def _why(a: RungStats, b: RungStats) -> str:
    if b.rules < a.rules:
        return f"{b.rules} rule(s) instead of {a.rules}"
    if (b.baseline_events or 0) < (a.baseline_events or 0):
        return f"{b.baseline_events} baseline event(s) instead of {a.baseline_events}"
    return f"{b.cost_ns:.1f} ns/syscall instead of {a.cost_ns:.1f}"
