"""Bad input: bad lines are counted and reported with their numbers, reading goes on; files that are
not strace output, empty or missing give one InputError naming the file."""
from __future__ import annotations

import json

import pytest

from tests.conftest import STRACE_DATA
from tracerule.errors import InputError
from tracerule.strace.events import Exit, Syscall
from tracerule.strace.reader import TraceReader

GOOD = (STRACE_DATA / "unfinished_resumed.txt").read_bytes()


def _read(path, **kw):
    r = TraceReader(path, **kw)
    return list(r), r.report


@pytest.mark.parametrize("names", [None, {"execve", "clone", "wait4"}])
def test_garbage_lines_reported_by_number_and_rest_read(tmp_path, names):
    lines = GOOD.split(b"\n")
    garbage = {5: b"8083  this is not strace", 40: b"\x00\x01\x02 binary junk", 90: b"8084  execve(\"/x\", "}
    out = []
    for i, ln in enumerate(lines, 1):
        out.append(ln)
        if i in garbage:
            out.append(garbage[i])
    p = tmp_path / "g.txt"
    p.write_bytes(b"\n".join(out))
    evs, rep = _read(p, names=names)
    ref, _ = _read(STRACE_DATA / "unfinished_resumed.txt", names=names)
    # line numbers of the inserted lines in the new file
    inserted = [i + n for n, i in enumerate(sorted(garbage), 1)]
    if names is None:
        assert rep.bad_lines == 3
        assert [d.line for d in rep.bad] == inserted
        assert all(d.file == str(p) and d.message for d in rep.bad)
    else:
        # names mode reads only candidate lines: a garbage line is reported when it looks like one
        assert [d.line for d in rep.bad] == [inserted[2]]
    # nothing else is lost: the same syscalls by (tid, name, args, ret)
    key = lambda e: (e.tid, e.name, e.args, e.ret)  # noqa: E731
    assert [key(e) for e in evs if isinstance(e, Syscall)] == [key(e) for e in ref if isinstance(e, Syscall)]
    assert rep.has_note("bad-lines")


def test_max_bad_shown_counts_all(tmp_path):
    p = tmp_path / "m.txt"
    p.write_text("8083  close(3) = 0\n" + "8083  ??? garbage\n" * 30 + "8083  +++ exited with 0 +++\n")
    evs, rep = _read(p, max_bad_shown=4)
    assert rep.bad_lines == 30 and len(rep.bad) == 4
    assert [d.line for d in rep.bad] == [2, 3, 4, 5]
    assert sum(isinstance(e, Exit) for e in evs) == 1


def test_a_lone_partial_line_is_not_a_trace(tmp_path):
    p = tmp_path / "cut.txt"
    p.write_bytes(GOOD[:17])
    with pytest.raises(InputError, match="cut.txt:1"):
        list(TraceReader(p))


@pytest.mark.parametrize("cut", [GOOD.index(b"\n") + 5, 1000, 5000, 20011, len(GOOD) - 1])
def test_trace_cut_mid_line(tmp_path, cut):
    p = tmp_path / "cut.txt"
    p.write_bytes(GOOD[:cut])
    evs, rep = _read(p)
    last = GOOD[:cut].split(b"\n")[-1]
    assert rep.bad_lines <= 1
    if rep.bad_lines:
        assert rep.bad[0].line == GOOD[:cut].count(b"\n") + 1
        assert "partial" in rep.bad[0].message
        assert last  # only a cut line is bad


def test_cut_trace_in_names_mode(tmp_path):
    p = tmp_path / "cut.txt"
    p.write_bytes(GOOD[:GOOD.index(b"execve", 2000) + 10])
    evs, rep = _read(p, names={"execve"})
    assert rep.bad_lines == 1 and "partial" in rep.bad[0].message


def test_not_strace_raises_with_file_and_line(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("\n\nDear diary,\ntoday I traced nothing.\n" * 30)
    with pytest.raises(InputError) as ei:
        list(TraceReader(p))
    msg = str(ei.value)
    assert str(p) in msg and ":3" in msg and "not strace output" in msg


def test_binary_file_is_not_strace(tmp_path):
    p = tmp_path / "bin.dat"
    p.write_bytes(bytes(range(256)) * 50)
    with pytest.raises(InputError):
        TraceReader(p).__iter__().__next__()


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        list(TraceReader(p))
    p.write_bytes(b"\n\n  \n")
    with pytest.raises(InputError, match="empty"):
        list(TraceReader(p))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such trace file"):
        TraceReader(tmp_path / "nope.txt")


def test_directory_without_ff_set(tmp_path):
    (tmp_path / "readme").write_text("x")
    with pytest.raises(InputError, match="-ff set"):
        TraceReader(tmp_path)


def test_report_to_dict_is_json(tmp_path):
    p = tmp_path / "m.txt"
    p.write_text("8083  close(3) = 0\n8083  garbage\n")
    r = TraceReader(p)
    list(r)
    d = json.loads(json.dumps(r.report.to_dict()))
    assert d["schema_version"] == 1 and d["bad_lines"] == 1 and d["bad"][0]["line"] == 2
    assert "pid-column" in d["forms"] and d["complete"] is True


def test_gzip_trace(tmp_path):
    import gzip

    p = tmp_path / "t.txt.gz"
    p.write_bytes(gzip.compress(GOOD))
    evs, rep = _read(p)
    ref, _ = _read(STRACE_DATA / "unfinished_resumed.txt")
    assert rep.bad_lines == 0 and [(e.tid, type(e)) for e in evs] == [(e.tid, type(e)) for e in ref]
