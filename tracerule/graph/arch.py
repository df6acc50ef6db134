"""Architecture (syscall personality) of a process over time.

Sources, strongest first: strace's personality lines (only with ``-e quiet=none`` when ``-o`` is
used), syscall names that exist only in the i386 table, 32-bit user pointers in an execve's
arguments, the sidecar's ELF class of the executed file; else ``b64`` with source ``default``.
"""
from __future__ import annotations

import re

from tracerule.graph.model import (
    ARCH_DEFAULT, ARCH_INHERITED, ARCH_PERSONALITY, ARCH_SIDECAR,
)

#: syscall names strace prints only for an i386 (32-bit) tracee on x86_64
I386_ONLY = frozenset({
    "mmap2", "set_thread_area", "get_thread_area", "socketcall", "ipc", "_llseek", "ugetrlimit",
    "fstat64", "stat64", "lstat64", "fstatat64", "fcntl64", "truncate64", "ftruncate64",
    "statfs64", "fstatfs64", "sendfile64", "waitpid", "sigreturn", "sigaction", "sigprocmask",
    "sigsuspend", "sigpending", "_newselect", "oldfstat", "oldstat", "oldlstat", "olduname",
    "readdir", "vm86", "vm86old", "nice", "sgetmask", "ssetmask", "signal", "stime", "umount",
    "getuid32", "geteuid32", "getgid32", "getegid32", "setuid32", "setgid32", "setreuid32",
    "setregid32", "setresuid32", "setresgid32", "getresuid32", "getresgid32", "setfsuid32",
    "setfsgid32", "getgroups32", "setgroups32", "chown32", "fchown32", "lchown32",
    "clock_gettime64", "clock_nanosleep_time64", "futex_time64", "ppoll_time64",
    "pselect6_time64", "recvmmsg_time64", "rt_sigtimedwait_time64", "semtimedop_time64",
    "timerfd_settime64", "timerfd_gettime64", "utimensat_time64", "io_pgetevents_time64",
    "clock_settime64", "clock_adjtime64", "clock_getres_time64", "timer_settime64",
    "timer_gettime64", "mq_timedsend_time64", "mq_timedreceive_time64",
    "sched_rr_get_interval_time64",
})

_PTR32_RE = re.compile(r"\b0x[0-9a-f]{8}\s*/\*\s*\d+ vars?\s*\*/")


def has_32bit_pointer(args: str) -> bool:
    """An execve's envp printed as an 8-hex-digit pointer: the caller ran in 32-bit mode."""
    m = _PTR32_RE.search(args)
    return bool(m) and m.group(0)[2:4] in ("ff", "fe", "f7", "f6", "f5", "f4", "f3", "f2", "f1", "f0")


class ArchTrack:
    """Mutable arch spans of one process during the build: list of [start_line, arch, source]."""

    __slots__ = ("spans", "fresh")

    def __init__(self, line: int, arch: str = "b64", source: str = ARCH_DEFAULT):
        self.spans = [[line, arch, source]]
        self.fresh = True  #: no syscall seen since the span began (an exec, the start)

    def fork(self, line: int) -> "ArchTrack":
        cur = self.spans[-1]
        src = cur[2] if cur[2] == ARCH_DEFAULT else ARCH_INHERITED
        return ArchTrack(line, cur[1], src)

    @property
    def current(self) -> tuple[str, str]:
        return self.spans[-1][1], self.spans[-1][2]

    def on_exec(self, line: int, elf_arch: str | None) -> None:
        self.fresh = True
        if elf_arch:
            self.spans.append([line, elf_arch, ARCH_SIDECAR])
        else:
            self.spans.append([line, "b64", ARCH_DEFAULT])

    def on_personality(self, line: int, arch: str) -> None:
        cur = self.spans[-1]
        if cur[2] in (ARCH_DEFAULT, ARCH_SIDECAR, ARCH_INHERITED) and cur[1] == arch:
            cur[2] = ARCH_PERSONALITY
            return
        if self.fresh and cur[2] in (ARCH_DEFAULT, ARCH_SIDECAR):
            # printed right after an exec: the new image's mode
            cur[1], cur[2] = arch, ARCH_PERSONALITY
            return
        self.spans.append([line, arch, ARCH_PERSONALITY])
        self.fresh = True

    def on_evidence(self, line: int, arch: str, source: str) -> None:
        """A syscall that can only be ``arch`` (i386 name, 32-bit pointer)."""
        cur = self.spans[-1]
        if cur[1] == arch:
            if cur[2] in (ARCH_DEFAULT, ARCH_INHERITED):
                cur[2] = source
            return
        if cur[2] in (ARCH_DEFAULT,):
            # the image's arch was only assumed: this evidence covers the whole span
            cur[1], cur[2] = arch, source
            return
        self.spans.append([line, arch, source])
