"""``tracerule verify RULES TRACE...`` without ``--kernel``: the option checks, the run and its
output, typer-free.  The typer command (:mod:`tracerule.cli.verify_cmd`) and the start-up fast
path (:data:`tracerule.cli.FAST_STATIC`, which runs plain ``verify`` command lines before typer
is imported) both call these, so they cannot drift.  Heavy imports happen inside the functions:
this module is imported on every ``tracerule verify`` start."""
from __future__ import annotations


class UsageProblem(Exception):
    """A usage error of the command line (typer reports it as ``typer.BadParameter``: exit 2)."""

    def __init__(self, message: str, param_hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.param_hint = param_hint


def prepare(*, traces, baseline, expect, host_arch, uid, gid, auid, existing, rules_name,
            each: bool = False, user: str | None = None, after=()):
    """Check the options of a verify without ``--kernel``; return (selectors, host arch) or raise
    :class:`UsageProblem`, in the order the command always checked them.  ``after``: the
    positionals given after ``--`` (only a ``--kernel`` run takes a command there)."""
    if rules_name is not None and existing is None:
        raise UsageProblem("--rules-name needs --existing")
    if rules_name is not None:
        import os

        if not rules_name or os.path.basename(rules_name) != rules_name or rules_name in (".", ".."):
            raise UsageProblem(f"--rules-name takes a file name, not {rules_name!r}")
    for name, v in (("--each", each or None), ("--user", user)):
        if v is not None:
            raise UsageProblem(f"{name} needs --kernel")
    if after:
        import os

        if any(not os.path.exists(a) for a in after):
            raise UsageProblem("-- CMD needs --kernel (tracerule verify --kernel RULES -- CMD...)")
    if not traces and not baseline:
        raise UsageProblem("give at least one TRACE (or --baseline TRACE)")
    for name, v in (("--uid", uid), ("--gid", gid), ("--auid", auid)):
        if v is not None and not 0 <= v <= 0xFFFFFFFF:
            raise UsageProblem(f"{name} must be between 0 and 4294967295")
    sels = []
    if expect:
        from tracerule.audit.verify import parse_selector

        for e in expect:
            try:
                sels.append(parse_selector(e))
            except ValueError as exc:
                raise UsageProblem(str(exc), "--expect") from None
    if host_arch is not None:
        from tracerule.audit.tables import UnknownArch, resolve_arch

        try:
            host_arch = resolve_arch(host_arch)
        except UnknownArch as exc:
            raise UsageProblem(str(exc), "--host-arch") from None
    return sels, host_arch


def run(rules: str, traces, *, baseline, sels, json_: bool, host_arch, this_host, no_sidecar: bool,
        uid, gid, auid, events: int, existing, rules_name) -> int:
    """Replay ``traces`` through ``rules`` and print the result (JSON, or text/rich tables);
    the exit status.  Options as :func:`prepare` returned them."""
    from tracerule.audit.verify import verify

    res = verify([rules], list(traces or ()), baselines=list(baseline or ()), expects=sels,
                 host=host_arch, this_host=this_host, sidecar=None if no_sidecar else "auto",
                 uid=uid, gid=gid, auid=auid, existing=existing, rules_name=rules_name)
    if json_:
        import json
        import sys

        sys.stdout.write(json.dumps(res.to_dict(), indent=2) + "\n")
        return int(res.exit_code)
    render(res, events=max(0, events))
    return int(res.exit_code)


# ---- the start-up fast path (tracerule.cli.FAST_STATIC) -----------------------------------------

def _prepared(values: dict):
    return prepare(traces=values["traces"], baseline=values["baseline"], expect=values["expect"],
                   host_arch=values["host_arch"], uid=values["uid"], gid=values["gid"],
                   auid=values["auid"], existing=values["existing"],
                   rules_name=values["rules_name"], each=values["each"], user=values["user"])


def fast_ok(**values) -> bool:
    """May :func:`tracerule.cli.main` run these values without typer?  Not ``--kernel`` (nor its
    options) and no usage error: typer reports those, with its usage line."""
    if values["kernel"] or values["each"] or values["user"] is not None or values["timeout"] != 120.0:
        return False
    try:
        _prepared(values)
    except UsageProblem:
        return False
    return True


def run_verify_command(**values) -> int:
    """``tracerule verify`` for values :func:`fast_ok` accepted (the parameters of the typer
    command, by name)."""
    sels, host_arch = _prepared(values)
    return run(values["rules"], values["traces"], baseline=values["baseline"], sels=sels,
               json_=values["json_"], host_arch=host_arch, this_host=values["this_host"],
               no_sidecar=values["no_sidecar"], uid=values["uid"], gid=values["gid"],
               auid=values["auid"], events=values["events"], existing=values["existing"],
               rules_name=values["rules_name"])


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
                by = ", ".join([f"#{k}" for k in sorted(e.by_rule)]
                               + [f"existing {w}" for w in sorted(e.by_existing)])
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
    out.extend(_existing_lines(res))
    if res.assumptions:
        out.append("")
        out.append("assumptions (values the trace does not show):")
        quiet = 0
        for text, n in res.assumptions.items():
            if not n and getattr(res, "existing", None) is not None and text.startswith("existing "):
                quiet += 1          # about an existing rule, and no event needed it
                continue
            out.append(f"  {text}" + (f" ({n} event(s))" if n else ""))
        if quiet:
            out.append(f"  ... and {quiet} about existing rules that no event depended on (see --json)")
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


def _existing_lines(res) -> list[str]:
    ex = getattr(res, "existing", None)
    if ex is None:
        return []
    out = ["", f"existing rules ({ex.source}, {ex.rules} rule(s)): {ex.position}"]
    wins = [w for _, w in sorted(ex.wins.items())]
    if not wins:
        out.append("  no event of the traces is decided by an existing rule")
    for w in wins:
        key = f"under key {w.key.replace(chr(1), ',')}" if w.key else "without a key"
        if w.action == "never":
            what = f"suppressed by {w.where} (never rule)"
        else:
            what = f"already logged by {w.where} {key}"
        out.append(f"  {w.events} event(s) {what}")
        out.append(f"     {w.text}")
        for e in w.examples[:3]:
            out.append(f"     {e['file']}:{e['line']} {e['syscall']} pid={e['pid']} exe={e['exe']}")
    for b in res.baselines:
        if b.existing_logged is not None:
            out.append(f"  baseline {b.trace}: {b.existing_logged} event(s) logged by the existing rules "
                       "(not counted above)")
    return out


def _id(v) -> str:
    return "unset" if v == 4294967295 else str(v)


def _render_plain(res, events: int) -> None:
    # typer.echo (click's echo) as always: it strips ANSI escapes (a hostile exe name in a trace)
    # when stdout is not a terminal.  Importing typer costs ~35 ms; its parsing, not done here,
    # is what costs (pydantic).
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
    for ln in _existing_lines(res):
        con.print(ln, highlight=False, markup=False)
    if starts:
        for ln in rest[min(starts):]:
            con.print(ln, highlight=False, markup=False)
    else:
        for ln in rest[-2:]:
            con.print(ln, highlight=False, markup=False)
