"""The attack scenarios: how each is set up, run, torn down, and what it must be caught doing.

Recorded here with real tools (``python -m tests.scenarios.defs record`` as root writes
``tests/data/scenarios/<name>.strace`` + sidecar); the kernel tests re-run the same command through the
kernel harness.  Every host change a scenario makes (a user, a file in /etc, a temporary setuid copy)
is undone by its ``prepared`` context manager, also on failure.

``must_catch``: the events the suggested rules must make the kernel log, declared here, before any
suggestion exists: (syscall, exe the event's process runs, a path the event names -- None: any).
``broad``: the broad rule of the same category the suggestion is compared with on the baseline.
"""
from __future__ import annotations

import contextlib
import os
import pwd
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
    user: str | None                 #: run as (None: root)
    auid: int
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
        srv.close()


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


def _user():
    for u in ("cloudsdk",):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(u)
            return u
    return None


TEST_USER = _user()
AUID = 1000

SCENARIOS = {s.name: s for s in (
    Scenario("revshell", TEST_USER, AUID, (MustCatch("connect", "/usr/bin/bash"),), "all connect",
             "a reverse shell: bash's /dev/tcp to a listener on 127.0.0.1"),
    Scenario("useradd", None, AUID, (MustCatch("execve", "/usr/sbin/useradd", success=True),
                                     MustCatch("rename", "/usr/sbin/useradd", "/etc/passwd")), "-w /etc -p wa",
             "adding a throwaway user (removed after; account files restored)"),
    Scenario("sudoers", None, AUID, (MustCatch("openat", "/usr/bin/bash", "/etc/sudoers.d/tracerule-test"),),
             "-w /etc -p wa", "a file dropped into /etc/sudoers.d (removed after)"),
    Scenario("cron", None, AUID, (MustCatch("openat", "/usr/bin/bash", "/etc/cron.d/tracerule-test"),),
             "-w /etc -p wa", "cron persistence: a file in /etc/cron.d (removed after)"),
    Scenario("module", None, AUID, (MustCatch("finit_module", "/usr/bin/python3.11"),), "rootcmd",
             "an attempt to load a kernel module from an invalid file (fails harmlessly)"),
    Scenario("ptrace", TEST_USER, AUID, (MustCatch("ptrace", "/usr/bin/strace"),), "all execve",
             "strace -p attaching to a sleep of the same user"),
    Scenario("setuid", TEST_USER, AUID, (MustCatch("execve", FIXED_DIR + "/id-suid", success=True),), "rootcmd",
             "a setuid-root copy of id in a temporary directory, run by a user"),
)}


def record_all(names=None) -> None:
    from tracerule.record import RecordOptions, record

    DATA.mkdir(parents=True, exist_ok=True)
    for name, sc in SCENARIOS.items():
        if names and name not in names:
            continue
        with prepared(name, sc.user) as params:
            res = record(RecordOptions(command=tuple(sc.command(params)), output=str(sc.trace), user=sc.user,
                                       auid=sc.auid, force=True))
            print(name, res.exit_status, res.trace)


if __name__ == "__main__":
    import sys

    if len(sys.argv) >= 2 and sys.argv[1] == "record":
        record_all(sys.argv[2:])
    else:
        print("usage: python -m tests.scenarios.defs record [NAME...]   (as root)")
