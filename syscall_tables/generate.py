#!/usr/bin/env python3
"""Regenerate the per-arch syscall tables in this folder.

Source of truth:
  * ``ausyscall ARCH --dump`` of the installed audit userspace: these are the
    names the installed ``auditctl`` resolves (it matches names exactly).
  * ``KERNEL_ADDITIONS`` below: syscalls the kernel has that this ausyscall does
    not know yet (audit 3.0.9 stops at 450).  They come from the kernel's
    published tables (``arch/x86/entry/syscalls/syscall_64.tbl``,
    ``scripts/syscall.tbl``); the unified numbering from 403 on is the same on
    every arch listed here.  They are marked ``kernel``: auditctl does not know
    them by name, so a rule must give them by number.

Output: ``<arch>.tsv`` with ``nr<TAB>name<TAB>source`` lines, sorted by number,
after a ``#`` header naming the ausyscall version.

Usage: python3 syscall_tables/generate.py   (needs ausyscall on PATH)
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# arch as tracerule names it -> arch name given to ausyscall
ARCHES = {
    "x86_64": "x86_64",
    "i386": "i386",
    "aarch64": "aarch64",
    "arm": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}

# (nr, name, arches or None for all) — newer than audit 3.0.9's tables.
KERNEL_ADDITIONS: list[tuple[int, str, tuple[str, ...] | None]] = [
    (451, "cachestat", None),
    (452, "fchmodat2", None),
    (453, "map_shadow_stack", ("x86_64",)),
    (454, "futex_wake", None),
    (455, "futex_wait", None),
    (456, "futex_requeue", None),
    (457, "statmount", None),
    (458, "listmount", None),
    (459, "lsm_get_self_attr", None),
    (460, "lsm_set_self_attr", None),
    (461, "lsm_list_modules", None),
    (462, "mseal", None),
    (463, "setxattrat", None),
    (464, "getxattrat", None),
    (465, "listxattrat", None),
    (466, "removexattrat", None),
    (467, "open_tree_attr", None),
    (468, "file_getattr", None),
    (469, "file_setattr", None),
    (470, "listns", None),
    (471, "rseq_slice_yield", None),
]


def ausyscall_version() -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "auditd"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
    except FileNotFoundError:
        out = ""
    return out or "unknown"


def dump(arch: str) -> dict[int, str]:
    res = subprocess.run(["ausyscall", arch, "--dump"], capture_output=True, text=True, check=True)
    lines = res.stdout.splitlines()
    if not lines or not lines[0].startswith("Using "):
        raise SystemExit(f"unexpected ausyscall output for {arch}: {lines[:1]}")
    table: dict[int, str] = {}
    for line in lines[1:]:
        nr, name = line.split("\t")
        table[int(nr)] = name
    return table


def main() -> int:
    version = ausyscall_version()
    for ours, theirs in ARCHES.items():
        known = dump(theirs)
        names = set(known.values())
        rows = [(nr, name, "ausyscall") for nr, name in known.items()]
        for nr, name, only in KERNEL_ADDITIONS:
            if only is not None and ours not in only:
                continue
            if name in names or nr in known:
                continue
            rows.append((nr, name, "kernel"))
        rows.sort()
        out = HERE / f"{ours}.tsv"
        with out.open("w") as fh:
            fh.write(f"# {ours} syscalls: ausyscall {theirs} --dump (auditd {version}) + kernel additions\n")
            fh.write("# nr\tname\tsource (ausyscall: auditctl knows the name; kernel: give it by number)\n")
            for nr, name, src in rows:
                fh.write(f"{nr}\t{name}\t{src}\n")
        print(f"{out.name}: {len(rows)} syscalls", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
