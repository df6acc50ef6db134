"""A harness user run in a child process by the kernel tests (signals, locking, cleanup).

    python harness_child.py MODE TMPDIR [SECONDS]

MODE ``hold``: open a session, load rules (one a watch on TMPDIR/watched), change settings, enable,
print ``ready RUN_ID`` and sleep SECONDS.  MODE ``critical``: open a session, append
``enter <t>`` / ``exit <t>`` lines around SECONDS of rule work to TMPDIR/critical.log.
"""
from __future__ import annotations

import os
import sys
import time

from tracerule.audit.kernel import KernelAudit, SessionInterrupted


def main() -> int:
    mode, tmp = sys.argv[1], sys.argv[2]
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    try:
        with KernelAudit.session(lock_timeout=300) as k:
            if mode == "hold":
                k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-k", k.new_key("a")])
                k.add_rule(["-w", os.path.join(tmp, "watched"), "-p", "wa", "-k", k.new_key("w")])
                k.add_rule(["-a", "always,exit", "-F", "arch=b32", "-S", "getppid", "-F", "auid>=1000",
                            "-F", "auid!=unset", "-k", k.new_key("b")])
                k.set_setting("backlog_limit", 333)
                k.set_setting("rate_limit", 17)
                k.enable()
                print(f"ready {k.run_id}", flush=True)
                time.sleep(secs)
            elif mode == "critical":
                log = os.path.join(tmp, "critical.log")
                with open(log, "a") as fh:
                    fh.write(f"enter {os.getpid()} {time.monotonic()}\n")
                print(f"ready {k.run_id}", flush=True)
                r = k.add_rule(["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-k", k.new_key()])
                time.sleep(secs)
                assert len(k.listed()) == 1, k.listed()
                k.delete_rule(r)
                with open(log, "a") as fh:
                    fh.write(f"exit {os.getpid()} {time.monotonic()}\n")
            else:
                print(f"unknown mode {mode}", file=sys.stderr)
                return 2
    except SessionInterrupted as exc:
        print(f"interrupted {exc.signum}", flush=True)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("interrupted 2", flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
