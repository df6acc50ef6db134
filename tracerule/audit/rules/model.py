"""The rule model: what one line of an audit rules file (or one auditctl command line) means.

Frozen dataclasses handed out by :mod:`tracerule.audit.rules.parse` and consumed by
:mod:`tracerule.audit.rules.emit`:

* :class:`Rule` -- ``-a/-A/-d LIST,ACTION`` with its fields in order, syscall set and keys;
* :class:`Watch` -- ``-w/-W PATH [-p PERMS] [-k KEY]`` (becomes a ``path=``/``dir=`` rule at load);
* :class:`ControlLine` -- ``-D``, ``-b N``, ``-f N``, ``-e N``, ``-r N``, ``--backlog_wait_time N``,
  ``--loginuid-immutable``, ``-i``, ``-c`` ...
* :class:`Field` (``-F name OP value``), :class:`Comparison` (``-C a OP b``), :class:`SyscallSet`.

Values are stored the way auditctl sends them to the kernel (numbers as unsigned 32-bit, user and
group names resolved, errno names as negative numbers); ``Field.text`` keeps what was written.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Union

#: operators in auditctl's search order (two-character ones first)
OPS = ("!=", ">=", "<=", "&=", "=", ">", "<", "&")
LISTS = {"user": 0, "task": 1, "entry": 2, "exit": 4, "exclude": 5, "filesystem": 6, "io_uring": 7}
ACTIONS = {"never": 0, "possible": 1, "always": 2}
#: list names in the order ``auditctl -l`` groups them
LIST_ORDER = ("user", "task", "exit", "exclude", "filesystem", "io_uring")
PERM_BITS = {"r": 4, "w": 2, "x": 1, "a": 8}
UNSET = 4294967295
MAX_FIELDS = 64          #: AUDIT_MAX_FIELDS; auditctl refuses the 64th (at most 63 incl. arch and key)
MAX_KEY_LEN = 256        #: AUDIT_MAX_KEY_LEN, all keys with their \x01 separators
KEY_SEPARATOR = "\x01"


def perm_text(bits: int) -> str:
    """Perm bits in the r, w, x, a order ``auditctl -l`` prints."""
    return "".join(c for c in "rwxa" if bits & PERM_BITS[c])


@dataclass(frozen=True, slots=True)
class Location:
    file: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        s = self.file or "<input>"
        if self.line:
            s += f":{self.line}"
            if self.column:
                s += f":{self.column}"
        return s


@dataclass(frozen=True, slots=True)
class Field:
    """``-F name OP value``.  ``name`` is auditctl's canonical name (``loginuid`` -> ``auid``)."""

    name: str
    op: str
    value: Union[int, str]   #: u32 for numeric fields, text for path/dir/exe/LSM/key fields
    text: str = ""           #: the value as written (``root``, ``-EACCES``, ``unset``, ``b64``)

    @property
    def is_string(self) -> bool:
        return isinstance(self.value, str)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``-C left OP right`` in the orientation ``auditctl -l`` prints."""

    left: str
    op: str
    right: str


Term = Union[Field, Comparison]


@dataclass(frozen=True, slots=True)
class SyscallSet:
    """The rule's syscall mask.  ``arch`` is the machine whose numbering ``numbers`` use (the arch
    auditctl resolved names against); ``all`` is ``-S all`` or no ``-S`` on a syscall list."""

    arch: str
    numbers: frozenset[int] = frozenset()
    all: bool = False

    def names(self) -> tuple[str, ...]:
        """Names (kernel's table, numbers for unknown) in ascending number order."""
        from tracerule.audit.tables import table

        t = table(self.arch)
        return tuple(t.name(n) or str(n) for n in sorted(self.numbers))

    def __contains__(self, nr: object) -> bool:
        return self.all or nr in self.numbers


@dataclass(frozen=True, slots=True)
class Rule:
    """``-a/-A/-d ACTION,LIST ...``: one kernel rule.

    ``fields`` keeps every ``-F``/``-C`` term except keys, in the order written (arch fields
    included); ``keys`` are all ``-k``/``-F key=`` values in order.  ``syscalls`` is None for lists
    without a syscall mask (user, task, exclude, filesystem)."""

    action: str
    list: str
    fields: tuple[Term, ...] = ()
    syscalls: SyscallSet | None = None
    keys: tuple[str, ...] = ()
    op: str = "append"            #: "append" (-a), "prepend" (-A) or "delete" (-d)
    location: Location = field(default=Location(), compare=False)
    text: str = field(default="", compare=False)   #: the source line
    host: str = field(default="x86_64", compare=False)

    # -- helpers used by emit, lint and the simulator ------------------------------------------
    @property
    def arch_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if isinstance(f, Field) and f.name == "arch")

    @property
    def arch(self) -> str | None:
        """The machine name of the last ``arch=`` field (None without one, or for ``arch!=``)."""
        fs = [f for f in self.arch_fields if f.op == "="]
        if not fs:
            return None
        from tracerule.audit.rules.fields import machine_of_elf

        return machine_of_elf(int(fs[-1].value))

    def get(self, name: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if isinstance(f, Field) and f.name == name)

    @property
    def key(self) -> str:
        """The key as the kernel stores it (keys joined with \\x01)."""
        return KEY_SEPARATOR.join(self.keys)

    @property
    def field_count(self) -> int:
        """Fields the kernel rule holds (arch, perm, -C and one key field included)."""
        return len(self.fields) + (1 if self.keys else 0)

    def with_keys(self, keys: tuple[str, ...]) -> "Rule":
        return replace(self, keys=tuple(keys))


@dataclass(frozen=True, slots=True)
class Watch:
    """``-w PATH [-p PERMS] [-k KEY]`` (``delete`` for ``-W``).  At load auditctl turns it into an
    exit-list ``always`` rule on all syscalls with ``dir=PATH`` if PATH is a directory then,
    else ``path=PATH``, and ``perm=`` (``rwxa`` without ``-p``)."""

    path: str
    perms: int = 15
    keys: tuple[str, ...] = ()
    delete: bool = False
    location: Location = field(default=Location(), compare=False)
    text: str = field(default="", compare=False)
    host: str = field(default="x86_64", compare=False)

    @property
    def perm_text(self) -> str:
        return perm_text(self.perms)

    def to_rule(self, is_dir: bool | None = None) -> Rule:
        """The rule auditctl sends.  ``is_dir`` None: stat the path on this host, as auditctl does."""
        if is_dir is None:
            import os

            is_dir = os.path.isdir(self.path)
        f = Field("dir" if is_dir else "path", "=", self.path, self.path)
        return Rule("always", "exit", (f, Field("perm", "=", self.perms, perm_text(self.perms))),
                    SyscallSet(self.host, all=True), self.keys,
                    "delete" if self.delete else "append", self.location, self.text, self.host)

    def with_keys(self, keys: tuple[str, ...]) -> "Watch":
        return replace(self, keys=tuple(keys))


#: control options tracerule recognises in rules files, as written on the command line
CONTROL_OPTIONS = ("-D", "-b", "-f", "-e", "-r", "--backlog_wait_time", "--loginuid-immutable",
                   "-i", "-c", "--reset-lost", "--reset_backlog_wait_time_actual")


@dataclass(frozen=True, slots=True)
class ControlLine:
    """A setting, not a rule: ``-D``, ``-b 8192``, ``-e 2`` ..."""

    option: str
    value: str | None = None
    keys: tuple[str, ...] = ()   #: ``-D -k KEY`` deletes only rules with that key
    location: Location = field(default=Location(), compare=False)
    text: str = field(default="", compare=False)

    def render(self) -> str:
        s = self.option if self.value is None else f"{self.option} {self.value}"
        for k in self.keys:
            s += f" -k {k}"
        return s


Item = Union[Rule, Watch, ControlLine]
