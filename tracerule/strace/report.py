"""What the strace reader learned about a trace besides its events: counts, forms, bad lines, quality.

``ReadReport`` is filled while :class:`tracerule.strace.reader.TraceReader` reads and is complete
once iteration ends.  ``notes`` are trace-quality findings with stable codes: each says, in plain
words, which conclusions drawn from the trace become unsafe.

Stable note codes (see :data:`NOTE_CODES`)::

    no-follow-forks      the trace was made without -f: children were created but not followed
    children-not-seen    some created children never appear (pid namespace, filtering, detach)
    filtered-syscalls    whole syscall families are absent (-e trace=, -P, --seccomp-bpf)
    success-only         no failed syscall and no unfinished line (-z)
    failed-only          no successful syscall (-Z)
    truncated-strings    string arguments cut at -s N ("..."...)
    no-timestamps        no -t/-tt/-ttt
    ff-order-unknown     an -ff set without timestamps: cross-file order unknown
    stderr-capture       the trace is strace's stderr (2>FILE), not an -o file
    stderr-ambiguous     an unprefixed stderr line while several tasks looked alive
    root-pid-unknown     the first task's pid could not be learned (no pid column)
    unpaired-resumed     resumed lines without their entry
    unfinished-at-end    syscall entries that never finished
    no-exit-lines        tasks ran but no +++ exited/killed +++ line at all (-qq)
    bad-lines            lines that could not be read
    partial-last-line    the trace ends in the middle of a line
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tracerule.errors import Diagnostic, Severity

SCHEMA_VERSION = 1

NOTE_CODES = (
    "no-follow-forks", "children-not-seen", "filtered-syscalls", "success-only", "failed-only",
    "truncated-strings", "no-timestamps", "ff-order-unknown", "stderr-capture", "stderr-ambiguous",
    "root-pid-unknown", "unpaired-resumed", "unfinished-at-end", "no-exit-lines", "bad-lines",
    "partial-last-line", "compressed-cut",
)


@dataclass(frozen=True, slots=True)
class QualityNote:
    """A trace-quality finding: ``code`` is stable, ``message`` says what becomes unsafe."""

    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity.value, "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity.value} [{self.code}]: {self.message}"


@dataclass
class ReadReport:
    """Filled during a read.  Counts are of what the reader looked at.

    In ``names`` mode the reader skips lines nobody asked about without reading them, so
    ``syscalls`` counts the syscalls yielded, and ``bad_lines`` counts only bad lines among the
    lines it read (``lines`` is still the number of physical lines in the input).
    """

    files: list[str] = field(default_factory=list)
    lines: int = 0                  #: physical lines in the input
    syscalls: int = 0               #: Syscall events yielded
    events: int = 0                 #: all events yielded
    kinds: dict[str, int] = field(default_factory=dict)   #: events yielded per class name
    tasks: int = 0                  #: distinct tids seen
    bad_lines: int = 0
    bad: list[Diagnostic] = field(default_factory=list)    #: the first ``max_bad_shown`` bad lines
    skipped: dict[str, int] = field(default_factory=dict)  #: lines read but not turned into events
    forms: set[str] = field(default_factory=set)           #: output forms seen ("pid-column", "tt", ...)
    notes: list[QualityNote] = field(default_factory=list)
    unpaired_resumed: int = 0       #: resumed lines whose entry was never seen
    unfinished_at_end: int = 0      #: entries that never got their exit line
    time_base: str | None = None    #: "midnight" (-t/-tt, may exceed 86400 after a wrap), "epoch", None
    complete: bool = False          #: True once the read ended
    max_bad_shown: int = 10

    # -- filled by the reader ------------------------------------------------------------------
    def add_bad(self, diag: Diagnostic) -> None:
        self.bad_lines += 1
        if len(self.bad) < self.max_bad_shown:
            self.bad.append(diag)

    def skip(self, what: str, n: int = 1) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + n

    def note(self, code: str, severity: Severity, message: str) -> None:
        if any(n.code == code for n in self.notes):
            return
        self.notes.append(QualityNote(code, severity, message))

    # -- reading it ----------------------------------------------------------------------------
    def has_note(self, code: str) -> bool:
        return any(n.code == code for n in self.notes)

    def note_for(self, code: str) -> QualityNote | None:
        for n in self.notes:
            if n.code == code:
                return n
        return None

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "files": list(self.files),
            "lines": self.lines,
            "syscalls": self.syscalls,
            "events": self.events,
            "kinds": dict(sorted(self.kinds.items())),
            "tasks": self.tasks,
            "bad_lines": self.bad_lines,
            "bad": [
                {"file": d.file, "line": d.line, "message": d.message, "code": d.code, "text": d.text}
                for d in self.bad
            ],
            "skipped": dict(sorted(self.skipped.items())),
            "forms": sorted(self.forms),
            "notes": [n.to_dict() for n in self.notes],
            "unpaired_resumed": self.unpaired_resumed,
            "unfinished_at_end": self.unfinished_at_end,
            "time_base": self.time_base,
            "complete": self.complete,
        }
