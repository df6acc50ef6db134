"""Argument registers, PATH-item specs and sockaddr families for :mod:`tracerule.audit.enrich`.

Pure functions over the reader's argument text (no I/O).  A value that cannot be known from the
text (a pointer strace printed as the string/struct/array it points to, a name missing from the
tables, a partial argument list) is None: the simulator then reports an assumption.
"""
from __future__ import annotations

import errno as _errno
import re
from functools import lru_cache

from tracerule.strace import constants as C
from tracerule.strace.values import fd_value, parse_flags, parse_int, split_args, strip_comments

#: every symbolic constant strace prints in an argument rules can filter on (one namespace: the
#: prefixes O_, CLONE_, SIG, AF_/PF_, SOCK_, PTRACE_, PR_, PER_, AT_, *_OK, S_I*, RESOLVE_)
CONSTANTS: dict[str, int] = {}
for _t in (C.OPEN_FLAGS, C.CLONE_FLAGS, C.SIGNALS, C.ADDRESS_FAMILIES, C.SOCKET_TYPES,
           C.PTRACE_REQUESTS, C.PRCTL_OPTIONS, C.PERSONALITY, C.AT_FLAGS, C.ACCESS_MODES,
           C.MODE_BITS, C.DIRFD_NAMES, C.RESOLVE_FLAGS, C.IP_PROTOCOLS):
    for _k, _v in _t.items():
        CONSTANTS.setdefault(_k, _v)
CONSTANTS.setdefault("NULL", 0)

#: strace errno names the kernel-internal restart codes use (not in Python's errno module)
_KERNEL_ERRNO = {"ERESTARTSYS": 512, "ERESTARTNOINTR": 513, "ERESTARTNOHAND": 514,
                 "ENOIOCTLCMD": 515, "ERESTART_RESTARTBLOCK": 516, "EPROBE_DEFER": 517,
                 "EOPENSTALE": 518, "ENOPARAM": 519, "EBADHANDLE": 521, "ENOTSYNC": 522,
                 "EBADCOOKIE": 523, "ENOTSUPP": 524, "ETOOSMALL": 525, "ESERVERFAULT": 526,
                 "EBADTYPE": 527, "EJUKEBOX": 528, "EIOCBQUEUED": 529, "ERECALLCONFLICT": 530}

#: i386 socketcall(2) call numbers (include/uapi/linux/net.h)
SOCKETCALL = {"socket": 1, "bind": 2, "connect": 3, "listen": 4, "accept": 5, "getsockname": 6,
              "getpeername": 7, "socketpair": 8, "send": 9, "recv": 10, "sendto": 11,
              "recvfrom": 12, "shutdown": 13, "setsockopt": 14, "getsockopt": 15, "sendmsg": 16,
              "recvmsg": 17, "accept4": 18, "recvmmsg": 19, "sendmmsg": 20}

#: syscalls that copy a sockaddr in or out (move_addr_to_kernel / move_addr_to_user)
SOCKADDR_SYSCALLS = frozenset({"connect", "bind", "sendto", "sendmsg", "sendmmsg", "accept",
                               "accept4", "recvfrom", "recvmsg", "recvmmsg", "getsockname",
                               "getpeername"})


@lru_cache(maxsize=4096)
def errno_value(name: str | None) -> int | None:
    """``ENOENT`` -> 2, ``ERESTARTSYS`` -> 512, ``errno 531`` or ``531`` (the reader's form of
    ``(errno 531)``) -> 531 (x86 numbering); None for a name not known.  (Cached: every failed
    syscall of a trace asks, for a handful of names.)"""
    if not name:
        return None
    if name.isascii() and name.isdigit():
        return int(name)
    v = getattr(_errno, name, None)
    if isinstance(v, int):
        return v
    v = _KERNEL_ERRNO.get(name)
    if v is not None:
        return v
    if name.startswith("errno "):
        try:
            return int(name[6:])
        except ValueError:
            return None
    return None


def exit_value(ret: int | None, errno_name: str | None) -> int | None:
    """The raw return register: -errno for a failure, the value otherwise (None: no return, or
    an errno name not known: strace's ``-1`` is not the register, and -1 would be -EPERM)."""
    if errno_name:
        e = errno_value(errno_name)
        return None if e is None else -e
    return ret


_NAMED = re.compile(r"^[a-z_][a-z0-9_]*=(?!=)")


def scalar(tok: str | None) -> int | None:
    """One argument register from its printed text: numbers, fds (decoration ignored),
    ``AT_FDCWD``, ``NULL``, flag/constant expressions; None for strings, structs, arrays,
    written-back values (``[8030]``) and unknown names."""
    if tok is None:
        return None
    t = tok
    if t[:1] in ('"', "[", "{", "~") or not t:
        return None
    m = _NAMED.match(t)
    if m:
        t = t[m.end():]
        if t[:1] in ('"', "[", "{", "~") or not t:
            return None
    if "=>" in t:
        return None
    v = parse_int(t)
    if v is not None:
        return v
    c = t[0]
    if c == "A" and t.startswith("AT_FDCWD"):
        return C.AT_FDCWD
    if "<" in t and not t.startswith("1<<"):
        fv = fd_value(t)
        if fv is not None and fv.fd is not None:
            return fv.fd
    return parse_flags(t, CONSTANTS)


_MISS = object()
#: scalar() of tokens seen (flag expressions and fds repeat a lot); cleared when it grows large
_SCALAR_MEMO: dict = {}
_MEMO_MAX = 200_000
_MEMO_TEXT = 512       #: longer argument texts are not memoised (execve's argv/envp ...)


def scalar_cached(tok: str) -> int | None:
    """:func:`scalar` through a bounded memo (a pure function of the token)."""
    v = _SCALAR_MEMO.get(tok, _MISS)
    if v is _MISS:
        v = scalar(tok)
        if len(_SCALAR_MEMO) >= _MEMO_MAX:
            _SCALAR_MEMO.clear()
        _SCALAR_MEMO[tok] = v
    return v


def registers_some(base: str, args: str, arch: str, indices) -> tuple:
    """Like :func:`registers`, but only the registers in ``indices`` are decoded; the others are
    None (unknown).  Only for a caller that never reads the others."""
    if base in _ARCH_DEPENDENT or not args or len(args) > _MEMO_TEXT:
        r = registers(base, args, arch)
        return tuple(r[i] if i in indices else None for i in range(4))
    key = (args, indices)
    out = _SOME_MEMO.get(key)
    if out is not None:
        return out
    toks = split_args(args)
    regs = [None, None, None, None]
    n = len(toks)
    for i in indices:
        if i < n:
            regs[i] = scalar_cached(toks[i])
    out = tuple(regs)
    if len(_SOME_MEMO) >= _MEMO_MAX:
        _SOME_MEMO.clear()
    _SOME_MEMO[key] = out
    return out


#: syscalls whose registers are not a function of the argument text alone
_ARCH_DEPENDENT = frozenset({"clone", "fork", "vfork"})
#: registers_some() / registers() of argument texts seen (the same texts repeat: a program's
#: openat of its libraries ...); bounded like :data:`_SCALAR_MEMO`
_SOME_MEMO: dict = {}
_REG_MEMO: dict = {}


def registers(base: str, args: str, arch: str) -> tuple:
    """(a0, a1, a2, a3) as the kernel saved them at entry, None where unknown."""
    if base in _ARCH_DEPENDENT or not args or len(args) > _MEMO_TEXT:
        return _registers(base, args, arch)
    out = _REG_MEMO.get(args)
    if out is None:
        out = _registers(base, args, arch)
        if len(_REG_MEMO) >= _MEMO_MAX:
            _REG_MEMO.clear()
        _REG_MEMO[args] = out
    return out


def _registers(base: str, args: str, arch: str) -> tuple:
    toks = split_args(args) if args else []
    if base == "clone":
        named = {}
        pos = []
        for t in toks:
            m = _NAMED.match(t)
            if m:
                named[t[:m.end() - 1]] = t[m.end():]
            else:
                pos.append(t)
        if named:
            flags = scalar(named.get("flags"))
            stack = scalar(named.get("child_stack", named.get("stack")))
            ptid = scalar(named.get("parent_tid", named.get("parent_tidptr")))
            ctid = scalar(named.get("child_tidptr"))
            tls = scalar(named.get("tls"))
            if arch == "i386":
                return flags, stack, ptid, tls
            return flags, stack, ptid, ctid
    if base in ("fork", "vfork"):
        return 0, 0, 0, 0   # no arguments: registers hold leftovers, but nothing is passed
    out = [None, None, None, None]
    for i, t in enumerate(toks[:4]):
        out[i] = scalar_cached(t)
    if len(toks) < 4 and not args.endswith("..."):
        # fewer printed arguments than registers: the rest were not passed (value unknown)
        pass
    return tuple(out)


_FAMILY = re.compile(r"sa_family=(0[xX][0-9a-fA-F]+|[A-Z_0-9]+)")


def saddr_family(base: str, args: str, failed: bool) -> int | None:
    """``ss_family`` of the sockaddr this syscall recorded; -1 (NO_SOCKADDR) when none; None
    when it cannot be told."""
    if base not in SOCKADDR_SYSCALLS:
        return -1
    m = _FAMILY.search(args)
    if m:
        f = m.group(1)
        v = C.ADDRESS_FAMILIES.get(f)
        if v is None:
            v = parse_int(f)
        return v
    if failed and base in ("accept", "accept4", "recvfrom", "recvmsg", "recvmmsg",
                           "getsockname", "getpeername"):
        return -1
    toks = split_args(args)
    pos = {"connect": 1, "bind": 1, "accept": 1, "accept4": 1, "sendto": 4, "recvfrom": 4,
           "getsockname": 1, "getpeername": 1}.get(base)
    if pos is not None and len(toks) > pos and strip_comments(toks[pos]) == "NULL":
        return -1
    if base in ("sendmsg", "recvmsg", "sendmmsg", "recvmmsg") and "msg_name=NULL" in args:
        return -1
    if base in ("sendmsg", "recvmsg") and "msg_name" not in args and "{" in args:
        return -1
    return None


# ---- PATH items ------------------------------------------------------------------------------
# spec: tuple of (arg index of the path (or fd for "F"), dirfd arg index or None, kind)
#   kind: "N" normal (follow), "L" normal, final symlink not followed, "F" an fd's file,
#   "D" parent+delete, "C" parent+create, "O" open (flags decide), "X" exec (program+interpreter)
PATH_SPECS: dict[str, tuple] = {
    "open": ((0, None, "O"),), "openat": ((1, 0, "O"),), "openat2": ((1, 0, "O"),),
    "creat": ((0, None, "C"),),
    "stat": ((0, None, "N"),), "lstat": ((0, None, "L"),), "stat64": ((0, None, "N"),),
    "lstat64": ((0, None, "L"),), "oldstat": ((0, None, "N"),), "oldlstat": ((0, None, "L"),),
    "newfstatat": ((1, 0, "A"),), "fstatat64": ((1, 0, "A"),), "statx": ((1, 0, "A"),),
    "access": ((0, None, "N"),), "faccessat": ((1, 0, "N"),), "faccessat2": ((1, 0, "A"),),
    "readlink": ((0, None, "L"),), "readlinkat": ((1, 0, "L"),),
    "chmod": ((0, None, "N"),), "fchmodat": ((1, 0, "N"),), "fchmodat2": ((1, 0, "A"),),
    "chown": ((0, None, "N"),), "lchown": ((0, None, "L"),), "fchownat": ((1, 0, "A"),),
    "chown32": ((0, None, "N"),), "lchown32": ((0, None, "L"),),
    "fchmod": ((0, None, "F"),), "fchown": ((0, None, "F"),), "fchown32": ((0, None, "F"),),
    "truncate": ((0, None, "N"),), "truncate64": ((0, None, "N"),),
    "utime": ((0, None, "N"),), "utimes": ((0, None, "N"),), "futimesat": ((1, 0, "N"),),
    "utimensat": ((1, 0, "A"),),
    "setxattr": ((0, None, "N"),), "lsetxattr": ((0, None, "L"),), "getxattr": ((0, None, "N"),),
    "lgetxattr": ((0, None, "L"),), "listxattr": ((0, None, "N"),), "llistxattr": ((0, None, "L"),),
    "removexattr": ((0, None, "N"),), "lremovexattr": ((0, None, "L"),),
    "fsetxattr": ((0, None, "F"),), "fremovexattr": ((0, None, "F"),),
    "unlink": ((0, None, "D"),), "unlinkat": ((1, 0, "D"),), "rmdir": ((0, None, "D"),),
    "mkdir": ((0, None, "C"),), "mkdirat": ((1, 0, "C"),), "mknod": ((0, None, "C"),),
    "mknodat": ((1, 0, "C"),), "symlink": ((1, None, "C"),), "symlinkat": ((2, 1, "C"),),
    "link": ((0, None, "L"), (1, None, "C")), "linkat": ((1, 0, "L"), (3, 2, "C")),
    "rename": ((0, None, "R"), (1, None, "R")), "renameat": ((1, 0, "R"), (3, 2, "R")),
    "renameat2": ((1, 0, "R"), (3, 2, "R")),
    "chdir": ((0, None, "N"),), "chroot": ((0, None, "N"),),
    "execve": ((0, None, "X"),), "execveat": ((1, 0, "X"),),
    "inotify_add_watch": ((1, None, "N"),), "acct": ((0, None, "N"),),
    "swapon": ((0, None, "N"),), "swapoff": ((0, None, "N"),),
    "mount": ((1, None, "N"),), "umount2": ((0, None, "N"),), "umount": ((0, None, "N"),),
    "statfs": ((0, None, "N"),), "statfs64": ((0, None, "N"),),
    "name_to_handle_at": ((1, 0, "A"),),
    "fgetxattr": ((0, None, "F"),), "flistxattr": ((0, None, "F"),),   # audit_file(f)
}

#: syscalls that can collect PATH items in the kernel (getname / user_path / kern_path /
#: audit_file) whose names enrichment does not work out from strace's arguments: their ``names``
#: are unknown (None: the simulator reports the assumption), never "none".  Syscalls strace could
#: not name (``syscall_0x1c4``: arguments printed raw) are unknown too, and so are socket calls
#: with a file-system AF_UNIX address (``sun_path="/..."``: the kernel looks the socket file up).
PATH_UNDECODED = frozenset({
    "uselib", "pivot_root", "quotactl", "quotactl_fd", "mq_open", "mq_unlink", "fanotify_mark",
    "open_by_handle_at", "open_tree", "open_tree_attr", "move_mount", "fspick", "fsconfig",
    "mount_setattr", "bpf", "setxattrat", "getxattrat", "listxattrat", "removexattrat",
    "file_getattr", "file_setattr", "spu_create", "osf_utimes", "utimensat_time64",
})
#: socket calls that look up an AF_UNIX file-system address (unix_find_bsd / unix_bind_bsd)
UNIX_PATH_SYSCALLS = frozenset({"connect", "bind", "sendto", "sendmsg", "sendmmsg"})


def names_unknown(base: str, args: str) -> bool:
    """Whether a syscall without a PATH_SPECS entry may have collected names enrichment cannot
    tell (see :data:`PATH_UNDECODED`)."""
    if base in PATH_UNDECODED or base.startswith("syscall_"):
        return True
    return base in UNIX_PATH_SYSCALLS and 'sun_path="' in args

_STMODE = re.compile(r"st_mode=(S_IF[A-Z]+)(?:\|(0[0-7]*))?")
_STXMODE = re.compile(r"stx_mode=(S_IF[A-Z]+)(?:\|(0[0-7]*))?")


def stat_mode(args: str) -> int | None:
    """The st_mode strace printed for a stat-family result (type and permission bits)."""
    m = _STMODE.search(args) or _STXMODE.search(args)
    if not m:
        return None
    v = C.MODE_BITS.get(m.group(1))
    if v is None:
        return None
    return v | (int(m.group(2), 8) if m.group(2) else 0)
