"""The kernel harness: safe, shared access to the real kernel audit (for tests and commands).

The kernel's audit state is global and outlives the process that changes it, so every piece of
tracerule that touches it goes through :meth:`KernelAudit.session`::

    from tracerule.audit.kernel import KernelAudit
    with KernelAudit.session() as k:
        key = k.new_key("exec")
        rule = k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-k", key])
        k.enable()
        status = k.run(["/usr/bin/true"], user="nobody", auid=1234)
        events = k.events([key])
        k.delete_rule(rule)          # optional: the session deletes what is left

What a session guarantees:

* **One run at a time**: an exclusive ``flock`` on ``<state dir>/kernel.lock``.  A second run waits
  (``lock_timeout``) and then fails with a message naming the holder.
* **Only its own rules**: every rule must carry a key made by :meth:`KernelAudit.new_key` (keys of one
  run are never substrings of each other nor of another run's keys: ``ausearch -k`` matches
  substrings).  Rules are appended (``-A`` is refused), ``-D`` is refused, and so are ``-e 2``,
  ``-f 2``, ``--loginuid-immutable`` and task-list rules (unless ``allow_task=True``).
* **A journal written before every change** (``<state dir>/journal-<pid>.json``): the owner pid, the
  settings found, and each rule *before* it is loaded.  If a run dies outright (SIGKILL, OOM) the next
  session of any run -- or ``tracerule kernel cleanup`` -- deletes exactly that run's rules still listed
  and restores its saved settings.  The state dir is ``/run/tracerule`` (``$TRACERULE_STATE_DIR``
  overrides).  A journal records the boot id: one left from an earlier boot (power loss) is simply
  discarded -- its rules and settings died with that boot.
* **Cleanup on exit** -- normal, exception, SIGINT, SIGTERM, SIGHUP: this run's rules are deleted in
  reverse load order, ``enabled``, ``failure``, ``backlog_limit``, ``backlog_wait_time`` and
  ``rate_limit`` are restored as found, the journal is removed and the lock released.

Watches: the kernel silently auto-removes a watch (``-w``/``path=``/``dir=``) whose parent directory
is deleted, and on this kernel that leaks ``audit_n_rules`` (every syscall of the host then pays the
"rules loaded" cost until reboot).  **Delete the watch before the directory it watches**: callers that
create temporary directories must ``delete_rule`` their watches (or leave the session) before removing
the directories.  Rules are deleted in reverse load order, so a watch loaded after its directory's
creation is deleted before anything loaded earlier.

Events come from auditd's log (by byte offset) when an auditd runs, else from the audit netlink
multicast group (read-only; this module never registers as the audit daemon).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from tracerule.errors import EnvironmentProblem, TraceruleError
from tracerule.exitcodes import ExitCode

JOURNAL_VERSION = 1
DEFAULT_STATE_DIR = "/run/tracerule"
FALLBACK_STATE_DIR = "/var/lib/tracerule"

#: the settings a session saves and restores, in the order they are restored (enabled last)
SETTINGS = ("failure", "rate_limit", "backlog_limit", "backlog_wait_time", "enabled")
_SETTING_OPT = {
    "enabled": "-e",
    "failure": "-f",
    "rate_limit": "-r",
    "backlog_limit": "-b",
    "backlog_wait_time": "--backlog_wait_time",
}

_KEY_RE = re.compile(r"^trr[0-9a-f]{10}-[0-9]{4}(?:-[A-Za-z0-9_.]{1,32})?$")
_TAG_CLEAN = re.compile(r"[^A-Za-z0-9_.]")
#: the trailing key options of an ``auditctl -l`` line
_LISTED_KEYS = re.compile(r"((?:\s+(?:-k\s+|-F\s+key=)\S+)+)\s*$")
_ONE_KEY = re.compile(r"(?:-k\s+|-F\s+key=)(\S+)")


# ----------------------------------------------------------------------------------------- errors
class KernelUnavailable(EnvironmentProblem):
    """The kernel audit cannot be used here (not root, no auditctl, no audit in the kernel, immutable)."""

    exit_code = ExitCode.ENVIRONMENT


class RuleRefused(TraceruleError):
    """auditctl (or the kernel) refused a rule; the message is auditctl's stderr."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, argv: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.argv = tuple(argv)


class Inconclusive(TraceruleError):
    """The run's answer cannot be trusted: the kernel's ``lost`` counter rose (or the listener dropped)."""

    exit_code = ExitCode.INCONCLUSIVE


class LockTimeout(EnvironmentProblem):
    """Another tracerule kernel run held the lock for longer than we were willing to wait."""


class SessionInterrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived during a session (SIGINT gives the usual KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


# ------------------------------------------------------------------------------------- data types
@dataclass(frozen=True, slots=True)
class LoadedRule:
    """A rule this run loaded.  ``listed`` is its ``auditctl -l`` line ("" when it could not be told)."""

    argv: tuple[str, ...]
    keys: tuple[str, ...]
    index: int
    listed: str = ""
    warning: str = ""      #: what auditctl printed on stderr although it loaded the rule

    @property
    def is_watch(self) -> bool:
        return self.argv[:1] == ("-w",)


@dataclass(frozen=True, slots=True)
class CleanupReport:
    """What cleaning a (stale or own) journal did."""

    journal: str
    owner_pid: int
    deleted: tuple[str, ...] = ()          #: listed lines deleted
    already_gone: tuple[str, ...] = ()     #: journaled rules that were not listed any more
    restored: tuple[tuple[str, int, int], ...] = ()   #: (setting, from, to)
    problems: tuple[str, ...] = ()
    skipped_reason: str = ""               #: non-empty: the journal was left alone (owner alive)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.skipped_reason


# ---------------------------------------------------------------------------------------- helpers
def _auditctl_path() -> str:
    """``$TRACERULE_AUDITCTL``, else ``auditctl`` on PATH, else in /usr/sbin or /sbin."""
    env = os.environ.get("TRACERULE_AUDITCTL")
    if env:
        if os.access(env, os.X_OK):
            return env
        raise KernelUnavailable(f"TRACERULE_AUDITCTL={env} is not an executable")
    path = shutil.which("auditctl") or shutil.which("auditctl", path="/usr/sbin:/sbin")
    if path is None:
        raise KernelUnavailable("auditctl is not installed (Debian/Ubuntu: apt-get install auditd)")
    return path


def auditctl(args: Sequence[str], *, check: bool = False, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run ``auditctl ARGS`` in its own session (a terminal's Ctrl-C does not kill it midway)."""
    try:
        res = subprocess.run([_auditctl_path(), *args], capture_output=True, text=True,
                             errors="replace", timeout=timeout, start_new_session=True)
    except FileNotFoundError as exc:
        raise KernelUnavailable(f"auditctl could not be run: {exc}") from None
    except PermissionError as exc:
        raise KernelUnavailable(f"auditctl could not be run: {exc}") from None
    if check and res.returncode != 0:
        raise KernelUnavailable(f"auditctl {' '.join(args)} failed: {_msg(res)}")
    return res


def _msg(res: subprocess.CompletedProcess) -> str:
    text = (res.stderr or "").strip() or (res.stdout or "").strip() or f"exit status {res.returncode}"
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def parse_status(text: str) -> dict:
    """Parse ``auditctl -s`` output into ``{name: int | str}`` (``loginuid_immutable 0 unlocked`` -> 0,
    with the word kept as ``loginuid_immutable_state``)."""
    out: dict = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, value = parts[0], parts[1]
        try:
            out[name] = int(value)
        except ValueError:
            out[name] = value
        if len(parts) > 2:
            out[f"{name}_state"] = " ".join(parts[2:])
    return out


def read_status() -> dict:
    """``auditctl -s`` parsed; raises :class:`KernelUnavailable` with the reason when it cannot be read."""
    if os.geteuid() != 0:
        raise KernelUnavailable("kernel audit needs root (CAP_AUDIT_CONTROL); run as root or with sudo")
    res = auditctl(["-s"])
    if res.returncode != 0:
        msg = _msg(res)
        low = msg.lower()
        if "protocol not supported" in low or "address family not supported" in low:
            raise KernelUnavailable(f"the kernel has no audit support (CONFIG_AUDIT off or audit=0): {msg}")
        if "operation not permitted" in low:
            raise KernelUnavailable(f"auditctl -s was refused (missing CAP_AUDIT_CONTROL, "
                                    f"or a user/container namespace): {msg}")
        raise KernelUnavailable(f"auditctl -s failed: {msg}")
    st = parse_status(res.stdout)
    if "enabled" not in st:
        raise KernelUnavailable(f"auditctl -s printed no status: {res.stdout.strip()[:200]!r}")
    return st


def check_available() -> dict:
    """The status, or :class:`KernelUnavailable` when rules cannot be loaded (incl. immutable audit)."""
    st = read_status()
    if st.get("enabled") == 2:
        raise KernelUnavailable("kernel audit is immutable (enabled 2): no rule can be added or "
                                "deleted until reboot")
    return st


def listed_lines() -> list[str]:
    """``auditctl -l`` lines (empty list for "No rules")."""
    res = auditctl(["-l"])
    if res.returncode != 0:
        raise KernelUnavailable(f"auditctl -l failed: {_msg(res)}")
    return [ln for ln in res.stdout.splitlines() if ln.strip() and ln.strip() != "No rules"]


def keys_of_listed(line: str) -> tuple[str, ...]:
    """The keys of an ``auditctl -l`` line (its trailing ``-k K`` / ``-F key=K`` options)."""
    m = _LISTED_KEYS.search(line)
    if not m:
        return ()
    return tuple(_ONE_KEY.findall(m.group(1)))


def auditd_pids() -> list[int]:
    """PIDs of running ``auditd`` processes (exact name; kauditd is a kernel thread, not auditd)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            comm = (d / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "auditd":
            pids.append(int(d.name))
    return sorted(pids)


def _proc_starttime(pid: int) -> int | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    try:
        return int(rest[19])  # field 22 overall
    except (IndexError, ValueError):
        return None


def _pid_alive(pid: int, starttime: int | None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    st = _proc_starttime(pid)
    if st is None:
        return False
    return starttime is None or st == starttime


def boot_id() -> str:
    """This boot's id (a journal from another boot describes a kernel state that no longer exists)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def state_dir() -> Path:
    """Where the lock and journals live: ``$TRACERULE_STATE_DIR``, ``/run/tracerule``, ``/var/lib/tracerule``
    or (not root) a per-user tmp dir."""
    env = os.environ.get("TRACERULE_STATE_DIR")
    cands = [env] if env else []
    if os.geteuid() == 0:
        cands += [DEFAULT_STATE_DIR, FALLBACK_STATE_DIR]
    cands.append(os.path.join(tempfile.gettempdir(), f"tracerule-{os.geteuid()}"))
    for c in cands:
        p = Path(c)
        try:
            p.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(p, os.W_OK):
            return p
    raise KernelUnavailable(f"no writable state directory for the kernel lock (tried {', '.join(cands)})")


def _atomic_write_json(path: Path, data: dict, *, sync: bool = True) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data, indent=1).encode())
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if not sync:
        return
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# -------------------------------------------------------------------------------- argv validation
_ALLOWED_OPTS = {"-a", "-w", "-p", "-k", "-F", "-S", "-C"}
_LISTS = {"exit", "task", "user", "exclude", "filesystem", "io_uring"}
_ACTIONS = {"always", "never"}


def validate_rule_argv(argv: Sequence[str], run_keys: Iterable[str] | None = None, *,
                       allow_task: bool = False) -> tuple[str, ...]:
    """Check that ``argv`` is one appended rule (or watch) carrying only this run's keys.

    Returns its keys.  Raises ``ValueError`` naming the reason for anything else: ``-A``, ``-D``,
    ``-e``/``-f``/``-b`` or any other control option, ``--loginuid-immutable``, a rule without a key of
    this run, a task-list rule (unless ``allow_task``), option clusters such as ``-aalways,exit``."""
    if isinstance(argv, str) or not all(isinstance(a, str) for a in argv):
        raise ValueError("a rule is a list of auditctl arguments (strings), without the program name")
    argv = list(argv)
    if not argv:
        raise ValueError("empty rule")
    for a in argv:
        if "\n" in a or "\0" in a:
            raise ValueError(f"control character in rule argument {a!r}")
    for opt in argv[0::2]:
        if opt == "-A" or opt.startswith("-A"):
            raise ValueError("-A (prepend) is refused: rules are only appended after what is loaded")
        if opt == "-D" or opt.startswith("-D"):
            raise ValueError("-D (delete all) is refused: delete exactly this run's rules")
        if opt.startswith("--loginuid"):
            raise ValueError("--loginuid-immutable is refused: it locks until reboot")
        if opt[:2] in ("-e", "-f"):
            raise ValueError(f"{opt} is refused in a rule; settings are changed with set_setting()/enable()")
    if len(argv) % 2:
        raise ValueError(f"rule arguments must be option/value pairs: {argv!r}")
    keys: list[str] = []
    kind = None
    for opt, val in zip(argv[0::2], argv[1::2]):
        if opt not in _ALLOWED_OPTS:
            if opt in ("-A",):
                raise ValueError("-A (prepend) is refused: rules are only appended after what is loaded")
            if opt in ("-D",):
                raise ValueError("-D (delete all) is refused: delete exactly this run's rules")
            if opt.startswith("--loginuid"):
                raise ValueError("--loginuid-immutable is refused: it locks until reboot")
            if opt in ("-e", "-f"):
                raise ValueError(f"{opt} is refused in a rule; settings are changed with set_setting()/enable()")
            raise ValueError(f"option {opt!r} is not allowed in a rule (allowed: -a -w -p -k -F -S -C)")
        if opt in ("-a", "-w"):
            if kind is not None:
                raise ValueError("one rule per add_rule(): -a/-w given twice")
            kind = opt
            if opt == "-a":
                parts = [p.strip() for p in val.split(",")]
                if len(parts) != 2 or not ({parts[0], parts[1]} & _ACTIONS) or not ({parts[0], parts[1]} & _LISTS):
                    raise ValueError(f"-a needs ACTION,LIST (e.g. always,exit), got {val!r}")
                lst = parts[0] if parts[0] in _LISTS else parts[1]
                if lst == "task" and not allow_task:
                    raise ValueError("task-list rules are refused unless allow_task=True (they change which "
                                     "processes are audited at all)")
            elif not val.startswith("/"):
                raise ValueError(f"-w needs an absolute path, got {val!r}")
        elif opt == "-k":
            keys.append(val)
        elif opt == "-F":
            if val.startswith("key="):
                keys.append(val[4:])
            elif re.match(r"^(key)\s*(!=|=)", val):
                raise ValueError(f"malformed key field {val!r}")
        elif opt == "-p" and kind != "-w":
            raise ValueError("-p belongs to a watch (-w PATH -p PERMS)")
    if kind is None:
        raise ValueError("a rule needs -a ACTION,LIST or -w PATH")
    if argv[0] != kind:
        raise ValueError(f"the rule must start with {kind}")
    if not keys:
        raise ValueError("the rule has no key: every rule must carry a key of this run (new_key())")
    if run_keys is not None:
        run_keys = set(run_keys)
        foreign = [k for k in keys if k not in run_keys]
        if foreign:
            raise ValueError(f"key(s) {foreign!r} are not keys of this run (use new_key())")
    return tuple(keys)


def rule_paths(argv: Sequence[str]) -> list[str]:
    """The paths a rule hangs on the file system: ``-w PATH``, ``-F path=``, ``-F dir=``, ``-F exe=``."""
    out = []
    for opt, val in zip(argv[0::2], argv[1::2]):
        if opt == "-w":
            out.append(val)
        elif opt == "-F":
            m = re.match(r"^(path|dir|exe)(?:!=|=)(.*)$", val)
            if m:
                out.append(m.group(2))
    return out


def _inside(path: str, d: Path) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), str(d)]) == str(d)
    except ValueError:
        return False


def _delete_forms(argv: Sequence[str], listed: str) -> list[list[str]]:
    """auditctl argument lists that delete the rule loaded by ``argv`` (tried in order)."""
    argv = list(argv)
    forms: list[list[str]] = []
    if argv[0] == "-a":
        forms.append(["-d", *argv[1:]])
    else:
        forms.append(["-W", *argv[1:]])
        # a watch loaded as path= on a then-missing path which is now a directory (or the reverse):
        # -W would build dir= (path=), so spell the fields out.
        path = argv[1].rstrip("/") or "/"
        perms = "rwxa"
        keys: list[str] = []
        for opt, val in zip(argv[0::2], argv[1::2]):
            if opt == "-p":
                perms = val
            elif opt == "-k":
                keys.append(val)
            elif opt == "-F" and val.startswith("key="):
                keys.append(val[4:])
        kargs = [a for k in keys for a in ("-k", k)]
        for fld in ("path", "dir"):
            forms.append(["-d", "always,exit", "-F", f"{fld}={path}", "-F", f"perm={perms}", *kargs])
    if listed:
        toks = listed.split()
        if toks[:1] == ["-a"]:
            forms.append(["-d", *toks[1:]])
        elif toks[:1] == ["-w"]:
            forms.append(["-W", *toks[1:]])
    out: list[list[str]] = []
    for f in forms:
        if f not in out:
            out.append(f)
    return out


# ------------------------------------------------------------------------------------------ journal
class Journal:
    """The on-disk record of one run: written before every kernel change."""

    def __init__(self, path: Path, data: dict) -> None:
        self.path = path
        self.data = data

    @classmethod
    def create(cls, directory: Path, run_id: str, saved: dict) -> "Journal":
        pid = os.getpid()
        data = {
            "version": JOURNAL_VERSION,
            "pid": pid,
            "starttime": _proc_starttime(pid),
            "run_id": run_id,
            "boot_id": boot_id(),
            "created": time.time(),
            "saved": {k: saved[k] for k in SETTINGS if isinstance(saved.get(k), int)},
            "rules": [],
        }
        j = cls(directory / f"journal-{pid}-{run_id}.json", data)
        j.write()
        return j

    @classmethod
    def load(cls, path: Path) -> "Journal":
        return cls(path, json.loads(path.read_text()))

    def write(self, *, sync: bool = True) -> None:
        """Atomically replace the journal; ``sync=False`` for updates a crash may lose harmlessly."""
        _atomic_write_json(self.path, self.data, sync=sync)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @property
    def owner_alive(self) -> bool:
        return _pid_alive(int(self.data.get("pid", 0)), self.data.get("starttime"))


def journals(directory: Path | None = None) -> list[Path]:
    d = directory or state_dir()
    return sorted(d.glob("journal-*.json"))


def _delete_listed_rule(argv: Sequence[str], listed: str, keys: Sequence[str]) -> tuple[bool, str]:
    """Delete one rule; True when a line carrying its keys and matching ``listed`` disappeared."""
    before = listed_lines()
    ours = [ln for ln in before if set(keys_of_listed(ln)) & set(keys)]
    target = listed if listed and listed in ours else (ours[0] if len(ours) == 1 else listed)
    if not ours or (listed and listed not in ours):
        return False, "not listed"
    last = ""
    for form in _delete_forms(argv, target):
        res = auditctl(form)
        if res.returncode == 0:
            after = listed_lines()
            if after.count(target) < before.count(target) or (not target and len(after) < len(before)):
                return True, ""
            last = f"auditctl {' '.join(form)} succeeded but the rule is still listed"
        else:
            last = _msg(res)
    return False, last


def clean_journal(path: Path, *, force: bool = False) -> CleanupReport:
    """Delete the rules of a journaled run that are still listed, restore its saved settings, and remove
    the journal -- unless its owner process is alive (then nothing is touched unless ``force``)."""
    try:
        j = Journal.load(path)
    except (OSError, ValueError) as exc:
        return CleanupReport(str(path), 0, problems=(f"unreadable journal: {exc}",))
    owner = int(j.data.get("pid", 0))
    jboot = j.data.get("boot_id", "")
    if jboot and boot_id() and jboot != boot_id():
        # written before a reboot: its rules and settings died with that boot (a rules file loaded at
        # boot is not ours to touch), so there is nothing to undo
        j.remove()
        return CleanupReport(str(path), owner, problems=())
    if j.owner_alive and owner != os.getpid() and not force:
        return CleanupReport(str(path), owner, skipped_reason=f"its owner (pid {owner}) is still running")
    deleted: list[str] = []
    gone: list[str] = []
    problems: list[str] = []
    run_id = str(j.data.get("run_id", ""))
    # fast path: one listing, one auditctl per rule, one listing to verify; stragglers go the slow way
    current = listed_lines()
    pending: list[dict] = []
    for entry in reversed(j.data.get("rules", [])):
        argv, keys, listed = entry.get("argv") or [], entry.get("keys") or [], entry.get("listed", "")
        if not argv or not keys:
            continue
        if listed and listed in current:
            res = auditctl(_delete_forms(argv, listed)[0])
            if res.returncode == 0:
                current.remove(listed)
                deleted.append(listed)
                continue
        pending.append(entry)
    if deleted:
        now = listed_lines()
        for ln in list(deleted):
            if ln in now:   # still there (a duplicate line, or the delete hit something else): retry
                deleted.remove(ln)
                pending.extend(e for e in j.data.get("rules", []) if e.get("listed") == ln)
    for entry in pending:
        argv, keys, listed = entry.get("argv") or [], entry.get("keys") or [], entry.get("listed", "")
        ok, why = _delete_listed_rule(argv, listed, keys)
        if ok:
            deleted.append(listed or " ".join(argv))
        elif why == "not listed":
            gone.append(listed or " ".join(argv))
        else:
            problems.append(f"could not delete {' '.join(argv)}: {why}")
    # anything else still listed with a key of this run (e.g. a rule whose load was interrupted)
    if run_id:
        for ln in listed_lines():
            ks = keys_of_listed(ln)
            if any(k.startswith(f"trr{run_id}-") for k in ks):
                ok, why = _delete_listed_rule(ln.split(), ln, ks)
                if ok:
                    deleted.append(ln)
                else:
                    problems.append(f"could not delete {ln}: {why}")
    restored, prob2 = _restore_settings(j.data.get("saved", {}))
    problems += prob2
    if not problems:
        j.remove()
    return CleanupReport(str(path), owner, tuple(deleted), tuple(gone), tuple(restored), tuple(problems))


def _restore_settings(saved: dict) -> tuple[list[tuple[str, int, int]], list[str]]:
    restored: list[tuple[str, int, int]] = []
    problems: list[str] = []
    try:
        cur = read_status()
    except KernelUnavailable as exc:
        return restored, [str(exc)]
    if cur.get("enabled") == 2:
        return restored, ["audit became immutable (enabled 2) during the run: settings cannot be restored"]
    for name in SETTINGS:
        want = saved.get(name)
        have = cur.get(name)
        if not isinstance(want, int) or want == have:
            continue
        if name == "enabled" and want == 2:
            continue
        if name == "failure" and want == 2:
            problems.append("refusing to restore failure mode 2 (panic); set it yourself")
            continue
        res = auditctl([_SETTING_OPT[name], str(want)])
        if res.returncode != 0:
            problems.append(f"could not restore {name} {want}: {_msg(res)}")
        else:
            restored.append((name, int(have) if isinstance(have, int) else -1, want))
    return restored, problems


def cleanup_stale(directory: Path | None = None) -> list[CleanupReport]:
    """Clean every journal whose owner is dead (``tracerule kernel cleanup``; also run at session start)."""
    return [clean_journal(p) for p in journals(directory)]


# --------------------------------------------------------------------------------------------- lock
class KernelLock:
    """An exclusive ``flock`` on ``<state dir>/kernel.lock``; the holder's pid and command are written in it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "kernel.lock"
        self.fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def acquire(self, timeout: float, *, what: str = "") -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + max(timeout, 0.0)
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockTimeout(
                        f"another tracerule kernel run holds {self.path} ({self.holder() or 'unknown holder'}); "
                        f"gave up after {timeout:g} s. Kernel runs never interleave: wait for it, or if no "
                        f"such process exists run `tracerule kernel cleanup`") from None
                if not announced and os.environ.get("TRACERULE_QUIET_LOCK") != "1":
                    import sys
                    print(f"tracerule: waiting for the kernel lock ({self.holder() or self.path})",
                          file=sys.stderr)
                    announced = True
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%H:%M:%S')} {what}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)  # closing drops the flock
            self.fd = None


# ------------------------------------------------------------------------------------------ session
_CREATED_RUN_IDS: list[str] = []


class KernelAudit:
    """One run's access to the kernel audit.  Create it with :meth:`session` (a context manager)."""

    def __init__(self, *, lock_timeout: float = 300.0, source: str = "auto",
                 directory: Path | None = None, what: str = "") -> None:
        if source not in ("auto", "log", "netlink", "none"):
            raise ValueError(f"source must be auto, log, netlink or none, not {source!r}")
        self._dir = directory or state_dir()
        self._lock = KernelLock(self._dir)
        self._lock_timeout = lock_timeout
        if not what:
            import sys
            what = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]
        self._what = what
        self._source_pref = source
        self.run_id = secrets.token_hex(5)
        self._counter = 0
        self._keys: list[str] = []
        self._rules: list[LoadedRule] = []
        self._journal: Journal | None = None
        self.saved: dict = {}
        self.start_status: dict = {}
        self.stale_cleanups: list[CleanupReport] = []
        self._events = None          # the events source (auditlog.LogSource / netlink.Listener)
        self.source = "none"
        self._old_handlers: dict[int, object] = {}
        self._cleaning = False
        self._signalled = False
        self._deferred_signal: int | None = None
        self._open = False
        self._rule_index = 0
        self._collector = None
        self._collector_lock = threading.Lock()
        self.auditd: list[int] = []

    # ----------------------------------------------------------------- context management
    @classmethod
    @contextlib.contextmanager
    def session(cls, *, lock_timeout: float = 300.0, source: str = "auto",
                directory: Path | None = None, what: str = "") -> Iterator["KernelAudit"]:
        """Open a session: check the kernel, take the lock, clean stale journals, save the settings.

        ``source``: where :meth:`events` reads from -- ``auto`` (auditd's log when an auditd runs,
        else the netlink multicast group), ``log``, ``netlink`` or ``none``."""
        check_available()
        k = cls(lock_timeout=lock_timeout, source=source, directory=directory, what=what)
        k._open_session()
        try:
            yield k
        except BaseException:
            k.close()
            raise
        else:
            k.close()
            k._raise_deferred()

    def _open_session(self) -> None:
        self._lock.acquire(self._lock_timeout, what=self._what)
        try:
            self.stale_cleanups = cleanup_stale(self._dir)
            bad = [r for r in self.stale_cleanups if r.problems]
            if bad:
                raise KernelUnavailable("a killed run's rules could not be cleaned up: "
                                        + "; ".join(p for r in bad for p in r.problems)
                                        + " (see `tracerule kernel status`)")
            self.start_status = check_available()
            self.saved = {k: self.start_status[k] for k in SETTINGS if k in self.start_status}
            self._journal = Journal.create(self._dir, self.run_id, self.saved)
            _CREATED_RUN_IDS.append(self.run_id)
            self._install_signal_handlers()
            self._open = True
            self._start_events()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Delete this run's rules (reverse order), restore the settings, remove the journal, unlock."""
        if self._cleaning:
            return
        self._cleaning = True
        problems: list[str] = []
        try:
            self._stop_events()
            if self._journal is not None:
                rep = clean_journal(self._journal.path, force=True)
                problems += list(rep.problems)
                self.last_cleanup = rep
                vanished = [g for g in rep.already_gone
                            if g.startswith("-w ") or re.search(r"-F (path|dir|exe)=", g)]
                if vanished:
                    import sys
                    print("tracerule: warning: the kernel had already removed "
                          f"{len(vanished)} watch/exe rule(s) of this run (their directory was deleted "
                          "before the rule): on this kernel that leaks audit_n_rules until reboot; delete "
                          "watches before their directories (KernelAudit.tempdir() does)", file=sys.stderr)
        finally:
            self._restore_signal_handlers()
            self._lock.release()
            self._open = False
            self._cleaning = False
        if problems:
            import sys
            print("tracerule: kernel cleanup problems: " + "; ".join(problems), file=sys.stderr)

    def _raise_deferred(self) -> None:
        sig, self._deferred_signal = self._deferred_signal, None
        if sig is not None:
            if sig == signal.SIGINT:
                raise KeyboardInterrupt
            raise SessionInterrupted(sig)

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # the journal still covers us; handlers can only be set from the main thread

        def handler(signum, frame):
            # raise once; a second signal (while the first unwinds or cleanup runs) must not cut the
            # cleanup short
            if self._cleaning or self._signalled:
                self._deferred_signal = signum
                return
            self._signalled = True
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SessionInterrupted(signum)

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                self._old_handlers[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):
                pass

    def _restore_signal_handlers(self) -> None:
        for sig, old in self._old_handlers.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old)
        self._old_handlers.clear()

    # ----------------------------------------------------------------- status and settings
    def status(self) -> dict:
        """``auditctl -s`` parsed."""
        return read_status()

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("the kernel session is closed")

    def set_setting(self, name: str, value: int) -> None:
        """Change one saved setting for this session (restored on exit).  ``enabled 2`` and ``failure 2``
        are refused."""
        self._require_open()
        if name not in _SETTING_OPT:
            raise ValueError(f"unknown setting {name!r} (one of {', '.join(SETTINGS)})")
        value = int(value)
        if name == "enabled" and value not in (0, 1):
            raise ValueError("enabled must be 0 or 1 (2 makes audit immutable until reboot)")
        if name == "failure" and value not in (0, 1):
            raise ValueError("failure must be 0 or 1 (2 panics the kernel)")
        if value < 0:
            raise ValueError(f"{name} must be >= 0")
        res = auditctl([_SETTING_OPT[name], str(value)])
        if res.returncode != 0:
            raise RuleRefused(f"auditctl {_SETTING_OPT[name]} {value}: {_msg(res)}")

    def enable(self) -> None:
        """Turn audit on (``enabled 1``) for this session; restored on exit."""
        self._require_open()
        if self.status().get("enabled") != 1:
            self.set_setting("enabled", 1)
        if self._events is None:
            self._start_events()

    # ----------------------------------------------------------------- keys and rules
    def new_key(self, tag: str = "") -> str:
        """A key unique to this run: ``trr<10 hex>-<4 digits>[-tag]``.  No key of any run is a substring of
        another (the fixed-width head is unique and only appears at the start)."""
        self._counter += 1
        if self._counter > 9999:
            raise RuntimeError("more than 9999 keys in one run")
        tag = _TAG_CLEAN.sub("_", tag)[:32]
        key = f"trr{self.run_id}-{self._counter:04d}" + (f"-{tag}" if tag else "")
        self._keys.append(key)
        return key

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def rules(self) -> tuple[LoadedRule, ...]:
        return tuple(self._rules)

    def add_rule(self, argv: Sequence[str], *, allow_task: bool = False) -> LoadedRule:
        """Append one rule (``auditctl`` arguments without the program).  Journaled before it is loaded.

        Raises ``ValueError`` for a rule this harness refuses to load, :class:`RuleRefused` with
        auditctl's message when auditctl or the kernel refuses it."""
        self._require_open()
        keys = validate_rule_argv(argv, self._keys, allow_task=allow_task)
        argv = tuple(argv)
        assert self._journal is not None
        entry = {"argv": list(argv), "keys": list(keys), "listed": "", "state": "loading"}
        self._journal.data["rules"].append(entry)
        self._journal.write()
        known = [r.listed for r in self._rules if set(r.keys) & set(keys)]
        if all(known):
            before = known   # only this run loads rules with its keys
        else:
            before = [ln for ln in listed_lines() if set(keys_of_listed(ln)) & set(keys)]
        res = auditctl(list(argv))
        if res.returncode != 0:
            after = [ln for ln in listed_lines() if set(keys_of_listed(ln)) & set(keys)]
            if len(after) <= len(before):
                self._journal.data["rules"].remove(entry)
                self._journal.write()
                raise RuleRefused(_msg(res), argv)
        after = [ln for ln in listed_lines() if set(keys_of_listed(ln)) & set(keys)]
        new = list(after)
        for ln in before:
            if ln in new:
                new.remove(ln)
        listed = new[0] if len(new) == 1 else ""
        entry["listed"] = listed
        entry["state"] = "loaded"
        # not synced: if lost, cleanup still finds the rule by its run key (the entry before load was)
        self._journal.write(sync=False)
        self._rule_index += 1
        warning = _msg(res) if res.returncode == 0 and (res.stderr or "").strip() else ""
        rule = LoadedRule(argv, keys, self._rule_index, listed, warning)
        self._rules.append(rule)
        return rule

    @contextlib.contextmanager
    def tempdir(self, prefix: str = "tracerule-") -> Iterator[Path]:
        """A temporary directory (mode 0755, under /tmp) for files a rule watches or names with exe=.

        On exit this run's rules that name a path inside it are deleted *before* the directory is
        removed: when the kernel auto-removes a watch because its directory vanished, it leaks
        ``audit_n_rules`` (every syscall on the host then pays for audit until reboot)."""
        d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        d.chmod(0o755)
        try:
            yield d
        finally:
            if self._open:
                for rule in reversed(self._rules):
                    if any(_inside(p, d) for p in rule_paths(rule.argv)):
                        with contextlib.suppress(RuleRefused):
                            self.delete_rule(rule)
            shutil.rmtree(d, ignore_errors=True)

    def add_rules(self, rules: Iterable[Sequence[str]], **kw) -> list[LoadedRule]:
        return [self.add_rule(r, **kw) for r in rules]

    def listed(self) -> list[str]:
        """The ``auditctl -l`` lines that carry this run's keys, in list order."""
        mine = set(self._keys)
        return [ln for ln in listed_lines() if set(keys_of_listed(ln)) & mine]

    def delete_rule(self, rule: LoadedRule) -> None:
        """Delete exactly that rule and verify it is gone (``RuleRefused`` otherwise).  A rule the kernel
        already removed (its watched parent directory was deleted) is accepted as gone."""
        self._require_open()
        if rule not in self._rules:
            raise ValueError("not a rule of this run (or already deleted)")
        ok, why = _delete_listed_rule(rule.argv, rule.listed, rule.keys)
        if not ok and why != "not listed":
            raise RuleRefused(f"could not delete {' '.join(rule.argv)}: {why}", rule.argv)
        self._rules.remove(rule)
        assert self._journal is not None
        for e in self._journal.data["rules"]:
            if e["argv"] == list(rule.argv) and e.get("listed", "") == rule.listed:
                self._journal.data["rules"].remove(e)
                break
        self._journal.write()

    # ----------------------------------------------------------------- workloads
    def run(self, cmd: Sequence[str], user: str | int | None = None, auid: int | None = None,
            env: dict | None = None, timeout: float | None = 120.0, *, cwd: str | os.PathLike | None = None,
            stdin=subprocess.DEVNULL, stdout=None, stderr=None) -> int:
        """Run a workload and return its exit status (negative: killed by that signal, as ``Popen``).

        ``user`` (name or uid): the child switches to that uid, its primary gid and supplementary groups.
        ``auid``: written to ``/proc/self/loginuid`` in the child before it drops privileges and execs
        (this also gives it a new session id).  Nothing else runs in the child between fork and exec,
        so the workload's audit events are its own.  On timeout its process group is killed and
        ``subprocess.TimeoutExpired`` raised."""
        self._require_open()
        argv = [os.fspath(a) for a in cmd]
        if not argv:
            raise ValueError("empty command")
        uid = gid = None
        groups: list[int] = []
        if user is not None:
            import pwd

            try:
                pw = pwd.getpwnam(user) if isinstance(user, str) and not user.isdigit() else pwd.getpwuid(int(user))
                uid, gid = pw.pw_uid, pw.pw_gid
                groups = os.getgrouplist(pw.pw_name, pw.pw_gid)
            except KeyError:
                if isinstance(user, str) and not user.isdigit():
                    raise ValueError(f"no such user: {user!r}") from None
                uid = gid = int(user)
        auid_bytes = None
        if auid is not None:
            auid = int(auid)
            if not 0 <= auid <= 0xFFFFFFFF:
                raise ValueError(f"auid out of range: {auid}")
            self._check_loginuid_writable(auid)
            auid_bytes = str(auid).encode()

        def child_setup() -> None:  # runs between fork and exec: os calls only
            if auid_bytes is not None:
                fd = os.open("/proc/self/loginuid", os.O_WRONLY)
                try:
                    os.write(fd, auid_bytes)
                finally:
                    os.close(fd)
            if uid is not None:
                os.setgroups(groups)
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)

        needs_setup = auid_bytes is not None or uid is not None
        try:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr,
                                    preexec_fn=child_setup if needs_setup else None,
                                    start_new_session=True)
        except subprocess.SubprocessError as exc:
            raise EnvironmentProblem(f"could not start {argv[0]} as user={user} auid={auid}: {exc} "
                                     f"(writing /proc/self/loginuid or changing credentials failed)") from None
        try:
            return proc.wait(timeout=timeout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise

    def _check_loginuid_writable(self, auid: int) -> None:
        st = self.start_status
        try:
            mine = int(Path("/proc/self/loginuid").read_text().strip())
        except (OSError, ValueError):
            raise KernelUnavailable("/proc/self/loginuid is not available (kernel without "
                                    "CONFIG_AUDIT loginuid support)") from None
        if st.get("loginuid_immutable") == 1 and mine != 0xFFFFFFFF:
            raise KernelUnavailable(f"the kernel's loginuid is immutable and this process already has "
                                    f"loginuid {mine}: a workload cannot be given auid {auid}")

    # ----------------------------------------------------------------- events
    def _start_events(self) -> None:
        from tracerule.audit.auditlog import EventCollector, LogTail, auditd_log_file

        if self._events is not None:
            return
        pref = self._source_pref
        if pref == "none":
            return
        self._collector = EventCollector(self.run_id)
        self._collector_lock = threading.Lock()
        self.auditd = auditd_pids()
        if pref == "log" or (pref == "auto" and self.auditd):
            self._tail = LogTail(auditd_log_file())
            self._events = self._tail
            self.source = "log"
            return
        from tracerule.audit.netlink import MulticastListener
        from tracerule.audit.auditlog import netlink_line

        def on_message(mtype: int, payload: bytes) -> None:
            line = netlink_line(mtype, payload)
            with self._collector_lock:
                self._collector.feed(line)

        try:
            self._events = MulticastListener(on_message).start()
        except OSError as exc:
            raise KernelUnavailable(f"cannot read the audit multicast group (needs CAP_AUDIT_READ, "
                                    f"kernel >= 3.16): {exc}") from None
        self.source = "netlink"

    def _stop_events(self) -> None:
        ev, self._events = self._events, None
        if ev is not None and hasattr(ev, "stop"):
            ev.stop()

    def _poll(self) -> None:
        if self.source == "log" and self._events is not None:
            lines = self._events.read()
            with self._collector_lock:
                for ln in lines:
                    self._collector.feed(ln)

    @property
    def listener_overruns(self) -> int:
        """Records the netlink listener could not receive (socket buffer overflow); 0 for the log."""
        ev = self._events
        return int(getattr(ev, "overruns", 0) or 0)

    def mark(self) -> int:
        """A position in this run's record stream: ``events(since=mark)`` returns only later events."""
        self.sync()
        with self._collector_lock:
            return self._collector.seq

    def sync(self, timeout: float = 3.0) -> bool:
        """Wait until every record emitted before this call has reached the events source.

        Sends an AUDIT_USER marker through the kernel (it queues behind earlier records) and waits for it
        to come back.  Returns False when it did not within ``timeout`` (audit disabled, or a user-list
        rule filtered the marker): the caller then only gets what has arrived."""
        from tracerule.audit.netlink import send_user_message

        if self._events is None:
            raise RuntimeError("no events source in this session (source='none')")
        self._sync_n = getattr(self, "_sync_n", 0) + 1
        token = f"{self.run_id}.{self._sync_n}"
        try:
            send_user_message(f"tracerule-sync {token}")
        except OSError:
            time.sleep(min(timeout, 1.0))
            self._poll()
            return False
        deadline = time.monotonic() + timeout
        while True:
            self._poll()
            with self._collector_lock:
                if self._collector.seen_marker(token):
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def events(self, keys: Iterable[str] | str | None = None, since: float | int | None = None, *,
               sync: bool = True, timeout: float = 3.0, include_config: bool = False):
        """Events of this run's keys (all of them when ``keys`` is None), in arrival order.

        ``since``: an ``int`` from :meth:`mark`, or a ``float`` epoch time (events stamped at or after
        it, with 11 ms of slack: audit stamps use the coarse clock, one tick behind at most -- so events
        of the last ~11 ms before ``since`` may be included; :meth:`mark` is exact).  ``sync`` first waits for
        everything emitted so far to arrive (see :meth:`sync`).  An event matches when the key of the
        rule that made it (its SYSCALL record's key) is one of ``keys``; ``include_config`` also returns
        CONFIG_CHANGE events naming the keys (rule added/removed, watch auto-removed)."""
        if self._events is None:
            raise RuntimeError("no events source in this session (source='none')")
        if sync:
            self.sync(timeout)
        else:
            self._poll()
        want = set([keys] if isinstance(keys, str) else (keys if keys is not None else self._keys))
        with self._collector_lock:
            evs = self._collector.events()
        out = []
        for ev in evs:
            if isinstance(since, bool):
                raise TypeError("since must be a mark (int) or a time (float)")
            if isinstance(since, int) and ev.seq <= since:
                continue
            if isinstance(since, float) and ev.time < since - 0.011:
                continue
            ks = set(ev.keys)
            if ks & want:
                out.append(ev)
            elif include_config and "CONFIG_CHANGE" in ev.records and set(ev.all_keys) & want:
                out.append(ev)
        return out

    def lost(self) -> int:
        return int(self.status().get("lost", 0))

    def lost_rose(self) -> bool:
        """True when the kernel's ``lost`` counter rose since the session started (or the netlink
        listener's socket overflowed: records dropped for us alone)."""
        return self.lost() > int(self.start_status.get("lost", 0)) or self.listener_overruns > 0

    def check_conclusive(self) -> None:
        """Raise :class:`Inconclusive` when losses rose during this run."""
        now = self.lost()
        start = int(self.start_status.get("lost", 0))
        if self.listener_overruns:
            raise Inconclusive(f"the netlink listener dropped records ({self.listener_overruns} socket "
                               f"overruns): the result is inconclusive")
        if now > start:
            raise Inconclusive(f"the kernel lost {now - start} audit record(s) during this run "
                               f"(lost {start} -> {now}): the result is inconclusive")


def created_run_ids() -> tuple[str, ...]:
    """Run ids of the sessions this process opened (tests check none of their keys stay listed)."""
    return tuple(_CREATED_RUN_IDS)


# ------------------------------------------------------------------------- commands' library side
def orphan_lines(directory: Path | None = None) -> list[str]:
    """Listed rules with a tracerule run key whose run has neither a journal nor a live session."""
    d = directory or state_dir()
    journaled = set()
    for p in journals(d):
        with contextlib.suppress(OSError, ValueError):
            journaled.add(str(Journal.load(p).data.get("run_id", "")))
    out = []
    for ln in listed_lines():
        for k in keys_of_listed(ln):
            if _KEY_RE.match(k) and k[3:13] not in journaled:
                out.append(ln)
                break
    return out


def cleanup(*, wait: float = 10.0, orphans: bool = False, directory: Path | None = None) -> dict:
    """``tracerule kernel cleanup``: under the lock, clean the journals of dead runs (and, with
    ``orphans``, delete listed rules carrying a tracerule run key that no journal accounts for)."""
    check_available()
    d = directory or state_dir()
    lock = KernelLock(d)
    lock.acquire(wait, what="tracerule kernel cleanup")
    try:
        reports = cleanup_stale(d)
        orphan_deleted: list[str] = []
        orphan_problems: list[str] = []
        if orphans:
            for ln in orphan_lines(d):
                ok, why = _delete_listed_rule(ln.split(), ln, keys_of_listed(ln))
                (orphan_deleted if ok else orphan_problems).append(ln if ok else f"{ln}: {why}")
    finally:
        lock.release()
    return {
        "schema_version": 1,
        "journals": [
            {"journal": r.journal, "owner_pid": r.owner_pid, "deleted": list(r.deleted),
             "already_gone": list(r.already_gone),
             "restored": [{"setting": n, "from": a, "to": b} for n, a, b in r.restored],
             "problems": list(r.problems), "skipped": r.skipped_reason}
            for r in reports
        ],
        "orphans_deleted": orphan_deleted,
        "problems": [p for r in reports for p in r.problems] + orphan_problems,
        "remaining_orphans": [] if orphans else orphan_lines(d),
    }


def status_report(directory: Path | None = None) -> dict:
    """``tracerule kernel status``: the kernel's audit status and tracerule's own state on this host."""
    rep: dict = {"schema_version": 1, "available": True, "reason": ""}
    try:
        rep["status"] = read_status()
        if rep["status"].get("enabled") == 2:
            rep["available"] = False
            rep["reason"] = "kernel audit is immutable (enabled 2) until reboot"
    except KernelUnavailable as exc:
        rep.update(available=False, reason=str(exc), status={})
    rep["auditd_pids"] = auditd_pids()
    try:
        d = directory or state_dir()
    except KernelUnavailable:
        d = None
    rep["state_dir"] = str(d) if d else ""
    rep["lock_holder"] = KernelLock(d).holder() if d else ""
    js = []
    for p in journals(d) if d else []:
        try:
            j = Journal.load(p)
            js.append({"journal": str(p), "owner_pid": j.data.get("pid"), "owner_alive": j.owner_alive,
                       "run_id": j.data.get("run_id"), "rules": len(j.data.get("rules", [])),
                       "saved": j.data.get("saved", {})})
        except (OSError, ValueError) as exc:
            js.append({"journal": str(p), "error": str(exc)})
    rep["journals"] = js
    rep["rules_listed"] = None
    rep["tracerule_rules"] = []
    if rep["status"]:
        with contextlib.suppress(KernelUnavailable):
            lines = listed_lines()
            rep["rules_listed"] = len(lines)
            rep["tracerule_rules"] = [ln for ln in lines if any(_KEY_RE.match(k) for k in keys_of_listed(ln))]
    return rep
