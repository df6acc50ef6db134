"""``tracerule record [-u USER] [--auid N] [-o FILE] -- CMD...`` (thin layer over tracerule.record)."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from tracerule.cli.app import app


@app.command("record", context_settings={"allow_interspersed_args": False})
def record_cmd(
    command: Optional[List[str]] = typer.Argument(None, metavar="-- CMD [ARGS]...",
                                                  help="the command to trace (after --)"),
    user: Optional[str] = typer.Option(None, "-u", "--user", metavar="USER",
                                       help="run CMD as USER (strace -u; needs root): setuid "
                                            "programs such as sudo escalate as in production"),
    auid: Optional[int] = typer.Option(None, "--auid", metavar="N",
                                       help="start CMD with login uid N (written to "
                                            "/proc/self/loginuid before strace starts)"),
    output: Optional[str] = typer.Option(None, "-o", "--output", metavar="FILE",
                                         help="trace file (default: tracerule-YYYYmmdd-HHMMSS.strace); "
                                              "the sidecar is FILE.tracerule.json"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing trace and sidecar"),
    time_untraced: bool = typer.Option(False, "--time-untraced",
                                       help="run CMD a second time without strace and record its "
                                            "wall time (CMD runs twice!)"),
    strace: Optional[str] = typer.Option(None, "--strace", metavar="PATH",
                                         help="the strace binary (default: strace on PATH)"),
    explain_flags: bool = typer.Option(False, "--explain-flags",
                                       help="print the strace options record uses and why, then exit"),
) -> None:
    """Run CMD under strace as production would see it; write the trace and its metadata sidecar.

    Exits with CMD's exit status (128+N when signal N killed it).
    """
    from tracerule.exitcodes import ExitCode
    from tracerule.record import STRACE_FLAGS, STRACE_NOT_USED, RecordOptions, record

    if explain_flags:
        for flags, why in STRACE_FLAGS:
            typer.echo(f"{' '.join(flags):<16} {why}")
        typer.echo(f"{'-o FILE':<16} the trace goes to FILE, never mixed with the command's output")
        typer.echo(f"{'-u USER':<16} with -u: strace (root) starts the command as USER")
        for flag, why in STRACE_NOT_USED:
            typer.echo(f"{'(not) ' + flag:<16} {why}")
        return
    if not command:
        raise typer.BadParameter("give the command to trace after --: tracerule record -- CMD ...")
    opts = RecordOptions(command=tuple(command), output=output, user=user, auid=auid, force=force,
                         time_untraced=time_untraced, strace=strace)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    res = record(opts, say=say)
    status = f"exit status {res.exit_status}"
    if res.killed_by:
        import signal

        status += f" (killed by {signal.Signals(res.killed_by).name})"
    say(f"tracerule record: {status}; trace {res.trace} ({res.executed_files} executed file(s) "
        f"described in {res.sidecar})")
    if res.untraced_wall_time is not None:
        ratio = res.traced_wall_time / res.untraced_wall_time if res.untraced_wall_time > 0 else 0
        say(f"tracerule record: wall time {res.traced_wall_time:.3f} s traced, "
            f"{res.untraced_wall_time:.3f} s untraced (x{ratio:.1f})")
    if res.interrupted:
        say("tracerule record: interrupted; the trace and sidecar are complete up to that point")
    say(f"next: tracerule graph {res.trace}")
    raise typer.Exit(code=res.exit_status if res.exit_status else int(ExitCode.OK))
