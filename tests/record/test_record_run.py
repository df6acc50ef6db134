"""tracerule record end to end: real strace, real sudo, real signals, the installed entry point.

These tests need root (strace -u, sudo, useradd) and strace; they skip with the reason otherwise.
A test user with a sudoers drop-in is created per test that needs it and removed even on failure.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import reachable_tmpdir, sudo_id_user

from tracerule.sidecar import read_sidecar, sidecar_path
from tracerule.strace.events import Exit, Syscall
from tracerule.strace.reader import TraceReader

TRACERULE = shutil.which("tracerule", path=os.path.dirname(sys.executable)) or "tracerule"

pytestmark = [
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="record tests run strace -u / sudo: need root"),
]


def tr(*args, cwd=None, timeout=60, env=None):
    return subprocess.run([TRACERULE, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)


def events(trace):
    return list(TraceReader(str(trace)))


def graph_json(trace) -> dict:
    cp = tr("graph", "--format", "json", str(trace))
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


# ---- a throwaway user allowed to run /usr/bin/id as root ---------------------------------------

@pytest.fixture
def test_user():
    with sudo_id_user("trrec") as (name, uid, gid):
        yield name, uid, gid


@pytest.fixture
def workdir():
    """A directory the test user can reach."""
    with reachable_tmpdir("tracerule-record-") as d:
        yield d


# ---- the sudo chain ------------------------------------------------------------------------------

def _record_sudo(workdir, user, extra=()):
    out = workdir / "sudo.strace"
    cp = tr("record", "-u", user, *extra, "-o", str(out), "--", "sudo", "-n", "/usr/bin/id", cwd=workdir)
    return out, cp


def test_sudo_chain_runs_as_root_and_sidecar_marks_sudo_setuid(workdir, test_user):
    name, uid, gid = test_user
    out, cp = _record_sudo(workdir, name)
    assert cp.returncode == 0, cp.stderr
    # the command really ran as root under sudo (not as the user: setuid was honoured)
    assert re.search(r"^uid=0\(root\)", cp.stdout, re.M), cp.stdout
    sc = read_sidecar(sidecar_path(out))
    sudo = sc.file("/usr/bin/sudo")
    assert sudo is not None and sudo.setuid is True and sudo.uid == 0 and sudo.exists
    idf = sc.file("/usr/bin/id")
    assert idf is not None and idf.setuid is False and idf.elf_class in (32, 64)
    # start credentials of the traced command: the test user, from strace -u
    assert (sc.recorder.uid, sc.recorder.euid, sc.recorder.gid) == (uid, uid, gid)
    assert sc.target_user == name and sc.target_uid == uid
    assert sc.uid_min is not None and sc.cwd == str(workdir)
    assert sc.command == ("sudo", "-n", "/usr/bin/id")
    raw = json.loads(sidecar_path(out).read_text())
    assert raw["tracer"]["euid"] == 0 and raw["tracer"]["setuid_honoured"] is True
    assert raw["strace_command"][-4:] == ["--", "sudo", "-n", "/usr/bin/id"]
    # the trace itself: the first exec is sudo, and sudo's child exec'd id
    execs = [ev for ev in events(out) if isinstance(ev, Syscall) and ev.name == "execve" and ev.ok]
    assert [e.args.split('"')[1] for e in execs] == ["/usr/bin/sudo", "/usr/bin/id"]
    # the graph starts the command as the test user (sidecar)
    g = graph_json(out)
    first = g["processes"][0]["execs"][0]
    assert first["path"] == "/usr/bin/sudo" and first["uid"] == uid


def test_graph_shows_the_sudo_escalation_from_the_sidecar(workdir, test_user):
    name, uid, _ = test_user
    out, cp = _record_sudo(workdir, name)
    assert cp.returncode == 0, cp.stderr
    g = graph_json(out)
    sudo = g["processes"][0]["execs"][0]
    assert sudo["path"] == "/usr/bin/sudo"
    assert (sudo["uid"], sudo["euid"], sudo["cred_source"]) == (uid, 0, "sidecar")
    assert not any(w["code"] == "TRACE_NONROOT" for w in g["warnings"])


def test_auid_is_set_before_strace_and_seen_by_the_graph(workdir, test_user):
    name, uid, _ = test_user
    out, cp = _record_sudo(workdir, name, extra=("--auid", str(uid)))
    if cp.returncode == 4 and "cannot set the login uid" in cp.stderr:
        pytest.skip("the kernel refuses to set the loginuid here: " + cp.stderr.strip())
    assert cp.returncode == 0, cp.stderr
    sc = read_sidecar(sidecar_path(out))
    assert sc.recorder.auid == uid
    assert sc.recorder.sessionid is not None and sc.recorder.sessionid != 4294967295
    raw = json.loads(sidecar_path(out).read_text())
    assert raw["auid_source"]["set_by_tracerule"] is True
    # the write itself is not in the trace: the trace is about the user's command
    assert "loginuid" not in out.read_text()
    g = graph_json(out)
    auids = {e["path"]: e["auid"] for p in g["processes"] for e in p["execs"]}
    assert auids == {"/usr/bin/sudo": uid, "/usr/bin/id": uid}
    # the recording process's own auid is untouched
    assert Path("/proc/self/loginuid").read_text().strip() == str(_my_auid())


def _my_auid():
    return int(Path("/proc/self/loginuid").read_text())


def test_auid_refused_by_the_kernel_is_a_clear_error(workdir, test_user):
    """A non-root recorder whose login uid is already set cannot change it (the kernel says EPERM)."""
    name, uid, gid = test_user
    os.chown(workdir, uid, gid)
    if _my_auid() != 4294967295:
        pytest.skip("this session already has a login uid; the test needs to set one itself")
    # set a login uid in a throwaway shell, then become the test user and ask for another auid
    cmd = (f"echo {uid} > /proc/self/loginuid && exec setpriv --reuid={uid} --regid={gid} "
           f"--clear-groups -- {TRACERULE} record --auid {uid + 1} -o {workdir}/a.strace -- true")
    cp = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, cwd=workdir, timeout=60)
    if "loginuid" in cp.stderr and cp.returncode != 4:
        pytest.skip("cannot set a login uid in this kernel: " + cp.stderr.strip())
    assert cp.returncode == 4, cp.stderr
    assert "cannot set the login uid (auid)" in cp.stderr and "already set" in cp.stderr
    assert "Traceback" not in cp.stderr
    assert not (workdir / "a.strace").exists()


def test_u_without_root_is_refused_before_running(workdir, test_user):
    name, uid, gid = test_user
    os.chown(workdir, uid, gid)
    marker = workdir / "ran"
    cp = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
                         TRACERULE, "record", "-u", name, "-o", str(workdir / "x.strace"), "--",
                         "touch", str(marker)], capture_output=True, text=True, cwd=workdir, timeout=60)
    assert cp.returncode == 4 and "needs root" in cp.stderr, cp.stderr
    assert not marker.exists() and not (workdir / "x.strace").exists()


def test_non_root_sudo_gets_a_warning_before_running(workdir, test_user):
    name, uid, gid = test_user
    os.chown(workdir, uid, gid)
    cp = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
                         TRACERULE, "record", "-o", str(workdir / "x.strace"), "--", "sudo", "-n",
                         "/usr/bin/id"], capture_output=True, text=True, cwd=workdir, timeout=60)
    err = cp.stderr
    assert "warning: you are not root" in err and "setuid" in err, err
    assert err.index("warning") < err.index("tracing into")
    # and indeed: without a root tracer, sudo did not get root
    assert "uid=0(root)" not in cp.stdout
    sc = read_sidecar(sidecar_path(workdir / "x.strace"))
    assert sc.recorder_root is False
    assert any("NOT honoured" in n for n in sc.notes)


# ---- exit status ------------------------------------------------------------------------------

@pytest.mark.parametrize("script,want", [("exit 7", 7), ("exit 0", 0), ("kill -9 $$", 137),
                                         ("kill -TERM $$", 143)])
def test_exit_status_passes_through(tmp_path, script, want):
    out = tmp_path / "e.strace"
    cp = tr("record", "-o", str(out), "--", "sh", "-c", script, cwd=tmp_path)
    assert cp.returncode == want, cp.stderr
    evs = events(out)
    ends = [e for e in evs if isinstance(e, Exit)]
    assert ends, "the trace has the end of the command"
    if want >= 128:
        assert ends[-1].signal == signal.Signals(want - 128).name
    else:
        assert ends[-1].code == want
    assert read_sidecar(sidecar_path(out)).files


def test_command_output_is_the_commands_and_trace_is_plain_strace(tmp_path):
    out = tmp_path / "o.strace"
    cp = tr("record", "-o", str(out), "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2",
            cwd=tmp_path)
    assert cp.returncode == 0
    assert cp.stdout == "to-stdout\n"          # nothing of ours on stdout
    assert "to-stderr" in cp.stderr
    first = out.read_text().splitlines()[0]
    # -n: the syscall number after the timestamp ("[  59]"; i386 socket vs socketcall)
    assert re.match(r'^\d+ +\d{10}\.\d{6} \[ *59\] execve\("/usr/bin/sh", \["sh", "-c", ', first), first
    assert (out.stat().st_mode & 0o777) == 0o600


# ---- interrupts ---------------------------------------------------------------------------------

def _pty_run(args, cwd, ctrl_c_after, wait=15.0):
    pid, fd = pty.fork()
    if pid == 0:  # child: the session leader of a new terminal, in its foreground group
        os.chdir(cwd)
        os.execv(TRACERULE, [TRACERULE, *args])
    buf = bytearray()

    def pump(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    return
                if not d:
                    return
                buf.extend(d)
    try:
        deadline = time.monotonic() + 10
        while b"tracing into" not in buf and time.monotonic() < deadline:
            pump(0.1)
        pump(ctrl_c_after)
        os.write(fd, b"\x03")          # Ctrl-C: the terminal signals the whole foreground group
        t = time.monotonic()
        end = t + wait
        status = None
        while time.monotonic() < end:
            pump(0.1)
            w, st = os.waitpid(pid, os.WNOHANG)
            if w == pid:
                status = st
                break
        took = time.monotonic() - t
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        pump(0.2)
        return status, took, buf.decode(errors="replace")
    finally:
        os.close(fd)


def test_ctrl_c_stops_a_long_command_and_leaves_trace_and_sidecar(tmp_path):
    out = tmp_path / "c.strace"
    status, took, text = _pty_run(["record", "-o", str(out), "--", "sleep", "30"], tmp_path, 0.5)
    assert status is not None, "record did not stop within 15 s of Ctrl-C:\n" + text
    assert took < 5, took
    assert os.waitstatus_to_exitcode(status) == 130, text
    evs = events(out)
    assert [e for e in evs if isinstance(e, Exit)][-1].signal == "SIGINT"
    sigs = [e for e in evs if getattr(e, "signal", None) == "SIGINT" and not isinstance(e, Exit)]
    assert len(sigs) == 1, "the command got the terminal's SIGINT once (not forwarded twice)"
    sc = read_sidecar(sidecar_path(out))
    assert sc.file("/usr/bin/sleep") is not None
    assert any("interrupted by SIGINT" in n for n in sc.notes)
    assert "Traceback" not in text


def test_sigterm_to_record_alone_reaches_every_process_of_the_command(tmp_path):
    out = tmp_path / "t.strace"
    marker = tmp_path / "after"
    p = subprocess.Popen([TRACERULE, "record", "-o", str(out), "--", "sh", "-c",
                          f"sleep 30; touch {marker}"], cwd=tmp_path, stderr=subprocess.PIPE,
                         text=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "clock_nanosleep" not in (
                out.read_text() if out.exists() else ""):
            time.sleep(0.05)
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=15)
        took = time.monotonic() - t
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = p.stderr.read()
    assert rc == 143, err
    assert took < 5
    assert not marker.exists()
    evs = events(out)
    killed = {e.tid for e in evs if isinstance(e, Exit) and e.signal == "SIGTERM"}
    assert len(killed) == 2, "both sh and sleep were terminated"
    sc = read_sidecar(sidecar_path(out))
    assert any("SIGTERM (forwarded" in n for n in sc.notes)


# ---- outputs ------------------------------------------------------------------------------------

def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "f.strace"
    out.write_text("precious\n")
    cp = tr("record", "-o", str(out), "--", "true", cwd=tmp_path)
    assert cp.returncode == 2 and "--force" in cp.stderr
    assert out.read_text() == "precious\n"
    out.unlink()
    sidecar_path(out).write_text("{}\n")
    cp = tr("record", "-o", str(out), "--", "true", cwd=tmp_path)
    assert cp.returncode == 2 and not out.exists()
    cp = tr("record", "--force", "-o", str(out), "--", "true", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    assert read_sidecar(sidecar_path(out)).file("/usr/bin/true") is not None


def test_default_name_is_dated_and_printed(tmp_path):
    cp = tr("record", "--", "true", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    m = re.search(r"tracing into (tracerule-\d{8}-\d{6}(?:-\d+)?\.strace)", cp.stderr)
    assert m, cp.stderr
    assert (tmp_path / m.group(1)).is_file()
    assert sidecar_path(tmp_path / m.group(1)).is_file()
    cp2 = tr("record", "--", "true", cwd=tmp_path)
    m2 = re.search(r"tracing into (\S+\.strace)", cp2.stderr)
    assert cp2.returncode == 0 and m2 is not None
    assert m2.group(1) != m.group(1) and (tmp_path / m2.group(1)).is_file()


def test_missing_strace_is_exit_4_with_a_clear_message(tmp_path):
    cp = tr("record", "--strace", "/nonexistent", "-o", str(tmp_path / "m.strace"), "--", "true",
            cwd=tmp_path)
    assert cp.returncode == 4
    assert "strace not found" in cp.stderr and "Traceback" not in cp.stderr
    assert not (tmp_path / "m.strace").exists()


def test_missing_strace_on_path(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    cp = subprocess.run([TRACERULE, "record", "--", "/bin/true"], capture_output=True, text=True,
                        env=env, cwd=tmp_path, timeout=60)
    assert cp.returncode == 4 and "strace is not installed" in cp.stderr


def test_time_untraced_records_both_wall_times(tmp_path):
    out = tmp_path / "u.strace"
    cp = tr("record", "--time-untraced", "-o", str(out), "--", "sh", "-c", "sleep 0.2", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    sc = read_sidecar(sidecar_path(out))
    raw = json.loads(sidecar_path(out).read_text())
    assert sc.untraced_wall_time is not None and 0.2 <= sc.untraced_wall_time < 5
    assert raw["traced_wall_time"] >= 0.2
    assert "untraced" in cp.stderr


def test_relative_exec_is_resolved_against_the_process_cwd(tmp_path):
    out = tmp_path / "r.strace"
    cp = tr("record", "-o", str(out), "--", "sh", "-c", "cd /usr/bin && ./id -u", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    f = read_sidecar(sidecar_path(out)).file("./id")
    assert f is not None and f.realpath == os.path.realpath("/usr/bin/id")


def test_explain_flags():
    cp = tr("record", "--explain-flags")
    assert cp.returncode == 0
    for f in ("-ttt", "-yy", "-X verbose", "quiet=attach", "--seccomp-bpf"):
        assert f in cp.stdout


def test_u_gives_the_command_the_users_environment(workdir, test_user):
    name, uid, _ = test_user
    import pwd

    home = pwd.getpwnam(name).pw_dir
    out = workdir / "env.strace"
    cp = tr("record", "-u", name, "-o", str(out), "--", "sh", "-c", 'echo "$(id -u) $HOME $USER $LOGNAME"',
            cwd=workdir)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == f"{uid} {home} {name} {name}"
