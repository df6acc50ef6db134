"""-k stack lines (`` > ...``, no pid column) that start only after the part of the trace the sniff
reads: names mode finds them by its runs of tids (the candidate regex has no alternative for them)
and must still give the full mode's events filtered by name and the same count of skipped stack
lines."""
from __future__ import annotations

import pytest

from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader

STACK = " > /usr/lib/x86_64-linux-gnu/libc.so.6(__libc_read+0x12) [0x10a1b2]"


def _trace(tmp_path, stack_from: int):
    """A -f -tt -T trace of a parent forking children that read, exec and exit; stack lines after
    every complete syscall line from byte ``stack_from`` on."""
    lines: list[str] = []
    size = 0
    pid = 2000
    t = 0

    def add(text: str) -> None:
        nonlocal size
        lines.append(text)
        size += len(text) + 1
        if size > stack_from and " = " in text and not text.endswith("+++"):
            lines.append(STACK)
            size += len(STACK) + 1

    def ts() -> str:
        nonlocal t
        t += 1
        return f"10:00:{t // 1000000 % 60:02d}.{t % 1000000:06d}"

    add(f'{pid} {ts()} execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0 <0.000100>')
    for i in range(400):
        child = pid + 1 + i
        add(f"{pid} {ts()} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,"
            f" child_tidptr=0x7f00) = {child} <0.000050>")
        for k in range(6):
            add(f'{child} {ts()} read(3, "{"x" * 60}", 4096) = 60 <0.000005>')
        add(f"{child} {ts()} openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3 <0.000007>")
        add(f'{child} {ts()} execve("/bin/true", ["true"], 0x7ffd0 /* 3 vars */) = 0 <0.000090>')
        add(f"{child} {ts()} exit_group(0)                     = ?")
        add(f"{child} {ts()} +++ exited with 0 +++")
        add(f"{pid} {ts()} --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={child}, si_uid=0,"
            f" si_status=0, si_utime=0, si_stime=0}} ---")
    add(f"{pid} {ts()} exit_group(0)                     = ?")
    add(f"{pid} {ts()} +++ exited with 0 +++")
    p = tmp_path / "late_k.txt"
    p.write_text("\n".join(lines) + "\n")
    return p, sum(1 for x in lines if x == STACK)


@pytest.mark.parametrize("stack_from", [0, 300_000], ids=["from-start", "after-the-sniff"])
@pytest.mark.parametrize("names", [frozenset({"execve", "clone", "exit_group"}),
                                   frozenset({"openat", "read"})], ids=["proc", "io"])
def test_late_stack_lines(tmp_path, stack_from, names):
    path, n_stack = _trace(tmp_path, stack_from)
    assert n_stack > 100 and path.stat().st_size > 300_000 + 50_000
    full_reader = TraceReader(str(path))
    full = list(full_reader)
    reader = TraceReader(str(path), names=names)
    got = list(reader)
    assert got == [e for e in full if not isinstance(e, Syscall) or e.name in names]
    assert sum(isinstance(e, Syscall) for e in got) > 100
    assert reader.report.skipped.get("stack") == full_reader.report.skipped.get("stack") == n_stack
    assert "k" in reader.report.forms
