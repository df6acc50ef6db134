"""Test helper: turn a small inline ``strace -f`` text into reader events by hand.

Only the forms the graph tests use (pid column, complete / unfinished / resumed syscalls,
signals, exit/killed/superseded lines, personality lines).  The same inline traces also run
through the real reader (:func:`graph_via_reader`) so the two cross-check each other.
"""
from __future__ import annotations

import re
import textwrap

from tracerule.strace.events import (
    COMPLETE, Exit, Personality, Signal, Superseded, Syscall, TaskSeen,
)

_LINE = re.compile(r"^(\d+)\s+(.*)$")
_RET = re.compile(r"\)\s+=\s+(.*)$")


def _split_ret(body: str) -> tuple[str, str]:
    """(args-part, ret_text): the last ') = ' whose tail parses as a return."""
    idx = None
    for m in re.finditer(r"\)\s+= ", body):
        idx = m
    if idx is None:
        raise ValueError(f"no return in {body!r}")
    return body[: idx.start()], body[idx.end():]


def _ret(ret_text: str):
    t = ret_text.strip()
    if t.startswith("?"):
        m = re.match(r"\?\s+(E[A-Z_]+)", t)
        return None, (m.group(1) if m else None)
    m = re.match(r"(-?(?:0x[0-9a-f]+|\d+))(?:\s+(E[A-Z0-9_]+))?", t)
    v = int(m.group(1), 0)
    return v, m.group(2)


def events(text: str, file: str = "t.txt"):
    seen: set[int] = set()
    pending: dict[int, tuple[int, str, str]] = {}
    out = []
    for no, raw in enumerate(textwrap.dedent(text).strip("\n").splitlines(), 1):
        m = _LINE.match(raw.strip())
        if not m:
            continue
        tid, body = int(m.group(1)), m.group(2)
        if tid not in seen:
            seen.add(tid)
            out.append(TaskSeen(file, no, tid))
        if body.startswith("+++ exited with"):
            out.append(Exit(file, no, tid, code=int(body.split()[3])))
            seen.discard(tid)
        elif body.startswith("+++ killed by"):
            sig = body.split()[3]
            out.append(Exit(file, no, tid, signal=sig, core="core dumped" in body))
            seen.discard(tid)
        elif body.startswith("+++ superseded by execve in pid"):
            by = int(body.split()[6])
            out.append(Superseded(file, no, tid, by_tid=by))
            if by in pending:  # the exec'ing thread's entry continues under the leader's pid
                pending[tid] = pending.pop(by)
        elif body.startswith("---"):
            sm = re.match(r"--- (SIG\w+) (\{.*\})? ?---", body)
            out.append(Signal(file, no, tid, sm.group(1), sm.group(2) or ""))
        elif body.startswith("[ Process PID="):
            pm = re.match(r"\[ Process PID=(\d+) runs in (32|64) bit mode\. \]", body)
            out.append(Personality(file, no, tid, int(pm.group(1)), "b" + pm.group(2)))
        elif body.endswith("<unfinished ...>"):
            nm = re.match(r"(\w+)\((.*)$", body[: -len("<unfinished ...>")].rstrip())
            pending[tid] = (no, nm.group(1), nm.group(2))
        elif body.startswith("<..."):
            rm = re.match(r"<\.\.\. (\w+) resumed>(.*)$", body)
            entry, name, head = pending.pop(tid)
            args, rt = _split_ret(head + rm.group(2))
            v, err = _ret(rt)
            out.append(Syscall(file, no, tid, name, args, v, err, rt, entry_line=entry, state=COMPLETE))
        else:
            nm = re.match(r"(\w+)\((.*)$", body)
            args, rt = _split_ret(nm.group(2))
            v, err = _ret(rt)
            out.append(Syscall(file, no, tid, nm.group(1), args, v, err, rt))
    return out


def graph(text: str, **kw):
    from tracerule.graph.build import build_graph

    return build_graph(events(text), **kw)


def graph_via_reader(text: str, tmp_path, **kw):
    from tracerule.graph.build import build_graph

    p = tmp_path / "inline.txt"
    p.write_text(textwrap.dedent(text).strip("\n") + "\n")
    kw.setdefault("sidecar", None)
    return build_graph(str(p), **kw)
