"""The names mode's helper process (tracerule.strace._prefetch): the same events and report with it
as without it, on every corpus trace and on many-chunk traces; the reader carries on alone when
the helper dies; the helper never outlives the reading (finished, abandoned or failed)."""
from __future__ import annotations

import os
import signal
import threading

import pytest

import tracerule.strace.reader as R
from tests.conftest import DATA, SAMPLES, STRACE_DATA
from tests.strace.prefetch_support import no_other_thread, read, reaped, started  # noqa: F401
from tracerule.strace import _prefetch
from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader

GRAPHISH = frozenset({"clone", "clone3", "fork", "vfork", "execve", "execveat", "exit_group", "setuid",
                      "setresuid", "getuid", "geteuid", "wait4", "write", "set_tid_address", "mmap2"})
NAME_SETS = [GRAPHISH, frozenset({"openat", "read", "connect"}), frozenset()]
CORPUS = sorted(list(STRACE_DATA.glob("*.txt")) + list((DATA / "strace_extra").glob("*.txt"))
                + list(SAMPLES.glob("*.txt")))



def _trace(tmp_path, n: int = 300) -> "os.PathLike":
    """A many-chunk -f -tt -T trace: children created, reading, exec'ing, exiting, with unfinished
    and resumed pairs across tasks."""
    lines = ['1000 10:00:00.000001 execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0 <0.000100>']
    t = 1
    for i in range(n):
        c = 1001 + i
        t += 7
        ts = f"10:00:{t // 1000000 % 60:02d}.{t % 1000000:06d}"
        lines += [
            f"1000 {ts} clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>",
            f'{c} {ts} read(3, "{"y" * 40}", 4096) = 40 <0.000005>',
            f"1000 {ts} <... clone resumed>, child_tidptr=0x7f00) = {c} <0.000050>",
            f'{c} {ts} openat(AT_FDCWD, "/etc/passwd", O_RDONLY <unfinished ...>',
            f"1000 {ts} wait4(-1,  <unfinished ...>",
            f"{c} {ts} <... openat resumed>) = 3 <0.000007>",
            f'{c} {ts} execve("/bin/true", ["true"], 0x7ffd0 /* 3 vars */) = 0 <0.000090>',
            f"{c} {ts} exit_group(0)                     = ?",
            f"{c} {ts} +++ exited with 0 +++",
            f"1000 {ts} <... wait4 resumed>[{{WIFEXITED(s) && WEXITSTATUS(s) == 0}}], 0, NULL) = {c} <0.000100>",
            f"1000 {ts} --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={c}, si_uid=0}} ---",
        ]
    lines += ["1000 10:00:59.000000 exit_group(0)                     = ?", "1000 10:00:59.000001 +++ exited with 0 +++"]
    p = tmp_path / "many.txt"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_same_with_and_without_the_helper(path, started):
    for names in NAME_SETS:
        assert read(path, names, 2) == read(path, names, 1)
    assert all(reaped(p) for p in started)


@pytest.mark.parametrize("chunk", [1 << 12, 1 << 15, 1 << 18])
def test_many_chunks_same(tmp_path, monkeypatch, started, chunk):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", chunk)
    path = _trace(tmp_path)
    for names in NAME_SETS:
        with_helper = read(path, names, 2)
        assert with_helper == read(path, names, 1)
        assert with_helper[1][0] == path.read_text().count("\n")
    full = list(TraceReader(str(path)))
    got = read(path, GRAPHISH, 2)[0]
    assert got == [e for e in full if not isinstance(e, Syscall) or e.name in GRAPHISH]
    assert sum(isinstance(e, Syscall) and e.entry_line > 0 for e in got) >= 300   # pairs read
    assert started and all(reaped(p) for p in started)


def test_the_reader_goes_on_alone_when_the_helper_dies(tmp_path, monkeypatch, started):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 1 << 12)
    path = _trace(tmp_path, 3000)       # answers well beyond a pipe's buffer: the helper is still at work
    real_get = _prefetch.Prefetch.get
    answered = []

    def get(self, index, chunk):
        if index == 5 and self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        got = real_get(self, index, chunk)
        answered.append(got is not None)
        return got

    monkeypatch.setattr(_prefetch.Prefetch, "get", get)
    assert read(path, GRAPHISH, 2) == read(path, GRAPHISH, 1)
    # answers already in the pipe are read, then none: the reader scans the rest itself
    assert answered[0] and not answered[-1] and len(answered) > 6
    first_none = answered.index(False)
    assert not any(answered[first_none:])


@pytest.mark.parametrize("wrong", ["length", "last-bytes", "index"])
def test_a_wrong_answer_is_not_used(tmp_path, monkeypatch, started, wrong):
    """An answer for another chunk (index, length, or last bytes: a file rewritten in place): the
    reader scans itself from there on."""
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 1 << 12)
    path = _trace(tmp_path)
    real_get = _prefetch.Prefetch.get
    answered = []

    def get(self, index, chunk):
        if index == 3:
            if wrong == "length":
                chunk = chunk + b"\n"
            elif wrong == "last-bytes":
                chunk = chunk[:-2] + b"x\n"
            else:
                index = 4
        got = real_get(self, index, chunk)
        answered.append(got is not None)
        return got

    monkeypatch.setattr(_prefetch.Prefetch, "get", get)
    assert read(path, GRAPHISH, 2) == read(path, GRAPHISH, 1)
    assert answered[:3] == [True] * 3 and answered[3:] == [False]
    assert started and all(reaped(p) for p in started)


def test_no_answers_for_a_file_replaced_since_the_reader_opened_it(tmp_path, monkeypatch, started):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 1 << 12)
    path = _trace(tmp_path)
    other = tmp_path / "other.txt"
    other.write_bytes(path.read_bytes())
    real_start = _prefetch.Prefetch.start.__func__
    answered = []

    def start(cls, p, pattern, size, ident=None):
        os.replace(other, path)          # the path now names another file (same bytes, new inode)
        return real_start(cls, p, pattern, size, ident)

    real_get = _prefetch.Prefetch.get

    def get(self, index, chunk):
        got = real_get(self, index, chunk)
        answered.append(got is not None)
        return got

    monkeypatch.setattr(_prefetch.Prefetch, "start", classmethod(start))
    monkeypatch.setattr(_prefetch.Prefetch, "get", get)
    evs = read(path, GRAPHISH, 2)
    assert answered == [False]           # the helper saw another inode and answered nothing
    assert evs == read(path, GRAPHISH, 1)


@pytest.mark.parametrize("how", ["break", "raise"])
def test_the_helper_ends_with_an_abandoned_read(tmp_path, monkeypatch, started, how):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 1 << 12)
    path = _trace(tmp_path)
    it = iter(TraceReader(str(path), names=GRAPHISH, jobs=2))
    with pytest.raises(KeyError) if how == "raise" else _nothing():
        for i, _ev in enumerate(it):
            if i == 50:
                if how == "raise":
                    raise KeyError("consumer failed")
                break
    it.close()
    assert started and all(reaped(p) for p in started)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_when_it_is_used(tmp_path, monkeypatch):
    small = _trace(tmp_path, 5)
    monkeypatch.delenv("TRACERULE_JOBS", raising=False)
    assert not _prefetch.usable(small, None)                 # too small to pay
    assert not _prefetch.usable(small, 1)
    assert _prefetch.usable(small, 2)
    monkeypatch.setattr(_prefetch, "MIN_BYTES", 0)
    assert _prefetch.usable(small, None) == (len(os.sched_getaffinity(0)) >= 2)
    monkeypatch.setenv("TRACERULE_JOBS", "1")
    assert not _prefetch.usable(small, None)
    monkeypatch.setenv("TRACERULE_JOBS", "2")
    assert _prefetch.usable(small, None)
    # never with another thread running (fork copies only the calling thread)
    stop = threading.Event()
    th = threading.Thread(target=stop.wait)
    th.start()
    try:
        assert not _prefetch.usable(small, 2)
    finally:
        stop.set()
        th.join()


def test_full_mode_and_ff_never_fork(tmp_path, started):
    path = _trace(tmp_path)
    list(TraceReader(str(path), jobs=2))                     # full mode: no candidate scan to share
    list(TraceReader(str(STRACE_DATA / "ff_split"), names=GRAPHISH, jobs=2))
    assert started == []


def test_the_helper_runs_none_of_the_readers_signal_handlers(tmp_path, monkeypatch, started):
    """A handler the reading process set (the kernel harness cleans up on SIGTERM) must not run in
    the helper: terminated, it just ends, and the reader goes on alone."""
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", 1 << 12)
    path = _trace(tmp_path)
    marker = tmp_path / "handler-ran"
    old = signal.signal(signal.SIGTERM, lambda *a: marker.write_text(str(os.getpid())))
    try:
        real_get = _prefetch.Prefetch.get

        def get(self, index, chunk):
            if index == 2 and self.pid:
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)
                self.pid = 0
            return real_get(self, index, chunk)

        monkeypatch.setattr(_prefetch.Prefetch, "get", get)
        assert read(path, GRAPHISH, 2) == read(path, GRAPHISH, 1)
    finally:
        signal.signal(signal.SIGTERM, old)
    assert not marker.exists()
    assert started


# hypothesis: random process trees (threads, vfork, pid reuse, unfinished/resumed interleavings)
# rendered as -f -o / -tt -T -yy / -Y traces, read in small chunks with and without the helper
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.strategies.strace_render import render, scenarios  # noqa: E402


@pytest.mark.parametrize("form", ["f_o", "tt_T_yy"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(sc=scenarios(), names=st.sampled_from(NAME_SETS), chunk=st.sampled_from([256, 1024, 1 << 14]))
def test_generated_traces_same_with_the_helper(tmp_path_factory, monkeypatch, started, form, sc, names, chunk):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", chunk)
    before = len(started)
    files, _ = render(sc.sim(), form)
    d = tmp_path_factory.mktemp("gen")
    for name, data in files.items():
        (d / name).write_bytes(data)
    path = d / "trace"
    assert read(path, names, 2) == read(path, names, 1)
    assert len(started) == before + 1 and reaped(started[-1])      # the helper did read it


def test_never_for_a_file_that_is_not_regular(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not _prefetch.usable(fifo, 2)            # a second reader would take the first's data
    assert not _prefetch.usable(tmp_path / "missing", 2)
    assert _prefetch.usable(_trace(tmp_path, 2), 2)
