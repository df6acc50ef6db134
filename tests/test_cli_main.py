"""The CLI shell: one exit-code table, clean errors, interrupts."""
import signal
import subprocess
import sys
import time

import pytest

from tracerule.exitcodes import TABLE, ExitCode

PY = sys.executable


def run(*args, **kw):
    return subprocess.run([PY, "-m", "tracerule", *args], capture_output=True, text=True, **kw)


def test_exit_codes_command_prints_the_table():
    cp = run("exit-codes")
    assert cp.returncode == 0
    for code, name, _ in TABLE:
        assert f"{name}" in cp.stdout and str(code) in cp.stdout


def test_readme_documents_every_exit_code():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    for code, name, _ in TABLE:
        assert f"| {code} | {name} |" in readme


@pytest.mark.parametrize("args", [["no-such-command"], ["graph"], ["graph", "--format", "nope", "x"]])
def test_usage_errors_exit_2_without_traceback(args):
    cp = run(*args)
    assert cp.returncode == ExitCode.USAGE
    assert "Traceback" not in cp.stderr


def test_missing_input_is_bad_input_without_traceback(tmp_path):
    cp = run("graph", str(tmp_path / "missing.txt"))
    assert cp.returncode == ExitCode.BAD_INPUT
    assert "Traceback" not in cp.stderr and "missing.txt" in cp.stderr


def test_sigint_exits_130_and_says_so():
    code = (
        "import sys, time\n"
        "from tracerule.cli.app import app\n"
        "@app.command('zz-sleep')\n"
        "def zz():\n"
        "    time.sleep(30)\n"
        "from tracerule.cli import main\n"
        "sys.exit(main(['zz-sleep']))\n")
    p = subprocess.Popen([PY, "-c", code], stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=20)[1]
    assert p.returncode == ExitCode.INTERRUPTED
    assert "interrupted" in err and "Traceback" not in err


def test_output_closed_early_is_not_an_error(tmp_path):
    """``tracerule graph TRACE | head -1``: a closed pipe is the reader's choice, not a failure."""
    lines = ['100   execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0']
    for i in range(3000):
        child = 1000 + i
        lines.append(f"100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = {child}")
        lines.append(f'{child}  execve("/bin/true", ["true", "{i}"], 0x7ffd /* 3 vars */) = 0')
        lines.append(f"{child}  +++ exited with 0 +++")
    lines.append("100   +++ exited with 0 +++")
    trace = tmp_path / "many.txt"
    trace.write_text("\n".join(lines) + "\n")
    p = subprocess.Popen([PY, "-m", "tracerule", "graph", "--format", "json", str(trace)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0
    assert "Traceback" not in err
