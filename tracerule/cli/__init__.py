"""Command line: ``tracerule`` / ``python -m tracerule``.

Thin layer: parse options, call the library, render, map errors to the exit codes
of :mod:`tracerule.exitcodes`.  Heavy imports happen inside the commands.
"""
from __future__ import annotations

import importlib
import os
import sys

#: modules that register commands on :data:`tracerule.cli.app.app`, in help order
COMMAND_MODULES = (
    "tracerule.cli.misc_cmd",
    "tracerule.cli.graph_cmd",
    "tracerule.cli.kernel_cmd",
    "tracerule.cli.fmt_cmd",
    "tracerule.cli.record_cmd",
    "tracerule.cli.lint_cmd",
    "tracerule.cli.verify_cmd",
    "tracerule.cli.suggest_cmd",
    "tracerule.cli.review_cmd",
)


def _load_commands():
    from tracerule.cli.app import app

    for mod in COMMAND_MODULES:
        importlib.import_module(mod)
    return app


def main(argv: list[str] | None = None) -> int:
    import typer
    from typer._click.exceptions import ClickException

    from tracerule.errors import TraceruleError
    from tracerule.exitcodes import ExitCode

    args = sys.argv[1:] if argv is None else list(argv)
    app = _load_commands()
    interrupted = _watch_sigint()
    try:
        rv = app(args=args, prog_name="tracerule", standalone_mode=False)
    except TraceruleError as exc:
        _err(f"tracerule: {exc}")
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _err("tracerule: interrupted")
        return int(ExitCode.INTERRUPTED)
    except ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        _err("tracerule: interrupted")
        return int(ExitCode.INTERRUPTED)
    except SystemExit as exc:
        # typer answers EPIPE (``tracerule ... | head``) with sys.exit(1) after wrapping stdout
        from typer._click.utils import PacifyFlushWrapper

        if isinstance(sys.stdout, PacifyFlushWrapper):
            return int(ExitCode.OK)
        raise
    except BrokenPipeError:
        # output closed early (| head): not an error of ours
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return int(ExitCode.OK)
    if isinstance(rv, int):
        if rv == ExitCode.INTERRUPTED and interrupted:
            # typer turns KeyboardInterrupt into a silent Exit(130)
            _err("tracerule: interrupted")
        return rv
    return int(ExitCode.OK)


def _watch_sigint() -> list[bool]:
    """Remember whether SIGINT arrived (and still raise KeyboardInterrupt as Python does)."""
    import signal
    import threading

    seen: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        return seen
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return seen

    def handler(signum, frame):
        seen.append(True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    return seen


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)
