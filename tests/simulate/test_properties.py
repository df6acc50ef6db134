"""Hypothesis invariants of the simulator on random rule sets and records."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracerule.audit.record import SESSION_SET, UNSET, FileRef, Name, TaskView
from tracerule.audit.rules import ParseOptions, parse_text
from tracerule.audit.simulate import (MappingResolver, PathFacts, compile_rules, simulate,
                                      simulate_naive)

from .util import rec

SET = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYSCALLS = ["getpid", "openat", "read", "execve", "chmod", "connect", "unlink", "exit_group", "mkdir"]
PATHS = {"/w": (10, True), "/w/a": (11, False), "/w/b": (12, False), "/w/sub": (13, True),
         "/w/sub/c": (14, False), "/usr/bin/x": (20, False), "/usr/bin/y": (21, False)}
RES = MappingResolver([PathFacts(p, True, True, False, d, p, 8, i, p, 8, i) for p, (i, d) in PATHS.items()]
                      + [PathFacts("/w/ln", True, True, True, False, "/w/ln", 8, 30, "/w/a", 8, 11)])
EXES = [FileRef("/usr/bin/x", 8, 20, "/usr/bin/x"), FileRef("/usr/bin/y", 8, 21, "/usr/bin/y"),
        FileRef("/usr/bin/z", 8, 22, "/usr/bin/z"), None]


def _anc(p):
    out, cur = [(8, 2)], ""
    for part in p.strip("/").split("/")[:-1]:
        cur += "/" + part
        if cur in PATHS:
            out.append((8, PATHS[cur][0]))
    if PATHS.get(p, (0, False))[1]:
        out.append((8, PATHS[p][0]))
    return tuple(out)


NAMES = [Name(p, realpath=p, dev=8, ino=i, mode=0o40755 if d else 0o100644, ouid=i % 3 * 500,
              ogid=i % 2 * 4, ancestry=_anc(p)) for p, (i, d) in PATHS.items() if not p.startswith("/usr")]
NAMES.append(Name("/w/gone", exists=False))
NAMES.append(Name("/w/a", realpath="/w/a", dev=None, ino=None, mode=None))   # identity unknown

uidv = st.sampled_from([0, 1000, 33])
field = st.one_of(
    st.tuples(st.sampled_from(["uid", "euid", "auid", "gid", "egid"]),
              st.sampled_from(["=", "!=", ">=", "<"]), st.sampled_from(["0", "1000", "4"])).map(
        lambda t: f"-F {t[0]}{t[1]}{t[2]}"),
    st.sampled_from(["-F auid!=unset", "-F auid=unset", "-F success=1", "-F success=0",
                     "-F exit=-EACCES", "-F exit>0", "-F a0=5", "-F a1&=0x1", "-F a2&0x40",
                     "-F perm=r", "-F perm=w", "-F perm=x", "-F perm=wa", "-F filetype=dir",
                     "-F filetype!=file", "-F obj_uid=500", "-F obj_gid!=4", "-F inode!=11",
                     "-F exe=/usr/bin/x", "-F exe!=/usr/bin/y", "-F exe=/w/ln", "-F dir=/w/sub",
                     "-F pid>100", "-F ppid=1", "-F saddr_fam=2", "-F sessionid=3",
                     "-F sessionid!=unset", "-F sessionid<4294967295",
                     "-C uid!=euid", "-C auid!=uid", "-C uid=obj_uid", "-C gid!=obj_gid",
                     "-F devmajor=0", "-F pers=0"]))


@st.composite
def rule_line(draw, i):
    kind = draw(st.sampled_from(["exit", "exit", "exit", "watch", "path", "inode"]))
    action = draw(st.sampled_from(["always", "always", "never"]))
    key = f"-k k{i}"
    if kind == "watch":
        p = draw(st.sampled_from(["/w/a", "/w/b", "/w", "/w/sub", "/w/ln", "/w/new"]))
        return f"-w {p} -p {draw(st.sampled_from(['r', 'w', 'x', 'a', 'rwxa', 'wa']))} {key}"
    verb = draw(st.sampled_from(["-a", "-a", "-A"]))
    arch = draw(st.sampled_from(["", "-F arch=b64 ", "-F arch=b32 "]))
    scs = draw(st.lists(st.sampled_from(SYSCALLS), min_size=0, max_size=3, unique=True))
    if arch == "-F arch=b32 ":
        scs = [s for s in scs if s not in ("openat", "newfstatat")]
    sc = f"-S {','.join(scs)} " if scs else ""
    fs = draw(st.lists(field, max_size=3))
    if kind == "path":
        fs = [f"-F path={draw(st.sampled_from(['/w/a', '/w/sub', '/w/zz']))}"] + fs
    elif kind == "inode":
        fs = [f"-F inode={draw(st.sampled_from(['11', '14']))}"] + fs
    # at most one exe / dir / path per rule (the kernel refuses more)
    seen, out = set(), []
    for f in fs:
        k = f.split("=")[0].rstrip("!")
        if k in ("-F exe", "-F dir", "-F path", "-F inode") and (k in seen or
                                                               ({"-F dir", "-F path", "-F inode"} & seen and k != "-F exe")):
            continue
        seen.add(k)
        out.append(f)
    k_ok = sc or kind != "exit" or any("exe" in f for f in out)
    return f"{verb} {action},exit {arch}{sc}{' '.join(out)} {key if k_ok else ''}".strip()


@st.composite
def rule_text(draw):
    n = draw(st.integers(1, 8))
    lines = [draw(rule_line(i)) for i in range(n)]
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["-a always,exclude -F msgtype=SYSCALL -F uid=33",
                                           "-a never,task -F uid=33", "-a always,exclude -F auid=1000"])))
    return "\n".join(lines) + "\n"


@st.composite
def record(draw):
    arch = draw(st.sampled_from(["x86_64", "x86_64", "i386"]))
    sc = draw(st.sampled_from([s for s in SYSCALLS if not (arch == "i386" and s == "openat")]))
    maybe = lambda s: draw(st.one_of(st.none(), s)) if draw(st.integers(0, 9)) == 0 else draw(s)  # noqa: E731
    uid = draw(uidv)
    names = maybe(st.lists(st.sampled_from(NAMES), max_size=3).map(tuple))
    kw = dict(exit=None if sc == "exit_group" else maybe(st.sampled_from([0, 3, -13, -2, -512])),
              a0=maybe(st.sampled_from([0, 5, 0x100000005, 2])), a1=maybe(st.sampled_from([0, 1, 3])),
              a2=maybe(st.sampled_from([0, 1, 2, 0o101])), pid=maybe(st.sampled_from([50, 200])),
              ppid=maybe(st.sampled_from([1, 7])), uid=maybe(st.just(uid)), euid=maybe(uidv),
              gid=maybe(st.sampled_from([0, 4, 1000])), egid=maybe(st.sampled_from([0, 4])),
              groups=maybe(st.sampled_from([(), (4,), (27, 4)])),
              auid=maybe(st.sampled_from([UNSET, 0, 1000])), sessionid=maybe(st.sampled_from([UNSET, 3, SESSION_SET])),
              exe=draw(st.sampled_from(EXES)), names=names,
              saddr_fam=maybe(st.sampled_from([-1, 2, 10])), forced=draw(st.integers(0, 15)) == 0)
    if draw(st.booleans()):
        kw["task"] = TaskView(1, uid=uid, euid=uid, suid=uid, fsuid=uid, gid=0, egid=0, sgid=0,
                              fsgid=0, groups=(), auid=UNSET, sessionid=UNSET)
    return rec(sc, arch, **kw)


def compiled(text):
    res = parse_text(text, options=ParseOptions(is_dir=lambda p: PATHS.get(p, (0, False))[1]))
    items = res.items
    return compile_rules(items, file_identity=RES), items


def core(ds):
    return [(d.index, d.rule, d.action, d.key, d.via, d.excluded) for d in ds]


@SET
@given(rule_text(), st.lists(record(), min_size=1, max_size=25))
def test_dispatched_simulate_equals_the_naive_evaluation(text, recs):
    c, _ = compiled(text)
    fast = list(simulate(c, recs, all_records=True))
    slow = list(simulate_naive(c, recs, all_records=True))
    assert core(fast) == core(slow)
    assert [frozenset(d.assumptions) for d in fast] == [frozenset(d.assumptions) for d in slow]


@SET
@given(rule_text(), rule_line(99), st.lists(record(), min_size=1, max_size=25))
def test_appending_a_rule_never_changes_decisions_of_earlier_rules(text, extra, recs):
    c1, _ = compiled(text)
    if extra.startswith("-A "):
        extra = "-a " + extra[3:]      # appended, not prepended
    c2, _ = compiled(text + extra + "\n")
    before = {d.index: d for d in simulate(c1, recs)}
    after = {d.index: d for d in simulate(c2, recs)}
    for i, d in before.items():
        if d.rule is None:      # undecided or forced: a later rule may legitimately decide it
            continue
        a = after[i]
        assert (a.rule, a.action, a.key, a.via, a.excluded) == (d.rule, d.action, d.key, d.via, d.excluded)


@SET
@given(rule_text(), st.lists(record(), min_size=1, max_size=25),
       st.sampled_from(["-F arch=b64 -S openat,read", "-S getpid -F auid>=1000", "-S all -F uid=0",
                        "-F arch=b32 -S all -F exe=/usr/bin/x", "-S execve,chmod -F success=0"]))
def test_a_never_rule_first_suppresses_everything_it_matches(text, recs, body):
    alone, _ = compiled(f"-a always,exit {body} -k probe\n")
    matched = {d.index for d in simulate(alone, recs) if d.action == "always" and d.via == "exit"}
    c, items = compiled(text + f"-A never,exit {body}\n")
    never_index = len(items) - 1
    got = {d.index: d for d in simulate(c, recs)}
    for i in matched:
        d = got.get(i)
        assert d is not None
        if d.via == "task":          # task-list decisions come before the exit filter
            continue
        assert d.action == "never" and d.rule == never_index
