"""Step ``assemble``: the chosen rungs as one ordered rule set.

Keys by category (``tr-priv`` ...; with ``attack``, ``tr-priv-T1548.003``), rules with equal filters
merged into one ``-S`` list (whatever their keys: the first, most important category's key stays and
the note names the keys folded in), privilege rules first and within a category exe-specific rules before
broader ones (a broader rule above would take the event and its key first), b32 twins right after
their rule (``pairs``) or one b32 catch-all last (``catchall``).
"""
from __future__ import annotations

from dataclasses import replace

from tracerule.audit.rules.model import Field, Rule, SyscallSet, Watch
from tracerule.synth import build as B
from tracerule.synth.model import CATEGORIES, KEYS, Ladder, SuggestedRule

STEPS = ("targets", "ladders", "variants", "choose", "assemble")


def key_for(category: str, attack: tuple[str, ...], with_attack: bool) -> str:
    k = KEYS[category]
    if with_attack and attack:
        k = f"{k}-{attack[0]}"
    return k


def _filters(it) -> tuple:
    """What decides which events a rule takes -- its key does not: two rules equal but for the key
    would leave the second dead (the first matching exit rule takes the event and its key)."""
    if isinstance(it, Watch):
        return ("watch", it.path, it.perms)
    return ("rule", it.action, it.list, it.fields, it.syscalls.arch if it.syscalls else None,
            bool(it.syscalls and it.syscalls.all))


def assemble(ladders: list[Ladder], chosen: dict[str, str], *, host: str, b32: str,
             attack: bool = False) -> list[SuggestedRule]:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    pending: list[tuple] = []   # (sort key, item, target, level)
    for lad in ladders:
        t = lad.target
        rung = lad.rung(chosen.get(t.id, ""))
        if rung is None:
            continue
        key = key_for(t.category, t.attack, attack)
        for it in rung.rules:
            it = it.with_keys((key,))
            has_exe = isinstance(it, Rule) and any(isinstance(f, Field) and f.name == "exe" for f in it.fields)
            broad = 0 if has_exe or isinstance(it, Watch) or rung.level == "exact" else 1
            pending.append(((order[t.category], broad, t.instances[0].line), it, t, rung.level))
    pending.sort(key=lambda x: x[0])
    merged: list[list] = []     # [item, [targets], [levels], [keys folded in]]
    index: dict[tuple, int] = {}
    for _, it, t, level in pending:
        f = _filters(it)
        if f in index:
            # the first (most important category's) key stays; the other targets are its provenance
            m = merged[index[f]]
            if isinstance(it, Rule) and not it.syscalls.all:
                old = m[0]
                m[0] = replace(old, syscalls=SyscallSet(old.syscalls.arch, old.syscalls.numbers | it.syscalls.numbers))
            if t not in m[1]:
                m[1].append(t)
            if level not in m[2]:
                m[2].append(level)
            for k in it.keys:
                if k not in m[0].keys and k not in m[3]:
                    m[3].append(k)
            continue
        index[f] = len(merged)
        merged.append([it, [t], [level], []])
    out: list[SuggestedRule] = []
    for it, ts, levels, folded in merged:
        steps = STEPS + (("merge",) if len(ts) > 1 else ())
        note = ""
        if folded:
            note = (f"merged: the rule{'s' if len(folded) > 1 else ''} for key {', '.join(folded)} had the "
                    f"same filters (a second copy would never log: the first takes the event); logged "
                    f"under key {', '.join(it.keys)}")
        sr = SuggestedRule(it, tuple(t.id for t in ts), "+".join(levels), tuple(dict.fromkeys(t.chain for t in ts)),
                           tuple(dict.fromkeys(w for t in ts for w in t.lines)), steps, note=note)
        out.append(sr)
        if b32 == "pairs" and isinstance(it, Rule):
            tw = B.twin(it, host)
            if tw is not None:
                out.append(replace(sr, item=tw, level="b32-twin", twin_of=len(out) - 1,
                                   steps=steps + ("b32-twin",)))
    if b32 == "catchall":
        ca = B.catchall(host, KEYS["b32"])
        if ca is not None:
            out.append(SuggestedRule(ca, (), "b32-catchall", (), (), ("assemble", "b32-catchall"),
                                     note="every 32-bit syscall (int 0x80, 32-bit programs) -- placed last"))
    return out
