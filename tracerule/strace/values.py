"""Lazy decoding of strace argument and return texts.

The reader keeps a syscall's arguments as raw text (:class:`tracerule.strace.events.Syscall`);
these pure functions turn the text into values only for the few syscalls a consumer asks about.
Nothing here does I/O, and nothing raises on malformed text: a value that cannot be read is
``None`` (or a best-effort result), so the args of a resumed orphan (partial text) or a cut line
are safe to pass in.

Grammar: ``/work/shared/docs/strace-format.md`` §4 (strings per strace ``util.c:string_quote``).

Text model: tokens are ``str``.  strace escapes every non-printable and non-ASCII byte inside
strings, so trace lines are ASCII in practice; any other character is turned into bytes with
UTF-8 and ``surrogateescape`` (so a line decoded that way by the reader round-trips exactly).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from tracerule.strace import constants as C

__all__ = [
    "StrValue", "StrArray", "FdValue", "SigInfo", "CloneInfo", "ExecInfo", "SetIdInfo",
    "OpenInfo", "WriteInfo", "KillInfo", "PtraceInfo", "SocketInfo", "SockaddrInfo", "RetValue",
    "split_args", "split_changed", "strip_comments", "decode_string", "unescape", "to_text",
    "quote_like_strace", "parse_int", "pidns_translation", "fd_value", "decode_str_array",
    "parse_flags", "parse_struct", "parse_int_array", "siginfo", "parse_ret", "clone_info",
    "exec_info", "setid_info", "open_info", "write_info", "kill_info", "ptrace_info",
    "socket_info", "sockaddr_info", "prctl_info", "namespace_info", "capset_info", "wait_info",
    "personality_info", "exit_info", "PrctlInfo", "NamespaceInfo", "CapsetInfo", "WaitInfo",
    "PersonalityInfo", "ExitInfo", "CREATION_SYSCALLS", "EXEC_SYSCALLS", "SETID_SYSCALLS",
    "GETID_SYSCALLS", "OPEN_SYSCALLS", "execve_head",
]

# ----------------------------------------------------------------------------------------------
# Tokenizing
# ----------------------------------------------------------------------------------------------

_OPEN = {"[": "]", "{": "}", "(": ")"}
_CLOSE = {"]", "}", ")"}


_STR_BODY_RE = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
_SPECIAL_RE = re.compile(r'["/\[\]{}()<,]')


def _skip_string(text: str, i: int, n: int) -> int:
    """``text[i]`` is ``"``: return the index just after the closing quote (or ``n``)."""
    m = _STR_BODY_RE.match(text, i + 1)
    return m.end() if m else n


def _angle_opens(text: str, i: int, start: int) -> bool:
    """Is the ``<`` at ``text[i]`` an fd/pid decoration (``3</x>``, ``AT_FDCWD</x>``, ``8152<sh>``)?"""
    if i + 1 < len(text) and text[i + 1] in "<=":  # 1<<CAP_X shift, <= comparison
        return False
    if i == start:
        return True  # "<... resuming interrupted nanosleep ...>" style literal
    p = text[i - 1]
    return p.isalnum() or p == "_"


def _skip_angle(text: str, i: int, n: int) -> int:
    """``text[i]`` opens a decoration: index after its matching ``>``.

    Handles nested ``<char 136:0>`` and, for socket/pipe decorations (not paths), ``[...]`` that
    may hold ``->`` (``TCP:[1.2.3.4:5->6.7.8.9:10]``).  Paths never hold a raw ``<`` or ``>``
    (strace octal-escapes them) but may hold unbalanced brackets.
    """
    depth = 0
    brackets = 0
    track = i + 1 < n and text[i + 1] != "/"
    while i < n:
        c = text[i]
        if c == "<":
            depth += 1
        elif c == ">":
            if brackets == 0:
                depth -= 1
                if depth == 0:
                    return i + 1
        elif c == "[":
            if track:
                brackets += 1
        elif c == "]":
            if brackets:
                brackets -= 1
        elif c == "\\":
            i += 1
        i += 1
    return n


def split_args(text: str) -> list[str]:
    """Split an argument list at its top-level ``", "`` separators.

    Respects quoted strings (backslash escapes, a trailing ``...``), ``[] {} ()`` nesting,
    ``<...>`` decorations after fds/pids (nested ones too), ``/* ... */`` comments, ``~[...]``
    bitsets and `` => `` changed values (kept inside one token).  Tokens are stripped of
    surrounding blanks; an empty argument list gives ``[]``.  Never raises: unbalanced text
    gives a best-effort split.
    """
    if not text:
        return []
    out: list[str] = []
    n = len(text)
    i = 0
    start = 0
    depth = 0
    search = _SPECIAL_RE.search
    while True:
        m = search(text, i)
        if m is None:
            break
        i = m.start()
        c = text[i]
        if c == '"':
            i = _skip_string(text, i, n)
            continue
        if c == "/":
            if text.startswith("/*", i):
                j = text.find("*/", i + 2)
                i = n if j < 0 else j + 2
            else:
                i += 1
            continue
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            if depth:
                depth -= 1
        elif c == "<":
            if _angle_opens(text, i, start):
                i = _skip_angle(text, i, n)
                continue
        elif depth == 0 and i + 1 < n and text[i + 1] == " ":  # ","
            out.append(text[start:i].strip())
            i += 2
            start = i
            continue
        i += 1
    last = text[start:].strip()
    if last or out:
        out.append(last)
    return out


_FIND_TOP_RES: dict[str, re.Pattern[str]] = {}


def _find_top(text: str, needle: str) -> int:
    """Index of the first top-level (outside strings, brackets, comments, decorations) ``needle``."""
    rx = _FIND_TOP_RES.get(needle)
    if rx is None:
        rx = _FIND_TOP_RES[needle] = re.compile(r'["/\[\]{}()<]|' + re.escape(needle))
    n = len(text)
    i = 0
    depth = 0
    while True:
        m = rx.search(text, i)
        if m is None:
            return -1
        i = m.start()
        c = text[i]
        if c == '"':
            i = _skip_string(text, i, n)
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            if depth:
                depth -= 1
        elif c == "<" and _angle_opens(text, i, 0):
            i = _skip_angle(text, i, n)
            continue
        elif depth == 0 and text.startswith(needle, i):
            return i
        i += 1


def split_changed(token: str) -> tuple[str, str | None]:
    """``"{...} => {parent_tid=[7002]}"`` -> (``"{...}"``, ``"{parent_tid=[7002]}"``).

    strace prints ``BEFORE => AFTER`` for values the kernel changed; the second part is None when
    the token has no top-level `` => ``.
    """
    k = _find_top(token, " => ")
    if k < 0:
        return token, None
    return token[:k].strip(), token[k + 4:].strip()


_COMMENT_RE = re.compile(r"\s*/\*.*?\*/")


def strip_comments(token: str) -> str:
    """Remove ``/* ... */`` comments (outside strings) and strip blanks."""
    if "/*" not in token:
        return token.strip()
    if '"' not in token:
        return _COMMENT_RE.sub("", token).strip()
    parts: list[str] = []
    n = len(token)
    i = 0
    last = 0
    while i < n:
        c = token[i]
        if c == '"':
            i = _skip_string(token, i, n)
            continue
        if c == "/" and token.startswith("/*", i):
            parts.append(token[last:i].rstrip())
            j = token.find("*/", i + 2)
            i = n if j < 0 else j + 2
            last = i
            continue
        i += 1
    parts.append(token[last:])
    return "".join(parts).strip()


# ----------------------------------------------------------------------------------------------
# Strings
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StrValue:
    """A decoded string literal: the exact bytes, and whether strace cut it (``"..."...``)."""

    data: bytes
    truncated: bool = False

    @property
    def text(self) -> str:
        return to_text(self.data)


_SIMPLE_ESC = {
    ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("v"): 11, ord("f"): 12,
    ord("a"): 7, ord("b"): 8, ord("e"): 27, ord('"'): 34, ord("\\"): 92, ord("'"): 39,
    ord("?"): 63,
}
_ESC_RE = re.compile(rb"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.?)", re.DOTALL)


def _esc_sub(m: re.Match[bytes]) -> bytes:
    e = m.group(1)
    if not e:
        return b""  # a lone backslash at the very end (cut text)
    c = e[0]
    if c == 0x78 and len(e) > 1:  # x
        return bytes((int(e[1:], 16),))
    if 0x30 <= c <= 0x37:
        return bytes((int(e, 8) & 0xFF,))
    v = _SIMPLE_ESC.get(c)
    if v is not None:
        return bytes((v,))
    return e  # unknown escape: keep the character


def _to_bytes(s: str) -> bytes:
    try:
        return s.encode("ascii")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape")


def unescape(body: str) -> bytes:
    """Decode the inside of a strace string literal (no quotes) to bytes."""
    raw = _to_bytes(body)
    if b"\\" not in raw:
        return raw
    return _ESC_RE.sub(_esc_sub, raw)


def decode_string(token: str) -> StrValue | None:
    """Decode a string literal token (``"..."``, ``"..."...``, ``-x``/``-xx`` hex, octal escapes).

    Returns None when the token is not a string literal (``NULL``, a pointer, a number).  A literal
    cut short (no closing quote) decodes what is there with ``truncated=True``.  A trailing
    comment or decoration after the closing quote is ignored.
    """
    if not token:
        return None
    t = token.lstrip()
    if not t.startswith('"'):
        return None
    n = len(t)
    end = _skip_string(t, 0, n)
    if end >= n and (n < 2 or t[n - 1] != '"' or _escaped_quote_at_end(t)):
        return StrValue(unescape(t[1:]), True)  # unterminated
    body = t[1:end - 1]
    truncated = t.startswith("...", end)
    return StrValue(unescape(body), truncated)


def _escaped_quote_at_end(t: str) -> bool:
    """Is the final ``"`` of ``t`` escaped (odd count of backslashes before it)?"""
    k = len(t) - 2
    count = 0
    while k >= 1 and t[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1


def to_text(data: bytes) -> str:
    """Bytes -> str for display: UTF-8 where valid, other bytes as surrogate escapes (lossless)."""
    return data.decode("utf-8", "surrogateescape")


_PRINTABLE = frozenset(range(0x20, 0x7F))
_WS_ESC = {9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
QUOTE_STYLES = ("default", "x", "xx", "non-ascii-chars")


def quote_like_strace(data: bytes, style: str = "default", *, escape_chars: bytes = b"",
                      max_len: int | None = None) -> str:
    """Quote ``data`` as strace's ``string_quote`` does, quotes included.

    ``style``: ``"default"`` (octal escapes, shortened when the next byte is not an octal digit),
    ``"x"`` (``-x``: the whole string in ``\\xNN`` when any byte is neither printable ASCII nor
    ``\\t\\n\\v\\f\\r``), ``"xx"`` (``-xx``: always all hex), ``"non-ascii-chars"``
    (``--strings-in-hex=non-ascii-chars``: per byte ``\\xNN`` instead of octal).
    ``escape_chars``: bytes to escape as octal too (``b"<>"`` for fd paths and ``-Y`` comms).
    ``max_len``: strace's ``-s``: only the first bytes are printed, then ``"...``.
    """
    truncated = max_len is not None and len(data) > max_len
    if truncated:
        data = data[:max_len]
    usehex = style == "xx"
    if style == "x":
        for c in data:
            if c > 0x7E or (c < 0x20 and not 9 <= c <= 13):
                usehex = True
                break
    if usehex:
        body = "".join("\\x%02x" % c for c in data)
    else:
        hexchars = style == "non-ascii-chars"
        parts: list[str] = []
        n = len(data)
        for i, c in enumerate(data):
            if c == 0x22:
                parts.append('\\"')
            elif c == 0x5C:
                parts.append("\\\\")
            elif c in _PRINTABLE and c not in escape_chars:
                parts.append(chr(c))
            elif c in _WS_ESC:
                parts.append(_WS_ESC[c])
            elif hexchars:
                parts.append("\\x%02x" % c)
            elif i + 1 < n and 0x30 <= data[i + 1] <= 0x37:
                parts.append("\\%03o" % c)
            else:
                parts.append("\\%o" % c)
        body = "".join(parts)
    return '"' + body + '"' + ("..." if truncated else "")


# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------

_INT_RE = re.compile(r"(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_PIDNS_RE = re.compile(r"/\*\s*(\d+) in strace's PID NS\s*\*/")


def _strip_decoration(t: str) -> str:
    """``3</path>`` -> ``3``; ``8152<sh>`` -> ``8152``; ``x (deleted)`` -> ``x``."""
    k = t.find("<")
    if k > 0 and not t.startswith("<<", k):
        t = t[:k]
    return t.strip()


def parse_int(token: str | None) -> int | None:
    """An integer argument or return: decimal, negative, ``0x`` hex, leading-``0`` octal,
    ``8192*1024``; comments (``-100 /* AT_FDCWD */``) and fd/pid decorations (``3</x>``,
    ``8152<sh>``) are ignored.  ``A => B`` gives B (the value after the call).  None otherwise.
    """
    if not token:
        return None
    t = token
    if "=>" in t:
        t = split_changed(t)[1] or t
    if "/*" in t:
        t = strip_comments(t)
    if "<" in t:
        t = _strip_decoration(t)
    t = t.strip()
    if not t:
        return None
    if "*" in t:
        a, _, b = t.partition("*")
        x, y = parse_int(a), parse_int(b)
        return None if x is None or y is None else x * y
    m = _INT_RE.fullmatch(t)
    if m is None:
        return None
    sign, digits = m.groups()
    if digits[:2] in ("0x", "0X"):
        v = int(digits[2:], 16)
    elif len(digits) > 1 and digits[0] == "0":
        v = int(digits, 8)
    else:
        v = int(digits)
    return -v if sign else v


def pidns_translation(text: str | None) -> int | None:
    """``2 /* 8222 in strace's PID NS */`` -> 8222 (``--pidns-translation``); None when absent."""
    if not text or "PID NS" not in text:
        return None
    m = _PIDNS_RE.search(text)
    return int(m.group(1)) if m else None


def parse_int_array(token: str | None) -> list[int] | None:
    """``[0]``, ``[1001, 27]``, ``[]`` -> list of ints; ``[8016]`` (``parent_tid=[N]``).

    None when the token is not an array.  Elements that are not integers (``...``, comments)
    are skipped.
    """
    if not token:
        return None
    t = strip_comments(token)
    if "=>" in t:
        t = split_changed(t)[1] or t
    if not (t.startswith("[") and t.endswith("]")):
        return None
    out = []
    for item in split_args(t[1:-1]):
        v = parse_int(item)
        if v is not None:
            out.append(v)
    return out


# ----------------------------------------------------------------------------------------------
# Return values
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RetValue:
    """A syscall's return text, decoded.

    ``value``: the number as printed (None for ``?``); ``pid``: the pidns-translated value when
    strace printed one (``= 2 /* 8222 in strace's PID NS */``), else ``value``; ``errno``: the
    ``E...`` name; ``comm``: the raw ``<...>`` decoration decoded to bytes (a ``-Y`` comm for pid
    returns: ``= 8152<sh>`` gives ``b"sh"``); ``fd``: the decoration read as an fd (``-y``); ``notes``: trailing parenthesised notes (``INJECTED``, ``DELAYED``, ``flags
    O_RDWR``...) without the parentheses; ``unavailable``: ``<unavailable>``.
    """

    value: int | None
    pid: int | None = None
    errno: str | None = None
    comm: bytes | None = None
    fd: "FdValue | None" = None
    notes: tuple[str, ...] = ()
    unavailable: bool = False


_ERRNO_RE = re.compile(r"\s+(E[A-Z0-9_]+)\b")
_NO_RET = RetValue(None)    # no return text (a call still pending, a consumer passing none)


def parse_ret(ret_text: str | None) -> RetValue:
    """Decode ``Syscall.ret_text``: ``0``, ``-1 ENOENT (No such ...)``, ``? ERESTARTNOINTR (...)``,
    ``0x7f...``, ``022``, ``3</etc/x>``, ``8152<sh>``, ``2 /* 8222 in strace's PID NS */``,
    ``10111 (DELAYED)``, ``-1 ENOENT (...) (INJECTED)``, ``? <unavailable>``.  Never raises.
    """
    if not ret_text:
        return _NO_RET
    t = ret_text.strip()
    unavailable = "<unavailable>" in t
    # first word: the number (with its decoration); decorations may contain spaces (<char 1:2>)
    if t.startswith("?"):
        head, rest = "?", t[1:]
    else:
        k = 0
        n = len(t)
        while k < n and t[k] not in " <":
            k += 1
        if k < n and t[k] == "<":
            k = _skip_angle(t, k, n)
        head, rest = t[:k], t[k:]
    value = parse_int(head) if head != "?" else None
    comm = None
    fd = None
    if "<" in head and value is not None:
        k = head.find("<")
        inner = head[k + 1:-1] if head.endswith(">") else head[k + 1:]
        comm = unescape(inner)
        fd = fd_value(head)
    pid = pidns_translation(rest)
    rest_nc = strip_comments(rest) if "/*" in rest else rest
    errno = None
    m = _ERRNO_RE.match(rest_nc)
    if m:
        errno = m.group(1)
    elif rest_nc.lstrip().startswith("(errno "):
        errno = rest_nc.lstrip()[1:].split(")")[0]
    notes = tuple(_paren_groups(rest_nc))
    if errno and notes and not notes[0].startswith(("flags", "INJECTED", "DELAYED")):
        notes = notes[1:]  # the strerror text
    if fd is not None and fd.path is not None and " (deleted)" in rest_nc:
        fd = FdValue(fd.fd, fd.path, fd.kind, fd.extra, True, fd.raw)
        notes = tuple(x for x in notes if x != "deleted")
    return RetValue(value, pid if pid is not None else value, errno, comm, fd, notes, unavailable)


def _paren_groups(text: str) -> list[str]:
    out = []
    n = len(text)
    i = 0
    while i < n:
        if text[i] == "(":
            depth = 0
            j = i
            while j < n:
                c = text[j]
                if c == '"':
                    j = _skip_string(text, j, n)
                    continue
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(text[i + 1:j].strip())
            i = j + 1
            continue
        i += 1
    return out


# ----------------------------------------------------------------------------------------------
# File descriptors
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FdValue:
    """An fd argument or return with its ``-y``/``-yy`` decoration.

    ``fd``: the number (``AT_FDCWD`` is -100).  ``path``: the decorated file path as bytes (when
    the decoration is a path).  ``kind``/``extra`` for other decorations: ``13<UNIX:[15042]>``
    gives kind ``"UNIX"``, extra ``"[15042]"``; ``3<pipe:[15192]>`` kind ``"pipe"``; the nested
    ``-yy`` device of ``1</dev/pts/0<char 136:0>>`` gives path ``/dev/pts/0``, kind ``"char"``,
    extra ``"136:0"``; a ``-Y`` comm (``8152<sh>``) has no kind, extra ``"sh"``.
    ``deleted``: `` (deleted)`` after (strace >= 5.19) or inside (older) the decoration.
    """

    fd: int | None
    path: bytes | None = None
    kind: str | None = None
    extra: str | None = None
    deleted: bool = False
    raw: str = ""


_KIND_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_ -]*?):(.*)", re.DOTALL)


def fd_value(token: str | None) -> FdValue | None:
    """Decode ``3``, ``3</etc/x>``, ``1</dev/pts/0<char 136:0>>``, ``13<UNIX:[15042]>``,
    ``3</tmp/app.log> (deleted)``, ``AT_FDCWD</tmp/gen>``, ``-100 /* AT_FDCWD */``.

    None when the token does not start with a number or ``AT_FDCWD``.
    """
    if not token:
        return None
    t = token.strip()
    deleted = False
    k = t.find("<")
    head = t if k < 0 else t[:k]
    if k < 0 and head.endswith("(deleted)"):
        head = head[: -len("(deleted)")]
    if "/*" in head:
        head = strip_comments(head)
    head = head.strip()
    if head in C.DIRFD_NAMES:
        fd: int | None = C.DIRFD_NAMES[head]
    else:
        fd = parse_int(head)
        if fd is None:
            return None
    if k < 0:
        return FdValue(fd, deleted=deleted, raw=token)
    end = _skip_angle(t, k, len(t))
    inner = t[k + 1:end - 1] if end <= len(t) and t[end - 1] == ">" else t[k + 1:]
    if t[end:].strip() == "(deleted)":
        deleted = True
    path: bytes | None = None
    kind: str | None = None
    extra: str | None = None
    # nested -yy device: "/dev/pts/0<char 136:0>"
    sub = inner.find("<")
    outer = inner
    if sub >= 0 and inner.endswith(">"):
        outer = inner[:sub]
        nested = inner[sub + 1:-1]
        kk, _, rest = nested.partition(" ")
        kind, extra = kk, rest or None
    if outer.endswith(" (deleted)"):  # strace < 5.19
        deleted = True
        outer = outer[: -len(" (deleted)")]
    if outer.startswith("/"):
        path = unescape(outer)
    elif kind is None:
        m = _KIND_RE.fullmatch(outer)
        if m:
            kind, extra = m.group(1), m.group(2)
        else:
            extra = outer
    else:
        path = unescape(outer)
    return FdValue(fd, path, kind, extra, deleted, token)


# ----------------------------------------------------------------------------------------------
# Arrays of strings
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StrArray:
    """argv / envp as printed.  ``items``: the decoded strings (a tuple of bytes, in order).

    ``truncated``: something is missing -- an element cut by ``-s`` (``"..."...``), the array
    elided (``, ...]``), an unreadable element, or only a count was printed.
    ``elided``: the array itself was cut (``, ...]``) or not printed (``[/* 21 vars */]``).
    ``count``: the count strace printed in a ``/* N vars */`` comment, else None.
    ``cut``: indexes of elements cut by ``-s``.
    """

    items: tuple[bytes, ...]
    truncated: bool = False
    elided: bool = False
    count: int | None = None
    cut: tuple[int, ...] = ()


_VARS_RE = re.compile(r"/\*\s*(\d+)\s+(?:vars?|entries|elements)\s*\*/")

# The form strace prints for nearly every argv/envp: string literals (each maybe cut, ``"..."...``)
# and an elision mark ``...``, separated by exactly ", ".  An array of that form is decoded by two
# C-level regex passes (validate, then pick the items) instead of split_args + decode_string per
# element; anything else (pointers, comments, odd blanks, cut text) takes the general path.  Both
# give the same result on this form (tests/strace/test_values_properties.py compares them).
# (string bodies as ``[^"\\]*(?:\\.[^"\\]*)*``: the same strings as ``(?:[^"\\]|\\.)*``, but sre
# runs it as a few tight loops instead of one alternation per character -- about 4x faster)
_BODY = r'[^"\\]*(?:\\.[^"\\]*)*'
_ITEM = r'"%s"(?:\.\.\.)?|\.\.\.' % _BODY
_PLAIN_ARRAY_RE = re.compile(r"\[((?:%s)(?:, (?:%s))*)?\]" % (_ITEM, _ITEM), re.DOTALL)
# the same bodies over the text's bytes: all of them (no "..." anywhere), or with their marks
_BODIES_B = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ITEMS_B = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"(\.\.\.)?|(\.\.\.)', re.DOTALL)


def _plain_array(inner: str | None) -> StrArray:
    """The :class:`StrArray` of the inside of an array :data:`_PLAIN_ARRAY_RE` matched.

    Works on the bytes of the text (as :func:`unescape` would make them): the regexes only look
    at ASCII quotes, backslashes and dots, which no UTF-8 or surrogate-escaped byte equals."""
    if not inner:
        return StrArray(())
    raw = _to_bytes(inner)
    esc = b"\\" in raw
    if b"..." not in raw:       # no elision mark, no cut element: the bodies are the items
        bodies = _BODIES_B.findall(raw)
        if esc:
            bodies = [_ESC_RE.sub(_esc_sub, b) if b"\\" in b else b for b in bodies]
        return StrArray(tuple(bodies))
    items: list[bytes] = []
    cut: list[int] = []
    elided = False
    for body, dots, elision in _ITEMS_B.findall(raw):
        if elision:
            elided = True
            continue
        if dots:
            cut.append(len(items))
        items.append(_ESC_RE.sub(_esc_sub, body) if esc and b"\\" in body else body)
    return StrArray(tuple(items), elided or bool(cut), elided, None, tuple(cut))


def decode_str_array(token: str | None) -> StrArray | None:
    """``["sh", "-c", "echo 1 > x "...]``, ``["a", ...]``, ``[/* 21 vars */]``, ``[]``,
    ``-xx`` hex elements, ``-v`` env arrays.  None for ``NULL``, a pointer (``0x7ffd... /* 4 vars
    */``) or anything that is not an array.
    """
    if not token:
        return None
    m = _PLAIN_ARRAY_RE.fullmatch(token)
    if m is not None:
        return _plain_array(m.group(1))
    return _decode_str_array(token)


def _decode_str_array(token: str) -> StrArray | None:
    """:func:`decode_str_array`, the general way (any form)."""
    t = token.strip()
    if not t.startswith("["):
        return None
    if not t.endswith("]"):
        # cut text: decode what is there
        inner = t[1:]
        cut_array = True
    else:
        inner = t[1:-1]
        cut_array = False
    stripped = inner.strip()
    if stripped.startswith("/*") and stripped.endswith("*/") and '"' not in stripped:
        m = _VARS_RE.search(stripped)
        return StrArray((), True, True, int(m.group(1)) if m else None)
    items: list[bytes] = []
    cut: list[int] = []
    truncated = cut_array
    elided = cut_array
    for el in split_args(inner):
        if el == "...":
            truncated = elided = True
            continue
        sv = decode_string(el)
        if sv is None:
            truncated = True  # unreadable element (pointer or comment)
            continue
        if sv.truncated:
            truncated = True
            cut.append(len(items))
        items.append(sv.data)
    return StrArray(tuple(items), truncated, elided, None, tuple(cut))


# ----------------------------------------------------------------------------------------------
# Flags and structs
# ----------------------------------------------------------------------------------------------

def _split_bar(t: str) -> list[str]:
    return [p.strip() for p in t.split("|")]


def parse_flags(token: str | None, table: Mapping[str, int]) -> int | None:
    """``CLONE_VM|CLONE_THREAD|0x400000``, ``O_RDONLY|O_CLOEXEC``, ``-X raw`` ``0x1200000|17``,
    ``-X verbose`` ``0x3d0f00 /* CLONE_VM|... */``, ``S_IFREG|0644``, ``1<<CAP_KILL|...``,
    ``0x8 /* MAP_??? */|MAP_ANONYMOUS``.  None when a name is not in ``table`` (never guesses),
    or the token is empty or not a flags expression.
    """
    if not token:
        return None
    t = strip_comments(token) if "/*" in token else token.strip()
    if not t:
        return None
    value = 0
    for part in _split_bar(t):
        if not part:
            return None
        v = parse_int(part)
        if v is None:
            if "<<" in part:
                a, _, b = part.partition("<<")
                base = parse_int(a)
                sh = table.get(b.strip())
                if sh is None:
                    sh = parse_int(b)
                if base is None or sh is None or sh < 0 or sh > 127:
                    return None
                v = base << sh
            else:
                v = table.get(part)
                if v is None:
                    return None
        value |= v
    return value


_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*(?:\[[0-9]+\])?)=(?![=>])")


def parse_struct(token: str | None) -> dict[str, str]:
    """``{a=1, b={c=2}, ...}`` -> ``{"a": "1", "b": "{c=2}"}`` (raw field texts).

    ``...`` is dropped; a field without a name (``WIFEXITED(s) && ...``) is kept under ``"#N"``
    (its position).  For ``{...} => {parent_tid=[N]}`` the fields of the right-hand struct
    (written by the kernel) override those of the left.  Not a struct: ``{}``.  Cut text: the
    fields that are there.
    """
    if not token:
        return {}
    t = token.strip()
    before, after = split_changed(t)
    out = _struct_fields(before)
    if after is not None:
        out.update(_struct_fields(after))
    return out


def _struct_fields(t: str) -> dict[str, str]:
    t = t.strip()
    if not t.startswith("{"):
        return {}
    inner = t[1:-1] if t.endswith("}") else t[1:]
    out: dict[str, str] = {}
    for i, f in enumerate(split_args(inner)):
        if not f or f == "...":
            continue
        m = _FIELD_RE.match(f)
        if m:
            out[m.group(1)] = f[m.end():].strip()
        else:
            out[f"#{i}"] = f
    return out


def _named_args(args: Sequence[str]) -> dict[str, str]:
    """Arguments printed as ``name=value`` (clone's ``flags=``, ``child_stack=``...)."""
    out = {}
    for a in args:
        m = _FIELD_RE.match(a)
        if m:
            out.setdefault(m.group(1), a[m.end():].strip())
    return out


# ----------------------------------------------------------------------------------------------
# Signals
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SigInfo:
    """Fields of a siginfo (``{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=8056, ...}``).

    ``signo``: the signal name (``-X raw``: the number as text, e.g. ``"17"``); ``signo_number``:
    its number when known.  ``pid``: ``si_pid``, pidns-translated when strace printed the
    translation; ``pid_ns``: ``si_pid`` as printed.  ``status``: ``si_status`` -- an exit code (int)
    for ``CLD_EXITED``, a signal name for ``CLD_KILLED``/``CLD_DUMPED``...  ``fields``: all raw fields.
    """

    signo: str | None
    code: str | None
    pid: int | None
    uid: int | None
    status: int | str | None
    pid_ns: int | None = None
    signo_number: int | None = None
    fields: tuple[tuple[str, str], ...] = ()


def _signal_number(t: str | None) -> int | None:
    if t is None:
        return None
    t2 = strip_comments(t)
    v = parse_int(t2)
    if v is not None:
        return v
    return C.SIGNALS.get(t2 if t2.startswith("SIG") else "SIG" + t2)


def siginfo(info: str | None) -> SigInfo | None:
    """Decode a siginfo text (``Signal.info``).  None when there is none (``""``)."""
    if not info or not info.strip().startswith("{"):
        return None
    f = parse_struct(info)
    signo = f.get("si_signo")
    if signo is not None:
        signo = strip_comments(signo)
    code = f.get("si_code")
    if code is not None:
        code = strip_comments(code)
    raw_pid = f.get("si_pid")
    pid_ns = parse_int(raw_pid) if raw_pid is not None else None
    tr = pidns_translation(raw_pid)
    uid = parse_int(f["si_uid"]) if "si_uid" in f else None
    status: int | str | None = None
    if "si_status" in f:
        st = f["si_status"]
        iv = parse_int(st)
        status = iv if iv is not None else strip_comments(st)
    return SigInfo(signo, code, tr if tr is not None else pid_ns, uid, status, pid_ns,
                   _signal_number(signo), tuple(f.items()))


# ----------------------------------------------------------------------------------------------
# Syscall helpers
# ----------------------------------------------------------------------------------------------

def _unpack(call: Any, args: str | None, ret_text: str | None) -> tuple[str, str, str]:
    """Accept a Syscall event or (name, args, ret_text)."""
    if isinstance(call, str):
        return call, args or "", ret_text or ""
    return (getattr(call, "name", "") or "", getattr(call, "args", "") or "",
            getattr(call, "ret_text", "") or "")


def _base_name(name: str) -> str:
    """``setresuid32`` -> ``setresuid``; ``readv#64`` -> ``readv``; ``64:readv`` -> ``readv``."""
    if "#" in name:
        name = name.split("#", 1)[0]
    if ":" in name:
        name = name.rsplit(":", 1)[1]
    if name.endswith("32") and name[:-2] in _ID32_BASES:
        return name[:-2]
    return name


CREATION_SYSCALLS = frozenset({"clone", "clone2", "clone3", "fork", "vfork"})
EXEC_SYSCALLS = frozenset({"execve", "execveat"})


@dataclass(frozen=True, slots=True)
class CloneInfo:
    """What a clone/clone3/fork/vfork call created.

    ``flags``: the clone flags without the exit-signal byte (fork: 0; vfork: CLONE_VM|CLONE_VFORK);
    None when they cannot be read (a resumed orphan, an unknown name -- the booleans below are
    still set from the names that were read).  ``exit_signal``: number (17 for SIGCHLD) when known.
    ``child``: the new task's tid in strace's pid namespace (pidns translation preferred), None
    unless the call returned a positive value.  ``child_ns``: the value as returned (namespace pid
    in a new pid namespace without translation).  ``child_comm``: ``-Y`` decoration of the return.
    """

    name: str
    flags: int | None
    is_thread: bool = False
    clone_parent: bool = False
    vfork: bool = False
    newpid: bool = False
    exit_signal: int | None = None
    child: int | None = None
    child_ns: int | None = None
    child_comm: bytes | None = None
    translated: bool = False
    errno: str | None = None
    flag_names: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.child is not None

    def has(self, flag: str) -> bool:
        """Is CLONE_<flag> (``"NEWNS"`` or ``"CLONE_NEWNS"``) set (by name or bit)?"""
        name = flag if flag.startswith("CLONE_") else "CLONE_" + flag
        if name in self.flag_names:
            return True
        bit = C.CLONE_FLAGS.get(name)
        return bool(self.flags is not None and bit and self.flags & bit)


# clone's usual x86_64 form: ``child_stack=NULL, flags=A|B|SIGCHLD, child_tidptr=0x7f...`` (also
# ``parent_tid=[8016]``, ``tls=0x...``): plain ``name=value`` arguments without strings, comments,
# decorations or blanks, so split_args + _named_args would give the flags token as group 1.
_CLONE_PLAIN_RE = re.compile(
    r"child_stack=(?:NULL|0|0x[0-9a-f]+), flags=([A-Za-z0-9_|]+)"
    r"(?:, [a-z_]+=(?:NULL|0|0x[0-9a-f]+|[1-9][0-9]*|\[[0-9]+\]))*")
#: _clone_flags results by (token, is_clone3): a trace repeats a handful of flag sets
_CLONE_FLAGS_MEMO: dict[tuple[str, bool], tuple[int | None, int | None, tuple[str, ...]]] = {}


def _clone_flags(token: str | None, is_clone3: bool) -> tuple[int | None, int | None, tuple[str, ...]]:
    """-> (flags without CSIGNAL, exit signal from the low byte, names seen)."""
    if token is None:
        return None, None, ()
    key = (token, is_clone3)
    r = _CLONE_FLAGS_MEMO.get(key)
    if r is None:
        if len(_CLONE_FLAGS_MEMO) >= 1024:
            _CLONE_FLAGS_MEMO.clear()
        r = _CLONE_FLAGS_MEMO[key] = _clone_flags_text(token, is_clone3)
    return r


def _clone_flags_text(token: str, is_clone3: bool) -> tuple[int | None, int | None, tuple[str, ...]]:
    t = strip_comments(token) if "/*" in token else token.strip()
    if not t:
        return None, None, ()
    names: list[str] = []
    value = 0
    sig: int | None = None
    known = True
    for part in _split_bar(t):
        v = parse_int(part)
        if v is not None:
            value |= v
            continue
        if part in C.CLONE_FLAGS:
            names.append(part)
            value |= C.CLONE_FLAGS[part]
        elif not is_clone3 and part in C.SIGNALS:
            sig = C.SIGNALS[part]
        else:
            names.append(part)
            known = False
    if not is_clone3:
        if sig is None and value & C.CSIGNAL:
            sig = value & C.CSIGNAL
        value &= ~C.CSIGNAL
        if sig is None:
            sig = 0
    return (value if known else None), sig, tuple(names)


def clone_info(call: Any, args: str | None = None, ret_text: str | None = None) -> CloneInfo | None:
    """Decode clone / clone3 / fork / vfork (from a Syscall or ``(name, args, ret_text)``).

    None when the name is not a creation syscall.  Works on partial args (resumed orphans).
    """
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in CREATION_SYSCALLS:
        return None
    ret = parse_ret(ret_t)
    child = ret.pid if ret.value is not None and ret.value > 0 else None
    child_ns = ret.value if child is not None else None
    translated = child is not None and ret.pid != ret.value
    common = dict(child=child, child_ns=child_ns, child_comm=ret.comm, translated=translated,
                  errno=ret.errno)
    if base == "fork":
        return CloneInfo(name, 0, exit_signal=C.SIGNALS["SIGCHLD"], **common)
    if base == "vfork":
        return CloneInfo(name, C.CLONE_VM | C.CLONE_VFORK, vfork=True,
                         exit_signal=C.SIGNALS["SIGCHLD"], **common)
    flags: int | None
    if base == "clone3":
        toks = split_args(args_t)
        st = parse_struct(toks[0]) if toks else {}
        flags, _, names = _clone_flags(st.get("flags"), True)
        es = st.get("exit_signal")
        exit_signal = _signal_number(es) if es is not None else None
    else:
        m = _CLONE_PLAIN_RE.fullmatch(args_t)
        if m is not None:
            ftok = m.group(1)
        else:
            toks = split_args(args_t)
            named = _named_args(toks)
            ftok = named.get("flags")
            if ftok is None and toks and "=" not in toks[0] and "flags" not in named:
                # -e raw=clone: positional, flags first on x86_64/i386
                ftok = toks[0] if parse_int(toks[0]) is not None else None
        flags, exit_signal, names = _clone_flags(ftok, False)
        if ftok is None:
            exit_signal = None
    nameset = set(names)

    def has(n: str) -> bool:
        return n in nameset or (flags is not None and bool(flags & C.CLONE_FLAGS[n]))

    return CloneInfo(name, flags, has("CLONE_THREAD"), has("CLONE_PARENT"), has("CLONE_VFORK"),
                     has("CLONE_NEWPID"), exit_signal, flag_names=names, **common)


@dataclass(frozen=True, slots=True)
class ExecInfo:
    """execve / execveat, decoded.

    ``path``: the path argument exactly as passed (bytes, ``-x``/``-xx`` hex decoded; strace does
    not truncate paths), None when unreadable or missing.  ``argv``: the decoded argv (None when
    not printed or missing); ``argv_truncated``: an element was cut by ``-s`` or the array elided.
    ``envp``: the env array when printed (``-v``) else None; ``env_count``: ``/* N vars */``.
    ``dirfd``/``dirfd_path``/``flags`` for execveat (``empty_path``: AT_EMPTY_PATH: the file is
    the fd).  ``errno``: when it failed.  ``ok``: returned 0.
    """

    name: str
    path: bytes | None
    argv: tuple[bytes, ...] | None
    argv_truncated: bool = False
    envp: tuple[bytes, ...] | None = None
    env_count: int | None = None
    dirfd: int | None = None
    dirfd_path: bytes | None = None
    flags: int | None = None
    empty_path: bool = False
    ok: bool = False
    errno: str | None = None
    ret: int | None = None

    @property
    def file(self) -> bytes | None:
        """The executed file as best known: the path, or the fd's path for AT_EMPTY_PATH."""
        if self.empty_path and not self.path:
            return self.dirfd_path
        if self.path and not self.path.startswith(b"/") and self.dirfd_path and self.dirfd != C.AT_FDCWD:
            return self.dirfd_path.rstrip(b"/") + b"/" + self.path
        return self.path


def exec_info(call: Any, args: str | None = None, ret_text: str | None = None) -> ExecInfo | None:
    """Decode execve / execveat.  None when the name is not one of them."""
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in EXEC_SYSCALLS:
        return None
    if base == "execve":
        m = _EXECVE_PLAIN_RE.match(args_t)
        if m is not None:
            return _execve_plain(name, args_t, ret_t, m)
    toks = split_args(args_t)
    dirfd = dirfd_path = flags = None
    if base == "execveat":
        fv = fd_value(toks[0]) if toks else None
        if fv is not None:
            dirfd, dirfd_path = fv.fd, fv.path
        rest = toks[1:]
        if len(toks) > 4:
            flags = parse_flags(toks[4], C.AT_FLAGS)
            if flags is None:
                flags = parse_int(toks[4])
    else:
        rest = toks
    path = None
    if rest:
        sv = decode_string(rest[0])
        path = sv.data if sv is not None else None
    argv = None
    argv_trunc = False
    if len(rest) > 1:
        sa = decode_str_array(rest[1])
        if sa is not None:
            argv, argv_trunc = sa.items, sa.truncated
    envp, env_count = _envp(rest[2]) if len(rest) > 2 else (None, None)
    empty = bool(flags is not None and flags & C.AT_EMPTY_PATH) or (
        base == "execveat" and len(toks) > 4 and "AT_EMPTY_PATH" in toks[4])
    ret = parse_ret(ret_t)
    return ExecInfo(name, path, argv, argv_trunc, envp, env_count, dirfd, dirfd_path, flags,
                    empty, ret.value == 0, ret.errno, ret.value)


# execve's usual head: a plain path literal and a plain argv array (see _PLAIN_ARRAY_RE), then
# the end or ", " and the envp.  split_args is positional (its tokens after a top-level ", " are
# those of the text after it), so the rest is read as the general path reads its third token.
_EXECVE_PLAIN_RE = re.compile(r'"(%s)", \[((?:%s)(?:, (?:%s))*)?\](?:, |\Z)'
                              % (_BODY, _ITEM, _ITEM), re.DOTALL)


def execve_head(args: str) -> tuple[bytes, tuple[bytes, ...], bool] | None:
    """``(path, argv, argv_truncated)`` of an execve's arguments in the usual form (a plain path
    literal, a plain argv array), exactly as :func:`exec_info` gives them; None for any other
    form (then ask :func:`exec_info`).  For callers that need no more (the process graph)."""
    m = _EXECVE_PLAIN_RE.match(args)
    if m is None:
        return None
    sa = _plain_array(m.group(2))
    return _plain_path(m.group(1)), sa.items, sa.truncated


def _envp(et: str) -> tuple[tuple[bytes, ...] | None, int | None]:
    """(envp, env_count) of an execve's envp argument: the items when printed (``-v``), and the
    count strace printed (``/* N vars */``) or the items'."""
    sa = decode_str_array(et)
    if sa is not None:
        return (sa.items if sa.count is None else None), (sa.count if sa.count is not None else len(sa.items))
    m = _VARS_RE.search(et)
    return None, (int(m.group(1)) if m else None)


def _plain_path(body: str) -> bytes:
    return body.encode("ascii") if "\\" not in body and body.isascii() else unescape(body)


def _execve_plain(name: str, args_t: str, ret_t: str, m: re.Match[str]) -> ExecInfo:
    path = _plain_path(m.group(1))
    sa = _plain_array(m.group(2))
    envp = env_count = None
    rest = args_t[m.end():]
    if rest:
        em = _ENV_COUNT_RE.fullmatch(rest)
        if em is not None:        # ``0x7ffd... /* 35 vars */``: the usual envp
            env_count = int(em.group(1))
        else:
            toks = split_args(rest)
            if toks:
                envp, env_count = _envp(toks[0])
    ret = parse_ret(ret_t)
    return ExecInfo(name, path, sa.items, sa.truncated, envp, env_count, None, None, None,
                    False, ret.value == 0, ret.errno, ret.value)


_ENV_COUNT_RE = re.compile(r"0x[0-9a-f]+ /\* (\d+) vars? \*/")


# --- credentials ------------------------------------------------------------------------------

_ID32_BASES = frozenset({
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "getuid", "getgid", "geteuid", "getegid", "getresuid", "getresgid", "setgroups", "getgroups",
    "chown", "lchown", "fchown",
})
SETID_SYSCALLS = frozenset({
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "setgroups",
})
GETID_SYSCALLS = frozenset({
    "getuid", "getgid", "geteuid", "getegid", "getresuid", "getresgid", "getgroups",
})


@dataclass(frozen=True, slots=True)
class SetIdInfo:
    """A credential call (set*id, setgroups, get*id), decoded.

    ``name``: as printed (``setresuid32``); ``base``: without the ``32`` suffix; ``kind``:
    ``"uid"``, ``"gid"`` or ``"groups"``; ``op``: ``"set"``, ``"setre"``, ``"setres"``, ``"setfs"``,
    ``"setgroups"``, ``"get"``, ``"gete"``, ``"getres"``, ``"getgroups"``.
    ``args``: the integer arguments in call order (-1 = unchanged; ``0xffffffff`` is normalised to
    -1; None where unreadable).  ``real``/``effective``/``saved``/``fs``: what the call asks for
    (set calls, None = unchanged/not addressed) or reports (get calls).  ``setuid``/``setgid``
    set ``value`` only: which ids change depends on the caller's privilege (strace-format §8).
    ``groups``: setgroups/getgroups list.  ``ok``: returned 0 (set calls; setfs* always return the
    old fsid, so ``ok`` is None for them) or a non-negative value (get calls).
    """

    name: str
    base: str
    kind: str
    op: str
    args: tuple[int | None, ...] = ()
    value: int | None = None
    real: int | None = None
    effective: int | None = None
    saved: int | None = None
    fs: int | None = None
    groups: tuple[int, ...] | None = None
    ok: bool | None = False
    ret: int | None = None
    errno: str | None = None


def _id_arg(tok: str | None) -> int | None:
    v = parse_int(tok)
    if v is None:
        return None
    if v in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return -1
    return v


def _unchanged(v: int | None) -> int | None:
    return None if v is None or v == -1 else v


def setid_info(call: Any, args: str | None = None, ret_text: str | None = None) -> SetIdInfo | None:
    """Decode setuid/setgid/setreuid/setregid/setresuid/setresgid/setfsuid/setfsgid/setgroups,
    their ``32`` names, and getuid/geteuid/getgid/getegid/getresuid/getresgid/getgroups.
    None for other names."""
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in SETID_SYSCALLS and base not in GETID_SYSCALLS:
        return None
    ret = parse_ret(ret_t)
    toks = split_args(args_t)
    kind = "groups" if base.endswith("groups") else ("uid" if base.endswith("uid") else "gid")
    if base in ("setgroups", "getgroups"):
        groups = None
        if len(toks) > 1:
            arr = parse_int_array(toks[1])
            groups = tuple(arr) if arr is not None else None
        if base == "setgroups":
            return SetIdInfo(name, base, kind, base, (_id_arg(toks[0]) if toks else None,),
                             groups=groups, ok=ret.value == 0, ret=ret.value, errno=ret.errno)
        return SetIdInfo(name, base, kind, base, (_id_arg(toks[0]) if toks else None,),
                         groups=groups if (ret.value is not None and ret.value > 0) or groups == () else
                         (groups if groups else None),
                         ok=ret.value is not None and ret.value >= 0, ret=ret.value, errno=ret.errno)
    if base.startswith("get"):
        okg = ret.value is not None and ret.value >= 0
        if base in ("getresuid", "getresgid"):
            vals = []
            for i in range(3):
                arr = parse_int_array(toks[i]) if i < len(toks) else None
                vals.append(arr[0] if arr else None)
            r, e, s = (vals if okg and ret.value == 0 else [None, None, None])
            return SetIdInfo(name, base, kind, "getres", tuple(vals), real=r, effective=e, saved=s,
                             ok=ret.value == 0, ret=ret.value, errno=ret.errno)
        v = ret.value if okg else None
        if base in ("geteuid", "getegid"):
            return SetIdInfo(name, base, kind, "gete", (), value=v, effective=v, ok=okg,
                             ret=ret.value, errno=ret.errno)
        return SetIdInfo(name, base, kind, "get", (), value=v, real=v, ok=okg, ret=ret.value,
                         errno=ret.errno)
    vals = tuple(_id_arg(t) for t in toks)
    ok: bool | None = ret.value == 0
    if base in ("setuid", "setgid"):
        v = vals[0] if vals else None
        return SetIdInfo(name, base, kind, "set", vals, value=v, ok=ok, ret=ret.value,
                         errno=ret.errno)
    if base in ("setreuid", "setregid"):
        r = _unchanged(vals[0]) if len(vals) > 0 else None
        e = _unchanged(vals[1]) if len(vals) > 1 else None
        return SetIdInfo(name, base, kind, "setre", vals, real=r, effective=e, ok=ok,
                         ret=ret.value, errno=ret.errno)
    if base in ("setresuid", "setresgid"):
        r, e, s = (_unchanged(vals[i]) if len(vals) > i else None for i in range(3))
        return SetIdInfo(name, base, kind, "setres", vals, real=r, effective=e, saved=s, ok=ok,
                         ret=ret.value, errno=ret.errno)
    # setfsuid / setfsgid: returns the previous fsid, success cannot be told from the return
    f = _unchanged(vals[0]) if vals else None
    return SetIdInfo(name, base, kind, "setfs", vals, value=f, fs=f, ok=None, ret=ret.value,
                     errno=ret.errno)


# --- files ------------------------------------------------------------------------------------

OPEN_SYSCALLS = frozenset({"open", "openat", "openat2", "creat"})


@dataclass(frozen=True, slots=True)
class OpenInfo:
    """open / openat / openat2 / creat, decoded.

    ``dirfd`` (-100 for AT_FDCWD; None for open/creat) and its ``-y`` path; ``path`` bytes;
    ``flags`` int (None when a name is unknown; creat: O_CREAT|O_WRONLY|O_TRUNC); ``mode`` int or
    None; ``resolve`` (openat2); ``fd`` the returned fd and ``fd_path`` its ``-y`` decoration.
    """

    name: str
    path: bytes | None
    flags: int | None
    mode: int | None = None
    dirfd: int | None = None
    dirfd_path: bytes | None = None
    resolve: int | None = None
    fd: int | None = None
    fd_path: bytes | None = None
    errno: str | None = None
    flags_text: str | None = None

    @property
    def ok(self) -> bool:
        return self.fd is not None

    @property
    def writes(self) -> bool | None:
        """Opened for writing (O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/O_APPEND)?  None when unknown."""
        if self.flags is None:
            return None
        return bool(self.flags & C.O_ACCMODE) or bool(
            self.flags & (C.O_CREAT | C.O_TRUNC | C.O_APPEND))


def _open_flags(tok: str | None) -> int | None:
    if tok is None:
        return None
    return parse_flags(tok, C.OPEN_FLAGS)


def open_info(call: Any, args: str | None = None, ret_text: str | None = None) -> OpenInfo | None:
    """Decode open / openat / openat2 / creat.  None for other names."""
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in OPEN_SYSCALLS:
        return None
    toks = split_args(args_t)
    dirfd = dirfd_path = None
    if base in ("openat", "openat2"):
        fv = fd_value(toks[0]) if toks else None
        if fv is not None:
            dirfd, dirfd_path = fv.fd, fv.path
        rest = toks[1:]
    else:
        rest = toks
    sv = decode_string(rest[0]) if rest else None
    path = sv.data if sv is not None else None
    flags = mode = resolve = None
    ftext = None
    if base == "creat":
        flags = C.O_CREAT | C.O_WRONLY | C.O_TRUNC
        mode = parse_int(rest[1]) if len(rest) > 1 else None
    elif base == "openat2":
        st = parse_struct(rest[1]) if len(rest) > 1 else {}
        ftext = st.get("flags")
        flags = _open_flags(ftext)
        mode = parse_int(st["mode"]) if "mode" in st else None
        resolve = parse_flags(st["resolve"], C.RESOLVE_FLAGS) if "resolve" in st else None
    else:
        ftext = rest[1] if len(rest) > 1 else None
        flags = _open_flags(ftext)
        mode = parse_int(rest[2]) if len(rest) > 2 else None
    ret = parse_ret(ret_t)
    fd = ret.value if ret.value is not None and ret.value >= 0 else None
    fd_path = ret.fd.path if (fd is not None and ret.fd is not None) else None
    return OpenInfo(name, path, flags, mode, dirfd, dirfd_path, resolve, fd, fd_path, ret.errno,
                    ftext)


@dataclass(frozen=True, slots=True)
class WriteInfo:
    """write / pwrite64: ``fd`` and its ``-y`` path, the ``data`` printed (``truncated`` when cut
    by ``-s``), ``count`` requested, ``written`` returned (None on error)."""

    name: str
    fd: int | None
    fd_path: bytes | None
    data: bytes | None
    truncated: bool = False
    count: int | None = None
    written: int | None = None
    errno: str | None = None
    fd_deleted: bool = False


def write_info(call: Any, args: str | None = None, ret_text: str | None = None) -> WriteInfo | None:
    """Decode write / pwrite64 / pwrite.  None for other names."""
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in ("write", "pwrite64", "pwrite"):
        return None
    toks = split_args(args_t)
    fv = fd_value(toks[0]) if toks else None
    sv = decode_string(toks[1]) if len(toks) > 1 else None
    count = parse_int(toks[2]) if len(toks) > 2 else None
    ret = parse_ret(ret_t)
    written = ret.value if ret.value is not None and ret.value >= 0 else None
    return WriteInfo(name, fv.fd if fv else None, fv.path if fv else None,
                     sv.data if sv else None, sv.truncated if sv else False, count, written,
                     ret.errno, fv.deleted if fv else False)


# --- value classes made on first use ----------------------------------------------------------
#
# Each @dataclass costs about 0.5 ms at import (it compiles its methods), and the value classes of
# the decoders below (kill, ptrace, sockets, prctl, namespaces, capset, personality, exit) are never
# needed by ``tracerule graph``, whose start-up counts.  They are made -- the very same frozen slots
# dataclasses -- on first use: by the decoder that returns one, or on attribute access
# (``values.KillInfo``, ``from tracerule.strace.values import KillInfo``: module ``__getattr__``).

_LATER: dict[str, type] = {}


def _on_first_use(cls: type) -> type:
    """Class decorator: ``cls`` becomes ``@dataclass(frozen=True, slots=True)`` when first used
    (:func:`_made`).  Its module name is unbound after the class statements (see the end of the
    module), so an access goes through ``__getattr__``."""
    _LATER[cls.__name__] = cls
    return cls


def _made(name: str) -> type:
    """The dataclass of the class ``name`` given to :func:`_on_first_use` (made once)."""
    cls = _MADE.get(name)
    if cls is None:
        cls = _MADE[name] = dataclass(frozen=True, slots=True)(_LATER[name])
        globals()[name] = cls
    return cls


_MADE: dict[str, type] = {}


def __getattr__(name: str) -> type:
    if name in _LATER:
        return _made(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- kill, ptrace, sockets --------------------------------------------------------------------

@_on_first_use
class KillInfo:
    """kill / tkill / tgkill / rt_sigqueueinfo / pidfd_send_signal: target ``pid`` (pidns
    translated when printed; tgkill: the tid, ``tgid`` its group), ``signal`` name, ``signo``."""

    name: str
    pid: int | None
    signal: str | None
    signo: int | None
    tgid: int | None = None
    ok: bool = False
    errno: str | None = None


def kill_info(call: Any, args: str | None = None, ret_text: str | None = None) -> KillInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "pidfd_send_signal"):
        return None
    toks = split_args(args_t)

    def pid_of(tok: str) -> int | None:
        tr = pidns_translation(tok)
        return tr if tr is not None else parse_int(tok)

    tgid = None
    if base == "tgkill":
        tgid = pid_of(toks[0]) if toks else None
        pid = pid_of(toks[1]) if len(toks) > 1 else None
        sigtok = toks[2] if len(toks) > 2 else None
    elif base == "pidfd_send_signal":
        fv = fd_value(toks[0]) if toks else None
        pid = None
        if fv is not None and fv.kind == "pid" and fv.extra:
            pid = parse_int(fv.extra)
        sigtok = toks[1] if len(toks) > 1 else None
    else:
        pid = pid_of(toks[0]) if toks else None
        sigtok = toks[1] if len(toks) > 1 else None
    signame = strip_comments(sigtok) if sigtok is not None else None
    signo = _signal_number(sigtok) if sigtok is not None else None
    if signame is not None and parse_int(signame) is not None:
        # -X raw / verbose: name from the comment or the number
        cm = re.search(r"/\*\s*(SIG[A-Z0-9_]+)\s*\*/", sigtok or "")
        signame = cm.group(1) if cm else C.SIGNAL_NAMES.get(signo) if signo is not None else signame
    ret = parse_ret(ret_t)
    return _made("KillInfo")(name, pid, signame, signo, tgid, ret.value == 0, ret.errno)


@_on_first_use
class PtraceInfo:
    """ptrace: ``request`` name (or number text), ``request_number``, target ``pid``."""

    name: str
    request: str | None
    request_number: int | None
    pid: int | None
    ok: bool = False
    errno: str | None = None


def ptrace_info(call: Any, args: str | None = None, ret_text: str | None = None) -> PtraceInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    if _base_name(name) != "ptrace":
        return None
    toks = split_args(args_t)
    req = strip_comments(toks[0]) if toks else None
    num = None
    if req is not None:
        num = parse_int(req)
        if num is None:
            num = C.PTRACE_REQUESTS.get(req)
        else:
            cm = re.search(r"/\*\s*(PTRACE_[A-Z0-9_]+)\s*\*/", toks[0])
            if cm:
                req = cm.group(1)
            else:
                for k, v in C.PTRACE_REQUESTS.items():
                    if v == num:
                        req = k
                        break
    pid = None
    if len(toks) > 1:
        tr = pidns_translation(toks[1])
        pid = tr if tr is not None else parse_int(toks[1])
    ret = parse_ret(ret_t)
    return _made("PtraceInfo")(name, req, num, pid, ret.value is not None and ret.value >= 0,
                               ret.errno)


@_on_first_use
class SockaddrInfo:
    """A sockaddr struct: ``family`` name (``AF_UNIX``), ``path`` (sun_path bytes; abstract
    sockets keep their leading ``\\0`` -- strace prints ``@`` for them, decoded as ``\\0``),
    ``addr`` (inet/inet6 address text), ``port``, ``fields`` raw."""

    family: str | None
    path: bytes | None = None
    addr: str | None = None
    port: int | None = None
    fields: tuple[tuple[str, str], ...] = ()


_INET_RE = re.compile(r'inet_(?:addr|pton)\((?:AF_INET6?, )?"([^"]*)"')
_PORT_RE = re.compile(r"htons\((\d+)\)")


def sockaddr_info(token: str | None) -> SockaddrInfo | None:
    if not token or not token.strip().startswith("{"):
        return None
    f = parse_struct(token)
    fam = f.get("sa_family")
    if fam is not None:
        fam = strip_comments(fam)
        if parse_int(fam) is not None:
            fam = C.FAMILY_NAMES.get(parse_int(fam) or 0, fam)
    path = None
    if "sun_path" in f:
        sp = f["sun_path"]
        if sp.startswith("@"):
            sv = decode_string(sp[1:])
            path = b"\0" + sv.data if sv else None
        else:
            sv = decode_string(sp)
            path = sv.data if sv else None
    addr = None
    for key in ("sin_addr", "sin6_addr"):
        if key in f:
            m = _INET_RE.search(f[key])
            addr = m.group(1) if m else f[key]
    port = None
    for key in ("sin_port", "sin6_port"):
        if key in f:
            m = _PORT_RE.search(f[key])
            port = int(m.group(1)) if m else parse_int(f[key])
    return _made("SockaddrInfo")(fam, path, addr, port, tuple(f.items()))


@_on_first_use
class SocketInfo:
    """socket / connect / bind / accept*: ``family`` name, ``type`` (base type name, modifiers
    dropped), ``protocol`` text, ``fd`` (argument for connect/bind, return for socket/accept) with
    its ``-y`` decoration, ``sockaddr``."""

    name: str
    family: str | None = None
    type: str | None = None
    protocol: str | None = None
    fd: int | None = None
    fd_decoration: FdValue | None = None
    sockaddr: SockaddrInfo | None = None
    ok: bool = False
    errno: str | None = None


def socket_info(call: Any, args: str | None = None, ret_text: str | None = None) -> SocketInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    toks = split_args(args_t)
    ret = parse_ret(ret_t)
    if base == "socket":
        fam = strip_comments(toks[0]) if toks else None
        if fam is not None and parse_int(fam) is not None:
            fam = C.FAMILY_NAMES.get(parse_int(fam) or 0, fam)
        if fam is not None and fam.startswith("PF_"):
            fam = "AF_" + fam[3:]
        typ = None
        if len(toks) > 1:
            tt = strip_comments(toks[1])
            parts = [p for p in _split_bar(tt) if p not in ("SOCK_CLOEXEC", "SOCK_NONBLOCK")]
            typ = parts[0] if parts else None
            if typ is not None and parse_int(typ) is not None:
                tv = (parse_int(typ) or 0) & C.SOCK_TYPE_MASK
                typ = next((k for k, v in C.SOCKET_TYPES.items() if v == tv), typ)
        proto = strip_comments(toks[2]) if len(toks) > 2 else None
        fd = ret.value if ret.value is not None and ret.value >= 0 else None
        return _made("SocketInfo")(name, fam, typ, proto, fd, ret.fd, None, fd is not None,
                                   ret.errno)
    if base in ("connect", "bind", "accept", "accept4", "sendto", "sendmsg"):
        fv = fd_value(toks[0]) if toks else None
        sa = None
        if base in ("connect", "bind"):
            sa = sockaddr_info(toks[1]) if len(toks) > 1 else None
        elif base in ("accept", "accept4"):
            sa = sockaddr_info(toks[1]) if len(toks) > 1 else None
        elif base == "sendto":
            sa = sockaddr_info(toks[4]) if len(toks) > 4 else None
        fam = sa.family if sa else None
        if fv is not None and fv.kind and fam is None:
            fam = None
        okv = ret.value is not None and ret.value >= 0
        return _made("SocketInfo")(name, fam, None, None, fv.fd if fv else None, fv, sa, okv,
                                   ret.errno)
    return None


# --- prctl, namespaces, capabilities, wait, exit, personality ---------------------------------

@_on_first_use
class PrctlInfo:
    """prctl: ``option`` name (``PR_SET_NAME``; the number as text when unknown),
    ``option_number``, the remaining raw ``args``; ``name`` for PR_SET_NAME (bytes), ``value``
    for options that take one integer (PR_SET_NO_NEW_PRIVS 1, PR_SET_KEEPCAPS 1,
    PR_CAPBSET_DROP CAP_SETUID -> 7, PR_SET_PDEATHSIG SIGKILL -> 9...)."""

    name: str
    option: str | None
    option_number: int | None
    args: tuple[str, ...] = ()
    comm: bytes | None = None
    value: int | None = None
    ok: bool = False
    ret: int | None = None
    errno: str | None = None


def _named_const(tok: str, table: Mapping[str, int], prefix: str) -> tuple[str, int | None]:
    """A constant printed by name, number, or ``N /* NAME */`` -> (name-or-text, number)."""
    m = re.search(r"/\*\s*(" + prefix + r"[A-Z0-9_]+)\s*\*/", tok)
    plain = strip_comments(tok)
    num = parse_int(plain)
    if m:
        return m.group(1), num if num is not None else table.get(m.group(1))
    if num is not None:
        for k, v in table.items():
            if v == num:
                return k, num
        return plain, num
    return plain, table.get(plain)


def prctl_info(call: Any, args: str | None = None, ret_text: str | None = None) -> PrctlInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    if _base_name(name) != "prctl":
        return None
    toks = split_args(args_t)
    opt = num = None
    if toks:
        opt, num = _named_const(toks[0], C.PRCTL_OPTIONS, "PR_")
    comm = None
    value = None
    if len(toks) > 1:
        if opt == "PR_SET_NAME":
            sv = decode_string(toks[1])
            comm = sv.data if sv else None
        elif opt in ("PR_CAPBSET_DROP", "PR_CAPBSET_READ"):
            value = _named_const(toks[1], C.CAPABILITIES, "CAP_")[1]
        elif opt == "PR_SET_PDEATHSIG":
            value = _signal_number(toks[1])
        else:
            value = parse_int(toks[1])
    ret = parse_ret(ret_t)
    return _made("PrctlInfo")(name, opt, num, tuple(toks[1:]), comm, value,
                              ret.value is not None and ret.value >= 0, ret.value, ret.errno)


@_on_first_use
class NamespaceInfo:
    """unshare(flags) / setns(fd, nstype): ``flags`` (CLONE_NEW* bits; None when unreadable or a
    name is unknown), ``flag_names``; setns ``fd`` and its ``-y`` decoration (``/proc/1/ns/pid``
    or ``pid:[4026531836]``)."""

    name: str
    flags: int | None
    flag_names: tuple[str, ...] = ()
    fd: FdValue | None = None
    ok: bool = False
    errno: str | None = None

    @property
    def newpid(self) -> bool:
        return "CLONE_NEWPID" in self.flag_names or bool(self.flags and self.flags & C.CLONE_NEWPID)


def namespace_info(call: Any, args: str | None = None, ret_text: str | None = None) -> NamespaceInfo | None:
    """Decode unshare / setns."""
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in ("unshare", "setns"):
        return None
    toks = split_args(args_t)
    ftok = toks[0] if base == "unshare" and toks else (toks[1] if len(toks) > 1 else None)
    flags = parse_flags(ftok, C.CLONE_FLAGS) if ftok is not None else None
    names: tuple[str, ...] = ()
    if ftok is not None:
        names = tuple(p for p in _split_bar(strip_comments(ftok)) if p.startswith("CLONE_"))
        m = re.search(r"/\*\s*([A-Z_|]+)\s*\*/", ftok)
        if m:
            names = tuple(p for p in m.group(1).split("|") if p.startswith("CLONE_"))
    fd = fd_value(toks[0]) if base == "setns" and toks else None
    ret = parse_ret(ret_t)
    return _made("NamespaceInfo")(name, flags, names, fd, ret.value == 0, ret.errno)


@_on_first_use
class CapsetInfo:
    """capset(hdr, data): target ``pid`` (0 = self), capability masks as ints (None when
    unreadable or naming an unknown capability)."""

    name: str
    pid: int | None
    effective: int | None
    permitted: int | None
    inheritable: int | None
    ok: bool = False
    errno: str | None = None


def capset_info(call: Any, args: str | None = None, ret_text: str | None = None) -> CapsetInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    if _base_name(name) not in ("capset", "capget"):
        return None
    toks = split_args(args_t)
    hdr = parse_struct(toks[0]) if toks else {}
    data = parse_struct(toks[1]) if len(toks) > 1 else {}
    if not data and len(toks) > 1 and toks[1].startswith("[{"):  # 64-bit caps as an array of 2
        data = parse_struct(toks[1][1:].split("}", 1)[0] + "}")

    def mask(key: str) -> int | None:
        return parse_flags(data[key], C.CAPABILITIES) if key in data else None

    pid = parse_int(hdr["pid"]) if "pid" in hdr else None
    ret = parse_ret(ret_t)
    return _made("CapsetInfo")(name, pid, mask("effective"), mask("permitted"),
                               mask("inheritable"), ret.value == 0, ret.errno)


@dataclass(frozen=True, slots=True)
class WaitInfo:
    """wait4 / waitpid / waitid: ``pid`` reaped (pidns-translated when printed; None for 0, -1,
    ``?``), ``pid_ns`` as returned, ``exited``/``code`` (WIFEXITED/WEXITSTATUS), ``signal``
    (WTERMSIG name), ``core``, ``stopped`` (WSTOPSIG name in ``signal``)."""

    name: str
    pid: int | None
    pid_ns: int | None = None
    exited: bool = False
    code: int | None = None
    signal: str | None = None
    core: bool = False
    stopped: bool = False
    status_text: str | None = None


_WEXIT_RE = re.compile(r"WEXITSTATUS\(s\) == (\d+)")
_WSIG_RE = re.compile(r"W(?:TERM|STOP)SIG\(s\) == ([A-Z0-9_]+|\d+)")


def wait_info(call: Any, args: str | None = None, ret_text: str | None = None) -> WaitInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    base = _base_name(name)
    if base not in ("wait4", "waitpid", "waitid", "wait3"):
        return None
    toks = split_args(args_t)
    ret = parse_ret(ret_t)
    status = None
    pid = pid_ns = None
    if base == "waitid":
        info = next((t for t in toks if t.startswith("{")), None)
        si = siginfo(info) if info else None
        if si is not None and si.pid:
            pid, pid_ns = si.pid, si.pid_ns
            code = si.code or ""
            st = si.status
            if code == "CLD_EXITED":
                return WaitInfo(name, pid, pid_ns, True, st if isinstance(st, int) else None,
                                status_text=info)
            return WaitInfo(name, pid, pid_ns, False, None, st if isinstance(st, str) else None,
                            code == "CLD_DUMPED", code in ("CLD_STOPPED", "CLD_TRAPPED"), info)
        return WaitInfo(name, None, status_text=info)
    if ret.value is not None and ret.value > 0:
        pid, pid_ns = ret.pid, ret.value
    idx = 1 if base in ("wait4", "waitpid") else 0
    if len(toks) > idx:
        status = toks[idx]
    if not status:
        return WaitInfo(name, pid, pid_ns, status_text=status)
    m = _WEXIT_RE.search(status)
    if "WIFEXITED" in status and m:
        return WaitInfo(name, pid, pid_ns, True, int(m.group(1)), status_text=status)
    m = _WSIG_RE.search(status)
    sig = None
    if m:
        sig = m.group(1)
        if sig.isdigit():
            sig = C.SIGNAL_NAMES.get(int(sig), sig)
    return WaitInfo(name, pid, pid_ns, False, None, sig, "WCOREDUMP" in status,
                    "WIFSTOPPED" in status, status)


@_on_first_use
class PersonalityInfo:
    """personality(persona): ``persona`` int (None for unreadable; 0xffffffff = query),
    ``linux32``: the PER_LINUX32 domain (uname reports i686; not a syscall-ABI change)."""

    name: str
    persona: int | None
    query: bool = False
    ret: int | None = None

    @property
    def linux32(self) -> bool:
        return self.persona is not None and not self.query and (self.persona & 0xFF) == 0x0008


def personality_info(call: Any, args: str | None = None, ret_text: str | None = None) -> PersonalityInfo | None:
    name, args_t, ret_t = _unpack(call, args, ret_text)
    if _base_name(name) != "personality":
        return None
    toks = split_args(args_t)
    p = parse_flags(toks[0], C.PERSONALITY) if toks else None
    if p is None and toks:
        p = parse_int(toks[0])
    query = p == 0xFFFFFFFF
    return _made("PersonalityInfo")(name, p, query, parse_ret(ret_t).value)


@_on_first_use
class ExitInfo:
    """exit / exit_group: the ``status`` argument (None when unreadable)."""

    name: str
    status: int | None


def exit_info(call: Any, args: str | None = None, ret_text: str | None = None) -> ExitInfo | None:
    name, args_t, _ = _unpack(call, args, ret_text)
    if _base_name(name) not in ("exit", "exit_group"):
        return None
    toks = split_args(args_t)
    return _made("ExitInfo")(name, parse_int(toks[0]) if toks else None)


# the classes of _on_first_use stay unbound until used (module __getattr__ makes them)
for _name in _LATER:
    del globals()[_name]
del _name
