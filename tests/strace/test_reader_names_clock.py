"""names mode reads only some lines, so its clock sees only their times; a day wrap (-t/-tt wall
clock past midnight) shows only against a time less than 12 hours earlier.  The clock also sees
each chunk's last line, so a wrap visible only on lines names mode skips is still found when a
chunk ends among them (as full mode, whose clock sees every line)."""
from __future__ import annotations

import pytest

import tracerule.strace.reader as R
from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader

TRACE = """\
1000 11:00:00.000001 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0
1000 11:00:00.000002 openat(AT_FDCWD, "/etc/a", O_RDONLY) = 3
1000 23:30:00.000001 nanosleep({tv_sec=1, tv_nsec=0}, NULL) = 0
1000 23:59:59.000001 nanosleep({tv_sec=1, tv_nsec=0}, NULL) = 0
1000 00:10:00.000001 openat(AT_FDCWD, "/etc/b", O_RDONLY) = 3
1000 00:10:00.000002 exit_group(0)                     = ?
1000 00:10:00.000003 +++ exited with 0 +++
"""


@pytest.mark.parametrize("chunk", [64, 200])
def test_a_wrap_seen_only_on_skipped_lines(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(R, "FAST_CHUNK_SIZE", chunk)
    path = tmp_path / "t.txt"
    path.write_text(TRACE)
    names = frozenset({"openat"})
    full = [e for e in TraceReader(str(path)) if not isinstance(e, Syscall) or e.name in names]
    got = list(TraceReader(str(path), names=names, jobs=1))
    assert got == full
    last = [e for e in got if isinstance(e, Syscall)][-1]
    assert last.args.startswith('AT_FDCWD, "/etc/b"') and last.time == pytest.approx(86400 + 600.000001)
