"""Step ``output``: the rules.d file with provenance comments, the JSON document, the summary table.

The rules file follows augenrules conventions (a ``50-tracerule.rules`` fragment: no ``-D``, no
``-b``/``-e`` control lines).  Every comment line starts with ``#`` and holds only printable ASCII
(:func:`tracerule.synth.context.safe_text`): nothing from a trace can end a comment and start a rule.
"""
from __future__ import annotations

from tracerule.audit.rules.emit import canonical, source_lines
from tracerule.synth.context import safe_text
from tracerule.synth.model import AUID_UNKNOWN, CATEGORY_TITLES, SCHEMA_VERSION, Suggestion


def _c(text: str) -> str:
    return "# " + safe_text(text, 400)


def _catches(s: Suggestion, tid: str, level: str) -> tuple[list[str], list[str]]:
    for lad in s.ladders:
        if lad.target.id == tid:
            r = lad.rung(level)
            if r is None:
                return [], []
            yes = [v for v, h in r.catches if h and not v.startswith("auid unset")]
            no = [v for v, h in r.catches if not h and not v.startswith("auid unset")]
            neg = [v for v, h in r.catches if v.startswith("auid unset")]
            if neg:
                ok = all(not h for v, h in r.catches if v.startswith("auid unset"))
                (no if ok else yes).append("an exec/event with auid unset" if ok else "events with auid unset (!)")
            return yes, no
    return [], []


def summary_lines(s: Suggestion) -> list[str]:
    h = s.host
    cov = s.coverage
    caught = sum(1 for c in cov if c.caught == c.instances)
    noise = "not measured" if s.noise is None else f"{sum(s.noise.values())} event(s) beyond the targets"
    out = [f"target: {h.arch} ({h.arch_source}); b32: {h.b32}; auditctl {h.auditctl_version} "
           f"({h.auditctl_source}); UID_MIN {h.uid_min} ({h.uid_min_source})",
           f"coverage on the trace: {caught}/{len(cov)} targets fully caught; noise on the trace: {noise} "
           f"({s.baseline})"]
    bn = getattr(s, "baseline_noise", None)
    cost = getattr(s, "cost", None)
    if bn is not None:
        ev = sum(bn.values())
        rate = ""
        if cost is not None and cost.wall:
            rate = f", {ev / cost.wall:.2f}/s over {cost.wall:.0f} s of untraced work"
        out.append(f"noise on the {s.baseline}: {ev} event(s){rate}")
    if cost is not None:
        on = "the baseline" if bn is not None else "the trace's own syscall mix"
        out.append(f"estimated kernel cost on {on}: {cost.summary()}")
    ex = getattr(s, "existing", None)
    if ex is not None:
        out.append(f"existing rules: {ex.source} ({ex.rules_loaded} rules); {ex.position}")
        for c in ex.caught:
            out.append(f"  already caught: {c.target} {c.caught}/{c.instances} under key "
                       f"{', '.join(c.keys)} ({', '.join(c.rules[:3])})" + ("" if c.complete else " -- partly: new rule kept"))
        for sh in ex.shadowed:
            what = f"logged under key {sh.key}" if sh.action == "always" else "suppressed (never)"
            out.append(f"  shadowed: new rule {sh.rule + 1}: {sh.events} event(s) {what} by {sh.by}")
    return out


def rules_text(s: Suggestion) -> str:
    """The rules.d fragment."""
    h = s.host
    out = ["## tracerule suggest -- a rules.d fragment for augenrules (e.g. /etc/audit/rules.d/50-tracerule.rules)",
           _c("from: " + ", ".join(s.traces))]
    out += [_c(x) for x in summary_lines(s)]
    if s.missed:
        out.append(_c("WARNING: these rules MISS recorded events of: "
                      + ", ".join(f"{c.target} ({c.instances - c.caught} of {c.instances})" for c in s.missed)))
    tmap = {t.id: t for t in s.targets}
    for i, r in enumerate(s.rules):
        out.append("")
        if r.level == "b32-twin":
            out.append(_c("b32 twin of the rule above (32-bit programs and int 0x80 syscalls)"))
        elif r.level == "b32-catchall":
            out.append(_c(r.note))
        else:
            for tid in r.targets:
                t = tmap[tid]
                out.append(_c(f"[{tid}] {CATEGORY_TITLES[t.category]}: {t.reason}"))
                out.append(_c(f"    chain: {t.chain}"))
                lines = t.lines
                more = f" (+{len(lines) - 6} more)" if len(lines) > 6 else ""
                out.append(_c(f"    trace: {', '.join(lines[:6])}{more}"))
                yes, no = _catches(s, tid, s.chosen.get(tid, ""))
                out.append(_c(f"    rung: {s.chosen.get(tid, '?')}" + (f"; also catches: {', '.join(yes)}" if yes else "")))
                if no:
                    out.append(_c(f"    does not catch: {', '.join(no)}"))
                if t.attack:
                    out.append(_c(f"    ATT&CK: {', '.join(t.attack)}"))
                if t.auid_scope == "unknown":
                    out.append(_c("    " + AUID_UNKNOWN))
            if r.note:
                out.append(_c(f"    {r.note}"))
            out.append(_c(f"    steps: {', '.join(r.steps)}"))
        bn = getattr(s, "baseline_noise", None)
        if bn is not None and r.level != "b32-twin":
            out.append(_c(f"    on the baseline: {bn.get(i, 0)} event(s)"
                          + (f" (+{bn.get(i + 1, 0)} by its b32 twin)" if i + 1 < len(s.rules)
                             and s.rules[i + 1].level == "b32-twin" else "")))
        out.extend(source_lines(r.item, version=h.auditctl_version, host=h.arch))
    for ho in s.handoffs:
        out.append("")
        out.append(_c(f"hand-off to {ho.daemon} via {ho.socket} ({ho.chain})"))
        for n in ho.notes:
            out.append(_c("    " + n))
        for rt in ho.daemon_rules:
            out.append(_c("UNVERIFIED daemon-side rule: " + rt))
    return "\n".join(out) + "\n"


def to_json(s: Suggestion) -> dict:
    h = s.host
    tmap = {t.id: t for t in s.targets}

    def item_json(it):
        return {"canonical": canonical(it, version=h.auditctl_version, host=h.arch),
                "source": source_lines(it, version=h.auditctl_version, host=h.arch)}

    return {
        "schema_version": SCHEMA_VERSION,
        "traces": list(s.traces),
        "host": {"arch": h.arch, "arch_source": h.arch_source, "compat": h.compat,
                 "auditctl_version": h.auditctl_version, "auditctl_source": h.auditctl_source,
                 "uid_min": h.uid_min, "uid_min_source": h.uid_min_source, "b32": h.b32,
                 "trace_arch": h.trace_arch},
        "steps": list(s.steps_run),
        "targets": [{"id": t.id, "category": t.category, "reason": t.reason, "chain": t.chain, "exe": t.exe,
                     "path": t.path, "syscalls": list(t.syscalls), "auid_scope": t.auid_scope,
                     "attack": list(t.attack), "chosen": s.chosen.get(t.id),
                     "instances": [{"file": e.file, "line": e.line, "tid": e.tid, "process": e.process,
                                    "syscall": e.syscall, "summary": e.summary} for e in t.instances]}
                    for t in s.targets],
        "ladders": [{"target": lad.target.id, "rungs": [
            {"level": r.level, "description": r.description, "rules": [item_json(x) for x in r.rules],
             "catches": [{"variant": v, "caught": c} for v, c in r.catches],
             "misses_instances": list(r.misses_instances)} for r in lad.rungs]} for lad in s.ladders],
        "rules": [dict(item_json(r.item), targets=list(r.targets), level=r.level, chains=list(r.chains),
                       lines=list(r.lines), steps=list(r.steps), twin_of=r.twin_of, note=r.note or None,
                       noise=None if s.noise is None else s.noise.get(i),
                       baseline_events=None if getattr(s, "baseline_noise", None) is None
                       else s.baseline_noise.get(i))
                  for i, r in enumerate(s.rules)],
        "handoffs": [{"daemon": ho.daemon, "socket": ho.socket, "chain": ho.chain, "client_exe": ho.client_exe,
                      "lines": [e.where for e in ho.instances], "daemon_rules_unverified": list(ho.daemon_rules),
                      "notes": list(ho.notes)} for ho in s.handoffs],
        "coverage": [{"target": c.target, "category": tmap[c.target].category, "instances": c.instances,
                      "caught": c.caught, "missed": list(c.missed), "keys": list(c.keys)} for c in s.coverage],
        "complete": s.complete,
        "noise": None if s.noise is None else {"on": "the trace itself", "baseline": s.baseline,
                                               "events": sum(s.noise.values())},
        "baseline": None if getattr(s, "baseline_noise", None) is None else {
            "traces": list(s.baseline_paths), "events": sum(s.baseline_noise.values()),
            "wall_s": getattr(s.cost, "wall", None)},
        "cost": None if getattr(s, "cost", None) is None else s.cost.to_json(),
        "existing": None if getattr(s, "existing", None) is None else s.existing.to_json(),
        "lint": [{"id": f.id, "severity": f.severity.value, "file": f.file, "line": f.line, "message": f.message}
                 for f in s.lint],
        "notes": list(s.notes),
    }


def table_rows(s: Suggestion) -> list[tuple[str, ...]]:
    """(target, category, what, rung, caught, key) per target."""
    cmap = {c.target: c for c in s.coverage}
    rows = []
    for t in s.targets:
        c = cmap.get(t.id)
        caught = f"{c.caught}/{c.instances}" if c else "-"
        keys = ",".join(c.keys) if c and c.keys else "-"
        rows.append((t.id, t.category, safe_text(t.reason, 70), s.chosen.get(t.id, "none"), caught, keys))
    return rows
