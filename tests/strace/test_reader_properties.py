"""Property tests of the strace reader (issue 2, "Done when" item 2).

* Random process trees (threads, vfork, CLONE_PARENT, pid reuse, exec from a thread ...) are
  rendered as strace 6.1 prints them in several output forms (tests/strategies/strace_render.py)
  and must read back to exactly the events the renderer says it printed.
* A real corpus trace cut at any byte never crashes the reader, and every line before the cut
  reads as it does in the whole file.
* Garbage lines inserted anywhere: never a crash, each one reported as bad with its line number,
  every real line still read.
* Reading with ``names=`` equals the full reading filtered by name.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import STRACE_DATA
from tests.strategies.strace_render import (
    FORMS, GARBAGE, Sim, garbage_lines, quote, render, scenarios, sim_with_thread_exec,
)

reader_mod = pytest.importorskip("tracerule.strace.reader", reason="the reader has not landed yet")
from tracerule.errors import InputError  # noqa: E402
from tracerule.strace import events as E  # noqa: E402

TraceReader = reader_mod.TraceReader

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------------------------------
# helpers


def read_all(path, **kw):
    r = TraceReader(str(path), **kw)
    evs = list(r)
    return evs, r.report


def write_files(d: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (d / name).write_bytes(data)


def project(ev, *, lines=True, detail=True, file=False) -> tuple:
    """A comparable tuple for a reader event (mirrors ``Exp`` in the renderer)."""
    base = os.path.basename(ev.file) if file else ""
    ln = (ev.line,) if lines else ()
    if isinstance(ev, E.TaskSeen):
        return ("seen", base, ev.tid) + ln
    if isinstance(ev, E.Syscall):
        core = ("syscall", base, ev.tid, ev.name, ev.args, ev.ret, ev.errno, ev.state)
        if detail:
            core += (ev.ret_text,)
        if lines:
            core += (ev.line, ev.entry_line)
        return core
    if isinstance(ev, E.Signal):
        return ("signal", base, ev.tid, ev.signal, ev.info) + ln
    if isinstance(ev, E.Exit):
        return ("exit", base, ev.tid, ev.code, ev.signal, ev.core) + ln
    if isinstance(ev, E.Superseded):
        return ("superseded", base, ev.tid, ev.by_tid) + ln
    if isinstance(ev, E.Attached):
        return ("attached", base, ev.tid) + ln
    if isinstance(ev, E.PidChanged):
        return ("pidchanged", base, ev.tid, ev.new_tid) + ln
    return (type(ev).__name__, base, getattr(ev, "tid", None)) + ln


def project_exp(e, *, lines=True, detail=True, file=False) -> tuple:
    base = e.file if file else ""
    ln = (e.line,) if lines else ()
    if e.kind == "syscall":
        name, args, ret, errno, state, ret_text, entry_line, _comm = e.data
        core = ("syscall", base, e.tid, name, args, ret, errno, state)
        if detail:
            core += (ret_text,)
        if lines:
            core += (e.line, entry_line)
        return core
    if e.kind == "seen":
        return ("seen", base, e.tid) + ln
    if e.kind == "signal":
        return ("signal", base, e.tid) + e.data + ln
    if e.kind == "exit":
        return ("exit", base, e.tid) + e.data + ln
    if e.kind == "superseded":
        return ("superseded", base, e.tid) + e.data + ln
    if e.kind == "attached":
        return ("attached", base, e.tid) + ln
    if e.kind == "pidchanged":
        return ("pidchanged", base, e.tid) + e.data + ln
    raise AssertionError(e.kind)


def first_difference(got: list, want: list) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            lo = max(0, i - 3)
            ctx_g = "\n    ".join(map(repr, got[lo:i + 3]))
            ctx_w = "\n    ".join(map(repr, want[lo:i + 3]))
            return f"first difference at event {i}:\n  got:\n    {ctx_g}\n  want:\n    {ctx_w}"
    return f"lengths differ: got {len(got)}, want {len(want)}; tail got={got[len(want):][:3]} want={want[len(got):][:3]}"


def assert_same(got: list, want: list, trace_text: str | None = None) -> None:
    if got != want:
        msg = first_difference(got, want)
        if trace_text is not None:
            msg += "\n--- trace (first 4000 chars) ---\n" + trace_text[:4000]
        raise AssertionError(msg)


def source_for(d: Path, form: str, files: dict[str, bytes]) -> str:
    """The path to hand the reader: the file, or for -ff the prefix of ``trace.<tid>`` files."""
    return str(d / "trace")


def stderr_root_unknown(sim, form, text: str, exp: list) -> list:
    """In a stderr capture the first task's pid shows only in a ``[pid N]`` line or a getpid-like
    return; when the trace never tells it, the reader reports tid 0 (and a ``root-pid-unknown`` note)."""
    if FORMS[form].pidcol != "stderr":
        return exp
    root = sim.procs[0].pid
    if re.search(rf"\[pid +{root}\]", text):
        return exp
    if any(e.kind == "syscall" and e.tid == root and e.data[0] in ("getpid", "gettid", "set_tid_address")
           for e in exp):
        return exp
    return [e._replace(tid=0) if e.tid == root else e for e in exp]


# ------------------------------------------------------------------------------------------------
# 1. rendered process trees read back to the same events, in every form

LINEAR_FORMS = [f for f in FORMS if FORMS[f].pidcol != "ff"]


def _check_form(sc, form: str, *, lines: bool = True, multi_glue: bool = False) -> None:
    sim = sc.sim()
    files, exp = render(sim, form, multi_glue=multi_glue)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        write_files(d, files)
        evs, report = read_all(source_for(d, form, files))
        text = b"".join(files.values()).decode("latin-1")
        assert report.bad_lines == 0, f"bad lines in a rendered trace: {[str(b) for b in report.bad]}\n{text[:3000]}"
        ff = FORMS[form].pidcol == "ff"
        got = [project(e, lines=lines, file=ff) for e in evs]
        exp = stderr_root_unknown(sim, form, text, exp)
        want = [project_exp(e, lines=lines, file=ff) for e in exp]
        assert_same(got, want, text)
        return evs, exp


@pytest.mark.parametrize("form", LINEAR_FORMS)
@settings(max_examples=60, **SETTINGS)
@given(sc=scenarios())
def test_rendered_trees_read_back(form, sc):
    _check_form(sc, form)


@settings(max_examples=60, **SETTINGS)
@given(sc=scenarios(reuse=False, thread_exec=False))
def test_ff_set_reads_back_in_time_order(sc):
    """-ff -tt (one file per tid, PREFIX.<tid>): merged by timestamp into the global order."""
    _check_form(sc, "ff_tt")


@pytest.mark.parametrize("form", ["f_o", "stderr", "Y", "tt_T_yy"])
@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31))
def test_thread_exec_reads_back(form, seed):
    """An exec from a non-leader thread: ``+++ superseded by execve in pid T +++`` and the
    execve resumed under the leader's pid (always present, not left to chance)."""
    sim = sim_with_thread_exec(seed)
    sc = type("S", (), {"sim": lambda self: sim})()
    _check_form(sc, form)


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31))
def test_ff_thread_exec_per_tid(seed):
    """-ff with an exec from a non-leader thread (<pid changed to N ...> / superseded): per-file order."""
    sim = sim_with_thread_exec(seed, reuse=False)
    files, exp = render(sim, "ff_tt")
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        write_files(d, files)
        evs, report = read_all(d / "trace")
        assert report.bad_lines == 0, [str(b) for b in report.bad]
        # the syscalls and exits of each tid, in that tid's order (cross-file joins may move events)
        def per_tid(items):
            out: dict[int, list] = {}
            for it in items:
                out.setdefault(it[2], []).append(it)
            return out
        got = [project(e, lines=False, detail=False) for e in evs if not isinstance(e, (E.TaskSeen, E.PidChanged))]
        want = [project_exp(e, lines=False, detail=False) for e in exp if e.kind not in ("seen", "pidchanged")]
        assert per_tid(got) == per_tid(want), first_difference(got, want)


@settings(max_examples=60, **SETTINGS)
@given(sc=scenarios(), form=st.sampled_from(["tt_T", "tt_T_yy", "ff_tt", "stderr_tt_T_yy"]))
def test_times_and_durations(sc, form):
    """-tt timestamps (seconds since midnight) and -T durations come through exactly."""
    if FORMS[form].pidcol == "ff":
        sc = sc.__class__(**{**sc.__dict__, "reuse": False, "thread_exec": False})
    sim = sc.sim()
    files, exp = render(sim, form)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        write_files(d, files)
        evs, _ = read_all(d / "trace")
    sys_got = [e for e in evs if isinstance(e, E.Syscall)]
    sys_want = [e for e in exp if e.kind == "syscall"]
    if FORMS[form].pidcol == "ff":
        key = lambda e: (e.tid, e.line)  # noqa: E731
        sys_got.sort(key=key)
        sys_want.sort(key=lambda e: (e.tid, e.line))
    assert len(sys_got) == len(sys_want)
    for g, w in zip(sys_got, sys_want):
        assert g.time is not None, g
        # the time of a syscall: its entry line (strace stamps a line when it starts printing it)
        assert abs(g.time - w.t_entry / 1e6) < 5e-7 or abs(g.time - w.t_exit / 1e6) < 5e-7, (g, w)
        if FORMS[form].T:
            assert g.duration is not None and abs(g.duration - w.duration / 1e6) < 5e-7, (g, w)


@settings(max_examples=60, **SETTINGS)
@given(sc=scenarios(), form=st.sampled_from(["Y", "Y_yy_T"]))
def test_decode_pids_comm(sc, form):
    """-Y: the comm of the line that completes the syscall."""
    sim = sc.sim()
    files, exp = render(sim, form)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        write_files(d, files)
        evs, _ = read_all(d / "trace")
    got = [(e.tid, e.name, e.comm) for e in evs if isinstance(e, E.Syscall)]
    want = [(e.tid, e.data[0], e.data[7]) for e in exp if e.kind == "syscall"]
    assert_same(got, want)


@settings(max_examples=150, **SETTINGS)
@given(data=st.binary(max_size=60), n=st.integers(0, 40))
def test_renderer_quoting_matches_values(data, n):
    """The test renderer's quoting and tracerule.strace.values.quote_like_strace agree."""
    values = pytest.importorskip("tracerule.strace.values")
    assert quote(data) == values.quote_like_strace(data)
    assert quote(data, max_len=n) == values.quote_like_strace(data, max_len=n)
    assert quote(data, escape=b"<>", quotes=False) == values.quote_like_strace(data, escape_chars=b"<>")[1:-1] \
        or not values.quote_like_strace(data, escape_chars=b"<>").startswith('"')


# ------------------------------------------------------------------------------------------------
# 2. filtered reading equals full reading filtered by name

NAME_SETS = [
    frozenset({"execve", "execveat"}),
    frozenset({"clone", "clone3", "fork", "vfork", "execve", "exit_group"}),
    frozenset({"read", "write"}),
    frozenset(),
]


@pytest.mark.parametrize("form", ["f_o", "stderr", "tt_T_yy", "Y"])
@settings(max_examples=40, **SETTINGS)
@given(sc=scenarios(), names=st.sampled_from(NAME_SETS))
def test_names_filter_equals_full_filtered(form, sc, names):
    sim = sc.sim()
    files, _ = render(sim, form)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        write_files(d, files)
        full, _ = read_all(d / "trace")
        part, _ = read_all(d / "trace", names=names)
    want = [project(e) for e in full if not isinstance(e, E.Syscall) or e.name in names]
    got = [project(e) for e in part]
    assert_same(got, want)


def test_names_filter_on_graph_names_corpus():
    """The names set the graph uses, over every corpus trace."""
    graph = pytest.importorskip("tracerule.graph.build")
    names = graph.NAMES
    for path in sorted(STRACE_DATA.glob("*.txt")):
        full, _ = read_all(path)
        part, _ = read_all(path, names=names)
        want = [project(e) for e in full if not isinstance(e, E.Syscall) or e.name in names]
        assert_same([project(e) for e in part], want)


# ------------------------------------------------------------------------------------------------
# 3. a real trace cut at any byte

CORPUS = sorted(p for p in STRACE_DATA.glob("*.txt"))


def _root_as_zero(t: tuple, full: list, got: list) -> tuple:
    """Without a pid column (no -f, stderr capture) the first task's pid may only be told after
    the cut: the cut reading then says tid 0 for it (with a root-pid-unknown note)."""
    if full and got and t[2] == full[0].tid and got[0].tid == 0:
        return t[:2] + (0,) + t[3:]
    return t


def _line_index(data: bytes, pos: int) -> int:
    """1-based number of the line that contains byte ``pos`` (the first line cut off)."""
    return data.count(b"\n", 0, pos) + 1


@settings(max_examples=120, **SETTINGS)
@given(which=st.sampled_from(CORPUS), frac=st.floats(0, 1))
def test_corpus_cut_at_any_byte(which, frac):
    data = which.read_bytes()
    cut = int(len(data) * frac)
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / which.name
        p.write_bytes(data[:cut])
        try:
            got, report = read_all(p)             # must not raise ...
        except InputError:
            # ... except the one clear refusal for a file without a single whole line
            assert b"\n" not in data[:cut]
            return
        full, _ = read_all(which)
    first_cut = _line_index(data, cut)            # lines before it are whole in the cut file
    keep = lambda e: e.line < first_cut and getattr(e, "state", E.COMPLETE) != E.UNFINISHED  # noqa: E731
    want = [_root_as_zero(project(e), full, got) for e in full if keep(e)]
    have = [project(e) for e in got if keep(e)]
    # a syscall split across the cut is UNFINISHED in the cut file, not a complete event: drop
    # those from the full reading too (their exit line is at or after the cut)
    assert_same(have, want)
    assert report.bad_lines <= 1, [str(b) for b in report.bad]   # at most the partial last line


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_cut_at_every_line_end_quick(path):
    """Deterministic companion: cut after each of the first 60 lines and in the middle of each."""
    data = path.read_bytes()
    full, _ = read_all(path)
    ends = [i + 1 for i, b in enumerate(data) if b == 0x0A][:60]
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / path.name
        for end in ends:
            for cut in (end, max(0, end - 7)):
                p.write_bytes(data[:cut])
                try:
                    got, _ = read_all(p)
                except InputError:
                    assert b"\n" not in data[:cut], cut
                    continue
                first_cut = _line_index(data, cut)
                keep = lambda e: e.line < first_cut and getattr(e, "state", E.COMPLETE) != E.UNFINISHED  # noqa: E731
                want = [_root_as_zero(project(e), full, got) for e in full if keep(e)]
                have = [project(e) for e in got if keep(e)]
                assert_same(have, want)


# ------------------------------------------------------------------------------------------------
# 4. garbage lines inserted


def _glued(line: bytes) -> bool:
    """A stderr line whose logical line continues on the next physical line (diagnostic glued)."""
    s = line.rstrip(b"\n")
    return s.endswith(b" attached") and not s.startswith((b"strace: ", b"Process ")) and b"Process " in s


@settings(max_examples=100, **SETTINGS)
@given(which=st.sampled_from(CORPUS), data=st.data())
def test_garbage_lines_reported_and_rest_read(which, data):
    lines = which.read_bytes().splitlines(keepends=True)
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    n = data.draw(st.integers(1, 5), label="n_garbage")
    allowed = [i for i in range(len(lines) + 1) if i == 0 or not _glued(lines[i - 1])]
    positions = sorted(data.draw(st.lists(st.sampled_from(allowed), min_size=n, max_size=n), label="positions"))
    junk = [data.draw(garbage_lines(), label="garbage") for _ in range(n)]
    out: list[bytes] = []
    garbage_at: list[int] = []
    orig_of: dict[int, int] = {}
    gi = 0
    for i in range(len(lines) + 1):
        while gi < n and positions[gi] == i:
            out.append(junk[gi].encode("utf-8", "surrogateescape") + b"\n")
            garbage_at.append(len(out))
            gi += 1
        if i < len(lines):
            out.append(lines[i])
            orig_of[len(out)] = i + 1
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / which.name
        p.write_bytes(b"".join(out))
        got, report = read_all(p)
    full, full_report = read_all(which)
    assert report.bad_lines == full_report.bad_lines + n, (junk, [str(b) for b in report.bad])
    shown = [b.line for b in report.bad]
    new_bad = [ln for ln in shown if ln not in orig_of]
    assert new_bad == garbage_at[: len(new_bad)] and new_bad, (shown, garbage_at, junk)
    # every real line still reads as before (line numbers mapped back to the original file)
    remap = lambda ev: project(ev)[:-2] + (orig_of.get(ev.line), orig_of.get(ev.entry_line, 0)) \
        if isinstance(ev, E.Syscall) else project(ev)[:-1] + (orig_of.get(ev.line),)  # noqa: E731
    assert_same([remap(e) for e in got], [project(e) for e in full])


@settings(max_examples=60, **SETTINGS)
@given(sc=scenarios(max_steps=60), data=st.data(),
       form=st.sampled_from(["f_o", "tt_T_yy", "Y"]))
def test_garbage_in_rendered_trees(sc, data, form):
    sim = sc.sim()
    files, exp = render(sim, form)
    lines = files["trace"].splitlines(keepends=True)
    n = data.draw(st.integers(1, 4), label="n_garbage")
    positions = sorted(data.draw(st.lists(st.integers(0, len(lines)), min_size=n, max_size=n), label="positions"))
    junk = [data.draw(st.sampled_from(GARBAGE), label="garbage") for _ in range(n)]
    out: list[bytes] = []
    garbage_at = []
    orig_of: dict[int, int] = {0: 0}
    gi = 0
    for i in range(len(lines) + 1):
        while gi < n and positions[gi] == i:
            out.append(junk[gi].encode("utf-8", "surrogateescape") + b"\n")
            garbage_at.append(len(out))
            gi += 1
        if i < len(lines):
            out.append(lines[i])
            orig_of[len(out)] = i + 1
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "trace"
        p.write_bytes(b"".join(out))
        got, report = read_all(p)
    assert report.bad_lines == n, ([str(b) for b in report.bad], junk)
    assert [b.line for b in report.bad] == garbage_at[: len(report.bad)]

    def remap(ev):
        t = project(ev)
        if isinstance(ev, E.Syscall):
            return t[:-2] + (orig_of.get(ev.line), orig_of.get(ev.entry_line))
        return t[:-1] + (orig_of.get(ev.line),)

    assert_same([remap(e) for e in got], [project_exp(e) for e in exp])


# ------------------------------------------------------------------------------------------------
# 5. sanity of the generator itself (so the properties above cannot pass vacuously)


def test_generator_covers_the_forms_it_claims():
    seen = set()
    for seed in range(150):
        sim = Sim(seed, steps=100)
        for a in sim.actions:
            if a.kind == "enter":
                seen.add(a.call.name)
                if a.call.kind == "create":
                    seen.add(a.call.args[1][0] if len(a.call.args) > 1 else a.call.name)
            seen.add(a.kind)
            if a.kind == "exit":
                seen.add(a.text.split()[0] + ("-core" if "core" in a.text else ""))
        tids = [p.pid for p in sim.procs]
        if len(tids) != len(set(tids)):
            seen.add("pid-reuse")
        if any(p.parent is not None and p.creator_tid is not None and p.parent.pid != p.creator_tid
               and p.parent is not next((q for q in sim.procs if p.creator_tid in q.threads), None)
               for p in sim.procs):
            seen.add("clone-parent-effective")
        for f in ("f_o", "stderr"):
            text = render(sim, f)[0]["trace"]
            if b"<unfinished ...>" in text:
                seen.add(f + ":unfinished")
            if b"attached\n <unfinished ...>" in text:
                seen.add("glued-unfinished")
            if f == "stderr" and any(_glued(l) for l in text.splitlines(keepends=True)):
                seen.add("glued")
    for want in ("fork", "vfork", "clone", "clone3", "execve", "execveat", "superseded", "xleave",
                 "attach", "signal", "killed", "killed-core", "exited", "pid-reuse", "wait4",
                 "flags=CLONE_PARENT|SIGCHLD", "flags=0x3d0f00", "setresuid", "f_o:unfinished",
                 "stderr:unfinished", "glued", "glued-unfinished", "futex"):
        assert want in seen, want


@pytest.mark.parametrize("form", ["stderr", "stderr_tt_T_yy"])
@settings(max_examples=40, **SETTINGS)
@given(sc=scenarios())
def test_stderr_two_attach_messages_inside_one_line(form, sc):
    """strace can print a second ``strace: Process N attached`` while a line is already broken by a
    first one (a child attached late, while another task's clone line is open)::

        [pid   306] clone(child_stack=NULL, flags=...|SIGCHLDstrace: Process 310 attached
        strace: Process 309 attached
        , child_tidptr=0x7f...) = 310
    """
    _check_form(sc, form, multi_glue=True)
