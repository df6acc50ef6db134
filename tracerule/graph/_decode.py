"""Private argument decoding for the few syscalls the process graph reads.

Only what the graph needs, on raw ``Syscall.args`` / ``ret_text`` text: clone flags and child
pids (with ``/* N in strace's PID NS */``), exec path and argv, set*id values, get*id arrays,
siginfo fields, the loginuid write.  Kept here (not in :mod:`tracerule.strace.values`) so the
graph does not depend on that module's exact contract; everything here is defensive: on text it
does not understand it returns None, never raises.
"""
from __future__ import annotations

import re

from tracerule.strace.constants import CLONE_FLAGS

CLONE_THREAD = 0x00010000
CLONE_VM = 0x00000100
CLONE_VFORK = 0x00004000
CLONE_PARENT = 0x00008000
CLONE_NEWPID = 0x20000000

_PIDNS_RE = re.compile(r"/\*\s*(\d+) in strace's PID NS\s*\*/")
_INT_RE = re.compile(r"\s*(-?(?:0x[0-9a-fA-F]+|\d+))")
_ESC = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "\\": 92, '"': 34, "'": 39,
        "e": 27, "?": 63}


def parse_int(text: str) -> int | None:
    """An integer in strace's forms: decimal, -1, 0x.., octal 0NN; trailing decoration ignored."""
    m = _INT_RE.match(text)
    if not m:
        return None
    tok = m.group(1)
    try:
        if tok.startswith(("0x", "-0x")):
            return int(tok, 16)
        if len(tok) > 1 and tok.startswith("0") and tok.isdigit():
            return int(tok, 8)
        return int(tok)
    except ValueError:
        return None


def pidns_translated(text: str) -> int | None:
    """The global pid of ``N /* G in strace's PID NS */`` (``--pidns-translation``), else None."""
    m = _PIDNS_RE.search(text)
    return int(m.group(1)) if m else None


def split_top(text: str) -> list[str]:
    """Split an argument list at top-level commas (quotes, brackets, comments, fd ``<..>`` aware)."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    prev = ""
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "<" and prev.isdigit():
            # -y fd decoration: skip to the matching '>' (nested <..> possible)
            d = 0
            while i < n:
                if text[i] == "<":
                    d += 1
                elif text[i] == ">":
                    d -= 1
                    if d == 0:
                        break
                i += 1
        elif c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        prev = c
        i += 1
    tail = text[start:].strip()
    if tail or out:
        out.append(tail)
    return out


def decode_string(tok: str) -> tuple[bytes, bool] | None:
    """A strace quoted string -> (bytes, truncated).  None when ``tok`` is not a string."""
    tok = tok.strip()
    if not tok.startswith('"'):
        return None
    out = bytearray()
    i = 1
    n = len(tok)
    while i < n:
        c = tok[i]
        if c == '"':
            return bytes(out), tok[i + 1:].startswith("...")
        if c == "\\" and i + 1 < n:
            d = tok[i + 1]
            if d == "x" and i + 3 < n + 1:
                hx = tok[i + 2:i + 4]
                try:
                    out.append(int(hx, 16))
                    i += 4
                    continue
                except ValueError:
                    pass
            if d in "01234567":
                j = i + 1
                while j < n and j < i + 4 and tok[j] in "01234567":
                    j += 1
                out.append(int(tok[i + 1:j], 8) & 0xFF)
                i = j
                continue
            out.append(_ESC.get(d, ord(d) if ord(d) < 128 else 63))
            i += 2
            continue
        out += c.encode("utf-8", "surrogateescape")
        i += 1
    return bytes(out), True  # unterminated


def decode_str_array(tok: str) -> tuple[list[bytes], bool] | None:
    """``["a", "b"...]`` / ``[..., ...]`` -> (items, truncated).  None for a pointer/NULL."""
    tok = tok.strip()
    if not tok.startswith("[") or not tok.endswith("]"):
        return None
    items: list[bytes] = []
    trunc = False
    for part in split_top(tok[1:-1]):
        if part == "...":
            trunc = True
            continue
        s = decode_string(part)
        if s is None:
            continue
        items.append(s[0])
        trunc = trunc or s[1]
    return items, trunc


def clone_flags(name: str, args: str) -> int:
    """CLONE_* bits of a clone/clone3/fork/vfork call (names, raw hex, ``-X verbose`` forms)."""
    if name == "vfork":
        return CLONE_VM | CLONE_VFORK
    if name == "fork":
        return 0
    i = args.find("flags=")
    if i < 0:
        return 0
    j = i + 6
    n = len(args)
    k = j
    while k < n and args[k] not in ",}) ":
        k += 1
    value = 0
    for part in args[j:k].split("|"):
        part = part.strip()
        if not part:
            continue
        if part in CLONE_FLAGS:
            value |= CLONE_FLAGS[part]
        elif part.startswith("0x"):
            v = parse_int(part)
            if v is not None:
                value |= v
        # a bare decimal (``|17`` under -X raw) or SIGxxx is the exit signal, not a flag
    # -X verbose prints the raw value first and the names in a comment; raw hex may carry the
    # exit signal in the low byte, which is not a flag.
    return value & ~0xFF


def exec_parts(name: str, args: str) -> tuple[bytes | None, list[bytes] | None, bool]:
    """(path, argv, argv_truncated) of execve/execveat."""
    parts = split_top(args)
    if name == "execveat":
        parts = parts[1:]
    path = decode_string(parts[0])[0] if parts and decode_string(parts[0]) else None
    argv = None
    trunc = False
    if len(parts) > 1:
        arr = decode_str_array(parts[1])
        if arr is not None:
            argv, trunc = arr
    return path, argv, trunc


def int_args(args: str) -> list[int | None]:
    return [parse_int(p) for p in split_top(args)]


def bracket_ints(args: str) -> list[int | None]:
    """``[1001], [0], [0]`` -> [1001, 0, 0]."""
    out: list[int | None] = []
    for p in split_top(args):
        p = p.strip()
        if p.startswith("[") and p.endswith("]"):
            out.append(parse_int(p[1:-1]))
        else:
            out.append(None)
    return out


def groups_arg(args: str) -> tuple[int, ...] | None:
    """setgroups(N, [a, b]) -> (a, b); ``NULL`` with N=0 -> ()."""
    parts = split_top(args)
    if len(parts) < 2:
        return None
    arr = parts[1].strip()
    if arr == "NULL" or arr == "[]":
        return ()
    if arr.startswith("[") and arr.endswith("]"):
        vals = []
        for p in split_top(arr[1:-1]):
            v = parse_int(p)
            if v is None:
                return None
            vals.append(v)
        return tuple(vals)
    return None


_SI_RE = re.compile(r"\b(si_pid|si_uid|si_code|si_status)=([^,}]+)")


def siginfo(info: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in _SI_RE.finditer(info)}


def si_pid(info: str) -> int | None:
    fields = siginfo(info)
    raw = fields.get("si_pid")
    if raw is None:
        return None
    g = pidns_translated(raw)
    return g if g is not None else parse_int(raw)


_LOGINUID_RE = re.compile(r"^/proc/(?:self|\d+|thread-self)/(?:task/\d+/)?loginuid$")


def is_loginuid_path(path: bytes | str) -> bool:
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    return bool(_LOGINUID_RE.match(path))


def fd_decoration(tok: str) -> str | None:
    """``1</proc/8027/loginuid>`` -> ``/proc/8027/loginuid`` (outer decoration, unescaped)."""
    tok = tok.strip()
    i = tok.find("<")
    if i <= 0 or not tok[:i].lstrip("-").isdigit() or not tok.endswith(">"):
        return None
    return tok[i + 1:-1]


def leading_fd(tok: str) -> int | None:
    tok = tok.strip()
    m = _INT_RE.match(tok)
    return int(m.group(1)) if m and not m.group(1).startswith("0x") else None
