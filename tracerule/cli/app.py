"""The typer application object.  Command modules register on it; they hold no logic of their own."""
from __future__ import annotations

import typer

app = typer.Typer(
    name="tracerule",
    help="From an observed behaviour (an strace trace) to the fewest auditd rules that catch it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
