"""Building rules from validated values, and their 32-bit twins.

Every string a rule gets (exe, path, dir, key) passes :mod:`tracerule.audit.rules.safety` here:
a hostile file name in a trace raises :class:`~tracerule.audit.rules.safety.UnsafeValue` and the
caller drops that candidate (and says so) -- it never reaches a rules file.
"""
from __future__ import annotations

from tracerule.audit.rules.classes import family
from tracerule.audit.rules.model import UNSET, Field, Rule, SyscallSet, Watch, perm_text, PERM_BITS
from tracerule.audit.rules.safety import validate_keys, validate_path, validate_value
from tracerule.audit.tables import AUDIT_ARCH, COMPAT, table

_STRING_FIELDS = ("exe", "path", "dir")


def field(name: str, op: str, value) -> Field:
    if name in _STRING_FIELDS:
        v = validate_path(value) if name != "exe" else validate_value(value, what="exe")
        return Field(name, op, v, v)
    if name == "perm":
        bits = sum(PERM_BITS[c] for c in value)
        return Field("perm", "=", bits, perm_text(bits))
    if name in ("auid", "sessionid") and value == "unset":
        return Field(name, op, UNSET, "unset")
    v = int(value)
    text = f"0x{v:X}" if name.startswith("a") and name[1:].isdigit() and op in ("&", "&=") else str(v)
    return Field(name, op, v & 0xFFFFFFFF, text)


def scope_fields(scope: str, uid_min: int) -> list[Field]:
    """The auid scope of a rule (audit-semantics §3.1: ``auid>=N`` alone matches unset).
    ``unknown``/``mixed``/``system``: no auid field."""
    if scope == "user":
        return [field("auid", ">=", uid_min), field("auid", "!=", "unset")]
    if scope == "unset":
        return [field("auid", "=", "unset")]
    if scope == "root":
        return [field("auid", "=", 0)]
    return []


def syscall_rule(machine: str, names, fields, key, *, host: str) -> Rule | None:
    """``-a always,exit -F arch=<machine> -S names <fields> -k key`` (None: no name exists there).
    ``exe=`` goes last (the expensive field), arch first."""
    t = table(machine)
    nrs = frozenset(t.nr(n) for n in names if t.nr(n) is not None)
    if not nrs:
        return None
    word = "b64" if machine == host else "b32" if machine == COMPAT.get(host) else machine
    fs = [f for f in fields if f.name != "exe"] + [f for f in fields if f.name == "exe"]
    return Rule("always", "exit", (Field("arch", "=", AUDIT_ARCH[machine], word),) + tuple(fs),
                SyscallSet(machine, nrs), validate_keys((key,) if isinstance(key, str) else key), host=host)


def path_rule(path: str, perms: str, fields, key: str, *, host: str) -> Rule:
    """``-a always,exit -F path=P -F perm=wa [scope] -k key``: no arch and no -S, on purpose -- the
    rule lives in the inode hash and perm classes are tested per ABI (covers b64 and b32)."""
    fs = (field("path", "=", path), field("perm", "=", perms)) + tuple(fields)
    return Rule("always", "exit", fs, SyscallSet(host, all=True), validate_keys((key,)), host=host)


def watch(path: str, perms: str, key: str, *, host: str) -> Watch:
    bits = sum(PERM_BITS[c] for c in perms)
    return Watch(validate_path(path), bits, validate_keys((key,)), host=host)


def names_of(rule: Rule) -> tuple[str, ...]:
    sc = rule.syscalls
    if sc is None or sc.all:
        return ()
    t = table(sc.arch)
    return tuple(t.name(n) or str(n) for n in sorted(sc.numbers))


def twin_names(host: str, names) -> list[str]:
    """The compat ABI's names for a native -S list: the same name, its ``*32`` form, ``socketcall``
    for socket calls (i386 libcs use either), ``execveat`` with ``execve`` and so on."""
    compat = COMPAT.get(host)
    if compat is None:
        return []
    t = table(compat)
    net = set(family(compat, "network"))
    out: list[str] = []
    for n in names:
        for cand in (n, n + "32"):
            if cand in t and cand not in out:
                out.append(cand)
        if n in net or n in ("accept", "listen", "socket", "connect", "bind", "sendto", "recvfrom"):
            if "socketcall" not in out:
                out.append("socketcall")
    return out


def twin(rule: Rule, host: str) -> Rule | None:
    """The b32 twin of a native rule (None when it has no arch field, or the compat ABI lacks
    every syscall of it)."""
    compat = COMPAT.get(host)
    if compat is None or not rule.arch_fields or rule.syscalls is None or rule.syscalls.all:
        return None
    names = twin_names(host, names_of(rule))
    fields = tuple(f for f in rule.fields if not (isinstance(f, Field) and f.name == "arch"))
    return syscall_rule(compat, names, fields, rule.keys, host=host) if names else None


def catchall(host: str, key: str) -> Rule | None:
    compat = COMPAT.get(host)
    if compat is None:
        return None
    return Rule("always", "exit", (Field("arch", "=", AUDIT_ARCH[compat], "b32"),),
                SyscallSet(compat, all=True), validate_keys((key,)), host=host)


def expand(items, host: str, b32: str) -> list:
    """Native items plus what ``--b32`` adds: twins after each rule (pairs), or one catch-all last."""
    out = []
    for it in items:
        out.append(it)
        if b32 == "pairs" and isinstance(it, Rule):
            tw = twin(it, host)
            if tw is not None:
                out.append(tw)
    if b32 == "catchall":
        ca = catchall(host, "tr-b32")
        if ca is not None:
            out.append(ca)
    return out
