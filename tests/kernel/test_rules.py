"""Loading, listing and deleting rules through the harness, and the argv refusals."""
from __future__ import annotations

import subprocess

import pytest

from tracerule.audit.kernel import (KernelAudit, RuleRefused, keys_of_listed, listed_lines,
                                    validate_rule_argv)

RUN = ("trr0123456789-0001", "trr0123456789-0002-x")


@pytest.mark.parametrize("argv, why", [
    (["-A", "always,exit", "-S", "execve", "-k", RUN[0]], "-A"),
    (["-D"], "-D"),
    (["-D", "-k", RUN[0]], "-D"),
    (["-e", "2"], "-e"),
    (["-f", "2"], "-f"),
    (["--loginuid-immutable"], "loginuid"),
    (["-a", "always,exit", "-S", "execve"], "no key"),
    (["-a", "always,exit", "-S", "execve", "-k", "foreign"], "not keys of this run"),
    (["-a", "always,exit", "-S", "execve", "-k", RUN[0], "-k", "foreign"], "not keys of this run"),
    (["-a", "always,task", "-F", "uid=0", "-k", RUN[0]], "task"),
    (["-a", "task,never", "-F", "uid=0", "-k", RUN[0]], "task"),
    (["-aalways,exit", "-S", "execve", "-k", RUN[0]], "pairs|not allowed"),
    (["-a", "always,exit", "-S"], "pairs"),
    (["-a", "always", "-S", "execve", "-k", RUN[0]], "ACTION,LIST"),
    (["-w", "tmp/x", "-k", RUN[0]], "absolute"),
    (["-a", "always,exit", "-w", "/tmp/x", "-k", RUN[0]], "twice"),
    (["-S", "execve", "-a", "always,exit", "-k", RUN[0]], "start with"),
    (["-a", "always,exit", "-S", "execve", "-k", RUN[0], "-l", "x"], "not allowed"),
    (["-a", "always,exit", "-F", "key=a\nb"], "control"),
    ("-a always,exit -k " + RUN[0], "list"),
])
def test_refused_argv(argv, why):
    with pytest.raises(ValueError, match=why):
        validate_rule_argv(argv, RUN)


@pytest.mark.parametrize("argv, keys", [
    (["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-k", RUN[0]], (RUN[0],)),
    (["-a", "exit,always", "-S", "open", "-F", f"key={RUN[0]}", "-k", RUN[1]], RUN),
    (["-w", "/etc/passwd", "-p", "wa", "-k", RUN[1]], (RUN[1],)),
    (["-a", "never,exit", "-F", "exit=-EACCES", "-k", RUN[0]], (RUN[0],)),
])
def test_accepted_argv(argv, keys):
    assert validate_rule_argv(argv, RUN) == keys


def test_task_rule_allowed_when_asked():
    assert validate_rule_argv(["-a", "never,task", "-F", "uid=4242", "-k", RUN[0]], RUN,
                              allow_task=True) == (RUN[0],)


@pytest.mark.parametrize("line, keys", [
    ("-a always,exit -F arch=b64 -S execve -F key=k1", ("k1",)),
    ("-w /etc/passwd -p wa -k k2", ("k2",)),
    ("-a always,exit -S open -F key=a -F key=b", ("a", "b")),
    ("-a always,exit -S open", ()),
    ("-w /tmp/-k x/y -p r", ()),
])
def test_keys_of_listed(line, keys):
    assert keys_of_listed(line) == keys


@pytest.mark.kernel
def test_keys_are_unique_and_never_substrings():
    with KernelAudit.session() as k:
        keys = [k.new_key(t) for t in ("", "a", "ab", "", "x.y", "with space", "trr") * 3]
        other = KernelAudit(directory=k._dir)
        keys2 = [other.new_key(t) for t in ("", "a")]
    allk = keys + keys2
    assert len(set(allk)) == len(allk)
    for a in allk:
        assert len(a) <= 256
        for b in allk:
            if a != b:
                assert a not in b, (a, b)


@pytest.mark.kernel
def test_add_list_delete_roundtrip(tmp_path):
    with KernelAudit.session() as k:
        key = k.new_key("exec")
        wkey = k.new_key("watch")
        r1 = k.add_rule(["-a", "exit,always", "-F", "arch=b64", "-S", "openat,execve", "-k", key])
        # watch on a file in a dir we own; deleted before the dir (see kernel.py docs)
        (tmp_path / "f").write_text("x")
        r2 = k.add_rule(["-w", str(tmp_path / "f"), "-p", "wa", "-k", wkey])
        assert r1.listed == f"-a always,exit -F arch=b64 -S execve,openat -F key={key}"
        assert r2.listed == f"-w {tmp_path / 'f'} -p wa -k {wkey}"
        assert k.listed() == [r1.listed, r2.listed]
        assert r1.listed in listed_lines()
        k.delete_rule(r2)
        assert k.listed() == [r1.listed]
        k.delete_rule(r1)
        assert k.listed() == []
        with pytest.raises(ValueError):
            k.delete_rule(r1)


@pytest.mark.kernel
def test_refused_by_auditctl_is_rule_refused():
    with KernelAudit.session() as k:
        key = k.new_key()
        with pytest.raises(RuleRefused, match="nosuchcall"):
            k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "nosuchcall", "-k", key])
        with pytest.raises(RuleRefused):
            k.add_rule(["-a", "always,exit", "-F", "uid=unset", "-S", "getpid", "-k", key])
        # a refused rule leaves no journal entry
        assert k._journal.data["rules"] == []
        k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-k", key])
        with pytest.raises(RuleRefused, match="exists"):
            k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-k", key])
        assert len(k._journal.data["rules"]) == 1


@pytest.mark.kernel
def test_session_exit_deletes_rules_and_keeps_foreign_rules_in_order(tmp_path):
    import secrets
    fk = "trforeign" + secrets.token_hex(4)
    foreign = [
        ["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"key={fk}a"],
        ["-w", str(tmp_path), "-p", "x", "-k", f"{fk}b"],
        ["-a", "never,exit", "-F", "arch=b32", "-S", "getpid", "-F", f"key={fk}c"],
    ]
    for f in foreign:
        subprocess.run(["auditctl", *f], check=True, capture_output=True)
    try:
        before = listed_lines()
        foreign_lines = [ln for ln in before if fk in ln]
        assert len(foreign_lines) == 3
        with KernelAudit.session() as k:
            for i in range(3):
                key = k.new_key(str(i))
                k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getuid", "-F", f"uid={1000 + i}",
                            "-k", key])
            k.add_rule(["-w", str(tmp_path), "-p", "wa", "-k", k.new_key("w")])
            now = listed_lines()
            # appended after whatever was loaded
            assert now[:len(before)] == before
            assert len(k.listed()) == 4
            raise_it = ValueError("boom")
            with pytest.raises(ValueError):
                with contextlib_raise(raise_it):
                    pass
        after = listed_lines()
        assert after == before
        assert [ln for ln in after if fk in ln] == foreign_lines
    finally:
        subprocess.run(["auditctl", "-d", *foreign[2][1:]], capture_output=True)
        subprocess.run(["auditctl", "-W", *foreign[1][1:]], capture_output=True)
        subprocess.run(["auditctl", "-d", *foreign[0][1:]], capture_output=True)
    assert not [ln for ln in listed_lines() if fk in ln]


class contextlib_raise:
    def __init__(self, exc):
        self.exc = exc

    def __enter__(self):
        raise self.exc

    def __exit__(self, *a):
        return False


@pytest.mark.kernel
def test_exception_in_session_cleans_up():
    with pytest.raises(RuntimeError, match="inside"):
        with KernelAudit.session() as k:
            k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-k", k.new_key()])
            assert len(k.listed()) == 1
            raise RuntimeError("inside")
    assert not [ln for ln in listed_lines() if f"trr{k.run_id}-" in ln]
    assert not k._journal.path.exists()


@pytest.mark.kernel
def test_tempdir_deletes_its_watches_before_the_directory():
    with KernelAudit.session() as k:
        keep = k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-k", k.new_key()])
        with k.tempdir() as d:
            (d / "f").write_text("x")
            k.add_rule(["-w", str(d / "f"), "-p", "w", "-k", k.new_key("w")])
            k.add_rule(["-w", str(d), "-p", "wa", "-k", k.new_key("dir")])
            k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"exe={d}/f",
                        "-k", k.new_key("exe")])
            assert len(k.listed()) == 4
        assert not d.exists()
        assert k.listed() == [keep.listed]
        assert k.rules == (keep,)


@pytest.mark.kernel
def test_warning_of_a_loaded_rule_is_kept():
    with KernelAudit.session() as k:
        r = k.add_rule(["-a", "always,exit", "-S", "getpid", "-k", k.new_key("noarch")])
        assert "arch" in r.warning.lower()
        assert r.listed.startswith("-a always,exit -S getpid")
