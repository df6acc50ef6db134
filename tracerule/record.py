"""``tracerule record``: run a command under strace the way production would see it.

::

    res = record(RecordOptions(command=("sudo", "id"), user="alice", output="ss.strace"))
    res.exit_status        # the command's status (128+N when a signal N killed it)
    res.trace, res.sidecar # ss.strace, ss.strace.tracerule.json

What it does, and why (the strace flags are in :data:`STRACE_FLAGS`, each with its reason):

* strace runs as root and starts the command with ``-u USER``: the command runs as USER, and a
  setuid program it runs (sudo, su, passwd) really escalates, because the kernel honours setuid
  bits under ptrace only when the tracer is privileged.  Traced by an ordinary user, sudo would run
  without privileges and the trace would lie.  Without ``-u`` the command runs as the invoking user.
* ``--auid N``: the traced command starts with login uid N.  The write to ``/proc/self/loginuid``
  is made by tracerule's own child *before* it execs strace, so it is not in the trace (the trace
  stays about the user's command); strace and everything it traces inherit the auid (and the new
  audit session id the kernel hands out with it).  The sidecar records the auid and how it was set.
* Signals: strace started with ``-o FILE PROG`` blocks fatal signals (``-I 3``), so a signal meant
  for the command must reach the traced processes themselves.  A Ctrl-C from the terminal already
  reaches every process of the foreground group (the command too); a SIGINT/SIGTERM/SIGHUP sent to
  tracerule alone (``kill``, a service manager, a test) is forwarded to every process strace traces
  (their ``TracerPid`` is strace).  A third interrupt kills them (SIGKILL).  Whatever happens, the
  trace is closed by strace and the sidecar is written.
* The exit status is the command's: strace exits with its tracee's status and kills itself with
  the tracee's killing signal, which becomes 128+N here, as a shell would report it.
* After the run, every file the trace executed (successful and failed execve/execveat, relative
  paths resolved against the process's working directory; ``#!`` interpreters too) is stat'ed
  with :func:`tracerule.sidecar.describe_file` and written to ``TRACE.tracerule.json``.
"""
from __future__ import annotations

import errno as _errno
import json
import os
import pwd
import re
import shutil
import signal
import stat as _stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tracerule.errors import EnvironmentProblem, InputError, TraceruleError
from tracerule.exitcodes import ExitCode

__all__ = [
    "STRACE_FLAGS", "RecordOptions", "RecordResult", "record", "find_strace", "strace_version",
    "strace_argv", "default_output", "collect_exec_files", "privileged_reason", "read_uid_min",
    "UNSET_ID", "STRACE_NOT_USED", "preflight", "user_environment",
]

UNSET_ID = 4294967295

#: The strace options ``record`` uses, each with the reason (printed by ``record --explain-flags``
#: and the README).  ``-o FILE`` and ``-u USER`` are added per run.
STRACE_FLAGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("-f",), "follow forks: sudo runs the command in a child; every process must be in the trace, "
              "each line prefixed by its pid"),
    (("-ttt",), "epoch timestamps with microseconds: orders events across processes, merges -ff "
                "sets, and gives wall time for honest event rates"),
    (("-T",), "time spent in each syscall: shows where the tracing overhead went"),
    (("-n",), "the syscall number the kernel saw, in the tracee's personality ('[ 359] socket(...)'): "
              "strace prints the i386 socketcall(SYS_SOCKET, ...) and the direct i386 socket "
              "(#359, bind #361 ...) with the same name, and audit rules tell them apart "
              "('-S socketcall' vs '-S socket'); also names calls strace has no name for.  "
              "(strace-process-tree 1.5 cannot read -n traces; tracerule's reader can)"),
    (("-yy",), "decorate every fd with its path, socket or device (3</etc/shadow>, "
               "AT_FDCWD</tmp>): the files and sockets rules must name, and writes to "
               "/proc/PID/loginuid (the auid)"),
    (("-s", "4096"), "strings up to 4096 bytes instead of 32: full argv (sh -c '...') and paths; "
                     "note that read/write buffers are kept up to 4096 bytes too"),
    (("-X", "verbose"), "constants as number and name (0x3 /* PROT_READ|PROT_WRITE */): rules "
                        "need the numbers, people read the names"),
    (("-e", "quiet=attach"), "keep every message strace can write into the trace (personality "
                             "'[ Process PID=N runs in 32 bit mode. ]' lines that -o otherwise "
                             "mutes, '+++ exited/killed +++', '+++ superseded by execve +++'); "
                             "only 'Process N attached/detached', which never go into an -o file, "
                             "stay off the terminal"),
    (("-I", "3"), "strace never dies of a fatal signal (the default for -o FILE PROG, made "
                  "explicit): a Ctrl-C stops the command, strace stays to close the trace"),
)
#: not used, and why (documented so nobody adds them back by accident)
STRACE_NOT_USED: tuple[tuple[str, str], ...] = (
    ("--seccomp-bpf", "only speeds up a filtered trace (-e trace=...); record traces every syscall, "
                      "so it would change nothing but add a seccomp filter to the command"),
    ("-v", "would print every environment in full (secrets in env vars) for nothing the rules need"),
    ("-ff", "one file per thread; a single -f file is what every strace tool reads"),
    ("-Y", "PID<comm> prefixes; not every strace tool reads them"),
)

_PRIV_NAMES = frozenset({"sudo", "sudoedit", "su", "pkexec", "doas", "run0", "newgrp", "sg",
                         "passwd", "chsh", "chfn", "gpasswd", "mount", "umount", "fusermount",
                         "fusermount3", "crontab", "at"})
_DATE_FMT = "%Y%m%d-%H%M%S"


# ---- options and result -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RecordOptions:
    command: tuple[str, ...]
    output: str | None = None          #: trace file; None: tracerule-YYYYmmdd-HHMMSS.strace here
    user: str | None = None            #: strace -u USER (name or numeric uid)
    auid: int | None = None            #: login uid the traced command starts with
    force: bool = False                #: overwrite an existing trace / sidecar
    time_untraced: bool = False        #: re-run the command without strace and time it
    strace: str | None = None          #: the strace binary (default: strace on PATH)


@dataclass(frozen=True, slots=True)
class RecordResult:
    trace: Path
    sidecar: Path
    exit_status: int                   #: the command's exit status (128+N: killed by signal N)
    killed_by: int | None              #: the signal that killed the command, if one did
    interrupted: bool                  #: an interrupt (SIGINT/SIGTERM/SIGHUP) arrived during the run
    traced_wall_time: float
    untraced_wall_time: float | None
    executed_files: int
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# ---- environment --------------------------------------------------------------------------------

def find_strace(path: str | None = None) -> str:
    """The strace to run: ``path`` when given (must be an executable file), else strace on PATH."""
    if path:
        p = path if os.sep in path else shutil.which(path)
        if p is None or not os.path.isfile(p) or not os.access(p, os.X_OK):
            raise EnvironmentProblem(
                f"strace not found at {path!r}: give the path of an executable strace with "
                "--strace, or install strace (Debian/Ubuntu: apt-get install strace)")
        return p
    p = shutil.which("strace")
    if p is None:
        raise EnvironmentProblem("strace is not installed or not on PATH: install it "
                                 "(Debian/Ubuntu: apt-get install strace) or pass --strace PATH")
    return p


def strace_version(strace: str) -> tuple[str, tuple[int, ...]]:
    """(first line of ``strace -V``, version numbers) -- EnvironmentProblem when it does not run."""
    import subprocess

    try:
        cp = subprocess.run([strace, "-V"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvironmentProblem(f"cannot run {strace} -V: {exc}") from None
    first = (cp.stdout or "").splitlines()[0] if cp.stdout else ""
    m = re.search(r"version\s+(\d+(?:\.\d+)*)", first)
    if cp.returncode != 0 or m is None:
        raise EnvironmentProblem(f"{strace} does not look like strace (`{strace} -V` said "
                                 f"{(first or cp.stderr.strip())[:80]!r})")
    return first.strip(), tuple(int(x) for x in m.group(1).split("."))


#: -e quiet= needs 5.6, -X 5.?; everything here exists from 5.6 on
MIN_STRACE = (5, 6)


def strace_argv(strace: str, trace: str | os.PathLike, command, user: str | None = None) -> list[str]:
    """The full strace command line ``record`` runs."""
    argv = [strace]
    for flags, _why in STRACE_FLAGS:
        argv.extend(flags)
    argv += ["-o", str(trace)]
    if user is not None:
        argv += ["-u", user]
    argv.append("--")
    argv.extend(command)
    return argv


def read_uid_min(path: str = "/etc/login.defs") -> int | None:
    """UID_MIN from login.defs (None when the file or the setting is missing)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = re.match(r"\s*UID_MIN\s+(\d+)\s*(?:#.*)?$", line)
                if m:
                    return int(m.group(1))
    except OSError:
        return None
    return None


def _read_id(path: str) -> int | None:
    try:
        with open(path) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def default_output(directory: str | os.PathLike = ".", now: float | None = None) -> Path:
    """``tracerule-YYYYmmdd-HHMMSS.strace`` in ``directory``; ``-2``, ``-3`` ... when taken."""
    stamp = time.strftime(_DATE_FMT, time.localtime(now))
    base = Path(directory) / f"tracerule-{stamp}"
    cand = base.with_name(base.name + ".strace")
    n = 1
    from tracerule.sidecar import sidecar_path

    while cand.exists() or sidecar_path(cand).exists():
        n += 1
        cand = base.with_name(f"{base.name}-{n}.strace")
    return cand


def _resolve_command(cmd0: str) -> str | None:
    if os.sep in cmd0:
        return cmd0 if os.path.exists(cmd0) else None
    return shutil.which(cmd0)


def privileged_reason(command) -> str | None:
    """Why ``command`` will want privileges it gets only from a setuid/setgid bit or file
    capabilities (None when nothing says so): sudo/su/pkexec & co., or a setuid file on PATH."""
    if not command:
        return None
    path = _resolve_command(command[0])
    name = os.path.basename(command[0])
    if path is not None:
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None:
            if st.st_mode & _stat.S_ISUID:
                return f"{path} is setuid (owner uid {st.st_uid})"
            if st.st_mode & _stat.S_ISGID and st.st_mode & _stat.S_IXGRP:
                return f"{path} is setgid (group gid {st.st_gid})"
            try:
                if os.getxattr(path, "security.capability"):
                    return f"{path} has file capabilities"
            except OSError:
                pass
    if name in _PRIV_NAMES:
        return f"{name} gains its privileges from a setuid bit"
    return None


# ---- the executed files of a trace ----------------------------------------------------------------

_EXEC_NAMES = frozenset({"execve", "execveat"})
_CREATE_NAMES = frozenset({"clone", "clone2", "clone3", "fork", "vfork"})
_CWD_NAMES = frozenset({"chdir", "fchdir"})


def _exec_paths(trace, start_cwd: str) -> list[tuple[str, str | None]]:
    """(path as written, directory it is relative to or None) for every execve/execveat of the
    trace, in order, duplicates removed.  Working directories are tracked per task: the start
    directory, inherited at fork/clone, changed by a successful chdir/fchdir."""
    from tracerule.strace import values as V
    from tracerule.strace.events import Syscall
    from tracerule.strace.reader import TraceReader

    cwd: dict[int, str] = {}
    seen: set[tuple[str, str | None]] = set()
    out: list[tuple[str, str | None]] = []
    root_cwd = start_cwd
    reader = TraceReader(str(trace), names=_EXEC_NAMES | _CREATE_NAMES | _CWD_NAMES)
    for ev in reader:
        if not isinstance(ev, Syscall):
            continue
        here = cwd.get(ev.tid)
        if here is None:
            here = cwd[ev.tid] = root_cwd
        name = ev.name
        if name in _CREATE_NAMES:
            if ev.ret is not None and ev.ret > 0:
                cwd[ev.ret] = here
            continue
        if name in _CWD_NAMES:
            if ev.ret != 0:
                continue
            if name == "chdir":
                toks = V.split_args(ev.args)
                sv = V.decode_string(toks[0]) if toks else None
                if sv is not None:
                    p = sv.data.decode("utf-8", "surrogateescape")
                    cwd[ev.tid] = os.path.normpath(os.path.join(here, p))
            else:
                toks = V.split_args(ev.args)
                fv = V.fd_value(toks[0]) if toks else None
                if fv is not None and fv.path:
                    cwd[ev.tid] = fv.path.decode("utf-8", "surrogateescape")
            continue
        info = V.exec_info(ev)
        if info is None:
            continue
        if info.empty_path and not info.path:
            if info.dirfd_path:
                key = (info.dirfd_path.decode("utf-8", "surrogateescape"), None)
            else:
                continue
        elif info.path is None or not info.path:
            continue
        else:
            p = info.path.decode("utf-8", "surrogateescape")
            if p.startswith("/"):
                key = (p, None)
            elif info.name.startswith("execveat") and info.dirfd is not None and info.dirfd != -100:
                base = info.dirfd_path.decode("utf-8", "surrogateescape") if info.dirfd_path else None
                key = (p, base)
            elif info.name.startswith("execveat") and info.dirfd_path:
                key = (p, info.dirfd_path.decode("utf-8", "surrogateescape"))
            else:
                key = (p, here)
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def collect_exec_files(trace, start_cwd: str):
    """:class:`tracerule.sidecar.ExecFile` for every file the trace executed (stat'ed now), plus
    the ``#!`` interpreters of executed scripts (the kernel executes them too)."""
    from tracerule.sidecar import describe_file

    files = []
    done: set[str] = set()
    abs_done: set[str] = set()
    for path, base in _exec_paths(trace, start_cwd):
        if base is None and not path.startswith("/"):
            # relative to a directory fd we could not name: stat'ing it against our cwd would lie
            files.append(_unknown(path))
            continue
        f = describe_file(path, base)
        if path in done:
            # the same relative path in another directory: keep the first (the graph looks up
            # by path as written), the realpath of this one goes nowhere useful
            continue
        done.add(path)
        files.append(f)
        abs_done.add(path if path.startswith("/") else os.path.join(base or "", path))
    # the interpreters of scripts: the process's exe becomes the interpreter
    more = []
    for f in files:
        ip = f.interpreter if f.shebang else None
        if ip and ip.startswith("/") and ip not in done and ip not in abs_done:
            done.add(ip)
            more.append(describe_file(ip))
    return files + more


def _unknown(path: str):
    from tracerule.sidecar import ExecFile

    return ExecFile(path=path)


# ---- spawning and waiting -------------------------------------------------------------------------

_FWD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_SI_USER = 0
_SI_QUEUE = -1
_SI_TKILL = -6


@dataclass
class _Creds:
    uid: int
    gid: int
    groups: list[int]
    name: str
    home: str = "/"
    shell: str = "/bin/sh"


def user_environment(creds: _Creds, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the command gets under ``-u USER``: ours, with USER's HOME, USER, LOGNAME
    and SHELL (as su/runuser set them), so that the trace shows USER's files, not root's."""
    env = dict(os.environ if base is None else base)
    env.update(HOME=creds.home, USER=creds.name, LOGNAME=creds.name, SHELL=creds.shell or "/bin/sh")
    return env


@dataclass
class _Run:
    status: int = 0                      #: raw wait status
    wall: float = 0.0
    interrupts: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    killed: bool = False                 #: we sent SIGKILL after repeated interrupts
    sessionid: int | None = None         #: audit session id after the loginuid write


def _spawn(argv: list[str], *, auid: int | None, creds: _Creds | None,
           env: dict[str, str] | None = None) -> tuple[int, int | None]:
    """fork, (write loginuid), (drop to creds), restore signals, exec.  Returns (pid, sessionid).

    Failures before exec come back through a close-on-exec pipe with the stage and errno and are
    raised here as EnvironmentProblem."""
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # child: only async-signal-safe-ish work, then exec
        stage = "start"
        try:
            os.close(r)
            if auid is not None:
                stage = "loginuid"
                fd = os.open("/proc/self/loginuid", os.O_WRONLY)
                try:
                    os.write(fd, str(auid).encode())
                finally:
                    os.close(fd)
                sid = _read_id("/proc/self/sessionid")
                os.write(w, f"S {sid if sid is not None else ''}\n".encode())
            if creds is not None:
                stage = "setuid"
                os.setgroups(creds.groups)
                os.setresgid(creds.gid, creds.gid, creds.gid)
                os.setresuid(creds.uid, creds.uid, creds.uid)
            stage = "exec"
            for s in _FWD_SIGNALS + (signal.SIGPIPE, signal.SIGCHLD):
                signal.signal(s, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            if env is None:
                os.execvp(argv[0], argv)
            else:
                os.execvpe(argv[0], argv, env)
        except OSError as exc:
            try:
                os.write(w, f"E {stage} {exc.errno or 0}\n".encode())
            finally:
                os._exit(127)
        except BaseException:
            os._exit(127)
        os._exit(127)
    os.close(w)
    chunks = []
    while True:
        try:
            b = os.read(r, 4096)
        except InterruptedError:
            continue
        if not b:
            break
        chunks.append(b)
    os.close(r)
    sid = None
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        if line.startswith("S "):
            v = line[2:].strip()
            sid = int(v) if v.isdigit() else None
        elif line.startswith("E "):
            _, stage, num = (line.split() + ["", "0"])[:3]
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            en = int(num) if num.isdigit() else 0
            raise _spawn_error(stage, en, argv, auid, creds)
    return pid, sid


def _spawn_error(stage: str, en: int, argv, auid, creds) -> TraceruleError:
    msg = os.strerror(en) if en else "unknown error"
    if stage == "loginuid":
        why = _loginuid_refusal(en)
        return EnvironmentProblem(f"cannot set the login uid (auid) to {auid}: {msg}. {why}")
    if stage == "setuid":
        return EnvironmentProblem(f"cannot switch to user {creds.name} (uid {creds.uid}): {msg}")
    if en == _errno.ENOENT:
        return EnvironmentProblem(f"{argv[0]}: not found")
    return EnvironmentProblem(f"cannot run {argv[0]}: {msg}")


def _loginuid_refusal(en: int) -> str:
    cur = _read_id("/proc/self/loginuid")
    if en == _errno.ENOENT:
        return "This kernel has no /proc/self/loginuid (built without audit syscall support)."
    if en in (_errno.EPERM, _errno.EACCES):
        if cur is not None and cur != UNSET_ID:
            if os.geteuid() != 0:
                return (f"The login uid is already set ({cur}); changing it needs root "
                        "(CAP_AUDIT_CONTROL).")
            return (f"The login uid is already set ({cur}) and the kernel refuses to change it: "
                    "loginuid is immutable (auditctl --loginuid-immutable, or the "
                    "audit feature only-unset-loginuid), or CAP_AUDIT_CONTROL is missing "
                    "(a container?).  Run from a session whose auid is unset, or record without "
                    "--auid and give `tracerule graph --auid N` instead.")
        return "The kernel refused the write (no CAP_AUDIT_CONTROL in this namespace?)."
    return "Record without --auid and give `tracerule graph --auid N` instead."


def _tracees(tracer: int) -> list[int]:
    """Processes (thread-group ids) traced by ``tracer``."""
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for n in names:
        if not n.isdigit():
            continue
        try:
            with open(f"/proc/{n}/status", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        m = re.search(rb"\nTracerPid:\s*(\d+)", data)
        if m and int(m.group(1)) == tracer:
            out.append(int(n))
    return out


def _signal_all(targets: list[int], sig: int) -> int:
    n = 0
    for t in targets:
        try:
            os.kill(t, sig)
            n += 1
        except (ProcessLookupError, PermissionError):
            pass
    return n


def _wait(pid: int, *, traced: bool, say) -> _Run:
    """Wait for ``pid`` with SIGINT/SIGTERM/SIGHUP/SIGCHLD blocked (the caller blocked them before
    the fork), forwarding interrupts that were sent to us alone to the command."""
    run = _Run()
    t0 = time.monotonic()
    pending_fwd: list[tuple[int, float]] = []   # signals still to deliver (no tracee yet)
    watched = set(_FWD_SIGNALS) | {signal.SIGCHLD}
    while True:
        try:
            wpid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            wpid, status = pid, 0
        if wpid == pid:
            run.status = status
            break
        info = signal.sigtimedwait(watched, 0.2)
        if pending_fwd:
            still = []
            for sig, since in pending_fwd:
                targets = _tracees(pid) if traced else [pid]
                if targets:
                    _signal_all(targets, sig)
                elif time.monotonic() - since < 5:
                    still.append((sig, since))
            pending_fwd = still
        if info is None or info.si_signo == signal.SIGCHLD:
            continue
        sig = info.si_signo
        name = signal.Signals(sig).name
        run.interrupts.append(name)
        from_process = info.si_code in (_SI_USER, _SI_QUEUE, _SI_TKILL) and info.si_pid != 0
        if len(run.interrupts) >= 3 and not run.killed:
            say(f"tracerule record: {name} again: killing the command (SIGKILL)")
            run.killed = True
            _signal_all(_tracees(pid) if traced else [pid], signal.SIGKILL)
            continue
        if from_process:
            targets = _tracees(pid) if traced else [pid]
            run.forwarded.append(name)
            if targets:
                _signal_all(targets, sig)
            else:
                pending_fwd.append((sig, time.monotonic()))
        # a terminal's Ctrl-C / hangup already reached the whole foreground group, command included
    run.wall = time.monotonic() - t0
    return run


def _drain_signals() -> list[str]:
    got = []
    while True:
        info = signal.sigtimedwait(set(_FWD_SIGNALS) | {signal.SIGCHLD}, 0)
        if info is None:
            return got
        if info.si_signo != signal.SIGCHLD:
            got.append(signal.Signals(info.si_signo).name)


def _exit_status(status: int) -> tuple[int, int | None]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return 128 + sig, sig
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None
    return 1, None


# ---- the sidecar -----------------------------------------------------------------------------------

def _user_creds(user: str) -> _Creds:
    try:
        pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, OverflowError):
        raise TraceruleError(f"-u {user}: no such user on this host", exit_code=ExitCode.USAGE) from None
    try:
        groups = sorted(set(os.getgrouplist(pw.pw_name, pw.pw_gid)))
    except OSError:
        groups = [pw.pw_gid]
    return _Creds(pw.pw_uid, pw.pw_gid, groups, pw.pw_name, pw.pw_dir or "/", pw.pw_shell or "/bin/sh")


def _self_creds():
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = None
    return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "egid": os.getegid(),
            "groups": sorted(set(os.getgroups())), "user": name,
            "auid": _read_id("/proc/self/loginuid"), "sessionid": _read_id("/proc/self/sessionid")}


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


# ---- the whole thing -------------------------------------------------------------------------------

def _prepare_output(opts: RecordOptions) -> Path:
    from tracerule.sidecar import sidecar_path

    try:
        return _prepare_output_unchecked(opts, sidecar_path)
    except OSError as exc:
        where = exc.filename or opts.output or "."
        raise InputError(f"{where}: cannot create the trace there: {exc.strerror}") from None


def _prepare_output_unchecked(opts: RecordOptions, sidecar_path) -> Path:
    trace = Path(opts.output) if opts.output else default_output()
    if trace.is_dir():
        raise InputError(f"{trace}: is a directory (give a file name with -o)")
    parent = trace.parent if str(trace.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{trace}: directory {parent} does not exist")
    sc = sidecar_path(trace)
    if not opts.force:
        for p in (trace, sc):
            if p.exists() or p.is_symlink():
                raise TraceruleError(f"{p} exists: not overwriting it (use --force, or another -o)",
                                     exit_code=ExitCode.USAGE)
    # create the trace 0600 (it holds up to 4096 bytes of every buffer read or written);
    # strace then opens it with O_TRUNC and keeps the mode
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if opts.force else os.O_EXCL)
    try:
        fd = os.open(trace, flags, 0o600)
    except FileExistsError:
        raise TraceruleError(f"{trace} exists: not overwriting it (use --force)",
                             exit_code=ExitCode.USAGE) from None
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return trace


def preflight(opts: RecordOptions) -> list[str]:
    """Checks made before anything runs: raise on what cannot work, return warnings."""
    warnings: list[str] = []
    if not opts.command:
        raise TraceruleError("no command given: tracerule record [OPTIONS] -- CMD [ARGS...]",
                             exit_code=ExitCode.USAGE)
    if opts.auid is not None and not 0 <= opts.auid < UNSET_ID:
        raise TraceruleError(f"--auid {opts.auid}: must be between 0 and {UNSET_ID - 1}",
                             exit_code=ExitCode.USAGE)
    root = os.geteuid() == 0
    if opts.user is not None:
        _user_creds(opts.user)
        if not root:
            raise EnvironmentProblem(
                f"-u {opts.user} needs root: strace switches to the user itself, and only a root "
                "tracer makes setuid programs escalate as in production.  Run: "
                f"sudo tracerule record -u {opts.user} ... -- {' '.join(opts.command)}")
    if _resolve_command(opts.command[0]) is None:
        raise TraceruleError(f"{opts.command[0]}: command not found", exit_code=ExitCode.USAGE)
    if not root:
        why = privileged_reason(opts.command)
        if why:
            warnings.append(
                f"warning: you are not root, and {why}: under ptrace the kernel ignores setuid/"
                "setgid bits and file capabilities unless the tracer is root, so the command will "
                "run without those privileges and the trace will not show what production sees.  "
                "Record as root with -u YOURUSER: sudo tracerule record -u "
                f"{_self_creds()['user'] or os.getuid()} -- {' '.join(opts.command)}")
    elif opts.user is None and os.environ.get("SUDO_USER") and os.environ["SUDO_USER"] != "root":
        warnings.append(
            f"note: the command runs as root; to record it as {os.environ['SUDO_USER']} (with sudo "
            f"etc. escalating as in production), add -u {os.environ['SUDO_USER']}")
    return warnings


def record(opts: RecordOptions, *, say=None) -> RecordResult:
    """Run ``opts.command`` under strace, write the trace and its sidecar, return the result.

    ``say``: where progress and warnings go (default: stderr).  Raises TraceruleError subclasses
    for what cannot run (missing strace, -u without root, existing output without force ...).
    """
    from tracerule import __version__
    from tracerule.sidecar import SCHEMA_VERSION, Recorder, Sidecar, parse_sidecar, sidecar_path

    if say is None:
        def say(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

    strace = find_strace(opts.strace)
    version_line, version = strace_version(strace)
    if version < MIN_STRACE:
        raise EnvironmentProblem(f"{version_line}: record needs strace {'.'.join(map(str, MIN_STRACE))} "
                                 "or newer (for -e quiet= and -X verbose)")
    warnings = preflight(opts)
    for w in warnings:
        say(w)
    creds = _user_creds(opts.user) if opts.user is not None else None
    me = _self_creds()
    trace = _prepare_output(opts)
    sc_path = sidecar_path(trace)
    cwd = os.getcwd()
    argv = strace_argv(strace, trace, opts.command, creds.name if creds else None)
    say(f"tracerule record: tracing into {trace}"
        + (f" as {creds.name} (uid {creds.uid})" if creds else f" as {me['user'] or me['uid']}")
        + (f", auid {opts.auid}" if opts.auid is not None else ""))
    from datetime import datetime

    start_iso = datetime.now().astimezone().isoformat(timespec="microseconds")

    env = user_environment(creds) if creds is not None else None
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(_FWD_SIGNALS) | {signal.SIGCHLD})
    notes: list[str] = []
    untraced = None
    try:
        try:
            pid, sessionid = _spawn(argv, auid=opts.auid, creds=None, env=env)
        except EnvironmentProblem:
            _remove_if_empty(trace)
            raise
        run = _wait(pid, traced=True, say=say)
        status, killed_by = _exit_status(run.status)
        if trace.stat().st_size == 0:
            _remove_if_empty(trace)
            raise EnvironmentProblem(f"strace wrote no trace (it exited with status {status}; "
                                     "its message is above)")
        late = _drain_signals()
        run.interrupts.extend(late)
        interrupted = bool(run.interrupts)
        if opts.time_untraced:
            if interrupted:
                notes.append("untraced run skipped: the traced run was interrupted")
                say("tracerule record: not re-running without strace (interrupted)")
            else:
                say("tracerule record: running the command again without strace (--time-untraced)")
                upid, _ = _spawn(list(opts.command), auid=opts.auid, creds=creds, env=env)
                urun = _wait(upid, traced=False, say=say)
                ustatus, _ = _exit_status(urun.status)
                if urun.interrupts:
                    notes.append("untraced run interrupted: its time is not recorded")
                    interrupted = True
                else:
                    untraced = round(urun.wall, 6)
                    if ustatus != status:
                        notes.append(f"the untraced run exited with {ustatus}, the traced one with "
                                     f"{status}: the two runs did not do the same thing")
        # ---- the sidecar
        files = tuple(collect_exec_files(trace, cwd))
        if opts.auid is not None:
            auid, auid_how = opts.auid, "written to /proc/self/loginuid by tracerule before exec'ing strace (not in the trace)"
            sid = sessionid
        else:
            auid, auid_how = me["auid"], "inherited from the session that ran tracerule record"
            sid = me["sessionid"]
        if creds is not None:
            rec = Recorder(uid=creds.uid, euid=creds.uid, gid=creds.gid, egid=creds.gid,
                           groups=tuple(creds.groups), auid=auid, sessionid=sid, user=creds.name)
            notes.append(f"strace ran as {me['user'] or me['uid']} (uid {me['uid']}) and started the "
                         f"command as {creds.name} with -u: setuid/setgid bits were honoured; "
                         f"environment: the recorder's with HOME={creds.home}, USER/LOGNAME="
                         f"{creds.name}, SHELL={creds.shell}")
        else:
            rec = Recorder(uid=me["uid"], euid=me["euid"], gid=me["gid"], egid=me["egid"],
                           groups=tuple(me["groups"]), auid=auid, sessionid=sid, user=me["user"])
            if me["euid"] != 0:
                notes.append("strace ran as a non-root user: setuid/setgid bits and file "
                             "capabilities were NOT honoured; euids after such execs are not what "
                             "production sees")
        if opts.auid is not None:
            notes.append(f"auid {opts.auid} set before strace started (session id {sid})")
        if run.interrupts:
            notes.append("interrupted by " + ", ".join(run.interrupts)
                         + (" (forwarded to the command)" if run.forwarded else "")
                         + ("; the command was killed with SIGKILL" if run.killed else ""))
        notes.append(f"traced wall time {run.wall:.6f} s")
        sc = Sidecar(schema_version=SCHEMA_VERSION, trace=trace.name, tracerule_version=__version__,
                     strace_version=version_line, kernel=os.uname().release,
                     arch=os.uname().machine, hostname=os.uname().nodename, start_time=start_iso,
                     untraced_wall_time=untraced, recorder=rec,
                     target_user=creds.name if creds else me["user"],
                     target_uid=creds.uid if creds else me["uid"], uid_min=read_uid_min(), cwd=cwd,
                     command=tuple(opts.command), files=files, notes=tuple(notes))
        data = sc.to_dict()
        # additions beyond schema 1 (readers ignore unknown keys): who strace ran as, how the
        # auid was set, the strace command line, the traced wall time and the exit status
        data["tracer"] = {k: me[k] for k in ("uid", "euid", "gid", "egid", "groups", "user",
                                             "auid", "sessionid")}
        data["tracer"]["setuid_honoured"] = me["euid"] == 0
        data["auid_source"] = {"auid": auid, "how": auid_how, "set_by_tracerule": opts.auid is not None}
        data["strace_command"] = argv
        data["traced_wall_time"] = round(run.wall, 6)
        data["exit_status"] = status
        data["killed_by"] = signal.Signals(killed_by).name if killed_by else None
        _write_json_atomic(sc_path, data)
        parse_sidecar(sc_path.read_text(encoding="utf-8"), str(sc_path))  # what we wrote reads back
        late = _drain_signals()
        if late:
            interrupted = True
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    return RecordResult(trace=trace, sidecar=sc_path, exit_status=status, killed_by=killed_by,
                        interrupted=interrupted, traced_wall_time=run.wall,
                        untraced_wall_time=untraced, executed_files=len(files),
                        warnings=tuple(warnings), notes=tuple(notes))


def _remove_if_empty(p: Path) -> None:
    try:
        if p.stat().st_size == 0:
            p.unlink()
    except OSError:
        pass
