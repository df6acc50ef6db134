"""Syscall number <-> name per arch, loaded lazily from ``syscall_tables/<arch>.tsv``.

Arch names are tracerule's canonical machine names (``x86_64``, ``i386``, ``aarch64``,
``arm``, ``ppc64le``, ``s390x``).  ``b64``/``b32`` are resolved against a host arch
with :func:`resolve_arch`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from syscall_tables import DIR as _DIR

ARCHES = ("x86_64", "i386", "aarch64", "arm", "ppc64le", "s390x")

#: AUDIT_ARCH_* constants (include/uapi/linux/audit.h).
AUDIT_ARCH = {
    "x86_64": 0xC000003E,
    "i386": 0x40000003,
    "aarch64": 0xC00000B7,
    "arm": 0x40000028,
    "ppc64": 0x80000015,
    "ppc64le": 0xC0000015,
    "s390x": 0x80000016,
    "s390": 0x00000016,
    "riscv64": 0xC00000F3,
    "loongarch64": 0xC0000102,
}

#: the 64-bit arch -> its 32-bit compat ABI (what ``-F arch=b32`` means there)
COMPAT = {"x86_64": "i386", "aarch64": "arm", "ppc64le": None, "s390x": "s390"}

#: aliases auditctl accepts for machine names
_ALIASES = {"i686": "i386", "i586": "i386", "i486": "i386", "amd64": "x86_64", "arm64": "aarch64",
            "armeb": "arm", "armv7l": "arm", "armv7": "arm"}


class UnknownArch(ValueError):
    pass


def canonical_arch(name: str) -> str:
    n = name.strip().lower()
    n = _ALIASES.get(n, n)
    return n


def resolve_arch(spec: str, host: str = "x86_64") -> str:
    """``b64``/``b32``/machine name -> canonical machine name, relative to ``host``."""
    s = spec.strip().lower()
    host = canonical_arch(host)
    if s == "b64":
        return host
    if s == "b32":
        compat = COMPAT.get(host)
        if compat is None:
            raise UnknownArch(f"no 32-bit ABI on {host}")
        return compat
    s = canonical_arch(s)
    if s not in AUDIT_ARCH:
        raise UnknownArch(f"unknown arch {spec!r}")
    return s


@dataclass(frozen=True)
class SyscallTable:
    arch: str
    by_name: dict[str, int] = field(repr=False)
    by_nr: dict[int, str] = field(repr=False)
    #: names the installed auditctl does not know (must be written by number)
    kernel_only: frozenset[str] = field(repr=False)

    def nr(self, name: str) -> int | None:
        return self.by_name.get(name)

    def name(self, nr: int) -> str | None:
        return self.by_nr.get(nr)

    def auditctl_knows(self, name: str) -> bool:
        return name in self.by_name and name not in self.kernel_only

    def __contains__(self, name: object) -> bool:
        return name in self.by_name


@lru_cache(maxsize=None)
def table(arch: str) -> SyscallTable:
    """The table of ``arch`` (a canonical machine name, or an alias)."""
    a = canonical_arch(arch)
    path = _DIR / f"{a}.tsv"
    if not path.is_file():
        raise UnknownArch(f"no syscall table for arch {arch!r} (have: {', '.join(ARCHES)})")
    by_name: dict[str, int] = {}
    by_nr: dict[int, str] = {}
    kernel_only: set[str] = set()
    with path.open() as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            nr_s, name, src = line.rstrip("\n").split("\t")
            nr = int(nr_s)
            by_name[name] = nr
            by_nr.setdefault(nr, name)
            if src == "kernel":
                kernel_only.add(name)
    return SyscallTable(a, by_name, by_nr, frozenset(kernel_only))


def parse_unknown_syscall(name: str) -> int | None:
    """strace's name for a syscall it cannot name: ``syscall_0x1f4`` (>=4.21) or ``syscall_500``."""
    if not name.startswith("syscall_"):
        return None
    rest = name[8:]
    try:
        return int(rest, 16) if rest.startswith("0x") else int(rest)
    except ValueError:
        return None
