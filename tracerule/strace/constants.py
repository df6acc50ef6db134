"""Constant and flag tables strace prints by name, for decoding argument texts.

Values are those of x86_64 / the generic Linux uapi headers.  Where i386 (the other
personality a trace from an x86_64 host can show) differs, it says so; other
architectures differ in places noted below and are not modelled here.

Each table maps NAME -> int.  Tables are plain dicts built once at import (cheap, no I/O);
treat them as read-only.  :func:`tracerule.strace.values.parse_flags` takes any of them.

Architecture notes:
- ``O_*``: identical on x86_64 and i386 except that i386 (32-bit personality) userspace passes
  ``O_LARGEFILE`` (0o100000) explicitly and strace prints it; on x86_64 the kernel forces it and
  strace shows it only in fcntl(F_GETFL) returns.  arm/arm64/ppc/sparc/alpha/mips use other
  values for O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE (not modelled).
- signals: identical on x86_64 and i386 (and arm, arm64, ppc, s390, riscv); alpha, mips,
  sparc and parisc differ (not modelled).
- ``CLONE_*``, ``AT_*``, ptrace requests, prctl options, personality values, socket families and
  types: the same on x86_64 and i386.  (mips swaps SOCK_STREAM/SOCK_DGRAM; ptrace requests
  12..19 and 0x4200+ overlap with arch-specific ones such as PTRACE_GETREGS, which differ per arch.)
"""
from __future__ import annotations

# --- clone(2) / clone3(2) -------------------------------------------------------------------
CSIGNAL = 0x000000FF  #: clone(2): low byte of flags is the exit signal (not a flag)

CLONE_FLAGS: dict[str, int] = {
    "CLONE_NEWTIME": 0x00000080,
    "CLONE_VM": 0x00000100,
    "CLONE_FS": 0x00000200,
    "CLONE_FILES": 0x00000400,
    "CLONE_SIGHAND": 0x00000800,
    "CLONE_PIDFD": 0x00001000,
    "CLONE_PTRACE": 0x00002000,
    "CLONE_VFORK": 0x00004000,
    "CLONE_PARENT": 0x00008000,
    "CLONE_THREAD": 0x00010000,
    "CLONE_NEWNS": 0x00020000,
    "CLONE_SYSVSEM": 0x00040000,
    "CLONE_SETTLS": 0x00080000,
    "CLONE_PARENT_SETTID": 0x00100000,
    "CLONE_CHILD_CLEARTID": 0x00200000,
    "CLONE_DETACHED": 0x00400000,
    "CLONE_UNTRACED": 0x00800000,
    "CLONE_CHILD_SETTID": 0x01000000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
    "CLONE_IO": 0x80000000,
    # clone3 only (64-bit flags)
    "CLONE_CLEAR_SIGHAND": 0x100000000,
    "CLONE_INTO_CGROUP": 0x200000000,
}
CLONE_VM = CLONE_FLAGS["CLONE_VM"]
CLONE_VFORK = CLONE_FLAGS["CLONE_VFORK"]
CLONE_PARENT = CLONE_FLAGS["CLONE_PARENT"]
CLONE_THREAD = CLONE_FLAGS["CLONE_THREAD"]
CLONE_NEWPID = CLONE_FLAGS["CLONE_NEWPID"]
CLONE_NEWUSER = CLONE_FLAGS["CLONE_NEWUSER"]
CLONE_NEWNS = CLONE_FLAGS["CLONE_NEWNS"]

# --- signals (x86_64 == i386 == generic) ------------------------------------------------------
SIGNALS: dict[str, int] = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
    "SIGIOT": 6, "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11,
    "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16,
    "SIGCHLD": 17, "SIGCLD": 17, "SIGCONT": 18, "SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21,
    "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26, "SIGPROF": 27,
    "SIGWINCH": 28, "SIGIO": 29, "SIGPOLL": 29, "SIGPWR": 30, "SIGSYS": 31, "SIGUNUSED": 31,
    "SIGRTMIN": 32,
}
# strace prints real-time signals as SIGRTMIN, SIGRT_1 .. SIGRT_32 (kernel numbering from 32)
for _i in range(1, 33):
    SIGNALS[f"SIGRT_{_i}"] = 32 + _i
SIGNAL_NAMES: dict[int, str] = {}
for _n, _v in SIGNALS.items():
    SIGNAL_NAMES.setdefault(_v, _n)

# --- open(2) flags (x86_64 / i386 / generic) ------------------------------------------------
OPEN_FLAGS: dict[str, int] = {
    "O_RDONLY": 0o0, "O_WRONLY": 0o1, "O_RDWR": 0o2, "O_ACCMODE": 0o3,
    "O_CREAT": 0o100, "O_EXCL": 0o200, "O_NOCTTY": 0o400, "O_TRUNC": 0o1000,
    "O_APPEND": 0o2000, "O_NONBLOCK": 0o4000, "O_NDELAY": 0o4000, "O_DSYNC": 0o10000,
    "FASYNC": 0o20000, "O_ASYNC": 0o20000, "O_DIRECT": 0o40000, "O_LARGEFILE": 0o100000,
    "O_DIRECTORY": 0o200000, "O_NOFOLLOW": 0o400000, "O_NOATIME": 0o1000000,
    "O_CLOEXEC": 0o2000000, "__O_SYNC": 0o4000000, "O_SYNC": 0o4010000,
    "O_PATH": 0o10000000, "__O_TMPFILE": 0o20000000, "O_TMPFILE": 0o20200000,
    "O_RSYNC": 0o4010000, "O_FSYNC": 0o4010000,
}
O_ACCMODE = 0o3
O_WRONLY = 0o1
O_RDWR = 0o2
O_CREAT = 0o100
O_TRUNC = 0o1000
O_APPEND = 0o2000
O_TMPFILE = 0o20200000

#: openat2 ``resolve`` field
RESOLVE_FLAGS: dict[str, int] = {
    "RESOLVE_NO_XDEV": 0x01, "RESOLVE_NO_MAGICLINKS": 0x02, "RESOLVE_NO_SYMLINKS": 0x04,
    "RESOLVE_BENEATH": 0x08, "RESOLVE_IN_ROOT": 0x10, "RESOLVE_CACHED": 0x20,
}

# --- *at() ------------------------------------------------------------------------------------
AT_FDCWD = -100
AT_FLAGS: dict[str, int] = {
    "AT_SYMLINK_NOFOLLOW": 0x100, "AT_EACCESS": 0x200, "AT_REMOVEDIR": 0x200,
    "AT_SYMLINK_FOLLOW": 0x400, "AT_NO_AUTOMOUNT": 0x800, "AT_EMPTY_PATH": 0x1000,
    "AT_STATX_SYNC_AS_STAT": 0x0000, "AT_STATX_FORCE_SYNC": 0x2000,
    "AT_STATX_DONT_SYNC": 0x4000, "AT_RECURSIVE": 0x8000,
}
AT_SYMLINK_NOFOLLOW = 0x100
AT_EMPTY_PATH = 0x1000
#: names strace prints for a dirfd argument
DIRFD_NAMES: dict[str, int] = {"AT_FDCWD": AT_FDCWD}

# --- access(2) modes --------------------------------------------------------------------------
ACCESS_MODES: dict[str, int] = {"F_OK": 0, "X_OK": 1, "W_OK": 2, "R_OK": 4}

# --- file mode bits (st_mode / mknod / open mode) ---------------------------------------------
MODE_BITS: dict[str, int] = {
    "S_IFMT": 0o170000, "S_IFSOCK": 0o140000, "S_IFLNK": 0o120000, "S_IFREG": 0o100000,
    "S_IFBLK": 0o060000, "S_IFDIR": 0o040000, "S_IFCHR": 0o020000, "S_IFIFO": 0o010000,
    "S_ISUID": 0o4000, "S_ISGID": 0o2000, "S_ISVTX": 0o1000,
}

# --- sockets ----------------------------------------------------------------------------------
ADDRESS_FAMILIES: dict[str, int] = {
    "AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_AX25": 3, "AF_IPX": 4,
    "AF_APPLETALK": 5, "AF_NETROM": 6, "AF_BRIDGE": 7, "AF_ATMPVC": 8, "AF_X25": 9,
    "AF_INET6": 10, "AF_ROSE": 11, "AF_DECnet": 12, "AF_NETBEUI": 13, "AF_SECURITY": 14,
    "AF_KEY": 15, "AF_NETLINK": 16, "AF_ROUTE": 16, "AF_PACKET": 17, "AF_ASH": 18,
    "AF_ECONET": 19, "AF_ATMSVC": 20, "AF_RDS": 21, "AF_SNA": 22, "AF_IRDA": 23,
    "AF_PPPOX": 24, "AF_WANPIPE": 25, "AF_LLC": 26, "AF_IB": 27, "AF_MPLS": 28, "AF_CAN": 29,
    "AF_TIPC": 30, "AF_BLUETOOTH": 31, "AF_IUCV": 32, "AF_RXRPC": 33, "AF_ISDN": 34,
    "AF_PHONET": 35, "AF_IEEE802154": 36, "AF_CAIF": 37, "AF_ALG": 38, "AF_NFC": 39,
    "AF_VSOCK": 40, "AF_KCM": 41, "AF_QIPCRTR": 42, "AF_SMC": 43, "AF_XDP": 44, "AF_MCTP": 45,
}
# strace prints socket(2)'s domain as PF_* in some versions
ADDRESS_FAMILIES.update({"PF_" + k[3:]: v for k, v in list(ADDRESS_FAMILIES.items())})
FAMILY_NAMES: dict[int, str] = {}
for _n, _v in ADDRESS_FAMILIES.items():
    if _n.startswith("AF_"):
        FAMILY_NAMES.setdefault(_v, _n)

SOCKET_TYPES: dict[str, int] = {
    "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "SOCK_RDM": 4, "SOCK_SEQPACKET": 5,
    "SOCK_DCCP": 6, "SOCK_PACKET": 10,
    # type modifiers
    "SOCK_NONBLOCK": 0o4000, "SOCK_CLOEXEC": 0o2000000,
}
SOCK_TYPE_MASK = 0xF

NETLINK_PROTOCOLS: dict[str, int] = {
    "NETLINK_ROUTE": 0, "NETLINK_UNUSED": 1, "NETLINK_USERSOCK": 2, "NETLINK_FIREWALL": 3,
    "NETLINK_SOCK_DIAG": 4, "NETLINK_INET_DIAG": 4, "NETLINK_NFLOG": 5, "NETLINK_XFRM": 6,
    "NETLINK_SELINUX": 7, "NETLINK_ISCSI": 8, "NETLINK_AUDIT": 9, "NETLINK_FIB_LOOKUP": 10,
    "NETLINK_CONNECTOR": 11, "NETLINK_NETFILTER": 12, "NETLINK_IP6_FW": 13,
    "NETLINK_DNRTMSG": 14, "NETLINK_KOBJECT_UEVENT": 15, "NETLINK_GENERIC": 16,
    "NETLINK_SCSITRANSPORT": 18, "NETLINK_ECRYPTFS": 19, "NETLINK_RDMA": 20, "NETLINK_CRYPTO": 21,
}
IP_PROTOCOLS: dict[str, int] = {
    "IPPROTO_IP": 0, "IPPROTO_ICMP": 1, "IPPROTO_IGMP": 2, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17,
    "IPPROTO_IPV6": 41, "IPPROTO_ICMPV6": 58, "IPPROTO_SCTP": 132, "IPPROTO_UDPLITE": 136,
    "IPPROTO_RAW": 255, "IPPROTO_MPTCP": 262,
}

# --- ptrace(2) requests (generic; x86 adds its own in 12..31 and 0x4200 range) ----------------
PTRACE_REQUESTS: dict[str, int] = {
    "PTRACE_TRACEME": 0, "PTRACE_PEEKTEXT": 1, "PTRACE_PEEKDATA": 2, "PTRACE_PEEKUSER": 3,
    "PTRACE_POKETEXT": 4, "PTRACE_POKEDATA": 5, "PTRACE_POKEUSER": 6, "PTRACE_CONT": 7,
    "PTRACE_KILL": 8, "PTRACE_SINGLESTEP": 9,
    # x86 (x86_64 and i386 share these numbers)
    "PTRACE_GETREGS": 12, "PTRACE_SETREGS": 13, "PTRACE_GETFPREGS": 14, "PTRACE_SETFPREGS": 15,
    "PTRACE_ATTACH": 16, "PTRACE_DETACH": 17,
    "PTRACE_GETFPXREGS": 18, "PTRACE_SETFPXREGS": 19,  # i386 only in the kernel
    "PTRACE_SYSCALL": 24,
    "PTRACE_GET_THREAD_AREA": 25, "PTRACE_SET_THREAD_AREA": 26, "PTRACE_ARCH_PRCTL": 30,
    "PTRACE_SYSEMU": 31, "PTRACE_SYSEMU_SINGLESTEP": 32, "PTRACE_SINGLEBLOCK": 33,
    "PTRACE_SETOPTIONS": 0x4200, "PTRACE_GETEVENTMSG": 0x4201, "PTRACE_GETSIGINFO": 0x4202,
    "PTRACE_SETSIGINFO": 0x4203, "PTRACE_GETREGSET": 0x4204, "PTRACE_SETREGSET": 0x4205,
    "PTRACE_SEIZE": 0x4206, "PTRACE_INTERRUPT": 0x4207, "PTRACE_LISTEN": 0x4208,
    "PTRACE_PEEKSIGINFO": 0x4209, "PTRACE_GETSIGMASK": 0x420A, "PTRACE_SETSIGMASK": 0x420B,
    "PTRACE_SECCOMP_GET_FILTER": 0x420C, "PTRACE_SECCOMP_GET_METADATA": 0x420D,
    "PTRACE_GET_SYSCALL_INFO": 0x420E, "PTRACE_GET_RSEQ_CONFIGURATION": 0x420F,
    "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG": 0x4210,
    "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG": 0x4211,
}
#: requests that make the caller a tracer of (or give it control over) another task
PTRACE_ATTACHING = frozenset({"PTRACE_ATTACH", "PTRACE_SEIZE"})

# --- prctl(2) options ------------------------------------------------------------------------
PRCTL_OPTIONS: dict[str, int] = {
    "PR_SET_PDEATHSIG": 1, "PR_GET_PDEATHSIG": 2, "PR_GET_DUMPABLE": 3, "PR_SET_DUMPABLE": 4,
    "PR_GET_UNALIGN": 5, "PR_SET_UNALIGN": 6, "PR_GET_KEEPCAPS": 7, "PR_SET_KEEPCAPS": 8,
    "PR_GET_FPEMU": 9, "PR_SET_FPEMU": 10, "PR_GET_FPEXC": 11, "PR_SET_FPEXC": 12,
    "PR_GET_TIMING": 13, "PR_SET_TIMING": 14, "PR_SET_NAME": 15, "PR_GET_NAME": 16,
    "PR_GET_ENDIAN": 19, "PR_SET_ENDIAN": 20, "PR_GET_SECCOMP": 21, "PR_SET_SECCOMP": 22,
    "PR_CAPBSET_READ": 23, "PR_CAPBSET_DROP": 24, "PR_GET_TSC": 25, "PR_SET_TSC": 26,
    "PR_GET_SECUREBITS": 27, "PR_SET_SECUREBITS": 28, "PR_SET_TIMERSLACK": 29,
    "PR_GET_TIMERSLACK": 30, "PR_TASK_PERF_EVENTS_DISABLE": 31,
    "PR_TASK_PERF_EVENTS_ENABLE": 32, "PR_MCE_KILL": 33, "PR_MCE_KILL_GET": 34,
    "PR_SET_MM": 35, "PR_SET_CHILD_SUBREAPER": 36, "PR_GET_CHILD_SUBREAPER": 37,
    "PR_SET_NO_NEW_PRIVS": 38, "PR_GET_NO_NEW_PRIVS": 39, "PR_GET_TID_ADDRESS": 40,
    "PR_SET_THP_DISABLE": 41, "PR_GET_THP_DISABLE": 42, "PR_MPX_ENABLE_MANAGEMENT": 43,
    "PR_MPX_DISABLE_MANAGEMENT": 44, "PR_SET_FP_MODE": 45, "PR_GET_FP_MODE": 46,
    "PR_CAP_AMBIENT": 47, "PR_SVE_SET_VL": 50, "PR_SVE_GET_VL": 51,
    "PR_GET_SPECULATION_CTRL": 52, "PR_SET_SPECULATION_CTRL": 53, "PR_PAC_RESET_KEYS": 54,
    "PR_SET_TAGGED_ADDR_CTRL": 55, "PR_GET_TAGGED_ADDR_CTRL": 56, "PR_SET_IO_FLUSHER": 57,
    "PR_GET_IO_FLUSHER": 58, "PR_SET_SYSCALL_USER_DISPATCH": 59, "PR_PAC_SET_ENABLED_KEYS": 60,
    "PR_PAC_GET_ENABLED_KEYS": 61, "PR_SCHED_CORE": 62, "PR_SME_SET_VL": 63,
    "PR_SME_GET_VL": 64, "PR_SET_MDWE": 65, "PR_GET_MDWE": 66, "PR_SET_MEMORY_MERGE": 67,
    "PR_GET_MEMORY_MERGE": 68, "PR_SET_VMA": 0x53564D41,
}

# --- capabilities (bit numbers; strace prints masks as 1<<CAP_X|...) --------------------------
CAPABILITIES: dict[str, int] = {
    name: i for i, name in enumerate((
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ))
}

# --- personality(2) ----------------------------------------------------------------------------
PERSONALITY: dict[str, int] = {
    "PER_LINUX": 0x0000, "PER_LINUX_32BIT": 0x0000 | 0x0800000, "PER_LINUX32": 0x0008,
    "PER_SVR4": 0x0001 | 0x04000000 | 0x0100000, "PER_BSD": 0x0006, "PER_UW7": 0x000E | 0x04000000 | 0x0100000,
    # flags
    "UNAME26": 0x0020000, "ADDR_NO_RANDOMIZE": 0x0040000, "FDPIC_FUNCPTRS": 0x0080000,
    "MMAP_PAGE_ZERO": 0x0100000, "ADDR_COMPAT_LAYOUT": 0x0200000, "READ_IMPLIES_EXEC": 0x0400000,
    "ADDR_LIMIT_32BIT": 0x0800000, "SHORT_INODE": 0x1000000, "WHOLE_SECONDS": 0x2000000,
    "STICKY_TIMEOUTS": 0x4000000, "ADDR_LIMIT_3GB": 0x8000000,
}

# --- unshare(2)/setns(2) use CLONE_* ----------------------------------------------------------
NAMESPACE_FLAGS: dict[str, int] = {
    k: v for k, v in CLONE_FLAGS.items()
    if k.startswith("CLONE_NEW") or k in ("CLONE_FILES", "CLONE_FS", "CLONE_SYSVSEM",
                                          "CLONE_THREAD", "CLONE_SIGHAND", "CLONE_VM")
}

#: clone(2) flags argument as strace prints it: CLONE_* names plus the exit signal by name
CLONE_ARG_TABLE: dict[str, int] = {**CLONE_FLAGS, **SIGNALS}

del _i, _n, _v
