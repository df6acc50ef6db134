"""The harness on the real kernel: settings, signals, killed runs, locking, refusals."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracerule.audit import kernel
from tracerule.audit.kernel import (KernelAudit, KernelUnavailable, LockTimeout,
                                    listed_lines, read_status)

CHILD = Path(__file__).with_name("harness_child.py")
PY = sys.executable
SETTINGS = ("enabled", "failure", "backlog_limit", "backlog_wait_time", "rate_limit")


def _settings() -> dict:
    st = read_status()
    return {k: st[k] for k in SETTINGS}


def _mine(run_id: str) -> list[str]:
    return [ln for ln in listed_lines() if f"trr{run_id}-" in ln]


def _spawn(mode: str, tmp: Path, secs: float = 60.0) -> subprocess.Popen:
    env = dict(os.environ, TRACERULE_QUIET_LOCK="1")
    return subprocess.Popen([PY, str(CHILD), mode, str(tmp), str(secs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _ready(proc: subprocess.Popen, timeout: float = 60.0) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=0.5):
            line = proc.stdout.readline()
            if line.startswith("ready "):
                return line.split()[1]
            if not line:
                break
    proc.kill()
    raise AssertionError(f"child never got ready: {proc.stderr.read()}")


@pytest.mark.kernel
def test_settings_restored_exactly():
    before = _settings()
    with KernelAudit.session() as k:
        assert k.saved == before
        journal = json.loads(k._journal.path.read_text())
        assert journal["saved"] == before and journal["pid"] == os.getpid()
        k.set_setting("backlog_limit", before["backlog_limit"] + 123)
        k.set_setting("backlog_wait_time", 1234)
        k.set_setting("rate_limit", 77)
        k.set_setting("failure", 0 if before["failure"] else 1)
        k.enable()
        # and behind the harness's back
        subprocess.run(["auditctl", "-b", "4321"], check=True, capture_output=True)
        now = _settings()
        assert now["backlog_limit"] == 4321 and now["rate_limit"] == 77 and now["enabled"] == 1
        with pytest.raises(ValueError):
            k.set_setting("enabled", 2)
        with pytest.raises(ValueError):
            k.set_setting("failure", 2)
    assert _settings() == before


@pytest.mark.kernel
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_mid_run_cleans_up(tmp_path, run_ids, sig):
    before = _settings()
    proc = _spawn("hold", tmp_path)
    run_id = _ready(proc)
    run_ids.append(run_id)
    assert len(_mine(run_id)) == 3
    assert read_status()["backlog_limit"] == 333
    proc.send_signal(sig)
    time.sleep(0.03)
    if proc.poll() is None:
        proc.send_signal(sig)   # a second signal lands in the cleanup, which must not be cut short
    out, err = proc.communicate(timeout=60)
    assert f"interrupted {int(sig)}" in out, err
    assert proc.returncode == 128 + int(sig)
    assert _mine(run_id) == []
    assert _settings() == before
    assert not list(kernel.state_dir().glob(f"journal-*-{run_id}.json"))


@pytest.mark.kernel
@pytest.mark.parametrize("how", ["next-session", "cli"])
def test_sigkill_mid_run_is_cleaned_later(tmp_path, run_ids, how):
    before = _settings()
    proc = _spawn("hold", tmp_path)
    run_id = _ready(proc)
    run_ids.append(run_id)
    proc.kill()
    proc.wait(timeout=30)
    left = _mine(run_id)
    assert len(left) == 3, "SIGKILL cannot clean up: the rules must still be there"
    journal = list(kernel.state_dir().glob(f"journal-*-{run_id}.json"))
    assert len(journal) == 1
    assert read_status()["backlog_limit"] == 333
    if how == "next-session":
        with KernelAudit.session() as k:
            assert _mine(run_id) == []
            rep = [r for r in k.stale_cleanups if r.journal == str(journal[0])]
            assert len(rep) == 1 and sorted(rep[0].deleted) == sorted(left)
            assert ("backlog_limit", 333, before["backlog_limit"]) in rep[0].restored
            # this session's own saved settings are the restored ones
            assert k.saved == before
    else:
        res = subprocess.run([PY, "-m", "tracerule", "kernel", "cleanup", "--json", "--wait", "300"],
                             capture_output=True, text=True, timeout=400)
        assert res.returncode == 0, res.stderr
        rep = json.loads(res.stdout)
        assert rep["schema_version"] == 1
        j = [x for x in rep["journals"] if x["journal"] == str(journal[0])]
        assert len(j) == 1 and sorted(j[0]["deleted"]) == sorted(left)
        assert _mine(run_id) == []
    assert not journal[0].exists()
    assert _settings() == before


@pytest.mark.kernel
def test_cleanup_leaves_a_live_run_alone(tmp_path, run_ids):
    proc = _spawn("hold", tmp_path)
    try:
        run_id = _ready(proc)
        run_ids.append(run_id)
        res = subprocess.run([PY, "-m", "tracerule", "kernel", "cleanup", "--wait", "0.3"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 4
        assert "holds" in res.stderr and str(proc.pid) in res.stderr
        assert "Traceback" not in res.stderr
        journal = next(kernel.state_dir().glob(f"journal-*-{run_id}.json"))
        rep = kernel.clean_journal(journal)
        assert rep.skipped_reason and not rep.deleted
        assert len(_mine(run_id)) == 3
        st = subprocess.run([PY, "-m", "tracerule", "kernel", "status"], capture_output=True, text=True)
        assert st.returncode == 0 and f"pid {proc.pid} (running)" in st.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert _mine(run_id) == []


@pytest.mark.kernel
def test_lock_timeout_names_the_holder(tmp_path, run_ids):
    proc = _spawn("hold", tmp_path)
    try:
        run_ids.append(_ready(proc))
        t0 = time.monotonic()
        with pytest.raises(LockTimeout, match=f"pid {proc.pid}"):
            with KernelAudit.session(lock_timeout=0.5):
                pass
        assert 0.4 < time.monotonic() - t0 < 10
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


@pytest.mark.kernel
def test_two_concurrent_runs_serialise(tmp_path, run_ids):
    procs = [_spawn("critical", tmp_path, 1.0) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        run_ids.append(out.split()[1])
    rows = [ln.split() for ln in (tmp_path / "critical.log").read_text().split("\n") if ln]
    assert [r[0] for r in rows] == ["enter", "exit", "enter", "exit"]
    assert rows[0][1] == rows[1][1] and rows[2][1] == rows[3][1] and rows[0][1] != rows[2][1]
    assert float(rows[1][2]) <= float(rows[2][2])


@pytest.mark.kernel
def test_not_root_is_kernel_unavailable(tmp_path):
    code = ("from tracerule.audit.kernel import KernelAudit, KernelUnavailable\n"
            "try:\n"
            "    with KernelAudit.session():\n"
            "        print('opened')\n"
            "except KernelUnavailable as e:\n"
            "    print('unavailable:', e, e.exit_code)\n")
    env = dict(os.environ, HOME=str(tmp_path), TRACERULE_STATE_DIR=str(tmp_path / "state"))
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PY, "-c", code],
                         capture_output=True, text=True, env=env, cwd="/", timeout=60)
    if "Permission denied" in res.stderr and "opened" not in res.stdout:
        pytest.skip(f"nobody cannot run this interpreter: {res.stderr.strip()[:200]}")
    assert "unavailable:" in res.stdout and "root" in res.stdout and res.stdout.rstrip().endswith(" 4")
    cli = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PY, "-m", "tracerule",
                          "kernel", "status"], capture_output=True, text=True, env=env, cwd="/", timeout=60)
    assert cli.returncode == 4 and "not usable" in cli.stdout and "root" in cli.stdout


@pytest.mark.kernel
@pytest.mark.parametrize("script, match", [
    (None, "not an executable"),
    ("#!/bin/sh\necho 'Error - audit support not in kernel' >&2\necho 'Cannot open netlink audit socket' >&2\n"
     "exit 1\n", "auditctl -s failed"),
    ("#!/bin/sh\necho 'Error sending status request (Protocol not supported)' >&2\nexit 1\n", "no audit support"),
    ("#!/bin/sh\nprintf 'enabled 2\\nfailure 1\\npid 0\\nlost 0\\n'\n", "immutable"),
    ("#!/bin/sh\necho 'Error sending status request (Operation not permitted)' >&2\nexit 1\n", "refused"),
])
def test_unusable_auditctl_is_kernel_unavailable(tmp_path, monkeypatch, script, match):
    fake = tmp_path / "auditctl"
    if script is not None:
        fake.write_text(script)
        fake.chmod(0o755)
    monkeypatch.setenv("TRACERULE_AUDITCTL", str(fake))
    with pytest.raises(KernelUnavailable, match=match) as exc:
        with KernelAudit.session():
            pass
    assert int(exc.value.exit_code) == 4


@pytest.mark.kernel
def test_auditctl_missing_from_path(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACERULE_AUDITCTL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(kernel.shutil, "which", lambda name, path=None: None)
    with pytest.raises(KernelUnavailable, match="not installed"):
        kernel.read_status()


@pytest.mark.kernel
def test_run_exit_status_user_and_timeout(tmp_path):
    with KernelAudit.session() as k:
        assert k.run(["sh", "-c", "exit 3"]) == 3
        out = tmp_path / "out"
        with open(out, "w") as fh:   # opened by root, inherited by the unprivileged child
            assert k.run(["sh", "-c", "id -u; id -G; cat /proc/self/loginuid"], user="nobody", auid=4242,
                         stdout=fh) == 0
        uid, groups, loginuid = out.read_text().split("\n")[:3]
        assert uid == "65534" and loginuid == "4242" and "0" not in groups.split()
        assert k.run(["sh", "-c", "kill -9 $$"]) == -9
        t0 = time.monotonic()
        with pytest.raises(subprocess.TimeoutExpired):
            k.run(["sleep", "30"], timeout=0.5)
        assert time.monotonic() - t0 < 10
        with pytest.raises(ValueError):
            k.run(["true"], user="no-such-user-xyz")
        with pytest.raises(ValueError):
            k.run(["true"], auid=-5)


@pytest.mark.kernel
def test_watch_on_path_that_became_a_directory_is_still_deleted(tmp_path):
    target = tmp_path / "later"
    with KernelAudit.session() as k:
        r = k.add_rule(["-w", str(target), "-p", "wa", "-k", k.new_key("later")])
        target.mkdir()          # the rule stays path=; `-W` would now build dir=
        k.delete_rule(r)
        assert k.listed() == []
        target.rmdir()


@pytest.mark.kernel
def test_cleanup_orphans_only_on_request():
    import secrets

    run_id = secrets.token_hex(5)
    key = f"trr{run_id}-0001-orphan"      # a tracerule run key with no journal (e.g. /run was wiped)
    argv = ["-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-F", f"key={key}"]
    subprocess.run(["auditctl", *argv], check=True, capture_output=True)
    try:
        res = subprocess.run([PY, "-m", "tracerule", "kernel", "cleanup", "--json", "--wait", "300"],
                             capture_output=True, text=True, timeout=400)
        assert res.returncode == 0, res.stderr
        assert any(key in ln for ln in json.loads(res.stdout)["remaining_orphans"])
        assert len(_mine(run_id)) == 1
        res = subprocess.run([PY, "-m", "tracerule", "kernel", "cleanup", "--orphans", "--wait", "300"],
                             capture_output=True, text=True, timeout=400)
        assert res.returncode == 0, res.stderr
        assert "orphan deleted" in res.stdout and _mine(run_id) == []
    finally:
        subprocess.run(["auditctl", "-d", *argv[1:]], capture_output=True)


@pytest.mark.kernel
def test_journal_from_another_boot_is_discarded_untouched(tmp_path):
    """After a reboot the journal's rules and settings are gone with the old kernel state: a stale
    journal of another boot must not 'restore' settings over the new boot's."""
    state = tmp_path / "state"
    state.mkdir()
    before = _settings()
    fake = {"version": 1, "pid": 999999, "starttime": 1, "run_id": "0000000000", "boot_id": "another-boot",
            "created": 0, "saved": {"enabled": 1 - before["enabled"], "backlog_limit": 4242}, "rules": []}
    (state / "journal-999999-0000000000.json").write_text(json.dumps(fake))
    reps = kernel.cleanup_stale(state)
    assert len(reps) == 1 and reps[0].ok and not reps[0].restored
    assert not list(state.glob("journal-*"))
    assert _settings() == before


@pytest.mark.kernel
def test_stale_journal_of_this_boot_restores_its_settings(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    before = _settings()
    fake = {"version": 1, "pid": 999999, "starttime": 1, "run_id": "0000000001", "boot_id": kernel.boot_id(),
            "created": 0, "saved": before, "rules": []}
    (state / "journal-999999-0000000001.json").write_text(json.dumps(fake))
    subprocess.run(["auditctl", "-b", str(before["backlog_limit"] + 7)], check=True, capture_output=True)
    try:
        reps = kernel.cleanup_stale(state)
    finally:
        subprocess.run(["auditctl", "-b", str(before["backlog_limit"])], capture_output=True)
    assert len(reps) == 1 and reps[0].ok
    assert reps[0].restored == (("backlog_limit", before["backlog_limit"] + 7, before["backlog_limit"]),)
    assert _settings() == before
