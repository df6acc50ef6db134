"""What a0..a3 hold for the security-relevant syscalls (kernel signatures, x86_64 and i386).

Each entry lists the arguments in order; a name ending in ``*`` is a pointer (a rule comparing it
compares an address, which means nothing).  Only the first four matter: the kernel saves a0..a3.
Used by lint to spot a filter on the wrong argument (``open`` flags are a1, ``openat`` flags a2)
and on clone3, whose flags live in a struct.
"""
from __future__ import annotations

_COMMON = {
    "open": ("path*", "flags", "mode"),
    "openat": ("dirfd", "path*", "flags", "mode"),
    "openat2": ("dirfd", "path*", "how*", "size"),
    "creat": ("path*", "mode"),
    "open_by_handle_at": ("mount_fd", "handle*", "flags"),
    "name_to_handle_at": ("dirfd", "path*", "handle*", "mount_id*"),
    "execve": ("path*", "argv*", "envp*"),
    "execveat": ("dirfd", "path*", "argv*", "envp*"),
    "clone3": ("args*", "size"),
    "fork": (),
    "vfork": (),
    "chmod": ("path*", "mode"),
    "fchmod": ("fd", "mode"),
    "fchmodat": ("dirfd", "path*", "mode"),
    "fchmodat2": ("dirfd", "path*", "mode", "flags"),
    "chown": ("path*", "uid", "gid"),
    "lchown": ("path*", "uid", "gid"),
    "fchown": ("fd", "uid", "gid"),
    "chown32": ("path*", "uid", "gid"),
    "lchown32": ("path*", "uid", "gid"),
    "fchown32": ("fd", "uid", "gid"),
    "fchownat": ("dirfd", "path*", "uid", "gid"),
    "setuid": ("uid",), "setgid": ("gid",), "setfsuid": ("uid",), "setfsgid": ("gid",),
    "setuid32": ("uid",), "setgid32": ("gid",), "setfsuid32": ("uid",), "setfsgid32": ("gid",),
    "setreuid": ("ruid", "euid"), "setregid": ("rgid", "egid"),
    "setreuid32": ("ruid", "euid"), "setregid32": ("rgid", "egid"),
    "setresuid": ("ruid", "euid", "suid"), "setresgid": ("rgid", "egid", "sgid"),
    "setresuid32": ("ruid", "euid", "suid"), "setresgid32": ("rgid", "egid", "sgid"),
    "setgroups": ("size", "list*"), "setgroups32": ("size", "list*"),
    "capset": ("header*", "data*"),
    "socket": ("family", "type", "protocol"),
    "socketpair": ("family", "type", "protocol", "sv*"),
    "connect": ("fd", "addr*", "addrlen"),
    "bind": ("fd", "addr*", "addrlen"),
    "listen": ("fd", "backlog"),
    "accept": ("fd", "addr*", "addrlen*"),
    "accept4": ("fd", "addr*", "addrlen*", "flags"),
    "sendto": ("fd", "buf*", "len", "flags"),
    "recvfrom": ("fd", "buf*", "len", "flags"),
    "sendmsg": ("fd", "msg*", "flags"),
    "recvmsg": ("fd", "msg*", "flags"),
    "setsockopt": ("fd", "level", "optname", "optval*"),
    "getsockopt": ("fd", "level", "optname", "optval*"),
    "socketcall": ("call", "args*"),
    "ptrace": ("request", "pid", "addr*", "data*"),
    "process_vm_readv": ("pid", "local_iov*", "liovcnt", "remote_iov*"),
    "process_vm_writev": ("pid", "local_iov*", "liovcnt", "remote_iov*"),
    "kill": ("pid", "sig"), "tkill": ("tid", "sig"), "tgkill": ("tgid", "tid", "sig"),
    "mount": ("source*", "target*", "fstype*", "flags"),
    "umount": ("target*",),
    "umount2": ("target*", "flags"),
    "unshare": ("flags",),
    "setns": ("fd", "nstype"),
    "pivot_root": ("new_root*", "put_old*"),
    "chroot": ("path*",),
    "init_module": ("image*", "len", "params*"),
    "finit_module": ("fd", "params*", "flags"),
    "delete_module": ("name*", "flags"),
    "unlink": ("path*",),
    "unlinkat": ("dirfd", "path*", "flags"),
    "rmdir": ("path*",),
    "rename": ("old*", "new*"),
    "renameat": ("olddirfd", "old*", "newdirfd", "new*"),
    "renameat2": ("olddirfd", "old*", "newdirfd", "new*"),
    "link": ("old*", "new*"),
    "linkat": ("olddirfd", "old*", "newdirfd", "new*"),
    "symlink": ("target*", "linkpath*"),
    "symlinkat": ("target*", "newdirfd", "linkpath*"),
    "mkdir": ("path*", "mode"),
    "mkdirat": ("dirfd", "path*", "mode"),
    "mknod": ("path*", "mode", "dev"),
    "mknodat": ("dirfd", "path*", "mode", "dev"),
    "truncate": ("path*", "length"),
    "ftruncate": ("fd", "length"),
    "setxattr": ("path*", "name*", "value*", "size"),
    "lsetxattr": ("path*", "name*", "value*", "size"),
    "fsetxattr": ("fd", "name*", "value*", "size"),
    "removexattr": ("path*", "name*"),
    "lremovexattr": ("path*", "name*"),
    "fremovexattr": ("fd", "name*"),
    "personality": ("persona",),
    "prctl": ("option", "arg2", "arg3", "arg4"),
    "memfd_create": ("name*", "flags"),
    "bpf": ("cmd", "attr*", "size"),
    "perf_event_open": ("attr*", "pid", "cpu", "group_fd"),
    "keyctl": ("operation", "arg2", "arg3", "arg4"),
    "io_uring_setup": ("entries", "params*"),
    "io_uring_enter": ("fd", "to_submit", "min_complete", "flags"),
    "reboot": ("magic", "magic2", "cmd", "arg*"),
    "kexec_load": ("entry", "nr_segments", "segments*", "flags"),
    "kexec_file_load": ("kernel_fd", "initrd_fd", "cmdline_len", "cmdline*"),
    "sethostname": ("name*", "len"),
    "setdomainname": ("name*", "len"),
    "settimeofday": ("tv*", "tz*"),
    "clock_settime": ("clockid", "tp*"),
    "adjtimex": ("buf*",),
    "clock_adjtime": ("clockid", "buf*"),
    "ioctl": ("fd", "request", "arg"),
    "mprotect": ("addr", "len", "prot"),
    "mmap": ("addr", "length", "prot", "flags"),
    "mmap2": ("addr", "length", "prot", "flags"),
    "swapon": ("path*", "flags"),
    "swapoff": ("path*",),
    "acct": ("path*",),
    "quotactl": ("cmd", "special*", "id", "addr*"),
}

#: arch -> name -> argument tuple
ARGS: dict[str, dict[str, tuple[str, ...]]] = {
    "x86_64": dict(_COMMON, clone=("flags", "stack*", "parent_tid*", "child_tid*")),
    "i386": dict(_COMMON, clone=("flags", "stack*", "parent_tid*", "tls*")),
}
for _a in ("aarch64", "arm", "ppc64le", "s390x"):
    ARGS[_a] = dict(_COMMON, clone=("flags", "stack*", "parent_tid*", "tls*"))
# s390 swaps the first two clone arguments
ARGS["s390x"]["clone"] = ("stack*", "flags", "parent_tid*", "child_tid*")


def args_of(arch: str, name: str) -> tuple[str, ...] | None:
    """The argument names of ``name`` on ``arch`` (None: not in the table)."""
    return ARGS.get(arch, ARGS["x86_64"]).get(name)


#: i386 socketcall call numbers (SYS_* from include/uapi/linux/net.h)
SOCKETCALL = {"socket": 1, "bind": 2, "connect": 3, "listen": 4, "accept": 5, "getsockname": 6,
              "getpeername": 7, "socketpair": 8, "send": 9, "recv": 10, "sendto": 11, "recvfrom": 12,
              "shutdown": 13, "setsockopt": 14, "getsockopt": 15, "sendmsg": 16, "recvmsg": 17,
              "accept4": 18, "recvmmsg": 19, "sendmmsg": 20}

#: x86_64 name -> the i386 names that do the same (besides the same name and a *32 twin)
I386_TWINS = {"stat": ("stat64",), "lstat": ("lstat64",), "fstat": ("fstat64",),
              "newfstatat": ("fstatat64",), "truncate": ("truncate64",), "ftruncate": ("ftruncate64",),
              "fcntl": ("fcntl64",), "sendfile": ("sendfile64",), "statfs": ("statfs64",),
              "fstatfs": ("fstatfs64",), "mmap": ("mmap2",), "fadvise64": ("fadvise64_64",),
              "accept": ("socketcall",), "umount2": ("umount",)}
