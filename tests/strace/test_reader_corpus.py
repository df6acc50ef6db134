"""Every corpus trace reads with zero bad lines; counts checked independently of the reader."""
from __future__ import annotations

import re

import pytest

from tests.conftest import STRACE_DATA
from tracerule.strace.events import COMPLETE, RESUMED_ORPHAN, UNFINISHED, Exit, Signal, Syscall, TaskSeen
from tracerule.strace.reader import TraceReader, read_trace

CORPUS = sorted(p for p in STRACE_DATA.glob("*.txt"))
IDS = [p.name for p in CORPUS]

NAME_SETS = [
    frozenset({"execve", "clone", "clone3", "vfork", "fork", "exit_group", "setresuid", "setgroups", "capset"}),
    frozenset({"read", "write", "openat"}),
    frozenset({"futex", "wait4", "execve", "exit"}),
    frozenset(),
]


def _lines(path):
    return path.read_bytes().decode("utf-8", "surrogateescape").splitlines()


@pytest.fixture(scope="module")
def full():
    out = {}
    for p in CORPUS:
        r = TraceReader(p)
        out[p.name] = (list(r), r.report)
    return out


@pytest.mark.parametrize("path", CORPUS, ids=IDS)
def test_zero_bad_lines_and_line_count(full, path):
    evs, rep = full[path.name]
    assert rep.bad_lines == 0, [str(d) for d in rep.bad]
    assert rep.lines == len(_lines(path))
    assert rep.complete


@pytest.mark.parametrize("path", CORPUS, ids=IDS)
def test_exit_and_signal_counts(full, path):
    evs, _ = full[path.name]
    lines = _lines(path)
    n_exit = sum(1 for ln in lines if re.search(r"\+\+\+ (exited with|killed by) ", ln))
    n_sig = sum(1 for ln in lines if re.search(r"(^|\s)--- (SIG\S+ |stopped by )", ln))
    assert sum(isinstance(e, Exit) for e in evs) == n_exit
    assert sum(isinstance(e, Signal) for e in evs) == n_sig


@pytest.mark.parametrize("path", CORPUS, ids=IDS)
def test_every_unfinished_is_paired_or_reported(full, path):
    evs, rep = full[path.name]
    lines = _lines(path)
    n_unf = sum(1 for ln in lines if ln.endswith("<unfinished ...>"))
    n_res = sum(1 for ln in lines if re.search(r"<\.\.\. [\w?#]+ resumed>", ln))
    sc = [e for e in evs if isinstance(e, Syscall)]
    joined = [s for s in sc if s.entry_line]
    orphans = [s for s in sc if s.state == RESUMED_ORPHAN]
    unfinished = [s for s in sc if s.state == UNFINISHED]
    # each entry line is either joined with its exit or yielded unfinished; each resumed line once
    assert len(joined) + len(unfinished) == n_unf
    assert len(joined) + len(orphans) == n_res
    assert rep.unpaired_resumed == len(orphans)
    # the corpus traces are complete: no resumed line lacks its entry, and an entry stays
    # unfinished only when its task then ends without the exit line (exit_group from another thread)
    assert orphans == []
    for u in unfinished:
        i = evs.index(u)
        assert any(isinstance(e, Exit) and e.tid == u.tid for e in evs[i + 1:]), u
    assert rep.unfinished_at_end == 0
    for s in joined:
        assert s.entry_line < s.line and s.state == COMPLETE


@pytest.mark.parametrize("path", CORPUS, ids=IDS)
def test_syscall_count_matches_lines(full, path):
    evs, _ = full[path.name]
    lines = _lines(path)
    # a syscall is yielded at its exit line: every line with a return value ("= ...") that is
    # not an unfinished entry; the return split is at "<spaces>= "
    n = sum(1 for ln in lines if re.search(r"\) +=( |$)", ln) and not ln.endswith("<unfinished ...>"))
    # plus the entries that never got an exit line (unfinished lines minus resumed lines)
    n_unf = sum(1 for ln in lines if ln.endswith("<unfinished ...>"))
    n_res = sum(1 for ln in lines if re.search(r"<\.\.\. [\w?#]+ resumed>", ln))
    assert sum(isinstance(e, Syscall) for e in evs) == n + (n_unf - n_res)


@pytest.mark.parametrize("path", CORPUS, ids=IDS)
def test_taskseen_once_per_task_life(full, path):
    evs, _ = full[path.name]
    lines = _lines(path)
    pids = {int(m.group(1)) for ln in lines if (m := re.match(r"(\d{1,7})[ <]", ln))}
    seen = [e.tid for e in evs if isinstance(e, TaskSeen)]
    if pids:
        assert set(seen) == pids
    # TaskSeen comes before any other event of its tid
    first = {}
    for i, e in enumerate(evs):
        first.setdefault(e.tid, (i, type(e).__name__))
    assert all(kind in ("TaskSeen", "Attached") for _i, kind in first.values())


@pytest.mark.parametrize("names", NAME_SETS, ids=["creds", "io", "wait", "none"])
@pytest.mark.parametrize("path", CORPUS + [STRACE_DATA / "ff_split"], ids=IDS + ["ff_split"])
def test_filtered_equals_full_filtered(full, path, names):
    evs = full[path.name][0] if path.name in full else list(TraceReader(path))
    got = list(read_trace(path, names=names))
    assert got == [e for e in evs if not isinstance(e, Syscall) or e.name in names]


def test_ff_split_set(tmp_path):
    d = STRACE_DATA / "ff_split"
    r = TraceReader(d)
    evs = list(r)
    files = sorted(d.iterdir())
    assert r.report.bad_lines == 0
    assert r.report.lines == sum(len(_lines(p)) for p in files)
    # tid from the file suffix; file after file (no timestamps) in tid order
    tids = [int(p.name.split(".")[1]) for p in files]
    assert [e.tid for e in evs if isinstance(e, TaskSeen)] == sorted(tids)
    for e in evs:
        assert e.file.endswith(f".{e.tid}")
    assert r.report.has_note("ff-order-unknown") and "ff" in r.report.forms
    # a prefix path reads the same set
    assert list(TraceReader(d / "trace")) == evs
