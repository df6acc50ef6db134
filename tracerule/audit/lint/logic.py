"""Does an earlier rule match every event a later one matches?  (first match wins, section 1.5)

:func:`covers` is conservative: True only when it can prove it from the two rules' own terms;
unknown relations (bit masks, supplementary-group gids, LSM labels) count as "not implied".
"""
from __future__ import annotations

import os

from tracerule.audit.rules.model import UNSET, Comparison, Field, Rule

U32 = 0xFFFFFFFF
#: numeric fields the kernel compares as one unsigned 32-bit value (gid/egid test supplementary
#: groups too, and the any-name fields test every collected name: those are identity only)
ORDERED = frozenset({"uid", "euid", "suid", "fsuid", "auid", "sgid", "fsgid", "pid", "ppid", "pers",
                     "exit", "success", "a0", "a1", "a2", "a3", "sessionid", "arch", "saddr_fam"})
NUMERIC = ORDERED | frozenset({"gid", "egid", "devmajor", "devminor", "inode", "obj_uid", "obj_gid"})


def holds(op: str, x: int, v: int) -> bool:
    """The kernel's audit_comparator on u32 values."""
    x &= U32
    v &= U32
    if op == "=":
        return x == v
    if op == "!=":
        return x != v
    if op == "<":
        return x < v
    if op == "<=":
        return x <= v
    if op == ">":
        return x > v
    if op == ">=":
        return x >= v
    if op == "&":
        return bool(x & v)
    if op == "&=":
        return (x & v) == v
    return False


class Interval:
    """The values one field may take under a rule's ordered terms: [lo, hi] minus ``excl``."""

    __slots__ = ("lo", "hi", "excl")

    def __init__(self) -> None:
        self.lo, self.hi, self.excl = 0, U32, set()

    def add(self, op: str, v: int) -> None:
        v &= U32
        if op == "=":
            self.lo, self.hi = max(self.lo, v), min(self.hi, v)
        elif op == "!=":
            self.excl.add(v)
        elif op == "<":
            self.hi = min(self.hi, v - 1)
        elif op == "<=":
            self.hi = min(self.hi, v)
        elif op == ">":
            self.lo = max(self.lo, v + 1)
        elif op == ">=":
            self.lo = max(self.lo, v)

    def min(self) -> int | None:
        x = self.lo
        while x <= self.hi and x in self.excl:
            x += 1
        return x if x <= self.hi else None

    def max(self) -> int | None:
        x = self.hi
        while x >= self.lo and x in self.excl:
            x -= 1
        return x if x >= self.lo else None

    def implies(self, op: str, v: int) -> bool:
        lo, hi = self.min(), self.max()
        if lo is None:
            return True            # nothing satisfies: vacuous (callers skip unsatisfiable rules)
        v &= U32
        if op == "=":
            return lo == hi == v
        if op == "!=":
            return not (lo <= v <= hi) or v in self.excl
        if op == "<":
            return hi < v
        if op == "<=":
            return hi <= v
        if op == ">":
            return lo > v
        if op == ">=":
            return lo >= v
        return False


def intervals(rule: Rule) -> dict[str, Interval]:
    out: dict[str, Interval] = {}
    for t in rule.fields:
        if isinstance(t, Field) and t.name in ORDERED and t.op in ("=", "!=", "<", "<=", ">", ">="):
            out.setdefault(t.name, Interval()).add(t.op, int(t.value))
    return out


def satisfiable(rule: Rule) -> bool:
    for iv in intervals(rule).values():
        if iv.min() is None:
            return False
    for t in rule.fields:
        if isinstance(t, Field) and t.op in ("<", ">", "&") and t.name in NUMERIC:
            if (t.op == "<" and int(t.value) == 0) or (t.op == ">" and int(t.value) == U32) or \
                    (t.op == "&" and int(t.value) == 0):
                return False
    return True


def canon_path(p: str, host_checks: bool) -> str:
    """The path as the kernel resolves it: intermediate symlinks followed, the final one not."""
    if not host_checks:
        return p.rstrip("/") or "/"
    p = p.rstrip("/") or "/"
    parent, base = os.path.split(p)
    try:
        return os.path.join(os.path.realpath(parent), base) if base else os.path.realpath(p)
    except OSError:
        return p


class Prepared:
    """A rule with what :func:`covers` needs precomputed."""

    __slots__ = ("rule", "all", "numbers", "ivs", "ident", "perm", "strings", "dirs", "comparisons",
                 "sat", "terms")

    def __init__(self, rule: Rule, host_checks: bool) -> None:
        self.rule = rule
        sc = rule.syscalls
        self.all = sc is None or sc.all
        self.numbers = frozenset() if sc is None else sc.numbers
        self.ivs = intervals(rule)
        self.ident: set = set()
        self.perm: int | None = None
        self.strings: dict[str, set[str]] = {}
        self.dirs: list[str] = []
        self.comparisons = frozenset(t for t in rule.fields if isinstance(t, Comparison))
        self.terms: list = []
        for t in rule.fields:
            if not isinstance(t, Field):
                self.terms.append((t, None))
                continue
            if t.name == "perm":
                self.perm = int(t.value) if self.perm is None else self.perm & int(t.value)
            elif t.name in ("path", "exe", "dir") and t.op == "=":
                c = canon_path(str(t.value), host_checks)
                self.strings.setdefault(t.name, set()).add(c)
                if t.name in ("path", "dir"):
                    self.dirs.append(c)
            canon = canon_path(str(t.value), host_checks) if t.name in ("path", "exe", "dir") else None
            self.ident.add((t.name, t.op, canon if canon is not None else t.value))
            self.terms.append((t, canon))
        self.sat = satisfiable(rule)


def _term_implied(t, canon: str | None, later: Prepared) -> bool:
    if isinstance(t, Comparison):
        return t in later.comparisons
    name, op = t.name, t.op
    if name in ORDERED and op in ("=", "!=", "<", "<=", ">", ">="):
        iv = later.ivs.get(name)
        if iv is None:
            return False
        return iv.implies(op, int(t.value))
    if name == "perm":
        return later.perm is not None and (later.perm & ~int(t.value)) == 0
    if name == "dir" and op == "=" and canon is not None:
        d = canon.rstrip("/") or "/"
        return any(p == d or p.startswith(d + "/") or d == "/" for p in later.dirs)
    if name in ("path", "exe") and op == "=" and canon is not None:
        return canon in later.strings.get(name, ())
    return (name, op, canon if canon is not None else t.value) in later.ident


def covers(earlier: Prepared, later: Prepared) -> bool:
    """Every syscall event ``later`` matches, ``earlier`` matches too (same list assumed)."""
    if not earlier.all:
        if later.all or not later.numbers <= earlier.numbers:
            return False
    for t, canon in earlier.terms:
        if not _term_implied(t, canon, later):
            return False
    return True


def prepare(rule: Rule, host_checks: bool) -> Prepared:
    return Prepared(rule, host_checks)


def unset_passes(rule: Rule) -> bool:
    """True when auid=unset (4294967295) satisfies every auid term of the rule."""
    ts = [t for t in rule.fields if isinstance(t, Field) and t.name == "auid"]
    return bool(ts) and all(holds(t.op, UNSET, int(t.value)) for t in ts)
