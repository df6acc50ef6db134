#!/usr/bin/env python3
"""Record (once) the benchmark traces: a real workload under ``strace -f -tt -T -yy -o FILE``.

    /work/venv/bin/python benchmarks/workload.py            # both traces (cached)
    /work/venv/bin/python benchmarks/workload.py --only 1x  # just the >= 1M-line trace
    /work/venv/bin/python benchmarks/workload.py --force    # record again

The workload is a plain POSIX shell script (dash) over a fixed, sorted list of small text files
that every Debian system has (``/usr/share/doc/*/copyright``).  For each file it runs

* a pipeline in a subshell: ``cat FILE | gzip -1 | wc -c`` (fork, exec of cat, gzip and wc), and
* ``sh -c 'while read -r l; do ...; done < FILE'`` (fork + exec of a second shell, whose ``read``
  builtin reads the file one byte per ``read(2)``: the syscall-dense part).

That gives many processes and execs (about 5 per file) and about one trace line per input byte.
The "10x" trace runs the SAME processes longer: every command reads its file ``REPEAT`` times
(``cat FILE FILE ...``, the read loop repeated inside the same shell), so the process tree is
identical and only the number of syscalls per process grows.  Traces are not concatenated.

Traces and a manifest (line and process counts, command, strace version) are cached under
``benchmarks/.cache/`` (git-ignored).  The script prints the line count and process count.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
TARGET_LINES = 1_000_000
LONG_REPEAT = 10

SCRIPT = r"""
set -u
rep=$1; shift
for f in "$@"; do
    files=""
    i=0
    while [ "$i" -lt "$rep" ]; do files="$files $f"; i=$((i+1)); done
    ( cat $files | gzip -1 | wc -c ) >/dev/null
    sh -c 'n=0; i=0; while [ "$i" -lt "$2" ]; do while read -r l; do n=$((n+1)); done < "$1"; i=$((i+1)); done; echo "$n"' sh "$f" "$rep" >/dev/null
done
"""


def pick_files(target_bytes: int) -> list[str]:
    """Sorted copyright files of 1-8 KiB until their sizes sum to ``target_bytes``."""
    out: list[str] = []
    total = 0
    for d in sorted(os.listdir("/usr/share/doc")):
        p = os.path.join("/usr/share/doc", d, "copyright")
        try:
            st = os.stat(p)
        except OSError:
            continue
        if not (1024 <= st.st_size <= 8192) or not os.path.isfile(p) or os.path.islink(p):
            continue
        # the shell word-splits the file list: keep names without blanks or glob characters
        if re.search(r"[\s*?\[\]]", p):
            continue
        out.append(p)
        total += st.st_size
        if total >= target_bytes:
            break
    return out


_CREATE = re.compile(rb"^\d+\s+\S+ (?:<\.\.\. )?(clone3?|fork|vfork)\b.*\) = (\d+)")
_RESUMED_CREATE = re.compile(rb"^\d+\s+\S+ <\.\.\. (clone3?|fork|vfork) resumed>.*\) = (\d+)")


def count_trace(path: Path) -> dict:
    """Lines, processes (root + successful non-thread creations), successful execs: a plain scan."""
    lines = 0
    procs = 1
    execs = 0
    pending_thread: dict[bytes, bool] = {}
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            if b"execve(" in line or b"<... execve resumed>" in line:
                if re.search(rb"\) += 0(?: <[0-9.]+>)?$", line.rstrip(b"\n")):
                    execs += 1
            if b"clone" in line or b"fork" in line:
                tid = line.split(None, 1)[0]
                if b"<unfinished ...>" in line:
                    pending_thread[tid] = b"CLONE_THREAD" in line
                    continue
                m = _CREATE.match(line) or _RESUMED_CREATE.match(line)
                if m:
                    thread = b"CLONE_THREAD" in line or pending_thread.pop(tid, False)
                    if not thread and int(m.group(2)) > 0:
                        procs += 1
    return {"lines": lines, "processes": procs, "execs": execs, "bytes": path.stat().st_size}


def record(name: str, files: list[str], repeat: int, force: bool) -> dict:
    CACHE.mkdir(parents=True, exist_ok=True)
    trace = CACHE / f"workload-{name}.txt"
    manifest = CACHE / f"workload-{name}.json"
    if trace.exists() and manifest.exists() and not force:
        info = json.loads(manifest.read_text())
        if info.get("files") == len(files) and info.get("repeat") == repeat:
            return info
    strace = shutil.which("strace")
    if strace is None:
        sys.exit("workload.py: strace is not installed (apt-get install strace)")
    script = CACHE / "workload.sh"
    script.write_text(SCRIPT)
    cmd = [strace, "-f", "-tt", "-T", "-yy", "-o", str(trace), "/bin/sh", str(script), str(repeat), *files]
    shown = f"strace -f -tt -T -yy -o {trace} /bin/sh {script} {repeat} <{len(files)} files>"
    print(f"recording {name}: {shown}", flush=True)
    t0 = time.monotonic()
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    if res.returncode != 0:
        sys.exit(f"workload.py: strace exited with {res.returncode}")
    version = subprocess.run([strace, "-V"], capture_output=True, text=True).stdout.splitlines()[0]
    info = {"name": name, "trace": str(trace), "command": shown, "strace": version,
            "files": len(files), "repeat": repeat, "record_seconds": round(wall, 1),
            **count_trace(trace)}
    manifest.write_text(json.dumps(info, indent=2) + "\n")
    return info


def ensure(which: str = "both", force: bool = False) -> dict[str, dict]:
    """Record what is missing; return {"1x": manifest, "10x": manifest} (those asked for)."""
    files = pick_files(int(TARGET_LINES * 1.05))
    out: dict[str, dict] = {}
    for name, rep in (("1x", 1), ("10x", LONG_REPEAT)):
        if which in ("both", name):
            info = record(name, files, rep, force)
            if name == "1x" and info["lines"] < TARGET_LINES:
                # the machine's files are smaller than expected: add files and record again
                extra = pick_files(int(TARGET_LINES * 1.05 * TARGET_LINES / max(info["lines"], 1)))
                files = extra
                info = record(name, files, rep, True)
            out[name] = info
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["1x", "10x"], help="record only this trace")
    ap.add_argument("--force", action="store_true", help="record again even when cached")
    args = ap.parse_args()
    infos = ensure(args.only or "both", args.force)
    for name, info in infos.items():
        print(f"{name}: {info['trace']}: {info['lines']:,} lines, {info['bytes'] / 1e6:.1f} MB, "
              f"{info['processes']:,} processes, {info['execs']:,} successful execs "
              f"(recorded in {info['record_seconds']} s; {info['strace']})")


if __name__ == "__main__":
    main()
