"""One small test per output form of strace-format.md, with real lines from tests/data/strace/."""
from __future__ import annotations

import pytest

from tracerule.strace.events import (
    COMPLETE, RESUMED_ORPHAN, UNFINISHED, Attached, Detached, Exit, Personality, PidChanged, Signal,
    Superseded, Syscall, TaskSeen,
)
from tracerule.strace.reader import TraceReader


def read(tmp_path, text: str | bytes, name: str = "t.txt", **kw):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    r = TraceReader(p, **kw)
    evs = list(r)
    return evs, r.report


def syscalls(evs):
    return [e for e in evs if isinstance(e, Syscall)]


# ------------------------------------------------------------------------- complete syscalls
# (line, tid, name, args, ret, errno, ret_text)
COMPLETE_LINES = [
    ('8083  close(3)                          = 0', 8083, "close", "3", 0, None, "0"),
    ('10110 execve("/bin/true", ["/bin/true"], 0x5556b4b169a0 /* 5 vars */) = 0', 10110, "execve",
     '"/bin/true", ["/bin/true"], 0x5556b4b169a0 /* 5 vars */', 0, None, "0"),
    ('8048  brk(NULL)                         = 0x559b261e5000', 8048, "brk", "NULL", 0x559b261e5000, None,
     "0x559b261e5000"),
    ('8112  umask(000)                        = 022', 8112, "umask", "000", 0o22, None, "022"),
    ('8112  umask(022)                        = 000', 8112, "umask", "022", 0, None, "000"),
    ('8048  access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)', 8048, "access",
     '"/etc/ld.so.preload", R_OK', -1, "ENOENT", "-1 ENOENT (No such file or directory)"),
    ('4001  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, '
     'child_tidptr=0x7f5b2c400a10) = ? ERESTARTNOINTR (To be restarted)', 4001, "clone",
     "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f5b2c400a10",
     None, "ERESTARTNOINTR", "? ERESTARTNOINTR (To be restarted)"),
    ('4001  syscall_0xbad(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)', 4001,
     "syscall_0xbad", "0x1, 0x2, 0x3, 0x4, 0x5, 0x6", -1, "ENOSYS", "-1 ENOSYS (Function not implemented)"),
    ('2006  syscall_317(0, 0x1, 0, 0, 0, 0)   = -1 ENOSYS (Function not implemented)', 2006, "syscall_317",
     "0, 0x1, 0, 0, 0, 0", -1, "ENOSYS", "-1 ENOSYS (Function not implemented)"),
    ('7001  ???()                             = ? <unavailable>', 7001, "???", "", None, None, "? <unavailable>"),
    ('7001  foo(1)                            = -1 (errno 531)', 7001, "foo", "1", -1, "531", "-1 (errno 531)"),
    ('4001  write(3</tmp/app.log> (deleted), "bye\\n", 4) = 4', 4001, "write",
     '3</tmp/app.log> (deleted), "bye\\n", 4', 4, None, "4"),
    ('10111 execve("/bin/true", ["/bin/true"], 0x5556b4b169a0 /* 5 vars */) = -1 ENOENT (No such file or '
     'directory) (INJECTED)', 10111, "execve", '"/bin/true", ["/bin/true"], 0x5556b4b169a0 /* 5 vars */', -1,
     "ENOENT", "-1 ENOENT (No such file or directory) (INJECTED)"),
    ('8188  clone(child_stack=NULL, flags=SIGCHLD) = 2 /* 8222 in strace\'s PID NS */', 8188, "clone",
     "child_stack=NULL, flags=SIGCHLD", 2, None, "2 /* 8222 in strace's PID NS */"),
    ('8151<sh> openat(AT_FDCWD</tmp/gen>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>',
     8151, "openat", 'AT_FDCWD</tmp/gen>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC', 3, None,
     "3</etc/ld.so.cache>"),
    ('8151<sh> dup2(3, 1)                     = 1</dev/null<char 1:3>>', 8151, "dup2", "3, 1", 1, None,
     "1</dev/null<char 1:3>>"),
    ('8151<sh> vfork()                        = 8152<sh>', 8151, "vfork", "", 8152, None, "8152<sh>"),
    ('8048  fcntl(3, F_GETFL)                 = 0x8000 (flags O_RDONLY|O_LARGEFILE)', 8048, "fcntl",
     "3, F_GETFL", 0x8000, None, "0x8000 (flags O_RDONLY|O_LARGEFILE)"),
    # a string argument containing ") = " and a wait4 status macro: split at the LAST ") ="
    ('8083  write(1, "f() = 3\\n", 8)       = 8', 8083, "write", '1, "f() = 3\\n", 8', 8, None, "8"),
    ('2001  wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 2003', 2001, "wait4",
     "-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL", 2003, None, "2003"),
    ('8055  restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0', 8055, "restart_syscall",
     "<... resuming interrupted clock_nanosleep ...>", 0, None, "0"),
    ('8049  geteuid32()                       = 0', 8049, "geteuid32", "", 0, None, "0"),
    ('7100  readv#64(3, [], 0)                = 0', 7100, "readv#64", "3, [], 0", 0, None, "0"),
]


@pytest.mark.parametrize("line,tid,name,args,ret,errno,ret_text", COMPLETE_LINES)
def test_complete_syscall(tmp_path, line, tid, name, args, ret, errno, ret_text):
    evs, rep = read(tmp_path, line + "\n")
    assert rep.bad_lines == 0, rep.bad
    assert isinstance(evs[0], TaskSeen) and evs[0].tid == tid and evs[0].line == 1
    (sc,) = syscalls(evs)
    assert (sc.tid, sc.name, sc.args, sc.ret, sc.errno, sc.ret_text) == (tid, name, args, ret, errno, ret_text)
    assert sc.state == COMPLETE and sc.line == 1 and sc.entry_line == 0


def test_comm_decoration_Y(tmp_path):
    evs, rep = read(tmp_path, '8151<strace> execve("/usr/bin/sh", ["sh"], 0x7fff7d3f25e8 /* 4 vars */) = 0\n'
                              '8151<sh> brk(NULL)                      = 0x5561f54f8000\n')
    a, b = syscalls(evs)
    assert (a.tid, a.comm, b.comm) == (8151, "strace", "sh")
    assert "Y" in rep.forms and "pid-column" in rep.forms


def test_pid_column_any_width(tmp_path):
    # "%-5u ": two spaces after a 4-digit pid, one after a 5-digit one, one after a 7-digit one
    evs, rep = read(tmp_path, "8083  close(3) = 0\n10110 close(4) = 0\n4194303 close(5) = 0\n")
    assert [s.tid for s in syscalls(evs)] == [8083, 10110, 4194303]
    assert rep.bad_lines == 0


# ------------------------------------------------------------------------- timestamps and leader fields
TIME_LINES = [
    ("8172  22:41:46 execve(\"/usr/bin/sh\", [\"sh\"], 0x7ffcf2ad0a90 /* 4 vars */) = 0", 22 * 3600 + 41 * 60 + 46,
     None, "t"),
    ("8027  22:41:42.879790 fcntl(0, F_GETFD) = 0 <0.000021>", 22 * 3600 + 41 * 60 + 42.879790, 0.000021, "tt"),
    ("8101  1795992104.904330 (+     0.003615) [00007f82907abc47] brk(NULL) = 0x557841a7b000", 1795992104.904330,
     None, "ttt"),
    ("8180  1795992107.408451198 [  59] execve(\"/usr/bin/sh\", [\"sh\"], 0x7ffc2a5fc460 /* 4 vars */) = 0 "
     "<0.001797458>", 1795992107.408451198, 0.001797458, "ns"),
    ("1795992107 getpid() = 8180", 1795992107.0, None, "ts-s"),
    ("8180  1795992107 getpid() = 8180", 1795992107.0, None, "ts-s"),
]


@pytest.mark.parametrize("line,time,duration,form", TIME_LINES)
def test_timestamps(tmp_path, line, time, duration, form):
    evs, rep = read(tmp_path, line + "\n")
    (sc,) = syscalls(evs)
    assert sc.time == pytest.approx(time, abs=1e-6)
    assert sc.duration == (pytest.approx(duration) if duration is not None else None)
    assert form in rep.forms
    assert rep.bad_lines == 0


def test_bare_10_digit_integer_is_a_timestamp_not_a_pid(tmp_path):
    evs, _ = read(tmp_path, "1795992107 getpid() = 8180\n1795992108 set_tid_address(0x7f) = 8180\n")
    assert all(s.tid in (0, 8180) for s in syscalls(evs))
    assert syscalls(evs)[0].time == 1795992107.0


def test_relative_r_alone(tmp_path):
    evs, rep = read(tmp_path, "8101       0.000123 brk(NULL) = 0x557841a7b000\n"
                              "     0.000200 brk(NULL) = 0x557841a7b000\n".replace("     0.000200", "8101       0.000200"))
    assert [s.time for s in syscalls(evs)] == [None, None]
    assert "r" in rep.forms and rep.bad_lines == 0


def test_scno_n_also_before_exit(tmp_path):
    evs, rep = read(tmp_path, "8181  1795992107.435000000 [ 231] exit_group(0) = ?\n"
                              "8181  1795992107.435806254 [ 231] +++ exited with 0 +++\n")
    (sc,) = syscalls(evs)
    assert sc.scno == 231 and sc.ret is None
    (ex,) = [e for e in evs if isinstance(e, Exit)]
    assert ex.code == 0 and ex.tid == 8181
    assert "n" in rep.forms


def test_ip_i_and_unknown_ip(tmp_path):
    evs, rep = read(tmp_path, "8101  [00007fb415e2bad7] brk(NULL) = 0x557841a7b000\n"
                              "8101  [????????????????] +++ exited with 0 +++\n")
    assert syscalls(evs)[0].name == "brk"
    assert [e for e in evs if isinstance(e, Exit)][0].code == 0
    assert "i" in rep.forms and rep.bad_lines == 0


def test_stack_lines_k_are_counted_not_yielded(tmp_path):
    text = ("8101  1795992104.904330 (+     0.003615) [00007f82907abc47] brk(NULL) = 0x557841a7b000\n"
            " > /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2(_dl_catch_error+0x77c7) [0x1fc47]\n"
            " > /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2(_dl_catch_error+0x1e7f) [0x1a2ff]\n")
    evs, rep = read(tmp_path, text)
    assert len(syscalls(evs)) == 1 and rep.skipped.get("stack") == 2
    assert {"k", "r", "i", "ttt"} <= rep.forms


def test_ansi_colour_is_stripped(tmp_path):
    evs, rep = read(tmp_path, "8083  \x1b[1;32mclose\x1b[0m(3) = 0\n")
    assert syscalls(evs)[0].name == "close" and rep.bad_lines == 0


# ------------------------------------------------------------------------- unfinished / resumed
def test_unfinished_resumed_joined_6x(tmp_path):
    text = ("8083  read(3,  <unfinished ...>\n"
            "8084  close(3) = 0\n"
            '8083  <... read resumed>"x", 1)         = 1\n'
            "8055  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>\n"
            "8055  <... clone resumed>, child_tidptr=0x7f056bca4a10) = 8058\n"
            "8888  clone3({flags=CLONE_VM, exit_signal=0} <unfinished ...>\n"
            "8888  <... clone3 resumed> => {parent_tid=[8889]}, 88) = 8889\n")
    evs, rep = read(tmp_path, text)
    sc = {s.name: s for s in syscalls(evs)}
    assert sc["read"].args == '3, "x", 1' and sc["read"].ret == 1
    assert (sc["read"].line, sc["read"].entry_line, sc["read"].state) == (3, 1, COMPLETE)
    assert sc["clone"].args == ("child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
                                "child_tidptr=0x7f056bca4a10")
    assert sc["clone3"].args == "{flags=CLONE_VM, exit_signal=0} => {parent_tid=[8889]}, 88"
    assert sc["clone3"].ret == 8889
    # yielded at the exit line, in file order
    assert [s.name for s in syscalls(evs)] == ["close", "read", "clone", "clone3"]
    assert rep.bad_lines == 0 and rep.unpaired_resumed == 0


def test_resumed_4x_with_space(tmp_path):
    text = ("2001  clone( <unfinished ...>\n"
            "2001  <... clone resumed> child_stack=0, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f3b1e1f09d0)"
            " = 2003\n"
            '2002  write(1, "adjtime\\n"..., 2048 <unfinished ...>\n'
            "2002  <... write resumed> )             = 2048\n")
    evs, rep = read(tmp_path, text)
    a, b = syscalls(evs)
    assert a.args == "child_stack=0, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f3b1e1f09d0"
    assert b.args == '1, "adjtime\\n"..., 2048' and b.ret == 2048
    assert "strace-4x-resumed" in rep.forms


def test_resumed_unfinished_then_question(tmp_path):
    text = ("4002  read(5,  <unfinished ...>\n"
            "4001  exit_group(1 <unfinished ...>\n"
            "4002  <... read resumed> <unfinished ...>) = ?\n"
            "4002  +++ exited with 1 +++\n"
            "4001  <... exit_group resumed>)         = ? <unavailable>\n"
            "4001  +++ exited with 1 +++\n")
    evs, rep = read(tmp_path, text)
    r, x = syscalls(evs)
    assert (r.name, r.ret, r.state, r.entry_line, r.line) == ("read", None, COMPLETE, 1, 3)
    assert (x.name, x.ret, x.ret_text) == ("exit_group", None, "? <unavailable>")
    assert rep.bad_lines == 0


def test_resumed_ids_tolerated(tmp_path):
    text = "8083  read(3,  <unfinished #123 ...>\n8083  <... read resumed #123>\"x\", 1) = 1\n"
    evs, rep = read(tmp_path, text)
    (s,) = syscalls(evs)
    assert s.args == '3, "x", 1' and rep.bad_lines == 0


def test_orphan_resumed(tmp_path):
    evs, rep = read(tmp_path, "8230  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 8231\n")
    (s,) = syscalls(evs)
    assert s.state == RESUMED_ORPHAN and s.ret == 8231
    assert s.args == "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL"
    assert rep.unpaired_resumed == 1 and rep.has_note("unpaired-resumed")


def test_unfinished_at_kill_and_at_end(tmp_path):
    text = ("8057  pause( <unfinished ...>\n"
            "8057  +++ killed by SIGKILL +++\n"
            "8058  read(0,  <unfinished ...>\n")
    evs, rep = read(tmp_path, text)
    a, b = syscalls(evs)
    assert (a.name, a.state, a.line, a.ret) == ("pause", UNFINISHED, 1, None)
    # the unfinished syscall comes before the Exit that ended it
    kinds = [type(e).__name__ for e in evs]
    assert kinds.index("Exit") > evs.index(a)
    assert (b.name, b.state, b.line) == ("read", UNFINISHED, 3)
    assert rep.unfinished_at_end == 1 and rep.has_note("unfinished-at-end")


def test_detached(tmp_path):
    text = "7300  clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=100000000},  <detached ...>\n"
    evs, rep = read(tmp_path, text)
    (s,) = syscalls(evs)
    assert s.state == UNFINISHED and s.args == "CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=100000000}, "
    (d,) = [e for e in evs if isinstance(e, Detached)]
    assert d.tid == 7300 and d.line == 1


# ------------------------------------------------------------------------- thread exec
def test_superseded_moves_pending_execve_to_leader(tmp_path):
    text = ('8215  execve("/bin/echo", ["echo", "exec-from-thread"], 0x7ffef3ece1c8 /* 35 vars */ <unfinished ...>\n'
            "8214  <... futex resumed>)              = ?\n"
            "8214  +++ superseded by execve in pid 8215 +++\n"
            "8214  <... execve resumed>)             = 0\n"
            '8214  write(1, "exec-from-thread\\n", 17) = 17\n')
    evs, rep = read(tmp_path, text)
    (sup,) = [e for e in evs if isinstance(e, Superseded)]
    assert (sup.tid, sup.by_tid, sup.line) == (8214, 8215, 3)
    ex = [s for s in syscalls(evs) if s.name == "execve"][0]
    assert (ex.tid, ex.ret, ex.entry_line, ex.line, ex.state) == (8214, 0, 1, 4, COMPLETE)
    assert ex.args.startswith('"/bin/echo", ["echo", "exec-from-thread"]')
    assert rep.bad_lines == 0 and rep.unfinished_at_end == 0


# ------------------------------------------------------------------------- signals, exits, personality
SIGNAL_LINES = [
    ("8055  --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=8056, si_uid=0} ---", "SIGUSR1",
     "{si_signo=SIGUSR1, si_code=SI_USER, si_pid=8056, si_uid=0}", False),
    ("8173  22:41:46 --- stopped by SIGSTOP ---", "SIGSTOP", "", True),
    ("4001  --- SIGWINCH {si_signo=SIGWINCH, si_code=SI_KERNEL} ---", "SIGWINCH",
     "{si_signo=SIGWINCH, si_code=SI_KERNEL}", False),
    ("1234  --- SIGCHLD (Child exited) @ 0 (0) ---", "SIGCHLD", "(Child exited) @ 0 (0)", False),
    ("1234  --- SIGCHLD (Child exited) ---", "SIGCHLD", "(Child exited)", False),
]


@pytest.mark.parametrize("line,sig,info,stopped", SIGNAL_LINES)
def test_signals(tmp_path, line, sig, info, stopped):
    evs, rep = read(tmp_path, line + "\n")
    (s,) = [e for e in evs if isinstance(e, Signal)]
    assert (s.signal, s.info, s.stopped) == (sig, info, stopped)
    assert rep.bad_lines == 0


EXIT_LINES = [
    ("8055  +++ exited with 0 +++", 0, None, False),
    ("8027  22:41:43.300000 +++ exited with 125 +++", 125, None, False),
    ("8057  +++ killed by SIGKILL +++", None, "SIGKILL", False),
    ("8058  +++ killed by SIGSEGV (core dumped) +++", None, "SIGSEGV", True),
]


@pytest.mark.parametrize("line,code,sig,core", EXIT_LINES)
def test_exits(tmp_path, line, code, sig, core):
    evs, rep = read(tmp_path, line + "\n")
    (x,) = [e for e in evs if isinstance(e, Exit)]
    assert (x.code, x.signal, x.core) == (code, sig, core)


def test_taskseen_again_after_exit_pid_reuse(tmp_path):
    text = "500   close(1) = 0\n500   +++ exited with 0 +++\n501   close(2) = 0\n500   close(3) = 0\n"
    evs, _ = read(tmp_path, text)
    seen = [(e.tid, e.line) for e in evs if isinstance(e, TaskSeen)]
    assert seen == [(500, 1), (501, 3), (500, 4)]


@pytest.mark.parametrize("line,tid,pid,mode", [
    ("8049  [ Process PID=8049 runs in 32 bit mode. ]", 8049, 8049, "b32"),
    ("8049  [ Process PID=8049 runs in 64 bit mode. ]", 8049, 8049, "b64"),
    ("[ Process PID=7132 runs in x32 mode. ]", 7132, 7132, "x32"),
])
def test_personality(tmp_path, line, tid, pid, mode):
    evs, rep = read(tmp_path, line + "\n")
    (p,) = [e for e in evs if isinstance(e, Personality)]
    assert (p.tid, p.pid, p.mode) == (tid, pid, mode)
    assert rep.bad_lines == 0


# ------------------------------------------------------------------------- stderr captures
STDERR = """execve("/usr/bin/sh", ["sh", "-c", "echo start"], 0x7fffbf5f3828 /* 4 vars */) = 0
set_tid_address(0x7f39261159d0)         = 8093
vfork(strace: Process 8094 attached
 <unfinished ...>
[pid  8094] execve("/bin/true", ["/bin/true"], 0x558a829744d8 /* 5 vars */ <unfinished ...>
[pid  8093] <... vfork resumed>)        = 8094
[pid  8094] <... execve resumed>)       = 0
[pid  8094] +++ exited with 0 +++
clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLDstrace: Process 8095 attached
, child_tidptr=0x7f3926115a10) = 8095
[pid  8095] close(3)                    = 0
[pid  8095] +++ exited with 0 +++
exit_group(0)                           = ?
+++ exited with 0 +++
"""


def test_stderr_capture(tmp_path):
    evs, rep = read(tmp_path, STDERR)
    assert rep.bad_lines == 0, rep.bad
    sc = syscalls(evs)
    by = [(s.tid, s.name, s.line) for s in sc]
    assert by == [(8093, "execve", 1), (8093, "set_tid_address", 2), (8093, "vfork", 6), (8094, "execve", 7),
                  (8093, "clone", 9), (8095, "close", 11), (8093, "exit_group", 13)]
    vf = sc[2]
    assert (vf.entry_line, vf.ret, vf.args) == (3, 8094, "")
    cl = sc[4]
    assert cl.args.endswith("SIGCHLD, child_tidptr=0x7f3926115a10") and cl.ret == 8095
    assert [e.tid for e in evs if isinstance(e, Attached)] == [8094, 8095]
    assert [e.tid for e in evs if isinstance(e, Exit)] == [8094, 8095, 8093]
    assert {"stderr-pid", "stderr-glued"} <= rep.forms and rep.has_note("stderr-capture")


def test_stderr_names_mode_equals_filtered_full(tmp_path):
    full, _ = read(tmp_path, STDERR)
    part, _ = read(tmp_path, STDERR, names={"clone", "execve"})
    assert part == [e for e in full if not isinstance(e, Syscall) or e.name in {"clone", "execve"}]


def test_no_pid_column_tid_from_set_tid_address(tmp_path):
    text = ('execve("\\x2f\\x75\\x73\\x72", ["\\x70"], 0x7ffcb893ef00 /* 4 vars */) = 0\n'
            "brk(NULL)                               = 0x5602be492000\n"
            "set_tid_address(0x7fb2ffc9ca10)         = 8107\n"
            "exit_group(0)                           = ?\n"
            "+++ exited with 0 +++\n")
    for names in (None, {"execve"}):
        evs, rep = read(tmp_path, text, names=names)
        assert {e.tid for e in evs} == {8107}
        assert isinstance(evs[0], TaskSeen) and evs[0].line == 1
    assert "no-pid" in rep.forms and not rep.has_note("root-pid-unknown")


def test_no_pid_and_no_tid_return_gives_tid_0_and_a_note(tmp_path):
    evs, rep = read(tmp_path, "brk(NULL) = 0x5602be492000\n+++ exited with 0 +++\n")
    assert {e.tid for e in evs} == {0}
    assert rep.has_note("root-pid-unknown")


# ------------------------------------------------------------------------- bytes survive
def test_non_utf8_bytes_survive(tmp_path):
    raw = b'8083  write(1, "caf\xc3\xa9 \xff\xfe", 7) = 7\n'
    evs, rep = read(tmp_path, raw)
    (s,) = syscalls(evs)
    assert s.args.encode("utf-8", "surrogateescape") == b'1, "caf\xc3\xa9 \xff\xfe", 7'
    assert rep.bad_lines == 0


def test_pid_changed_ff(tmp_path):
    d = tmp_path / "ff"
    d.mkdir()
    (d / "trace.10119").write_text("10119 +++ superseded by execve in pid 10120 +++\n".split(" ", 1)[1]
                                   + "<... execve resumed>)             = 0\n"
                                   + "+++ exited with 0 +++\n")
    (d / "trace.10120").write_text('execve("/bin/echo", ["echo"], 0x7ffe /* 3 vars */ <pid changed to 10119 ...>\n')
    r = TraceReader(d)
    evs = list(r)
    (pc,) = [e for e in evs if isinstance(e, PidChanged)]
    assert (pc.tid, pc.new_tid) == (10120, 10119)
    (ex,) = syscalls(evs)
    assert (ex.tid, ex.ret, ex.state) == (10119, 0, COMPLETE)
    assert ex.args == '"/bin/echo", ["echo"], 0x7ffe /* 3 vars */'
    assert r.report.bad_lines == 0 and r.report.unfinished_at_end == 0
