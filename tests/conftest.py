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


def sudo_id_user(prefix: str):
    """A throwaway user allowed to run /usr/bin/id as root without a password (a sudoers.d drop-in);
    yields (name, uid, gid) and removes both afterwards, also on failure.  Skips without useradd
    or sudo."""
    import contextlib
    import pwd
    import uuid

    @contextlib.contextmanager
    def made():
        if shutil.which("useradd") is None or shutil.which("sudo") is None:
            pytest.skip("useradd and sudo are needed")
        name = prefix + uuid.uuid4().hex[:8]
        dropin = Path("/etc/sudoers.d") / name
        created = False
        try:
            subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], check=True, capture_output=True)
            created = True
            dropin.write_text(f"{name} ALL=(root) NOPASSWD: /usr/bin/id\n")
            os.chmod(dropin, 0o440)
            chk = subprocess.run(["visudo", "-cf", str(dropin)], capture_output=True, text=True)
            assert chk.returncode == 0, chk.stdout + chk.stderr
            pw = pwd.getpwnam(name)
            yield name, pw.pw_uid, pw.pw_gid
        finally:
            dropin.unlink(missing_ok=True)
            if created:
                subprocess.run(["userdel", name], capture_output=True)

    return made()


def reachable_tmpdir(prefix: str):
    """A 0755 directory under /tmp a test user can reach (pytest's tmp_path sits under a 0700
    directory), removed afterwards."""
    import contextlib
    import tempfile

    @contextlib.contextmanager
    def made():
        d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        os.chmod(d, 0o755)
        try:
            yield d
        finally:
            shutil.rmtree(d, ignore_errors=True)

    return made()
