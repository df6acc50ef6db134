"""tracerule lint: exit codes, JSON schema, plain output."""
from __future__ import annotations

import json

import pytest

from tracerule.cli import main
from tracerule.exitcodes import ExitCode

B64 = "-a always,exit -F arch=b64"
B32 = "-a always,exit -F arch=b32"


@pytest.mark.parametrize("text,code", [
    ("-w /etc/passwd -p wa -k p\n", ExitCode.OK),                                      # info only
    (f"{B64} -S chmod,fchmodat,452 -k m\n{B32} -S chmod,fchmodat,452 -k m\n"
     f"{B64} -S fchmod -k m\n{B32} -S fchmod -k m\n", ExitCode.FINDINGS_LOW),           # mergeable
    (f"{B64} -S execve -k e\n{B32} -S execve -k e\n", ExitCode.FINDINGS_MEDIUM),        # no execveat
    (f"{B64} -S openat -F exit=EACCES -k e\n{B32} -S openat -F exit=-EACCES -k e\n", ExitCode.CHECK_FAILED),
    (f"{B64} -S openat -F obj=/x -k e\n", ExitCode.CHECK_FAILED),                       # refused line
])
def test_exit_code_is_worst_severity(tmp_path, capsys, text, code):
    f = tmp_path / "a.rules"
    f.write_text(text)
    assert main(["lint", "--no-host-checks", "--arch", "x86_64", str(f)]) == code


def test_unreadable_input_is_bad_input(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "nope.rules")]) == ExitCode.BAD_INPUT
    assert "nope.rules" in capsys.readouterr().err


def test_bad_arch_is_bad_input(tmp_path, capsys):
    f = tmp_path / "a.rules"
    f.write_text("-D\n")
    assert main(["lint", "--arch", "vax", str(f)]) == ExitCode.BAD_INPUT


def test_json_schema(tmp_path, capsys):
    f = tmp_path / "a.rules"
    f.write_text(f"{B64} -S execve -F auid>=1000 -k e\n-w /etc/passwd -p wa -k p\n")
    rc = main(["lint", "--json", "--no-host-checks", "--min-severity", "info", str(f)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == ExitCode.FINDINGS_MEDIUM
    assert set(doc) == {"schema_version", "findings"} and doc["schema_version"] == 1
    assert doc["findings"]
    for x in doc["findings"]:
        assert set(x) == {"id", "severity", "file", "line", "message", "fix"}
        assert x["severity"] in ("info", "low", "medium", "high")
        assert isinstance(x["line"], int) and x["file"] == str(f)
    got = {(x["id"], x["line"]) for x in doc["findings"]}
    assert {("TR102", 1), ("TR120", 1), ("TR150", 1), ("TR194", 2)} <= got


def test_min_severity_filters_output_not_exit_code(tmp_path, capsys):
    f = tmp_path / "a.rules"
    f.write_text(f"{B64} -S execve -k e\n{B32} -S execve -k e\n-w /etc/passwd -p wa -k p\n")
    rc = main(["lint", "--json", "--no-host-checks", "--min-severity", "high", str(f)])
    assert json.loads(capsys.readouterr().out)["findings"] == []
    assert rc == ExitCode.FINDINGS_MEDIUM


def test_plain_output_when_not_a_tty(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    f = tmp_path / "a.rules"
    f.write_text(f"{B64} -S execve -k e\n")
    main(["lint", "--no-host-checks", str(f)])
    out, err = capsys.readouterr()
    assert f"{f}:1: medium [TR150]" in out and "    fix: add -S execveat" in out
    assert "\x1b[" not in out and "finding(s)" in err


def test_rich_table_on_a_tty(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    f = tmp_path / "a.rules"
    f.write_text(f"{B64} -S execve -k e\n")
    main(["lint", "--no-host-checks", str(f)])
    assert "TR150" in capsys.readouterr().out


def test_list_checks(capsys):
    assert main(["lint", "--list-checks"]) == 0
    out = capsys.readouterr().out
    assert "TR101" in out and "TR203" in out


def test_json_shows_info_by_default(tmp_path, capsys):
    f = tmp_path / "a.rules"
    f.write_text("-w /etc/passwd -p wa -k p\n")
    assert main(["lint", "--json", "--no-host-checks", str(f)]) == ExitCode.OK
    assert [x["id"] for x in json.loads(capsys.readouterr().out)["findings"]] == ["TR194"]


def test_no_rules_is_usage_error(capsys):
    assert main(["lint"]) == ExitCode.USAGE
