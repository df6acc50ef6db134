"""``tracerule fmt``: canonical output, --source, all refusals at file:line:col, exit code."""
from __future__ import annotations

from tracerule.cli import main
from tracerule.exitcodes import ExitCode


def test_fmt_canonical_and_refusals(tmp_path, capsys):
    f = tmp_path / "a.rules"
    f.write_text("-D\n-b 8192\n-a exit,always -F arch=b64 -S openat,open -F success=0 -k multi\n"
                 "-a always,exit -F arch=b64 -S fchmodat2 -k x\n-w /etc/passwd -p wa -k p\n"
                 "-a always,exit -F uid=nosuchuser_zz -S open -k y\n")
    rc = main(["fmt", str(f)])
    out, err = capsys.readouterr()
    assert rc == ExitCode.BAD_INPUT
    assert out.splitlines() == ["-a always,exit -F arch=b64 -S open,openat -F success=0 -F key=multi",
                                "-w /etc/passwd -p wa -k p"]
    assert f"{f}:4:31: error [R001]: Syscall name unknown: fchmodat2" in err
    assert f"{f}:6:" in err and "Unknown user: nosuchuser_zz" in err


def test_fmt_source_keeps_controls_and_exits_ok(tmp_path, capsys):
    d = tmp_path / "rules.d"
    d.mkdir()
    (d / "20-b.rules").write_text("-a always,exit -F arch=b64 -S 452 -F auid!=-1 -k perm\n")
    (d / "10-a.rules").write_text("-D\n-b 8192\n")
    rc = main(["fmt", "--source", str(d)])
    out = capsys.readouterr().out.splitlines()
    assert rc == ExitCode.OK
    assert out == ["-D", "-b 8192", "# 452 = fchmodat2: given by number (auditctl 3.0.9 does not know this "
                   "name on x86_64)", "-a always,exit -F arch=b64 -S 452 -F auid!=unset -k perm"]


def test_fmt_missing_file(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "nope.rules")]) == ExitCode.BAD_INPUT
    assert "nope.rules" in capsys.readouterr().err


def test_fmt_unwritable_rule_is_a_diagnostic_and_the_rest_is_printed(tmp_path, capsys):
    f = tmp_path / "sp.rules"
    f.write_text("-w /tmp/a\\ b -p wa -k k1\n-w /etc/shadow -p wa -k s\n"
                 "-a always,exit -F arch=b64 -S openat -F path=/tmp/x\\ y -k k2\n")
    for args in (["fmt", str(f)], ["fmt", "--source", str(f)]):
        rc = main(args)
        out, err = capsys.readouterr()
        assert rc == ExitCode.BAD_INPUT
        assert out.splitlines() == ["-w /etc/shadow -p wa -k s"]
        assert f"{f}:1:1: error [R301]: cannot be written back safely: path '/tmp/a b'" in err
        assert f"{f}:3:1: error [R301]: cannot be written back safely" in err


def test_a_rule_tracerule_would_not_write_back_still_parses_with_duplicates_found(tmp_path):
    """``-w /tmp/a\\ b`` is valid for auditctl; the parser's duplicate check must not refuse the
    whole file because the emitter would not write such a path back."""
    from tracerule.audit.rules import parse_file

    f = tmp_path / "sp.rules"
    f.write_text("-w /tmp/a\\ b -p wa -k k1\n-w /tmp/a\\ b -p wa -k k1\n")
    res = parse_file(f)
    assert len(res.items) == 1
    assert [(d.line, d.code) for d in res.diagnostics if d.code == "R004"] == [(2, "R004")]
