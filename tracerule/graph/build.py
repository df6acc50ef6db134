"""Build the process graph from the reader's events, streaming: it holds processes, not lines.

Usage::

    from tracerule.graph import build_graph
    g = build_graph("trace.txt")                 # sidecar TRACE.tracerule.json used when present
    g = build_graph("trace.txt", uid=0, gid=0)   # state what the trace cannot tell
    for p in g: print(p.id, p.ppid, [e.path for e in p.ok_execs])

Or feed events yourself: ``b = GraphBuilder(); for ev in events: b.feed(ev); g = b.finish()``.

Parent rules (strace-format.md §6): the parent comes from a clone/clone3/fork/vfork return also
when the child's lines come first; CLONE_THREAD (by name or raw hex) folds the child into the
caller's thread group; CLONE_PARENT makes the caller's parent the parent (maybe outside the trace);
a fork from a non-leader thread belongs to the thread group; in a pid namespace without
``--pidns-translation`` a returned namespace pid is mapped to the next new tid that appears after
the call (cross-checked against wait4/SIGCHLD); a tid first seen without any creator is claimed by
the process that later gets its SIGCHLD or wait4 (``-Z``, filtered traces) or stays a root
(``-p`` attach).  A reused pid gives a new process.
"""
from __future__ import annotations

import gc
import os
import re
import zlib

from tracerule.errors import Diagnostic, InputError, Severity
from tracerule.graph.arch import I386_ONLY, ArchTrack, has_32bit_pointer
from tracerule.graph.creds import (
    SESSION_SET, Cell, CredState, Freezer, apply_setid, link_aliases, exec_transition, observe_get,
    prove_privileged,
)
from tracerule.graph.model import (
    ARCH_DEFAULT, ARCH_INHERITED, ARCH_POINTER, ARCH_SYSCALL_NAME, AUID_UNSET, INFERRED, OBSERVED,
    SIDECAR, USER_GIVEN, ArchSpan, CredChange, Exec, ExitStatus, Process, ProcessGraph,
)
from tracerule.strace import values as V
from tracerule.strace.constants import CLONE_FLAGS, CLONE_NEWPID, CLONE_PARENT, CLONE_THREAD
from tracerule.strace.events import Exit, Personality, PidChanged, Signal, Superseded, Syscall, TaskSeen

CREATE = frozenset({"clone", "clone3", "fork", "vfork"})
EXECS = frozenset({"execve", "execveat"})
SETID = frozenset({
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
})
SETID = SETID | {n + "32" for n in SETID}
GETID = frozenset({"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid"})
GETID = GETID | {n + "32" for n in GETID}
GROUPS = frozenset({"setgroups", "setgroups32", "getgroups", "getgroups32"})
FD_OPEN = frozenset({"openat", "open", "creat", "openat2"})
FD_DUP = frozenset({"dup", "dup2", "dup3", "fcntl", "fcntl64"})
WAITS = frozenset({"wait4", "waitid", "waitpid"})
OTHER = frozenset({"exit", "exit_group", "getpid", "gettid", "tgkill", "kill", "tkill", "unshare",
                   "setns", "capset", "prctl", "write", "close", "set_tid_address"})

#: exactly the syscalls the graph reads; pass to the reader's ``names=`` so it skips the rest fast
NAMES = frozenset(CREATE | EXECS | SETID | GETID | GROUPS | FD_OPEN | FD_DUP | WAITS | OTHER | I386_ONLY)
#: the same when fds are decorated (-y/-yy): a loginuid write shows its path on the write itself,
#: so opens, dups and closes need not be followed (they are the most frequent lines of a trace)
NAMES_DECORATED = NAMES - FD_OPEN - FD_DUP - {"close"}

_DECO_RE = re.compile(rb"(?:\(|, |= )\d+<[/a-zA-Z]")


def fds_decorated(path: str) -> bool:
    """Does the trace show -y fd decorations (``3</etc/passwd>``)?  Looks at its first lines."""
    try:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
            if not names:
                return False
            path = os.path.join(path, names[0])
        elif not os.path.exists(path):
            d = os.path.dirname(path) or "."
            base = os.path.basename(path) + "."
            names = sorted(n for n in os.listdir(d) if n.startswith(base))
            if not names:
                return False
            path = os.path.join(d, names[0])
        with open(path, "rb") as fh:
            head = fh.read(65536)
            if head[:2] == b"\x1f\x8b":     # gzip (the reader reads it by the same magic)
                import gzip

                fh.seek(0)
                with gzip.GzipFile(fileobj=fh) as gz:
                    head = gz.read(65536)
    except (OSError, EOFError, zlib.error):
        return False
    return bool(_DECO_RE.search(head))


_LOGINUID_RE = re.compile(rb"/proc/(?:self|\d+|thread-self)/(?:task/\d+/)?loginuid")


def _is_loginuid(path: bytes) -> bool:
    """``/proc/self/loginuid``, ``/proc/PID/loginuid``, ``/proc/self/task/TID/loginuid`` ..."""
    return _LOGINUID_RE.fullmatch(path) is not None


#: _clone_flags by (name, args): a process's clone calls print the same arguments (same flags,
#: same child_tidptr of the same image), so most calls of a trace repeat one of a few texts
_CLONE_BITS: dict[tuple[str, str], int] = {}


def _clone_flags(ev: Syscall) -> int:
    """CLONE_* bits of a clone/clone3/fork/vfork (names, raw hex, ``-X verbose``, ``-e raw``).
    Where a flag name is unknown to the table, the bits of the names that are known."""
    key = (ev.name, ev.args)
    bits = _CLONE_BITS.get(key)
    if bits is None:
        if len(_CLONE_BITS) >= 1024:
            _CLONE_BITS.clear()
        bits = _CLONE_BITS[key] = _clone_bits(ev.name, ev.args)
    return bits


def _clone_bits(name: str, args: str) -> int:
    info = V.clone_info(name, args)
    if info is None:
        return 0
    if info.flags is not None:
        return info.flags
    bits = 0
    for n in info.flag_names:
        bits |= CLONE_FLAGS.get(n, 0)
    return bits | (CLONE_THREAD if info.is_thread else 0) | (CLONE_PARENT if info.clone_parent else 0) \
        | (CLONE_NEWPID if info.newpid else 0)


_SIGCHLD_PLAIN = re.compile(r"\{si_signo=SIGCHLD, si_code=CLD_[A-Z]+, si_pid=([1-9]\d*), ").match


class _Exec:
    __slots__ = ("line", "tid", "path", "argv", "trunc", "ok", "errno", "name", "injected", "entry",
                 "arch", "arch_src", "snap", "time")


class _P:
    """A process during the build (mutable)."""

    __slots__ = ("seq", "pid", "gen", "parent", "creator", "via", "flags", "tids", "execs", "exit",
                 "exit_group", "arch", "cred", "changes", "start_line", "end_line", "ns_pid",
                 "nsview", "nsnext", "lfds", "pending_exec", "claimed", "ns_kids", "file",
                 "merged", "linked", "made", "xtid", "aliases")

    def __init__(self, seq, pid, gen, line, file):
        self.seq = seq
        self.pid = pid
        self.gen = gen
        self.parent = None
        self.creator = None
        self.via = None
        self.flags = None
        self.tids = [pid]
        self.execs: list[_Exec] = []
        self.exit = None
        self.exit_group = None
        self.arch = None
        self.cred = None
        self.changes: list = []
        self.start_line = line
        self.end_line = 0
        self.ns_pid = None
        self.nsview = False
        self.nsnext = False
        self.lfds: set[int] = set()
        self.pending_exec = None
        self.claimed = False
        self.ns_kids: dict[int, "_P"] = {}
        self.file = file
        self.merged = None
        self.linked = False
        self.made: list["_P"] = []   # processes this one created (its clone calls)
        self.xtid = None             # a non-leader thread whose execve is completing (superseded)
        self.aliases = None          # start cells of a task seen before its creator (linked later)


class GraphBuilder:
    """Consumes reader events (any order the reader yields) and returns a :class:`ProcessGraph`."""

    def __init__(self, *, sidecar=None, uid: int | None = None, gid: int | None = None,
                 auid: int | None = None, source: str = ""):
        self.sidecar = sidecar
        self.source = source
        self.live: dict[int, _P] = {}
        self.last: dict[int, _P] = {}       # tid -> latest process that had it (also after exit)
        self.retired: dict[int, _P] = {}    # tids that exec'd from a non-leader thread
        self.procs: list[_P] = []
        self.gens: dict[int, int] = {}
        self.expected: dict[int, tuple] = {}
        self.unclaimed: dict[int, _P] = {}
        self.ns_wait: list[tuple] = []
        self.warnings: list[Diagnostic] = []
        self._warned: set[str] = set()
        self._nonroot_noted = False
        self.start = self._start_state(uid, gid, auid)
        # bound once per builder (a subclass's or patched handler is the one called)
        self._handlers = {n: getattr(self, m) for n, m in _HANDLERS.items()}

    # ---- start credentials -------------------------------------------------------------------
    def _start_state(self, uid, gid, auid) -> CredState:
        sc = self.sidecar
        rec = sc.recorder if sc is not None else None
        st = CredState()
        if rec is not None:
            if rec.uid is not None:
                st.uid = Cell(rec.uid, SIDECAR)
                e = rec.euid if rec.euid is not None else rec.uid
                st.euid = st.suid = st.fsuid = Cell(e, SIDECAR) if e != rec.uid else st.uid
            if rec.gid is not None:
                st.gid = Cell(rec.gid, SIDECAR)
                e = rec.egid if rec.egid is not None else rec.gid
                st.egid = st.sgid = st.fsgid = Cell(e, SIDECAR) if e != rec.gid else st.gid
            if rec.groups is not None:
                st.groups = Cell(tuple(rec.groups), SIDECAR)
            if rec.auid is not None:
                st.auid = Cell(rec.auid, SIDECAR)
            if rec.sessionid is not None:
                st.sessionid = Cell(rec.sessionid, SIDECAR)
        if uid is not None:
            st.uid = st.euid = st.suid = st.fsuid = Cell(uid, USER_GIVEN)
        if gid is not None:
            st.gid = st.egid = st.sgid = st.fsgid = Cell(gid, USER_GIVEN)
        if auid is not None:
            st.auid = Cell(auid, USER_GIVEN)
        return st

    # ---- diagnostics -------------------------------------------------------------------------
    def warn(self, file, line, code, message, severity=Severity.LOW, once_key=None):
        if once_key is not None:
            if once_key in self._warned:
                return
            self._warned.add(once_key)
        self.warnings.append(Diagnostic(file or self.source, line, message, severity=severity,
                                        code=code))

    # ---- processes ---------------------------------------------------------------------------
    def _new_proc(self, tid, line, file) -> _P:
        gen = self.gens.get(tid, 0) + 1
        self.gens[tid] = gen
        p = _P(len(self.procs), tid, gen, line, file)
        self.procs.append(p)
        self.live[tid] = p
        self.last[tid] = p
        return p

    def _task(self, tid: int, line: int, file: str = "") -> _P:
        p = self.live.get(tid)
        if p is not None:
            return p
        r = self.retired.pop(tid, None)
        if r is not None:
            self.warn(file, line, "GRAPH_TID_REUSED",
                      f"tid {tid} exec'd as a thread and appears again: a new task")
        exp = self.expected.pop(tid, None)
        if exp is not None:
            caller, flags, via, cline, ns_pid = exp
            return self._spawn(tid, line, file, caller, flags, via, ns_pid)
        if self.ns_wait:
            caller, n, flags, via, cline = self.ns_wait.pop(0)
            child = self._spawn(tid, line, file, caller, flags, via, n)
            caller.ns_kids[n] = child
            return child
        first = not self.procs
        p = self._new_proc(tid, line, file)
        p.cred = CredState.aliases()
        p.aliases = p.cred.alias_cells()
        p.arch = ArchTrack(line)
        if first:
            link_aliases(p.aliases, self.start)
            p.linked = True
        else:
            self.unclaimed[tid] = p
        self._change(p, line, "start")
        return p

    def _spawn(self, tid, line, file, caller: _P, flags: int, via: str, ns_pid=None) -> _P:
        if flags & CLONE_THREAD:
            caller.tids.append(tid)
            self.live[tid] = caller
            self.last[tid] = caller
            return caller
        child = self._new_proc(tid, line, file)
        self._adopt(child, caller, flags, via, ns_pid)
        child.cred = caller.cred.copy()
        child.linked = True
        child.arch = caller.arch.fork(line)
        child.lfds = set(caller.lfds)
        self._change(child, line, "fork")
        return child

    def _adopt(self, child: _P, caller: _P, flags: int, via: str, ns_pid) -> None:
        child.parent = caller.parent if flags & CLONE_PARENT else caller
        child.creator = caller
        caller.made.append(child)
        child.via = via
        child.flags = flags
        child.claimed = True
        child.nsview = caller.nsview or caller.nsnext or bool(flags & CLONE_NEWPID)
        if flags & CLONE_NEWPID:
            child.ns_pid = 1
        if ns_pid is not None:
            child.ns_pid = ns_pid

    def _claim(self, q: _P, caller: _P, flags: int, via: str, line: int, ns_pid=None) -> None:
        """``q`` appeared before the call that created it returned (or before any creator)."""
        self.unclaimed.pop(q.pid, None)
        if q is caller or self._is_ancestor(q, caller):
            self.warn(q.file, line, "GRAPH_CYCLE", f"ignored creation of {q.pid} by {caller.pid}: "
                      "it would make a cycle")
            return
        if flags & CLONE_THREAD:
            self._fold(q, caller)
            return
        self._adopt(q, caller, flags, via, ns_pid)
        bad = link_aliases(q.aliases, caller.cred) if q.aliases else []
        q.linked = True
        if bad:
            self.warn(q.file, line, "GRAPH_CRED_CONFLICT",
                      f"process {q.pid}: credentials seen before its creator returned disagree with "
                      f"the creator's ({', '.join(bad)})")
        if q.arch.spans[0][2] == ARCH_DEFAULT:
            arch, src = caller.arch.current
            if src != ARCH_DEFAULT:
                q.arch.spans[0][1:] = [arch, ARCH_INHERITED]
        q.lfds |= caller.lfds
        if ns_pid is not None:
            caller.ns_kids[ns_pid] = q
        self._fix_clone_parent(q)

    def _fix_clone_parent(self, q: _P, depth: int = 0) -> None:
        """``q``'s parent became known: its CLONE_PARENT children share that parent."""
        if depth > 1000:
            return
        for c in q.made:
            if c.creator is q and (c.flags or 0) & CLONE_PARENT and c.parent is not q.parent:
                c.parent = q.parent
                self._fix_clone_parent(c, depth + 1)

    def _is_ancestor(self, a: _P, b: _P) -> bool:
        cur = b.parent
        n = 0
        while cur is not None and n < 100000:
            if cur is a:
                return True
            cur = cur.parent
            n += 1
        return False

    def _fold(self, q: _P, into: _P) -> None:
        """``q`` turned out to be a thread of ``into``: merge it."""
        self.unclaimed.pop(q.pid, None)
        for t in q.tids:
            if self.live.get(t) is q:
                self.live[t] = into
            if self.last.get(t) is q:
                self.last[t] = into
            if t not in into.tids:
                into.tids.append(t)
        if q.execs:
            into.execs.extend(q.execs)
            into.execs.sort(key=lambda e: e.line)
        q.merged = into
        self.gens[q.pid] -= 1
        # processes the thread created while it looked like a process of its own
        for c in q.made:
            into.made.append(c)
            if c.creator is q:
                c.creator = into
                c.parent = into.parent if (c.flags or 0) & CLONE_PARENT else into
                self._fix_clone_parent(c)
        for k, v in list(self.expected.items()):
            if v[0] is q:
                self.expected[k] = (into,) + v[1:]
        self.ns_wait = [((into,) + w[1:]) if w[0] is q else w for w in self.ns_wait]

    # ---- credentials timeline ----------------------------------------------------------------
    def _change(self, p: _P, line: int, cause: str) -> None:
        p.changes.append((line, cause, p.cred.snapshot()))

    # ---- events ------------------------------------------------------------------------------
    def feed(self, ev) -> None:
        if ev.tid == 0 and self.procs and type(ev) is not Personality:
            # pid 0 is never a traced task: an event of the first task emitted before the reader
            # learned its pid (no pid column).  It belongs to the first process.
            from dataclasses import replace

            ev = replace(ev, tid=self.procs[0].pid)
        t = type(ev)
        if t is Syscall:
            self._syscall(ev)
        elif t is TaskSeen:
            self._task(ev.tid, ev.line, ev.file)
        elif t is Exit:
            self._exit(ev)
        elif t is Signal:
            self._signal(ev)
        elif t is Superseded:
            self._superseded(ev.tid, ev.by_tid, ev.line, ev.file)
        elif t is PidChanged:
            self._superseded(ev.new_tid, ev.tid, ev.line, ev.file)
        elif t is Personality:
            p = self._task(ev.pid or ev.tid, ev.line, ev.file)
            p.arch.on_personality(ev.line, ev.mode)

    def _syscall(self, ev: Syscall) -> None:
        name = ev.name
        tid = ev.tid
        p = self.live.get(tid)      # (the common case of _task, inline: once per event)
        if p is None:
            if name in EXECS and tid in self.retired:
                p = self.retired[tid]
            else:
                p = self._task(tid, ev.line, ev.file)
        p.arch.fresh = False
        if name in I386_ONLY:
            p.arch.on_evidence(ev.entry_line or ev.line, "b32", ARCH_SYSCALL_NAME)
        # one dict lookup instead of a chain of set tests (the name sets are disjoint); names the
        # graph reads only for the task and arch bookkeeping above have no handler
        h = self._handlers.get(name)
        if h is not None:
            h(p, ev)

    def _getid(self, p: _P, ev: Syscall) -> None:
        if ev.ret is not None and ev.ret >= 0:
            name = ev.name
            vals = list(V.setid_info(ev.name, ev.args).args) if "res" in name else None
            bad = observe_get(p.cred, name, ev.ret, vals)
            if bad:
                self.warn(ev.file, ev.line, "GRAPH_CRED_CONFLICT",
                          f"{name}() = {ev.ret} disagrees with the tracked {', '.join(bad)} of "
                          f"process {p.pid} (a credential change the trace does not show, "
                          "capabilities, or wrong start credentials)", once_key=f"cc{p.seq}{bad}")
                self._change(p, ev.line, name)

    def _close(self, p: _P, ev: Syscall) -> None:
        if ev.ret == 0 and p.lfds:
            fd = V.parse_int(ev.args)
            if fd is not None:
                p.lfds.discard(fd)

    def _exit_call(self, p: _P, ev: Syscall) -> None:
        if ev.name == "exit_group" or (ev.tid == p.pid and len(p.tids) == 1):
            code = V.parse_int(ev.args)
            if code is not None:
                p.exit_group = (code & 0xFF, ev.line)

    def _tgkill(self, p: _P, ev: Syscall) -> None:
        a = [V.parse_int(t) for t in V.split_args(ev.args)]
        if len(a) >= 2 and a[0] and a[1] and a[0] != a[1]:
            self._thread_evidence(a[1], a[0], ev)

    def _unshare(self, p: _P, ev: Syscall) -> None:
        if ev.ret == 0 and ("CLONE_NEWPID" in ev.args or self._rawflag(ev.args, CLONE_NEWPID)):
            p.nsnext = True

    def _setns(self, p: _P, ev: Syscall) -> None:
        if ev.ret == 0 and ("CLONE_NEWPID" in ev.args or "pid:[" in ev.args):
            p.nsnext = True

    @staticmethod
    def _rawflag(args: str, bit: int) -> bool:
        v = V.parse_int(args)
        return v is not None and bool(v & bit)

    # -- creation
    def _create(self, p: _P, ev: Syscall) -> None:
        if ev.ret is None or ev.ret <= 0:
            return
        flags = _clone_flags(ev)
        via = ev.name
        g = V.pidns_translation(ev.ret_text)
        entry = ev.entry_line or ev.line
        if g is None and p.nsview:
            n = ev.ret
            cand = None
            for q in self.unclaimed.values():
                if q.start_line >= entry and q is not p:
                    cand = q
                    break
            if cand is not None:
                self._claim(cand, p, flags, via, ev.line, ns_pid=n)
            else:
                self.ns_wait.append((p, n, flags, via, ev.line))
            return
        n = g if g is not None else ev.ret
        u = self.unclaimed.get(n)
        if u is not None and u is not p:
            # the child's lines came first (vfork, or it even exited before the return)
            self._claim(u, p, flags, via, ev.line, ns_pid=ev.ret if g is not None else None)
            return
        q = self.live.get(n)
        last = self.last.get(n)
        real_parent = p.parent if flags & CLONE_PARENT else p
        if last is not None and last.via in ("sigchld", "wait4", "waitid") and (
                last.creator is p or last.parent is real_parent) and last.start_line >= entry:
            # claimed early by its SIGCHLD/wait (it exited before this call returned); the
            # creation call now tells who made it and how
            if last.creator is not None and last.creator is not p and last in last.creator.made:
                last.creator.made.remove(last)
            if last.creator is not p:
                p.made.append(last)
            last.creator, last.parent, last.via, last.flags = p, real_parent, via, flags
            return
        if q is None:
            if g is not None:
                self.expected[n] = (p, flags, via, ev.line, ev.ret)
            else:
                self.expected[n] = (p, flags, via, ev.line, None)
            return
        if self.unclaimed.get(n) is q:
            self._claim(q, p, flags, via, ev.line, ns_pid=ev.ret if g is not None else None)
        elif q is p and flags & CLONE_THREAD:
            pass
        else:
            self.warn(ev.file, ev.line, "GRAPH_PID_ALIVE",
                      f"{ev.name}() returned {n}, a pid still alive in the trace (missing exit line?)")

    # -- exec
    def _exec(self, p: _P, ev: Syscall) -> None:
        # the usual execve form without building a whole ExecInfo (same three values)
        head = V.execve_head(ev.args) if ev.name == "execve" else None
        if head is not None:
            path, argv, trunc = head
        else:
            info = V.exec_info(ev.name, ev.args)
            path, argv, trunc = info.path, info.argv, info.argv_truncated
        if ev.ret is None:
            if path is not None:
                p.pending_exec = (path, argv, trunc, ev.line, ev.tid)
            return
        if (path is None or not ev.args.strip()) and p.pending_exec is not None:
            path, argv, trunc = p.pending_exec[:3]
        p.pending_exec = None
        if has_32bit_pointer(ev.args):
            p.arch.on_evidence(ev.entry_line or ev.line, "b32", ARCH_POINTER)
        e = _Exec()
        e.line = ev.line
        e.tid = ev.tid
        if p.xtid is not None and ev.ret >= 0:
            e.tid = p.xtid   # the thread that called it; it resumed under the leader's pid
        p.xtid = None
        e.entry = ev.entry_line
        e.path = path if path is not None else b""
        e.argv = argv or ()
        e.trunc = trunc
        e.ok = ev.ret >= 0
        e.errno = ev.errno
        e.name = ev.name
        e.injected = "(INJECTED" in (ev.ret_text or "")
        e.arch, e.arch_src = p.arch.current
        e.time = ev.time
        if e.ok:
            spath = e.path.decode("utf-8", "surrogateescape")
            f = self.sidecar.file(spath) if self.sidecar is not None else None
            mode_known = f is not None and f.mode is not None
            uid_owner = gid_owner = None
            if mode_known:
                honoured = self.sidecar.recorder_root is not False
                if (f.setuid or f.setgid) and not honoured:
                    self._nonroot(ev, spath)
                if f.setuid and honoured:
                    uid_owner = f.uid
                if f.setgid and honoured:
                    gid_owner = f.gid
            exec_transition(p.cred, uid_owner, gid_owner, mode_known)
            p.arch.on_exec(ev.line, f.arch if f is not None else None)
            # a thread exec: the exec'ing tid becomes the leader
            if ev.tid != p.pid and ev.tid in p.tids:
                self.retired.pop(ev.tid, None)
            self._change(p, ev.line, ev.name)
        e.snap = p.cred.snapshot()
        p.execs.append(e)

    def _nonroot(self, ev, path):
        if self._nonroot_noted:
            return
        self._nonroot_noted = True
        self.warn(ev.file, ev.line, "TRACE_NONROOT",
                  f"strace ran as a non-root user: the setuid/setgid bit of {path} was not honoured "
                  "under ptrace, so euids after such execs are not what production sees",
                  severity=Severity.MEDIUM)

    # -- set*id
    def _setid(self, p: _P, ev: Syscall) -> None:
        name = ev.name
        base = name[:-2] if name.endswith("32") else name
        if base.startswith("setfs"):
            if ev.ret is None:
                return
        elif ev.ret != 0:
            return
        args = list(V.setid_info(ev.name, ev.args).args)
        if "uid" in base and not base.startswith("setfs"):
            if any(a == 0 for a in args):
                if prove_privileged(p.cred):
                    self.warn(ev.file, ev.line, "GRAPH_SETUID_EXEC_INFERRED",
                              f"{name}({ev.args}) succeeded in process {p.pid} whose ids were all "
                              "non-zero: its last exec raised euid to 0 (setuid-root file)",
                              severity=Severity.INFO)
        note = apply_setid(p.cred, name, args, ev.ret)
        if note:
            self.warn(ev.file, ev.line, "GRAPH_CRED_UNKNOWN", note, severity=Severity.INFO)
        self._change(p, ev.line, name)

    def _groups(self, p: _P, ev: Syscall) -> None:
        if ev.ret is None or ev.ret < 0:
            return
        info = V.setid_info(ev.name, ev.args)
        size = info.args[0] if info.args else None
        g = info.groups
        if g is None and size == 0 and info.base == "setgroups":
            g = ()                 # setgroups(0, NULL): no supplementary groups
        if g is not None and size is not None and size >= 0 and len(g) != size:
            g = None               # the list as printed is not the whole list (elided)
        if ev.name.startswith("set"):
            if ev.ret == 0:
                # a list that cannot be read whole leaves the groups unknown (not the old ones)
                p.cred.groups = Cell(g, OBSERVED) if g is not None else Cell()
                self._change(p, ev.line, ev.name)
        else:
            if size and g is not None and len(g) == ev.ret:
                if not p.cred.groups.observe(g):
                    p.cred.groups = Cell(g, OBSERVED)

    # -- loginuid
    def _open(self, p: _P, ev: Syscall) -> None:
        if ev.ret is None or ev.ret < 0:
            return
        if "loginuid" not in ev.args and "loginuid" not in ev.ret_text:
            if p.lfds:
                p.lfds.discard(ev.ret)
            return
        info = V.open_info(ev)
        path = info.path if info is not None else None
        deco = info.fd_path if info is not None else None
        hit = (path is not None and _is_loginuid(path)) or (deco is not None and _is_loginuid(deco))
        if hit:
            p.lfds.add(ev.ret)
        else:
            p.lfds.discard(ev.ret)

    def _dup(self, p: _P, ev: Syscall) -> None:
        if ev.ret is None or ev.ret < 0 or not (p.lfds or "loginuid" in ev.args):
            return
        parts = V.split_args(ev.args)
        if not parts:
            return
        if ev.name.startswith("fcntl") and (len(parts) < 2 or "DUPFD" not in parts[1]):
            return
        fv = V.fd_value(parts[0])
        if fv is not None and (fv.fd in p.lfds or (fv.path is not None and _is_loginuid(fv.path))):
            p.lfds.add(ev.ret)
        else:
            p.lfds.discard(ev.ret)

    def _write(self, p: _P, ev: Syscall) -> None:
        if ev.ret is None or ev.ret <= 0 or not (p.lfds or "loginuid" in ev.args):
            return
        info = V.write_info(ev)
        if info is None or info.data is None:
            return
        if info.fd_path is not None:
            if not _is_loginuid(info.fd_path):
                return
        elif info.fd not in p.lfds:
            return
        text = info.data.strip()
        if not text.isdigit():
            return
        v = int(text)
        if v > 0xFFFFFFFF:
            return
        p.cred.auid = Cell(v, OBSERVED)
        # the kernel hands out a new session id when a valid loginuid is set (audit_set_loginuid):
        # known to be set, its number unknown; writing 4294967295 unsets it
        p.cred.sessionid = Cell(AUID_UNSET if v == AUID_UNSET else SESSION_SET, INFERRED)
        self._change(p, ev.line, "loginuid")

    # -- waits, signals, threads
    def _late_claim(self, p: _P, n: int, translated: bool, line: int, via: str, file: str) -> None:
        if p.nsview and not translated:
            q = p.ns_kids.get(n)
            if q is None:
                # an ns child not yet mapped: the oldest unclaimed task that is not an ancestor
                for cand in self.unclaimed.values():
                    if cand is not p and cand.start_line <= line:
                        self._claim(cand, p, 0, via, line, ns_pid=n)
                        self.warn(file, line, "GRAPH_NS_HEURISTIC",
                                  f"namespace pid {n} ({via}) mapped to tid {cand.pid} by order",
                                  severity=Severity.INFO)
                        return
            return
        q = self.last.get(n)
        if q is None or q.merged is not None:
            return
        if self.unclaimed.get(n) is q and q is not p:
            self._claim(q, p, 0, via, line)
        elif q.parent is not None and q.parent is not p and q.creator is not p and not (
                q.flags and q.flags & CLONE_PARENT):
            self.warn(file, line, "GRAPH_PARENT_MISMATCH",
                      f"{via} in {p.pid} names {n}, whose parent is {q.parent.pid}",
                      once_key=f"pm{p.seq}:{n}")

    def _wait(self, p: _P, ev: Syscall) -> None:
        if ev.ret is None:
            return
        if ev.name == "waitid":
            if ev.ret != 0:
                return
            si = V.wait_info(ev.name, ev.args)
            n = si.pid if si is not None else None
            if not n:
                return
            translated = si.pid != si.pid_ns
        else:
            if ev.ret <= 0:
                return
            g = V.pidns_translation(ev.ret_text)
            n = g if g is not None else ev.ret
            translated = g is not None
        self._late_claim(p, n, translated, ev.line, ev.name, ev.file)

    def _signal(self, ev: Signal) -> None:
        p = self._task(ev.tid, ev.line, ev.file)
        if ev.signal != "SIGCHLD" or not ev.info:
            return
        # a private fast path for the plain form strace prints for every child's exit
        # (``{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=8056, ...}``): values.siginfo parses
        # the whole struct (about 11 us a call against 1-2 us here: 1,594 SIGCHLDs cost 18 ms of
        # the graph's ~150 ms on the 1x benchmark trace).  The match ends at the ", " right after
        # si_pid's digits, so a pidns translation comment there (``si_pid=2 /* 8222 in strace's
        # PID NS */``) fails it; comments after it (``si_stime=3 /* 0.03 s */``) change neither
        # si_code nor si_pid.  Anything else (-X raw, other layouts) goes to values.siginfo.
        m = _SIGCHLD_PLAIN(ev.info)
        if m is not None:
            n = int(m.group(1))
            translated = False
        else:
            si = V.siginfo(ev.info)
            if si is None or not (si.code or "").startswith("CLD_"):
                return
            n = si.pid
            translated = n != si.pid_ns
        if not n:
            return
        self._late_claim(p, n, translated, ev.line, "sigchld", ev.file)

    def _getpid(self, p: _P, ev: Syscall) -> None:
        n = ev.ret
        if n is None or n <= 0 or (V.pidns_translation(ev.ret_text) is not None):
            g = V.pidns_translation(ev.ret_text)
            if g is not None and n is not None and n > 0:
                if ev.tid == p.pid:
                    p.ns_pid = n
                    p.nsview = True
            return
        if n == p.pid:
            return
        q = self.live.get(n)
        if q is not None and q is not p:
            self._thread_evidence(ev.tid, n, ev)
            return
        if ev.tid == p.pid:
            p.nsview = True
            p.ns_pid = n

    def _thread_evidence(self, tid: int, tgid: int, ev) -> None:
        """``tid`` belongs to thread group ``tgid`` (getpid in a thread, tgkill)."""
        q = self.live.get(tid)
        g = self.live.get(tgid)
        if q is None or g is None or q is g or g.pid != tgid:
            return
        if self.unclaimed.get(q.pid) is q and len(q.tids) == 1 and not q.execs:
            self._fold(q, g)

    def _superseded(self, leader: int, by_tid: int, line: int, file: str) -> None:
        p = self.live.get(leader)
        q = self.live.get(by_tid)
        if p is None and q is not None:
            p = q
        if p is None:
            p = self._task(leader, line, file)
        if q is not None and q is not p and self.unclaimed.get(q.pid) is q:
            self._fold(q, p)
        if q is not None and q.pending_exec is not None and p.pending_exec is None:
            p.pending_exec = q.pending_exec
        if self.live.get(by_tid) is p and by_tid != leader:
            del self.live[by_tid]
            self.retired[by_tid] = p
            p.xtid = by_tid

    def _exit(self, ev: Exit) -> None:
        p = self.live.get(ev.tid)
        if p is None:
            p = self._task(ev.tid, ev.line, ev.file)
        if ev.tid == p.pid:
            p.exit = ExitStatus(ev.line, ev.code, ev.signal, ev.core)
            p.end_line = ev.line
        del self.live[ev.tid]
        self.expected.pop(ev.tid, None)

    # ---- the end -----------------------------------------------------------------------------
    def finish(self, report=None) -> ProcessGraph:
        for caller, n, flags, via, line in self.ns_wait:
            self.warn(caller.file, line, "GRAPH_CHILD_NOT_SEEN",
                      f"{via}() in {caller.pid} returned namespace pid {n}; no new task appeared for it")
        # creations whose child never appeared under that pid: a namespace the trace does not show
        leftovers = sorted(self.expected.items(), key=lambda kv: kv[1][3])
        for n, (caller, flags, via, line, ns) in leftovers:
            cand = None
            for q in self.unclaimed.values():
                if q.start_line >= line - 1 and q is not caller:
                    cand = q
                    break
            if cand is not None and n < cand.pid and not (flags & CLONE_THREAD and False):
                self._claim(cand, caller, flags, via, line, ns_pid=n)
                self.warn(caller.file, line, "GRAPH_NS_HEURISTIC",
                          f"{via}() in {caller.pid} returned {n}, which never appears; mapped to the "
                          f"next new task {cand.pid} (pid namespace?)", severity=Severity.INFO)
            else:
                self.warn(caller.file, line, "GRAPH_CHILD_NOT_SEEN",
                          f"{via}() in {caller.pid} returned {n}, which never appears in the trace "
                          "(not followed, or filtered)", severity=Severity.INFO)
        for q in list(self.unclaimed.values()):
            if not q.linked and q.aliases:
                link_aliases(q.aliases, self.start)
                q.linked = True
        self._root_checks()
        procs = [p for p in self.procs if p.merged is None]
        ids: dict[int, str] = {}
        gens: dict[int, int] = {}
        gen_of: dict[int, int] = {}
        for p in procs:
            g = gens[p.pid] = gens.get(p.pid, 0) + 1
            ids[p.seq] = f"p{p.pid}" if g == 1 else f"p{p.pid}.{g}"
            gen_of[p.seq] = g
        out = []
        freeze = Freezer()
        freeze_exec = self._freeze_exec
        for p in procs:
            execs = tuple([freeze_exec(e, freeze) for e in p.execs]) if p.execs else ()
            ex = p.exit
            if ex is None and p.exit_group is not None:
                ex = ExitStatus(p.exit_group[1], p.exit_group[0], None, False, "exit_group")
            parent = p.parent
            while parent is not None and parent.merged is not None:
                parent = parent.merged
            creator = p.creator
            while creator is not None and creator.merged is not None:
                creator = creator.merged
            threads = () if len(p.tids) == 1 else tuple(
                t for t in dict.fromkeys(p.tids) if t != p.pid)   # in order, each once
            changes = tuple([CredChange(line, cause, freeze(snap)) for line, cause, snap in p.changes])
            out.append(Process(
                id=ids[p.seq], pid=p.pid, generation=gen_of[p.seq],
                parent_id=ids[parent.seq] if parent is not None else None,
                ppid=parent.pid if parent is not None else None,
                creator_id=ids[creator.seq] if creator is not None else None,
                via=p.via, clone_flags=p.flags, threads=threads, execs=execs, exit=ex,
                arch=tuple([ArchSpan(s[0], s[1], s[2]) for s in p.arch.spans]),
                creds=changes, start_line=p.start_line, end_line=p.end_line, ns_pid=p.ns_pid,
                file=p.file,
            ))
        warnings = list(self.warnings)
        if report is not None:
            warnings = _report_warnings(report, self.source) + warnings
        rep = report.to_dict() if report is not None and hasattr(report, "to_dict") else None
        return ProcessGraph(tuple(out), tuple(warnings), rep, self.source,
                            self.sidecar.path if self.sidecar is not None else None)

    def release(self) -> None:
        """Drop the build state after :meth:`finish` (the builder is spent).  The processes under
        construction point at each other (parent, creator, children), so without this they are
        cyclic garbage that only a GC pass over all of them frees; unlinked, reference counting
        frees them at once."""
        for p in self.procs:
            p.parent = p.creator = p.merged = None
            p.made = []
            p.ns_kids = {}
            p.pending_exec = None
        self.procs = []
        self.live, self.last, self.retired, self.unclaimed, self.expected = {}, {}, {}, {}, {}
        self.ns_wait = []
        self._handlers = {}      # bound methods: the builder would reference itself

    def _root_checks(self) -> None:
        u, src = self.start.uid.resolve()
        if u is not None and u != 0 and src == OBSERVED and not self._nonroot_noted:
            self._nonroot_noted = True
            self.warn(self.source, 0, "TRACE_NONROOT",
                      f"the traced command started as uid {u}: if strace itself ran as that user, "
                      "setuid/setgid bits were not honoured and euids after such execs are not what "
                      "production sees", severity=Severity.MEDIUM)

    @staticmethod
    def _freeze_exec(e: _Exec, freeze) -> Exec:
        path = e.path.decode("utf-8", "backslashreplace")
        argv = tuple(a.decode("utf-8", "backslashreplace") for a in e.argv)
        return Exec(line=e.line, tid=e.tid, path=path, argv=argv, ok=e.ok, errno=e.errno,
                    argv_truncated=e.trunc, syscall=e.name, injected=e.injected, path_bytes=e.path,
                    entry_line=e.entry or 0, arch=e.arch, arch_source=e.arch_src,
                    creds=freeze(e.snap), time=e.time)


#: the handler method of each syscall name :meth:`GraphBuilder._syscall` acts on (the name
#: sets are disjoint: each name has one)
_HANDLERS: dict[str, str] = {}
for _names, _h in ((CREATE, "_create"), (EXECS, "_exec"), (SETID, "_setid"), (GETID, "_getid"),
                   (GROUPS, "_groups"), (FD_OPEN, "_open"), (("write",), "_write"),
                   (("close",), "_close"), (FD_DUP, "_dup"), (WAITS, "_wait"),
                   (("exit_group", "exit"), "_exit_call"), (("getpid",), "_getpid"),
                   (("tgkill",), "_tgkill"), (("unshare",), "_unshare"), (("setns",), "_setns")):
    for _n in _names:
        if _n in _HANDLERS:
            raise AssertionError(f"syscall {_n} has two graph handlers")
        _HANDLERS[_n] = _h
del _names, _h, _n


def gens_of(pid_id: str) -> int:
    return int(pid_id.rsplit(".", 1)[1]) if "." in pid_id else 1


def _report_warnings(report, source: str) -> list[Diagnostic]:
    out = []
    for n in getattr(report, "notes", ()) or ():
        out.append(Diagnostic(source, 0, n.message, severity=n.severity, code=n.code))
    for d in getattr(report, "bad", ()) or ():
        out.append(d)
    extra = getattr(report, "bad_lines", 0) - len(getattr(report, "bad", ()) or ())
    if extra > 0:
        out.append(Diagnostic(source, 0, f"{extra} more unreadable lines not listed",
                              severity=Severity.LOW, code="bad-lines"))
    return out


#: the file name :func:`tracerule.sidecar.sidecar_path` gives a trace's sidecar (a test checks they agree)
SIDECAR_SUFFIX = ".tracerule.json"


def _sidecar_guess(src: str) -> str:
    """Where :func:`tracerule.sidecar.find_sidecar` looks for ``src``'s sidecar (same formula)."""
    from pathlib import Path

    return str(Path(src)).rstrip("/") + SIDECAR_SUFFIX


def build_graph(source, *, sidecar="auto", uid: int | None = None, gid: int | None = None,
                auid: int | None = None) -> ProcessGraph:
    """Read a trace (a file, an ``-ff`` directory or prefix) or an iterable of events.

    ``sidecar``: "auto" (``TRACE.tracerule.json`` beside the trace when present), a path, a
    :class:`tracerule.sidecar.Sidecar`, or None.  ``uid``/``gid``/``auid``: start credentials the
    user states (source "user-given"; they win over the sidecar's recorder).
    """
    sc = None
    if isinstance(source, (str, os.PathLike)):
        src = str(source)
        if not os.path.exists(src) and not _ff_prefix_exists(src):
            raise InputError(f"{src}: no such file or directory")
        if sidecar == "auto":
            # tracerule.sidecar (its validation: ~8 ms of start-up) only when a sidecar may be there
            if os.path.exists(_sidecar_guess(src)):
                from tracerule import sidecar as S

                found = S.find_sidecar(src)
                sc = S.read_sidecar(found) if found is not None else None
        elif isinstance(sidecar, (str, os.PathLike)):
            from tracerule import sidecar as S

            sc = S.read_sidecar(sidecar)
        else:
            sc = sidecar
        from tracerule.strace.reader import TraceReader

        reader = TraceReader(src, names=NAMES_DECORATED if fds_decorated(src) else NAMES)
        b = GraphBuilder(sidecar=sc, uid=uid, gid=gid, auid=auid, source=src)
        feed = b.feed
        # No cyclic GC while reading and building: the read allocates millions of short-lived
        # objects that reference counting frees, and the collections they trigger only walk the
        # growing graph again and again (about 120 collections, 25-30 ms on the 1x benchmark
        # trace; they find a few hundred objects).  Restored as found, also on error.
        gc_was = gc.isenabled()
        gc.disable()
        try:
            for ev in reader:
                feed(ev)
            g = b.finish(reader.report)
            b.release()
            return g
        finally:
            if gc_was:
                gc.enable()
    if isinstance(sidecar, (str, os.PathLike)) and sidecar != "auto":
        from tracerule import sidecar as S

        sc = S.read_sidecar(sidecar)
    elif sidecar != "auto":
        sc = sidecar
    b = GraphBuilder(sidecar=sc, uid=uid, gid=gid, auid=auid, source="<events>")
    for ev in source:
        b.feed(ev)
    return b.finish(None)


def _ff_prefix_exists(prefix: str) -> bool:
    d = os.path.dirname(prefix) or "."
    base = os.path.basename(prefix) + "."
    try:
        return any(n.startswith(base) and n[len(base):].isdigit() for n in os.listdir(d))
    except OSError:
        return False
