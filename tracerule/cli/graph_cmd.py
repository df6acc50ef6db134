"""``tracerule graph TRACE``: the process tree with credentials (thin layer over tracerule.graph)."""
from __future__ import annotations

from typing import Optional

import typer

from tracerule.cli.app import app

# the option checks and the command's body live beside the renderers, typer-free: plain
# ``tracerule graph`` command lines run them before typer is imported (tracerule.cli.FAST_STATIC).
# Imported when used: every command's start-up imports this module.


def check_options(fmt, uid, gid, auid, sidecar, no_sidecar) -> str | None:
    """What is wrong with the options (a usage error), or None."""
    from tracerule.graph.render import check_options

    return check_options(fmt, uid, gid, auid, sidecar, no_sidecar)


def fast_ok(**values) -> bool:
    """May :func:`tracerule.cli.main`'s fast path (no typer value coercion) run these values?"""
    from tracerule.graph.render import fast_ok

    return fast_ok(**values)


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
    problem = check_options(fmt, uid, gid, auid, sidecar, no_sidecar)
    if problem:
        raise typer.BadParameter(problem)
    from tracerule.graph.render import run_graph_command

    run_graph_command(trace, fmt, ascii_, uid, gid, auid, sidecar, no_sidecar)
