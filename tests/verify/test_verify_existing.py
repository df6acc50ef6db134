"""verify --existing: the host's rules simulated together with the verified ones, in load order.

The first matching rule decides an event and only its key is logged: events an existing rule wins
are reported as already logged (by file:line, under its key), the verified rules' own results count
only what they win themselves.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import RULES_DATA, SAMPLES
from tracerule.audit.verify import verify
from tracerule.cli import main
from tracerule.errors import EnvironmentProblem, InputError

SEED = SAMPLES / "sudo_docker_alice_tt_T_yy.txt"
NEO = RULES_DATA / "neo23x0" / "audit.rules"
OURS = ("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo -F auid>=1000 -F auid!=unset -k t-sudo\n"
        "-a always,exit -F arch=b64 -S execve -F exe=/usr/local/bin/docker -F auid>=1000 -F auid!=unset "
        "-k t-docker\n")
SUDO = "execve exe=/usr/bin/sudo"
DOCKER = "execve exe=/usr/local/bin/docker"


@pytest.fixture
def ours(tmp_path):
    p = tmp_path / "50-mine.rules"
    p.write_text(OURS)
    return p


def _line_of(path, text) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.strip() == text)


def _wins(res) -> dict:
    """where -> (key, events) of the existing rules that decided trace events."""
    return {w.where: (w.key, w.events) for w in res.existing.wins.values()}


def test_without_existing_our_rules_win_both_execs(ours):
    res = verify([ours], [SEED], expects=[SUDO, DOCKER])
    assert res.existing is None and res.to_dict()["existing"] is None
    assert [(r.number, r.hits, r.logged) for r in res.rules] == [(1, 1, 1), (2, 1, 1)]
    assert [e.by_rule for e in res.expectations] == [{1: 1}, {2: 1}]


def test_neo23x0_existing_sudo_exec_already_logged_under_priv_esc(ours):
    res = verify([ours], [SEED], existing=NEO, expects=[SUDO, f"{SUDO} key=priv_esc", f"{SUDO} key=t-sudo"])
    priv = f"{NEO}:{_line_of(NEO, '-w /usr/bin/sudo -p x -k priv_esc')}"
    wins = _wins(res)
    assert wins[priv] == ("priv_esc", 1)
    w = next(w for w in res.existing.wins.values() if w.where == priv)
    assert w.action == "always" and w.logged == 1
    assert [(e["line"], e["syscall"], e["exe"]) for e in w.examples] == [(274, "execve", "/usr/bin/sudo")]
    # per-rule results are ours only (numbered 1, 2 as in our file), and ours no longer win the sudo exec
    assert [r.number for r in res.rules] == [1, 2]
    assert res.rules[0].hits == 0 and res.rules[0].key == "t-sudo"
    sudo, sudo_priv, sudo_ours = res.expectations
    assert sudo.ok and sudo.by_rule == {} and sudo.by_existing == {priv: 1}
    assert sudo_priv.ok and sudo_priv.by_existing == {priv: 1}
    assert not sudo_ours.ok
    assert "priv_esc" in sudo_ours.misses[0]["why"] and priv in sudo_ours.misses[0]["why"]
    assert any("loaded after audit.rules" in n for n in res.notes)
    assert any("would be refused by auditctl" in n for n in res.notes)    # ex.notes passed on
    assert res.existing.before == len(res.existing._ex.before) and res.existing.rules > 300
    # assumptions about existing rules name them by file:line, never by a combined index
    assert any(a.startswith(f"existing {NEO}:") for a in res.assumptions)
    d = res.to_dict()
    assert d["schema_version"] == 1
    got = {x["where"]: x for x in d["existing"]["already_logged"]}
    assert got[priv]["key"] == "priv_esc" and got[priv]["events"] == 1
    assert d["expectations"][0]["caught_by_existing"] == {priv: 1}


def _rules_d(tmp_path, before: str, after: str, same: str | None = None):
    d = tmp_path / "rules.d"
    d.mkdir()
    (d / "10-before.rules").write_text(before)
    (d / "90-after.rules").write_text(after)
    if same is not None:
        (d / "50-mine.rules").write_text(same)
    (d / "README").write_text("-a always,exit -F arch=b64 -S execve -k notarulesfile\n")   # not *.rules
    return d


BEFORE = "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo -k early\n"
AFTER = ("-a always,exit -F arch=b64 -S execve -F exe=/usr/local/bin/docker -k late\n"
         "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/setpriv -k late-setpriv\n")


def test_rules_d_order_before_and_after_our_file(ours, tmp_path):
    d = _rules_d(tmp_path, BEFORE, AFTER)
    res = verify([ours], [SEED], existing=d, expects=[SUDO, DOCKER, "execve exe=/usr/bin/setpriv"])
    ex = res.existing
    assert "50-mine.rules loads after 10-before.rules and before 90-after.rules" in ex.position
    wins = _wins(res)
    assert wins[f"{d}/10-before.rules:1"] == ("early", 1)          # sorts before ours: takes sudo
    assert f"{d}/90-after.rules:1" not in wins                     # sorts after ours: docker is ours
    assert wins[f"{d}/90-after.rules:2"][0] == "late-setpriv"      # what ours do not catch
    assert not any("notarulesfile" in (k or "") for k, _ in wins.values())
    assert [(r.number, r.hits) for r in res.rules] == [(1, 0), (2, 1)]
    sudo, docker, setpriv = res.expectations
    assert sudo.by_existing == {f"{d}/10-before.rules:1": 1} and docker.by_rule == {2: 1}
    assert setpriv.ok and set(setpriv.by_existing) == {f"{d}/90-after.rules:2"}


def test_rules_name_moves_our_file_in_the_order(ours, tmp_path):
    d = _rules_d(tmp_path, BEFORE, AFTER)
    res = verify([ours], [SEED], existing=d, rules_name="95-mine.rules", expects=[DOCKER])
    assert "95-mine.rules loads after 10-before.rules, 90-after.rules and before nothing" in res.existing.position
    assert _wins(res)[f"{d}/90-after.rules:1"] == ("late", 1)
    assert [r.hits for r in res.rules] == [0, 0]
    assert res.expectations[0].by_existing == {f"{d}/90-after.rules:1": 1}


def test_file_of_our_name_in_rules_d_is_replaced_not_merged(ours, tmp_path):
    d = _rules_d(tmp_path, "", "", same="-a always,exit -F arch=b64 -S execve -k oldversion\n")
    res = verify([ours], [SEED], existing=d, expects=[SUDO])
    assert not any(k == "oldversion" for k, _ in _wins(res).values())
    assert res.rules[0].hits == 1
    assert any("replaced, not merged" in n for n in res.notes)


def test_existing_never_rule_suppresses_and_the_miss_says_where(ours, tmp_path):
    ex = tmp_path / "host.rules"
    ex.write_text("-a never,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo\n")
    res = verify([ours], [SEED], existing=ex, expects=[SUDO])
    e = res.expectations[0]
    assert not e.ok and int(res.exit_code) == 1
    assert "suppressed by the existing never rule" in e.misses[0]["why"] and f"{ex}:1" in e.misses[0]["why"]
    w = next(iter(res.existing.wins.values()))
    assert (w.where, w.action, w.events, w.logged) == (f"{ex}:1", "never", 1, 0)


def test_baseline_counts_existing_rules_separately(ours, tmp_path):
    ex = tmp_path / "host.rules"
    ex.write_text("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo -k early\n"
                  "-a always,exit -F arch=b64 -S openat -F auid>=1000 -F auid!=unset -k opens\n")
    plain = verify([ours], [], baselines=[SEED])
    res = verify([ours], [], baselines=[SEED], existing=ex)
    b0, b = plain.baselines[0], res.baselines[0]
    assert b0.existing_logged is None and b0.logged >= 2 and b0.by_rule == {1: 1, 2: 1}
    assert b.by_rule == {2: 1}                         # the sudo exec is the existing rule's now
    assert b.logged == b0.logged - 1
    assert b.existing_logged > 1                       # the sudo exec and the opens
    assert res.to_dict()["baselines"][0]["events_logged_by_existing"] == b.existing_logged


def test_missing_existing_is_an_input_error(ours, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        verify([ours], [SEED], existing=tmp_path / "nope")


def test_existing_live_reads_the_kernel_list_or_says_why_not(ours):
    usable = os.geteuid() == 0 and shutil.which("auditctl") is not None and \
        subprocess.run(["auditctl", "-l"], capture_output=True).returncode == 0
    if not usable:
        with pytest.raises(EnvironmentProblem):
            verify([ours], [SEED], existing="live")
        return
    res = verify([ours], [SEED], existing="live", expects=[SUDO])
    assert res.existing.source == "live (auditctl -l)"
    assert "appended after the rules loaded in the kernel now" in res.existing.position
    assert [r.number for r in res.rules] == [1, 2]


# ---- the CLI ---------------------------------------------------------------------------------
def test_cli_text_reports_already_logged_under_key(ours, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    rc = main(["verify", str(ours), str(SEED), "--existing", str(NEO), "--expect", SUDO])
    out = capsys.readouterr().out
    priv = f"{NEO}:{_line_of(NEO, '-w /usr/bin/sudo -p x -k priv_esc')}"
    assert rc == 0
    assert f"1 event(s) already logged by {priv} under key priv_esc" in out
    assert f"CAUGHT {SUDO!r}: 1/1 event(s) (by existing {priv})" in out
    assert "#1 " in out and "0 event(s) decided" in out
    assert "note: existing rules from" in out and "loaded after audit.rules" in out
    assert "about existing rules that no event depended on" in out


def test_cli_json_and_rules_name(ours, tmp_path, capsys):
    d = _rules_d(tmp_path, BEFORE, AFTER)
    rc = main(["verify", str(ours), str(SEED), "--existing", str(d), "--rules-name", "95-x.rules", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["schema_version"] == 1
    assert "95-x.rules loads after" in data["existing"]["position"]
    assert {x["key"] for x in data["existing"]["already_logged"]} == {"early", "late", "late-setpriv"}


@pytest.mark.parametrize("args,msg", [
    (["--existing", "live", "--kernel"], "not used with --kernel"),
    (["--rules-name", "x.rules", "--kernel"], "not used with --kernel"),
    (["--rules-name", "x.rules"], "--rules-name needs --existing"),
    (["--existing", "live", "--rules-name", "../x.rules"], "takes a file name"),
])
def test_cli_usage_errors(ours, args, msg, capsys):
    rc = main(["verify", str(ours), str(SEED), *args])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err
