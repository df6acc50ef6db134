"""The lint checks, in report order.  Each is a small function registered with a stable ID.

Severity: high = the rule (or the file from there on) does not load, or a rule can never do what it
says; medium = a bypass, a rule that never decides, or a rule evaluated on every syscall;
low = cost or tidiness; info = worth knowing, nothing to change.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Iterator

from tracerule.audit.lint import argspec
from tracerule.audit.lint.core import Context, Entry, check, identity
from tracerule.audit.lint.logic import (NUMERIC, U32, covers, intervals, prepare,
                                        unset_passes)
from tracerule.audit.rules import fields as F
from tracerule.audit.rules.model import UNSET, ControlLine, Field, Rule, SyscallSet, Watch
from tracerule.audit.tables import COMPAT, AUDIT_ARCH, table, canonical_arch
from tracerule.errors import Severity

ARG_FIELDS = ("a0", "a1", "a2", "a3")


# -- helpers ------------------------------------------------------------------------------------

def _tarch(arch: str) -> str:
    a = canonical_arch(arch)
    return {"ppc64": "ppc64le", "ppc": "ppc64le", "s390": "s390x"}.get(a, a)


def _table(arch: str):
    try:
        return table(_tarch(arch))
    except Exception:
        return None


def _live(ctx: Context) -> Iterator[Entry]:
    """Rules and watches that add something (not -d/-W), in source order."""
    for e in ctx.entries:
        if (isinstance(e.item, Watch) and e.item.delete) or (isinstance(e.item, Rule) and e.item.op == "delete"):
            continue
        yield e


def _exit_loaded(ctx: Context) -> list[Entry]:
    return [e for e in ctx.loaded if e.rule.list == "exit"]


def _names(rule: Rule) -> list[str]:
    sc = rule.syscalls
    if sc is None or sc.all:
        return []
    t = _table(sc.arch)
    if t is None:
        return [str(n) for n in sorted(sc.numbers)]
    return [t.name(n) or str(n) for n in sorted(sc.numbers)]


def _machine(rule: Rule, host: str) -> str:
    return rule.arch or _tarch(host)


def _non_arch(rule: Rule) -> frozenset:
    return frozenset(t for t in rule.fields if not (isinstance(t, Field) and t.name == "arch"))


def _has_arch_eq(rule: Rule) -> bool:
    return any(f.op == "=" for f in rule.arch_fields)


def _arg_fields(rule: Rule) -> list[Field]:
    return [t for t in rule.fields if isinstance(t, Field) and t.name in ARG_FIELDS]


def _where(e: Entry) -> str:
    return f"{os.path.basename(e.file) or '<input>'}:{e.line}"


def _syscall_words(names: list[str], arch: str, version: str) -> str:
    t = _table(arch)
    out = []
    for n in names:
        if t is not None and n in t and version.startswith("3.") and not t.auditctl_knows(n):
            out.append(str(t.nr(n)))
        else:
            out.append(n)
    return ",".join(out)


def _named(names: list[str], arch: str, version: str) -> str:
    """``execveat`` or ``452 (fchmodat2)`` where the installed auditctl needs the number."""
    t = _table(arch)
    out = []
    for n in names:
        if t is not None and n in t and version.startswith("3.") and not t.auditctl_knows(n):
            out.append(f"{t.nr(n)} ({n})")
        else:
            out.append(n)
    return ", ".join(out)


def _source(rule: Rule, ctx: Context) -> str:
    from tracerule.audit.rules.emit import source_lines

    try:
        return source_lines(rule, version=ctx.version, host=_tarch(ctx.host))[-1]
    except Exception:
        return "(a rule like it)"


def _compat(ctx: Context) -> str | None:
    c = COMPAT.get(_tarch(ctx.host))
    return c if c and _table(c) is not None else None


def _catch_all(rule: Rule, machine: str) -> bool:
    """``-a always,exit -F arch=<machine> -S all`` with no other condition."""
    return (rule.action == "always" and rule.list == "exit" and rule.syscalls is not None
            and rule.syscalls.all and rule.arch == machine and not _non_arch(rule)
            and all(f.op == "=" for f in rule.arch_fields))


# -- 0xx: what auditctl refuses ----------------------------------------------------------------

@check("TR001", "high", "auditctl or the kernel refuses the line")
def refused(ctx: Context):
    for d in ctx.diagnostics:
        if d.code in ("R001", "R002", "R005", "R999") and d.severity is Severity.ERROR:
            m = d.message
            if m.startswith(("Syscall name unknown", "Unknown user", "Unknown group", "key option exceeds")):
                continue
            yield ctx.finding("TR001", (d.file, d.line),
                              f"auditctl refuses this line ({m}); auditctl -R stops loading the file "
                              "here unless -i or -c is in effect",
                              _refusal_fix(m))


def _refusal_fix(m: str) -> str:
    if "parameter passed without an option" in m:
        return "remove the stray word (a key is written -k KEY or -F key=KEY, comments need their own line)"
    if "unknown field" in m:
        return "use a field auditctl knows (see auditctl(8) -F), or remove it"
    if "No such file" in m:
        return "create the parent directory first, or remove the rule on hosts without it"
    if "Invalid argument" in m:
        return "correct the field (the kernel rejects it)"
    return "correct the line as the message says, or remove it"


@check("TR002", "low", "auditctl warns about the line")
def warned(ctx: Context):
    for d in ctx.diagnostics:
        if d.severity is not Severity.ERROR and d.code not in ("R101",):
            yield ctx.finding("TR002", (d.file, d.line), f"auditctl warns: {d.message}",
                              "write the path without '..' (auditctl takes it literally)"
                              if "relative" in d.message else "change the line so auditctl does not warn")


# -- 1xx: arch and syscalls ----------------------------------------------------------------------

@check("TR101", "medium", "syscall rule without arch")
def no_arch(ctx: Context):
    compat = _compat(ctx)
    if compat is None:
        return
    ct = _table(compat)
    for e in _live(ctx):
        r = e.rule
        if r.list != "exit" or r.syscalls is None or r.syscalls.all or _has_arch_eq(r):
            continue
        names = _names(r)
        clash = []
        for nr in sorted(r.syscalls.numbers):
            other = ct.name(nr) if ct else None
            if other is not None and other not in names:
                clash.append(f"{compat} #{nr} is {other}")
        detail = f" ({'; '.join(clash[:3])}{'; ...' if len(clash) > 3 else ''})" if clash else ""
        yield ctx.finding("TR101", e,
                          f"-S {','.join(names)} without -F arch=: the mask is by number only, so it also "
                          f"matches {compat} syscalls with the same numbers{detail} and misses the "
                          f"{compat} {','.join(names[:3])}",
                          "put -F arch=b64 before -S, and add the same rule with -F arch=b32 and the "
                          f"{compat} names")


@check("TR102", "medium", "b64 rule without its b32 twin or a b32 catch-all")
def no_twin(ctx: Context):
    if _tarch(ctx.host) != "x86_64":
        return
    native, compat = "x86_64", "i386"
    it = _table(compat)
    loaded = _exit_loaded(ctx)
    b32 = [x for x in loaded if x.rule.arch == compat and all(f.op == "=" for f in x.rule.arch_fields)]
    catch_alls = [x for x in b32 if x.rule.action == "always" and x.rule.syscalls is not None
                  and x.rule.syscalls.all]
    for e in loaded:
        r = e.rule
        if r.action != "always" or r.arch != native or r.syscalls is None:
            continue
        mine = _non_arch(r)
        if any(_non_arch(c.rule) <= mine for c in catch_alls):
            continue
        twins = [x for x in b32 if x.rule.action == r.action and _non_arch(x.rule) == mine]
        if not twins and _arg_fields(r):
            # argument filters may legitimately differ on the twin (socketcall has its own layout)
            loose = _non_args(mine)
            twins = [x for x in b32 if x.rule.action == r.action and _non_args(_non_arch(x.rule)) == loose]
        if r.syscalls.all:
            if any(x.rule.syscalls.all for x in twins):
                continue
            missing_i386 = ["all"]
        else:
            have: set[str] = set()
            for x in twins:
                have.update(_names(x.rule))
            missing_i386 = []
            for n in _names(r):
                eq = _i386_equivalents(n, it)
                if eq and not (eq & have):
                    missing_i386.extend(sorted(eq))
            if not missing_i386:
                continue
        missing_i386 = list(dict.fromkeys(missing_i386))
        note = ""
        if _arg_fields(r) and "socketcall" in missing_i386:
            missing_i386.remove("socketcall")
            note = " (and -S socketcall in its own rule: its a0 is the call number)"
            if not missing_i386:
                continue          # the direct calls are there: TR155 speaks for socketcall
        if missing_i386 == ["all"]:
            twin = replace(r, fields=tuple(_b32(t) for t in r.fields), syscalls=SyscallSet(compat, all=True))
        else:
            nums = frozenset(it.nr(n) for n in missing_i386 if it.nr(n) is not None)
            twin = replace(r, fields=tuple(_b32(t) for t in r.fields), syscalls=SyscallSet(compat, nums))
        what = ("no b32 twin" if not twins else
                f"its b32 twin ({', '.join(_where(x) for x in twins[:3])}) lacks {', '.join(missing_i386)}")
        yield ctx.finding("TR102", e,
                          f"arch=b64 rule with {what}, and no b32 catch-all: 32-bit syscalls (int 0x80, "
                          "32-bit binaries) bypass it",
                          f"add: {_source(twin, ctx)}{note}")


def _non_args(fs: frozenset) -> frozenset:
    return frozenset(t for t in fs if not (isinstance(t, Field) and t.name in ARG_FIELDS))


def _b32(t):
    if isinstance(t, Field) and t.name == "arch" and t.op == "=":
        return Field("arch", "=", AUDIT_ARCH["i386"], "b32")
    return t


def _i386_equivalents(n: str, it) -> set[str]:
    out = set()
    if it is None:
        return out
    for cand in (n, n + "32", *argspec.I386_TWINS.get(n, ())):
        if cand in it:
            out.add(cand)
    if n in argspec.SOCKETCALL and "socketcall" in it:
        out.add("socketcall")
    return out


@check("TR103", "medium", "b32 catch-all shadows later b32 rules")
def catch_all_first(ctx: Context):
    compat = _compat(ctx)
    if compat is None:
        return
    loaded = _exit_loaded(ctx)
    for i, e in enumerate(loaded):
        if not _catch_all(e.rule, compat):
            continue
        later = [x for x in loaded[i + 1:] if x.rule.arch == compat]
        if later:
            yield ctx.finding("TR103", e,
                              f"b32 catch-all (-S all) decides every 32-bit syscall first: the {len(later)} "
                              f"b32 rule(s) after it never decide (first: {_where(later[0])}); "
                              "their keys never appear",
                              "move the b32 catch-all to the end of the rules (a late rules.d file, "
                              "e.g. 98-catch-all.rules)")


@check("TR104", "high", "syscall unknown on the target arch")
def unknown_on_arch(ctx: Context):
    for (file, line), how in ctx.recovered.items():
        for kind, name, arch, nr in how:
            if kind == "arch":
                yield ctx.finding("TR104", (file, line),
                                  f"{name} is not a syscall on {arch}: auditctl refuses the line "
                                  "(\"Syscall name unknown\") and stops loading the file",
                                  f"remove {name} from -S for {arch} (another arch may need another name)")


@check("TR105", "high", "syscall name unknown to the installed auditctl")
def unknown_to_auditctl(ctx: Context):
    for (file, line), how in ctx.recovered.items():
        for kind, name, arch, nr in how:
            if kind == "auditctl" and ctx.version.startswith("3."):
                yield ctx.finding("TR105", (file, line),
                                  f"auditctl {ctx.version} does not know the name {name} ({arch} #{nr}): it "
                                  "refuses the line (\"Syscall name unknown\") and stops loading the file",
                                  f"give it by number: -S {nr} (a comment can name it)")


# -- 11x: order, duplicates, merging -------------------------------------------------------------

@check("TR110", "medium", "rule never decides: an earlier rule always wins first")
def shadowed(ctx: Context):
    yield from _shadow(ctx, redundant=False)


@check("TR111", "high", "exact duplicate")
def duplicate(ctx: Context):
    seen: dict[tuple, Entry] = {}
    eidx = {id(e.item): e for e in ctx.entries}
    for it in ctx.items:
        if isinstance(it, ControlLine):
            if it.option == "-D":
                seen = {k: v for k, v in seen.items() if it.keys and v.rule.keys != it.keys}
            continue
        e = eidx[id(it)]
        r = e.rule
        if (isinstance(it, Watch) and it.delete) or (isinstance(it, Rule) and it.op == "delete"):
            seen.pop(identity(replace(r, op="append")), None)
            continue
        k = identity(r)
        first = seen.get(k)
        if first is not None:
            yield ctx.finding("TR111", e,
                              f"same rule as {first.file}:{first.line}: the kernel answers \"Rule exists\", "
                              "an error that stops auditctl -R unless -i or -c is in effect",
                              "delete this line")
        else:
            seen[k] = e


@check("TR112", "low", "redundant: an earlier rule decides the same way first")
def redundant(ctx: Context):
    yield from _shadow(ctx, redundant=True)


def _shadow_pairs(ctx: Context):
    cache = ctx.__dict__.setdefault("_shadow_cache", None)
    if cache is not None:
        return cache
    compat = _compat(ctx)
    loaded = _exit_loaded(ctx)
    preps = [prepare(e.rule, ctx.host_checks) for e in loaded]
    pairs: list[tuple[Entry, Entry]] = []
    for j, later in enumerate(preps):
        if not later.sat:
            continue
        for i in range(j):
            earlier = preps[i]
            if compat and _catch_all(earlier.rule, compat):
                continue          # TR103
            if covers(earlier, later):
                pairs.append((loaded[i], loaded[j]))
                break
    ctx.__dict__["_shadow_cache"] = pairs
    return pairs


def _shadow(ctx: Context, *, redundant: bool):
    for first, e in _shadow_pairs(ctx):
        E, L = first.rule, e.rule
        same = E.action == L.action and (E.action == "never" or E.keys == L.keys)
        if same != redundant:
            continue
        where = f"{first.file}:{first.line}"
        if same:
            msg = f"{where} already decides every event this rule matches, the same way"
            if _same_file_differently(E, L):
                msg += " (the same file on this host: a directory in the path is a symlink)"
            yield ctx.finding("TR112", e, msg, "delete this rule")
            continue
        if E.action == "never" and L.action == "always":
            msg = f"the never rule at {where} matches every event this rule matches and decides first: " \
                  "this rule never records"
            fix = f"move this rule above {where}, or narrow the never rule"
        elif E.action == "always" and L.action == "never":
            msg = f"the always rule at {where} records every event this never rule matches first: " \
                  "it excludes nothing"
            fix = f"move this never rule above {where} (exclusions first: first match wins)"
        else:
            k1 = ",".join(E.keys) or "(none)"
            k2 = ",".join(L.keys) or "(none)"
            msg = f"the rule at {where} records every event this rule matches first, with key {k1}: " \
                  f"key {k2} never appears"
            fix = f"move this narrower rule above {where}, or delete it"
        yield ctx.finding("TR110", e, msg, fix)


def _same_file_differently(a: Rule, b: Rule) -> bool:
    pa = [str(t.value) for t in a.fields if isinstance(t, Field) and t.name in ("path", "exe", "dir")]
    pb = [str(t.value) for t in b.fields if isinstance(t, Field) and t.name in ("path", "exe", "dir")]
    return bool(pa) and pa != pb


@check("TR113", "low", "rules that could merge into one -S list")
def mergeable(ctx: Context):
    loaded = _exit_loaded(ctx)
    heads: dict[tuple, tuple[int, set[str]]] = {}
    for j, e in enumerate(loaded):
        r = e.rule
        if r.syscalls is None or r.syscalls.all or not r.syscalls.numbers:
            continue
        sig = (r.action, frozenset(r.fields), r.keys, r.syscalls.arch)
        head = heads.get(sig)
        if head is not None:
            i, acc = head
            if not any(_may_overlap(loaded[k].rule, r) for k in range(i + 1, j)):
                acc.update(_names(r))
                t = _table(r.syscalls.arch)
                names = sorted(acc, key=lambda n: (t.nr(n) if t is not None and t.nr(n) is not None else 9999, n))
                yield ctx.finding("TR113", e,
                                  f"same action, fields and key as {loaded[i].file}:{loaded[i].line}: "
                                  "each exit rule costs ~5 ns on every syscall",
                                  f"merge into one rule: -S {_syscall_words(names, r.syscalls.arch, ctx.version)}")
                continue
        heads[sig] = (j, set(_names(r)))


def _may_overlap(c: Rule, r: Rule) -> bool:
    if c.syscalls is None:
        return False
    if not c.syscalls.all and not (c.syscalls.numbers & r.syscalls.numbers):
        return False
    return c.arch is None or r.arch is None or c.arch == r.arch


# -- 12x: auid -----------------------------------------------------------------------------------

@check("TR120", "medium", "auid!=0 / auid>=N without auid!=unset")
def auid_unset(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if r.action != "always":
            continue
        ts = [t for t in r.fields if isinstance(t, Field) and t.name == "auid"]
        if not ts or any(int(t.value) == UNSET for t in ts):
            continue
        if unset_passes(r):
            shown = " ".join(f"auid{t.op}{t.text or F.s32(int(t.value))}" for t in ts)
            yield ctx.finding("TR120", e,
                              f"{shown} also matches processes with no login (auid unset = 4294967295: "
                              "daemons, cron, containers)",
                              "add -F auid!=unset after it")


# -- 13x: paths on this host ---------------------------------------------------------------------

def _paths(e: Entry):
    if isinstance(e.item, Watch):
        yield "watch", e.item.path, e.item.perms
        return
    perm = next((int(t.value) for t in e.rule.fields if isinstance(t, Field) and t.name == "perm"), 15)
    for t in e.rule.fields:
        if isinstance(t, Field) and t.name in ("exe", "path", "dir"):
            yield t.name, str(t.value), perm


@check("TR130", "high", "exe/path/dir whose final component is a symlink (never matches)", host=True)
def symlink_final(ctx: Context):
    for e in _live(ctx):
        for kind, p, perm in _paths(e):
            q = p.rstrip("/") or "/"
            if not os.path.islink(q):
                continue
            target = os.path.realpath(q)
            word = {"watch": f"-w {p}", "exe": f"exe={p}", "path": f"path={p}", "dir": f"dir={p}"}[kind]
            fixed = {"watch": f"-w {target}", "exe": f"exe={target}", "path": f"path={target}",
                     "dir": f"dir={target}"}[kind]
            sev = None
            if kind in ("watch", "path") and perm & (2 | 8):
                sev = "medium"
                tail = "only changes to the link itself are caught, never use of its target"
            else:
                tail = "it never matches"
            yield ctx.finding("TR130", e,
                              f"on this host {p} is a symlink to {target}: the kernel does not follow the "
                              f"final symlink, so {word}: {tail}",
                              f"use the target: {fixed}", sev)


@check("TR131", "high", "path whose parent (or dir=) is missing on this host: refused", host=True)
def parent_missing(ctx: Context):
    for e in _live(ctx):
        for kind, p, _ in _paths(e):
            q = p.rstrip("/") or "/"
            if kind == "dir":
                if not os.path.isdir(q):
                    yield ctx.finding("TR131", e,
                                      f"on this host {p} does not exist: the kernel refuses dir= with ENOENT "
                                      "(auditctl -R stops unless -i or -c is in effect)",
                                      "remove the rule on hosts without it, or create the directory first")
                continue
            if kind == "watch" and os.path.isdir(q):
                continue
            parent = os.path.dirname(q) or "/"
            if not os.path.isdir(parent):
                yield ctx.finding("TR131", e,
                                  f"on this host the directory {parent} does not exist: the kernel refuses "
                                  f"the rule with ENOENT (auditctl -R stops unless -i or -c is in effect)",
                                  "remove the rule on hosts without it (a per-host rules.d file)")


@check("TR132", "info", "exe/path missing on this host (accepted; matches nothing until created)", host=True)
def final_missing(ctx: Context):
    for e in _live(ctx):
        for kind, p, _ in _paths(e):
            q = p.rstrip("/") or "/"
            if kind == "dir" or os.path.lexists(q) or not os.path.isdir(os.path.dirname(q) or "/"):
                continue
            yield ctx.finding("TR132", e,
                              f"on this host {p} does not exist: the rule loads and matches nothing until "
                              "it is created",
                              "nothing if the file may appear later; otherwise remove the rule")


# -- 14x: values the kernel compares differently ---------------------------------------------------

@check("TR140", "high", "exit=ERRNO without the minus (never matches)")
def errno_sign(ctx: Context):
    for e in _live(ctx):
        for t in e.rule.fields:
            if isinstance(t, Field) and t.name == "exit" and t.text[:1].isalpha():
                sev = None if t.op == "=" else "medium"
                yield ctx.finding("TR140", e,
                                  f"exit{t.op}{t.text} compares with +{int(t.value)}; failures are negative "
                                  f"(-{t.text}), so exit={t.text} never matches a failure",
                                  f"write -F exit{t.op}-{t.text}", sev)


@check("TR141", "high", "numeric comparison that can never match (unsigned 32-bit)")
def never_true(ctx: Context):
    for e in _live(ctx):
        said = set()
        for t in e.rule.fields:
            if not (isinstance(t, Field) and t.name in NUMERIC and t.op in ("<", ">", "&")):
                continue
            v = int(t.value) & U32
            if (t.op == "<" and v == 0) or (t.op == ">" and v == U32) or (t.op == "&" and v == 0):
                said.add(t.name)
                yield ctx.finding("TR141", e,
                                  f"{t.name}{t.op}{t.text}: the kernel compares unsigned 32-bit values, so "
                                  "this is never true and the rule never matches",
                                  _cmp_fix(t))
        for name, iv in intervals(e.rule).items():
            if iv.min() is None and name not in said:
                ts = " ".join(f"{t.name}{t.op}{t.text}" for t in e.rule.fields
                              if isinstance(t, Field) and t.name == name)
                yield ctx.finding("TR141", e, f"{ts}: no value satisfies these conditions together "
                                  "(unsigned 32-bit), so the rule never matches",
                                  f"correct the {name} conditions (a rule has no OR: use two rules)")


@check("TR142", "medium", "numeric comparison always true or signed by mistake (unsigned 32-bit)")
def always_true(ctx: Context):
    for e in _live(ctx):
        for t in e.rule.fields:
            if not (isinstance(t, Field) and t.name in NUMERIC and t.op in ("<", "<=", ">=", "&=")):
                continue
            if t.name == "auid" and int(t.value) == UNSET:
                continue
            v = int(t.value) & U32
            neg = t.text.startswith("-")
            if (t.op == ">=" and v == 0) or (t.op == "<=" and v == U32) or (t.op == "&=" and v == 0):
                what = "always true: the condition filters nothing"
            elif neg and t.op in ("<", "<="):
                what = f"true for every value below {v:#x}, i.e. every success and most failures"
            else:
                continue
            yield ctx.finding("TR142", e,
                              f"{t.name}{t.op}{t.text} under the kernel's unsigned 32-bit compare is {what}",
                              _cmp_fix(t))


def _cmp_fix(t: Field) -> str:
    if t.name == "exit":
        return "for failures write -F exit>=-4095 (or -F success=0); for one error -F exit=-EACCES"
    return f"compare {t.name} with the unsigned value meant, or drop the condition"


# -- 15x: syscall families ---------------------------------------------------------------------------

def _family_groups(ctx: Context):
    """Loaded always rules grouped by what they test apart from the syscall and its arguments
    (argument positions differ between family members, so ``-S open -F a1&0100`` and
    ``-S openat -F a2&0100`` cover each other).  Yields (entries, names, arch, table, has args)."""
    groups: dict[tuple, list[Entry]] = {}
    alls: list[Rule] = []
    for x in _exit_loaded(ctx):
        r = x.rule
        if r.syscalls is None:
            continue
        if r.syscalls.all:
            alls.append(r)
            continue
        if r.action != "always":
            continue
        sig = (r.list, r.syscalls.arch, frozenset(t for t in r.fields
                                                  if not (isinstance(t, Field) and t.name in ARG_FIELDS)))
        groups.setdefault(sig, []).append(x)
    for (lst, arch, fs), entries in groups.items():
        if any(a.action == "always" and frozenset(a.fields) <= fs for a in alls):
            continue
        t = _table(arch)
        if t is None:
            continue
        names: set[str] = set()
        for x in entries:
            names.update(_names(x.rule))
        yield entries, names, arch, t, any(_arg_fields(x.rule) for x in entries)


def _first(entries: list[Entry], trigger) -> Entry:
    for x in entries:
        if set(_names(x.rule)) & set(trigger):
            return x
    return entries[0]


def _gap(ctx, cid, x, missing, arch, what, args, extra=""):
    tail = " (in a separate rule if it filters arguments: their positions differ)" if args else ""
    return ctx.finding(cid, x, f"{what}: {_named(missing, arch, ctx.version)} not covered{extra}",
                       f"add -S {_syscall_words(missing, arch, ctx.version)}{tail}")


@check("TR150", "medium", "execve without execveat")
def gap_exec(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        if "execve" in names and "execveat" in t and "execveat" not in names:
            yield _gap(ctx, "TR150", _first(entries, ["execve"]), ["execveat"], arch,
                       "execve is audited but not execveat (fexecve, fileless exec use it)", args)


@check("TR151", "medium", "open without openat/openat2")
def gap_open(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        if names & {"open", "openat"}:
            missing = [n for n in ("openat", "openat2") if n in t and n not in names]
            if missing:
                extra = " (openat2 passes its flags in struct open_how: an a2 flag filter cannot see them)" \
                    if "openat2" in missing and args else ""
                yield _gap(ctx, "TR151", _first(entries, ["open", "openat"]), missing, arch,
                           "/".join(sorted(names & {"open", "openat"})) + " is audited, but a program can use "
                           + " or ".join(missing), args, extra)


@check("TR152", "medium", "chmod/chown without their *at forms")
def gap_attr(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        missing, trig = [], []
        cm = {"chmod", "fchmod", "fchmodat", "fchmodat2"}
        co = {"chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"}
        if names & cm:
            missing += [n for n in ("fchmodat", "fchmodat2") if n in t and n not in names]
            trig += sorted(cm)
        if names & co:
            missing += [n for n in ("fchownat",) if n in t and n not in names]
            trig += sorted(co)
        if missing:
            yield _gap(ctx, "TR152", _first(entries, trig), missing, arch,
                       "chmod/chown are audited but coreutils and glibc use the *at forms", args)


@check("TR153", "medium", "clone without clone3 (or fork/vfork)")
def gap_clone(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        if "clone" not in names:
            continue
        want = ("clone3",) if args else ("clone3", "fork", "vfork")
        missing = [n for n in want if n in t and n not in names]
        if missing:
            extra = " (clone3's flags are in struct clone_args: cover it without an argument mask)" \
                if "clone3" in missing and args else ""
            yield _gap(ctx, "TR153", _first(entries, ["clone"]), missing, arch,
                       "clone is audited, but processes are also created by " + ", ".join(missing)
                       + " (posix_spawn, Python subprocess, dash)", args, extra)


@check("TR154", "medium", "16-bit id syscall without its *32 twin on b32 (setuid without setuid32)")
def gap_32(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        if arch not in ("i386", "arm"):
            continue
        missing, trig = [], []
        for n in sorted(names):
            if n + "32" in t and n + "32" not in names:
                missing.append(n + "32")
                trig.append(n)
            if n.endswith("32") and n[:-2] in t and n[:-2] not in names:
                missing.append(n[:-2])
                trig.append(n)
        if missing:
            yield _gap(ctx, "TR154", _first(entries, trig), missing, arch,
                       "32-bit glibc uses the *32 id syscalls and old binaries the 16-bit ones", args)


@check("TR155", "medium", "socket calls without socketcall on b32")
def gap_socketcall(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        if arch != "i386" or "socketcall" not in t or "socketcall" in names:
            continue
        calls = sorted(n for n in names if n in argspec.SOCKETCALL)
        if not calls:
            continue
        nums = [argspec.SOCKETCALL[n] for n in calls]
        fix = f"add -S socketcall -F a0={nums[0]} (SYS_{calls[0].upper()})" if len(nums) == 1 else \
            "add -S socketcall (a0 is the call number: " + ", ".join(f"{n}={argspec.SOCKETCALL[n]}" for n in calls) + ")"
        yield ctx.finding("TR155", _first(entries, calls),
                          f"{', '.join(calls)} on b32 are also made through socketcall (i386 libc), which "
                          "this rule does not cover",
                          fix)


@check("TR156", "medium", "rename/unlink without their *at forms")
def gap_rename(ctx: Context):
    for entries, names, arch, t, args in _family_groups(ctx):
        missing, trig = [], []
        if names & {"rename", "renameat", "renameat2"}:
            missing += [n for n in ("renameat", "renameat2") if n in t and n not in names]
            trig += ["rename", "renameat", "renameat2"]
        if names & {"unlink", "unlinkat"}:
            missing += [n for n in ("unlinkat",) if n in t and n not in names]
            trig += ["unlink", "unlinkat"]
        if missing:
            yield _gap(ctx, "TR156", _first(entries, trig), missing, arch,
                       "rename/unlink are audited but mv and rm use the *at forms", args)


# -- 16x: argument filters ------------------------------------------------------------------------

@check("TR160", "medium", "argument filter on clone3 (its flags are in a struct)")
def clone3_args(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if "clone3" in _names(r) and _arg_fields(r):
            af = ", ".join(f"{t.name}{t.op}{t.text}" for t in _arg_fields(r))
            yield ctx.finding("TR160", e,
                              f"{af} on clone3 compares the address of struct clone_args (a0) or its size "
                              "(a1), not the clone flags",
                              "put clone3 in its own rule without a0..a3 filters")


@check("TR161", "medium", "argument filter on the wrong argument for that syscall")
def wrong_arg(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        afs = _arg_fields(r)
        if not afs:
            continue
        names = [n for n in _names(r) if n != "clone3"]
        arch = r.syscalls.arch if r.syscalls is not None else ctx.host
        probs, fixes = [], []
        for t in afs:
            idx = int(t.name[1])
            roles = {}
            for n in names:
                spec = argspec.args_of(_tarch(arch), n)
                if spec is not None and idx < len(spec) and not spec[idx].endswith("*"):
                    roles[n] = spec[idx]
            for n in names:
                spec = argspec.args_of(_tarch(arch), n)
                if spec is None:
                    continue
                if idx >= len(spec):
                    probs.append(f"{n} has no {t.name} (it takes {len(spec)} argument(s))")
                elif spec[idx].endswith("*"):
                    probs.append(f"{t.name} of {n} is a pointer ({spec[idx][:-1]}): the filter compares an address")
                else:
                    continue
                meant = set(roles.values())
                alt = [i for i, a in enumerate(spec) if a in meant]
                if alt:
                    fixes.append(f"-S {n} -F a{alt[0]}{t.op}{t.text}")
        if probs:
            fix = ("split: " + "; ".join(dict.fromkeys(fixes))) if fixes else \
                "filter each syscall on the argument that holds the value (see its man page)"
            yield ctx.finding("TR161", e, "; ".join(dict.fromkeys(probs)), fix)


# -- 17x, 18x: users, keys ----------------------------------------------------------------------------

@check("TR170", "high", "unknown user or group", host=True)
def unknown_ids(ctx: Context):
    for file, line, kind, name in ctx.unknown_ids:
        yield ctx.finding("TR170", (file, line),
                          f"Unknown {kind}: {name} on this host: auditctl refuses the line and stops loading "
                          "the file",
                          f"use the numeric {'uid' if kind == 'user' else 'gid'}, or keep this rule out of "
                          f"hosts without {name}")


@check("TR180", "low", "rule without a key")
def no_key(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if r.action == "always" and r.list == "exit" and not r.keys:
            yield ctx.finding("TR180", e, "no key: its events cannot be found with ausearch -k or told "
                              "apart from other rules' events", "add -k NAME (unique, not a substring of another key)")


@check("TR181", "high", "key longer than 256 bytes")
def long_key(ctx: Context):
    for d in ctx.diagnostics:
        if d.severity is Severity.ERROR and d.message.startswith("key option exceeds"):
            yield ctx.finding("TR181", (d.file, d.line),
                              "the keys are longer than 256 bytes together (separators included): auditctl "
                              "refuses the line and stops loading the file",
                              "shorten the key")


# -- 19x: cost ---------------------------------------------------------------------------------------

def _every_syscall(r: Rule) -> bool:
    if r.list != "exit" or r.syscalls is None or not r.syscalls.all:
        return False
    return not any(isinstance(t, Field) and ((t.name == "path") or (t.name == "inode" and t.op == "="))
                   for t in r.fields)


@check("TR190", "medium", "-w on a directory (dir=, evaluated on every syscall)")
def watch_dir(ctx: Context):
    for e in _live(ctx):
        if isinstance(e.item, Watch) and any(isinstance(t, Field) and t.name == "dir" for t in e.rule.fields):
            w = e.item
            key = f" -k {w.keys[0]}" if w.keys else ""
            yield ctx.finding("TR190", e,
                              f"-w {w.path} is a directory{' on this host' if ctx.host_checks else ''}: "
                              "it becomes dir= on the exit list with every syscall, evaluated on every "
                              "syscall of every process (+25-40 ns each)",
                              f"narrow it: -a always,exit -F arch=b64 -S <syscalls> -F dir={w.path} "
                              f"-F perm={w.perm_text}{key} (and the b32 twin), or watch the files in it")


@check("TR191", "medium", "perm= without path and without -S/arch (every syscall)")
def perm_everywhere(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if isinstance(e.item, Watch) or not _every_syscall(r) or _has_arch_eq(r):
            continue
        if any(isinstance(t, Field) and t.name == "perm" for t in r.fields):
            yield ctx.finding("TR191", e,
                              "perm= without path= and without -S: the rule is evaluated on every syscall "
                              "of every process",
                              "add -F arch=b64 -S <the syscalls of the perm class> (and the b32 twin), or "
                              "use path= for a file")


@check("TR192", "low", "rule evaluated on every syscall")
def every_syscall(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if isinstance(e.item, Watch) or not _every_syscall(r):
            continue
        if any(isinstance(t, Field) and t.name == "perm" for t in r.fields) and not _has_arch_eq(r):
            continue   # TR191
        if r.get("exe"):
            continue   # TR193
        yield ctx.finding("TR192", e, "-S all (or no -S) without path=: evaluated on every syscall of "
                          "every process (+25-40 ns each)",
                          "list the syscalls it is about with -S")


@check("TR193", "medium", "exe= on a rule evaluated on every syscall")
def exe_every_syscall(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if isinstance(e.item, Watch) or not _every_syscall(r) or not r.get("exe"):
            continue
        if any(isinstance(t, Field) and t.name == "perm" for t in r.fields) and not _has_arch_eq(r):
            continue
        yield ctx.finding("TR193", e, "exe= on a rule with -S all: the exe test (~140 ns) runs on every "
                          "syscall of every process",
                          "list the syscalls with -S, or exclude the program with -a never,task -F pid/uid")


@check("TR194", "info", "-w on a file")
def watch_file(ctx: Context):
    for e in _live(ctx):
        if isinstance(e.item, Watch) and not any(isinstance(t, Field) and t.name == "dir"
                                                  for t in e.rule.fields):
            w = e.item
            yield ctx.finding("TR194", e,
                              "auditctl(8) calls -w deprecated for performance; on a file it is a path= rule "
                              "kept in the inode hash, consulted only for syscalls that touch this file",
                              f"nothing needed; the same rule reads -a always,exit -F path={w.path} "
                              f"-F perm={w.perm_text}" + (f" -k {w.keys[0]}" if w.keys else ""))


@check("TR195", "info", "perm= without arch on a path= rule")
def path_no_arch(ctx: Context):
    for e in _live(ctx):
        r = e.rule
        if isinstance(e.item, Watch) or r.list != "exit" or _has_arch_eq(r):
            continue
        if r.get("path") and r.get("perm") and r.syscalls is not None and r.syscalls.all:
            yield ctx.finding("TR195", e,
                              "perm= without arch: auditctl(8) warns it makes every syscall subject to audit, "
                              "but with path= the rule is in the inode hash and the perm class is tested "
                              "per ABI, so it is cheap and covers b64 and b32",
                              "nothing needed (adding arch=b64 would lose 32-bit syscalls)")


# -- 2xx: control lines ----------------------------------------------------------------------------------

@check("TR200", "high", "-e 2 not last")
def e2_not_last(ctx: Context):
    for i, it in enumerate(ctx.items):
        if isinstance(it, ControlLine) and it.option == "-e" and it.value == "2":
            after = [x for x in ctx.items[i + 1:]]
            if after:
                x = after[0]
                yield ctx.finding("TR200", it,
                                  f"-e 2 makes the configuration immutable: the {len(after)} line(s) after it "
                                  f"(first: {x.location.file}:{x.location.line}) are refused",
                                  "move -e 2 to the very last line (e.g. rules.d/99-finalize.rules)")


@check("TR201", "high", "-D not first")
def d_not_first(ctx: Context):
    n = 0
    for it in ctx.items:
        if isinstance(it, ControlLine):
            if it.option == "-D" and n:
                yield ctx.finding("TR201", it,
                                  f"-D{' -k ' + ','.join(it.keys) if it.keys else ''} after {n} rule(s): "
                                  "it deletes rules this same file set just loaded",
                                  "move -D to the first line (rules.d/10-base-config.rules)")
            continue
        n += 1


@check("TR202", "low", "setting after rules")
def setting_late(ctx: Context):
    seen_rule = False
    for it in ctx.items:
        if not isinstance(it, ControlLine):
            seen_rule = True
            continue
        if seen_rule and it.option in ("-b", "-f", "-r", "--backlog_wait_time", "-i", "-c"):
            what = "applies only to the lines after it" if it.option in ("-i", "-c") else \
                "takes effect only after the rules above were loaded"
            yield ctx.finding("TR202", it, f"{it.render()} after rules: it {what}",
                              "move it to the top, with -D (rules.d/10-base-config.rules)")


@check("TR203", "medium", "--loginuid-immutable or -f 2 without a comment saying it is meant")
def dangerous_unexplained(ctx: Context):
    for it in ctx.items:
        if not isinstance(it, ControlLine):
            continue
        if it.option == "--loginuid-immutable":
            what = "--loginuid-immutable locks every login uid until reboot (containers and su cannot set it)"
        elif it.option == "-f" and it.value == "2":
            what = "-f 2 panics the kernel when audit records are lost"
        else:
            continue
        prev = ctx.line_text(it.location.file, it.location.line - 1)
        if prev is not None and prev.strip().startswith("#"):
            continue
        yield ctx.finding("TR203", it, f"{what}, and no comment on the line above says it is meant",
                          "if it is meant, say so in a comment on the line above; otherwise remove it")


@check("TR210", "info", "list,action written in the old order")
def old_order(ctx: Context):
    for e in _live(ctx):
        if not isinstance(e.item, Rule):
            continue
        words = e.item.text.split()
        for i, w in enumerate(words):
            arg = w[2:] if w[:2] in ("-a", "-A", "-d") and len(w) > 2 else \
                (words[i + 1] if w in ("-a", "-A", "-d") and i + 1 < len(words) else None)
            if arg is None:
                continue
            first = arg.split(",")[0]
            if first in ("user", "task", "exit", "exclude", "filesystem"):
                yield ctx.finding("TR210", e, f"{w[:2]} {arg}: list first is the old spelling",
                                  f"write {w[:2]} {e.rule.action},{e.rule.list}")
            break
