"""Verify audit rules against traces by replay: which rule decides which event, which expected
events are caught, and how much a rule set logs on ordinary work.

::

    from tracerule.audit.verify import verify, parse_selector
    res = verify(["rules.txt"], ["trace.txt"], expects=["execve exe=/usr/bin/sudo"],
                 baselines=["normal-day.txt"])
    res.ok, res.exit_code, res.to_dict()          # JSON contract: schema_version 1

Per rule (in load order, by index and key, with its canonical ``auditctl -l`` text): the events
it *decided* (won first by priority, as the kernel's exit filter does), how many reached the log,
the processes (pid, program) and the first event's trace line.  Expectations are selectors over
the kernel-view records (``SYSCALL [FIELD=VALUE ...]``; ``key=K`` means "logged under key K"):
each selected event is caught or missed, with the trace file:line of every miss.  Baselines give
events per run and per 1,000 syscalls (events/s only from the sidecar's untraced wall time).
Every value the trace could not show is listed as an assumption, never guessed silently.  A rule
whose ``auid`` test is also true for an unset auid (``auid!=0``, ``auid>=1000`` without
``auid!=unset``) gets a note, backed by re-running its events with auid unset.
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from tracerule.audit.record import UNSET, Record
from tracerule.errors import Diagnostic, InputError, Severity
from tracerule.exitcodes import ExitCode

__all__ = ["verify", "VerifyResult", "RuleResult", "ExpectResult", "BaselineResult",
           "TraceResult", "Selector", "parse_selector", "SCHEMA_VERSION", "count_syscalls",
           "signature", "record_signature", "PID_RETURNING"]

SCHEMA_VERSION = 1
MAX_EVENTS = 50          #: events listed per rule
MAX_MISSES = 200         #: misses listed per expectation
MAX_WHATIF = 5000        #: records kept per rule for the auid-unset re-run

_INT_FIELDS = ("pid", "ppid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid",
               "auid", "sessionid", "a0", "a1", "a2", "a3", "saddr_fam", "exit", "tid", "line",
               "pers")
_ALIASES = {"ses": "sessionid", "loginuid": "auid", "syscall": "syscall"}
SELECTOR_FIELDS = _INT_FIELDS + ("exe", "path", "comm", "success", "arch", "key", "syscall")


# ---- selectors -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selector:
    """``SYSCALL[,SYSCALL] [FIELD=VALUE | FIELD!=VALUE ...]``: which events are expected.

    ``syscalls`` empty: any syscall.  ``key``: the key the event must be logged under (None: any
    logged event counts).  ``terms``: (field, op, value) tests on the record."""

    text: str
    syscalls: frozenset[str] = frozenset()
    terms: tuple[tuple[str, str, object], ...] = ()
    key: str | None = None

    @property
    def key_only(self) -> bool:
        """``key=K`` alone: some event was logged under K."""
        return not self.syscalls and not self.terms and self.key is not None

    def selects(self, r: Record, sc_name: str | None) -> bool:
        if self.syscalls and sc_name not in self.syscalls:
            return False
        for f, op, v in self.terms:
            ok = _term(r, f, v)
            if ok is None:
                ok = False
            if op == "!=":
                ok = not ok
            if not ok:
                return False
        return True


def parse_selector(text: str) -> Selector:
    """Parse ``--expect`` text.  Raises ValueError with a message for bad input."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"expectation {text!r}: {exc}") from None
    if not words:
        raise ValueError("empty expectation")
    syscalls: set[str] = set()
    terms = []
    key = None
    for i, w in enumerate(words):
        if "=" not in w:
            if i != 0:
                raise ValueError(f"expectation {text!r}: {w!r} is not FIELD=VALUE (the syscall "
                                 "name comes first)")
            if w not in ("*", "any"):
                for n in w.split(","):
                    if not n or not all(c.isalnum() or c == "_" for c in n):
                        raise ValueError(f"expectation {text!r}: bad syscall name {n!r}")
                    syscalls.add(n)
            continue
        if "!=" in w:
            f, v = w.split("!=", 1)
            op = "!="
        else:
            f, v = w.split("=", 1)
            op = "="
        f = _ALIASES.get(f.strip(), f.strip())
        if f not in SELECTOR_FIELDS:
            raise ValueError(f"expectation {text!r}: unknown field {f!r} (fields: "
                             f"{', '.join(sorted(set(SELECTOR_FIELDS)))})")
        if f == "syscall":
            syscalls.update(x for x in v.split(",") if x)
            continue
        if f == "key":
            if op != "=":
                raise ValueError(f"expectation {text!r}: key takes only =")
            key = v
            continue
        terms.append((f, op, _value(f, v, text)))
    return Selector(text, frozenset(syscalls), tuple(terms), key)


def _value(f: str, v: str, text: str):
    if f in _INT_FIELDS:
        if f in ("auid", "sessionid") and v in ("unset", "-1", "4294967295"):
            return UNSET
        if f == "exit" and v.lstrip("-").startswith("E"):
            from tracerule.audit._enrich_args import errno_value

            e = errno_value(v.lstrip("-"))
            if e is None:
                raise ValueError(f"expectation {text!r}: unknown errno {v!r}")
            return -e
        try:
            return int(v, 0)
        except ValueError:
            raise ValueError(f"expectation {text!r}: {f} needs a number, not {v!r}") from None
    if f == "success":
        lv = v.lower()
        if lv in ("yes", "1", "true"):
            return True
        if lv in ("no", "0", "false"):
            return False
        raise ValueError(f"expectation {text!r}: success is yes or no, not {v!r}")
    if f == "arch":
        from tracerule.audit.tables import AUDIT_ARCH, UnknownArch, resolve_arch

        try:
            return AUDIT_ARCH[resolve_arch(v)]
        except UnknownArch:
            raise ValueError(f"expectation {text!r}: unknown arch {v!r}") from None
    if f in ("exe", "path") and not v.startswith("/"):
        raise ValueError(f"expectation {text!r}: {f} must be an absolute path")
    return v


def _pmatch(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(value, pattern)
    return posixpath.normpath(value) == posixpath.normpath(pattern)


def _term(r: Record, f: str, v) -> bool | None:
    if f == "exe":
        e = r.exe
        return e is not None and (_pmatch(v, e.path) or _pmatch(v, e.realpath))
    if f == "path":
        return bool(r.names) and any(_pmatch(v, n.path) or _pmatch(v, n.realpath)
                                     for n in r.names)
    if f == "comm":
        return r.comm is not None and fnmatch.fnmatchcase(r.comm, v)
    if f == "success":
        return r.success is v if r.success is not None else None
    if f == "arch":
        return r.arch == v
    x = getattr(r, f, None)
    if x is None:
        return None
    if f in ("a0", "a1", "a2", "a3", "exit"):
        return (x & 0xFFFFFFFF) == (v & 0xFFFFFFFF)
    return x == v


# ---- event signatures (simulator vs kernel) ---------------------------------------------------

#: syscalls whose return value is a process/thread id: differs on every run, compared as "pid"
PID_RETURNING = frozenset({"clone", "clone3", "fork", "vfork", "getpid", "getppid", "gettid",
                           "wait4", "waitpid", "waitid", "setsid", "getpgid", "getpgrp", "getsid",
                           "set_tid_address", "pidfd_getpid"})


def _arch_name(arch: int | None) -> str | None:
    from tracerule.audit.tables import AUDIT_ARCH

    if arch is None:
        return None
    for name, val in AUDIT_ARCH.items():
        if val == arch:
            return name
    return hex(arch)


def signature(arch: int | None, nr: int | None, success: bool | None, exit: int | None,
              exe: str | None, euid: int | None, auid: int | None) -> tuple:
    """``(arch, syscall, success, exit, exe, euid, auid)`` of one logged event, in a form both
    the simulator's records and the kernel's SYSCALL records give the same way: arch and syscall
    by name, the exit of pid-returning syscalls as ``"pid"`` (it differs on every run)."""
    name = None
    if arch is not None and nr is not None:
        name = _syscall_name(arch, nr)
    if name in PID_RETURNING and success:
        exit = "pid"
    if name in ("exit", "exit_group"):
        success = exit = None
    return (_arch_name(arch), name, success, exit, exe, euid, auid)


def record_signature(r: Record) -> tuple:
    """:func:`signature` of a simulator record (exe by its resolved path, as the kernel logs it)."""
    e = r.exe
    exe = None if e is None else (e.realpath or e.path)
    return signature(r.arch, r.nr, r.success, r.exit, exe, r.euid, r.auid)


# ---- results ---------------------------------------------------------------------------------

@dataclass
class RuleResult:
    index: int                 #: item index in load order (what the simulator calls the rule)
    number: int                #: 1-based among the rule lines
    location: str              #: file:line of the rule
    text: str                  #: as written
    canonical: str             #: as ``auditctl -l`` lists it
    key: str | None
    action: str
    list: str
    hits: int = 0              #: events it decided (won first)
    logged: int = 0            #: of those, SYSCALL records reaching the log
    assumed: int = 0           #: decisions resting on assumptions
    processes: dict = field(default_factory=dict)   #: pid -> program
    first: tuple | None = None  #: (file, line) of the first event
    events: list = field(default_factory=list)      #: first MAX_EVENTS events
    notes: list = field(default_factory=list)
    _records: list = field(default_factory=list, repr=False)
    #: with ``verify(..., signatures=True)``: Counter of :func:`signature` tuples of the logged
    #: events it decided (what ``verify --kernel`` compares with the kernel's events)
    signatures: Counter | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {
            "index": self.index, "number": self.number, "location": self.location,
            "text": self.text, "canonical": self.canonical, "key": self.key,
            "action": self.action, "list": self.list, "hits": self.hits, "logged": self.logged,
            "assumed": self.assumed,
            "processes": [{"pid": p, "program": prog} for p, prog in sorted(self.processes.items())],
            "first": None if self.first is None else {"file": self.first[0], "line": self.first[1]},
            "events": list(self.events), "events_truncated": self.hits > len(self.events),
            "notes": list(self.notes),
        }


@dataclass
class ExpectResult:
    selector: str
    events: int = 0            #: events the selector picked in the traces
    caught: int = 0
    misses: list = field(default_factory=list)   #: {file, line, syscall, pid, exe, why}
    by_rule: dict = field(default_factory=dict)  #: rule number -> events it caught
    note: str | None = None
    #: with ``existing``: "file:line" of an existing rule -> events it caught (logged under its key)
    by_existing: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.events > 0 and self.caught == self.events

    def to_dict(self) -> dict:
        return {"selector": self.selector, "ok": self.ok, "events": self.events,
                "caught": self.caught, "missed": self.events - self.caught,
                "misses": list(self.misses[:MAX_MISSES]),
                "misses_truncated": len(self.misses) > MAX_MISSES or
                (self.events - self.caught) > len(self.misses),
                "caught_by": {str(k): v for k, v in sorted(self.by_rule.items())},
                "caught_by_existing": dict(self.by_existing),
                "note": self.note}


@dataclass
class TraceResult:
    trace: str
    sidecar: str | None
    records: int
    syscalls: int | None
    decided: int
    logged: int
    forced: int
    stats: dict
    warnings: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"trace": self.trace, "sidecar": self.sidecar, "records": self.records,
                "syscalls": self.syscalls, "decided": self.decided, "logged": self.logged,
                "forced": self.forced, "enrichment": self.stats, "warnings": list(self.warnings)}


@dataclass
class BaselineResult:
    trace: str
    syscalls: int
    logged: int
    per_1000: float | None
    per_second: float | None
    untraced_wall_time: float | None
    by_rule: dict = field(default_factory=dict)
    syscalls_counted: str = "exact"
    #: with ``existing``: events the existing rules log (not in ``logged``, which is these rules' own)
    existing_logged: int | None = None

    def to_dict(self) -> dict:
        return {"trace": self.trace, "syscalls": self.syscalls, "syscalls_counted": self.syscalls_counted,
                "events_logged": self.logged, "per_1000_syscalls": self.per_1000,
                "events_per_second": self.per_second,
                "untraced_wall_time": self.untraced_wall_time,
                "by_rule": {str(k): v for k, v in sorted(self.by_rule.items())},
                "events_logged_by_existing": self.existing_logged}


@dataclass
class ExistingWin:
    """An existing rule that decided events of the traces: they are logged under its key (or, for a
    ``never`` rule, suppressed) before the verified rules see them (first match wins)."""

    index: int                 #: item index in the combined load order
    where: str                 #: file:line of the existing rule
    text: str
    key: str | None
    action: str
    events: int = 0            #: trace events it decided
    logged: int = 0            #: of those, logged (under ``key``)
    examples: list = field(default_factory=list)   #: first few {file, line, syscall, exe}

    def to_dict(self) -> dict:
        return {"index": self.index, "where": self.where, "text": self.text, "key": self.key,
                "action": self.action, "events": self.events, "logged": self.logged,
                "examples": list(self.examples)}


@dataclass
class ExistingResult:
    """``verify(existing=...)``: the host's rules simulated together with the verified ones, in the
    order augenrules (or ``auditctl -R`` after ``auditctl -l``) loads them."""

    source: str
    position: str
    rules: int                 #: existing rule lines loaded (before + after)
    before: int                #: items loaded before the verified rules
    wins: dict = field(default_factory=dict)      #: combined index -> ExistingWin
    notes: list = field(default_factory=list)
    _ours: range = field(default=range(0), repr=False)
    _ex: object = field(default=None, repr=False)

    def where(self, index: int) -> str:
        """file:line of the existing item at combined index ``index``."""
        i = index if index < self._ours.start else index - len(self._ours)
        return self._ex.where(i) if self._ex is not None else f"existing rule {i + 1}"

    def win(self, index: int, item) -> ExistingWin:
        w = self.wins.get(index)
        if w is None:
            key = "\x01".join(item.keys) if getattr(item, "keys", None) else None
            w = self.wins[index] = ExistingWin(index, self.where(index), getattr(item, "text", ""), key,
                                               getattr(item, "action", "always"))
        return w

    def to_dict(self) -> dict:
        return {"source": self.source, "position": self.position, "rules": self.rules,
                "loaded_before": self.before,
                "already_logged": [w.to_dict() for _, w in sorted(self.wins.items())],
                "notes": list(self.notes)}


@dataclass
class VerifyResult:
    rules_files: list
    traces: list            #: TraceResult
    rules: list             #: RuleResult, load order
    expectations: list      #: ExpectResult
    baselines: list         #: BaselineResult
    assumptions: dict       #: text -> count
    diagnostics: list       #: parse refusals and warnings (Diagnostic)
    host: str = "x86_64"
    notes: list = field(default_factory=list)
    existing: ExistingResult | None = None

    @property
    def missed(self) -> list:
        return [e for e in self.expectations if not e.ok]

    @property
    def refused(self) -> list:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.missed

    @property
    def exit_code(self) -> ExitCode:
        if self.missed:
            return ExitCode.CHECK_FAILED
        if self.refused:
            return ExitCode.BAD_INPUT
        return ExitCode.OK

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "tracerule-verify",
            "host": self.host,
            "ok": self.ok,
            "exit_code": int(self.exit_code),
            "rules_files": list(self.rules_files),
            "traces": [t.to_dict() for t in self.traces],
            "rules": [r.to_dict() for r in self.rules],
            "expectations": [e.to_dict() for e in self.expectations],
            "baselines": [b.to_dict() for b in self.baselines],
            "assumptions": [{"text": k, "count": v} for k, v in self.assumptions.items()],
            "diagnostics": [_diag_dict(d) for d in self.diagnostics],
            "notes": list(self.notes),
            "existing": None if self.existing is None else self.existing.to_dict(),
        }


def parse_rules_paths(paths: Sequence[str | os.PathLike], *, options=None):
    """:func:`tracerule.audit.rules.parse_paths` for a user's rules files and rules.d directories
    (a valid rule need not be one tracerule could write back: ``-w /tmp/a\\ b``)."""
    from tracerule.audit.rules.parse import parse_paths

    return parse_paths(paths, options=options)


def write_back_problem(item, *, host: str | None = None) -> str | None:
    """Why a rule read from a user's file cannot be written back safely (None: it can)."""
    from tracerule.audit.rules.emit import source_lines
    from tracerule.audit.rules.safety import UnsafeValue

    try:
        source_lines(item, host=host)
    except UnsafeValue as exc:
        why = str(exc)
        return why[len("refusing to write "):] if why.startswith("refusing to write ") else why
    return None


def _diag_dict(d: Diagnostic) -> dict:
    return {"location": d.location(), "file": d.file, "line": d.line, "column": d.column,
            "severity": d.severity.value, "code": d.code, "message": d.message}


# ---- the run ---------------------------------------------------------------------------------

def verify(rules_paths: Sequence[str | os.PathLike], traces: Sequence[str | os.PathLike], *,
           baselines: Sequence[str | os.PathLike] = (), expects: Iterable[str | Selector] = (),
           host: str | None = None, this_host: bool | None = None, sidecar="auto",
           uid: int | None = None, gid: int | None = None, auid: int | None = None,
           signatures: bool = False, existing: str | os.PathLike | None = None,
           rules_name: str | None = None) -> VerifyResult:
    """Replay ``traces`` (and ``baselines``) through the rules of ``rules_paths``.

    ``host``: the machine the rules are for (default: the first trace's sidecar arch, else
    x86_64); ``this_host``: the traces were recorded on this host, so files may be stat'ed here
    (None: when the sidecar's hostname says so); ``sidecar``: "auto" or None;
    ``uid``/``gid``/``auid``: start credentials the trace cannot tell; ``signatures``: keep,
    per rule, the :func:`record_signature` multiset of the logged events it decided.
    ``existing``: a rules.d directory, a rules file or ``"live"`` (``auditctl -l``): the host's rules
    are simulated together with these, in load order (``rules_name``: the file name these rules
    get in rules.d, default the rules file's name), per-rule results stay these rules' own, and the
    events an existing rule wins first are reported as already logged under its key
    (:attr:`VerifyResult.existing`).
    Raises :class:`InputError` for unreadable rules or traces."""
    from tracerule.audit.rules import ParseOptions, canonical
    from tracerule.audit.rules.model import ControlLine

    if not rules_paths:
        raise InputError("no rules file given")
    if not traces and not baselines:
        raise InputError("no trace given")
    for p in list(traces) + list(baselines):
        if not os.path.exists(p) and not _ff_prefix(str(p)):
            raise InputError(f"{p}: no such trace file")
    for p in rules_paths:
        if not os.path.exists(p):
            raise InputError(f"{p}: no such rules file")
    sels = [s if isinstance(s, Selector) else parse_selector(s) for s in expects]
    first_sc = _sidecar_of(str((list(traces) + list(baselines))[0]), sidecar)
    if host is None:
        host = (first_sc.arch if first_sc is not None and first_sc.arch else None) or "x86_64"
    from tracerule.audit.tables import canonical_arch

    host = canonical_arch(host)
    res = parse_rules_paths([str(p) for p in rules_paths], options=ParseOptions(host=host))
    unreadable = [d for d in res.diagnostics if d.code == "R000"]
    if unreadable:
        raise InputError(str(unreadable[0]), diagnostic=unreadable[0])
    items = res.items
    for it in items:
        if isinstance(it, ControlLine):
            continue
        why = write_back_problem(it, host=host)
        if why is not None:      # simulated all the same: the simulator does not write it
            res.diagnostics.append(Diagnostic(
                it.location.file, it.location.line, f"cannot be written back safely: {why} "
                "(simulated as read; tracerule will not emit or load this rule)", Severity.MEDIUM,
                it.location.column, "R302", it.text[:200]))
    ex_res = None
    if existing is not None:
        items, ex_res = _with_existing(existing, items, rules_paths, rules_name, host)
    ours = ex_res._ours if ex_res is not None else range(len(items))
    rule_items = [(i, it) for i, it in enumerate(items) if i in ours and not isinstance(it, ControlLine)]
    if not rule_items:
        shown = "; ".join(str(d) for d in res.errors[:3])
        raise InputError(f"no rule could be read from {', '.join(map(str, rules_paths))}"
                         + (f": {shown}" if shown else " (no rule lines)"))
    rules: dict[int, RuleResult] = {}
    for num, (i, it) in enumerate(rule_items, 1):
        try:
            can = canonical(it, host=host, check=False)
        except Exception:   # canonical form unavailable: keep the text
            can = it.text
        key = "\x01".join(it.keys) if it.keys else None
        rules[i] = RuleResult(i, num, str(it.location), it.text, can, key,
                              "always" if not hasattr(it, "action") else it.action,
                              "exit" if not hasattr(it, "list") else it.list)
        if signatures:
            rules[i].signatures = Counter()
    out = VerifyResult([str(p) for p in rules_paths], [], [], [], [], {}, list(res.diagnostics),
                       host, existing=ex_res)
    if ex_res is not None:
        out.notes.append(f"existing rules from {ex_res.source}: {ex_res.position}")
        out.notes.extend(ex_res.notes)
    if res.errors:
        out.notes.append(f"{len(res.errors)} rules line(s) refused: auditctl -R stops at the "
                         "first error; simulated without them (as auditctl -c would load)")
    expects_res = [ExpectResult(s.text) for s in sels]
    assumptions: Counter = Counter()
    for t in traces:
        tr = _run_trace(str(t), items, rules, sels, expects_res, assumptions, host, this_host,
                        sidecar, uid, gid, auid, baseline=None, existing=ex_res)
        out.traces.append(tr)
    for t in baselines:
        b = BaselineResult(str(t), 0, 0, None, None, None)
        if ex_res is not None:
            b.existing_logged = 0
        tr = _run_trace(str(t), items, rules, [], [], assumptions, host, this_host, sidecar, uid,
                        gid, auid, baseline=b, existing=ex_res)
        out.baselines.append(b)
    for r in rules.values():
        _auid_note(r, items, host, out, this_host)
    for e, s in zip(expects_res, sels):
        if e.events == 0:
            e.note = ("no event in the traces matches this selector (not in the traces, or the "
                      "trace does not show those values)")
    out.rules = [rules[i] for i in sorted(rules)]
    out.expectations = expects_res
    out.assumptions = dict(assumptions.most_common())
    for r in out.rules:
        r._records = []
    return out


def _with_existing(existing, items, rules_paths, rules_name, host):
    """(the existing rules and ``items`` in load order, an :class:`ExistingResult`)."""
    from tracerule.audit.rules.model import ControlLine
    from tracerule.synth.existing import combined_items

    if rules_name is None:
        first = str(rules_paths[0])
        rules_name = (os.path.basename(first) if len(rules_paths) == 1 and os.path.isfile(first)
                      else "50-tracerule.rules")
    combined, ours, ex = combined_items(existing, items, rules_name=rules_name, host=host)
    n = sum(1 for it in ex.items if not isinstance(it, ControlLine))
    r = ExistingResult(ex.source, ex.position, n, len(ex.before), notes=list(ex.notes), _ours=ours, _ex=ex)
    return combined, r


def _ff_prefix(prefix: str) -> bool:
    d = os.path.dirname(prefix) or "."
    base = os.path.basename(prefix) + "."
    try:
        return any(n.startswith(base) and n[len(base):].isdigit() for n in os.listdir(d))
    except OSError:
        return False


def _sidecar_of(trace: str, sidecar):
    from tracerule import sidecar as S

    if sidecar != "auto":
        return sidecar if sidecar is not None and not isinstance(sidecar, (str, os.PathLike)) \
            else (S.read_sidecar(sidecar) if sidecar else None)
    found = S.find_sidecar(trace) if os.path.exists(trace) else None
    return S.read_sidecar(found) if found is not None else None


def _resolver(sc, this_host: bool):
    """Rule paths -> PathFacts: the sidecar's executed files, else this host (when the trace is
    from here), else the path as written (answers flagged assumed).

    Whether a path's FINAL component is a symlink (an exe=/path= mark on it never matches a
    program, audit-semantics.md 3.2) is decided by ``lstat`` on this host when the trace is from
    here, else from the sidecar only where it proves it (realpath == path: no symlink at all;
    realpath in the same directory under another name: the parent has none, so the final
    component is one); never from basenames.  Otherwise it is unknown and answers are assumed."""
    from tracerule.audit.simulate import MappingResolver, PathFacts, host_resolver, literal_resolver

    fallback = host_resolver if this_host else literal_resolver
    facts = []
    if sc is not None:
        for f in sc.files:
            if not f.path.startswith("/"):
                continue
            p = posixpath.normpath(f.path)
            if f.exists is False:
                continue
            real = f.realpath
            if real is None or f.dev is None:
                continue
            if real == p:
                facts.append(PathFacts(p, True, True, False, False, real, f.dev, f.ino, real,
                                       f.dev, f.ino))
                continue
            hf = host_resolver(p) if this_host else None
            if hf is not None and hf.exists and hf.is_symlink is not None:
                if hf.is_symlink:
                    facts.append(PathFacts(p, True, True, True, False, hf.canonical, hf.dev,
                                           hf.ino, real, f.dev, f.ino))
                else:
                    facts.append(PathFacts(p, True, True, False, False, hf.canonical, f.dev,
                                           f.ino, real, f.dev, f.ino))
            elif posixpath.dirname(real) == posixpath.dirname(p):
                # the parent resolves to itself (no symlink in it), so the final component is the
                # symlink: a mark on it never matches a program
                facts.append(PathFacts(p, True, True, True, False, p, None, None, real, f.dev,
                                       f.ino))
            else:
                # a symlink somewhere (parent, final component or both): which, the sidecar cannot
                # tell; compared with the target's realpath, flagged as an assumption
                facts.append(PathFacts(p, True, True, None, False, real, None, None, real, f.dev,
                                       f.ino, assumed=True))
            facts.append(PathFacts(real, True, True, False, False, real, f.dev, f.ino, real,
                                   f.dev, f.ino))
    return MappingResolver(facts, fallback=fallback)


def _syscall_name(arch: int, nr: int) -> str:
    from tracerule.audit.simulate import _syscall_name as sn

    a, n = sn(arch, nr & 0x3FFFFFFF)
    return n or str(nr)


def _run_trace(trace, items, rules, sels, expects_res, assumptions, host, this_host, sidecar,
               uid, gid, auid, baseline: BaselineResult | None,
               existing: ExistingResult | None = None) -> TraceResult:
    from tracerule.audit.enrich import Enricher, record_needs, rule_syscall_names
    from tracerule.audit.simulate import compile_rules, simulate

    sc = _sidecar_of(trace, sidecar)
    if this_host is None:
        # the sidecar's hostname is os.uname().nodename (what gethostname(2) returns)
        this_host = bool(sc is not None and sc.hostname and sc.hostname == os.uname().nodename)
    compiled = compile_rules(items, host=host, file_identity=_resolver(sc, this_host))
    for n in compiled.notes:
        assumptions[_atext(n, rules, existing)] += 0   # listed once, with the runs' counts added below
    names = rule_syscall_names(compiled, host)
    if names is not None:
        extra: set[str] = set()
        for s in sels:
            if s.key_only:
                continue
            if not s.syscalls:
                names = None
                break
            extra |= s.syscalls
        if names is not None:
            names = names | extra
    need = set(record_needs(compiled))
    for s in sels:
        for f, _, _ in s.terms:
            need.add({"a0": "args", "a1": "args", "a2": "args", "a3": "args", "path": "names",
                      "saddr_fam": "saddr"}.get(f, "-"))
    en = Enricher(trace, names=names, sidecar=sc, host_resolve=this_host, uid=uid, gid=gid,
                  auid=auid, host=host, need=need)
    feed = _Feed(en)
    decided = logged = forced = 0
    keyonly = [(s, e) for s, e in zip(sels, expects_res) if s.key_only]
    normal = [(s, e) for s, e in zip(sels, expects_res) if not s.key_only]
    for s, e in keyonly:
        e.events = 1

    def settle(r: Record, d) -> None:
        nonlocal decided, logged, forced
        rr = None
        if d is not None:
            for a in d.assumptions:
                assumptions[_atext(a, rules, existing)] += 1
            if d.rule is not None:
                decided += 1
                rr = rules.get(d.rule)
                if d.logged:
                    logged += 1
                if existing is not None and rr is None and d.rule not in existing._ours:
                    if baseline is not None:
                        if d.logged:
                            baseline.existing_logged += 1
                            logged -= 1          # a baseline's ``logged``: these rules' own
                    else:
                        _existing_hit(existing.win(d.rule, items[d.rule]), r, d)
                elif baseline is not None:
                    if d.logged:
                        baseline.by_rule[rr.number if rr else d.rule] = \
                            baseline.by_rule.get(rr.number if rr else d.rule, 0) + 1
                elif rr is not None:
                    _hit(rr, r, d)
            elif d.action == "always":
                forced += 1
                if d.logged:
                    logged += 1
        if normal or keyonly:
            sc_name = _syscall_name(r.arch, r.nr)
            for s, e in normal:
                if s.selects(r, sc_name):
                    e.events += 1
                    ok = d is not None and d.logged and (
                        s.key is None or (d.key is not None and s.key in d.key.split("\x01")))
                    if ok:
                        e.caught += 1
                        _caught_by(e, d, rules, existing)
                    elif len(e.misses) < MAX_MISSES:
                        e.misses.append(_miss(r, d, sc_name, s, existing))
            for s, e in keyonly:
                if d is not None and d.logged and d.key is not None and \
                        s.key in d.key.split("\x01"):
                    e.caught = 1
                    _caught_by(e, d, rules, existing)

    feed.settle = settle
    feed.every = bool(normal)      # settle() does nothing for an undecided record without them
    for d in simulate(compiled, feed):
        if d.index == feed.index:
            feed.decision = d
    feed.finish()
    g = en.graph
    stats = en.stats.to_dict()
    syscalls = en.stats.syscalls if names is None else None
    counted = "exact"
    if baseline is not None:
        if syscalls is None:
            files = en.report.files if en.report is not None and en.report.files else [trace]
            syscalls = count_syscalls(files)
            counted = "counted from lines"
        baseline.syscalls = syscalls
        baseline.syscalls_counted = counted
        baseline.logged = logged
        baseline.per_1000 = round(logged * 1000.0 / syscalls, 3) if syscalls else None
        wall = sc.untraced_wall_time if sc is not None else None
        baseline.untraced_wall_time = wall
        baseline.per_second = round(logged / wall, 3) if wall else None
    warnings = [str(w) for w in (g.warnings if g is not None else ())][:50]
    return TraceResult(trace, sc.path if sc is not None else None, en.stats.records, syscalls,
                       decided, logged, forced, stats, warnings)


class _Feed:
    """Records into simulate(); each record is settled (with its decision, if any) once the
    simulator has moved past it -- a record no rule decided only when ``every`` (selectors look
    at every record; otherwise settling it does nothing)."""

    def __init__(self, en) -> None:
        self.en = en
        self.index = -1
        self.record = None
        self.decision = None
        self.settle = None
        self.every = True

    def __iter__(self):
        settle = self.settle
        every = self.every
        for r in self.en:
            if self.record is not None and (every or self.decision is not None):
                settle(self.record, self.decision)
            self.index += 1
            self.record = r
            self.decision = None
            yield r

    def finish(self) -> None:
        if self.record is not None:
            self.settle(self.record, self.decision)
            self.record = None


def _prog(r: Record) -> str:
    e = r.exe
    if e is None:
        return r.comm or "?"
    return e.path or e.realpath or r.comm or "?"


def _hit(rr: RuleResult, r: Record, d) -> None:
    rr.hits += 1
    if d.logged:
        rr.logged += 1
    if d.assumptions:
        rr.assumed += 1
    if r.pid is not None and r.pid not in rr.processes:
        rr.processes[r.pid] = _prog(r)
    if rr.first is None:
        rr.first = (r.source, r.line)
    if len(rr.events) < MAX_EVENTS:
        rr.events.append({"file": r.source, "line": r.line, "syscall": _syscall_name(r.arch, r.nr),
                          "pid": r.pid, "exe": _prog(r), "success": r.success, "exit": r.exit,
                          "auid": r.auid, "uid": r.uid, "euid": r.euid, "action": d.action,
                          "logged": d.logged, "key": d.key,
                          "assumptions": [str(a) for a in d.assumptions]})
    if len(rr._records) < MAX_WHATIF:
        rr._records.append(r)
    if rr.signatures is not None and d.logged and d.action == "always":
        rr.signatures[record_signature(r)] += 1


def _atext(a, rules: dict, existing: ExistingResult | None) -> str:
    """An assumption's text; with existing rules, its rule named by file:line (theirs) or #number
    (these rules'), since item indices then count the existing rules too."""
    idx = getattr(a, "rule", None)
    if existing is None or idx is None:
        return str(a)
    if idx in rules:
        return f"rule #{rules[idx].number}: {a.text}"
    if idx not in existing._ours:
        return f"existing {existing.where(idx)}: {a.text}"
    return str(a)


def _caught_by(e: ExpectResult, d, rules: dict, existing: ExistingResult | None) -> None:
    if existing is not None and d.rule is not None and d.rule not in rules and d.rule not in existing._ours:
        w = existing.where(d.rule)
        e.by_existing[w] = e.by_existing.get(w, 0) + 1
        return
    num = rules[d.rule].number if d.rule in rules else 0
    e.by_rule[num] = e.by_rule.get(num, 0) + 1


def _existing_hit(w: ExistingWin, r: Record, d) -> None:
    w.events += 1
    if d.logged:
        w.logged += 1
    if len(w.examples) < 5:
        w.examples.append({"file": r.source, "line": r.line, "syscall": _syscall_name(r.arch, r.nr),
                           "pid": r.pid, "exe": _prog(r), "logged": d.logged})


def _miss(r: Record, d, sc_name: str, s: Selector, existing: ExistingResult | None = None) -> dict:
    by_existing = (existing is not None and d is not None and d.rule is not None
                   and d.rule not in existing._ours)
    if d is None or d.rule is None and d.action != "always":
        why = "no rule matched"
    elif d.action == "never" and by_existing:
        why = f"suppressed by the existing never rule at {existing.where(d.rule)}"
    elif d.action == "never":
        why = f"suppressed by a never rule (rule index {d.rule})"
    elif d.excluded is not None:
        why = f"dropped by an exclude rule (index {d.excluded})"
    elif s.key is not None:
        why = f"logged under key {d.key!r}, not {s.key!r}" if d.key else \
            f"logged without a key, not under {s.key!r}"
        if by_existing:
            why += f" (the existing rule at {existing.where(d.rule)} matches first)"
    else:
        why = "not logged"
    return {"file": r.source, "line": r.line, "syscall": sc_name, "pid": r.pid, "exe": _prog(r),
            "success": r.success, "why": why}


def _auid_note(rr: RuleResult, items, host, out: VerifyResult, this_host) -> None:
    """A rule whose auid tests all hold for an unset auid also logs processes with no login."""
    from tracerule.audit.rules.model import Field, Rule

    it = items[rr.index]
    if not isinstance(it, Rule) or it.list != "exit" or it.action != "always":
        return
    auids = [f for f in it.fields if isinstance(f, Field) and f.name == "auid"]
    if not auids:
        return
    from tracerule.audit.simulate import _cmp

    if not all(_cmp(UNSET, f.op, int(f.value)) for f in auids):
        return
    tests = " ".join(f"auid{f.op}{f.text or f.value}" for f in auids)
    msg = (f"{tests} is also true for processes with no login (auid unset, 4294967295): "
           "daemons, cron and boot-time services match too; add -F auid!=unset "
           "(-F auid>=1000 -F auid!=unset for activity by login users)")
    if rr._records:
        from tracerule.audit.simulate import compile_rules, simulate

        c = compile_rules([it], host=host, file_identity=_resolver(None, bool(this_host)))
        # the same events with the login removed: do they still match this rule alone?
        recs = [r.creds(auid=UNSET, sessionid=UNSET) for r in rr._records]
        still = sum(1 for d in simulate(c, recs) if d.rule == 0 and d.action == "always")
        # identity comes from the original run's answers: compare only the auid effect
        base = sum(1 for d in simulate(c, rr._records) if d.rule == 0 and d.action == "always")
        if base:
            msg += f"; checked: {still} of its {base} event(s) would still match with auid unset"
    rr.notes.append(msg)


def count_syscalls(files: Iterable[str]) -> int:
    """Completed syscalls in trace files (gzip too), counted from their lines (lines with a `` = ``
    return), without parsing them."""
    from tracerule.errors import InputError
    from tracerule.strace.reader import line_chunks

    n = 0
    for f in files:
        try:
            for chunk in line_chunks(f):
                for line in chunk.split(b"\n"):
                    if b" = " in line and b" <unfinished" not in line:
                        n += 1
        except (OSError, InputError):
            continue
    return n
