"""``tracerule suggest --review``: hands off to the review session with suggest's options.

Driven as a user would on a pipe: a subprocess whose stdin is not a terminal gets the line mode,
answers come on stdin, the saved file is checked."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import DATA, ROOT, STRACE_DATA

SAMPLE = DATA / "review" / "multi.strace"


def _run(args, answers: str, cwd, timeout=180):
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "tracerule", "suggest", "--review", *args], input=answers,
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_review_line_mode_accept_then_save(tmp_path):
    out = tmp_path / "60-mine.rules"
    res = _run(["--no-baseline", "--auditctl-version", "3.0.9", "-o", str(out), str(SAMPLE)],
               "a\ns\ny\nq\n", tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "line mode" in res.stderr                         # no terminal: said, not silently
    assert "t1 [a]: accept t1" in res.stdout
    assert f"wrote {out}" in res.stdout
    assert "no baseline" in res.stdout                        # --no-baseline passed through
    text = out.read_text()
    assert "# decisions: 1 accepted" in text
    rules = [ln for ln in text.splitlines() if ln.startswith("-a ")]
    assert rules and all("-F auid>=1000 -F auid!=unset" in r for r in rules)
    assert any("exe=/usr/bin/dash" in r for r in rules)     # t1, the one accepted
    # the level option reaches the session: behaviour rungs carry no exe=
    out2 = tmp_path / "61-behaviour.rules"
    res2 = _run(["--no-baseline", "--level", "behaviour", "--auditctl-version", "3.0.9", "-o", str(out2),
                 str(SAMPLE)], "a\ns\ny\nq\n", tmp_path)
    assert res2.returncode == 0, res2.stderr
    r2 = [ln for ln in out2.read_text().splitlines() if ln.startswith("-a ")]
    assert r2 and not any("exe=" in r for r in r2)


def test_review_baseline_passed_through_and_quit_unsaved_is_1(tmp_path):
    base = STRACE_DATA / "execve_path_search.txt"
    res = _run(["--baseline", str(base), "--auditctl-version", "3.0.9", "-o", str(tmp_path / "x.rules"),
                str(SAMPLE)], "a\nq\ny\n", tmp_path)
    assert res.returncode == 1, res.stderr                    # quit with a decision not saved
    assert "on the baseline" in res.stdout and "no baseline" not in res.stdout.split("t1 [a]")[0]
    assert "not saved. Quit anyway?" in res.stdout
    assert not (tmp_path / "x.rules").exists()


@pytest.mark.parametrize("extra", [["--json"], ["--focus", "net"], ["--attack"], ["--existing", "live"],
                                   ["--rules-name", "x.rules"]])
def test_review_refuses_options_the_session_does_not_take(extra, tmp_path):
    res = _run([*extra, str(SAMPLE)], "", tmp_path, timeout=60)
    assert res.returncode == 2
    assert "cannot be used with --review" in res.stderr and extra[0] in res.stderr
    assert "Traceback" not in res.stderr


def test_review_takes_uid_and_auid(tmp_path):
    """suggest --review hands --uid/--auid to the review session (they state what a trace without
    sidecar cannot show)."""
    import shutil

    trace = tmp_path / SAMPLE.name
    shutil.copy(SAMPLE, trace)                      # no sidecar beside it
    out = tmp_path / "x.rules"
    res = _run(["--no-baseline", "--auid", "1000", "--uid", "0", "--auditctl-version", "3.0.9", "-o", str(out),
                str(trace)], "a\ns\ny\nq\n", tmp_path)
    assert res.returncode == 0, res.stderr
    rules = [ln for ln in out.read_text().splitlines() if ln.startswith("-a ")]
    assert rules and any("auid>=1000" in r for r in rules)


def test_review_missing_trace_is_exit_3(tmp_path):
    res = _run(["--no-baseline", str(tmp_path / "nope.strace")], "", ROOT, timeout=60)
    assert res.returncode == 3 and "Traceback" not in res.stderr
