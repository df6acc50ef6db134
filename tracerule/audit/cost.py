"""What a rule set costs the kernel: a model from the measurements in kernel-overhead.md.

    from tracerule.audit.cost import estimate, SyscallMix, rule_shape
    mix = SyscallMix.from_traces(["baseline.strace"], wall=64.0)   # or SyscallMix({"read": 900, ...})
    est = estimate(items, mix, events=12, host="x86_64")
    est.ns_per_syscall, est.per_1000_syscalls_us, est.cpu_share      # see CostEstimate

The figures (kernel 6.18, 2 vCPU VM; kernel-overhead.md §2):

* a rule whose ``-S`` mask excludes the syscall: ~5 ns (one bit test) -- :data:`MASK_REJECT_NS`;
* a rule evaluated on the syscall (mask holds it, ``-S all``, no ``-S``, a ``dir=`` tree rule):
  ~38 ns (linear fit over 1/10/100 ``-S all`` rules) -- :data:`EVAL_NS`; a rule whose first field is an
  ``arch=`` of another ABI fails there, assumed half of that (:data:`ARCH_REJECT_NS`: the public sets,
  half of whose every-syscall rules are ``arch=b32``, measured ~40% under the full figure);
* ``exe=`` tested on the syscall: +~100 ns (``get_mm_exe_file``) -- :data:`EXE_NS`;
* ``path=`` file watches (``-w FILE``, ``-F path=``) live in the inode hash, consulted only for the
  names a syscall resolved: no measurable cost per syscall (modelled as 0);
* one logged event: ~65 us of CPU in the task + ~100-250 us in auditd/kauditd: ~300 us -- :data:`EVENT_US`.

Rule *shapes* (:func:`rule_shape`): ``narrowed`` (an exit rule with ``-S`` names and an arch),
``inode`` (path= watch: cheap), ``every-syscall`` (``-S all`` or no ``-S`` without ``path=``, a ``-w``
on a directory (``dir=``), an arch-only rule), ``no-arch`` (``-S`` without ``arch=``: matched by
number on every ABI -- also catches unrelated syscalls of the other ABI), ``other`` (task, exclude,
user lists: not on the per-syscall exit path).  The model predicts the measured sets within about
x1.5 and over-predicts them (kernel-overhead.md §2).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

#: once ANY rule is loaded every task's audit context stops being a dummy: +~193 ns on every syscall,
#: +~677 ns on a syscall that resolves a path (name collection) -- kernel-overhead.md §2 (C1-C0, W1/W2b).
#: Paid once per host, whatever the rules; a host that already has rules pays it already.
FIXED_NS = 193.0
FIXED_PATH_NS = 677.0
#: syscalls that resolve a path name (the audit context collects a name for each)
PATH_SYSCALLS = frozenset({
    "open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx", "fstatat64", "stat64",
    "lstat64", "access", "faccessat", "faccessat2", "execve", "execveat", "readlink", "readlinkat", "chmod",
    "fchmodat", "fchmodat2", "chown", "lchown", "fchownat", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "truncate", "utimensat",
    "utimes", "utime", "futimesat", "chdir", "chroot", "mount", "umount2", "statfs", "getxattr", "lgetxattr",
    "setxattr", "lsetxattr", "removexattr", "lremovexattr", "listxattr", "llistxattr", "mknod", "mknodat",
    "inotify_add_watch", "name_to_handle_at", "swapon", "swapoff", "uselib", "acct", "pivot_root",
    "open_tree", "move_mount", "fspick", "mount_setattr", "quotactl", "setxattrat", "getxattrat",
    "listxattrat", "removexattrat", "file_getattr", "file_setattr"})
MASK_REJECT_NS = 5.0
EVAL_NS = 38.0
ARCH_REJECT_NS = 19.0
EXE_NS = 100.0
EVENT_US = 300.0
#: auditd's throughput limit (ENRICHED, one core): ~56k records/s, ~14k events/s of 4 records
AUDITD_EVENTS_PER_S = 14000.0

SHAPES = ("narrowed", "inode", "every-syscall", "no-arch", "other")


def _fields(rule, name):
    return [f for f in rule.fields if getattr(f, "name", None) == name]


def rule_shape(item, is_dir=None) -> str:
    """The cost class of one rule or watch (see the module doc).  ``is_dir(path) -> bool | None``
    says whether a watched path is a directory (default: this host's file system)."""
    from tracerule.audit.rules.model import ControlLine, Rule, Watch

    if isinstance(item, ControlLine):
        return "other"
    if isinstance(item, Watch):
        d = (is_dir or os.path.isdir)(item.path)
        return "every-syscall" if d else "inode"
    if not isinstance(item, Rule) or item.list != "exit":
        return "other"
    sc = item.syscalls
    if _fields(item, "path") or _fields(item, "inode"):
        return "inode"
    if sc is None or sc.all:
        return "every-syscall"
    if not item.arch_fields:
        return "no-arch"
    return "narrowed"


@dataclass
class SyscallMix:
    """How often each syscall runs on the host (names of the host's native ABI), and over what
    wall time (None: unknown)."""

    counts: Mapping[str, int]
    wall: float | None = None
    source: str = ""

    @property
    def total(self) -> int:
        return int(sum(self.counts.values()))

    @property
    def per_second(self) -> float | None:
        return self.total / self.wall if self.wall else None

    @classmethod
    def sampled(cls, paths: Iterable[str | os.PathLike], limit: int = 16 << 20) -> "SyscallMix":
        """The mix of plain trace files from their first ``limit`` bytes each, scaled to their size
        (quick; for a trace without a baseline); gzip files and -ff sets are counted whole."""
        c: Counter = Counter()
        names = []
        for p in paths:
            p = str(p)
            names.append(os.path.basename(p))
            if p.endswith(".gz") or not os.path.isfile(p):
                c.update(count_syscall_names(p))
                continue
            got, f = _sample_counts(p, limit)
            c.update({k: int(round(v * f)) for k, v in got.items()})
        return cls(dict(c), None, ", ".join(names))

    @classmethod
    def from_traces(cls, paths: Iterable[str | os.PathLike], wall: float | None = None) -> "SyscallMix":
        c: Counter = Counter()
        names = []
        for p in paths:
            c.update(count_syscall_names(p))
            names.append(os.path.basename(str(p)))
        return cls(dict(c), wall, ", ".join(names))


def _sample_counts(path: str, limit: int) -> tuple[Counter, float]:
    """Counts in the first ``limit`` bytes of a plain trace, and the factor to the whole file."""
    c: Counter = Counter()
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        chunk = fh.read(limit)
    k = chunk.rfind(b"\n")
    if k < 0:
        return c, 1.0
    c.update(_START.findall(chunk, 0, k + 1))
    return Counter({n.decode(): v for n, v in c.items()}), size / (k + 1) if len(chunk) >= limit else 1.0


_START = re.compile(rb"^(?:\d+ +)?(?:[\d:.]+ +)?([a-z_][a-z0-9_]*)\(", re.M)


def count_syscall_names(path: str | os.PathLike) -> Counter:
    """Syscalls of an strace file (``.gz`` too) by name, counted where each starts (a complete line or
    an ``<unfinished ...>`` one; ``<... resumed>`` lines are the same call), without parsing them."""
    from tracerule.errors import InputError
    from tracerule.strace.reader import line_chunks

    c: Counter = Counter()
    try:
        for chunk in line_chunks(path, 1 << 22):
            c.update(_START.findall(chunk))
    except (OSError, InputError):
        pass
    return Counter({k.decode(): v for k, v in c.items()})


@dataclass(frozen=True)
class RuleCost:
    index: int
    shape: str
    ns_per_syscall: float        #: averaged over the mix
    has_exe: bool = False


@dataclass(frozen=True)
class CostEstimate:
    """The estimated cost of a rule set on a syscall mix (see the module doc for the figures)."""

    rules: tuple[RuleCost, ...]
    ns_per_syscall: float               #: the rules' own filter evaluation, averaged over the mix
    events: int                         #: events the rules log on the mix's trace (simulated)
    syscalls: int                       #: syscalls in the mix
    wall: float | None                  #: the mix's wall time (untraced), seconds
    shapes: Mapping[str, int] = field(default_factory=dict)
    fixed_ns_per_syscall: float = 0.0   #: the audit context once any rule is loaded (0: no rules)

    @property
    def total_ns_per_syscall(self) -> float:
        return self.ns_per_syscall + self.fixed_ns_per_syscall

    @property
    def events_per_1000_syscalls(self) -> float:
        return 1000.0 * self.events / self.syscalls if self.syscalls else 0.0

    @property
    def per_1000_syscalls_us(self) -> float:
        """CPU microseconds per 1,000 syscalls of the mix the rules add: evaluation + logging (without
        the fixed audit-context cost, which any rule set brings -- see :attr:`fixed_ns_per_syscall`)."""
        return self.ns_per_syscall + self.events_per_1000_syscalls * EVENT_US

    @property
    def eval_per_1000_syscalls_us(self) -> float:
        return self.ns_per_syscall   # ns per syscall x 1000 syscalls / 1000 ns per us

    @property
    def events_per_second(self) -> float | None:
        return self.events / self.wall if self.wall else None

    @property
    def cpu_share(self) -> float | None:
        """Fraction of one core the rules cost at the mix's rate (evaluation + logging)."""
        if not self.wall:
            return None
        ev = self.events * EVENT_US * 1e-6
        fl = self.ns_per_syscall * 1e-9 * self.syscalls
        return (ev + fl) / self.wall

    @property
    def every_syscall_rules(self) -> int:
        return int(self.shapes.get("every-syscall", 0))

    def summary(self) -> str:
        s = (f"{self.per_1000_syscalls_us:.1f} us CPU per 1,000 syscalls "
             f"({self.ns_per_syscall:.0f} ns/syscall filtering + {self.events_per_1000_syscalls:.3f} "
             f"events x {EVENT_US:.0f} us)")
        if self.wall:
            s += (f"; at the baseline's rate ({self.syscalls / self.wall:,.0f} syscalls/s, "
                  f"{self.events_per_second:.2f} events/s): {100 * self.cpu_share:.2f}% of a core")
        s += f"; every-syscall rules: {self.every_syscall_rules}"
        if self.fixed_ns_per_syscall:
            s += (f"; plus {self.fixed_ns_per_syscall:.0f} ns/syscall once any rule is loaded (audit context; "
                  "a host with rules pays it already)")
        return s

    def to_json(self) -> dict:
        return {"ns_per_syscall": round(self.ns_per_syscall, 2),
                "fixed_ns_per_syscall": round(self.fixed_ns_per_syscall, 2), "events": self.events,
                "syscalls": self.syscalls, "wall_s": self.wall,
                "per_1000_syscalls_us": round(self.per_1000_syscalls_us, 3),
                "events_per_second": None if self.events_per_second is None else round(self.events_per_second, 4),
                "cpu_share": None if self.cpu_share is None else round(self.cpu_share, 6),
                "shapes": dict(self.shapes),
                "model": {"mask_reject_ns": MASK_REJECT_NS, "eval_ns": EVAL_NS, "arch_reject_ns": ARCH_REJECT_NS,
                          "exe_ns": EXE_NS, "event_us": EVENT_US, "fixed_ns": FIXED_NS,
                          "fixed_path_ns": FIXED_PATH_NS}}


def _mix_numbers(mix: SyscallMix, host: str) -> list[tuple[int, int]]:
    from tracerule.audit.tables import table

    t = table(host)
    out: Counter = Counter()
    for name, n in mix.counts.items():
        nr = t.nr(name)
        if nr is not None:
            out[nr] += n
    return list(out.items())


def rule_ns(item, mix_nrs: list[tuple[int, int]], total: int, host: str, is_dir=None) -> RuleCost:
    """Average ns per syscall one rule adds over the mix."""
    shape = rule_shape(item, is_dir)
    has_exe = bool(getattr(item, "fields", None)) and bool(_fields(item, "exe"))
    if shape in ("inode", "other") or total <= 0:
        return RuleCost(-1, shape, 0.0, has_exe)
    if shape == "every-syscall" and not hasattr(item, "fields"):
        return RuleCost(-1, shape, EVAL_NS, False)
    arch = item.arch
    native = arch is None or arch == host
    first_arch = bool(item.fields) and getattr(item.fields[0], "name", None) == "arch"
    # the kernel evaluates fields in rule order until one fails: an arch of the other ABI first
    # fails at once; a native arch goes on (exe= last, at full cost only when earlier fields pass --
    # counted fully: the model over-predicts rather than under)
    full = EVAL_NS + (EXE_NS if has_exe else 0.0)
    evaluated = full if native or not first_arch else ARCH_REJECT_NS
    if shape == "every-syscall":
        return RuleCost(-1, shape, evaluated, has_exe)
    mask = item.syscalls.numbers
    hit = sum(n for nr, n in mix_nrs if nr in mask)
    frac = hit / total
    return RuleCost(-1, shape, MASK_REJECT_NS * (1 - frac) + evaluated * frac, has_exe)


def estimate(items, mix: SyscallMix, events: int = 0, *, host: str = "x86_64", is_dir=None) -> CostEstimate:
    """The cost of ``items`` (rules, watches; control lines ignored) on ``mix``, with ``events``
    logged on the mix's trace (from the simulator)."""
    from tracerule.audit.rules.model import ControlLine

    nrs = _mix_numbers(mix, host)
    total = mix.total
    rcs = []
    shapes: Counter = Counter()
    for i, it in enumerate(items):
        if isinstance(it, ControlLine) or getattr(it, "op", "append") == "delete" or getattr(it, "delete", False):
            continue
        rc = rule_ns(it, nrs, total, host, is_dir)
        rcs.append(RuleCost(i, rc.shape, rc.ns_per_syscall, rc.has_exe))
        shapes[rc.shape] += 1
    ns = sum(r.ns_per_syscall for r in rcs)
    fixed = 0.0
    if rcs and total:
        paths = sum(n for name, n in mix.counts.items() if name in PATH_SYSCALLS)
        fixed = FIXED_NS + FIXED_PATH_NS * paths / total
    return CostEstimate(tuple(rcs), ns, int(events), total, mix.wall, dict(shapes), fixed)


def item_cost_key(item, mix_nrs, total, host, is_dir=None) -> float:
    """One number for ranking candidates: ns per syscall the item adds over the mix."""
    return rule_ns(item, mix_nrs, total, host, is_dir).ns_per_syscall
