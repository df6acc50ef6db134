"""Typed events the strace reader yields.  Frozen dataclasses: values the API hands out.

Every event knows where it came from: ``file`` (the path as given) and ``line`` (1-based).
``tid`` is the thread id strace printed (the pid column, ``[pid N]``, the ``-ff`` file
suffix, or the only live task); it is *not* the thread-group id.

Arguments are kept as raw text and parsed only when a consumer asks
(:mod:`tracerule.strace.values`): most lines are syscalls nobody asks about.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# Syscall.state values
COMPLETE = "complete"            #: one line, or an unfinished entry joined with its resumed exit
RESUMED_ORPHAN = "resumed-orphan"  #: a resumed line whose entry was never seen (attach, cut trace): args partial
UNFINISHED = "unfinished"        #: an entry whose exit never came (killed, detached, superseded, end of trace)


@dataclass(frozen=True, slots=True)
class Syscall:
    """A syscall as strace printed it, yielded at its exit line (kernel audit also decides at exit).

    ``args`` is the raw text between the parentheses; for an unfinished/resumed pair it is the entry
    text joined with the resumed rest exactly as strace meant it.  ``ret`` is None for ``= ?`` and
    for unfinished syscalls.  ``ret_text`` is everything after ``= `` (return value, fd decoration,
    errno and strerror, aux notes such as ``(INJECTED)``) without the ``-T`` duration.
    """

    file: str
    line: int
    tid: int
    name: str
    args: str
    ret: int | None
    errno: str | None = None
    ret_text: str = ""
    time: float | None = None      #: seconds: epoch for -ttt/ns forms, seconds since midnight for -t/-tt
    duration: float | None = None  #: -T, seconds
    entry_line: int = 0            #: line of the ``<unfinished ...>`` entry (0: same line, or none)
    state: str = COMPLETE
    comm: str | None = None        #: -Y decoration of the exit line
    scno: int | None = None        #: -n syscall number (the tracee's personality)

    @property
    def failed(self) -> bool:
        return self.ret is not None and self.ret < 0

    @property
    def ok(self) -> bool:
        return self.ret is not None and self.ret >= 0


@dataclass(frozen=True, slots=True)
class Signal:
    """``--- SIGNAME {siginfo} ---`` (``stopped`` for ``--- stopped by SIGNAME ---``)."""

    file: str
    line: int
    tid: int
    signal: str
    info: str = ""                 #: raw siginfo text including braces, "" when none
    stopped: bool = False
    time: float | None = None


@dataclass(frozen=True, slots=True)
class Exit:
    """``+++ exited with N +++`` / ``+++ killed by SIG [(core dumped)] +++`` for one thread."""

    file: str
    line: int
    tid: int
    code: int | None = None        #: exit status, None when killed
    signal: str | None = None      #: killing signal
    core: bool = False
    time: float | None = None


@dataclass(frozen=True, slots=True)
class Superseded:
    """``+++ superseded by execve in pid TID +++``: thread ``by_tid`` exec'd and took the leader's pid ``tid``."""

    file: str
    line: int
    tid: int
    by_tid: int
    time: float | None = None


@dataclass(frozen=True, slots=True)
class PidChanged:
    """``-ff``: the thread file ends with ``<pid changed to N ...>`` (a thread exec)."""

    file: str
    line: int
    tid: int
    new_tid: int
    time: float | None = None


@dataclass(frozen=True, slots=True)
class Personality:
    """``[ Process PID=N runs in 32 bit mode. ]``: ``mode`` is ``"b32"``, ``"b64"`` or ``"x32"``."""

    file: str
    line: int
    tid: int
    pid: int
    mode: str
    time: float | None = None


@dataclass(frozen=True, slots=True)
class Attached:
    """A diagnostic ``strace: Process N attached`` (stderr captures only)."""

    file: str
    line: int
    tid: int


@dataclass(frozen=True, slots=True)
class Detached:
    """A syscall line ending in ``<detached ...>``: strace let go of ``tid`` during the syscall."""

    file: str
    line: int
    tid: int
    time: float | None = None


@dataclass(frozen=True, slots=True)
class TaskSeen:
    """The first line of a tid, and the first line of a tid again after its ``+++ exited/killed +++``.

    Always yielded (also when the reader filters syscalls by name), before the event of that line,
    so a consumer learns of every task -- also those whose creation is not in the trace (``-p``
    attach, ``-e trace=``/``-Z`` filtering) or that only make syscalls it did not ask for.
    """

    file: str
    line: int
    tid: int
    time: float | None = None


Event = Union[TaskSeen, Syscall, Signal, Exit, Superseded, PidChanged, Personality, Attached, Detached]
