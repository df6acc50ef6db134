"""lint on the public rule sets (tests/data/rules) reports the known defects of peers.md section 1.5
and section 2, at the file:line where they are; and never crashes on any public file."""
from __future__ import annotations

import os

import pytest

from tests.conftest import RULES_DATA
from tracerule.audit.lint import exit_code, lint

NEO = RULES_DATA / "neo23x0" / "audit.rules"
AU = RULES_DATA / "audit-userspace"
ATT = RULES_DATA / "auditd-attack" / "auditd-attack.rules"


def _ids(findings):
    return {(f.id, os.path.basename(f.file), f.line) for f in findings}


@pytest.fixture(scope="module")
def neo():
    return _ids(lint([str(NEO)], host_checks=False))


# peers.md 1.5 "Defects a semantic linter would flag in the Neo23x0 snapshot"
@pytest.mark.parametrize("cid,line", [(c, n) for c, ns in [
    ("TR001", (487, 488)),         # -k -F T1078_Valid_Accounts: "parameter passed without an option given"
    ("TR001", (718, 719)),         # -F obj= in the CrowdStrike connect rules: unknown field
    ("TR195", (67, 136, 155)),     # path/perm rules without arch (cheap here: path= is in the inode hash)
    ("TR191", (230,)),             # perm= without path and -S: dir=/etc/NetworkManager/ on every syscall
    ("TR192", (561,)),             # dir=/home without -S: every syscall
    ("TR194", (56, 60)),           # -w watches on files: "deprecated" (auditctl(8)), cheap here
    ("TR190", (50, 271)),          # -w on directories: dir= on every syscall
    ("TR210", (91,)),              # -a exit,never spelling (#7)
    ("TR193", (91,)),              # never,exit -S all -F exe=vmtoolsd: exe= on every syscall
    ("TR150", (791,)),             # rootcmd: execve without execveat (PR #162/#173)
    ("TR110", (275,)),             # -w /etc/systemd/ shadows -w /etc/systemd/system-generators/
] for n in ns])
def test_neo23x0_defects(neo, cid, line):
    assert (cid, "audit.rules", line) in neo


def test_neo23x0_unknown_users():
    # "Unknown user: chrony" (gardenlinux #1798), "Unknown user: ntp" (#79): on hosts without them
    got = _ids(lint([str(NEO)], user=lambda name: {"root": 0}.get(name)))
    assert {("TR170", "audit.rules", 85), ("TR170", "audit.rules", 162)} <= got


@pytest.mark.skipif(not os.path.islink("/bin"), reason="this host is not usr-merged")
def test_neo23x0_bin_bash_and_usr_bin_bash_are_one_file_here():
    # "exe=/bin/bash variants: on usr-merged systems ... the rule set carries both"
    assert ("TR112", "audit.rules", 217) in _ids(lint([str(NEO)]))


@pytest.mark.skipif(not os.path.islink("/bin/sh"), reason="/bin/sh is not a symlink here")
def test_neo23x0_watch_on_symlinked_shell():
    # -w /bin/sh -p x never fires (audit-userspace #230, cnspec #3677: watches on symlinks)
    assert ("TR130", "audit.rules", 787) in _ids(lint([str(NEO)]))


def test_audit_userspace_catch_all_first_shadows_later_b32_rules():
    # 21-no32bit.rules loads before every 30-* b32 rule (Neo23x0 PR #20 moved it last for this reason)
    assert ("TR103", "21-no32bit.rules", 5) in _ids(lint([str(AU)], host_checks=False))


def test_stig_perm_mod_rules_lost_to_new_syscall_names():
    got = _ids(lint([str(AU / "30-stig.rules")], host_checks=False))
    assert {("TR105", "30-stig.rules", n) for n in range(113, 119)} <= got


def test_pci_execve_without_execveat():
    assert ("TR150", "30-pci-dss-v31.rules", 66) in _ids(lint([str(AU / "30-pci-dss-v31.rules")], host_checks=False))


def test_containers_clone_mask_misses_clone3():
    got = _ids(lint([str(AU / "41-containers.rules")], host_checks=False))
    assert ("TR153", "41-containers.rules", 4) in got


def test_general_ptrace_rule_shadows_injection_rules():
    got = _ids(lint([str(AU / "42-injection.rules")], host_checks=False))
    assert {("TR110", "42-injection.rules", n) for n in (8, 10, 12)} <= got
    assert ("TR102", "42-injection.rules", 6) in got     # its b32 twin is commented out


def test_auditd_attack_exit_errno_without_minus():
    got = _ids(lint([str(ATT)], host_checks=False))
    assert {("TR140", "auditd-attack.rules", 240), ("TR140", "auditd-attack.rules", 241)} <= got


PUBLIC = sorted(RULES_DATA.rglob("*.rules"))


@pytest.mark.parametrize("path", PUBLIC, ids=[str(p.relative_to(RULES_DATA)) for p in PUBLIC])
@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "i386", "ppc64le"])
def test_never_crashes(path, arch):
    fs = lint([str(path)], arch=arch, host_checks=(arch == "x86_64"))
    assert exit_code(fs) in (0, 1, 6, 7)
    for f in fs:
        assert f.fix and f.message and f.line >= 0


@pytest.mark.parametrize("d", ["neo23x0", "audit-userspace", "auditd-attack"])
def test_never_crashes_on_directories(d):
    assert lint([str(RULES_DATA / d)])
