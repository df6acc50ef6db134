"""Unit tests of tracerule.record: command line, names, executed-file collection, checks."""
from __future__ import annotations

import os
import stat
import time

import pytest

from tracerule import record as R
from tracerule.errors import EnvironmentProblem, TraceruleError
from tracerule.exitcodes import ExitCode
from tracerule.sidecar import sidecar_path


# ---- the strace command line ------------------------------------------------------------------

def test_strace_argv_has_every_flag_the_reader_needs():
    argv = R.strace_argv("/usr/bin/strace", "out.strace", ["sudo", "-n", "id"], user="alice")
    assert argv[0] == "/usr/bin/strace"
    for f in ("-f", "-ttt", "-T", "-yy", "-n"):
        assert f in argv
    # -n: i386 socketcall(SYS_SOCKET) and the direct socket #359 print alike without the number
    assert argv.index("-n") < argv.index("--")
    assert argv[argv.index("-s") + 1] == "4096"
    assert argv[argv.index("-X") + 1] == "verbose"
    # personality/exit/superseded lines stay in the file: only 'attach' is quieted
    assert "quiet=attach" in argv and "-q" not in argv and "-qq" not in argv
    assert argv[argv.index("-o") + 1] == "out.strace"
    assert argv[argv.index("-u") + 1] == "alice"
    # the command comes after --, untouched (options of the command are not strace's)
    k = argv.index("--")
    assert argv[k + 1:] == ["sudo", "-n", "id"]
    assert argv.index("-u") < k


def test_strace_argv_without_user_has_no_u():
    argv = R.strace_argv("strace", "t", ["-u", "x"])
    assert argv[argv.index("--") + 1:] == ["-u", "x"]
    assert "-u" not in argv[:argv.index("--")]


def test_every_flag_has_a_reason():
    for flags, why in R.STRACE_FLAGS:
        assert flags and len(why) > 20


# ---- output names ----------------------------------------------------------------------------

def test_default_output_is_dated_and_never_taken(tmp_path):
    now = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))
    p = R.default_output(tmp_path, now)
    assert p.name == "tracerule-20260102-030405.strace"
    p.write_text("x")
    q = R.default_output(tmp_path, now)
    assert q.name == "tracerule-20260102-030405-2.strace"
    # a lone sidecar also blocks the name
    sidecar_path(q).write_text("{}")
    r = R.default_output(tmp_path, now)
    assert r.name == "tracerule-20260102-030405-3.strace"


def test_prepare_output_refuses_existing_trace_and_sidecar(tmp_path):
    t = tmp_path / "a.strace"
    t.write_text("old")
    with pytest.raises(TraceruleError) as ei:
        R._prepare_output(R.RecordOptions(command=("true",), output=str(t)))
    assert ei.value.exit_code == ExitCode.USAGE and "--force" in str(ei.value)
    assert t.read_text() == "old"
    t.unlink()
    sidecar_path(t).write_text("{}")
    with pytest.raises(TraceruleError):
        R._prepare_output(R.RecordOptions(command=("true",), output=str(t)))
    assert not t.exists()
    got = R._prepare_output(R.RecordOptions(command=("true",), output=str(t), force=True))
    assert got == t and stat.S_IMODE(t.stat().st_mode) == 0o600


def test_prepare_output_forced_truncates_and_restricts_mode(tmp_path):
    t = tmp_path / "a.strace"
    t.write_text("old trace")
    os.chmod(t, 0o644)
    R._prepare_output(R.RecordOptions(command=("true",), output=str(t), force=True))
    assert t.read_text() == "" and stat.S_IMODE(t.stat().st_mode) == 0o600


def test_prepare_output_missing_directory(tmp_path):
    from tracerule.errors import InputError

    with pytest.raises(InputError):
        R._prepare_output(R.RecordOptions(command=("true",), output=str(tmp_path / "no" / "x")))


# ---- environment checks ------------------------------------------------------------------------

def test_find_strace_missing_is_an_environment_problem(tmp_path):
    with pytest.raises(EnvironmentProblem) as ei:
        R.find_strace(str(tmp_path / "nonexistent"))
    assert ei.value.exit_code == ExitCode.ENVIRONMENT and "strace" in str(ei.value)
    f = tmp_path / "notexec"
    f.write_text("")
    with pytest.raises(EnvironmentProblem):
        R.find_strace(str(f))


def test_strace_version_refuses_a_non_strace(tmp_path):
    with pytest.raises(EnvironmentProblem):
        R.strace_version("/bin/true")


@pytest.mark.parametrize("text,want", [
    ("UID_MIN\t\t\t 1000\nUID_MAX 60000\n", 1000),
    ("#UID_MIN 5\n  UID_MIN 500 # comment\n", 500),
    ("UID_MAX 60000\n", None),
    ("UID_MINX 7\n", None),
])
def test_read_uid_min(tmp_path, text, want):
    p = tmp_path / "login.defs"
    p.write_text(text)
    assert R.read_uid_min(str(p)) == want
    assert R.read_uid_min(str(tmp_path / "missing")) is None


def test_privileged_reason(tmp_path):
    assert R.privileged_reason(["sudo", "id"]) is not None
    assert R.privileged_reason(["/no/such/dir/pkexec"]) is not None  # by name
    assert R.privileged_reason(["true"]) is None
    assert R.privileged_reason([]) is None
    f = tmp_path / "suidprog"
    f.write_text("#!/bin/sh\n")
    os.chmod(f, 0o4755)
    why = R.privileged_reason([str(f)])
    assert why is not None and "setuid" in why
    os.chmod(f, 0o755)
    assert R.privileged_reason([str(f)]) is None


def test_preflight_refusals():
    with pytest.raises(TraceruleError) as ei:
        R.preflight(R.RecordOptions(command=()))
    assert ei.value.exit_code == ExitCode.USAGE
    with pytest.raises(TraceruleError):
        R.preflight(R.RecordOptions(command=("no-such-command-xyzzy",)))
    with pytest.raises(TraceruleError) as ei:
        R.preflight(R.RecordOptions(command=("true",), user="no-such-user-xyzzy"))
    assert "no such user" in str(ei.value)
    with pytest.raises(TraceruleError):
        R.preflight(R.RecordOptions(command=("true",), auid=4294967295))


@pytest.mark.parametrize("status,want", [
    (7 << 8, (7, None)), (0, (0, None)), (9, (137, 9)), (2, (130, 2)), (15, (143, 15)),
])
def test_exit_status(status, want):
    assert R._exit_status(status) == want


# ---- executed files -----------------------------------------------------------------------------

def _trace(tmp_path, text):
    p = tmp_path / "t.strace"
    p.write_text(text)
    return p


def test_exec_paths_relative_against_tracked_cwd(tmp_path):
    t = _trace(tmp_path, (
        '100 1.000 execve("/bin/sh", ["sh"], 0x7ffd /* 5 vars */) = 0 <0.1>\n'
        '100 1.100 chdir("/usr/bin") = 0 <0.1>\n'
        '100 1.200 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f) = 101 <0.1>\n'
        '101 1.300 execve("./id", ["./id"], 0x7ffd /* 5 vars */) = 0 <0.1>\n'
        '100 1.350 chdir("sub") = -1 ENOENT (No such file or directory) <0.1>\n'
        '100 1.400 execve("rel", ["rel"], 0x7ffd /* 5 vars */) = -1 ENOENT (No such file or directory) <0.1>\n'
        '100 1.500 chdir("..") = 0 <0.1>\n'
        '100 1.600 execve("bin/true", ["true"], 0x7ffd /* 5 vars */) = 0 <0.1>\n'
        '101 1.700 +++ exited with 0 +++\n'
        '100 1.800 +++ exited with 0 +++\n'))
    got = R._exec_paths(t, "/start")
    assert got == [("/bin/sh", None), ("./id", "/usr/bin"), ("rel", "/usr/bin"), ("bin/true", "/usr")]


def test_exec_paths_execveat_dirfd_and_empty_path(tmp_path):
    t = _trace(tmp_path, (
        '200 1.0 execveat(3</usr/bin>, "env", ["env"], 0x7ffd /* 5 vars */, 0) = 0 <0.1>\n'
        '200 1.1 execveat(4</usr/bin/true>, "", ["true"], 0x7ffd /* 5 vars */, AT_EMPTY_PATH) = 0 <0.1>\n'
        '200 1.2 execveat(-100 /* AT_FDCWD */</tmp>, "x", ["x"], 0x7ffd /* 5 vars */, 0) = -1 ENOENT (No such file or directory) <0.1>\n'
        '200 1.3 +++ exited with 0 +++\n'))
    got = R._exec_paths(t, "/start")
    assert got == [("env", "/usr/bin"), ("/usr/bin/true", None), ("x", "/tmp")]


def test_exec_paths_failed_and_duplicates(tmp_path):
    t = _trace(tmp_path, (
        '300 1.0 execve("/usr/local/bin/id", ["id"], 0x7ffd /* 5 vars */) = -1 ENOENT (No such file or directory) <0.1>\n'
        '300 1.1 execve("/usr/bin/id", ["id"], 0x7ffd /* 5 vars */) = 0 <0.1>\n'
        '300 1.2 execve("/usr/bin/id", ["id"], 0x7ffd /* 5 vars */) = 0 <0.1>\n'
        '300 1.3 +++ exited with 0 +++\n'))
    assert R._exec_paths(t, "/") == [("/usr/local/bin/id", None), ("/usr/bin/id", None)]


def test_exec_paths_unfinished_exec_of_killed_process(tmp_path):
    t = _trace(tmp_path, (
        '400 1.0 execve("/usr/bin/sleep", ["sleep", "9"], 0x7ffd /* 5 vars */ <unfinished ...>\n'
        '400 1.1 +++ killed by SIGKILL +++\n'))
    # the path of an exec that never returned is still collected (it was attempted)
    assert R._exec_paths(t, "/") == [("/usr/bin/sleep", None)]


def test_collect_exec_files_describes_and_adds_script_interpreters(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    t = _trace(tmp_path, (
        f'500 1.0 execve("{script}", ["run.sh"], 0x7ffd /* 5 vars */) = 0 <0.1>\n'
        '500 1.1 execve("/nonexistent/x", ["x"], 0x7ffd /* 5 vars */) = -1 ENOENT (No such file or directory) <0.1>\n'
        '500 1.2 +++ exited with 0 +++\n'))
    files = R.collect_exec_files(t, str(tmp_path))
    by = {f.path: f for f in files}
    assert by[str(script)].shebang and by[str(script)].interpreter == "/bin/sh"
    assert by["/nonexistent/x"].exists is False
    sh = by["/bin/sh"]
    assert sh.exists and sh.elf_class in (32, 64) and sh.realpath == os.path.realpath("/bin/sh")
    st = os.stat("/bin/sh")
    assert (sh.dev, sh.ino) == (st.st_dev, st.st_ino)
