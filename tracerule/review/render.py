"""Text of a proposal for the front ends (rich ``Text``: no markup is parsed, so nothing from a trace
can style or break the screen; ``.plain`` for the line-mode front end)."""
from __future__ import annotations

from rich.text import Text

from tracerule.review.session import ProposalView


def detail_text(v: ProposalView) -> Text:
    """Why the rule was proposed, its process path, rung, rules, coverage, noise, variants, dangers
    and the trace events behind it."""
    out = Text()
    out.append(f"{v.id}  {v.title}  ", style="bold")
    out.append(f"[{v.status}{' by ' + v.covered_by if v.covered_by else ''}]\n")
    out.append("why proposed: ", style="bold")
    out.append(f"{v.reason}\n")
    out.append("process path: ", style="bold")
    out.append(f"{v.chain}\n")
    if v.exe:
        out.append("program: ", style="bold")
        out.append(f"{v.exe}\n")
    if v.path:
        out.append("file: ", style="bold")
        out.append(f"{v.path}\n")
    out.append("rung: ", style="bold")
    ladder = " > ".join(f"({x})" if i == v.level_index else x for i, x in enumerate(v.levels))
    out.append(f"{v.level}{' (edited)' if v.edited else ''}: {v.rung_description}\n  ladder: {ladder}\n")
    out.append(f"key: {v.key}   b32 twin: {'on' if v.b32 else 'off'}\n")
    out.append("rule:\n", style="bold")
    for line in v.lines:
        out.append(f"  {line}\n")
    out.append("coverage: ", style="bold")
    out.append(f"{v.caught}/{v.total} recorded instance(s) caught\n",
               style="" if v.caught == v.total else "bold red")
    for m in v.missed[:5]:
        out.append(f"  missed: {m}\n", style="red")
    out.append("noise: ", style="bold")
    base = (f"{v.noise_baseline} on the baseline" if v.noise_baseline is not None else "no baseline")
    out.append(f"{v.noise_trace} event(s) beyond the targets on the trace; {base}\n")
    yes = [lbl for lbl, c in v.catches if c]
    no = [lbl for lbl, c in v.catches if c is False]
    out.append("variants caught: ", style="bold")
    out.append((", ".join(yes) or "none") + "\n")
    if no:
        out.append("not caught: ", style="bold")
        out.append(", ".join(no) + "\n")
    for d in v.dangers:
        out.append(f"! {d.message}\n", style="bold red")
    out.append(f"events ({v.total}):\n", style="bold")
    for e in v.instances[:12]:
        out.append(f"  {e.where}  pid {e.tid}  {e.summary}\n")
    if v.total > 12:
        out.append(f"  ... {v.total - 12} more\n")
    if v.steps:
        out.append(f"steps: {', '.join(v.steps)}\n", style="dim")
    return out
