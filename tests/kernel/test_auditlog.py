"""Parsing audit records (log lines and netlink payloads) into events: no kernel needed."""
from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import DATA
from tracerule.audit.auditlog import (AuditEvent, EventCollector, LogTail, group_events, iter_events,
                                      netlink_line, parse_fields, parse_line, parse_netlink_payload,
                                      split_keys, type_name, type_number)
from tracerule.audit.netlink import parse_messages

KDATA = DATA / "kernel"
K1 = "trr755f70bcd6-0001-a"
K2 = "trr755f70bcd6-0002-b"


def _events(name: str) -> list[AuditEvent]:
    # never str.splitlines() on audit logs: it also splits at \x1d, the ENRICHED separator
    lines = (KDATA / name).read_text(encoding="utf-8", errors="surrogateescape").split("\n")
    return group_events(r for r in map(parse_line, lines) if r is not None)


def test_real_enriched_log_groups_and_decodes():
    evs = _events("auditd-enriched.log")
    by = {e.serial: e for e in evs}
    ex = by[99]
    assert ex.types == ("SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE")
    assert ex.keys == (K1, K2) and ex.key == K1
    assert ex.syscall == 59 and ex.syscall_name == "execve" and ex.arch_name == "x86_64"
    assert ex.success is True and ex.exit == 0
    assert (ex.auid, ex.uid, ex.euid, ex.gid, ex.ses, ex.ppid, ex.pid) == (1000, 65534, 65534, 65534, 3, 19268, 19283)
    assert ex.argv == ("/usr/bin/echo", "hello world", "tab\there")
    assert ex.comm == "echo" and ex.exe == "/usr/bin/echo" and ex.cwd == "/tmp"
    assert ex.path_names == ("/usr/bin/echo", "/lib64/ld-linux-x86-64.so.2")
    assert ex.proctitle == ("/work/venv/bin/python", "-")
    assert ex.items == 2 and ex.a[0] == 0x7F38FF54C940
    # the loginuid write: LOGIN + a forced SYSCALL without key
    login = by[98]
    assert login.types[0] == "LOGIN" and login.keys == () and login.key is None
    assert login.record("LOGIN")["auid"] == "1000" and login.record("LOGIN")["old-auid"] == "4294967295"
    # CONFIG_CHANGE of the rule: the keys are only in all_keys
    cc = by[97]
    assert cc.keys == () and cc.all_keys == (K1, K2)
    assert cc.record("CONFIG_CHANGE")["op"] == "add_rule"
    # the sync marker (single-quoted msg whose inner fields do not clobber the outer ones)
    user = by[100].record("USER")
    assert user["msg"] == "tracerule-sync 755f70bcd6.1" and user["pid"] == "19268"


def test_splitlines_pitfall_is_avoided():
    text = (KDATA / "auditd-enriched.log").read_text()
    assert len(text.splitlines()) > len(text.split("\n")) - 1   # \x1d is a line boundary for splitlines
    evs = group_events(r for r in map(parse_line, text.split("\n")) if r is not None)
    assert sum(len(e.lines) for e in evs) == text.count("\n")


def test_enriched_tail_is_split_off():
    line = next(ln for ln in (KDATA / "auditd-enriched.log").read_text().split("\n") if "SADDR=" in ln)
    r = parse_line(line)
    assert r.type == "SOCKADDR" and r.fields["saddr"] == "100000000000000000000000"
    assert r.enriched["SADDR"].startswith("{")
    assert "\x1d" not in r.text and "SADDR" not in r.fields


def test_synthetic_edge_cases():
    evs = _events("synthetic.log")
    by = {e.serial: e for e in evs}
    assert [e.serial for e in evs] == [500, 501, 502, 503]
    e = by[500]
    assert e.types == ("SYSCALL", "CWD", "PATH", "EXECVE")   # interleaved lines regrouped
    assert e.arch_name == "i386" and e.syscall_name == "execve" and e.exit == -13 and e.success is False
    assert e.comm == "my comm" and e.cwd == "/tmp/with space" and e.key == "k-one"
    assert e.argv == ("x", "abcdef", "")
    assert by[501].success is None and by[501].exit is None and by[501].keys == ()
    cc = by[502].record("CONFIG_CHANGE")
    assert cc["ses"] == "4294967295" and cc["op"] == "remove_rule" and cc["path"] == "/srv/lab/w2/gone/file"
    assert by[502].all_keys == ("C6gone",)
    avc = by[503].record("AVC")
    assert avc["pid"] == "5" and avc["tclass"] == "file"
    assert parse_line("not an audit line at all") is None


@pytest.mark.parametrize("text, expect", [
    ('a=1 b="two words" c=(null)', {"a": "1", "b": "two words", "c": "(null)"}),
    ("msg='op=x acct=\"root\" res=success'", {"msg": 'op=x acct="root" res=success', "op": "x",
                                              "acct": "root", "res": "success"}),
    ("comm=6869 a5=6869 saddr=6869", {"comm": "hi", "a5": "hi", "saddr": "6869"}),
    ("name=6869G", {"name": "6869G"}),       # not hex: kept
    ("name=686", {"name": "686"}),           # odd length: kept
    ("key=7472720161", {"key": "trr\x01a"}),
    ("x=1 x=2", {"x": "1"}),
    ("  lead=1   trail=2  ", {"lead": "1", "trail": "2"}),
    ('unterminated="abc', {"unterminated": "abc"}),
    ("word other=3", {"other": "3"}),
    ("ses=12op=add_rule", {"ses": "12", "op": "add_rule"}),
])
def test_parse_fields(text, expect):
    assert parse_fields(text) == expect


@pytest.mark.parametrize("value, keys", [
    (None, ()), ("(null)", ()), ("", ()), ("a", ("a",)), ("a\x01b", ("a", "b")), ("a\x01", ("a",)),
])
def test_split_keys(value, keys):
    assert split_keys(value) == keys


def test_type_names_round_trip():
    assert type_name(1300) == "SYSCALL" and type_number("SYSCALL") == 1300
    assert type_name(1999) == "UNKNOWN[1999]" and type_number("UNKNOWN[1999]") == 1999
    assert type_number("NOPE") is None


def test_netlink_payload_and_messages():
    payload = b'audit(1796017338.592:3): arch=c000003e syscall=59 success=yes exit=0 key="k"\0'
    r = parse_netlink_payload(1300, payload)
    assert (r.type, r.serial, r.time, r.fields["key"]) == ("SYSCALL", 3, "1796017338.592", "k")
    assert netlink_line(1300, payload).startswith("type=SYSCALL msg=audit(1796017338.592:3): arch=")
    assert parse_line(netlink_line(1300, payload)).fields == r.fields
    assert parse_netlink_payload(1300, b"garbage") is None

    def msg(t, body):
        return struct.pack("=IHHII", 16 + len(body), t, 0, 1, 0) + body + b"\0" * (-len(body) % 4)
    buf = msg(1300, b"abc") + msg(1320, b"audit(1.2:3): ")
    assert list(parse_messages(buf)) == [(1300, b"abc"), (1320, b"audit(1.2:3): ")]
    # a truncated or malformed header ends the datagram
    assert list(parse_messages(msg(1300, b"abc")[:10])) == []
    assert list(parse_messages(struct.pack("=IHHII", 8, 1300, 0, 0, 0) + b"xx")) == []


def test_iter_events_streams_with_eoe_and_window():
    lines = []
    for s in range(1, 6):
        lines.append(f"type=SYSCALL msg=audit(1.0:{s}): syscall=39 key=\"k{s}\"")
        lines.append(f"type=PROCTITLE msg=audit(1.0:{s}): proctitle=6869")
        if s % 2:
            lines.append(f"type=EOE msg=audit(1.0:{s}): ")
    evs = list(iter_events(lines, window=1))
    assert sorted(e.serial for e in evs) == [1, 2, 3, 4, 5]
    assert all(e.types == ("SYSCALL", "PROCTITLE") for e in evs)


def test_collector_keeps_only_the_runs_events_with_their_earlier_records():
    c = EventCollector("0123456789", window=3)
    c.feed('type=LOGIN msg=audit(1.0:7): pid=1 auid=5')
    c.feed('type=SYSCALL msg=audit(1.0:7): syscall=1 key="trr0123456789-0001"')
    c.feed('type=PROCTITLE msg=audit(1.0:7): proctitle=6869')
    c.feed('type=SYSCALL msg=audit(1.0:8): syscall=1 key="other"')
    c.feed('type=SYSCALL msg=audit(1.0:9): syscall=1 key=' + "trr0123456789-0002\x01zz".encode().hex().upper())
    c.feed("type=USER msg=audit(1.0:10): pid=1 msg='tracerule-sync 0123456789.4'")
    for s in range(11, 20):
        c.feed(f'type=SYSCALL msg=audit(1.0:{s}): syscall=1 key="x"')
    evs = c.events()
    assert [e.serial for e in evs] == [7, 9]
    assert evs[0].types == ("LOGIN", "SYSCALL", "PROCTITLE")
    assert evs[1].keys == ("trr0123456789-0002", "zz")
    assert c.seen_marker("0123456789.4") and not c.seen_marker("0123456789.40")
    assert c.dropped_lines > 0


def test_logtail_reads_appends_partial_lines_and_rotation(tmp_path):
    log = tmp_path / "audit.log"
    log.write_text("old line\n")
    t = LogTail(str(log))
    assert t.read() == []
    with open(log, "a") as fh:
        fh.write("one\ntw")
    assert t.read() == ["one"]
    with open(log, "a") as fh:
        fh.write("o\nthree\n")
    assert t.read() == ["two", "three"]
    with open(log, "a") as fh:
        fh.write("four\n")
    os.rename(log, str(log) + ".1")
    log.write_text("five\n")
    assert t.read() == ["four", "five"]
    assert LogTail(str(tmp_path / "missing")).read() == []


_text = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(_text, min_size=1, max_size=5), _text)
def test_hex_encoded_untrusted_values_round_trip(args, key):
    """What audit_log_untrustedstring writes decodes back to the original bytes."""
    def enc(s: str) -> str:
        b = s.encode()
        if any(c == 0x22 or c < 0x21 or c > 0x7E for c in b) or not b:
            return b.hex().upper() if b else '""'
        return f'"{s}"'
    body = f"argc={len(args)} " + " ".join(f"a{i}={enc(a)}" for i, a in enumerate(args))
    ev = group_events([parse_line(f"type=EXECVE msg=audit(1.0:1): {body}"),
                       parse_line(f"type=SYSCALL msg=audit(1.0:1): syscall=59 key={enc(key)}")])[0]
    assert ev.argv == tuple(args)
    assert ev.keys == split_keys(key)
