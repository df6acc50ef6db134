"""The headless review session: every decision on the rules ``tracerule suggest`` proposed.

One *proposal* per target (id = the target id): its ladder of rungs (narrow -> broad), the rung in
use, an optional user edit of the rung's rules, its key, its b32 twin switch and its status
(``pending``, ``accepted``, ``rejected``, ``covered`` -- caught in full by a broader accepted rule:
the narrower rule goes away, as aa-logprof deletes the narrower rules an accepted one covers).

Friction: an action that leaves a proposal dangerous -- no auid filter where the narrowest rung had
one, ``auid>=N`` without ``auid!=unset`` (it matches unset, audit-semantics §3.1/§11.1), ``-S all``
without a path, or noisy on the baseline -- changes nothing and returns an :class:`Outcome` whose
``confirm`` lists the dangers; repeat it with ``confirm=True``.  A refused edit returns the
parser's (or the safety check's) reason in ``error`` and changes nothing.

Re-verification is incremental: every rule (by its canonical text) is run through the simulator
once, on the records whose syscall it can match (records indexed by syscall number), and its hit
set is cached; coverage and noise of any decision state are unions of cached sets.  All rules the
review writes are ``always,exit`` rules or watches and none excludes, so the union of the rules'
hit sets is exactly what the whole file logs.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, replace
from typing import Iterable

from tracerule.audit.rules.model import Comparison, Field, Rule, SyscallSet, Watch
from tracerule.synth.model import CATEGORIES, CATEGORY_TITLES, KEYS

SCHEMA_VERSION = 1
STATUSES = ("pending", "accepted", "rejected", "covered")
#: events on the baseline above which a rule counts as noisy (friction)
NOISY_DEFAULT = 10


@dataclass(frozen=True, slots=True)
class Danger:
    code: str           #: auid-dropped | auid-unset | syscall-all | noisy
    message: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did.  ``confirm`` non-empty: nothing changed, repeat with ``confirm=True``;
    ``error``: refused (nothing changed), the reason."""

    ok: bool
    message: str = ""
    changed: tuple[str, ...] = ()
    confirm: tuple[Danger, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.confirm)


@dataclass(frozen=True, slots=True)
class _State:
    status: str
    level: int
    key: str
    b32: bool
    items: tuple | None = None           #: user edit of the native rules (None: the rung's)
    covered_by: str | None = None
    covered_prev: str | None = None      #: status before it was covered
    confirmed: frozenset = frozenset()   #: danger codes the user confirmed


@dataclass(frozen=True)
class ProposalView:
    """Everything a front end shows about one proposal (read-only)."""

    id: str
    category: str
    title: str
    reason: str
    chain: str
    status: str
    covered_by: str | None
    level: str
    levels: tuple[str, ...]
    level_index: int
    rung_description: str
    edited: bool
    key: str
    b32: bool
    items: tuple                          #: native rules with the key (no twins)
    lines: tuple[str, ...]                #: rules-file lines of the proposal (twins included)
    instances: tuple                      #: Evidence (file, line, summary ...)
    caught: int
    missed: tuple[str, ...]
    noise_trace: int | None
    noise_baseline: int | None
    catches: tuple[tuple[str, bool | None], ...]
    dangers: tuple[Danger, ...]
    exe: str | None
    path: str | None
    steps: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.instances)


class _Corpus:
    """Records with a per-rule hit cache (indices of records the rule alone logs)."""

    def __init__(self, records: list, host: str, resolver) -> None:
        self.records = records
        self.host = host
        self.resolver = resolver
        self.by_nr: dict[int, list[int]] = {}
        self.named: list[int] = []
        for i, r in enumerate(records):
            self.by_nr.setdefault(r.nr, []).append(i)
            if r.names:
                self.named.append(i)
        self._cache: dict[tuple, frozenset[int]] = {}
        self.simulated = 0     #: rules run through the simulator (cache misses)

    def _candidates(self, it) -> list[int] | range:
        if isinstance(it, Watch):
            return self.named
        sc = it.syscalls
        if sc is None:
            return []
        if sc.all:
            if any(isinstance(f, Field) and f.name in ("path", "dir") for f in it.fields):
                return self.named
            return range(len(self.records))
        out: list[int] = []
        for nr in sc.numbers:
            out.extend(self.by_nr.get(nr, ()))
        out.sort()
        return out

    def hits(self, it) -> frozenset[int]:
        from tracerule.audit.rules.emit import canonical

        k = (type(it).__name__, canonical(it, host=self.host))
        got = self._cache.get(k)
        if got is not None:
            return got
        from tracerule.audit.simulate import compile_rules, simulate

        cand = self._candidates(it)
        if not cand:
            got = frozenset()
        else:
            c = compile_rules([it], host=self.host, file_identity=self.resolver)
            recs = [self.records[i] for i in cand]
            got = frozenset(cand[d.index] for d in simulate(c, recs) if d.logged)
        self.simulated += 1
        self._cache[k] = got
        return got


def _has_auid(it) -> bool:
    if isinstance(it, Watch):
        return False
    for f in it.fields:
        if isinstance(f, Field) and f.name in ("auid", "loginuid"):
            return True
        if isinstance(f, Comparison) and "auid" in (f.left, f.right):
            return True
    return False


def _auid_matches_unset(it) -> bool:
    """``auid>=N`` / ``auid!=0`` ... without ``auid!=unset`` or an ``auid=`` value: matches unset.

    A rule with ``auid=VALUE`` is never flagged: it cannot match unset unless VALUE is unset, and then
    it is deliberately about unset auid (adding ``auid!=unset`` would make it match nothing)."""
    if isinstance(it, Watch):
        return False
    fs = [f for f in it.fields if isinstance(f, Field) and f.name in ("auid", "loginuid")]
    if not fs or any(f.op == "=" for f in fs):
        return False
    from tracerule.audit.rules.model import UNSET
    from tracerule.audit.simulate import _cmp

    for f in fs:
        if not _cmp(UNSET, f.op, int(f.value) & 0xFFFFFFFF):
            return False
    return True


def _unsafe(it) -> str | None:
    """Why the emitter would refuse to write ``it`` (a value the parser accepts but a rules file must
    not carry: ``-w /etc/a\\ b`` reads as the path ``/etc/a b``); None when every value is safe."""
    from tracerule.audit.rules.safety import problem

    vals: list[tuple[str, str]] = []
    if isinstance(it, Watch):
        vals.append(("path", it.path))
    else:
        for f in getattr(it, "fields", ()):
            if isinstance(f, Field) and isinstance(f.value, str):
                vals.append((f.name if f.name in ("path", "dir", "exe") else "value", f.value))
    vals.extend(("key", k) for k in getattr(it, "keys", ()))
    for what, v in vals:
        why = problem(v, what=what)
        if why:
            return f"{why}: {v!r} cannot be written into a rules file"
    return None


def _syscall_all(it) -> bool:
    return (isinstance(it, Rule) and it.list == "exit" and it.syscalls is not None and it.syscalls.all
            and not any(isinstance(f, Field) and f.name in ("path", "dir", "inode") for f in it.fields))


def _filters(it) -> tuple:
    if isinstance(it, Watch):
        return ("watch", it.path, it.perms, it.keys)
    return ("rule", it.action, it.list, it.fields, it.keys, it.syscalls.arch if it.syscalls else None,
            bool(it.syscalls and it.syscalls.all))


class ReviewSession:
    """Decisions on a :class:`~tracerule.synth.model.Suggestion` (see the module doc)."""

    def __init__(self, suggestion, records: list, resolver, *, baseline_records: list | None = None,
                 baseline_name: str | None = None, contexts: dict | None = None,
                 noisy_threshold: int = NOISY_DEFAULT, output: str | None = None) -> None:
        self.s = suggestion
        self.host = suggestion.host
        self.output = output
        self.noisy_threshold = noisy_threshold
        self.baseline_name = baseline_name
        self._contexts = contexts or {}
        self._trace = _Corpus(records, self.host.arch, resolver)
        self._base = _Corpus(baseline_records, self.host.arch, resolver) if baseline_records is not None else None
        self._ladders = {lad.target.id: lad for lad in suggestion.ladders if lad.rungs}
        self._targets = {t.id: t for t in suggestion.targets}
        self._steps = {}
        for r in suggestion.rules:
            for tid in r.targets:
                self._steps.setdefault(tid, r.steps)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        ids = [t.id for t in suggestion.targets if t.id in self._ladders]
        ids.sort(key=lambda i: (order[self._targets[i].category], self._targets[i].instances[0].line
                                if self._targets[i].instances else 0))
        self.ids: tuple[str, ...] = tuple(ids)
        self._inst: dict[str, list[int | None]] = {}
        where = {}
        for i, r in enumerate(records):
            if r.source is not None and r.line is not None:
                where.setdefault((r.source, r.line), i)
        for tid in self.ids:
            self._inst[tid] = [where.get((e.file, e.line)) for e in self._targets[tid].instances]
        self._all_inst = frozenset(i for v in self._inst.values() for i in v if i is not None) | frozenset(
            i for t in suggestion.targets for e in t.instances
            for i in [where.get((e.file, e.line))] if i is not None)
        init = {}
        pairs = self.host.b32 == "pairs"
        for tid in self.ids:
            lad = self._ladders[tid]
            lv = suggestion.chosen.get(tid)
            idx = next((i for i, r in enumerate(lad.rungs) if r.level == lv), 0)
            init[tid] = _State("pending", idx, KEYS[self._targets[tid].category], pairs)
        self._hist: list[dict[str, _State]] = [init]
        self._labels: list[str] = ["start"]
        self._pos = 0
        self._saved_pos = 0
        self._variant_cache: dict = {}

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def from_traces(cls, traces: Iterable[str], opts=None, *, baseline: Iterable[str] = (),
                    output: str | None = None, noisy_threshold: int = NOISY_DEFAULT) -> "ReviewSession":
        """Run ``suggest`` on the traces, read them (and the baselines) into kernel-view records."""
        from tracerule.audit.enrich import Enricher
        from tracerule.synth import ladders as L
        from tracerule.synth.context import TraceContext
        from tracerule.synth.pipeline import SuggestOptions, suggest
        from tracerule.errors import InputError

        paths = [str(p) for p in traces]
        opts = opts or SuggestOptions()
        s = suggest(paths, opts)
        h = s.host
        records: list = []
        facts: dict = {}
        contexts = {}
        for p in paths:
            e = Enricher(p, names=None, uid=opts.uid, auid=opts.auid)
            records.extend(e)
            ctx = TraceContext(p, e.graph, target_arch=h.arch, trace_arch=h.trace_arch, uid_min=h.uid_min)
            facts.update(ctx.path_facts())
            contexts[p] = ctx
        res = L.resolver(facts, s.targets)
        brecs = None
        bl = [str(b) for b in baseline]
        if bl:
            brecs = []
            for b in bl:
                if not os.path.exists(b):
                    raise InputError(f"{b}: no such file or directory")
                brecs.extend(Enricher(b, names=None))
            s.baseline = ", ".join(bl)
        return cls(s, records, res, baseline_records=brecs, baseline_name=", ".join(bl) or None,
                   contexts=contexts, noisy_threshold=noisy_threshold, output=output)

    # ---- state --------------------------------------------------------------------------------
    @property
    def _st(self) -> dict[str, _State]:
        return self._hist[self._pos]

    @property
    def dirty(self) -> bool:
        """Decisions not saved yet."""
        return self._pos != self._saved_pos

    @property
    def can_undo(self) -> bool:
        return self._pos > 0

    @property
    def can_redo(self) -> bool:
        return self._pos < len(self._hist) - 1

    def _check(self, pid: str) -> None:
        if pid not in self._ladders:
            from tracerule.errors import InputError

            raise InputError(f"no proposal {pid!r} (have: {', '.join(self.ids)})")

    def _native(self, pid: str, st: _State) -> tuple:
        base = st.items if st.items is not None else self._ladders[pid].rungs[st.level].rules
        return tuple(it.with_keys((st.key,)) for it in base)

    def _expanded(self, pid: str, st: _State) -> tuple:
        from tracerule.synth import build as B

        out = []
        for it in self._native(pid, st):
            out.append(it)
            if st.b32 and isinstance(it, Rule):
                tw = B.twin(it, self.host.arch)
                if tw is not None:
                    out.append(tw)
        return tuple(out)

    def _hits(self, items, corpus: _Corpus) -> frozenset[int]:
        out: set[int] = set()
        for it in items:
            out |= corpus.hits(it)
        return frozenset(out)

    def _dangers(self, pid: str, st: _State, items=None) -> tuple[Danger, ...]:
        items = self._expanded(pid, st) if items is None else items
        out = []
        narrow = self._ladders[pid].rungs[0].rules
        if any(_has_auid(x) for x in narrow) and any(not _has_auid(x) for x in items):
            out.append(Danger("auid-dropped", "no auid filter: the rule also logs daemons, cron jobs and "
                              "containers (auid unset), not only logged-in users"))
        if any(_auid_matches_unset(x) for x in items):
            out.append(Danger("auid-unset", "the auid filter matches unset auid (4294967295) too: add "
                              "-F auid!=unset"))
        if any(_syscall_all(x) for x in items):
            out.append(Danger("syscall-all", "-S all: every syscall of every process is checked against "
                              "this rule (costly and noisy)"))
        if self._base is not None:
            n = len(self._hits(items, self._base))
            if n > self.noisy_threshold:
                out.append(Danger("noisy", f"noisy: logs {n} event(s) on the baseline ({self.baseline_name}), "
                                  f"more than {self.noisy_threshold}"))
        return tuple(out)

    def _required(self, pid: str, st: _State) -> tuple[Danger, ...]:
        return tuple(d for d in self._dangers(pid, st) if d.code not in st.confirmed)

    def _commit(self, new: dict[str, _State], label: str) -> None:
        new = self._recheck_covered(new)
        del self._hist[self._pos + 1:]
        del self._labels[self._pos + 1:]
        self._hist.append(new)
        self._labels.append(label)
        self._pos += 1
        if self._saved_pos > self._pos:
            self._saved_pos = -1

    def _covers(self, pid: str, st: _State, other: str) -> bool:
        inst = self._inst[other]
        if not inst or any(i is None for i in inst):
            return False
        h = self._hits(self._expanded(pid, st), self._trace)
        return all(i in h for i in inst)

    def _recheck_covered(self, new: dict[str, _State]) -> dict[str, _State]:
        new = dict(new)
        # covered ones whose cover went away come back
        for pid, st in list(new.items()):
            if st.status == "covered":
                by = new.get(st.covered_by or "")
                if by is None or by.status != "accepted" or not self._covers(st.covered_by, by, pid):
                    new[pid] = replace(st, status=st.covered_prev or "pending", covered_by=None, covered_prev=None)
        # an accepted rule covers the pending/accepted targets it catches in full (narrower ones go)
        for pid in self.ids:
            st = new[pid]
            if st.status != "accepted":
                continue
            for other in self.ids:
                if other == pid:
                    continue
                ost = new[other]
                if ost.status not in ("pending", "accepted"):
                    continue
                if ost.status == "accepted" and not self._broader(pid, st, other, ost):
                    continue
                if self._covers(pid, st, other):
                    new[other] = replace(ost, status="covered", covered_by=pid, covered_prev=ost.status)
        return new

    def _broader(self, pid: str, st: _State, other: str, ost: _State) -> bool:
        """``pid``'s rule catches at least what ``other``'s catches on the trace (and more or equal)."""
        a = self._hits(self._expanded(pid, st), self._trace)
        b = self._hits(self._expanded(other, ost), self._trace)
        return b <= a and (len(a) > len(b) or pid < other)

    def _apply(self, changes: dict[str, _State], label: str, confirm: bool) -> Outcome:
        need: list[Danger] = []
        for pid, st in changes.items():
            if st.status == "rejected":
                continue
            for d in self._required(pid, st):
                if d not in need:
                    need.append(d)
        if need and not confirm:
            return Outcome(False, f"{label}: needs confirmation", confirm=tuple(need))
        new = dict(self._st)
        for pid, st in changes.items():
            if need and st.status != "rejected":
                st = replace(st, confirmed=st.confirmed | {d.code for d in self._dangers(pid, st)})
            new[pid] = st
        before = self._st
        self._commit(new, label)
        changed = tuple(p for p in self.ids if self._st[p] != before[p])
        warn = []
        for pid in changes:
            v = self.view(pid)
            if v.status != "rejected" and v.missed:
                warn.append(f"{pid}: the rule no longer catches {len(v.missed)} recorded instance(s): "
                            f"{', '.join(v.missed[:3])}")
        return Outcome(True, label, changed, warnings=tuple(warn))

    # ---- actions --------------------------------------------------------------------------------
    def accept(self, pid: str, *, confirm: bool = False) -> Outcome:
        self._check(pid)
        return self._apply({pid: replace(self._st[pid], status="accepted", covered_by=None, covered_prev=None)},
                           f"accept {pid}", confirm)

    def reject(self, pid: str) -> Outcome:
        self._check(pid)
        return self._apply({pid: replace(self._st[pid], status="rejected", covered_by=None, covered_prev=None)},
                           f"reject {pid}", False)

    def _move(self, pid: str, step: int, confirm: bool) -> Outcome:
        self._check(pid)
        st = self._st[pid]
        n = len(self._ladders[pid].rungs)
        lv = st.level + step
        if not 0 <= lv < n:
            word = "broadest" if step > 0 else "narrowest"
            return Outcome(False, error=f"{pid}: already at the {word} rung "
                                        f"({self._ladders[pid].rungs[st.level].level})")
        new = replace(st, level=lv, items=None)
        name = self._ladders[pid].rungs[lv].level
        return self._apply({pid: new}, f"{'widen' if step > 0 else 'narrow'} {pid} to {name}", confirm)

    def widen(self, pid: str, *, confirm: bool = False) -> Outcome:
        """One rung broader (an edit is dropped: the rung's rules are used)."""
        return self._move(pid, 1, confirm)

    def narrow(self, pid: str, *, confirm: bool = False) -> Outcome:
        return self._move(pid, -1, confirm)

    def set_level(self, pid: str, level: str, *, confirm: bool = False) -> Outcome:
        self._check(pid)
        rungs = self._ladders[pid].rungs
        idx = next((i for i, r in enumerate(rungs) if r.level == level), None)
        if idx is None:
            return Outcome(False, error=f"{pid}: no {level} rung (have: {', '.join(r.level for r in rungs)})")
        return self._apply({pid: replace(self._st[pid], level=idx, items=None)}, f"{pid} to {level}", confirm)

    def toggle_b32(self, pid: str, *, confirm: bool = False) -> Outcome:
        self._check(pid)
        st = self._st[pid]
        return self._apply({pid: replace(st, b32=not st.b32)},
                           f"b32 twin of {pid} {'off' if st.b32 else 'on'}", confirm)

    def set_key(self, pid: str, key: str, *, confirm: bool = False) -> Outcome:
        from tracerule.audit.rules.safety import UnsafeValue, validate_keys

        self._check(pid)
        try:
            (key,) = validate_keys((key,))
        except UnsafeValue as exc:
            return Outcome(False, error=str(exc))
        return self._apply({pid: replace(self._st[pid], key=key)}, f"key of {pid}: {key}", confirm)

    def rule_text(self, pid: str, item: int = 0) -> str:
        """The rules-file line of one native rule of the proposal (what an editor starts from)."""
        from tracerule.audit.rules.emit import source_lines

        self._check(pid)
        its = self._native(pid, self._st[pid])
        return source_lines(its[item], version=self.host.auditctl_version, host=self.host.arch)[-1]

    def _parse_one(self, text: str):
        """Parse one rule line with the real parser; (item, None) or (None, reason)."""
        from tracerule.audit.rules.parse import ParseOptions, parse_line
        from tracerule.errors import Severity

        try:
            items, diags = parse_line(text, file="edit", options=ParseOptions(host=self.host.arch))
        except Exception as exc:   # the parser's own failure is a refusal, not a crash
            return None, f"cannot read the rule: {exc}"
        errs = [d for d in diags if d.severity is Severity.ERROR]
        if errs:
            return None, errs[0].message
        if len(items) != 1:
            return None, "give exactly one rule"
        it = items[0]
        why = _unsafe(it)
        if why:
            return None, why
        if isinstance(it, Watch):
            if it.delete:
                return None, "-W deletes a watch: a review writes rules, not deletions"
            return it, None
        if not isinstance(it, Rule):
            return None, "a control line (-D, -b, -e, -f ...) is not a rule: not allowed in a review"
        if it.op != "append":
            return None, ("-A puts the rule above every other rule (it would shadow them) and -d deletes: "
                          "use -a")
        if it.list != "exit" or it.action != "always":
            return None, "a review writes always,exit rules and watches only"
        return it, None

    def _edit(self, pid: str, item: int, new_item, label: str, confirm: bool, key: str | None = None) -> Outcome:
        st = self._st[pid]
        items = list(st.items if st.items is not None else self._ladders[pid].rungs[st.level].rules)
        if not 0 <= item < len(items):
            return Outcome(False, error=f"{pid}: no rule {item} (has {len(items)})")
        items[item] = new_item
        new = replace(st, items=tuple(items), key=key or st.key)
        return self._apply({pid: new}, label, confirm)

    def edit_rule(self, pid: str, text: str, *, item: int = 0, confirm: bool = False) -> Outcome:
        """Replace one native rule of the proposal by ``text`` (a rules-file line, read by the real
        parser; refused with its reason).  A ``-k`` in the text becomes the proposal's key."""
        self._check(pid)
        it, why = self._parse_one(text)
        if why:
            return Outcome(False, error=f"edit refused: {why}")
        key = it.keys[0] if it.keys else None
        if len(it.keys) > 1:
            return Outcome(False, error="edit refused: give one key (-k) per rule")
        return self._edit(pid, item, it.with_keys(()), f"edit {pid}", confirm, key)

    def set_field(self, pid: str, pair: str, *, item: int = 0, confirm: bool = False) -> Outcome:
        """Set ``-F NAME OP VALUE`` (``pair``, e.g. ``auid>=500``) on one rule of the proposal: every
        ``NAME`` field is replaced by it.  Read by the real parser; refused with its reason."""
        from tracerule.audit.rules.fields import FieldError, split_op
        from tracerule.audit.rules.safety import problem

        self._check(pid)
        pair = pair.strip()
        bad = next((ch for ch in pair if ch.isspace() or ord(ch) < 0x20 or ch in "\"'`\\" or ord(ch) == 0x7F),
                   None)
        if bad is not None or not pair:
            return Outcome(False, error=f"edit refused: the field {pair!r} " + (
                "is empty" if not pair else f"contains {bad!r} (one -F NAME OP VALUE, no spaces or quotes)"))
        try:
            name, op, value = split_op(pair)
        except FieldError as exc:
            return Outcome(False, error=f"edit refused: {exc}")
        name = {"loginuid": "auid"}.get(name, name)
        if name in ("exe", "path", "dir", "key"):
            why = problem(value, what=name)
            if why:
                return Outcome(False, error=f"edit refused: {why}")
        cur = self._native(pid, self._st[pid])
        if not 0 <= item < len(cur):
            return Outcome(False, error=f"{pid}: no rule {item}")
        if isinstance(cur[item], Watch):
            return Outcome(False, error="edit refused: a watch (-w PATH -p PERMS) has no -F fields; edit the "
                                        "whole rule instead")
        if name == "key":
            return self.set_key(pid, value, confirm=confirm)
        words = self.rule_text(pid, item).split()
        out: list[str] = []
        i = 0
        while i < len(words):
            w = words[i]
            if w == "-F" and i + 1 < len(words):
                try:
                    n2 = split_op(words[i + 1])[0]
                except FieldError:
                    n2 = ""
                if {"loginuid": "auid"}.get(n2, n2) == name:
                    i += 2
                    continue
            out.append(w)
            i += 1
        at = out.index("-k") if "-k" in out else len(out)
        out[at:at] = ["-F", pair]
        it, why = self._parse_one(" ".join(out))
        if why:
            return Outcome(False, error=f"edit refused: {why}")
        return self._edit(pid, item, it.with_keys(()), f"{pid}: -F {pair}", confirm)

    def remove_field(self, pid: str, name: str, *, item: int = 0, confirm: bool = False) -> Outcome:
        """Drop every ``-F NAME...`` of one rule (``auid`` drops the auid filter: friction)."""
        from tracerule.audit.rules.fields import FieldError, split_op

        self._check(pid)
        cur = self._native(pid, self._st[pid])
        if not 0 <= item < len(cur) or isinstance(cur[item], Watch):
            return Outcome(False, error="edit refused: no -F fields to remove there")
        words = self.rule_text(pid, item).split()
        out, i, found = [], 0, False
        while i < len(words):
            if words[i] == "-F" and i + 1 < len(words):
                try:
                    n2 = split_op(words[i + 1])[0]
                except FieldError:
                    n2 = ""
                if {"loginuid": "auid"}.get(n2, n2) == name:
                    i += 2
                    found = True
                    continue
            out.append(words[i])
            i += 1
        if not found:
            return Outcome(False, error=f"edit refused: the rule has no {name} field")
        it, why = self._parse_one(" ".join(out))
        if why:
            return Outcome(False, error=f"edit refused: {why}")
        return self._edit(pid, item, it.with_keys(()), f"{pid}: without {name}", confirm)

    def revert(self, pid: str) -> Outcome:
        """Drop the edit of a proposal (back to its rung's rules)."""
        self._check(pid)
        st = self._st[pid]
        if st.items is None:
            return Outcome(False, error=f"{pid}: not edited")
        return self._apply({pid: replace(st, items=None)}, f"revert {pid}", False)

    def similar(self, pid: str) -> tuple[str, ...]:
        """Proposals like ``pid``: the same category, not decided yet, with a rung of the same level."""
        self._check(pid)
        lvname = self._ladders[pid].rungs[self._st[pid].level].level
        cat = self._targets[pid].category
        return tuple(o for o in self.ids if o != pid and self._targets[o].category == cat
                     and self._st[o].status == "pending"
                     and any(r.level == lvname for r in self._ladders[o].rungs))

    def apply_to_similar(self, pid: str, *, confirm: bool = False) -> Outcome:
        """Give every similar pending proposal ``pid``'s decision: its rung level, b32 switch and key,
        and its status (accepted or rejected)."""
        self._check(pid)
        st = self._st[pid]
        lvname = self._ladders[pid].rungs[st.level].level
        others = self.similar(pid)
        if not others:
            return Outcome(False, error=f"{pid}: no pending proposal like it ({self._targets[pid].category}, "
                                        f"{lvname})")
        changes = {}
        for o in others:
            ost = self._st[o]
            idx = next(i for i, r in enumerate(self._ladders[o].rungs) if r.level == lvname)
            status = st.status if st.status in ("accepted", "rejected") else ost.status
            changes[o] = replace(ost, level=idx, items=None, b32=st.b32, key=st.key, status=status)
        return self._apply(changes, f"apply {pid}'s decision ({st.status}, {lvname}) to {', '.join(others)}",
                           confirm)

    def undo(self) -> Outcome:
        if not self.can_undo:
            return Outcome(False, error="nothing to undo")
        label = self._labels[self._pos]
        before = self._st
        self._pos -= 1
        return Outcome(True, f"undid: {label}", tuple(p for p in self.ids if self._st[p] != before[p]))

    def redo(self) -> Outcome:
        if not self.can_redo:
            return Outcome(False, error="nothing to redo")
        before = self._st
        self._pos += 1
        return Outcome(True, f"redid: {self._labels[self._pos]}",
                       tuple(p for p in self.ids if self._st[p] != before[p]))

    # ---- views ----------------------------------------------------------------------------------
    def _catches(self, pid: str, st: _State) -> tuple:
        rung = self._ladders[pid].rungs[st.level]
        if st.items is None and st.b32 == (self.host.b32 == "pairs") and st.key == KEYS[self._targets[pid].category]:
            return rung.catches
        items = self._expanded(pid, st)
        k = (pid, items)
        got = self._variant_cache.get(k)
        if got is not None:
            return got
        from tracerule.synth import ladders as L

        t = self._targets[pid]
        i0 = next((i for i in self._inst[pid] if i is not None), None)
        if i0 is None:
            got = ()
        else:
            rec = self._trace.records[i0]
            ctx = self._contexts.get(t.instances[0].file)
            interp = ctx.interpreter(t.exe, self.host.arch) if ctx is not None else None
            var = L.variants(t, rec, self.host.arch, interp)
            hit = L.caught(list(items), [v for _, v in var], self.host.arch, self._trace.resolver)
            got = tuple((lbl, h) for (lbl, _), h in zip(var, hit))
        self._variant_cache[k] = got
        return got

    def view(self, pid: str) -> ProposalView:
        from tracerule.audit.rules.emit import source_lines

        self._check(pid)
        st = self._st[pid]
        t = self._targets[pid]
        lad = self._ladders[pid]
        rung = lad.rungs[st.level]
        items = self._expanded(pid, st)
        hits = self._hits(items, self._trace)
        inst = self._inst[pid]
        missed = tuple(e.where for e, i in zip(t.instances, inst) if i is None or i not in hits)
        noise_t = len(hits - self._all_inst)
        noise_b = len(self._hits(items, self._base)) if self._base is not None else None
        lines = []
        for it in items:
            lines.extend(source_lines(it, version=self.host.auditctl_version, host=self.host.arch))
        return ProposalView(
            pid, t.category, CATEGORY_TITLES[t.category], t.reason, t.chain, st.status, st.covered_by,
            rung.level, tuple(r.level for r in lad.rungs), st.level, rung.description, st.items is not None,
            st.key, st.b32, self._native(pid, st), tuple(lines), t.instances, len(t.instances) - len(missed),
            missed, noise_t, noise_b, self._catches(pid, st), self._dangers(pid, st, items), t.exe, t.path,
            self._steps.get(pid, ()))

    def views(self) -> list[ProposalView]:
        return [self.view(p) for p in self.ids]

    def groups(self) -> list[tuple[str, list[str]]]:
        """Proposals grouped by process chain; privilege transitions first (then category order)."""
        order = {c: i for i, c in enumerate(CATEGORIES)}
        g: dict[str, list[str]] = {}
        for pid in self.ids:
            g.setdefault(self._targets[pid].chain, []).append(pid)
        return sorted(g.items(), key=lambda kv: (min(order[self._targets[p].category] for p in kv[1]),
                                                 min(self.ids.index(p) for p in kv[1])))

    def next_pending(self, after: str | None = None) -> str | None:
        ids = list(self.ids)
        start = ids.index(after) + 1 if after in ids else 0
        for pid in ids[start:] + ids[:start]:
            if self._st[pid].status == "pending":
                return pid
        return None

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for pid in self.ids:
            out[self._st[pid].status] += 1
        return out

    # ---- the rules file -----------------------------------------------------------------------
    def file_items(self) -> list[tuple[object, list[str]]]:
        """The rules the file holds: (item, proposal ids), merged like suggest does (equal filters ->
        one -S list), privilege first; b32 twins after their rule."""
        from tracerule.synth import build as B

        order = {c: i for i, c in enumerate(CATEGORIES)}
        pend = []
        for pid in self.ids:
            st = self._st[pid]
            if st.status != "accepted":
                continue
            t = self._targets[pid]
            for it in self._native(pid, st):
                has_exe = isinstance(it, Rule) and any(isinstance(f, Field) and f.name == "exe" for f in it.fields)
                broad = 0 if has_exe or isinstance(it, Watch) else 1
                pend.append(((order[t.category], broad, t.instances[0].line if t.instances else 0), it, pid, st.b32))
        pend.sort(key=lambda x: x[0])
        merged: list[list] = []
        index: dict = {}
        for _, it, pid, b32 in pend:
            f = _filters(it)
            if f in index:
                m = merged[index[f]]
                if isinstance(it, Rule) and not it.syscalls.all:
                    m[0] = replace(m[0], syscalls=SyscallSet(m[0].syscalls.arch,
                                                             m[0].syscalls.numbers | it.syscalls.numbers))
                if pid not in m[1]:
                    m[1].append(pid)
                m[2] = m[2] or b32
                continue
            index[f] = len(merged)
            merged.append([it, [pid], b32])
        out: list[tuple[object, list[str]]] = []
        for it, pids, b32 in merged:
            out.append((it, pids))
            if b32 and isinstance(it, Rule):
                tw = B.twin(it, self.host.arch)
                if tw is not None:
                    out.append((tw, ["b32-twin"]))
        if self.host.b32 == "catchall" and out:
            ca = B.catchall(self.host.arch, KEYS["b32"])
            if ca is not None:
                out.append((ca, ["b32-catchall"]))
        return out

    def coverage(self) -> dict:
        """What the rules file (accepted rules) logs on the trace: per target caught/instances/missed,
        and the noise (events beyond every target's instances) on the trace and the baseline."""
        items = [it for it, _ in self.file_items()]
        hits = self._hits(items, self._trace)
        per = {}
        for t in self.s.targets:
            inst = self._inst.get(t.id)
            if inst is None:
                continue
            missed = [e.where for e, i in zip(t.instances, inst) if i is None or i not in hits]
            per[t.id] = {"instances": len(t.instances), "caught": len(t.instances) - len(missed),
                         "missed": missed}
        full = sum(1 for v in per.values() if v["caught"] == v["instances"])
        return {"targets": per, "fully_caught": full, "total": len(per),
                "noise_trace": len(hits - self._all_inst),
                "noise_baseline": len(self._hits(items, self._base)) if self._base is not None else None,
                "baseline": self.baseline_name or "no baseline", "rules": len(items)}

    def rules_text(self) -> str:
        """The rules.d fragment of the accepted rules, each with its provenance."""
        from tracerule.audit.rules.emit import source_lines
        from tracerule.synth.context import safe_text

        def c(text: str) -> str:
            return "# " + safe_text(text, 400)

        h = self.host
        cov = self.coverage()
        n = self.counts()
        out = ["## tracerule review -- a rules.d fragment for augenrules (e.g. /etc/audit/rules.d/50-tracerule.rules)",
               c("from: " + ", ".join(self.s.traces)),
               c(f"target: {h.arch}; b32: {h.b32}; auditctl {h.auditctl_version}; UID_MIN {h.uid_min}"),
               c(f"decisions: {n['accepted']} accepted, {n['covered']} covered by broader rules, "
                 f"{n['rejected']} rejected, {n['pending']} pending (not written)"),
               c(f"coverage on the trace: {cov['fully_caught']}/{cov['total']} targets fully caught; noise: "
                 f"{cov['noise_trace']} event(s) beyond the targets on the trace" + (
                     f", {cov['noise_baseline']} on the baseline ({cov['baseline']})"
                     if cov['noise_baseline'] is not None else " (no baseline)"))]
        missed = [f"{tid} ({v['instances'] - v['caught']} of {v['instances']})"
                  for tid, v in cov["targets"].items() if v["caught"] < v["instances"]]
        if missed:
            out.append(c("NOT caught by these rules: " + ", ".join(missed)))
        covered_by: dict[str, list[str]] = {}
        for pid in self.ids:
            st = self._st[pid]
            if st.status == "covered" and st.covered_by:
                covered_by.setdefault(st.covered_by, []).append(pid)
        for it, pids in self.file_items():
            out.append("")
            if pids == ["b32-twin"]:
                out.append(c("b32 twin of the rule above (32-bit programs and int 0x80 syscalls)"))
            elif pids == ["b32-catchall"]:
                out.append(c("every 32-bit syscall (int 0x80, 32-bit programs) -- placed last"))
            else:
                for pid in pids:
                    t = self._targets[pid]
                    st = self._st[pid]
                    lv = self._ladders[pid].rungs[st.level].level
                    out.append(c(f"[{pid}] {CATEGORY_TITLES[t.category]}: {t.reason}"))
                    out.append(c(f"    chain: {t.chain}"))
                    lines = t.lines
                    more = f" (+{len(lines) - 6} more)" if len(lines) > 6 else ""
                    out.append(c(f"    trace: {', '.join(lines[:6])}{more}"))
                    out.append(c(f"    rung: {lv}{' (edited in review)' if st.items is not None else ''}; "
                                 f"accepted in review"))
                    if covered_by.get(pid):
                        out.append(c(f"    also covers: {', '.join(covered_by[pid])} (their narrower rules "
                                     "are not written)"))
            out.extend(source_lines(it, version=h.auditctl_version, host=h.arch))
        return "\n".join(out) + "\n"

    def diff(self, path: str | None = None) -> str:
        """Unified diff from the file on disk (empty when missing) to :meth:`rules_text`."""
        path = path or self.output or "50-tracerule.rules"
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                old = fh.read()
        except FileNotFoundError:
            old = ""
        except OSError as exc:
            from tracerule.errors import InputError

            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        new = self.rules_text()
        return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                            fromfile=f"{path} (on disk)" if old else "/dev/null",
                                            tofile=f"{path} (review)"))

    def save(self, path: str | None = None) -> str:
        """Write the rules file (atomically); returns the path written."""
        from tracerule.errors import InputError

        path = path or self.output or "50-tracerule.rules"
        text = self.rules_text()
        tmp = f"{path}.tracerule-tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        self._saved_pos = self._pos
        self.output = path
        return path

    def history(self) -> list[str]:
        return self._labels[1:self._pos + 1]
