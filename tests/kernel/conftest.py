"""Kernel-harness test fixtures: every test must leave no rule of its runs listed."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def _listed() -> list[str]:
    res = subprocess.run(["auditctl", "-l"], capture_output=True, text=True)
    return [ln for ln in res.stdout.splitlines() if ln.strip() and ln.strip() != "No rules"]


@pytest.fixture
def run_ids(request):
    """Run ids this test created (its own sessions are added automatically; child processes' ids are
    appended by the test).  After the test no listed line may carry a key of those runs."""
    from tracerule.audit import kernel

    before = set(kernel.created_run_ids())
    ids: list[str] = []
    yield ids
    if os.geteuid() != 0 or shutil.which("auditctl") is None or request.node.get_closest_marker("kernel") is None:
        return
    mine = (set(kernel.created_run_ids()) - before) | set(ids)
    left = [ln for ln in _listed() if any(f"trr{r}-" in ln for r in mine)]
    assert not left, f"rules of this test's runs are still listed: {left}"


@pytest.fixture(autouse=True)
def _no_leftover_rules(request, run_ids):
    """Autouse wrapper so every kernel test gets the leftover check."""
    yield
