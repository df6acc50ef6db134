"""One error type with a location, used by the trace reader, the rule parser and lint.

``Diagnostic`` is data (collected where a user wants all of them); ``TraceruleError``
carries one and is raised where it is fatal.  The CLI turns a ``TraceruleError`` into
a one-line message and the exit code it names: never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tracerule.exitcodes import ExitCode


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    ERROR = "error"  #: the input could not be read at all at this place

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.ERROR: 4}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A message about a place in an input file.  ``line``/``column`` are 1-based; 0 = unknown."""

    file: str
    line: int
    message: str
    severity: Severity = Severity.ERROR
    column: int = 0
    code: str = ""      #: stable id (lint findings, parser refusals); "" when none
    text: str = ""      #: the offending input line (shortened), when useful

    def location(self) -> str:
        loc = self.file or "<input>"
        if self.line:
            loc += f":{self.line}"
            if self.column:
                loc += f":{self.column}"
        return loc

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.location()}: {self.severity.value}{code}: {self.message}"


class TraceruleError(Exception):
    """A fatal, user-facing error.  ``exit_code`` comes from the one table in ``exitcodes``."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, diagnostic: Diagnostic | None = None,
                 exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.diagnostic = diagnostic
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        if self.diagnostic is not None:
            return str(self.diagnostic)
        return super().__str__()


class InputError(TraceruleError):
    """An input file cannot be used (not strace output, unreadable rules file ...)."""

    exit_code = ExitCode.BAD_INPUT


class EnvironmentProblem(TraceruleError):
    """The host cannot do what was asked (missing tool, privileges, audit immutable)."""

    exit_code = ExitCode.ENVIRONMENT
