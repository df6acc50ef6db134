"""Shared by the tests of names mode's helper process (test_prefetch*.py): the guard against a
thread left running, the record of helpers started, whether one was reaped, and a read of a trace
with its report in comparable form."""
from __future__ import annotations

import os
import threading

import pytest

from tracerule.strace import _prefetch
from tracerule.strace.reader import TraceReader


@pytest.fixture(autouse=True)
def no_other_thread():
    """The helper is never forked beside another thread: a thread an earlier test left running
    would turn these tests into one-process reads (say which, instead of failing obscurely)."""
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    assert not others, f"threads left running by earlier tests: {others}"


@pytest.fixture
def started(monkeypatch):
    """The helpers started during a test (their pids), to check they were reaped."""
    pids: list[int] = []
    real = _prefetch.Prefetch.start.__func__

    def start(cls, *a, **kw):
        pf = real(cls, *a, **kw)
        if pf is not None:
            pids.append(pf.pid)
        return pf

    monkeypatch.setattr(_prefetch.Prefetch, "start", classmethod(start))
    return pids


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True                     # already waited for: not ours any more
    return False


def read(path, names, jobs, *, bad_text: bool = False):
    """(events, comparable report) of one read; ``bad_text``: the bad lines' text compared too."""
    r = TraceReader(str(path), names=names, jobs=jobs)
    evs = list(r)
    rep = r.report
    bad = [(d.line, d.message, d.text) if bad_text else (d.line, d.message) for d in rep.bad]
    return evs, (rep.lines, sorted(rep.forms), rep.skipped, rep.kinds, rep.events, bad)
