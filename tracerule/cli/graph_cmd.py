"""``tracerule graph TRACE``: the process tree with credentials (thin layer over tracerule.graph)."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from tracerule.cli.app import app

FORMATS = ("tree", "json", "dot", "graphml")


def check_options(fmt, uid, gid, auid, sidecar, no_sidecar) -> str | None:
    """What is wrong with the options (a usage error), or None."""
    if fmt not in FORMATS:
        return f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}"
    for name, v in (("--uid", uid), ("--gid", gid), ("--auid", auid)):
        if v is not None and not 0 <= v <= 0xFFFFFFFF:
            return f"{name} must be between 0 and 4294967295"
    if sidecar and no_sidecar:
        return "--sidecar and --no-sidecar exclude each other"
    return None


def fast_ok(fmt, ascii_, uid, gid, auid, sidecar, no_sidecar, **_) -> bool:
    """May :func:`tracerule.cli.main`'s fast path (no typer value coercion) run these values?
    Usage errors are left to typer, which reports them with the usage line."""
    return check_options(fmt, uid, gid, auid, sidecar, no_sidecar) is None


@app.command("graph")
def graph(
    trace: str = typer.Argument(..., help="strace output: a file, an -ff directory or -ff prefix"),
    fmt: str = typer.Option("tree", "--format", "-f", help="tree | json | dot | graphml"),
    ascii_: bool = typer.Option(False, "--ascii", help="ASCII tree guides (|-- and `--)"),
    uid: Optional[int] = typer.Option(None, "--uid", help="uid the traced command started as "
                                      "(when the trace and sidecar cannot tell)"),
    gid: Optional[int] = typer.Option(None, "--gid", help="gid the traced command started as"),
    auid: Optional[int] = typer.Option(None, "--auid", help="login uid (auid) the traced command "
                                       "started with (4294967295 = unset)"),
    sidecar: Optional[str] = typer.Option(None, "--sidecar", help="metadata sidecar "
                                          "(default: TRACE.tracerule.json when present)"),
    no_sidecar: bool = typer.Option(False, "--no-sidecar", help="ignore the sidecar beside the trace"),
) -> None:
    """Show who did what, as whom: processes, execs, uid->euid changes, auid, exits."""
    from tracerule.errors import TraceruleError
    from tracerule.exitcodes import ExitCode

    problem = check_options(fmt, uid, gid, auid, sidecar, no_sidecar)
    if problem:
        raise typer.BadParameter(problem)
    from tracerule.graph.build import build_graph

    sc = None if no_sidecar else (sidecar if sidecar else "auto")
    g = build_graph(trace, sidecar=sc, uid=uid, gid=gid, auid=auid)
    if not g.processes:
        raise TraceruleError(f"{trace}: no strace events found (is this strace output?)",
                             exit_code=ExitCode.BAD_INPUT)
    out = sys.stdout
    if fmt == "json":
        from tracerule.graph.render import write_json

        write_json(g, out)
        return
    if fmt == "dot":
        from tracerule.graph.render import render_dot

        out.write(render_dot(g))
        return
    if fmt == "graphml":
        from tracerule.graph.render import render_graphml

        out.write(render_graphml(g))
        return
    from tracerule.graph.render import render_tree, warnings_text

    if g.sidecar_used:
        print(f"(sidecar: {g.sidecar_used})", file=sys.stderr)
        sys.stderr.flush()
    render_tree(g, ascii=ascii_)
    out.flush()
    shown = [w for w in warnings_text(g)]
    if shown:
        print("warnings:", file=sys.stderr)
        for line in shown:
            print("  " + line, file=sys.stderr)
