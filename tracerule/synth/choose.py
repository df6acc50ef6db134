"""Step ``choose``: the default rung of each ladder.

The narrowest rung that still catches every recorded instance (as aa-logprof preselects the
narrowest suggestion); a broader rung only where one identical broader rule replaces the narrow
rules of several targets without catching more on the trace, or when asked (``level``).
"""
from __future__ import annotations

from tracerule.audit.rules.emit import canonical
from tracerule.synth.model import LEVEL_RANK, Ladder

#: --level words -> the rung level per ladder kind
LEVEL_ALIASES = {"exact": ("exact",), "program": ("program", "path"), "path": ("path", "program"),
                 "behaviour": ("behaviour", "directory"), "behavior": ("behaviour", "directory"),
                 "directory": ("directory", "behaviour"), "broad": ("behaviour", "directory")}


def _text(rung) -> str:
    return "\n".join(canonical(r) for r in rung.rules)


def choose(ladders: list[Ladder], *, level: str | None = None, extra_on_trace=None) -> tuple[dict, list[str]]:
    """Return ({target id: level}, notes).  ``extra_on_trace(rung, target_ids) -> int | None``: how many
    trace events the rung logs beyond those targets' instances (None: not measurable)."""
    chosen: dict[str, str] = {}
    notes: list[str] = []
    for lad in ladders:
        if not lad.rungs:
            continue
        if level:
            want = LEVEL_ALIASES.get(level, (level,))
            pick = next((r for w in want for r in lad.rungs if r.level == w), None)
            if pick is None:
                notes.append(f"{lad.target.id}: no {level} rung; kept the narrowest that catches it")
            elif pick.misses_instances:
                notes.append(f"{lad.target.id}: the {pick.level} rung misses {len(pick.misses_instances)} "
                             f"recorded instance(s)")
            if pick is not None:
                chosen[lad.target.id] = pick.level
                continue
        full = [r for r in lad.rungs if not r.misses_instances]
        if full:
            chosen[lad.target.id] = full[0].level
        else:
            best = min(lad.rungs, key=lambda r: (len(r.misses_instances), LEVEL_RANK.get(r.level, 9)))
            chosen[lad.target.id] = best.level
            notes.append(f"{lad.target.id}: no rung catches every recorded instance; "
                         f"{best.level} misses {', '.join(best.misses_instances[:5])}")
    if level or extra_on_trace is None:
        return chosen, notes
    # one broader rule for several targets, when it catches nothing more on the trace
    by_text: dict[str, list] = {}
    for lad in ladders:
        for r in lad.rungs:
            if r.level in ("behaviour", "directory") and not r.misses_instances:
                by_text.setdefault(_text(r), []).append((lad, r))
    for text, members in by_text.items():
        lads = [lad for lad, _ in members]
        if len(lads) < 2:
            continue
        if any(LEVEL_RANK.get(chosen.get(lad.target.id, ""), 0) >= LEVEL_RANK[r.level] for lad, r in members):
            continue
        extra = extra_on_trace(members[0][1], [lad.target.id for lad in lads])
        if extra == 0:
            for lad, r in members:
                chosen[lad.target.id] = r.level
            notes.append(f"targets {', '.join(l.target.id for l in lads)}: one {members[0][1].level} rule "
                         f"replaces {len(lads)} narrow rules and catches nothing more on the trace")
    return chosen, notes
