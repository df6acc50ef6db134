"""Property test of the process graph (issue 3, "Done when" item 1, second half): the random
process trees of the reader's property tests (tests/strategies/strace_render.py) come back as
the same graph -- processes (a reused pid is a new process), parent links (CLONE_PARENT: the
caller's parent), threads, every exec in order (path, argv, ok, errno, also from a non-leader
thread) and exit status -- through the library API ``tracerule.graph.build_graph``.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies.strace_render import FORMS, Sim, render, scenarios, sim_with_thread_exec

graph_build = pytest.importorskip("tracerule.graph.build", reason="the graph has not landed yet")
pytest.importorskip("tracerule.strace.reader", reason="the reader has not landed yet")

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def expected_graph(sim: Sim, form: str = "f_o") -> dict:
    """{(pid, generation): {...}} from the simulation's ground truth.

    Execs are in trace order: the order of their exit lines; in an -ff set merged by timestamps a
    line carries the time it was started, so there it is the order of their entries.
    """
    gen_of: dict[int, int] = {}
    key: dict[int, tuple[int, int]] = {}
    for p in sim.procs:
        gen_of[p.pid] = gen_of.get(p.pid, 0) + 1
        key[p.index] = (p.pid, gen_of[p.pid])
    out = {}
    for p in sim.procs:
        execs = []
        order = sorted(p.execs, key=lambda e: e["t_enter"]) if FORMS[form].pidcol == "ff" else p.execs
        for e in order:
            argv = tuple(a[:32].decode("utf-8", "backslashreplace") for a in e["argv"])
            execs.append((e["path"], argv, e["ok"], e["errno"]))
        if p.exit is None:
            exit_ = None
        elif p.exit[0] == "exited":
            exit_ = (p.exit[1], None, False)
        else:
            exit_ = (None, p.exit[1], p.exit[2])
        out[key[p.index]] = {
            "parent": key[p.parent.index] if p.parent is not None else None,
            "threads": sorted({t for t in p.threads if t != p.pid}),
            "execs": execs,
            "exit": exit_,
        }
    return out


def actual_graph(g) -> dict:
    by_id = {p.id: p for p in g.processes}
    gen: dict[str, tuple[int, int]] = {}
    for p in g.processes:
        gen[p.id] = (p.pid, p.generation)
    out = {}
    for p in g.processes:
        execs = [(e.path_bytes, tuple(e.argv), e.ok, e.errno) for e in p.execs]
        exit_ = (p.exit.code, p.exit.signal, p.exit.core) if p.exit is not None else None
        out[gen[p.id]] = {
            "parent": gen[p.parent_id] if p.parent_id in by_id else None,
            "threads": sorted(set(p.threads)),
            "execs": execs,
            "exit": exit_,
        }
    return out


def diff(got: dict, want: dict) -> str:
    lines = []
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            lines.append(f"process {k}:\n  got:  {got.get(k)}\n  want: {want.get(k)}")
    return "\n".join(lines[:6])


def check(sim: Sim, form: str) -> None:
    files, _ = render(sim, form, multi_glue=False)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        for name, data in files.items():
            (d / name).write_bytes(data)
        g = graph_build.build_graph(str(d / "trace"), sidecar=None)
    got, want = actual_graph(g), expected_graph(sim, form)
    text = b"".join(files.values()).decode("latin-1")
    root = sim.procs[0].pid
    if FORMS[form].pidcol == "stderr" and not re.search(rf"\[pid +{root}\]", text) and not any(
            a.kind == "enter" and a.tid == root and a.call.name == "getpid" for a in sim.actions):
        # the trace never tells the first task's pid: the graph calls it 0 (see the reader's tests)
        want = {((0, g_) if k == (root, g_) else k): v for (k, v), g_ in ((kv, kv[0][1]) for kv in want.items())}
        want = {k: ({**v, "parent": (0, 1) if v["parent"] == (root, 1) else v["parent"]}) for k, v in want.items()}
    assert got == want, diff(got, want) + "\n--- trace ---\n" + b"".join(files.values()).decode("latin-1")[:3000]


@pytest.mark.parametrize("form", ["f_o", "tt_T_yy", "Y", "stderr"])
@settings(max_examples=50, **SETTINGS)
@given(sc=scenarios())
def test_generated_trees_give_the_same_graph(form, sc):
    check(sc.sim(), form)


@settings(max_examples=40, **SETTINGS)
@given(sc=scenarios(reuse=False, thread_exec=False))
def test_generated_trees_give_the_same_graph_ff(sc):
    check(sc.sim(), "ff_tt")


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31), form=st.sampled_from(["f_o", "tt_T_yy", "ff_tt"]))
def test_exec_from_a_thread_gives_the_same_graph(seed, form):
    sim = sim_with_thread_exec(seed, reuse=form != "ff_tt")
    check(sim, form)


def test_forms_used_here_exist():
    assert {"f_o", "tt_T_yy", "Y", "stderr", "ff_tt"} <= set(FORMS)
