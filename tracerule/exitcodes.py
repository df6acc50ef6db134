"""The one exit-code table for every tracerule command (documented in README.md)."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    BAD_INPUT = 3
    ENVIRONMENT = 4
    INCONCLUSIVE = 5
    FINDINGS_MEDIUM = 6
    FINDINGS_LOW = 7
    INTERRUPTED = 130


MEANING = {
    ExitCode.OK: "done; lint: no finding above info",
    ExitCode.CHECK_FAILED: "a check failed: verify missed an expectation, suggest left a target uncaught, "
                           "lint's worst finding is high",
    ExitCode.USAGE: "bad command line (unknown option, missing argument)",
    ExitCode.BAD_INPUT: "an input file is unreadable or not what it should be (trace, rules, sidecar)",
    ExitCode.ENVIRONMENT: "the host cannot do it: a tool is missing, no privileges, audit immutable or absent",
    ExitCode.INCONCLUSIVE: "ran, but the answer cannot be trusted (the kernel's lost counter rose)",
    ExitCode.FINDINGS_MEDIUM: "lint: worst finding is medium",
    ExitCode.FINDINGS_LOW: "lint: worst finding is low",
    ExitCode.INTERRUPTED: "stopped by SIGINT/SIGTERM (cleanup done)",
}

TABLE = [(int(c), c.name.lower().replace("_", "-"), MEANING[c]) for c in ExitCode]
