"""Inline traces with a sidecar, for suggest tests."""
from __future__ import annotations

import json
from pathlib import Path

T0 = "10:00:00.{:06d}"


def trace_lines(lines: list[tuple[int, str]]) -> str:
    """[(pid, body)] -> strace -f -tt text."""
    return "".join(f"{pid}  {T0.format(i * 10)} {body}\n" for i, (pid, body) in enumerate(lines, 1))


def file_entry(path, real=None, *, mode="100755", ino=1000, interp="/lib64/ld-linux-x86-64.so.2"):
    m = int(mode, 8)
    return {"path": path, "realpath": real or path, "exists": True, "dev": 65024, "ino": ino, "uid": 0, "gid": 0,
            "mode": mode, "capabilities": None, "elf_class": 64, "elf_machine": 62, "interpreter": interp,
            "shebang": False, "setuid": bool(m & 0o4000), "setgid": False}


def write_trace(d: Path, name: str, lines, files, *, uid=1001, auid=1001, uid_min=1000) -> Path:
    p = d / name
    p.write_text(trace_lines(lines), encoding="utf-8", errors="surrogateescape")
    sc = {"schema_version": 1, "kind": "tracerule-sidecar", "trace": name, "arch": "x86_64",
          "recorder": {"uid": uid, "euid": uid, "gid": uid, "egid": uid, "groups": [uid], "auid": auid,
                       "sessionid": 3, "user": "alice"},
          "uid_min": uid_min, "cwd": "/home/alice", "files": files, "notes": []}
    (d / (name + ".tracerule.json")).write_text(json.dumps(sc), encoding="utf-8")
    return p


# --- the scenarios ------------------------------------------------------------------------------
def setuid_helper(d: Path) -> Path:
    return write_trace(d, "setuid.txt", [
        (500, 'execve("/usr/bin/bash", ["bash"], 0x7ffd /* 5 vars */) = 0'),
        (500, 'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f1) = 501'),
        (501, 'execve("/usr/local/bin/helper", ["helper", "--root"], 0x55 /* 5 vars */) = 0'),
        (501, 'setuid(0) = 0'),
        (501, 'execve("/usr/bin/id", ["id"], 0x55 /* 5 vars */) = 0'),
        (501, 'exit_group(0) = ?'),
        (501, '+++ exited with 0 +++'),
        (500, 'exit_group(0) = ?'),
        (500, '+++ exited with 0 +++'),
    ], [file_entry("/usr/bin/bash", ino=11), file_entry("/usr/local/bin/helper", mode="104755", ino=12),
        file_entry("/usr/bin/id", ino=13)])


def connect(d: Path) -> Path:
    return write_trace(d, "connect.txt", [
        (600, 'execve("/usr/bin/nc", ["nc", "127.0.0.1", "4444"], 0x7ffd /* 5 vars */) = 0'),
        (600, 'socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3'),
        (600, 'connect(3, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("127.0.0.1")}, 16) = 0'),
        (600, 'exit_group(0) = ?'),
        (600, '+++ exited with 0 +++'),
    ], [file_entry("/usr/bin/nc", "/usr/bin/nc.openbsd", ino=21)])


def module_load(d: Path) -> Path:
    return write_trace(d, "module.txt", [
        (700, 'execve("/usr/sbin/insmod", ["insmod", "/tmp/evil.ko"], 0x7ffd /* 5 vars */) = 0'),
        (700, 'openat(AT_FDCWD, "/tmp/evil.ko", O_RDONLY|O_CLOEXEC) = 3'),
        (700, 'finit_module(3, "", 0) = -1 EPERM (Operation not permitted)'),
        (700, 'exit_group(1) = ?'),
        (700, '+++ exited with 1 +++'),
    ], [file_entry("/usr/sbin/insmod", "/usr/bin/kmod", ino=31)], uid=0, auid=1001)


def sudoers_write(d: Path) -> Path:
    return write_trace(d, "sudoers.txt", [
        (800, 'execve("/usr/bin/tee", ["tee", "-a", "/etc/sudoers"], 0x7ffd /* 5 vars */) = 0'),
        (800, 'openat(AT_FDCWD, "/etc/sudoers", O_WRONLY|O_CREAT|O_APPEND, 0666) = 3'),
        (800, 'write(3, "alice ALL=(ALL) NOPASSWD:ALL\\n", 29) = 29'),
        (800, 'exit_group(0) = ?'),
        (800, '+++ exited with 0 +++'),
    ], [file_entry("/usr/bin/tee", ino=41)], uid=0, auid=1001)


SCENARIOS = {"setuid": setuid_helper, "connect": connect, "module": module_load, "sudoers": sudoers_write}
