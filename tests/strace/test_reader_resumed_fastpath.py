"""Hand-made edge traces for names mode's fast path over resumed lines (``) = `` inside strings
and -yy paths, errno tails, ``?`` returns, ``(deleted)``, extra spaces before ``=``, a resumed line
that adds arguments, ``-T`` first seen on a resumed line, no final newline): names mode must give
exactly the full mode's events filtered by name."""
from __future__ import annotations

import pytest

from tests.conftest import DATA
from tracerule.strace.events import Syscall
from tracerule.strace.reader import TraceReader

EXTRA = DATA / "strace_extra"
TRACES = sorted(EXTRA.glob("resumed_edges_*.txt"))
NAME_SETS = [
    frozenset({"openat"}),
    frozenset({"openat", "connect", "execve", "clone", "wait4"}),
    frozenset({"connect", "setuid", "read", "write"}),
]


def _events(path, names=None):
    return [e for e in TraceReader(str(path), names=names)]


def test_the_edge_traces_are_there():
    assert len(TRACES) == 4


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
@pytest.mark.parametrize("names", NAME_SETS, ids=lambda n: ",".join(sorted(n)))
def test_names_mode_equals_full_mode_filtered(path, names):
    full = _events(path)
    assert any(isinstance(e, Syscall) and e.entry_line for e in full)   # pairs are exercised
    want = [e for e in full if not isinstance(e, Syscall) or e.name in names]
    assert _events(path, names) == want


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_strings_with_a_return_inside_keep_their_text(path):
    for e in _events(path, frozenset({"openat"})):
        if isinstance(e, Syscall) and e.name == "openat" and '"/etc/a) = 3"' in e.args:
            assert e.ret == 3
            return
    pytest.skip("this trace has no such line")
