"""names mode reads plain ``<unfinished ...>`` entries and their ``<... NAME resumed>`` lines on its
candidate-line path: the events must be full mode's, filtered to the names (every chunk size)."""
from __future__ import annotations

import pytest

import tracerule.strace.reader as R
from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader

TRACE = """\
100 10:00:00.000001 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0
100 10:00:00.000002 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
101 10:00:00.000003 read(3,  <unfinished ...>
100 10:00:00.000004 <... clone resumed>, child_tidptr=0x7f) = 102
102 10:00:00.000005 write(1, "x", 1 <unfinished ...>
101 10:00:00.000006 <... read resumed>"abc", 10) = 3
102 10:00:00.000007 <... write resumed>) = 1
101 10:00:00.000008 wait4(-1,  <unfinished ...>
101 10:00:00.000009 <... read resumed>"abc", 10) = 3
100 10:00:00.000010 wait4(-1,  <unfinished ...>
100 10:00:00.000011 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 102 <0.000100>
102 10:00:00.000012 execve("/bin/true", ["true"], 0x1 /* 1 var */ <unfinished ...>
102 10:00:00.000013 getpid( <unfinished ...>
102 10:00:00.000014 <... getpid resumed>) = 102
101 10:00:00.000015 read(0,  <unfinished ...>
101 10:00:00.000016 <... read resumed> <unfinished ...>
101 10:00:00.000017 <... read resumed>"z", 1) = 1
100 10:00:00.000018 openat(AT_FDCWD, "/etc/passwd", O_RDONLY <unfinished ...>
100 10:00:00.000019 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_uid=0} ---
100 10:00:00.000020 <... openat resumed>) = 3
100 10:00:00.000021 setuid(1000 <unfinished ...>
100 10:00:00.000022 <... setuid resumed>) = -1 EPERM (Operation not permitted)
102 10:00:00.000023 write(1, "y", 1 <unfinished ...>
102 10:00:00.000024 +++ exited with 0 +++
101 10:00:00.000025 wait4(-1,  <unfinished ...>
101 10:00:00.000026 <... wait4 resumed>0x7ff, 0, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
101 10:00:00.000027 wait4(-1,  <unfinished ...>
"""


@pytest.mark.parametrize("stamps", [True, False])
@pytest.mark.parametrize("names", [{"read", "write", "wait4"}, {"openat", "setuid"}, {"execve", "clone", "getpid"}])
@pytest.mark.parametrize("chunk", [1 << 18, 200])
def test_names_mode_pending_lines_match_full_mode(tmp_path, monkeypatch, stamps, names, chunk):
    text = TRACE if stamps else "".join(line[:4] + line[20:] + "\n" for line in TRACE.splitlines())
    path = tmp_path / "t.txt"
    path.write_text(text)
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", chunk)
    full = list(TraceReader(path))
    sub = list(TraceReader(path, names=frozenset(names)))
    assert sub == [e for e in full if not isinstance(e, Syscall) or e.name in names]
    assert any(isinstance(e, Syscall) and e.entry_line for e in sub)


THREAD_EXEC = """\
200 10:00:00.000001 execve("/bin/app", ["app"], 0x7ffd /* 3 vars */) = 0
200 10:00:00.000002 clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, parent_tid=[201]) = 201
200 10:00:00.000003 futex(0x7f00, FUTEX_WAIT, 201, NULL <unfinished ...>
201 10:00:00.000004 read(3, "x", 1) = 1
201 10:00:00.000005 execve("/bin/other", ["other"], 0x7ffe /* 3 vars */ <pid changed to 200 ...>
200 10:00:00.000006 +++ superseded by execve in pid 201 +++
200 10:00:00.000007 <... execve resumed>) = 0
200 10:00:00.000008 exit_group(0) = ?
200 10:00:00.000009 +++ exited with 0 +++
"""


@pytest.mark.parametrize("names", [{"execve", "execveat"}, {"execve", "execveat", "read"}, {"read"}, {"exit_group"}])
def test_names_mode_thread_exec_matches_full_mode(tmp_path, names):
    # " <pid changed to N ...>" ends only an execve/execveat entry: with both names asked for, the
    # candidate regex meets that line; without them, a search finds it
    path = tmp_path / "t.txt"
    path.write_text(THREAD_EXEC)
    full = list(TraceReader(path))
    sub = list(TraceReader(path, names=frozenset(names)))
    assert sub == [e for e in full if not isinstance(e, Syscall) or e.name in names]
    assert any(type(e).__name__ == "PidChanged" for e in sub)


FIRST_LINE_EXIT = """\
300 10:00:00.000001 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0
300 10:00:00.000002 fcntl(1, F_DUPFD, 10 <unfinished ...>
301 10:00:00.000003 +++ exited with 2 +++
300 10:00:00.000004 <... fcntl resumed>) = 11
300 10:00:00.000005 execve("/bin/x", ["x"], 0x1 /* 1 var */) = -1 EACCES (Permission denied)
302 10:00:00.000006 this line is not strace output
300 10:00:00.000007 wait4(-1, NULL, 0, NULL) = 301
302 10:00:00.000008 getpid() = 302
300 10:00:00.000009 clone(child_stack=NULL, flags=SIGCHLD) = 301
301 10:00:00.000010 exit_group(0) = ?
301 10:00:00.000011 +++ exited with 0 +++
300 10:00:00.000012 +++ exited with 0 +++
"""


@pytest.mark.parametrize("names", [{"execve", "wait4", "clone"}, {"getpid"}, {"exit_group"}])
def test_names_mode_new_task_first_line_exit_or_bad(tmp_path, names):
    # a task whose first line ends it, or whose first line is unreadable: the lines after it (of
    # other tasks) are still read, in order
    path = tmp_path / "t.txt"
    path.write_text(FIRST_LINE_EXIT)
    full = list(TraceReader(path))
    sub = list(TraceReader(path, names=frozenset(names)))
    assert sub == [e for e in full if not isinstance(e, Syscall) or e.name in names]
