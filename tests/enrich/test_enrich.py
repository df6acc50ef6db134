"""Enrichment: trace lines -> the records the kernel's audit code sees at syscall exit."""
from __future__ import annotations

import os

import pytest

from tests.conftest import SAMPLES, STRACE_DATA
from tracerule.audit.enrich import Enricher, enrich, rule_syscall_names
from tracerule.audit.record import NO_SOCKADDR, UNSET
from tracerule.audit.rules import parse_text
from tracerule.audit.simulate import compile_rules, literal_resolver
from tracerule.audit.tables import AUDIT_ARCH, table
from tracerule.sidecar import ExecFile, Recorder, Sidecar, write_sidecar

X86, I386 = AUDIT_ARCH["x86_64"], AUDIT_ARCH["i386"]


def trace(tmp_path, text: str, name: str = "t.txt", sidecar: Sidecar | None = None):
    """Write an strace -f -tt style trace (lines 'PID rest'); optional sidecar beside it."""
    lines = []
    for i, ln in enumerate(t for t in text.strip("\n").splitlines()):
        pid, rest = ln.strip().split(" ", 1)
        lines.append(f"{pid}  10:00:{i // 1000:02d}.{i % 1000:06d} {rest}")
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    if sidecar is not None:
        write_sidecar(sidecar, str(p) + ".tracerule.json")
    return p


def records(path, **kw):
    e = Enricher(path, **kw)
    out = list(e)
    return out, e


def by_line(recs):
    return {r.line: r for r in recs}


ROOT_SC = Sidecar(recorder=Recorder(uid=0, euid=0, gid=0, egid=0, groups=(0,), auid=UNSET,
                                    sessionid=UNSET), cwd="/home/u", arch="x86_64")


def test_arch_number_exit_success_and_restart_fixup(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 openat(AT_FDCWD</home/u>, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3</etc/passwd>
100 openat(AT_FDCWD</home/u>, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
100 read(3</etc/passwd>, 0x7ffd1, 4096) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
100 syscall_0x1f4(0x1, 0x2, 0x3, 0, 0x7ff9, 0x7ffe) = -1 ENOSYS (Function not implemented)
100 ???() = ? <unavailable>
100 exit_group(0) = ?
100 +++ exited with 0 +++
""", sidecar=ROOT_SC)
    recs, e = records(p)
    r = by_line(recs)
    assert all(x.arch == X86 for x in recs)
    assert r[2].nr == table("x86_64").nr("openat") == 257
    assert (r[2].exit, r[2].success) == (3, True)
    assert (r[3].exit, r[3].success) == (-2, False)
    assert (r[4].exit, r[4].success) == (-4, False)          # -ERESTARTSYS audited as -EINTR
    assert r[5].nr == 0x1F4 and r[5].exit == -38
    assert 6 not in r and e.stats.unnamed == 1               # ??? skipped and counted
    assert r[7].nr == 231 and r[7].exit is None and r[7].success is None


def test_i386_from_personality_lines_and_exec_in_callers_arch():
    recs = list(enrich(STRACE_DATA / "m32_personality.txt", sidecar=None))
    r = by_line(recs)
    # execve of the 32-bit program, called by the 64-bit shell: audited as x86_64 #59
    assert (r[55].arch, r[55].nr) == (X86, 59)
    # ... and its exe is already the 32-bit program (the new image is installed at execve exit)
    assert r[55].exe.path.endswith("bin/hello32") and r[55].comm == "hello32"
    # the 32-bit program's own syscalls
    assert (r[173].arch, r[173].nr) == (I386, table("i386").nr("setresuid32"))
    assert r[173].uid == 65534 and r[173].euid == 65534
    # its execve of /bin/true runs in 32-bit mode: i386 #11, exe after exit is the new program
    assert (r[91].arch, r[91].nr) == (I386, 11)
    assert r[91].exe.path == "/bin/true"
    # after that exec the process is 64-bit again
    later = [x for x in recs if x.pid == 8049 and x.line > 92]
    assert later and all(x.arch == X86 for x in later)


def test_creds_at_exit_after_setuid_and_auid_from_loginuid_write(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 getpid() = 100
100 openat(AT_FDCWD</>, "/proc/self/loginuid", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</proc/100/loginuid>
100 write(3</proc/100/loginuid>, "1000", 4) = 4
100 setuid(1000) = 0
100 getpid() = 100
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert (r[2].uid, r[2].euid, r[2].auid) == (0, 0, UNSET)
    assert r[4].forced is True                                # the LOGIN record forces a SYSCALL record
    assert (r[5].uid, r[5].euid, r[5].suid, r[5].auid) == (1000, 1000, 1000, 1000)
    assert r[6].uid == 1000


def test_creds_unknown_without_sidecar_stay_none(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 getpid() = 100
""")
    r = by_line(records(p, sidecar=None)[0])
    assert r[2].uid is None and r[2].auid is None


def test_exe_after_execve_failed_execve_keeps_old_image_and_comm(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0
100 execve("/usr/local/bin/tool", ["tool"], 0x7ffd0 /* 3 vars */) = -1 ENOENT (No such file or directory)
100 execve("/usr/bin/a-very-long-program-name", ["x"], 0x7ffd0 /* 3 vars */) = 0
100 getpid() = 100
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert r[1].exe.path == "/bin/sh" and r[1].comm == "sh"
    assert r[2].exe.path == "/bin/sh" and not r[2].success      # failed: still the old image
    assert r[3].exe.path == "/usr/bin/a-very-long-program-name"
    assert r[4].comm == "a-very-long-pro"                       # 15 bytes, like the kernel
    assert r[3].exe is r[4].exe                                 # one FileRef per image


def test_exe_from_sidecar_realpath_and_inode(tmp_path):
    sc = Sidecar(recorder=ROOT_SC.recorder, cwd="/", files=(
        ExecFile("/usr/bin/sh", "/usr/bin/dash", True, 65024, 260180, 0, 0, 0o100755, None, 64, 62,
                 "/lib64/ld-linux-x86-64.so.2"),
        ExecFile("/srv/run.sh", "/srv/run.sh", True, 65024, 77, 0, 0, 0o100755, None, None, None,
                 "/usr/bin/sh", True)))
    p = trace(tmp_path, """
100 execve("/usr/bin/sh", ["sh"], 0x7ffd0 /* 3 vars */) = 0
100 execve("/srv/run.sh", ["run.sh"], 0x7ffd0 /* 3 vars */) = 0
""", sidecar=sc)
    r = by_line(records(p)[0])
    assert (r[1].exe.realpath, r[1].exe.dev, r[1].exe.ino) == ("/usr/bin/dash", 65024, 260180)
    # PATH items: the program and its ELF interpreter
    assert [n.path for n in r[1].names] == ["/usr/bin/sh", "/lib64/ld-linux-x86-64.so.2"]
    assert r[1].names[0].ino == 260180
    # a #! script: the script, its interpreter, and the interpreter's loader
    assert [n.path for n in r[2].names] == ["/srv/run.sh", "/usr/bin/sh",
                                            "/lib64/ld-linux-x86-64.so.2"]


def test_names_absolute_from_cwd_chdir_and_dirfd_decorations(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 open("rel.txt", O_RDONLY) = 3</home/u/rel.txt>
100 chdir("sub") = 0
100 stat("x", {st_mode=S_IFDIR|0755, st_size=4096, ...}) = 0
100 openat(4</etc>, "passwd", O_RDONLY) = 5</etc/passwd>
100 openat(AT_FDCWD</var/tmp>, "y", O_RDONLY) = -1 ENOENT (No such file or directory)
100 open("z", O_RDONLY) = -1 ENOENT (No such file or directory)
100 unlink("/tmp/gone") = 0
100 rename("a", "/tmp/b") = 0
100 fchmod(3</home/u/rel.txt>, 0600) = 0
100 read(3</home/u/rel.txt>, "x", 1) = 1
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert r[2].names[0].path == "/home/u/rel.txt" and r[2].names[0].realpath == "/home/u/rel.txt"
    n = r[4].names[0]
    assert n.path == "/home/u/sub/x" and n.mode == 0o040755          # object type from stat
    assert r[5].names[0].path == "/etc/passwd"
    assert r[6].names[0].path == "/var/tmp/y" and r[6].names[0].exists is False
    # AT_FDCWD</var/tmp> told the cwd: a later relative path resolves against it
    assert r[7].names[0].path == "/var/tmp/z"
    assert [(x.path, x.nametype) for x in r[8].names] == [("/tmp", "PARENT"), ("/tmp/gone", "DELETE")]
    assert [(x.path, x.nametype) for x in r[9].names] == [
        ("/var/tmp", "PARENT"), ("/tmp", "PARENT"), ("/var/tmp/a", "DELETE"), ("/tmp/b", "CREATE")]
    assert [x.path for x in r[10].names] == ["/home/u/rel.txt"]       # fchmod: the fd's file
    assert r[11].names == ()                                          # fd I/O: no names


def test_open_creat_parent_and_create(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 openat(AT_FDCWD</w>, "new", O_WRONLY|O_CREAT|O_EXCL, 0644) = 3</w/new>
100 openat(AT_FDCWD</w>, "old", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4</w/old>
100 mkdir("/w/d", 0755) = 0
100 creat("/w/c", 0600) = 5</w/c>
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert [(x.path, x.nametype) for x in r[2].names] == [("/w", "PARENT"), ("/w/new", "CREATE")]
    assert r[2].names[0].mode & 0o170000 == 0o040000                # a PARENT is a directory
    assert [x.nametype for x in r[3].names] == ["PARENT", "NORMAL"]  # O_CREAT on an existing file?
    assert r[3].a2 == 0o1101                                          # O_WRONLY|O_CREAT|O_TRUNC
    assert [(x.path, x.nametype) for x in r[4].names] == [("/w", "PARENT"), ("/w/d", "CREATE")]
    assert r[4].names[1].mode == 0o040000
    assert [x.nametype for x in r[5].names] == ["PARENT", "CREATE"]


def test_arguments_decoded_and_unknown_values_none(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 openat(AT_FDCWD</w>, "f", O_RDONLY|O_CLOEXEC) = 3</w/f>
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f84) = 101
101 kill(100, SIGTERM) = 0
100 socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 4<TCPv6:[1]>
100 ptrace(PTRACE_ATTACH, 101) = 0
100 personality(PER_LINUX32) = 0
100 openat(AT_FDCWD</w>, "g", O_RDONLY|O_MYSTERY) = 5</w/g>
100 prctl(PR_SET_NAME, "renamed") = 0
100 getpid() = 100
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    o = r[2]
    assert (o.a0 & 0xFFFFFFFF, o.a1, o.a2) == (0xFFFFFF9C, None, 0o2000000)   # AT_FDCWD, pointer, flags
    assert r[3].a0 == 0x01000000 | 0x00200000 | 17 and r[3].exit == 101
    assert (r[4].a0, r[4].a1, r[4].pid, r[4].ppid) == (100, 15, 101, 100)
    assert (r[5].a0, r[5].a1, r[5].a2) == (10, 1 | 0o2000000, 6)
    assert (r[6].a0, r[6].a1) == (16, 101)
    assert r[7].a0 == 8 and r[9].pers == 8
    assert r[8].a2 is None                                     # an unknown flag name: not guessed
    assert r[10].comm == "renamed"


def test_saddr_fam(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 connect(3<socket:[1]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("1.2.3.4")}, 16) = 0
100 bind(4<socket:[2]>, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0
100 sendto(3<socket:[1]>, "x", 1, 0, NULL, 0) = 1
100 accept4(5<socket:[3]>, NULL, NULL, SOCK_CLOEXEC) = 6<socket:[4]>
100 read(3<socket:[1]>, "x", 1) = 1
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert r[2].saddr_fam == 2 and r[3].saddr_fam == 1
    # AF_UNIX bind of a file-system address: the kernel looks the socket file up (PATH items),
    # not modelled: unknown, never "no names"
    assert r[3].names is None
    assert r[2].names == () and r[4].names == ()
    assert r[4].saddr_fam == NO_SOCKADDR and r[5].saddr_fam == NO_SOCKADDR
    assert r[6].saddr_fam == NO_SOCKADDR


def test_socketcall_on_i386(tmp_path):
    p = trace(tmp_path, """
100 execve("./prog32", ["prog32"], 0x7ffd0 /* 3 vars */) = 0
100 [ Process PID=100 runs in 32 bit mode. ]
100 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
100 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, 16) = 0
100 getuid32() = 0
""", sidecar=ROOT_SC)
    recs, e = records(p)
    r = by_line(recs)
    assert (r[3].arch, r[3].nr, r[3].a0) == (I386, 102, 1)      # socketcall(SYS_SOCKET, ...)
    assert (r[4].nr, r[4].a0, r[4].saddr_fam) == (102, 3, 2)    # socketcall(SYS_CONNECT, ...)
    assert r[3].a1 is None
    assert (r[5].arch, r[5].nr) == (I386, table("i386").nr("getuid32"))
    assert r[1].exe.path == "/home/u/prog32"                     # relative exec resolved with cwd


def test_names_filter_and_rule_syscall_names(tmp_path):
    c = compile_rules(parse_text("-a always,exit -F arch=b64 -S execve,openat -k k\n").items,
                      file_identity=literal_resolver)
    names = rule_syscall_names(c)
    assert {"execve", "openat"} <= names and "read" not in names
    c2 = compile_rules(parse_text("-a always,exit -S open -k k\n").items,
                       file_identity=literal_resolver)
    assert "fork" in rule_syscall_names(c2)      # no arch: number 2 is i386 fork too
    c3 = compile_rules(parse_text("-w /etc/passwd -p wa -k p\n").items, file_identity=literal_resolver)
    assert rule_syscall_names(c3) is None
    recs = list(enrich(SAMPLES / "sudo_docker_alice_tt_T_yy.txt", names=names))
    assert recs and {table("x86_64").name(r.nr) for r in recs} == {"execve", "openat"}
    full = [r for r in enrich(SAMPLES / "sudo_docker_alice_tt_T_yy.txt")
            if r.nr in (59, 257)]
    assert [(r.line, r.nr, r.exit) for r in full] == [(r.line, r.nr, r.exit) for r in recs]


def test_given_graph_equals_built_graph():
    from tracerule.graph import build_graph

    src = SAMPLES / "sudo_docker_alice_tt_T_yy.txt"
    g = build_graph(src)
    a = [(r.line, r.nr, r.uid, r.euid, r.auid, r.exe.path if r.exe else None)
         for r in enrich(src, g, names={"execve", "setresuid", "openat"})]
    b = [(r.line, r.nr, r.uid, r.euid, r.auid, r.exe.path if r.exe else None)
         for r in enrich(src, names={"execve", "setresuid", "openat"})]
    assert a == b and len(a) > 50


def test_buffer_limit_falls_back_to_a_second_read(tmp_path, monkeypatch):
    import tracerule.audit.enrich as E

    monkeypatch.setattr(E, "BUFFER_LIMIT", 5)
    src = SAMPLES / "sudo_docker_alice_tt_T_yy.txt"
    e = Enricher(src, names={"openat"})
    n = sum(1 for _ in e)
    assert e.stats.passes == 2 and n == sum(1 for _ in enrich(src, names={"openat"})) - 0


def test_not_a_trace_is_a_clean_input_error(tmp_path):
    from tracerule.errors import InputError

    p = tmp_path / "x.txt"
    p.write_text("hello\nworld\n")
    with pytest.raises(InputError):
        list(enrich(p))


import pytest as _pytest


@_pytest.mark.parametrize("family,want", [
    ("AF_INET", 2), ("AF_UNIX", 1), ("AF_INET6", 10),
    ("0x2 /* AF_INET */", 2),          # -X verbose (tracerule record's default)
    ("0xa /* AF_INET6 */", 10), ("2", 2), ("0x1", 1),
])
def test_saddr_family_in_every_constant_style(family, want):
    from tracerule.audit._enrich_args import saddr_family

    args = f"3, {{sa_family={family}, sin_port=htons(9), sin_addr=inet_addr(\"127.0.0.1\")}}, 16"
    assert saddr_family("connect", args, True) == want


def test_names_unknown_vs_known_none(tmp_path):
    """names=None (unknown) where the kernel may collect names enrichment cannot work out; ()
    only for syscalls known to collect none."""
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 syscall_0x1c4(0xffffff9c, 0x7ffd1234, 0x1a0, 0) = 0
100 read(3</etc/passwd>, "x", 1) = 1
100 write(1</dev/null>, "x", 1) = 1
100 close(3</etc/passwd>) = 0
100 mq_open("q", O_RDONLY, 0600, NULL) = 3
100 connect(4<socket:[2]>, {sa_family=AF_UNIX, sun_path=@"abstract"}, 12) = 0
100 fgetxattr(5</etc/hosts>, "user.x", NULL, 0) = -1 ENODATA (No data available)
100 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert r[2].nr == 452 and r[2].names is None            # fchmodat2, undecoded by strace 6.1
    assert r[3].names == () and r[4].names == () and r[5].names == () and r[9].names == ()
    assert r[6].names is None                                # mq_open: getname, not decoded
    assert r[7].names == ()                                  # abstract AF_UNIX: no file lookup
    assert [n.path for n in r[8].names] == ["/etc/hosts"]    # fgetxattr: audit_file


def test_i386_socket_vs_socketcall_by_strace_n(tmp_path):
    """strace prints i386 socketcall(SYS_SOCKET) and the direct socket (#359) alike; with -n the
    number tells them apart; without it socketcall is assumed, counted and noted."""
    p = trace(tmp_path, """
100 [  11] execve("./prog32", ["prog32"], 0x7ffd0 /* 3 vars */) = 0
100 [ Process PID=100 runs in 32 bit mode. ]
100 [ 102] socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
100 [ 359] socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 4
100 [ 362] connect(4, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, 16) = 0
""", sidecar=ROOT_SC)
    recs, e = records(p)
    r = by_line(recs)
    assert (r[3].arch, r[3].nr, r[3].a0) == (I386, 102, 1)      # socketcall(SYS_SOCKET, ...)
    assert (r[4].arch, r[4].nr, r[4].a0) == (I386, 359, 2)      # socket(AF_INET, ...)
    assert (r[5].nr, r[5].saddr_fam) == (362, 2)
    assert e.stats.socketcall_assumed == 0 and not e.stats.notes
    q = trace(tmp_path, """
100 execve("./prog32", ["prog32"], 0x7ffd0 /* 3 vars */) = 0
100 [ Process PID=100 runs in 32 bit mode. ]
100 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
""", name="q.txt", sidecar=ROOT_SC)
    recs, e = records(q)
    assert (recs[-1].nr, recs[-1].a0) == (102, 1)
    assert e.stats.socketcall_assumed == 1
    assert any("socketcall assumed" in n for n in e.stats.notes)


def test_exe_of_a_shebang_script_is_its_interpreter_from_the_sidecar(tmp_path):
    """binfmt_script: the kernel's exe after exec'ing a #! script is the interpreter's real file
    (/bin/sh -> dash); the PATH items are the script, the interpreter and its ELF loader."""
    from tracerule.sidecar import ExecFile
    files = (ExecFile("/opt/s.sh", realpath="/opt/s.sh", exists=True, dev=8, ino=1, shebang=True,
                      interpreter="/bin/sh"),
             ExecFile("/bin/sh", realpath="/usr/bin/dash", exists=True, dev=8, ino=2, elf_class=64,
                      interpreter="/lib64/ld-linux-x86-64.so.2"))
    sc = Sidecar(recorder=ROOT_SC.recorder, cwd="/", arch="x86_64", files=files)
    p = trace(tmp_path, """
100 execve("/opt/s.sh", ["/opt/s.sh"], 0x7ffd0 /* 3 vars */) = 0
100 getuid() = 0
""", sidecar=sc)
    r = by_line(records(p, host_resolve=False)[0])
    assert (r[1].exe.path, r[1].exe.realpath, r[1].exe.ino) == ("/usr/bin/dash", "/usr/bin/dash", 2)
    assert r[2].exe is r[1].exe and r[1].comm == "s.sh"          # comm: the script's name
    assert [n.path for n in r[1].names] == ["/opt/s.sh", "/bin/sh", "/lib64/ld-linux-x86-64.so.2"]


def test_exe_of_a_shebang_script_on_this_host_and_nested(tmp_path):
    inner = tmp_path / "inner.sh"
    inner.write_text("#!/bin/sh\nexit 0\n")
    outer = tmp_path / "outer"
    outer.write_text(f"#!{inner}\n")
    for f in (inner, outer):
        f.chmod(0o755)
    p = trace(tmp_path, f"""
100 execve("{outer}", ["outer"], 0x7ffd0 /* 3 vars */) = 0
100 getuid() = 0
""")
    dash = os.path.realpath("/bin/sh")
    r = by_line(records(p, sidecar=None, host_resolve=True)[0])
    assert r[1].exe.realpath == dash and r[1].exe.ino == os.stat(dash).st_ino
    assert [n.path for n in r[1].names][:3] == [str(outer), str(inner), "/bin/sh"]
    # a trace from elsewhere, no sidecar: the script is not read; the exe has no identity (the
    # simulator compares it by path and reports the assumption)
    r2 = by_line(records(p, sidecar=None, host_resolve=False)[0])
    assert r2[1].exe.path == str(outer) and r2[1].exe.dev_ino is None and r2[1].exe.realpath is None


def test_personality_returns_the_previous_persona_switching_back_counts(tmp_path):
    p = trace(tmp_path, """
200 execve("/bin/true", ["true"], 0x7ffc /* 1 var */) = 0
200 personality(PER_LINUX32) = 0 (PER_LINUX)
200 getpid() = 200
200 personality(PER_LINUX) = 0x8 (PER_LINUX32)
200 getpid() = 200
200 personality(0xffffffff) = 0 (PER_LINUX)
200 getpid() = 200
200 personality(PER_LINUX32) = -1 EINVAL (Invalid argument)
200 getpid() = 200
200 exit_group(0) = ?
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert (r[3].pers, r[5].pers, r[7].pers, r[9].pers) == (8, 0, 0, 0)


@pytest.mark.parametrize("ret,errno,want", [(-1, "EPERM", -1), (-1, "ENOENT", -2), (-1, "EFOO", None),
                                            (-1, "531", -531), (-1, "errno 531", -531), (3, None, 3)])
def test_exit_value_unknown_errno_is_unknown_not_eperm(ret, errno, want):
    from tracerule.audit._enrich_args import exit_value

    assert exit_value(ret, errno) == want


def test_unknown_errno_record_failed_with_exit_unknown(tmp_path):
    p = trace(tmp_path, """
100 execve("/bin/prog", ["prog"], 0x7ffd0 /* 3 vars */) = 0
100 openat(AT_FDCWD, "x", O_RDONLY) = -1 EFOO (Whatever)
100 openat(AT_FDCWD, "x", O_RDONLY) = -1 (errno 531)
""", sidecar=ROOT_SC)
    r = by_line(records(p)[0])
    assert (r[2].exit, r[2].success) == (None, False)
    assert (r[3].exit, r[3].success) == (-531, False)


def test_record_needs_registers_per_syscall_and_partial_decode(tmp_path):
    from tracerule.audit.enrich import ArgRegisters, record_needs

    x = table("x86_64")
    c = compile_rules(parse_text("-a always,exit -F arch=b64 -S openat -F a2&0x3 -k w\n"
                                 "-a always,exit -F arch=b64 -S kill -F a1=9 -F a0=1 -k k\n"
                                 "-a always,exit -F arch=b64 -S execve -k e\n").items,
                      file_identity=literal_resolver)
    need = record_needs(c)
    assert "args" not in need
    (regs,) = [n for n in need if isinstance(n, ArgRegisters)]
    assert regs.by_nr() == {x.nr("openat"): (2,), x.nr("kill"): (0, 1)}
    # perm= or a register field on every syscall: everything decoded
    c2 = compile_rules(parse_text("-a always,exit -F arch=b64 -S openat -F perm=w -k w\n").items,
                       file_identity=literal_resolver)
    assert "args" in record_needs(c2)
    p = trace(tmp_path, """
100 openat(AT_FDCWD</w>, "f", O_RDONLY|O_CLOEXEC) = 3</w/f>
100 kill(100, SIGTERM) = 0
100 socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 4<TCPv6:[1]>
100 openat(AT_FDCWD</w>, "f", O_RDONLY|O_CLOEXEC) = 3</w/f>
""", sidecar=ROOT_SC)
    full = by_line(records(p)[0])
    part = by_line(records(p, need=need)[0])
    assert (part[1].a0, part[1].a1, part[1].a2, part[1].a3) == (None, None, full[1].a2, None)
    assert (part[4].a0, part[4].a1, part[4].a2, part[4].a3) == (None, None, full[4].a2, None)
    assert (part[2].a0, part[2].a1, part[2].a2) == (full[2].a0, full[2].a1, None)
    assert (part[3].a0, part[3].a1, part[3].a2) == (None, None, None)    # no rule reads socket's
    with_args = by_line(records(p, need=set(need) | {"args"})[0])
    assert [(r.a0, r.a1, r.a2, r.a3) for r in with_args.values()] == \
        [(r.a0, r.a1, r.a2, r.a3) for r in full.values()]


def test_memoised_registers_equal_the_plain_decode():
    from tracerule.audit import _enrich_args as E

    texts = ['AT_FDCWD</w>, "f", O_RDONLY|O_CLOEXEC', '3</x>, 0x10, 5', "", "100, SIGTERM",
             "child_stack=NULL, flags=CLONE_VM|SIGCHLD, child_tidptr=0x7f84"]
    for base in ("openat", "clone", "kill", "fork"):
        for t in texts:
            for _ in range(2):
                assert E.registers(base, t, "x86_64") == E._registers(base, t, "x86_64")
                assert E.registers_some(base, t, "i386", (1, 2)) == \
                    tuple(v if i in (1, 2) else None
                          for i, v in enumerate(E._registers(base, t, "i386")))


@_pytest.mark.parametrize("names", [{"openat", "execve", "setresuid"}, {"write", "read"}, None])
def test_graph_built_in_the_read_equals_build_graph(names):
    # the read feeds the builder what build_graph() reads (fewer syscalls for a -yy trace)
    from tracerule.graph import build_graph
    from tracerule.graph.render import render_json

    src = SAMPLES / "sudo_docker_alice_tt_T_yy.txt"
    e = Enricher(src, names=names)
    assert sum(1 for _ in e) > 0
    assert render_json(e.graph) == render_json(build_graph(src))


def test_from_events_equals_reading_the_trace_again():
    """suggest's replay hands enrich the events its own read kept; the records must be those of
    a second read with the same names."""
    from tests.conftest import SAMPLES
    from tracerule.audit.enrich import Enricher, enrich
    from tracerule.graph import build_graph
    from tracerule.strace.events import Syscall
    from tracerule.strace.reader import TraceReader

    trace = str(SAMPLES / "sudo_docker_alice_tt_T_yy.txt")
    g = build_graph(trace)
    names = {"execve", "execveat", "connect", "setresuid"}
    again = list(enrich(trace, g, names=names))
    kept = [e for e in TraceReader(trace) if type(e) is Syscall]
    reused = list(Enricher(trace, g, names=names).from_events(kept))
    assert len(again) > 5
    assert [vars_of(r) for r in reused] == [vars_of(r) for r in again]


def vars_of(rec):
    return tuple(getattr(rec, s) for s in type(rec).__slots__ if s not in ("names", "exe", "task"))


def test_record_make_sets_every_slot_as_the_constructor_does():
    """Record._make (the enrichment's positional fast path) stores what Record(...) stores, for
    every slot; a slot added to Record but not to _make fails here."""
    from tracerule.audit.record import FileRef, Record, TaskView

    kw = dict(exit=-2, success=False, a0=1, a1=2, a2=3, a3=4, pid=5, ppid=6, uid=7, euid=8,
              suid=9, fsuid=10, gid=11, egid=12, sgid=13, fsgid=14, groups=(15,), auid=16,
              sessionid=17, pers=8, comm="c", exe=FileRef("/bin/x"), names=(), saddr_fam=2,
              oflags=0o101, task=TaskView(5), forced=True, source="t.txt", line=19, tid=20)
    ref = Record(X86, 257, **kw)
    made = Record._make(*(getattr(ref, s) for s in Record.__slots__))
    for s in Record.__slots__:
        assert getattr(made, s) is getattr(ref, s), s
    assert [getattr(made, s) for s in Record.__slots__] != [getattr(Record(X86, 2), s)
                                                           for s in Record.__slots__]


def test_reused_pid_records_take_the_incarnation_of_their_line(tmp_path):
    """A pid reused by a second process, with another task's lines in between: each record gets
    the process (and so the program) that pid belonged to at that line."""
    p = trace(tmp_path, """
100 execve("/bin/sh", ["sh"], 0x7ffd /* 1 var */) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f1) = 200
200 execve("/usr/bin/a", ["a"], 0x7ffd /* 1 var */) = 0
200 openat(AT_FDCWD, "/etc/a", O_RDONLY) = 3
100 openat(AT_FDCWD, "/etc/sh1", O_RDONLY) = 3
200 exit_group(0) = ?
200 +++ exited with 0 +++
100 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 200
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f1) = 200
200 execve("/usr/bin/b", ["b"], 0x7ffd /* 1 var */) = 0
100 openat(AT_FDCWD, "/etc/sh2", O_RDONLY) = 3
200 openat(AT_FDCWD, "/etc/b", O_RDONLY) = 3
100 openat(AT_FDCWD, "/etc/sh3", O_RDONLY) = 3
""")
    recs, e = records(p, names={"openat"}, need={"names"})
    got = [(r.pid, r.names[0].path, r.exe.path, r.comm) for r in recs]
    assert got == [(200, "/etc/a", "/usr/bin/a", "a"), (100, "/etc/sh1", "/bin/sh", "sh"),
                   (100, "/etc/sh2", "/bin/sh", "sh"), (200, "/etc/b", "/usr/bin/b", "b"),
                   (100, "/etc/sh3", "/bin/sh", "sh")]
    assert len([q for q in e.graph.processes if q.pid == 200]) == 2
