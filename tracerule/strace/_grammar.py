"""Private: the regular expressions and small value parsers of the strace line grammar.

See ``shared/docs/strace-format.md``.  A line is ``[PIDCOL] [ABS_TS] [REL_TS] [SCNO] [IP] BODY``;
every leader field is optional.  Lines are ``str`` decoded with utf-8 + surrogateescape, so
``line.encode("utf-8", "surrogateescape")`` gives back the exact bytes.
"""
from __future__ import annotations

import re

# --------------------------------------------------------------------------- the leader (full)
# pid column: "%-5u " (any width; never split on two spaces), "%u<comm> " (-Y), "[pid %5u] ",
# "[pid %5u<comm>] ".  A pid has at most 7 digits (pid_max 2^22): a longer leading number is a
# timestamp (--absolute-timestamps=format:unix,precision:s prints a bare 10-digit integer).
LEADER = re.compile(
    r"(?:(?P<pid>\d{1,7})(?:<(?P<comm>[^>]*)>\ |\ +)"
    r"|\[pid\ +(?P<spid>\d{1,7})(?:<(?P<scomm>[^>]*)>)?\]\ +)?"
    r"(?:(?P<ts>\d\d:\d\d:\d\d(?:\.\d+)?|\d{9,}(?:\.\d+)?)\ +)?"
    r"(?:\(\+\ *(?P<rel>\d+\.\d+)\)\ +|\ *(?P<rrel>\d+\.\d+)\ +)?"
    r"(?:\[(?![0-9a-f]{8}\]|[0-9a-f]{16}\])\ *(?P<scno>\d+)\]\ +)?"
    r"(?:\[(?P<ip>[0-9a-f]{8}|[0-9a-f]{16}|\?{8}|\?{16})\]\ +)?",
    re.ASCII,       # strace prints ASCII digits: a pid/time of other Unicode digits is not one
)

# --------------------------------------------------------------------------- bodies
# RET after "= ": value, optional -y/-yy/-Y decoration (nested <...> possible), then tail tokens
# (errno name, "(strerror)" / aux groups, "<unavailable>", "/* N in strace's PID NS */"), then -T.
_RET = (
    r"(?P<ret>\?|-?\d+|0x[0-9a-fA-F]+)"
    r"(?P<deco><[^<>]*(?:<[^<>]*(?:<[^<>]*>[^<>]*)*>[^<>]*)*>)?"
    r"(?P<tail>(?:\ (?:E[A-Z0-9_]+|\([^()]*(?:\([^()]*\)[^()]*)*\)|<unavailable>"
    r"|/\*[^*]*\*+(?:[^/*][^*]*\*+)*/))*)"
    r"(?:\ <(?P<dur>\d+(?:\.\d+)?)>)?$"
)
# NAME(ARGS) = RET: greedy ARGS, so the LAST ") +=" whose remainder parses as RET wins.
SYSCALL = re.compile(r"(?P<name>[A-Za-z0-9_?#:]+)\((?P<args>.*)\)\ +=\ " + _RET, re.S)
# the rest of an orphan resumed line: ARGS) = RET
ORPHAN_REST = re.compile(r"(?P<args>.*)\)\ +=\ " + _RET, re.S)
RET_AT = re.compile(_RET, re.S)


class Split:
    """A syscall body split into name, args and return parts (the fields of a SYSCALL match)."""

    __slots__ = ("name", "args", "ret", "deco", "tail", "dur", "ret_start", "tail_end")

    def __init__(self, name, args, m):
        self.name = name
        self.args = args
        self.ret, self.deco, self.tail, self.dur = m.group("ret", "deco", "tail", "dur")
        self.ret_start = m.start("ret")
        self.tail_end = m.end("tail")


_NAME_OK = re.compile(r"[A-Za-z0-9_?#:]+")


def split_syscall(body: str, named: bool = True) -> Split | None:
    """``NAME(ARGS) = RET`` (``named``) or the rest of an orphan resumed line ``ARGS) = RET``: the
    LAST ``) +=`` whose remainder parses as a return wins (strings and -yy paths may contain
    ``) = ``)."""
    if named:
        i = body.find("(")
        if i <= 0:
            return None
        name = body[:i]
        if _NAME_OK.fullmatch(name) is None:
            return None
        a0 = i + 1
    else:
        name = ""
        a0 = 0
    j = len(body)
    while True:
        j = body.rfind(" = ", a0, j)
        if j < 0:
            return None
        k = body.rfind(")", max(a0 - 1, 0), j + 1)
        if k >= 0 and (k == j - 1 or not body[k + 1:j].strip(" ")):
            m = RET_AT.match(body, j + 3)
            if m is not None:
                return Split(name, body[a0:k], m)
        # an earlier " = " (inside a string or a path)
        if j <= a0:
            return None


NAME_OPEN = re.compile(r"(?P<name>[A-Za-z0-9_?#:]+)\(")
# entry suffixes: " <unfinished ...>" (optionally "#123"), " <detached ...>", " <pid changed to N ...>",
# and strace 4.5's " <unfinished ... exit status N>"
ENTRY_END = re.compile(
    r" ?<(?:unfinished(?: ?#\d+)? \.\.\.(?: exit status (?P<status>-?\d+))?"
    r"|(?P<detached>detached) \.\.\.|pid changed to (?P<newpid>\d+) \.\.\.)>$"
)
RESUMED = re.compile(r"<\.\.\. (?P<name>[A-Za-z0-9_?#:]+) resumed(?: ?#\d+)?>(?P<rest>.*)$", re.S)
UNFINISHED_MARK = " <unfinished ...>"
SIGNAL = re.compile(r"--- (?:stopped by (?P<stop>\S+)|(?P<sig>SIG[A-Z0-9_+-]*|\S+)(?: (?P<info>.*?))?) ---$")
EXIT = re.compile(
    r"\+\+\+ (?:exited with (?P<code>-?\d+)|killed by (?P<sig>\S+)(?P<core> \(core dumped\))?"
    r"|superseded by execve in pid (?P<by>\d+)) \+\+\+$"
)
PERSONALITY = re.compile(r"\[ Process PID=(?P<pid>\d+) runs in (?P<mode>32 bit|64 bit|x32) mode\. \]$")
# diagnostics: "strace: Process N attached", before 4.11 without "strace: ", "- interrupt to quit" (-p)
DIAG_PROCESS = re.compile(
    r"(?P<head>.*?)(?:strace: )?Process (?P<pid>\d+) (?P<what>attached|detached)(?: - interrupt to quit)?$",
    re.S,
)
STACK_PREFIX = " > "
ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")

_ERRNO = re.compile(r" (?:(E[A-Z0-9_]+)|\(errno (\d+)\))")


def parse_ret(ret: str) -> int | None:
    """``?`` -> None; ``0x..`` hex; a leading ``0`` octal (``022``); else decimal."""
    if ret == "?":
        return None
    if ret.startswith("0x") or ret.startswith("0X"):
        return int(ret, 16)
    if len(ret) > 1 and ret[0] == "0":
        try:
            return int(ret, 8)
        except ValueError:
            return int(ret, 10)
    return int(ret)


def errno_of(value: int | None, tail: str) -> str | None:
    """The errno name after a negative or ``?`` return (``ENOENT``, ``ERESTARTSYS``, ``"531"``)."""
    if not tail or (value is not None and value >= 0):
        return None
    m = _ERRNO.match(tail)
    if m is None:
        return None
    return m.group(1) or m.group(2)


def parse_clock(ts: str) -> tuple[float, bool]:
    """A leader timestamp -> (seconds, is_wall_clock).  Wall clock (-t/-tt) is seconds since midnight."""
    if ":" in ts:
        h, m, s = ts.split(":", 2)
        return int(h) * 3600 + int(m) * 60 + float(s), True
    return float(ts), False


def ts_form(ts: str) -> str:
    """The short form name of a timestamp: t, tt, ttt, ns, ts-ms, ts-s."""
    if ":" in ts:
        if "." not in ts:
            return "t"
        frac = len(ts) - ts.index(".") - 1
        return "tt" if frac == 6 else ("ns" if frac == 9 else "ts-ms")
    if "." not in ts:
        return "ts-s"
    frac = len(ts) - ts.index(".") - 1
    return "ttt" if frac == 6 else ("ns" if frac == 9 else "ts-ms")


# --------------------------------------------------------------------------- sniffing
_BODY_START = re.compile(
    r"(?:[A-Za-z0-9_?#:]+\(|<\.\.\. [A-Za-z0-9_?#:]+ resumed|\+\+\+ |--- |\[ Process PID=|strace: "
    r"|Process \d+ (?:at|de)tached| > )"
)


def looks_like_strace(line: str) -> bool:
    """Whether one line reads as strace output (a stateless check, for the not-strace test)."""
    if line.startswith(" > ") or line.startswith("strace: "):
        return True
    m = LEADER.match(line)
    body = line[m.end():]
    if not _BODY_START.match(body):
        return False
    if body[:1].isalpha() or body[:1] in "_?":
        if ENTRY_END.search(body):
            return True
        return SYSCALL.match(body) is not None
    return True


# --------------------------------------------------------------------------- fast path (bytes)
def name_trie(names) -> bytes:
    """A regex alternation of byte names as a trie (Python's re does not build one itself)."""
    words = sorted({n if isinstance(n, bytes) else n.encode() for n in names})
    return _trie(words)


def _trie(words: list[bytes]) -> bytes:
    groups: dict[bytes, list[bytes]] = {}
    optional = False
    for w in words:
        if not w:
            optional = True
            continue
        groups.setdefault(w[:1], []).append(w[1:])
    if not groups:
        return b""
    parts = [re.escape(k) + _trie(v) for k, v in sorted(groups.items())]
    body = parts[0] if len(parts) == 1 and not optional else b"(?:" + b"|".join(parts) + b")"
    if optional:
        body += b"?"
    return body


# --------------------------------------------------------------------------- captured fast path (str)
# For a trace whose lines are "PID  [TS ]BODY" (the -f -o layout without -Y/-r/-n/-i): one regex over a
# whole decoded chunk matches a complete syscall line and captures every field, so the line needs no
# further parse.  The name and return sub-patterns are those of split_syscall/_RET with "\n" excluded
# from every class, "$" replaced by the line end, and a decoration that could read as an entry suffix
# (" <unfinished ...>" at the end) refused.  The caller checks what the cheap leader does not: a pid of
# at most 7 digits and a timestamp of LEADER's exact form (TS_EXACT); otherwise it reads the line
# slowly.  Groups: 1 pid, 2 ts ("" without -t), 3 name, 4 args, 5 ret_text (ret, decoration, tail),
# 6 ret, 7 tail, 8 duration.
_CAP_RET = (
    r"\((?P<args>[^\n]*)\)\ +=\ "
    r"(?P<rt>(?P<ret>\?|-?\d+|0x[0-9a-fA-F]+)"
    r"(?:<(?!unfinished|detached|pid\ changed)[^<>\n]*(?:<[^<>\n]*(?:<[^<>\n]*>[^<>\n]*)*>[^<>\n]*)*>)?"
    r"(?P<tail>(?:\ (?:E[A-Z0-9_]+|\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)|<unavailable>"
    r"|/\*[^*\n]*\*+(?:[^/*\n][^*\n]*\*+)*/))*))"
    r"(?:\ <(?P<dur>\d+(?:\.\d+)?)>)?(?=\n)"
)
#: names mode: the rest of a ``<... NAME resumed>`` line after its ``>``, ``ARGS) = RET``, captured
#: as :data:`_CAP_RET` does (groups args, rt, ret, tail, dur; bytes; match at the rest's start)
RESUMED_RET_B = re.compile(_CAP_RET[2:].encode("latin-1"))
_CAP_NAME = r"(?P<name>[A-Za-z0-9_?][A-Za-z0-9_?#:]*+)"
_NAME_FIRST_OK = re.compile(r"[A-Za-z0-9_?][A-Za-z0-9_?#:]*")
TS_EXACT = re.compile(r"\d\d:\d\d:\d\d(?:\.\d+)?|\d{9,}(?:\.\d+)?")
TS_EXACT_B = re.compile(TS_EXACT.pattern.encode())


def full_line_regex(ts: bool) -> re.Pattern:
    """Full mode: a complete syscall line of any name (a line it does not match is read slowly).
    Here every line is matched anyway, so the leader is the exact one (no caller checks needed)."""
    lead = (r"\n(\d{1,7}+) ++(\d\d:\d\d:\d\d(?:\.\d+)?+|\d{9,}+(?:\.\d+)?+) ++" if ts
            else r"\n(\d{1,7}+) ++()")
    return re.compile(lead + _CAP_NAME + _CAP_RET)


def candidate_regex(names, ts: bool) -> re.Pattern:
    """names mode: the candidate lines of a pid-column trace (a wanted name followed by ``(``, its
    ``<... NAME resumed>``, ``+++``, ``---``, ``[ Process``); a complete syscall line of a wanted
    name is captured whole (groups ``args``..``dur`` set), any other candidate only located.  A
    BYTES regex (run on the undecoded chunk; names as utf-8).  Groups: 1 pid, 2 ts (empty without
    -t), 3 empty at the body's start, 4-8 as :data:`_CAP_RET` (args, ret_text, ret, tail, dur).

    The name is not a group, and the pattern is one line form with no alternative at its top (-k
    stack lines, which have no pid column, are found by the caller's runs of tids): a group around
    the name alternation, or an alternative at the top, costs every line of the trace a jump in
    the matcher.  The caller reads the name between the body's start and its ``(``.  Odd names
    (not of :data:`_NAME_FIRST_OK`'s form) are located like the others, only ever read slowly."""
    names = sorted({n.decode() if isinstance(n, bytes) else n for n in names})
    ok = [n for n in names if _NAME_FIRST_OK.fullmatch(n)]
    odd = [n for n in names if not _NAME_FIRST_OK.fullmatch(n)]
    trie = name_trie(names).decode("latin-1")
    body = []
    if ok:
        body.append(r"(?:" + name_trie(ok).decode("latin-1") + r")(?:" + _CAP_RET + r"|\()")
    if odd:
        body.append(r"(?:" + name_trie(odd).decode("latin-1") + r")\(")
    body += [r"<\.\.\. (?:" + trie + r") resumed", r"\+\+\+ ", r"--- ", r"\[ Process PID="]
    lead = r"(\d++) ++([\d:.]++) ++()" if ts else r"(\d++) ++()()"
    line = lead + r"(?:" + "|".join(body) + r")"
    return re.compile((r"\n" + line).encode("latin-1"))


#: runs of lines of one tid (the first line of each run is where a tid may be new), over bytes, for
#: ``findall``: (tid digits, the run's text from its leading newline)
TID_RUNS_B = re.compile(rb"(?=\n(\d++) )(\n\1 .*+(?:\n\1 .*+)*+)")
