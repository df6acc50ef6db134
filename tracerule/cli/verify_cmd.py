"""``tracerule verify RULES TRACE...``: replay traces through a model of the kernel's audit exit
filter (thin layer over :mod:`tracerule.audit.verify`)."""
from __future__ import annotations

from typing import List, Optional

import typer

from tracerule.cli.app import app


@app.command("verify")
def verify_cmd(
    rules: str = typer.Argument(..., help="audit rules file (auditctl syntax) or rules.d directory"),
    traces: Optional[List[str]] = typer.Argument(None, help="strace -f outputs (file, -ff "
                                                 "directory or prefix)"),
    baseline: Optional[List[str]] = typer.Option(None, "--baseline", "-b",
                                                 help="trace of ordinary work: events logged per "
                                                 "run and per 1,000 syscalls (repeatable)"),
    expect: Optional[List[str]] = typer.Option(None, "--expect", "-e",
                                               help="an event that must be logged: 'SYSCALL "
                                               "[FIELD=VALUE ...]', e.g. 'execve exe=/usr/bin/sudo'"
                                               "; key=K: logged under key K (repeatable)"),
    json_: bool = typer.Option(False, "--json", help="print the result as JSON (schema_version 1)"),
    host_arch: Optional[str] = typer.Option(None, "--host-arch",
                                            help="machine the rules are for (default: the "
                                            "sidecar's arch, else x86_64)"),
    this_host: Optional[bool] = typer.Option(None, "--this-host/--other-host",
                                             help="the traces were recorded on this host: stat "
                                             "files here (default: when the sidecar says so)"),
    no_sidecar: bool = typer.Option(False, "--no-sidecar", help="ignore TRACE.tracerule.json"),
    uid: Optional[int] = typer.Option(None, "--uid", help="uid the traced command started as"),
    gid: Optional[int] = typer.Option(None, "--gid", help="gid the traced command started as"),
    auid: Optional[int] = typer.Option(None, "--auid", help="login uid the traced command "
                                       "started with (4294967295 = unset)"),
    events: int = typer.Option(3, "--events", help="events listed per rule in the text output"),
) -> int:
    """Which rule logs which traced event, whether the expected events are caught, and how
    much the rules log.  Exit status: 0 all expectations caught, 1 an expectation missed, 3 bad
    rules or trace input."""
    import json
    import sys

    from tracerule.audit.verify import parse_selector, verify

    if not traces and not baseline:
        raise typer.BadParameter("give at least one TRACE (or --baseline TRACE)")
    for name, v in (("--uid", uid), ("--gid", gid), ("--auid", auid)):
        if v is not None and not 0 <= v <= 0xFFFFFFFF:
            raise typer.BadParameter(f"{name} must be between 0 and 4294967295")
    sels = []
    for e in expect or ():
        try:
            sels.append(parse_selector(e))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--expect") from None
    if host_arch is not None:
        from tracerule.audit.tables import UnknownArch, resolve_arch

        try:
            host_arch = resolve_arch(host_arch)
        except UnknownArch as exc:
            raise typer.BadParameter(str(exc), param_hint="--host-arch") from None
    res = verify([rules], list(traces or ()), baselines=list(baseline or ()), expects=sels,
                 host=host_arch, this_host=this_host, sidecar=None if no_sidecar else "auto",
                 uid=uid, gid=gid, auid=auid)
    if json_:
        sys.stdout.write(json.dumps(res.to_dict(), indent=2) + "\n")
        return int(res.exit_code)
    render(res, events=max(0, events))
    return int(res.exit_code)


# ---- rendering ---------------------------------------------------------------------------------

def _plain() -> bool:
    import os
    import sys

    return (not sys.stdout.isatty() or os.environ.get("NO_COLOR") is not None
            or os.environ.get("TERM") == "dumb")


def _procs(r, limit: int = 4) -> str:
    items = sorted(r.processes.items())
    s = ", ".join(f"{pid} {prog}" for pid, prog in items[:limit])
    if len(items) > limit:
        s += f", +{len(items) - limit} more"
    return s or "-"


def render(res, *, events: int = 3) -> None:
    """Rich tables on a terminal, plain text otherwise (NO_COLOR, TERM=dumb, pipes)."""
    if _plain():
        _render_plain(res, events)
    else:
        _render_rich(res, events)


def _lines_plain(res, events: int) -> list[str]:
    out: list[str] = []
    for t in res.traces:
        sc = f" (sidecar {t.sidecar})" if t.sidecar else ""
        out.append(f"trace {t.trace}{sc}: {t.records} records replayed, {t.decided} decided by a "
                   f"rule, {t.logged} logged")
    out.append("")
    out.append("rules (load order; an event is decided by the first matching rule):")
    for r in res.rules:
        key = f" key={r.key.replace(chr(1), ',')}" if r.key else " (no key)"
        out.append(f"  #{r.number} {r.location}{key}: {r.hits} event(s) decided, {r.logged} logged")
        out.append(f"     {r.canonical}")
        if r.processes:
            out.append(f"     processes: {_procs(r)}")
        for e in r.events[:events]:
            extra = "" if e["success"] is not False else f" exit={e['exit']}"
            out.append(f"     {e['file']}:{e['line']} {e['syscall']} pid={e['pid']} exe={e['exe']} "
                       f"auid={_id(e['auid'])}{extra}")
        for n in r.notes:
            out.append(f"     note: {n}")
    if res.expectations:
        out.append("")
        out.append("expectations:")
        for e in res.expectations:
            if e.ok:
                by = ", ".join(f"#{k}" for k in sorted(e.by_rule))
                out.append(f"  CAUGHT {e.selector!r}: {e.caught}/{e.events} event(s) (by {by})")
            else:
                out.append(f"  MISSED {e.selector!r}: {e.caught}/{e.events} caught")
                if e.note:
                    out.append(f"     {e.note}")
                for m in e.misses[:20]:
                    out.append(f"     missed at {m['file']}:{m['line']}: {m['syscall']} pid={m['pid']} "
                               f"exe={m['exe']} ({m['why']})")
                if e.events - e.caught > 20:
                    out.append(f"     ... {e.events - e.caught - 20} more (see --json)")
    if res.baselines:
        out.append("")
        out.append("baselines (events a production host would log for this work):")
        for b in res.baselines:
            per = "-" if b.per_1000 is None else f"{b.per_1000:g}"
            ps = (f", {b.per_second:g} events/s of untraced run time" if b.per_second is not None
                  else ", events/s unknown (no untraced wall time in the sidecar)")
            out.append(f"  {b.trace}: {b.logged} event(s) per run, {per} per 1,000 syscalls "
                       f"({b.syscalls} syscalls, {b.syscalls_counted}){ps}")
            for k, v in sorted(b.by_rule.items()):
                out.append(f"     rule #{k}: {v}")
    if res.assumptions:
        out.append("")
        out.append("assumptions (values the trace does not show):")
        for text, n in res.assumptions.items():
            out.append(f"  {text}" + (f" ({n} event(s))" if n else ""))
    if res.diagnostics:
        out.append("")
        out.append("rules file problems:")
        for d in res.diagnostics:
            out.append(f"  {d.location()}: {d.severity.value}: {d.message}")
    for n in res.notes:
        out.append(f"note: {n}")
    out.append("")
    missed = len(res.missed)
    if res.expectations:
        out.append(f"{len(res.expectations) - missed} of {len(res.expectations)} expectation(s) "
                   f"caught" + (f"; {missed} MISSED" if missed else ""))
    return out


def _id(v) -> str:
    return "unset" if v == 4294967295 else str(v)


def _render_plain(res, events: int) -> None:
    import typer as _t

    for line in _lines_plain(res, events):
        _t.echo(line)


def _render_rich(res, events: int) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    for t in res.traces:
        con.print(f"[bold]{t.trace}[/]: {t.records} records replayed, {t.decided} decided, "
                  f"{t.logged} logged" + (f"  [dim](sidecar {t.sidecar})[/]" if t.sidecar else ""),
                  highlight=False)
    tb = Table(title="rules (load order; first match decides)", expand=True)
    tb.add_column("#", justify="right", no_wrap=True)
    tb.add_column("rule", ratio=4)
    tb.add_column("key", no_wrap=True)
    tb.add_column("hits", justify="right")
    tb.add_column("logged", justify="right")
    tb.add_column("processes", ratio=1)
    tb.add_column("first")
    for r in res.rules:
        first = f"line {r.first[1]}" if r.first else "-"
        tb.add_row(str(r.number), r.canonical, (r.key or "-").replace("\x01", ","), str(r.hits),
                   str(r.logged), _procs(r), first)
    con.print(tb)
    for r in res.rules:
        for n in r.notes:
            con.print(f"[yellow]rule #{r.number} note:[/] {n}", highlight=False)
    if res.expectations:
        te = Table(title="expectations", expand=True)
        te.add_column("", no_wrap=True)
        te.add_column("selector", ratio=2)
        te.add_column("caught", justify="right")
        te.add_column("misses (trace line)", ratio=3)
        for e in res.expectations:
            mark = "[green]CAUGHT[/]" if e.ok else "[bold red]MISSED[/]"
            miss = "; ".join(f"{m['file'].rsplit('/', 1)[-1]}:{m['line']} {m['syscall']} ({m['why']})"
                             for m in e.misses[:5])
            if e.note:
                miss = e.note if not miss else miss + "; " + e.note
            te.add_row(mark, e.selector, f"{e.caught}/{e.events}", miss or "-")
        con.print(te)
    if res.baselines:
        tbb = Table(title="baselines", expand=True)
        for c in ("trace", "events/run", "per 1,000 syscalls", "syscalls", "events/s"):
            tbb.add_column(c)
        for b in res.baselines:
            tbb.add_row(b.trace, str(b.logged), "-" if b.per_1000 is None else f"{b.per_1000:g}",
                        f"{b.syscalls} ({b.syscalls_counted})",
                        "-" if b.per_second is None else f"{b.per_second:g}")
        con.print(tbb)
    rest = _lines_plain(res, 0)
    i = next((k for k, ln in enumerate(rest) if ln.startswith("assumptions")), None)
    j = next((k for k, ln in enumerate(rest) if ln.startswith("rules file problems")), None)
    starts = [k for k in (i, j) if k is not None]
    if starts:
        for ln in rest[min(starts):]:
            con.print(ln, highlight=False, markup=False)
    else:
        for ln in rest[-2:]:
            con.print(ln, highlight=False, markup=False)
