"""Every corpus trace gives exactly the processes, parents, execs, exits and exec-time credentials
of its GROUND_TRUTH.json entry.  All corpus commands ran as root (tests/data/strace/README.md), so
the start credentials are given as uid=0 gid=0 -- what a user would pass with --uid/--gid."""
from __future__ import annotations

import json

import pytest

from tests.conftest import STRACE_DATA
from tracerule.graph.build import build_graph

GT = json.loads((STRACE_DATA / "GROUND_TRUTH.json").read_text())


def _cred_str(e, with_auid: bool) -> str:
    c = e.creds
    s = f"{e.program} uid={c.uid.value} euid={c.euid.value} gid={c.gid.value} egid={c.egid.value}"
    if with_auid:
        s += f" auid={c.auid.value}"
    return s


@pytest.fixture(scope="module")
def graphs():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = build_graph(str(STRACE_DATA / name.rstrip("/")), sidecar=None, uid=0, gid=0)
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(GT))
def test_corpus_trace_matches_ground_truth(name, graphs):
    truth = GT[name]
    g = graphs(name)
    got = {p.pid: p for p in g}
    want = {w["pid"]: w for w in truth["procs"]}
    assert sorted(got) == sorted(want), "processes"
    assert len(g) == truth["processes"]
    assert sum(len(p.threads) for p in g) == truth["threads"]
    for pid, w in want.items():
        p = got[pid]
        assert p.ppid == w["ppid"], f"ppid of {pid}"
        if w.get("creator"):
            assert p.creator_id == f"p{w['creator']}", f"creator of {pid}"
        assert sorted(p.threads) == sorted(w.get("threads", [])), f"threads of {pid}"
        assert [e.path for e in p.ok_execs] == w.get("exec", []), f"execs of {pid}"
        failed = [f"{e.path}:{e.errno}" + ("(INJECTED)" if e.injected else "")
                  for e in p.execs if not e.ok]
        assert failed == w.get("exec_failed", []), f"failed execs of {pid}"
        assert p.exit is not None and p.exit.text == w["end"], f"end of {pid}"
        if "ns_pid" in w:
            assert p.ns_pid == w["ns_pid"], f"ns pid of {pid}"
        if "exec_creds" in w:
            exp = w["exec_creds"]
            got_creds = [_cred_str(e, "auid=" in x) for e, x in zip(p.ok_execs, exp)]
            assert got_creds == exp, f"exec creds of {pid}"


def test_seed_sample_with_its_sidecar(graphs):
    from tests.conftest import SAMPLES

    g = build_graph(str(SAMPLES / "sudo_docker_alice_tt_T_yy.txt"))
    assert g.sidecar_used and g.sidecar_used.endswith(".tracerule.json")
    root = g.roots()[0]
    sudo = [e for e in root.ok_execs if e.program == "sudo"][0]
    c = sudo.creds
    assert (c.uid.value, c.euid.value, c.auid.value) == (1001, 0, 1001)
    assert c.setid_exec == "sidecar" and sudo.to_dict()["cred_source"] == "sidecar"
    docker = [p for p in g if p.program == "docker"][0]
    assert [a.pid for a in g.ancestors(docker)][-1] == root.pid
    dc = docker.ok_execs[0].creds
    assert (dc.uid.value, dc.euid.value, dc.auid.value) == (0, 0, 1001)
    # the sh at the very start: uid 0 from the sidecar's recorder
    assert root.ok_execs[0].creds.uid.source in ("sidecar", "observed")


def test_seed_sample_without_sidecar_shows_inferred(graphs):
    from tests.conftest import SAMPLES

    g = build_graph(str(SAMPLES / "sudo_docker_alice_tt_T_yy.txt"), sidecar=None)
    root = g.roots()[0]
    sudo = [e for e in root.ok_execs if e.program == "sudo"][0]
    c = sudo.creds
    assert (c.uid.value, c.euid.value, c.auid.value) == (1001, 0, 1001)
    assert c.setid_exec == "inferred" and sudo.to_dict()["cred_source"] == "inferred"
    docker = [p for p in g if p.program == "docker"][0]
    assert docker.ok_execs[0].creds.auid.value == 1001
