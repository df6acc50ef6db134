"""tracerule verify: library and CLI on the seed sample and small inline traces."""
from __future__ import annotations

import json
import os

import pytest

from tests.conftest import SAMPLES
from tracerule.audit.verify import parse_selector, verify
from tracerule.cli import main
from tracerule.sidecar import Recorder, Sidecar, write_sidecar

SEED = SAMPLES / "sudo_docker_alice_tt_T_yy.txt"
SEED_RULES = ("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo -F auid!=0\n"
              "-a always,exit -F arch=b64 -S execve -F exe=/usr/local/bin/docker -F auid!=0\n")


@pytest.fixture
def seed_rules(tmp_path):
    p = tmp_path / "seed.rules"
    p.write_text(SEED_RULES)
    return p


def test_seed_sample_hits_by_index_both_execs_caught_and_no_login_note(seed_rules):
    res = verify([seed_rules], [SEED], expects=["execve exe=/usr/bin/sudo",
                                                "execve exe=/usr/local/bin/docker"])
    assert res.ok and int(res.exit_code) == 0
    r1, r2 = res.rules
    assert (r1.number, r1.hits, r1.logged, r1.key) == (1, 1, 1, None)
    assert (r2.number, r2.hits, r2.logged, r2.key) == (2, 1, 1, None)
    assert r1.processes == {8027: "/usr/bin/sudo"} and r2.processes == {8029: "/usr/local/bin/docker"}
    assert r1.first[1] == 274 and r2.first[1] == 1141
    assert [e.by_rule for e in res.expectations] == [{1: 1}, {2: 1}]
    for r in (r1, r2):
        assert any("no login" in n and "auid!=unset" in n and "1 of its 1" in n for n in r.notes)


def test_auid_note_only_when_the_test_also_holds_for_unset(tmp_path):
    p = tmp_path / "r.rules"
    p.write_text("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo -F auid>=1000 "
                 "-F auid!=unset -k s\n")
    res = verify([p], [SEED], expects=["execve exe=/usr/bin/sudo key=s"])
    assert res.ok and res.rules[0].hits == 1 and not res.rules[0].notes


def test_missed_expectation_exits_1_with_trace_lines(seed_rules, capsys):
    rc = main(["verify", str(seed_rules), str(SEED), "--expect", "execve exe=/usr/bin/setpriv"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "MISSED" in out and f"{SEED}:38" in out and f"{SEED}:271" in out
    assert "no rule matched" in out


def test_cli_plain_output_on_seed(seed_rules, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    rc = main(["verify", str(seed_rules), str(SEED), "--expect", "execve exe=/usr/bin/sudo",
               "--expect", "execve exe=/usr/local/bin/docker"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "#1 " in out and "#2 " in out and "1 event(s) decided" in out
    assert "CAUGHT 'execve exe=/usr/bin/sudo'" in out and "(by #1)" in out
    assert "CAUGHT 'execve exe=/usr/local/bin/docker'" in out and "(by #2)" in out
    assert "no login" in out
    assert "\x1b[" not in out


def test_rich_output_renders(seed_rules, capsys):
    from tracerule.cli.verify_cmd import _render_rich

    res = verify([seed_rules], [SEED], expects=["execve exe=/usr/bin/sudo"])
    _render_rich(res, 3)
    out = capsys.readouterr().out
    assert "CAUGHT" in out and "exe=/usr/bin/sudo" in out and "no login" in out


def test_json_schema(seed_rules, capsys):
    rc = main(["verify", str(seed_rules), str(SEED), "--json", "--expect", "execve exe=/usr/bin/sudo",
               "--expect", "key=nokey"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 1 and d["exit_code"] == 1 and d["ok"] is False
    assert d["schema_version"] == 1 and d["kind"] == "tracerule-verify"
    assert set(d) >= {"rules", "expectations", "baselines", "assumptions", "diagnostics", "traces",
                      "rules_files", "host", "notes"}
    for r in d["rules"]:
        assert {"index", "number", "canonical", "key", "hits", "logged", "processes", "first",
                "events", "notes", "location", "text"} <= set(r)
        assert r["canonical"].startswith("-a always,exit -F arch=b64 -S execve")
        assert isinstance(r["hits"], int) and r["key"] is None
    assert [r["hits"] for r in d["rules"]] == [1, 1]
    e0, e1 = d["expectations"]
    assert e0["ok"] and e0["caught_by"] == {"1": 1}
    assert not e1["ok"] and e1["events"] == 1 and e1["caught"] == 0
    t = d["traces"][0]
    assert t["records"] >= 2 and t["logged"] == 2


def test_bad_rules_and_trace_files_exit_3_cleanly(tmp_path, capsys, seed_rules):
    assert main(["verify", str(tmp_path / "missing.rules"), str(SEED)]) == 3
    err = capsys.readouterr().err
    assert "missing.rules" in err and "Traceback" not in err
    notrace = tmp_path / "t.txt"
    notrace.write_text("this is not\nan strace output\n")
    assert main(["verify", str(seed_rules), str(notrace)]) == 3
    err = capsys.readouterr().err
    assert "not strace output" in err and "Traceback" not in err
    bad = tmp_path / "bad.rules"
    bad.write_text("-a always,exit -F arch=b64 -S nosuchcall -k x\n-a bogus\n")
    assert main(["verify", str(bad), str(SEED)]) == 3
    assert "no rule could be read" in capsys.readouterr().err


def test_refused_lines_are_reported_with_file_line_col_and_rest_verified(tmp_path, capsys):
    p = tmp_path / "mixed.rules"
    p.write_text(SEED_RULES + "-a always,exit -F arch=b64 -S execve -F auid&1\n")
    rc = main(["verify", str(p), str(SEED), "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 3
    assert [r["hits"] for r in d["rules"]] == [1, 1]
    loc = d["diagnostics"][0]["location"]
    assert loc.startswith(f"{p}:3:") and d["diagnostics"][0]["column"] > 0


def test_bad_selector_is_a_usage_error(seed_rules, capsys):
    assert main(["verify", str(seed_rules), str(SEED), "--expect", "execve nosuch=1"]) == 2
    with pytest.raises(ValueError):
        parse_selector("execve exe=relative")
    s = parse_selector("execve,execveat exe=/usr/bin/sudo auid!=unset success=yes key=k")
    assert s.syscalls == {"execve", "execveat"} and s.key == "k" and len(s.terms) == 3


def test_baseline_rate_per_1000_and_per_second(tmp_path, seed_rules):
    lines = ["100  10:00:00.000001 execve(\"/usr/bin/sudo\", [\"sudo\"], 0x7ffd0 /* 3 vars */) = 0"]
    lines += [f"100  10:00:00.{i + 2:06d} getpid() = 100" for i in range(99)]
    t = tmp_path / "base.txt"
    t.write_text("\n".join(lines) + "\n")
    write_sidecar(Sidecar(recorder=Recorder(uid=1000, euid=1000, gid=1000, egid=1000, auid=1000,
                                            sessionid=3), untraced_wall_time=0.5,
                          files=()), str(t) + ".tracerule.json")
    res = verify([seed_rules], [], baselines=[t])
    b = res.baselines[0]
    assert (b.syscalls, b.logged) == (100, 1)
    assert b.per_1000 == 10.0 and b.per_second == 2.0
    assert b.by_rule == {1: 1}
    assert res.rules[0].hits == 0          # baselines do not count as rule hits of the traces


def test_a_gzip_baseline_counts_its_syscalls_as_the_plain_file(tmp_path, seed_rules):
    """The rate per 1,000 syscalls of a .gz baseline (the shipped ones are): the lines are counted
    in the decompressed text (they were counted in the compressed bytes: 2 syscalls, 63,500 per
    1,000)."""
    import gzip

    lines = ["100  10:00:00.000001 execve(\"/usr/bin/sudo\", [\"sudo\"], 0x7ffd0 /* 3 vars */) = 0"]
    lines += [f"100  10:00:00.{i + 2:06d} getpid() = 100" for i in range(399)]
    data = ("\n".join(lines) + "\n").encode()
    plain = tmp_path / "base.txt"
    plain.write_bytes(data)
    packed = tmp_path / "base.txt.gz"
    packed.write_bytes(gzip.compress(data))
    a, b = (verify([seed_rules], [], baselines=[p]).baselines[0] for p in (plain, packed))
    assert b.syscalls == a.syscalls == 400
    assert b.per_1000 == a.per_1000 == 2.5


def test_key_expectation_and_never_rule_miss(tmp_path):
    p = tmp_path / "k.rules"
    p.write_text("-a never,exit -F arch=b64 -S execve -F exe=/usr/local/bin/docker\n"
                 "-a always,exit -F arch=b64 -S execve -k execs\n")
    res = verify([p], [SEED], expects=["key=execs", "execve exe=/usr/local/bin/docker"])
    assert res.expectations[0].ok
    miss = res.expectations[1]
    assert not miss.ok and miss.misses[0]["line"] == 1141 and "never" in miss.misses[0]["why"]
    assert res.rules[0].hits == 1 and res.rules[1].hits >= 9


def test_unknown_auid_is_listed_as_an_assumption(tmp_path):
    t = tmp_path / "noauid.txt"
    t.write_text('100  10:00:00.000001 execve("/usr/bin/sudo", ["sudo"], 0x7ffd0 /* 3 vars */) = 0\n')
    p = tmp_path / "a.rules"
    p.write_text("-a always,exit -F arch=b64 -S execve -F auid!=0 -k a\n")
    res = verify([p], [t], sidecar=None, expects=["execve key=a"])
    assert res.ok
    assert any("auid" in a and "unset" in a for a in res.assumptions)
    assert res.rules[0].assumed == 1


# ---- file identity of rule paths (exe=/path=): symlinks decided by lstat / sidecar facts -------

def _sc_with(*files, dev=8):
    from tracerule.sidecar import ExecFile, Sidecar
    return Sidecar(files=tuple(ExecFile(path=p, realpath=r, exists=True, dev=dev, ino=ino)
                               for p, r, ino in files))


def test_resolver_symlink_with_the_same_basename_is_a_symlink_on_this_host(tmp_path):
    """/lib64/ld-linux-x86-64.so.2 -> ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 style: the
    same basename says nothing; lstat says symlink, so exe= never matches (the kernel's mark is
    on the link)."""
    from tracerule.audit.record import FileRef
    from tracerule.audit.simulate import FileIdentity
    from tracerule.audit.verify import _resolver

    (tmp_path / "lib" / "real").mkdir(parents=True)
    target = tmp_path / "lib" / "real" / "ld.so.2"
    target.write_text("x")
    (tmp_path / "lib64").mkdir()
    link = tmp_path / "lib64" / "ld.so.2"
    link.symlink_to("../lib/real/ld.so.2")
    st = os.stat(target)
    sc = _sc_with((str(link), str(target), st.st_ino), dev=st.st_dev)
    f = _resolver(sc, True)(str(link))
    assert f.is_symlink is True and f.dev == os.lstat(link).st_dev and f.ino == os.lstat(link).st_ino
    ref = FileRef(str(target), st.st_dev, st.st_ino, str(target))
    ident = FileIdentity(_resolver(sc, True))
    assert ident.same_exe(str(link), ref) == (False, None)
    assert ident.same_exe(str(target), ref)[0] is True


def test_resolver_from_the_sidecar_alone():
    from tracerule.audit.verify import _resolver

    sc = _sc_with(("/usr/bin/id", "/usr/bin/id", 11),            # no symlink at all
                  ("/usr/bin/sh", "/usr/bin/dash", 12),          # same dir: final component links
                  ("/lib64/ld.so.2", "/usr/lib/x/ld.so.2", 13))  # same basename: cannot tell
    r = _resolver(sc, False)
    assert (r("/usr/bin/id").is_symlink, r("/usr/bin/id").ino) == (False, 11)
    assert r("/usr/bin/sh").is_symlink is True and r("/usr/bin/sh").ino is None
    f = r("/lib64/ld.so.2")
    assert f.is_symlink is None and f.assumed and f.ino is None   # never decided from basenames
    assert (r("/usr/lib/x/ld.so.2").is_symlink, r("/usr/lib/x/ld.so.2").ino) == (False, 13)


# -- a valid rule tracerule could not write back (escaped space) -----------------------------------

SPACE_RULES = ("-w /tmp/a\\ b -p wa -k k1\n"
               "-a always,exit -F arch=b64 -S openat -F path=/tmp/x\\ y -k k2\n"
               "-a always,exit -F arch=b64 -S getpid -k k3\n")
SPACE_TRACE = ('300 openat(AT_FDCWD, "/tmp/x y", O_RDONLY) = 3\n'
               "300 getpid() = 300\n"
               "300 exit_group(0) = ?\n")


def test_unwritable_rule_is_simulated_with_a_diagnostic(tmp_path):
    rules, trace = tmp_path / "sp.rules", tmp_path / "t.txt"
    rules.write_text(SPACE_RULES)
    trace.write_text(SPACE_TRACE)
    res = verify([rules], [trace], sidecar=None, expects=["openat key=k2", "getpid key=k3"])
    assert res.ok and int(res.exit_code) == 0
    assert [r.hits for r in res.rules] == [0, 1, 1]
    assert res.rules[0].canonical == "-w /tmp/a\\ b -p wa -k k1"
    bad = [d for d in res.diagnostics if d.code == "R302"]
    assert [(d.file, d.line) for d in bad] == [(str(rules), 1), (str(rules), 2)]
    assert all("cannot be written back safely" in d.message for d in bad)


def test_unwritable_rule_is_not_planned_for_the_kernel(tmp_path):
    from tracerule.audit.kernel_verify import plan_rules

    rules = tmp_path / "sp.rules"
    rules.write_text(SPACE_RULES + "-a always,exit -F arch=b64 -S getppid -k a\\ b\n")
    planned, diags, _ = plan_rules([rules], host="x86_64")
    assert [bool(p.skip) for p in planned] == [True, True, False, False]
    assert all("cannot be written back safely" in p.skip for p in planned[:2])
    assert [d.line for d in diags if d.code == "R302"] == [1, 2]
    assert planned[3].argv("rk")[-2:] == ["-k", "rk"]   # its own (unsafe) key is replaced


def test_unwritable_rule_still_detects_duplicates(tmp_path):
    rules, trace = tmp_path / "d.rules", tmp_path / "t.txt"
    rules.write_text("-w /tmp/a\\ b -p wa\n-w /tmp/a\\ b -p wa\n")
    trace.write_text(SPACE_TRACE)
    res = verify([rules], [trace], sidecar=None)
    assert [d.line for d in res.diagnostics if d.code == "R004"] == [2]
    assert len(res.rules) == 1


def test_cli_verify_with_escaped_space_rule(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    rules, trace = tmp_path / "sp.rules", tmp_path / "t.txt"
    rules.write_text(SPACE_RULES)
    trace.write_text(SPACE_TRACE)
    rc = main(["verify", "--no-sidecar", str(rules), str(trace)])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"{rules}:1:1: medium: cannot be written back safely" in out
