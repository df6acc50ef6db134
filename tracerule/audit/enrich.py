"""Enrichment: a trace and its process graph -> the :class:`~tracerule.audit.record.Record` the
kernel's audit code would see at each syscall's exit (audit-semantics.md §1.3-§1.5, §12).

::

    from tracerule.audit.enrich import enrich, Enricher, rule_syscall_names
    for r in enrich("trace.txt"):                    # graph built in the same read
        ...
    names = rule_syscall_names(compiled)             # what the rules can match (None: all)
    e = Enricher("trace.txt", names=names)           # only those syscalls become records
    records = list(e); e.graph; e.stats              # the graph and counts, once iterated

Per record: the arch of *this* syscall (personality spans from the graph; an execve is audited
in the caller's arch) and its number in that arch's table (``syscall_0x1f4`` names by number,
``???`` skipped and counted); exit value (-errno for a failure) and success; ``a0..a3`` decoded
from the printed arguments (symbolic constants through strace's tables, fds, AT_FDCWD; strings,
structs and arrays are pointers: unknown, None); on i386 the socket calls are ``socketcall`` with
a0 = the call number unless ``-n`` shows the direct syscall; pid (tgid), ppid and the credentials
at exit from the graph (unknown stays None: the simulator reports the assumption); comm; the
program image as a shared :class:`FileRef` (at an execve's exit the new program, a failed execve
keeps the old one) resolved through the sidecar's realpath and (dev, ino), or this host's file
system when the trace comes from it; the PATH items the kernel collects, with absolute paths
(cwd tracked per process from the sidecar's start cwd, chdir/fchdir and ``-yy`` decorations such
as ``AT_FDCWD</tmp>``; dirfds from their decorations), realpaths where ``-yy`` shows them, and
object types where the trace shows them; ``saddr_fam``; ``oflags`` for openat2; ``forced`` for a
loginuid write (the LOGIN record forces a SYSCALL record).

Speed: with ``names`` only those syscalls become records; the reader skips the other lines
without parsing them.  Without a graph, the graph is built in the same read (the events that
become records are held until the graph is complete; past :data:`BUFFER_LIMIT` of them the
trace is read a second time instead).
"""
from __future__ import annotations

import gc
import os
import posixpath
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from tracerule.audit import _enrich_args as E
from tracerule.audit.record import NO_SOCKADDR, FileRef, Name, Record, TaskView, fixup_return
from tracerule.audit.tables import AUDIT_ARCH, COMPAT, parse_unknown_syscall, table
from tracerule.strace.events import UNFINISHED, Syscall
from tracerule.strace.values import (decode_string, fd_value, open_info, parse_int,
                                     prctl_info, split_args)

__all__ = ["enrich", "Enricher", "EnrichStats", "rule_syscall_names", "record_needs", "STATE_NAMES",
           "BUFFER_LIMIT", "ArgRegisters"]

BUFFER_LIMIT = 400_000
#: syscalls read for the enrichment's own state (cwd, comm, personality)
STATE_NAMES = frozenset({"chdir", "fchdir", "prctl", "personality"})
_S_IFDIR = 0o040000
_S_IFMT = 0o170000
_O_CREAT, _O_EXCL, _O_DIRECTORY = 0o100, 0o200, 0o200000
_AT_SYMLINK_NOFOLLOW, _AT_EMPTY_PATH, _AT_SYMLINK_FOLLOW = 0x100, 0x1000, 0x400
_ARCH_OF = {"b64": "x86_64", "b32": "i386", "x32": "x86_64"}
#: strace's name -> libaudit's table name, where they differ (x86_64 pread64 is "pread" there)
STRACE_ALIASES = {"pread64": "pread", "pwrite64": "pwrite", "_exit": "exit", "pread": "pread64",
                  "pwrite": "pwrite64"}


@dataclass
class EnrichStats:
    """Counts of one enrichment run (complete once the iteration ended)."""

    syscalls: int = 0          #: syscall events looked at (those the reader yielded)
    records: int = 0           #: records produced
    unnamed: int = 0           #: ``???`` syscalls (number unknown): skipped
    unknown_names: dict = field(default_factory=dict)   #: names not in the arch's table: skipped
    unfinished: int = 0        #: syscalls that never returned (not exit/exit_group): skipped
    arch_fixed: int = 0        #: name only in the other table of the host: arch switched
    socketcall_assumed: int = 0  #: i386 socket calls taken as socketcall (no -n number)
    passes: int = 1            #: reads of the trace
    host_resolved: bool = False
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"syscalls": self.syscalls, "records": self.records, "unnamed": self.unnamed,
                "unknown_names": dict(self.unknown_names), "unfinished": self.unfinished,
                "arch_fixed": self.arch_fixed, "socketcall_assumed": self.socketcall_assumed,
                "passes": self.passes, "host_resolved": self.host_resolved,
                "notes": list(self.notes)}


def rule_syscall_names(compiled, host: str = "x86_64") -> frozenset[str] | None:
    """The syscall names (as strace prints them) the compiled rules' masks can match, over the
    host's arch and its 32-bit ABI; None when some rule looks at every syscall (``-S all``, a
    watch, a task-list ``always``)."""
    arches = [host] + ([COMPAT[host]] if COMPAT.get(host) else [])
    out: set[str] = set()
    for info in compiled.rules:
        if info.via == "task" and info.action == "always":
            return None
        if info.via not in ("exit", "watch"):
            continue
        rule = info.rule
        sc = rule.syscalls
        if sc is None or sc.all:
            return None
        wanted = arches
        archs = [f for f in rule.arch_fields if f.op == "="]
        if archs:
            inv = {v: k for k, v in AUDIT_ARCH.items()}
            a = inv.get(int(archs[-1].value))
            wanted = [a] if a in arches else []
        for a in wanted:
            t = table(a)
            for nr in sc.numbers:
                n = t.name(nr)
                if n is not None:
                    out.add(n)
                    if n == "socketcall":
                        out.update(E.SOCKETCALL)
                    for k, v in STRACE_ALIASES.items():
                        if v == n:
                            out.add(k)
                out.add(f"syscall_{nr:#x}")
                out.add(f"syscall_{nr}")
    return frozenset(out)


def record_needs(compiled) -> frozenset[str]:
    """Which costly record parts the compiled rules look at: ``args`` (a0..a3, also for perm's
    open flags and socketcall), ``names`` (path=, dir=, watches, filetype, inode, obj_*,
    devmajor/minor), ``saddr`` (saddr_fam)."""
    from tracerule.audit.rules.model import Comparison, Field

    need: set = set()
    regs: dict[int, set[int]] = {}
    all_args = False
    for info in compiled.rules:
        if info.via == "watch":
            need.add("names")
        sc = info.rule.syscalls
        for t in info.rule.fields:
            if isinstance(t, Comparison):
                if "obj_uid" in (t.left, t.right) or "obj_gid" in (t.left, t.right):
                    need.add("names")
                continue
            if not isinstance(t, Field):
                continue
            n = t.name
            if n in ("a0", "a1", "a2", "a3"):
                if sc is None or sc.all:
                    all_args = True
                else:
                    for nr in sc.numbers:
                        regs.setdefault(nr, set()).add(int(n[1]))
            elif n == "perm":
                all_args = True
            elif n in ("path", "dir", "filetype", "inode", "obj_uid", "obj_gid", "devmajor",
                       "devminor") or n.startswith("obj_"):
                need.add("names")
            elif n == "saddr_fam":
                need.add("saddr")
    if all_args:
        need.add("args")
    elif regs:
        need.add(ArgRegisters((nr, frozenset(v)) for nr, v in regs.items()))
    return frozenset(need)


class ArgRegisters(frozenset):
    """A :func:`record_needs` item: only these argument registers are looked at -- pairs
    (syscall number as the rules' masks hold it, frozenset of register indices 0..3).  Records
    of other syscall numbers get a0..a3 None, and the others registers of these None too (no
    rule reads them: a rule's fields are only evaluated where its mask holds the number).  The
    plain ``"args"`` item (everything decoded) wins over it."""

    def by_nr(self) -> dict:
        return {nr: tuple(sorted(ix)) for nr, ix in self}


def enrich(source, graph=None, *, names: Iterable[str] | None = None, sidecar="auto",
           host_resolve: bool | None = None, uid: int | None = None, gid: int | None = None,
           auid: int | None = None) -> Iterator[Record]:
    """Records for every completed syscall of ``source`` (only ``names`` when given).

    ``graph``: the trace's :class:`~tracerule.graph.ProcessGraph` (built in the same read when
    None); ``sidecar``: "auto" (beside the trace), a path, a Sidecar, or None; ``host_resolve``:
    stat files on this host (True), never (False), or when the sidecar's hostname is this host's
    (None); ``uid``/``gid``/``auid``: start credentials the user states (graph build only)."""
    return iter(Enricher(source, graph, names=names, sidecar=sidecar, host_resolve=host_resolve,
                         uid=uid, gid=gid, auid=auid))


class _PState:
    """Per-process enrichment state."""

    __slots__ = ("proc", "cred_lines", "creds", "exec_lines", "exes", "comms", "cwd_lines",
                 "cwds", "task", "pers", "exe0", "comm0", "cred_vals", "arch_lines", "arches",
                 "exec_by_line", "ctx", "ordered")


class Enricher:
    """Iterable of records; ``graph``, ``report`` (the reader's) and ``stats`` after iterating.
    ``need``: the record parts to compute (see :func:`record_needs`; None: all)."""

    def __init__(self, source, graph=None, *, names: Iterable[str] | None = None,
                 sidecar="auto", host_resolve: bool | None = None, uid: int | None = None,
                 gid: int | None = None, auid: int | None = None, host: str = "x86_64",
                 need: Iterable[str] | None = None) -> None:
        from tracerule import sidecar as S

        #: what to compute: "args", "names", "saddr" (None: everything); parts not computed are
        #: None in the records (unknown), so a consumer that looks at them gets assumptions
        self.need = None if need is None else frozenset(need)
        #: syscall number -> register indices to decode, when only some are needed (else None)
        self._regs = None
        #: (all registers, PATH items, saddr_fam) to compute
        self._needs = (self.need is None or "args" in self.need,
                       self.need is None or "names" in self.need,
                       self.need is None or "saddr" in self.need)
        if self.need is not None and "args" not in self.need:
            regs: dict = {}
            for x in self.need:
                if isinstance(x, ArgRegisters):
                    for nr, ix in x.by_nr().items():
                        regs[nr] = tuple(sorted(set(regs.get(nr, ())) | set(ix)))
            self._regs = regs
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError("enrich: source must be a trace path")
        self.source = str(source)
        if sidecar == "auto":
            found = S.find_sidecar(self.source) if os.path.exists(self.source) else None
            self.sidecar = S.read_sidecar(found) if found is not None else None
        elif isinstance(sidecar, (str, os.PathLike)):
            self.sidecar = S.read_sidecar(sidecar)
        else:
            self.sidecar = sidecar
        self.graph = graph
        self.names = None if names is None else frozenset(names)
        self.host = host
        if host_resolve is None:
            hn = self.sidecar.hostname if self.sidecar is not None else None
            # the sidecar records os.uname().nodename (gethostname(2) is the same value; no
            # socket module import for it)
            host_resolve = bool(hn) and hn == os.uname().nodename
        self.host_resolve = bool(host_resolve)
        self.creds_given = (uid, gid, auid)
        self.stats = EnrichStats(host_resolved=self.host_resolve)
        self.report = None
        self._files: dict = {}
        self._fileref: dict = {}
        self._hostnames: dict = {}
        self._states: dict = {}
        self._by_tid: dict = {}
        self._tidcomm: dict = {}
        self._kinds: dict = {}
        self._done = False

    # ---- driving -----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        if self._done:
            raise RuntimeError("an Enricher is iterated once")
        self._done = True
        from tracerule.graph.build import (NAMES as GRAPH_NAMES,
                                           NAMES_DECORATED as GRAPH_NAMES_DECORATED, GraphBuilder,
                                           fds_decorated)
        from tracerule.strace.reader import TraceReader

        keep = None if self.names is None else self.names | STATE_NAMES
        if self.graph is not None:
            self._index()
            reader = TraceReader(self.source, names=keep)
            yield from self._run(reader)
            self.report = reader.report
            return
        # the syscalls the graph needs, as build_graph() picks them: fewer when the trace shows
        # -y fd decorations (no close/dup/fcntl/open bookkeeping then)
        gnames = GRAPH_NAMES_DECORATED if fds_decorated(self.source) else GRAPH_NAMES
        read = None if keep is None else keep | gnames
        reader = TraceReader(self.source, names=read)
        uid, gid, auid = self.creds_given
        b = GraphBuilder(sidecar=self.sidecar, uid=uid, gid=gid, auid=auid, source=self.source)
        feed = b.feed
        buf: list | None = []
        # the read allocates many long-lived objects (events, graph) and no cycles worth
        # collecting: the cyclic GC's passes over them cost ~10% of the run.  Off for this loop
        # and the graph's completion only (no yield: no caller code runs meanwhile), restored
        # even on an error.
        gc_was = gc.isenabled()
        gc.disable()
        try:
            for ev in reader:
                if type(ev) is not Syscall:
                    feed(ev)
                    continue
                name = ev.name
                if keep is None or name in gnames:   # as build_graph() would read (names mode)
                    feed(ev)
                if buf is not None and (keep is None or name in keep):
                    buf.append(ev)
                    if len(buf) > BUFFER_LIMIT:
                        buf = None
            self.graph = b.finish(reader.report)
            b.release()             # the builder's linked processes: freed now, not frozen below
            self.report = reader.report
            self._index()
            # and the records' pass then finds them in the permanent generation: its collections
            # (it yields to the caller: GC stays on) do not walk them again; unfrozen at the end.
            # Only when nothing was frozen before: unfreezing is process-wide, and objects a caller
            # froze must stay so
            freeze = gc.get_freeze_count() == 0
            if freeze:
                gc.freeze()
        finally:
            if gc_was:
                gc.enable()
        try:
            if buf is not None:
                yield from self._run(buf)
                return
            self.stats.passes = 2
            reader2 = TraceReader(self.source, names=keep)
            yield from self._run(reader2)
        finally:
            if freeze:
                gc.unfreeze()

    def from_events(self, events) -> Iterator[Record]:
        """The records of events already read from this trace (in file order), with the graph given
        at construction -- for a caller that kept the events of a read of its own (suggest's
        replay) instead of reading the trace again.  Syscalls outside ``names`` (and the state
        enrich tracks) are skipped, as a read with ``names`` would."""
        if self.graph is None:
            raise ValueError("Enricher.from_events needs the trace's graph")
        if self._done:
            raise RuntimeError("an Enricher is iterated once")
        self._done = True
        self._index()
        keep = None if self.names is None else self.names | STATE_NAMES
        if keep is not None:
            events = (e for e in events if type(e) is not Syscall or e.name in keep)
        yield from self._run(events)

    def _index(self) -> None:
        by: dict[int, list] = {}
        for p in self.graph.processes:
            for t in (p.pid,) + tuple(p.threads):
                by.setdefault(t, []).append((p.start_line, p))
        for v in by.values():
            v.sort(key=lambda x: x[0])
        self._by_tid = by

    def _proc(self, tid: int, line: int):
        lst = self._by_tid.get(tid)
        if not lst:
            return None
        if len(lst) == 1:
            return lst[0][1]
        i = bisect_right([s for s, _ in lst], line) - 1
        return lst[max(i, 0)][1]

    # ---- per-process state -------------------------------------------------------------------
    def _state(self, p) -> _PState:
        st = self._states.get(p.id)
        if st is not None:
            return st
        st = _PState()
        st.proc = p
        st.cred_lines = [c.line for c in p.creds]
        st.creds = [c.creds for c in p.creds]
        st.cred_vals = {}
        ok = [e for e in p.execs if e.ok]
        st.exec_lines = [e.line for e in ok]
        st.exes = [None] * len(ok)
        st.comms = [None] * len(ok)
        st.exec_by_line = {e.line: e for e in p.execs}
        st.ctx = None
        st.ordered = _ordered(st.cred_lines) and _ordered(st.exec_lines)
        st.arch_lines = [a.start_line for a in p.arch]
        st.arches = [a.arch for a in p.arch]
        if len(st.arches) > 1 and len(set(st.arches)) == 1:
            # spans (one per exec, say) that all name the same arch: any line answers it
            st.arch_lines, st.arches = st.arch_lines[:1], st.arches[:1]
        st.pers = []
        parent = self.graph.get(p.parent_id) if p.parent_id else None
        pst = self._state(parent) if parent is not None and parent is not p else None
        if pst is not None:
            cwd = self._cwd_at(pst, p.start_line)
            st.exe0, st.comm0 = self._exe_at(pst, p.start_line)
            per = self._pers_at(pst, p.start_line)
        else:
            cwd = self.sidecar.cwd if self.sidecar is not None and p is self.graph.processes[0] \
                else None
            st.exe0, st.comm0 = None, None
            per = 0 if p is self.graph.processes[0] else None
        st.cwd_lines = [p.start_line]
        st.cwds = [cwd]
        st.pers = [(p.start_line, per)]
        c0 = st.creds[0] if st.creds else None
        if c0 is not None:
            st.task = TaskView(p.pid, uid=c0.uid.value, euid=c0.euid.value, suid=c0.suid.value,
                               fsuid=c0.fsuid.value, gid=c0.gid.value, egid=c0.egid.value,
                               sgid=c0.sgid.value, fsgid=c0.fsgid.value, groups=c0.groups,
                               auid=c0.auid.value, sessionid=c0.sessionid.value, pers=per)
        else:
            st.task = None
        self._states[p.id] = st
        return st

    @staticmethod
    def _cwd_at(st: _PState, line: int) -> str | None:
        i = bisect_right(st.cwd_lines, line) - 1
        return st.cwds[max(i, 0)]

    @staticmethod
    def _pers_at(st: _PState, line: int):
        v = st.pers[0][1]
        for ln, x in st.pers:
            if ln > line:
                break
            v = x
        return v

    def _set_cwd(self, st: _PState, line: int, cwd: str | None) -> None:
        if cwd is None or st.cwds[-1] == cwd:
            return
        st.cwd_lines.append(line)
        st.cwds.append(cwd)

    def _exe_at(self, st: _PState, line: int):
        """(FileRef, comm) of the image the process runs after the syscall on ``line``."""
        i = bisect_right(st.exec_lines, line) - 1
        if i < 0:
            return st.exe0, st.comm0
        ref = st.exes[i]
        if ref is None:
            e = [x for x in st.proc.execs if x.ok][i]
            path = e.path
            if e.syscall == "execveat" or not path.startswith("/"):
                base = self._cwd_at(st, e.line)
                path = _absolute(path, base) or path
            ref = st.exes[i] = self._image_ref(e.path, path)
            st.comms[i] = _comm_of(path)
        return ref, st.comms[i]

    def _image_ref(self, as_executed: str, path: str) -> FileRef:
        """The program image after a successful exec of ``path``: for a ``#!`` script the
        interpreter (binfmt_script opens it and the kernel's exe is that file), recursively for an
        interpreter that is itself a script (at most 4 levels, BINPRM_MAX_RECURSION)."""
        cur_x, cur = as_executed, path
        seen = {path}
        for _ in range(4):
            info = self._interp(cur_x, cur)
            if info is None or not info[1]:
                break
            nxt = _norm(info[0]) if info[0].startswith("/") else None
            if nxt is None or nxt in seen:
                break
            seen.add(nxt)
            cur_x, cur = info[0], nxt
        return self._file_ref(cur_x, cur)

    def _interp(self, as_executed: str, path: str | None):
        """(interpreter, is_shebang) of an executed file -- the ``#!`` interpreter or the ELF's
        PT_INTERP -- from the sidecar, else from this host's file when the trace is from here;
        None when it has none or nothing tells."""
        f = self._sidecar_file(as_executed, path)
        if f is not None and f.exists is not False and (f.dev is not None or f.shebang
                                                         or f.interpreter is not None):
            return (f.interpreter, f.shebang) if f.interpreter else None
        if not self.host_resolve or path is None or not path.startswith("/"):
            return None
        key = ("interp", path)
        if key not in self._files:
            from tracerule.sidecar import describe_file

            d = describe_file(path)
            self._files[key] = (d.interpreter, d.shebang) if d.exists and d.interpreter else None
        return self._files[key]

    def _file_ref(self, as_executed: str, path: str) -> FileRef:
        ref = self._fileref.get(path)
        if ref is not None:
            return ref
        f = self._sidecar_file(as_executed, path)
        if f is not None and (f.dev is not None or f.realpath is not None):
            ref = FileRef(f.realpath or path, f.dev, f.ino, f.realpath)
        elif self.host_resolve and path.startswith("/"):
            ref = FileRef.of(path)
            if ref.realpath is not None:
                ref = FileRef(ref.realpath, ref.dev, ref.ino, ref.realpath)
        else:
            ref = FileRef(path, None, None, None)
        self._fileref[path] = ref
        return ref

    def _sidecar_file(self, as_executed: str, path: str | None):
        sc = self.sidecar
        if sc is None:
            return None
        key = (as_executed, path)
        if key in self._files:
            return self._files[key]
        f = sc.file(as_executed)
        if f is None and path is not None and path != as_executed:
            f = sc.file(path)
        self._files[key] = f
        return f

    def _creds(self, st: _PState, line: int):
        i = bisect_right(st.cred_lines, line) - 1
        if i < 0:
            i = 0
        v = st.cred_vals.get(i)
        if v is None:
            if not st.creds:
                v = (None,) * 10 + (None,)
            else:
                c = st.creds[i]
                v = (c.uid.value, c.euid.value, c.suid.value, c.fsuid.value, c.gid.value,
                     c.egid.value, c.sgid.value, c.fsgid.value, c.auid.value, c.sessionid.value,
                     c.groups)
            st.cred_vals[i] = v
        return v

    def _context(self, st: _PState, line: int) -> tuple:
        """(first line, end line, the 11 credential values of :meth:`_creds`, exe, comm, pers)
        at ``line``, with the line range over which :meth:`_creds`, :meth:`_exe_at` and
        :meth:`_pers_at` give these same answers (their lists are sorted by line: bisect
        bounds; otherwise the range is ``line`` alone).  Cached in ``st.ctx`` by the records'
        pass; a personality change (``st.pers`` grows) drops it.  The exe is looked up here
        at the first record of its range, as a per-record call would have (its cache fills
        then)."""
        lo, hi = -1 << 62, 1 << 62
        exe, comm = self._exe_at(st, line)
        pers = self._pers_at(st, line)
        plines = [ln for ln, _ in st.pers]
        if st.ordered and _ordered(plines):
            for lines, clamp in ((st.cred_lines, True), (st.exec_lines, False), (plines, True)):
                i = bisect_right(lines, line) - 1
                if clamp and i < 0:
                    i = 0          # the first entry also answers every line before it
                if i >= (1 if clamp else 0):
                    lo = max(lo, lines[i])
                if i + 1 < len(lines):
                    hi = min(hi, lines[i + 1])
        else:
            lo, hi = line, line + 1
        return (lo, hi) + self._creds(st, line) + (exe, comm, pers)

    def _arch(self, st: _PState, line: int) -> str:
        i = bisect_right(st.arch_lines, line) - 1
        return st.arches[max(i, 0)] if st.arches else "b64"

    # ---- the records -------------------------------------------------------------------------
    def _run(self, events) -> Iterator[Record]:
        names = self.names
        stats = self.stats
        host = self.host
        compat = COMPAT.get(host)
        tables = {"b64": table(host)}
        if compat:
            tables["b32"] = table(compat)
        audit_arch = {"b64": AUDIT_ARCH[host], "b32": AUDIT_ARCH.get(compat or "", 0),
                      "x32": AUDIT_ARCH[host]}
        graph_procs = self.graph.processes
        # tid -> (state, first line, end line) of the process that tid belonged to last: the
        # same answer as _proc() for every line in that range (traces interleave many tids)
        by_tid: dict = {}
        for ev in events:
            if type(ev) is not Syscall:
                continue
            name = ev.name
            tid = ev.tid
            line = ev.line
            if tid == 0 and graph_procs:
                tid = graph_procs[0].pid
            last = by_tid.get(tid)
            if last is None or line < last[1] or line >= last[2]:
                p = self._proc(tid, line)
                if p is None:
                    continue
                last = by_tid[tid] = (self._state(p), p.start_line,
                                      _next_start(self._by_tid.get(tid), p.start_line))
            st = last[0]
            if name in STATE_NAMES:
                self._track(st, ev)
                if names is not None and name not in names:
                    continue
            stats.syscalls += 1
            if ev.state == UNFINISHED and name not in ("exit", "exit_group"):
                stats.unfinished += 1
                continue
            r = self._record(st, ev, name, tid, line, tables, audit_arch)
            if r is not None:
                stats.records += 1
                yield r
        if stats.socketcall_assumed and not any(n.startswith("socketcall") for n in stats.notes):
            stats.notes.append(
                f"socketcall assumed: {stats.socketcall_assumed} i386 socket call(s) without a "
                "syscall number (strace -n) were taken as socketcall(SYS_...); the direct i386 "
                "calls (socket #359, connect #362 ...) print alike, so '-F arch=b32 -S socket' "
                "rules may miss them (record with -n, as 'tracerule record' does)")

    def _track(self, st: _PState, ev: Syscall) -> None:
        name = ev.name
        if name == "personality":
            # returns the PREVIOUS persona (personality(PER_LINUX) = 0x8): only an error means
            # nothing changed (and personality(0xffffffff) is a query, handled below)
            if ev.errno or ev.ret is None or ev.ret < 0:
                return
        elif ev.ret != 0 and name != "prctl":
            return
        if name == "chdir":
            toks = split_args(ev.args)
            sv = decode_string(toks[0]) if toks else None
            if sv is not None:
                base = self._cwd_at(st, ev.line)
                self._set_cwd(st, ev.line, _absolute(_text(sv.data), base))
        elif name == "fchdir":
            fv = fd_value(ev.args)
            if fv is not None and fv.path is not None:
                self._set_cwd(st, ev.line, _text(fv.path))
        elif name == "personality":
            v = parse_int(split_args(ev.args)[0]) if ev.args else None
            if v is None:
                v = E.scalar(split_args(ev.args)[0]) if ev.args else None
            if v is not None and v != 0xFFFFFFFF:
                st.pers.append((ev.line, v))
                st.ctx = None
        elif name == "prctl" and "PR_SET_NAME" in ev.args and ev.ret == 0:
            pi = prctl_info(ev)
            if pi is not None and pi.comm is not None:
                self._tidcomm[ev.tid] = (ev.line, _text(pi.comm)[:15])

    @staticmethod
    def _number(name: str, arch: str, tables) -> tuple:
        """(base name, arch, table, number or None, arch switched) of a syscall name printed in
        ``arch`` (a pure function of its arguments: cached per (name, arch))."""
        base = name
        if "#" in base:        # x32 "readv#64"
            base = base.split("#", 1)[0]
        t = tables.get(arch) or tables["b64"]
        nr = t.nr(base)
        if nr is None and base in STRACE_ALIASES:
            nr = t.nr(STRACE_ALIASES[base])
        if nr is None:
            nr = parse_unknown_syscall(base)
            if nr is None:
                other = tables.get("b32" if arch == "b64" else "b64")
                n2 = other.nr(base) if other is not None else None
                if n2 is not None:
                    return base, "b32" if arch == "b64" else "b64", other, n2, True
                return base, arch, t, None, False
        return base, arch, t, nr, False

    def _kind(self, name: str, arch: str, tables, audit_arch) -> tuple:
        """What a syscall name printed in a process running ``arch`` means, independent of the
        call's own values (a pure function of its arguments: cached per (name, arch)):
        (base name, arch, table, number or None, arch switched, AUDIT_ARCH value, x32, i386
        socket call that socketcall may carry, arch for the argument decoding, exit/exit_group,
        copies a sockaddr, openat2, write)."""
        base, arch, t, nr, fixed = self._number(name, arch, tables)
        return (base, arch, t, nr, fixed, audit_arch.get(arch, audit_arch["b64"]), arch == "x32",
                arch == "b32" and base in E.SOCKETCALL and "socketcall" in t.by_name,
                _ARCH_OF.get(arch, "x86_64"), name in ("exit", "exit_group"),
                base in E.SOCKADDR_SYSCALLS, base == "openat2", base == "write")

    def _record(self, st: _PState, ev: Syscall, name: str, tid: int, line: int, tables,
                audit_arch) -> Record | None:
        stats = self.stats
        if name == "???" or name.startswith("???"):
            stats.unnamed += 1
            return None
        ex = st.exec_by_line.get(line) if name in ("execve", "execveat") else None
        if ex is not None:
            arch = ex.arch
        elif len(st.arches) == 1:
            arch = st.arches[0]
        elif not st.arches:
            arch = "b64"            # what _arch() answers for a process without arch spans
        else:
            arch = self._arch(st, ev.entry_line or line)
        key = (name, arch)
        kind = self._kinds.get(key)
        if kind is None:
            kind = self._kinds[key] = self._kind(name, arch, tables, audit_arch)
        (base, arch, t, nr, fixed, aarch, x32, sc_possible, arg_arch, no_return, copies_saddr,
         is_openat2, is_write) = kind
        if nr is None:
            stats.unknown_names[base] = stats.unknown_names.get(base, 0) + 1
            return None
        if fixed:
            stats.arch_fixed += 1
        scno = ev.scno
        if scno is not None and scno != nr:
            nr = scno
        if x32:
            nr |= 0x40000000
        args = ev.args or ""
        a0 = a1 = a2 = a3 = None
        all_args, need_names, need_saddr = self._needs
        socketcall = sc_possible and (scno is None or scno == 102)
        if socketcall and scno is None and t.nr(base) is not None:
            # both a direct syscall and socketcall exist: strace prints the same name; glibc on
            # i386 uses socketcall unless built for kernels >= 4.3
            stats.socketcall_assumed += 1
        if socketcall:
            nr = t.nr("socketcall")
            a0 = E.SOCKETCALL[base]
        elif all_args:
            a0, a1, a2, a3 = E.registers(base, args, arg_arch)
        else:
            ix = self._regs.get(nr)
            if ix:
                a0, a1, a2, a3 = E.registers_some(base, args, arg_arch, ix)
        errno = ev.errno
        if no_return:
            exit_v = None
            failed = False
        elif errno:
            exit_v = E.exit_value(ev.ret, errno)
            # an errno strace named but we cannot number: failed, exit unknown
            failed = exit_v is None or -4095 <= exit_v <= -1
        else:
            exit_v = ev.ret
            failed = exit_v is not None and -4095 <= exit_v <= -1
        ctx = st.ctx
        if ctx is None or not ctx[0] <= line < ctx[1]:
            ctx = st.ctx = self._context(st, line)
        (_, _, uid, euid, suid, fsuid, gid, egid, sgid, fsgid, auid, ses, groups, exe, comm,
         pers) = ctx
        tc = self._tidcomm.get(tid)
        if ev.comm is not None:
            comm = ev.comm[:15]
        elif tc is not None and tc[0] <= line and (not st.exec_lines or st.exec_lines[-1] < tc[0]
                                                    or bisect_right(st.exec_lines, line) ==
                                                    bisect_right(st.exec_lines, tc[0])):
            comm = tc[1]
        names = self._names(st, ev, base, args, failed, ex) if need_names else None
        if not copies_saddr:
            saddr = NO_SOCKADDR
        elif need_saddr:
            saddr = E.saddr_family(base, args, failed)
        else:
            saddr = None
        oflags = None
        if is_openat2 and all_args:
            oi = open_info(ev)
            oflags = oi.flags if oi is not None else None
        forced = is_write and not failed and "loginuid>" in args
        p = st.proc
        # what Record(exit=exit_v, success=False if exit_v is None and failed else None) stores
        # (failed is is_success's negation where the return is known), without its keyword call
        if exit_v is None:
            success = False if failed else None
        else:
            success = not failed
            if exit_v < 0:
                exit_v = fixup_return(exit_v)
        return Record._make(aarch, nr, success, exit_v, a0, a1, a2, a3, p.pid, p.ppid, uid, euid,
                            suid, fsuid, gid, egid, sgid, fsgid, groups, auid, ses,
                            pers, comm, exe, names, saddr, oflags, st.task,
                            forced, ev.file, line, tid)

    # ---- PATH items ----------------------------------------------------------------------------
    def _names(self, st: _PState, ev: Syscall, base: str, args: str, failed: bool, ex):
        spec = E.PATH_SPECS.get(base)
        if spec is None:
            # unknown (None) where the kernel may have collected names we cannot work out
            return None if E.names_unknown(base, args) else ()
        toks = split_args(args)
        cwd = self._cwd_at(st, ev.entry_line or ev.line)
        errno = ev.errno
        out: list[Name] = []
        if base == "rename" or base.startswith("renameat"):
            paths = []
            for idx, dfd, _ in spec:
                paths.append(self._resolve(toks, idx, dfd, cwd, st, ev))
            olds, news = paths
            for ap, _ in (olds, news):
                out.append(self._name(_parent(ap), "PARENT", exists=True if ap else None,
                                      mode=_S_IFDIR))
            out.append(self._name(olds[0], "DELETE", exists=None if failed else True,
                                  as_passed=olds[1]))
            out.append(self._name(news[0], "CREATE", exists=None if failed else True,
                                  as_passed=news[1]))
            return tuple(out)
        for idx, dfd, kind in spec:
            if kind == "F":
                fv = fd_value(toks[idx]) if len(toks) > idx else None
                if fv is None or fv.path is None:
                    return None
                p = _text(fv.path)
                out.append(self._name(p, "NORMAL", exists=True, realpath=p))
                continue
            ap, passed = self._resolve(toks, idx, dfd, cwd, st, ev)
            if passed is None:
                return None
            if kind == "A":
                flags = E.scalar(toks[-1]) if toks else None
                if passed == "" and flags is not None and flags & _AT_EMPTY_PATH:
                    fv = fd_value(toks[dfd]) if dfd is not None and len(toks) > dfd else None
                    if fv is None or fv.path is None:
                        return None
                    p = _text(fv.path)
                    out.append(self._name(p, "NORMAL", exists=True, realpath=p,
                                          mode=E.stat_mode(args)))
                    continue
                kind = "L" if flags is not None and flags & _AT_SYMLINK_NOFOLLOW else "N"
            if kind in ("N", "L"):
                mode = E.stat_mode(args) if not failed else None
                out.append(self._name(ap, "NORMAL", exists=_exists(failed, errno),
                                      as_passed=passed, mode=mode, follow=kind == "N"))
            elif kind == "D":
                out.append(self._name(_parent(ap), "PARENT", exists=True if ap else None,
                                      mode=_S_IFDIR))
                out.append(self._name(ap, "DELETE", exists=_exists(failed, errno),
                                      as_passed=passed, follow=False))
            elif kind == "C":
                out.append(self._name(_parent(ap), "PARENT", exists=True if ap else None,
                                      mode=_S_IFDIR))
                mode = _S_IFDIR if base.startswith("mkdir") else None
                if failed:
                    out.append(self._name(ap, "NORMAL" if errno == "EEXIST" else "UNKNOWN",
                                          exists=True if errno == "EEXIST" else _exists(True, errno),
                                          as_passed=passed, follow=False))
                else:
                    out.append(self._name(ap, "CREATE", exists=True, as_passed=passed, mode=mode,
                                          follow=False))
            elif kind == "O":
                oi = open_info(ev)
                flags = oi.flags if oi is not None else None
                real = _text(oi.fd_path) if oi is not None and oi.fd_path is not None else None
                mode = _S_IFDIR if (flags is not None and flags & _O_DIRECTORY and not failed) \
                    else None
                if flags is not None and flags & _O_CREAT:
                    out.append(self._name(_parent(ap), "PARENT", exists=True if ap else None,
                                          mode=_S_IFDIR))
                    new = bool(flags & _O_EXCL) and not failed
                    out.append(self._name(ap, "CREATE" if new else "NORMAL",
                                          exists=_exists(failed, errno), as_passed=passed,
                                          realpath=real))
                else:
                    out.append(self._name(ap, "NORMAL", exists=_exists(failed, errno),
                                          as_passed=passed, realpath=real, mode=mode))
            elif kind == "X":
                out.extend(self._exec_names(ap, passed, failed, errno, ev, base, toks, dfd))
        return tuple(out)

    def _resolve(self, toks, idx: int, dfd, cwd, st, ev):
        """(absolute path or None, path as passed or None)."""
        if len(toks) <= idx:
            return None, None
        sv = decode_string(toks[idx])
        if sv is None:
            return None, None
        passed = _text(sv.data)
        if passed.startswith("/"):
            return _norm(passed), passed
        base = cwd
        if dfd is not None and len(toks) > dfd:
            fv = fd_value(toks[dfd])
            if fv is not None:
                if fv.path is not None:
                    base = _text(fv.path)
                    if fv.fd == -100:
                        self._set_cwd(st, ev.entry_line or ev.line, base)
                elif fv.fd != -100:
                    base = None
        if passed == "":
            return base, passed
        return _absolute(passed, base), passed

    def _name(self, path: str | None, nametype: str, *, exists=True, as_passed: str | None = None,
              realpath: str | None = None, mode: int | None = None, follow: bool = True) -> Name:
        if path is None:
            return Name(as_passed, nametype=nametype, exists=exists, rdev=None)
        if self.host_resolve and exists is not False:
            key = (path, follow)
            n = self._hostnames.get(key)
            if n is None:
                n = self._hostnames[key] = Name.of(path, follow=follow)
            if n.exists:
                return Name(path, realpath=realpath or n.realpath, dev=n.dev, ino=n.ino,
                            mode=n.mode, ouid=n.ouid, ogid=n.ogid, rdev=n.rdev, nametype=nametype,
                            exists=True, ancestry=n.ancestry)
        if realpath is None and exists is not False:
            f = self._sidecar_file(path, None) if self.sidecar is not None else None
            if f is not None and f.dev is not None:
                return Name(path, realpath=f.realpath or path, dev=f.dev, ino=f.ino, mode=f.mode,
                            ouid=f.uid, ogid=f.gid, nametype=nametype, exists=True, rdev=0)
        return Name(path, realpath=realpath, mode=mode, nametype=nametype, exists=exists,
                    rdev=None)

    def _exec_names(self, ap, passed, failed, errno, ev, base, toks, dfd) -> list[Name]:
        """The program and its interpreter chain (#! interpreter, ELF loader) from the sidecar."""
        if base == "execveat" and passed == "" and dfd is not None and len(toks) > dfd:
            fv = fd_value(toks[dfd])
            ap = _text(fv.path) if fv is not None and fv.path is not None else None
        out = [self._name(ap, "NORMAL", exists=_exists(failed, errno), as_passed=passed)]
        if failed and errno in ("ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG"):
            return out
        info = self._interp(passed or "", ap)
        seen = {ap}
        while info is not None and info[0] not in seen and len(out) < 6:
            interp = info[0]
            seen.add(interp)
            out.append(self._name(_norm(interp), "NORMAL", exists=True))
            info = self._interp(interp, _norm(interp))
        return out


def _next_start(lst, start: int) -> int:
    if not lst:
        return 1 << 62
    for s, _ in lst:
        if s > start:
            return s
    return 1 << 62


def _ordered(lines) -> bool:
    return len(lines) < 2 or all(a <= b for a, b in zip(lines, lines[1:]))


def _exists(failed: bool, errno: str | None):
    if not failed:
        return True
    if errno in ("ENOENT", "ENOTDIR"):
        return False
    return None


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _norm(p: str) -> str:
    q = posixpath.normpath(p)
    return "/" + q.lstrip("/") if q.startswith("//") else q


def _absolute(path: str, base: str | None) -> str | None:
    if path.startswith("/"):
        return _norm(path)
    if not base or not base.startswith("/"):
        return None
    return _norm(base + "/" + path)


def _parent(p: str | None) -> str | None:
    if p is None:
        return None
    d = posixpath.dirname(p.rstrip("/")) or "/"
    return d


def _comm_of(path: str) -> str:
    """The kernel sets comm to the basename of the executed file name (15 bytes)."""
    return path.rstrip("/").rsplit("/", 1)[-1][:15]
