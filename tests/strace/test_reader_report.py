"""Trace-quality notes: stable codes, what they say is unsafe."""
from __future__ import annotations

import pytest

from tests.conftest import STRACE_DATA
from tracerule.errors import Severity
from tracerule.strace.reader import TraceReader
from tracerule.strace.report import NOTE_CODES


def _report(path, **kw):
    r = TraceReader(path, **kw)
    list(r)
    return r.report


@pytest.mark.parametrize("file,code,present", [
    ("seccomp_bpf.txt", "filtered-syscalls", True),
    ("setuid_chain.txt", "filtered-syscalls", True),          # -e trace=!%memory,...
    ("sudo_docker_alice_tt_T_yy.txt", "filtered-syscalls", True),
    ("sudo_docker_root.txt", "filtered-syscalls", False),
    ("z_successful_only.txt", "success-only", True),
    ("unfinished_resumed.txt", "success-only", False),
    ("xx_hex_strings.txt", "truncated-strings", True),
    ("synthetic_strace6_rare_forms.txt", "truncated-strings", False),
    ("unfinished_resumed.txt", "no-timestamps", True),
    ("sudo_docker_alice_tt_T_yy.txt", "no-timestamps", False),
    ("stderr_pid_prefix.txt", "stderr-capture", True),
    ("sudo_docker_root.txt", "stderr-capture", False),
    ("pidns_unshare_plain.txt", "children-not-seen", True),
    ("vfork_posix_spawn.txt", "children-not-seen", False),
    ("vfork_posix_spawn.txt", "no-follow-forks", False),
])
def test_corpus_notes(file, code, present):
    rep = _report(STRACE_DATA / file)
    assert rep.has_note(code) is present, [str(n) for n in rep.notes]
    # names mode gives the same notes
    assert _report(STRACE_DATA / file, names={"execve"}).has_note(code) is present


def test_filtered_note_says_what_is_unsafe():
    n = _report(STRACE_DATA / "seccomp_bpf.txt").note_for("filtered-syscalls")
    assert "file" in n.message and "unsafe" in n.message.lower()


def test_no_follow_forks(tmp_path):
    p = tmp_path / "nof.txt"
    p.write_text('execve("/bin/sh", ["sh"], 0x7ffe /* 3 vars */) = 0\n'
                 "set_tid_address(0x7f1) = 900\n"
                 "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
                 "child_tidptr=0x7f1) = 901\n"
                 "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 901\n"
                 "exit_group(0) = ?\n+++ exited with 0 +++\n")
    rep = _report(p)
    n = rep.note_for("no-follow-forks")
    assert n is not None and n.severity == Severity.HIGH and "901" in n.message and "-f" in n.message
    assert _report(p, names={"execve"}).has_note("no-follow-forks")


def test_failed_only(tmp_path):
    p = tmp_path / "Z.txt"
    p.write_text("".join(f'{700 + i % 2}  openat(AT_FDCWD, "/nope{i}", O_RDONLY) = -1 ENOENT (No such file or '
                         "directory)\n" for i in range(10)))
    rep = _report(p)
    assert rep.has_note("failed-only") and rep.note_for("failed-only").severity == Severity.HIGH


def test_codes_are_stable_and_known():
    for f in STRACE_DATA.glob("*.txt"):
        for n in _report(f).notes:
            assert n.code in NOTE_CODES
            assert n.message.endswith(".")
