"""``tracerule review TRACE...``: decide on the proposed rules (full-screen UI, line mode, or JSON lines)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from tracerule.cli.app import app


@app.command("review")
def review_cmd(
    traces: List[Path] = typer.Argument(..., help="strace -f outputs (as for suggest); several are merged"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="the rules file to write (default: "
                                          "50-tracerule.rules); saving shows the diff against it first"),
    baseline: Optional[List[Path]] = typer.Option(None, "--baseline", help="traces of normal activity: "
                                                  "noise is counted on them (repeat)"),
    protocol: bool = typer.Option(False, "--protocol", help="JSON question/answer lines on stdin/stdout "
                                  "(schema_version 1) instead of the UI"),
    plain: bool = typer.Option(False, "--plain", help="line mode (default when TERM=dumb or not a terminal)"),
    keys: bool = typer.Option(False, "--keys", help="print the key table and exit"),
    noisy: int = typer.Option(10, "--noisy", help="baseline events above which a rule needs confirmation"),
    level: Optional[str] = typer.Option(None, "--level", help="start every target at this rung "
                                        "(exact | program | behaviour)"),
    b32: str = typer.Option("pairs", "--b32", help="pairs | catchall | none (as for suggest)"),
    target_arch: Optional[str] = typer.Option(None, "--target-arch", help="machine the rules are for"),
    auditctl_version: Optional[str] = typer.Option(None, "--auditctl-version", help="auditctl that will load "
                                                   "the rules (default: this host's)"),
    uid_min: Optional[int] = typer.Option(None, "--uid-min", help="first uid of a logged-in user"),
    sidecar: Optional[Path] = typer.Option(None, "--sidecar", help="the metadata sidecar (default: beside "
                                           "the trace)"),
    uid: Optional[int] = typer.Option(None, "--uid", help="uid the traced command started as (when the "
                                      "trace and sidecar cannot tell; as for suggest)"),
    auid: Optional[int] = typer.Option(None, "--auid", help="login uid (auid) the traced command started "
                                       "with (4294967295 = unset); without it and without a sidecar the "
                                       "auid is unknown and rules get no auid filter"),
) -> int:
    """Review the rules suggest proposes: accept, reject, widen or narrow each along its ladder, edit,
    apply to all similar, undo; coverage and noise re-verified on every change; save shows the diff.
    Exit status 0 (saved, or nothing to save), 1 (quit with decisions not saved), 3 bad input."""
    import os
    import sys

    from tracerule.review.bindings import help_lines

    if keys:
        for line in help_lines():
            typer.echo(line)
        return 0
    for name, v in (("--uid", uid), ("--auid", auid)):
        if v is not None and not 0 <= v <= 0xFFFFFFFF:
            raise typer.BadParameter(f"{name} must be between 0 and 4294967295")
    from tracerule.review.session import ReviewSession
    from tracerule.synth.pipeline import SuggestOptions

    opts = SuggestOptions(level=level, b32=b32, target_arch=target_arch, auditctl_version=auditctl_version,
                          uid_min=uid_min, sidecar=str(sidecar) if sidecar else "auto", uid=uid, auid=auid)
    rs = ReviewSession.from_traces([str(t) for t in traces], opts, baseline=[str(b) for b in baseline or []],
                                   output=str(output) if output else None, noisy_threshold=noisy)
    if protocol:
        from tracerule.review.protocol import serve

        return serve(rs, sys.stdin, sys.stdout)
    dumb = os.environ.get("TERM", "") in ("dumb", "") or not (sys.stdin.isatty() and sys.stdout.isatty())
    if plain or dumb:
        from tracerule.review.plain import PlainReview

        if dumb and not plain:
            typer.echo("tracerule review: not a full-screen terminal (TERM=dumb or no tty): line mode; "
                       "--protocol gives JSON lines", err=True)
        return PlainReview(rs, sys.stdin, sys.stdout).run()
    from tracerule.review.app import ReviewApp

    rv = ReviewApp(rs).run()
    return int(rv) if isinstance(rv, int) else (1 if rs.dirty else 0)
