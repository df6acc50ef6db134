"""Differential proof: the simulator against the real kernel, case by case.

Each :class:`Case` is a rule set x a workload.  The workload runs twice:

1. under strace through ``tracerule record`` (as root, ``-u USER`` / ``--auid N`` as the case needs);
   the trace is enriched (:class:`tracerule.audit.enrich.Enricher`) and simulated
   (:func:`tracerule.audit.simulate.simulate`) with the case's rules, exactly as ``tracerule verify``
   does it (same file-identity resolver: the sidecar, then this host);
2. on the real kernel with the same rules loaded through the harness
   (:class:`tracerule.audit.kernel.KernelAudit`; keys replaced by run keys, so events map back to
   the rule that decided them), run via ``KernelAudit.run`` with the same user and auid.

Per ``always`` rule the MULTISET of ``(arch, syscall, success, exit, exe, euid, auid)`` of the
events it decided is compared (pids differ between the two runs: never compared; exit values that
are pids or addresses are replaced by ``<pid>``/``<addr>`` on both sides).  ``never`` rules decide
events the kernel does not show: their effect is what the ``always`` rules after them (do not) get,
and the kernel must show no event under their key.  Any disagreement fails with both sides printed.

Isolation: the kernel's rules see the whole machine, the trace only the workload.  Every rule of a
case therefore narrows itself to the workload (the case's own probe binary by ``exe=``, a per-case
``auid``, the test user's ``uid``, or a file in the case's own directory) -- part of the rule on
both sides, so the comparison stays fair.  Kernel events made by the harness's own child before it
execs the workload (its loginuid write, setgroups/setresuid: ``exe`` is this Python) are dropped:
under strace those happen in strace's child before the traced execve and are not in the trace.

One harness session serves the whole suite (audit enabled, backlog raised, both restored at the
end); every case loads its rules, runs, collects and deletes them.  Test users (two, one with a
supplementary group) and a sudoers.d drop-in are created for the session and removed at its end,
also on failure.
"""
from __future__ import annotations

import os
import pwd
import grp
import secrets
import shlex
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import DATA, kernel_unavailable_reason

PROBE_C = DATA / "differential" / "probe.c"

#: syscalls whose successful return value is a pid (differs between the two runs)
_PID_RET = frozenset({"getpid", "getppid", "gettid", "fork", "vfork", "clone", "clone3", "wait4",
                      "waitpid", "getpgrp", "getpgid", "getsid", "setsid", "set_tid_address"})
#: ... or an address (ASLR)
_ADDR_RET = frozenset({"brk", "mmap", "mmap2", "mremap", "shmat"})


# ---------------------------------------------------------------------------------- the case model
@dataclass(frozen=True)
class Case:
    """One differential case.

    ``rules``: auditctl rule lines (placeholders ``{P}`` probe, ``{P32}`` 32-bit probe, ``{D}`` the
    case's directory, ``{U}``/``{UN}``/``{UG}`` test user a's uid/name/primary gid, ``{G}``/``{GN}``
    its supplementary group, ``{U2}``/``{UN2}`` user b, ``{A}`` the case's auid, ``{FLOOR}`` a pid
    no process of the case can have had, plus what ``setup`` returns).  Keys written in the rules
    are ignored (each rule gets a run key on the kernel side).  ``-A`` rules are loaded on the kernel
    side as appended rules placed before every ``-a`` rule (the harness refuses ``-A``).
    ``cmd``: the workload.  ``user``: ``"a"``/``"b"`` (the test users) or None (root).  ``auid``:
    ``"A"`` (the case's own auid), a number, or None (inherited: unset here).  ``setup(d, ph)``:
    builds the case's files in ``d`` and returns extra placeholders; it runs before the strace run
    and, with ``fresh``, again (after emptying ``d``) before the kernel run.  ``shows``: one line
    for the README."""

    id: str
    rules: tuple[str, ...]
    cmd: tuple[str, ...]
    shows: str
    user: str | None = None
    auid: object = "A"
    setup: Callable | None = None
    fresh: bool = False
    expect_events: bool = True     #: at least one rule must decide something (guards vacuity)
    sim_keys: bool = False         #: give every rule a key on the simulator side too


def case(id: str, rules, cmd, shows: str, **kw) -> Case:
    if isinstance(rules, str):
        rules = [ln.strip() for ln in rules.strip().splitlines() if ln.strip()]
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    return Case(id, tuple(rules), tuple(cmd), shows, **kw)


def xfail_case(c: Case, reason: str):
    """A case that shows a known library bug: strict xfail (it must keep failing until fixed)."""
    return pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=reason))


def params(cases) -> list:
    return [c if not isinstance(c, Case) else pytest.param(c, id=c.id) for c in cases]


# ------------------------------------------------------------------------------------ the session
@dataclass
class Env:
    k: object
    base: Path
    probe: Path
    probe32: Path
    users: dict
    groups: dict
    python_exe: str
    counter: int = 0
    timings: list = field(default_factory=list)

    def placeholders(self, c: Case, d: Path, n: int) -> dict:
        a, b = self.users["a"], self.users["b"]
        return {
            "P": str(self.probe), "P32": str(self.probe32), "D": str(d),
            "U": str(a.pw_uid), "UN": a.pw_name, "UG": str(a.pw_gid),
            "U2": str(b.pw_uid), "UN2": b.pw_name, "UG2": str(b.pw_gid),
            "G": str(self.groups["g"].gr_gid), "GN": self.groups["g"].gr_name,
            "A": str(self.auid_of(n)),
            "FLOOR": str(_pid_floor()),
        }

    @staticmethod
    def auid_of(n: int) -> int:
        return 2_100_000_000 + (os.getpid() % 10000) * 1000 + n


def _pid_floor(headroom: int = 4000) -> int:
    """A pid no process started from now on is below -- unless pids wrap at pid_max (32768 on this
    VM), so move the next pid back to a low value first when the wrap is near (root may write
    ns_last_pid; it only chooses where the kernel's next free-pid search starts)."""
    try:
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        pid_max = 32768
    if _last_pid() > pid_max - headroom:
        try:
            Path("/proc/sys/kernel/ns_last_pid").write_text("1000")
        except OSError:
            pass
    return _last_pid() + 1


def _last_pid() -> int:
    try:
        return int(Path("/proc/sys/kernel/ns_last_pid").read_text())
    except (OSError, ValueError):
        return 1


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(argv, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {res.stderr.strip() or res.stdout.strip()}")
    return res


def _build(src: Path, out: Path, *flags: str) -> None:
    res = subprocess.run(["gcc", "-O1", *flags, "-o", str(out), str(src)], capture_output=True,
                         text=True)
    if res.returncode != 0:
        raise RuntimeError(f"gcc {' '.join(flags)} failed: {res.stderr[:500]}")
    out.chmod(0o755)


@pytest.fixture(scope="package")
def diff():
    """The suite's shared machinery: users, probes, one kernel session.

    Package scope: the kernel lock is released when this package's tests end, so the kernel
    tests of other packages in the same pytest run can take it (a session-scoped holder would
    make them wait until the lock times out)."""
    reason = kernel_unavailable_reason()
    if reason is None and shutil.which("strace") is None:
        reason = "strace is not installed"
    if reason is None and shutil.which("gcc") is None:
        reason = "gcc is not installed"
    for tool in ("useradd", "userdel", "groupadd", "groupdel"):
        if reason is None and shutil.which(tool) is None:
            reason = f"{tool} is not installed"
    if reason is not None:
        if os.environ.get("TRACERULE_REQUIRE_KERNEL") == "1":
            pytest.fail(f"TRACERULE_REQUIRE_KERNEL=1 but the differential suite cannot run: {reason}")
        pytest.skip(reason)
    from tracerule.audit.kernel import KernelAudit

    tag = secrets.token_hex(3)
    names = {"a": f"trd{tag}a", "b": f"trd{tag}b", "g": f"trd{tag}g"}
    sudoers = Path(f"/etc/sudoers.d/tracerule-diff-{tag}")
    made: list[tuple[str, str]] = []
    try:
        _run(["groupadd", names["g"]])
        made.append(("group", names["g"]))
        _run(["useradd", "-M", "-U", "-s", "/bin/sh", "-G", names["g"], names["a"]])
        made.append(("user", names["a"]))
        _run(["useradd", "-M", "-U", "-s", "/bin/sh", names["b"]])
        made.append(("user", names["b"]))
        if shutil.which("sudo") and shutil.which("visudo"):
            tmp = sudoers.with_name(f".tracerule-diff-{tag}")   # '.' files are ignored by sudo
            tmp.write_text(f"{names['a']} ALL=(ALL:ALL) NOPASSWD: ALL\n")
            tmp.chmod(0o440)
            if _run(["visudo", "-cf", str(tmp)], check=False).returncode == 0:
                os.replace(tmp, sudoers)
                made.append(("sudoers", str(sudoers)))
            else:
                tmp.unlink()
        users = {k: pwd.getpwnam(names[k]) for k in ("a", "b")}
        groups = {"g": grp.getgrnam(names["g"])}
        with KernelAudit.session(what="tests/differential") as k:
            k.enable()
            k.set_setting("backlog_limit", 8192)
            with k.tempdir(prefix="trdiff-") as base:
                bindir = base / "bin"
                bindir.mkdir()
                bindir.chmod(0o755)
                probe, probe32 = bindir / "probe", bindir / "probe32"
                _build(PROBE_C, probe, "-no-pie")
                _build(PROBE_C, probe32, "-m32")
                env = Env(k, base, probe, probe32, users, groups, os.path.realpath("/proc/self/exe"))
                yield env
                _report_timings(env)
    finally:
        for kind, name in reversed(made):
            if kind == "user":
                _run(["userdel", name], check=False)
                # the user's own group (USERGROUPS_ENAB) goes with it; make sure
                _run(["groupdel", name], check=False)
            elif kind == "group":
                _run(["groupdel", name], check=False)
            elif kind == "sudoers":
                Path(name).unlink(missing_ok=True)


def _report_timings(env: Env) -> None:
    path = os.environ.get("TRACERULE_DIFF_TIMINGS")
    if path:
        Path(path).write_text("".join(f"{cid}\t{t:.3f}\n" for cid, t in env.timings))


# ------------------------------------------------------------------------------------ one case
def _fmt(s: str, ph: dict) -> str:
    try:
        return s.format_map(ph)
    except KeyError as exc:
        raise AssertionError(f"unknown placeholder {exc} in {s!r}") from None


def _norm_exit(arch: int, nr: int, success, exit_):
    from tracerule.audit.simulate import _syscall_name

    if exit_ is None or not success:
        return exit_
    _, name = _syscall_name(arch, nr)
    if name in _PID_RET:
        return "<pid>"
    if name in _ADDR_RET:
        return "<addr>"
    return exit_


def _sc_name(arch: int | None, nr: int | None) -> str:
    from tracerule.audit.simulate import _syscall_name

    if arch is None or nr is None:
        return f"{arch}/{nr}"
    a, n = _syscall_name(arch, nr)
    return f"{a or hex(arch)}:{n or nr}"


def _strip_keys(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "-k" and i + 1 < len(tokens):
            i += 2
            continue
        if t == "-F" and i + 1 < len(tokens) and tokens[i + 1].startswith("key="):
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _user_env(pw) -> dict:
    env = dict(os.environ)
    env.update(HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name, SHELL=pw.pw_shell or "/bin/sh")
    return env


class Outcome:
    """Both sides of one case, per rule."""

    def __init__(self, case: Case, rules: list[str]) -> None:
        self.case = case
        self.rules = rules
        self.sim: dict[int, Counter] = {i: Counter() for i in range(len(rules))}
        self.kern: dict[int, Counter] = {i: Counter() for i in range(len(rules))}
        self.actions: list[str] = []
        self.sim_notes: list[str] = []
        self.trace: str = ""

    def table(self) -> str:
        lines = []
        for i, r in enumerate(self.rules):
            lines.append(f"rule {i} [{self.actions[i]}]: {r}")
            keys = sorted(set(self.sim[i]) | set(self.kern[i]), key=repr)
            for t in keys:
                s, kk = self.sim[i][t], self.kern[i][t]
                mark = "  " if s == kk else "!!"
                lines.append(f"  {mark} sim {s:3d}  kernel {kk:3d}  {_show(t)}")
            if not keys:
                lines.append("     (no events on either side)")
        return "\n".join(lines)

    def disagreements(self) -> list[int]:
        return [i for i in range(len(self.rules))
                if self.actions[i] == "always" and self.sim[i] != self.kern[i]
                or self.actions[i] == "never" and self.kern[i]]


def _show(t: tuple) -> str:
    arch, nr, success, exit_, exe, euid, auid = t
    return (f"{_sc_name(arch, nr)} success={success} exit={exit_} exe={exe} euid={euid} "
            f"auid={auid}")


def run_case(env: Env, c: Case) -> Outcome:
    from tracerule.audit.enrich import Enricher
    from tracerule.audit.rules import ParseOptions, Rule, Watch, parse_text
    from tracerule.audit.simulate import compile_rules, simulate
    from tracerule.audit.verify import _resolver
    from tracerule.record import RecordOptions, record
    from tracerule.sidecar import find_sidecar, read_sidecar

    t0 = time.monotonic()
    env.counter += 1
    n = env.counter
    d = env.base / c.id
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    d.chmod(0o755)
    ph = env.placeholders(c, d, n)
    extra = c.setup(d, ph) if c.setup else None
    if extra:
        ph.update(extra)
    rules = [_fmt(r, ph) for r in c.rules]
    cmd = [_fmt(a, ph) for a in c.cmd]
    user = None if c.user is None else env.users[c.user].pw_name
    auid = env.auid_of(n) if c.auid == "A" else c.auid
    out = Outcome(c, rules)

    # ---- side 1: the simulator, on a trace of the workload
    # keys do not decide anything; rules that differ only by key are not duplicates on the kernel
    # side (each has its run key), so the simulator gets distinct keys for those
    bare = [" ".join(_strip_keys(shlex.split(r))) for r in rules]
    sim_text = "\n".join(b + (f" -k rule{i}" if bare.count(b) > 1 or c.sim_keys else "")
                         for i, b in enumerate(bare))
    res = parse_text(sim_text, file=f"<{c.id}>", options=ParseOptions(host="x86_64"))
    errors = [str(x) for x in res.diagnostics if x.severity.name == "ERROR"]
    assert not errors, f"the rule parser refused a rule: {errors}"
    items = [it for it in res.items if isinstance(it, (Rule, Watch))]
    assert len(items) == len(rules), f"{len(rules)} rule lines became {len(items)} items"
    out.actions = ["always" if isinstance(it, Watch) else it.action for it in items]
    trace = d.parent / f"{c.id}.strace"
    cwd0 = os.getcwd()
    os.chdir(d)
    try:
        rr = record(RecordOptions(command=tuple(cmd), output=str(trace), user=user, auid=auid,
                                  force=True), say=lambda m: None)
    finally:
        os.chdir(cwd0)
    out.trace = str(trace)
    sc = read_sidecar(find_sidecar(trace))
    compiled = compile_rules(items, host="x86_64", file_identity=_resolver(sc, True))
    recs = list(Enricher(str(trace), sidecar=sc, host_resolve=True, host="x86_64"))
    for dec in simulate(compiled, recs):
        for a in dec.assumptions:
            out.sim_notes.append(str(a))
        if dec.rule is None or not dec.logged and dec.action == "always":
            continue
        r = recs[dec.index]
        exe = None if r.exe is None else (r.exe.realpath or r.exe.path)
        t = (r.arch, r.nr, r.success, _norm_exit(r.arch, r.nr, r.success, r.exit), exe, r.euid,
             r.auid)
        if dec.action == "always":
            out.sim[dec.rule][t] += 1
    out.sim_notes = sorted(set(out.sim_notes))

    # ---- side 2: the real kernel
    if c.fresh:
        for p in d.iterdir():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        if c.setup:
            c.setup(d, ph)
    for attempt in (1, 2):
        kern = _kernel_side(env, c, rules, cmd, user, auid, d)
        if kern is not None:
            break
    else:
        raise AssertionError("inconclusive twice: the kernel lost audit records during the run")
    out.kern = kern
    out.status = (rr.exit_status, getattr(env, "_last_status", None))
    env.timings.append((c.id, time.monotonic() - t0))
    return out


def _kernel_argv(rule: str, key: str) -> tuple[list[str], bool]:
    toks = _strip_keys(shlex.split(rule))
    prepend = toks[:1] == ["-A"]
    if prepend:
        toks[0] = "-a"
    return toks + ["-k", key], prepend


def _kernel_side(env: Env, c: Case, rules: list[str], cmd: list[str], user, auid, d: Path):
    k = env.k
    keys = [k.new_key(f"r{i}") for i in range(len(rules))]
    argvs = [_kernel_argv(r, keys[i]) for i, r in enumerate(rules)]
    # -A: every prepended rule goes above every appended one, the latest -A first
    order = [i for i in reversed(range(len(rules))) if argvs[i][1]] + \
            [i for i in range(len(rules)) if not argvs[i][1]]
    loaded = []
    lost0 = k.lost()
    over0 = k.listener_overruns
    try:
        for i in order:
            loaded.append(k.add_rule(argvs[i][0]))
        mark = k.mark()
        env._last_status = k.run(cmd, user=user, auid=auid, cwd=d,
                                 env=_user_env(pwd.getpwnam(user)) if user else None,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        evs = k.events(keys, since=mark)
    finally:
        for r in reversed(loaded):
            k.delete_rule(r)
    if k.lost() > lost0 or k.listener_overruns > over0:
        return None
    by_key = {key: i for i, key in enumerate(keys)}
    kern: dict[int, Counter] = {i: Counter() for i in range(len(rules))}
    for e in evs:
        if e.exe == env.python_exe:
            continue   # the harness's own child before it exec'd the workload
        i = by_key.get(e.key)
        if i is None:
            continue
        t = (e.arch, e.syscall, e.success, _norm_exit(e.arch, e.syscall, e.success, e.exit), e.exe,
             e.euid, e.auid)
        kern[i][t] += 1
    return kern


def check(env: Env, c: Case) -> Outcome:
    """Run the case and fail on any disagreement, printing both sides."""
    out = run_case(env, c)
    bad = out.disagreements()
    head = f"case {c.id}: {c.shows}\nworkload: {' '.join(out.case.cmd)} (user={c.user} auid={c.auid})"
    if bad:
        notes = ("\nsimulator assumptions: " + "; ".join(out.sim_notes)) if out.sim_notes else ""
        pytest.fail(f"{head}\nDISAGREEMENT on rule(s) {bad} (sim = simulator on the strace trace "
                    f"{out.trace}, kernel = real audit events):\n{out.table()}{notes}",
                    pytrace=False)
    if c.expect_events:
        total = sum(sum(v.values()) for v in out.kern.values())
        assert total > 0, f"{head}\nno rule decided any event on either side (a vacuous case):\n{out.table()}"
    return out


# ------------------------------------------------------------------------------- case file setups
def make(*specs, extra: Callable | None = None) -> Callable:
    """A ``setup`` building files in the case directory.  Each spec is a tuple:

    ``(name, "file", mode[, "uid:gid"])``, ``(name, "dir"[, mode])``, ``(name, "symlink", target)``,
    ``(name, "hardlink", source)``, ``(name, "copy", source, mode[, "uid:gid"])``,
    ``(name, "text", content, mode)``.  Strings may use the case's placeholders.  ``extra(d, ph)``
    may return more placeholders.  The returned placeholders always include ``INO_<name>`` for
    every file made, and ``MAJ``/``MIN`` (the device of the case directory)."""

    def setup(d: Path, ph: dict) -> dict:
        out: dict = {}
        for spec in specs:
            name, kind, *rest = spec
            p = d / name
            p.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                p.write_text("data\n")
                p.chmod(rest[0])
            elif kind == "dir":
                p.mkdir(exist_ok=True)
                p.chmod(rest[0] if rest else 0o755)
            elif kind == "symlink":
                p.symlink_to(_fmt(rest[0], ph))
            elif kind == "hardlink":
                os.link(_fmt(rest[0], ph), p)
            elif kind == "copy":
                shutil.copyfile(_fmt(rest[0], ph), p)
                p.chmod(rest[1])
            elif kind == "text":
                p.write_text(_fmt(rest[0], ph))
                p.chmod(rest[1])
            else:
                raise ValueError(kind)
            owner = rest[-1] if kind in ("file", "copy") and len(rest) > (1 if kind == "file" else 2) else None
            if owner:
                u, g = _fmt(owner, ph).split(":")
                os.chown(p, int(u), int(g))
                if kind in ("file", "copy"):
                    p.chmod(rest[0] if kind == "file" else rest[1])   # chown clears set-id bits
            st = os.lstat(p)
            out["INO_" + name.replace("/", "_").replace(".", "_")] = str(st.st_ino)
        st = os.stat(d)
        out["MAJ"], out["MIN"] = str(os.major(st.st_dev)), str(os.minor(st.st_dev))
        if extra is not None:
            out.update(extra(d, ph) or {})
        return out

    return setup
