"""The review sample: tests/data/review/multi.strace (recorded as root with auid 1000: a sudo to
nobody, a TCP connect to 127.0.0.1, a refused append to /etc/sudoers as nobody, chmod u+s on a
temp file, a failed init_module, a refused PTRACE_TRACEME) and fresh sessions on it."""
from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

from tests.conftest import DATA

SAMPLE = DATA / "review" / "multi.strace"


def copy_sample(d: Path) -> Path:
    """The trace and its sidecar in ``d`` (so paths in screens and files are short and stable)."""
    for src in (SAMPLE, SAMPLE.with_name(SAMPLE.name + ".tracerule.json")):
        shutil.copy(src, d / src.name)
    return d / SAMPLE.name


@lru_cache(maxsize=4)
def _built(trace: str):
    """suggest + records + resolver, once per trace path (sessions made from it are independent)."""
    from tracerule.audit.enrich import Enricher
    from tracerule.synth import ladders as L
    from tracerule.synth.context import TraceContext
    from tracerule.synth.pipeline import SuggestOptions, suggest

    s = suggest([trace], SuggestOptions(auditctl_version="3.0.9"))
    e = Enricher(trace, names=None)
    records = list(e)
    h = s.host
    ctx = TraceContext(trace, e.graph, target_arch=h.arch, trace_arch=h.trace_arch, uid_min=h.uid_min)
    return s, records, L.resolver(ctx.path_facts(), s.targets), {trace: ctx}


def session(trace: str | Path = SAMPLE, **kw):
    from tracerule.review.session import ReviewSession

    s, records, res, ctxs = _built(str(trace))
    return ReviewSession(s, records, res, contexts=ctxs, **kw)


def records(trace: str | Path = SAMPLE):
    return _built(str(trace))[1]


def by_category(rs, category: str) -> list[str]:
    return [p for p in rs.ids if rs.view(p).category == category]


def first(rs, category: str) -> str:
    ids = by_category(rs, category)
    assert ids, f"the sample has no {category} target: {rs.ids}"
    return ids[0]


def simulate_file(path, trace_records, host="x86_64", resolver=None) -> set[int]:
    """Indices of the trace records the saved rules file logs, by the simulator on the whole file."""
    from tracerule.audit.rules import parse_file
    from tracerule.audit.simulate import compile_rules, simulate

    res = parse_file(path)
    assert not res.errors, res.errors
    c = compile_rules(res.items, host=host, file_identity=resolver)
    return {d.index for d in simulate(c, trace_records) if d.logged}
