"""suggest: the seed sample, inline scenarios (golden files), hostile names, lint, kernel load."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import DATA, SAMPLES
from tests.synth.helpers import SCENARIOS, file_entry, write_trace
from tracerule.audit.record import UNSET
from tracerule.audit.rules import canonical, parse_text
from tracerule.synth import SuggestOptions, suggest
from tracerule.synth import build as B
from tracerule.synth.ladders import caught, resolver
from tracerule.synth.output import rules_text, to_json

SEED = SAMPLES / "sudo_docker_alice_tt_T_yy.txt"
GOLDEN = DATA / "synth"
OPTS = SuggestOptions(auditctl_version="3.0.9")


def _rules(s):
    return [canonical(r.item) for r in s.rules]


def _normalise(text: str, tmp: Path | None) -> str:
    if tmp is not None:
        text = text.replace(str(tmp) + "/", "")
    return text


@pytest.fixture(scope="module")
def seed():
    return suggest([str(SEED)], OPTS)


def test_seed_catches_sudo_and_docker_with_auid_scope_and_b32_twins(seed):
    lines = _rules(seed)
    for exe in ("/usr/bin/sudo", "/usr/local/bin/docker"):
        mine = [ln for ln in lines if f"exe={exe}" in ln and "execve" in ln]
        assert any("arch=b64" in ln for ln in mine), lines
        assert any("arch=b32" in ln for ln in mine), lines
        for ln in mine:
            assert "auid>=1000" in ln and "auid!=-1" in ln   # canonical form of auid!=unset
    assert seed.complete
    cov = {c.target: c for c in seed.coverage}
    assert all(c.caught == c.instances for c in cov.values())


def test_seed_rules_do_not_match_unset_auid_exec(seed):
    items = [r.item for r in seed.rules]
    res = resolver({}, seed.targets)
    from tracerule.synth.context import TraceContext
    from tracerule.graph import build_graph
    from tracerule.synth.targets import find_targets

    g = build_graph(str(SEED))
    ctx = TraceContext(str(SEED), g, target_arch="x86_64", trace_arch="x86_64", uid_min=1000)
    f = find_targets(ctx)
    res = resolver(ctx.path_facts(), f.targets)
    recs = [r for t in f.targets if t.exe in ("/usr/bin/sudo", "/usr/local/bin/docker") and t.category == "priv"
            for r in f.records[t.id]]
    assert len(recs) == 2
    assert caught(items, recs, "x86_64", res) == [True, True]
    unset = [r.creds(auid=UNSET, sessionid=UNSET) for r in recs]
    assert caught(items, unset, "x86_64", res) == [False, False]
    # and a root login (auid 0) is not a logged-in user either
    assert caught(items, [r.creds(auid=0) for r in recs], "x86_64", res) == [False, False]


def test_seed_variants_reported(seed):
    lad = next(l for l in seed.ladders if l.target.exe == "/usr/bin/sudo" and l.target.category == "priv")
    exact = dict(lad.rung("exact").catches)
    assert exact["execveat"] is True
    assert exact["other ABI (i386 execve)"] is True
    assert exact["hard link to the binary"] is True
    assert exact["copy of the binary (same credentials)"] is False
    assert exact["auid unset (daemon, cron, container)"] is False
    beh = dict(lad.rung("behaviour").catches)
    assert beh["copy of the binary (same credentials)"] is True and beh["su"] is True
    assert beh["auid unset (daemon, cron, container)"] is False


def test_seed_handoff_and_provenance(seed):
    assert [h.daemon for h in seed.handoffs] == ["dockerd"]
    text = rules_text(seed)
    assert "UNVERIFIED daemon-side rule" in text
    assert "USER_CMD" in text
    sudo = next(r for r in seed.rules if "exe=/usr/bin/sudo" in canonical(r.item) and "execve" in canonical(r.item))
    assert any(ln.endswith(":274") for ln in sudo.lines)
    assert "sudo" in sudo.chains[0] and "replay" in sudo.steps


def test_seed_lints_clean(seed):
    assert not [f for f in seed.lint if f.severity.value not in ("info", "low")]


def test_seed_json(seed):
    d = to_json(seed)
    assert d["schema_version"] == 1 and d["complete"] is True
    assert d["noise"]["baseline"] == "no baseline"
    assert d["host"]["uid_min"] == 1000 and d["host"]["uid_min_source"] == "sidecar"


@pytest.mark.parametrize("b32", ["catchall", "none"])
def test_b32_modes(b32):
    s = suggest([str(SEED)], SuggestOptions(auditctl_version="3.0.9", b32=b32))
    lines = _rules(s)
    assert not any("arch=b32" in ln and "-S all" not in ln for ln in lines)
    catch = [ln for ln in lines if "-S all" in ln and "arch=b32" in ln]
    assert len(catch) == (1 if b32 == "catchall" else 0)
    if catch:
        assert lines[-1] == catch[0]


def test_level_behaviour_merges_into_rootcmd():
    s = suggest([str(SEED)], SuggestOptions(auditctl_version="3.0.9", level="behaviour", focus=("priv",)))
    lines = _rules(s)
    assert lines[0] == ("-a always,exit -F arch=b64 -S execve,execveat -F euid=0 -F auid>=1000 -F auid!=-1 "
                        "-F key=tr-priv")
    assert len(lines) == 2   # one b64 rule for the three targets + its twin


# no sidecar: the exec'd program is not known setuid, so the root exec is an "exec" target whose
# behaviour rule has the same filters as the sudo "priv" target's
NO_SIDECAR_SUDO = """\
100 execve("/usr/bin/sudo", ["sudo", "x"], 0x7ffc /* 10 vars */) = 0
100 setuid(0) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101 execve("/tmp/tool", ["tool"], 0x7ffc /* 10 vars */) = 0
101 execve("/tmp/other", ["other"], 0x7ffc /* 10 vars */) = 0
101 exit_group(0) = ?
101 +++ exited with 0 +++
100 exit_group(0) = ?
100 +++ exited with 0 +++
"""


def _without_key(item) -> str:
    return canonical(item.with_keys(()))


def test_rules_equal_but_for_the_key_are_merged(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text(NO_SIDECAR_SUDO, encoding="utf-8")
    s = suggest([str(p)], SuggestOptions(auditctl_version="3.0.9", level="behaviour", b32="none"))
    bare = [_without_key(r.item) for r in s.rules]
    assert len(bare) == len(set(bare)), bare              # no dead copy under another key
    assert not [f for f in s.lint if f.id == "TR110"], s.lint
    cats = {t.id: t.category for t in s.targets}
    merged = [r for r in s.rules if {"priv", "exec"} <= {cats[t] for t in r.targets}]
    assert len(merged) == 1, [(canonical(r.item), r.targets) for r in s.rules]
    r = merged[0]
    assert r.item.keys == ("tr-priv",) and "merge" in r.steps and "tr-exec" in r.note
    assert "tr-exec" in rules_text(s)


def _logged_lines(trace: Path, items, *, auid: int) -> set[int]:
    """Trace lines the rules log when the same events run with login uid ``auid``."""
    from tracerule.audit.enrich import Enricher
    from tracerule.audit.simulate import compile_rules, simulate

    recs = list(Enricher(str(trace), names=None, auid=auid))
    c = compile_rules(list(items), host="x86_64")
    return {recs[d.index].line for d in simulate(c, recs) if d.logged}


def test_unknown_auid_is_not_unset_no_auid_filter_and_said(tmp_path):
    p = tmp_path / "plain.txt"            # a plain strace -f -o file: no sidecar, auid unknown
    p.write_text(NO_SIDECAR_SUDO, encoding="utf-8")
    s = suggest([str(p)], SuggestOptions(auditctl_version="3.0.9", b32="none"))
    lines = _rules(s)
    assert lines and not [ln for ln in lines if "auid" in ln], lines     # no auid=unset (nor any auid)
    assert {t.auid_scope for t in s.targets} == {"unknown"}
    text = rules_text(s)
    assert "auid unknown in this trace" in text and "--auid" in text
    assert any("auid unknown" in n for n in s.notes)
    # a logged-in user's sudo (auid 1000) of these very events is still logged: both execs
    assert {1, 4} <= _logged_lines(p, [r.item for r in s.rules], auid=1000)


def test_auid_given_scopes_the_rules_to_logged_in_users(tmp_path):
    p = tmp_path / "plain.txt"
    p.write_text(NO_SIDECAR_SUDO, encoding="utf-8")
    s = suggest([str(p)], SuggestOptions(auditctl_version="3.0.9", b32="none", auid=1000))
    execs = [canonical(r.item) for r in s.rules if "execve" in canonical(r.item)]
    assert execs and all("auid>=1000 -F auid!=-1" in ln for ln in execs), execs
    assert "auid unknown" not in rules_text(s)
    items = [r.item for r in s.rules]
    assert {1, 4} <= _logged_lines(p, items, auid=1000)
    assert not {1, 4} & _logged_lines(p, items, auid=UNSET)


def test_cli_suggest_auid_option(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "plain.txt"
    p.write_text(NO_SIDECAR_SUDO, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    args = [sys.executable, "-m", "tracerule", "suggest", "--no-baseline", "--b32", "none",
            "--auditctl-version", "3.0.9", str(p)]
    res = subprocess.run(args + ["--auid", "1000"], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode in (0, 1) and "Traceback" not in res.stderr, res.stderr
    assert "-F auid>=1000 -F auid!=unset" in res.stdout
    bad = subprocess.run(args + ["--auid", "-3"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "--auid" in bad.stderr


def test_lint_findings_name_their_line_in_the_emitted_rules_file(tmp_path):
    from tracerule.audit.lint import lint

    p = tmp_path / "shadow.txt"           # the -S all path= perm= rule: an info finding (TR195) on it
    p.write_text(NO_SIDECAR_SUDO.replace('101 exit_group(0)',
                                         '101 openat(AT_FDCWD, "/etc/shadow", O_WRONLY) = 3\n101 exit_group(0)'),
                 encoding="utf-8")
    s = suggest([str(p)], SuggestOptions(auditctl_version="3.0.9", rules_name="60-mine.rules"))
    assert s.lint
    out = tmp_path / "60-mine.rules"
    out.write_text(rules_text(s), encoding="utf-8")
    lines = out.read_text().splitlines()
    for f in s.lint:
        assert f.file == "60-mine.rules" and f.line > 0, f
        assert lines[f.line - 1].startswith("-a ") or lines[f.line - 1].startswith("-w "), f
    # the same findings, at the same lines, as linting the written file
    ref = lint(str(out), arch="x86_64", host_checks=False, auditctl_version="3.0.9")
    assert sorted((f.id, f.line) for f in s.lint) == sorted((f.id, f.line) for f in ref if f.line)


def test_b32_none_says_once_instead_of_a_tr102_per_rule(tmp_path):
    p = tmp_path / "plain.txt"
    p.write_text(NO_SIDECAR_SUDO, encoding="utf-8")
    s = suggest([str(p)], SuggestOptions(auditctl_version="3.0.9", b32="none"))
    assert len(s.rules) > 1
    assert not [f for f in s.lint if f.id == "TR102"], s.lint
    assert sum("b32 turned off" in n for n in s.notes) == 1
    s2 = suggest([str(p)], SuggestOptions(auditctl_version="3.0.9", b32="pairs"))
    assert not any("b32 turned off" in n for n in s2.notes)


def test_attack_keys():
    s = suggest([str(SEED)], SuggestOptions(auditctl_version="3.0.9", attack=True, focus=("priv",)))
    assert any("key=tr-priv-T1548.003" in ln for ln in _rules(s))


def test_focus_unknown_is_input_error():
    from tracerule.errors import InputError

    with pytest.raises(InputError):
        suggest([str(SEED)], SuggestOptions(focus=("nope",)))


# ---- golden files ---------------------------------------------------------------------------
def _golden(name: str, text: str):
    path = GOLDEN / name
    if os.environ.get("TRACERULE_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing (TRACERULE_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(encoding="utf-8")


def test_golden_seed(seed):
    _golden("seed.rules", rules_text(seed).replace(str(SAMPLES) + "/", ""))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_scenarios(name, tmp_path):
    p = SCENARIOS[name](tmp_path)
    s = suggest([str(p)], OPTS)
    assert s.complete
    assert not [f for f in s.lint if f.severity.value not in ("info", "low")], s.lint
    _golden(f"{name}.rules", _normalise(rules_text(s), tmp_path))


def test_scenario_expectations(tmp_path):
    s = suggest([str(SCENARIOS["sudoers"](tmp_path))], OPTS)
    assert any(canonical(r.item).startswith("-a always,exit -S all -F path=/etc/sudoers -F perm=wa") for r in s.rules)
    s = suggest([str(SCENARIOS["module"](tmp_path))], OPTS)
    assert any("finit_module" in canonical(r.item) and "exe=/usr/bin/kmod" in canonical(r.item) for r in s.rules)
    s = suggest([str(SCENARIOS["connect"](tmp_path))], OPTS)
    assert any("connect" in canonical(r.item) and "saddr_fam=2" in canonical(r.item) for r in s.rules)


def test_several_traces_merge(tmp_path):
    a = SCENARIOS["connect"](tmp_path)
    d2 = tmp_path / "b"
    d2.mkdir()
    b = SCENARIOS["connect"](d2)
    s = suggest([str(a), str(b)], OPTS)
    net = [t for t in s.targets if t.category == "net"]
    assert len(net) == 1 and len(net[0].instances) == 2
    assert s.complete


def test_rules_file_round_trips(seed):
    text = rules_text(seed)
    res = parse_text(text)
    assert not res.errors
    assert [canonical(i) for i in res.items] == _rules(seed)


# ---- hostile names --------------------------------------------------------------------------
def _escape(name: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F and chr(b) not in '"\\' else f"\\x{b:02x}" for b in name)


def _hostile_trace(d: Path, name: bytes) -> Path:
    p = "/usr/bin/" + name.decode("latin-1")
    esc = "/usr/bin/" + _escape(name)
    return write_trace(d, "h.txt", [
        (900, f'execve("{esc}", ["x"], 0x7ffd /* 5 vars */) = 0'),
        (900, f'openat(AT_FDCWD, "/etc/sudoers.d/{_escape(name)}", O_WRONLY|O_CREAT, 0644) = 3'),
        (900, 'exit_group(0) = ?'),
        (900, '+++ exited with 0 +++'),
    ], [file_entry(p, ino=77)], uid=0, auid=1001)


_BENIGN = "benign"
_BENIGN_S = None


def _benign():
    """The suggestion for the hostile-name trace with a benign name (computed once, in its own dir)."""
    global _BENIGN_S
    if _BENIGN_S is None:
        import tempfile

        d = Path(tempfile.mkdtemp(prefix="tracerule-benign-"))
        _BENIGN_S = suggest([str(_hostile_trace(d, _BENIGN.encode()))], OPTS)
        shutil.rmtree(d, ignore_errors=True)
    return _BENIGN_S


def _expected_rules(name: bytes) -> list[str]:
    """What suggest must emit for ``name``, from the benign trace alone: a name safe to write stands
    where the benign one stood; an unsafe one takes the exe=/path= candidates away, so each target
    gets the narrowest of the benign ladder's rungs that does not name the file."""
    from tracerule.audit.rules.safety import problem
    from tracerule.synth.assemble import assemble

    s = _benign()
    n = name.decode("utf-8", "surrogateescape")
    exe, path = f"/usr/bin/{_BENIGN}", f"/etc/sudoers.d/{_BENIGN}"
    if problem(f"/usr/bin/{n}", what="exe") is None and problem(f"/etc/sudoers.d/{n}", what="path") is None:
        return [ln.replace(exe, f"/usr/bin/{n}").replace(path, f"/etc/sudoers.d/{n}") for ln in _rules(s)]
    chosen = {lad.target.id: next(r.level for r in lad.rungs
                                  if not any(_BENIGN in canonical(it) for it in r.rules))
              for lad in s.ladders}
    return [canonical(r.item) for r in assemble(s.ladders, chosen, host=s.host.arch, b32=s.host.b32)]


def _rule_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=20).filter(lambda b: b"/" not in b and b"\0" not in b
                                                   and b not in (b".", b"..")))
def test_hostile_names_never_add_drop_or_change_rules(tmp_path_factory, name):
    d = tmp_path_factory.mktemp("h")
    s = suggest([str(_hostile_trace(d, name))], OPTS)
    text = rules_text(s)
    lines = _rule_lines(text)
    # the rules file holds exactly the rules the benign trace predicts: none added, dropped or changed
    res = parse_text(text)
    assert not res.errors
    assert [canonical(i) for i in res.items] == _expected_rules(name)
    assert _rules(s) == _expected_rules(name)
    assert len(lines) == len(s.rules)
    for ln in lines:
        assert ln.startswith("-a always,exit") or ln.startswith("-w ")
        assert "\n" not in ln
    # the exec is still caught by some rule, or the result says it is not
    if not s.complete:
        assert "MISS" in text


@pytest.mark.parametrize("name", [b"a b", b"x\n-D", b"-k evil", b"q\"uote", b"ok\x01", b"\xff\xfe"])
def test_hostile_name_examples(tmp_path, name):
    s = suggest([str(_hostile_trace(tmp_path, name))], OPTS)
    text = rules_text(s)
    assert "-D" not in "\n".join(_rule_lines(text))
    for r in s.rules:
        c = canonical(r.item)
        assert "evil" not in c and "\n" not in c
    assert any("candidate dropped" in n for n in s.notes)


# ---- kernel: every emitted rule loads, and lists as canonical() -------------------------------
@pytest.mark.kernel
def test_every_emitted_rule_loads_in_the_kernel(seed, tmp_path):
    from dataclasses import replace

    from tracerule.audit.kernel import KernelAudit
    from tracerule.audit.rules import source_lines
    from tracerule.audit.rules.parse import split_line

    items = [r.item for r in seed.rules]
    for name in sorted(SCENARIOS):
        d = tmp_path / name
        d.mkdir()
        s = suggest([str(SCENARIOS[name](d))], OPTS)
        items += [r.item for r in s.rules if not (isinstance(r.item, type(items[0])) and
                                                  "exe=/usr/local/bin/helper" in canonical(r.item))]
    with KernelAudit.session() as k:
        for it in items:
            key = k.new_key("sg")
            it2 = it.with_keys((key,))
            line = source_lines(it2, version="3.0.9")[-1]
            argv = [w for w, _ in split_line(line)]
            loaded = k.add_rule(argv)
            listed = k.listed()
            want = canonical(it2)
            assert want in listed, (want, listed)
            k.delete_rule(loaded)
        assert k.listed() == []


def test_set_id_by_an_already_privileged_process_is_no_target(tmp_path):
    """sudo's own setresuid(0, ...) after its setuid-root exec gains nothing: the exec is the
    transition.  A set*id to 0 by a process holding no 0 id at all is one (escalation)."""
    from tracerule.synth import SuggestOptions, suggest

    trace = tmp_path / "t.txt"
    trace.write_text(
        '100   execve("/usr/bin/helper", ["helper"], 0x7ffd /* 3 vars */) = 0\n'
        "100   getuid()                          = 1000\n"
        "100   geteuid()                         = 1000\n"
        "100   getresuid([1000], [1000], [1000]) = 0\n"
        "100   setuid(0)                         = 0\n"
        "100   setresuid(0, 0, 0)                = 0\n"
        "100   exit_group(0)                     = ?\n"
        "100   +++ exited with 0 +++\n")
    s = suggest([str(trace)], SuggestOptions(replay=False, sidecar=None))
    creds = [t for t in s.targets if t.category == "cred"]
    # the setuid(0) from all-1000 ids is an escalation; the later setresuid(0,0,0) by a process
    # already holding uid 0 is not a second one
    assert len(creds) == 1
    assert [e.line for e in creds[0].instances] == [5]        # setuid(0), not setresuid(0, 0, 0)
