"""One small inline case per lint check ID: the exact (id, line) expected, and a clean variant that
gives no finding with that ID."""
from __future__ import annotations

import os

import pytest

from tracerule.audit.lint import CHECKS, lint, lint_text
from tracerule.errors import Severity

B64 = "-a always,exit -F arch=b64"
B32 = "-a always,exit -F arch=b32"
LONG = "k" * 257

# id, rules with the defect, lines expected, a clean variant, host checks needed
CASES = [
    ("TR001", f"{B64} -S openat -F obj=/x -k k", [1], f"{B64} -S openat -k k", False),
    ("TR002", "-w /etc/../etc/passwd -p wa -k p", [1], "-w /etc/passwd -p wa -k p", False),
    ("TR101", "-a always,exit -S open -k k", [1], f"{B64} -S open -k k\n{B32} -S open -k k", False),
    ("TR102", f"{B64} -S execve,execveat -F auid>=1000 -F auid!=unset -k e", [1],
     f"{B64} -S execve,execveat -F auid>=1000 -F auid!=unset -k e\n"
     f"{B32} -S execve,execveat -F auid>=1000 -F auid!=unset -k e", False),
    ("TR103", f"{B32} -S all -k c\n{B32} -S ptrace -k p", [1], f"{B32} -S ptrace -k p\n{B32} -S all -k c", False),
    ("TR104", f"{B64} -S openat,nosuchcall -k k", [1], f"{B64} -S openat -k k", False),
    ("TR105", f"{B64} -S fchmodat2 -k k", [1], f"{B64} -S 452 -k k", False),
    ("TR110", f"-a never,exit -F arch=b64 -S openat\n{B64} -S openat -F auid>=1000 -F auid!=unset -k a", [2],
     f"{B64} -S openat -F auid>=1000 -F auid!=unset -k a\n-a never,exit -F arch=b64 -S openat", False),
    ("TR111", f"{B64} -S openat -k a\n\n{B64} -S openat -k a", [3], f"{B64} -S openat -k a\n{B64} -S open -k a", False),
    ("TR112", "-w /etc/passwd -p wa -k p\n-a always,exit -F path=/etc/passwd -F perm=w -k p", [2],
     "-w /etc/passwd -p wa -k p\n-a always,exit -F path=/etc/shadow -F perm=w -k p", False),
    ("TR113", f"{B64} -S chmod -k m\n{B64} -S fchmod -k m", [2], f"{B64} -S chmod,fchmod -k m", False),
    ("TR120", f"{B64} -S execve -F auid>=1000 -k e", [1], f"{B64} -S execve -F auid>=1000 -F auid!=unset -k e", False),
    ("TR130", f"{B64} -S execve -F exe={{d}}/link -k e", [1], f"{B64} -S execve -F exe={{d}}/real -k e", True),
    ("TR131", "-w {d}/nodir/file -p wa -k w", [1], "-w {d}/real -p wa -k w", True),
    ("TR132", "-w {d}/missing -p wa -k w", [1], "-w {d}/real -p wa -k w", True),
    ("TR140", f"{B64} -S openat -F exit=EACCES -k e", [1], f"{B64} -S openat -F exit=-EACCES -k e", False),
    ("TR141", f"{B64} -S openat -F exit<0 -k e", [1], f"{B64} -S openat -F exit>=-4095 -k e", False),
    ("TR142", f"{B64} -S openat -F exit<=-1 -k e", [1], f"{B64} -S openat -F exit>=-4095 -k e", False),
    ("TR150", f"{B64} -S execve -k e", [1], f"{B64} -S execve,execveat -k e", False),
    ("TR151", f"{B64} -S open -k o", [1], f"{B64} -S open,openat,openat2 -k o", False),
    ("TR152", f"{B64} -S chmod,chown -k c", [1], f"{B64} -S chmod,chown,fchmodat,452,fchownat -k c", False),
    ("TR153", f"{B64} -S clone -k p", [1], f"{B64} -S clone,clone3,fork,vfork -k p", False),
    ("TR154", f"{B32} -S setuid -k s", [1], f"{B32} -S setuid,setuid32 -k s", False),
    ("TR155", f"{B32} -S connect -k n", [1], f"{B32} -S connect,socketcall -k n", False),
    ("TR156", f"{B64} -S rename,unlink -k d", [1], f"{B64} -S rename,renameat,renameat2,unlink,unlinkat -k d", False),
    ("TR160", f"{B64} -S clone,clone3 -F a0&0x7C020000 -k ns", [1], f"{B64} -S clone -F a0&0x7C020000 -k ns", False),
    ("TR161", f"{B64} -S open,openat -F a1&0100 -k c", [1], f"{B64} -S open -F a1&0100 -k c", False),
    ("TR170", f"{B64} -S openat -F uid=nosuchuser_tr_lint -k u", [1], f"{B64} -S openat -F uid=root -k u", True),
    ("TR180", f"{B64} -S openat", [1], f"{B64} -S openat -k o", False),
    ("TR181", f"{B64} -S openat -k {LONG}", [1], f"{B64} -S openat -k {LONG[:256]}", False),
    ("TR190", "-w /etc/ssh/ -p wa -k s", [1], "-w /etc/ssh/sshd_config -p wa -k s", False),
    ("TR191", "-a always,exit -F dir=/etc -F perm=wa -k e", [1],
     f"{B64} -S openat -F dir=/etc -F perm=wa -k e", False),
    ("TR192", f"{B64} -S all -F auid=1234 -k x", [1], f"{B64} -S openat -F auid=1234 -k x", False),
    ("TR193", "-a never,exit -F arch=b64 -S all -F exe=/usr/bin/vmtoolsd", [1],
     "-a never,exit -F arch=b64 -S openat -F exe=/usr/bin/vmtoolsd", False),
    ("TR194", "-w /etc/passwd -p wa -k p", [1], "-a always,exit -F path=/etc/passwd -F perm=wa -k p", False),
    ("TR195", "-a always,exit -F path=/etc/passwd -F perm=wa -k p", [1], "-w /etc/passwd -p wa -k p", False),
    ("TR200", "-e 2\n-w /etc/passwd -p wa -k p", [1], "-w /etc/passwd -p wa -k p\n-e 2", False),
    ("TR201", "-w /etc/passwd -p wa -k p\n-D", [2], "-D\n-w /etc/passwd -p wa -k p", False),
    ("TR202", "-w /etc/passwd -p wa -k p\n-b 8192", [2], "-b 8192\n-w /etc/passwd -p wa -k p", False),
    ("TR203", "-D\n--loginuid-immutable\n-f 2", [2, 3],
     "## meant: auid must not change after login\n--loginuid-immutable\n## meant: panic on loss\n-f 2", False),
    ("TR210", "-a exit,always -F arch=b64 -S openat -k o", [1], f"{B64} -S openat -k o", False),
]


@pytest.fixture
def fsdir(tmp_path):
    (tmp_path / "real").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    return tmp_path


def _lint(text: str, host: bool, d) -> list:
    return lint_text(text.format(d=d), file="t.rules", host_checks=host)


@pytest.mark.parametrize("cid,bad,lines,clean,host", CASES, ids=[c[0] for c in CASES])
def test_check_finds_exactly(cid, bad, lines, clean, host, fsdir):
    got = [(f.id, f.line) for f in _lint(bad, host, fsdir) if f.id == cid]
    assert got == [(cid, n) for n in lines]
    assert [f for f in _lint(clean, host, fsdir) if f.id == cid] == []


def test_every_check_has_a_case():
    assert {c.id for c in CHECKS} == {c[0] for c in CASES}


def test_ids_are_unique_and_stable_format():
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("TR") and len(i) == 5 and i[2:].isdigit() for i in ids)


@pytest.mark.parametrize("cid,bad,lines,clean,host", CASES, ids=[c[0] for c in CASES])
def test_every_finding_has_a_one_line_fix(cid, bad, lines, clean, host, fsdir):
    for f in _lint(bad, host, fsdir):
        assert f.fix and "\n" not in f.fix and "\n" not in f.message
        assert isinstance(f.severity, Severity)


def test_no_arch_names_the_i386_collision():
    (f,) = [f for f in lint_text("-a always,exit -S open -k k") if f.id == "TR101"]
    assert "i386 #2 is fork" in f.message


def test_twin_fix_is_the_b32_rule():
    (f,) = [f for f in lint_text(f"{B64} -S setuid -F auid>=1000 -F auid!=unset -k s") if f.id == "TR102"]
    assert f.fix == "add: -a always,exit -F arch=b32 -S setuid,setuid32 -F auid>=1000 -F auid!=unset -k s"


def test_b32_catch_all_anywhere_covers_b64_rules():
    text = f"{B64} -S ptrace -k p\n{B32} -S all -k c"
    assert not [f for f in lint_text(text) if f.id == "TR102"]


def test_wrong_argument_names_the_right_one():
    (f,) = [f for f in lint_text(f"{B64} -S open,openat -F a1&0100 -k c") if f.id == "TR161"]
    assert "a1 of openat is a pointer" in f.message and "-S openat -F a2&0100" in f.fix


def test_clone_a2_is_a_pointer():
    (f,) = [f for f in lint_text("-a never,exit -F arch=b64 -S clone -F a2&0x100") if f.id == "TR161"]
    assert "a2 of clone is a pointer" in f.message


def test_socketcall_fix_names_the_call_number():
    (f,) = [f for f in lint_text(f"{B32} -S connect -k n") if f.id == "TR155"]
    assert "-S socketcall -F a0=3" in f.fix


def test_gap_covered_by_another_rule_with_other_argument_position():
    text = (f"{B64} -S open -F a1&0100 -F auid>=1000 -F auid!=unset -k c\n"
            f"{B64} -S openat,openat2 -F a2&0100 -F auid>=1000 -F auid!=unset -k c")
    assert not [f for f in lint_text(text) if f.id == "TR151"]


def test_auditctl_4_knows_new_names():
    assert not [f for f in lint_text(f"{B64} -S fchmodat2 -k k", auditctl_version="4.0.2") if f.id == "TR105"]


def test_syscall_unknown_on_target_arch():
    got = [(f.id, f.line) for f in lint_text(f"{B64} -S open -k k", arch="aarch64")]
    assert ("TR104", 1) in got


def test_shadow_by_subtree_watch():
    text = "-w /etc/systemd/ -p wa -k systemd\n-w /etc/systemd/system-generators/ -p wa -k gen"
    assert [(f.id, f.line) for f in lint_text(text, host_checks=False) if f.id == "TR110"] == [("TR110", 2)]


def test_usr_merge_same_file_is_redundant(tmp_path):
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "usr" / "bin" / "bash").write_text("")
    os.symlink("usr/bin", tmp_path / "bin")
    text = (f"{B64} -F exe={tmp_path}/bin/bash -S connect -k rs\n"
            f"{B64} -F exe={tmp_path}/usr/bin/bash -S connect -k rs")
    got = [f for f in lint_text(text) if f.id == "TR112"]
    assert [(f.id, f.line) for f in got] == [("TR112", 2)] and "symlink" in got[0].message
    assert not [f for f in lint_text(text, host_checks=False) if f.id == "TR112"]


def test_merge_blocked_by_an_overlapping_rule_between():
    text = f"{B64} -S chmod -k m\n{B64} -S fchmod -k other\n{B64} -S fchmod -k m"
    assert not [f for f in lint_text(text) if f.id == "TR113"]


def test_delete_and_D_reset_duplicates():
    text = f"{B64} -S openat -k a\n-D\n{B64} -S openat -k a\n-d always,exit -F arch=b64 -S openat -k a\n" \
           f"{B64} -S openat -k a"
    assert not [f for f in lint_text(text) if f.id == "TR111"]


def test_well_formed_pairs_give_nothing_above_low():
    text = "\n".join([
        "-D", "-b 8192", "-f 1",
        f"{B64} -S execve,execveat -F euid=0 -F auid>=1000 -F auid!=unset -k tr_rootcmd",
        f"{B32} -S execve,execveat -F euid=0 -F auid>=1000 -F auid!=unset -k tr_rootcmd",
        f"{B64} -S setuid,setreuid,setresuid -F auid>=1000 -F auid!=unset -k tr_setid",
        f"{B32} -S setuid,setreuid,setresuid,setuid32,setreuid32,setresuid32 -F auid>=1000 -F auid!=unset -k tr_setid",
        f"{B64} -S socket,connect -F a0=2 -F auid>=1000 -F auid!=unset -k tr_net",
        f"{B64} -S openat,openat2,open -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k tr_open",
        f"{B32} -S openat,openat2,open -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k tr_open",
        f"{B64} -S clone,clone3,fork,vfork -F exe=/usr/bin/sudo -k tr_proc",
        f"{B32} -S clone,clone3,fork,vfork -F exe=/usr/bin/sudo -k tr_proc",
        f"{B32} -S socket,connect,socketcall -F auid>=1000 -F auid!=unset -k tr_net",
    ])
    bad = [f for f in lint_text(text, host_checks=False) if f.severity in (Severity.MEDIUM, Severity.HIGH)]
    assert bad == []


def test_lint_accepts_items_and_paths(tmp_path):
    from tracerule.audit.rules import parse_text

    p = tmp_path / "a.rules"
    p.write_text(f"{B64} -S execve -k e\n")
    by_path = [(f.id, f.line) for f in lint([str(p)], host_checks=False)]
    by_items = [(f.id, f.line) for f in lint(parse_text(p.read_text(), file=str(p)).items, host_checks=False)]
    assert ("TR150", 1) in by_path and by_path == by_items


def test_missing_path_is_an_input_error(tmp_path):
    from tracerule.errors import InputError

    with pytest.raises(InputError):
        lint([str(tmp_path / "nope.rules")])


def test_rules_d_order_and_cross_file(tmp_path):
    (tmp_path / "20-b.rules").write_text(f"{B32} -S ptrace -k p\n")
    (tmp_path / "10-a.rules").write_text(f"{B32} -S all -k c\n")
    (tmp_path / "notes.txt").write_text("-e 2\n")
    got = [(os.path.basename(f.file), f.id, f.line) for f in lint([str(tmp_path)], host_checks=False)]
    assert ("10-a.rules", "TR103", 1) in got and not any(g[1] == "TR200" for g in got)


def test_contradicting_conditions_never_match():
    got = [(f.id, f.line) for f in lint_text(f"{B64} -S openat -F auid<1000 -F auid>2000 -k imp")]
    assert ("TR141", 1) in got
    assert not [f for f in lint_text(f"{B64} -S openat -F auid>=1000 -F auid<2000 -k ok") if f.id == "TR141"]
