"""Unit tests for tracerule.strace.values: real argument texts from tests/data/strace/."""
from __future__ import annotations

import re

import pytest

from tests.conftest import STRACE_DATA
from tracerule.strace import constants as C
from tracerule.strace.events import Syscall
from tracerule.strace.values import (
    FdValue, StrArray, StrValue, clone_info, decode_str_array, decode_string, exec_info,
    fd_value, kill_info, open_info, parse_flags, parse_int, parse_int_array, parse_ret,
    parse_struct, pidns_translation, ptrace_info, quote_like_strace, setid_info, siginfo,
    socket_info, split_args, split_changed, strip_comments, to_text, write_info,
    capset_info, exit_info, namespace_info, personality_info, prctl_info, wait_info,
)

_LINE_RE = re.compile(
    r"^(?:\d+(?:<[^>]*>)?\s+)?(?:\d[\d:.]*\s+)?(\w+)\((.*)\)\s+= (.*?)(?: <\d+\.\d+>)?$")


def _real(file: str, line: str) -> tuple[str, str, str]:
    """The line must be in the corpus file verbatim; returns (name, args, ret_text)."""
    text = (STRACE_DATA / file).read_text(errors="surrogateescape")
    assert line in text.splitlines(), f"not a real line of {file}: {line}"
    m = _LINE_RE.match(line)
    assert m, line
    return m.group(1), m.group(2), m.group(3)


# ----------------------------------------------------------------------------------------------
# split_args
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("", []),
    ("3", ["3"]),
    ('3, "x", 1', ["3", '"x"', "1"]),
    ('1, "f() = 3\\n", 8', ["1", '"f() = 3\\n"', "8"]),
    ('1, "a, b\\", c", 8', ["1", '"a, b\\", c"', "8"]),
    ('["sh", "-c", "echo 1001 > /proc/self/loginuid "...], 0x7ffcd2a26430 /* 4 vars */',
     ['["sh", "-c", "echo 1001 > /proc/self/loginuid "...]', "0x7ffcd2a26430 /* 4 vars */"]),
    ("11</dev/pts/0<char 136:0>>, 1</proc/8027/loginuid>",
     ["11</dev/pts/0<char 136:0>>", "1</proc/8027/loginuid>"]),
    ("3</tmp/app.log> (deleted), \"bye\\n\", 4", ["3</tmp/app.log> (deleted)", '"bye\\n"', "4"]),
    ("3<TCP:[1.2.3.4:5->6.7.8.9:10]>, \"a\", 1", ["3<TCP:[1.2.3.4:5->6.7.8.9:10]>", '"a"', "1"]),
    ("3</a\\76b\\74, c>, 1", ["3</a\\76b\\74, c>", "1"]),
    ("{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f175aa2b000, stack_size=0x9000}"
     " => {parent_tid=[8889]}, 88",
     ["{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f175aa2b000, stack_size=0x9000}"
      " => {parent_tid=[8889]}", "88"]),
    ("0x2 /* SIG_SETMASK */, [], ~[9 /* KILL */ 19 /* STOP */ 32 /* RTMIN */ 33 /* RT_1 */], 8",
     ["0x2 /* SIG_SETMASK */", "[]", "~[9 /* KILL */ 19 /* STOP */ 32 /* RTMIN */ 33 /* RT_1 */]", "8"]),
    ("-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL",
     ["-1", "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]", "0", "NULL"]),
    ("{version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|1<<CAP_KILL, "
     "permitted=1<<CAP_CHOWN, inheritable=0}",
     ["{version=_LINUX_CAPABILITY_VERSION_3, pid=0}",
      "{effective=1<<CAP_CHOWN|1<<CAP_KILL, permitted=1<<CAP_CHOWN, inheritable=0}"]),
    ("<... resuming interrupted clock_nanosleep ...>", ["<... resuming interrupted clock_nanosleep ...>"]),
    ("3, /* 190 entries */, 32768", ["3", "/* 190 entries */", "32768"]),
    ('AT_FDCWD</tmp/gen>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC',
     ["AT_FDCWD</tmp/gen>", '"/etc/ld.so.cache"', "O_RDONLY|O_CLOEXEC"]),
    ("8152<sh>, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL",
     ["8152<sh>", "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]", "0", "NULL"]),
    ('["a", ...], 0x1', ['["a", ...]', "0x1"]),
    ("{msg_namelen=12 => 16}, 0", ["{msg_namelen=12 => 16}", "0"]),
])
def test_split_args(text, expected):
    assert split_args(text) == expected


@pytest.mark.parametrize("text", ["(", "[[[", '"abc', "3<abc", "{a=[1, 2}", ")))", "a, ", ", ",
                                  '"\\', "/* x", "<", "x<<y, z"])
def test_split_args_garbage_does_not_raise(text):
    out = split_args(text)
    assert isinstance(out, list)
    assert "".join(out).replace(" ", "") in text.replace(" ", "").replace(",", "") or out


def test_split_changed():
    assert split_changed("{a=1} => {b=[2]}") == ("{a=1}", "{b=[2]}")
    assert split_changed('"x => y"') == ('"x => y"', None)
    assert split_changed("[16 => 16]") == ("[16 => 16]", None)  # nested: not top level


def test_strip_comments():
    assert strip_comments("-100 /* AT_FDCWD */") == "-100"
    assert strip_comments('"/* not */" /* yes */') == '"/* not */"'
    assert strip_comments("0x8 /* MAP_??? */|MAP_ANONYMOUS") == "0x8|MAP_ANONYMOUS"


# ----------------------------------------------------------------------------------------------
# strings
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token,data,truncated", [
    ('"/usr/bin/ls"', b"/usr/bin/ls", False),
    ('"1001\\n"', b"1001\n", False),
    ('"\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20t\\2\\0\\0\\0\\0\\0"...',
     b"\x7fELF\x02\x01\x01\x03" + b"\0" * 8 + b"\x03\x00>\x00\x01\x00\x00\x00\x10t\x02\x00\x00\x00\x00\x00",
     True),
    ('"\\x2f\\x75\\x73\\x72\\x2f\\x62\\x69\\x6e\\x2f\\x70\\x72\\x69\\x6e\\x74\\x66"', b"/usr/bin/printf", False),
    ('"\\x63\\x61\\x66\\xc3\\xa9\\x0a\\x01\\x74\\x61\\x62\\x09\\x68\\x65\\x72\\x65\\x20\\x22\\x71\\x22'
     '\\x20\\x5c\\x20\\x62\\x61"...', b'caf\xc3\xa9\n\x01tab\there "q" \\ ba', True),
    ('"\\xa6\\x51\\xf9\\xfc\\x65\\xd0\\xf2\\x90"', b"\xa6\x51\xf9\xfc\x65\xd0\xf2\x90", False),
    ('"a\\"b\\\\c"', b'a"b\\c', False),
    ('"\\t\\n\\v\\f\\r"', b"\t\n\v\f\r", False),
    ('"\\0011"', b"\x011", False),       # 3-digit octal because a digit follows
    ('"\\1a"', b"\x01a", False),
    ('"\\377\\376"', b"\xff\xfe", False),
    ('""', b"", False),
    ('"" /* comment */', b"", False),
    ('"abc', b"abc", True),              # cut line: unterminated
    ('"ab\\"', b'ab"', True),             # escaped quote is not a closing quote
])
def test_decode_string(token, data, truncated):
    assert decode_string(token) == StrValue(data, truncated)


@pytest.mark.parametrize("token", ["NULL", "0x7ffd1c2e3a40", "3", "", "[\"a\"]", "AT_FDCWD"])
def test_decode_string_not_a_string(token):
    assert decode_string(token) is None


def test_decode_string_non_utf8_survives_and_to_text_is_lossless():
    sv = decode_string('"\\377caf\\303\\251"')
    assert sv.data == b"\xffcaf\xc3\xa9"
    assert to_text(sv.data).encode("utf-8", "surrogateescape") == sv.data
    assert "café" in sv.text


def test_real_xx_exec_argv_element_with_backslashes():
    # xx_hex_strings.txt: printf's format argument contains literal backslash sequences
    name, args, ret = _real(
        "xx_hex_strings.txt",
        'execve("\\x2f\\x75\\x73\\x72\\x2f\\x62\\x69\\x6e\\x2f\\x70\\x72\\x69\\x6e\\x74\\x66", '
        '["\\x70\\x72\\x69\\x6e\\x74\\x66", "\\x63\\x61\\x66\\x5c\\x33\\x30\\x33\\x5c\\x32\\x35\\x31'
        '\\x5c\\x6e\\x5c\\x30\\x30\\x31\\x74\\x61\\x62\\x5c\\x74\\x68\\x65"...], 0x7ffcb893ef00 /* 4 vars */) = 0')
    info = exec_info(name, args, ret)
    assert info.path == b"/usr/bin/printf"
    assert info.argv == (b"printf", b"caf\\303\\251\\n\\001tab\\the")
    assert info.argv_truncated and info.env_count == 4 and info.ok


@pytest.mark.parametrize("data,style,expected", [
    (b"\x7fELF\x02\x01", "default", '"\\177ELF\\2\\1"'),
    (b"\x011", "default", '"\\0011"'),
    (b"\x01a", "default", '"\\1a"'),
    (b"\x08\x49", "default", '"\\10I"'),
    (b'a"b\\', "default", '"a\\"b\\\\"'),
    (b"1001\n", "x", '"1001\\n"'),                       # -x: whitespace does not force hex
    (b"caf\xc3\xa9", "x", '"\\x63\\x61\\x66\\xc3\\xa9"'),
    (b"/bin", "xx", '"\\x2f\\x62\\x69\\x6e"'),
    (b"\x01\xff a", "non-ascii-chars", '"\\x01\\xff a"'),
    (b"a<b>", "default", '"a<b>"'),
])
def test_quote_like_strace(data, style, expected):
    assert quote_like_strace(data, style) == expected


def test_quote_like_strace_escape_chars_and_max_len():
    assert quote_like_strace(b"a<b>", escape_chars=b"<>") == '"a\\74b\\76"'
    assert quote_like_strace(b"abcdef", max_len=3) == '"abc"...'
    assert decode_string(quote_like_strace(b"abcdef", max_len=3)) == StrValue(b"abc", True)


# ----------------------------------------------------------------------------------------------
# integers, pid namespaces, returns
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token,value", [
    ("0", 0), ("8094", 8094), ("-1", -1), ("0x7f8290782000", 0x7F8290782000), ("022", 0o22),
    ("000", 0), ("0666", 0o666), ("8192*1024", 8388608), ("-100 /* AT_FDCWD */", -100),
    ("0x4 /* R_OK */", 4), ("8388608 /* 8192*1024 */", 8388608), ("3</proc/7270/loginuid>", 3),
    ("8152<sh>", 8152), ("1</dev/pts/0<char 136:0>>", 1), ("2 /* 8222 in strace's PID NS */", 2),
    ("18446744073709551615 /* RLIM64_INFINITY */", 2**64 - 1), ("[16 => 16]", None),
    ("16 => 20", 20), ("NULL", None), ("", None), (None, None), ("SIGCHLD", None),
    ("0x", None), ("12abc", None), ("08", None), ("3</tmp/app.log> (deleted)", 3),
])
def test_parse_int(token, value):
    assert parse_int(token) == value


@pytest.mark.parametrize("text,value", [
    ("2 /* 8222 in strace's PID NS */", 8222),
    ("3 /* 8223 in strace's PID NS */", 8223),
    ("2", None), ("", None), (None, None), ("/* 35 vars */", None),
])
def test_pidns_translation(text, value):
    assert pidns_translation(text) == value


def test_parse_int_array():
    assert parse_int_array("[0]") == [0]
    assert parse_int_array("[1001, 27]") == [1001, 27]
    assert parse_int_array("[]") == []
    assert parse_int_array("NULL") is None
    assert parse_int_array("[16 => 16]") == [16]


@pytest.mark.parametrize("ret_text,value,pid,errno,notes", [
    ("0", 0, 0, None, ()),
    ("8094", 8094, 8094, None, ()),
    ("-1 ENOENT (No such file or directory)", -1, -1, "ENOENT", ()),
    ("-1 ENOENT (No such file or directory) (INJECTED)", -1, -1, "ENOENT", ("INJECTED",)),
    ("10111 (DELAYED)", 10111, 10111, None, ("DELAYED",)),
    ("? ERESTARTNOINTR (To be restarted)", None, None, "ERESTARTNOINTR", ()),
    ("?", None, None, None, ()),
    ("2 /* 8222 in strace's PID NS */", 2, 8222, None, ()),
    ("0x8000 (flags O_RDONLY|O_LARGEFILE)", 0x8000, 0x8000, None, ("flags O_RDONLY|O_LARGEFILE",)),
    ("-1 (errno 531)", -1, -1, "errno 531", ()),
    ("022", 0o22, 0o22, None, ()),
])
def test_parse_ret(ret_text, value, pid, errno, notes):
    r = parse_ret(ret_text)
    assert (r.value, r.pid, r.errno, r.notes) == (value, pid, errno, notes)


def test_parse_ret_decorations():
    r = parse_ret("1</dev/pts/0<char 136:0>>")
    assert r.value == 1 and r.fd == FdValue(1, b"/dev/pts/0", "char", "136:0", False,
                                            "1</dev/pts/0<char 136:0>>")
    r = parse_ret("8152<sh>")
    assert r.value == 8152 and r.comm == b"sh"
    r = parse_ret("3</tmp/x> (deleted)")
    assert r.fd.deleted and r.fd.path == b"/tmp/x"
    assert parse_ret("? <unavailable>").unavailable


# ----------------------------------------------------------------------------------------------
# fds
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token,fd,path,kind,extra,deleted", [
    ("3", 3, None, None, None, False),
    ("3</etc/x>", 3, b"/etc/x", None, None, False),
    ("1</dev/pts/0<char 136:0>>", 1, b"/dev/pts/0", "char", "136:0", False),
    ("13<UNIX:[15042]>", 13, None, "UNIX", "[15042]", False),
    ("3<UNIX-STREAM:[14326]>", 3, None, "UNIX-STREAM", "[14326]", False),
    ("3<NETLINK:[ROUTE:8027]>", 3, None, "NETLINK", "[ROUTE:8027]", False),
    ("3<pipe:[15192]>", 3, None, "pipe", "[15192]", False),
    ("3</tmp/app.log> (deleted)", 3, b"/tmp/app.log", None, None, True),
    ("3</tmp/app.log (deleted)>", 3, b"/tmp/app.log", None, None, True),   # strace < 5.19
    ("AT_FDCWD</tmp/gen>", -100, b"/tmp/gen", None, None, False),
    ("AT_FDCWD", -100, None, None, None, False),
    ("-100 /* AT_FDCWD */", -100, None, None, None, False),
    ("3</a\\74b\\76c>", 3, b"/a<b>c", None, None, False),
    ("3</caf\\303\\251>", 3, b"/caf\xc3\xa9", None, None, False),
    ("5<TCP:[127.0.0.1:4567->127.0.0.1:80]>", 5, None, "TCP", "[127.0.0.1:4567->127.0.0.1:80]", False),
    ("7</dev/sda<block 8:0>>", 7, b"/dev/sda", "block", "8:0", False),
])
def test_fd_value(token, fd, path, kind, extra, deleted):
    v = fd_value(token)
    assert (v.fd, v.path, v.kind, v.extra, v.deleted) == (fd, path, kind, extra, deleted)


@pytest.mark.parametrize("token", ["NULL", '"x"', "", None, "[1]", "foo<bar>"])
def test_fd_value_not_fd(token):
    assert fd_value(token) is None


# ----------------------------------------------------------------------------------------------
# string arrays
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token,items,truncated,elided,count", [
    ('["sh", "-c", "echo 1001 > /proc/self/loginuid "...]',
     (b"sh", b"-c", b"echo 1001 > /proc/self/loginuid "), True, False, None),
    ('["id", "-u"]', (b"id", b"-u"), False, False, None),
    ('["a", "b", ...]', (b"a", b"b"), True, True, None),
    ("[/* 21 vars */]", (), True, True, 21),
    ("[]", (), False, False, None),
    ('["FOO=bar"]', (b"FOO=bar",), False, False, None),
    ('["\\x70\\x72\\x69\\x6e\\x74\\x66", "\\x63\\x61"...]', (b"printf", b"ca"), True, False, None),
    ('["a", 0x7ffd0000, "b"]', (b"a", b"b"), True, False, None),
    ('["a", "b', (b"a", b"b"), True, True, None),   # cut line
    ("[...]", (), True, True, None),
    ('[..., "x"]', (b"x",), True, True, None),
])
def test_decode_str_array(token, items, truncated, elided, count):
    sa = decode_str_array(token)
    assert (sa.items, sa.truncated, sa.elided, sa.count) == (items, truncated, elided, count)


@pytest.mark.parametrize("token", ["NULL", "0x7ffcd2a26430 /* 4 vars */", '"sh"', "", None])
def test_decode_str_array_not_array(token):
    assert decode_str_array(token) is None


def test_decode_str_array_cut_indexes():
    sa = decode_str_array('["env", "PATH=/nonexistent/bin:/usr/local"..., "id", "-u"]')
    assert sa.items == (b"env", b"PATH=/nonexistent/bin:/usr/local", b"id", b"-u")
    assert sa.cut == (1,) and sa.truncated and not sa.elided
    assert isinstance(sa, StrArray)


# ----------------------------------------------------------------------------------------------
# flags and structs
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token,table,value", [
    ("CLONE_VM|CLONE_THREAD|0x400000", C.CLONE_FLAGS, 0x100 | 0x10000 | 0x400000),
    ("0x1200000|17", C.CLONE_FLAGS, 0x1200011),
    ("0x3d0f00 /* CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
     "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID */", C.CLONE_FLAGS, 0x3D0F00),
    ("CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD", C.CLONE_ARG_TABLE, 0x1200000 | 17),
    ("O_RDONLY|O_CLOEXEC", C.OPEN_FLAGS, 0o2000000),
    ("O_WRONLY|O_CREAT|O_TRUNC", C.OPEN_FLAGS, 0o1101),
    ("0x80000 /* O_RDONLY|O_CLOEXEC */", C.OPEN_FLAGS, 0x80000),
    ("0 /* O_RDONLY */", C.OPEN_FLAGS, 0),
    ("S_IFREG|0644", C.MODE_BITS, 0o100644),
    ("1<<CAP_CHOWN|1<<CAP_KILL", C.CAPABILITIES, 1 | 1 << 5),
    ("AT_EMPTY_PATH", C.AT_FLAGS, 0x1000),
    ("0x1000 /* AT_EMPTY_PATH */", C.AT_FLAGS, 0x1000),
    ("CLONE_VM|CLONE_BOGUS", C.CLONE_FLAGS, None),   # never guess
    ("SIGCHLD", C.CLONE_FLAGS, None),
    ("", C.CLONE_FLAGS, None),
    ("CLONE_VM|", C.CLONE_FLAGS, None),
])
def test_parse_flags(token, table, value):
    assert parse_flags(token, table) == value


def test_parse_struct():
    st = parse_struct("{st_mode=S_IFREG|0644, st_size=38015, ...}")
    assert st == {"st_mode": "S_IFREG|0644", "st_size": "38015"}
    st = parse_struct("{rlim_cur=8388608 /* 8192*1024 */, rlim_max=18446744073709551615 /* RLIM64_INFINITY */}")
    assert parse_int(st["rlim_cur"]) == 8388608
    st = parse_struct("{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f175aa2b000, "
                      "stack_size=0x9000} => {parent_tid=[8889]}")
    assert st["flags"] == "CLONE_VM|CLONE_VFORK" and st["parent_tid"] == "[8889]"
    st = parse_struct("{sa_handler=0x55bc4507ddc0, sa_mask=~[32 /* RTMIN */ 33 /* RT_1 */], "
                      "sa_flags=0x4000000 /* SA_RESTORER */, sa_restorer=0x7efe56a63050}")
    assert st["sa_mask"] == "~[32 /* RTMIN */ 33 /* RT_1 */]"
    st = parse_struct("{a={b=1, c=[2, 3]}, d=\"x, y\"}")
    assert st == {"a": "{b=1, c=[2, 3]}", "d": '"x, y"'}
    assert parse_struct("[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]") == {}
    assert parse_struct("{WIFEXITED(s) && WEXITSTATUS(s) == 0}") == {"#0": "WIFEXITED(s) && WEXITSTATUS(s) == 0"}
    assert parse_struct("{a=1, b=") == {"a": "1", "b": ""}
    assert parse_struct("NULL") == {}


@pytest.mark.parametrize("info,signo,code,pid,uid,status", [
    ("{si_signo=SIGUSR1, si_code=SI_USER, si_pid=8056, si_uid=0}", "SIGUSR1", "SI_USER", 8056, 0, None),
    ("{si_signo=SIGCHLD, si_code=CLD_DUMPED, si_pid=8058, si_uid=0, si_status=SIGSEGV, si_utime=0, "
     "si_stime=0}", "SIGCHLD", "CLD_DUMPED", 8058, 0, "SIGSEGV"),
    ("{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=8015, si_uid=0, si_status=125, "
     "si_utime=1 /* 0.01 s */, si_stime=1 /* 0.01 s */}", "SIGCHLD", "CLD_EXITED", 8015, 0, 125),
    ("{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3 /* 8223 in strace's PID NS */, si_uid=0, "
     "si_status=0, si_utime=0, si_stime=0}", "SIGCHLD", "CLD_EXITED", 8223, 0, 0),
    ("{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL}", "SIGSEGV", "SEGV_MAPERR", None, None, None),
    ("{si_signo=17 /* SIGCHLD */, si_code=1 /* CLD_EXITED */, si_pid=8113, si_uid=0, si_status=1, "
     "si_utime=0, si_stime=0}", "17", "1", 8113, 0, 1),
])
def test_siginfo(info, signo, code, pid, uid, status):
    s = siginfo(info)
    assert (s.signo, s.code, s.pid, s.uid, s.status) == (signo, code, pid, uid, status)
    assert s.signo_number == C.SIGNALS.get(signo, int(signo) if signo.isdigit() else None)


def test_siginfo_none():
    assert siginfo("") is None and siginfo(None) is None


# ----------------------------------------------------------------------------------------------
# clone_info (real lines)
# ----------------------------------------------------------------------------------------------

CLONE_CASES = [
    # file, line, child, is_thread, clone_parent, vfork, exit_signal
    ("vfork_posix_spawn.txt",
     "8065  clone(child_stack=0x558d6e42c070, flags=CLONE_PARENT|SIGCHLD) = 8070",
     8070, False, True, False, 17),
    ("vfork_posix_spawn.txt", "8065  fork()                            = 8067", 8067, False, False, False, 17),
    ("threads_clone3.txt",
     "8040  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
     "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f3f5135b990, "
     "parent_tid=0x7f3f5135b990, exit_signal=0, stack=0x7f3f50b5b000, stack_size=0x7fff80, "
     "tls=0x7f3f5135b6c0} => {parent_tid=[8042]}, 88) = 8042", 8042, True, False, False, 0),
    ("synthetic_strace48_f_o_resumed.txt",
     "2004  clone(child_stack=0x7f2a4bffdff0, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
     "CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
     "parent_tidptr=0x7f2a4bffe9d0, tls=0x7f2a4bffe700, child_tidptr=0x7f2a4bffe9d0) = 2005",
     2005, True, False, False, 0),
    ("decode_pids_comm_Y.txt",
     "8151<sh> clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
     "child_tidptr=0x7f8fc60eba10) = 8152<sh>", 8152, False, False, False, 17),
    ("pidns_unshare_plain.txt",
     "8187  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
     "child_tidptr=0x7fc89be04a10) = 3", 3, False, False, False, 17),
]


@pytest.mark.parametrize("file,line,child,thread,cparent,vfork,esig", CLONE_CASES)
def test_clone_info_real(file, line, child, thread, cparent, vfork, esig):
    name, args, ret = _real(file, line)
    ci = clone_info(name, args, ret)
    assert (ci.child, ci.is_thread, ci.clone_parent, ci.vfork, ci.exit_signal) == (
        child, thread, cparent, vfork, esig)
    assert ci.flags is not None and ci.ok


def test_clone_info_go_thread_unnamed_bit_and_resumed_join():
    # sudo_docker_root.txt: entry + resumed joined as the reader joins them
    entry = ("child_stack=0x7fe458fdfae8, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
             "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|0x400000")
    rest = ", parent_tid=[8016], tls=0x7fe458fdfb38, child_tidptr=0x1d98250"
    ci = clone_info("clone", entry + rest, "8016")
    assert ci.is_thread and ci.child == 8016 and ci.flags & 0x400000 and ci.has("DETACHED")
    assert ci.flags & C.CSIGNAL == 0 and ci.exit_signal == 0


def test_clone_info_takes_syscall_event():
    ev = Syscall(file="t", line=1, tid=8065, name="clone3",
                 args="{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f175aa2b000, "
                      "stack_size=0x9000}, 88", ret=8068, ret_text="8068")
    ci = clone_info(ev)
    assert ci.vfork and not ci.is_thread and ci.child == 8068 and ci.exit_signal == 17
    assert ci.flags == C.CLONE_VM | C.CLONE_VFORK


@pytest.mark.parametrize("args,ret,flags,thread,child,child_ns,esig", [
    # -X raw
    ("child_stack=NULL, flags=0x1200000|17, child_tidptr=0x7f840a7eeb10", "8028", 0x1200000, False, 8028, 8028, 17),
    ("child_stack=0x7f, flags=0x3d0f00, parent_tid=[8030], tls=0x7f, child_tidptr=0x1d98250", "8030",
     0x3D0F00, True, 8030, 8030, 0),
    # -X verbose
    ("child_stack=NULL, flags=0x1200011 /* CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD */, "
     "child_tidptr=0x7f", "8029", 0x1200000, False, 8029, 8029, 17),
    # pidns translation
    ("child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f",
     "2 /* 8222 in strace's PID NS */", 0x1200000, False, 8222, 2, 17),
    # 4.x: all args at exit, joined with a leading space
    (" child_stack=0, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f3b1e1f09d0",
     "2003", 0x1200000, False, 2003, 2003, 17),
    # -e raw=clone: positional hex
    ("0x1200011, 0, 0, 0x7f3b1e1f09d0, 0", "77", 0x1200000, False, 77, 77, 17),
    # failed
    ("child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f5b2c400a10",
     "? ERESTARTNOINTR (To be restarted)", 0x1200000, False, None, None, 17),
    ("child_stack=NULL, flags=CLONE_NEWPID|SIGCHLD", "-1 EPERM (Operation not permitted)",
     C.CLONE_NEWPID, False, None, None, 17),
])
def test_clone_info_forms(args, ret, flags, thread, child, child_ns, esig):
    ci = clone_info("clone", args, ret)
    assert (ci.flags, ci.is_thread, ci.child, ci.child_ns, ci.exit_signal) == (
        flags, thread, child, child_ns, esig)


def test_clone_info_newpid_and_unknown_names():
    ci = clone_info("clone", "child_stack=NULL, flags=CLONE_NEWPID|CLONE_NEWNS|SIGCHLD", "9")
    assert ci.newpid and ci.has("NEWNS") and not ci.has("NEWNET")
    # a name not in the table: flags unknown, but known names still count
    ci = clone_info("clone", "child_stack=NULL, flags=CLONE_THREAD|CLONE_FUTURE_THING", "9")
    assert ci.flags is None and ci.is_thread


@pytest.mark.parametrize("name,args,ret", [
    ("clone", ", child_tidptr=0x7f056bca4a10", "8058"),     # resumed orphan: flags missing
    ("clone3", "", "8068"),
    ("clone", "", ""),
    ("vfork", "", "8066"),
])
def test_clone_info_partial(name, args, ret):
    ci = clone_info(name, args, ret)
    if name == "vfork":
        assert ci.vfork and ci.child == 8066
    else:
        assert ci.flags is None and not ci.is_thread
        assert ci.child == parse_int(ret)


def test_clone_info_not_creation():
    assert clone_info("execve", '"/bin/true", ["true"], 0x1', "0") is None


# ----------------------------------------------------------------------------------------------
# exec_info (real lines)
# ----------------------------------------------------------------------------------------------

EXEC_CASES = [
    ("sudo_docker_alice_tt_T_yy.txt",
     '8027  22:41:42.700107 execve("/usr/bin/sh", ["sh", "-c", "echo 1001 > /proc/self/loginuid "...], '
     '0x7ffcd2a26430 /* 4 vars */) = 0 <0.000697>',
     b"/usr/bin/sh", (b"sh", b"-c", b"echo 1001 > /proc/self/loginuid "), True, 4, True, None),
    ("sudo_docker_alice_tt_T_yy.txt",
     '8027  22:41:42.715352 execve("/usr/local/sbin/setpriv", ["setpriv", "--reuid=1001", "--regid=1001", '
     '"--init-groups", "--", "sudo", "docker", "run", "--rm", "alpine", "id"], 0x555ff4c50820 /* 5 vars */) '
     '= -1 ENOENT (No such file or directory) <0.000618>',
     b"/usr/local/sbin/setpriv", (b"setpriv", b"--reuid=1001", b"--regid=1001", b"--init-groups", b"--",
                                  b"sudo", b"docker", b"run", b"--rm", b"alpine", b"id"), False, 5, False, "ENOENT"),
    ("synthetic_strace48_f_o_resumed.txt",
     '2001  execve("/bin/sh", ["sh", "-c", "ls /etc | head -3; python2 /opt/w.py"...], [/* 21 vars */]) = 0',
     b"/bin/sh", (b"sh", b"-c", b"ls /etc | head -3; python2 /opt/w.py"), True, 21, True, None),
    ("m32_personality.txt",
     '8049  execve("/bin/true", ["true"], 0xff983d7c /* 5 vars */) = 0',
     b"/bin/true", (b"true",), False, 5, True, None),
    ("inject_fault_delay.txt",
     '10111 execve("/bin/true", ["/bin/true"], 0x5556b4b169a0 /* 5 vars */) = -1 ENOENT (No such file or '
     'directory) (INJECTED)', b"/bin/true", (b"/bin/true",), False, 5, False, "ENOENT"),
    ("e_trace_process_s_v.txt",
     '8167  execve("/bin/sh", ["/bin/sh", "-c", "exit 4"], ["FOO=bar"]) = 0',
     b"/bin/sh", (b"/bin/sh", b"-c", b"exit 4"), False, 1, True, None),
    ("e_trace_process_s_v.txt",
     '8165  execve("/usr/bin/sh", ["sh", "-c", "A=1 /bin/true; env -i FOO=bar /bin/sh -c \\"exit 4\\""], '
     '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C", '
     '"TERM=dumb"]) = 0',
     b"/usr/bin/sh", (b"sh", b"-c", b'A=1 /bin/true; env -i FOO=bar /bin/sh -c "exit 4"'), False, 4, True, None),
]


@pytest.mark.parametrize("file,line,path,argv,trunc,env_count,ok,errno", EXEC_CASES)
def test_exec_info_real(file, line, path, argv, trunc, env_count, ok, errno):
    name, args, ret = _real(file, line)
    ei = exec_info(name, args, ret)
    assert (ei.path, ei.argv, ei.argv_truncated, ei.env_count, ei.ok, ei.errno) == (
        path, argv, trunc, env_count, ok, errno)
    assert ei.file == path


def test_exec_info_v_env_items():
    ei = exec_info("execve", '"/bin/sh", ["/bin/sh", "-c", "exit 4"], ["FOO=bar"]', "0")
    assert ei.envp == (b"FOO=bar",)


def test_exec_info_unfinished_entry_and_orphan():
    # entry text without its resumed rest (the syscall stays UNFINISHED) and a resumed orphan
    ei = exec_info("execve", '"/usr/local/bin/docker", ["docker", "run", "--rm", "alpine", "id"], '
                             '0x556e44fbb0d0 /* 12 vars */ ', "")
    assert ei.path == b"/usr/local/bin/docker" and ei.argv[-1] == b"id" and not ei.ok and ei.ret is None
    ei = exec_info("execve", "", "0")
    assert ei.path is None and ei.argv is None and ei.ok


def test_exec_info_non_utf8_path_survives():
    ei = exec_info("execve", '"/tmp/\\377x", ["\\377x"], 0x1 /* 1 var */', "0")
    assert ei.path == b"/tmp/\xffx" and ei.argv == (b"\xffx",)
    ei = exec_info("execve", '"\\x2f\\x74\\xff", ["\\xff"], 0x1', "0")
    assert ei.path == b"/t\xff"


@pytest.mark.parametrize("args,dirfd,dirfd_path,path,flags,empty,file", [
    ('3</usr/bin/true>, "", ["true"], 0x7ffd /* 3 vars */, AT_EMPTY_PATH',
     3, b"/usr/bin/true", b"", 0x1000, True, b"/usr/bin/true"),
    ('AT_FDCWD</tmp/gen>, "/bin/true", ["true"], 0x7ffd /* 3 vars */, 0',
     -100, b"/tmp/gen", b"/bin/true", 0, False, b"/bin/true"),
    ('4</usr/bin>, "id", ["id"], 0x7ffd /* 3 vars */, 0',
     4, b"/usr/bin", b"id", 0, False, b"/usr/bin/id"),
    ('3, "", ["true"], 0x7ffd /* 3 vars */, 0x1000 /* AT_EMPTY_PATH */',
     3, None, b"", 0x1000, True, None),
])
def test_exec_info_execveat(args, dirfd, dirfd_path, path, flags, empty, file):
    ei = exec_info("execveat", args, "0")
    assert (ei.dirfd, ei.dirfd_path, ei.path, ei.flags, ei.empty_path, ei.file) == (
        dirfd, dirfd_path, path, flags, empty, file)


def test_exec_info_not_exec():
    assert exec_info("clone", "x", "1") is None


# ----------------------------------------------------------------------------------------------
# setid_info (real lines)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,ret,name,vals,real,eff,saved,ok", [
    ("-1, 0, -1", "0", "setresuid", (-1, 0, -1), None, 0, None, True),
    ("0, -1, -1", "0", "setresuid", (0, -1, -1), 0, None, None, True),
    ("1001, 1001, 1001", "0", "setresgid", (1001, 1001, 1001), 1001, 1001, 1001, True),
    ("65534, 65534, 65534", "0", "setresuid32", (65534,) * 3, 65534, 65534, 65534, True),
    ("-1, 1000, -1", "-1 EPERM (Operation not permitted)", "setresuid", (-1, 1000, -1), None, 1000, None, False),
    ("0xffffffff, 0, 0xffffffff", "0", "setresuid", (-1, 0, -1), None, 0, None, True),   # -e raw
    ("1001, -1", "0", "setreuid", (1001, -1), 1001, None, None, True),
    ("-1, 0", "0", "setregid32", (-1, 0), None, 0, None, True),
])
def test_setid_info_setre_setres(args, ret, name, vals, real, eff, saved, ok):
    si = setid_info(name, args, ret)
    assert (si.args, si.real, si.effective, si.saved, si.ok) == (vals, real, eff, saved, ok)
    assert si.base == name.removesuffix("32")


@pytest.mark.parametrize("file,line,base,args,real,eff,saved,groups", [
    ("m32_personality.txt", "8050  setresuid32(65534, 65534, 65534)  = 0", "setresuid", (65534,) * 3,
     65534, 65534, 65534, None),
    ("m32_personality.txt", "8050  setgroups32(0, NULL)              = 0", "setgroups", (0,),
     None, None, None, None),
    ("setuid_chain.txt", "8127  setresuid(1001, 1001, 1001)       = 0", "setresuid", (1001,) * 3,
     1001, 1001, 1001, None),
    ("setuid_chain.txt", "8127  setgroups(1, [1001])              = 0", "setgroups", (1,),
     None, None, None, (1001,)),
    ("sudo_docker_alice_tt_T_yy.txt", "8029  22:41:43.122500 setresuid(0, 0, 0) = 0 <0.000087>",
     "setresuid", (0, 0, 0), 0, 0, 0, None),
])
def test_setid_info_real_lines(file, line, base, args, real, eff, saved, groups):
    si = setid_info(*_real(file, line))
    assert (si.base, si.args, si.real, si.effective, si.saved, si.groups, si.ok) == (
        base, args, real, eff, saved, groups, True)


def test_setid_info_setuid_setgid_setfs():
    si = setid_info("setuid", "99", "0")
    assert si.op == "set" and si.value == 99 and si.kind == "uid" and si.ok
    assert si.real is None and si.effective is None      # privilege-dependent: left to the caller
    si = setid_info("setgid", "65534", "-1 EPERM (Operation not permitted)")
    assert si.kind == "gid" and si.value == 65534 and not si.ok and si.errno == "EPERM"
    si = setid_info("setfsuid", "1001", "0")
    assert si.fs == 1001 and si.ok is None and si.ret == 0
    si = setid_info("setfsgid32", "-1", "1001")
    assert si.fs is None and si.ret == 1001


@pytest.mark.parametrize("name,args,ret,groups", [
    ("setgroups", "1, [1001]", "0", (1001,)),
    ("setgroups", "0, []", "0", ()),
    ("setgroups", "2, [0, 27]", "0", (0, 27)),
    ("getgroups", "1, [65534]", "1", (65534,)),
    ("getgroups", "0, NULL", "1", None),
])
def test_setid_info_groups(name, args, ret, groups):
    assert setid_info(name, args, ret).groups == groups


@pytest.mark.parametrize("name,args,ret,real,eff,saved", [
    ("getresuid", "[1001], [0], [0]", "0", 1001, 0, 0),
    ("getresgid", "[0], [0], [0]", "0", 0, 0, 0),
    ("getuid", "", "1001", 1001, None, None),
    ("geteuid32", "", "0", None, 0, None),
    ("getegid", "", "65534", None, 65534, None),
    ("getresuid", "0x7ffd, 0x7ffe, 0x7fff", "-1 EFAULT (Bad address)", None, None, None),
])
def test_setid_info_get(name, args, ret, real, eff, saved):
    si = setid_info(name, args, ret)
    assert (si.real, si.effective, si.saved) == (real, eff, saved)


def test_setid_info_partial_and_other():
    si = setid_info("setresuid", "", "0")         # resumed orphan
    assert si.args == () and si.real is None and si.ok
    si = setid_info("setuid", "65534 ", "")       # unfinished entry
    assert si.value == 65534 and not si.ok
    assert setid_info("getpid", "", "1") is None


def test_setid_info_setuid_chain_file():
    # every set*id line of setuid_chain.txt decodes, and the ok ones have values
    text = (STRACE_DATA / "setuid_chain.txt").read_text()
    seen = 0
    for line in text.splitlines():
        m = _LINE_RE.match(line)
        if not m or not re.match(r"set(res|re|fs)?[ug]id(32)?$|setgroups", m.group(1)):
            continue
        si = setid_info(m.group(1), m.group(2), m.group(3))
        assert si is not None and all(a is not None for a in si.args)
        seen += 1
    assert seen >= 3


# ----------------------------------------------------------------------------------------------
# open / write (real lines)
# ----------------------------------------------------------------------------------------------

def test_open_info_loginuid_real():
    name, args, ret = _real(
        "sudo_docker_alice_tt_T_yy.txt",
        '8027  22:41:42.711324 openat(AT_FDCWD</tmp/gen>, "/proc/self/loginuid", O_WRONLY|O_CREAT|O_TRUNC, '
        '0666) = 3</proc/8027/loginuid> <0.000155>')
    oi = open_info(name, args, ret)
    assert (oi.dirfd, oi.dirfd_path, oi.path, oi.flags, oi.mode, oi.fd, oi.fd_path) == (
        -100, b"/tmp/gen", b"/proc/self/loginuid", 0o1101, 0o666, 3, b"/proc/8027/loginuid")
    assert oi.writes and oi.ok


@pytest.mark.parametrize("name,args,ret,dirfd,path,flags,mode,fd", [
    ("openat", '-100 /* AT_FDCWD */, "/etc/ld.so.cache", 0x80000 /* O_RDONLY|O_CLOEXEC */', "3",
     -100, b"/etc/ld.so.cache", 0x80000, None, 3),
    ("openat", '-100 /* AT_FDCWD */, "/nonexistent", 0 /* O_RDONLY */',
     "-1 ENOENT (No such file or directory)", -100, b"/nonexistent", 0, None, None),
    ("openat", '3</usr/lib>, "userdb", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH',
     "-1 ENOENT (No such file or directory)", 3, b"userdb", 0o12400000, None, None),
    ("open", '"/etc/ld.so.cache", O_RDONLY|O_CLOEXEC', "3", None, b"/etc/ld.so.cache", 0o2000000, None, 3),
    ("creat", '"/tmp/x", 0644', "4", None, b"/tmp/x", 0o1101, 0o644, 4),
    ("openat2", 'AT_FDCWD, "/etc/shadow", {flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS}, 24',
     "3", -100, b"/etc/shadow", 0o2000000, None, 3),
    ("openat", 'AT_FDCWD, "\\x2f\\x65\\x74\\x63", O_RDONLY|O_BOGUS', "3", -100, b"/etc", None, None, 3),
])
def test_open_info_forms(name, args, ret, dirfd, path, flags, mode, fd):
    oi = open_info(name, args, ret)
    assert (oi.dirfd, oi.path, oi.flags, oi.mode, oi.fd) == (dirfd, path, flags, mode, fd)


def test_open_info_openat2_resolve_and_not_open():
    oi = open_info("openat2", 'AT_FDCWD, "/x", {flags=O_RDONLY, resolve=RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH}, 24', "3")
    assert oi.resolve == 0x0C
    assert open_info("close", "3", "0") is None


def test_write_info_loginuid_real():
    name, args, ret = _real("sudo_docker_alice_tt_T_yy.txt",
                            '8027  22:41:42.714553 write(1</proc/8027/loginuid>, "1001\\n", 5) = 5 <0.000118>')
    wi = write_info(name, args, ret)
    assert (wi.fd, wi.fd_path, wi.data, wi.count, wi.written) == (1, b"/proc/8027/loginuid", b"1001\n", 5, 5)


def test_write_info_deleted_and_hex():
    name, args, ret = _real("synthetic_strace6_rare_forms.txt",
                            '4001  write(3</tmp/app.log> (deleted), "bye\\n", 4) = 4')
    wi = write_info(name, args, ret)
    assert wi.fd_deleted and wi.fd_path == b"/tmp/app.log" and wi.data == b"bye\n"
    wi = write_info("write", '1, "\\x63\\x61\\x66\\xc3\\xa9\\x0a\\x01"..., 27', "27")
    assert wi.data == b"caf\xc3\xa9\n\x01" and wi.truncated and wi.written == 27


# ----------------------------------------------------------------------------------------------
# kill / ptrace / sockets
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,args,ret,pid,sig,signo,tgid", [
    ("kill", "8173, SIGSTOP", "0", 8173, "SIGSTOP", 19, None),
    ("kill", "8057, SIGKILL", "0", 8057, "SIGKILL", 9, None),
    ("kill", "8059, 15 /* SIGTERM */", "0", 8059, "SIGTERM", 15, None),
    ("kill", "8059, 15", "0", 8059, "SIGTERM", 15, None),
    ("tgkill", "8040, 8042, SIGUSR1", "0", 8042, "SIGUSR1", 10, 8040),
    ("kill", "3 /* 8223 in strace's PID NS */, SIGTERM", "0", 8223, "SIGTERM", 15, None),
    ("kill", "8055, SIGUSR1 ", "", 8055, "SIGUSR1", 10, None),
])
def test_kill_info(name, args, ret, pid, sig, signo, tgid):
    ki = kill_info(name, args, ret)
    assert (ki.pid, ki.signal, ki.signo, ki.tgid) == (pid, sig, signo, tgid)


def test_ptrace_info():
    pi = ptrace_info("ptrace", "PTRACE_TRACEME", "?")
    assert pi.request == "PTRACE_TRACEME" and pi.request_number == 0 and pi.pid is None
    pi = ptrace_info("ptrace", "PTRACE_SEIZE, 8055, NULL, PTRACE_O_TRACECLONE", "0")
    assert pi.request_number == 0x4206 and pi.pid == 8055 and pi.ok
    pi = ptrace_info("ptrace", "0x10 /* PTRACE_ATTACH */, 77", "0")
    assert pi.request == "PTRACE_ATTACH" and pi.pid == 77


def test_socket_info():
    si = socket_info("socket", "AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0", "3")
    assert (si.family, si.type, si.fd) == ("AF_UNIX", "SOCK_STREAM", 3)
    si = socket_info("socket", "AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_AUDIT", "6<NETLINK:[15035]>")
    assert si.family == "AF_NETLINK" and si.protocol == "NETLINK_AUDIT" and si.fd_decoration.kind == "NETLINK"
    si = socket_info("socket", "0x2 /* AF_INET */, 0x80801 /* SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK */, 0", "4")
    assert si.family == "AF_INET" and si.type == "SOCK_STREAM"
    name, args, ret = _real(
        "sudo_docker_alice_tt_T_yy.txt",
        '8027  22:41:43.089677 connect(13<UNIX:[15042]>, {sa_family=AF_UNIX, sun_path="/dev/log"}, 110) '
        '= -1 ENOENT (No such file or directory) <0.000103>')
    si = socket_info(name, args, ret)
    assert si.family == "AF_UNIX" and si.sockaddr.path == b"/dev/log" and si.fd == 13 and not si.ok
    si = socket_info("connect", '3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("1.2.3.4")}, 16', "0")
    assert si.sockaddr.addr == "1.2.3.4" and si.sockaddr.port == 53 and si.ok
    si = socket_info("bind", '3, {sa_family=AF_UNIX, sun_path=@"abstract"}, 12', "0")
    assert si.sockaddr.path == b"\0abstract"
    assert socket_info("close", "3", "0") is None


def test_constants_consistency():
    assert C.CLONE_THREAD == 0x10000 and C.CLONE_VM == 0x100 and C.CLONE_VFORK == 0x4000
    assert C.CLONE_PARENT == 0x8000 and C.CLONE_NEWPID == 0x20000000
    assert C.SIGNALS["SIGCHLD"] == 17 and C.SIGNAL_NAMES[9] == "SIGKILL" and C.SIGNALS["SIGRT_1"] == 33
    assert C.OPEN_FLAGS["O_CLOEXEC"] == 0x80000 and C.AT_FLAGS["AT_EMPTY_PATH"] == 0x1000
    assert C.PTRACE_REQUESTS["PTRACE_SEIZE"] == 0x4206 and C.PRCTL_OPTIONS["PR_SET_NO_NEW_PRIVS"] == 38
    assert C.ADDRESS_FAMILIES["AF_NETLINK"] == 16 and C.FAMILY_NAMES[1] == "AF_UNIX"
    assert C.CAPABILITIES["CAP_SETUID"] == 7 and C.CAPABILITIES["CAP_CHECKPOINT_RESTORE"] == 40
    # distinct CLONE bits
    bits = list(C.CLONE_FLAGS.values())
    assert len(bits) == len(set(bits)) and all(b & (b - 1) == 0 for b in bits)


# ----------------------------------------------------------------------------------------------
# whole corpus: every complete syscall line re-splits exactly and every string re-quotes exactly
# ----------------------------------------------------------------------------------------------

_ANY_LINE_RE = re.compile(
    r"^(?:\[pid +\d+\] |\d+(?:<[^>]*>)? +)?(?:\d[\d:.]* +)?(?:\(\+ *[\d.]+\) +)?(?:\[[ \d]+\] +)?"
    r"(?:\[[0-9a-f?]+\] +)?(\w+)\((.*)\) +=  ?(.*?)(?: <\d+\.\d+>)?$")


def _corpus_files():
    return sorted(p for p in STRACE_DATA.rglob("*")
                  if p.is_file() and (p.suffix == ".txt" or p.parent.name == "ff_split"))


def _string_tokens(tok: str):
    tok = tok.strip()
    if tok.startswith('"'):
        yield tok
    elif tok[:1] in "[{" and tok[-1:] in "]}":
        for t in split_args(tok[1:-1]):
            m = re.match(r"[a-z_]+=", t)
            yield from _string_tokens(t[m.end():] if m else t)


def test_corpus_split_and_requote():
    lines = strings = 0
    for path in _corpus_files():
        for line in path.read_text(errors="surrogateescape").splitlines():
            m = _ANY_LINE_RE.match(line)
            if not m:
                continue
            name, args, ret = m.groups()
            toks = split_args(args)
            assert ", ".join(toks) == args.strip(), (path.name, line)
            lines += 1
            for t in toks:
                for s in _string_tokens(t):
                    sv = decode_string(s)
                    style = "xx" if s.startswith('"\\x') else "default"
                    assert quote_like_strace(sv.data, style) + ("..." if sv.truncated else "") == s, (
                        path.name, s)
                    strings += 1
    assert lines > 1000 and strings > 1000


# ----------------------------------------------------------------------------------------------
# prctl / namespaces / capset / wait / personality / exit
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,ret,option,num,comm,value", [
    ("PR_SET_NAME, \"worker\\377\"", "0", "PR_SET_NAME", 15, b"worker\xff", None),
    ("PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0", "0", "PR_SET_NO_NEW_PRIVS", 38, None, 1),
    ("PR_CAPBSET_READ, 0x29 /* CAP_??? */", "-1 EINVAL (Invalid argument)", "PR_CAPBSET_READ", 23, None, 0x29),
    ("PR_CAPBSET_DROP, CAP_SETUID", "0", "PR_CAPBSET_DROP", 24, None, 7),
    ("PR_SET_PDEATHSIG, SIGKILL", "0", "PR_SET_PDEATHSIG", 1, None, 9),
    ("0x26 /* PR_SET_NO_NEW_PRIVS */, 0x1, 0, 0, 0", "0", "PR_SET_NO_NEW_PRIVS", 38, None, 1),
    ("38, 1, 0, 0, 0", "0", "PR_SET_NO_NEW_PRIVS", 38, None, 1),
    ("PR_SET_DUMPABLE, SUID_DUMP_DISABLE", "0", "PR_SET_DUMPABLE", 4, None, None),
])
def test_prctl_info(args, ret, option, num, comm, value):
    pi = prctl_info("prctl", args, ret)
    assert (pi.option, pi.option_number, pi.comm, pi.value) == (option, num, comm, value)


def test_prctl_info_real():
    pi = prctl_info(*_real("synthetic_strace6_rare_forms.txt", "4003  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0"))
    assert pi.option == "PR_SET_NO_NEW_PRIVS" and pi.value == 1 and pi.ok


@pytest.mark.parametrize("name,args,flags,newpid", [
    ("unshare", "CLONE_NEWNS|CLONE_NEWPID", C.CLONE_NEWNS | C.CLONE_NEWPID, True),
    ("unshare", "CLONE_NEWUSER", C.CLONE_NEWUSER, False),
    ("unshare", "0x20020000 /* CLONE_NEWNS|CLONE_NEWPID */", C.CLONE_NEWNS | C.CLONE_NEWPID, True),
    ("setns", "3</proc/8188/ns/pid>, CLONE_NEWPID", C.CLONE_NEWPID, True),
    ("setns", "3<pid:[4026532281]>, 0", 0, False),
])
def test_namespace_info(name, args, flags, newpid):
    ni = namespace_info(name, args, "0")
    assert (ni.flags, ni.newpid, ni.ok) == (flags, newpid, True)
    if name == "setns":
        assert ni.fd.fd == 3


def test_capset_info_real():
    text = (STRACE_DATA / "setuid_chain.txt").read_text()
    line = next(ln for ln in text.splitlines() if "capset(" in ln)
    ci = capset_info(*_real("setuid_chain.txt", line))
    assert ci.pid == 8127 and ci.inheritable == 0 and ci.ok
    assert ci.effective & (1 << C.CAPABILITIES["CAP_SETUID"]) and ci.effective == ci.permitted
    # CAP_CHOWN .. CAP_CHECKPOINT_RESTORE, all but CAP_SYS_RESOURCE (absent from that line)
    assert ci.effective == ((1 << 41) - 1) & ~(1 << C.CAPABILITIES["CAP_SYS_RESOURCE"])


@pytest.mark.parametrize("args,ret,pid,exited,code,signal,core", [
    ("-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 127}], 0, NULL", "10111", 10111, True, 127, None, False),
    ("-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}], 0, NULL", "8058", 8058, False, None,
     "SIGSEGV", True),
    ("-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGPIPE}], 0, NULL", "2002", 2002, False, None, "SIGPIPE", False),
    ("-1, 0x7ffe8b9b71bc, WNOHANG, NULL", "-1 ECHILD (No child processes)", None, False, None, None, False),
    ("-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL", "2 /* 8222 in strace's PID NS */", 8222, True, 0,
     None, False),
    ("-1, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL", "8173", 8173, False, None, "SIGSTOP",
     False),
])
def test_wait_info(args, ret, pid, exited, code, signal, core):
    wi = wait_info("wait4", args, ret)
    assert (wi.pid, wi.exited, wi.code, wi.signal, wi.core) == (pid, exited, code, signal, core)


def test_wait_info_waitid():
    wi = wait_info("waitid", "P_ALL, 0, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=77, si_uid=0, "
                             "si_status=3, si_utime=0, si_stime=0}, WEXITED, NULL", "0")
    assert wi.pid == 77 and wi.exited and wi.code == 3


@pytest.mark.parametrize("args,persona,linux32,query", [
    ("PER_LINUX32", 8, True, False),
    ("PER_LINUX", 0, False, False),
    ("0xffffffff", 0xFFFFFFFF, False, True),
    ("PER_LINUX32|ADDR_NO_RANDOMIZE", 0x40008, True, False),
])
def test_personality_info(args, persona, linux32, query):
    pi = personality_info("personality", args, "0 (PER_LINUX)")
    assert (pi.persona, pi.linux32, pi.query) == (persona, linux32, query)


def test_exit_info():
    assert exit_info("exit_group", "125", "?").status == 125
    assert exit_info("exit", "0 ", "").status == 0
    assert exit_info("exit_group", "", "?").status is None
    assert exit_info("write", "1", "1") is None


# ---- value classes made on first use (start-up of ``tracerule graph``) ---------------------------

LATER_CLASSES = ["KillInfo", "PtraceInfo", "SockaddrInfo", "SocketInfo", "PrctlInfo", "NamespaceInfo",
                 "CapsetInfo", "PersonalityInfo", "ExitInfo"]


def test_rare_value_classes_are_not_made_at_import():
    import subprocess
    import sys

    code = ("import tracerule.strace.values as V, tracerule.graph.build; "
            f"print(sorted(n for n in {LATER_CLASSES!r} if n in vars(V)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", LATER_CLASSES)
def test_rare_value_classes_are_the_usual_dataclasses(name):
    import dataclasses
    import pickle

    from tracerule.strace import values as V

    cls = getattr(V, name)
    assert dataclasses.is_dataclass(cls) and cls.__qualname__ == name
    assert cls.__module__ == "tracerule.strace.values" and "__slots__" in vars(cls)
    ns: dict = {}
    exec(f"from tracerule.strace.values import {name}", ns)
    assert ns[name] is cls
    fields = dataclasses.fields(cls)
    obj = cls(*[None] * sum(1 for f in fields if f.default is dataclasses.MISSING))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, fields[0].name, "x")
    assert pickle.loads(pickle.dumps(obj)) == obj and repr(obj).startswith(name + "(")


def test_rare_value_classes_from_their_decoders():
    from tracerule.strace import values as V

    k = V.kill_info("tgkill", "100, 101, SIGTERM", "0")
    assert isinstance(k, V.KillInfo) and (k.tgid, k.pid, k.signo) == (100, 101, 15)
    assert V.exit_info("exit_group", "3") == V.ExitInfo("exit_group", 3)
    s = V.socket_info("connect", '3<socket:[1]>, {sa_family=AF_UNIX, sun_path="/x"}, 110', "0")
    assert isinstance(s, V.SocketInfo) and isinstance(s.sockaddr, V.SockaddrInfo)
    with pytest.raises(AttributeError):
        V.NoSuchInfo  # noqa: B018


@pytest.mark.parametrize("args,count", [
    ('"/bin/true", ["true"], 0x7ffd0 /* 1 var */', 1),         # strace's singular
    ('"/bin/true", ["true"], 0x7ffd0 /* 3 vars */', 3),
    ('"/bin/true", ["true"], [/* 1 var */]', 1),
    ('"/bin/true", ["true"], [/* 0 vars */]', 0),
])
def test_exec_env_count_singular_and_plural(args, count):
    assert exec_info("execve", args, "0").env_count == count
