"""Process-graph rules on small inline traces (each through hand-made events and the real reader)."""
from __future__ import annotations

import importlib.util

import pytest

from tests.graph import mini

HAVE_READER = importlib.util.find_spec("tracerule.strace.reader") is not None


@pytest.fixture(params=["events", "reader"])
def G(request, tmp_path):
    if request.param == "reader" and not HAVE_READER:
        pytest.skip("reader not available")

    def make(text, **kw):
        if request.param == "events":
            return mini.graph(text, **kw)
        return mini.graph_via_reader(text, tmp_path, **kw)

    return make


def parents(g):
    return {p.pid: p.ppid for p in g}


# ---- parents -----------------------------------------------------------------------------------

def test_vfork_child_lines_before_parent_return(G):
    g = G("""
        100  execve("/bin/sh", ["sh"], 0x7ffd /* 4 vars */) = 0
        100  vfork( <unfinished ...>
        101  execve("/bin/true", ["true"], 0x7ffd /* 4 vars */ <unfinished ...>
        100  <... vfork resumed>)              = 101
        101  <... execve resumed>)             = 0
        101  +++ exited with 0 +++
        100  +++ exited with 0 +++
    """)
    assert parents(g) == {100: None, 101: 100}
    assert g[101].via == "vfork"
    assert [e.path for e in g[101].execs] == ["/bin/true"]
    assert g[101].exit.code == 0


def test_clone_child_after_return_and_failed_clone_creates_nothing(G):
    g = G("""
        100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = ? ERESTARTNOINTR (To be restarted)
        100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
        102  execve("/bin/id", ["id"], 0x7ffd /* 4 vars */) = 0
        102  +++ exited with 0 +++
        100  +++ exited with 0 +++
    """)
    assert parents(g) == {100: None, 102: 100}


def test_thread_by_name_and_raw_hex_fold_into_process(G):
    g = G("""
        200  clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|0x400000, parent_tid=[201], tls=0x7f, child_tidptr=0x1) = 201
        201  getpid() = 200
        200  clone(child_stack=0x7f, flags=0x3d0f00, parent_tid=[202], tls=0x7f, child_tidptr=0x1) = 202
        202  gettid() = 202
        201  +++ exited with 0 +++
        202  +++ exited with 0 +++
        200  +++ exited with 0 +++
    """)
    assert [p.pid for p in g] == [200]
    assert g[200].threads == (201, 202)


def test_thread_appearing_before_clone3_return(G):
    g = G("""
        300  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff80, tls=0x7f} <unfinished ...>
        301  rseq(0x7f, 0x20, 0, 0x53053053) = 0
        300  <... clone3 resumed> => {parent_tid=[301]}, 88) = 301
        301  +++ exited with 0 +++
        300  +++ exited with 0 +++
    """)
    assert [p.pid for p in g] == [300]
    assert g[300].threads == (301,)


def test_fork_from_non_leader_thread_parent_is_thread_group(G):
    g = G("""
        400  clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0, stack=0x7f, stack_size=0x7fff80}, 88) = 401
        401  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 402
        402  execve("/bin/true", ["true"], 0x7ffd /* 4 vars */) = 0
        402  +++ exited with 0 +++
        401  +++ exited with 0 +++
        400  +++ exited with 0 +++
    """)
    assert parents(g) == {400: None, 402: 400}
    assert g[402].creator_id == "p400"


def test_clone_parent_parent_is_callers_parent(G):
    g = G("""
        500  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 501
        501  clone(child_stack=0x55, flags=CLONE_PARENT|SIGCHLD) = 502
        500  clone(child_stack=0x55, flags=CLONE_PARENT|SIGCHLD) = 503
        502  +++ exited with 0 +++
        503  +++ exited with 0 +++
        501  +++ exited with 0 +++
        500  +++ exited with 0 +++
    """)
    assert parents(g) == {500: None, 501: 500, 502: 500, 503: None}
    assert g[502].creator_id == "p501"
    assert g[503].creator_id == "p500" and g[503].parent_id is None


def test_pid_reuse_gives_new_node(G):
    g = G("""
        600  clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7f) = 601
        601  execve("/bin/a", ["a"], 0x7ffd /* 4 vars */) = 0
        601  +++ exited with 0 +++
        600  clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7f) = 601
        601  execve("/bin/b", ["b"], 0x7ffd /* 4 vars */) = 0
        601  +++ exited with 1 +++
        600  +++ exited with 0 +++
    """)
    ids = [p.id for p in g]
    assert ids == ["p600", "p601", "p601.2"]
    assert [e.path for e in g["p601"].execs] == ["/bin/a"]
    assert [e.path for e in g["p601.2"].execs] == ["/bin/b"]
    assert g["p601.2"].parent_id == "p600" and g["p601.2"].exit.code == 1


def test_sigchld_only_child_in_Z_trace(G):
    # -Z: creation and exec successes are not printed; the child only shows up, then SIGCHLD names it
    g = G("""
        700  openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
        701  execve("/usr/local/bin/x", ["x"], 0x7ffd /* 4 vars */) = -1 ENOENT (No such file or directory)
        701  +++ exited with 0 +++
        700  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=701, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
        700  +++ exited with 0 +++
    """)
    assert parents(g) == {700: None, 701: 700}
    assert g[701].via == "sigchld"


def test_attach_roots_without_creation(G):
    g = G("""
        800  read(0, "x", 1) = 1
        900  write(1, "y", 1) = 1
        800  +++ exited with 0 +++
        900  +++ exited with 0 +++
    """)
    assert parents(g) == {800: None, 900: None}


def test_pidns_without_translation_maps_to_next_new_tid(G):
    g = G("""
        1000 unshare(CLONE_NEWNS|CLONE_NEWPID) = 0
        1000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 1001
        1001 getpid() = 1
        1001 vfork( <unfinished ...>
        1002 execve("/usr/bin/id", ["id", "-u"], 0x55 /* 5 vars */ <unfinished ...>
        1001 <... vfork resumed>)              = 2
        1002 <... execve resumed>)             = 0
        1002 +++ exited with 0 +++
        1001 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
        1001 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 3
        1003 vfork( <unfinished ...>
        1004 execve("/usr/bin/sleep", ["sleep", "0.01"], 0x55 /* 5 vars */ <unfinished ...>
        1003 <... vfork resumed>)              = 4
        1004 <... execve resumed>)             = 0
        1004 +++ exited with 0 +++
        1003 +++ exited with 0 +++
        1001 +++ exited with 0 +++
        1000 +++ exited with 0 +++
    """)
    assert parents(g) == {1000: None, 1001: 1000, 1002: 1001, 1003: 1001, 1004: 1003}
    assert g[1001].ns_pid == 1 and g[1002].ns_pid == 2 and g[1004].ns_pid == 4
    assert not [w for w in g.warnings if w.code == "GRAPH_PARENT_MISMATCH"]


def test_pidns_with_translation(G):
    g = G("""
        1100 clone(child_stack=NULL, flags=CLONE_NEWPID|SIGCHLD, child_tidptr=0x7f) = 1101
        1101 clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7f) = 2 /* 1102 in strace's PID NS */
        1102 execve("/bin/true", ["true"], 0x55 /* 5 vars */) = 0
        1102 +++ exited with 0 +++
        1101 +++ exited with 0 +++
        1100 +++ exited with 0 +++
    """)
    assert parents(g) == {1100: None, 1101: 1100, 1102: 1101}
    assert g[1102].ns_pid == 2


def test_thread_exec_belongs_to_process_and_retires_tid(G):
    g = G("""
        1200 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0, stack=0x7f, stack_size=0x7fff80}, 88) = 1201
        1201 execve("/bin/echo", ["echo", "exec-from-thread"], 0x7ffe /* 35 vars */ <unfinished ...>
        1200 futex(0x7f, FUTEX_WAIT, 2, NULL <unfinished ...>
        1200 <... futex resumed>)              = ?
        1200 +++ superseded by execve in pid 1201 +++
        1200 <... execve resumed>)             = 0
        1200 write(1, "exec-from-thread\\n", 17) = 17
        1200 +++ exited with 0 +++
    """)
    assert [p.pid for p in g] == [1200]
    execs = g[1200].execs
    assert [(e.path, e.ok) for e in execs] == [("/bin/echo", True)]
    assert g[1200].exit.code == 0


def test_exec_failed_and_ok_in_order_with_errno(G):
    g = G("""
        1300 execve("/usr/local/bin/id", ["id", "-u"], 0x7f /* 4 vars */) = -1 ENOENT (No such file or directory)
        1300 execve("./noexec.txt", ["./noexec.txt"], 0x7f /* 4 vars */) = -1 EACCES (Permission denied)
        1300 execve("/usr/bin/id", ["id", "-u"], 0x7f /* 4 vars */) = 0
        1300 exit_group(0)                     = ?
        1300 +++ exited with 0 +++
    """)
    ex = g[1300].execs
    assert [(e.path, e.ok, e.errno) for e in ex] == [
        ("/usr/local/bin/id", False, "ENOENT"), ("./noexec.txt", False, "EACCES"), ("/usr/bin/id", True, None)]
    assert ex[2].argv == ("id", "-u")


def test_killed_by_signal_with_core(G):
    g = G("""
        1400 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---
        1400 +++ killed by SIGSEGV (core dumped) +++
    """)
    ex = g[1400].exit
    assert ex.signal == "SIGSEGV" and ex.core and ex.text == "killed by SIGSEGV (core dumped)"


def test_hex_strings_exec_path_decoded(G):
    g = G(r"""
        1500 execve("\x2f\x62\x69\x6e\x2f\x74\x72\x75\x65", ["\x74\x72\x75\x65"], 0x7f /* 4 vars */) = 0
        1500 +++ exited with 0 +++
    """)
    assert g[1500].execs[0].path == "/bin/true" and g[1500].execs[0].argv == ("true",)


# ---- arch --------------------------------------------------------------------------------------

def test_arch_from_personality_lines(G):
    g = G("""
        1600 execve("./hello32", ["./hello32"], 0x55 /* 5 vars */) = 0
        1600 [ Process PID=1600 runs in 32 bit mode. ]
        1600 brk(NULL) = 0x57
        1600 execve("/bin/true", ["true"], 0xff983d7c /* 5 vars */) = 0
        1600 [ Process PID=1600 runs in 64 bit mode. ]
        1600 +++ exited with 0 +++
    """)
    p = g[1600]
    assert [(a.arch, a.source) for a in p.arch][-2:] == [("b32", "personality"), ("b64", "personality")]
    # the exec of /bin/true was made by the 32-bit image: audit sees it as b32
    assert p.execs[1].arch == "b32"
    assert p.arch_at(3).arch == "b32"


def test_arch_inferred_from_i386_names(G):
    g = G("""
        1700 execve("./hello32", ["./hello32"], 0x55 /* 5 vars */) = 0
        1700 brk(NULL) = 0x57
        1700 mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xf7f
        1700 geteuid32() = 0
        1700 +++ exited with 0 +++
    """)
    spans = g[1700].arch
    assert spans[-1].arch == "b32" and spans[-1].source == "syscall-name"
    assert spans[-1].start_line == 1   # the whole image, from its exec


def test_arch_default_b64():
    g = mini.graph("""
        1800 execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        1800 +++ exited with 0 +++
    """)
    assert g[1800].arch[-1].arch == "b64" and g[1800].arch[-1].source == "default"


# ---- build_graph's housekeeping (cyclic GC off during the read, the builder released) -----------

_FORKS = """\
100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
101  exit_group(0) = ?
101  +++ exited with 0 +++
100  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=0, si_utime=0, si_stime=3 /* 0.03 s */} ---
100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
102  +++ exited with 1 +++
100  +++ exited with 0 +++
"""


@pytest.mark.parametrize("enabled", [True, False])
def test_build_graph_restores_gc_and_leaves_no_cycles(tmp_path, enabled):
    import gc

    from tracerule.graph.build import build_graph

    t = tmp_path / "t.strace"
    t.write_text(_FORKS)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        gc.collect()
        g = build_graph(str(t))
        assert gc.isenabled() is enabled
        assert [(p.pid, p.ppid) for p in g] == [(100, None), (101, 100), (102, 100)]
        assert g[101].execs[0].path == "/bin/true"
        # the builder's processes (which point at each other) were unlinked: nothing is left
        # for the cyclic collector
        assert gc.collect() == 0
        from tracerule.graph import build as B

        def boom(self, ev):
            raise RuntimeError("feed failed")

        mp = pytest.MonkeyPatch()
        mp.setattr(B.GraphBuilder, "feed", boom)
        try:
            with pytest.raises(RuntimeError):
                build_graph(str(t))
        finally:
            mp.undo()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("si_pid, stime", [
    ("101", "3 /* 0.03 s */"),                          # a comment after si_pid: plain pid
    ("2 /* 101 in strace's PID NS */", "0"),            # --pidns-translation: the translated pid
    ("2 /* 101 in strace's PID NS */", "3 /* 0.03 s */"),
])
def test_sigchld_claims_child_with_comments(G, si_pid, stime):
    g = G(f"""
        100  execve("/bin/sh", ["sh"], 0x7f /* 4 vars */) = 0
        101  execve("/bin/true", ["true"], 0x7f /* 4 vars */) = 0
        101  +++ exited with 0 +++
        100  --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={si_pid}, si_uid=0, si_status=0, si_utime=0, si_stime={stime}}} ---
        100  +++ exited with 0 +++
    """)
    assert parents(g) == {100: None, 101: 100}
    assert g[101].via == "sigchld"
