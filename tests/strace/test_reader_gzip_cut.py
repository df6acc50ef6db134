"""A gzip-compressed trace cut short (a copy stopped early, a full disk): the reader reads what
decompresses, says so in a quality note, and raises nothing (it was a traceback before); a corrupt
one is an InputError naming the file."""
from __future__ import annotations

import gzip

import pytest

from tracerule.errors import InputError
from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader


def _text(n: int = 4000) -> bytes:
    lines = ['1000 10:00:00.000001 execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0']
    for i in range(n):
        c = 1001 + i
        lines += [f"1000 10:00:01.{i % 1000000:06d} clone(child_stack=NULL, flags=SIGCHLD) = {c}",
                  f'{c} 10:00:01.{i % 1000000:06d} openat(AT_FDCWD, "/etc/f{i}", O_RDONLY) = 3',
                  f'{c} 10:00:01.{i % 1000000:06d} read(3, "{"x" * 40}", 4096) = 40',
                  f"{c} 10:00:01.{i % 1000000:06d} +++ exited with 0 +++"]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("names", [None, frozenset({"openat", "clone", "execve"})], ids=["full", "names"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cut_gzip_trace_reads_what_is_there(tmp_path, names, jobs):
    raw = _text()
    assert len(raw) > 512 * 1024                     # the cut falls after the sniff's first 256 KiB
    z = gzip.compress(raw)
    path = tmp_path / "t.txt.gz"
    path.write_bytes(z[: len(z) * 3 // 4])
    whole = tmp_path / "whole.txt"
    whole.write_bytes(raw)
    r = TraceReader(str(path), names=names, jobs=jobs)
    got = [e for e in r if isinstance(e, Syscall)]
    full = [e for e in TraceReader(str(whole), names=names) if isinstance(e, Syscall)]
    assert 100 < len(got) < len(full)
    key = lambda e: (e.line, e.tid, e.name, e.args, e.ret)   # noqa: E731
    assert [key(e) for e in got[:-3]] == [key(e) for e in full[: len(got) - 3]]
    note = r.report.note_for("compressed-cut")
    assert note is not None and str(path) in note.message


@pytest.mark.parametrize("at", [0.1, 0.5], ids=["in-the-sniffed-part", "later"])
def test_a_corrupt_gzip_trace_is_an_input_error(tmp_path, at):
    raw = _text()
    z = bytearray(gzip.compress(raw))
    i = int(len(z) * at)
    z[i: i + 64] = b"\xff" * 64                            # garbage inside the stream
    path = tmp_path / "bad.txt.gz"
    path.write_bytes(bytes(z))
    with pytest.raises(InputError, match="bad.txt.gz: cannot read"):
        list(TraceReader(str(path), names=frozenset({"openat"}), jobs=1))
