"""``tracerule kernel status`` / ``tracerule kernel cleanup``: thin layers over tracerule.audit.kernel."""
from __future__ import annotations

import json

import typer

from tracerule.cli.app import app

kernel_app = typer.Typer(
    name="kernel",
    help="The real kernel audit: status, and cleanup after a killed run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(kernel_app, name="kernel")


@kernel_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Show the kernel's audit status, a running auditd, the lock holder and any journals of runs."""
    from tracerule.audit.kernel import status_report
    from tracerule.exitcodes import ExitCode

    rep = status_report()
    if as_json:
        typer.echo(json.dumps(rep, indent=2, sort_keys=True))
    else:
        if rep["available"]:
            st = rep["status"]
            typer.echo("kernel audit: usable")
            for name in ("enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time",
                         "lost", "backlog"):
                if name in st:
                    typer.echo(f"  {name:<18} {st[name]}")
            if "loginuid_immutable" in st:
                typer.echo(f"  {'loginuid_immutable':<18} {st['loginuid_immutable']} "
                           f"{st.get('loginuid_immutable_state', '')}".rstrip())
        else:
            typer.echo(f"kernel audit: not usable: {rep['reason']}")
        typer.echo(f"auditd: {'running, pid ' + ', '.join(map(str, rep['auditd_pids'])) if rep['auditd_pids'] else 'not running (events come from the netlink multicast group)'}")
        if rep["rules_listed"] is not None:
            typer.echo(f"rules loaded: {rep['rules_listed']} (of them with a tracerule run key: "
                       f"{len(rep['tracerule_rules'])})")
            for ln in rep["tracerule_rules"]:
                typer.echo(f"  {ln}")
        typer.echo(f"state dir: {rep['state_dir'] or '-'}")
        if rep["lock_holder"]:
            typer.echo(f"lock held by: {rep['lock_holder']}")
        for j in rep["journals"]:
            if "error" in j:
                typer.echo(f"journal {j['journal']}: unreadable: {j['error']}")
            else:
                state = "running" if j["owner_alive"] else "DEAD: run `tracerule kernel cleanup`"
                typer.echo(f"journal {j['journal']}: pid {j['owner_pid']} ({state}), {j['rules']} rule(s)")
    if not rep["available"]:
        raise typer.Exit(int(ExitCode.ENVIRONMENT))


@kernel_app.command("cleanup")
def cleanup(
    wait: float = typer.Option(10.0, "--wait", help="seconds to wait for a running tracerule kernel run"),
    orphans: bool = typer.Option(False, "--orphans",
                                 help="also delete listed rules with a tracerule run key that no journal "
                                      "accounts for"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Delete the rules of killed tracerule runs and restore the settings they saved."""
    from tracerule.audit.kernel import cleanup as do_cleanup
    from tracerule.exitcodes import ExitCode

    rep = do_cleanup(wait=wait, orphans=orphans)
    if as_json:
        typer.echo(json.dumps(rep, indent=2, sort_keys=True))
    else:
        if not rep["journals"] and not rep["orphans_deleted"]:
            typer.echo("nothing to clean up")
        for j in rep["journals"]:
            if j["skipped"]:
                typer.echo(f"{j['journal']}: left alone: {j['skipped']}")
                continue
            typer.echo(f"{j['journal']} (pid {j['owner_pid']}): deleted {len(j['deleted'])} rule(s), "
                       f"{len(j['already_gone'])} already gone")
            for ln in j["deleted"]:
                typer.echo(f"  deleted: {ln}")
            for r in j["restored"]:
                typer.echo(f"  restored {r['setting']}: {r['from']} -> {r['to']}")
        for ln in rep["orphans_deleted"]:
            typer.echo(f"orphan deleted: {ln}")
        for ln in rep["remaining_orphans"]:
            typer.echo(f"orphan (not deleted; use --orphans): {ln}")
        for p in rep["problems"]:
            typer.echo(f"problem: {p}", err=True)
    if rep["problems"]:
        raise typer.Exit(int(ExitCode.ENVIRONMENT))
