"""Domain values of ``tracerule suggest``: frozen dataclasses the pipeline hands out.

A :class:`Target` is one security-relevant behaviour of the trace (all its instances); a
:class:`Ladder` holds its :class:`Rung` s, narrow to broad; a :class:`SuggestedRule` is one line of
the rules file with its provenance (targets, process chains, trace lines, rung, pipeline steps).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tracerule.audit.rules.model import Rule, Watch

SCHEMA_VERSION = 1

#: categories in the order targets are reported and rules are written (privilege first)
CATEGORIES = ("priv", "cred", "exec", "net", "handoff", "module", "ptrace", "mount", "perm", "file")
CATEGORY_TITLES = {
    "priv": "privilege transition",
    "cred": "credential change",
    "exec": "program execution",
    "net": "network",
    "handoff": "hand-off to a daemon",
    "module": "kernel module",
    "ptrace": "ptrace",
    "mount": "mount / namespace",
    "perm": "permission change granting privilege",
    "file": "write to a sensitive file",
}
#: the rules-file key of each category (``tr-`` prefix: one grep finds every tracerule rule)
KEYS = {c: f"tr-{c}" for c in CATEGORIES}
KEYS["b32"] = "tr-b32"

#: rung levels, narrow to broad (file targets use exact/path/directory)
LEVELS = ("exact", "program", "behaviour")
FILE_LEVELS = ("exact", "path", "directory")
LEVEL_RANK = {"exact": 0, "program": 1, "path": 1, "behaviour": 2, "directory": 2}


#: said (notes, and a comment on each such target) when the trace cannot tell a target's auid
AUID_UNKNOWN = ("auid unknown in this trace (no sidecar gives it): no auid filter; give --auid N or record with "
                "tracerule record --auid")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One trace event behind a target: where it is and what it was."""

    file: str
    line: int
    tid: int
    process: str                 #: graph process id (``p8029``)
    syscall: str
    summary: str                 #: one line, safe for a comment (no newlines)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Target:
    """One behaviour worth a rule.  ``key`` groups its instances (same category, program, syscalls,
    file ...); ``reason`` says why it was picked; ``chain`` is the process chain of the first
    instance, root first (``8027 sh -> 8027 sudo -> 8029 docker``)."""

    id: str
    category: str
    reason: str
    instances: tuple[Evidence, ...]
    chain: str
    exe: str | None = None               #: realpath of the program image doing it (None: unknown)
    exe_note: str | None = None          #: where that realpath came from when not the sidecar
    syscalls: tuple[str, ...] = ()       #: syscall names seen (the trace's arch numbering)
    path: str | None = None              #: file targets: the file (resolved)
    auid_scope: str = "user"             #: "user" (>=UID_MIN, set), "unset", "root", "system", "mixed",
    #: "unknown" (the trace cannot tell: no auid filter)
    euid0: bool = False                  #: every instance ran with euid 0
    uid: int | None = None               #: the uid when the same for every instance
    success: bool = True                 #: every instance succeeded
    attack: tuple[str, ...] = ()         #: ATT&CK technique ids
    detail: dict = field(default_factory=dict, compare=False)   #: category-specific facts

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(e.where for e in self.instances)


@dataclass(frozen=True, slots=True)
class Rung:
    """One complete candidate for a target: its rules for the native ABI (twins are made at
    assembly), what it is, and which variants the simulator says it catches."""

    level: str
    rules: tuple[Rule | Watch, ...]
    description: str
    catches: tuple[tuple[str, bool | None], ...] = ()   #: (variant, caught?) None = cannot tell
    misses_instances: tuple[str, ...] = ()               #: file:line of recorded instances it misses
    extra_on_trace: int | None = None                    #: trace events it logs beyond the target


@dataclass(frozen=True, slots=True)
class Ladder:
    target: Target
    rungs: tuple[Rung, ...]

    def rung(self, level: str) -> Rung | None:
        for r in self.rungs:
            if r.level == level:
                return r
        return None


@dataclass(frozen=True, slots=True)
class Handoff:
    """A traced process talking to a daemon: the behaviour goes on outside the trace."""

    daemon: str
    socket: str
    instances: tuple[Evidence, ...]
    chain: str
    client_exe: str | None
    client_rules: tuple[Rule, ...]          #: verified on the trace by the simulator
    daemon_rules: tuple[str, ...]           #: rule text, unverified (written commented out)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuggestedRule:
    """One emitted rule with its provenance."""

    item: Rule | Watch
    targets: tuple[str, ...]                 #: target ids
    level: str                               #: rung level (or "b32-twin", "b32-catchall", "handoff")
    chains: tuple[str, ...]
    lines: tuple[str, ...]                   #: file:line of the trace events it is there for
    steps: tuple[str, ...]                   #: pipeline steps that made/changed it
    twin_of: int | None = None               #: index of the b64 rule this is the b32 twin of
    note: str = ""


@dataclass(frozen=True, slots=True)
class HostSettings:
    """What the rules are written for (printed with every result)."""

    arch: str                    #: target machine (x86_64, aarch64 ...)
    arch_source: str
    compat: str | None           #: its 32-bit ABI (i386 ...), None when it has none
    auditctl_version: str
    auditctl_source: str
    uid_min: int
    uid_min_source: str
    b32: str                     #: pairs | catchall | none
    trace_arch: str = "x86_64"   #: the machine the trace was recorded on


@dataclass(frozen=True, slots=True)
class Coverage:
    """Replay of the final rule set on the trace itself."""

    target: str
    instances: int
    caught: int
    missed: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


@dataclass
class Suggestion:
    """The pipeline's result (mutable while the steps run; treat as read-only afterwards)."""

    traces: tuple[str, ...]
    host: HostSettings
    targets: list[Target] = field(default_factory=list)
    ladders: list[Ladder] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    chosen: dict[str, str] = field(default_factory=dict)          #: target id -> level
    rules: list[SuggestedRule] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    noise: dict | None = None           #: per rule index: events beyond the targets; None: not measured
    baseline: str | None = None         #: "no baseline" unless one is given (issue 13)
    notes: list[str] = field(default_factory=list)
    steps_run: list[str] = field(default_factory=list)
    lint: list = field(default_factory=list)                      #: lint findings on the result
    #: issue 13: baselines, kernel cost, existing rules
    baseline_paths: tuple[str, ...] = ()
    baseline_noise: dict | None = None  #: per rule index: events it logs on the baselines; None: no baseline
    rung_stats: dict = field(default_factory=dict)                #: target id -> minimal.RungStats of its rung
    cost: object = None                 #: tracerule.audit.cost.CostEstimate of the rule set (None: not estimated)
    existing: object = None             #: existing.ExistingReport (None: no --existing)
    resolver: object = None             #: the file facts the simulator used (trace's sidecar, then literal)

    @property
    def missed(self) -> list[Coverage]:
        return [c for c in self.coverage if c.caught < c.instances]

    @property
    def complete(self) -> bool:
        return not self.missed and all(t.id in self.chosen for t in self.targets)
