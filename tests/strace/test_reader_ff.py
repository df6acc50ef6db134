"""-ff sets: a directory or a prefix; merged by timestamp (midnight wrap) or file after file."""
from __future__ import annotations

from tracerule.strace.events import COMPLETE, Syscall, TaskSeen
from tracerule.strace.reader import TraceReader


def _ff(tmp_path, files: dict[int, str], prefix="trace"):
    d = tmp_path / "ff"
    d.mkdir()
    for tid, text in files.items():
        (d / f"{prefix}.{tid}").write_text(text)
    return d


def test_merged_by_time(tmp_path):
    d = _ff(tmp_path, {
        100: "10:00:00.000001 clone(child_stack=NULL, flags=SIGCHLD) = 101\n"
             "10:00:00.000300 wait4(-1, NULL, 0, NULL) = 101\n"
             "10:00:00.000400 +++ exited with 0 +++\n",
        101: "10:00:00.000100 execve(\"/bin/true\", [\"true\"], 0x7ffe /* 3 vars */) = 0\n"
             "10:00:00.000200 +++ exited with 0 +++\n",
    })
    r = TraceReader(d)
    evs = list(r)
    order = [(type(e).__name__, e.tid) for e in evs]
    assert order == [("TaskSeen", 100), ("Syscall", 100), ("TaskSeen", 101), ("Syscall", 101), ("Exit", 101),
                     ("Syscall", 100), ("Exit", 100)]
    assert not r.report.has_note("ff-order-unknown") and "ff-merged" in r.report.forms
    times = [e.time for e in evs]
    assert times == sorted(times)


def test_merged_across_midnight(tmp_path):
    d = _ff(tmp_path, {
        7: "23:59:59.900000 clone(child_stack=NULL, flags=SIGCHLD) = 8\n"
           "00:00:00.300000 exit_group(0) = ?\n"
           "00:00:00.400000 +++ exited with 0 +++\n",
        8: "00:00:00.100000 execve(\"/bin/true\", [\"true\"], 0x7ffe /* 3 vars */) = 0\n"
           "00:00:00.200000 +++ exited with 0 +++\n",
    })
    evs = list(TraceReader(d))
    sc = [e for e in evs if isinstance(e, Syscall)]
    assert [(s.tid, s.name) for s in sc] == [(7, "clone"), (8, "execve"), (7, "exit_group")]
    assert sc[0].time < sc[1].time < sc[2].time
    assert sc[1].time > 86400  # seconds since midnight of the first day


def test_file_after_file_without_timestamps(tmp_path):
    d = _ff(tmp_path, {
        30: "clone(child_stack=NULL, flags=SIGCHLD) = 31\n+++ exited with 0 +++\n",
        31: "execve(\"/bin/true\", [\"true\"], 0x7ffe /* 3 vars */) = 0\n+++ exited with 0 +++\n",
        4: "getpid() = 4\n",
    })
    r = TraceReader(d)
    evs = list(r)
    assert [e.tid for e in evs if isinstance(e, TaskSeen)] == [4, 30, 31]   # numeric, not text order
    assert r.report.has_note("ff-order-unknown") and r.report.has_note("no-timestamps")


def test_prefix_and_list_sources(tmp_path):
    d = _ff(tmp_path, {5: "getpid() = 5\n", 6: "getpid() = 6\n"}, prefix="run")
    a = list(TraceReader(d / "run"))
    b = list(TraceReader([d / "run.6", d / "run.5"]))
    c = list(TraceReader(d))
    assert a == b == c and [e.tid for e in a if isinstance(e, TaskSeen)] == [5, 6]


def test_thread_exec_pid_changed_with_timestamps(tmp_path):
    d = _ff(tmp_path, {
        10119: "10:00:00.000100 futex(0x1, FUTEX_WAIT, 2, NULL) = ?\n"
               "10:00:00.000300 +++ superseded by execve in pid 10120 +++\n"
               "10:00:00.000400 <... execve resumed>) = 0\n"
               "10:00:00.000500 +++ exited with 0 +++\n",
        10120: "10:00:00.000200 execve(\"/bin/echo\", [\"echo\"], 0x7ffe /* 3 vars */ <pid changed to 10119 ...>\n",
    })
    r = TraceReader(d)
    evs = list(r)
    ex = [e for e in evs if isinstance(e, Syscall) and e.name == "execve"]
    assert len(ex) == 1 and ex[0].tid == 10119 and ex[0].state == COMPLETE and ex[0].ret == 0
    assert ex[0].file.endswith(".10119") and ex[0].args.startswith('"/bin/echo"')
    assert r.report.bad_lines == 0 and r.report.unfinished_at_end == 0
