"""A simulator of the kernel's audit exit filter (audit-semantics.md sections 1.5, 1.6, 3-6).

    from tracerule.audit.rules import parse_text
    from tracerule.audit.simulate import compile_rules, simulate
    compiled = compile_rules(parse_text(text).items)          # once
    for d in simulate(compiled, records):                      # records: tracerule.audit.record.Record
        print(d.index, d.rule, d.action, d.key, d.assumptions)

What is modelled:

* rule loading as the kernel does it: ``-a`` appended with decreasing priority, ``-A`` prepended
  above every appended rule (the latest ``-A`` first), ``-d``/``-W`` delete, ``-D`` (with ``-k``:
  by key) deletes; ``-w`` becomes ``path=`` or ``dir=`` depending on what the path is at load;
* the exit list pass and the inode pass (``path=`` watches and ``inode=`` rules, consulted per
  collected name), first match by priority across both (a ``never`` matched in the exit pass does
  not hide an earlier-added watch);
* the task list (decided once per task, at fork), the exclude list's effect on the SYSCALL record,
  forced records (LOGIN & co.); user and filesystem lists do not decide syscalls (a filesystem
  ``never`` rule blinds the names on that file system);
* every field with the kernel's semantics: unsigned 32-bit compares, uid/gid comparators, gid/egid
  with supplementary groups, auid unset, success/exit (none for exit/exit_group), perm classes
  (open flags, execve, socketcall bind), exe/path/dir as inode identities, -C comparisons, LSM fields
  (never match: no LSM is modelled).

Unknown values (None in a record) are never guessed silently: each outcome that rests on one
carries :class:`~tracerule.audit.record.Assumption` values.  Defaults: auid and sessionid unknown
are assumed unset (a sessionid known to be set, number unknown, decides ``=unset``/``!=unset``
and every compare all set ids answer alike; other compares are assumptions), personality 0,
supplementary groups none; any other unknown value makes its field not match.

Speed: rules are compiled to Python functions once; per (arch, syscall) the candidate rules whose
mask holds the number are precomputed lazily (arch/perm/success/exit/saddr_fam decided there once),
so a record only runs the few rules that can match.  :func:`simulate_naive` is the same semantics
evaluated field by field for every rule (the reference the tests and the benchmark compare with).
"""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

from tracerule.audit.record import (NO_SOCKADDR, SESSION_SET, UNSET, Assumption, Decision, FileRef,
                                    Name, Record)
from tracerule.audit.rules.classes import classify, kernel_class
from tracerule.audit.rules.fields import OBJ_FIELDS, SUBJ_FIELDS
from tracerule.audit.rules.model import Comparison, ControlLine, Field, Rule, Watch
from tracerule.audit.tables import AUDIT_ARCH, canonical_arch, table

__all__ = ["PathFacts", "host_resolver", "literal_resolver", "MappingResolver", "FileIdentity",
           "RuleInfo", "CompiledRules", "compile_rules", "simulate", "simulate_naive", "RuleHits",
           "summarize", "MSG_SYSCALL"]

M32 = 0xFFFFFFFF
MSG_SYSCALL = 1300
S_IFMT = 0o170000
_ARCH_NAMES = {v: k for k, v in AUDIT_ARCH.items()}
#: syscalls that copy a sockaddr in or out (move_addr_to_kernel / move_addr_to_user)
_SOCKADDR_SYSCALLS = frozenset({"connect", "bind", "sendto", "sendmsg", "sendmmsg", "accept",
                                "accept4", "recvfrom", "recvmsg", "recvmmsg", "getsockname",
                                "getpeername", "socketcall"})
_NO_RETURN = frozenset({"exit", "exit_group"})
_ACC_MODE = (4, 2, 6, 6)   # "\004\002\006\006"[flags & O_ACCMODE]
_NAME_FIELDS = frozenset({"devmajor", "devminor", "inode", "obj_uid", "obj_gid", "dir", "path"})
_UIDLIKE = frozenset({"uid", "euid", "suid", "fsuid", "auid", "loginuid", "obj_uid", "gid",
                      "egid", "sgid", "fsgid", "obj_gid"})
_TASK_ATTR = {"uid": "uid", "euid": "euid", "suid": "suid", "fsuid": "fsuid", "auid": "auid",
              "loginuid": "auid", "gid": "gid", "egid": "egid", "sgid": "sgid", "fsgid": "fsgid"}
_PRIO_BASE = 1 << 40
_SET_SID_TEXT = "sessionid set (a login), number unknown: {} assumed not to match"
_TASK_PRIO = 1 << 62


def _major(dev: int) -> int:
    return ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)


def _minor(dev: int) -> int:
    return (dev & 0xFF) | ((dev >> 12) & ~0xFF)


def _cmp(left: int, op: str, right: int) -> bool:
    """audit_comparator on u32 values."""
    left &= M32
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    if op == ">=":
        return left >= right
    if op == "&":
        return (left & right) != 0
    if op == "&=":
        return (left & right) == right
    return False


#: the session ids a task with a login can hold: every u32 but 4294967295 (AUDIT_SID_UNSET;
#: audit_set_loginuid skips it, the counter may wrap to 0)
_SET_SID_LO, _SET_SID_HI = 0, M32 - 1


def _set_session_cmp(op: str, right: int) -> bool | None:
    """``sessionid OP right`` for a session id known to be set whose number is unknown: the answer
    when every set session id gives the same one (``sessionid=unset`` false, ``!=unset`` true,
    ``<4294967295`` true ...), else None (the number would decide)."""
    lo, hi = _SET_SID_LO, _SET_SID_HI
    if op == "=":
        return False if not lo <= right <= hi else None
    if op == "!=":
        return True if not lo <= right <= hi else None
    if op in ("<", "<=", ">", ">="):
        a, b = _cmp(lo, op, right), _cmp(hi, op, right)
        return a if a == b else None    # monotone in the left value
    if op == "&":
        return False if right == 0 else None
    if op == "&=":
        return True if right == 0 else None
    return False


def _uid_cmp(left: int, op: str, right: int) -> bool:
    """audit_uid_comparator / audit_gid_comparator: no bit operators."""
    if op in ("&", "&="):
        return False
    return _cmp(left, op, right)


# ---- file identity ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PathFacts:
    """What a rule's path refers to when the rule is loaded.

    ``canonical``: the parent directory fully resolved plus the final component *not* followed
    (what the kernel's exe/watch marks hold); ``dev``/``ino``: ``lstat`` of that final component;
    ``is_symlink``: it is a symlink; ``real``/``real_dev``/``real_ino``: fully resolved (``dir=``
    follows the final symlink); ``is_dir``: ``stat`` says directory (how ``-w`` picks dir=).
    None = unknown.  ``assumed``: nothing was known, the values are the path as written."""

    path: str
    exists: bool | None = None
    parent_exists: bool | None = None
    is_symlink: bool | None = None
    is_dir: bool | None = None
    canonical: str | None = None
    dev: int | None = None
    ino: int | None = None
    real: str | None = None
    real_dev: int | None = None
    real_ino: int | None = None
    assumed: bool = False


Resolver = Callable[[str], PathFacts]


def _norm(path: str) -> str:
    p = posixpath.normpath(path)
    return "/" + p.lstrip("/") if p.startswith("//") else p


def host_resolver(path: str) -> PathFacts:
    """Facts from this host's file system (right when the trace was recorded here)."""
    p = _norm(path)
    parent, base = posixpath.split(p)
    if not os.path.isdir(parent or "/"):
        return PathFacts(path, exists=False, parent_exists=False, canonical=p, real=p)
    canon = posixpath.join(os.path.realpath(parent or "/"), base) if base else os.path.realpath(p)
    try:
        lst = os.lstat(canon)
    except OSError:
        return PathFacts(path, exists=False, parent_exists=True, is_symlink=False, is_dir=False,
                         canonical=canon, real=canon)
    import stat as _st

    is_link = _st.S_ISLNK(lst.st_mode)
    real = os.path.realpath(canon)
    try:
        st = os.stat(canon)
        rdev, rino, isdir = st.st_dev, st.st_ino, _st.S_ISDIR(st.st_mode)
    except OSError:
        rdev = rino = None
        isdir = False
    return PathFacts(path, True, True, is_link, isdir, canon, lst.st_dev, lst.st_ino, real, rdev, rino)


def literal_resolver(path: str) -> PathFacts:
    """No knowledge at all: the path as written, flagged ``assumed``."""
    p = _norm(path)
    return PathFacts(path, canonical=p, real=p, assumed=True)


class MappingResolver:
    """Facts from a table (a sidecar, or a test's file system model); other paths go to
    ``fallback`` (default: :func:`literal_resolver`)."""

    def __init__(self, facts: dict[str, PathFacts] | Iterable[PathFacts],
                 fallback: Resolver = literal_resolver) -> None:
        items = facts.values() if isinstance(facts, dict) else facts
        self.facts = {_norm(f.path): f for f in items}
        self.fallback = fallback

    def __call__(self, path: str) -> PathFacts:
        f = self.facts.get(_norm(path))
        return f if f is not None else self.fallback(path)


class FileIdentity:
    """Decides "same inode" between rule paths (resolved once, at load) and what a record shows.

    (dev, ino) when both sides have it; else the canonical path against the record's realpath,
    flagged as an assumption when the record has no realpath or the rule path's facts are unknown.
    A final-component symlink never matches ``exe=``; a missing ``exe=`` file matches nothing."""

    def __init__(self, resolve: Resolver | None = None) -> None:
        self.resolve: Resolver = resolve or host_resolver
        self._facts: dict[str, PathFacts] = {}

    def facts(self, path: str) -> PathFacts:
        f = self._facts.get(path)
        if f is None:
            f = self._facts[path] = self.resolve(path)
        return f

    def same_exe(self, rule_path: str, ref: FileRef) -> tuple[bool, str | None]:
        """Is the program image ``ref`` the file an ``exe=rule_path`` mark holds?
        Returns (match, assumption text or None)."""
        f = self.facts(rule_path)
        if f.exists is False:
            return False, None
        if f.is_symlink:
            return False, None
        if f.dev is not None and f.ino is not None and ref.dev is not None and ref.ino is not None:
            return (f.dev, f.ino) == (ref.dev, ref.ino), None
        target = f.canonical or _norm(rule_path)
        why = None
        if f.assumed:
            why = f"{rule_path}: not resolvable here, compared as written"
        if ref.realpath is not None:
            return ref.realpath == target, why
        if ref.path is not None and ref.path.startswith("/"):
            return _norm(ref.path) == target, (f"exe {ref.path}: no inode or realpath known, "
                                               f"compared by path with {rule_path}")
        return False, f"exe path unknown: exe={rule_path} assumed not to match"


# ---- compiled rules --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One loaded rule as the simulator holds it.  ``index``: position in the items given to
    :func:`compile_rules`; ``via``: ``exit`` (exit list), ``watch`` (inode hash: path=/inode=),
    ``task``, ``exclude``; ``prio``: the kernel's priority (exit/watch rules)."""

    index: int
    item: Rule | Watch
    list: str
    action: str
    key: str | None
    via: str
    prio: int
    rule: Rule      #: the kernel rule (a Watch's path=/dir= form)

    @property
    def text(self) -> str:
        return self.item.text or ""


class _CR:
    """Internal compiled rule."""

    __slots__ = ("id", "info", "index", "action", "key", "prio", "via", "mask", "all", "fields",
                 "needs_names", "asm", "exe_cache", "exe_path", "tree", "watch", "inode_vals",
                 "fn_cache", "dead", "exe_identity", "wtarget", "tid")

    def __init__(self) -> None:
        self.fn_cache: dict = {}
        self.dead: str | None = None


@dataclass
class CompiledRules:
    """The result of :func:`compile_rules`; hand it to :func:`simulate` (read-only there)."""

    host: str
    identity: FileIdentity
    rules: tuple[RuleInfo, ...]
    notes: tuple[Assumption, ...]                    #: load-time facts and assumptions per rule
    _exit: list = field(repr=False, default_factory=list)      # _CR, prio desc
    _inode: list = field(repr=False, default_factory=list)     # _CR (path=/inode=), prio desc
    _task: list = field(repr=False, default_factory=list)
    _exclude: list = field(repr=False, default_factory=list)
    _fs_never: list = field(repr=False, default_factory=list)  # (op, value)
    _rows: dict = field(repr=False, default_factory=dict)
    _w_inode: dict = field(repr=False, default_factory=dict)   # (dev, ino) -> [(cr, asm)]
    _w_canon: dict = field(repr=False, default_factory=dict)   # canonical -> [(cr, asm, has_ino)]
    _i_index: dict = field(repr=False, default_factory=dict)   # ino & M32 -> [cr]
    _w_noino: dict = field(repr=False, default_factory=dict)   # the _w_canon entries without inode
    _trees: "_Trees" = field(repr=False, default=None)   # type: ignore[assignment]
    _task_fns: tuple = field(repr=False, default=())
    _excl_fns: tuple = field(repr=False, default=())

    def rule(self, index: int) -> RuleInfo | None:
        for r in self.rules:
            if r.index == index:
                return r
        return None

    @property
    def exit_rules(self) -> tuple[RuleInfo, ...]:
        """Exit-list rules and watches in evaluation (priority) order: what ``auditctl -l`` lists."""
        return tuple(sorted((r for r in self.rules if r.via in ("exit", "watch")),
                            key=lambda r: -r.prio))

    # -- dispatch ------------------------------------------------------------------------------
    def _row(self, arch: int) -> list:
        row = self._rows.get(arch)
        if row is None:
            row = self._rows[arch] = [None] * 2048
        return row

    def _entry(self, arch: int, nr: int):
        row = self._row(arch)
        e = row[nr]
        if e is None:
            e = row[nr] = _build_entry(self, arch, nr)
        return e


@lru_cache(maxsize=None)
def _syscall_name(arch: int, nr: int) -> tuple[str | None, str | None]:
    a = _ARCH_NAMES.get(arch)
    if a is None:
        return None, None
    try:
        return a, table(a).name(nr)
    except Exception:   # an arch without a table
        return a, None


@lru_cache(maxsize=None)
def _perm_kind(arch_name: str | None, sc: str | None, mask: int):
    """Static perm result for (arch, syscall): True/False, or the dynamic kind."""
    if arch_name is None or sc is None:
        return False
    try:
        special = classify(arch_name, sc)
    except Exception:
        return False
    if special in ("open", "openat", "openat2"):
        if not mask & 6:
            return False
        return "perm_" + special
    if special == "execve":
        return bool(mask & 1)
    if special == "socketcall":
        return "perm_bind" if mask & 2 else False
    for letter, cls in (("w", "write"), ("r", "read"), ("a", "chattr")):
        bit = {"r": 4, "w": 2, "a": 8}[letter]
        if mask & bit:
            try:
                if sc in kernel_class(arch_name, cls):
                    return True
            except Exception:
                pass
    return False


def _static(cr: _CR, arch: int, nr: int):
    """Per field: True (holds for every record of (arch, nr)), False (never), or a kind string."""
    arch_name, sc = _syscall_name(arch, nr)
    sig = []
    for t in cr.fields:
        if isinstance(t, Comparison):
            sig.append("dyn")
            continue
        n, op, v = t.name, t.op, t.value
        if n == "arch":
            sig.append(_cmp(arch, op, int(v)))
        elif n == "perm":
            k = _perm_kind(arch_name, sc, int(v))
            if op == "!=" and not isinstance(k, str):
                k = not k
            elif op == "!=":
                k = k + "!"
            sig.append(k)
        elif n in ("success", "exit"):
            sig.append(False if sc in _NO_RETURN else "dyn")
        elif n == "saddr_fam":
            sig.append("dyn" if (sc is None or sc in _SOCKADDR_SYSCALLS) else False)
        elif n == "key":
            sig.append(True)
        else:
            sig.append("dyn")
    return tuple(sig)


def _in_mask(cr: _CR, nr: int) -> bool:
    return 0 <= nr < 2032 and (cr.all or nr in cr.mask)


def _build_entry(c: CompiledRules, arch: int, nr: int):
    cands = []
    for cr in c._exit:
        if not _in_mask(cr, nr):
            continue
        sig = _static(cr, arch, nr)
        if False in sig:
            continue
        cands.append((cr, sig))
    if cands:
        g = _Gen(None, False, "break")
        g.trees = c._trees if c._trees.count else None   # type: ignore[attr-defined]
        chain = g.build_chain(cands, f"{arch:#x}:{nr}")
    else:
        chain = _no_chain
    wfns = {}
    for cr in c._inode:
        if not _in_mask(cr, nr):
            continue
        sig = _static(cr, arch, nr)
        if False in sig:
            continue
        wfns[cr.id] = _fn(cr, sig, True)
    return (chain, wfns)


def _no_chain(r, A):
    return None


_EMPTY_ENTRY = (_no_chain, {})


# ---- code generation -------------------------------------------------------------------------

_PYOP = {"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


def _num_expr(v: str, op: str, c: int) -> str:
    if op in _PYOP:
        return f"{v} {_PYOP[op]} {c}"
    if op == "&":
        return f"({v} & {c})"
    return f"({v} & {c}) == {c}"


def _uid_expr(v: str, op: str, c: int) -> str:
    if op in ("&", "&="):
        return "False"
    return _num_expr(v, op, c)


class _Gen:
    """Python source for rule bodies.  ``fail`` is what a false field does (``return False`` in a
    rule function, ``break`` inside a chain's ``while True:`` block); ``base`` the indent level."""

    def __init__(self, cr: _CR | None, named: bool, fail: str = "return False") -> None:
        self.cr = cr  # type: ignore[assignment]
        self.named = named
        self.fail = fail
        self.base = 1
        self.lines: list[str] = []
        self.ns: dict = {"_major": _major, "_minor": _minor, "M32": M32, "_acc": _ACC_MODE}
        self.k = 0

    def const(self, obj, prefix="c") -> str:
        self.k += 1
        name = f"_{prefix}{self.k}"
        self.ns[name] = obj
        return name

    def asm(self, fld: str, text: str) -> str:
        return self.const(Assumption(fld, text, self.cr.index), "a")

    def emit(self, s: str, ind: int = 1) -> None:
        if self.fail != "return False":
            s = s.replace("return False", self.fail)
        self.lines.append("    " * (ind + self.base - 1) + s)

    def unknown_fail(self, var: str, fld: str, what: str | None = None) -> None:
        a = self.asm(fld, what or f"{fld} unknown: assumed not to match")
        self.emit(f"if {var} is None:")
        self.emit(f"A.append({a}); return False", 2)

    # names loops: "any name" (or the specific name in the inode pass)
    def any_name(self, cond_fn, fld: str, attr: str | None, specific: bool) -> None:
        """cond_fn(x) -> python expr on name variable x; emits a check that some name holds."""
        if specific and self.named:
            self.emit("x = n")
            if attr:
                self.unknown_fail(f"x.{attr}", fld, f"{fld}: name {attr} unknown: assumed not to match")
            self.emit(f"if not ({cond_fn('x')}): return False")
            return
        an = self.asm("names", "PATH items unknown: assumed none")
        self.emit("ns = r.names")
        self.emit("if ns is None:")
        self.emit(f"A.append({an}); return False", 2)
        self.emit("for x in ns:")
        if attr:
            au = self.asm(fld, f"{fld}: a name's {attr} unknown: assumed not to match")
            self.emit(f"if x.{attr} is None:", 2)
            self.emit(f"A.append({au}); continue", 3)
        self.emit(f"if {cond_fn('x')}: break", 2)
        self.emit("else:")
        self.emit("return False", 2)

    def field(self, t, kind) -> None:
        cr = self.cr
        if kind is True:
            return
        if isinstance(t, Comparison):
            self.comparison(t)
            return
        n, op, c = t.name, t.op, t.value
        if n in ("pid", "ppid"):
            self.emit(f"v = r.{n}")
            self.unknown_fail("v", n)
            self.emit(f"if not ({_num_expr('(v & M32)', op, c)}): return False")
        elif n in ("uid", "euid", "suid", "fsuid", "sgid", "fsgid"):
            self.emit(f"v = r.{n}")
            self.unknown_fail("v", n)
            self.emit(f"if not ({_uid_expr('v', op, c)}): return False")
        elif n in ("gid", "egid"):
            self.emit(f"v = r.{n}")
            self.unknown_fail("v", n)
            if op in ("=", "!="):
                ag = self.asm("groups", "supplementary groups unknown: assumed none")
                if op == "=":
                    self.emit(f"if v != {c}:")
                    self.emit("g = r.groups", 2)
                    self.emit("if g is None:", 2)
                    self.emit(f"A.append({ag}); return False", 3)
                    self.emit(f"if {c} not in g: return False", 2)
                else:
                    self.emit(f"if v == {c}: return False")
                    self.emit("g = r.groups")
                    self.emit("if g is None:")
                    self.emit(f"A.append({ag})", 2)
                    self.emit(f"elif {c} in g: return False")
            else:
                self.emit(f"if not ({_uid_expr('v', op, c)}): return False")
        elif n in ("auid", "loginuid"):
            a = self.asm("auid", "auid unknown: assumed unset (4294967295)")
            self.emit("v = r.auid")
            self.emit("if v is None:")
            self.emit(f"A.append({a}); v = {UNSET}", 2)
            self.emit(f"if not ({_uid_expr('v', op, c)}): return False")
        elif n == "loginuid_set":
            a = self.asm("auid", "auid unknown: assumed unset (4294967295)")
            self.emit("v = r.auid")
            self.emit("if v is None:")
            self.emit(f"A.append({a}); v = {UNSET}", 2)
            self.emit("v = 0 if v == 4294967295 else 1")
            self.emit(f"if not ({_num_expr('v', op, c)}): return False")
        elif n == "sessionid":
            a = self.asm("sessionid", "sessionid unknown: assumed unset (4294967295)")
            self.emit("v = r.sessionid")
            self.emit("if v is None:")
            self.emit(f"A.append({a}); v = {UNSET}", 2)
            self.emit(f"if v == {SESSION_SET!r}:")
            dec = _set_session_cmp(op, int(c))
            if dec is None:
                an = self.asm("sessionid", _SET_SID_TEXT.format(f"sessionid{op}{c}"))
                self.emit(f"A.append({an}); return False", 2)
            else:
                self.emit("pass" if dec else "return False", 2)
            self.emit(f"elif not ({_num_expr('(v & M32)', op, c)}): return False")
        elif n == "pers":
            a = self.asm("pers", "personality unknown: assumed 0 (PER_LINUX)")
            self.emit("v = r.pers")
            self.emit("if v is None:")
            self.emit(f"A.append({a}); v = 0", 2)
            self.emit(f"if not ({_num_expr('(v & M32)', op, c)}): return False")
        elif n in ("a0", "a1", "a2", "a3"):
            self.emit(f"v = r.{n}")
            self.unknown_fail("v", n)
            self.emit(f"if not ({_num_expr('(v & M32)', op, c)}): return False")
        elif n == "exit":
            self.emit("v = r.exit")
            self.unknown_fail("v", "exit", "return value unknown: exit= assumed not to match")
            self.emit(f"if not ({_num_expr('(v & M32)', op, c)}): return False")
        elif n == "success":
            right = 1 if c else 2
            rs, rf = _cmp(1, op, right), _cmp(2, op, right)
            self.emit("s = r.success")
            self.unknown_fail("s", "success", "success unknown: success= assumed not to match")
            if rs and rf:
                pass
            elif rs:
                self.emit("if not s: return False")
            elif rf:
                self.emit("if s: return False")
            else:
                self.emit("return False")
        elif n == "saddr_fam":
            self.emit("v = r.saddr_fam")
            self.unknown_fail("v", "saddr_fam", "sockaddr unknown: saddr_fam= assumed not to match")
            self.emit(f"if v == {NO_SOCKADDR}: return False")
            self.emit(f"if not ({_num_expr('(v & M32)', op, c)}): return False")
        elif n == "perm":
            neg = kind.endswith("!")
            k = kind.rstrip("!")
            mask = int(c)
            if k == "perm_open" or k == "perm_openat":
                reg = "a1" if k == "perm_open" else "a2"
                self.emit(f"v = r.{reg}")
                self.unknown_fail("v", "perm", f"open flags ({reg}) unknown: perm= assumed not to match")
                expr = f"({mask} & _acc[v & 3])"
            elif k == "perm_openat2":
                self.emit("v = r.oflags")
                self.unknown_fail("v", "perm", "openat2 flags unknown: perm= assumed not to match")
                expr = f"({mask} & _acc[v & 3])"
            else:   # perm_bind: socketcall(SYS_BIND)
                self.emit("v = r.a0")
                self.unknown_fail("v", "perm", "socketcall call unknown: perm= assumed not to match")
                expr = "(v & M32) == 2"
            self.emit(f"if {'' if neg else 'not '}({expr}): return False")
        elif n == "exe":
            self.exe(op)
        elif n == "filetype":
            an = self.asm("names", "PATH items unknown: assumed none")
            am = self.asm("filetype", "a name's file type unknown: assumed not to match")
            self.emit("ns = r.names")
            self.emit("if ns is None:")
            self.emit(f"A.append({an}); return False", 2)
            self.emit("hit = False")
            self.emit("for x in ns:")
            self.emit("if x.exists is False: continue", 2)
            self.emit("if x.mode is None:", 2)
            self.emit(f"A.append({am}); continue", 3)
            self.emit(f"if (x.mode & {S_IFMT}) == {c}:", 2)
            self.emit("hit = True; break", 3)
            self.emit(f"if {'hit' if op == '!=' else 'not hit'}: return False")
        elif n in ("devmajor", "devminor"):
            f = "_major" if n == "devmajor" else "_minor"
            self.any_name(lambda x: f"({_num_expr(f'({f}({x}.dev) & M32)', op, c)}) or "
                                    f"({x}.rdev is not None and ({_num_expr(f'({f}({x}.rdev) & M32)', op, c)}))",
                          n, "dev", True)
        elif n == "inode":
            self.any_name(lambda x: _num_expr(f"({x}.ino & M32)", op, c), n, "ino", True)
        elif n == "obj_uid":
            self.any_name(lambda x: _uid_expr(f"{x}.ouid", op, c), n, "ouid", True)
        elif n == "obj_gid":
            self.any_name(lambda x: _uid_expr(f"{x}.ogid", op, c), n, "ogid", True)
        elif n == "dir":
            self.emit("ns = r.names")
            an = self.asm("names", "PATH items unknown: assumed none")
            self.emit("if ns is None:")
            self.emit(f"A.append({an}); return False", 2)
            trees = getattr(self, "trees", None)
            if trees is None or cr.tid is None:
                tm = self.const(_TreeMatch(cr, str(c)), "t")
                self.emit(f"if {'' if op == '!=' else 'not '}{tm}(ns, A): return False")
            else:
                self.ns["_trees"] = trees
                self.emit("if T is None: T = _trees(ns)")
                self.emit(f"h = T.get({cr.tid})")
                if op == "!=":
                    self.emit("if h is not None: return False")
                else:
                    self.emit("if h is None:")
                    self.emit("if -1 in T: A.extend(T[-1])", 2)
                    self.emit("return False", 2)
                    self.emit("if h is not True: A.append(h)")
        elif n == "path":
            if not self.named:
                self.emit("return False")   # never evaluated in the exit pass
            # inode pass: the index already matched this name's identity
        elif n == "key":
            return
        elif n in SUBJ_FIELDS or n in OBJ_FIELDS:
            self.emit("return False")
        else:   # msgtype, fstype... not valid on this list
            self.emit("return False")

    def exe(self, op: str) -> None:
        cr = self.cr
        ex = self.const(_ExeMatch(cr.index, str(cr.exe_path), cr.exe_identity), "x")  # type: ignore[attr-defined]
        au = self.asm("exe", "exe unknown: exe= assumed not to match")
        self.emit("e = r.exe")
        self.emit("if e is None:")
        self.emit(f"A.append({au}); return False", 2)
        self.emit(f"t = {ex}.cache.get(id(e))")
        self.emit("if t is None or t[0] is not e:")
        self.emit(f"t = {ex}(e)", 2)
        self.emit("if t[2] is not None: A.append(t[2])")
        self.emit(f"if {'' if op == '!=' else 'not '}t[1]: return False")

    def comparison(self, t: Comparison) -> None:
        left, op, right = t.left, t.op, t.right
        pyop = "==" if op == "=" else "!="
        objs = [s for s in (left, right) if s in ("obj_uid", "obj_gid")]
        task = [s for s in (left, right) if s not in ("obj_uid", "obj_gid")]
        for i, s in enumerate(task):
            attr = _TASK_ATTR[s]
            if attr == "auid":
                a = self.asm("auid", "auid unknown: assumed unset (4294967295)")
                self.emit(f"v{i} = r.auid")
                self.emit(f"if v{i} is None:")
                self.emit(f"A.append({a}); v{i} = {UNSET}", 2)
            else:
                self.emit(f"v{i} = r.{attr}")
                self.unknown_fail(f"v{i}", attr)
        if objs:
            attr = "ouid" if objs[0] == "obj_uid" else "ogid"
            an = self.asm("names", "PATH items unknown: assumed none")
            self.emit("ns = r.names")
            self.emit("if ns is None:")
            self.emit(f"A.append({an}); return False", 2)
            self.emit("for x in ns:")
            self.emit(f"if x.{attr} is not None and v0 {pyop} x.{attr}: break", 2)
            self.emit("else:")
            self.emit("return False", 2)
        else:
            self.emit(f"if not (v0 {pyop} v1): return False")

    def build(self, sig) -> Callable:
        for t, kind in zip(self.cr.fields, sig):
            self.field(t, kind)
        body = "\n".join(["    T = None"] + self.lines)
        args = "r, A, n" if self.named else "r, A"
        src = f"def _rule({args}):\n{body}\n    return True\n"
        exec(compile(src, f"<rule {self.cr.index}>", "exec"), self.ns)
        fn = self.ns["_rule"]
        fn.__source__ = src   # type: ignore[attr-defined]
        return fn

    def build_chain(self, cands, label: str) -> Callable:
        """One function running the exit pass for one (arch, nr): the candidate rules inline, in
        priority order; returns the first matching rule (an internal _CR) or None."""
        out = ["def _chain(r, A):", "    T = None"]
        if any(cr.needs_names for cr, _ in cands):
            out.append("    ns0 = r.names")
        trees = getattr(self, "trees", None)
        gated_prev = False
        for cr, sig in cands:
            self.cr = cr
            crn = self.const(cr, "cr")
            self.lines = []
            # rules whose first field to evaluate is dir=: consecutive ones share one gate that
            # skips them all when no name lies in any tree
            first = next((t for t, k in zip(cr.fields, sig) if k is not True), None)
            gated = (trees is not None and cr.tid is not None and isinstance(first, Field)
                     and first.name == "dir" and first.op == "=")
            if gated:
                if not gated_prev:
                    out.append("    if ns0 is None or (ns0 and (T := (T if T is not None "
                               "else _trees(ns0)))):")
                self.base = 3
                out.append("        while True:")
            elif cr.needs_names:
                out.append("    if ns0 != ():")
                self.base = 3
                out.append("        while True:")
            else:
                self.base = 2
                out.append("    while True:")
            gated_prev = gated
            for t, kind in zip(cr.fields, sig):
                self.field(t, kind)
            self.lines.append("    " * self.base + f"return {crn}")
            out.extend(self.lines)
        if trees is not None:
            self.ns["_trees"] = trees
        out.append("    return None")
        src = "\n".join(out) + "\n"
        exec(compile(src, f"<chain {label}>", "exec"), self.ns)
        fn = self.ns["_chain"]
        fn.__source__ = src   # type: ignore[attr-defined]
        return fn


def _fn(cr: _CR, sig, named: bool) -> Callable:
    key = (sig, named)
    fn = cr.fn_cache.get(key)
    if fn is None:
        fn = cr.fn_cache[key] = _Gen(cr, named).build(sig)
    return fn


class _ExeMatch:
    """Per-rule exe= cache: id(FileRef) -> (ref, match, assumption)."""

    __slots__ = ("index", "path", "identity", "cache")

    def __init__(self, index: int, path: str, identity: FileIdentity) -> None:
        self.index, self.path, self.identity = index, path, identity
        self.cache: dict = {}

    def __call__(self, ref: FileRef):
        m, why = self.identity.same_exe(self.path, ref)
        t = (ref, m, Assumption("exe", why, self.index) if why else None)
        self.cache[id(ref)] = t
        return t


class _TreeMatch:
    """dir=: does any collected name lie at or under the tree?"""

    __slots__ = ("index", "di", "real", "prefix", "assumed")

    def __init__(self, cr: _CR, path: str) -> None:
        self.index = cr.index
        t = cr.tree
        self.di = t[0]
        self.real = t[1]
        self.prefix = "/" if self.real == "/" else (self.real or "") + "/"
        self.assumed = t[2]

    def __call__(self, names, A) -> bool:
        di, real, prefix = self.di, self.real, self.prefix
        for x in names:
            if x.exists is False:
                continue
            if di is not None and x.ancestry is not None:
                if di in x.ancestry:
                    return True
                continue
            rp = x.realpath
            why = self.assumed
            if rp is None:
                if x.path is None or not x.path.startswith("/"):
                    A.append(Assumption("dir", "a name's location unknown: assumed outside dir=",
                                        self.index))
                    continue
                rp = _norm(x.path)
                why = why or "a name's realpath unknown: dir= compared with the path as written"
            if real is not None and (rp == real or rp.startswith(prefix)):
                if why:
                    A.append(Assumption("dir", why, self.index))
                return True
        return False


class _Trees:
    """Every dir= tree of a rule set; ``trees(names)`` answers, once per record, which trees the
    names lie in: {tree id: True (exact) or Assumption (by path)}; key -1: assumptions about names
    whose location is unknown."""

    def __init__(self) -> None:
        self.count = 0
        self.by_di: dict = {}
        self.real_all: dict = {}
        self.real_nodi: dict = {}
        self.asm: dict = {}
        self.rule_of: dict = {}

    def add(self, index: int, di, real: str, why: str | None) -> int:
        tid = self.count
        self.count += 1
        self.rule_of[tid] = index
        if why:
            self.asm[tid] = Assumption("dir", why, index)
        if di is not None:
            self.by_di.setdefault(di, []).append(tid)
        else:
            self.real_nodi.setdefault(real, []).append(tid)
        self.real_all.setdefault(real, []).append(tid)
        return tid

    def __call__(self, names) -> dict:
        T: dict = {}
        by_di = self.by_di
        for x in names:
            if x.exists is False:
                continue
            anc = x.ancestry
            if anc is not None:
                if by_di:
                    for a in anc:
                        ts = by_di.get(a)
                        if ts:
                            for t in ts:
                                T[t] = True
                real_map = self.real_nodi
            else:
                real_map = self.real_all
            if not real_map:
                continue
            rp = x.realpath
            by_path = False
            if rp is None:
                if x.path is None or not x.path.startswith("/"):
                    T.setdefault(-1, []).append(Assumption(
                        "dir", "a name's location unknown: assumed outside dir="))
                    continue
                rp = _norm(x.path)
                by_path = True
            p = rp
            while True:
                ts = real_map.get(p)
                if ts:
                    for t in ts:
                        if T.get(t) is True:
                            continue
                        a = self.asm.get(t)
                        if a is None and by_path:
                            a = Assumption("dir", "a name's realpath unknown: dir= compared with "
                                                  "the path as written", self.rule_of[t])
                        T[t] = a if a is not None else True
                if p == "/":
                    break
                p = p.rpartition("/")[0] or "/"
        return T


# ---- compile ---------------------------------------------------------------------------------

def _needs_names(fields) -> bool:
    for t in fields:
        if isinstance(t, Comparison):
            if "obj_uid" in (t.left, t.right) or "obj_gid" in (t.left, t.right):
                return True
            continue
        if t.name in ("devmajor", "devminor", "inode", "obj_uid", "obj_gid", "dir", "path"):
            return True
        if t.name == "filetype" and t.op == "=":
            return True
    return False


def _same_rule(a: Rule, b: Rule) -> bool:
    return (a.list, a.action, a.fields, a.syscalls, a.keys) == (b.list, b.action, b.fields,
                                                                  b.syscalls, b.keys)


def compile_rules(items: Iterable, *, host: str = "x86_64",
                  file_identity: FileIdentity | Resolver | None = None) -> CompiledRules:
    """Load ``items`` (a parse result's items: rules, watches, control lines, in file order) the way
    the kernel would, and compile them for :func:`simulate`.

    ``file_identity``: a :class:`FileIdentity`, or a resolver (path -> :class:`PathFacts`) to build
    one; default: this host's file system (right only for traces recorded here)."""
    if file_identity is None or not isinstance(file_identity, FileIdentity):
        ident = FileIdentity(file_identity)   # type: ignore[arg-type]
    else:
        ident = file_identity
    host = canonical_arch(host)
    live: list[tuple[int, Rule, Rule | Watch, str]] = []   # (index, kernel rule, item, op)
    notes: list[Assumption] = []
    for idx, it in enumerate(items):
        if isinstance(it, ControlLine):
            if it.option == "-D":
                if it.keys:
                    live = [x for x in live if not (set(x[1].keys) & set(it.keys))]
                else:
                    live = []
            elif it.option == "-e" and it.value == "0":
                notes.append(Assumption("-e", "-e 0 in the rules: auditing disabled at that point "
                                              "(ignored by the simulator)", idx))
            continue
        if isinstance(it, Watch):
            f = ident.facts(it.path)
            if f.is_dir is None:
                notes.append(Assumption("watch", f"-w {it.path}: directory or not unknown: "
                                                 "assumed a file (path=)", idx))
            rule = it.to_rule(bool(f.is_dir))
            op = "delete" if it.delete else "append"
        elif isinstance(it, Rule):
            rule, op = it, it.op
        else:
            continue
        if op == "delete":
            for j, x in enumerate(live):
                if _same_rule(x[1], rule):
                    del live[j]
                    break
            continue
        live.append((idx, rule, it, op))

    c = CompiledRules(host, ident, (), ())
    c._trees = _Trees()
    infos: list[RuleInfo] = []
    prio_low, prio_high = _PRIO_BASE, _PRIO_BASE - 1
    nid = 0
    for idx, rule, it, op in live:
        lst = rule.list
        if lst in ("user", "entry", "io_uring"):
            notes.append(Assumption("list", f"{lst} list: does not decide syscall events", idx))
            continue
        if lst == "filesystem":
            for f in rule.fields:
                if isinstance(f, Field) and f.name == "fstype" and rule.action == "never":
                    c._fs_never.append((f.op, int(f.value), idx))
            continue
        cr = _CR()
        cr.id = nid
        nid += 1
        cr.index = idx
        cr.action = rule.action
        cr.key = rule.key or None
        cr.fields = tuple(rule.fields)
        cr.asm = {}
        sc = rule.syscalls
        cr.all = sc is None or sc.all
        cr.mask = frozenset() if sc is None else sc.numbers
        cr.needs_names = _needs_names(cr.fields)
        cr.exe_path = None
        cr.tree = None
        cr.watch = None
        cr.inode_vals = ()
        cr.tid = None
        for t in cr.fields:
            if isinstance(t, Field) and (t.name in SUBJ_FIELDS or t.name in OBJ_FIELDS):
                cr.dead = f"{t.name}: no LSM is modelled, LSM fields never match (assumed no active LSM)"
            if isinstance(t, Field) and t.name == "exe":
                cr.exe_path = str(t.value)
                cr.exe_identity = ident   # type: ignore[attr-defined]
                f = ident.facts(cr.exe_path)
                if f.parent_exists is False:
                    cr.dead = (f"exe={t.value}: parent directory missing at load "
                               "(the kernel refuses the rule: ENOENT)")
                elif f.exists is False:
                    notes.append(Assumption("exe", f"exe={t.value}: missing at load, matches nothing "
                                                   "(the kernel starts matching once it is created)", idx))
                elif f.is_symlink:
                    notes.append(Assumption("exe", f"exe={t.value}: a symlink, never matches a "
                                                   "running program", idx))
            if isinstance(t, Field) and t.name == "dir":
                f = ident.facts(str(t.value))
                if f.exists is False:
                    cr.dead = f"dir={t.value}: does not exist at load (the kernel refuses the rule: ENOENT)"
                di = (f.real_dev, f.real_ino) if f.real_dev is not None and f.real_ino is not None else None
                real = f.real or _norm(str(t.value))
                cr.tree = (di, real.rstrip("/") or "/", (f"dir={t.value}: not resolvable here, "
                                                         "compared as written") if f.assumed else None)
                if not cr.dead:
                    cr.tid = c._trees.add(cr.index, *cr.tree)
            if isinstance(t, Field) and t.name == "path":
                cr.watch = str(t.value)
            if isinstance(t, Field) and t.name == "inode" and t.op == "=":
                cr.inode_vals = cr.inode_vals + (int(t.value),)
        if cr.dead:
            notes.append(Assumption("rule", cr.dead, idx))
        if lst == "exit":
            if op == "prepend":
                prio_high += 1
                cr.prio = prio_high
            else:
                prio_low -= 1
                cr.prio = prio_low
            cr.via = "watch" if (cr.watch is not None or cr.inode_vals) else "exit"
        else:
            cr.prio = 0
            cr.via = lst
        info = RuleInfo(idx, it, lst, rule.action, cr.key, cr.via, cr.prio, rule)
        cr.info = info
        infos.append(info)
        if cr.dead:
            continue
        if lst == "exit":
            if cr.via == "watch":
                if cr.watch is not None and not _index_watch(c, cr, ident, notes):
                    continue
                if cr.watch is None:
                    for v in cr.inode_vals[:1]:
                        c._i_index.setdefault(v & M32, []).append(cr)
                c._inode.append(cr)
            else:
                c._exit.append(cr)
        elif lst == "task":
            c._task.append(cr)
        elif lst == "exclude":
            c._exclude.append(cr)
    c._exit.sort(key=lambda r: -r.prio)
    c._inode.sort(key=lambda r: -r.prio)
    for k, v in c._w_canon.items():
        v2 = [x for x in v if not x[2]]
        if v2:
            c._w_noino[k] = v2
    for d in (c._w_inode, c._w_canon, c._i_index, c._w_noino):
        for v in d.values():
            v.sort(key=lambda x: -(x[0].prio if isinstance(x, tuple) else x.prio))
    c._task_fns = tuple((_TaskGen(cr).build(), cr) for cr in c._task)
    c._excl_fns = tuple(fn for fn in ((_ExclGen(cr).build(), cr) for cr in c._exclude) if fn[0] is not None)
    c.rules = tuple(infos)
    c.notes = tuple(notes)
    return c


def _index_watch(c: CompiledRules, cr: _CR, ident: FileIdentity, notes: list) -> bool:
    path = str(cr.watch)
    f = ident.facts(path)
    if f.parent_exists is False:
        notes.append(Assumption("path", f"path={path}: parent directory missing at load "
                                        "(the kernel refuses the rule: ENOENT)", cr.index))
        return False
    canon = f.canonical or _norm(path)
    if f.exists is False:
        asm = Assumption("path", f"path={path}: missing at load; matched by path once created",
                         cr.index)
        c._w_canon.setdefault(canon, []).append((cr, asm, False))
        cr.wtarget = (None, canon, asm)
        return True
    asm = Assumption("path", f"path={path}: not resolvable here, compared as written", cr.index) \
        if f.assumed else None
    cr.wtarget = ((f.dev, f.ino) if f.dev is not None and f.ino is not None else None, canon, asm)
    if f.dev is not None and f.ino is not None:
        c._w_inode.setdefault((f.dev, f.ino), []).append((cr, None))
        c._w_canon.setdefault(canon, []).append((cr, asm, True))
    else:
        c._w_canon.setdefault(canon, []).append((cr, asm, False))
    return True


class _TaskGen(_Gen):
    """Task-list rules at fork: only task fields; syscall/name fields are false, exe never matches
    (``tsk != current``), ``perm!=``/``filetype!=``/``exe!=`` hold."""

    def __init__(self, cr: _CR) -> None:
        super().__init__(cr, False)

    def build(self) -> Callable:   # type: ignore[override]
        sig = []
        for t in self.cr.fields:
            if isinstance(t, Comparison):
                sig.append(False if ("obj_uid" in (t.left, t.right) or "obj_gid" in (t.left, t.right))
                           else "dyn")
            elif t.name in ("pid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid",
                            "auid", "loginuid", "loginuid_set", "sessionid", "pers"):
                sig.append("dyn")
            elif t.name in ("perm", "filetype", "exe", "dir", "path") and t.op == "!=":
                sig.append(True)
            elif t.name == "key":
                sig.append(True)
            else:
                sig.append(False)
        if False in sig:
            return lambda r, A: False
        return super().build(tuple(sig))


class _ExclGen(_Gen):
    """Exclude-list rules on the SYSCALL record: pid, uid, gid (no supplementary groups), auid,
    loginuid_set, msgtype, exe; LSM fields never match."""

    def __init__(self, cr: _CR) -> None:
        super().__init__(cr, False)

    def build(self):   # type: ignore[override]
        sig = []
        for t in self.cr.fields:
            if isinstance(t, Comparison):
                sig.append(False)
            elif t.name == "msgtype":
                sig.append(_cmp(MSG_SYSCALL, t.op, int(t.value)))
            elif t.name in ("pid", "uid", "gid", "auid", "loginuid", "loginuid_set", "exe"):
                sig.append("excl" if t.name == "gid" else "dyn")
            elif t.name == "key":
                sig.append(True)
            else:
                sig.append(False)
        if False in sig or not self.cr.fields:
            return None
        return super().build(tuple(sig))

    def field(self, t, kind) -> None:
        if kind == "excl":   # plain gid
            self.emit("v = r.gid")
            self.unknown_fail("v", "gid")
            self.emit(f"if not ({_uid_expr('v', t.op, t.value)}): return False")
            return
        super().field(t, kind)


# ---- simulate --------------------------------------------------------------------------------

_TASK_UNKNOWN = Assumption("task", "fork-time credentials unknown: task rules evaluated with the "
                                   "syscall's credentials")


def _task_state(c: CompiledRules, view, A: list):
    """audit_filter_task: (state, cr) with state 'never'/'always'/None."""
    for fn, cr in c._task_fns:
        if fn(view, A):
            return cr.action, cr
    return None, None


def _fs_blind(c: CompiledRules, names):
    """Filesystem-list never rules: names on a matching fs get no inode information."""
    out = []
    changed = False
    for x in names:
        ft = x.fstype
        if ft is not None and any(_cmp(ft, op, v) for op, v, _ in c._fs_never):
            out.append(Name(x.path, nametype="UNKNOWN", exists=False))
            changed = True
        else:
            out.append(x)
    return tuple(out) if changed else names


def _name_hits(c: CompiledRules, x):
    """Inode-pass rules whose identity matches name x: [(cr, assumption|None)] by prio desc."""
    hits = []
    if x.exists is False:
        if c._i_index:
            hits.extend((cr, None) for cr in c._i_index.get(M32, ()))
        return hits
    dev, ino = x.dev, x.ino
    if dev is not None and ino is not None:
        if c._w_inode:
            h = c._w_inode.get((dev, ino))
            if h:
                hits.extend(h)
        if c._w_noino and x.realpath is not None:
            h = c._w_noino.get(x.realpath)
            if h:
                hits.extend((cr, asm) for cr, asm, has_ino in h)
    elif c._w_canon:
        key = x.realpath
        why = None
        if key is None and x.path is not None and x.path.startswith("/"):
            key = _norm(x.path)
            why = "a name's inode and realpath unknown: watch compared with the path as written"
        if key is not None:
            h = c._w_canon.get(key)
            if h:
                for cr, asm, _ in h:
                    hits.append((cr, asm or (Assumption("path", why, cr.index) if why else
                                             Assumption("path", "a name's inode unknown: watch "
                                                                "matched by realpath", cr.index))))
    if c._i_index and ino is not None:
        h = c._i_index.get(ino & M32)
        if h:
            hits.extend((cr, None) for cr in h)
    if len(hits) > 1:
        hits.sort(key=lambda h: -h[0].prio)
    return hits


def _names_unknown_asm(cr: _CR) -> Assumption:
    return Assumption("names", "PATH items unknown: assumed none", cr.index)


def _names_unknown(c: CompiledRules, wfns: dict, wp: int, A: list) -> None:
    """The inode pass with the record's names unknown: every path=/inode= rule that could have
    won (its mask holds the syscall, it outranks the exit-pass winner) is assumed not to match,
    and says so."""
    for cr in c._inode:
        if cr.prio <= wp:
            break
        if cr.id in wfns:
            A.append(_names_unknown_asm(cr))


def simulate(compiled: CompiledRules, records: Iterable[Record], *,
             all_records: bool = False) -> Iterator[Decision]:
    """Run ``records`` through the compiled filter; yield a :class:`Decision` for every record a
    rule decided (``always``/``never``), every forced record, and -- with action ``none`` -- every
    record no rule matched whose evaluation rested on assumptions (all of them with
    ``all_records``)."""
    c = compiled
    if c._task_fns or c._fs_never:
        yield from _simulate_general(c, records, all_records)
        return
    disp: dict = {}
    dget = disp.get
    excl = c._excl_fns
    has_inode = bool(c._inode)
    A: list = []
    idx = -1
    for r in records:
        idx += 1
        e = dget((r.arch, r.nr))
        if e is None:
            e = disp[(r.arch, r.nr)] = c._entry(r.arch, r.nr) if 0 <= r.nr < 2048 else _EMPTY_ENTRY
        win = e[0](r, A)
        via = "exit"
        if has_inode and e[1]:
            names = r.names
            if names is None:
                _names_unknown(c, e[1], win.prio if win is not None else 0, A)
            elif names:
                wp = win.prio if win is not None else 0
                wfns = e[1]
                for x in names:
                    hits = _name_hits(c, x)
                    if not hits:
                        continue
                    found = None
                    for cr, asm in hits:
                        if cr.prio <= wp:
                            break
                        fn = wfns.get(cr.id)
                        if fn is not None and fn(r, A, x):
                            if asm is not None:
                                A.append(asm)
                            found = cr
                            break
                    if found is not None:
                        win, via = found, "watch"
                        break
        if win is None:
            if r.forced:
                action, rule, key, via = "always", None, None, "forced"
            elif A or all_records:
                yield Decision(idx, None, "none", None, "exit", None, tuple(dict.fromkeys(A)))
                A.clear()
                continue
            else:
                continue
        else:
            action, rule, key = win.action, win.index, win.key
        excluded = None
        if action == "always" and excl:
            for fn, cr in excl:
                if fn(r, A):
                    excluded = cr.index
                    break
        yield Decision(idx, rule, action, key, via, excluded, tuple(dict.fromkeys(A)) if A else ())
        A.clear()


def _simulate_general(c: CompiledRules, records: Iterable[Record], all_records: bool
                      ) -> Iterator[Decision]:
    """simulate() with task-list or filesystem-list rules loaded."""
    excl = c._excl_fns
    task_fns = c._task_fns
    has_inode = bool(c._inode)
    fs_never = bool(c._fs_never)
    task_cache: dict = {}
    A: list = []
    for idx, r in enumerate(records):
        e = c._entry(r.arch, r.nr) if 0 <= r.nr < 2048 else _EMPTY_ENTRY
        win = None
        via = "exit"
        prio = 0
        if task_fns:
            tv = r.task
            t = task_cache.get(id(tv)) if tv is not None else None
            if t is None or t[0] is not tv:
                TA: list = []
                if tv is None:
                    TA.append(_TASK_UNKNOWN)
                st, tcr = _task_state(c, tv if tv is not None else r, TA)
                t = (tv, st, tcr, tuple(TA))
                if tv is not None:
                    task_cache[id(tv)] = t
            if t[3]:
                A.extend(t[3])
            if t[1] == "never":
                yield Decision(idx, t[2].index, "never", None, "task", None, tuple(dict.fromkeys(A)))
                A.clear()
                continue
            if t[1] == "always":
                win, via, prio = t[2], "task", _TASK_PRIO
        forced = r.forced
        if forced and prio == 0:
            prio = 1
        names = r.names
        if fs_never and names:
            names = _fs_blind(c, names)
            if names is not r.names:
                r = r.creds(names=names)
        if prio < _TASK_PRIO:
            win = e[0](r, A)
            if has_inode and names is None and e[1]:
                _names_unknown(c, e[1], win.prio if win is not None else prio, A)
            if has_inode and names and e[1]:
                wp = win.prio if win is not None else prio
                wfns = e[1]
                for x in names:
                    found = None
                    for cr, asm in _name_hits(c, x):
                        if cr.prio <= wp:
                            break
                        fn = wfns.get(cr.id)
                        if fn is not None and fn(r, A, x):
                            if asm is not None:
                                A.append(asm)
                            found = cr
                            break
                    if found is not None:
                        win, via = found, "watch"
                        break
        if win is None:
            if forced:
                action, rule, key, via = "always", None, None, "forced"
            elif A or all_records:
                yield Decision(idx, None, "none", None, "exit", None, tuple(dict.fromkeys(A)))
                A.clear()
                continue
            else:
                continue
        else:
            action, rule, key = win.action, win.index, win.key
        excluded = None
        if action == "always" and excl:
            for fn, cr in excl:
                if fn(r, A):
                    excluded = cr.index
                    break
        yield Decision(idx, rule, action, key, via, excluded, tuple(dict.fromkeys(A)) if A else ())
        A.clear()


# ---- the naive reference ---------------------------------------------------------------------

def _naive_field(c: CompiledRules, cr: _CR, t, r: Record, n, arch_name, sc, A, task=False) -> bool:
    """One field, interpreted (no precomputation): the reference semantics."""
    gen_asm = lambda fld, text: A.append(Assumption(fld, text, cr.index))   # noqa: E731
    if isinstance(t, Comparison):
        if task and ("obj_uid" in (t.left, t.right) or "obj_gid" in (t.left, t.right)):
            return False
        vals = []
        for s in (t.left, t.right):
            if s in ("obj_uid", "obj_gid"):
                continue
            attr = _TASK_ATTR[s]
            v = getattr(r, attr)
            if v is None:
                if attr == "auid":
                    gen_asm("auid", "auid unknown: assumed unset (4294967295)")
                    v = UNSET
                else:
                    gen_asm(attr, f"{attr} unknown: assumed not to match")
                    return False
            vals.append(v)
        eq = t.op == "="
        if len(vals) == 2:
            return (vals[0] == vals[1]) == eq
        attr = "ouid" if "obj_uid" in (t.left, t.right) else "ogid"
        if r.names is None:
            gen_asm("names", "PATH items unknown: assumed none")
            return False
        return any(getattr(x, attr) is not None and (vals[0] == getattr(x, attr)) == eq
                   for x in r.names)
    name, op, c32 = t.name, t.op, t.value
    if name == "key":
        return True
    if name in SUBJ_FIELDS or name in OBJ_FIELDS:
        return False
    if task:
        if name in ("perm", "filetype", "exe", "dir", "path") and op == "!=":
            return True
        if name not in ("pid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid",
                        "auid", "loginuid", "loginuid_set", "sessionid", "pers"):
            return False
    if name == "arch":
        return _cmp(r.arch, op, c32)
    if name in ("auid", "loginuid", "sessionid", "pers", "loginuid_set"):
        attr = "auid" if name in ("loginuid", "loginuid_set") else name
        v = getattr(r, attr)
        if v is None:
            if attr == "pers":
                gen_asm("pers", "personality unknown: assumed 0 (PER_LINUX)")
                v = 0
            else:
                gen_asm(attr, f"{attr} unknown: assumed unset (4294967295)")
                v = UNSET
        if name == "loginuid_set":
            return _cmp(0 if v == UNSET else 1, op, c32)
        if v == SESSION_SET:
            dec = _set_session_cmp(op, int(c32))
            if dec is None:
                gen_asm("sessionid", _SET_SID_TEXT.format(f"sessionid{op}{c32}"))
                return False
            return dec
        return (_uid_cmp if name in ("auid", "loginuid") else _cmp)(v, op, c32)
    if name in ("pid", "ppid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid",
                "a0", "a1", "a2", "a3"):
        v = getattr(r, name)
        if v is None:
            gen_asm(name, f"{name} unknown: assumed not to match")
            return False
        if name in ("gid", "egid"):
            res = _uid_cmp(v, op, c32)
            if op in ("=", "!=") and (v != c32):
                g = r.groups
                if g is None:
                    gen_asm("groups", "supplementary groups unknown: assumed none")
                    if op == "=":
                        return False
                    return res
                if op == "=":
                    return c32 in g
                return c32 not in g
            return res
        if name in _UIDLIKE:
            return _uid_cmp(v, op, c32)
        return _cmp(v, op, c32)
    if name in ("exit", "success"):
        if sc in _NO_RETURN:
            return False
        if name == "exit":
            if r.exit is None:
                gen_asm("exit", "return value unknown: exit= assumed not to match")
                return False
            return _cmp(r.exit, op, c32)
        if r.success is None:
            gen_asm("success", "success unknown: success= assumed not to match")
            return False
        return _cmp(1 if r.success else 2, op, 1 if c32 else 2)
    if name == "saddr_fam":
        if sc is not None and sc not in _SOCKADDR_SYSCALLS:
            return False
        if r.saddr_fam is None:
            gen_asm("saddr_fam", "sockaddr unknown: saddr_fam= assumed not to match")
            return False
        return r.saddr_fam != NO_SOCKADDR and _cmp(r.saddr_fam, op, c32)
    if name == "perm":
        k = _perm_kind(arch_name, sc, int(c32))
        if isinstance(k, str):
            if k == "perm_bind":
                if r.a0 is None:
                    gen_asm("perm", "socketcall call unknown: perm= assumed not to match")
                    return False
                res = (r.a0 & M32) == 2
            else:
                reg = {"perm_open": "a1", "perm_openat": "a2", "perm_openat2": "oflags"}[k]
                v = getattr(r, reg)
                if v is None:
                    gen_asm("perm", (f"open flags ({reg}) unknown: perm= assumed not to match"
                                     if reg != "oflags" else
                                     "openat2 flags unknown: perm= assumed not to match"))
                    return False
                res = bool(int(c32) & _ACC_MODE[v & 3])
        else:
            res = k
        return (not res) if op == "!=" else res
    if name == "exe":
        if r.exe is None:
            gen_asm("exe", "exe unknown: exe= assumed not to match")
            return False
        m, why = c.identity.same_exe(str(c32), r.exe)
        if why:
            A.append(Assumption("exe", why, cr.index))
        return (not m) if op == "!=" else m
    if name == "path":
        return n is not None   # identity established by the caller
    if r.names is None:
        gen_asm("names", "PATH items unknown: assumed none")
        return False
    if name == "filetype":
        hit = False
        for x in r.names:
            if x.exists is False:
                continue
            if x.mode is None:
                gen_asm("filetype", "a name's file type unknown: assumed not to match")
                continue
            if (x.mode & S_IFMT) == c32:
                hit = True
                break
        return (not hit) if op == "!=" else hit
    if name == "dir":
        res = _TreeMatch(cr, str(c32))(r.names, A)
        return (not res) if op == "!=" else res
    attr = {"devmajor": "dev", "devminor": "dev", "inode": "ino", "obj_uid": "ouid",
            "obj_gid": "ogid"}.get(name)
    if attr is None:
        return False
    pool = (n,) if n is not None else r.names
    for x in pool:
        v = getattr(x, attr)
        if v is None:
            gen_asm(name, (f"{name}: name {attr} unknown: assumed not to match" if n is not None
                           else f"{name}: a name's {attr} unknown: assumed not to match"))
            continue
        if name in ("devmajor", "devminor"):
            f = _major if name == "devmajor" else _minor
            if _cmp(f(x.dev), op, c32) or (x.rdev is not None and _cmp(f(x.rdev), op, c32)):
                return True
        elif name == "inode":
            if _cmp(v, op, c32):
                return True
        elif _uid_cmp(v, op, c32):
            return True
    return False


def _naive_identity(cr: _CR, x) -> tuple[bool, Assumption | None]:
    """Does name x carry the inode a path= watch or inode= rule holds?"""
    if cr.watch is None:
        if x.ino is None:
            return False, None
        return (x.ino & M32) == (cr.inode_vals[0] & M32), None
    if x.exists is False:
        return False, None
    di, canon, asm = cr.wtarget
    if x.dev is not None and x.ino is not None:
        if di is not None:
            return (x.dev, x.ino) == di, None
        return x.realpath is not None and x.realpath == canon, asm
    key = x.realpath
    if key is not None:
        return key == canon, asm or Assumption("path", "a name's inode unknown: watch matched by "
                                                       "realpath", cr.index)
    if x.path is not None and x.path.startswith("/"):
        return _norm(x.path) == canon, asm or Assumption(
            "path", "a name's inode and realpath unknown: watch compared with the path as written",
            cr.index)
    return False, None


def _naive_rule(c, cr, r, n, arch_name, sc, A) -> bool:
    if not _in_mask(cr, r.nr):
        return False
    # a rule one of whose fields cannot hold for this syscall at all (arch, perm class, exit on
    # exit_group...) does not match, and no unknown value of its other fields matters
    if False in _static(cr, r.arch, r.nr):
        return False
    # a rule that needs some name cannot match a syscall known to have none: no unknown value of
    # its other fields matters (the dispatched chain skips it the same way)
    if n is None and r.names == () and cr.needs_names:
        return False
    for t in cr.fields:
        if not _naive_field(c, cr, t, r, n, arch_name, sc, A):
            return False
    return True


def simulate_naive(compiled: CompiledRules, records: Iterable[Record], *,
                   all_records: bool = False) -> Iterator[Decision]:
    """The same decisions as :func:`simulate`, by trying every rule on every record with an
    interpreting evaluator (no dispatch, no code generation): the reference and the baseline."""
    c = compiled
    for idx, r in enumerate(records):
        A: list = []
        arch_name, sc = _syscall_name(r.arch, r.nr)
        win, via, prio = None, "exit", 0
        if c._task:
            view = r.task
            if view is None:
                A.append(_TASK_UNKNOWN)
                view = r
            for cr in c._task:
                if all(_naive_field(c, cr, t, view, None, arch_name, sc, A, task=True)
                       for t in cr.fields):
                    if cr.action == "never":
                        win = cr
                    else:
                        win, via, prio = cr, "task", _TASK_PRIO
                    break
            if win is not None and win.action == "never":
                yield Decision(idx, win.index, "never", None, "task", None, tuple(dict.fromkeys(A)))
                continue
        if r.forced and prio == 0:
            prio = 1
        names = r.names
        if c._fs_never and names:
            names = _fs_blind(c, names)
            if names is not r.names:
                r = r.creds(names=names)
        if prio < _TASK_PRIO:
            for cr in c._exit:
                if _naive_rule(c, cr, r, None, arch_name, sc, A):
                    win = cr
                    break
            if names is None and c._inode:
                wp = win.prio if win is not None else prio
                for cr in c._inode:
                    if cr.prio <= wp:
                        break
                    if _in_mask(cr, r.nr) and False not in _static(cr, r.arch, r.nr):
                        A.append(_names_unknown_asm(cr))
            if names and c._inode:
                wp = win.prio if win is not None else prio
                for x in names:
                    found = None
                    for cr in c._inode:
                        if cr.prio <= wp:
                            break
                        same, asm = _naive_identity(cr, x)
                        if not same:
                            continue
                        if _naive_rule(c, cr, r, x, arch_name, sc, A):
                            if asm is not None:
                                A.append(asm)
                            found = cr
                            break
                    if found is not None:
                        win, via = found, "watch"
                        break
        if win is None:
            if r.forced:
                action, rule, key, via = "always", None, None, "forced"
            elif A or all_records:
                yield Decision(idx, None, "none", None, "exit", None, tuple(dict.fromkeys(A)))
                continue
            else:
                continue
        else:
            action, rule, key = win.action, win.index, win.key
        excluded = None
        if action == "always":
            for cr in c._exclude:
                ok = bool(cr.fields)
                for t in cr.fields:
                    if isinstance(t, Comparison):
                        ok = False
                    elif t.name == "msgtype":
                        ok = _cmp(MSG_SYSCALL, t.op, int(t.value))
                    elif t.name == "gid":
                        if r.gid is None:
                            A.append(Assumption("gid", "gid unknown: assumed not to match", cr.index))
                            ok = False
                        else:
                            ok = _uid_cmp(r.gid, t.op, int(t.value))
                    elif t.name in ("pid", "uid", "auid", "loginuid", "loginuid_set", "exe", "key"):
                        ok = _naive_field(c, cr, t, r, None, arch_name, sc, A)
                    else:
                        ok = False
                    if not ok:
                        break
                if ok:
                    excluded = cr.index
                    break
        yield Decision(idx, rule, action, key, via, excluded, tuple(dict.fromkeys(A)))


# ---- aggregation -----------------------------------------------------------------------------

@dataclass
class RuleHits:
    """What one rule decided over a run."""

    rule: RuleInfo
    hits: int = 0              #: records it won
    logged: int = 0            #: of those, SYSCALL records reaching the log (always, not excluded)
    processes: set = field(default_factory=set)   #: pids (tgids) of those records
    first: int | None = None   #: index of the first record it won
    assumed: int = 0           #: decisions that rested on assumptions


def summarize(compiled: CompiledRules, records: Sequence[Record],
              decisions: Iterable[Decision] | None = None) -> dict[int, RuleHits]:
    """Per rule (item index): hits, logged events, processes.  Runs :func:`simulate` unless
    ``decisions`` are given.  Every loaded rule appears, with zero hits if it decided nothing."""
    out = {info.index: RuleHits(info) for info in compiled.rules}
    if decisions is None:
        decisions = simulate(compiled, records)
    for d in decisions:
        if d.rule is None:
            continue
        h = out[d.rule]
        h.hits += 1
        if d.logged:
            h.logged += 1
        if h.first is None:
            h.first = d.index
        if d.assumptions:
            h.assumed += 1
        pid = records[d.index].pid
        if pid is not None:
            h.processes.add(pid)
    return out
