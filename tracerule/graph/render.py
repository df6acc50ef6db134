"""Renderers for a :class:`~tracerule.graph.model.ProcessGraph`: tree (rich or plain), JSON, DOT, GraphML.

The tree is built once as lines of styled segments, then printed either plain (no escape codes:
not a tty, ``NO_COLOR``, ``TERM=dumb``) or through rich.  ``ascii=True`` uses ``|--`` guides.
Every string that came from the trace is sanitised first: a hostile file name can neither break
a line nor inject terminal escapes or DOT syntax.
"""
from __future__ import annotations

import functools
import json
import os
import sys

from tracerule.graph.model import AUID_UNSET, SIDECAR, Exec, Process, ProcessGraph, warning_dict

UNICODE_GUIDES = ("├── ", "└── ", "│   ", "    ")
ASCII_GUIDES = ("|-- ", "`-- ", "|   ", "    ")


# ---- text hygiene ------------------------------------------------------------------------------

def clean(s: str) -> str:
    """Printable form of a trace string: control characters and backslashes escaped."""
    if s.isprintable() and "\\" not in s:
        return s
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            o = ord(ch)
            if o < 0x100:
                out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\x{o:02x}"))
            elif 0xDC80 <= o <= 0xDCFF:  # surrogateescape'd byte
                out.append(f"\\x{o - 0xDC00:02x}")
            else:
                out.append(f"\\u{o:04x}")
    return "".join(out)


def _quote(arg: str) -> str:
    import shlex

    a = clean(arg)
    return shlex.quote(a) if a else "''"


def short_argv(argv, limit: int = 72, truncated: bool = False, ascii: bool = False) -> str:
    s = " ".join(_quote(a) for a in argv)
    ell = "..." if ascii else "…"
    if truncated:
        s += " " + ell
    if len(s) > limit:
        s = s[: limit - len(ell)] + ell
    return s


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---- tree model --------------------------------------------------------------------------------

Seg = tuple  # (text, style)


def _id(v) -> str:
    return "?" if v is None else str(v)


def _cred_segs(e: Exec, prev: Exec | None, ascii: bool) -> list[Seg]:
    c = e.creds
    segs: list[Seg] = []
    uid, euid = c.uid.value, c.euid.value
    arrow = "->" if ascii else "→"
    if uid is None and euid is None:
        segs.append(("uid=?", "dim"))
    elif uid == euid:
        segs.append((f"uid={_id(uid)}", "cyan"))
    else:
        segs.append((f"uid={_id(uid)}{arrow}euid={_id(euid)}", "bold yellow"))
    if c.setid_exec:
        tag = "setuid bit, sidecar" if c.setid_exec == SIDECAR else "setuid exec, inferred"
        segs.append((f"[{tag}]", "yellow"))
    gid, egid = c.gid.value, c.egid.value
    if gid is not None or egid is not None:
        if gid == egid:
            segs.append((f"gid={_id(gid)}", "dim cyan"))
        else:
            segs.append((f"gid={_id(gid)}{arrow}egid={_id(egid)}", "yellow"))
    if c.auid.value is not None:
        a = "unset" if c.auid.value == AUID_UNSET else str(c.auid.value)
        changed = prev is None or prev.creds.auid.value != c.auid.value
        segs.append((f"auid={a}", "bold magenta" if changed and a != "unset" else "magenta"))
    src = c.cred_source
    if src not in ("observed",):
        segs.append((f"({src})", "dim"))
    return segs


def _exec_lines(p: Process, ascii: bool) -> list[list[Seg]]:
    out: list[list[Seg]] = []
    execs = list(p.execs)
    i = 0
    prev_ok = None
    cross = "x" if ascii else "✗"
    while i < len(execs):
        e = execs[i]
        if not e.ok:
            j = i
            while (j + 1 < len(execs) and not execs[j + 1].ok and execs[j + 1].errno == e.errno
                   and execs[j + 1].program == e.program):
                j += 1
            n = j - i + 1
            label = clean(e.path) if n == 1 else ", ".join(clean(x.path) for x in execs[i:j + 1])
            inj = " (injected)" if e.injected else ""
            out.append([(f"{cross} exec {label}: {e.errno or 'failed'}{inj}", "dim")])
            i = j + 1
            continue
        segs: list[Seg] = [("exec ", "dim"), (clean(e.path), "bold green"), ("  ", ""),
                           (short_argv(e.argv, truncated=e.argv_truncated, ascii=ascii), "")]
        segs.append(("  ", ""))
        cs = _cred_segs(e, prev_ok, ascii)
        for k, s in enumerate(cs):
            if k:
                segs.append((" ", ""))
            segs.append(s)
        if e.arch != "b64" or e.arch_source not in ("default", "inherited"):
            pass
        out.append(segs)
        prev_ok = e
        i += 1
    return out


def _proc_label(p: Process, ascii: bool, inherited: str = "") -> list[Seg]:
    segs: list[Seg] = [(str(p.pid), "bold"), (" ", "")]
    progs = [e.program for e in p.ok_execs]
    if progs:
        arrow = " => " if ascii else " ⇒ "
        segs.append((arrow.join(clean(x) for x in progs), "bold green"))
    else:
        segs.append(((clean(inherited) + " " if inherited else "") + "(fork, no exec)", "dim"))
    if p.ns_pid is not None and p.ns_pid != p.pid:
        segs.append((f" ns-pid={p.ns_pid}", "dim"))
    if p.via and p.via not in ("clone", "fork", "vfork", "clone3"):
        segs.append((f" via {p.via}", "dim"))
    if p.creator_id and p.creator_id != p.parent_id:
        segs.append((f" created by {p.creator_id[1:]} (CLONE_PARENT)", "dim"))
    if p.threads:
        segs.append((f" +{len(p.threads)} thread{'s' if len(p.threads) != 1 else ''}", "dim"))
    b32 = [a for a in p.arch if a.arch != "b64"]
    if b32:
        segs.append((f" [{'/'.join(sorted({a.arch for a in b32}))}: {b32[0].source}]", "yellow"))
    if p.exit is not None:
        style = "red" if p.exit.signal or (p.exit.code or 0) != 0 else "dim"
        segs.append((f"  {p.exit.text}", style))
    return segs


def tree_lines(g: ProcessGraph, ascii: bool = False) -> list[list[Seg]]:
    """The tree as lines of (text, style) segments, guides included."""
    tee, last, bar, blank = ASCII_GUIDES if ascii else UNICODE_GUIDES
    kids: dict[str | None, list[Process]] = {}
    for p in g.processes:
        kids.setdefault(p.parent_id, []).append(p)
    # children whose parent is outside the trace but who have a creator in it stay roots
    lines: list[list[Seg]] = []

    def walk(p: Process, prefix: str, is_last: bool, top: bool):
        head = "" if top else (last if is_last else tee)
        lines.append([(prefix + head, "dim")] + _proc_label(p, ascii, _inherited(p)))
        sub_prefix = prefix + ("" if top else (blank if is_last else bar))
        items: list = [("x", e) for e in _exec_lines(p, ascii)] + [("p", c) for c in kids.get(p.id, [])]
        for k, (kind, item) in enumerate(items):
            il = k == len(items) - 1
            if kind == "x":
                lines.append([(sub_prefix + (last if il else tee), "dim")] + item)
            else:
                walk(item, sub_prefix, il, False)

    def _inherited(p: Process) -> str:
        cur = p
        seen = 0
        while cur is not None and seen < 10000:
            if cur.program:
                return cur.program
            cur = g.get(cur.creator_id) if cur.creator_id else None
            seen += 1
        return ""

    roots = kids.get(None, [])
    for r in roots:
        walk(r, "", True, True)
    return lines


def render_tree(g: ProcessGraph, *, ascii: bool = False, color: bool | None = None,
                file=None) -> None:
    file = file or sys.stdout
    if color is None:
        color = use_color(file)
    lines = tree_lines(g, ascii=ascii)
    if not color:
        for segs in lines:
            file.write("".join(t for t, _ in segs).rstrip() + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False, soft_wrap=True)
    for segs in lines:
        t = Text()
        for text, style in segs:
            t.append(text, style=style or None)
        console.print(t)


def plain_tree(g: ProcessGraph, ascii: bool = False) -> str:
    return "".join("".join(t for t, _ in segs).rstrip() + "\n" for segs in tree_lines(g, ascii))


# ---- machine formats ---------------------------------------------------------------------------

def render_json(g: ProcessGraph, indent: int | None = 1) -> str:
    return json.dumps(g.to_dict(), indent=indent, ensure_ascii=False) + "\n"


def write_json(g: ProcessGraph, file) -> None:
    """The same document as :func:`render_json`, streamed: one process per line, so memory stays
    at one process's dict however big the graph is."""
    from tracerule.graph.model import SCHEMA_VERSION

    # the dicts are fresh trees (to_dict builds them): no cycle to look for
    dumps = functools.partial(json.dumps, ensure_ascii=False, check_circular=False)
    file.write('{"schema_version": %d, "source": %s, "sidecar": %s, "processes": [\n'
               % (SCHEMA_VERSION, dumps(g.source), dumps(g.sidecar_used)))
    n = len(g.processes)
    for i, p in enumerate(g.processes):
        file.write(dumps(p.to_dict()) + (",\n" if i + 1 < n else "\n"))
    file.write('], "warnings": [\n')
    ws = g.warnings
    for i, w in enumerate(ws):
        file.write(dumps(warning_dict(w)) + (",\n" if i + 1 < len(ws) else "\n"))
    file.write("]}\n")


def _dot_str(s: str) -> str:
    """A DOT double-quoted string; lines of ``s`` are joined with DOT's own ``\\n``."""
    # callers clean() trace strings first; anything still unprintable is replaced, not escaped twice
    parts = ["".join(c if c.isprintable() else "?" for c in x).replace("\\", "\\\\").replace('"', '\\"')
             for x in s.split("\n")]
    return '"' + "\\n".join(parts) + '"'


def _node_summary(p: Process) -> dict:
    ok = p.ok_execs
    last = ok[-1] if ok else None
    c = last.creds if last else (p.creds[-1].creds if p.creds else None)
    return {
        "pid": p.pid,
        "program": p.program,
        "argv": " ".join(last.argv) if last else "",
        "execs": " -> ".join(e.path for e in ok),
        "uid": c.uid.value if c else None,
        "euid": c.euid.value if c else None,
        "auid": c.auid.value if c else None,
        "cred_source": c.cred_source if c else "unknown",
        "threads": len(p.threads),
        "exit": p.exit.text if p.exit else "",
    }


def render_dot(g: ProcessGraph) -> str:
    out = ["digraph processes {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for p in g.processes:
        s = _node_summary(p)
        label = f"{p.pid} {clean(s['program']) or '(no exec)'}"
        if s["uid"] is not None or s["euid"] is not None:
            label += f"\nuid={_id(s['uid'])} euid={_id(s['euid'])}"
        if s["auid"] is not None:
            label += f" auid={'unset' if s['auid'] == AUID_UNSET else s['auid']}"
        if s["exit"]:
            label += f"\n{s['exit']}"
        setid = any(e.creds.setid_exec for e in p.ok_execs)
        attrs = f"label={_dot_str(label)}"
        if setid:
            attrs += ", color=orange, penwidth=2"
        out.append(f"  {_dot_str(p.id)} [{attrs}];")
    for p in g.processes:
        if p.parent_id is not None:
            out.append(f"  {_dot_str(p.parent_id)} -> {_dot_str(p.id)} [label={_dot_str(p.via or '')}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_graphml(g: ProcessGraph) -> str:
    import networkx as nx

    h = nx.DiGraph()
    for p in g.processes:
        s = _node_summary(p)
        attrs = {k: (clean(v) if isinstance(v, str) else v) for k, v in s.items() if v is not None}
        attrs["id_"] = p.id
        if p.ppid is not None:
            attrs["ppid"] = p.ppid
        h.add_node(p.id, **attrs)
    for p in g.processes:
        if p.parent_id is not None:
            h.add_edge(p.parent_id, p.id, via=p.via or "")
    return "\n".join(nx.generate_graphml(h)) + "\n"


def warnings_text(g: ProcessGraph, limit: int = 8) -> list[str]:
    out = []
    for w in g.warnings[:limit]:
        d = warning_dict(w)
        loc = f"{d['file']}:{d['line']}" if d["line"] else (d["file"] or "")
        code = f" [{d['code']}]" if d["code"] else ""
        out.append(f"{loc}: {d['severity']}{code}: {clean(d['message'])}")
    if len(g.warnings) > limit:
        out.append(f"... and {len(g.warnings) - limit} more (see --format json)")
    return out


# ---- the ``tracerule graph`` command's body (typer-free: the CLI runs it before importing typer) --

FORMATS = ("tree", "json", "dot", "graphml")


def check_options(fmt, uid, gid, auid, sidecar, no_sidecar) -> str | None:
    """What is wrong with the ``tracerule graph`` options (a usage error), or None."""
    if fmt not in FORMATS:
        return f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}"
    for name, v in (("--uid", uid), ("--gid", gid), ("--auid", auid)):
        if v is not None and not 0 <= v <= 0xFFFFFFFF:
            return f"{name} must be between 0 and 4294967295"
    if sidecar and no_sidecar:
        return "--sidecar and --no-sidecar exclude each other"
    return None


def fast_ok(fmt, ascii_, uid, gid, auid, sidecar, no_sidecar, **_) -> bool:
    """May :func:`tracerule.cli.main`'s fast paths (no typer) run these values?
    Usage errors are left to typer, which reports them with the usage line."""
    return check_options(fmt, uid, gid, auid, sidecar, no_sidecar) is None


def run_graph_command(trace: str, fmt: str = "tree", ascii_: bool = False, uid: int | None = None,
                      gid: int | None = None, auid: int | None = None, sidecar: str | None = None,
                      no_sidecar: bool = False) -> None:
    """``tracerule graph`` with checked options (:func:`check_options`): build the graph of
    ``trace`` and write it to stdout in ``fmt`` (warnings of the tree format to stderr).
    Raises :class:`~tracerule.errors.TraceruleError` when the input holds no strace events."""
    from tracerule.errors import TraceruleError
    from tracerule.exitcodes import ExitCode
    from tracerule.graph.build import build_graph

    sc = None if no_sidecar else (sidecar if sidecar else "auto")
    g = build_graph(trace, sidecar=sc, uid=uid, gid=gid, auid=auid)
    if not g.processes:
        raise TraceruleError(f"{trace}: no strace events found (is this strace output?)",
                             exit_code=ExitCode.BAD_INPUT)
    out = sys.stdout
    if fmt == "json":
        write_json(g, out)
        return
    if fmt == "dot":
        out.write(render_dot(g))
        return
    if fmt == "graphml":
        out.write(render_graphml(g))
        return
    if g.sidecar_used:
        print(f"(sidecar: {g.sidecar_used})", file=sys.stderr)
        sys.stderr.flush()
    render_tree(g, ascii=ascii_)
    out.flush()
    shown = [w for w in warnings_text(g)]
    if shown:
        print("warnings:", file=sys.stderr)
        for line in shown:
            print("  " + line, file=sys.stderr)
