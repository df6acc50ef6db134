"""``tracerule verify RULES TRACE...``: replay traces through a model of the kernel's audit exit
filter (thin layer over :mod:`tracerule.audit.verify`)."""
from __future__ import annotations

from typing import List, Optional

import typer

from tracerule.cli.app import app

_AFTER = "tracerule.after_dashdash"


def _command_class():
    from typer.core import TyperCommand

    class VerifyCommand(TyperCommand):
        """Remembers how many arguments came after ``--`` (``verify --kernel RULES -- CMD...``)."""

        def parse_args(self, ctx, args):
            if "--" in args:
                ctx.meta[_AFTER] = len(args) - args.index("--") - 1
            return super().parse_args(ctx, args)

    return VerifyCommand


@app.command("verify", cls=_command_class())
def verify_cmd(
    ctx: typer.Context,
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
                                       "started with (4294967295 = unset); with --kernel: the "
                                       "login uid the command runs with (default: the sidecar's)"),
    events: int = typer.Option(3, "--events", help="events listed per rule in the text output"),
    kernel: bool = typer.Option(False, "--kernel", help="ask the real kernel (root): load the rules "
                                "with run keys, run the command (-- CMD...) or re-run the TRACE's "
                                "recorded command, report which rule won which event, unload"),
    each: bool = typer.Option(False, "--each", help="with --kernel: also load each rule alone in turn "
                              "(the command runs once more per rule) to show every rule's own reach"),
    user: Optional[str] = typer.Option(None, "--user", "-u", metavar="USER",
                                       help="with --kernel: run the command as USER (default: the "
                                       "sidecar's recorded user, else root)"),
    timeout: float = typer.Option(120.0, "--timeout", help="with --kernel: seconds a run may take "
                                  "before the command is killed"),
    existing: Optional[str] = typer.Option(None, "--existing", metavar="DIR|FILE|live",
                                           help="the host's rules: a rules.d directory (augenrules "
                                           "order), a rules file, or 'live' (auditctl -l); simulated "
                                           "together with RULES in load order: events they win first "
                                           "are reported as already logged under their key"),
    rules_name: Optional[str] = typer.Option(None, "--rules-name", metavar="NAME",
                                             help="with --existing: the name RULES gets in rules.d "
                                             "(decides what loads before and after it; default: "
                                             "RULES's file name)"),
) -> int:
    """Which rule logs which traced event, whether the expected events are caught, and how
    much the rules log.  With --kernel the real kernel answers (tracerule verify --kernel RULES
    -- CMD..., or RULES TRACE to re-run a recorded command as its user with its auid).
    Exit status: 0 done (all expectations caught), 1 an expectation missed, 3 bad rules or trace
    input (or a rule the kernel refused), 4 no kernel audit here (not root, immutable), 5
    inconclusive (the kernel lost records)."""
    from tracerule.cli.verify_run import UsageProblem, prepare, run

    if kernel and (existing is not None or rules_name is not None):
        raise typer.BadParameter("--existing/--rules-name are not used with --kernel (the kernel's "
                                 "own loaded rules are reported as host wins)")
    if kernel:
        return _kernel(ctx, rules, list(traces or ()), baseline, expect, json_, host_arch, uid, gid,
                       auid, no_sidecar, each, user, timeout, events)
    # the rest is typer-free (tracerule.cli.verify_run), shared with the start-up fast path
    n_after = ctx.meta.get(_AFTER) or 0
    after = list(traces)[-n_after:] if n_after and traces else []
    try:
        sels, host_arch = prepare(traces=traces, baseline=baseline, expect=expect, host_arch=host_arch,
                                  uid=uid, gid=gid, auid=auid, existing=existing,
                                  rules_name=rules_name, each=each, user=user, after=after)
    except UsageProblem as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.param_hint) from None
    return run(rules, traces, baseline=baseline, sels=sels, json_=json_, host_arch=host_arch,
               this_host=this_host, no_sidecar=no_sidecar, uid=uid, gid=gid, auid=auid, events=events,
               existing=existing, rules_name=rules_name)


def _kernel(ctx, rules, positional, baseline, expect, json_, host_arch, uid, gid, auid, no_sidecar,
            each, user, timeout, events) -> int:
    import json
    import sys

    from tracerule.audit.kernel_verify import Workload, _user_env, kernel_verify, workload_from_trace
    from tracerule.audit.verify import parse_selector

    if baseline:
        raise typer.BadParameter("--baseline is not used with --kernel")
    for name, v in (("--uid", uid), ("--gid", gid)):
        if v is not None:
            raise typer.BadParameter(f"{name} is not used with --kernel (use --user)")
    if auid is not None and not 0 <= auid <= 0xFFFFFFFF:
        raise typer.BadParameter("--auid must be between 0 and 4294967295")
    if timeout <= 0:
        raise typer.BadParameter("--timeout must be positive")
    n_after = ctx.meta.get(_AFTER)
    cmd = None
    trs = positional
    if n_after is not None:
        if n_after > len(positional):
            raise typer.BadParameter("put RULES before --: tracerule verify --kernel RULES -- CMD...")
        cmd = positional[len(positional) - n_after:]
        trs = positional[:len(positional) - n_after]
        if not cmd:
            raise typer.BadParameter("give the command after --: tracerule verify --kernel RULES -- CMD...")
    if len(trs) > 1:
        raise typer.BadParameter(f"--kernel takes one TRACE, got {len(trs)} (a command goes after --)")
    trace = trs[0] if trs else None
    if cmd is None and trace is None:
        raise typer.BadParameter("give the command after -- (tracerule verify --kernel RULES -- CMD...) "
                                 "or a TRACE recorded with tracerule record")
    if no_sidecar and trace is not None and cmd is None:
        raise typer.BadParameter("--no-sidecar: the command to re-run comes from the sidecar; give it after --")
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
    if trace is not None and not no_sidecar:
        work = workload_from_trace(trace, command=cmd, user=user, auid=auid)
    else:
        work = Workload(tuple(cmd), user, auid, None, _user_env(user))
    out_fd = None
    if json_:
        # the command's own output must not mix with the JSON
        try:
            out_fd = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            import subprocess

            out_fd = subprocess.DEVNULL
    try:
        res = kernel_verify([rules], work, trace=trace, each=each, expects=sels, timeout=timeout,
                            host=host_arch, stdout=out_fd)
    except KeyboardInterrupt as exc:
        what = str(exc) or "interrupted by SIGINT"
        print(f"tracerule verify --kernel: {what}: the command was stopped and this run's rules "
              "were unloaded", file=sys.stderr, flush=True)
        raise
    if json_:
        sys.stdout.write(json.dumps(res.to_dict(), indent=2) + "\n")
    else:
        render_kernel(res, events=max(0, events))
    return int(res.exit_code)


# ---- rendering (typer-free, in tracerule.cli.verify_run; names kept here for callers) ----------

from tracerule.cli.verify_run import _id, _plain, _render_rich, render  # noqa: E402

__all__ = ["verify_cmd", "render", "render_kernel", "_render_rich", "_kernel_lines"]


# ---- --kernel rendering --------------------------------------------------------------------------

def _ev_text(e) -> str:
    from tracerule.audit.verify import _arch_name

    res = "" if e.success is None else (" ok" if e.success else f" failed exit={e.exit}")
    return (f"{e.syscall_name or e.syscall} ({_arch_name(e.arch)}){res} pid={e.pid} exe={e.exe} "
            f"uid={_id(e.uid)} euid={_id(e.euid)} auid={_id(e.auid)}")


def _kernel_lines(res, events: int) -> list[str]:
    from tracerule.audit.kernel_verify import sig_text

    w = res.workload
    out: list[str] = []
    who = f" as {w.user}" if w.user else " as root"
    au = f", auid {_id(w.auid)}" if w.auid is not None else ", auid inherited"
    out.append(f"command: {' '.join(w.argv)}{who}{au}" + (f" (from {w.source})" if w.source != "command line" else ""))
    for r in res.runs:
        status = f"exit status {r.exit_status}"
        if r.exit_status is not None and r.exit_status < 0:
            from tracerule.audit.kernel_verify import _signame

            status = f"killed by {_signame(r.exit_status)}"
        out.append(f"run {r.label}: {status}, {r.events} event(s) of the command's {r.processes} "
                   f"process(es)" + (f" (+{r.setup} of tracerule's own setup before the exec)" if r.setup else ""))
    out.append("")
    out.append("rules (load order; the kernel logs only the first matching rule's key):")
    for r in res.rules:
        key = f" key={r.key.replace(chr(1), ',')}" if r.key else " (no key)"
        if r.skipped or r.refused:
            why = r.skipped or f"refused by the kernel: {r.refused}"
            out.append(f"  #{r.number} {r.location}{key}: NOT LOADED ({why})")
            out.append(f"     {r.canonical}")
            continue
        alone = "" if r.alone is None else f"; alone: {len(r.alone)}"
        out.append(f"  #{r.number} {r.location}{key}: won {r.won} event(s){alone}")
        out.append(f"     {r.canonical}")
        for e in r.events[:events]:
            out.append(f"     {_ev_text(e)}")
        if len(r.events) > events:
            out.append(f"     ... {len(r.events) - events} more")
        for h in r.hidden:
            out.append(f"     hidden in the combined run: {h['count']} x {sig_text(h['signature'])} "
                       f"-> {h['why']}")
        if r.simulator is not None:
            s = r.simulator
            same = not s["predicted_only"] and not s["kernel_only"]
            out.append(f"     simulator on the trace: {s['predicted']} predicted, kernel {s['kernel']}"
                       + (" (the same events)" if same else ""))
            for sig, n, why in s["predicted_only"][:10]:
                out.append(f"       predicted, not won on the kernel: {n} x {sig_text(sig)}"
                           + (f" ({why})" if why else ""))
            for sig, n in s["kernel_only"][:10]:
                out.append(f"       won on the kernel, not predicted: {n} x {sig_text(sig)}")
        if r.note:
            out.append(f"     note: {r.note}")
        for n in r.notes:
            out.append(f"     note: {n}")
    out.append("")
    if res.host_wins:
        out.append("events of the command won by rules already loaded on this host (not ours):")
        for h in res.host_wins:
            out.append(f"  {h.label}: {len(h.events)} event(s)"
                       + (f", {h.forced} forced (LOGIN/AVC/CONFIG_CHANGE records)" if h.forced else ""))
            for ln in h.lines[:5]:
                out.append(f"     host rule: {ln}")
            for e in h.events[:events]:
                out.append(f"     {_ev_text(e)}")
    else:
        n = len(res.host_rules)
        out.append(f"no event of the command was won by the host's own rules ({n} loaded)")
    if res.expectations:
        out.append("")
        out.append("expectations:")
        for e in res.expectations:
            by = ", ".join(f"{k} ({v})" for k, v in e["caught_by"].items())
            out.append(f"  {'CAUGHT' if e['ok'] else 'MISSED'} {e['selector']!r}: {e['caught']} event(s)"
                       + (f" (by {by})" if by else ""))
    if res.diagnostics:
        out.append("")
        out.append("rules file problems:")
        for d in res.diagnostics:
            out.append(f"  {d.location()}: {d.severity.value}: {d.message}")
    out.append("")
    rose = "ROSE" if res.lost_rose else "did not rise"
    out.append(f"lost counter: {res.lost_start} -> {res.lost_end} ({rose}); events from {res.source}")
    for n in res.notes:
        out.append(f"note: {n}")
    out.append("attribution: " + _attribution_short())
    return out


def _attribution_short() -> str:
    return ("events are tied to the command by its process tree, then to a rule by the logged key; "
            "a host never rule that wins leaves no trace, and keyless host rules cannot be told apart")


def render_kernel(res, *, events: int = 3) -> None:
    """Plain text (a rich rules table first on a terminal)."""
    import typer as _t

    lines = _kernel_lines(res, events)
    if not _plain():
        from rich.console import Console
        from rich.table import Table

        con = Console()
        tb = Table(title="kernel: events won per rule (combined run)", expand=True)
        for c, kw in (("#", {"justify": "right"}), ("rule", {"ratio": 4}), ("key", {}),
                      ("won", {"justify": "right"}), ("alone", {"justify": "right"}),
                      ("simulator", {"justify": "right"})):
            tb.add_column(c, **kw)
        for r in res.rules:
            if r.skipped or r.refused:
                tb.add_row(str(r.number), r.canonical, (r.key or "-").replace("\x01", ","), "not loaded", "-", "-")
                continue
            sim = "-" if r.simulator is None else str(r.simulator["predicted"])
            tb.add_row(str(r.number), r.canonical, (r.key or "-").replace("\x01", ","), str(r.won),
                       "-" if r.alone is None else str(len(r.alone)), sim)
        con.print(tb)
        for ln in lines:
            con.print(ln, highlight=False, markup=False)
        return
    for ln in lines:
        _t.echo(ln)
