"""Credential rules: set*id semantics, sources, setuid execs, loginuid writes."""
from __future__ import annotations

import pytest

from tests.graph import mini
from tests.graph.test_build import G  # noqa: F401  (fixture: events and real reader)
from tracerule.graph.creds import SESSION_SET
from tracerule.sidecar import ExecFile, Recorder, Sidecar

SEED_LIKE = r"""
    100  execve("/usr/bin/sh", ["sh", "-c", "echo 1001 > /proc/self/loginuid"], 0x7f /* 4 vars */) = 0
    100  getuid()          = 0
    100  openat(AT_FDCWD, "/proc/self/loginuid", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3
    100  dup2(3, 1)        = 1
    100  close(3)          = 0
    100  write(1, "1001\n", 5) = 5
    100  execve("/usr/bin/setpriv", ["setpriv", "--reuid=1001", "--", "sudo", "id"], 0x55 /* 5 vars */) = 0
    100  setresuid(1001, 1001, 1001) = 0
    100  setresgid(1001, 1001, 1001) = 0
    100  setgroups(1, [1001]) = 0
    100  execve("/usr/local/bin/sudo", ["sudo", "id"], 0x7f /* 5 vars */) = -1 ENOENT (No such file or directory)
    100  execve("/usr/bin/sudo", ["sudo", "id"], 0x7f /* 5 vars */) = 0
    100  setresuid(0, -1, -1) = 0
    100  setgid(0)         = 0
    100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
    101  setresuid(0, 0, 0) = 0
    101  execve("/usr/bin/id", ["id"], 0x56 /* 12 vars */) = 0
    101  +++ exited with 0 +++
    100  +++ exited with 0 +++
"""


def _ok(p):
    return {e.program: e for e in p.ok_execs}


def test_setuid_exec_inferred_from_later_setresuid0(G):
    g = G(SEED_LIKE)
    ex = _ok(g[100])
    sudo = ex["sudo"].creds
    assert (sudo.uid.value, sudo.euid.value, sudo.suid.value) == (1001, 0, 0)
    assert sudo.euid.source == "inferred" and sudo.setid_exec == "inferred"
    assert ex["sudo"].to_dict()["cred_source"] == "inferred"
    assert (sudo.gid.value, sudo.egid.value) == (1001, 1001)
    assert sudo.auid.value == 1001 and sudo.auid.source == "observed"
    # before the exec: setpriv ran as root with auid already written
    sp = ex["setpriv"].creds
    assert (sp.uid.value, sp.euid.value, sp.auid.value) == (0, None, 1001) or \
        (sp.uid.value, sp.auid.value) == (0, 1001)
    idc = _ok(g[101])["id"].creds
    assert (idc.uid.value, idc.euid.value, idc.gid.value, idc.egid.value, idc.auid.value) == (0, 0, 0, 0, 1001)
    assert g[101].ppid == 100


def test_setuid_exec_from_observed_geteuid(G):
    g = G("""
        100  setresuid(1001, 1001, 1001) = 0
        100  execve("/usr/bin/sudo", ["sudo"], 0x7f /* 5 vars */) = 0
        100  geteuid()         = 0
        100  getuid()          = 1001
        100  +++ exited with 0 +++
    """, uid=0)
    c = g[100].ok_execs[0].creds
    assert (c.uid.value, c.euid.value) == (1001, 0)
    assert c.setid_exec == "inferred" and c.cred_source == "inferred"


def test_setuid_exec_from_sidecar(G):
    sc = Sidecar(recorder=Recorder(uid=0, gid=0, auid=4294967295),
                 files=(ExecFile("/usr/bin/sudo", uid=0, gid=0, mode=0o104755, elf_class=64),
                        ExecFile("/usr/bin/sh", uid=0, gid=0, mode=0o100755, elf_class=64)))
    g = G("""
        100  execve("/usr/bin/sh", ["sh"], 0x7f /* 4 vars */) = 0
        100  setresuid(1001, 1001, 1001) = 0
        100  execve("/usr/bin/sudo", ["sudo"], 0x7f /* 5 vars */) = 0
        100  +++ exited with 0 +++
    """, sidecar=sc)
    sh, sudo = g[100].ok_execs
    assert (sh.creds.uid.value, sh.creds.uid.source) == (0, "sidecar")
    assert sh.creds.auid.value == 4294967295
    assert (sudo.creds.uid.value, sudo.creds.euid.value) == (1001, 0)
    assert sudo.creds.setid_exec == "sidecar" and sudo.creds.cred_source == "sidecar"
    assert sudo.arch_source == "sidecar" or g[100].arch[-1].source == "sidecar"


def test_nonroot_recorder_setuid_not_honoured(G):
    sc = Sidecar(recorder=Recorder(uid=1000, gid=1000),
                 files=(ExecFile("/usr/bin/sudo", uid=0, gid=0, mode=0o104755),))
    g = G("""
        100  execve("/usr/bin/sudo", ["sudo"], 0x7f /* 5 vars */) = 0
        100  +++ exited with 1 +++
    """, sidecar=sc)
    c = g[100].ok_execs[0].creds
    assert (c.uid.value, c.euid.value) == (1000, 1000)
    assert any(w.code == "TRACE_NONROOT" for w in g.warnings)


@pytest.mark.parametrize("call,expect", [
    ("setuid(99) = 0", (99, 99, 99)),                       # privileged: all three
    ("setuid32(99) = 0", (99, 99, 99)),
    ("setresuid(-1, 5, -1) = 0", (0, 5, 0)),                # -1 = unchanged
    ("setresuid32(7, 8, 9) = 0", (7, 8, 9)),
    ("setuid(99) = -1 EPERM (Operation not permitted)", (0, 0, 0)),  # failed: nothing
    ("setreuid(-1, 5) = 0", (0, 5, 5)),                     # euid != old ruid: saved := new euid
    ("setreuid(3, -1) = 0", (3, 0, 0)),                     # ruid set: saved := euid
    ("setreuid(-1, 0) = 0", (0, 0, 0)),
])
def test_setuid_family_semantics_as_root(G, call, expect):
    g = G(f"""
        100  {call}
        100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """, uid=0, gid=0)
    c = g[100].ok_execs[0].creds
    # exec sets saved := euid (no setuid bit: sidecar unknown -> euid unchanged)
    assert (c.uid.value, c.euid.value) == expect[:2]
    assert c.suid.value == c.euid.value
    cc = g[100].creds_at(1)
    assert (cc.uid.value, cc.euid.value, cc.suid.value) == expect


def test_unprivileged_setuid_changes_only_euid(G):
    g = G("""
        100  getresuid([1000], [1000], [2000]) = 0
        100  setuid(2000) = 0
        100  getpid() = 100
        100  +++ exited with 0 +++
    """)
    c = g[100].creds_at(3)
    assert (c.uid.value, c.euid.value, c.suid.value) == (1000, 2000, 2000)


def test_gid_family_and_groups(G):
    g = G("""
        100  setgroups32(0, NULL) = 0
        100  setresgid32(65534, 65534, 65534) = 0
        100  setresuid32(65534, 65534, 65534) = 0
        100  execve("/bin/true", ["true"], 0xffe97ea0 /* 5 vars */) = 0
        100  +++ exited with 0 +++
    """, uid=0, gid=0)
    c = g[100].ok_execs[0].creds
    assert (c.uid.value, c.euid.value, c.gid.value, c.egid.value) == (65534,) * 4
    assert c.groups == () and c.groups_source == "observed"


def test_unknown_stays_unknown():
    g = mini.graph("""
        100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """)
    e = g[100].ok_execs[0]
    d = e.to_dict()
    assert d["uid"] is None and d["euid"] is None and d["auid"] is None and d["cred_source"] == "unknown"


def test_user_given_start(G):
    g = G("""
        100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """, uid=1000, auid=1000)
    c = g[100].ok_execs[0].creds
    assert (c.uid.value, c.uid.source, c.auid.value, c.auid.source) == (1000, "user-given", 1000, "user-given")
    assert c.cred_source == "user-given"


def test_loginuid_write_via_yy_decoration_and_fork_inherits(G):
    g = G(r"""
        100  openat(AT_FDCWD</tmp>, "/proc/self/loginuid", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</proc/100/loginuid>
        100  write(3</proc/100/loginuid>, "4242", 4) = 4
        100  clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7f) = 101
        101  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        101  +++ exited with 0 +++
        100  +++ exited with 0 +++
    """)
    c = g[101].ok_execs[0].creds
    # the kernel hands out a new session id: known to be set, its number unknown
    assert c.auid.value == 4242
    assert (c.sessionid.value, c.sessionid.source) == (SESSION_SET, "inferred")


def test_loginuid_write_of_unset_unsets_the_sessionid(G):
    g = G(r"""
        100  openat(AT_FDCWD, "/proc/self/loginuid", O_WRONLY) = 3
        100  write(3, "4294967295", 10) = 10
        100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """)
    c = g[100].ok_execs[0].creds
    assert (c.auid.value, c.sessionid.value) == (4294967295, 4294967295)


def test_sessionid_at_start_comes_from_the_sidecar(tmp_path):
    from tracerule.graph.build import GraphBuilder
    from tracerule.sidecar import Recorder, Sidecar
    from tracerule.strace.reader import TraceReader

    t = tmp_path / "t.strace"
    t.write_text('100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0\n100  +++ exited with 0 +++\n')
    b = GraphBuilder(sidecar=Sidecar(recorder=Recorder(uid=0, gid=0, auid=1000, sessionid=7)))
    r = TraceReader(str(t))
    for ev in r:
        b.feed(ev)
    c = b.finish(r.report)[100].ok_execs[0].creds
    assert (c.auid.value, c.sessionid.value, c.sessionid.source) == (1000, 7, "sidecar")


def test_write_to_other_fd_is_not_loginuid(G):
    g = G(r"""
        100  openat(AT_FDCWD, "/proc/self/loginuid", O_RDONLY) = 3
        100  close(3) = 0
        100  socket(AF_UNIX, SOCK_STREAM, 0) = 3
        100  write(3, "1001\n", 5) = 5
        100  write(1, "1001\n", 5) = 5
        100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """)
    assert g[100].ok_execs[0].creds.auid.value is None


def test_observation_conflict_warns():
    g = mini.graph("""
        100  getuid() = 1000
        100  +++ exited with 0 +++
    """, uid=0)
    assert any(w.code == "GRAPH_CRED_CONFLICT" for w in g.warnings)
    assert g[100].creds[-1].creds.uid.value == 1000


def test_child_seen_before_return_inherits_parent_creds(G):
    g = G("""
        100  setresuid(5, 5, 5) = 0
        100  vfork( <unfinished ...>
        101  execve("/bin/true", ["true"], 0x7f /* 4 vars */ <unfinished ...>
        100  <... vfork resumed>) = 101
        101  <... execve resumed>) = 0
        101  +++ exited with 0 +++
        100  +++ exited with 0 +++
    """)
    c = g[101].ok_execs[0].creds
    assert (c.uid.value, c.euid.value) == (5, 5)


def test_state_copy_and_aliases_keep_every_field():
    from tracerule.graph.creds import ALIAS, ALL_FIELDS, Cell, CredState

    st = CredState({f: Cell(i) for i, f in enumerate(ALL_FIELDS)})
    cp = st.copy()
    assert cp.snapshot() == st.snapshot() and [c.value for c in cp.snapshot()] == list(range(len(ALL_FIELDS)))
    al = CredState.aliases()
    cells = al.alias_cells()
    assert list(cells) == list(ALL_FIELDS)
    assert all(cells[f] is getattr(al, f) and cells[f].kind == ALIAS for f in ALL_FIELDS)
    assert len({id(c) for c in cells.values()}) == len(ALL_FIELDS)
