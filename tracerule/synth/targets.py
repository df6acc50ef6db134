"""Step ``targets``: the security-relevant events of a trace, grouped into targets with reasons.

Privilege transitions first (setuid-bit execs, privilege tools, what then runs as root on behalf of
a logged-in user, set*id to root), then program execution, network, kernel modules, ptrace, mounts
and namespaces, permission changes that grant privilege, and writes to sensitive files.

Instances of one behaviour (same category, same program, same file ...) form one :class:`Target`;
each instance keeps its trace line and its kernel-view record (for the simulator).
"""
from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field

from tracerule.audit.record import UNSET, Record
from tracerule.synth.context import TraceContext, basename, file_name, parent_name, safe_text
from tracerule.synth.model import CATEGORIES, Evidence, Target

#: programs whose job is to change credentials
PRIV_TOOLS = frozenset({"sudo", "sudoedit", "su", "pkexec", "doas", "setpriv", "runuser", "newgrp",
                        "sg", "chroot", "capsh", "sudo.ws", "run0", "machinectl"})

#: files whose modification changes who may do what (globs on the resolved path)
SENSITIVE = (
    ("/etc/passwd", "accounts", "T1136.001"), ("/etc/shadow", "accounts", "T1098"),
    ("/etc/group", "accounts", "T1098"), ("/etc/gshadow", "accounts", "T1098"),
    ("/etc/sudoers", "sudoers", "T1548.003"), ("/etc/sudoers.d/*", "sudoers", "T1548.003"),
    ("/etc/crontab", "cron", "T1053.003"), ("/etc/cron.*/*", "cron", "T1053.003"),
    ("/etc/cron.d/*", "cron", "T1053.003"), ("/var/spool/cron/*", "cron", "T1053.003"),
    ("/var/spool/cron/crontabs/*", "cron", "T1053.003"), ("/etc/anacrontab", "cron", "T1053.003"),
    ("/etc/systemd/system/*", "systemd unit", "T1543.002"),
    ("/etc/systemd/system/*/*", "systemd unit", "T1543.002"),
    ("/usr/lib/systemd/system/*", "systemd unit", "T1543.002"),
    ("/lib/systemd/system/*", "systemd unit", "T1543.002"),
    ("/etc/systemd/user/*", "systemd unit", "T1543.002"),
    ("/root/.ssh/*", "ssh keys", "T1098.004"), ("/home/*/.ssh/*", "ssh keys", "T1098.004"),
    ("/etc/ssh/sshd_config", "ssh config", "T1098.004"), ("/etc/ssh/sshd_config.d/*", "ssh config",
                                                          "T1098.004"),
    ("/etc/ld.so.preload", "loader preload", "T1574.006"), ("/etc/ld.so.conf", "loader", "T1574.006"),
    ("/etc/ld.so.conf.d/*", "loader", "T1574.006"),
    ("/etc/pam.d/*", "PAM", "T1556.003"), ("/etc/security/*", "PAM", "T1556.003"),
    ("/etc/login.defs", "login policy", "T1098"), ("/etc/rc.local", "boot script", "T1037.004"),
    ("/etc/init.d/*", "boot script", "T1037.004"), ("/etc/profile", "login shell", "T1546.004"),
    ("/etc/profile.d/*", "login shell", "T1546.004"), ("/etc/bash.bashrc", "login shell", "T1546.004"),
    ("/root/.bashrc", "login shell", "T1546.004"), ("/root/.profile", "login shell", "T1546.004"),
    ("/home/*/.bashrc", "login shell", "T1546.004"), ("/home/*/.profile", "login shell", "T1546.004"),
    ("/etc/modprobe.d/*", "kernel modules", "T1547.006"), ("/etc/modules", "kernel modules", "T1547.006"),
    ("/etc/modules-load.d/*", "kernel modules", "T1547.006"),
    ("/etc/audit/*", "audit config", "T1562.012"), ("/etc/audit/rules.d/*", "audit config", "T1562.012"),
    ("/etc/hosts", "name resolution", "T1565"), ("/etc/resolv.conf", "name resolution", "T1565"),
    ("/etc/environment", "environment", "T1546"),
)

ATTACK = {"priv": ("T1548",), "cred": ("T1548.001",), "exec": ("T1059",), "net": ("T1071",),
          "module": ("T1547.006",), "ptrace": ("T1055.008",), "mount": ("T1611",),
          "perm": ("T1222.002",), "file": ("T1565",)}

NET_CALLS = frozenset({"socket", "connect", "bind", "listen", "accept", "accept4"})
MODULE_CALLS = frozenset({"init_module", "finit_module", "delete_module"})
MOUNT_CALLS = frozenset({"mount", "umount", "umount2", "move_mount", "fsopen", "fsconfig", "fsmount",
                         "fspick", "open_tree", "open_tree_attr", "mount_setattr", "pivot_root",
                         "unshare", "setns"})
CHMOD_CALLS = frozenset({"chmod", "fchmod", "fchmodat", "fchmodat2"})
CHOWN_CALLS = frozenset({"chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"})
XATTR_CALLS = frozenset({"setxattr", "lsetxattr", "fsetxattr", "setxattrat"})
OPEN_CALLS = frozenset({"open", "openat", "openat2", "creat"})
DIRWRITE_CALLS = frozenset({"truncate", "rename", "renameat", "renameat2", "unlink", "unlinkat", "link",
                            "linkat", "symlink", "symlinkat"})
SETID_CALLS = frozenset({"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
                         "setfsgid"})
SETID_CALLS32 = frozenset(n + "32" for n in SETID_CALLS)

_AF = {"AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17}
_NO_TARGET_FAMILIES = frozenset({"AF_UNIX", "AF_LOCAL", "AF_NETLINK"})


def scan_names() -> frozenset[str]:
    """The syscalls the target scan reads (besides the graph's execs)."""
    return (NET_CALLS | MODULE_CALLS | MOUNT_CALLS | CHMOD_CALLS | CHOWN_CALLS | XATTR_CALLS | OPEN_CALLS
            | DIRWRITE_CALLS | SETID_CALLS | SETID_CALLS32 | {"ptrace", "socketcall"})


@dataclass
class _Group:
    category: str
    reason: str
    exe: str | None
    exe_note: str | None
    path: str | None = None
    evidence: list = field(default_factory=list)
    records: list = field(default_factory=list)
    syscalls: list = field(default_factory=list)
    auids: list = field(default_factory=list)
    euids: list = field(default_factory=list)
    uids: list = field(default_factory=list)
    ok: list = field(default_factory=list)
    chain: str = ""
    attack: tuple = ()
    detail: dict = field(default_factory=dict)


@dataclass
class Found:
    """What the scan found: targets (in priority order), each target's records, and hand-off events."""

    targets: list[Target] = field(default_factory=list)
    records: dict[str, list[Record]] = field(default_factory=dict)
    unix_connects: list = field(default_factory=list)   #: (evidence, socket path, proc, line, record)
    notes: list[str] = field(default_factory=list)


class _Collector:
    def __init__(self, ctx: TraceContext, tag: str) -> None:
        self.ctx = ctx
        self.tag = tag
        self.groups: dict[tuple, _Group] = {}

    def add(self, key: tuple, category: str, reason: str, proc, line: int, tid: int, syscall: str,
            summary: str, record: Record | None, *, exe_path: str | None, ok: bool, path: str | None = None,
            attack: tuple = (), detail: dict | None = None) -> None:
        g = self.groups.get(key)
        if g is None:
            real, note = self.ctx.realpath(exe_path)
            g = self.groups[key] = _Group(category, reason, real, note, path, chain=self.ctx.chain(proc, line),
                                          attack=attack or ATTACK.get(category, ()))
        g.evidence.append(Evidence(self.ctx.path, line, tid, proc.id, syscall, safe_text(summary)))
        if record is not None:
            g.records.append(record)
        if syscall not in g.syscalls:
            g.syscalls.append(syscall)
        c = proc.creds_at(line)
        g.auids.append(c.auid.value)
        g.euids.append(c.euid.value)
        g.uids.append(c.uid.value)
        g.ok.append(ok)
        if detail:
            for k, v in detail.items():
                g.detail.setdefault(k, [])
                if v not in g.detail[k]:
                    g.detail[k].append(v)


def _cred(proc, line: int, name: str):
    return getattr(proc.creds_at(line), name).value


def find_targets(ctx: TraceContext, *, focus: frozenset[str] | None = None, tag: str = "",
                 events=None) -> Found:
    """Step ``targets`` for one trace.  ``focus``: categories to keep (None: all); ``events``: the
    trace's syscall events of :func:`scan_names` already read (None: read them here)."""
    col = _Collector(ctx, tag)
    found = Found()
    _exec_targets(ctx, col)
    _syscall_targets(ctx, col, found, events)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    groups = sorted(col.groups.values(), key=lambda g: (order[g.category], g.evidence[0].line))
    n = 0
    for g in groups:
        if focus is not None and g.category not in focus:
            continue
        n += 1
        tid = f"{tag}t{n}"
        auids = g.auids
        t = Target(
            id=tid, category=g.category, reason=g.reason, instances=tuple(g.evidence), chain=g.chain,
            exe=g.exe, exe_note=g.exe_note, syscalls=tuple(g.syscalls), path=g.path,
            auid_scope=ctx.auid_scope(auids), euid0=all(e == 0 for e in g.euids),
            uid=g.uids[0] if len(set(g.uids)) == 1 else None, success=all(g.ok), attack=tuple(g.attack),
            detail={k: tuple(v) for k, v in g.detail.items()})
        found.targets.append(t)
        found.records[tid] = g.records
    return found


# ---- execs (from the graph) ----------------------------------------------------------------
def _exec_targets(ctx: TraceContext, col: _Collector) -> None:
    raised_by: dict[str, str] = {}     # process id -> the privilege step it descends from
    for p in ctx.graph.processes:
        for e in p.execs:
            if not e.ok:
                continue
            c = e.creds
            uid, euid, auid = c.uid.value, c.euid.value, c.auid.value
            prog = basename(e.path)
            real, _ = ctx.realpath(e.path)
            rprog = basename(real) if real else prog
            setid = c.setid_exec is not None or (ctx.setuid_file(e.path) and euid is not None and euid != uid)
            user_auid = auid is not None and auid != UNSET and auid >= ctx.uid_min
            anc_priv = next((raised_by[a.id] for a in ctx.graph.ancestors(p) if a.id in raised_by), None)
            anc_priv = anc_priv or raised_by.get(p.id)
            if setid:
                cat = "priv"
                reason = (f"setuid exec of {safe_text(rprog)}: euid {_s(uid)} -> {_s(euid)}"
                          + (f" by logged-in user auid={auid}" if user_auid else ""))
                attack = ("T1548.003",) if rprog in ("sudo", "sudoedit") else ("T1548.001",)
            elif prog in PRIV_TOOLS or rprog in PRIV_TOOLS:
                cat = "priv"
                reason = f"privilege tool {safe_text(rprog)} run as uid {_s(uid)}/euid {_s(euid)}" + (
                    f" on behalf of auid={auid}" if user_auid else "")
                attack = ("T1548.003",) if rprog in ("sudo", "sudoedit") else ("T1548",)
            elif euid == 0 and user_auid:
                cat = "priv"
                via = f" (after {anc_priv})" if anc_priv else ""
                reason = f"runs as root on behalf of logged-in user auid={auid}{via}"
                attack = ("T1548",)
            else:
                cat = "exec"
                reason = f"program execution as uid {_s(uid)}, auid {_auid_text(auid)}"
                attack = ("T1059",)
            if cat == "priv" and (setid or prog in PRIV_TOOLS or rprog in PRIV_TOOLS):
                raised_by[p.id] = f"{safe_text(rprog)} at line {e.line}"
            proc_line = e.line
            rec = ctx.record(p, proc_line, e.syscall, 0, abi=e.arch, exe=ctx.file_ref(e.path), tid=e.tid,
                             creds=c)
            argv = " ".join(e.argv[:6])
            col.add((cat, real or e.path), cat, reason, p, proc_line, e.tid, e.syscall,
                    f"{e.syscall}({e.path}) argv: {argv}", rec, exe_path=e.path, ok=True, attack=attack,
                    detail={"program": safe_text(rprog)})


def _s(v) -> str:
    return "?" if v is None else str(v)


def _auid_text(a) -> str:
    return "?" if a is None else ("unset" if a == UNSET else str(a))


# ---- other syscalls (from the reader) -------------------------------------------------------
def scan_keep(ev) -> bool:
    """Is this read syscall event worth keeping for the target scan (cheap filter)?"""
    if ev.state == "unfinished":
        return False
    if ev.name in OPEN_CALLS and ev.name != "creat" and _read_only(ev.args):
        return False
    return True


def _syscall_targets(ctx: TraceContext, col: _Collector, found: Found, events=None) -> None:
    from tracerule.strace.events import Syscall
    from tracerule.strace.reader import TraceReader

    src = events if events is not None else TraceReader(ctx.path, names=scan_names())
    for ev in src:
        if not isinstance(ev, Syscall) or ev.state == "unfinished":
            continue
        proc = ctx.process(ev.tid, ev.line)
        if proc is None:
            continue
        try:
            _one(ctx, col, found, ev, proc)
        except (ValueError, TypeError, IndexError, KeyError) as exc:   # an odd line never stops suggest
            found.notes.append(f"{ctx.path}:{ev.line}: skipped ({safe_text(str(exc), 80)})")


def _one(ctx, col, found, ev, proc) -> None:
    from tracerule.strace import values as V

    name = ev.name
    base = name[:-2] if name.endswith("32") and name[:-2] in SETID_CALLS | {"chown", "fchown", "lchown"} else name
    ret = ev.ret
    line = ev.line
    exe_path = ctx.image_at(proc, line)
    if base in SETID_CALLS:
        _setid(ctx, col, ev, proc, exe_path)
    elif base in NET_CALLS:
        info = V.socket_info(ev)
        fam = None
        if info is not None:
            fam = info.family if base != "socket" else info.family
        if base in ("connect",) and info is not None and info.sockaddr is not None \
                and info.sockaddr.family in ("AF_UNIX", "AF_LOCAL") and info.sockaddr.path:
            sock = info.sockaddr.path
            if not sock.startswith(b"\0"):
                rec = ctx.record(proc, line, name, ret, args=(info.fd, None, None, None), saddr_fam=1,
                                 tid=ev.tid)
                ev_ = Evidence(ctx.path, line, ev.tid, proc.id, name,
                               safe_text(f"connect to {sock.decode('utf-8', 'surrogateescape')}"))
                found.unix_connects.append((ev_, sock.decode("utf-8", "surrogateescape"), proc, line, rec,
                                            exe_path))
            return
        if base == "socket":
            typ = info.type if info else None
            if not (fam == "AF_PACKET" or (fam in ("AF_INET", "AF_INET6") and typ == "SOCK_RAW")):
                return
            summary = f"socket({fam}, {typ})"
            a0 = _AF.get(fam or "")
            rec = ctx.record(proc, line, name, ret, args=(a0, None, None, None), tid=ev.tid)
        elif base in ("connect", "bind"):
            if fam is None or fam in _NO_TARGET_FAMILIES:
                return
            sa = info.sockaddr
            summary = f"{base} {fam} {safe_text(str(sa.addr))}:{sa.port}" if sa else f"{base} {fam}"
            rec = ctx.record(proc, line, name, ret, args=(info.fd, None, None, None),
                             saddr_fam=_AF.get(fam), tid=ev.tid)
        else:   # listen, accept, accept4
            fv = info.fd_decoration if info is not None else None
            kind = (fv.kind or "") if fv is not None else ""
            if kind.upper() in ("UNIX", "UNIX-STREAM", "NETLINK"):
                return
            summary = f"{base} on {safe_text(kind or 'a socket')}"
            fam = fam or "inet"
            rec = ctx.record(proc, line, name, ret, args=(info.fd if info else None, None, None, None),
                             saddr_fam=-1 if base == "listen" else None, tid=ev.tid)
        col.add(("net", ctx.realpath(exe_path)[0] or exe_path, fam), "net",
                f"network: {base} ({fam})", proc, line, ev.tid, name, summary, rec, exe_path=exe_path,
                ok=ret is not None and ret >= 0, detail={"family": fam})
    elif base in MODULE_CALLS:
        rec = ctx.record(proc, line, name, ret, tid=ev.tid)
        col.add(("module", ctx.realpath(exe_path)[0] or exe_path), "module",
                f"kernel module {base}" + (" (attempt failed)" if ev.failed else ""), proc, line, ev.tid,
                name, f"{name}({safe_text(ev.args, 60)}) = {safe_text(ev.ret_text, 40)}", rec,
                exe_path=exe_path, ok=not ev.failed)
    elif base == "ptrace":
        info = V.ptrace_info(ev)
        req = info.request if info else None
        if req in ("PTRACE_TRACEME",):
            pass
        rec = ctx.record(proc, line, name, ret, args=(info.request_number if info else None, info.pid if info
                                                      else None, None, None), tid=ev.tid)
        col.add(("ptrace", ctx.realpath(exe_path)[0] or exe_path), "ptrace", f"ptrace {req or '?'}",
                proc, line, ev.tid, name, f"ptrace({req}, {info.pid if info else '?'})", rec,
                exe_path=exe_path, ok=not ev.failed,
                detail={"request": req, "request_nr": info.request_number if info else None})
    elif base in MOUNT_CALLS:
        rec = ctx.record(proc, line, name, ret, tid=ev.tid)
        col.add(("mount", ctx.realpath(exe_path)[0] or exe_path), "mount", f"mount/namespace: {base}",
                proc, line, ev.tid, name, f"{name}({safe_text(ev.args, 60)})", rec, exe_path=exe_path,
                ok=not ev.failed)
    elif base in CHMOD_CALLS | CHOWN_CALLS | XATTR_CALLS:
        _perm(ctx, col, ev, proc, exe_path, base)
    elif base in OPEN_CALLS | DIRWRITE_CALLS:
        _file(ctx, col, ev, proc, exe_path, base)


def _already_privileged(creds, kind: str) -> bool:
    """Whether a set*id to 0 by a process with these credentials gains nothing: it already holds 0
    as its real, effective or saved uid (it may set any uid back to 0), or -- for the gid family --
    runs as euid 0 or already holds gid 0.  Unknown ids never count as privileged."""
    def zero(name: str) -> bool:
        cv = getattr(creds, name, None)
        return cv is not None and cv.value == 0

    if any(zero(f) for f in ("uid", "euid", "suid")):
        return True
    return kind == "gid" and any(zero(f) for f in ("gid", "egid", "sgid"))


def _setid(ctx, col, ev, proc, exe_path) -> None:
    from tracerule.strace import values as V

    info = V.setid_info(ev)
    if info is None or info.kind == "groups" or not ev.ok:
        return
    before = proc.creds_at(ev.line - 1)
    k = info.kind    # uid / gid
    if _already_privileged(before, k):
        # root in any of the ids already (a setuid-root exec such as sudo's, or a root process):
        # re-setting ids to 0 gains nothing; the transition that gave the privilege is the target
        return
    pairs = []
    if info.op == "set":
        pairs = [("real", info.value, k), ("effective", info.value, f"e{k}")]
    elif info.op in ("setre", "setres"):
        pairs = [("real", info.real, k), ("effective", info.effective, f"e{k}"),
                 ("saved", info.saved, f"s{k}")]
    elif info.op == "setfs":
        pairs = [("fs", info.fs, f"fs{k}")]
    trans = []
    for _what, val, field_ in pairs:
        if val != 0:
            continue
        old = getattr(before, field_).value
        if old is None or old != 0:
            trans.append(f"{field_} {_s(old)} -> 0")
    if not trans:
        return
    args = tuple(a if a is None or a >= 0 else 0xFFFFFFFF for a in info.args[:4])
    args = args + (None,) * (4 - len(args))
    rec = ctx.record(proc, ev.line, ev.name, ev.ret, args=args, tid=ev.tid)
    col.add(("cred", ctx.realpath(exe_path)[0] or exe_path, info.kind), "cred",
            f"set*id to root ({info.kind})", proc, ev.line, ev.tid, ev.name,
            f"{ev.name}({safe_text(ev.args, 50)}): {', '.join(trans)}", rec, exe_path=exe_path, ok=True,
            attack=("T1548.001",))


def _resolve(ctx, path: bytes | None, dirfd_path: bytes | None, fd_path: bytes | None, proc, line) -> str | None:
    """The file a path argument names, resolved as well as the trace tells (-y fd paths win)."""
    if fd_path:
        p = fd_path.decode("utf-8", "surrogateescape")
        if p.startswith("/"):
            return posixpath.normpath(p)
    if path is None:
        return None
    p = path.decode("utf-8", "surrogateescape")
    if not p.startswith("/"):
        if not dirfd_path:
            return None
        d = dirfd_path.decode("utf-8", "surrogateescape")
        if not d.startswith("/"):
            return None
        p = posixpath.join(d, p)
    return posixpath.normpath(p)


def sensitive(path: str | None) -> tuple[str, str] | None:
    if not path:
        return None
    for pat, what, att in SENSITIVE:
        if path == pat or fnmatch.fnmatchcase(path, pat):
            return what, att
    return None


def _perm(ctx, col, ev, proc, exe_path, base) -> None:
    from tracerule.strace import values as V

    toks = V.split_args(ev.args)
    pathtok, dirtok = None, None
    if base in ("chmod", "chown", "lchown", "setxattr", "lsetxattr"):
        pathtok = toks[0] if toks else None
    elif base in ("fchmodat", "fchmodat2", "fchownat", "setxattrat"):
        dirtok = toks[0] if toks else None
        pathtok = toks[1] if len(toks) > 1 else None
    elif base in ("fchmod", "fchown", "fsetxattr"):
        dirtok = toks[0] if toks else None
    sv = V.decode_string(pathtok) if pathtok else None
    fv = V.fd_value(dirtok) if dirtok else None
    path = _resolve(ctx, sv.data if sv else None, fv.path if fv else None,
                    fv.path if (fv is not None and pathtok is None) else None, proc, ev.line)
    args: list = [None, None, None, None]
    if base in CHMOD_CALLS:
        mi = 2 if base in ("fchmodat", "fchmodat2") else 1
        mode = V.parse_int(V.strip_comments(toks[mi])) if len(toks) > mi else None
        if mode is None or not mode & 0o6000:
            if sensitive(path):
                _file(ctx, col, ev, proc, exe_path, base, path=path)
            return
        args[mi] = mode
        what = f"{base} sets {'setuid' if mode & 0o4000 else ''}{'/' if mode & 0o6000 == 0o6000 else ''}" \
               f"{'setgid' if mode & 0o2000 else ''} bit (mode {mode:o})"
        kind = "setid-bit"
    elif base in CHOWN_CALLS:
        oi = 2 if base == "fchownat" else 1
        owner = V.parse_int(toks[oi]) if len(toks) > oi else None
        if owner != 0:
            if sensitive(path):
                _file(ctx, col, ev, proc, exe_path, base, path=path)
            return
        args[oi] = 0
        what = f"{base} to root"
        kind = "chown-root"
    else:
        ni = 2 if base == "setxattrat" else 1
        nv = V.decode_string(toks[ni]) if len(toks) > ni else None
        if nv is None or nv.data != b"security.capability":
            return
        what = f"{base} security.capability (file capabilities)"
        kind = "file-caps"
    rec = ctx.record(proc, ev.line, ev.name, ev.ret, args=tuple(args), tid=ev.tid,
                     names=(file_name(path),) if path else None)
    col.add(("perm", ctx.realpath(exe_path)[0] or exe_path, kind), "perm", what, proc, ev.line, ev.tid,
            ev.name, f"{ev.name}({safe_text(ev.args, 60)})", rec, exe_path=exe_path, ok=not ev.failed,
            path=path, detail={"kind": kind, "syscall": base, "file": path})


_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_TMPFILE", "O_APPEND")


def _read_only(args: str) -> bool:
    """A cheap look before parsing: the flags are named (strace's default or -X verbose) and none
    of them writes.  Raw numeric flags (-X raw) are never skipped here."""
    return "O_RDONLY" in args and not any(f in args for f in _WRITE_FLAGS)


def _file(ctx, col, ev, proc, exe_path, base, path: str | None = None) -> None:
    from tracerule.strace import values as V

    names = None
    a = [None, None, None, None]
    oflags = None
    if path is None:
        if base in OPEN_CALLS:
            if base != "creat" and _read_only(ev.args):
                return
            info = V.open_info(ev)
            if info is None or not info.writes:
                return
            path = _resolve(ctx, info.path, info.dirfd_path, info.fd_path, proc, ev.line)
            fi = 2 if base == "openat" else 1
            if base == "openat2":
                oflags = info.flags
            elif base != "creat":
                a[fi] = info.flags
        else:
            toks = V.split_args(ev.args)
            strs = [(i, V.decode_string(t)) for i, t in enumerate(toks)]
            cands = []
            for i, sv in strs:
                if sv is None:
                    continue
                d = None
                if i > 0:
                    fv = V.fd_value(toks[i - 1])
                    d = fv.path if fv is not None else None
                cands.append(_resolve(ctx, sv.data, d, None, proc, ev.line))
            path = next((c for c in reversed(cands) if sensitive(c)), None)
    s = sensitive(path)
    if s is None:
        return
    what, att = s
    exists = not (base in OPEN_CALLS and ev.failed and ev.errno == "ENOENT")
    names = (file_name(path, exists=exists), parent_name(path))
    rec = ctx.record(proc, ev.line, ev.name, ev.ret, args=tuple(a), tid=ev.tid, names=names, oflags=oflags)
    col.add(("file", path), "file", f"write to a sensitive file ({what})", proc, ev.line, ev.tid, ev.name,
            f"{ev.name}({safe_text(ev.args, 70)})", rec, exe_path=exe_path, ok=not ev.failed, path=path,
            attack=(att,), detail={"what": what})
