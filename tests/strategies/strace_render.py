"""Random process trees, a scheduler that interleaves them, and a renderer that prints the
schedule as strace 6.1 would, in several output forms, together with the events a reader must
yield and the process graph a graph builder must rebuild.

Layers:

* :func:`quote` -- strace's ``string_quote`` (util.c), written independently of
  ``tracerule.strace.values`` so the two can be checked against each other.
* :class:`Sim` -- simulates tasks (processes and threads): fork/vfork/clone/clone3 creation
  (threads, CLONE_PARENT, CLONE_VFORK), pid reuse, execs (failed and successful, also from a
  non-leader thread), set*id calls, exits, kills, SIGSEGV, SIGCHLD, wait4.  The result is a
  *schedule*: a list of low-level actions in global time order (syscall entry, syscall exit,
  attach, signal, exit line, superseded), plus the ground truth per process (:class:`Proc`).
  Which syscalls get split into ``<unfinished ...>``/``<... resumed>`` is not decided here: it
  follows from the interleaving, as in strace (another task printing between entry and exit).
* :func:`render` -- prints a schedule in one of :data:`FORMS` and returns the files plus the
  expected events (:class:`Exp` tuples with file and line).

Everything is driven by one ``random.Random``: the hypothesis strategy :func:`scenarios` draws a
seed and a few size knobs, so a failing example is reproduced from its printed arguments.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import NamedTuple

from hypothesis import strategies as st

# ------------------------------------------------------------------------------------------------
# strace's string quoting


def quote(data: bytes, *, max_len: int | None = None, escape: bytes = b"", quotes: bool = True) -> str:
    """Quote ``data`` as strace 6.1's ``string_quote`` does by default (no -x).

    ``max_len`` is ``-s``: only that many bytes are printed, then ``...`` after the closing quote.
    ``escape``: extra characters printed as octal (``<>`` in ``-yy`` paths and ``-Y`` comms).
    """
    truncated = max_len is not None and len(data) > max_len
    if truncated:
        data = data[:max_len]
    out: list[str] = []
    n = len(data)
    for i, c in enumerate(data):
        if c in (0x22, 0x5C):
            out.append("\\" + chr(c))
        elif c == 0x0C:
            out.append("\\f")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x0B:
            out.append("\\v")
        elif 0x20 <= c < 0x7F and c not in escape:
            out.append(chr(c))
        else:
            nxt = data[i + 1] if i + 1 < n else -1
            out.append("\\%03o" % c if 0x30 <= nxt <= 0x37 else "\\%o" % c)
    s = "".join(out)
    if quotes:
        s = '"' + s + '"'
    if truncated:
        s += "..."
    return s


def argv_text(argv: list[bytes], max_len: int = 32) -> str:
    return "[" + ", ".join(quote(a, max_len=max_len) for a in argv) + "]"


# ------------------------------------------------------------------------------------------------
# the model

ENOENT = "-1 ENOENT (No such file or directory)"
EACCES = "-1 EACCES (Permission denied)"
ENOEXEC = "-1 ENOEXEC (Exec format error)"
EPERM = "-1 EPERM (Operation not permitted)"

THREAD_FLAGS = ("flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
                "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID")
GO_THREAD_FLAGS = ("flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD|"
                   "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|0x400000")


@dataclass(eq=False)
class Call:
    """One syscall.  ``args`` are (plain, -yy) renderings; ``split`` args are printed at entry."""

    name: str
    args: list[tuple[str, str]]
    kind: str = "plain"            #: plain | futex | create | exec | exit | kill
    split: int = -1                #: number of args printed at entry (-1: all)
    sep_in_entry: bool = True      #: the entry text ends with ", " (else the rest starts with it)
    entry_override: tuple[str, str] | None = None   #: clone3: entry is a prefix of args[0]
    ret: tuple[str, str] = ("0", "0")
    ret_val: int | None = 0
    errno: str | None = None
    ret_pid: int | None = None     #: -Y decorates the return with this pid's comm
    force_split: bool = False      #: print unfinished/resumed even when nothing intervenes
    child: "Task | None" = None    #: creation calls: the new task
    exec_ok: bool | None = None
    new_comm: str | None = None

    def full(self, yy: bool) -> str:
        return ", ".join(a[yy] for a in self.args)

    def entry(self, yy: bool) -> str:
        if self.entry_override is not None:
            return self.entry_override[yy]
        if self.split < 0 or self.split >= len(self.args):
            return self.full(yy)
        head = ", ".join(a[yy] for a in self.args[: self.split])
        if self.split > 0 and self.sep_in_entry:
            head += ", "
        return head

    def rest(self, yy: bool) -> str:
        full, entry = self.full(yy), self.entry(yy)
        assert full.startswith(entry), (full, entry)
        return full[len(entry):]


@dataclass(eq=False)
class Proc:
    """Ground truth for one process incarnation (thread group)."""

    index: int
    pid: int
    parent: "Proc | None"
    creator_tid: int | None
    comm: str
    threads: list[int] = field(default_factory=list)
    execs: list[dict] = field(default_factory=list)
    exit: tuple | None = None      #: ("exited", code) | ("killed", SIGNAME, core)
    alive: bool = True
    unwaited: list["Proc"] = field(default_factory=list)
    announced: bool = True         #: the creating call has returned the pid
    reaped: bool = False

    def __repr__(self) -> str:  # short, for hypothesis output
        return f"Proc({self.pid}, parent={self.parent.pid if self.parent else None})"


@dataclass(eq=False)
class Task:
    tid: int
    proc: Proc
    attached: bool = True
    pending: Call | None = None
    blocked_by: "Task | None" = None     #: vfork parent: waits for this child to exec or exit
    vfork_parent: "Task | None" = None
    waits_for: "Task | None" = None      #: futex wait for this thread
    thread_exec: bool = False            #: pending is an execve from a non-leader thread
    comm: str = "strace"
    announced: bool = True               #: the creating call has returned this tid


class Action(NamedTuple):
    kind: str       #: enter | leave | attach | signal | exit | superseded | xleave
    tid: int
    call: Call | None
    text: str       #: signal/exit body; superseded: str(by_tid)
    t: int          #: microseconds since midnight
    other: int = 0  #: xleave: the tid that entered the call


# ------------------------------------------------------------------------------------------------
# random values

_WORD = b"abcdefghijklmnopqrstuvwxyzABCXYZ/._-"
_SPECIAL = b'"\\()=<>,[]{}#~ \n\t\r\x0b\x0c\x01\x1b\x7f0123456789'
_SAFE_NAME = b"abcdefghijklmnopqrstuvwxyz0123456789-_. +"


def rand_bytes(rnd: random.Random, lo: int, hi: int, *, weird: bool = True) -> bytes:
    n = rnd.randint(lo, hi)
    out = bytearray()
    for _ in range(n):
        r = rnd.random()
        if r < 0.55 or not weird:
            out.append(rnd.choice(_WORD))
        elif r < 0.8:
            out.append(rnd.choice(_SPECIAL))
        elif r < 0.92:
            out.append(rnd.randint(0x80, 0xFF))
        else:
            out.append(rnd.randint(1, 0x1F))
    if weird and rnd.random() < 0.2:
        pos = rnd.randint(0, len(out))
        out[pos:pos] = rnd.choice([b") = 3", b'") = 0', b" <unfinished ...>", b"<... x resumed>", b"+++ ", b"\\"])
    return bytes(out)


def rand_path(rnd: random.Random, weird: bool) -> tuple[bytes, str]:
    """(path bytes, comm it would give): a directory part that may be weird, a plain basename."""
    dirs = [b"/usr/bin", b"/bin", b"/usr/local/sbin", b"/opt/x y", b"."]
    d = rnd.choice(dirs)
    if weird and rnd.random() < 0.4:
        d = b"/tmp/" + rand_bytes(rnd, 1, 12).replace(b"/", b"_")
    base = bytes(rnd.choice(_SAFE_NAME) for _ in range(rnd.randint(1, 20)))
    if rnd.random() < 0.3:
        base = rnd.choice([b"sh", b"sudo", b"docker", b"true", b"env", b"id", b"cat"])
    return d + b"/" + base, base[:15].decode("ascii")


def ptr(rnd: random.Random, hi: int = 0x7FFF) -> str:
    return "0x%x%08x" % (rnd.randint(0x5500, hi), rnd.randint(0, 0xFFFFFFFF))


def A(plain: str, yy: str | None = None) -> tuple[str, str]:
    return (plain, plain if yy is None else yy)


FD_DECOS = [
    "</etc/ld.so.cache>", "</usr/lib/x86_64-linux-gnu/libc.so.6>", "</dev/pts/0<char 136:0>>",
    "<UNIX-STREAM:[15039->15040]>", "<pipe:[20481]>", "</proc/7270/loginuid>", "</dev/null<char 1:3>>",
    "<TCP:[127.0.0.1:40000->127.0.0.1:22]>",
]


def fd_arg(rnd: random.Random, fd: int | None = None) -> tuple[str, str]:
    fd = rnd.choice([0, 1, 2, 3, 4, 11]) if fd is None else fd
    if rnd.random() < 0.3:
        deco = "<" + quote(rand_bytes(rnd, 1, 20), escape=b"<>", quotes=False).replace(">", "") + ">"
        deco = "</tmp/" + deco[1:]
    else:
        deco = rnd.choice(FD_DECOS)
    return (str(fd), f"{fd}{deco}")


# ------------------------------------------------------------------------------------------------
# the simulation


class Sim:
    """Simulate tasks and produce a schedule.  All knobs are plain keyword arguments."""

    def __init__(self, seed: int, *, steps: int = 60, max_procs: int = 8, max_threads: int = 3,
                 reuse: bool = True, thread_exec: bool = True, weird: bool = True,
                 long_strings: bool = True, execveat: bool = True) -> None:
        self.rnd = random.Random(seed)
        self.steps = steps
        self.max_procs = max_procs
        self.max_threads = max_threads
        self.reuse = reuse
        self.thread_exec_ok = thread_exec
        self.weird = weird
        self.long_strings = long_strings
        self.execveat = execveat
        self.actions: list[Action] = []
        self.t = 36000 * 10**6 + self.rnd.randint(0, 10**6)
        self.tasks: dict[int, Task] = {}
        self.procs: list[Proc] = []
        self.released: list[int] = []
        self.next_tid = self.rnd.choice([301, 8040, 23456, 99990, 4_194_000]) + self.rnd.randint(0, 5)
        self.retired: set[int] = set()
        root_tid = self.alloc_tid()
        root = Proc(0, root_tid, None, None, "strace", threads=[root_tid])
        self.procs.append(root)
        task = Task(root_tid, root, comm="strace")
        self.tasks[root_tid] = task
        self.run()

    # -- helpers
    def tick(self) -> int:
        self.t += self.rnd.randint(1, 400)
        return self.t

    def emit(self, kind: str, tid: int, call: Call | None = None, text: str = "", other: int = 0) -> None:
        self.actions.append(Action(kind, tid, call, text, self.tick(), other))

    def alloc_tid(self) -> int:
        if self.reuse and self.released and self.rnd.random() < 0.25:
            tid = self.released.pop(self.rnd.randrange(len(self.released)))
            return tid
        tid = self.next_tid
        self.next_tid += self.rnd.randint(1, 3)
        return tid

    def release(self, tid: int) -> None:
        if tid not in self.retired and tid not in self.released and tid not in self.tasks:
            self.released.append(tid)

    def reap(self, proc: Proc) -> None:
        proc.reaped = True
        if proc.announced:
            self.release(proc.pid)

    def live_tasks(self, proc: Proc) -> list[Task]:
        return [t for t in self.tasks.values() if t.proc is proc]

    def leader(self, proc: Proc) -> Task | None:
        return self.tasks.get(proc.pid) if self.tasks.get(proc.pid) and self.tasks[proc.pid].proc is proc else None

    def enter(self, task: Task, call: Call) -> None:
        task.pending = call
        self.emit("enter", task.tid, call)
        call.t_enter = self.actions[-1].t  # type: ignore[attr-defined]

    def leave(self, task: Task) -> None:
        call = task.pending
        assert call is not None
        task.pending = None
        if call.kind == "exec" and call.exec_ok:
            task.comm = call.new_comm or task.comm
        if call.kind == "exec":
            self.note_exec(task, call)      # execs are in the order of their exits
        self.emit("leave", task.tid, call)
        if getattr(call, "reaps", None) is not None:
            self.reap(call.reaps)
        if call.kind == "create" and call.child is not None:
            call.child.announced = True
            if call.child.tid == call.child.proc.pid:
                call.child.proc.announced = True
                if not call.child.proc.alive and call.child.proc.reaped:
                    self.release(call.child.proc.pid)

    def whole(self, task: Task, call: Call) -> None:
        self.enter(task, call)
        self.leave(task)

    # -- calls
    def filler(self, task: Task) -> Call:
        rnd = self.rnd
        k = rnd.randrange(17)
        slen = (1, 40) if self.long_strings else (0, 30)
        if k == 0:
            return Call("close", [fd_arg(rnd)])
        if k == 1:
            data = rand_bytes(rnd, *slen, weird=self.weird)
            return Call("read", [fd_arg(rnd), A(quote(data, max_len=32)), A(str(len(data) + rnd.randint(0, 9)))],
                        split=1, ret=A(str(len(data))), ret_val=len(data))
        if k == 2:
            data = rand_bytes(rnd, *slen, weird=self.weird)
            return Call("write", [fd_arg(rnd), A(quote(data, max_len=32)), A(str(len(data)))],
                        split=rnd.choice([-1, 1, 2]), sep_in_entry=rnd.random() < 0.5,
                        ret=A(str(len(data))), ret_val=len(data))
        if k == 3:
            path = rand_bytes(rnd, 1, 30, weird=self.weird)
            ok = rnd.random() < 0.6
            args = [A("AT_FDCWD", "AT_FDCWD</tmp/gen>"), A(quote(b"/" + path)), A("O_RDONLY|O_CLOEXEC")]
            if ok:
                fd = rnd.randint(3, 12)
                deco = quote(b"/" + path, escape=b"<>", quotes=False)
                return Call("openat", args, ret=(str(fd), f"{fd}<{deco}>"), ret_val=fd)
            injected = rnd.random() < 0.3
            return Call("openat", args, ret=A(ENOENT + (" (INJECTED)" if injected else "")),
                        ret_val=-1, errno="ENOENT")
        if k == 4:
            return Call("getpid", [], ret=A(str(task.proc.pid)), ret_val=task.proc.pid, ret_pid=task.proc.pid)
        if k == 5:
            p = ptr(rnd, 0x55FF)
            return Call("brk", [A("NULL")], ret=A(p), ret_val=int(p, 16))
        if k == 6:
            return Call("umask", [A("022")], ret=A("022"), ret_val=0o22)
        if k == 7:
            return Call("fcntl", [A("1", "1</dev/pts/0<char 136:0>>"), A("F_DUPFD"), A("10")],
                        ret=("11", "11</dev/pts/0<char 136:0>>"), ret_val=11)
        if k == 8:
            return Call("read", [A("0"), A(ptr(rnd)), A("1")], split=1,
                        ret=A("? ERESTARTSYS (To be restarted if SA_RESTART is set)"),
                        ret_val=None, errno="ERESTARTSYS")
        if k == 9:
            return Call("poll", [A("[{fd=3, events=POLLIN}]"), A("1"), A("0")], ret=A("0 (Timeout)"), ret_val=0)
        if k == 10:
            return Call("restart_syscall", [A("<... resuming interrupted clock_nanosleep ...>")])
        if k == 11:
            return Call("syscall_0x1f4", [A("0x1"), A("0x2"), A("0x3")],
                        ret=A("-1 ENOSYS (Function not implemented)"), ret_val=-1, errno="ENOSYS")
        if k == 12:
            data = rand_bytes(rnd, 1, 12, weird=self.weird)
            return Call("sendto", [fd_arg(rnd, 11), A(quote(data)), A(str(len(data))), A("0"), A("NULL"), A("0")],
                        split=rnd.choice([-1, 5]), sep_in_entry=False, ret=A(str(len(data))), ret_val=len(data))
        if k == 13:
            return Call("rt_sigprocmask", [A("SIG_SETMASK"), A("~[RTMIN RT_1]"), A("NULL"), A("8")])
        if k == 14:
            return Call("getcwd", [A(quote(b"/tmp/gen")), A("4096")], split=0, ret=A("9"), ret_val=9)
        if k == 15 and task.proc.unwaited:
            child = task.proc.unwaited.pop(0)
            if child.exit and child.exit[0] == "exited":
                status = f"[{{WIFEXITED(s) && WEXITSTATUS(s) == {child.exit[1]}}}]"
            else:
                core = " && WCOREDUMP(s)" if child.exit and child.exit[2] else ""
                status = f"[{{WIFSIGNALED(s) && WTERMSIG(s) == {child.exit[1] if child.exit else 'SIGKILL'}{core}}}]"
            call = Call("wait4", [A("-1"), A(status), A("0"), A("NULL")], split=1,
                        ret=A(str(child.pid)), ret_val=child.pid)
            call.reaps = child  # type: ignore[attr-defined]
            return call
        return self.setid(task)

    def setid(self, task: Task) -> Call:
        rnd = self.rnd
        ok = rnd.random() < 0.7
        ret = A("0") if ok else A(EPERM)
        rv, en = (0, None) if ok else (-1, "EPERM")
        ids = [0, 1001, 65534, -1]
        k = rnd.randrange(7)
        if k == 0:
            return Call(rnd.choice(["setuid", "setgid", "setuid32"]), [A(str(rnd.choice(ids[:3])))], ret=ret, ret_val=rv, errno=en)
        if k == 1:
            return Call(rnd.choice(["setresuid", "setresgid", "setresuid32"]),
                        [A(str(rnd.choice(ids))) for _ in range(3)], ret=ret, ret_val=rv, errno=en)
        if k == 2:
            return Call(rnd.choice(["setreuid", "setregid"]), [A(str(rnd.choice(ids))) for _ in range(2)],
                        ret=ret, ret_val=rv, errno=en)
        if k == 3:
            return Call("setgroups", [A("2"), A("[4, 24]")], ret=ret, ret_val=rv, errno=en)
        if k == 4:
            return Call("setfsuid", [A("1001")], ret=A("0"), ret_val=0)
        if k == 5:
            return Call(rnd.choice(["getuid", "geteuid", "getgid"]), [], ret=A("1001"), ret_val=1001)
        return Call("getresuid", [A("[1001]"), A("[0]"), A("[0]")], split=0, ret=A("0"), ret_val=0)

    def exec_call(self, task: Task, ok: bool) -> Call:
        rnd = self.rnd
        path, comm = rand_path(rnd, self.weird)
        argv = [path.rsplit(b"/", 1)[-1]] + [rand_bytes(rnd, 0, 40 if self.long_strings else 32, weird=self.weird)
                                             for _ in range(rnd.randint(0, 4))]
        envp = A(f"{ptr(rnd)} /* {rnd.randint(0, 40)} vars */")
        if self.execveat and rnd.random() < 0.15:
            name = "execveat"
            args = [A("AT_FDCWD", "AT_FDCWD</tmp/gen>"), A(quote(path)), A(argv_text(argv)), envp, A("0")]
        else:
            name = "execve"
            args = [A(quote(path)), A(argv_text(argv)), envp]
        if ok:
            ret, rv, en = A("0"), 0, None
        else:
            r = rnd.choice([ENOENT, EACCES, ENOEXEC])
            ret, rv, en = A(r), -1, r.split()[1]
        call = Call(name, args, kind="exec", ret=ret, ret_val=rv, errno=en, exec_ok=ok, new_comm=comm)
        call.exec_info = {"path": path, "argv": argv, "ok": ok, "errno": en, "syscall": name}  # type: ignore[attr-defined]
        return call

    def create_call(self, task: Task, kind: str) -> tuple[Call, Proc | None, bool]:
        """kind: fork | vfork | clone | clone_parent | clone3_vfork | thread_clone | thread_clone3 | thread_raw."""
        rnd = self.rnd
        child_tid = self.alloc_tid()
        rv = child_tid
        ret = A(str(child_tid))
        thread = kind.startswith("thread")
        vforkish = kind in ("vfork", "clone3_vfork")
        if kind in ("fork", "vfork"):
            call = Call(kind, [], kind="create", split=0)
        elif kind == "clone":
            call = Call("clone", [A("child_stack=NULL"), A("flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"),
                                  A(f"child_tidptr={ptr(rnd)}")], kind="create", split=2, sep_in_entry=False)
        elif kind == "clone_parent":
            call = Call("clone", [A(f"child_stack={ptr(rnd, 0x55FF)}"), A("flags=CLONE_PARENT|SIGCHLD")],
                        kind="create", split=-1)
        elif kind == "clone3_vfork":
            body = f"{{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack={ptr(rnd)}, stack_size=0x9000}}"
            call = Call("clone3", [A(body), A("88")], kind="create", split=1, sep_in_entry=False)
        elif kind == "thread_clone3":
            body = (f"{{{THREAD_FLAGS}, child_tid={ptr(rnd)}, parent_tid={ptr(rnd)}, exit_signal=0, "
                    f"stack={ptr(rnd)}, stack_size=0x7fff80, tls={ptr(rnd)}}}")
            call = Call("clone3", [A(f"{body} => {{parent_tid=[{child_tid}]}}"), A("88")], kind="create",
                        entry_override=A(body))
        elif kind == "thread_raw":
            call = Call("clone", [A(f"child_stack={ptr(rnd)}"), A("flags=0x3d0f00"), A(f"parent_tid=[{child_tid}]"),
                                  A(f"tls={ptr(rnd)}"), A(f"child_tidptr={ptr(rnd)}")], kind="create", split=2,
                        sep_in_entry=False)
        else:  # thread_clone (Go style)
            call = Call("clone", [A(f"child_stack={ptr(rnd)}"), A(GO_THREAD_FLAGS), A(f"parent_tid=[{child_tid}]"),
                                  A(f"tls={ptr(rnd)}"), A(f"child_tidptr={ptr(rnd)}")], kind="create", split=2,
                        sep_in_entry=False)
        call.ret, call.ret_val, call.ret_pid = ret, rv, child_tid
        call.force_split = rnd.random() < 0.15
        if thread:
            proc = task.proc
            proc.threads.append(child_tid)
            child = Task(child_tid, proc, attached=False, comm=task.comm, announced=False)
            newproc = None
        else:
            parent = task.proc.parent if kind == "clone_parent" else task.proc
            newproc = Proc(len(self.procs), child_tid, parent, task.tid, task.comm, threads=[child_tid],
                           announced=False)
            self.procs.append(newproc)
            child = Task(child_tid, newproc, attached=False, comm=task.comm, announced=False)
        call.child = child
        self.tasks[child_tid] = child
        if vforkish:
            task.blocked_by = child
            child.vfork_parent = task
        return call, newproc, thread

    # -- scheduling
    def can_leave(self, task: Task) -> bool:
        call = task.pending
        if call is None:
            return False
        if task.blocked_by is not None and task.blocked_by.tid in self.tasks and task.blocked_by.vfork_parent is task:
            return False
        if task.tid == task.proc.pid and any(t.thread_exec for t in self.live_tasks(task.proc)):
            return False
        if call.kind == "create" and call.child is not None and not call.child.attached:
            return False
        if task.waits_for is not None and task.waits_for.tid in self.tasks and task.waits_for.proc is task.proc \
                and not self.finishing:
            return False
        return True

    def release_vfork(self, child: Task) -> None:
        parent = child.vfork_parent
        if parent is not None:
            if parent.blocked_by is child:
                parent.blocked_by = None
            child.vfork_parent = None

    def killable(self, proc: Proc) -> bool:
        for t in self.live_tasks(proc):
            if not t.attached or t.thread_exec or t.blocked_by is not None:
                return False
            if t.pending is not None and t.pending.kind not in ("plain", "futex"):
                return False
        return True

    def finish_proc(self, proc: Proc, how: tuple, by_tid: int | None, signal_line: str | None,
                    first: Task | None = None) -> None:
        """All threads of ``proc`` end: pending syscalls return ``?``, exit lines, leader last."""
        tasks = self.live_tasks(proc)
        for t in tasks:
            if t.pending is not None:
                t.pending.ret, t.pending.ret_val, t.pending.errno = A("?"), None, None
                self.leave(t)
        lead = self.leader(proc)
        if signal_line and tasks:
            self.emit("signal", (first or lead or tasks[0]).tid, text=signal_line)
        if how[0] == "exited":
            body = f"exited with {how[1]}"
        else:
            body = f"killed by {how[1]}" + (" (core dumped)" if how[2] else "")
        order = [t for t in tasks if t is not lead]
        self.rnd.shuffle(order)
        if lead is not None:
            order.append(lead)
        for t in order:
            self.emit("exit", t.tid, text=body)
            del self.tasks[t.tid]
            self.release_vfork(t)
            if t is not lead and t.announced:
                self.release(t.tid)          # a thread's tid is free at once
        proc.alive = False
        proc.exit = how
        # a process's pid is free once it is reaped (waited for, or its parent is gone)
        for child in proc.unwaited:
            self.reap(child)
        proc.unwaited.clear()
        par = proc.parent
        if par is None or not par.alive:
            self.reap(proc)
        if par is not None and par.alive:
            par.unwaited.append(proc)
            plead = self.leader(par)
            if plead is not None and plead.pending is None and plead.attached and self.rnd.random() < 0.5:
                if how[0] == "exited":
                    info = (f"{{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={proc.pid}, si_uid=0, "
                            f"si_status={how[1]}, si_utime=0, si_stime=0}}")
                else:
                    code = "CLD_DUMPED" if how[2] else "CLD_KILLED"
                    info = (f"{{si_signo=SIGCHLD, si_code={code}, si_pid={proc.pid}, si_uid=0, "
                            f"si_status={how[1]}, si_utime=0, si_stime=1 /* 0.01 s */}}")
                self.emit("signal", plead.tid, text=f"SIGCHLD {info}")

    def act(self, task: Task) -> None:
        rnd = self.rnd
        if not task.attached:
            self.emit("attach", task.tid)
            task.attached = True
            return
        if task.pending is not None:
            if task.thread_exec:
                self.complete_thread_exec(task)
            else:
                task.waits_for = None
                self.leave(task)
            return
        proc = task.proc
        is_leader = task.tid == proc.pid
        nthreads = len(self.live_tasks(proc))
        if task.vfork_parent is not None:      # a vfork child: a few syscalls, then exec or _exit
            r = rnd.random()
            if r < 0.25:
                self.enter(task, self.filler(task))
            elif r < 0.45:
                call = self.exec_call(task, False)
                self.enter(task, call)
            elif r < 0.9:
                call = self.exec_call(task, True)
                self.enter(task, call)
                self.release_vfork(task)
            else:
                self.exit_group(task, 127)
            return
        choices = ["filler"] * 8 + ["setid"] * 2 + ["exec_fail"] * 2 + ["exec"] * 2
        if len(self.procs) < self.max_procs:
            choices += ["fork"] * 4
        if nthreads < self.max_threads:
            choices += ["thread"] * 2
        if not is_leader:
            choices += ["thread_exit"] * 2
        if len(self.actions) > 20:
            choices += ["exit_group"] * 2 + ["kill"] + ["segv"] * (rnd.random() < 0.2)
        what = rnd.choice(choices)
        if what == "filler":
            self.enter(task, self.filler(task))
        elif what == "setid":
            self.enter(task, self.setid(task))
        elif what == "exec_fail":
            call = self.exec_call(task, False)
            self.enter(task, call)
        elif what == "exec":
            if nthreads == 1:
                call = self.exec_call(task, True)
                self.enter(task, call)
                return
            elif (self.thread_exec_ok and not is_leader and nthreads == 2):
                lead = self.leader(proc)
                if lead is not None and lead.pending is not None and lead.pending.kind in ("plain", "futex") \
                        and lead.attached and lead.blocked_by is None:
                    call = self.exec_call(task, True)
                    task.thread_exec = True
                    self.enter(task, call)
                    return
            self.enter(task, self.filler(task))
        elif what == "fork":
            kind = rnd.choice(["fork", "vfork", "clone", "clone", "clone_parent", "clone3_vfork"])
            call, _, _ = self.create_call(task, kind)
            self.enter(task, call)
            if rnd.random() < 0.6:
                self.emit("attach", call.child.tid)
                call.child.attached = True
        elif what == "thread":
            kind = rnd.choice(["thread_clone3", "thread_clone", "thread_raw"])
            call, _, _ = self.create_call(task, kind)
            self.enter(task, call)
            if rnd.random() < 0.6:
                self.emit("attach", call.child.tid)
                call.child.attached = True
            if is_leader and rnd.random() < 0.5:
                # the leader will wait (futex) for the thread once clone returns: set up below
                task.waits_next = call.child  # type: ignore[attr-defined]
        elif what == "thread_exit":
            self.whole(task, Call("exit", [A("0")], kind="exit", ret=A("?"), ret_val=None))
            self.emit("exit", task.tid, text="exited with 0")
            del self.tasks[task.tid]
            if task.announced:
                self.release(task.tid)
        elif what == "exit_group":
            if self.killable_except(proc, task):
                self.exit_group(task, rnd.choice([0, 0, 1, 2, 125, 127, 255]))
            else:
                self.enter(task, self.filler(task))
        elif what == "kill":
            targets = [p for p in self.procs if p.alive and p is not proc and self.killable(p)]
            if not targets:
                self.enter(task, self.filler(task))
                return
            target = rnd.choice(targets)
            sig = rnd.choice(["SIGKILL", "SIGTERM"])
            self.whole(task, Call("kill", [A(str(target.pid)), A(sig)], kind="kill"))
            line = None
            if sig != "SIGKILL":
                line = f"{sig} {{si_signo={sig}, si_code=SI_USER, si_pid={proc.pid}, si_uid=0}}"
            self.finish_proc(target, ("killed", sig, False), task.tid, line)
        elif what == "segv":
            if self.killable_except(proc, task):
                self.finish_proc(proc, ("killed", "SIGSEGV", True), None,
                                 "SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL}", first=task)
            else:
                self.enter(task, self.filler(task))

    def killable_except(self, proc: Proc, task: Task) -> bool:
        for t in self.live_tasks(proc):
            if t is task:
                continue
            if not t.attached or t.thread_exec or t.blocked_by is not None:
                return False
            if t.pending is not None and t.pending.kind not in ("plain", "futex"):
                return False
        return True

    def exit_group(self, task: Task, code: int) -> None:
        self.whole(task, Call("exit_group", [A(str(code))], kind="exit", ret=A("?"), ret_val=None))
        self.finish_proc(task.proc, ("exited", code), None, None)

    def note_exec(self, task: Task, call: Call) -> None:
        info = dict(call.exec_info)  # type: ignore[attr-defined]
        info["tid"] = task.tid
        info["t_enter"] = call.t_enter  # type: ignore[attr-defined]
        task.proc.execs.append(info)

    def complete_thread_exec(self, task: Task) -> None:
        proc = task.proc
        lead = self.leader(proc)
        assert lead is not None and lead.pending is not None
        lead.pending.ret, lead.pending.ret_val, lead.pending.errno = A("?"), None, None
        lead.waits_for = None
        self.leave(lead)
        self.emit("superseded", lead.tid, text=str(task.tid))
        call = task.pending
        task.pending = None
        del self.tasks[task.tid]
        self.retired.add(task.tid)
        lead.comm = call.new_comm or lead.comm
        self.note_exec(task, call)
        self.emit("xleave", lead.tid, call, other=task.tid)

    def run(self) -> None:
        rnd = self.rnd
        self.finishing = False
        root = self.tasks[self.procs[0].pid]
        # the root starts with a successful exec, as under `strace -f CMD`
        call = self.exec_call(root, True)
        self.enter(root, call)
        self.leave(root)
        for _ in range(self.steps):
            ready = [t for t in self.tasks.values()
                     if (not t.attached) or (t.pending is None and t.blocked_by is None) or self.can_leave(t)]
            if not ready:
                break
            task = rnd.choice(ready)
            pending_before = task.pending
            self.act(task)
            # a leader that just got its thread-creating clone back may wait for that thread
            if pending_before is not None and task.pending is None and getattr(task, "waits_next", None):
                thr = task.waits_next
                task.waits_next = None
                if thr.tid in self.tasks and task.tid in self.tasks:
                    fut = Call("futex", [A(ptr(rnd)), A("FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME"), A(str(thr.tid)),
                                         A("NULL"), A("FUTEX_BITSET_MATCH_ANY")], kind="futex")
                    task.waits_for = thr
                    self.enter(task, fut)
        self.finish()

    def finish(self) -> None:
        rnd = self.rnd
        self.finishing = True
        guard = 0
        while self.tasks:
            guard += 1
            assert guard < 10000, "simulation did not terminate"
            for t in list(self.tasks.values()):
                if not t.attached:
                    self.emit("attach", t.tid)
                    t.attached = True
            leavable = [t for t in self.tasks.values() if self.can_leave(t)]
            if leavable:
                t = rnd.choice(leavable)
                if t.thread_exec:
                    self.complete_thread_exec(t)
                else:
                    t.waits_for = None
                    self.leave(t)
                continue
            live = [p for p in self.procs if p.alive]
            proc = live[-1]
            tasks = self.live_tasks(proc)
            idle = [t for t in tasks if t.pending is None]
            if idle:
                self.exit_group(rnd.choice(idle), rnd.choice([0, 1]))
            else:   # everybody blocked: kill it
                self.finish_proc(proc, ("killed", "SIGKILL", False), None, None)


# ------------------------------------------------------------------------------------------------
# rendering


@dataclass(frozen=True)
class Form:
    name: str
    pidcol: str = "f"          #: f (-f -o) | stderr | ff (-ff -o PREFIX)
    tt: bool = False
    T: bool = False
    yy: bool = False
    Y: bool = False


FORMS: dict[str, Form] = {f.name: f for f in [
    Form("f_o"),
    Form("stderr", pidcol="stderr"),
    Form("ff_tt", pidcol="ff", tt=True),
    Form("tt_T", tt=True, T=True),
    Form("yy", yy=True),
    Form("Y", Y=True),
    Form("tt_T_yy", tt=True, T=True, yy=True),
    Form("stderr_tt_T_yy", pidcol="stderr", tt=True, T=True, yy=True),
    Form("Y_yy_T", Y=True, yy=True, T=True),
]}


class Exp(NamedTuple):
    """One expected reader event.  ``kind``: seen | syscall | signal | exit | superseded | attached | pidchanged."""

    kind: str
    file: str
    line: int
    tid: int
    data: tuple        #: syscall: (name, args, ret, errno, state, ret_text, entry_line, comm)
    t_entry: int = 0   #: µs of the entry / the line
    t_exit: int = 0
    duration: int | None = None
    sort: tuple = ()


def fmt_tt(us: int) -> str:
    s, u = divmod(us, 10**6)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{sec:02d}.{u:06d}"


def fmt_dur(us: int) -> str:
    return f"<{us // 10**6}.{us % 10**6:06d}>"


def comm_text(comm: str) -> str:
    return quote(comm.encode("utf-8", "surrogateescape"), escape=b"<>", quotes=False)


class _Stream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.parts: list[str] = []
        self.line = 1
        self.col = 0
        self.partial: tuple[int, Call] | None = None
        self.partial_line = 0
        self.line_comm: str | None = None

    def write(self, s: str) -> None:
        self.parts.append(s)
        self.line += s.count("\n")

    def text(self) -> str:
        return "".join(self.parts)


class Renderer:
    def __init__(self, sim: Sim, form: Form, prefix: str = "trace", multi_glue: bool = True) -> None:
        self.multi_glue = multi_glue
        self.sim = sim
        self.form = form
        self.prefix = prefix
        self.streams: dict[str, _Stream] = {}
        self.expected: list[Exp] = []
        self.seen: set[int] = set()
        self.nprocs = 1
        self.comm: dict[int, str] = {sim.procs[0].pid: "strace"}
        self.pend: dict[int, tuple[int, int, str]] = {}   # tid -> (entry line, entry time, file)
        self.line_time: dict[tuple[str, int], int] = {}
        self.seq = 0

    # streams
    def stream(self, tid: int) -> _Stream:
        name = f"{self.prefix}.{tid}" if self.form.pidcol == "ff" else self.prefix
        st_ = self.streams.get(name)
        if st_ is None:
            st_ = self.streams[name] = _Stream(name)
        return st_

    def close_partial(self, s: _Stream) -> None:
        if s.partial is not None and self.form.pidcol != "ff":
            s.write(" <unfinished ...>\n")
            s.partial = None
            s.col = 0

    def begin(self, s: _Stream, tid: int, t: int) -> None:
        self.close_partial(s)
        f = self.form
        if f.pidcol == "f":
            lead = f"{tid}<{comm_text(self.comm.get(tid, '?'))}> " if f.Y else f"{tid:<5d} "
        elif f.pidcol == "stderr":
            lead = f"[pid {tid:5d}] " if self.nprocs > 1 else ""
        else:
            lead = ""
        if f.tt:
            lead += fmt_tt(t) + " "
        self.line_time[(s.name, s.line)] = t
        s.line_comm = self.comm.get(tid) if f.Y else None
        if tid not in self.seen:
            self.seen.add(tid)
            self.add(Exp("seen", s.name, s.line, tid, (), t, t))
        s.write(lead)
        s.col = len(lead)

    def add(self, e: Exp) -> None:
        self.seq += 1
        key = (self.line_time.get((e.file, e.line), e.t_entry), self.seq)
        self.expected.append(e._replace(sort=key))

    def finish_syscall(self, s: _Stream, tid: int, call: Call, t: int, entry_line: int, t_entry: int,
                       line: int | None = None) -> None:
        f = self.form
        s.write(") ")
        s.col += 2
        if s.col < 40:
            s.write(" " * (40 - s.col))
            s.col = 40
        ret = call.ret[f.yy]
        if f.Y and call.ret_pid is not None and call.ret_val is not None and call.ret_val > 0:
            ret += f"<{comm_text(self.comm.get(call.ret_pid, '?'))}>"
        s.write("= " + ret)
        dur = None
        if f.T:
            dur = t - t_entry
            s.write(" " + fmt_dur(dur))
        line = s.line if line is None else line
        s.write("\n")
        s.partial = None
        s.col = 0
        comm = s.line_comm
        self.add(Exp("syscall", s.name, line, tid,
                     (call.name, call.full(f.yy), call.ret_val, call.errno, "complete", ret, entry_line, comm),
                     t_entry, t, dur))

    # actions
    def do(self, a: Action) -> None:
        f = self.form
        yy = f.yy
        if a.kind == "enter":
            s = self.stream(a.tid)
            if a.call.kind == "create" and a.call.child is not None:
                self.comm[a.call.child.tid] = self.comm.get(a.tid, "?")
            self.begin(s, a.tid, a.t)
            text = f"{a.call.name}(" + a.call.entry(yy)
            s.write(text)
            s.col += len(text)
            s.partial = (a.tid, a.call)
            s.partial_line = s.line
            self.pend[a.tid] = (s.line, a.t, s.name)
        elif a.kind in ("leave", "xleave"):
            call = a.call
            src = a.other if a.kind == "xleave" else a.tid
            entry_line, t_entry, entry_file = self.pend.pop(src)
            if call.kind == "exec" and call.exec_ok:
                new = call.new_comm or self.comm.get(a.tid, "?")
            else:
                new = None
            s = self.stream(a.tid)
            if a.kind == "leave" and s.partial is not None and s.partial[1] is call and not (
                    call.force_split and f.pidcol != "ff"):
                rest = call.rest(yy)
                s.write(rest)
                s.col += len(rest)
                # a line continued after a glued "strace: Process N attached" is one logical line:
                # it is numbered where it starts
                if new is not None:
                    self.comm[a.tid] = new
                self.finish_syscall(s, a.tid, call, a.t, 0, t_entry, line=entry_line)
            else:
                if new is not None:
                    self.comm[a.tid] = new
                if s.partial is not None and s.partial[1] is call:
                    self.close_partial(s)
                self.begin(s, a.tid, a.t)
                text = f"<... {call.name} resumed>" + call.rest(yy)
                s.write(text)
                s.col += len(text)
                el = entry_line if entry_file == s.name else 0
                self.finish_syscall(s, a.tid, call, a.t, el, t_entry)
        elif a.kind == "attach":
            self.nprocs += 1
            if f.pidcol == "stderr":
                s = self.stream(a.tid)
                if s.partial is not None and s.line != s.partial_line and not self.multi_glue:
                    # a second diagnostic inside one logical line: keep it simple on request
                    self.close_partial(s)
                line = s.line
                s.write(f"strace: Process {a.tid} attached\n")
                self.add(Exp("attached", s.name, line, a.tid, (), a.t, a.t))
                # glued to the end of a broken line: the diagnostic is read before that line's
                # events (a second diagnostic, on a line of its own, comes after them)
                first = next((i for i, e in enumerate(self.expected) if e.file == s.name and e.line == line), None)
                if first is not None and first < len(self.expected) - 1:
                    self.expected.insert(first, self.expected.pop())
        elif a.kind == "signal":
            s = self.stream(a.tid)
            self.begin(s, a.tid, a.t)
            line = s.line
            s.write(f"--- {a.text} ---\n")
            sig, _, info = a.text.partition(" ")
            self.add(Exp("signal", s.name, line, a.tid, (sig, info), a.t, a.t))
        elif a.kind == "exit":
            s = self.stream(a.tid)
            self.begin(s, a.tid, a.t)
            line = s.line
            s.write(f"+++ {a.text} +++\n")
            if a.text.startswith("exited with "):
                data = (int(a.text.split()[-1]), None, False)
            else:
                data = (None, a.text.split()[2], a.text.endswith("(core dumped)"))
            self.add(Exp("exit", s.name, line, a.tid, data, a.t, a.t))
            self.seen.discard(a.tid)
            self.nprocs -= 1
        elif a.kind == "superseded":
            by = int(a.text)
            if f.pidcol == "ff":
                ts = self.stream(by)
                line = ts.line
                ts.write(f" <pid changed to {a.tid} ...>\n")
                ts.partial = None
                self.add(Exp("pidchanged", ts.name, line, by, (a.tid,), a.t, a.t,
                             sort=()))
            s = self.stream(a.tid)
            self.begin(s, a.tid, a.t)
            line = s.line
            s.write(f"+++ superseded by execve in pid {by} +++\n")
            self.add(Exp("superseded", s.name, line, a.tid, (by,), a.t, a.t))
            self.nprocs -= 1
            self.seen.discard(by)
        else:  # pragma: no cover
            raise AssertionError(a.kind)

    def render(self) -> tuple[dict[str, bytes], list[Exp]]:
        for a in self.sim.actions:
            self.do(a)
        for s in self.streams.values():
            if s.partial is not None:    # never happens for complete schedules
                s.write("\n")
        files = {name: s.text().encode("latin-1") for name, s in self.streams.items()}
        exp = self.expected
        if self.form.pidcol == "ff":
            exp = sorted(exp, key=lambda e: e.sort)
        return files, exp


def render(sim: Sim, form: Form | str, prefix: str = "trace", *, multi_glue: bool = True
           ) -> tuple[dict[str, bytes], list[Exp]]:
    """Render ``sim`` in ``form``: ({file name: bytes}, expected events in reading order).

    ``multi_glue=False``: in stderr captures, never print a second ``strace: Process N attached``
    while a line is already broken by a first one (strace can; see the dedicated test).
    """
    if isinstance(form, str):
        form = FORMS[form]
    return Renderer(sim, form, prefix, multi_glue).render()


# ------------------------------------------------------------------------------------------------
# hypothesis strategies


@dataclass(frozen=True)
class Scenario:
    seed: int
    steps: int
    max_procs: int
    max_threads: int
    reuse: bool
    thread_exec: bool
    weird: bool = True

    def sim(self, **over) -> Sim:
        kw = dict(steps=self.steps, max_procs=self.max_procs, max_threads=self.max_threads,
                  reuse=self.reuse, thread_exec=self.thread_exec, weird=self.weird)
        kw.update(over)
        return Sim(self.seed, **kw)


def scenarios(*, max_steps: int = 120, reuse: bool | None = None, thread_exec: bool | None = None) -> st.SearchStrategy[Scenario]:
    return st.builds(
        Scenario,
        seed=st.integers(0, 2**32 - 1),
        steps=st.integers(0, max_steps),
        max_procs=st.integers(1, 10),
        max_threads=st.integers(1, 4),
        reuse=st.booleans() if reuse is None else st.just(reuse),
        thread_exec=st.booleans() if thread_exec is None else st.just(thread_exec),
    )


def sim_with_thread_exec(seed: int, **kw) -> Sim:
    """The first simulation from ``seed`` on that has an exec from a non-leader thread."""
    for k in range(2000):
        sim = Sim(seed + k, steps=100, max_procs=3, max_threads=2, thread_exec=True, **kw)
        if any(a.kind == "superseded" for a in sim.actions):
            return sim
    raise AssertionError("the generator no longer makes thread execs")


#: garbage lines for insertion tests: none of them is strace output
GARBAGE = [
    "this is not strace output",
    "12345",
    "))))) = = =",
    "[pid abc] read(",
    "+++ what +++ ever",
    "<... >",
    "\x00\x01\x02 binary junk \xff\xfe",
    "=" * 50,
    "1234  ",
    "--- ---",
    "{\"json\": true}",
]


def garbage_lines() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(GARBAGE),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                min_size=1, max_size=60).filter(lambda s: s.strip() != ""),
    )
