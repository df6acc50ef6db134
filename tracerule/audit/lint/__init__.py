"""``tracerule lint``: what is wrong with an existing audit rule set, and how to fix it.

    from tracerule.audit.lint import lint, CHECKS
    for f in lint(["/etc/audit/rules.d"]):      # files or rules.d directories (augenrules order)
        print(f.id, f.severity.value, f"{f.file}:{f.line}", f.message, "->", f.fix)

Every check is a small function in :mod:`tracerule.audit.lint.checks` registered under a stable ID
(``TR101`` ...) with a severity; :data:`CHECKS` is the ordered table.  Findings are data
(:class:`Finding`), all collected; lines auditctl refuses are findings too (they stop ``auditctl -R``).
Host checks (symlinks, missing paths, unknown users) read *this* host; ``host_checks=False`` skips them.
"""
from __future__ import annotations

import grp
import os
import pwd
import zlib
from pathlib import Path
from typing import Iterable

from tracerule.audit.lint.core import CHECKS, Check, Context, Finding, by_id
from tracerule.audit.lint import checks as _checks  # noqa: F401  (registers the checks)
from tracerule.audit.rules.model import ControlLine, Item, Rule, Watch
from tracerule.audit.rules.parse import ParseOptions, ParseResult, iter_items, parse_line, rules_d_files, split_line
from tracerule.audit.tables import UnknownArch, canonical_arch, resolve_arch, table
from tracerule.errors import InputError, Severity

__all__ = ["lint", "lint_text", "Finding", "Check", "CHECKS", "by_id", "worst", "exit_code",
           "SCHEMA_VERSION", "to_json", "host_arch"]

SCHEMA_VERSION = 1
_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.ERROR: 4}


def host_arch() -> str:
    """This machine, as a syscall-table arch name."""
    import platform

    m = canonical_arch(platform.machine() or "x86_64")
    return {"ppc64": "ppc64le", "s390": "s390x"}.get(m, m)


def lint(items_or_paths, *, arch: str | None = "x86_64", host_checks: bool = True,
         auditctl_version: str = "3.0.9", user=None, group=None) -> list[Finding]:
    """Lint rules files / rules.d directories (a path or a list of paths), a :class:`ParseResult`, or
    a list of parsed items.  ``arch``: the target machine (``b64`` means it, ``b32`` its compat ABI).
    ``user``/``group``: name -> id lookups (default: this host's, when ``host_checks``).
    Raises :class:`InputError` for a path that does not exist or cannot be read."""
    host = _arch(arch)
    ctx = Context([], [], {}, host, host_checks, auditctl_version)
    ctx.user_lookup, ctx.group_lookup = user, group  # type: ignore[attr-defined]
    if isinstance(items_or_paths, ParseResult):
        ctx.items = list(items_or_paths.items)
        ctx.diagnostics = list(items_or_paths.diagnostics)
    else:
        seq = [items_or_paths] if isinstance(items_or_paths, (str, os.PathLike)) else list(items_or_paths)
        if seq and all(isinstance(x, (Rule, Watch, ControlLine)) for x in seq):
            ctx.items = seq
        else:
            for p in seq:
                if not isinstance(p, (str, os.PathLike)):
                    raise TypeError(f"lint: expected paths or rule items, got {type(p).__name__}")
            for f in _files(seq):
                try:
                    text = Path(f).read_text(encoding="utf-8", errors="surrogateescape")
                except OSError as exc:
                    raise InputError(f"{f}: cannot read: {exc.strerror or exc}") from None
                _parse_into(ctx, text, str(f))
    return run(ctx)


def lint_text(text: str, *, file: str = "<input>", arch: str | None = "x86_64", host_checks: bool = True,
              auditctl_version: str = "3.0.9", user=None, group=None) -> list[Finding]:
    """Lint the text of one rules file (tests, editors)."""
    ctx = Context([], [], {}, _arch(arch), host_checks, auditctl_version)
    ctx.user_lookup, ctx.group_lookup = user, group  # type: ignore[attr-defined]
    _parse_into(ctx, text, file)
    return run(ctx)


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for c in CHECKS:
        if c.host and not ctx.host_checks:
            continue
        out.extend(c.func(ctx))
    order = {f: i for i, f in enumerate(dict.fromkeys(
        [it.location.file for it in ctx.items] + [d.file for d in ctx.diagnostics] + list(ctx.texts)))}
    ids = {c.id: i for i, c in enumerate(CHECKS)}
    out = list(dict.fromkeys(out))
    out.sort(key=lambda f: (order.get(f.file, len(order)), f.line, ids.get(f.id, 0)))
    return out


def _arch(arch: str | None) -> str:
    try:
        a = resolve_arch(canonical_arch(arch or host_arch()))
    except UnknownArch as exc:
        raise InputError(f"--arch: {exc}") from None
    a = {"ppc64": "ppc64le", "s390": "s390x"}.get(a, a)
    try:
        table(a)
    except UnknownArch as exc:
        raise InputError(f"--arch: {exc}") from None
    return a


def _files(paths) -> list[Path]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            try:
                out.extend(rules_d_files(p))
            except OSError as exc:
                raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    return out


def _lookups(ctx: Context):
    """Name lookups that never refuse (the parse goes on) and record what this host lacks."""
    pending: list[tuple[str, str]] = []
    user = getattr(ctx, "user_lookup", None) or (_pw if ctx.host_checks else None)
    group = getattr(ctx, "group_lookup", None) or (_gr if ctx.host_checks else None)

    def mk(kind, real):
        def look(name: str) -> int:
            v = real(name) if real is not None else None
            if v is None:
                if real is not None:
                    pending.append((kind, name))
                return 0x7FFF0000 + (zlib.crc32(name.encode()) & 0xFFFF)
            return v
        return look
    return mk("user", user), mk("group", group), pending


def _pw(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except (KeyError, UnicodeError, ValueError):
        return None


def _gr(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except (KeyError, UnicodeError, ValueError):
        return None


def _parse_into(ctx: Context, text: str, file: str) -> None:
    lines = text.splitlines()
    ctx.texts[file] = lines
    user, group, pending = _lookups(ctx)
    opts = ParseOptions(host=ctx.host, user=user, group=group, kernel_checks=True, host_checks=False,
                        is_dir=ctx.is_dir)
    got: list[tuple[int, Item]] = []
    for n, items, diags in iter_items(lines, file=file, options=opts):
        for kind, name in pending:
            ctx.unknown_ids.append((file, n, kind, name))
        pending.clear()
        errs = [d for d in diags if d.severity is Severity.ERROR]
        if errs and errs[0].code == "R001" and errs[0].message.startswith("Syscall name unknown: "):
            items, diags = _recover(ctx, lines[n - 1], file, n, opts, diags)
            pending.clear()
        ctx.diagnostics.extend(diags)
        got.extend((n, it) for it in items)
    ctx.items.extend(it for _, it in got)


def _recover(ctx: Context, line: str, file: str, n: int, opts: ParseOptions, diags):
    """A line refused for a syscall name: note each name (unknown on the arch, or unknown only to
    auditctl), and read the line with the names auditctl lacks given by number."""
    how: list[tuple[str, str, str, int | None]] = []
    _items: list = []
    text = line
    for _ in range(32):
        d = next((x for x in diags if x.severity is Severity.ERROR), None)
        if d is None:
            ctx.recovered[(file, n)] = how
            return _items, [x for x in diags if x.severity is not Severity.ERROR]
        if not (d.code == "R001" and d.message.startswith("Syscall name unknown: ")):
            break
        name = d.message.split(": ", 1)[1]
        arch = _arch_before(text, d.column, ctx.host)
        t = table(arch)
        col = d.column - 1
        if name in t and text[col:col + len(name)] == name and not name[:1].isdigit():
            how.append(("auditctl", name, arch, t.nr(name)))
            text = text[:col] + str(t.nr(name)) + text[col + len(name):]
            _items, diags = parse_line(text, file=file, lineno=n, options=opts)
            continue
        how.append(("arch", name, arch, None))
        ctx.recovered[(file, n)] = how
        return [], []
    ctx.recovered[(file, n)] = how
    return [], [x for x in diags]


def _arch_before(text: str, column: int, host: str) -> str:
    from tracerule.audit.rules.fields import FieldError, elf_of, machine_of_elf

    arch = host
    words = split_line(text)
    for i, (w, col) in enumerate(words):
        if col >= column:
            break
        spec = None
        if w.startswith("-Farch=") or w.startswith("-Farch!="):
            spec = w.split("=", 1)[1] if "!=" not in w else None
        elif w == "-F" and i + 1 < len(words) and words[i + 1][0].startswith("arch="):
            spec = words[i + 1][0][5:]
        if spec:
            try:
                m = machine_of_elf(elf_of(spec, host))
            except FieldError:
                m = None
            if m:
                arch = {"ppc64": "ppc64le", "ppc": "ppc64le", "s390": "s390x"}.get(m, m)
    return arch


def worst(findings: Iterable[Finding]) -> Severity | None:
    w = None
    for f in findings:
        if w is None or _RANK[f.severity] > _RANK[w]:
            w = f.severity
    return w


def exit_code(findings: Iterable[Finding]) -> int:
    """0 when nothing is above info; 7 low; 6 medium; 1 high (tracerule.exitcodes)."""
    from tracerule.exitcodes import ExitCode

    w = worst(findings)
    if w is None or w is Severity.INFO:
        return int(ExitCode.OK)
    return int({Severity.LOW: ExitCode.FINDINGS_LOW, Severity.MEDIUM: ExitCode.FINDINGS_MEDIUM}.get(
        w, ExitCode.CHECK_FAILED))


def to_json(findings: Iterable[Finding]) -> dict:
    return {"schema_version": SCHEMA_VERSION, "findings": [f.as_dict() for f in findings]}
