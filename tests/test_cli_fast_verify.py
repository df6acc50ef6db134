"""``tracerule verify`` without typer (tracerule.cli.FAST_STATIC): plain command lines give the same
stdout, stderr and exit status as typer's parsing; every other line is left to typer."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, RULES_DATA, SAMPLES, STRACE_DATA
from tracerule.cli import FAST_STATIC, _load_commands, _option_table, _parse_plain, _static_fast, main

SEED = str(SAMPLES / "sudo_docker_alice_tt_T_yy.txt")
T2 = str(STRACE_DATA / "setuid_chain.txt")
T3 = str(STRACE_DATA / "threads_clone3.txt")
NEO = str(RULES_DATA / "neo23x0" / "audit.rules")
RULES = """\
-a always,exit -F arch=b64 -S execve,execveat -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k priv
-a always,exit -F arch=b32 -S execve,execveat -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k priv
-a always,exit -F arch=b64 -S setuid,setreuid,setresuid,setgid,setresgid -k ids
-a always,exit -F arch=b64 -S connect -F saddr_fam=2 -k net
-a always,exit -F arch=b64 -S openat -F a2&0x3 -F success=1 -k writes
-a always,exit -F arch=b64 -S execve -F exe=/usr/local/bin/docker -F auid!=0
"""

# command lines the fast path runs itself ("R": the rules file above)
FAST = [
    ["R", SEED, "--json"],
    ["R", SEED],
    ["R", SEED, "--expect", "execve exe=/usr/bin/sudo", "-e", "key=priv", "--expect=key=nokey", "--json"],
    ["R", SEED, "-e", "execve exe=/usr/bin/sudo", "--expect", "execve exe=/usr/bin/setpriv"],
    ["R", SEED, "--expect", "nosuchsyscall"],
    ["R", SEED, T2, "--json"],
    ["R", "--baseline", T2, "-b", T3, "--json"],
    ["R", SEED, "--baseline", T2, "--baseline=" + T3],
    ["R", SEED, "--uid", "1000", "--gid=1000", "--auid", "007", "--json"],
    ["R", T2, "--auid", "4294967295", "--no-sidecar"],
    ["R", SEED, "--events", "1"],
    ["R", SEED, "--events", "-1"],
    ["R", SEED, "--host-arch", "aarch64", "--json"],
    ["R", SEED, "--host-arch", "i386"],
    ["R", SEED, "--existing", NEO, "--rules-name", "99-x.rules", "--json"],
    ["R", SEED, "--existing", NEO],
    ["R", SEED, "--this-host", "--json"],
    ["R", SEED, "--other-host"],
    ["R", SEED, "--no-sidecar", "--json"],
    ["R", "no-such-trace.txt"],
    ["no-such.rules", SEED, "--json"],
    ["R", "-", "--json"],
    [NEO, T3, "--json"],
]

# command lines left to typer (usage errors, help, --kernel's options, unusual forms)
TYPER = [
    ["R", SEED, "--json", "--expect", "bogus selector ="],
    ["R", SEED, "--uid", "-1"],
    ["R", SEED, "--uid", "4294967296"],
    ["R", SEED, "--uid", "0x10"],
    ["R", SEED, "--no-such-option"],
    ["R", SEED, "--help"],
    ["--help"],
    [],
    ["R"],
    ["R", SEED, "--json", "--json"],
    ["R", SEED, "--host-arch", "nope"],
    ["R", SEED, "--rules-name", "x.rules"],
    ["R", SEED, "--existing", NEO, "--rules-name", "a/b"],
    ["R", SEED, "--existing", NEO, "--rules-name", ".."],
    ["R", SEED, "--this-host", "--other-host"],
    ["R", SEED, "--each"],
    ["R", SEED, "--user", "root"],
    ["R", SEED, "-u", "root"],
    ["R", SEED, "--timeout", "5", "--json"],
    ["R", SEED, "--timeout", "x"],
    ["R", "--", SEED, "--json"],
    ["R", SEED, "--", "ls"],
    ["R", SEED, "--expect"],
    ["R", SEED, "--uid"],
    ["R", SEED, "-e", "-x"],
    ["R", SEED, "--json=1"],
    ["R", SEED, "-ekey=priv", "--json"],
]


@pytest.fixture
def rules(tmp_path):
    p = tmp_path / "bench.rules"
    p.write_text(RULES)
    return str(p)


def _args(args, rules):
    return ["verify", *(rules if a == "R" else a for a in args)]


def _accepted(argv) -> bool:
    """Would the fast path run this line (without running it)?"""
    import importlib

    runner, table = FAST_STATIC["verify"]
    values = _parse_plain(table, argv[1:])
    mod = importlib.import_module(runner.partition(":")[0])
    return values is not None and mod.fast_ok(**values)


def _both(argv, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    rc_fast = main(argv)
    fast = capsys.readouterr()
    with monkeypatch.context() as m:
        m.delitem(FAST_STATIC, "verify")     # typer parses the line, as before the fast path
        rc_typer = main(argv)
    slow = capsys.readouterr()
    return (rc_fast, fast.out, fast.err), (rc_typer, slow.out, slow.err)


@pytest.mark.parametrize("args", FAST)
def test_fast_path_same_output_as_typer(args, rules, capsys, monkeypatch):
    argv = _args(args, rules)
    assert _accepted(argv)
    fast, slow = _both(argv, capsys, monkeypatch)
    assert fast == slow
    assert fast[1] or fast[2]


@pytest.mark.parametrize("args", TYPER)
def test_unusual_lines_go_to_typer_unchanged(args, rules, capsys, monkeypatch):
    argv = _args(args, rules)
    assert not _accepted(argv)
    assert _static_fast(argv) is None
    fast, slow = _both(argv, capsys, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("extra", [["--kernel"], ["--kernel", "--json"], ["--each"], ["--kernel", "-u", "x"],
                                   ["--timeout", "3"], ["--kernel", "--", "true"]])
def test_kernel_lines_are_never_run_by_the_fast_path(extra, rules):
    # only checked, never run here: --kernel would ask the real kernel
    assert _static_fast(["verify", rules, SEED, *extra]) is None


def test_usage_error_is_typers(rules, capsys):
    rc = main(["verify", rules, SEED, "--uid", "4294967296"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("Usage: tracerule verify") and "--uid must be between 0 and 4294967295" in err


def test_static_table_matches_the_typer_declarations():
    app = _load_commands()
    info = next(c for c in app.registered_commands if c.name == "verify")
    assert _option_table(info.callback) == FAST_STATIC["verify"][1]


def test_parse_plain_repeatable_options_and_variadic_positionals():
    table = FAST_STATIC["verify"][1]
    v = _parse_plain(table, ["r", "-e", "a", "t1", "--expect=b c", "t2", "-b", "x", "--other-host"])
    assert v["rules"] == "r" and v["traces"] == ["t1", "t2"] and v["expect"] == ["a", "b c"]
    assert v["baseline"] == ["x"] and v["this_host"] is False and v["json_"] is False
    v = _parse_plain(table, ["r"])
    assert v["traces"] is None and v["expect"] is None and v["events"] == 3
    assert _parse_plain(table, ["r", "t", "--", "x"]) is None          # '--' before a variadic
    assert _parse_plain(table, ["r", "t", "--timeout", "1"]) is None    # floats: typer's parsing
    assert _parse_plain(table, ["r", "t", "--uid", "1", "--uid", "2"]) is None
    # graph's table (no variadic): '--' still ends the options
    assert _parse_plain(FAST_STATIC["graph"][1], ["--ascii", "--", "t"])["trace"] == "t"


def test_verify_json_imports_neither_typer_nor_rich(rules):
    code = ("import sys; from tracerule.cli import main; rc = main(['verify', %r, %r, '--json']); "
            "print(rc, sorted(m for m in ('typer', 'pydantic', 'rich', 'click') if m in sys.modules), "
            "file=sys.stderr)" % (rules, SEED))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stderr.strip().splitlines()[-1] == "0 []", r.stderr
    assert json.loads(r.stdout)["schema_version"] == 1
