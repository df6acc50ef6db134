"""The JSON question/answer protocol (one object per line each way, schema_version 1)."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.review.helpers import SAMPLE, first, session


def converse(rs, requests: list) -> tuple[list[dict], int]:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in requests]
    from tracerule.review.protocol import serve

    out = io.StringIO()
    rc = serve(rs, io.StringIO("\n".join(lines) + "\n"), out)
    return [json.loads(x) for x in out.getvalue().splitlines()], rc


def req(cmd, **kw):
    return {"schema_version": 1, "id": kw.pop("id", cmd), "cmd": cmd, **kw}


def test_hello_and_question():
    rs = session()
    replies, rc = converse(rs, [])
    hello = replies[0]
    assert hello["schema_version"] == 1 and hello["type"] == "hello"
    assert "widen" in hello["commands"] and hello["question"]["target"] == rs.ids[0]
    q = hello["question"]
    assert q["default"] == "accept" and "accept" in q["options"]
    assert q["proposal"]["instances"] and q["proposal"]["rules"]
    assert rc == 0


def test_widen_needs_confirm_then_result():
    rs = session()
    pid = first(rs, "module")
    reqs = [req("widen", target=pid, id=i) for i in range(len(rs.view(pid).levels))]
    replies, _ = converse(rs, reqs)
    kinds = [r["type"] for r in replies[1:]]
    assert "confirm" in kinds
    c = replies[1 + kinds.index("confirm")]
    assert c["ok"] is False and c["code"] == "danger" and c["dangers"][0]["code"] == "auid-dropped"
    level = rs.view(pid).level
    replies, _ = converse(rs, [req("widen", target=pid, confirm=True)])
    assert replies[1]["type"] == "result" and replies[1]["changed"] == [pid]
    assert rs.view(pid).level != level


def test_errors_are_replies_not_crashes():
    rs = session()
    pid = first(rs, "net")
    replies, _ = converse(rs, [
        "{not json", "[1,2]", {"cmd": "state", "id": 1},
        req("frobnicate"), req("accept"), req("set_field", target=pid),
        req("set_field", target=pid, value="auid>=nosuchuser"),
        req("accept", target="t999"),
        req("undo"),
    ])
    r = replies[1:]
    assert [x["type"] for x in r] == ["error"] * 9
    assert [x["code"] for x in r] == ["bad-json", "bad-request", "schema", "unknown-command", "bad-request",
                                      "bad-request", "refused", "refused", "refused"]
    assert "nosuchuser" in r[6]["message"]
    assert all(x["schema_version"] == 1 for x in r)
    assert not rs.dirty


def test_decisions_save_and_quit(tmp_path):
    rs = session()
    out = tmp_path / "r.rules"
    pid = rs.ids[0]
    replies, rc = converse(rs, [
        req("accept", target=pid, confirm=True), req("quit"),
        req("diff", path=str(out)), req("save", path=str(out)),
        req("undo"), req("quit"), req("quit", discard=True), req("state"),
    ])
    acc, q1, diff, save, undo, q2, bye = replies[1:8]
    assert acc["type"] == "result" and acc["counts"]["accepted"] == 1 and acc["dirty"] is True
    assert q1["type"] == "confirm" and q1["code"] == "unsaved"
    assert "+-a always,exit" in diff["diff"]
    assert save["path"] == str(out) and save["dirty"] is False
    assert "\n-a always,exit" in out.read_text() and f"[{pid}]" in out.read_text()
    assert undo["type"] == "result"
    assert q2["type"] == "confirm"
    assert bye["type"] == "bye" and bye["saved"] is False
    assert len(replies) == 8          # nothing is read after quit
    assert rc == 0


def test_end_of_input_with_unsaved_decisions_exits_1():
    rs = session()
    _, rc = converse(rs, [req("accept", target=rs.ids[0], confirm=True)])
    assert rc == 1


def test_cli_protocol(tmp_path):
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    lines = [json.dumps(req("next")), json.dumps(req("quit"))]
    res = subprocess.run([sys.executable, "-m", "tracerule", "review", "--protocol", "--auditctl-version", "3.0.9",
                          "-o", str(tmp_path / "x.rules"), str(SAMPLE)], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    out = [json.loads(x) for x in res.stdout.splitlines()]
    assert [o["type"] for o in out] == ["hello", "result", "bye"]
    assert out[1]["question"]["proposal"]["category"] == "priv"
    assert "Traceback" not in res.stderr


def test_cli_missing_trace_is_exit_3(tmp_path):
    res = subprocess.run([sys.executable, "-m", "tracerule", "review", "--protocol", str(tmp_path / "nope")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 3 and "Traceback" not in res.stderr


def _state_rules(args: list[str], trace) -> tuple[list[str], int, str]:
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    lines = [json.dumps(req("state")), json.dumps(req("quit", discard=True))]
    res = subprocess.run([sys.executable, "-m", "tracerule", "review", "--protocol", "--auditctl-version", "3.0.9",
                          *args, str(trace)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=180)
    rules = []
    for x in res.stdout.splitlines():
        o = json.loads(x)
        if o.get("type") == "result" and o.get("state"):
            rules = [r for p in o["state"]["proposals"] for r in p["rules"]]
    return rules, res.returncode, res.stderr


def test_cli_auid_states_what_a_trace_without_sidecar_cannot(tmp_path):
    """Without a sidecar the auid is unknown and no rule filters on it; --auid states it (as for
    suggest), and the rules then keep to logged-in users."""
    import shutil

    trace = tmp_path / SAMPLE.name
    shutil.copy(SAMPLE, trace)                      # the trace alone, without its sidecar
    plain, rc, err = _state_rules([], trace)
    assert rc == 0, err
    assert plain and not any("auid" in r for r in plain)
    stated, rc, err = _state_rules(["--auid", "1000", "--uid", "0"], trace)
    assert rc == 0, err
    assert sum("auid>=1000" in r for r in stated) >= 3
    bad, rc, err = _state_rules(["--auid", "4294967296"], trace)
    assert rc == 2 and "--auid must be between 0 and 4294967295" in err and "Traceback" not in err
