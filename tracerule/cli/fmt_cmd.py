"""``tracerule fmt``: rules files and rules.d directories in canonical ``auditctl -l`` form."""
from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from tracerule.cli.app import app


@app.command("fmt")
def fmt(
    rules: List[Path] = typer.Argument(..., help="rules files or rules.d directories (augenrules order)"),
    source: bool = typer.Option(False, "--source", help="print the rules.d source form (loads as is; "
                                "control lines kept) instead of the auditctl -l form"),
    arch: str = typer.Option("x86_64", "--arch", help="the machine the rules are for (b64/b32 meaning)"),
) -> int:
    """Print one canonical rule per line: what `auditctl -l` shows after loading RULES, in its order
    (diff it against `auditctl -l` of a running host).  Refusals go to stderr as file:line:col with
    auditctl's reason, all of them, and the exit code is 3 (bad input)."""
    import sys

    from tracerule.audit.rules.emit import fmt_lines, listing, lossy_notes, source_lines
    from tracerule.audit.rules.parse import ParseOptions
    from tracerule.audit.rules.safety import UnsafeValue
    from tracerule.audit.tables import UnknownArch, canonical_arch, resolve_arch
    from tracerule.audit.verify import parse_rules_paths
    from tracerule.errors import Diagnostic, InputError, Severity
    from tracerule.exitcodes import ExitCode

    try:
        host = resolve_arch(canonical_arch(arch))
    except UnknownArch as exc:
        raise InputError(f"--arch: {exc}") from None
    for p in rules:
        if not p.exists():
            raise InputError(f"{p}: no such file or directory")
    res = parse_rules_paths(rules, options=ParseOptions(host=host))
    out: list[str] = []
    diags = list(res.diagnostics)
    items = res.items if source else listing(res.items)
    for it in items:
        try:
            if source:
                out.extend(source_lines(it, host=host))
            else:
                for note in lossy_notes(it, host=host):
                    diags.append(Diagnostic(it.location.file, it.location.line, note, Severity.LOW,
                                            it.location.column, "R201"))
                out.append(fmt_lines(it, host=host)[-1])
        except UnsafeValue as exc:
            why = str(exc).removeprefix("refusing to write ")
            diags.append(Diagnostic(it.location.file, it.location.line,
                                    f"cannot be written back safely: {why}", Severity.ERROR,
                                    it.location.column, "R301"))
    diags.sort(key=lambda d: (d.file, d.line, d.column))
    for d in diags:
        print(str(d), file=sys.stderr)
    if out:
        typer.echo("\n".join(out))
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    if errors:
        print(f"tracerule fmt: {errors} line(s) refused", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    return int(ExitCode.OK)
