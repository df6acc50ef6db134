"""Small commands: version, exit codes."""
from __future__ import annotations

import typer

from tracerule.cli.app import app


@app.command("exit-codes")
def exit_codes() -> None:
    """Print the exit-code table shared by every command."""
    from tracerule.exitcodes import TABLE

    for code, name, doc in TABLE:
        typer.echo(f"{code:>3}  {name:<16} {doc}")


@app.command("version")
def version() -> None:
    """Print tracerule's version."""
    from tracerule import __version__

    typer.echo(__version__)
