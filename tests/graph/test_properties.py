"""Hypothesis: random process trees, printed by strace's rules in several forms, come back from
the reader + graph builder as the same graph (processes, parents, threads, execs, exits)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies.strace_render import FORMS, render, scenarios
from tracerule.graph.build import build_graph

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _expected(sim):
    out = {}
    for p in sim.procs:
        out.setdefault(p.pid, []).append(p)
    return out


def _check(sc, form: str) -> None:
    sim = sc.sim()
    files, _ = render(sim, form)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        for name, data in files.items():
            (d / name).write_bytes(data)
        src = d / "trace" if FORMS[form].pidcol == "ff" else d / next(iter(files))
        g = build_graph(str(src), sidecar=None)
    procs = list(g)
    want = list(sim.procs)
    if any(w.code == "root-pid-unknown" for w in g.warnings):
        # a one-task stderr capture without a pid anywhere: the reader says so, pid shows as 0
        import dataclasses

        procs = [dataclasses.replace(p, pid=want[0].pid) if p.pid == 0 else p for p in procs]
        procs = [dataclasses.replace(p, ppid=want[0].pid) if p.ppid == 0 else p for p in procs]
    assert [p.pid for p in procs] == [w.pid for w in want] or \
        sorted(p.pid for p in procs) == sorted(w.pid for w in want), "processes"
    assert len(procs) == len(want)
    # incarnations of the same pid, in order
    got_by = {}
    for p in procs:
        got_by.setdefault(p.pid, []).append(p)
    for pid, ws in _expected(sim).items():
        gs = got_by[pid]
        assert len(gs) == len(ws), f"incarnations of {pid}"
        for gp, w in zip(gs, ws):
            assert gp.ppid == (w.parent.pid if w.parent else None), f"parent of {pid}"
            assert sorted(set(gp.threads) | {gp.pid}) == sorted(set(w.threads) | {w.pid}), f"threads of {pid}"
            got_ex = [(e.path_bytes, e.ok, e.errno) for e in gp.execs]
            want_ex = [(x["path"], x["ok"], x["errno"]) for x in w.execs]
            assert [x for x in got_ex if x[1]] == [x for x in want_ex if x[1]], f"execs of {pid}"
            # the generator notes only some failed execs, in entry order; the graph lists them in
            # exit order: per thread, those it notes appear in order
            for tid in {x["tid"] for x in w.execs}:
                it = iter([(e.path_bytes, e.ok, e.errno) for e in gp.execs
                           if e.tid == tid or (e.tid == 0 and tid == want[0].pid)])
                assert all(x in it for x in [(x["path"], x["ok"], x["errno"]) for x in w.execs
                                             if x["tid"] == tid]), f"failed execs of {pid}, tid {tid}"
            if w.exit is not None:
                assert gp.exit is not None, f"exit of {pid}"
                if w.exit[0] == "exited":
                    assert (gp.exit.code, gp.exit.signal) == (w.exit[1], None), f"exit of {pid}"
                else:
                    assert gp.exit.signal == w.exit[1], f"kill of {pid}"


@pytest.mark.parametrize("form", ["f_o", "tt_T_yy", "Y_yy_T", "stderr", "ff_tt"])
@settings(max_examples=40, **SETTINGS)
@given(sc=scenarios(max_steps=80))
def test_random_trees_rebuild(form, sc):
    _check(sc, form)
