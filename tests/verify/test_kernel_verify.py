"""tracerule verify --kernel: planning and attribution (no kernel), and end to end on the real kernel.

Kernel tests (marker ``kernel``) need root, auditctl and a working kernel audit; run them one
process at a time.  Each test that adds a user, a sudoers drop-in or a foreign rule removes it in a
``finally``; every kernel test checks that no rule of its runs (and no run key at all) is left.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import DATA, reachable_tmpdir, sudo_id_user
from tracerule.audit.kernel_verify import (KernelRun, KernelVerifyResult, Workload, _analyse,
                                           plan_rules, workload_from_trace)
from tracerule.cli import main
from tracerule.errors import InputError
from tracerule.exitcodes import ExitCode

VDATA = DATA / "verify"
SUDO_ID_RULES = VDATA / "sudo_id.rules"
SHADOW_RULES = VDATA / "shadow.rules"
TRACERULE = shutil.which("tracerule", path=os.path.dirname(sys.executable)) or "tracerule"
RUN_KEY = re.compile(r"trr[0-9a-f]{10}-\d{4}")


# ---- planning: what is loaded, with which key ------------------------------------------------------

def test_plan_replaces_keys_and_skips_what_must_not_be_loaded(tmp_path):
    p = tmp_path / "r.rules"
    p.write_text("-D\n-b 8192\n-e 2\n"
                 "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/id -k a -k b\n"
                 "-A always,exit -F arch=b64 -S openat -F auid>=1000 -F auid!=unset -k pre\n"
                 "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/id -k a -k b\n"
                 "-d always,exit -F arch=b64 -S execve -k gone\n"
                 "-a never,task\n"
                 "-w /etc/shadow -p wa -k shadow\n")
    planned, diags, notes = plan_rules([p], host="x86_64")
    # the duplicate of line 4 is refused by the parser (auditctl: Rule exists) and not planned
    assert any(d.code == "R004" and d.line == 6 for d in diags)
    assert [x.number for x in planned] == [1, 2, 3, 4, 5]
    r1, r2, r4, r5, r6 = planned
    assert not r1.skip and r1.key == "a\x01b"
    argv = r1.argv("trr0123456789-0001-r1")
    assert argv[:2] == ["-a", "always,exit"] and argv[-2:] == ["-k", "trr0123456789-0001-r1"]
    assert argv.count("-k") == 1 and "a" not in argv and "-F" in argv and "exe=/usr/bin/id" in argv
    assert r2.argv("K")[:2] == ["-a", "always,exit"]
    assert "-A (prepend) loaded appended" in r2.note
    assert "deletion" in r4.skip
    assert "task" in r5.skip
    assert not r6.skip and r6.argv("K") == ["-w", "/etc/shadow", "-p", "wa", "-k", "K"]
    assert any("control line" in n and "-e" in n for n in notes)


def test_plan_refuses_missing_and_empty_rules(tmp_path):
    with pytest.raises(InputError, match="no such rules file"):
        plan_rules([tmp_path / "nope.rules"])
    empty = tmp_path / "e.rules"
    empty.write_text("# nothing\n-D\n")
    with pytest.raises(InputError, match="no rule"):
        plan_rules([empty])


def test_plan_argv_never_carries_a_hostile_value(tmp_path):
    p = tmp_path / "r.rules"
    p.write_text("-a always,exit -F arch=b64 -S execve -F exe=/tmp/a -k x\n")
    (r,) = plan_rules([p])[0]
    for bad in ("k -D", "k\n-D", ""):
        with pytest.raises(Exception):
            r.argv(bad)


# ---- attribution from raw records ---------------------------------------------------------------------

def _sys(serial, pid, ppid, nr, exe, key, *, exit=0, success="yes", auid=1001, euid=0, extra=()):
    k = "(null)" if key is None else f'"{key}"'
    lines = [f"type=SYSCALL msg=audit(1700000000.{serial:03d}:{serial}): arch=c000003e syscall={nr} "
             f"success={success} exit={exit} a0=0 a1=0 a2=0 a3=0 items=0 ppid={ppid} pid={pid} "
             f"auid={auid} uid=0 gid=0 euid={euid} suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) "
             f'ses=3 comm="x" exe="{exe}" key={k}']
    for t in extra:
        lines.insert(0, f"type={t} msg=audit(1700000000.{serial:03d}:{serial}): pid={pid} uid=0 "
                        f"old-auid=4294967295 auid={auid} res=1")
    return lines


def test_attribution_by_process_tree_setup_host_keys_and_elsewhere():
    me = os.getpid()
    root, child, other = 900001, 900002, 900003
    lines = []
    # tracerule's child writes the loginuid (forced LOGIN record) before exec'ing the command
    lines += _sys(1, root, me, 1, sys.executable, None, exit=4, extra=("LOGIN",))
    lines += _sys(2, root, me, 59, "/usr/bin/sudo", "TRK")                    # the command's exec
    lines += _sys(3, root, me, 117, "/usr/bin/sudo", "trrX-0001-r1")          # rule #1, in the tree
    lines += _sys(4, root, me, 56, "/usr/bin/sudo", "TRK", exit=child)        # clone -> child
    lines += _sys(5, child, 1, 59, "/usr/bin/id", "hostkey")                  # reparented, host key
    lines += _sys(6, child, 1, 59, "/usr/bin/id", None)                       # keyless host rule
    lines += _sys(7, other, 1, 59, "/usr/bin/id", "trrX-0001-r1")             # not ours: elsewhere
    lines += ["type=USER msg=audit(1700000000.008:8): pid=1 uid=0 auid=4294967295 ses=1 msg='x'"]
    run = KernelRun("combined", (1,))
    d = _analyse(run, lines, {"trrX-0001-r1": 1}, "TRK", {1: "-a ..."})
    assert run.setup == 1
    assert [e.serial for e in d.by_rule[1]] == [3]
    assert d.elsewhere[1] == 1
    assert [(e.serial, e.key) for e in d.foreign] == [(5, "hostkey"), (6, None)]
    assert run.events == 3 and run.processes == 2 and run.host_events == 7
    assert not d.foreign[1].forced


def test_forced_keyless_event_is_marked_forced():
    me = os.getpid()
    lines = _sys(1, 900010, me, 59, "/usr/bin/id", "TRK")
    lines += _sys(2, 900010, me, 1, "/usr/bin/id", None, extra=("LOGIN",))
    d = _analyse(KernelRun("c", ()), lines, {}, "TRK", {})
    assert len(d.foreign) == 1 and d.foreign[0].forced


def test_result_exit_codes_and_lost_counter():
    w = Workload(("/bin/true",))
    res = KernelVerifyResult(w, ["r"], [], [], [], [], lost_start=10, lost_end=10)
    assert res.exit_code == ExitCode.OK and not res.lost_rose
    res.lost_end = 12
    assert res.exit_code == ExitCode.INCONCLUSIVE
    d = res.to_dict()
    assert d["schema_version"] == 1 and d["lost"] == {"start": 10, "end": 12, "rose": True,
                                                      "listener_overruns": 0, "records_not_held": 0}
    res.lost_end = 10
    res.expectations = [{"selector": "x", "ok": False, "caught": 0, "caught_by": {}}]
    assert res.exit_code == ExitCode.CHECK_FAILED


# ---- workload from a recorded trace -------------------------------------------------------------------

def test_workload_from_sidecar(tmp_path):
    from tracerule.sidecar import Recorder, Sidecar, write_sidecar

    t = tmp_path / "t.strace"
    t.write_text("")
    write_sidecar(Sidecar(command=("sudo", "-n", "/usr/bin/id"), cwd=str(tmp_path), target_user="root",
                          recorder=Recorder(uid=0, euid=0, auid=4242, user="root")),
                  str(t) + ".tracerule.json")
    w = workload_from_trace(t)
    assert w.argv == ("sudo", "-n", "/usr/bin/id") and w.user is None and w.auid == 4242
    assert w.cwd == str(tmp_path) and "sidecar" in w.source
    w2 = workload_from_trace(t, command=["/bin/true"], auid=7)
    assert w2.argv == ("/bin/true",) and w2.auid == 7


def test_workload_without_sidecar_is_a_clear_error(tmp_path):
    t = tmp_path / "t.strace"
    t.write_text("")
    with pytest.raises(InputError, match="no sidecar"):
        workload_from_trace(t)


# ---- command line (no kernel needed) -------------------------------------------------------------------

@pytest.mark.parametrize("args, msg", [
    (["--each", str(SHADOW_RULES), "x.strace"], "--each needs --kernel"),
    (["--kernel", str(SHADOW_RULES)], "give the command after --"),
    (["--kernel", str(SHADOW_RULES), "a.strace", "b.strace"], "one TRACE"),
    (["--kernel", str(SHADOW_RULES), "--baseline", "b.strace", "--", "/bin/true"], "--baseline"),
    (["--kernel", "--uid", "5", str(SHADOW_RULES), "--", "/bin/true"], "--uid"),
    ([str(SHADOW_RULES), "--", "sudo", "-n", "id"], "-- CMD needs --kernel"),
])
def test_cli_usage_errors(args, msg, capsys):
    rc = main(["verify", *args])
    assert rc == ExitCode.USAGE
    assert msg in capsys.readouterr().err


def test_immutable_audit_is_refused_with_exit_4(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "auditctl"
    fake.write_text("#!/bin/sh\nprintf 'enabled 2\\nfailure 1\\npid 0\\nlost 0\\n'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TRACERULE_AUDITCTL", str(fake))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    rc = main(["verify", "--kernel", str(SHADOW_RULES), "--", "/bin/true"])
    assert rc == ExitCode.ENVIRONMENT
    err = capsys.readouterr().err
    assert "immutable" in err and "Traceback" not in err


def test_missing_privileges_are_refused_with_exit_4(monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    rc = main(["verify", "--kernel", str(SHADOW_RULES), "--", "/bin/true"])
    assert rc == ExitCode.ENVIRONMENT
    assert "root" in capsys.readouterr().err


# ---- the real kernel -------------------------------------------------------------------------------------

def _listed() -> list[str]:
    res = subprocess.run(["auditctl", "-l"], capture_output=True, text=True)
    return [ln for ln in res.stdout.splitlines() if ln.strip() and ln.strip() != "No rules"]


@pytest.fixture
def clean_kernel():
    """The rules listed before; after the test exactly those are listed again (nothing of ours)."""
    if os.geteuid() != 0 or shutil.which("auditctl") is None:
        yield []
        return
    before = _listed()
    yield before
    after = _listed()
    assert not [ln for ln in after if RUN_KEY.search(ln)], f"run keys left: {after}"
    assert after == before


@pytest.fixture
def test_user():
    with sudo_id_user("trkv") as (name, uid, gid):
        yield name, uid


@pytest.fixture
def workdir():
    """A directory the test user can reach."""
    with reachable_tmpdir("tracerule-kverify-") as d:
        yield d


def tr(*args, cwd=None, timeout=180):
    return subprocess.run([TRACERULE, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def _json(cp) -> dict:
    assert cp.stdout.strip(), cp.stderr
    return json.loads(cp.stdout)


def _rule(d, number):
    return next(r for r in d["rules"] if r["number"] == number)


@pytest.mark.kernel
def test_seed_rules_fire_on_a_rerun_of_a_recorded_sudo_chain(workdir, test_user, clean_kernel):
    if shutil.which("strace") is None:
        pytest.skip("strace is needed to record")
    name, uid = test_user
    trace = workdir / "sudo.strace"
    cp = tr("record", "-u", name, "--auid", str(uid), "-o", str(trace), "--",
            "sudo", "-n", "/usr/bin/id", cwd=workdir)
    assert cp.returncode == 0, cp.stderr
    cp = tr("verify", "--kernel", str(SUDO_ID_RULES), str(trace), "--json",
            "--expect", "execve exe=/usr/bin/sudo auid=%d key=tr-priv" % uid)
    assert cp.returncode == 0, cp.stderr
    d = _json(cp)
    assert d["schema_version"] == 1 and d["kind"] == "tracerule-verify-kernel"
    assert d["workload"]["user"] == name and d["workload"]["auid"] == uid
    assert d["runs"][0]["exit_status"] == 0
    sudo_exec, id_exec, cred = _rule(d, 1), _rule(d, 3), _rule(d, 5)
    assert sudo_exec["won"] == 1 and id_exec["won"] == 1 and cred["won"] > 0
    e = sudo_exec["events"][0]
    assert (e["syscall"], e["exe"], e["euid"], e["auid"], e["uid"]) == ("execve", "/usr/bin/sudo", 0, uid, uid)
    e = id_exec["events"][0]
    assert (e["syscall"], e["exe"], e["euid"], e["auid"]) == ("execve", "/usr/bin/id", 0, uid)
    assert all(ev["auid"] == uid and ev["exe"] == "/usr/bin/sudo" for ev in cred["events"])
    # the b32 twins are loaded and see nothing of a 64-bit chain
    assert _rule(d, 2)["loaded"] and _rule(d, 2)["won"] == 0
    # the simulator on the trace predicted exactly the kernel's events
    for r in d["rules"]:
        assert r["simulator"]["predicted_only"] == [] and r["simulator"]["kernel_only"] == [], r
        assert r["simulator"]["predicted"] == r["won"]
    assert d["expectations"][0]["ok"] and d["expectations"][0]["caught"] == 1
    assert not d["lost"]["rose"]


@pytest.mark.kernel
def test_whole_loop_record_suggest_verify_kernel(workdir, test_user, clean_kernel):
    if shutil.which("strace") is None:
        pytest.skip("strace is needed to record")
    name, uid = test_user
    trace, rules = workdir / "sudo.strace", workdir / "sudo.rules"
    assert tr("record", "-u", name, "--auid", str(uid), "-o", str(trace), "--",
              "sudo", "-n", "/usr/bin/id", cwd=workdir).returncode == 0
    cp = tr("suggest", str(trace), "-o", str(rules))
    assert cp.returncode == 0, cp.stderr
    cp = tr("verify", "--kernel", str(rules), str(trace), "--json")
    assert cp.returncode == 0, cp.stderr
    d = _json(cp)
    fired = [r for r in d["rules"] if r["won"]]
    assert fired, "no suggested rule fired on the kernel"
    assert all(ev["auid"] == uid for r in fired for ev in r["events"])
    for r in d["rules"]:
        assert r["simulator"]["predicted"] == r["won"], r


@pytest.mark.kernel
def test_command_form_with_user_and_auid(test_user, clean_kernel, capsys):
    name, uid = test_user
    rc = main(["verify", "--kernel", str(SUDO_ID_RULES), "--json", "--user", name, "--auid", str(uid),
               "--", "sudo", "-n", "/usr/bin/id"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert _rule(d, 1)["won"] == 1 and _rule(d, 3)["won"] == 1
    assert all(r["simulator"] is None for r in d["rules"])


@pytest.mark.kernel
def test_each_shows_a_rule_hidden_behind_an_earlier_one(clean_kernel, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    rc = main(["verify", "--kernel", "--each", str(SHADOW_RULES), "--json", "--", "/usr/bin/id"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    first, second = _rule(d, 1), _rule(d, 2)
    assert first["won"] == 1 and second["won"] == 0          # combined: only the first key
    assert first["alone"] == 1 and second["alone"] == 1      # alone: both fire
    (h,) = second["hidden"]
    assert h["count"] == 1 and h["won_by"] == {"rule #1": 1}
    assert h["signature"]["syscall"] == "execve" and h["signature"]["exe"] == "/usr/bin/id"
    assert [r["label"] for r in d["runs"]] == ["combined", "rule #1 alone", "rule #2 alone"]
    # the text form says it too
    rc = main(["verify", "--kernel", "--each", str(SHADOW_RULES), "--", "/usr/bin/id"])
    out = capsys.readouterr().out
    assert rc == 0 and "hidden in the combined run" in out and "rule #1 (1)" in out


@pytest.mark.kernel
def test_foreign_rules_are_untouched_and_reported_as_winning(clean_kernel, capsys):
    fkey = "trvforeign" + uuid.uuid4().hex[:8]
    frule = ["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", "exe=/usr/bin/id", "-k", fkey]
    res = subprocess.run(["auditctl", *frule], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    try:
        mine = [ln for ln in _listed() if fkey in ln]
        assert len(mine) == 1
        rc = main(["verify", "--kernel", "--each", str(SHADOW_RULES), "--json", "--", "/usr/bin/id"])
        d = json.loads(capsys.readouterr().out)
        assert rc == 0
        assert [ln for ln in _listed() if fkey in ln] == mine      # untouched
        assert mine[0] in d["host_rules_loaded"]
        (hw,) = [h for h in d["host_wins"] if h["key"] == fkey]
        assert hw["events"] == 1 and hw["host_rules"] == mine
        assert hw["listed_events"][0]["exe"] == "/usr/bin/id"
        first, second = _rule(d, 1), _rule(d, 2)
        assert first["won"] == 0 and first["alone"] == 0      # the host's rule comes first, even alone
        assert second["won"] == 0 and second["alone"] == 0
    finally:
        subprocess.run(["auditctl", "-d", *frule[1:]], capture_output=True)
    assert not [ln for ln in _listed() if fkey in ln]


@pytest.mark.kernel
@pytest.mark.parametrize("sig", ["KILL", "SEGV"])
def test_a_crashing_command_leaves_no_rule_behind(sig, clean_kernel, capsys):
    rc = main(["verify", "--kernel", str(SHADOW_RULES), "--json", "--",
               "/bin/sh", "-c", f"/usr/bin/id >/dev/null; kill -{sig} $$"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert d["runs"][0]["exit_status"] == -getattr(signal, f"SIG{sig}")
    assert d["runs"][0]["killed_by"] == f"SIG{sig}"
    assert _rule(d, 1)["won"] == 1     # what ran before the crash was still seen


@pytest.mark.kernel
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_unloads_the_rules_and_stops_the_command(signum, clean_kernel, workdir):
    marker = workdir / "started"
    nap = f"60.{uuid.uuid4().int % 10**6:06d}"
    proc = subprocess.Popen([TRACERULE, "verify", "--kernel", str(SHADOW_RULES), "--",
                             "/bin/sh", "-c", f"touch {marker}; exec sleep {nap}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.05)
        ours = [ln for ln in _listed() if RUN_KEY.search(ln)]
        assert len(ours) >= 2          # the two rules (and the tracker) are loaded while it runs
        run_id = RUN_KEY.search(ours[0]).group(0)[3:13]
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "interrupted by" in err and "rules were unloaded" in err and "Traceback" not in err
    assert not [ln for ln in _listed() if run_id in ln]
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-f", f"sleep {nap}"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


@pytest.mark.kernel
def test_a_keyless_host_rule_that_wins_is_reported_as_such(clean_kernel, capsys, monkeypatch):
    # a host rule without a key: its events carry key=(null); the rule is named only by that
    frule = ["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", "exe=/usr/bin/id",
             "-F", "success=1", "-F", "euid=0"]
    res = subprocess.run(["auditctl", *frule], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    try:
        rc = main(["verify", "--kernel", "--each", str(SHADOW_RULES), "--json", "--", "/usr/bin/id"])
        d = json.loads(capsys.readouterr().out)
        assert rc == 0
        (hw,) = [h for h in d["host_wins"] if h["key"] is None]
        assert hw["events"] == 1 and hw["forced"] == 0 and hw["host_rules"] == []
        assert _rule(d, 1)["won"] == 0
        monkeypatch.setenv("NO_COLOR", "1")
        assert main(["verify", "--kernel", str(SHADOW_RULES), "--", "/usr/bin/id"]) == 0
        out = capsys.readouterr().out
        assert "won by rules already loaded on this host" in out and "no key" in out
    finally:
        subprocess.run(["auditctl", "-d", *frule[1:]], capture_output=True)
    assert not [ln for ln in _listed() if "exe=/usr/bin/id" in ln and "euid=0" in ln]


def test_rich_and_plain_rendering_of_a_result(capsys, monkeypatch):
    from tracerule.audit.kernel_verify import KernelRuleResult
    from tracerule.cli.verify_cmd import _kernel_lines, render_kernel

    me = os.getpid()
    lines = _sys(1, 900020, me, 59, "/usr/bin/id", "trrY-0001-r1")
    run = KernelRun("combined", (1,), exit_status=-9)
    d = _analyse(run, lines, {"trrY-0001-r1": 1}, "TRK", {})
    r = KernelRuleResult(1, 0, "x.rules:1", "-a ...", "-a always,exit -S execve -F key=k", "k",
                         events=d.by_rule[1])
    res = KernelVerifyResult(Workload(("/usr/bin/id",)), ["x.rules"], [r], [run], [], [],
                             lost_start=1, lost_end=1, source="netlink")
    text = "\n".join(_kernel_lines(res, 3))
    assert "killed by SIGKILL" in text and "#1 x.rules:1 key=k: won 1 event(s)" in text
    assert "execve (x86_64) ok pid=900020 exe=/usr/bin/id" in text and "did not rise" in text
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    render_kernel(res)
    out = capsys.readouterr().out
    assert "events won per rule" in out and "/usr/bin/id" in out
