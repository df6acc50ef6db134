"""``tracerule verify --kernel``: the kernel's own answer to "which rule logs what".

::

    from tracerule.audit.kernel_verify import kernel_verify, Workload, workload_from_trace
    res = kernel_verify(["rules.txt"], Workload(("sudo", "-n", "/usr/bin/id"), user="alice", auid=1001))
    res = kernel_verify(["rules.txt"], trace="ss.txt")           # the recorded command, user, auid
    res.exit_code, res.to_dict()                                  # JSON contract: schema_version 1

Everything goes through :class:`tracerule.audit.kernel.KernelAudit` (lock, journal, cleanup on
any exit, settings restored).  One *run* is: append the rules, each with a run key of its own (so
an event maps back to the rule by its index, whatever keys the file gave it), plus a *tracker*
rule appended last; run the command; collect every record the kernel emitted meanwhile; delete
the rules.  ``each=True`` adds one run per rule, loaded alone (only the first matching rule's key
is logged, so a rule can fire and still show nothing in the combined run).

**Attribution.**  The command's processes are found by their process tree, not by key: the
command is a child of this process, and every successful ``clone``/``fork``/``vfork``/``clone3``
and ``execve`` is logged -- by whichever rule matches it first, else by the tracker (appended
after everything, it never takes an event from another rule).  An event of the tree that carries

* a run key is the event of that rule;
* a key of none of ours was won by a rule the host already had loaded (named by its key);
* no key (``key=(null)``) was won by a host rule without a key -- or is a *forced* record (a
  LOGIN, AVC or CONFIG_CHANGE record made the kernel log the syscall with no rule at all).

What cannot be attributed: a host ``never`` rule that wins leaves no trace at all (the event is
simply missing: ``--each`` and the simulator comparison show it as a difference); which of
several keyless host rules won; a process whose creation was hidden by a ``never`` rule (its
events are not linked to the tree); events dropped by an ``exclude`` rule.  Events the command's
processes made before exec'ing the command (tracerule's own loginuid write and credential
switch) are counted apart as *setup*.  Events of the run's rules by processes outside the tree
(other work on the host at the same time) are counted per rule as *elsewhere*.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from tracerule.errors import Diagnostic, EnvironmentProblem, InputError, Severity, TraceruleError
from tracerule.exitcodes import ExitCode

__all__ = ["kernel_verify", "Workload", "workload_from_trace", "plan_rules", "PlannedRule",
           "KernelEvent", "KernelRuleResult", "HostWin", "KernelRun", "KernelVerifyResult",
           "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
UNSET = 4294967295
MAX_LINES = 400_000          #: records held per run (the whole host's output while the command runs)
MAX_LISTED = 50              #: events listed per rule / host key in the JSON

#: record types that belong to an ordinary syscall event (anything else makes a keyless event "forced")
_SYSCALL_AUX = frozenset({
    "SYSCALL", "PATH", "CWD", "EXECVE", "PROCTITLE", "BPRM_FCAPS", "SOCKADDR", "SOCKETCALL", "FD_PAIR",
    "OBJ_PID", "IPC", "IPC_SET_PERM", "MMAP", "CAPSET", "OPENAT2", "KERN_MODULE", "MQ_OPEN",
    "MQ_SENDRECV", "MQ_NOTIFY", "MQ_GETSETATTR", "TIME_INJOFFSET", "TIME_ADJNTPVAL", "EOE", "URINGOP",
})
_FORK_CALLS = ("clone", "clone3", "fork", "vfork")
_EXEC_CALLS = ("execve", "execveat")


# ---- the workload --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    """The command to run under the rules, as whom, with which login uid, where."""

    argv: tuple[str, ...]
    user: str | None = None           #: name or uid; None: as this process (root)
    auid: int | None = None           #: login uid written before exec; None: inherited
    cwd: str | None = None
    env: dict | None = field(default=None, compare=False)
    source: str = "command line"      #: where the values came from

    def to_dict(self) -> dict:
        return {"argv": list(self.argv), "user": self.user, "auid": self.auid, "cwd": self.cwd,
                "source": self.source}


def _user_env(user: str | None) -> dict | None:
    """Our environment with USER's HOME/USER/LOGNAME/SHELL (as ``tracerule record -u`` gives it)."""
    if user is None:
        return None
    import pwd

    try:
        pw = pwd.getpwuid(int(user)) if str(user).isdigit() else pwd.getpwnam(str(user))
    except (KeyError, OverflowError):
        raise InputError(f"user {user!r} does not exist on this host (give --user)") from None
    env = dict(os.environ)
    env.update(HOME=pw.pw_dir or "/", USER=pw.pw_name, LOGNAME=pw.pw_name,
               SHELL=pw.pw_shell or "/bin/sh")
    return env


def workload_from_trace(trace: str | os.PathLike, *, command: Sequence[str] | None = None,
                        user: str | None = None, auid: int | None = None) -> Workload:
    """The command a recorded trace ran, with the user and login uid of the recording (from the
    ``TRACE.tracerule.json`` sidecar ``tracerule record`` wrote); ``command``/``user``/``auid``
    override what the sidecar says.  Raises :class:`InputError` when it cannot be told."""
    from tracerule import sidecar as S

    found = S.find_sidecar(trace) if os.path.exists(trace) else None
    sc = S.read_sidecar(found) if found is not None else None
    if command is None:
        if sc is None:
            raise InputError(f"{trace}: no sidecar ({S.sidecar_path(trace)}): cannot tell which command "
                             "to re-run; record the trace with `tracerule record`, or give the command "
                             "after --")
        if not sc.command:
            raise InputError(f"{sc.path}: the sidecar names no command; give the command after --")
        command = sc.command
    if user is None and sc is not None:
        name = sc.recorder.user or sc.target_user
        uid = sc.recorder.uid if sc.recorder.uid is not None else sc.target_uid
        if uid is not None and uid != os.geteuid():
            if name is not None and _exists(name):
                user = name
            else:
                user = str(uid)
                if not _exists_uid(uid):
                    raise InputError(f"{sc.path}: the recorded user {name or uid} does not exist on "
                                     "this host (give --user)")
    if auid is None and sc is not None and sc.recorder.auid is not None:
        auid = sc.recorder.auid
        if auid == _own_auid():
            auid = None       # inherited as it was
    cwd = sc.cwd if sc is not None and sc.cwd and os.path.isdir(sc.cwd) else None
    return Workload(tuple(command), user, auid, cwd, _user_env(user),
                    source=f"sidecar {sc.path}" if sc is not None else "command line")


def _own_auid() -> int | None:
    try:
        with open("/proc/self/loginuid") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _exists_uid(uid: int) -> bool:
    import pwd

    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def _exists(user: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


# ---- the rules -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedRule:
    """One rule of the file: how it is loaded on the kernel (``skip``: why it is not)."""

    index: int                 #: item index in the parsed file(s) (the simulator's rule index)
    number: int                #: 1-based among the rule lines (as ``tracerule verify`` numbers them)
    location: str
    text: str
    canonical: str
    key: str | None            #: the file's key(s), \x01-joined
    item: object = field(repr=False, compare=False, default=None)
    skip: str = ""             #: non-empty: not loaded, and why
    note: str = ""             #: loaded, but with this difference

    def argv(self, run_key: str) -> list[str]:
        """auditctl arguments for this rule with its keys replaced by ``run_key``."""
        from dataclasses import replace

        from tracerule.audit.rules import Rule, source_lines

        it = self.item.with_keys((run_key,))
        if isinstance(it, Rule) and it.op == "prepend":
            it = replace(it, op="append")
        return source_lines(it, host=it.host)[-1].split()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.key.split("\x01")) if self.key else ()


def plan_rules(rules_paths: Sequence[str | os.PathLike], *, host: str | None = None):
    """Parse the rules: ``(planned rules, diagnostics, notes)``.  Exit-list rules and watches are
    loaded; deletions, control lines (``-D``, ``-e``, ``-b`` ...) and other lists are not."""
    from tracerule.audit.rules import ControlLine, ParseOptions, Rule, Watch, canonical
    from tracerule.audit.tables import canonical_arch
    from tracerule.audit.verify import parse_rules_paths, write_back_problem

    host = canonical_arch(host or os.uname().machine)
    for p in rules_paths:
        if not os.path.exists(p):
            raise InputError(f"{p}: no such rules file")
    res = parse_rules_paths([str(p) for p in rules_paths], options=ParseOptions(host=host))
    unreadable = [d for d in res.diagnostics if d.code == "R000"]
    if unreadable:
        raise InputError(str(unreadable[0]), diagnostic=unreadable[0])
    planned: list[PlannedRule] = []
    notes: list[str] = []
    seen: set[str] = set()
    controls = [it for it in res.items if isinstance(it, ControlLine)]
    if controls:
        notes.append(f"{len(controls)} control line(s) not applied ({', '.join(sorted({c.option for c in controls}))}): "
                     "the host's settings and rules are left as they are")
    number = 0
    for i, it in enumerate(res.items):
        if isinstance(it, ControlLine):
            continue
        number += 1
        try:
            can = canonical(it, host=host, check=False)
        except Exception:   # noqa: BLE001 - the canonical form is informative only
            can = it.text
        key = "\x01".join(it.keys) if it.keys else None
        skip = note = ""
        if isinstance(it, Watch):
            if it.delete:
                skip = "a -W deletion: not loaded"
        elif isinstance(it, Rule):
            if it.op == "delete":
                skip = "a -d deletion: not loaded"
            elif it.list != "exit":
                skip = (f"a {it.list}-list rule: only exit-list rules and watches are verified on the "
                        "kernel (this one would change what the whole host logs)")
            elif it.op == "prepend":
                note = ("-A (prepend) loaded appended: tracerule never puts rules before the host's "
                        "own; in production this rule would come before every rule loaded")
        else:
            skip = "not a rule"
        if not skip:
            # loaded with a run key instead of its own: only the rest must be safe to write
            why = write_back_problem(it.with_keys(()), host=it.host)
            if why is not None:     # never handed to auditctl: it could split into other words
                skip = f"cannot be written back safely: {why}"
                res.diagnostics.append(Diagnostic(
                    it.location.file, it.location.line, f"{skip} (not loaded on the kernel)",
                    Severity.MEDIUM, it.location.column, "R302", it.text[:200]))
        if not skip:
            if can in seen:
                skip = "the same rule as an earlier line: auditctl refuses it (Rule exists)"
            seen.add(can)
        planned.append(PlannedRule(i, number, str(it.location), it.text, can, key, it, skip, note))
    if not planned:
        shown = "; ".join(str(d) for d in res.errors[:3])
        raise InputError(f"no rule could be read from {', '.join(map(str, rules_paths))}"
                         + (f": {shown}" if shown else " (no rule lines)"))
    if res.errors:
        notes.append(f"{len(res.errors)} rules line(s) refused by the parser: not loaded")
    return planned, list(res.diagnostics), notes


# ---- raw records while the command runs ---------------------------------------------------------

class _RawStream:
    """Every record the kernel emits (not only those of our keys): from auditd's log when the
    session reads the log, else from the netlink multicast group (read-only)."""

    def __init__(self, source: str) -> None:
        self._lock = threading.Lock()
        self.lines: list[str] = []
        self.capped = 0
        self._n = 0
        self._token = os.urandom(4).hex()
        self.synced = True
        if source == "log":
            from tracerule.audit.auditlog import LogTail, auditd_log_file

            self._tail = LogTail(auditd_log_file())
            self._listener = None
        else:
            from tracerule.audit.auditlog import netlink_line
            from tracerule.audit.netlink import MulticastListener

            def on_message(mtype: int, payload: bytes) -> None:
                self._add(netlink_line(mtype, payload))

            self._tail = None
            try:
                self._listener = MulticastListener(on_message).start()
            except OSError as exc:
                raise EnvironmentProblem(f"cannot read the audit multicast group (needs CAP_AUDIT_READ): "
                                         f"{exc}") from None

    def _add(self, line: str) -> None:
        with self._lock:
            if len(self.lines) >= MAX_LINES:
                self.capped += 1
                return
            self.lines.append(line)

    def _poll(self) -> None:
        if self._tail is not None:
            for ln in self._tail.read():
                self._add(ln)

    @property
    def overruns(self) -> int:
        return int(getattr(self._listener, "overruns", 0) or 0)

    def mark(self, timeout: float = 5.0) -> int:
        """Send a marker through the kernel and wait for it: records emitted before have arrived.
        Returns the position of the marker in :attr:`lines`."""
        from tracerule.audit.netlink import send_user_message

        self._n += 1
        token = f"tracerule-verify-mark {self._token}.{self._n}"
        try:
            send_user_message(token)
        except OSError:
            self.synced = False
            time.sleep(0.5)
            self._poll()
            with self._lock:
                return len(self.lines)
        deadline = time.monotonic() + timeout
        start = 0
        while True:
            self._poll()
            with self._lock:
                for j in range(start, len(self.lines)):
                    if token in self.lines[j]:
                        return j
                start = len(self.lines)
            if time.monotonic() >= deadline:
                self.synced = False
                with self._lock:
                    return len(self.lines)
            time.sleep(0.02)

    def slice(self, a: int, b: int) -> list[str]:
        with self._lock:
            return self.lines[a:b]

    def forget(self, upto: int) -> None:
        """Drop held lines (keeps positions valid by replacing them with empty strings)."""
        with self._lock:
            for j in range(min(upto, len(self.lines))):
                self.lines[j] = ""

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None


# ---- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KernelEvent:
    """One logged syscall event, as the kernel's SYSCALL record has it."""

    stamp: str
    serial: int
    key: str | None            #: the logged key (run key or a host key), None for key=(null)
    arch: int | None
    syscall: int | None
    syscall_name: str | None
    success: bool | None
    exit: int | None
    pid: int | None
    ppid: int | None
    auid: int | None
    uid: int | None
    euid: int | None
    exe: str | None
    comm: str | None
    types: tuple[str, ...] = ()
    forced: bool = False       #: keyless and carrying a record that forces logging (LOGIN, AVC ...)
    _ev: object = field(default=None, repr=False, compare=False)

    @property
    def signature(self) -> tuple:
        from tracerule.audit.verify import signature

        return signature(self.arch, self.syscall, self.success, self.exit, self.exe, self.euid, self.auid)

    def to_dict(self) -> dict:
        from tracerule.audit.verify import _arch_name

        return {"stamp": self.stamp, "key": self.key, "arch": _arch_name(self.arch),
                "syscall": self.syscall_name, "success": self.success, "exit": self.exit,
                "pid": self.pid, "ppid": self.ppid, "auid": self.auid, "uid": self.uid,
                "euid": self.euid, "exe": self.exe, "comm": self.comm, "records": list(self.types),
                "forced": self.forced}


def _kernel_event(ev) -> KernelEvent | None:
    prim = ev.record("SYSCALL") or ev.record("URINGOP")
    if prim is None:
        return None
    key = "\x01".join(ev.keys) if ev.keys else None
    types = tuple(ev.records)
    forced = key is None and any(t not in _SYSCALL_AUX for t in types)
    return KernelEvent(ev.stamp, ev.serial, key, ev.arch, ev.syscall, ev.syscall_name, ev.success,
                       ev.exit, ev.pid, ev.ppid, ev.auid, ev.uid, ev.euid, ev.exe, ev.comm, types,
                       forced, ev)


@dataclass
class KernelRun:
    """One run of the command under a set of rules."""

    label: str                          #: "combined" or "rule #N alone"
    rules: tuple[int, ...]              #: rule numbers loaded
    exit_status: int | None = None      #: negative: killed by that signal
    seconds: float = 0.0
    events: int = 0                     #: events of the command's processes (setup excluded)
    setup: int = 0                      #: events before the command's exec (tracerule's preparation)
    host_events: int = 0                #: all syscall events the kernel logged meanwhile
    processes: int = 0                  #: pids of the command's tree seen
    refused: dict = field(default_factory=dict)     #: rule number -> auditctl's message
    synced: bool = True

    def to_dict(self) -> dict:
        return {"label": self.label, "rules": list(self.rules), "exit_status": self.exit_status,
                "killed_by": _signame(self.exit_status), "seconds": round(self.seconds, 3),
                "events": self.events, "setup_events": self.setup, "host_events": self.host_events,
                "processes": self.processes, "refused": {str(k): v for k, v in self.refused.items()},
                "synced": self.synced}


def _signame(status: int | None) -> str | None:
    if status is None or status >= 0:
        return None
    import signal

    try:
        return signal.Signals(-status).name
    except ValueError:
        return f"signal {-status}"


@dataclass
class KernelRuleResult:
    number: int
    index: int
    location: str
    text: str
    canonical: str
    key: str | None
    skipped: str = ""                   #: not loaded, and why
    refused: str = ""                   #: auditctl refused it (its message)
    note: str = ""
    listed: str = ""                    #: its auditctl -l line as loaded (with the run key)
    events: list = field(default_factory=list)          #: KernelEvent won in the combined run
    elsewhere: int = 0                  #: its events by processes outside the command's tree
    alone: list | None = None           #: --each: KernelEvent when loaded alone
    alone_elsewhere: int = 0
    hidden: list = field(default_factory=list)          #: --each: {signature, count, won_by}
    simulator: dict | None = None       #: trace given: {predicted, kernel, predicted_only, kernel_only}
    notes: list = field(default_factory=list)

    @property
    def won(self) -> int:
        return len(self.events)

    def to_dict(self) -> dict:
        d = {"number": self.number, "index": self.index, "location": self.location, "text": self.text,
             "canonical": self.canonical, "key": self.key, "loaded": not (self.skipped or self.refused),
             "skipped": self.skipped or None, "refused": self.refused or None, "note": self.note or None,
             "listed": self.listed or None, "won": self.won,
             "events": [e.to_dict() for e in self.events[:MAX_LISTED]],
             "events_truncated": len(self.events) > MAX_LISTED, "elsewhere": self.elsewhere,
             "alone": None if self.alone is None else len(self.alone),
             "alone_events": None if self.alone is None else [e.to_dict() for e in self.alone[:MAX_LISTED]],
             "alone_elsewhere": self.alone_elsewhere if self.alone is not None else None,
             "hidden": [dict(h, signature=_sig_dict(h["signature"])) for h in self.hidden],
             "simulator": None if self.simulator is None else {
                 "predicted": self.simulator["predicted"], "kernel": self.simulator["kernel"],
                 "predicted_only": [{"signature": _sig_dict(s), "count": n, "explained": why}
                                    for s, n, why in self.simulator["predicted_only"]],
                 "kernel_only": [{"signature": _sig_dict(s), "count": n}
                                 for s, n in self.simulator["kernel_only"]]},
             "notes": list(self.notes)}
        return d


_SIG_FIELDS = ("arch", "syscall", "success", "exit", "exe", "euid", "auid")


def _sig_dict(sig: tuple) -> dict:
    return dict(zip(_SIG_FIELDS, sig))


def sig_text(sig: tuple) -> str:
    arch, sc, ok, ex, exe, euid, auid = sig
    res = "" if ok is None else (" ok" if ok else f" failed exit={ex}")
    au = "unset" if auid == UNSET else auid
    return f"{sc} ({arch}){res} exe={exe} euid={euid} auid={au}"


@dataclass
class HostWin:
    """Events of the command won by a rule the host had loaded (or forced records without a rule)."""

    key: str | None
    lines: tuple[str, ...]              #: the host's listed rules carrying that key
    events: list = field(default_factory=list)
    forced: int = 0

    @property
    def label(self) -> str:
        if self.key is None:
            return "no key (a keyless host rule, or a forced record)"
        return f"host key {self.key.replace(chr(1), ',')!r}"

    def to_dict(self) -> dict:
        return {"key": self.key, "host_rules": list(self.lines), "events": len(self.events),
                "forced": self.forced,
                "listed_events": [e.to_dict() for e in self.events[:MAX_LISTED]]}


@dataclass
class KernelVerifyResult:
    workload: Workload
    rules_files: list
    rules: list                         #: KernelRuleResult in file order
    runs: list                          #: KernelRun
    host_wins: list                     #: HostWin (combined run)
    host_rules: list                    #: auditctl -l lines found loaded before the run
    expectations: list = field(default_factory=list)   #: ExpectResult-like dicts
    diagnostics: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    trace: str | None = None
    lost_start: int | None = None
    lost_end: int | None = None
    overruns: int = 0
    capped: int = 0
    audit_was_enabled: int | None = None
    source: str = ""
    each: bool = False

    @property
    def lost_rose(self) -> bool:
        return ((self.lost_start is not None and self.lost_end is not None and self.lost_end > self.lost_start)
                or self.overruns > 0 or self.capped > 0)

    @property
    def missed(self) -> list:
        return [e for e in self.expectations if not e["ok"]]

    @property
    def refused(self) -> list:
        return [r for r in self.rules if r.refused]

    @property
    def exit_code(self) -> ExitCode:
        if self.lost_rose:
            return ExitCode.INCONCLUSIVE
        if self.missed:
            return ExitCode.CHECK_FAILED
        if self.refused:
            return ExitCode.BAD_INPUT
        return ExitCode.OK

    @property
    def unsynced(self) -> bool:
        return any(not r.synced for r in self.runs)

    def to_dict(self) -> dict:
        from tracerule.audit.verify import _diag_dict

        return {
            "schema_version": SCHEMA_VERSION, "kind": "tracerule-verify-kernel",
            "exit_code": int(self.exit_code), "ok": self.exit_code == ExitCode.OK,
            "rules_files": list(self.rules_files), "trace": self.trace,
            "workload": self.workload.to_dict(), "events_source": self.source,
            "audit_was_enabled": self.audit_was_enabled,
            "lost": {"start": self.lost_start, "end": self.lost_end, "rose": self.lost_rose,
                     "listener_overruns": self.overruns, "records_not_held": self.capped},
            "each": self.each,
            "runs": [r.to_dict() for r in self.runs],
            "rules": [r.to_dict() for r in self.rules],
            "host_rules_loaded": list(self.host_rules),
            "host_wins": [h.to_dict() for h in self.host_wins],
            "expectations": list(self.expectations),
            "diagnostics": [_diag_dict(d) for d in self.diagnostics],
            "notes": list(self.notes),
            "attribution": ATTRIBUTION,
        }


ATTRIBUTION = (
    "The command's processes are found by their process tree (fork/clone/exec events of every "
    "process, logged by the first matching rule or by tracerule's tracker rule appended last). "
    "Events carrying a run key are the rule's; another key names the host rule that won; no key "
    "means a keyless host rule or a forced record (LOGIN/AVC/CONFIG_CHANGE). Not attributable: a "
    "host never rule that wins (the event is missing), which of several keyless host rules won, "
    "processes whose creation a never rule hid, records dropped by exclude rules.")


# ---- one run -------------------------------------------------------------------------------------

def _host_compat(host: str) -> list[str]:
    from tracerule.audit.tables import COMPAT

    out = ["b64"]
    if COMPAT.get(host):
        out.append("b32")
    return out


def _tracker_argvs(host: str, key: str) -> list[list[str]]:
    """Rules logging every successful fork/clone/exec that no earlier rule took: the process tree."""
    from tracerule.audit.tables import COMPAT, table

    out = []
    for word in _host_compat(host):
        arch = host if word == "b64" else COMPAT[host]
        t = table(arch)
        names = [n for n in _FORK_CALLS + _EXEC_CALLS if t.nr(n) is not None]
        words = [n if t.auditctl_knows(n) else str(t.nr(n)) for n in names]
        out.append(["-a", "always,exit", "-F", f"arch={word}", "-S", ",".join(words), "-F", "success=1",
                    "-k", key])
    return out


@dataclass
class _RunData:
    run: KernelRun
    by_rule: dict            #: number -> [KernelEvent] in the tree
    elsewhere: Counter       #: number -> count outside the tree
    foreign: list            #: KernelEvent in the tree with a key not of this run's rules
    listed: dict             #: number -> listed line


def _one_run(k, stream: _RawStream, rules: Sequence[PlannedRule], work: Workload, host: str,
             label: str, timeout: float | None, say: Callable[[str], None], stdout=None) -> _RunData:
    from tracerule.audit.kernel import RuleRefused

    run = KernelRun(label, tuple(r.number for r in rules))
    keymap: dict[str, int] = {}
    loaded = []
    listed: dict[int, str] = {}
    try:
        for r in rules:
            rk = k.new_key(f"r{r.number}")
            try:
                lr = k.add_rule(r.argv(rk))
            except RuleRefused as exc:
                run.refused[r.number] = str(exc)
                continue
            except ValueError as exc:   # the harness refuses it (should not happen after planning)
                run.refused[r.number] = str(exc)
                continue
            keymap[rk] = r.number
            listed[r.number] = lr.listed
            loaded.append(lr)
        tk = k.new_key("track")
        for argv in _tracker_argvs(host, tk):
            try:
                loaded.append(k.add_rule(argv))
            except RuleRefused as exc:
                say(f"tracerule: the process-tracking rule was refused ({exc}); the command's "
                    "processes are then found by pid/ppid only")
        a = stream.mark()
        t0 = time.monotonic()
        try:
            status = k.run(list(work.argv), user=work.user, auid=work.auid, env=work.env,
                           cwd=work.cwd, timeout=timeout, stdout=stdout)
        except OSError as exc:
            raise InputError(f"cannot run {work.argv[0]}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise InputError(str(exc)) from None
        run.seconds = time.monotonic() - t0
        run.exit_status = status
        b = stream.mark()
        run.synced = stream.synced
        lines = stream.slice(a + 1, b)
    except subprocess.TimeoutExpired:
        raise TraceruleError(f"the command ran longer than {timeout:g} s: killed (rules unloaded)",
                             exit_code=ExitCode.INCONCLUSIVE) from None
    finally:
        for lr in reversed(loaded):
            try:
                k.delete_rule(lr)
            except Exception:   # noqa: BLE001 - the session's cleanup deletes what is left
                pass
    stream.forget(b)
    return _analyse(run, lines, keymap, tk, listed)


def _analyse(run: KernelRun, lines: list[str], keymap: dict, tracker_key: str, listed: dict) -> _RunData:
    from tracerule.audit.auditlog import group_events, parse_line

    recs = [r for r in (parse_line(ln) for ln in lines if ln) if r is not None]
    evs = [e for e in (_kernel_event(ev) for ev in group_events(recs)) if e is not None]
    evs.sort(key=lambda e: e.serial)
    run.host_events = len(evs)
    me = os.getpid()
    parent: dict[int, int] = {}
    for e in evs:
        if e.syscall_name in _FORK_CALLS and e.success and e.exit and e.exit > 0 and e.pid is not None:
            parent.setdefault(e.exit, e.pid)
    for e in evs:
        if e.pid is not None and e.ppid is not None:
            parent.setdefault(e.pid, e.ppid)
    memo: dict[int, bool] = {}

    def in_tree(pid: int | None) -> bool:
        if pid is None or pid == me:
            return False
        chain = []
        p = pid
        ans = False
        while p is not None and p > 1:
            if p in memo:
                ans = memo[p]
                break
            if p == me:
                ans = True
                break
            if p in chain:
                break
            chain.append(p)
            p = parent.get(p)
        for c in chain:
            memo[c] = ans
        return ans

    roots = {p for p, q in parent.items() if q == me}
    first_exec: dict[int, int] = {}
    for e in evs:
        if e.pid in roots and e.syscall_name in _EXEC_CALLS and e.success and e.pid not in first_exec:
            first_exec[e.pid] = e.serial
    by_rule: dict[int, list] = {}
    elsewhere: Counter = Counter()
    foreign: list = []
    pids: set[int] = set()
    for e in evs:
        tree = in_tree(e.pid)
        num = keymap.get(e.key) if e.key is not None else None
        if not tree:
            if num is not None:
                elsewhere[num] += 1
            continue
        if e.pid in roots and (e.pid not in first_exec or e.serial < first_exec[e.pid]):
            run.setup += 1
            continue
        pids.add(e.pid)
        if e.key == tracker_key:
            continue
        run.events += 1
        if num is not None:
            by_rule.setdefault(num, []).append(e)
        else:
            foreign.append(e)
    run.processes = len(pids)
    return _RunData(run, by_rule, elsewhere, foreign, listed)


# ---- the whole verification -----------------------------------------------------------------------

def kernel_verify(rules_paths: Sequence[str | os.PathLike], workload: Workload | None = None, *,
                  trace: str | os.PathLike | None = None, each: bool = False,
                  expects: Iterable = (), timeout: float | None = 120.0, host: str | None = None,
                  lock_timeout: float = 300.0, source: str = "auto",
                  say: Callable[[str], None] | None = None, stdout=None) -> KernelVerifyResult:
    """Load the rules on the real kernel, run the workload (or the command ``trace`` recorded), and
    report which rule won which event of the command's processes.  See the module docstring.
    ``stdout``: where the command's output goes (a file descriptor or file; None: ours).

    Raises :class:`InputError` (bad rules, no command), :class:`~tracerule.audit.kernel.KernelUnavailable`
    (not root, audit immutable or absent: exit code 4); KeyboardInterrupt after cleaning up."""
    from tracerule.audit.kernel import KernelAudit, check_available, keys_of_listed, listed_lines
    from tracerule.audit.verify import Selector, parse_selector

    if say is None:
        def say(msg: str) -> None:   # noqa: E306
            import sys

            print(msg, file=sys.stderr, flush=True)
    from tracerule.audit.tables import canonical_arch

    host = canonical_arch(host or os.uname().machine)
    planned, diags, notes = plan_rules(rules_paths, host=host)
    if workload is None:
        if trace is None:
            raise InputError("give the command to run (after --) or a trace recorded with `tracerule record`")
        workload = workload_from_trace(trace)
    if not workload.argv:
        raise InputError("empty command")
    sels = [s if isinstance(s, Selector) else parse_selector(s) for s in expects]
    # the simulator's answer first (no kernel needed): the trace's events per rule
    sim = None
    if trace is not None:
        from tracerule.audit.verify import verify

        sim = verify(list(rules_paths), [trace], host=host, signatures=True)
    check_available()     # refuse early (exit 4): not root, no audit, immutable
    results = {p.number: KernelRuleResult(p.number, p.index, p.location, p.text, p.canonical, p.key,
                                          skipped=p.skip, note=p.note) for p in planned}
    loadable = [p for p in planned if not p.skip]
    out = KernelVerifyResult(workload, [str(p) for p in rules_paths], [results[p.number] for p in planned],
                             [], [], [], diagnostics=diags, notes=notes,
                             trace=str(trace) if trace is not None else None, each=each)
    with KernelAudit.session(lock_timeout=lock_timeout, source=source,
                             what="tracerule verify --kernel") as k:
        out.source = k.source
        out.lost_start = int(k.start_status.get("lost", 0))
        out.audit_was_enabled = k.start_status.get("enabled")
        out.host_rules = [ln for ln in listed_lines()]
        host_keys: dict[str, list[str]] = {}
        for ln in out.host_rules:
            for kk in keys_of_listed(ln):
                host_keys.setdefault(kk, []).append(ln)
        k.enable()
        if out.source == "none":
            raise EnvironmentProblem("no audit events source (neither auditd's log nor netlink)")
        stream = _RawStream("log" if out.source == "log" else "netlink")
        try:
            say(f"tracerule verify --kernel: running {' '.join(workload.argv)}"
                + (f" as {workload.user}" if workload.user else "")
                + (f" with auid {workload.auid}" if workload.auid is not None else "")
                + f" under {len(loadable)} rule(s)")
            combined = _one_run(k, stream, loadable, workload, host, "combined", timeout, say, stdout)
            out.runs.append(combined.run)
            for num, msg in combined.run.refused.items():
                results[num].refused = msg
            for num, line in combined.listed.items():
                results[num].listed = line
            for num, evs in combined.by_rule.items():
                results[num].events = evs
            for num, n in combined.elsewhere.items():
                results[num].elsewhere = n
            out.host_wins = _host_wins(combined.foreign, host_keys)
            if each:
                for p in loadable:
                    if p.number in combined.run.refused:
                        continue
                    say(f"tracerule verify --kernel: rule #{p.number} alone")
                    alone = _one_run(k, stream, [p], workload, host, f"rule #{p.number} alone", timeout, say,
                                     stdout)
                    out.runs.append(alone.run)
                    r = results[p.number]
                    r.alone = alone.by_rule.get(p.number, [])
                    r.alone_elsewhere = alone.elsewhere.get(p.number, 0)
                    r.hidden = _hidden(r, combined, results)
            out.overruns = stream.overruns
            out.capped = stream.capped
        finally:
            stream.stop()
        out.lost_end = k.lost()
    if sim is not None:
        _compare(out, sim, results)
    for r in out.rules:
        _rule_notes(r, out)
    if sels:
        out.expectations = _expectations(sels, out, combined, results)
    if out.audit_was_enabled == 0:
        out.notes.append("audit was disabled (enabled 0): enabled for the run and disabled again; "
                         "rules already loaded on the host took part as they would once enabled")
    if out.unsynced:
        out.notes.append("the end-of-run marker did not come back in time (a user-list rule filtering "
                         "USER messages?): events that arrived late may be missing")
    if out.lost_rose:
        out.notes.append(f"the kernel's lost counter rose ({out.lost_start} -> {out.lost_end})"
                         + (f", the listener overran {out.overruns} time(s)" if out.overruns else "")
                         + (f", {out.capped} record(s) not held" if out.capped else "")
                         + ": the result is INCONCLUSIVE (raise the backlog with auditctl -b, or run "
                           "when the host is quieter)")
    return out


def _host_wins(foreign: list, host_keys: dict) -> list[HostWin]:
    groups: dict = {}
    for e in foreign:
        hw = groups.get(e.key)
        if hw is None:
            lines: list[str] = []
            if e.key is not None:
                for kk in e.key.split("\x01"):
                    for ln in host_keys.get(kk, []):
                        if ln not in lines:
                            lines.append(ln)
            hw = groups[e.key] = HostWin(e.key, tuple(lines))
        hw.events.append(e)
        if e.forced:
            hw.forced += 1
    return sorted(groups.values(), key=lambda h: (h.key is None, -len(h.events)))


def _winner_label(e: KernelEvent, combined: _RunData) -> str:
    for num, evs in combined.by_rule.items():
        if e in evs:
            return f"rule #{num}"
    if e.key is None:
        return "a forced record (no rule)" if e.forced else "a host rule without a key"
    return f"host rule key {e.key.replace(chr(1), ',')!r}"


def _hidden(r: KernelRuleResult, combined: _RunData, results: dict) -> list:
    """Events the rule takes alone but does not win in the combined run, and who took them."""
    alone = Counter(e.signature for e in r.alone or ())
    won = Counter(e.signature for e in r.events)
    missing = alone - won
    if not missing:
        return []
    # who logged an event of that signature in the combined run
    pool: dict[tuple, list] = {}
    for num, evs in combined.by_rule.items():
        if num == r.number:
            continue
        for e in evs:
            pool.setdefault(e.signature, []).append(f"rule #{num}")
    for e in combined.foreign:
        pool.setdefault(e.signature, []).append(_winner_label(e, combined))
    out = []
    for sig, n in sorted(missing.items(), key=lambda x: str(x[0])):
        winners = Counter(pool.get(sig, []))
        out.append({"signature": sig, "count": n,
                    "won_by": dict(winners) if winners else {},
                    "why": (", ".join(f"{w} ({c})" for w, c in winners.items()) if winners else
                            "not logged in the combined run: an earlier never rule, or the runs differed")})
    return out


def _compare(out: KernelVerifyResult, sim, results: dict) -> None:
    """Per rule: the simulator's decided events on the trace vs the kernel's in the combined run."""
    host_pool: dict[tuple, list[str]] = {}
    for hw in out.host_wins:
        for e in hw.events:
            host_pool.setdefault(e.signature, []).append(hw.label)
    kern_all: dict[tuple, list[int]] = {}
    for r in results.values():
        for e in r.events:
            kern_all.setdefault(e.signature, []).append(r.number)
    for sr in sim.rules:
        r = results.get(sr.number)
        if r is None or sr.signatures is None:
            continue
        pred = sr.signatures
        kern = Counter(e.signature for e in r.events)
        p_only, k_only = [], []
        for sig, n in sorted((pred - kern).items(), key=lambda x: str(x[0])):
            why = ""
            if r.skipped or r.refused:
                why = "the rule was not loaded"
            elif sig in host_pool:
                why = "won by " + ", ".join(sorted(set(host_pool[sig])))
            elif any(num != r.number for num in kern_all.get(sig, [])):
                why = "won by " + ", ".join(f"rule #{x}" for x in sorted(set(kern_all[sig])) if x != r.number)
            p_only.append((sig, n, why))
        for sig, n in sorted((kern - pred).items(), key=lambda x: str(x[0])):
            k_only.append((sig, n))
        r.simulator = {"predicted": sum(pred.values()), "kernel": sum(kern.values()),
                       "predicted_only": p_only, "kernel_only": k_only}
    for n in sim.notes:
        out.notes.append(f"simulator: {n}")


def _rule_notes(r: KernelRuleResult, out: KernelVerifyResult) -> None:
    if r.skipped or r.refused:
        return
    if r.alone is not None and r.alone and not r.events:
        r.notes.append(f"fires on {len(r.alone)} event(s) alone but won none in the combined run: "
                       "an earlier rule takes them (only the first matching rule's key is logged)")
    if r.canonical.startswith("-a never,"):
        r.notes.append("a never rule: the events it wins are not logged, so the kernel cannot show "
                       "them (--each shows nothing for it either)")
    if r.elsewhere:
        r.notes.append(f"also logged {r.elsewhere} event(s) of other processes on this host during "
                       "the run")


def _expectations(sels, out: KernelVerifyResult, combined: _RunData, results: dict) -> list:
    from types import SimpleNamespace

    from tracerule.audit.record import FileRef

    evs: list[tuple[KernelEvent, str | None]] = []
    for num, lst in combined.by_rule.items():
        orig = results[num].key
        for e in lst:
            evs.append((e, orig))
    for e in combined.foreign:
        evs.append((e, e.key))
    rows = []
    for s in sels:
        caught = 0
        by: Counter = Counter()
        for e, orig in evs:
            ev = e._ev
            names = [SimpleNamespace(path=p.get("name"), realpath=p.get("name")) for p in ev.paths]
            a = ev.a
            shim = SimpleNamespace(
                exe=FileRef(e.exe, realpath=e.exe) if e.exe else None, names=names, comm=e.comm,
                success=e.success, arch=e.arch, pid=e.pid, ppid=e.ppid, uid=e.uid, euid=e.euid,
                suid=ev.suid, fsuid=ev.fsuid, gid=ev.gid, egid=ev.egid, sgid=None, fsgid=None,
                auid=e.auid, sessionid=ev.ses, a0=a[0], a1=a[1], a2=a[2], a3=a[3], exit=e.exit,
                saddr_fam=None, tid=None, line=None, pers=None)
            if s.key_only:
                ok = orig is not None and s.key in orig.split("\x01")
            else:
                ok = s.selects(shim, e.syscall_name) and (
                    s.key is None or (orig is not None and s.key in orig.split("\x01")))
            if ok:
                caught += 1
                by[_winner_label(e, combined)] += 1
        rows.append({"selector": s.text, "ok": caught > 0, "caught": caught, "caught_by": dict(by)})
    return rows
