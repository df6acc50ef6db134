"""The enricher freezes its graph for the records' pass (gc.freeze) and unfreezes at the end:
the process's GC state must be as it found it, including objects the caller froze itself."""
from __future__ import annotations

import gc

from tests.conftest import SAMPLES
from tracerule.audit.enrich import Enricher

TRACE = str(SAMPLES / "sudo_docker_alice_tt_T_yy.txt")


def test_nothing_left_frozen_and_gc_state_restored():
    assert gc.get_freeze_count() == 0
    was = gc.isenabled()
    n = sum(1 for _ in Enricher(TRACE, names={"execve"}))
    assert n > 0
    assert gc.get_freeze_count() == 0 and gc.isenabled() == was


def test_a_callers_frozen_objects_stay_frozen():
    keep = [object() for _ in range(100)]       # the caller's long-lived objects
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert before >= len(keep)
        n = sum(1 for _ in Enricher(TRACE, names={"execve"}))
        assert n > 0
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()
