"""The process graph's domain values: frozen dataclasses the API hands out.

A :class:`Process` is one process incarnation (a thread group between its creation and its
end); a reused pid gives a new ``Process`` with a new ``id``.  Threads are folded into their
process (``threads``).  Every value that is not read directly from the trace carries its source:

- credentials: :class:`CredValue` = (value, source), source one of :data:`CRED_SOURCES`;
- architecture: :class:`ArchSpan` = (start line, arch, source), source one of :data:`ARCH_SOURCES`.

A ``None`` value always means *unknown* -- nothing is guessed silently.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterator

from tracerule.errors import Diagnostic

OBSERVED = "observed"      #: printed in the trace: a get*id return, a set*id argument, a loginuid write
INFERRED = "inferred"      #: derived by the kernel's rules from other evidence (e.g. setuid exec proven)
SIDECAR = "sidecar"        #: from the metadata sidecar (recorder's creds, setuid bit of an executed file)
USER_GIVEN = "user-given"  #: stated by the user (``--uid``/``--gid``/``--auid``)
UNKNOWN = "unknown"        #: nothing tells; the value is None
CRED_SOURCES = (OBSERVED, INFERRED, SIDECAR, USER_GIVEN, UNKNOWN)
#: weakest first: an exec's ``cred_source`` is the weakest source among its known uid/euid/gid/egid
_WEAKNESS = {UNKNOWN: 0, INFERRED: 1, USER_GIVEN: 2, SIDECAR: 3, OBSERVED: 4}

ARCH_PERSONALITY = "personality"   #: ``[ Process PID=N runs in 32 bit mode. ]``
ARCH_SYSCALL_NAME = "syscall-name"  #: an i386-only syscall name (mmap2, set_thread_area, *32 ...)
ARCH_POINTER = "pointer"           #: 32-bit user pointers (``0xff..`` 8 hex digits)
ARCH_SIDECAR = "sidecar"           #: ELF class of the executed file, from the sidecar
ARCH_INHERITED = "inherited"       #: copied from the parent at fork (same image)
ARCH_DEFAULT = "default"           #: nothing tells: b64 on this x86_64 host
ARCH_SOURCES = (ARCH_PERSONALITY, ARCH_SYSCALL_NAME, ARCH_POINTER, ARCH_SIDECAR, ARCH_INHERITED,
                ARCH_DEFAULT)

AUID_UNSET = 4294967295


@dataclass(frozen=True, slots=True)
class CredValue:
    value: int | None
    source: str = UNKNOWN

    @property
    def known(self) -> bool:
        return self.value is not None


_UNKNOWN = CredValue(None, UNKNOWN)


@dataclass(frozen=True, slots=True)
class Creds:
    """Credentials of a task as the kernel sees them at one syscall exit."""

    uid: CredValue = _UNKNOWN
    euid: CredValue = _UNKNOWN
    suid: CredValue = _UNKNOWN
    fsuid: CredValue = _UNKNOWN
    gid: CredValue = _UNKNOWN
    egid: CredValue = _UNKNOWN
    sgid: CredValue = _UNKNOWN
    fsgid: CredValue = _UNKNOWN
    groups: tuple[int, ...] | None = None
    groups_source: str = UNKNOWN
    auid: CredValue = _UNKNOWN
    sessionid: CredValue = _UNKNOWN
    #: how the euid/egid of an exec changed: "sidecar" (setuid bit known), "inferred" (proven by
    #: later behaviour), or None (no change / not an exec)
    setid_exec: str | None = None

    FIELDS = ("uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "auid", "sessionid")

    @property
    def cred_source(self) -> str:
        """The weakest source among the known uid/euid/gid/egid ("unknown" when none is known)."""
        best = None
        for v in (self.uid, self.euid, self.gid, self.egid):
            if v.value is None:
                continue
            if best is None or _WEAKNESS[v.source] < _WEAKNESS[best]:
                best = v.source
        return best or UNKNOWN

    def to_dict(self) -> dict:
        # spelled out (same keys, same order as FIELDS): this runs once per exec of a JSON output
        uid, euid, suid, fsuid = self.uid, self.euid, self.suid, self.fsuid
        gid, egid, sgid, fsgid = self.gid, self.egid, self.sgid, self.fsgid
        auid, sessionid = self.auid, self.sessionid
        return {
            "uid": uid.value, "euid": euid.value, "suid": suid.value, "fsuid": fsuid.value,
            "gid": gid.value, "egid": egid.value, "sgid": sgid.value, "fsgid": fsgid.value,
            "auid": auid.value, "sessionid": sessionid.value,
            "groups": list(self.groups) if self.groups is not None else None,
            "sources": {
                "uid": uid.source, "euid": euid.source, "suid": suid.source, "fsuid": fsuid.source,
                "gid": gid.source, "egid": egid.source, "sgid": sgid.source, "fsgid": fsgid.source,
                "auid": auid.source, "sessionid": sessionid.source, "groups": self.groups_source,
            },
            "setid_exec": self.setid_exec,
        }


@dataclass(frozen=True, slots=True)
class ArchSpan:
    """From ``start_line`` on (until the next span) the process runs as ``arch`` (b64/b32/x32)."""

    start_line: int
    arch: str
    source: str


@dataclass(frozen=True, slots=True)
class Exec:
    """One execve/execveat, successful or failed, in trace order."""

    line: int                    #: line of the exit (``= 0`` / ``= -1 E..``)
    tid: int                     #: the thread that called it
    path: str                    #: the path as written (decoded, undecodable bytes backslash-escaped)
    argv: tuple[str, ...]
    ok: bool
    errno: str | None = None
    argv_truncated: bool = False
    syscall: str = "execve"
    injected: bool = False       #: strace fault injection (``(INJECTED)``)
    path_bytes: bytes = b""
    entry_line: int = 0
    arch: str = "b64"            #: the arch the syscall ran in (the caller's: audit's arch for this event)
    arch_source: str = ARCH_DEFAULT
    creds: Creds = field(default_factory=Creds)  #: at the syscall's exit (after a setuid bit took effect)
    time: float | None = None

    @property
    def program(self) -> str:
        p = self.path.rstrip("/")
        return p.rsplit("/", 1)[-1] if p else (self.argv[0] if self.argv else "")

    def to_dict(self) -> dict:
        c = self.creds
        return {
            "path": self.path, "argv": list(self.argv), "ok": self.ok, "errno": self.errno,
            "uid": c.uid.value, "euid": c.euid.value, "gid": c.gid.value, "egid": c.egid.value,
            "auid": c.auid.value, "cred_source": c.cred_source,
            "line": self.line, "tid": self.tid, "syscall": self.syscall,
            "argv_truncated": self.argv_truncated, "injected": self.injected,
            "arch": self.arch, "setid_exec": c.setid_exec, "creds": c.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ExitStatus:
    line: int
    code: int | None = None
    signal: str | None = None
    core: bool = False
    source: str = "exit-line"   #: "exit-line" (+++ ... +++) or "exit_group" (no +++ line seen)

    @property
    def text(self) -> str:
        if self.signal:
            return f"killed by {self.signal}" + (" (core dumped)" if self.core else "")
        return f"exited with {self.code}"

    def to_dict(self) -> dict:
        return {"code": self.code, "signal": self.signal, "core": self.core, "text": self.text,
                "line": self.line, "source": self.source}


@dataclass(frozen=True, slots=True)
class CredChange:
    """The credentials from ``line`` on, after ``cause`` (start, a set*id call, an exec ...)."""

    line: int
    cause: str
    creds: Creds


@dataclass(frozen=True, slots=True)
class Process:
    id: str                        #: stable: "p<pid>", "p<pid>.<n>" for the n-th incarnation of a pid
    pid: int                       #: the leader's tid (global pid as strace saw it)
    generation: int = 1
    parent_id: str | None = None   #: the real parent's id (None: outside the trace)
    ppid: int | None = None
    creator_id: str | None = None  #: the process that called clone (differs with CLONE_PARENT)
    via: str | None = None         #: clone, clone3, fork, vfork, sigchld, wait4, heuristic ...
    clone_flags: int | None = None
    threads: tuple[int, ...] = ()  #: non-leader tids, in order of appearance
    execs: tuple[Exec, ...] = ()
    exit: ExitStatus | None = None
    arch: tuple[ArchSpan, ...] = ()
    creds: tuple[CredChange, ...] = ()
    start_line: int = 0
    end_line: int = 0
    ns_pid: int | None = None      #: pid inside its pid namespace, when known
    file: str = ""

    @property
    def ok_execs(self) -> tuple[Exec, ...]:
        return tuple(e for e in self.execs if e.ok)

    @property
    def program(self) -> str:
        ok = [e for e in self.execs if e.ok]
        return ok[-1].program if ok else ""

    def creds_at(self, line: int) -> Creds:
        """Credentials at the exit of the syscall printed on ``line``."""
        if not self.creds:
            return Creds()
        i = bisect.bisect_right([c.line for c in self.creds], line) - 1
        return self.creds[max(i, 0)].creds

    def arch_at(self, line: int) -> ArchSpan:
        if not self.arch:
            return ArchSpan(self.start_line, "b64", ARCH_DEFAULT)
        i = bisect.bisect_right([a.start_line for a in self.arch], line) - 1
        return self.arch[max(i, 0)]

    def to_dict(self) -> dict:
        return {
            "id": self.id, "pid": self.pid, "parent_id": self.parent_id, "ppid": self.ppid,
            "threads": list(self.threads), "execs": [e.to_dict() for e in self.execs],
            "exit": self.exit.to_dict() if self.exit else None,
            "creator_id": self.creator_id, "via": self.via, "ns_pid": self.ns_pid,
            "start_line": self.start_line, "end_line": self.end_line,
            "arch": [{"line": a.start_line, "arch": a.arch, "source": a.source} for a in self.arch],
        }


SCHEMA_VERSION = 1


class ProcessGraph:
    """The result of :func:`tracerule.graph.build_graph`: processes in order of appearance.

    ``nx`` is the networkx ``DiGraph`` (built on first use: node = process id with attribute
    ``process``; edge parent -> child with ``via``).  ``warnings`` are diagnostics with a location.
    """

    def __init__(self, processes: tuple[Process, ...], warnings: tuple[Diagnostic, ...] = (),
                 report: dict | None = None, source: str = "", sidecar_used: str | None = None):
        self.processes = processes
        self.warnings = warnings
        self.report = report or {}
        self.source = source
        self.sidecar_used = sidecar_used
        self._by_id = {p.id: p for p in processes}
        self._nx = None

    def __iter__(self) -> Iterator[Process]:
        return iter(self.processes)

    def __len__(self) -> int:
        return len(self.processes)

    def __getitem__(self, pid_or_id: int | str) -> Process:
        """By id ("p8027"), or by pid (the latest incarnation)."""
        if isinstance(pid_or_id, str):
            return self._by_id[pid_or_id]
        found = [p for p in self.processes if p.pid == pid_or_id]
        if not found:
            raise KeyError(pid_or_id)
        return found[-1]

    def get(self, pid_or_id, default=None):
        try:
            return self[pid_or_id]
        except KeyError:
            return default

    def roots(self) -> list[Process]:
        return [p for p in self.processes if p.parent_id is None]

    def children(self, proc: Process | str) -> list[Process]:
        pid = proc if isinstance(proc, str) else proc.id
        return [p for p in self.processes if p.parent_id == pid]

    def ancestors(self, proc: Process | str) -> list[Process]:
        """Parent, grandparent ... (the creator chain inside the trace)."""
        cur = self._by_id[proc if isinstance(proc, str) else proc.id]
        out = []
        seen = set()
        while cur.parent_id and cur.parent_id not in seen:
            seen.add(cur.parent_id)
            cur = self._by_id[cur.parent_id]
            out.append(cur)
        return out

    @property
    def nx(self):
        if self._nx is None:
            import networkx as nx

            g = nx.DiGraph()
            for p in self.processes:
                g.add_node(p.id, process=p)
            for p in self.processes:
                if p.parent_id is not None:
                    g.add_edge(p.parent_id, p.id, via=p.via or "")
            self._nx = g
        return self._nx

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "sidecar": self.sidecar_used,
            "processes": [p.to_dict() for p in self.processes],
            "warnings": [warning_dict(w) for w in self.warnings],
        }


def warning_dict(d: Diagnostic) -> dict:
    return {"file": d.file, "line": d.line, "severity": d.severity.value, "code": d.code,
            "message": d.message}
