"""The streaming strace reader: every output form of ``shared/docs/strace-format.md`` to typed events.

::

    reader = TraceReader("trace.txt")                     # a file, an -ff directory, or an -ff prefix
    for ev in reader:                                     # TaskSeen, Syscall, Signal, Exit, ...
        ...
    reader.report                                         # ReadReport, complete once iteration ends

    for ev in read_trace("trace.txt", names={"execve", "clone"}):   # only these Syscalls are built
        ...

Design (speed): input is read in binary chunks of about 1 MiB that never split a line.  Without
``names`` every line is decoded (utf-8 + surrogateescape: bytes survive exactly) and parsed with
one leader regex and one body regex.  With ``names``, a single-file trace whose leader shape is
regular is scanned chunk-wise by one compiled regex that finds only the candidate lines (a wanted
name followed by ``(``, its ``<... NAME resumed>``, ``+++``, ``---``, ``[ Process``), plus the first
line of every new tid (one ``findall`` per chunk) and a few literal searches; only those lines are
decoded and parsed.  The filtered stream equals the full stream filtered by name.

Events come in file order (for an ``-ff`` set: merged by timestamp, or file after file when the
files have none).  A syscall is yielded at its exit line; an entry that never finishes is yielded
(state ``unfinished``) when its task exits, is killed, detached or superseded, or at end of input.
Times: ``-t``/``-tt`` give seconds since midnight of the first day of the trace (a wrap past
midnight adds 86400, so times never go backwards); ``-ttt``/ns/precision forms give epoch seconds;
``-r`` alone gives no ``time``.  A joined unfinished/resumed syscall carries its entry time and the
``-T`` duration of its exit line.
"""
from __future__ import annotations

import heapq
from collections import Counter
from bisect import bisect_right
from itertools import accumulate
from operator import itemgetter
import os
import re
from collections.abc import Collection, Iterator
from pathlib import Path

from tracerule.errors import Diagnostic, InputError, Severity
from tracerule.strace import _grammar as G
from tracerule.strace.events import (
    COMPLETE, RESUMED_ORPHAN, UNFINISHED, Attached, Detached, Event, Exit, Personality, PidChanged,
    Signal, Superseded, Syscall, TaskSeen,
)
from tracerule.strace.report import ReadReport

__all__ = ["TraceReader", "read_trace", "line_chunks", "CHUNK_SIZE"]

CHUNK_SIZE = 1 << 20
FAST_CHUNK_SIZE = 1 << 18          # names mode: smaller chunks bound the per-task searches
SNIFF_LINES = 50
_BUFFER_LIMIT = 100_000            # events held while the first task's pid is unknown
_CREATION = frozenset({"clone", "clone2", "clone3", "fork", "vfork"})
_EXECS = frozenset({"execve", "execveat"})
#: ``b"tached" in chunk``, faster (sre's literal search: 42 against 59 ms over 118 MB)
_TACHED = re.compile(rb"tached").search
#: a line's exact timestamp after its pid column ("\nPID  TS "), for the clock
_LAST_TS = re.compile(rb"\n\d{1,7} +(\d\d:\d\d:\d\d(?:\.\d+)?|\d{9,}(?:\.\d+)?) ").match
_ROOT_LEARN = frozenset({"set_tid_address", "getpid", "gettid"})
_INTERNAL = _CREATION | _ROOT_LEARN
_BODY_OK = G._BODY_START.match
_PIDNS = re.compile(r"/\* (\d+) in strace's PID NS \*/")
_FF_NAME = re.compile(r"^(?P<prefix>.*)\.(?P<tid>\d+)$")
_FF_TS = re.compile(r"(\d\d:\d\d:\d\d(?:\.\d+)?|\d{9,}(?:\.\d+)?) ")
_SURR = "surrogateescape"
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)

# chunk-level probes: key -> needles; a probe is decided once one needle is found
_PROBES: dict[str, tuple[bytes, ...]] = {
    "fail": (b" = -1 ",),
    "success": (b" = 0",),
    "unfinished": (b"<unfinished ",),
    "truncated": (b'"...',),
    "mem": (b"mmap(", b"brk(", b"mprotect(", b"mmap2(", b"munmap("),
    "file": (b"openat(", b"open(", b"close(", b"newfstatat(", b"stat(", b"access(", b"read("),
    "exec": (b"execve(", b"execveat("),
    "creation": (b"clone(", b"clone3(", b"fork("),
    "exitline": (b"+++ exited", b"+++ killed"),
    "f:pidns-translation": (b"in strace's PID NS",),
    "f:X-verbose": (b" /* AT_FDCWD */", b" /* O_RDONLY", b" /* SIGCHLD */"),
    "f:X-raw": (b"openat(-100, ", b"|17, child_tidptr", b"flags=0x1200000|"),
    "f:v-env": (b'"], ["',),
    "f:strace-4x-env": (b"[/* ",),
    "f:inject": (b"(INJECTED", b"(DELAYED)"),
    "f:unknown-syscall": (b"syscall_0x", b"???("),
    "f:yy-fd": (b"<char ", b"<socket:[", b"<UNIX:[", b"<pipe:[", b"<TCP:[", b"<UDP:[", b"<NETLINK:["),
}
_XX_HEX = re.compile(rb'"(?:\\x(?:2[0-9a-f]|[3-6][0-9a-f]|7[0-9a-e])){4,}"')
_PROBE_FULL_BYTES = 2 << 20        # probe every chunk of the first 2 MiB, then one in 32


def _fast_constructor(cls):
    """A constructor for a frozen slots dataclass, equal in effect to ``cls(...)`` but cheaper.

    The generated ``__init__`` of a frozen dataclass calls ``object.__setattr__`` once per field
    (about 1.4 us for Syscall's 14 fields).  Here a plain twin class with the same slots is built
    with ordinary attribute stores and then re-classed (``__class__`` assignment between classes
    of identical slot layout, about 0.45 us): the result is a true ``cls`` instance, frozen as
    ever.  Used only when ``cls`` has no ``__post_init__``, its slots are exactly its init
    fields, and a sample equals the real constructor's; otherwise the class itself."""
    import dataclasses

    try:
        fields = dataclasses.fields(cls)
        names = [f.name for f in fields]
        if hasattr(cls, "__post_init__") or tuple(cls.__slots__) != tuple(names) \
                or not all(f.init for f in fields) or cls.__bases__ != (object,):
            return cls
        ns: dict = {"_cls": cls}
        params = ", ".join(names)
        src = (f"class _Twin:\n    __slots__ = {tuple(names)!r}\n"
               f"    def __init__(self, {params}):\n"
               + "".join(f"        self.{n} = {n}\n" for n in names)
               + f"def make({params}):\n    o = _Twin({params})\n    o.__class__ = _cls\n    return o\n")
        exec(src, ns)
        make = ns["make"]
        sample = tuple(range(len(names)))
        made = make(*sample)
        if type(made) is not cls or made != cls(*sample):
            return cls
        return make
    except Exception:       # anything unexpected: the ordinary constructor
        return cls


_SYSCALL = _fast_constructor(Syscall)


class _Clock:
    """Timestamp -> float.  Wall clock (-t/-tt) is unwrapped past midnight; ``base`` aligns -ff files."""

    __slots__ = ("off", "prev", "base", "hm", "hms")

    def __init__(self, base: float | None = None) -> None:
        self.off = 0.0
        self.prev: float | None = None
        self.base = base
        self.hm = ""                     # the last "HH:MM:" seen and its seconds
        self.hms = 0

    def __call__(self, ts: str) -> float:
        if ts[2:3] == ":" and ts[5:6] == ":":
            hm = ts[:6]
            if hm != self.hm:
                self.hm = hm
                self.hms = int(ts[:2]) * 3600 + int(ts[3:5]) * 60
            v = self.hms + float(ts[6:])
        elif ":" not in ts:
            return float(ts)
        else:
            h, m, s = ts.split(":", 2)
            v = int(h) * 3600 + int(m) * 60 + float(s)
        if self.prev is None:
            if self.base is not None:
                self.off = (self.base + ((v - self.base) % 86400.0)) - v
            v += self.off
        else:
            v += self.off
            if v < self.prev - 43200.0:
                self.off += 86400.0
                v += 86400.0
        self.prev = v
        return v


class _Stream:
    """One input file being read."""

    __slots__ = ("path", "name", "fixed", "clock", "carry", "partial_at", "fast", "ts_seen",
                 "carry_next", "lines", "sep", "stack", "cap", "bnames", "okn", "capts")

    def __init__(self, path: Path, fixed: int | None, base: float | None) -> None:
        self.path = path
        self.name = str(path)
        self.fixed = fixed               # -ff: the tid from the file suffix
        self.clock = _Clock(base)
        self.carry: tuple[str, int | None, int] | None = None   # glued diagnostic: (head, tid, line)
        self.partial_at = 0              # line number of a last line without newline
        self.fast: re.Pattern | None = None   # candidate regex (names mode fast path)
        self.ts_seen = False
        self.carry_next: set[int] = set()     # tids with a wanted pending whose next line is unseen
        self.lines = 0
        self.sep = b" "                  # what follows the pid column: "<" with -Y
        self.stack = True                # -k stack lines may occur
        self.cap: re.Pattern | None = None    # captured fast path: "PID [TS] BODY" layout
        self.bnames: dict[bytes, str] = {}    # names mode, captured path: name bytes -> name
        self.okn: dict[bytes, str] = {}       # the same for the names the candidate regex captures
        self.capts = False               # the captured layout has a timestamp column


class _Pend:
    __slots__ = ("name", "head", "file", "line", "time", "comm", "scno")

    def __init__(self, name, head, file, line, time, comm, scno):
        self.name = name
        self.head = head      # entry text without the " <unfinished ...>" suffix, "NAME(" included
        self.file = file
        self.line = line
        self.time = time
        self.comm = comm
        self.scno = scno


def read_trace(source, **kw) -> Iterator[Event]:
    """Generator convenience: ``yield from TraceReader(source, **kw)``."""
    yield from TraceReader(source, **kw)


class TraceReader:
    """Stream events from strace output.  ``source``: a trace file; a directory holding one ``-ff``
    set (files ``PREFIX.<tid>``); a prefix path whose files ``PREFIX.<tid>`` exist; or a list of
    such ``-ff`` files.  ``names``: build Syscall events only for these syscall names (every other
    event kind is always yielded).  ``reader.report`` is complete once iteration ends.

    Raises :class:`tracerule.errors.InputError` (missing file, empty file, not strace output).
    """

    def __init__(self, source, *, names: Collection[str] | None = None, max_bad_shown: int = 10,
                 jobs: int | None = None) -> None:
        self.source = source
        self.names = frozenset(names) if names is not None else None
        #: names mode on a big trace: a helper process scans chunks ahead (see
        #: :mod:`tracerule.strace._prefetch`); None decides by size and CPUs, 1 never, 2 always
        self.jobs = jobs
        self.report = ReadReport(max_bad_shown=max_bad_shown)
        self._files, self._ff = _resolve(source)
        self.report.files = [str(p) for p, _ in self._files]
        if self._ff:
            self.report.forms.add("ff")
        # shared state (pairing by tid crosses -ff files)
        self._out: list[Event] = []
        self._buffer: list[Event] | None = None
        self._pending: dict[int, _Pend] = {}
        self._handover: dict[int, _Pend] = {}
        self._seen: set[int] = set()
        self._all: set[int] = set()
        self._live: set[int] = set()
        self._attached: set[int] = set()
        self._root: int | None = None
        self._root_unknown = False
        self._last_tid: int | None = None
        self._children: set[int] = set()
        self._req: list[int] = []
        self._probes = {k: v for k, v in _PROBES.items()}
        self._found: set[str] = set()
        self._chunks = 0
        self._probed = 0
        self._ambiguous = 0
        self._pidcol = False
        self._ff_pending_peeked: set[int] = set()
        self._ff_paths: dict[int, Path] = {t: p for p, t in self._files if t is not None}

    # ------------------------------------------------------------------------------------ run
    def __iter__(self) -> Iterator[Event]:
        return self._run()

    def _run(self) -> Iterator[Event]:
        sniffs = []
        for path, tid in self._files:
            sniffs.append(_sniff(path, allow_empty=self._ff))
        if self._ff and all(s is None for s in sniffs):
            raise InputError(f"{self._files[0][0].parent}: every file of the -ff set is empty")
        if self._ff:
            has_ts = any(s is not None and s["ts"] is not None for s in sniffs)
            if has_ts:
                yield from self._run_ff_merged(sniffs)
            else:
                for (path, tid), sn in zip(self._files, sniffs):
                    if sn is None:
                        continue
                    st = _Stream(path, tid, None)
                    yield from self._run_stream(st, sn, fast=False)
        else:
            (path, tid), sn = self._files[0], sniffs[0]
            st = _Stream(path, None, None)
            yield from self._run_stream(st, sn, fast=self.names is not None)
        yield from self._finish()

    def _run_stream(self, st: _Stream, sn: dict, *, fast: bool) -> Iterator[Event]:
        rep = self.report
        shape = sn["shape"]
        if sn["regular"] and st.fixed is None and shape is not None and shape[0] and not any(shape[1:2] + shape[3:]):
            # "PID  [TS ]BODY": complete syscall lines are captured whole by one regex per chunk
            if fast:
                st.stack = sn["stack"]
                st.capts = shape[2]
                st.cap = G.candidate_regex(self.names | _CREATION, shape[2])
                st.bnames = {n.encode("utf-8", _SURR): n for n in self.names | _CREATION}
                st.okn = {b: n for b, n in st.bnames.items() if G._NAME_FIRST_OK.fullmatch(n)}
                st.fast = st.cap
                self._pidcol = True
                rep.forms.add("pid-column")
            else:
                st.cap = G.full_line_regex(shape[2])
        elif fast and sn["regular"]:
            st.fast = _fast_regex(sn, self.names | (_CREATION if sn["shape"] and sn["shape"][0] else _INTERNAL))
            st.stack = sn["stack"]
            if st.fast is not None and sn["shape"][0]:
                st.sep = b"<" if sn["shape"][1] else b" "
                self._pidcol = True
                rep.forms.add("pid-column")
        line_fn = self._line
        out = self._out
        try:
            f = _open(st.path)
        except OSError as exc:
            raise InputError(f"{st.name}: cannot read: {exc.strerror or exc}") from None
        pf = None
        if st.cap is not None and st.fast is not None:
            from tracerule.strace import _prefetch

            if _prefetch.usable(st.path, self.jobs):
                fst = os.fstat(f.fileno())
                pf = _prefetch.Prefetch.start(st.path, st.cap.pattern, FAST_CHUNK_SIZE, (fst.st_dev, fst.st_ino))
        try:
            with f:
                lines_before = 0
                # the captured paths read each chunk as "\n" + its lines: the chunks come that way
                # (built in one copy), and the other paths drop the "\n"
                lead = st.cap is not None
                cut: list[str] = []
                for index, (chunk, partial) in enumerate(
                        _chunks(f, FAST_CHUNK_SIZE if st.fast is not None else CHUNK_SIZE, lead, st.name, cut)):
                    pre = None
                    if pf is not None:
                        pre = pf.get(index, chunk)
                        if pre is None or st.cap is None:
                            pf.close()
                            pf = pre = None
                    self._probe(chunk)
                    # a "Process N attached/detached" diagnostic and a " <detached ...>" entry both hold
                    # "tached": one search usually rules out both
                    tached = st.cap is not None and (pre[2] if pre is not None else _TACHED(chunk) is not None)
                    if st.cap is not None and st.carry is None and (not tached or b"Process " not in chunk):
                        if partial:
                            st.partial_at = lines_before + 1      # a partial chunk is one line without newline
                        if st.fast is not None:
                            lines_before += self._cap_chunk(st, chunk, lines_before, partial, tached, pre)
                        else:
                            lines_before += self._full_chunk(st, chunk, lines_before)
                        if self._out:
                            yield from self._drain()
                        continue
                    if lead:
                        chunk = chunk[1:]
                    nl = chunk.count(b"\n")
                    nlines = nl + (1 if partial else 0)
                    if st.fast is not None and st.cap is None and (b"Process " if self._pidcol else b"[pid ") not in chunk \
                            and (self._pidcol or b"Process " not in chunk):
                        self._fast_chunk(st, chunk, lines_before, partial)
                    else:
                        if st.fast is not None and b"[pid " in chunk:
                            st.fast = None       # a stderr capture after all: read it fully from here
                            st.cap = None
                        text = chunk.decode("utf-8", _SURR)
                        lines = text.split("\n")
                        if not partial:
                            lines.pop()
                        else:
                            st.partial_at = lines_before + nlines
                        ln = lines_before
                        for line in lines:
                            ln += 1
                            if line:
                                line_fn(st, ln, line)
                            else:
                                rep.skip("blank")
                    lines_before += nlines
                    if out:
                        yield from self._drain()
                st.lines = lines_before
                rep.lines += lines_before
                if cut:
                    _note_cut(rep, st.name, cut[0])
        finally:
            if pf is not None:
                pf.close()
        if st.carry is not None:
            head, _tid, cln = st.carry
            st.carry = None
            self._bad(st, cln, "line interrupted by a strace diagnostic and never continued", head)
        if out:
            yield from self._drain()

    def _run_ff_merged(self, sniffs) -> Iterator[Event]:
        """-ff with timestamps: merge the files' lines by time (wall clock unwrapped past midnight)."""
        firsts = [s["first_time"] for s in sniffs if s is not None and s["first_time"] is not None]
        base = None
        if sniffs and any(s is not None and s["wall"] for s in sniffs) and firsts:
            base = _circular_base(firsts)
        streams = []
        iters = []
        for idx, ((path, tid), sn) in enumerate(zip(self._files, sniffs)):
            if sn is None:
                continue
            st = _Stream(path, tid, base)
            streams.append(st)
            iters.append(self._ff_lines(st, idx, base))
        line_fn = self._line
        for key, idx, ln, st, line in heapq.merge(*iters, key=lambda x: (x[0], x[1], x[2])):
            if line:
                line_fn(st, ln, line)
            else:
                self.report.skip("blank")
            if self._out:
                yield from self._drain()
        for st in streams:
            self.report.lines += st.lines
            if st.carry is not None:
                head, _tid, cln = st.carry
                st.carry = None
                self._bad(st, cln, "line interrupted by a strace diagnostic and never continued", head)
        self.report.forms.add("ff-merged")

    def _ff_lines(self, st: _Stream, idx: int, base: float | None):
        clock = _Clock(base)
        key = float("-inf")
        try:
            f = _open(st.path)
        except OSError as exc:
            raise InputError(f"{st.name}: cannot read: {exc.strerror or exc}") from None
        with f:
            ln = 0
            cut: list[str] = []
            for chunk, partial in _chunks(f, name=st.name, cut=cut):
                self._probe(chunk)
                lines = chunk.decode("utf-8", _SURR).split("\n")
                if not partial:
                    lines.pop()
                last = len(lines) - 1
                for i, line in enumerate(lines):
                    ln += 1
                    m = _FF_TS.match(line)
                    if m is not None:
                        key = clock(m.group(1))
                    st.lines = ln
                    if partial and i == last:
                        st.partial_at = ln
                    yield key, idx, ln, st, line
            if cut:
                _note_cut(self.report, st.name, cut[0])

    def _drain(self) -> list[Event]:
        out = self._out
        self._out = []
        rep = self.report
        kinds = rep.kinds
        for t, n in Counter(map(type, out)).items():
            k = t.__name__
            kinds[k] = kinds.get(k, 0) + n
        rep.events += len(out)
        rep.syscalls = kinds.get("Syscall", 0)
        return out

    # ------------------------------------------------------------------------------- fast path
    def _fast_chunk(self, st: _Stream, chunk: bytes, lines_before: int, partial: bool) -> None:
        """names mode: parse only candidate lines of one chunk (see the module docstring)."""
        buf = b"\n" + chunk
        if partial:
            st.partial_at = lines_before + chunk.count(b"\n") + 1
        starts = [m.start() for m in st.fast.finditer(buf)]
        for needle in (b" <detached ...>", b" <pid changed to "):
            i = buf.find(needle)
            while i >= 0:
                starts.append(buf.rfind(b"\n", 0, i))
                i = buf.find(needle, i + 1)
        seen = self._seen
        pidcol = self._pidcol
        tl: list[bytes] = []
        sep = st.sep
        if pidcol:
            # the tid of every line of the chunk, in order ("" for lines without one)
            tl = re.findall(rb"\n(\d*)", buf)
            new = [t for t in set(tl) if t and int(t) not in seen]
            for tid in list(st.carry_next):
                st.carry_next.discard(tid)
                if tid in self._pending:
                    tb = str(tid).encode()
                    if tb in tl:
                        new.append(tb)
                    else:
                        st.carry_next.add(tid)
            if new:
                # locate those lines from the nearest candidate line before them (short searches)
                starts.sort()
                idx = []
                cpos = cl = 0
                for s in starts:
                    cl += buf.count(b"\n", cpos, s + 1)
                    cpos = s + 1
                    idx.append(cl - 1)
                found = []
                for t in new:
                    j = tl.index(t)
                    k = bisect_right(idx, j) - 1
                    found.append(_find_tid_line(buf, t, starts[k] if k >= 0 else 0, sep))
                starts.extend(found)
        else:
            # one task per stream: its first line, and the first line after an exit or a pending
            if (self._root is None and not self._all) or st.carry_next or not (self._live & self._seen):
                starts.append(0)
                st.carry_next.clear()
        k = buf.count(b"\n > ") if st.stack else 0
        if k:
            nst = self.report.skipped
            nst["stack"] = nst.get("stack", 0) + k
            self.report.forms.add("k")
        heapq.heapify(starts)
        last = -1
        cpos = 0
        cl = 0
        end = len(buf)
        line_fn = self._line
        req = self._req
        while starts:
            s = heapq.heappop(starts)
            if s <= last or s >= end:
                continue
            last = s
            cl += buf.count(b"\n", cpos, s + 1)
            cpos = s + 1
            e = buf.find(b"\n", s + 1)
            if e < 0:
                e = end
            raw = buf[s + 1:e]
            if not raw or raw[:3] == b" > ":
                continue
            line_fn(st, lines_before + cl, raw.decode("utf-8", _SURR))
            if req:
                for tid in req:
                    if pidcol:
                        tb = str(tid).encode()
                        try:
                            tl.index(tb, cl)          # a later line of this tid in the chunk?
                        except ValueError:
                            if tid in self._pending:
                                st.carry_next.add(tid)
                            continue
                        heapq.heappush(starts, _find_tid_line(buf, tb, e, sep))
                    elif e < end:
                        heapq.heappush(starts, e)
                    else:
                        st.carry_next.add(tid)
                req.clear()

    # ----------------------------------------------------------------------- captured fast paths
    def _full_chunk(self, st: _Stream, chunk: bytes, lines_before: int) -> int:
        """Full mode, "PID [TS] BODY" layout: a complete syscall line of a known task with nothing
        pending is built straight from one regex match over the chunk; every other line (the gaps
        between matches, and matches the slow path must see) is read by :meth:`_line`.  Returns
        the number of lines read."""
        buf = chunk.decode("utf-8", _SURR)       # the chunk starts with "\n" (see _run_stream)
        rep = self.report
        line_fn = self._line
        out = self._out
        seen = self._seen
        pending = self._pending
        clock = st.clock
        fname = st.name
        internal = _INTERNAL
        parse_ret = G.parse_ret
        errno_match = G._ERRNO.match
        new_syscall = _SYSCALL
        ts_ok = st.ts_seen
        dur_ok = "f:T" in self._found
        buffered = self._buffer is not None
        all_ok = ts_ok and dur_ok and not buffered
        # the wall clock inlined (see _Clock): "HH:MM:" cached, unwrapped past midnight
        c_hm, c_hms, c_off, c_prev = clock.hm, clock.hms, clock.off, clock.prev
        ln = lines_before
        pos = 0                          # buf[pos] is the newline before the next unread line
        tid = None
        for m in st.cap.finditer(buf):
            s, e = m.span()
            if s != pos:
                clock.hm, clock.hms, clock.off, clock.prev = c_hm, c_hms, c_off, c_prev
                if tid is not None:
                    self._last_tid = tid
                for line in buf[pos + 1:s].split("\n"):
                    ln += 1
                    if line:
                        line_fn(st, ln, line)
                    else:
                        rep.skip("blank")
                c_hm, c_hms, c_off, c_prev = clock.hm, clock.hms, clock.off, clock.prev
                ts_ok = st.ts_seen
                dur_ok = "f:T" in self._found
                buffered = self._buffer is not None
                all_ok = ts_ok and dur_ok and not buffered
            ln += 1
            pos = e
            pid, ts, name, args, rt, ret_s, tail, dur = m.groups()
            tid = int(pid)
            if tid not in seen or (pending and tid in pending) \
                    or (not all_ok and ((ts and not ts_ok) or (dur is not None and not dur_ok) or buffered)):
                clock.hm, clock.hms, clock.off, clock.prev = c_hm, c_hms, c_off, c_prev
                line_fn(st, ln, buf[s + 1:e])
                c_hm, c_hms, c_off, c_prev = clock.hm, clock.hms, clock.off, clock.prev
                ts_ok = st.ts_seen
                dur_ok = "f:T" in self._found
                buffered = self._buffer is not None
                all_ok = ts_ok and dur_ok and not buffered
                continue
            c = ret_s[0]
            if c == "0":
                ret = 0 if len(ret_s) == 1 else (int(ret_s, 16) if ret_s[1] == "x" else parse_ret(ret_s))
            elif c == "?":
                ret = None
            else:
                ret = int(ret_s)
            if tail and (ret is None or ret < 0):
                em = errno_match(tail)
                errno = (em.group(1) or em.group(2)) if em is not None else None
            else:
                errno = None
            if ts:
                if ts[2] == ":":
                    if ts[:6] != c_hm:
                        c_hm = ts[:6]
                        c_hms = int(ts[:2]) * 3600 + int(ts[3:5]) * 60
                    time = c_hms + float(ts[6:]) + c_off
                    if c_prev is not None and time < c_prev - 43200.0:
                        c_off += 86400.0
                        time += 86400.0
                    elif c_prev is None:
                        clock.hm, clock.hms, clock.off, clock.prev = c_hm, c_hms, c_off, c_prev
                        time = clock(ts)
                        c_off = clock.off
                    c_prev = time
                else:
                    time = float(ts)
            else:
                time = None
            out.append(new_syscall(fname, ln, tid, name, args, ret, errno, rt, time,
                                   float(dur) if dur is not None else None, 0, COMPLETE, None, None))
            if name in internal:
                self._internal(tid, name, ret, rt)
        if tid is not None:
            self._last_tid = tid
        clock.hm, clock.hms, clock.off, clock.prev = c_hm, c_hms, c_off, c_prev
        rest = buf[pos + 1:].split("\n")
        if buf[-1] == "\n":
            rest.pop()
        for line in rest:
            ln += 1
            if line:
                line_fn(st, ln, line)
            else:
                rep.skip("blank")
        return ln - lines_before

    def _cap_chunk(self, st: _Stream, chunk: bytes, lines_before: int, partial: bool, tached: bool = True,
                   pre: tuple | None = None) -> int:
        """names mode, "PID [TS] BODY" layout, on the chunk's bytes: read only the candidate lines
        (one bytes regex; a complete syscall line of a wanted name captured whole and only its
        fields decoded), the first line of every tid new to the chunk's reading (the chunk's
        tids and starts of its runs of lines of one tid come from one ``findall``),
        and the lines the slow path asks for (the next line of a task after its exit or a wanted
        entry).  Only those lines are decoded; line numbers are counted up to each of them.
        ``pre``: the candidates' positions and the runs, found by the prefetch process
        (:mod:`tracerule.strace._prefetch`) on the same bytes; None: found here."""
        buf = chunk                 # "\n" + the chunk's lines (see _run_stream)
        end = len(buf)
        find = buf.find
        heap: list[int] = []
        forced: set[int] = set()          # positions some reason other than a new tid asks for
        # " <pid changed to N ...>" ends only an execve/execveat entry (strace's maybe_switch_tcbs):
        # when both are candidate names the candidate regex meets that line anyway
        needles = (b" <detached ...>",) if tached else ()
        if not _EXECS <= self.names:
            needles += (b" <pid changed to ",)
        for needle in needles:
            i = find(needle)
            while i >= 0:
                p = buf.rfind(b"\n", 0, i)
                heap.append(p)
                forced.add(p)
                i = find(needle, i + 1)
        k = buf.count(b"\n > ") if st.stack else 0
        if k:
            nst = self.report.skipped
            nst["stack"] = nst.get("stack", 0) + k
            self.report.forms.add("k")
        pending = self._pending
        seen = self._seen
        cn = {t for t in st.carry_next if t in pending}
        st.carry_next.clear()
        rtid, rstarts, rends, tiled = _tid_runs(buf, partial) if pre is None else pre[1]
        if not tiled and not st.stack and find(b"\n > ") >= 0:
            # a line without the pid column: the first -k stack lines (" > ..."); count this
            # chunk's (later chunks count theirs above)
            st.stack = True
            nst = self.report.skipped
            nst["stack"] = nst.get("stack", 0) + buf.count(b"\n > ")
            self.report.forms.add("k")
        newat: dict[int, tuple[int, bytes]] = {}
        for tb in set(rtid):
            if not tb:
                continue
            t = int(tb)
            if t in cn or t not in seen:
                p = rstarts[rtid.index(tb)]
                newat[p] = (t, tb)
                heap.append(p)

        def next_of(tb: bytes, e: int) -> int:
            """Where the first line of tid ``tb`` after position ``e`` starts (-1: not in the chunk)."""
            r = bisect_right(rstarts, e) - 1
            if r >= 0 and e < rends[r] and rtid[r] == tb:
                return e
            try:
                return rstarts[rtid.index(tb, r + 1)]
            except ValueError:
                return -1

        heapq.heapify(heap)
        line_fn = self._line
        req = self._req
        out = self._out
        clock = st.clock
        fname = st.name
        want = self.names
        internal = _INTERNAL
        bnames = st.bnames
        okn = st.okn
        parse_ret = G.parse_ret
        errno_of = G.errno_of
        ts_exact = G.TS_EXACT_B.fullmatch
        new_syscall = _SYSCALL
        split_syscall = G.split_syscall
        res_ret = G.RESUMED_RET_B.match
        name_ok = G._NAME_OK.fullmatch
        found = self._found
        heappop = heapq.heappop
        heappush = heapq.heappush
        count = buf.count
        last = -1
        cpos = 0
        cl = 0

        def slow(s: int) -> None:
            nonlocal last, cpos, cl
            last = s
            c = nlat.get(s)
            cl = c if c is not None else cl + count(b"\n", cpos, s + 1)
            cpos = s + 1
            e = find(b"\n", s + 1)
            if e < 0:
                e = end
            raw = buf[s + 1:e]
            if not raw or raw[:3] == b" > ":
                return
            line_fn(st, lines_before + cl, raw.decode("utf-8", _SURR))
            if req:
                requested(e)

        def requested(e: int) -> None:
            """Read the next line of each tid the slow path asked for (after position ``e``), if the
            chunk has one; else carry the ask to the next chunk."""
            for tid in req:
                p = next_of(str(tid).encode(), e)
                if p >= 0:
                    heappush(heap, p)
                    forced.add(p)
                elif tid in pending:
                    st.carry_next.add(tid)
            req.clear()

        def visit(p: int) -> None:
            nt = newat.get(p)
            if nt is None:
                if p > last:
                    slow(p)
                return
            tid, tb = nt
            if tid in cn:
                cn.discard(tid)
            elif tid in seen and p not in forced:
                return
            if p > last:
                slow(p)
            if tid not in seen:
                # a bad line makes no task: the next line of the tid may.  Read it in its turn (the
                # lines before it are still to be read; a task whose first line ended it, "+++
                # exited", is no bad line: its next line is a new task anyway)
                e = find(b"\n", p + 1)
                q = next_of(tb, e) if e >= 0 else -1
                if q > p:
                    newat[q] = nt
                    heappush(heap, q)

        cap_match = st.cap.match
        exit_match = G.EXIT.match
        signal_match = G.SIGNAL.match
        matches = st.cap.finditer(buf)
        # line numbers: the newlines before a position (the helper's counts at its candidates and
        # runs; elsewhere counted from the last position read)
        nlat = pre[3] if pre is not None else {}
        if pre is not None:
            # the same matches (a match never spans lines: one found at a line's start by the
            # scan is the match there)
            matches = [cap_match(buf, p) for p in pre[0]]
            if None in matches:
                matches = st.cap.finditer(buf)
        for m in matches:
            s = m.start()
            while heap and heap[0] < s:
                visit(heappop(heap))
            if s <= last:
                continue
            pid, ts, _b, args, rt, ret_s, tail, dur = m.groups()
            if ret_s is None:
                # a plain " <unfinished ...>" entry of a known task, and the "<... NAME resumed>"
                # line that completes a pending entry of the same name: read here as the slow path
                # would (anything unusual still goes there)
                if len(pid) > 7 or self._buffer is not None or st.carry is not None \
                        or (ts and (not st.ts_seen or ts_exact(ts) is None)):
                    slow(s)
                    continue
                tid = int(pid)
                if tid not in seen:
                    slow(s)
                    continue
                e = find(b"\n", s + 1)
                if e < 0:
                    e = end
                me = m.end()
                if buf[me - 1] == 40:
                    # "NAME(": an entry (an odd name's is read slowly)
                    name = okn.get(buf[m.start(3):me - 1])
                    if name is None or (pending and tid in pending) or buf[e - 17:e] != b" <unfinished ...>":
                        slow(s)
                        continue
                    last = s
                    c = nlat.get(s)
                    cl = c if c is not None else cl + count(b"\n", cpos, s + 1)
                    cpos = s + 1
                    pending[tid] = _Pend(name, buf[m.start(3):e - 17].decode("utf-8", _SURR), fname,
                                         lines_before + cl, clock(ts.decode("ascii")) if ts else None, None, None)
                    self._last_tid = tid
                    if name in want:
                        q = next_of(pid, e)
                        if q >= 0:
                            # the task's next line must be read: usually it is this entry's
                            # "<... NAME resumed>", a candidate the loop meets anyway (its matches
                            # never span lines); any other line is read as a forced one
                            if cap_match(buf, q) is None:
                                heappush(heap, q)
                                forced.add(q)
                        else:
                            st.carry_next.add(tid)
                    continue
                if buf[me - 1] == 32 and (buf[me - 4:me] == b"+++ " or buf[me - 4:me] == b"--- "):
                    # an exit or signal line of a known task (the leader checked above): read here as
                    # _parsed would, without its leader parse
                    body = buf[me - 4:e].decode("utf-8", _SURR)
                    exiting = body[0] == "+"
                    xm = exit_match(body) if exiting else signal_match(body)
                    if xm is None:
                        slow(s)
                        continue
                    last = s
                    c = nlat.get(s)
                    cl = c if c is not None else cl + count(b"\n", cpos, s + 1)
                    cpos = s + 1
                    time = clock(ts.decode("ascii")) if ts else None
                    self._last_tid = tid
                    if exiting:
                        self._exit(st, lines_before + cl, tid, xm, time, body)
                    else:
                        stop = xm.group("stop")
                        if stop is not None:
                            self._emit(Signal(fname, lines_before + cl, tid, stop, "", True, time))
                        else:
                            self._emit(Signal(fname, lines_before + cl, tid, xm.group("sig"), xm.group("info") or "",
                                              False, time))
                    if req:
                        requested(e)
                    continue
                if buf[me - 8:me] != b" resumed" or buf[me:me + 1] != b">" or not pending:
                    slow(s)
                    continue
                p = pending.get(tid)
                rs = buf.rfind(b"<... ", s, me)
                if p is None or rs < 0 or p.name != buf[rs + 5:me - 8].decode("utf-8", _SURR):
                    slow(s)
                    continue
                if buf[me + 1:me + 2] == b" " or buf.endswith(b"...>", me + 1, e):
                    slow(s)
                    continue
                name = p.name
                if name in want:
                    # the rest "ARGS) = RET" captured as a complete line is (the last ") +=" whose
                    # remainder parses); the head must be "NAME(" + its first arguments
                    rm = res_ret(buf, me + 1)
                    if rm is not None and p.head[len(name):len(name) + 1] == "(" and name_ok(name) is not None:
                        rargs, rt, ret_s, tail, dur = rm.groups()
                        if dur is None or "f:T" in found:
                            last = s
                            c = nlat.get(s)
                            cl = c if c is not None else cl + count(b"\n", cpos, s + 1)
                            cpos = s + 1
                            # the event's time is its entry's; the clock still sees this line (a
                            # day wrap shows only against a time less than 12 hours before it)
                            time = clock(ts.decode("ascii")) if ts else None
                            if p.time is not None:
                                time = p.time
                            del pending[tid]
                            self._last_tid = tid
                            if ret_s.isdigit() and (len(ret_s) == 1 or ret_s[0] != 48):
                                ret = int(ret_s)
                            else:
                                ret = parse_ret(ret_s.decode("ascii"))
                            ret_text = rt.decode("utf-8", _SURR)
                            out.append(new_syscall(
                                fname, lines_before + cl, tid, name,
                                p.head[len(name) + 1:] + rargs.decode("utf-8", _SURR), ret,
                                errno_of(ret, tail.decode("utf-8", _SURR)) if tail else None, ret_text,
                                time, float(dur) if dur is not None else None, p.line, COMPLETE, p.comm, p.scno))
                            if name in internal:
                                self._internal(tid, name, ret, ret_text)
                            continue
                rest = buf[me + 1:e].decode("utf-8", _SURR)
                full = None
                if name in want or name in internal:
                    full = p.head + rest
                    sm = split_syscall(full)
                    if sm is None:
                        slow(s)
                        continue
                last = s
                c = nlat.get(s)
                cl = c if c is not None else cl + count(b"\n", cpos, s + 1)
                cpos = s + 1
                time = clock(ts.decode("ascii")) if ts else None
                del pending[tid]
                self._last_tid = tid
                if full is not None:
                    self._syscall(fname, lines_before + cl, tid, name, sm, full,
                                  p.time if p.time is not None else time, p.comm, p.scno, p.line, COMPLETE)
                continue
            if len(pid) > 7 or self._buffer is not None:
                slow(s)
                continue
            tid = int(pid)
            if tid not in seen or (pending and tid in pending) or (ts and (not st.ts_seen or ts_exact(ts) is None)) \
                    or (dur is not None and "f:T" not in self._found):
                slow(s)
                continue
            last = s
            c = nlat.get(s)
            cl = c if c is not None else cl + count(b"\n", cpos, s + 1)
            cpos = s + 1
            if ret_s.isdigit() and (len(ret_s) == 1 or ret_s[0] != 48):
                ret = int(ret_s)
            else:
                ret = parse_ret(ret_s.decode("ascii"))
            name = bnames[buf[m.start(3):m.start(4) - 1]]
            if name in want:
                out.append(new_syscall(fname, lines_before + cl, tid, name, args.decode("utf-8", _SURR), ret,
                                       errno_of(ret, tail.decode("utf-8", _SURR))
                                       if tail and (ret is None or ret < 0) else None,
                                       rt.decode("utf-8", _SURR),
                                       clock(ts.decode("ascii")) if ts else None,
                                       float(dur) if dur is not None else None, 0, COMPLETE, None, None))
            self._last_tid = tid
            if name in internal:
                self._internal(tid, name, ret, rt.decode("utf-8", _SURR))
        while heap:
            p = heappop(heap)
            if p < end:
                visit(p)
        st.carry_next |= cn
        if st.capts:
            # the clock also sees the chunk's last line: a day wrap between two lines this mode reads
            # more than 12 hours apart then still shows (full mode's clock sees every line)
            lm = _LAST_TS(buf, buf.rfind(b"\n", 0, end - 1))
            if lm is not None:
                clock(lm.group(1).decode("ascii"))
        return (cl + count(b"\n", cpos) if pre is None else pre[4]) - (0 if partial else 1)

    # ------------------------------------------------------------------------------- one line
    def _line(self, st: _Stream, ln: int, text: str) -> None:
        if st.carry is not None:
            if text.startswith(("strace: ", "Process ")):
                # another diagnostic between the broken line and its continuation
                m = G.DIAG_PROCESS.match(text)
                if m is not None and not m.group("head"):
                    carry = st.carry
                    st.carry = None
                    self._diag_process(st, ln, m)
                    st.carry = carry
                    return None
                if text.startswith("strace: "):
                    self.report.skip("diagnostic")
                    return None
            head, ctid, cln = st.carry
            st.carry = None
            return self._parsed(st, cln, head + text, ctid)
        c0 = text[0]
        if c0 == " " and text.startswith(" > "):
            self.report.skip("stack")
            self.report.forms.add("k")
            return None
        c9 = text[-1]
        if (c9 == "d" or c9 == "t") and text.endswith(("attached", "detached", "to quit")):
            m = G.DIAG_PROCESS.match(text)
            if m is not None:
                return self._diag_process(st, ln, m)
        if c0 == "s" and text.startswith("strace: "):
            self.report.skip("diagnostic")
            self.report.forms.add("stderr-diag")
            return None
        return self._parsed(st, ln, text, None)

    def _diag_process(self, st: _Stream, ln: int, m: re.Match) -> None:
        head = m.group("head")
        pid = int(m.group("pid"))
        rep = self.report
        rep.forms.add("stderr-diag")
        if head and head != "strace: ":
            # a half-printed line with the diagnostic glued to its end: the next line continues it
            lm = G.LEADER.match(head)
            pidg, _c, spid = lm.group("pid"), lm.group("comm"), lm.group("spid")
            if st.fixed is not None:
                tid = st.fixed
            elif pidg:
                tid = int(pidg)
            elif spid:
                tid = int(spid)
                if self._buffer is not None and tid not in self._attached and tid not in self._all:
                    self._learn_root(tid)
            else:
                tid = self._unprefixed()
            st.carry = (head, tid, ln)
            rep.forms.add("stderr-glued")
        if m.group("what") == "attached":
            self._attached.add(pid)
            self._live.add(pid)
            self._emit(Attached(st.name, ln, pid))
        else:
            self._live.discard(pid)
            self._emit(Detached(st.name, ln, pid))
        if st.carry is not None and st.carry[2] == ln:
            # the broken line is the first line of its task: the task is seen at this line
            tid = st.carry[1]
            if tid not in self._seen:
                ts = lm.group("ts")
                self._seen.add(tid)
                self._all.add(tid)
                self._live.add(tid)
                self._emit(TaskSeen(st.name, ln, tid, st.clock(ts) if ts else None))
        return None

    def _unprefixed(self) -> int:
        """The tid of a line without a pid column: the only live task (stderr / no -f)."""
        live = self._live
        if len(live) == 1:
            for t in live:
                return t
        if not live:
            if not self._all and self._root is None:
                if self._buffer is None and not self._root_unknown:
                    self._buffer = []
                return 0
            return self._last_tid if self._last_tid is not None else 0
        self._ambiguous += 1
        if self._last_tid in live:
            return self._last_tid
        return min(live)

    def _parsed(self, st: _Stream, ln: int, text: str, tid: int | None) -> None:
        rep = self.report
        m = G.LEADER.match(text)
        pid, comm, spid, scomm, ts, rel, rrel, scno, ip = m.groups()
        body = text[m.end():]
        if not body:
            if text.strip():
                return self._bad(st, ln, "a line leader without a body", text)
            rep.skip("blank")
            return None
        forms = rep.forms
        # read the body before any state changes: a bad line must not create a task
        c0 = body[0]
        pre = None
        if c0 == "+":
            pre = G.EXIT.match(body)
        elif c0 == "-":
            pre = G.SIGNAL.match(body)
        elif c0 == "<":
            pre = G.RESUMED.match(body)
        elif c0 == "[":
            pre = G.PERSONALITY.match(body)
        elif body[-1] == ">" or " = " in body:
            pre = c0.isalnum() or c0 == "_" or c0 == "?" or (c0 == " " and body.startswith(" > "))
        else:
            pre = _BODY_OK(body) if c0 in "sP" else None     # "strace: ..." diagnostics
        if not pre:
            return self._bad(st, ln, "cannot read this line as strace output", text)
        if tid is None:
            if st.fixed is not None:
                tid = st.fixed
                if pid:
                    # "-ff" files have no pid column: a leading number here is not one
                    return self._bad(st, ln, "unexpected pid column in an -ff file", text)
            elif pid:
                tid = int(pid)
                if not self._pidcol:
                    self._pidcol = True
                    forms.add("pid-column")
                if comm is not None:
                    forms.add("Y")
            elif spid:
                tid = int(spid)
                forms.add("stderr-pid")
                if scomm is not None:
                    comm = scomm
                    forms.add("Y")
                if self._buffer is not None and tid not in self._attached and tid not in self._all:
                    self._learn_root(tid)
            else:
                c0 = body[0]
                if c0 == "[" and body.startswith("[ Process PID="):
                    pm = G.PERSONALITY.match(body)
                    tid = int(pm.group("pid")) if pm else self._unprefixed()
                elif self._pidcol and st.fixed is None:
                    return self._bad(st, ln, "line without the pid column of this trace", text)
                else:
                    tid = self._unprefixed()
                    forms.add("no-pid")
        time = None
        if ts is not None:
            time = st.clock(ts)
            if not st.ts_seen:
                st.ts_seen = True
                forms.add(G.ts_form(ts))
                rep.time_base = "midnight" if ":" in ts else "epoch"
        if rel is not None or rrel is not None:
            forms.add("r")
        if scno is not None:
            scno = int(scno)
            forms.add("n")
        if ip is not None:
            forms.add("i")
        if tid not in self._seen:
            self._seen.add(tid)
            self._all.add(tid)
            self._live.add(tid)
            self._emit(TaskSeen(st.name, ln, tid, time))
        self._last_tid = tid
        if c0 == "<":
            return self._resumed(st, ln, tid, pre, time, comm, scno, text)
        if c0 == "+":
            return self._exit(st, ln, tid, pre, time, text)
        if c0 == "-":
            stop = pre.group("stop")
            if stop is not None:
                self._emit(Signal(st.name, ln, tid, stop, "", True, time))
            else:
                self._emit(Signal(st.name, ln, tid, pre.group("sig"), pre.group("info") or "", False, time))
            return None
        if c0 == "[":
            mode = pre.group("mode")
            forms.add("personality")
            self._emit(Personality(st.name, ln, tid, int(pre.group("pid")),
                                   "b32" if mode == "32 bit" else ("b64" if mode == "64 bit" else "x32"), time))
            return None
        if body[-1] == ">" and (body.endswith("...>") or "exit status" in body[-30:]):
            em = G.ENTRY_END.search(body, max(0, len(body) - 60))
            if em is not None:
                return self._entry(st, ln, tid, body[:em.start()], em, time, comm, scno, text)
        want = self.names
        if want is not None:
            name = body[:body.find("(")]
            if name not in want and name not in _INTERNAL:
                # not asked for: not parsed further (it still ends a pending entry of its task)
                if self._pending:
                    p = self._pending.pop(tid, None)
                    if p is not None:
                        self._flush_unfinished(tid, p)
                return None
        sm = G.split_syscall(body)
        if sm is None:
            return self._bad(st, ln, "cannot read this line as strace output", text)
        if self._pending:
            p = self._pending.pop(tid, None)
            if p is not None:
                self._flush_unfinished(tid, p)
        self._syscall(st.name, ln, tid, sm.name, sm, body, time, comm, scno, 0, COMPLETE)
        return None

    # ----------------------------------------------------------------------------- body kinds
    def _syscall(self, file, ln, tid, name, sm, full, time, comm, scno, entry_line, state) -> None:
        ret_s = sm.ret
        if ret_s.isdigit() and (ret_s[0] != "0" or len(ret_s) == 1):
            ret = int(ret_s)
        else:
            ret = G.parse_ret(ret_s)
        tail = sm.tail
        errno = G.errno_of(ret, tail) if tail else None
        dur = sm.dur
        if dur is not None:
            if "f:T" not in self._found:
                self._found.add("f:T")
                self.report.forms.add("T" if len(dur.partition(".")[2]) != 9 else "T-ns")
            dur = float(dur)
        ret_text = full[sm.ret_start:sm.tail_end]
        if self.names is None or name in self.names:
            self._emit(_SYSCALL(file, ln, tid, name, sm.args, ret, errno, ret_text, time, dur,
                                entry_line, state, comm, scno))
        if name in _INTERNAL:
            self._internal(tid, name, ret, ret_text)

    def _internal(self, tid: int, name: str, ret: int | None, ret_text: str) -> None:
        if ret is None or ret <= 0:
            return
        if name in _CREATION:
            pm = _PIDNS.search(ret_text)
            self._children.add(int(pm.group(1)) if pm else ret)
        elif tid == 0 and self._buffer is not None:
            self._learn_root(ret)

    def _entry(self, st, ln, tid, head, em, time, comm, scno, text) -> None:
        nm = G.NAME_OPEN.match(head)
        if nm is None:
            return self._bad(st, ln, "cannot read this syscall entry", text)
        name = nm.group("name")
        p = self._pending.pop(tid, None)
        if p is not None:
            self._flush_unfinished(tid, p)
        entry = _Pend(name, head, st.name, ln, time, comm, scno)
        if em.group("detached"):
            self._flush_unfinished(tid, entry)
            self._emit(Detached(st.name, ln, tid, time))
            self._retire(tid)
            return None
        newpid = em.group("newpid")
        if newpid is not None:
            new = int(newpid)
            if tid not in self._ff_pending_peeked:
                self._handover[new] = entry
            self._emit(PidChanged(st.name, ln, tid, new, time))
            self._retire(tid)
            return None
        status = em.group("status")
        if status is not None:
            # strace 4.5: " <unfinished ... exit status N>": the task exited inside the syscall
            self._flush_unfinished(tid, entry)
            self._emit(Exit(st.name, ln, tid, int(status), None, False, time))
            self._retire(tid)
            return None
        self._pending[tid] = entry
        if self.names is not None and name in self.names:
            self._req.append(tid)
        return None

    def _resumed(self, st, ln, tid, rm, time, comm, scno, text) -> None:
        name = rm.group("name")
        rest = rm.group("rest")
        p = self._pending.pop(tid, None)
        if p is not None and p.name != name:
            self._flush_unfinished(tid, p)
            p = None
        if p is None:
            h = self._handover.get(tid)
            if h is not None and h.name == name:
                p = self._handover.pop(tid)
        if rest.startswith(" <unfinished ...>"):
            rest = rest[17:]
        elif rest[:1] == " " and not rest.startswith(" =>"):
            rest = rest[1:]
            self.report.forms.add("strace-4x-resumed")
        if rest.endswith("...>"):
            em = G.ENTRY_END.search(rest, max(0, len(rest) - 60))
            if em is not None and em.group("newpid") is None and em.group("detached") is None:
                # resumed and interrupted again: keep it pending with the longer text
                headtext = (p.head if p is not None else name + "(") + rest[:em.start()]
                if p is None:
                    p = _Pend(name, headtext, st.name, ln, time, comm, scno)
                else:
                    p.head = headtext
                self._pending[tid] = p
                return None
        want = self.names
        wanted = want is None or name in want or name in _INTERNAL
        if p is not None:
            if not wanted:
                return None
            full = p.head + rest
            sm = G.split_syscall(full)
            if sm is None:
                self._flush_unfinished(tid, p)
                return self._bad(st, ln, "cannot read this resumed syscall", text)
            self._syscall(st.name, ln, tid, name, sm, full, p.time if p.time is not None else time,
                          comm if comm is not None else p.comm, scno if scno is not None else p.scno,
                          p.line, COMPLETE)
            return None
        om = G.split_syscall(rest, named=False)
        if om is None:
            return self._bad(st, ln, "cannot read this resumed syscall", text)
        self.report.unpaired_resumed += 1
        if wanted:
            self._syscall(st.name, ln, tid, name, om, rest, time, comm, scno, 0, RESUMED_ORPHAN)
        return None

    def _exit(self, st, ln, tid, xm, time, text) -> None:
        by = xm.group("by")
        p = self._pending.pop(tid, None)
        if p is not None:
            self._flush_unfinished(tid, p)
        if by is not None:
            by = int(by)
            moved = self._pending.pop(by, None)
            if moved is None:
                moved = self._handover.pop(tid, None)
            if moved is None and self._ff:
                moved = self._peek_pid_changed(by, tid)
            self._emit(Superseded(st.name, ln, tid, by, time))
            if by != tid:
                self._retire(by)
            if moved is not None:
                self._pending[tid] = moved
                if self.names is not None and moved.name in self.names:
                    self._req.append(tid)
            return None
        code = xm.group("code")
        if code is not None:
            self._emit(Exit(st.name, ln, tid, int(code), None, False, time))
        else:
            self._emit(Exit(st.name, ln, tid, None, xm.group("sig"), xm.group("core") is not None, time))
        self._retire(tid)
        return None

    def _retire(self, tid: int) -> None:
        """The task ended (exit, kill, detach, superseded): a later line of the tid is a new task."""
        self._seen.discard(tid)
        self._live.discard(tid)
        self._attached.discard(tid)
        if self.names is not None:
            self._req.append(tid)

    def _flush_unfinished(self, tid: int, p: _Pend) -> None:
        if self.names is not None and p.name not in self.names:
            return
        args = p.head[len(p.name) + 1:]
        self._emit(Syscall(p.file, p.line, tid, p.name, args, None, None, "", p.time, None, 0,
                           UNFINISHED, p.comm, p.scno))

    def _peek_pid_changed(self, by: int, leader: int) -> _Pend | None:
        """-ff without a usable order: find the exec'ing thread's "<pid changed ...>" entry in its file."""
        path = self._ff_paths.get(by)
        if path is None:
            return None
        try:
            with _open(path) as f:
                data = f.read()
        except OSError:
            return None
        i = data.rfind(b"<pid changed to ")
        if i < 0:
            return None
        s = data.rfind(b"\n", 0, i) + 1
        e = data.find(b"\n", i)
        line = data[s:e if e >= 0 else len(data)].decode("utf-8", _SURR)
        lm = G.LEADER.match(line)
        body = line[lm.end():]
        em = G.ENTRY_END.search(body)
        nm = G.NAME_OPEN.match(body)
        if em is None or nm is None or em.group("newpid") is None or int(em.group("newpid")) != leader:
            return None
        self._ff_pending_peeked.add(by)
        ts = lm.group("ts")
        return _Pend(nm.group("name"), body[:em.start()], str(path), data.count(b"\n", 0, s) + 1,
                     _Clock()(ts) if ts else None, None, None)

    # ---------------------------------------------------------------------------- bookkeeping
    def _emit(self, ev: Event) -> None:
        if self._buffer is not None:
            self._buffer.append(ev)
            if len(self._buffer) > _BUFFER_LIMIT:
                self._root_unknown = True
                self._out.extend(self._buffer)
                self._buffer = None
            return
        self._out.append(ev)

    def _learn_root(self, root: int) -> None:
        """The first task's pid is now known: rewrite the events held with tid 0."""
        from dataclasses import replace

        buf = self._buffer
        self._buffer = None
        self._root = root
        for s in (self._seen, self._all, self._live):
            if 0 in s:
                s.discard(0)
                s.add(root)
        if 0 in self._pending:
            self._pending[root] = self._pending.pop(0)
        if self._last_tid == 0:
            self._last_tid = root
        if buf:
            self._out.extend(replace(ev, tid=root) if ev.tid == 0 else ev for ev in buf)

    def _bad(self, st: _Stream, ln: int, message: str, text: str) -> None:
        if ln == st.partial_at and ln:
            message = "line cut short at the end of the file (partial line)"
            self.report.note("partial-last-line", Severity.LOW,
                             f"{st.name} ends in the middle of a line: the trace was cut or strace was "
                             "killed while writing; events of that last line are lost.")
        shown = text if len(text) <= 200 else text[:200] + "..."
        self.report.add_bad(Diagnostic(st.name, ln, message, Severity.ERROR, code="strace-bad-line", text=shown))

    def _probe(self, chunk: bytes) -> None:
        """Cheap whole-chunk searches for forms and quality evidence: every chunk of the first
        few MiB, then one chunk in 32 (options do not change within a trace)."""
        self._chunks += 1
        if self._probed > _PROBE_FULL_BYTES and self._chunks % 32:
            return
        self._probed += len(chunk)
        done = []
        for key, needles in self._probes.items():
            for n in needles:
                if n in chunk:
                    done.append(key)
                    break
        for key in done:
            del self._probes[key]
            self._found.add(key)
        found = self._found
        if "f:x-hex" not in found or ("xx?" not in found and "plain" not in found):
            # hex strings: -x/-xx (getrandom buffers are always hex and prove nothing)
            i = chunk.find(b'"\\x')
            n = 0
            while i >= 0 and n < 50:
                n += 1
                pre = chunk[max(0, i - 10):i]
                if not pre.endswith((b"getrandom(", b"resumed>")):
                    found.add("f:x-hex")
                    if _XX_HEX.match(chunk, i):
                        found.add("xx?")
                    break
                i = chunk.find(b'"\\x', i + 3)
        if "plain" not in found:
            i = chunk.find(b'"/')
            if i > 0 and chunk[i - 1:i] in (b" ", b"(", b"["):
                found.add("plain")

    # ------------------------------------------------------------------------------- the end
    def _finish(self) -> Iterator[Event]:
        rep = self.report
        if self._buffer is not None:
            self._root_unknown = True
            buf = self._buffer
            self._buffer = None
            self._out.extend(buf)
        pend = sorted(self._pending.items(), key=lambda kv: (kv[1].file, kv[1].line))
        self._pending.clear()
        for tid, p in pend:
            rep.unfinished_at_end += 1
            self._flush_unfinished(tid, p)
        for tid, p in sorted(self._handover.items(), key=lambda kv: (kv[1].file, kv[1].line)):
            rep.unfinished_at_end += 1
            self._flush_unfinished(tid, p)
        self._handover.clear()
        if self._out:
            yield from self._drain()
        rep.tasks = len(self._all)
        for key in self._found:
            if key.startswith("f:"):
                rep.forms.add(key[2:])
        if "xx?" in self._found and "plain" not in self._found:
            rep.forms.discard("x-hex")
            rep.forms.add("xx-hex")
        _quality_notes(self, rep)
        rep.complete = True


# ==================================================================================== helpers
def _resolve(source) -> tuple[list[tuple[Path, int | None]], bool]:
    """source -> ([(path, ff_tid)], is_ff)."""
    if isinstance(source, (list, tuple)):
        paths = [Path(p) for p in source]
        if len(paths) == 1:
            return _resolve(paths[0])
        out = []
        for p in paths:
            if not p.is_file():
                raise InputError(f"{p}: no such trace file")
            m = _FF_NAME.match(p.name)
            if m is None:
                raise InputError(f"{p}: several files must be one -ff set named PREFIX.<tid>")
            out.append((p, int(m.group("tid"))))
        return sorted(out, key=lambda x: x[1]), True
    path = Path(os.fspath(source))
    if path.is_file():
        return [(path, None)], False
    if path.is_dir():
        groups: dict[str, list[tuple[Path, int]]] = {}
        for child in path.iterdir():
            m = _FF_NAME.match(child.name)
            if m and child.is_file():
                groups.setdefault(m.group("prefix"), []).append((child, int(m.group("tid"))))
        if not groups:
            raise InputError(f"{path}: a directory without an -ff set (files named PREFIX.<tid>)")
        if len(groups) > 1:
            raise InputError(f"{path}: holds several -ff sets ({', '.join(sorted(groups))}); "
                             "name one of them as PREFIX")
        (files,) = groups.values()
        return sorted(files, key=lambda x: x[1]), True
    parent = path.parent if str(path.parent) else Path(".")
    files = []
    if parent.is_dir():
        pre = path.name + "."
        for child in parent.iterdir():
            if child.name.startswith(pre) and child.name[len(pre):].isdigit() and child.is_file():
                files.append((child, int(child.name[len(pre):])))
    if files:
        return sorted(files, key=lambda x: x[1]), True
    if path.exists():
        raise InputError(f"{path}: not a regular file")
    raise InputError(f"{path}: no such trace file (nor an -ff set {path}.<tid>)")


def _tid_runs(buf: bytes, partial: bool) -> tuple[list[bytes], list[int], list[int], bool]:
    """The runs of lines of one tid in a chunk (``buf`` = "\n" + its lines): their tids, starts and
    ends, each list closed by a sentinel (tid b"", start and end ``len(buf)``), and whether they
    tile the chunk (every line has a pid column).  One ``findall``: when the runs tile the chunk
    their starts follow from their lengths."""
    end = len(buf)
    runs = G.TID_RUNS_B.findall(buf)
    rtid = list(map(_FIRST, runs))
    rstarts = list(accumulate(map(len, map(_SECOND, runs)), initial=0))
    rend = rstarts.pop()
    tiled = rend == end - (0 if partial else 1)
    if not tiled:
        rstarts = [m.start() for m in G.TID_RUNS_B.finditer(buf)]
        rends = [m.end() for m in G.TID_RUNS_B.finditer(buf)]
    else:
        rends = rstarts[1:]
        rends.append(rend)
    rtid.append(b"")
    rstarts.append(end)
    rends.append(end)
    return rtid, rstarts, rends, tiled


def _find_tid_line(buf: bytes, tb: bytes, start: int, sep: bytes = b" ") -> int:
    """Position of the newline before the first line of tid ``tb`` at or after ``start`` (pid column;
    ``sep`` is ``<`` with -Y)."""
    i = buf.find(b"\n" + tb + sep, start)
    return i if i >= 0 else len(buf)


def _open(path: Path):
    f = open(path, "rb")
    head = f.read(2)
    f.seek(0)
    if head == b"\x1f\x8b":
        f.close()
        return _Gz(path)
    return f


class _Gz:
    """A gzip trace read with ``read1``: a stream cut short still gives everything it decompresses
    (``GzipFile.read(n)`` drops what it had decompressed in the call that meets the cut); the
    next read then raises the EOFError."""

    def __init__(self, path) -> None:
        import gzip

        self._f = gzip.open(path, "rb")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while True:
                try:
                    b = self.read(1 << 20)
                except EOFError:
                    if parts:
                        return b"".join(parts)
                    raise
                if not b:
                    return b"".join(parts)
                parts.append(b)
        parts: list[bytes] = []
        n = 0
        while n < size:
            try:
                b = self._f.read1(size - n)
            except EOFError:
                if parts:
                    break
                raise
            if not b:
                break
            parts.append(b)
            n += len(b)
        return b"".join(parts)

    def fileno(self) -> int:
        return self._f.fileno()

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "_Gz":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _chunks(f, size: int = CHUNK_SIZE, lead: bool = False, name: str = "",
            cut: list | None = None) -> Iterator[tuple[bytes, bool]]:
    """Chunks of whole lines: (chunk, partial) where partial means the last line has no newline.
    With ``lead`` every chunk starts with a "\n" (the regex paths match lines as "\nLINE"): each
    chunk is still built with one copy.  A compressed file cut short ends there (what was
    decompressed is read; the reason is appended to ``cut``); any other read error is an
    :class:`InputError` naming the file ``name``."""
    nl = b"\n" if lead else b""
    carry = nl
    while True:
        try:
            block = f.read(size)
        except EOFError as exc:
            if cut is not None:
                cut.append(str(exc))
            block = b""
        except Exception as exc:           # noqa: BLE001 - an unreadable or corrupt file: the user's
            raise InputError(f"{name}: cannot read: {exc}") from None
        if not block:
            if len(carry) > len(nl):
                yield _clean(carry), True
            return
        k = block.rfind(b"\n")
        if k < 0:
            carry += block
            continue
        if carry:
            chunk = b"".join((carry, memoryview(block)[:k + 1]))
        else:
            chunk = block if k + 1 == len(block) else block[:k + 1]
        carry = nl + block[k + 1:] if k + 1 < len(block) else nl
        yield _clean(chunk), False


def line_chunks(path, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of a trace file (gzip too, by its magic) in chunks of whole lines, the last one
    possibly without its newline: for callers that count lines without parsing them.  A gzip file
    cut short ends at the cut; an unreadable file raises OSError or
    :class:`~tracerule.errors.InputError`."""
    with _open(path) as f:
        for chunk, _partial in _chunks(f, size, name=str(path)):
            yield chunk


def _note_cut(rep: ReadReport, name: str, why: str) -> None:
    rep.note("compressed-cut", Severity.MEDIUM,
             f"{name}: the compressed trace ends early ({why}): the lines before the cut were read, the "
             "rest of the trace is lost (events, exits and credential changes after it are missing).")


def _clean(chunk: bytes) -> bytes:
    if chunk.find(b"\r") >= 0:
        chunk = chunk.replace(b"\r\n", b"\n")
    if chunk.find(b"\x1b") >= 0:
        chunk = G.ANSI.sub(b"", chunk)
    return chunk


def _sniff(path: Path, *, allow_empty: bool = False) -> dict | None:
    """Read the first non-empty lines: raise InputError unless the file reads as strace output.

    Returns the leader shape seen (used to build the fast candidate regex), or None for an empty
    file when ``allow_empty`` (a member of an -ff set)."""
    try:
        f = _open(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        with f:
            data = f.read(256 * 1024)
    except Exception as exc:               # noqa: BLE001 - unreadable, corrupt (zlib.error): the input's
        raise InputError(f"{path}: cannot read: {exc}") from None
    if not data.strip():
        if allow_empty:
            return None
        raise InputError(f"{path}: empty file, not an strace trace")
    data = _clean(data)
    lines = data.split(b"\n")
    if len(data) == 256 * 1024:
        lines.pop()
    shapes = set()
    first_time = None
    wall = False
    ts_any = None
    ok = 0
    nonempty = 0
    first_nonempty = 0
    first_bad = None
    stderr = False
    stack = False
    for i, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        nonempty += 1
        if not first_nonempty:
            first_nonempty = i
        line = raw.decode("utf-8", _SURR)
        if G.looks_like_strace(line):
            ok += 1
            if line.startswith(" > ") or line.startswith("strace: ") or "Process " in line:
                stack = stack or line.startswith(" > ")
                stderr = stderr or not line.startswith(" > ")
            else:
                m = G.LEADER.match(line)
                pid, comm, spid, _sc, ts, rel, rrel, scno, ip = m.groups()
                if spid:
                    stderr = True
                body = line[m.end():]
                if body[:1].isalpha() or body[:1] in "_?":
                    shapes.add((bool(pid), comm is not None, ts is not None,
                                "p" if rel is not None else ("s" if rrel is not None else ""),
                                scno is not None, ip is not None))
                if ts is not None:
                    ts_any = ts
                    if first_time is None:
                        first_time, wall = G.parse_clock(ts)
        elif first_bad is None:
            first_bad = (i, line)
        if nonempty >= SNIFF_LINES:
            break
    if ok == 0:
        ln, line = first_bad if first_bad else (first_nonempty, "")
        shown = line if len(line) <= 120 else line[:120] + "..."
        raise InputError(
            f"{path}:{ln}: not strace output (none of the first {nonempty} non-empty lines reads as "
            f"strace): {shown!r}",
            diagnostic=Diagnostic(str(path), ln, f"not strace output (none of the first {nonempty} non-empty "
                                  f"lines reads as strace): {shown!r}", text=shown))
    regular = len(shapes) == 1 and not stderr
    shape = next(iter(shapes)) if len(shapes) == 1 else None
    return {"regular": regular, "shape": shape, "ts": ts_any, "first_time": first_time, "wall": wall,
            "stack": stack}


def _fast_regex(sn: dict, names) -> re.Pattern | None:
    """The candidate-line regex for one file's leader shape (exact: optional groups are slow)."""
    shape = sn["shape"]
    if shape is None:
        return None
    pid, comm, ts, rel, scno, ip = shape
    lead = b"\\n"
    if pid:
        lead += rb"\d+<[^>\n]*> " if comm else rb"\d+ +"
    if ts:
        lead += rb"[\d:.]+ "
    if rel == "p":
        lead += rb"\(\+ *[\d.]+\) "
    elif rel == "s":
        lead += rb" *[\d.]+ "
    exact = b""
    if scno:
        exact += rb"\[ *\d+\] "
    if ip:
        exact += rb"\[[0-9a-f?]+\] "
    trie = G.name_trie(names)
    marks = rb"\+\+\+ |--- |\[ Process PID="
    return re.compile(
        lead + rb"(?:" + exact + trie + rb"\(|" + exact + rb"<\.\.\. " + trie + rb" resumed|\+\+\+ |--- "
        rb"|\[(?: Process PID=|[^\]\n]*\] (?:\[[^\]\n]*\] )*(?:" + marks + rb")))")


def _circular_base(times: list[float]) -> float:
    """The start of a set of wall-clock times on a 24h circle: the time after the largest gap."""
    ts = sorted(t % 86400.0 for t in times)
    if len(ts) == 1:
        return ts[0]
    best, base = -1.0, ts[0]
    for i, t in enumerate(ts):
        prev = ts[i - 1] if i else ts[-1] - 86400.0
        gap = t - prev
        if gap > best:
            best, base = gap, t
    return base


# ================================================================================ quality notes
def _quality_notes(r: TraceReader, rep: ReadReport) -> None:
    found = r._found
    forms = rep.forms
    H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
    syscall_lines = rep.lines - sum(rep.skipped.values()) - rep.kinds.get("Exit", 0) - rep.kinds.get("Signal", 0)
    followed = r._pidcol or "stderr-pid" in forms or r._ff
    if r._children and not followed:
        kids = sorted(r._children)
        shown = ", ".join(map(str, kids[:8])) + (" ..." if len(kids) > 8 else "")
        rep.note("no-follow-forks", H,
                 f"The trace was made without -f: {len(kids)} child task(s) were created (pid {shown}) but "
                 "not followed. Their execs, credential changes and file access are missing: the process "
                 "graph and any rule derived from it cover the first process only. Record with strace -f.")
    elif r._children and followed:
        missing = sorted(r._children - r._all)
        if missing:
            shown = ", ".join(map(str, missing[:8])) + (" ..." if len(missing) > 8 else "")
            rep.note("children-not-seen", L,
                     f"{len(missing)} created child pid(s) never appear in the trace ({shown}): a pid "
                     "namespace without --pidns-translation, a detach, or filtering. Parent links of "
                     "those children must be inferred.")
    if syscall_lines >= 30:
        missing = []
        if "mem" not in found:
            missing.append("memory (mmap/brk/mprotect)")
        if "file" not in found:
            missing.append("file (open/openat/stat/read/close)")
        if "exec" not in found and len(r._all) > 1:
            missing.append("exec (execve)")
        if "creation" not in found and len(r._all) > 1:
            missing.append("process creation (clone/fork/vfork)")
        if missing:
            unsafe = []
            if any(m.startswith("file") for m in missing):
                unsafe.append("which files were opened, read or written")
            if any(m.startswith(("exec", "process")) for m in missing):
                unsafe.append("which programs ran and who created them")
            unsafe.append("any conclusion that a syscall did NOT happen (e.g. no credential change)")
            rep.note("filtered-syscalls", M,
                     "The trace was filtered (-e trace=, -P or --seccomp-bpf): no "
                     + ", ".join(missing) + " syscalls appear although programs ran. Unsafe: "
                     + "; ".join(unsafe) + ".")
    if syscall_lines >= 20 and "fail" not in found and "unfinished" not in found and "success" in found:
        rep.note("success-only", M,
                 "No failed syscall and no unfinished line: the trace looks recorded with -z "
                 "(successful calls only). Failed execs (PATH search), EPERM/EACCES denials and failed "
                 "credential changes are not in it, and lines are in order of syscall exit.")
    if syscall_lines >= 5 and "fail" in found and "success" not in found:
        rep.note("failed-only", H,
                 "No successful syscall: the trace looks recorded with -Z (failed calls only). Successful "
                 "execs, forks and credential changes are missing: the process graph and the credentials "
                 "of every process are unreliable.")
    if "truncated" in found:
        rep.note("truncated-strings", L,
                 "String arguments are truncated (\"...\" after the quote, strace -s): argv elements and "
                 "written data past the limit are unknown (file paths are never truncated). Record with "
                 "-s 4096 to see whole command lines.")
    if rep.time_base is None:
        if r._ff:
            rep.note("ff-order-unknown", M,
                     "An -ff set without timestamps: the files were read one after another, so the order "
                     "of events across processes is unknown (who exec'd or changed credentials first). "
                     "Record -ff with -tt or -ttt.")
        rep.note("no-timestamps", L,
                 "No timestamps (-t/-tt/-ttt): event times are unknown; order is line order only.")
    if "stderr-pid" in forms or "stderr-diag" in forms or ("no-pid" in forms and not r._ff and r._attached):
        rep.note("stderr-capture", L,
                 "The trace is strace's stderr (2>FILE), not an -o file: unprefixed lines were assigned "
                 "to the only live task and strace's own messages were mixed in. Use strace -f -o FILE.")
    if r._ambiguous:
        rep.note("stderr-ambiguous", M,
                 f"{r._ambiguous} line(s) without a pid while several tasks looked alive were assigned "
                 "to the most recent task: their owner is a guess.")
    if r._root_unknown:
        rep.note("root-pid-unknown", M,
                 "The first process's pid could not be learned (no pid column, no set_tid_address/getpid "
                 "return): its events carry tid 0.")
    if rep.unpaired_resumed:
        rep.note("unpaired-resumed", L,
                 f"{rep.unpaired_resumed} syscall(s) resumed without their entry (attach during the call, "
                 "or a trace cut at the start): their first arguments are missing.")
    if rep.unfinished_at_end:
        rep.note("unfinished-at-end", L,
                 f"{rep.unfinished_at_end} syscall(s) never finished before the trace ended: their "
                 "results are unknown (the trace was cut, or strace detached).")
    if len(r._all) and rep.kinds.get("Exit", 0) == 0 and "exitline" not in found and syscall_lines >= 20:
        rep.note("no-exit-lines", L,
                 "No +++ exited/killed +++ line at all: exits were muted (-qq) or the trace was cut; "
                 "when processes ended is unknown.")
    if rep.bad_lines:
        rep.note("bad-lines", M if rep.bad_lines > 1 else L,
                 f"{rep.bad_lines} line(s) could not be read and were skipped: events on them are lost.")
