"""Shared test fixtures and the kernel-test policy.

Kernel tests (marker ``kernel``) need root and a kernel whose audit works.  They skip with a
reason only where the kernel refuses; with ``TRACERULE_REQUIRE_KERNEL=1`` (set by ``.ci/run``
on hosts where ``auditctl -s`` works) a skipped kernel test is a failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
STRACE_DATA = DATA / "strace"
RULES_DATA = DATA / "rules"
SAMPLES = ROOT / "samples"


def kernel_unavailable_reason() -> str | None:
    """Why kernel audit cannot be used here, or None when it can."""
    if os.geteuid() != 0:
        return "kernel audit tests need root"
    if shutil.which("auditctl") is None:
        return "auditctl is not installed (apt-get install auditd)"
    res = subprocess.run(["auditctl", "-s"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"auditctl -s failed: {res.stderr.strip() or res.stdout.strip()}"
    if "enabled 2" in res.stdout:
        return "kernel audit is immutable (enabled 2) until reboot"
    return None


_REASON: list[str | None] = []


@pytest.fixture(autouse=True)
def _kernel_policy(request):
    """Skip a ``kernel`` test where the kernel refuses -- or fail it when CI requires the kernel."""
    if request.node.get_closest_marker("kernel") is None:
        return
    if not _REASON:
        _REASON.append(kernel_unavailable_reason())
    reason = _REASON[0]
    if reason is None:
        return
    if os.environ.get("TRACERULE_REQUIRE_KERNEL") == "1":
        pytest.fail(f"TRACERULE_REQUIRE_KERNEL=1 but kernel audit is unavailable: {reason}")
    pytest.skip(reason)
