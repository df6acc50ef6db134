"""Hypothesis properties of tracerule.strace.values: round trips and robustness."""
from __future__ import annotations

import os
import string

from hypothesis import HealthCheck, given, settings, strategies as st

from tracerule.strace import constants as C
from tracerule.strace.values import (
    QUOTE_STYLES, StrValue, capset_info, clone_info, exit_info, namespace_info, personality_info,
    prctl_info, wait_info, decode_str_array, decode_string, exec_info, fd_value,
    kill_info, open_info, parse_flags, parse_int, parse_ret, parse_struct, ptrace_info,
    quote_like_strace, setid_info, siginfo, socket_info, split_args, write_info,
)

# TRACERULE_HYPOTHESIS_EXAMPLES raises the count for a longer local run
SETTINGS = settings(max_examples=int(os.environ.get("TRACERULE_HYPOTHESIS_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

styles = st.sampled_from(QUOTE_STYLES)


@SETTINGS
@given(st.binary(max_size=80), styles)
def test_quote_roundtrip(data, style):
    q = quote_like_strace(data, style)
    assert q.isascii()  # strace output is ASCII whatever the bytes
    assert decode_string(q) == StrValue(data, False)


@SETTINGS
@given(st.binary(max_size=80), styles, st.integers(min_value=0, max_value=40))
def test_quote_truncated_roundtrip(data, style, max_len):
    q = quote_like_strace(data, style, max_len=max_len)
    sv = decode_string(q)
    assert sv.data == data[:max_len]
    assert sv.truncated == (len(data) > max_len)


@SETTINGS
@given(st.binary(max_size=60))
def test_quote_escape_chars_roundtrip(data):
    q = quote_like_strace(data, escape_chars=b"<>")
    assert "<" not in q and ">" not in q
    assert decode_string(q).data == data


# ----------------------------------------------------------------------------------------------
# Random argument lists as strace prints them
# ----------------------------------------------------------------------------------------------

names = st.text(string.ascii_uppercase + "_", min_size=1, max_size=12).map(lambda s: "X" + s)
ints = st.one_of(
    st.integers(-(2**31), 2**63).map(str),
    st.integers(0, 2**64).map(hex),
    st.integers(0, 0o7777).map(lambda v: "0" + format(v, "o")),
    st.tuples(st.integers(1, 9999), st.integers(1, 9999)).map(lambda t: f"{t[0]}*{t[1]}"),
)
strings = st.tuples(st.binary(max_size=30), styles, st.booleans()).map(
    lambda t: quote_like_strace(t[0], t[1], max_len=10 if t[2] else None))
comment_text = st.text(string.ascii_letters + string.digits + " ,|=_'()[]{}<>\"", max_size=20).filter(
    lambda s: "*/" not in s)
path_bytes = st.binary(max_size=20).map(lambda b: b"/" + b)


def fd_deco(t):
    fd, path, dev, deleted = t
    inner = quote_like_strace(path, escape_chars=b"<>")[1:-1]
    if dev:
        inner += "<char 136:%d>" % dev
    return f"{fd}<{inner}>" + (" (deleted)" if deleted else "")


fds = st.tuples(st.integers(0, 1023), path_bytes, st.integers(0, 3), st.booleans()).map(fd_deco)
sockets = st.tuples(st.integers(0, 99), st.sampled_from(["UNIX", "TCP", "pipe", "NETLINK"]),
                    st.integers(0, 99999)).map(lambda t: f"{t[0]}<{t[1]}:[{t[2]}->{t[2] + 1}]>")
scalars = st.one_of(
    ints, strings, names, fds, sockets,
    st.just("NULL"), st.just("..."),
    st.tuples(ints, comment_text).map(lambda t: f"{t[0]} /* {t[1]} */"),
    st.lists(names, max_size=4).map(lambda xs: "|".join(xs) or "0"),
    st.lists(names, max_size=4).map(lambda xs: "~[" + " ".join(xs) + "]"),
    st.tuples(names, ints).map(lambda t: f"1<<{t[0]}|{t[1]}"),
)


def compound(children):
    field = st.tuples(st.text(string.ascii_lowercase + "_", min_size=1, max_size=8), children).map(
        lambda t: f"{t[0]}={t[1]}")
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(field, max_size=4).map(lambda xs: "{" + ", ".join(xs) + "}"),
        st.tuples(st.text(string.ascii_lowercase, min_size=1, max_size=8),
                  st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, children).map(lambda t: f"{t[0]} => {t[1]}"),
        st.lists(field, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "} => {parent_tid=[7]}"),
    )


values = st.recursive(scalars, compound, max_leaves=12)


@SETTINGS
@given(st.lists(values, max_size=7))
def test_split_args_returns_generated_tokens(tokens):
    assert split_args(", ".join(tokens)) == tokens


@SETTINGS
@given(st.lists(st.binary(max_size=20), max_size=8), styles, st.booleans())
def test_str_array_roundtrip(items, style, elide):
    text = "[" + ", ".join([quote_like_strace(b, style) for b in items] + (["..."] if elide else [])) + "]"
    sa = decode_str_array(text)
    assert sa.items == tuple(items) and sa.elided == elide and sa.truncated == elide


@SETTINGS
@given(st.integers(0, 2**20), path_bytes, st.booleans(), st.booleans())
def test_fd_value_roundtrip(fd, path, dev, deleted):
    tok = fd_deco((fd, path, 5 if dev else 0, deleted))
    v = fd_value(tok)
    assert (v.fd, v.path, v.deleted) == (fd, path, deleted)
    assert v.kind == ("char" if dev else None)
    assert parse_int(tok) == fd


@SETTINGS
@given(st.integers(-(2**40), 2**40))
def test_parse_int_forms(v):
    assert parse_int(str(v)) == v
    assert parse_int(f"{v} /* comment, with = stuff */") == v
    if v >= 0:
        assert parse_int(hex(v)) == v
        assert parse_int("0" + format(v, "o")) == v


@SETTINGS
@given(st.sets(st.sampled_from(sorted(C.CLONE_FLAGS)), max_size=8), st.integers(0, 64),
       st.sampled_from(["names", "raw", "verbose"]))
def test_clone_flags_all_styles(flagset, sig, style):
    bits = 0
    for f in flagset:
        bits |= C.CLONE_FLAGS[f]
    bits &= 0xFFFFFFFF & ~C.CSIGNAL  # clone(2) (not clone3) flags
    names = [f for f in sorted(flagset) if C.CLONE_FLAGS[f] & bits]
    sig_name = C.SIGNAL_NAMES.get(sig)
    if style == "names":
        parts = names + ([sig_name] if sig and sig_name else [hex(sig)] if sig else [])
        text = "|".join(parts) or "0"
    elif style == "raw":
        text = hex(bits) + (f"|{sig}" if sig else "") if bits else str(sig)
    else:
        text = hex(bits | sig) + " /* " + ("|".join(names) or "0") + " */"
    ci = clone_info("clone", f"child_stack=NULL, flags={text}, child_tidptr=0x7f", "42")
    assert ci.flags == bits
    assert ci.exit_signal == sig
    assert ci.is_thread == bool(bits & C.CLONE_THREAD)
    assert ci.vfork == bool(bits & C.CLONE_VFORK)
    assert ci.clone_parent == bool(bits & C.CLONE_PARENT)
    assert ci.child == 42


@SETTINGS
@given(st.binary(min_size=1, max_size=40), st.lists(st.binary(max_size=20), max_size=6), styles)
def test_exec_info_roundtrip(path, argv, style):
    args = (quote_like_strace(path, style) + ", ["
            + ", ".join(quote_like_strace(a, style) for a in argv) + "], 0x7ffd0000 /* 4 vars */")
    ei = exec_info("execve", args, "0")
    assert ei.path == path and ei.argv == tuple(argv) and ei.env_count == 4 and ei.ok


HELPERS = [clone_info, exec_info, setid_info, open_info, write_info, kill_info, ptrace_info, socket_info,
           prctl_info, namespace_info, capset_info, wait_info, personality_info, exit_info]
NAMES = ["clone", "clone3", "fork", "vfork", "execve", "execveat", "setuid", "setresuid32",
         "setgroups", "getresuid", "getuid", "setfsuid", "open", "openat", "openat2", "creat",
         "write", "kill", "tgkill", "pidfd_send_signal", "ptrace", "socket", "connect", "bind",
         "sendto", "accept4", "prctl", "unshare", "setns", "capset", "wait4", "waitid",
         "personality", "exit_group"]
garbage = st.one_of(
    st.text(max_size=120),
    st.text(alphabet='"\\<>[]{}()/*=, .~|-0123456789xabcAT_FDCWD', max_size=120),
    st.lists(values, max_size=6).map(", ".join).flatmap(
        lambda s: st.integers(0, len(s)).map(lambda k: s[:k])),   # cut at any point
)


@SETTINGS
@given(garbage, garbage, st.sampled_from(NAMES))
def test_nothing_raises_on_arbitrary_text(args, ret, name):
    split_args(args)
    decode_string(args)
    parse_int(args)
    fd_value(args)
    decode_str_array(args)
    parse_flags(args, C.CLONE_ARG_TABLE)
    parse_struct(args)
    siginfo(args)
    parse_ret(ret)
    for h in HELPERS:
        h(name, args, ret)


# ----------------------------------------------------------------------------------------------
# Fast paths (plain argv arrays, execve's usual head, clone's usual form) = the general path
# ----------------------------------------------------------------------------------------------

import contextlib  # noqa: E402
import re  # noqa: E402

from tracerule.strace import values as V  # noqa: E402

_NEVER = re.compile(r"(?!)")
_FAST = ("_PLAIN_ARRAY_RE", "_EXECVE_PLAIN_RE", "_CLONE_PLAIN_RE")


@contextlib.contextmanager
def general_path():
    """Turn the fast paths off (their regexes never match) and empty the clone-flags memo."""
    saved = {n: getattr(V, n) for n in _FAST}
    memo = dict(V._CLONE_FLAGS_MEMO)
    try:
        for n in _FAST:
            setattr(V, n, _NEVER)
        V._CLONE_FLAGS_MEMO.clear()
        yield
    finally:
        for n, v in saved.items():
            setattr(V, n, v)
        V._CLONE_FLAGS_MEMO.clear()
        V._CLONE_FLAGS_MEMO.update(memo)


def _both(fn, *args):
    fast = fn(*args)
    with general_path():
        slow = fn(*args)
    assert fast == slow, (args, fast, slow)
    return fast


array_items = st.one_of(
    strings, strings, st.just("..."), st.just('""'), st.just('"a"...'), st.just("0x7ffd1234"),
    st.just("NULL"), st.just("/* 3 vars */"), st.just('"x" /* c */'), st.just('"a, b"'),
    st.just('"]"'), st.just('"\\""'), st.just("\"\\\\\""), st.text(max_size=4),
)
seps = st.sampled_from([", ", ", ", ", ", ",", " , ", ",  "])


def _join(items, sep_list):
    out = ""
    for i, it in enumerate(items):
        out += (sep_list[i % len(sep_list)] if i else "") + it
    return out


arrays = st.tuples(st.lists(array_items, max_size=6), st.lists(seps, min_size=1, max_size=3),
                   st.sampled_from(["[%s]", "[%s]", " [%s] ", "[%s", "[ %s ]", "%s"])).map(
    lambda t: t[2] % _join(t[0], t[1]))
envps = st.one_of(arrays, st.sampled_from([
    "0x7ffd0000 /* 4 vars */", "0x7ffd /* 1 var */", "NULL", "0x7ffd0000", "[/* 21 vars */]",
    "0x7ffd0000 /* 4 vars */, 7", "", "0xZZ /* 4 vars */", "0x7ffd0000  /* 4 vars */"]))


@SETTINGS
@given(arrays)
def test_str_array_fast_path_is_general_path(token):
    _both(decode_str_array, token)


@SETTINGS
@given(st.one_of(strings, st.just('"/bin/sh"'), st.just('"a"...'), st.just("NULL")), arrays, envps,
       st.sampled_from([", ", ", ", ","]), st.sampled_from(["0", "-1 ENOENT (No such file)", "", "?"]),
       st.booleans())
def test_exec_info_fast_path_is_general_path(path, argv, envp, sep, ret, with_env):
    args = path + sep + argv + ((", " + envp) if with_env else "")
    ei = _both(exec_info, "execve", args, ret)
    head = V.execve_head(args)
    if head is not None:         # the graph's shortcut: the same three values
        assert head == (ei.path, ei.argv, ei.argv_truncated)


clone_values = st.sampled_from(["NULL", "0", "0x7f4a53a13a10", "[8016]", "8016", "0x0", "[]",
                                "{a=1}", '"x"', "0x1 /* c */", "NULL <x>"])
clone_names = st.sampled_from(["child_stack", "flags", "parent_tid", "parent_tidptr", "tls",
                               "child_tidptr", "stack_size", "Flags"])
clone_flag_texts = st.one_of(
    st.lists(st.sampled_from(sorted(C.CLONE_FLAGS) + ["SIGCHLD", "SIGUSR1", "0x11", "17", "CLONE_BOGUS",
                                                      "0", "x"]), max_size=5).map("|".join),
    st.sampled_from(["0x3d0f00 /* CLONE_VM|... */", "CLONE_VM | SIGCHLD", "CLONE_VM|SIGCHLD ", ""]))


@SETTINGS
@given(clone_values, clone_flag_texts, st.lists(st.tuples(clone_names, clone_values), max_size=4),
       st.sampled_from(["clone", "clone2", "clone3", "fork", "vfork"]),
       st.sampled_from(["8390", "-1 EAGAIN (Resource temporarily unavailable)", "", "2 /* 8222 in strace's PID NS */"]))
def test_clone_info_fast_path_is_general_path(stack, flags, rest, name, ret):
    args = ", ".join([f"child_stack={stack}", f"flags={flags}"] + [f"{k}={v}" for k, v in rest])
    _both(clone_info, name, args, ret)
    _both(clone_info, name, args, ret)    # the memo's answer too


def test_fast_paths_on_every_corpus_call():
    """Every execve/clone/argv text of the corpus traces decodes the same either way."""
    from tests.conftest import DATA, SAMPLES

    seen = heads = 0
    traces = sorted(DATA.glob("strace*/*.txt")) + sorted(SAMPLES.glob("*.txt"))
    for path in traces:
        for line in path.read_text(errors="surrogateescape").splitlines():
            for name, fn in (("execve(", exec_info), ("clone(", clone_info)):
                k = line.find(name)
                if k < 0:
                    continue
                body = line[k + len(name):]
                end = body.rfind(") = ")
                args = body[:end] if end >= 0 else body
                info = _both(fn, name[:-1], args, body[end + 4:] if end >= 0 else "")
                if fn is exec_info and V.execve_head(args) is not None:
                    assert V.execve_head(args) == (info.path, info.argv, info.argv_truncated)
                    heads += 1
                seen += 1
    assert seen > 50 and heads > 20
