"""`tracerule graph` end to end: formats, terminal hygiene, exit codes."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ROOT, SAMPLES, STRACE_DATA
from tracerule.cli import main
from tracerule.exitcodes import ExitCode

SEED = str(SAMPLES / "sudo_docker_alice_tt_T_yy.txt")
ESC = "\x1b["


def run(capsys, *args):
    rc = main(["graph", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_contract(capsys):
    rc, out, _ = run(capsys, SEED, "--format", "json")
    assert rc == 0
    d = json.loads(out)
    assert d["schema_version"] == 1
    assert isinstance(d["warnings"], list) and all("message" in w for w in d["warnings"])
    for p in d["processes"]:
        for k in ("id", "pid", "parent_id", "ppid", "threads", "execs", "exit"):
            assert k in p
        for e in p["execs"]:
            for k in ("path", "argv", "ok", "errno", "uid", "euid", "gid", "egid", "auid", "cred_source"):
                assert k in e
    by = {p["pid"]: p for p in d["processes"]}
    root = [p for p in d["processes"] if p["ppid"] is None]
    assert len(root) == 1 and root[0]["parent_id"] is None
    sudo = [e for e in root[0]["execs"] if e["ok"] and e["path"] == "/usr/bin/sudo"][0]
    assert (sudo["uid"], sudo["euid"], sudo["auid"], sudo["cred_source"]) == (1001, 0, 1001, "sidecar")
    docker = [p for p in d["processes"] if any(e["path"].endswith("/docker") for e in p["execs"])][0]
    assert len(docker["threads"]) == 6
    assert by[docker["ppid"]]["parent_id"] == root[0]["id"]
    assert docker["exit"]["code"] == 125


def test_json_without_sidecar_is_inferred_and_creds_null_when_unknown(capsys):
    rc, out, _ = run(capsys, SEED, "--format", "json", "--no-sidecar")
    d = json.loads(out)
    root = [p for p in d["processes"] if p["ppid"] is None][0]
    sudo = [e for e in root["execs"] if e["ok"] and e["path"] == "/usr/bin/sudo"][0]
    assert (sudo["uid"], sudo["euid"], sudo["cred_source"]) == (1001, 0, "inferred")
    rc, out, _ = run(capsys, str(STRACE_DATA / "threads_clone3.txt"), "--format", "json")
    e = json.loads(out)["processes"][0]["execs"][0]
    assert e["uid"] is None and e["cred_source"] == "unknown"
    rc, out, _ = run(capsys, str(STRACE_DATA / "threads_clone3.txt"), "--format", "json", "--uid", "0")
    e = json.loads(out)["processes"][0]["execs"][0]
    assert e["uid"] == 0 and e["cred_source"] == "user-given"


def test_ff_directory(capsys):
    rc, out, _ = run(capsys, str(STRACE_DATA / "ff_split"), "--format", "json")
    assert rc == 0
    assert len(json.loads(out)["processes"]) == 6


def test_tree_plain_when_not_a_tty(capsys):
    rc, out, err = run(capsys, SEED)
    assert rc == 0 and ESC not in out
    lines = out.splitlines()
    assert lines[0].startswith("8027 sh ⇒ setpriv ⇒ sudo")
    sudo = [x for x in lines if "exec /usr/bin/sudo" in x][0]
    assert "uid=1001→euid=0" in sudo and "auid=1001" in sudo and "sidecar" in sudo
    assert any("docker" in x and "auid=1001" in x for x in lines)
    assert "sidecar:" in err


def test_tree_ascii(capsys):
    rc, out, _ = run(capsys, SEED, "--ascii")
    assert rc == 0
    assert "|-- " in out and "`-- " in out
    assert all(ord(c) < 128 for c in out)
    assert "uid=1001->euid=0" in out


def test_tree_color_only_on_tty_and_not_with_no_color(monkeypatch):
    from tracerule.graph.build import build_graph
    from tracerule.graph.render import render_tree

    class Tty(io.StringIO):
        def isatty(self):
            return True

    g = build_graph(SEED)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    s = Tty()
    render_tree(g, file=s)
    assert ESC in s.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    s = Tty()
    render_tree(g, file=s)
    assert ESC not in s.getvalue() and "uid=1001→euid=0" in s.getvalue()
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    s = Tty()
    render_tree(g, file=s)
    assert ESC not in s.getvalue()


def test_dot_and_graphml(capsys):
    rc, out, _ = run(capsys, SEED, "--format", "dot")
    assert rc == 0 and out.startswith("digraph processes {") and out.rstrip().endswith("}")
    assert out.count("->") == 2
    rc, out, _ = run(capsys, SEED, "--format", "graphml")
    root = ET.fromstring(out)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert len(root.findall(".//g:node", ns)) == 3 and len(root.findall(".//g:edge", ns)) == 2


def test_hostile_names_cannot_break_output(tmp_path, capsys):
    t = tmp_path / "evil.txt"
    t.write_text('100  execve("/tmp/a\\nb\\33[31m\\"x", ["a\\nb", "x\\"];y"], 0x7f /* 1 var */) = 0\n'
                 '100  +++ exited with 0 +++\n')
    rc, out, _ = run(capsys, str(t))
    assert rc == 0 and "\x1b" not in out and len(out.splitlines()) == 2
    rc, out, _ = run(capsys, str(t), "--format", "dot")
    assert out.count("\n") == 5 and "\x1b" not in out


@pytest.mark.parametrize("args,code", [
    (["/nonexistent/trace.txt"], ExitCode.BAD_INPUT),
    ([str(ROOT / "tests/data/rules/neo23x0/audit.rules")], ExitCode.BAD_INPUT),
    ([SEED, "--format", "yaml"], ExitCode.USAGE),
    ([SEED, "--uid", "-5"], ExitCode.USAGE),
    ([SEED, "--sidecar", "/nonexistent.json"], ExitCode.BAD_INPUT),
])
def test_errors_exit_codes_no_traceback(capsys, args, code):
    rc, out, err = run(capsys, *args)
    assert rc == int(code)
    assert "Traceback" not in err and err.strip()


def test_bad_sidecar_names_file_and_line(tmp_path, capsys):
    sc = tmp_path / "s.json"
    sc.write_text('{\n "schema_version": 1,\n "files": [\n  {"path": "/bin/x", "mode": "rwx"}\n ]\n}\n')
    rc, out, err = run(capsys, SEED, "--sidecar", str(sc))
    assert rc == int(ExitCode.BAD_INPUT)
    assert f"{sc}:4" in err and "mode" in err


def test_subprocess_json_is_lean():
    code = ("import sys; from tracerule.cli import main; rc = main(['graph', %r, '--format', 'json']); "
            "assert 'rich' not in sys.modules and 'networkx' not in sys.modules, "
            "[m for m in ('rich', 'networkx') if m in sys.modules]; sys.exit(rc)") % SEED
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["schema_version"] == 1


# ---- the start-up fast path (tracerule.cli._fast_path: no typer coercion, no pydantic) ----------

@pytest.mark.parametrize("args", [
    ["--format", "json", SEED],
    ["-f", "json", "--uid", "1000", "--auid=1000", "--no-sidecar", SEED],
    ["--ascii", "--", SEED],
    ["--format", "dot", "--sidecar", SEED + ".tracerule.json", SEED],
])
def test_fast_path_same_output_as_typer(capsys, args):
    from tracerule.cli import _fast_path, _load_commands

    app = _load_commands()
    assert _fast_path(app, ["graph", *args]) == 0
    fast = capsys.readouterr()
    app(args=["graph", *args], prog_name="tracerule", standalone_mode=False)
    slow = capsys.readouterr()
    assert fast.out and fast == slow


@pytest.mark.parametrize("args", [
    ["--help"], [SEED, SEED], [], ["--format"], ["--format", "xml", SEED], ["--uid", "0x10", SEED],
    ["--uid", "-1", SEED], ["--sidecar", "x", "--no-sidecar", SEED], ["--format", "json", "--format", "dot", SEED],
    ["--no-such-option", SEED], ["--ascii=1", SEED], ["--sidecar", "--no-sidecar", SEED],
])
def test_fast_path_leaves_unusual_lines_to_typer(args):
    from tracerule.cli import _fast_path, _load_commands

    assert _fast_path(_load_commands(), ["graph", *args]) is None


def test_graph_json_does_not_import_pydantic():
    code = ("import sys; from tracerule.cli import main; rc = main(['graph', '--format', 'json', %r]); "
            "print(rc, 'pydantic' in sys.modules, file=sys.stderr)" % str(STRACE_DATA / "setuid_chain.txt"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stderr.strip().splitlines()[-1] == "0 False", r.stderr
    assert json.loads(r.stdout)["processes"]


# ---- the typer-free fast path (tracerule.cli.FAST_STATIC: a static option table) -----------------

def test_static_option_table_matches_typer_declarations():
    from tracerule.cli import FAST_STATIC, _load_commands, _option_table

    app = _load_commands()
    for name, (_runner, table) in FAST_STATIC.items():
        info = next(c for c in app.registered_commands if c.name == name)
        assert _option_table(info.callback) == table


@pytest.mark.parametrize("args", [
    ["--format", "json", SEED],
    ["-f", "json", "--uid", "1000", "--auid=1000", "--no-sidecar", SEED],
    ["--ascii", "--", SEED],
    ["--format", "dot", "--sidecar", SEED + ".tracerule.json", SEED],
])
def test_static_fast_path_same_output_as_typer(capsys, args):
    from tracerule.cli import _load_commands, _static_fast

    assert _static_fast(["graph", *args]) == 0
    fast = capsys.readouterr()
    _load_commands()(args=["graph", *args], prog_name="tracerule", standalone_mode=False)
    slow = capsys.readouterr()
    assert fast.out and fast == slow


@pytest.mark.parametrize("args", [
    ["--help"], [SEED, SEED], [], ["--format"], ["--format", "xml", SEED], ["--uid", "0x10", SEED],
    ["--uid", "-1", SEED], ["--sidecar", "x", "--no-sidecar", SEED], ["--format", "json", "--format", "dot", SEED],
    ["--no-such-option", SEED], ["--ascii=1", SEED], ["--sidecar", "--no-sidecar", SEED],
])
def test_static_fast_path_leaves_unusual_lines_to_typer(args):
    from tracerule.cli import _static_fast

    assert _static_fast(["graph", *args]) is None


def test_graph_json_does_not_import_typer(tmp_path):
    code = ("import sys; from tracerule.cli import main; rc = main(['graph', '--format', 'json', %r]); "
            "print(rc, 'typer' in sys.modules, file=sys.stderr)" % str(STRACE_DATA / "setuid_chain.txt"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stderr.strip().splitlines()[-1] == "0 False", r.stderr
    assert json.loads(r.stdout)["processes"]
    empty = tmp_path / "empty.txt"
    empty.write_text("hello\n")
    code = "import sys; from tracerule.cli import main; sys.exit(main(['graph', %r]))" % str(empty)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode != 0 and r.stderr.startswith("tracerule: ") and "Traceback" not in r.stderr


@pytest.mark.parametrize("trace", ["t.txt", "a//b/t.txt", "dir/", "dir/.", "./x", "/abs/p.txt.gz", "ff/prefix"])
def test_sidecar_guess_is_the_sidecar_modules_path(trace):
    # build_graph imports tracerule.sidecar only when this path exists: it must be the module's own
    from tracerule import sidecar as S
    from tracerule.graph.build import _sidecar_guess

    assert _sidecar_guess(trace) == str(S.sidecar_path(trace))
