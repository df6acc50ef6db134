"""Lint machinery: :class:`Finding`, the ordered check table, the context the checks read."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from tracerule.audit.rules.model import Comparison, ControlLine, Field, Item, Rule, SyscallSet, Watch
from tracerule.errors import Diagnostic, Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong, where, and the one-line fix.  ``line`` is 1-based (0: the whole input)."""

    id: str
    severity: Severity
    file: str
    line: int
    message: str
    fix: str

    def as_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity.value, "file": self.file, "line": self.line,
                "message": self.message, "fix": self.fix}

    def __str__(self) -> str:
        loc = f"{self.file or '<input>'}:{self.line}" if self.line else (self.file or "<input>")
        return f"{loc}: {self.severity.value} [{self.id}] {self.message} (fix: {self.fix})"


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity          #: the severity its findings carry (the worst one where noted)
    title: str
    func: Callable[["Context"], Iterable[Finding]] = field(repr=False, compare=False)
    host: bool = False          #: reads this host (filesystem); skipped with host_checks=False


#: the ordered check table (filled by :mod:`tracerule.audit.lint.checks`)
CHECKS: list[Check] = []


def check(id: str, severity: str, title: str, *, host: bool = False):
    """Register a check function under a stable ID."""
    def deco(func):
        if any(c.id == id for c in CHECKS):
            raise ValueError(f"duplicate lint check id {id}")
        CHECKS.append(Check(id, Severity(severity), title, func, host))
        func.check_id = id
        return func
    return deco


def by_id(id: str) -> Check:
    for c in CHECKS:
        if c.id == id:
            return c
    raise KeyError(id)


@dataclass
class Entry:
    """A loaded rule as the kernel sees it (watches converted), with where it came from."""

    item: Rule | Watch
    rule: Rule
    index: int                  #: position in source order

    @property
    def file(self) -> str:
        return self.item.location.file

    @property
    def line(self) -> int:
        return self.item.location.line


@dataclass
class Context:
    """What every check reads."""

    items: list[Item]                       #: every accepted item, in load order (files, then lines)
    diagnostics: list[Diagnostic]           #: parser refusals and warnings
    recovered: dict[tuple[str, int], str]   #: (file, line) -> how a refused line was read anyway
    host: str = "x86_64"                    #: the target machine (b64 = host, b32 = its compat ABI)
    host_checks: bool = True
    version: str = "3.0.9"
    texts: dict[str, list[str]] = field(default_factory=dict)   #: file -> its lines
    unknown_ids: list[tuple[str, int, str, str]] = field(default_factory=list)  #: file, line, kind, name
    _entries: list[Entry] | None = None
    _loaded: list[Entry] | None = None

    # -- helpers ------------------------------------------------------------------------------
    def is_dir(self, path: str) -> bool:
        return self.host_checks and os.path.isdir(path)

    def finding(self, check_id: str, where, message: str, fix: str,
                severity: Severity | str | None = None) -> Finding:
        c = by_id(check_id)
        sev = c.severity if severity is None else Severity(severity)
        if isinstance(where, tuple):
            file, line = where
        elif isinstance(where, Entry):
            file, line = where.file, where.line
        else:
            loc = where.location
            file, line = loc.file, loc.line
        return Finding(check_id, sev, file, line, message, fix)

    def as_rule(self, item: Rule | Watch) -> Rule:
        if isinstance(item, Watch):
            return item.to_rule(self.is_dir(item.path) or _text_says_dir(item))
        return item

    @property
    def entries(self) -> list[Entry]:
        """Every rule or watch in source order (control lines left out)."""
        if self._entries is None:
            self._entries = [Entry(it, self.as_rule(it), i) for i, it in enumerate(self.items)
                             if not isinstance(it, ControlLine)]
        return self._entries

    @property
    def loaded(self) -> list[Entry]:
        """The rules left loaded, in the kernel's evaluation order per list (``-D`` clears,
        ``-A`` goes first, ``-d``/``-W`` delete, an identical rule is refused)."""
        if self._loaded is None:
            self._loaded = _load_order(self)
        return self._loaded

    def line_text(self, file: str, line: int) -> str | None:
        lines = self.texts.get(file)
        if lines is None or not 0 < line <= len(lines):
            return None
        return lines[line - 1]


def _text_says_dir(w: Watch) -> bool:
    """Without host checks: ``-w /some/dir/`` (a trailing slash) is a directory."""
    for word in w.text.split():
        if word.rstrip("/") == w.path and word.endswith("/") and len(word) > 1:
            return True
    return False


def identity(rule: Rule) -> tuple:
    """What the kernel compares to say "Rule exists"."""
    sc = rule.syscalls
    mask = None if sc is None else (("all",) if sc.all else tuple(sorted(sc.numbers)))
    return (rule.action, rule.list, rule.fields, mask, rule.keys)


def _load_order(ctx: Context) -> list[Entry]:
    lists: dict[str, list[Entry]] = {}
    eidx = {id(e.item): e for e in ctx.entries}
    for it in ctx.items:
        if isinstance(it, ControlLine):
            if it.option == "-D":
                for n in lists:
                    lists[n] = [e for e in lists[n] if it.keys and e.rule.keys != it.keys]
            continue
        e = eidx[id(it)]
        r = e.rule
        bucket = lists.setdefault(r.list, [])
        deleting = (isinstance(it, Watch) and it.delete) or (isinstance(it, Rule) and it.op == "delete")
        ident = identity(r if r.op != "delete" else _undelete(r))
        if deleting:
            bucket[:] = [x for x in bucket if identity(x.rule) != ident]
            continue
        if any(identity(x.rule) == ident for x in bucket):
            continue
        if isinstance(it, Rule) and it.op == "prepend":
            bucket.insert(0, e)
        else:
            bucket.append(e)
    return [e for n in ("user", "task", "exit", "exclude", "filesystem", "io_uring")
            for e in lists.get(n, [])]


def _undelete(r: Rule) -> Rule:
    from dataclasses import replace

    return replace(r, op="append")


def terms(rule: Rule) -> Iterator[Field | Comparison]:
    yield from rule.fields


def numbers_of(sc: SyscallSet | None) -> frozenset[int]:
    return frozenset() if sc is None else sc.numbers
