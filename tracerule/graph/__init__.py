"""Who did what, as whom: the process graph with credentials and arch over time.

Public API::

    from tracerule.graph import build_graph, GraphBuilder, NAMES
    g = build_graph("trace.txt", sidecar="auto", uid=None, gid=None, auid=None)
    g.processes            # tuple[Process] in order of appearance
    g["p8027"], g[8027]    # by id, or the latest incarnation of a pid
    g.roots(), g.children(p), g.ancestors(p)
    p.execs                # every exec, ok or failed, with Creds at its exit
    p.creds_at(line), p.arch_at(line)
    g.nx                   # networkx.DiGraph (built on first use)
    g.to_dict()            # the JSON contract (schema_version 1)

Rendering lives in :mod:`tracerule.graph.render`.
"""
from __future__ import annotations

__all__ = ["build_graph", "GraphBuilder", "NAMES", "ProcessGraph", "Process", "Exec", "Creds",
           "CredValue", "ArchSpan", "ExitStatus", "CredChange"]


def __getattr__(name: str):
    if name in ("build_graph", "GraphBuilder", "NAMES"):
        from tracerule.graph import build

        return getattr(build, name)
    if name in ("ProcessGraph", "Process", "Exec", "Creds", "CredValue", "ArchSpan", "ExitStatus",
                "CredChange"):
        from tracerule.graph import model

        return getattr(model, name)
    raise AttributeError(name)
