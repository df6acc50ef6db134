"""One test per experiment of audit-semantics.md section 13 the simulator must reproduce
(kernel 6.18.44, auditctl 3.0.9), named after its E number."""
from __future__ import annotations

import os

import pytest

from tracerule.audit.record import UNSET, FileRef, Name, TaskView
from tracerule.audit.simulate import MappingResolver, PathFacts, host_resolver

from .util import (O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, PROBE, decide, fname,
                   key_of, nr, rec, rules)


def facts(path, ino, *, dev=8, is_dir=False, symlink=False, exists=True, real=None, real_ino=None):
    return PathFacts(path, exists=exists, parent_exists=True, is_symlink=symlink, is_dir=is_dir,
                     canonical=path, dev=dev if exists else None, ino=ino if exists else None,
                     real=real or path, real_dev=dev if exists else None,
                     real_ino=(real_ino or ino) if exists else None)


# ---- E03-E06: masks and arch ---------------------------------------------------------------

def test_E03_rule_without_arch_matches_the_number_under_every_abi():
    c = rules("-a always,exit -S getpid -k A1")
    assert key_of(c, rec("getpid")) == "A1"                                   # x86_64 #39
    assert key_of(c, rec(39, "i386", exit=-14)) == "A1"                      # i386 #39 = mkdir
    assert nr("mkdir", "i386") == 39
    assert key_of(c, rec("getpid", "i386")) is None                          # i386 getpid = #20


def test_E04_arch_b64_only_64bit():
    c = rules("-a always,exit -F arch=b64 -S getpid -k A2")
    assert key_of(c, rec("getpid")) == "A2"
    assert key_of(c, rec(39, "i386")) is None
    assert key_of(c, rec("getpid", "i386")) is None


def test_E05_arch_b32_only_i386():
    c = rules("-a always,exit -F arch=b32 -S getpid -k A3")
    assert key_of(c, rec("getpid", "i386")) == "A3"
    assert key_of(c, rec("getpid")) is None
    assert key_of(c, rec(39, "i386")) is None


def test_E06_socketcall_and_direct_socket_syscalls():
    c = rules("-a always,exit -F arch=b32 -S socket -k s32\n"
              "-a always,exit -F arch=b32 -S socketcall -k sc32\n"
              "-a always,exit -F arch=b64 -S socket -k s64\n")
    assert key_of(c, rec("socketcall", "i386", a0=1, exit=3)) == "sc32"   # socketcall(SYS_SOCKET)
    assert key_of(c, rec("socket", "i386", exit=3)) == "s32"              # i386 #359
    assert nr("socket", "i386") == 359
    assert key_of(c, rec("socket", exit=3)) == "s64"


# ---- E07-E11, E26, E29: exe= ---------------------------------------------------------------

ID = FileRef("/usr/bin/id", 8, 1001, "/usr/bin/id")
SH = FileRef("/usr/bin/dash", 8, 1002, "/usr/bin/dash")
TRUE = FileRef("/usr/bin/true", 8, 1003, "/usr/bin/true")
RES = MappingResolver([facts("/usr/bin/id", 1001), facts("/srv/lab/probe", 4242),
                       facts("/usr/bin/dash", 1002), facts("/usr/bin/true", 1003),
                       facts("/bin/sh", 1010, symlink=True, real="/usr/bin/dash", real_ino=1002),
                       facts("/usr/bin/sh", 1011, symlink=True, real="/usr/bin/dash", real_ino=1002),
                       facts("/srv/lab/notyet", None, exists=False)])


def test_E07_exe_on_execve_matches_the_exec_of_the_program():
    c = rules("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/id -k e7", resolver=RES)
    # at execve's exit the new image is installed: exe = id
    assert key_of(c, rec("execve", exe=ID)) == "e7"
    # a failed exec by the probe: exe stays the probe
    assert key_of(c, rec("execve", exe=PROBE, exit=-2)) is None


def test_E08_exe_of_the_caller_matches_its_failed_execs_not_its_successful_ones():
    c = rules("-a always,exit -F arch=b64 -S execve -F exe=/srv/lab/probe -k e8", resolver=RES)
    assert key_of(c, rec("execve", exe=PROBE)) == "e8"            # sh execs the probe
    assert key_of(c, rec("execve", exe=TRUE)) is None             # the probe execs true
    assert key_of(c, rec("execve", exe=PROBE, exit=-2)) == "e8"   # the probe fails to exec


def test_E09_exe_naming_a_symlink_never_matches():
    c = rules("-a always,exit -F arch=b64 -S exit_group -F exe=/bin/sh -k binsh\n"
              "-a always,exit -F arch=b64 -S exit_group -F exe=/usr/bin/sh -k usrbinsh\n"
              "-a always,exit -F arch=b64 -S exit_group -F exe=/usr/bin/dash -k dash\n", resolver=RES)
    assert key_of(c, rec("exit_group", exe=SH, exit=None)) == "dash"
    c2 = rules("-a always,exit -F arch=b64 -S exit_group -F exe=/bin/sh -k binsh", resolver=RES)
    assert key_of(c2, rec("exit_group", exe=SH, exit=None)) is None


def test_E09_with_real_symlinks_on_this_host(tmp_path):
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    dash = tmp_path / "usr" / "bin" / "dash"
    dash.write_bytes(b"\x7fELF")
    os.symlink("usr/bin", tmp_path / "bin")
    os.symlink("dash", tmp_path / "usr" / "bin" / "sh")
    ref = FileRef.of(str(tmp_path / "bin" / "sh"))      # the running image: dash
    text = "".join(f"-a always,exit -F arch=b64 -S exit_group -F exe={tmp_path}/{p} -k {k}\n"
                   for p, k in (("bin/sh", "binsh"), ("usr/bin/sh", "usrsh"), ("bin/dash", "bindash")))
    c = rules(text, resolver=host_resolver)
    # bin/dash: only an intermediate symlink, which the kernel follows
    assert key_of(c, rec("exit_group", exe=ref, exit=None)) == "bindash"


def test_E10_exe_missing_at_load_matches_nothing():
    c = rules("-a always,exit -F arch=b64 -S getpid -F exe=/srv/lab/notyet -k e10", resolver=RES)
    assert key_of(c, rec("getpid", exe=FileRef("/srv/lab/notyet", 8, 77, "/srv/lab/notyet"))) is None
    assert any(n.field == "exe" and "missing at load" in n.text and n.rule == 0 for n in c.notes)


def test_E11_replaced_binary_new_processes_match_old_ones_do_not(tmp_path):
    tool = tmp_path / "tool"
    tool.write_bytes(b"old")
    old = FileRef.of(str(tool))
    new_file = tmp_path / "tool.new"
    new_file.write_bytes(b"new")
    os.rename(new_file, tool)                    # dpkg-style replace
    new = FileRef.of(str(tool))
    assert old.ino != new.ino
    c = rules(f"-a always,exit -F arch=b64 -S getpid -F exe={tool} -k e11", resolver=host_resolver)
    assert key_of(c, rec("getpid", exe=new)) == "e11"
    assert key_of(c, rec("getpid", exe=old)) is None


def test_E26_exe_through_intermediate_symlink_and_watches_on_symlink_and_interpreter(tmp_path):
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    dash = tmp_path / "usr" / "bin" / "dash"
    dash.write_bytes(b"\x7fELF")
    bash = tmp_path / "usr" / "bin" / "bash"
    bash.write_bytes(b"\x7fELF bash")
    os.symlink("usr/bin", tmp_path / "bin")
    os.symlink("dash", tmp_path / "usr" / "bin" / "sh")
    t = str(tmp_path)
    c = rules(f"-a always,exit -F arch=b64 -S getpid -F exe={t}/bin/bash -k bash",
              resolver=host_resolver)
    assert key_of(c, rec("getpid", exe=FileRef.of(f"{t}/bin/bash"))) == "bash"
    # -w on the symlink never fires; -w on dash fires for both sh invocations
    c = rules(f"-w {t}/usr/bin/sh -p x -k symw\n-w {t}/bin/dash -p x -k dashw\n",
              resolver=host_resolver)
    for invoked in (f"{t}/bin/sh", f"{t}/usr/bin/sh"):
        r = rec("execve", exe=FileRef.of(invoked), names=(Name.of(invoked, as_passed=invoked),))
        assert key_of(c, r) == "dashw"
    c = rules(f"-w {t}/usr/bin/sh -p x -k symw\n", resolver=host_resolver)
    r = rec("execve", exe=FileRef.of(f"{t}/usr/bin/sh"), names=(Name.of(f"{t}/usr/bin/sh"),))
    assert key_of(c, r) is None


def test_E29_hard_link_matches_copy_does_not(tmp_path):
    idp = tmp_path / "id"
    idp.write_bytes(b"\x7fELF id")
    os.link(idp, tmp_path / "idlink")
    (tmp_path / "idcopy").write_bytes(b"\x7fELF id")
    c = rules(f"-a always,exit -F arch=b64 -S getpid -F exe={idp} -k e29", resolver=host_resolver)
    assert key_of(c, rec("getpid", exe=FileRef.of(str(tmp_path / "idlink")))) == "e29"
    assert key_of(c, rec("getpid", exe=FileRef.of(str(tmp_path / "idcopy")))) is None


def test_E29_lsm_field_loads_and_never_matches():
    c = rules("-a always,exit -F arch=b64 -S getpid -F subj_type=unconfined_t -k lsm")
    assert key_of(c, rec("getpid")) is None
    assert any(n.field == "rule" and "LSM" in n.text for n in c.notes)


@pytest.mark.parametrize("sc", ["bind", "getsockname", "sendto", "recvfrom", "connect"])
def test_E29_saddr_fam_on_sockaddr_syscalls(sc):
    c = rules(f"-a always,exit -F arch=b64 -S {sc} -F saddr_fam=2 -k inet")
    assert key_of(c, rec(sc, saddr_fam=2)) == "inet"
    assert key_of(c, rec(sc, saddr_fam=10)) is None
    assert key_of(c, rec(sc, saddr_fam=-1)) is None


# ---- E12, E13, E31: what watches catch -----------------------------------------------------

F = "/srv/lab/f"
FI = 5555
WRES = MappingResolver([facts(F, FI), facts("/srv/lab", 5000, is_dir=True)])
FOUR = f"-w {F} -p r -k r\n-w {F} -p w -k w\n-w {F} -p x -k x\n-w {F} -p a -k a\n"


def _n(nametype="NORMAL"):
    return fname(F, FI, nametype=nametype)


E12 = [
    ("open O_RDONLY", "open", dict(a1=O_RDONLY), "r"),
    ("openat O_RDONLY", "openat", dict(a2=O_RDONLY), "r"),
    ("openat O_RDONLY|O_CREAT", "openat", dict(a2=O_RDONLY | O_CREAT), "r"),
    ("openat O_RDONLY|O_TRUNC", "openat", dict(a2=O_RDONLY | O_TRUNC), "r"),
    ("openat2 O_RDONLY", "openat2", dict(oflags=O_RDONLY), "r"),
    ("openat O_WRONLY", "openat", dict(a2=O_WRONLY), "w"),
    ("openat O_WRONLY|O_APPEND", "openat", dict(a2=O_WRONLY | O_APPEND), "w"),
    ("touch: openat O_WRONLY|O_CREAT", "openat", dict(a2=O_WRONLY | O_CREAT), "w"),
    ("openat O_RDWR", "openat", dict(a2=O_RDWR), "r"),
    ("openat2 O_WRONLY", "openat2", dict(oflags=O_WRONLY), "w"),
    ("read", "read", dict(names=()), None),
    ("write", "write", dict(names=()), None),
    ("ftruncate", "ftruncate", dict(names=()), None),
    ("truncate", "truncate", {}, "w"),
    ("stat", "stat", {}, None),
    ("lstat", "lstat", {}, None),
    ("newfstatat", "newfstatat", {}, None),
    ("statx", "statx", {}, None),
    ("access", "access", {}, None),
    ("readlink EINVAL", "readlink", dict(exit=-22), "r"),
    ("getxattr", "getxattr", {}, "r"),
    ("chmod", "chmod", {}, "a"),
    ("fchmod", "fchmod", {}, "a"),
    ("chown", "chown", {}, "a"),
    ("setxattr", "setxattr", {}, "a"),
    ("utimensat", "utimensat", {}, None),
    ("link (source)", "link", {}, "w"),
    ("rename", "rename", {}, "w"),
    ("unlink", "unlink", dict(names=(fname("/srv/lab", 5000, mode=0o40755, nametype="PARENT"),
                                      _n("DELETE"))), "w"),
    ("execve", "execve", {}, "x"),
    ("execveat", "execveat", {}, "x"),
    ("execve EACCES", "execve", dict(exit=-13), "x"),
    # E31 (kernel 6.18 classes)
    ("fchmodat2", "fchmodat2", {}, "a"),
    ("setxattrat", "setxattrat", {}, "a"),
    ("getxattrat", "getxattrat", {}, "r"),
    ("listxattrat", "listxattrat", {}, "r"),
    ("removexattrat", "removexattrat", {}, "a"),
    ("file_getattr", "file_getattr", {}, None),
    ("file_setattr", "file_setattr", {}, None),
    ("utimes", "utimes", {}, None),
    ("linkat", "linkat", {}, "w"),
]


@pytest.mark.parametrize("what,sc,kw,expected", E12, ids=[e[0] for e in E12])
def test_E12_E31_four_watches_r_w_x_a(what, sc, kw, expected):
    c = rules(FOUR, resolver=WRES)
    kw = dict(kw)
    kw.setdefault("names", (_n(),))
    assert key_of(c, rec(sc, **kw)) == expected


def test_E12_symlink_to_the_file_is_the_same_as_direct():
    c = rules(FOUR, resolver=WRES)
    via_link = Name("/srv/lab/link", realpath=F, dev=8, ino=FI, mode=0o100644)
    assert key_of(c, rec("openat", a2=O_RDONLY, names=(via_link,))) == "r"
    the_link = Name("/srv/lab/link", realpath="/srv/lab/link", dev=8, ino=6000, mode=0o120777)
    assert key_of(c, rec("readlink", names=(the_link,))) is None


def test_E13_exec_watch_catches_execve_execveat_fexecve_and_scripts():
    c = rules(f"-w {F} -p x -k x13", resolver=WRES)
    ld = fname("/lib64/ld-linux-x86-64.so.2", 77)
    assert key_of(c, rec("execve", names=(_n(), ld))) == "x13"
    assert key_of(c, rec("execveat", names=(_n(), ld))) == "x13"
    # fexecve = execveat(fd, "", AT_EMPTY_PATH): the name is the fd's file
    empty = Name("", realpath=F, dev=8, ino=FI, mode=0o100755)
    assert key_of(c, rec("execveat", a3=0x1000, names=(empty, ld))) == "x13"
    # a script: the script and its interpreter are both names
    script = Name("/srv/lab/s.sh", realpath="/srv/lab/s.sh", dev=8, ino=9999, mode=0o100755)
    c2 = rules(f"-w {F} -p x -k interp", resolver=WRES)
    assert key_of(c2, rec("execve", names=(script, _n()))) == "interp"


# ---- E14: path= and dir= -------------------------------------------------------------------

D = "/srv/lab/d"
TRES = MappingResolver([facts(D, 100, is_dir=True), facts("/srv/lab/wd", 200, is_dir=True),
                        facts("/srv/lab/missing", None, exists=False),
                        facts("/srv/lab", 5000, is_dir=True)])


def test_E14_dir_subtree_any_depth():
    c = rules(f"-a always,exit -F dir={D} -F perm=w -k tree", resolver=TRES)
    deep = Name(f"{D}/a/b/c", realpath=f"{D}/a/b/c", dev=8, ino=301, mode=0o100644,
                ancestry=((8, 2), (8, 5000), (8, 100), (8, 300)))
    assert key_of(c, rec("openat", a2=O_WRONLY, names=(deep,))) == "tree"
    outside = Name("/srv/lab/x", realpath="/srv/lab/x", dev=8, ino=302, mode=0o100644,
                   ancestry=((8, 2), (8, 5000)))
    assert key_of(c, rec("openat", a2=O_WRONLY, names=(outside,))) is None
    # without ancestry: by realpath prefix; a sibling with a common prefix is outside
    sib = Name(f"{D}x/f", realpath=f"{D}x/f", dev=8, ino=303, mode=0o100644)
    assert key_of(c, rec("openat", a2=O_WRONLY, names=(sib,))) is None
    mk = Name(f"{D}/a/new", realpath=f"{D}/a/new", dev=8, ino=304, mode=0o40755, nametype="CREATE")
    assert key_of(c, rec("mkdir", names=(mk,))) == "tree"


def test_E14_path_watch_on_a_directory_catches_direct_entries_only():
    c = rules("-a always,exit -F path=/srv/lab/wd -F perm=w -k pw", resolver=TRES)
    parent = fname("/srv/lab/wd", 200, mode=0o40755, nametype="PARENT")
    child = fname("/srv/lab/wd/new", 201, nametype="CREATE")
    assert key_of(c, rec("openat", a2=O_WRONLY | O_CREAT, names=(parent, child))) == "pw"
    existing = fname("/srv/lab/wd/old", 202)
    assert key_of(c, rec("openat", a2=O_WRONLY, names=(existing,))) is None
    deeper_parent = fname("/srv/lab/wd/sub", 203, mode=0o40755, nametype="PARENT")
    assert key_of(c, rec("mkdir", names=(deeper_parent, fname("/srv/lab/wd/sub/x", 204)))) is None


def test_E14_watch_on_missing_file_catches_its_creation():
    c = rules("-w /srv/lab/missing -p wa -k born", resolver=TRES)
    d = decide(c, rec("openat", a2=O_WRONLY | O_CREAT,
                      names=(fname("/srv/lab", 5000, mode=0o40755, nametype="PARENT"),
                             fname("/srv/lab/missing", 9000, nametype="CREATE"))))
    assert d is not None and d.key == "born" and d.via == "watch"
    assert any("missing at load" in a.text for a in d.assumptions)


# ---- E15: ordering -------------------------------------------------------------------------

GP = "-a {} -F arch=b64 -S getpid -k {}\n"
ORES = MappingResolver([facts(F, FI)])


def _open_f():
    return rec("openat", a2=O_RDONLY, names=(_n(),))


def test_E15_D1_never_then_always_gives_nothing():
    c = rules(GP.format("never,exit", "D1n") + GP.format("always,exit", "D1"))
    d = decide(c, rec("getpid"))
    assert d.action == "never" and not d.logged


def test_E15_D1A_prepended_always_beats_earlier_never():
    c = rules(GP.format("never,exit", "D1n") + GP.format("always,exit", "D1") +
              "-A always,exit -F arch=b64 -S getpid -k D1A\n")
    assert key_of(c, rec("getpid")) == "D1A"


def test_E15_D2_watch_then_never_still_records():
    c = rules(f"-w {F} -p r -k D2w\n-a never,exit -F arch=b64 -S openat\n", resolver=ORES)
    assert key_of(c, _open_f()) == "D2w"


def test_E15_D3_never_then_watch_gives_nothing():
    c = rules(f"-a never,exit -F arch=b64 -S openat\n-w {F} -p r -k D3w\n", resolver=ORES)
    assert key_of(c, _open_f()) is None


def test_E15_D4_two_always_first_key():
    c = rules(GP.format("always,exit", "first") + GP.format("always,exit", "second"))
    assert key_of(c, rec("getpid")) == "first"


def test_E15_D5_exit_rule_versus_watch_earlier_wins():
    a = rules(f"-a always,exit -F arch=b64 -S openat -k exitk\n-w {F} -p r -k watchk\n", resolver=ORES)
    assert key_of(a, _open_f()) == "exitk"
    b = rules(f"-w {F} -p r -k watchk\n-a always,exit -F arch=b64 -S openat -k exitk\n", resolver=ORES)
    assert key_of(b, _open_f()) == "watchk"


def test_E15_D6_prepended_exit_rule_beats_an_earlier_watch():
    c = rules(f"-w {F} -p r -k watchk\n-A always,exit -F arch=b64 -S openat -k D6\n", resolver=ORES)
    assert key_of(c, _open_f()) == "D6"


def test_E15_D7_prepended_never_beats_a_watch():
    c = rules(f"-w {F} -p r -k watchk\n-A never,exit -F arch=b64 -S openat\n", resolver=ORES)
    d = decide(c, _open_f())
    assert d.action == "never" and d.via == "exit"


def test_E15_D8_exclude_syscall_drops_the_event():
    c = rules(GP.format("always,exit", "D8") + "-a always,exclude -F msgtype=SYSCALL\n")
    d = decide(c, rec("getpid"))
    assert d.action == "always" and d.key == "D8" and d.excluded is not None and not d.logged


def test_E15_prepends_in_reverse_order_of_prepending():
    c = rules("-A always,exit -F arch=b64 -S getpid -k p1\n-A always,exit -F arch=b64 -S getpid -k p2\n")
    assert key_of(c, rec("getpid")) == "p2"
    assert [r.key for r in c.exit_rules] == ["p2", "p1"]


# ---- E16: credentials ----------------------------------------------------------------------

E16_SETUPS = {  # column of the cheat sheet -> (auid, uid)
    "auid unset, uid 0": (UNSET, 0), "auid 0": (0, 0), "auid 1000, uid 0": (1000, 0),
    "auid 1000, uid 1000": (1000, 1000), "auid unset, uid 1000": (UNSET, 1000)}
E16_TABLE = [
    ("-F auid!=0", [1, 0, 1, 1, 1]),
    ("-F auid>=1000", [1, 0, 1, 1, 1]),
    ("-F auid>=1000 -F auid!=unset", [0, 0, 1, 1, 0]),
    ("-C auid!=uid", [1, 0, 1, 0, 1]),
    ("-F uid<1000", [1, 1, 1, 0, 0]),
]


@pytest.mark.parametrize("fields,row", E16_TABLE, ids=[t[0] for t in E16_TABLE])
def test_E16_cheat_sheet(fields, row):
    c = rules(f"-a always,exit -F arch=b64 -S getpid {fields} -k e16")
    got = []
    for auid, uid in E16_SETUPS.values():
        r = rec("getpid", auid=auid, uid=uid, euid=uid, suid=uid, fsuid=uid)
        got.append(1 if key_of(c, r) == "e16" else 0)
    assert got == row


def test_E16_gid_matches_supplementary_group_only():
    c = rules("-a always,exit -F arch=b64 -S getpid -F gid=4 -k adm")
    assert key_of(c, rec("getpid", gid=1000, egid=1000, groups=(4, 27))) == "adm"
    assert key_of(c, rec("getpid", gid=1000, egid=1000, groups=(27,))) is None
    ne = rules("-a always,exit -F arch=b64 -S getpid -F gid!=4 -k notadm")
    assert key_of(ne, rec("getpid", gid=1000, groups=(4,))) is None
    assert key_of(ne, rec("getpid", gid=1000, groups=(27,))) == "notadm"


def test_E16_sessionid_unset():
    c = rules("-a always,exit -F arch=b64 -S getpid -F sessionid=unset -k nos")
    assert key_of(c, rec("getpid", sessionid=UNSET)) == "nos"
    assert key_of(c, rec("getpid", sessionid=3)) is None


# ---- E17: exit / success / args ------------------------------------------------------------

E17 = [  # (F#, field, record exit, a2, matches)
    ("F1", "-F exit=-ENOENT", -2, 0, True),
    ("F1", "-F exit=-ENOENT", -13, 0, False),
    ("F2", "-F exit=EACCES", -13, 0, False),
    ("F3", "-F exit<0", -2, 0, False),
    ("F3", "-F exit<0", 3, 0, False),
    ("F4", "-F exit>=-4095", -2, 0, True),
    ("F4", "-F exit>=-4095", 3, 0, False),
    ("F5", "-F success=0", -13, 0, True),
    ("F5", "-F success=0", 3, 0, False),
    ("F6", "-F success=1", 3, 0, True),
    ("F6", "-F success=1", -2, 0, False),
    ("F7", "-F a2&=0x40", 3, O_WRONLY | O_CREAT, True),
    ("F7", "-F a2&=0x40", 3, O_WRONLY, False),
    ("F8", "-F exit=3", 3, 0, True),
    ("F9", "-F exit>0", -2, 0, True),
    ("F9", "-F exit>0", 3, 0, True),
    ("F9", "-F exit>0", 0, 0, False),
]


@pytest.mark.parametrize("F_,field,ret,a2,match", E17, ids=[f"{e[0]}-{e[1]}-{e[2]}" for e in E17])
def test_E17_F1_F9_exit_success_args(F_, field, ret, a2, match):
    c = rules(f"-a always,exit -F arch=b64 -S openat {field} -k e17")
    assert (key_of(c, rec("openat", exit=ret, a2=a2)) == "e17") is match


def test_E17_restart_is_reported_as_eintr():
    c = rules("-a always,exit -F arch=b64 -S read -F exit=-EINTR -k intr")
    assert key_of(c, rec("read", exit=-512)) == "intr"      # -ERESTARTSYS
    assert key_of(c, rec("read", exit=-515)) is None         # -ENOIOCTLCMD is not fixed up


def test_E17_exit_and_success_false_for_exit_group():
    c = rules("-a always,exit -F arch=b64 -S exit_group -F success=0 -k a\n"
              "-a always,exit -F arch=b64 -S exit_group -F exit!=5 -k b\n"
              "-a always,exit -F arch=b64 -S exit_group -k c\n")
    assert key_of(c, rec("exit_group", exit=None)) == "c"


# ---- E20: forced records -------------------------------------------------------------------

def test_E20_forced_record_without_rule_is_logged_without_key():
    c = rules("-a always,exit -F arch=b64 -S getpid -k unrelated")
    d = decide(c, rec("write", forced=True))
    assert d.via == "forced" and d.rule is None and d.key is None and d.logged
    d0 = decide(rules(""), rec("write", forced=True))
    assert d0.via == "forced"


def test_E20_matching_never_suppresses_a_forced_record():
    c = rules("-a never,exit -F arch=b64 -S write")
    d = decide(c, rec("write", forced=True))
    assert d.action == "never" and not d.logged


# ---- E22: exclude --------------------------------------------------------------------------

ERES = MappingResolver([facts("/srv/lab/probe", 4242)])


def test_E22_exclude_by_exe_drops_every_record_of_the_program():
    c = rules("-a always,exit -F arch=b64 -S getpid -k g\n-a always,exclude -F exe=/srv/lab/probe\n",
              resolver=ERES)
    d = decide(c, rec("getpid", exe=PROBE))
    assert d.key == "g" and d.excluded == 1 and not d.logged
    assert decide(c, rec("getpid", exe=TRUE)).logged


@pytest.mark.parametrize("action", ["always", "never"])
def test_E22_exclude_proctitle_keeps_the_syscall_record(action):
    c = rules(f"-a always,exit -F arch=b64 -S getpid -k g\n-a {action},exclude -F msgtype=PROCTITLE\n")
    assert decide(c, rec("getpid")).logged
    c2 = rules(f"-a always,exit -F arch=b64 -S getpid -k g\n-a {action},exclude -F msgtype=SYSCALL\n")
    assert not decide(c2, rec("getpid")).logged


# ---- E23: task never, filesystem never ----------------------------------------------------

def test_E23_task_never_hides_everything_even_watches():
    c = rules(f"-a never,task -F uid=1000\n-a always,exit -F arch=b64 -S getpid -k g\n"
              f"-w {F} -p r -k w\n", resolver=ORES)
    child = TaskView(500, uid=1000, euid=1000, suid=1000, fsuid=1000, gid=1000, egid=1000,
                     sgid=1000, fsgid=1000, groups=(), auid=UNSET, sessionid=UNSET)
    d = decide(c, rec("getpid", uid=1000, task=child))
    assert d.action == "never" and d.via == "task"
    assert decide(c, rec("openat", names=(_n(),), uid=1000, task=child)).action == "never"
    root = TaskView(501, uid=0, euid=0, suid=0, fsuid=0, gid=0, egid=0, sgid=0, fsgid=0,
                    groups=(), auid=UNSET, sessionid=UNSET)
    assert key_of(c, rec("getpid", task=root)) == "g"


def test_E23_task_always_records_every_syscall_with_its_key():
    c = rules("-a always,task -F auid=1234\n-A never,exit -F arch=b64 -S read\n")
    tv = TaskView(7, uid=0, euid=0, suid=0, fsuid=0, gid=0, egid=0, sgid=0, fsgid=0, groups=(),
                  auid=1234, sessionid=3)
    d = decide(c, rec("read", task=tv, auid=1234))
    assert d.via == "task" and d.rule == 0 and d.logged    # prio ~0: even a -A never loses
    other = TaskView(8, uid=0, euid=0, suid=0, fsuid=0, gid=0, egid=0, sgid=0, fsgid=0, groups=(),
                     auid=1000, sessionid=3)
    assert decide(c, rec("read", task=other, auid=1000)).action == "never"


def test_E23_filesystem_never_blinds_watches_on_that_fs():
    tmpfs = 0x01021994
    c = rules(f"-a never,filesystem -F fstype={tmpfs}\n-w /dev/shm/f -p r -k shm\n",
              resolver=MappingResolver([facts("/dev/shm/f", 77, dev=30)]))
    n = Name("/dev/shm/f", realpath="/dev/shm/f", dev=30, ino=77, mode=0o100644, fstype=tmpfs)
    assert key_of(c, rec("openat", names=(n,))) is None
    other = rules("-w /dev/shm/f -p r -k shm\n", resolver=MappingResolver([facts("/dev/shm/f", 77, dev=30)]))
    assert key_of(other, rec("openat", names=(n,))) == "shm"


# ---- E28, E30 ------------------------------------------------------------------------------

def test_E28_perm_without_path():
    c = rules("-a always,exit -F arch=b64 -S openat -F perm=w -k pw")
    assert key_of(c, rec("openat", a2=O_WRONLY)) == "pw"
    assert key_of(c, rec("openat", a2=O_RDONLY)) is None
    x = rules("-a always,exit -F perm=x")      # auditctl wants no key here
    assert key_of(x, rec("execve")) == ""
    assert key_of(x, rec("execveat")) == ""
    assert key_of(x, rec("execve", "i386")) == ""
    assert key_of(x, rec("openat")) is None


def test_E28_inode_rule_and_earlier_exit_rule_wins():
    c = rules(f"-a always,exit -F arch=b64 -S openat -F inode={FI} -k ino")
    assert key_of(c, rec("openat", names=(_n(),))) == "ino"
    assert key_of(c, rec("openat", names=(fname("/x", FI + 1),))) is None
    both = rules(f"-a always,exit -F arch=b64 -S openat -k exitk\n"
                 f"-a always,exit -F arch=b64 -S openat -F inode={FI} -k ino\n")
    assert key_of(both, rec("openat", names=(_n(),))) == "exitk"


def test_E30_args_compare_low_32_bits():
    c = rules("-a always,exit -F arch=b64 -S getpid -F a0=5 -k a0")
    assert key_of(c, rec("getpid", a0=0x100000005)) == "a0"
    assert key_of(c, rec("getpid", a0=5)) == "a0"
    assert key_of(c, rec("getpid", a0=6)) is None


def test_never_b32_catch_all_hides_a_later_watch_only_for_i386_syscalls():
    """-a never,exit -F arch=b32 -S all before a watch: the i386 open of the watched file is
    hidden (the never rule wins the exit pass with a higher priority), the 64-bit openat is not."""
    c = rules(f"-a never,exit -F arch=b32 -S all\n-w {F} -p r -k w\n"
              "-a always,exit -F arch=b32 -S getuid -k g\n", resolver=ORES)
    assert key_of(c, _open_f()) == "w"
    d = decide(c, rec("open", "i386", a1=O_RDONLY, names=(_n(),)))
    assert d is not None and d.action == "never" and d.rule == 0
    assert decide(c, rec("getuid", "i386")).action == "never"
