"""The field table of auditctl 3.x and the value rules libaudit applies (``audit_rule_fieldpair_data``).

:func:`parse_field` turns one ``-F name OP value`` into a :class:`~.model.Field` or raises
:class:`FieldError` carrying the message auditctl prints.  :func:`parse_comparison` does ``-C``.
"""
from __future__ import annotations

import grp
import pwd
from dataclasses import dataclass
from typing import Callable

from tracerule.audit.rules import _libaudit_data as LD
from tracerule.audit.rules.model import OPS, PERM_BITS, UNSET, Comparison, Field
from tracerule.audit.tables import AUDIT_ARCH

AUDITCTL_VERSION = LD.AUDITCTL_VERSION
FIELD_IDS: dict[str, int] = dict(LD.FIELD_IDS)
FIELD_NAMES: dict[int, str] = {}
for _n, _i in LD.FIELD_IDS.items():
    FIELD_NAMES.setdefault(_i, _n)
MSGTYPES: dict[int, str] = dict(LD.MSGTYPES)
MSGTYPE_IDS: dict[str, int] = {v: k for k, v in LD.MSGTYPES.items()}
ERRNOS: dict[int, str] = dict(LD.ERRNOS)
ERRNO_IDS: dict[str, int] = {v: k for k, v in LD.ERRNOS.items()}
FTYPES: dict[str, int] = dict(LD.FTYPES)
FSTYPES: dict[str, int] = dict(LD.FSTYPES)
AF_MAX = 46   #: glibc 2.36 (Debian 12) AF_MAX, which auditctl 3.0.9 was built against

UID_FIELDS = frozenset({"uid", "euid", "suid", "fsuid", "auid", "obj_uid"})
GID_FIELDS = frozenset({"gid", "egid", "sgid", "fsgid", "obj_gid"})
ARG_FIELDS = frozenset({"a0", "a1", "a2", "a3"})
SUBJ_FIELDS = frozenset({"subj_user", "subj_role", "subj_type", "subj_sen", "subj_clr"})
OBJ_FIELDS = frozenset({"obj_user", "obj_role", "obj_type", "obj_lev_low", "obj_lev_high"})
STRING_FIELDS = SUBJ_FIELDS | OBJ_FIELDS | {"path", "dir", "exe", "key"}
#: fields the exclude list accepts (3.0.9 with EXCLUDE_EXTEND)
EXCLUDE_FIELDS = frozenset({"pid", "uid", "gid", "auid", "msgtype", "exe"}) | SUBJ_FIELDS
#: kernel audit_field_valid: bit operators only where all ops are valid
ALL_OPS_FIELDS = ARG_FIELDS | {"pers", "devminor"}
EQ_NE_FIELDS = (frozenset({"subj_user", "subj_role", "subj_type", "obj_user", "obj_role", "obj_type",
                           "path", "dir", "key", "arch", "fstype", "perm", "filetype", "exe"}))

#: machine names auditctl accepts -> tracerule's canonical name
MACHINES = {name: ("arm" if m == "armeb" else m) for name, m in LD.MACHINES.items()}
_ELF_MACHINE = {v: k for k, v in AUDIT_ARCH.items()}
_ELF_MACHINE[0x14] = "ppc"
_ELF_MACHINE[0x28] = "arm"
_MACHINE_ELF = dict(AUDIT_ARCH, ppc=0x14)
_COMPAT = {"x86_64": "i386", "ppc64": "ppc", "ppc64le": "ppc", "s390x": "s390", "aarch64": "arm"}
ARCH_64BIT = 0x80000000

#: ``-C`` pairs in the orientation auditctl -l prints (audit-semantics.md section 6)
_CANONICAL_PAIRS = ("uid~obj_uid gid~obj_gid euid~obj_uid egid~obj_gid auid~obj_uid suid~obj_uid "
                    "sgid~obj_gid fsuid~obj_uid fsgid~obj_gid uid~auid uid~euid uid~fsuid uid~suid "
                    "auid~fsuid auid~suid auid~euid euid~suid euid~fsuid suid~fsuid gid~egid gid~fsgid "
                    "gid~sgid egid~fsgid egid~sgid sgid~fsgid").split()
COMPARE_PAIRS: dict[frozenset[str], tuple[str, str]] = {
    frozenset(p.split("~")): tuple(p.split("~")) for p in _CANONICAL_PAIRS}  # type: ignore[misc]


class FieldError(ValueError):
    """auditctl refuses the field; ``str()`` is auditctl's message."""


def machine_of_elf(elf: int) -> str | None:
    return _ELF_MACHINE.get(elf & 0xFFFFFFFF)


def elf_of(spec: str, host: str = "x86_64") -> int:
    """``b64``/``b32``/machine name/number -> AUDIT_ARCH value, as audit_determine_machine does."""
    s = spec
    if s[:1].isdigit():
        v = c_strtoul(s)
        if machine_of_elf(v) is None:
            raise FieldError("arch elf mapping not found")
        return v
    low = s.lower()
    if low == "b64":
        return _MACHINE_ELF[host]
    if low == "b32":
        compat = _COMPAT.get(host)
        if compat is None:
            raise FieldError("arch elf mapping not found")
        return _MACHINE_ELF[compat]
    m = MACHINES.get(s)
    if m is None:
        v = c_strtoul(s, 16)
        m = machine_of_elf(v)
        if m is None:
            raise FieldError("arch elf mapping not found")
    return _MACHINE_ELF[m]


def c_strtol(s: str, base: int = 0) -> int:
    """C strtol/strtoul on the longest valid prefix (what libaudit does); no digits -> 0."""
    i, n = 0, len(s)
    while i < n and s[i] in " \t\n":
        i += 1
    neg = False
    if i < n and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    if base in (0, 16) and s[i:i + 2].lower() == "0x" and i + 2 < n and s[i + 2] in "0123456789abcdefABCDEF":
        base, i = 16, i + 2
    elif base == 0:
        base = 8 if s[i:i + 1] == "0" else 10
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    j = i
    while j < n and s[j].lower() in digits:
        j += 1
    v = int(s[i:j], base) if j > i else 0
    v = min(v, 2 ** 64 - 1)
    return -v if neg else v


def c_strtoul(s: str, base: int = 0) -> int:
    return c_strtol(s, base) & 0xFFFFFFFF


def u32(v: int) -> int:
    return v & 0xFFFFFFFF


def s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def split_op(pair: str) -> tuple[str, str, str]:
    """``name OP value`` split the way libaudit does (first operator in OPS order found anywhere)."""
    for op in OPS:
        i = pair.find(op)
        if i >= 0:
            return pair[:i], op, pair[i + len(op):]
    raise FieldError(f"-F missing operation for {pair}")


def _default_user(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _default_group(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


@dataclass
class FieldContext:
    """State auditctl keeps while reading one line, and the host lookups it uses."""

    list: str
    host: str = "x86_64"
    syscall_added: bool = False
    perm_added: bool = False
    exe_added: bool = False
    fs_added: bool = False
    elf: int | None = None
    user: Callable[[str], int | None] = _default_user
    group: Callable[[str], int | None] = _default_group


def _is_num(v: str) -> bool:
    return v[:1].isdigit()


def _is_neg(v: str) -> bool:
    return len(v) >= 2 and v[0] == "-" and v[1].isdigit()


def parse_field(pair: str, ctx: FieldContext) -> Field:
    """One ``-F`` argument (not ``key=``) -> Field, or FieldError with auditctl's message."""
    name, op, v = split_op(pair)
    if not name:
        raise FieldError("-F missing field name before operator for ")
    if not v:
        raise FieldError(f"-F missing value after operation for {name}")
    if name not in FIELD_IDS or name == "field_compare":
        raise FieldError(f"-F unknown field: {name}")
    canon = FIELD_NAMES[FIELD_IDS[name]]
    lst = ctx.list
    if lst == "exclude" and canon not in EXCLUDE_FIELDS:
        raise FieldError("Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter")

    def exit_only() -> None:
        if lst != "exit":
            raise FieldError(f"{name} can only be used with exit filter list")

    if canon in UID_FIELDS:
        if _is_num(v):
            val = c_strtoul(v)
        elif _is_neg(v):
            val = u32(c_strtol(v))
        elif v == "unset":
            val = UNSET
        else:
            uid = ctx.user(v)
            if uid is None:
                raise FieldError(f"Unknown user: {v}")
            val = uid
        return Field(canon, op, val, v)
    if canon in GID_FIELDS:
        if _is_num(v):
            val = u32(c_strtol(v))
        else:
            gid = ctx.group(v)
            if gid is None:
                raise FieldError(f"Unknown group: {v}")
            val = gid
        return Field(canon, op, val, v)
    if canon == "exit":
        exit_only()
        if _is_num(v) or _is_neg(v):
            return Field(canon, op, u32(c_strtol(v)), v)
        neg = v.startswith("-")
        nr = ERRNO_IDS.get(v[1:] if neg else v)
        if nr is None:
            raise FieldError("-F unknown errno - exit")
        return Field(canon, op, u32(-nr if neg else nr), v)
    if canon == "msgtype":
        if lst not in ("exclude", "user"):
            raise FieldError("msgtype field can only be used with exclude or user filter list")
        if _is_num(v):
            return Field(canon, op, u32(c_strtol(v)), v)
        t = MSGTYPE_IDS.get(v)
        if t is None:
            raise FieldError("-F unknown message type - msgtype")
        return Field(canon, op, t, v)
    if canon in STRING_FIELDS:
        if canon in OBJ_FIELDS or canon in ("path", "dir"):
            exit_only()
            if canon in ("path", "dir"):
                ctx.perm_added = True
        if canon == "exe":
            if op not in ("=", "!="):
                raise FieldError("exe only takes = or != operators")
            ctx.exe_added = True
        if len(v.encode()) > 4096:
            raise FieldError("String value too long")
        return Field(canon, op, v, v)
    if canon == "arch":
        if ctx.syscall_added:
            raise FieldError("arch must be before -S")
        if op not in ("=", "!="):
            raise FieldError("arch only takes = or != operators")
        elf = elf_of(v, ctx.host)
        ctx.elf = elf
        return Field(canon, op, elf, v)
    if canon == "perm":
        exit_only()
        if op != "=":
            raise FieldError("perm only takes = operator")
        if len(v) > 4:
            raise FieldError("String value too long")
        bits = 0
        for ch in v.lower():
            if ch not in PERM_BITS:
                raise FieldError("Permission can only contain  'rwxa'")
            bits |= PERM_BITS[ch]
        return Field(canon, op, bits, v)
    if canon == "filetype":
        exit_only()
        ft = FTYPES.get(v)
        if ft is None:
            raise FieldError("-F unknown file type -  filetype")
        return Field(canon, op, ft, v)
    if canon == "fstype":
        if lst != "filesystem":
            raise FieldError("fstype field is not valid for the filter")
        if op not in ("=", "!="):
            raise FieldError("fstype only takes = or != operators")
        val = c_strtoul(v) if _is_num(v) else FSTYPES.get(v)
        if val is None:
            raise FieldError("file system type is unknown for field: fstype")
        ctx.fs_added = True
        return Field(canon, op, val, v)
    if canon in ARG_FIELDS:
        if _is_num(v):
            return Field(canon, op, c_strtoul(v), v)
        if _is_neg(v):
            return Field(canon, op, u32(c_strtol(v)), v)
        raise FieldError(f"-F value should be number for {name}")
    if canon == "sessionid":
        if lst not in ("exclude", "user", "exit"):
            raise FieldError("sessionid must be used with exclude, user, or exit filter")
        if _is_num(v):
            val = c_strtoul(v)
        elif _is_neg(v):
            val = u32(c_strtol(v))
        elif v == "unset":
            val = UNSET
        else:
            val = 0   # libaudit leaves the value unset (0) and does not complain
        return Field(canon, op, val, v)
    # devmajor, devminor, inode, success, ppid, pid, pers, saddr_fam ...
    if canon in ("devmajor", "devminor", "inode", "success"):
        exit_only()
    if canon == "inode" and op not in ("=", "!="):
        raise FieldError("inode only takes = or != operators")
    if canon == "ppid" and lst != "exit":
        raise FieldError(f"{name} can only be used with exit filter list")
    if not _is_num(v):
        raise FieldError(f"-F value should be number for {name}")
    val = c_strtoul(v) if canon == "inode" else u32(c_strtol(v))
    if canon == "saddr_fam" and val >= AF_MAX:
        raise FieldError("value is too large for field: saddr_fam")
    return Field(canon, op, val, v)


def parse_comparison(pair: str, lst: str) -> Comparison:
    """One ``-C`` argument -> Comparison in canonical orientation, or FieldError."""
    i = pair.find("!=")
    if i >= 0:
        left, op, right = pair[:i], "!=", pair[i + 2:]
    else:
        i = pair.find("=")
        if i < 0:
            raise FieldError(f"{pair} only takes = or != operators")
        left, op, right = pair[:i], "=", pair[i + 1:]
    if not left:
        raise FieldError(f"-C missing field name before operator for {left}")
    if not right:
        raise FieldError(f"-C missing value after operation for {left}")
    if left not in FIELD_IDS:
        raise FieldError(f"-C unknown field: {left}")
    if right not in FIELD_IDS:
        raise FieldError(f"-C unknown right hand value for comparison with: {left}")
    if lst != "exit":
        raise FieldError(f"{left} can only be used with exit filter list")
    a, b = FIELD_NAMES[FIELD_IDS[left]], FIELD_NAMES[FIELD_IDS[right]]
    pair_c = COMPARE_PAIRS.get(frozenset((a, b)))
    if pair_c is None or a == b:
        raise FieldError(f"-C incompatible comparison {left}")
    return Comparison(pair_c[0], op, pair_c[1])


def kernel_refusal(fields, lst: str) -> str | None:
    """What the kernel's audit_data_to_entry/audit_field_valid refuse (EINVAL) in a rule auditctl
    accepted; None when the kernel accepts it (host path checks are separate)."""
    seen_watch = seen_dir = seen_exe = False
    for f in fields:
        if isinstance(f, Comparison):
            continue
        n, op = f.name, f.op
        if op in ("&", "&=") and n not in ALL_OPS_FIELDS:
            return "bit operators are only valid on a0-a3, pers and devminor"
        if op not in ("=", "!=") and n in EQ_NE_FIELDS:
            return f"{n} only takes = or != in the kernel"
        if n == "auid" and f.value == UNSET and op not in ("=", "!="):
            return "auid compared with unset only takes = or !="
        if (n in UID_FIELDS or n in GID_FIELDS) and f.value == UNSET and n != "auid":
            return f"{n}={f.text}: not a valid {'uid' if n in UID_FIELDS else 'gid'}"
        if n == "path":
            v = str(f.value)
            if op != "=" or not v.startswith("/") or v.endswith("/") or seen_watch or seen_dir:
                return "path= must be a single absolute path without a trailing / and only with ="
            seen_watch = True
        if n == "dir":
            v = str(f.value)
            if op != "=" or not v.startswith("/") or seen_watch or seen_dir:
                return "dir= must be a single absolute path and only with ="
            seen_dir = True
        if n == "exe":
            v = str(f.value)
            if seen_exe or not v.startswith("/") or v.endswith("/"):
                return "exe= must be a single absolute path without a trailing /"
            seen_exe = True
        if n == "msgtype" and lst not in ("exclude", "user"):
            return "msgtype only on the exclude and user lists"
    return None
