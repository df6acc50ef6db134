"""Adversarial inputs for names mode with its helper process (tracerule.strace._prefetch): the same
events and report with the helper (jobs=2) as without it (jobs=1), and as full mode filtered by name;
the helper reaped however the read ends.  The one test marked xfail(strict=True) shows what is not
supported (a file edited in place while it is read; see its reason)."""
from __future__ import annotations

import gzip
import os
import signal
import time

import pytest

import tracerule.strace.reader as R
from tests.strace.prefetch_support import no_other_thread, read, reaped, started  # noqa: F401
from tracerule.strace import _prefetch
from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader

NAME_SETS = [frozenset({"execve", "clone", "wait4", "exit_group"}), frozenset({"openat", "read", "write"}),
             frozenset({"syscall_0x1f4", "???", "read", "a-b"}), frozenset()]
STACK = " > /usr/lib/x86_64-linux-gnu/libc.so.6(__libc_read+0x12) [0x10a1b2]"



def _lines(n: int = 40, ts: str = "tt", stack_from: int | None = None) -> list[str]:
    t = 0

    def T() -> str:
        nonlocal t
        t += 1
        if ts == "tt":
            return f"10:00:{t // 1000000 % 60:02d}.{t % 1000000:06d} "
        if ts == "t":
            return f"10:{t // 60 % 60:02d}:{t % 60:02d} "
        if ts == "ttt":
            return f"1700000000.{t:06d} "
        return ""

    out = [f'1000 {T()}execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0']
    for i in range(n):
        c = 1001 + i
        out += [
            f"1000 {T()}clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>",
            f'{c} {T()}read(3, "{"y" * 30}", 4096) = 30',
            f"1000 {T()}<... clone resumed>, child_tidptr=0x7f00) = {c}",
            f'{c} {T()}openat(AT_FDCWD, "/etc/passwd", O_RDONLY <unfinished ...>',
            f"1000 {T()}wait4(-1,  <unfinished ...>",
            f"{c} {T()}<... openat resumed>) = 3",
            f'{c} {T()}execve("/bin/true", ["true"], 0x7ffd0 /* 3 vars */) = 0',
            f"{c} {T()}syscall_0x1f4(0x1, 0x2) = -1 ENOSYS (Function not implemented)",
            f'{c} {T()}write(1, "hi\\n", 3) = 3',
            f"{c} {T()}exit_group(0)                     = ?",
            f"{c} {T()}+++ exited with 0 +++",
            f"1000 {T()}<... wait4 resumed>[{{WIFEXITED(s) && WEXITSTATUS(s) == 0}}], 0, NULL) = {c}",
            f"1000 {T()}--- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={c}, si_uid=0}} ---",
        ]
    out += [f"1000 {T()}exit_group(0)                     = ?", f"1000 {T()}+++ exited with 0 +++"]
    if stack_from is not None:
        out = [y for k, x in enumerate(out)
               for y in ([x, STACK] if k >= stack_from and " = " in x and not x.endswith("+++") else [x])]
    return out


def _variant(kind: str) -> bytes:
    L = _lines()
    if kind == "crlf":
        text = "\r\n".join(L) + "\r\n"
    elif kind == "partial":
        text = "\n".join(L)
    elif kind == "partial-crlf":
        text = "\r\n".join(L)
    elif kind == "ansi":
        text = "\n".join(("\x1b[31m" + x + "\x1b[0m") if i % 3 == 0 else x.replace(" = ", " \x1b[1m= \x1b[0m")
                         for i, x in enumerate(L)) + "\n"
    elif kind in ("none", "t", "ttt"):
        text = "\n".join(_lines(ts=kind)) + "\n"
    elif kind == "long-line":
        L.insert(20, f'1003 10:00:30.000000 write(1, "{"z" * 5000}", 5000) = 5000')
        text = "\n".join(L) + "\n"
    elif kind == "garbage":
        L.insert(30, "\udcff\udcfe\x00 garbage \udc80")
        L.insert(90, "1004 10:00:30.000000 read(")
        text = "\n".join(L) + "\n"
    elif kind == "detached":
        i = next(k for k, x in enumerate(L) if "wait4(-1,  <unfinished" in x)
        L.insert(i + 1, "1000 10:00:30.000001 <... wait4 resumed> <detached ...>")
        text = "\n".join(L) + "\n"
    elif kind == "process-attached":
        # after the sniff's first 50 lines (a "Process" line there makes the trace irregular: no helper)
        L.insert(100, "strace: Process 1010 attached")
        L.insert(200, "Process 1020 detached")
        L.insert(300, "1024 10:00:40.000000 read(3, strace: Process 1025 attached")
        L.insert(301, '"x", 1) = 1')
        text = "\n".join(L) + "\n"
    elif kind == "pid-reuse":
        text = "\n".join(L + L) + "\n"
    elif kind == "late-stack":
        text = "\n".join(_lines(stack_from=250)) + "\n"
    elif kind == "late-stack-attached":
        L = _lines(stack_from=250)
        L.insert(252, "strace: Process 1019 attached")
        text = "\n".join(L) + "\n"
    else:
        raise AssertionError(kind)
    return text.encode("utf-8", "surrogateescape")


KINDS = ["crlf", "partial", "partial-crlf", "ansi", "none", "t", "ttt", "long-line", "garbage", "detached",
         "process-attached", "pid-reuse", "late-stack", "late-stack-attached"]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("kind", KINDS)
def test_adversarial_same_with_the_helper_and_as_full_mode(tmp_path, monkeypatch, started, kind, gz):
    data = _variant(kind)
    path = tmp_path / ("t.txt.gz" if gz else "t.txt")
    path.write_bytes(gzip.compress(data) if gz else data)
    full_reader = TraceReader(str(path))
    full = list(full_reader)
    for chunk in (64, 333, 4096, 1 << 18):
        monkeypatch.setattr(R, "FAST_CHUNK_SIZE", chunk)
        for names in NAME_SETS:
            with_helper = read(path, names, 2, bad_text=True)
            assert with_helper == read(path, names, 1, bad_text=True), (chunk, sorted(names))
            assert with_helper[0] == [e for e in full if not isinstance(e, Syscall) or e.name in names]
            rep = with_helper[1]
            assert rep[0] == full_reader.report.lines
            if kind != "garbage":
                # (names mode does not read a line without a pid column that is no candidate, so it
                # cannot name it as bad: a limitation older than the helper, same with jobs=1)
                assert rep[5] == [(d.line, d.message, d.text) for d in full_reader.report.bad]
            if "stack" in kind:
                assert rep[2].get("stack") == full_reader.report.skipped.get("stack") > 0
    assert started and all(reaped(p) for p in started)


@pytest.mark.parametrize("cut", [20_000, 20_017, 40_001])
def test_a_file_appended_to_while_read(tmp_path, monkeypatch, started, cut):
    """The helper reaches the end of the first part (a partial last line) before the rest is written:
    its answers from there do not fit and the reader goes on alone, as with jobs=1."""
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 1024)
    text = "\n".join(_lines(200)) + "\n"

    def run(jobs):
        p = tmp_path / f"live{jobs}.txt"
        p.write_text(text[:cut])
        r = TraceReader(str(p), names={"execve", "clone", "read", "wait4"}, jobs=jobs)
        out = []
        for i, e in enumerate(r):
            out.append(e)
            if i == 5:
                time.sleep(0.2)
                with open(p, "a") as f:
                    f.write(text[cut:])
        rep = r.report
        return [(type(e).__name__, e.line, getattr(e, "name", None)) for e in out], rep.lines, rep.skipped

    got = run(2)
    assert got == run(1)
    assert got[1] == text.count("\n")
    assert started and all(reaped(p) for p in started)


def _big(tmp_path, n=3000):
    p = tmp_path / "big.txt"
    p.write_text("\n".join(_lines(n)) + "\n")
    return p


@pytest.mark.parametrize("how", ["KeyboardInterrupt", "ValueError", "del"])
def test_the_helper_is_reaped_when_the_consumer_stops(tmp_path, monkeypatch, started, how):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 4096)
    path = _big(tmp_path)
    if how == "del":
        it = iter(TraceReader(str(path), names={"read"}, jobs=2))
        next(it)
        assert started and not reaped(started[-1])       # alive while the iterator is
        del it
    else:
        exc = KeyboardInterrupt if how == "KeyboardInterrupt" else ValueError
        with pytest.raises(exc):
            for i, _e in enumerate(TraceReader(str(path), names={"read"}, jobs=2)):
                if i == 100:
                    raise exc()
    assert started and all(reaped(p) for p in started)


def _helper_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_no_handler_of_the_reader_runs_in_the_helper(tmp_path, monkeypatch, started):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 4096)
    path = _big(tmp_path)                               # answers >> a pipe's 64 KiB: the helper waits
    marker = tmp_path / "ran"
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    old = signal.signal(signal.SIGWINCH, lambda *a: marker.write_text(str(os.getpid())))
    old_fd = signal.set_wakeup_fd(wfd)
    try:
        it = iter(TraceReader(str(path), names={"read"}, jobs=2))
        next(it)
        helper = started[-1]
        assert _helper_alive(helper)
        os.kill(helper, signal.SIGWINCH)
        time.sleep(0.3)
        try:
            woken = os.read(rfd, 64)
        except BlockingIOError:
            woken = b""
        list(it)
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGWINCH, old)
        os.close(rfd)
        os.close(wfd)
    assert not marker.exists(), f"the reader's SIGWINCH handler ran in pid {marker.read_text()}"
    assert woken == b"", "the helper wrote to the reader's wakeup fd"


def test_close_never_signals_a_pid_that_is_no_longer_its_child(tmp_path, monkeypatch, started):
    path = tmp_path / "small.txt"
    path.write_text("\n".join(_lines(5)) + "\n")
    sent = []
    real_kill = os.kill

    def kill(pid, sig):
        try:
            os.waitpid(pid, os.WNOHANG)
            child = True
        except ChildProcessError:
            child = False
        sent.append((pid, sig, child))
        return real_kill(pid, sig)

    monkeypatch.setattr(_prefetch.os, "kill", kill)
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)       # children reaped by the kernel at exit
    try:
        it = iter(TraceReader(str(path), names={"read"}, jobs=2))
        next(it)
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{started[-1]}") and time.monotonic() < deadline:
            time.sleep(0.02)                                   # the helper answered everything and exited
        list(it)
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert all(child for _pid, _sig, child in sent), f"signals sent to pids that were not children: {sent}"


@pytest.mark.xfail(strict=True, reason="not supported: a file edited in place while it is read (the "
                   "answers are checked by chunk index, length and last 64 bytes; a checksum of every chunk "
                   "would cost the reader ~0.1 ms per chunk; one process reads such a file as it finds it too)")
@pytest.mark.parametrize("change", ["name", "newline"])
def test_a_chunk_rewritten_in_place_is_not_answered(tmp_path, monkeypatch, started, change):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 4096)
    lines = ['1000 execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0']
    for i in range(3000):
        lines += [f'1000 readv(3, [{{iov_base="{i:06d}", iov_len=6}}], 1) = 6', "1000 close(3) = 0"]
    lines += ["1000 exit_group(0)                     = ?", "1000 +++ exited with 0 +++"]
    data = ("\n".join(lines) + "\n").encode()

    def run(jobs):
        p = tmp_path / f"inplace{jobs}.txt"
        p.write_bytes(data)
        r = TraceReader(str(p), names={"write", "close"}, jobs=jobs)
        out = []
        for i, e in enumerate(r):
            out.append(e)
            if i == 3:                         # the reader is in chunk 0; the helper is far ahead
                time.sleep(0.5)
                with open(p, "r+b") as f:
                    if change == "name":
                        k = data.index(b"readv", 3 * 4096 + 1000)
                        f.seek(k)
                        f.write(b"write")
                    else:
                        k = data.index(b"\n1000 close", 3 * 4096 + 1000)
                        f.seek(k)
                        f.write(b" ")
        return [(type(e).__name__, e.line, getattr(e, "name", None)) for e in out], r.report.lines

    # compared as one bool: this test is expected to fail, and under CI=true pytest would diff the
    # two 6,000-event lists in full (minutes of difflib)
    with_helper, alone = run(2), run(1)
    same = with_helper == alone
    assert same, f"jobs=2 read {len(with_helper[0])} events / {with_helper[1]} lines, jobs=1 {len(alone[0])} / {alone[1]}"
    assert started


MIDNIGHT = """\
1000 10:00:00.000000 execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0
1000 10:00:00.000100 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 1001
1001 10:00:00.000200 execve("/bin/sleep", ["sleep", "48000"], 0x7ffd0 /* 3 vars */) = 0
1000 11:00:00.000000 wait4(-1,  <unfinished ...>
1000 23:30:00.000002 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 1001
1000 00:10:00.000000 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3
1000 00:10:00.000100 exit_group(0)                     = ?
1000 00:10:00.000200 +++ exited with 0 +++
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_resumed_line_still_feeds_the_midnight_clock(tmp_path, jobs):
    path = tmp_path / "midnight.txt"
    path.write_text(MIDNIGHT)
    names = {"wait4", "openat"}
    full = [e for e in TraceReader(str(path)) if not isinstance(e, Syscall) or e.name in names]
    got = list(TraceReader(str(path), names=names, jobs=jobs))
    assert [e.time for e in got] == [e.time for e in full]
    assert got == full
