"""The metadata sidecar: schema, validation errors with file:line, round trip, describing files."""
from __future__ import annotations

import os
import stat
import sys

import pytest

from tests.conftest import SAMPLES
from tracerule.errors import InputError
from tracerule.sidecar import (
    ExecFile, Recorder, Sidecar, describe_file, find_sidecar, parse_sidecar, read_sidecar,
    sidecar_path, write_sidecar,
)


def test_seed_sidecar_is_valid_and_names_sudo_setuid():
    p = find_sidecar(SAMPLES / "sudo_docker_alice_tt_T_yy.txt")
    assert p is not None
    sc = read_sidecar(p)
    assert sc.schema_version == 1 and sc.recorder.uid == 0 and sc.recorder_root
    sudo = sc.file("/usr/bin/sudo")
    assert sudo.setuid and sudo.uid == 0 and sudo.elf_class == 64 and sudo.arch == "b64"
    assert sc.file("/usr/bin/sh").setuid is False
    assert sc.file("/usr/bin/dash") is sc.file("/usr/bin/sh")   # by realpath


def test_round_trip(tmp_path):
    sc = Sidecar(trace="t.txt", recorder=Recorder(uid=1000, gid=1000, groups=(1000, 27), auid=1000),
                 files=(ExecFile("/usr/bin/passwd", realpath="/usr/bin/passwd", uid=0, gid=0,
                                 mode=0o104755, dev=1, ino=2, elf_class=64, capabilities="0100"),),
                 uid_min=1000, cwd="/home/a")
    p = write_sidecar(sc, tmp_path / "t.txt.tracerule.json")
    back = read_sidecar(p)
    assert back.recorder == sc.recorder and back.files == sc.files and back.uid_min == 1000
    assert back.recorder_root is False


def test_paths():
    assert str(sidecar_path("a/b.txt")) == "a/b.txt.tracerule.json"
    assert str(sidecar_path("a/ffdir/")) == "a/ffdir.tracerule.json"


@pytest.mark.parametrize("text,line,words", [
    ('{\n "schema_version": 1,\n "recorder": {\n  "uid": "root"\n }\n}\n', 4, "expected an integer"),
    ('{\n "schema_version": 1,\n "files": [\n  {"path": "/a"},\n  {"path": "/b", "mode": "9999"}\n ]\n}\n', 5, "mode"),
    ('{\n "schema_version": 1,\n "files": [\n  {"mode": "755"}\n ]\n}\n', 4, "path"),
    ('{\n "schema_version": 99\n}\n', 2, "newer"),
    ('{\n "schema_version": 1,\n "files": [\n  {"path": "/a", "mode": "104755", "setuid": false}\n ]\n}\n', 4, "disagrees"),
    ('{\n "schema_version": 1,\n "recorder": {"uid": -3}\n}\n', 3, "negative"),
    ('{\n "schema_version": 1,\n "cwd": 5\n}\n', 3, "string"),
    ('{\n "schema_version": 1\n "x": 2}\n', 3, "JSON"),
    ('[1, 2]', 1, "object"),
    ('{\n "schema_version": 1,\n "files": [\n  {"path": "sudo",\n   "realpath": "relative/sudo"}\n ]\n}\n', 5,
     "absolute path"),
    ('{\n "schema_version": 1,\n "files": [\n  {"path": "/a", "interpreter": "ld.so"}\n ]\n}\n', 4,
     "absolute path"),
    ('{\n "schema_version": 1,\n "cwd": "home/u"\n}\n', 3, "absolute path"),
    ('{\n "schema_version": 1,\n "uid_min": 99999999999999999999\n}\n', 3, "between 0 and 4294967295"),
    ('{\n "schema_version": 1,\n "target_uid": 4294967296\n}\n', 3, "between 0 and 4294967295"),
    ('{\n "schema_version": 1,\n "files": [\n  {"path": "/a", "uid": 4294967296}\n ]\n}\n', 4,
     "between 0 and 4294967295"),
    ('{\n "schema_version": 1,\n "files": [\n  {"path": "/a", "ino": 18446744073709551616}\n ]\n}\n', 4,
     "between 0 and 18446744073709551615"),
])
def test_validation_errors_name_the_line(text, line, words):
    with pytest.raises(InputError) as ei:
        parse_sidecar(text, "s.json")
    msg = str(ei.value)
    assert msg.startswith(f"s.json:{line}"), msg
    assert words in msg


def test_describe_elf_and_script(tmp_path):
    f = describe_file(os.path.realpath(sys.executable))
    assert f.exists and f.elf_class in (32, 64) and f.mode is not None and f.ino
    s = tmp_path / "s.sh"
    s.write_text("#!/bin/sh -e\necho hi\n")
    s.chmod(0o4755)
    d = describe_file(str(s))
    assert d.shebang and d.interpreter == "/bin/sh" and d.elf_class is None
    assert d.setuid and stat.S_ISREG(d.mode)
    rel = tmp_path / "r.sh"
    rel.write_text("#!bash\necho hi\n")
    assert describe_file(str(rel)).interpreter is None   # not absolute: unknown, never invalid
    missing = describe_file(str(tmp_path / "nope"))
    assert missing.exists is False and missing.mode is None and missing.setuid is None


def test_tracer_block_decides_whether_setuid_was_honoured(tmp_path):
    """record -u USER: the command starts as USER (recorder) while strace ran as root (tracer)."""
    from tracerule.sidecar import Recorder, Sidecar, read_sidecar, write_sidecar

    sc = Sidecar(recorder=Recorder(uid=1001, euid=1001, gid=1001, egid=1001, auid=1001),
                 tracer=Recorder(uid=0, euid=0, gid=0, egid=0))
    assert sc.recorder_root is True
    back = read_sidecar(write_sidecar(sc, tmp_path / "t.tracerule.json"))
    assert back.tracer == sc.tracer and back.recorder == sc.recorder
    assert back.recorder_root is True
    # without a tracer block the recorder ran strace itself
    assert Sidecar(recorder=Recorder(uid=1001, euid=1001)).recorder_root is False


def test_tracer_block_is_validated():
    import pytest as _pytest

    from tracerule.errors import InputError
    from tracerule.sidecar import parse_sidecar

    with _pytest.raises(InputError) as exc:
        parse_sidecar('{"schema_version": 1,\n "tracer": {"uid": -1}}', "x.json")
    assert "x.json:2" in str(exc.value)
