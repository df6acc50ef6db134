"""Events on the real kernel: load a rule, run a workload, collect its events, unload."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import DATA
from tracerule.audit.kernel import Inconclusive, KernelAudit, auditd_pids, read_status

PROBE_C = DATA / "kernel" / "probe.c"


def _build(tmp_path: Path, *flags: str) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    out = tmp_path / ("probe32" if "-m32" in flags else "probe")
    res = subprocess.run(["gcc", "-O1", *flags, "-o", str(out), str(PROBE_C)], capture_output=True, text=True)
    if res.returncode != 0:
        if "-m32" in flags:
            pytest.skip(f"gcc -m32 does not work here (gcc-multilib missing?): {res.stderr[:200]}")
        raise AssertionError(res.stderr)
    tmp_path.chmod(0o755)
    return out


@pytest.fixture
def probe(tmp_path):
    """The probe in a directory every user can reach (pytest's tmp dirs are private to root)."""
    import tempfile

    built = _build(tmp_path)
    pub = Path(tempfile.mkdtemp(prefix="tracerule-probe-", dir="/tmp"))
    pub.chmod(0o755)
    dest = pub / "probe"
    shutil.copy2(built, dest)
    dest.chmod(0o755)
    yield dest
    # rules on it are gone by now (sessions closed); only then remove the directory
    shutil.rmtree(pub, ignore_errors=True)


def _roundtrip(k: KernelAudit, probe: Path) -> None:
    k.enable()   # before loading: with audit disabled the kernel logs no CONFIG_CHANGE
    kx = k.new_key("exec")
    kg = k.new_key("getppid")
    rx = k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", f"exe={probe}", "-k", kx])
    rg = k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"exe={probe}", "-k", kg])
    assert k.run([str(probe), "5", "7"], user="nobody", auid=4321) == 7
    execs = k.events([kx])
    assert len(execs) == 1
    e = execs[0]
    assert e.key == kx and e.syscall_name == "execve" and e.success is True and e.exit == 0
    assert e.exe == str(probe) and e.argv == (str(probe), "5", "7")
    assert (e.auid, e.uid, e.euid) == (4321, 65534, 65534)
    assert e.path_names[0] == str(probe)
    calls = k.events([kg])
    assert len(calls) == 5
    assert all(c.syscall_name == "getppid" and c.exit == os.getpid() and c.pid == e.pid for c in calls)
    assert len({c.serial for c in calls}) == 5
    # all events of the run: exactly these six, in order
    allev = k.events()
    assert [x.serial for x in allev] == [e.serial] + [c.serial for c in calls]
    # CONFIG_CHANGE records of our rule loads are there on request
    cfg = [x for x in k.events(include_config=True) if "CONFIG_CHANGE" in x.records]
    assert {x.record("CONFIG_CHANGE")["op"] for x in cfg} == {"add_rule"}
    assert {kx, kg} <= {kk for x in cfg for kk in x.all_keys}
    # unload one rule: later runs only produce the other's events
    mark = k.mark()
    time.sleep(0.05)   # time-based `since` has a clock tick of slack; mark() is exact
    t0 = time.time()
    k.delete_rule(rg)
    assert k.run([str(probe), "3"]) == 0
    later = k.events(since=mark)
    assert [x.key for x in later] == [kx] and later[0].auid == 4294967295
    assert [x.serial for x in k.events(since=t0)] == [later[0].serial]
    assert not k.lost_rose()
    k.check_conclusive()
    k.delete_rule(rx)
    assert k.listed() == []


@pytest.mark.kernel
def test_roundtrip_from_netlink(probe):
    # the multicast group works whether or not an auditd is connected
    with KernelAudit.session(source="netlink") as k:
        assert k.source == "netlink"
        _roundtrip(k, probe)


@pytest.mark.kernel
def test_roundtrip_from_auditd_log(probe):
    started = None
    with KernelAudit.session(source="log") as k:
        assert k.source == "log"
        if not auditd_pids():
            if shutil.which("auditd") is None:
                pytest.skip("auditd is not installed")
            started = subprocess.Popen(["auditd", "-n"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 15
                while read_status().get("pid") != started.pid:
                    assert time.monotonic() < deadline, "auditd did not register"
                    assert started.poll() is None, "auditd exited"
                    time.sleep(0.05)
                assert started.pid in auditd_pids()
                _roundtrip(k, probe)
            finally:
                started.send_signal(signal.SIGTERM)   # by its PID: only the auditd we started
                started.wait(timeout=30)
        else:
            _roundtrip(k, probe)
    if started is not None:
        assert started.pid not in auditd_pids()
        assert read_status().get("pid") == 0


@pytest.mark.kernel
def test_i386_syscalls_carry_the_i386_arch(tmp_path):
    probe32 = _build(tmp_path, "-m32")
    with KernelAudit.session() as k:
        k32 = k.new_key("b32")
        k64 = k.new_key("b64")
        k.add_rule(["-a", "always,exit", "-F", "arch=b32", "-S", "getppid", "-F", f"exe={probe32}", "-k", k32])
        k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"exe={probe32}", "-k", k64])
        k.enable()
        assert k.run([str(probe32), "2"]) == 0
        evs = k.events()
        assert [e.key for e in evs] == [k32, k32]
        assert all(e.arch_name == "i386" and e.syscall == 64 and e.syscall_name == "getppid" for e in evs)


@pytest.mark.kernel
def test_lost_counter_rise_is_inconclusive(probe):
    with KernelAudit.session() as k:
        key = k.new_key("flood")
        k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"exe={probe}", "-k", key])
        assert not k.lost_rose()
        k.set_setting("backlog_wait_time", 0)
        k.set_setting("backlog_limit", 1)
        k.enable()
        k.run([str(probe), "3000"])
        assert k.lost_rose()
        with pytest.raises(Inconclusive, match="lost"):
            k.check_conclusive()
