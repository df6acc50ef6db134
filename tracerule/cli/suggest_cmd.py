"""``tracerule suggest TRACE...``: the auditd rules that catch a trace's behaviour, with provenance."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from tracerule.cli.app import app


@app.command("suggest")
def suggest_cmd(
    traces: List[Path] = typer.Argument(..., help="strace -f outputs (a file, an -ff directory or prefix); "
                                        "several are merged"),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="write the rules.d fragment here (e.g. 50-tracerule.rules)"),
    json_: bool = typer.Option(False, "--json", help="print the whole result as JSON (schema_version 1)"),
    focus: Optional[List[str]] = typer.Option(None, "--focus", help="categories to keep (repeat): priv, cred, "
                                              "exec, net, handoff, module, ptrace, mount, perm, file"),
    level: Optional[str] = typer.Option(None, "--level", help="rung for every target: exact | program | "
                                        "behaviour (default: the narrowest that catches every instance)"),
    b32: str = typer.Option("pairs", "--b32", help="32-bit ABI: pairs (a b32 twin per rule) | catchall "
                            "(one b32 -S all rule, last) | none"),
    target_arch: Optional[str] = typer.Option(None, "--target-arch", help="machine the rules are for "
                                              "(default: the sidecar's, else this host's)"),
    auditctl_version: Optional[str] = typer.Option(None, "--auditctl-version", help="auditctl that will load "
                                                   "the rules (default: this host's)"),
    uid_min: Optional[int] = typer.Option(None, "--uid-min", help="first uid of a logged-in user (default: "
                                          "sidecar, else /etc/login.defs here, else 1000)"),
    attack: bool = typer.Option(False, "--attack", help="add the ATT&CK technique id to each key"),
    sidecar: Optional[Path] = typer.Option(None, "--sidecar", help="the metadata sidecar (default: "
                                           "TRACE.tracerule.json beside the trace)"),
    baseline: Optional[List[str]] = typer.Option(None, "--baseline", help="a trace of ordinary work on the "
                                                 "target host (repeat); 'default' is the one shipped with "
                                                 "tracerule (used when none is given)"),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="measure noise on the trace itself only"),
    existing: Optional[str] = typer.Option(None, "--existing", help="rules already on the host: a rules.d "
                                           "directory, a rules file, or 'live' (auditctl -l); targets they "
                                           "catch get no new rule"),
    rules_name: Optional[str] = typer.Option(None, "--rules-name", help="the file name in rules.d (default: "
                                             "the -o name, else 50-tracerule.rules): its place in "
                                             "augenrules' order"),
    uid: Optional[int] = typer.Option(None, "--uid", help="uid the traced command started as (when the "
                                      "trace and sidecar cannot tell)"),
    auid: Optional[int] = typer.Option(None, "--auid", help="login uid (auid) the traced command started "
                                       "with (4294967295 = unset); without it and without a sidecar the "
                                       "auid is unknown and rules get no auid filter"),
    review: bool = typer.Option(False, "--review", help="decide on the proposed rules in the review UI "
                                "(tracerule review with these options; line mode when not on a terminal); "
                                "-o is the file it saves"),
) -> int:
    """Propose the fewest auditd rules that catch what the trace did, each explained.  Exit status 0
    when every target is caught, 1 when the rules miss a target (said in the output), 3 bad input."""
    import json
    import os
    import sys

    from tracerule.exitcodes import ExitCode
    from tracerule.synth.output import rules_text, summary_lines, table_rows, to_json
    from tracerule.synth.pipeline import SuggestOptions, suggest

    for name, v in (("--uid", uid), ("--auid", auid)):
        if v is not None and not 0 <= v <= 0xFFFFFFFF:
            raise typer.BadParameter(f"{name} must be between 0 and 4294967295")
    focus_l: list[str] = []
    for f in focus or []:
        focus_l.extend(x.strip() for x in f.split(",") if x.strip())
    from tracerule.synth.baseline import DEFAULT, default_baseline_paths

    if no_baseline:
        bases: tuple[str, ...] | None = None
    elif baseline:
        bases = tuple(baseline)
    else:
        bases = (DEFAULT,) if default_baseline_paths() else None
    if review:
        return _review(traces, output, bases, level=level, b32=b32, target_arch=target_arch,
                       auditctl_version=auditctl_version, uid_min=uid_min, sidecar=sidecar, uid=uid, auid=auid,
                       unsupported=(("--json", json_), ("--focus", focus), ("--attack", attack),
                                    ("--existing", existing), ("--rules-name", rules_name)))
    opts = SuggestOptions(focus=tuple(focus_l) or None, level=level, b32=b32, target_arch=target_arch,
                          auditctl_version=auditctl_version, uid_min=uid_min, attack=attack,
                          sidecar=str(sidecar) if sidecar else "auto", baselines=bases, existing=existing,
                          rules_name=rules_name or (output.name if output is not None else "50-tracerule.rules"),
                          uid=uid, auid=auid)
    s = suggest([str(t) for t in traces], opts)
    text = rules_text(s)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            from tracerule.errors import InputError

            raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    rc = int(ExitCode.OK) if s.complete else int(ExitCode.CHECK_FAILED)
    if json_:
        sys.stdout.write(json.dumps(to_json(s), indent=2) + "\n")
        return rc
    plain = (not sys.stdout.isatty() or os.environ.get("NO_COLOR") is not None
             or os.environ.get("TERM") == "dumb")
    rows = table_rows(s)
    if plain:
        typer.echo("target  category  rung       caught  key        why")
        for tid, cat, why, rung, caught, key in rows:
            typer.echo(f"{tid:<7} {cat:<9} {rung:<10} {caught:<7} {key:<10} {why}")
    else:
        from rich.console import Console
        from rich.table import Table

        tb = Table(expand=True)
        for col in ("target", "category", "rung", "caught", "key", "why"):
            tb.add_column(col, ratio=3 if col == "why" else None, no_wrap=col != "why")
        for tid, cat, why, rung, caught, key in rows:
            tb.add_row(tid, cat, rung, caught if caught.split("/")[0] == caught.split("/")[-1]
                       else f"[bold red]{caught}[/]", key, why, )
        Console().print(tb)
    for line in summary_lines(s):
        typer.echo(line)
    if s.handoffs:
        for ho in s.handoffs:
            typer.echo(f"hand-off: {ho.daemon} via {ho.socket}: daemon-side rules are unverified (commented out)")
    if output is None:
        typer.echo("")
        typer.echo(text.rstrip("\n"))
    else:
        typer.echo(f"wrote {output} ({sum(1 for r in s.rules)} rules)")
    if s.missed:
        typer.echo("tracerule: these rules MISS recorded events of: "
                   + ", ".join(f"{c.target} ({', '.join(c.missed[:3])})" for c in s.missed), err=True)
    from tracerule.synth.pipeline import B32_OFF

    if B32_OFF in s.notes:
        typer.echo(f"tracerule: {B32_OFF}", err=True)
    bad = [f for f in s.lint if f.severity.value in ("medium", "high", "error")]
    for f in bad:
        typer.echo(f"tracerule: lint {f.severity.value} [{f.id}] at {f.file}:{f.line}: {f.message}", err=True)
    return rc


def _review(traces, output, bases, *, level, b32, target_arch, auditctl_version, uid_min, sidecar, uid, auid,
            unsupported) -> int:
    """``suggest --review``: hand off to ``tracerule review`` with the same options; the baselines
    suggest would measure noise on (``default``: the shipped traces) are the review's baselines."""
    from tracerule.cli.review_cmd import review_cmd
    from tracerule.synth.baseline import resolve

    bad = [name for name, v in unsupported if v]
    if bad:
        raise typer.BadParameter(f"{', '.join(bad)} cannot be used with --review (the review session "
                                 "does not take {} yet): run suggest without --review".format(
                                     "it" if len(bad) == 1 else "them"))
    baseline = [Path(p) for p in resolve(bases)] if bases else None
    return review_cmd(list(traces), output=output, baseline=baseline, protocol=False, plain=False, keys=False,
                      noisy=10, level=level, b32=b32, target_arch=target_arch, auditctl_version=auditctl_version,
                      uid_min=uid_min, sidecar=sidecar, uid=uid, auid=auid)
