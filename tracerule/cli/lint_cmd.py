"""``tracerule lint RULES...``: findings with stable IDs, severities and one-line fixes."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from tracerule.cli.app import app

_LEVELS = ("info", "low", "medium", "high")


@app.command("lint")
def lint_cmd(
    rules: Optional[List[Path]] = typer.Argument(None, help="rules files or rules.d directories "
                                                 "(augenrules order)"),
    arch: Optional[str] = typer.Option(None, "--arch", help="the target machine (default: this host's); "
                                       "b64 means it, b32 its 32-bit ABI"),
    json_: bool = typer.Option(False, "--json", help="print {schema_version, findings: [...]} as JSON"),
    no_host_checks: bool = typer.Option(False, "--no-host-checks",
                                        help="do not look at this host (symlinks, missing paths, users)"),
    min_severity: Optional[str] = typer.Option(None, "--min-severity",
                                               help="show findings at or above: info | low | medium | high "
                                               "(default: low for the table, info for --json)"),
    auditctl_version: str = typer.Option("3.0.9", "--auditctl-version",
                                         help="the auditctl that will load the rules (which names it knows)"),
    list_checks: bool = typer.Option(False, "--list-checks", help="print the check table and exit"),
) -> int:
    """What is wrong with an audit rule set, and how to fix it.  Exit status: 0 nothing above info,
    7 worst is low, 6 medium, 1 high, 3 unreadable input."""
    import json
    import os
    import sys

    from tracerule.audit.lint import CHECKS, exit_code, lint, to_json

    if list_checks:
        for c in CHECKS:
            typer.echo(f"{c.id}  {c.severity.value:<6}  {c.title}{'  (host check)' if c.host else ''}")
        return 0
    if not rules:
        raise typer.BadParameter("give at least one rules file or rules.d directory")
    if min_severity is None:
        min_severity = "info" if json_ else "low"
    if min_severity not in _LEVELS:
        raise typer.BadParameter(f"--min-severity must be one of {', '.join(_LEVELS)}")
    findings = lint([str(p) for p in rules], arch=arch, host_checks=not no_host_checks,
                    auditctl_version=auditctl_version)
    rc = exit_code(findings)
    floor = _LEVELS.index(min_severity)
    shown = [f for f in findings if _LEVELS.index(f.severity.value) >= floor]
    hidden = len(findings) - len(shown)
    if json_:
        sys.stdout.write(json.dumps(to_json(shown), indent=2) + "\n")
        return rc
    plain = (not sys.stdout.isatty() or os.environ.get("NO_COLOR") is not None
             or os.environ.get("TERM") == "dumb")
    if plain:
        for f in shown:
            typer.echo(f"{f.file}:{f.line}: {f.severity.value} [{f.id}] {f.message}")
            typer.echo(f"    fix: {f.fix}")
    else:
        _table(shown)
    counts = {lv: sum(1 for f in findings if f.severity.value == lv) for lv in reversed(_LEVELS)}
    summary = ", ".join(f"{n} {lv}" for lv, n in counts.items() if n) or "no findings"
    tail = f" ({hidden} below {min_severity} not shown: --min-severity info)" if hidden else ""
    typer.echo(f"{len(findings)} finding(s): {summary}{tail}", err=True)
    return rc


def _table(findings) -> None:
    from rich.console import Console
    from rich.table import Table

    colours = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
    t = Table(show_lines=False, expand=True)
    t.add_column("where", no_wrap=True)
    t.add_column("sev")
    t.add_column("id", no_wrap=True)
    t.add_column("finding", ratio=3)
    t.add_column("fix", ratio=2)
    for f in findings:
        sev = f.severity.value
        t.add_row(f"{Path(f.file).name}:{f.line}", f"[{colours[sev]}]{sev}[/]", f.id, f.message, f.fix)
    Console().print(t)
