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
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in FAST_STATIC:
        rv = _static_fast(args)
        if rv is not None:
            return rv
    import typer
    from typer._click.exceptions import ClickException

    from tracerule.errors import TraceruleError
    from tracerule.exitcodes import ExitCode

    app = _load_commands()
    interrupted = _watch_sigint()
    try:
        rv = _fast_path(app, args)
        if rv is None:
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
    except SystemExit:
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


#: commands whose plain command lines skip typer's parsing (see :func:`_fast_path`); the module
#: of each defines ``fast_ok(**values) -> bool`` (False: let typer run it, e.g. to report an error)
FAST_COMMANDS = {"graph": "tracerule.cli.graph_cmd"}
_INT_TEXT = None


def _fast_path(app, args: list[str]):
    """Run a command of :data:`FAST_COMMANDS` without typer's value coercion, which imports pydantic
    (about 14 MB of RSS and 0.1-0.2 s on every command: typer 0.29 builds a pydantic TypeAdapter
    per parameter).  Only for the plainest command lines: the command's parameters are of the
    kinds :func:`_option_table` reads (``str``/``int``/``bool``, optionally None; repeatable
    ``List[str]`` options; a last variadic ``List[str]`` argument), no ``typer.Context``; options
    given as ``--opt VALUE``, ``--opt=VALUE``, ``-o VALUE`` or a flag, at most once unless
    repeatable, positionals in order; integers as plain decimals.  Anything else -- help, unknown
    options, repeats, a value that looks like an option, a missing argument, a float option, a
    value the command's ``fast_ok`` refuses -- returns None and typer parses the line
    as always (same messages, same exit codes).  The option table is read from the command's own
    typer declarations, so it cannot drift from them."""
    if not args or args[0] not in FAST_COMMANDS:
        return None
    info = next((c for c in app.registered_commands
                 if (c.name or getattr(c.callback, "__name__", None)) == args[0]), None)
    mod = sys.modules.get(FAST_COMMANDS[args[0]])
    fast_ok = getattr(mod, "fast_ok", None)
    if info is None or info.callback is None or fast_ok is None:
        return None
    table = _option_table(info.callback)
    if table is None or _takes_context(info.callback):
        return None
    values = _parse_plain(table, args[1:])
    if values is None or not fast_ok(**values):
        return None
    rv = info.callback(**values)
    return 0 if rv is None else rv


#: the commands :func:`main` runs before importing typer at all (typer and click cost about 30 ms
#: of CPU at every start): name -> (runner "module:function", its table as :func:`_option_table`
#: reads it from the typer declarations -- a test checks they agree).  The runner module defines
#: ``fast_ok(**values) -> bool`` as for :data:`FAST_COMMANDS`.
FAST_STATIC = {
    "graph": ("tracerule.graph.render:run_graph_command", (
        ("trace",),
        {"--format": ("fmt", str), "-f": ("fmt", str), "--ascii": ("ascii_", bool), "--uid": ("uid", int),
         "--gid": ("gid", int), "--auid": ("auid", int), "--sidecar": ("sidecar", str),
         "--no-sidecar": ("no_sidecar", bool)},
        {"fmt": "tree", "ascii_": False, "uid": None, "gid": None, "auid": None, "sidecar": None,
         "no_sidecar": False},
    )),
    # --kernel and its options (--each, --user, --timeout) are in the table so that the line is
    # read as typer reads it; verify_run.fast_ok then leaves such lines to typer
    "verify": ("tracerule.cli.verify_run:run_verify_command", (
        ("rules", "*traces"),
        {"--baseline": ("baseline", list), "-b": ("baseline", list), "--expect": ("expect", list),
         "-e": ("expect", list), "--json": ("json_", bool), "--host-arch": ("host_arch", str),
         "--this-host": ("this_host", bool), "--other-host": ("this_host", bool, False),
         "--no-sidecar": ("no_sidecar", bool), "--uid": ("uid", int), "--gid": ("gid", int),
         "--auid": ("auid", int), "--events": ("events", int), "--kernel": ("kernel", bool),
         "--each": ("each", bool), "--user": ("user", str), "-u": ("user", str),
         "--timeout": ("timeout", float), "--existing": ("existing", str),
         "--rules-name": ("rules_name", str)},
        {"traces": None, "baseline": None, "expect": None, "json_": False, "host_arch": None,
         "this_host": None, "no_sidecar": False, "uid": None, "gid": None, "auid": None, "events": 3,
         "kernel": False, "each": False, "user": None, "timeout": 120.0, "existing": None,
         "rules_name": None},
    )),
}


def _static_fast(args: list[str]) -> int | None:
    """:func:`_fast_path` for :data:`FAST_STATIC`, without typer: None when typer must parse the
    line; an error of the command (a :class:`~tracerule.errors.TraceruleError`) maps to its exit code."""
    runner, table = FAST_STATIC[args[0]]
    values = _parse_plain(table, args[1:])
    if values is None:
        return None
    modname, _, fname = runner.partition(":")
    mod = importlib.import_module(modname)
    if not mod.fast_ok(**values):
        return None
    from tracerule.errors import TraceruleError

    try:
        rv = getattr(mod, fname)(**values)
    except TraceruleError as exc:
        _err(f"tracerule: {exc}")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        from tracerule.exitcodes import ExitCode

        _err("tracerule: interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 0
    return 0 if rv is None else int(rv)


def _option_table(fn):
    """(positional names, {"--opt": (parameter, type[, value])}, {parameter: default}) of a typer
    command callback whose parameters :func:`_parse_plain` can read, else None.

    Types: ``str``, ``int``, ``float`` (never read: such a line goes to typer), ``bool`` (a flag:
    True, or the entry's third item for the off switch of ``--x/--no-x``), ``list`` (a repeatable
    ``List[str]`` option).  A last positional ``List[str]`` argument with a default is variadic:
    named ``"*name"``, its default in the defaults.  A ``typer.Context`` parameter is left out
    (:func:`_fast_path` refuses such commands; a :data:`FAST_STATIC` runner does without it)."""
    import typing

    import typer.models as tm
    import inspect
    from typer import Context

    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return None
    options: dict[str, tuple] = {}   # "--format" -> (parameter, type)
    positionals: list[str] = []
    values: dict[str, object] = {}
    for name, prm in inspect.signature(fn).parameters.items():
        d = prm.default
        t = hints.get(name)
        if t is Context:
            continue
        if typing.get_origin(t) is typing.Union:
            inner = [a for a in typing.get_args(t) if a is not type(None)]
            t = inner[0] if len(inner) == 1 else None
        if typing.get_origin(t) is list:
            t = list if typing.get_args(t) == (str,) else None
        if t not in (str, int, float, bool, list) or getattr(d, "envvar", None) or getattr(d, "callback", None):
            return None
        if isinstance(d, tm.ArgumentInfo):
            if positionals and positionals[-1].startswith("*"):
                return None         # a variadic argument must come last
            if t is str and d.default is ...:
                positionals.append(name)
            elif t is list and d.default is None:
                positionals.append("*" + name)
                values[name] = None
            else:
                return None
        elif isinstance(d, tm.OptionInfo):
            if d.default is ... or getattr(d, "is_flag", None) is not None or not d.param_decls:
                return None
            for decl in d.param_decls:
                if "/" in decl:
                    on, _, off = decl.partition("/")
                    if t is not bool or not on.startswith("-") or not off.startswith("-") or "/" in off:
                        return None
                    options[on] = (name, bool)
                    options[off] = (name, bool, False)
                    continue
                if not decl.startswith("-"):
                    return None
                options[decl] = (name, t)
            values[name] = d.default
        else:
            return None
    return tuple(positionals), options, values


def _takes_context(fn) -> bool:
    import inspect
    import typing

    from typer import Context

    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return True
    return any(hints.get(n) is Context for n in inspect.signature(fn).parameters)


def _parse_plain(table, rest: list[str]) -> dict | None:
    """The values of a plain command line (see :func:`_fast_path`), or None.  Repeatable (list)
    options may repeat; any other option given twice, a ``float`` option, a value that looks like
    an option, ``--`` before a variadic argument (what follows it may mean something else to the
    command: ``verify --kernel RULES -- CMD...``) return None."""
    global _INT_TEXT
    positionals, options, defaults = table
    variadic = positionals[-1][1:] if positionals and positionals[-1].startswith("*") else None
    required = positionals[:-1] if variadic else positionals
    if _INT_TEXT is None:
        import re

        _INT_TEXT = re.compile(r"-?[0-9]+").fullmatch
    values = dict(defaults)
    seen: set[str] = set()
    pos: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        i += 1
        if a == "--":
            if variadic:
                return None
            pos.extend(rest[i:])
            break
        if not a.startswith("-") or a == "-":
            pos.append(a)
            continue
        key, eq, val = a.partition("=") if a.startswith("--") else (a, "", "")
        if key not in options:
            return None
        entry = options[key]
        name, t = entry[0], entry[1]
        if t is float:
            return None
        if name in seen and t is not list:
            return None
        if t is bool:
            if eq:
                return None
            seen.add(name)
            values[name] = entry[2] if len(entry) > 2 else True
            continue
        if not eq:
            if i >= len(rest):
                return None
            val = rest[i]
            i += 1
        if val.startswith("-") and not (t is int and _INT_TEXT(val)):
            return None
        if t is int:
            if not _INT_TEXT(val):
                return None
            values[name] = int(val)
        elif t is list:
            if name not in seen:
                values[name] = []
            values[name].append(val)
        else:
            values[name] = val
        seen.add(name)
    if len(pos) < len(required) or (not variadic and len(pos) != len(required)):
        return None
    for name, v in zip(required, pos):
        values[name] = v
    if variadic and len(pos) > len(required):
        values[variadic] = pos[len(required):]
    return values


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
