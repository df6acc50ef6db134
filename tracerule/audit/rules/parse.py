"""Read audit rules as auditctl 3.0.9 reads them: rules files, rules.d directories, command lines.

* :func:`parse_args` -- one auditctl command line (a list of words) -> items, diagnostics
* :func:`parse_line` -- one rules-file line (``\\ `` escapes a space, ``#`` first word = comment)
* :func:`parse_text` / :func:`parse_file` -- a whole file: every line read or refused, all refusals
  collected (auditctl itself stops at the first one unless ``-c``/``-i``)
* :func:`parse_dir` -- a ``rules.d`` directory in augenrules order (``*.rules``, sorted by name)
* :func:`iter_items` -- streaming form: yields ``(item_or_None, [Diagnostic...])`` per line

A refusal is a :class:`tracerule.errors.Diagnostic` (severity ERROR, code ``R001`` for auditctl's
own refusals, ``R002`` for the kernel's EINVAL, ``R003`` for host checks that the kernel would
refuse with ENOENT, ``R004`` duplicate rule) whose message is the reason auditctl prints, at
file:line:column of the word that caused it.  Warnings auditctl prints (arch mismatch, relative
path notation) come as severity MEDIUM/LOW with code ``R1xx``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tracerule.audit.rules import fields as F
from tracerule.audit.rules.classes import CLASS_SELECTORS, selector_members
from tracerule.audit.rules.model import (KEY_SEPARATOR, MAX_FIELDS, MAX_KEY_LEN, PERM_BITS,
                                         ControlLine, Field, Item, Location, Rule, SyscallSet, Watch)
from tracerule.audit.tables import canonical_arch, table
from tracerule.errors import Diagnostic, Severity

__all__ = ["ParseResult", "ParseOptions", "parse_args", "parse_line", "parse_text", "parse_file",
           "parse_dir", "iter_items", "split_line", "rules_d_files"]

_SHORT_ARG = set("aAdSFCwWkpefrbRmq")
_SHORT_NOARG = set("DlsihvtcL")
_LONG = {"loginuid-immutable": False, "backlog_wait_time": True, "reset-lost": False,
         "reset_backlog_wait_time_actual": False, "signal": True}
_LISTS_309 = ("user", "task", "exit", "exclude", "filesystem")   # 3.0.9 lookup_filter
_ACTIONS_309 = ("never", "always")


@dataclass(frozen=True)
class ParseOptions:
    host: str = "x86_64"                      #: the machine auditctl would run on (b64/b32, no arch)
    user: Callable[[str], int | None] | None = None    #: name -> uid (default: getpwnam here)
    group: Callable[[str], int | None] | None = None   #: name -> gid (default: getgrnam here)
    kernel_checks: bool = True                #: also refuse what the kernel refuses with EINVAL
    host_checks: bool = False                 #: refuse what would fail with ENOENT on this host
    is_dir: Callable[[str], bool] = os.path.isdir   #: how -w decides dir= vs path=


@dataclass
class ParseResult:
    items: list[Item] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: int = 0          #: lines read
    refused: int = 0        #: lines refused

    @property
    def rules(self) -> list[Rule | Watch]:
        return [i for i in self.items if not isinstance(i, ControlLine)]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def extend(self, other: "ParseResult") -> None:
        self.items.extend(other.items)
        self.diagnostics.extend(other.diagnostics)
        self.lines += other.lines
        self.refused += other.refused


class _Refusal(Exception):
    def __init__(self, message: str, column: int, code: str = "R001") -> None:
        super().__init__(message)
        self.column = column
        self.code = code


# -- tokenising -----------------------------------------------------------------------------------

def split_line(line: str) -> list[tuple[str, int]]:
    """Words of a rules-file line with their 1-based columns, as auditctl's fileopt splits them:
    on spaces only, ``\\ `` is a literal space and ``\\\\`` a backslash."""
    out: list[tuple[str, int]] = []
    cur: list[str] = []
    start = 0
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n and line[i + 1] in " \\":
            if not cur:
                start = i + 1
            cur.append(line[i + 1])
            i += 2
            continue
        if c == " ":
            if cur:
                out.append(("".join(cur), start))
                cur = []
            i += 1
            continue
        if not cur:
            start = i + 1
        cur.append(c)
        i += 1
    if cur:
        out.append(("".join(cur), start))
    return out


# -- one command line -----------------------------------------------------------------------------

class _State:
    """What auditctl's setopt keeps for one line (reset_vars)."""

    def __init__(self, opts: ParseOptions) -> None:
        self.opts = opts
        self.add: str | None = None          # "append"/"prepend"
        self.delete = False
        self.action: str | None = None
        self.list: str | None = None
        self.terms: list = []                # Field | Comparison | ("watch", path, col)
        self.watch_path: str | None = None
        self.watch_col = 0
        self.numbers: set[int] = set()
        self.all = False
        self.syscall_arch: str | None = None
        self.keys: list[str] = []
        self.keylen = 0
        self.controls: list[ControlLine] = []
        self.ctx = F.FieldContext(list="", host=opts.host)
        if opts.user is not None:
            self.ctx.user = opts.user
        if opts.group is not None:
            self.ctx.group = opts.group
        self.warnings: list[tuple[str, int, str]] = []

    @property
    def has_list(self) -> bool:
        return self.list is not None


def _getopt(words: list[tuple[str, int]]) -> Iterator[tuple[str, str | None, int, int]]:
    """GNU getopt_long over ``words``: yields (option, argument, column, arg column); non-options
    are yielded last as ("", word, column, column) (GNU permutes them to the end)."""
    stray: list[tuple[str, int]] = []
    i, n = 0, len(words)
    while i < n:
        w, col = words[i]
        if w == "--":
            stray.extend(words[i + 1:])
            break
        if w.startswith("--") and len(w) > 2:
            name, eq, val = w[2:].partition("=")
            matches = [k for k in _LONG if k == name] or [k for k in _LONG if k.startswith(name)]
            if len(matches) != 1:
                yield ("?", w, col, col)
                i += 1
                continue
            opt = matches[0]
            if _LONG[opt]:
                if eq:
                    yield ("--" + opt, val, col, col)
                elif i + 1 < n:
                    yield ("--" + opt, words[i + 1][0], col, words[i + 1][1])
                    i += 1
                else:
                    yield ("?", w, col, col)
            else:
                yield ("--" + opt, None, col, col)
            i += 1
            continue
        if w.startswith("-") and len(w) > 1:
            j = 1
            while j < len(w):
                c = w[j]
                if c in _SHORT_ARG:
                    if j + 1 < len(w):
                        yield ("-" + c, w[j + 1:], col, col + j + 1)
                    elif i + 1 < n:
                        yield ("-" + c, words[i + 1][0], col, words[i + 1][1])
                        i += 1
                    else:
                        yield ("?", "-" + c, col, col)
                    break
                if c in _SHORT_NOARG:
                    yield ("-" + c, None, col, col)
                    j += 1
                    continue
                yield ("?", "-" + c, col, col)
                break
            i += 1
            continue
        stray.append((w, col))
        i += 1
    for w, col in stray:
        yield ("", w, col, col)


def _rule_setup(arg: str, col: int, st: _State, verb: str) -> None:
    if st.add is not None or st.delete:
        raise _Refusal("Multiple rule insert/delete operations are not allowed", col)
    parts = arg.split(",")
    bad = _Refusal(f"{verb} - bad keyword {arg}", col)
    if len(parts) != 2:
        raise bad
    a, b = parts
    if a in _ACTIONS_309 and b in _LISTS_309:
        st.action, st.list = a, b
    elif b in _ACTIONS_309 and a in _LISTS_309:
        st.action, st.list = b, a
    else:
        raise bad
    st.ctx.list = st.list


def _resolve_syscalls(arg: str, col: int, st: _State) -> None:
    lst = st.list
    if lst == "task":
        raise _Refusal("Error: syscall auditing being added to task list", col)
    if lst == "user":
        raise _Refusal("Error: syscall auditing being added to user list", col)
    if lst == "filesystem":
        raise _Refusal("Error: syscall auditing being added to filesystem list", col)
    if lst == "exclude":
        raise _Refusal("Error: syscall auditing cannot be put on exclude list", col)
    unknown_arch = st.ctx.elf is None
    arch = st.opts.host if unknown_arch else (F.machine_of_elf(st.ctx.elf) or st.opts.host)
    arch = _table_arch(arch)
    st.syscall_arch = arch
    t = table(arch)
    off = 0
    added: list[int] = []
    for name in arg.split(","):
        if name == "all":
            st.all = True
        else:
            nr = t.nr(name) if t.auditctl_knows(name) else None
            if nr is None and name[:1].isdigit():
                nr = F.c_strtol(name)
            if nr is None or nr < 0 or nr >= 2048:
                raise _Refusal(f"Syscall name unknown: {name}", col + off)
            added.append(nr)
        off += len(name) + 1
    st.ctx.syscall_added = True
    for nr in added:
        if nr in CLASS_SELECTORS:
            st.numbers.update(selector_members(nr, _host_arch(st.opts.host)))
        else:
            st.numbers.add(nr)
    if unknown_arch and st.add is not None and not st.all:
        compat = F._COMPAT.get(_host_arch(st.opts.host))
        if compat:
            ct = table(_table_arch(compat))
            for name in arg.split(","):
                if name == "all" or name[:1].isdigit():
                    continue
                if ct.nr(name) != t.nr(name):
                    st.warnings.append(("WARNING - 32/64 bit syscall mismatch, you should specify an arch",
                                        col, "R101"))
                    break


def _host_arch(host: str) -> str:
    return canonical_arch(host)


def _table_arch(arch: str) -> str:
    a = canonical_arch(arch)
    return {"ppc64": "ppc64le", "ppc": "ppc64le", "s390": "s390x"}.get(a, a)


def _add_key(value: str, col: int, st: _State) -> None:
    cur = len(KEY_SEPARATOR.join(st.keys).encode())
    if len(value.encode()) + cur + (1 if st.keys else 0) > MAX_KEY_LEN:
        raise _Refusal("key option exceeds size limit", col)
    st.keys.append(value)


def _field_count(st: _State) -> int:
    return len(st.terms)


def parse_args(words: list[str] | list[tuple[str, int]], *, location: Location = Location(),
               text: str = "", options: ParseOptions | None = None
               ) -> tuple[list[Item], list[Diagnostic]]:
    """One auditctl invocation (without the program name) -> (items, diagnostics)."""
    opts = options or ParseOptions()
    ws: list[tuple[str, int]] = [w if isinstance(w, tuple) else (w, 0) for w in words]  # type: ignore[misc]
    st = _State(opts)
    diags: list[Diagnostic] = []
    try:
        item = _run(ws, st)
    except _Refusal as r:
        diags.append(Diagnostic(location.file, location.line, str(r), Severity.ERROR,
                                r.column, r.code, text[:200]))
        return [], diags
    for msg, col, code in st.warnings:
        diags.append(Diagnostic(location.file, location.line, msg, Severity.MEDIUM, col, code, text[:200]))
    items: list[Item] = []
    for c in st.controls:
        items.append(ControlLine(c.option, c.value, c.keys, Location(location.file, location.line,
                                                                     c.location.column), text))
    if item is not None:
        kind, obj = item
        loc = Location(location.file, location.line, ws[0][1] if ws else 0)
        if kind == "watch":
            obj = Watch(obj["path"], obj["perms"], tuple(st.keys), st.delete, loc, text, opts.host)
        else:
            obj = Rule(st.action or "always", st.list or "exit", tuple(st.terms), obj, tuple(st.keys),
                       "delete" if st.delete else st.add or "append", loc, text, opts.host)
            if opts.kernel_checks:
                why = F.kernel_refusal(obj.fields, obj.list)
                if why is not None:
                    verb = "delete" if st.delete else "add"
                    diags.append(Diagnostic(location.file, location.line,
                                            f"Error sending {verb} rule data request (Invalid argument): {why}",
                                            Severity.ERROR, loc.column, "R002", text[:200]))
                    return items, diags
        if opts.host_checks:
            why = host_refusal(obj, opts)
            if why is not None:
                diags.append(Diagnostic(location.file, location.line,
                                        f"Error sending add rule data request (No such file or directory): {why}",
                                        Severity.ERROR, loc.column, "R003", text[:200]))
                return items, diags
        items.append(obj)
    return items, diags


def host_refusal(item: Rule | Watch, opts: ParseOptions) -> str | None:
    """ENOENT the kernel would give on this host: dir= missing, watch/exe parent missing."""
    if isinstance(item, Watch):
        parent = os.path.dirname(item.path) or "/"
        if not os.path.isdir(parent) and not opts.is_dir(item.path):
            return f"parent directory of {item.path} does not exist"
        return None
    for f in item.fields:
        if isinstance(f, Field) and f.name == "dir" and not os.path.isdir(str(f.value)):
            return f"{f.value} does not exist"
        if isinstance(f, Field) and f.name in ("path", "exe"):
            parent = os.path.dirname(str(f.value)) or "/"
            if not os.path.isdir(parent):
                return f"parent directory of {f.value} does not exist"
    return None


def _run(ws: list[tuple[str, int]], st: _State):
    opts = st.opts
    for opt, arg, col, acol in _getopt(ws):
        if opt == "?":
            raise _Refusal(f"Option {arg} is invalid", col)
        if opt == "":
            raise _Refusal("parameter passed without an option given", col)
        assert arg is not None or opt in ("-D", "-l", "-s", "-i", "-h", "-v", "-t", "-c", "-L",
                                          "--loginuid-immutable", "--reset-lost",
                                          "--reset_backlog_wait_time_actual")
        if opt in ("-a", "-A", "-d"):
            if opt != "-d" and "task" in arg and st.ctx.syscall_added:   # type: ignore[operator]
                raise _Refusal("Syscall auditing requested for task list" if opt == "-a"
                               else "Error: syscall auditing requested for task list", col)
            _rule_setup(arg, acol, st, {"-a": "Append rule", "-A": "Add rule", "-d": "Delete rule"}[opt])  # type: ignore[arg-type]
            if opt == "-d":
                st.delete = True
            else:
                st.add = "prepend" if opt == "-A" else "append"
        elif opt == "-S":
            _resolve_syscalls(arg, acol, st)   # type: ignore[arg-type]
        elif opt == "-F":
            if not st.has_list:
                raise _Refusal("List must be given before field", col)
            if arg.startswith("key="):   # type: ignore[union-attr]
                _add_key(arg[4:], acol, st)   # type: ignore[index]
                continue
            if _field_count(st) >= MAX_FIELDS - 1:
                raise _Refusal(f"Too many fields in rule: {arg}", acol)
            try:
                fld = F.parse_field(arg, st.ctx)   # type: ignore[arg-type]
            except F.FieldError as e:
                raise _Refusal(str(e), acol) from None
            st.terms.append(fld)
            # auditctl 3.0.9 setopt 'F': a field whose type is AUDIT_PERM sets _audit_permadded
            # (path=/dir= set it inside audit_rule_fieldpair_data, exe= sets _audit_exeadded), so
            # '-F perm=x -k K' is accepted without -S
            if fld.name == "perm":
                st.ctx.perm_added = True
        elif opt == "-C":
            if _field_count(st) >= MAX_FIELDS - 1:
                raise _Refusal(f"Too many fields in rule: {arg}", acol)
            try:
                st.terms.append(F.parse_comparison(arg, st.list or ""))   # type: ignore[arg-type]
            except F.FieldError as e:
                raise _Refusal(str(e), acol) from None
        elif opt in ("-w", "-W"):
            if opt == "-w" and (st.add is not None or st.delete):
                raise _Refusal("watch option can't be given with a syscall", col)
            path = arg or ""
            if not path.startswith("/"):
                raise _Refusal("The path must start with '/'", acol)
            if ".." in path:
                st.warnings.append(("Warning - relative path notation is not supported", acol, "R102"))
            if len(path) > 2:
                while len(path) > 1 and path.endswith("/"):
                    path = path[:-1]
            if len(os.path.basename(path).encode()) > 255:
                raise _Refusal("The base name of the path is too big", acol)
            if st.terms:
                raise _Refusal("Rule is not empty", acol)
            if opt == "-w":
                st.add = "append"
            else:
                st.delete = True
            st.action, st.list = "always", "exit"
            st.ctx.list = "exit"
            st.ctx.syscall_added = True
            st.ctx.perm_added = True
            st.watch_path, st.watch_col = path, acol
            kind = "dir" if opts.is_dir(path) else "path"
            st.terms.append(Field(kind, "=", path, path))
            st.terms.append(Field("perm", "=", 15, "rwxa"))
            st.all = True
        elif opt == "-p":
            if not st.has_list:
                raise _Refusal("permission option needs a watch given prior to it", col)
            p = arg or ""
            if len(p) > 4:
                raise _Refusal(f"permission {p} is too long", acol)
            bits = 0
            for ch in p.lower():
                if ch not in PERM_BITS:
                    raise _Refusal(f"Permission {p} isn't supported", acol)
                bits |= PERM_BITS[ch]
            if not st.terms:
                raise _Refusal("Permissions should be preceeded by other fields", acol)
            done = False
            for i, t in enumerate(st.terms):
                if isinstance(t, Field) and t.name == "perm":
                    st.terms[i] = Field("perm", "=", bits, p)
                    done = True
            if not done:
                if _field_count(st) >= MAX_FIELDS - 1:
                    raise _Refusal(f"Too many fields in rule: {p}", acol)
                st.terms.append(Field("perm", "=", bits, p))
            st.ctx.perm_added = True
        elif opt == "-k":
            c = st.ctx
            if not (c.syscall_added or c.perm_added or c.exe_added or c.fs_added) or not st.has_list:
                raise _Refusal("key option needs a watch or syscall given prior to it", col)
            _add_key(arg or "", acol, st)
        elif opt in ("-e", "-f"):
            if arg not in ("0", "1", "2"):
                what = "Enable" if opt == "-e" else "Failure"
                raise _Refusal(f"{what} must be 0, 1, or 2 was {arg}", acol)
            st.controls.append(ControlLine(opt, arg, (), Location(column=col)))
        elif opt in ("-r", "-b", "--backlog_wait_time"):
            if not (arg or "")[:1].isdigit():
                what = {"-r": "Rate", "-b": "Backlog", "--backlog_wait_time": "Backlog_wait_time"}[opt]
                raise _Refusal(f"{what} must be a numeric value was {arg}", acol)
            st.controls.append(ControlLine(opt, arg, (), Location(column=col)))
        elif opt in ("-D", "-i", "-c", "--loginuid-immutable", "--reset-lost",
                     "--reset_backlog_wait_time_actual"):
            st.controls.append(ControlLine(opt, None, (), Location(column=col)))
        elif opt == "-R":
            raise _Refusal("Error - nested rule files not supported", col)
        else:
            raise _Refusal(f"{opt} is a query or one-off action, not a rule or setting", col, "R005")
    # -D -k KEY: the key belongs to the delete-all
    if st.controls and st.controls[-1].option == "-D" and st.keys and not st.has_list:
        c = st.controls[-1]
        st.controls[-1] = ControlLine("-D", None, tuple(st.keys), c.location)
        return None
    if st.keys:
        if _field_count(st) >= MAX_FIELDS - 1:
            raise _Refusal(f"Too many fields in rule: key={KEY_SEPARATOR.join(st.keys)}", ws[-1][1])
        c = st.ctx
        if st.list == "exclude":
            raise _Refusal("Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter",
                           ws[-1][1])
        if not (c.syscall_added or c.perm_added or c.exe_added or c.fs_added):
            raise _Refusal("Key field needs a watch, syscall or exe path given prior to it", _key_col(ws))
    if not st.has_list:
        if st.ctx.syscall_added:
            raise _Refusal("Error - no list specified", ws[0][1] if ws else 0)
        return None
    if st.watch_path is not None and _is_plain_watch(st):
        return ("watch", {"path": st.watch_path, "perms": _perm_of(st)})
    if st.list in ("exit",):
        sc = SyscallSet(st.syscall_arch or _table_arch(
            F.machine_of_elf(st.ctx.elf) if st.ctx.elf is not None else opts.host),
            frozenset(st.numbers), st.all or not st.ctx.syscall_added)
        if sc.all:
            sc = SyscallSet(sc.arch, frozenset(), True)
    else:
        sc = None
    return ("rule", sc)


def _key_col(ws: list[tuple[str, int]]) -> int:
    for i, (w, col) in enumerate(ws):
        if w.startswith("-F") and "key=" in (w[2:] or (ws[i + 1][0] if i + 1 < len(ws) else "")):
            return ws[i + 1][1] if w == "-F" and i + 1 < len(ws) else col
    return ws[-1][1] if ws else 0


def _perm_of(st: _State) -> int:
    for t in st.terms:
        if isinstance(t, Field) and t.name == "perm":
            return int(t.value)
    return 15


def _is_plain_watch(st: _State) -> bool:
    return all(isinstance(t, Field) and t.name in ("path", "dir", "perm") for t in st.terms)


# -- files --------------------------------------------------------------------------------------

def parse_line(line: str, *, file: str = "", lineno: int = 0,
               options: ParseOptions | None = None) -> tuple[list[Item], list[Diagnostic]]:
    """One line of a rules file (blank lines and comments give nothing)."""
    words = split_line(line.rstrip("\n"))
    if not words or words[0][0].startswith("#"):
        return [], []
    if all(not w.strip() for w, _ in words):
        return [], []
    return parse_args(words, location=Location(file, lineno), text=line.rstrip("\n"), options=options)


def iter_items(lines: Iterable[str], *, file: str = "", options: ParseOptions | None = None
               ) -> Iterator[tuple[int, list[Item], list[Diagnostic]]]:
    """Streaming: ``(lineno, items, diagnostics)`` for each line that is not blank or a comment."""
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip(" ") or line.lstrip(" ").startswith("#"):
            continue
        try:
            items, diags = parse_line(line, file=file, lineno=n, options=options)
        except Exception as exc:   # never lose the rest of the file to one odd line
            items, diags = [], [Diagnostic(file, n, f"internal error reading this line: {exc!r}",
                                           Severity.ERROR, 0, "R999", line[:200])]
        if items or diags:
            yield n, items, diags


def parse_text(text: str, *, file: str = "<input>", options: ParseOptions | None = None,
               duplicates: bool = True) -> ParseResult:
    res = ParseResult()
    seen: dict[str, int] = {}
    from tracerule.audit.rules.emit import canonical

    nlines = 0
    for n, items, diags in iter_items(text.splitlines(), file=file, options=options):
        nlines += 1
        if any(d.severity is Severity.ERROR for d in diags):
            res.refused += 1
        res.diagnostics.extend(diags)
        for it in items:
            if duplicates and isinstance(it, (Rule, Watch)) and not getattr(it, "delete", False) \
                    and getattr(it, "op", "append") != "delete":
                # compare only (check=False): a valid rule need not be one tracerule would write
                # back (``-w /tmp/a\\ b``); refusing here would abort the whole file
                key = canonical(it, check=False)
                if isinstance(it, Rule):
                    key += "|" + it.key
                if key in seen:
                    res.diagnostics.append(Diagnostic(
                        file, n, f"Error sending add rule data request (Rule exists): same rule as line {seen[key]}",
                        Severity.ERROR, it.location.column, "R004", it.text[:200]))
                    res.refused += 1
                    continue
                seen[key] = n
            res.items.append(it)
    res.lines = len(text.splitlines())
    return res


def parse_file(path: str | os.PathLike, *, options: ParseOptions | None = None) -> ParseResult:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        res = ParseResult()
        res.diagnostics.append(Diagnostic(str(p), 0, f"cannot read: {exc.strerror or exc}",
                                          Severity.ERROR, 0, "R000"))
        return res
    return parse_text(text, file=str(p), options=options)


def rules_d_files(directory: str | os.PathLike) -> list[Path]:
    """augenrules order: the ``*.rules`` files of the directory, sorted by name (C locale)."""
    d = Path(directory)
    return sorted((p for p in d.iterdir() if p.name.endswith(".rules") and p.is_file()),
                  key=lambda p: p.name.encode())


def parse_dir(directory: str | os.PathLike, *, options: ParseOptions | None = None) -> ParseResult:
    res = ParseResult()
    for p in rules_d_files(directory):
        res.extend(parse_file(p, options=options))
    return res


def parse_paths(paths: Iterable[str | os.PathLike], *, options: ParseOptions | None = None) -> ParseResult:
    """Files and rules.d directories, in the order given."""
    res = ParseResult()
    for p in paths:
        if Path(p).is_dir():
            res.extend(parse_dir(p, options=options))
        else:
            res.extend(parse_file(p, options=options))
    return res
