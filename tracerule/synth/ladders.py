"""Step ``ladders`` (+ ``variants``): for each target, complete candidate rules from narrow to broad,
and what the simulator says each catches.

Exec-like targets: exact (exe + execve/execveat + euid/uid + auid scope + success), program (exe
+ auid scope), behaviour (no exe: ``euid=0`` by a logged-in user, ``auid>=UID_MIN -F auid!=unset``).
Syscall targets: exact (observed syscalls and argument filters + exe), program (the whole family +
exe), behaviour (the family without exe).  File targets: exact (``path=`` + ``perm=wa`` + auid
scope), path (``-w FILE -p wa``: every writer), directory (``dir=`` of the parent, narrowed by -S).

Variants are synthetic records made from a target's first recorded instance: the other ABI,
execveat, a symlink, hard link or copy of the binary, the ELF loader, su/pkexec/``sudo -i`` for
privilege targets, another writer for files -- and, as a negative, the same event with auid unset.
"""
from __future__ import annotations

import os
import posixpath

from tracerule.audit.record import UNSET, FileRef, Name, Record
from tracerule.audit.rules.classes import family, kernel_class
from tracerule.audit.rules.safety import UnsafeValue
from tracerule.audit.simulate import MappingResolver, PathFacts, compile_rules, literal_resolver, simulate
from tracerule.audit.tables import AUDIT_ARCH, COMPAT, table
from tracerule.synth import build as B
from tracerule.synth.context import DEFAULT_LOADER, safe_text
from tracerule.synth.model import KEYS, Rung, Target

EXEC = ("execve", "execveat")
#: variants whose catching is a defect (the rule should stay silent on them)
NEGATIVE = ("auid unset (daemon, cron, container)",)


def _real(path: str) -> str:
    return os.path.realpath(path) if os.path.exists(path) else path


def build_ladder(t: Target, host: str, uid_min: int) -> tuple[list[Rung], list[str]]:
    """The rungs of one target (rules for the native ABI only) and notes on dropped candidates."""
    notes: list[str] = []
    key = KEYS[t.category]
    scope = B.scope_fields(t.auid_scope if t.auid_scope != "mixed" else "", uid_min)
    rungs: list[Rung] = []

    def add(level, desc, make):
        try:
            items = [x for x in make() if x is not None]
        except UnsafeValue as exc:
            notes.append(f"{t.id} {level}: candidate dropped: {safe_text(str(exc), 200)}")
            return
        if items:
            rungs.append(Rung(level, tuple(items), desc))

    def sr(names, fields):
        return B.syscall_rule(host, names, fields, key, host=host)

    exe = []
    if t.exe:
        try:
            exe = [B.field("exe", "=", t.exe)]
        except UnsafeValue as exc:
            notes.append(f"{t.id}: exe= candidates dropped: {safe_text(str(exc), 200)}")
            from dataclasses import replace as _r

            t = _r(t, exe=None)
    ok = [B.field("success", "=", 1)] if t.success else []
    if t.category in ("priv", "exec"):
        who = [B.field("euid", "=", 0)] if t.euid0 else ([B.field("uid", "=", t.uid)] if t.uid is not None else [])
        if t.exe:
            add("exact", "this program, run with these credentials by this kind of user",
                lambda: [sr(EXEC, who + scope + ok + exe)])
            add("program", "this program, any outcome and credentials, this kind of user",
                lambda: [sr(EXEC, scope + exe)])
        if t.category == "priv":
            beh = [B.field("euid", "=", 0)] + B.scope_fields("user", uid_min) if t.auid_scope == "user" \
                else [B.field("euid", "=", 0)] + scope
            add("behaviour", "any program run as root by a logged-in user (rootcmd)", lambda: [sr(EXEC, beh)])
        else:
            add("behaviour", "any program run with these credentials", lambda: [sr(EXEC, who + scope)])
    elif t.category == "cred":
        fam = [n for n in family(host, "setid") if ("gid" in n) == ("gid" in "".join(t.syscalls))]
        e0 = [B.field("egid" if any("gid" in s for s in t.syscalls) else "euid", "=", 0)]
        if t.exe:
            add("exact", "these set*id calls by this program", lambda: [sr(t.syscalls, scope + ok + exe)])
            add("program", "any set*id call of this kind by this program", lambda: [sr(fam, scope + exe)])
        add("behaviour", "any set*id call of this kind leaving root, by this kind of user",
            lambda: [sr(fam, e0 + scope + ok)])
    elif t.category == "net":
        fams = {2: "AF_INET", 10: "AF_INET6"}
        fam_nr = next((k for k, v in fams.items() if (t.detail.get("family") or ("",))[0] == v), None)
        calls = [s for s in t.syscalls]
        sf = [B.field("saddr_fam", "=", fam_nr)] if fam_nr and all(s in ("connect", "bind") for s in calls) else []
        netfam = [n for n in family(host, "network") if n != "socketpair"]
        if t.exe:
            add("exact", "these socket calls by this program", lambda: [sr(calls, sf + scope + exe)])
            add("program", "any socket call by this program", lambda: [sr(netfam, scope + exe)])
        add("behaviour", "these socket calls by any program of this kind of user",
            lambda: [sr(calls, sf + scope)])
    elif t.category in ("module", "ptrace", "mount"):
        famname = {"module": "modules", "ptrace": "ptrace", "mount": "mount_ns"}[t.category]
        fam = list(family(host, famname))
        a0 = []
        if t.category == "ptrace":
            nums = set(t.detail.get("request_nr") or ())
            if len(nums) == 1 and None not in nums:
                a0 = [B.field("a0", "=", nums.pop())]
        if t.exe:
            add("exact", f"these {t.category} calls by this program", lambda: [sr(t.syscalls, a0 + scope + exe)])
            add("program", f"any {t.category} call by this program", lambda: [sr(fam, scope + exe)])
        if t.category == "module":
            add("behaviour", "any kernel module load or unload", lambda: [sr(fam, [])])
        else:
            add("behaviour", f"any {t.category} call by this kind of user", lambda: [sr(fam, scope)])
    elif t.category == "perm":
        kind = (t.detail.get("kind") or ("",))[0]
        if kind == "setid-bit":
            pairs = [(("chmod", "fchmod"), "a1"), (("fchmodat", "fchmodat2"), "a2")]
            val, op = 0o6000, "&"
        elif kind == "chown-root":
            pairs = [(("chown", "fchown", "lchown"), "a1"), (("fchownat",), "a2")]
            val, op = 0, "="
        else:
            pairs = [(("setxattr", "lsetxattr", "fsetxattr", "setxattrat"), None)]
            val, op = None, None

        def fam_rules(extra, only=None):
            out = []
            for names, arg in pairs:
                ns = [n for n in names if only is None or n in only]
                if not ns:
                    continue
                af = [B.field(arg, op, val)] if arg else []
                out.append(sr(ns, af + extra))
            return out

        if t.exe:
            add("exact", "this kind of permission change (whole family) by this program and kind of user",
                lambda: fam_rules(scope + exe))
            add("program", "this kind of permission change by this program", lambda: fam_rules(exe))
        add("behaviour", "this kind of permission change by anyone", lambda: fam_rules([]))
    elif t.category == "file":
        if t.path:
            add("exact", "writes and attribute changes to this file by this kind of user",
                lambda: [B.path_rule(t.path, "wa", scope, key, host=host)])
            add("path", "writes and attribute changes to this file by anyone (watch)",
                lambda: [B.watch(t.path, "wa", key, host=host)])
            parent = posixpath.dirname(t.path) or "/"
            dnames = sorted(set(kernel_class(host, "write")) | set(kernel_class(host, "chattr"))
                            | {"open", "openat", "openat2"})
            add("directory", f"writes anywhere under {safe_text(parent)} (new files, renames in)",
                lambda: [sr(dnames, [B.field("dir", "=", parent), B.field("perm", "=", "wa")])])
    return rungs, notes


# ---- variants ------------------------------------------------------------------------------
def _copy(r: Record, **kw) -> Record:
    return r.creds(**kw)


def variants(t: Target, rec: Record, host: str, interp: str | None) -> list[tuple[str, Record]]:
    """Synthetic records of the obvious variants of one recorded instance."""
    out: list[tuple[str, Record]] = []
    compat = COMPAT.get(host)
    native = table(host)
    name = native.name(rec.nr) if rec.arch == AUDIT_ARCH[host] else None
    if compat and name:
        ct = table(compat)
        cname = name + "32" if (name + "32") in ct else name
        if cname in ct:
            out.append((f"other ABI ({compat} {cname})", _copy(rec, arch=AUDIT_ARCH[compat], nr=ct.nr(cname))))
        if t.category == "net" and "socketcall" in ct:
            out.append((f"other ABI ({compat} socketcall)", _copy(rec, arch=AUDIT_ARCH[compat],
                                                                  nr=ct.nr("socketcall"))))
    ex = rec.exe
    if t.category in ("priv", "exec") and name in EXEC:
        other = "execveat" if name == "execve" else "execve"
        out.append((other, _copy(rec, nr=native.nr(other))))
        if ex is not None:
            out.append(("via a symlink to the binary", _copy(rec)))
            if ex.dev is not None and ex.ino is not None:
                out.append(("hard link to the binary", _copy(rec, exe=FileRef(
                    "/tmp/.tracerule-variant/hardlink", ex.dev, ex.ino, "/tmp/.tracerule-variant/hardlink"))))
            out.append(("copy of the binary (same credentials)", _copy(rec, exe=FileRef(
                "/tmp/.tracerule-variant/copy", None, None, "/tmp/.tracerule-variant/copy"))))
            loader = interp or DEFAULT_LOADER.get(host, "/lib64/ld-linux-x86-64.so.2")
            lr = _real(loader)
            out.append((f"ELF loader ({safe_text(loader)} BINARY)", _copy(rec, exe=FileRef(lr, None, None, lr))))
        if t.category == "priv":
            user = rec.auid if rec.auid not in (None, UNSET) else 1000
            for label, prog, uid in (("su", "/usr/bin/su", user), ("pkexec", "/usr/bin/pkexec", user),
                                     ("sudo -i (root login shell)", "/usr/bin/bash", 0)):
                p = _real(prog)
                out.append((label, _copy(rec, exe=FileRef(p, None, None, p), uid=uid, euid=0, suid=0,
                                         fsuid=0)))
    if t.category == "file" and rec.names:
        out.append(("another writer (a root job, auid unset)",
                    _copy(rec, exe=FileRef("/usr/sbin/cron", None, None, "/usr/sbin/cron"), uid=0, euid=0,
                          auid=UNSET, sessionid=UNSET)))
        path = rec.names[0].realpath
        parent = posixpath.dirname(path) or "/"
        ren = native.nr("rename")
        if ren is not None:
            out.append(("replaced by rename", _copy(rec, nr=ren, a1=None, a2=None, names=(
                Name(parent, realpath=parent, nametype="PARENT", mode=0o040755),
                Name(parent, realpath=parent, nametype="PARENT", mode=0o040755),
                Name(path, realpath=path, nametype="DELETE", mode=0o100644),
                Name(path, realpath=path, nametype="CREATE", mode=0o100644)))))
    if rec.auid not in (None, UNSET):
        out.append((NEGATIVE[0], _copy(rec, auid=UNSET, sessionid=UNSET)))
    return out


def resolver(facts: dict[str, PathFacts], targets=()) -> MappingResolver:
    f = dict(facts)
    for t in targets:
        if t.path and t.path not in f:
            f[t.path] = PathFacts(t.path, exists=True, parent_exists=True, is_symlink=False, is_dir=False,
                                  canonical=t.path, real=t.path)
    return MappingResolver(f, fallback=literal_resolver)


def caught(items, records, host: str, res) -> list[bool]:
    """For each record: does this rule set log it?"""
    if not records:
        return []
    c = compile_rules(items, host=host, file_identity=res)
    got = [False] * len(records)
    for d in simulate(c, records):
        if d.logged:
            got[d.index] = True
    return got


def evaluate(t: Target, rungs: list[Rung], records: list[Record], host: str, b32: str, res,
             interp: str | None) -> list[Rung]:
    """Fill each rung's ``catches`` (variants) and ``misses_instances`` (recorded instances)."""
    from dataclasses import replace

    var = variants(t, records[0], host, interp) if records else []
    out = []
    for r in rungs:
        items = B.expand(list(r.rules), host, b32)
        hit = caught(items, records, host, res)
        miss = tuple(f"{rec.source}:{rec.line}" for rec, h in zip(records, hit) if not h)
        vhit = caught(items, [v for _, v in var], host, res)
        out.append(replace(r, catches=tuple((lbl, h) for (lbl, _), h in zip(var, vhit)),
                           misses_instances=miss))
    return out
