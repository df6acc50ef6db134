"""What the kernel's audit code sees at syscall exit: one :class:`Record` per completed syscall.

This is the input of :mod:`tracerule.audit.simulate` (built by the enrichment step from a trace and
its process graph, or by hand in tests).  It is a hot-path type: plain ``__slots__`` classes, no
validation beyond the kernel's own return-value fixup.

**Unknown is None.**  Any value the trace does not show may be ``None``; the simulator then reports
which outcome rested on an :class:`Assumption` instead of guessing silently.  A few values have a
*known absent* form distinct from unknown:

* ``exit``/``success`` are None for ``exit``/``exit_group`` (the kernel has no return value; the
  simulator knows those syscalls by number and treats ``exit=``/``success=`` as false there);
* ``saddr_fam``: :data:`NO_SOCKADDR` (-1) means the syscall copied no sockaddr;
* ``names``: ``()`` means no PATH items were collected (``read``/``write``...), None means unknown;
* ``sessionid``: :data:`SESSION_SET` means a session id is *set* (a login -- a loginuid write --
  gave the task a new one) but its number is unknown; ``sessionid=unset``/``!=unset`` (and any
  compare the whole range of set ids answers alike) are decided, other compares are assumptions;
* ``Name.exists`` False: the name was looked up but had no inode (ENOENT); the kernel then holds
  ``ino`` = 0xFFFFFFFF, dev = rdev = mode = ouid = ogid = 0 for it, and so does :class:`Name`.

Device numbers are userspace ``st_dev``/``st_rdev`` values (``os.major``/``os.minor`` decode them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

__all__ = ["UNSET", "SESSION_SET", "NO_SOCKADDR", "NAMETYPES", "FileRef", "Name", "TaskView", "Record",
           "Assumption", "Decision", "fixup_return", "is_success", "names_of"]

UNSET = 4294967295          #: AUDIT_UID_UNSET / unset sessionid
NO_SOCKADDR = -1            #: saddr_fam value: the syscall recorded no sockaddr
#: sessionid value: set (not 4294967295), number unknown (the same marker as
#: ``tracerule.graph.creds.SESSION_SET``)
SESSION_SET = "set"
NAMETYPES = ("NORMAL", "PARENT", "CREATE", "DELETE", "UNKNOWN")

#: what the kernel stores for a name without inode (audit_alloc_name + AUDIT_INO_UNSET)
_INO_UNSET = 0xFFFFFFFFFFFFFFFF


def fixup_return(ret: int | None) -> int | None:
    """audit_return_fixup: -ERESTARTSYS/-ERESTARTNOINTR/-ERESTARTNOHAND/-ERESTART_RESTARTBLOCK
    (-512..-516 except -515) are reported as -EINTR."""
    if ret is not None and -516 <= ret <= -512 and ret != -515:
        return -4
    return ret


def is_success(ret: int | None) -> bool | None:
    """is_syscall_success: the raw return is not in [-4095, -1]."""
    if ret is None:
        return None
    return not (-4095 <= ret <= -1)


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file as the kernel knows it: the program image of a process (``exe``).

    ``path`` is the path the kernel reports (``/proc/PID/exe``, the SYSCALL ``exe=``), ``dev``/``ino``
    its identity when known (sidecar, stat on the recording host), ``realpath`` its fully resolved
    path when known.  Share one object per program image: the simulator caches answers per object."""

    path: str | None
    dev: int | None = None
    ino: int | None = None
    realpath: str | None = None

    @property
    def dev_ino(self) -> tuple[int, int] | None:
        return None if self.dev is None or self.ino is None else (self.dev, self.ino)

    @classmethod
    def of(cls, path: str) -> "FileRef":
        """Stat ``path`` on this host (following symlinks, as an exec does)."""
        try:
            st = os.stat(path)
        except OSError:
            return cls(path, None, None, None)
        return cls(path, st.st_dev, st.st_ino, os.path.realpath(path))


class Name:
    """One PATH item (``context->names_list`` entry).

    ``path``: the name as the process passed it (may be relative); ``realpath``: absolute, with
    every symlink the lookup followed resolved (for a PARENT: the directory itself); ``dev``/``ino``
    of the inode; ``mode`` (``st_mode``, S_IFMT included); owner ``ouid``/``ogid``; ``rdev``;
    ``nametype`` one of :data:`NAMETYPES`; ``exists`` False when the lookup found no inode;
    ``ancestry``: (dev, ino) of every directory from the root down to this name (itself included
    when it is a directory), for ``dir=``; ``fstype``: the file system's magic, for filesystem rules.
    """

    __slots__ = ("path", "realpath", "dev", "ino", "mode", "ouid", "ogid", "rdev", "nametype",
                 "exists", "ancestry", "fstype")

    def __init__(self, path: str | None, *, realpath: str | None = None, dev: int | None = None,
                 ino: int | None = None, mode: int | None = None, ouid: int | None = None,
                 ogid: int | None = None, rdev: int | None = 0, nametype: str = "NORMAL",
                 exists: bool | None = True, ancestry: tuple[tuple[int, int], ...] | None = None,
                 fstype: int | None = None) -> None:
        self.path = path
        self.realpath = realpath
        if exists is False:
            # the kernel's values for a name without inode
            dev, ino, mode, ouid, ogid, rdev = 0, _INO_UNSET, 0, 0, 0, 0
        self.dev = dev
        self.ino = ino
        self.mode = mode
        self.ouid = ouid
        self.ogid = ogid
        self.rdev = rdev
        self.nametype = nametype
        self.exists = exists
        self.ancestry = ancestry
        self.fstype = fstype

    @property
    def dev_ino(self) -> tuple[int, int] | None:
        if self.exists is False or self.dev is None or self.ino is None:
            return None
        return (self.dev, self.ino)

    @classmethod
    def of(cls, path: str, *, nametype: str = "NORMAL", follow: bool = True,
           as_passed: str | None = None) -> "Name":
        """Stat ``path`` on this host (tests, and enrichment of traces recorded here)."""
        try:
            st = os.stat(path) if follow else os.lstat(path)
        except OSError:
            return cls(as_passed or path, realpath=os.path.realpath(path) if follow else None,
                       nametype=nametype, exists=False)
        real = os.path.realpath(path) if follow else os.path.join(
            os.path.realpath(os.path.dirname(path) or "."), os.path.basename(path))
        anc = []
        p = real if (st.st_mode & 0o170000) == 0o040000 else os.path.dirname(real)
        chain = []
        while True:
            chain.append(p)
            if p == "/":
                break
            p = os.path.dirname(p)
        for d in reversed(chain):
            try:
                s = os.stat(d)
                anc.append((s.st_dev, s.st_ino))
            except OSError:
                anc = None   # type: ignore[assignment]
                break
        return cls(as_passed or path, realpath=real, dev=st.st_dev, ino=st.st_ino, mode=st.st_mode,
                   ouid=st.st_uid, ogid=st.st_gid, rdev=st.st_rdev, nametype=nametype, exists=True,
                   ancestry=tuple(anc) if anc is not None else None)

    def __repr__(self) -> str:
        return (f"Name({self.path!r}, realpath={self.realpath!r}, dev={self.dev}, ino={self.ino}, "
                f"mode={self.mode if self.mode is None else oct(self.mode)}, nametype={self.nametype}, "
                f"exists={self.exists})")


class TaskView:
    """A task as ``audit_alloc`` sees it at fork/clone: the new task's tgid and the credentials it
    copied from its parent.  Task-list rules are decided once per TaskView (share one object per
    task)."""

    __slots__ = ("pid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "groups",
                 "auid", "sessionid", "pers")

    def __init__(self, pid: int | None = None, *, uid: int | None = None, euid: int | None = None,
                 suid: int | None = None, fsuid: int | None = None, gid: int | None = None,
                 egid: int | None = None, sgid: int | None = None, fsgid: int | None = None,
                 groups: tuple[int, ...] | None = None, auid: int | None = None,
                 sessionid: int | None = None, pers: int | None = 0) -> None:
        self.pid = pid
        self.uid, self.euid, self.suid, self.fsuid = uid, euid, suid, fsuid
        self.gid, self.egid, self.sgid, self.fsgid = gid, egid, sgid, fsgid
        self.groups = groups
        self.auid = auid
        self.sessionid = sessionid
        self.pers = pers


class Record:
    """One completed syscall as the exit filter sees it.

    ``arch`` is the AUDIT_ARCH value (``tables.AUDIT_ARCH["x86_64"]``) of *this* syscall (i386 for
    ``int 0x80`` in a 64-bit process), ``nr`` its number in that arch's table.  ``exit`` is the raw
    return value (the -ERESTART* -> -EINTR fixup is applied here); ``success`` is derived from it
    unless given.  ``a0``..``a3`` are the raw argument registers (only the low 32 bits count).
    Credentials are the ones at syscall exit.  ``exe`` is the program image after the syscall (the
    new program at an execve's exit).  ``oflags`` are the open flags of an ``openat2`` (which lives
    in a struct, not a register).  ``task``: the :class:`TaskView` the process's task had at fork
    (for task-list rules; None: unknown).  ``forced``: another record (LOGIN, AVC, CONFIG_CHANGE...)
    was emitted during this syscall, which makes the kernel record it even without a rule.
    ``source``/``line``/``tid``: provenance for reports.
    """

    __slots__ = ("arch", "nr", "success", "exit", "a0", "a1", "a2", "a3", "pid", "ppid", "uid",
                 "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "groups", "auid",
                 "sessionid", "pers", "comm", "exe", "names", "saddr_fam", "oflags", "task",
                 "forced", "source", "line", "tid")

    def __init__(self, arch: int, nr: int, *, exit: int | None = None, success: bool | None = None,
                 a0: int | None = None, a1: int | None = None, a2: int | None = None,
                 a3: int | None = None, pid: int | None = None, ppid: int | None = None,
                 uid: int | None = None, euid: int | None = None, suid: int | None = None,
                 fsuid: int | None = None, gid: int | None = None, egid: int | None = None,
                 sgid: int | None = None, fsgid: int | None = None,
                 groups: tuple[int, ...] | None = None, auid: int | None = None,
                 sessionid: int | None = None, pers: int | None = 0, comm: str | None = None,
                 exe: FileRef | None = None, names: tuple[Name, ...] | None = None,
                 saddr_fam: int | None = None, oflags: int | None = None,
                 task: TaskView | None = None, forced: bool = False, source: str | None = None,
                 line: int | None = None, tid: int | None = None) -> None:
        self.arch = arch
        self.nr = nr
        exit = fixup_return(exit)
        self.exit = exit
        self.success = is_success(exit) if success is None else success
        self.a0, self.a1, self.a2, self.a3 = a0, a1, a2, a3
        self.pid, self.ppid = pid, ppid
        self.uid, self.euid, self.suid, self.fsuid = uid, euid, suid, fsuid
        self.gid, self.egid, self.sgid, self.fsgid = gid, egid, sgid, fsgid
        self.groups = groups
        self.auid = auid
        self.sessionid = sessionid
        self.pers = pers
        self.comm = comm
        self.exe = exe
        self.names = names
        self.saddr_fam = saddr_fam
        self.oflags = oflags
        self.task = task
        self.forced = forced
        self.source = source
        self.line = line
        self.tid = tid

    @classmethod
    def _make(cls, arch, nr, success, exit, a0, a1, a2, a3, pid, ppid, uid, euid, suid, fsuid, gid,
              egid, sgid, fsgid, groups, auid, sessionid, pers, comm, exe, names, saddr_fam,
              oflags, task, forced, source, line, tid) -> "Record":
        """A record from every value, positionally in ``__slots__`` order, as stored: ``exit``
        already through :func:`fixup_return` and ``success`` already decided (None only where
        the return is unknown).  The enrichment's hot path: no keyword-argument handling (a
        ~32-keyword call costs ~6x the stores themselves); everyone else uses ``Record(...)``."""
        r = _new(cls)
        r.arch = arch
        r.nr = nr
        r.success = success
        r.exit = exit
        r.a0 = a0
        r.a1 = a1
        r.a2 = a2
        r.a3 = a3
        r.pid = pid
        r.ppid = ppid
        r.uid = uid
        r.euid = euid
        r.suid = suid
        r.fsuid = fsuid
        r.gid = gid
        r.egid = egid
        r.sgid = sgid
        r.fsgid = fsgid
        r.groups = groups
        r.auid = auid
        r.sessionid = sessionid
        r.pers = pers
        r.comm = comm
        r.exe = exe
        r.names = names
        r.saddr_fam = saddr_fam
        r.oflags = oflags
        r.task = task
        r.forced = forced
        r.source = source
        r.line = line
        r.tid = tid
        return r

    def creds(self, **kw) -> "Record":
        """A copy with some values replaced (tests and what-if analysis)."""
        r = Record.__new__(Record)
        for s in Record.__slots__:
            setattr(r, s, getattr(self, s))
        for k, v in kw.items():
            setattr(r, k, v)
        if "exit" in kw and "success" not in kw:
            r.exit = fixup_return(r.exit)
            r.success = is_success(r.exit)
        return r

    def __repr__(self) -> str:
        return (f"Record(arch={self.arch:#x}, nr={self.nr}, exit={self.exit}, pid={self.pid}, "
                f"uid={self.uid}, auid={self.auid}, exe={self.exe.path if self.exe else None!r}, "
                f"names={len(self.names) if self.names is not None else None})")


@dataclass(frozen=True, slots=True)
class Assumption:
    """A value the trace did not show and what the simulator assumed for it.

    ``field``: the rule field (``auid``, ``a2``, ``exe``...); ``text``: what was assumed, e.g.
    ``auid unknown: assumed unset (4294967295)``; ``rule``: the item index of the rule whose
    evaluation needed it (None for record-level assumptions)."""

    field: str
    text: str
    rule: int | None = None

    def __str__(self) -> str:
        return self.text if self.rule is None else f"rule {self.rule}: {self.text}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The exit filter's outcome for one record that some rule (or a forced record) decided.

    ``index``: the record's position in the simulated sequence; ``rule``: item index (in the items
    given to ``compile_rules``) of the winning rule, None for a forced record no rule matched;
    ``action``: ``always`` (a SYSCALL event is produced) or ``never`` (suppressed); ``key``: the
    winning rule's key (keys joined with \\x01; None without); ``via``: ``exit`` (exit-list pass),
    ``watch`` (inode pass: path=/inode= rules), ``task`` (task-list rule at fork), ``forced``;
    ``excluded``: item index of an exclude-list rule that drops the SYSCALL record (the decision
    stands, the record does not reach the log); ``assumptions``: every assumption the outcome
    rested on (including ones that made earlier rules not match)."""

    index: int
    rule: int | None
    action: str
    key: str | None
    via: str = "exit"
    excluded: int | None = None
    assumptions: tuple[Assumption, ...] = ()

    @property
    def logged(self) -> bool:
        """A SYSCALL record reaches the log."""
        return self.action == "always" and self.excluded is None


_new = object.__new__


def names_of(paths: Iterable[str], nametype: str = "NORMAL") -> tuple[Name, ...]:
    """Host-stat'ed names (a convenience for tests)."""
    return tuple(Name.of(p, nametype=nametype) for p in paths)
