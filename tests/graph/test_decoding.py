"""Argument forms the graph reads through the shared decoder (tracerule.strace.values)."""
from __future__ import annotations

from tests.graph.test_build import G, parents  # noqa: F401  (fixture: events and real reader)


def test_raw_positional_clone_flags_fold_a_thread(G):
    # -e raw=clone: flags printed as the first positional hex argument (CLONE_THREAD = 0x10000)
    g = G("""
        100  execve("/bin/app", ["app"], 0x7ffd /* 4 vars */) = 0
        100  clone(0x3d0f00, 0x7f0000001000, 0x7f0000002000, 0x7f0000003000, 0x7f0000004000) = 101
        101  getpid() = 100
        101  exit(0) = ?
        101  +++ exited with 0 +++
        100  clone(0x1200011, 0, 0, 0x7f0000005000, 0) = 102
        102  +++ exited with 0 +++
        100  +++ exited with 0 +++
    """)
    assert [p.pid for p in g] == [100, 102]
    assert g[100].threads == (101,)
    assert parents(g) == {100: None, 102: 100}
    assert g[102].clone_flags == 0x1200000       # SIGCHLD (the low byte) is not a flag


def test_verbose_clone_flags_and_sigchld_in_comments(G):
    g = G("""
        100  clone(child_stack=NULL, flags=0x1200011 /* CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD */, child_tidptr=0x7f) = 101
        101  +++ exited with 3 +++
        100  --- SIGCHLD {si_signo=17 /* SIGCHLD */, si_code=0x1 /* CLD_EXITED */, si_pid=101, si_uid=0, si_status=3, si_utime=0, si_stime=0} ---
        100  +++ exited with 0 +++
    """)
    assert parents(g) == {100: None, 101: 100}
    assert g[101].clone_flags == 0x1200000


def test_sigchld_claims_a_child_whose_creation_is_not_shown(G):
    # -Z / a filtered trace: the clone is missing, the SIGCHLD names the child (plain form, and a
    # pidns-translated one)
    g = G("""
        100  execve("/bin/sh", ["sh"], 0x7ffd /* 4 vars */) = 0
        101  execve("/bin/true", ["true"], 0x7ffd /* 4 vars */) = 0
        101  +++ exited with 0 +++
        100  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
        102  execve("/bin/false", ["false"], 0x7ffd /* 4 vars */) = 0
        102  +++ exited with 1 +++
        100  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_uid=0, si_status=1, si_utime=0, si_stime=0} ---
        100  +++ exited with 0 +++
    """)
    assert parents(g) == {100: None, 101: 100, 102: 100}
    assert g[101].via == g[102].via == "sigchld"


def test_setgroups_null_and_elided_list(G):
    g = G("""
        100  setgroups(0, NULL) = 0
        100  execve("/bin/a", ["a"], 0x7f /* 4 vars */) = 0
        100  setgroups(40, [1, 2, 3, ...]) = 0
        100  execve("/bin/b", ["b"], 0x7f /* 4 vars */) = 0
        100  setgroups(2, [4, 27]) = 0
        100  execve("/bin/c", ["c"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """, uid=0, gid=0)
    a, b, c = (e.creds for e in g[100].ok_execs)
    assert (a.groups, a.groups_source) == ((), "observed")
    # an elided list is not the whole list: the groups are unknown, not (1, 2, 3)
    assert (b.groups, b.groups_source) == (None, "unknown")
    assert (c.groups, c.groups_source) == ((4, 27), "observed")


def test_loginuid_fd_followed_through_fcntl_dupfd(G):
    g = G(r"""
        100  openat(AT_FDCWD, "/proc/self/loginuid", O_WRONLY) = 3
        100  fcntl(3, F_DUPFD, 10) = 10
        100  close(3) = 0
        100  fcntl(10, F_GETFD) = 0
        100  write(10, "1234\n", 5) = 5
        100  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """)
    assert g[100].ok_execs[0].creds.auid.value == 1234


def test_loginuid_of_another_task_and_lookalike_paths(G):
    g = G(r"""
        100  write(3</proc/100/task/100/loginuid>, "77", 2) = 2
        100  execve("/bin/a", ["a"], 0x7f /* 4 vars */) = 0
        100  write(4</tmp/proc/self/loginuid>, "88", 2) = 2
        100  write(5</proc/self/loginuid.bak>, "99", 2) = 2
        100  execve("/bin/b", ["b"], 0x7f /* 4 vars */) = 0
        100  +++ exited with 0 +++
    """)
    a, b = (e.creds.auid.value for e in g[100].ok_execs)
    assert (a, b) == (77, 77)


def test_exec_argv_forms(G):
    g = G(r"""
        100  execve("/bin/a", ["a", 0x5555deadbeef], 0x7f /* 4 vars */) = 0
        100  execve("/bin/b\x20c", ["b c", "x"...], 0x7f /* 4 vars */) = 0
        100  execve("/bin/d", ["d", ...], 0x7f /* 4 vars */) = 0
        100  execve("/bin/e", ["e", "-v"], ["A=1"]) = 0
        100  +++ exited with 0 +++
    """)
    a, b, d, e = g[100].execs
    assert (a.argv, a.argv_truncated) == (("a",), True)      # an unreadable element is missing
    assert (b.path, b.argv, b.argv_truncated) == ("/bin/b c", ("b c", "x"), True)
    assert (d.argv, d.argv_truncated) == (("d",), True)
    assert (e.argv, e.argv_truncated) == (("e", "-v"), False)


def test_gzip_trace_probe_and_graph_same_as_plain(tmp_path):
    import gzip

    from tests.conftest import STRACE_DATA

    from tracerule.graph.build import build_graph, fds_decorated

    src = STRACE_DATA / "sudo_docker_alice_tt_T_yy.txt"
    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    assert fds_decorated(str(src)) and fds_decorated(str(gz))
    plain = build_graph(str(src), sidecar=None).to_dict()
    packed = build_graph(str(gz), sidecar=None).to_dict()
    assert packed["processes"] and packed["processes"] == plain["processes"]
    assert [w["message"] for w in packed["warnings"]] == [w["message"] for w in plain["warnings"]]
    bad = tmp_path / "cut.txt.gz"
    bad.write_bytes(gz.read_bytes()[:40])
    assert fds_decorated(str(bad)) is False       # a cut gzip file is not decorated, no exception
