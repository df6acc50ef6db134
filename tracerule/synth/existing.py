"""Existing rules on the host: what they already catch, what they shadow, where ours go.

    from tracerule.synth.existing import load_existing
    ex = load_existing("/etc/audit/rules.d")            # or a rules file, or "live" (auditctl -l)
    items, ours = ex.combine(new_items)                # the order augenrules will load them in
    ex.position                                        # "after 10-base-config.rules; before 99-finalize.rules"

Order (audit-semantics §1.5): the kernel keeps appended rules in load order and the first match
by that order wins -- only the winning rule's key is logged.  augenrules concatenates
``rules.d/*.rules`` sorted by name (C locale), so the new file (``50-tracerule.rules`` unless told
otherwise) loads after the files that sort before it and before the ones after it; a file of the
same name is replaced by ours.  ``live`` is the kernel's list now (``auditctl -l``): new rules are
appended after all of it (``auditctl -R`` appends).  A single rules file is loaded before ours.

Used by ``suggest --existing`` (targets already caught are reported with the key they are logged
under and get no new rule; new rules shadowed by earlier ones are reported) and meant for
``verify --existing`` (:func:`combined_items`).
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tracerule.audit.rules.model import ControlLine, Rule, Watch
from tracerule.errors import EnvironmentProblem, InputError


@dataclass
class ExistingRules:
    source: str
    before: list = field(default_factory=list)       #: items loaded before ours (in order)
    after: list = field(default_factory=list)        #: items loaded after ours
    files_before: tuple[str, ...] = ()
    files_after: tuple[str, ...] = ()
    replaced: str | None = None                      #: an existing file of our name (ours replaces it)
    position: str = ""
    notes: list[str] = field(default_factory=list)
    locked_before: bool = False                      #: an ``-e 2`` loads before ours: ours would be refused

    @property
    def items(self) -> list:
        return self.before + self.after

    def combine(self, new_items) -> tuple[list, range]:
        """(existing before + new + existing after, the new items' indices in that list)."""
        new_items = list(new_items)
        return self.before + new_items + self.after, range(len(self.before), len(self.before) + len(new_items))

    def where(self, index: int) -> str:
        """file:line of existing item ``index`` of :attr:`items`."""
        it = self.items[index]
        loc = getattr(it, "location", None)
        if loc is not None and getattr(loc, "file", ""):
            return f"{loc.file}:{loc.line}"
        return f"{self.source} rule {index + 1}"


def _parse(text: str, file: str, host: str):
    from tracerule.audit.rules.parse import ParseOptions, parse_text

    return parse_text(text, file=file, options=ParseOptions(host=host), duplicates=False)


def load_existing(spec: str | os.PathLike, *, rules_name: str = "50-tracerule.rules",
                  host: str = "x86_64") -> ExistingRules:
    """Read existing rules from a rules.d directory, a rules file, or ``live``."""
    from tracerule.audit.rules.parse import rules_d_files

    spec_s = str(spec)
    rules_name = os.path.basename(rules_name) or "50-tracerule.rules"
    if spec_s == "live":
        ex = ExistingRules("live (auditctl -l)")
        try:
            res = subprocess.run(["auditctl", "-l"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EnvironmentProblem(f"--existing live: cannot run auditctl -l: {exc}") from None
        if res.returncode != 0:
            raise EnvironmentProblem(f"--existing live: auditctl -l failed: {(res.stderr or res.stdout).strip()} "
                                     "(needs root)")
        text = res.stdout if res.stdout.strip() != "No rules" else ""
        pr = _parse(text, "auditctl -l", host)
        ex.before = list(pr.items)
        ex.position = "appended after the rules loaded in the kernel now"
        _diag_notes(ex, pr)
        return ex
    p = Path(spec_s)
    if not p.exists():
        raise InputError(f"--existing {spec_s}: no such file or directory")
    if p.is_file():
        ex = ExistingRules(spec_s)
        pr = _parse(p.read_text(encoding="utf-8", errors="surrogateescape"), str(p), host)
        ex.before = list(pr.items)
        ex.files_before = (p.name,)
        ex.position = f"loaded after {p.name}"
        _diag_notes(ex, pr)
        _check_lock(ex)
        return ex
    ex = ExistingRules(spec_s)
    key = rules_name.encode()
    before, after = [], []
    for f in rules_d_files(p):
        if f.name == rules_name:
            ex.replaced = f.name
            continue
        (before if f.name.encode() < key else after).append(f)
    for lst, files in ((ex.before, before), (ex.after, after)):
        for f in files:
            pr = _parse(f.read_text(encoding="utf-8", errors="surrogateescape"), str(f), host)
            lst.extend(pr.items)
            _diag_notes(ex, pr)
    ex.files_before = tuple(f.name for f in before)
    ex.files_after = tuple(f.name for f in after)
    ex.position = (f"{rules_name} loads after {', '.join(ex.files_before) or 'nothing'}"
                   f" and before {', '.join(ex.files_after) or 'nothing'} (augenrules: rules.d sorted by name)")
    if ex.replaced:
        ex.notes.append(f"--existing: {p / ex.replaced} has the new file's name: it is replaced, not merged")
    _check_lock(ex)
    return ex


def _diag_notes(ex: ExistingRules, pr) -> None:
    errs = [d for d in pr.diagnostics if d.severity.value == "error"]
    if errs:
        ex.notes.append(f"--existing: {len(errs)} line(s) would be refused by auditctl and are left out "
                        f"(first: {errs[0].location()}: {errs[0].message})")


def _check_lock(ex: ExistingRules) -> None:
    for it in ex.before:
        if isinstance(it, ControlLine) and it.option == "-e" and it.value == "2":
            ex.locked_before = True
            ex.notes.append("--existing: an '-e 2' (immutable) loads before the new rules: auditctl would refuse "
                            "them -- give the file a name that sorts before it")


def combined_items(existing: str | os.PathLike, new_items, *, rules_name: str = "50-tracerule.rules",
                   host: str = "x86_64") -> tuple[list, range, ExistingRules]:
    """For ``verify --existing``: the existing rules and ``new_items`` in load order."""
    ex = load_existing(existing, rules_name=rules_name, host=host)
    items, ours = ex.combine(new_items)
    return items, ours, ex


def _by_line(trace_records) -> dict:
    if not trace_records:
        return {}
    return {(r.source, r.line): r for r in trace_records}


def instance_records(t, target_records: dict, by_line: dict) -> list:
    """A target's instances as the enriched trace shows them (PATH names included), else the
    target step's own records."""
    if by_line:
        got = [by_line.get((e.file, e.line)) for e in t.instances]
        if all(r is not None for r in got):
            return got
    return list(target_records.get(t.id, []))


# ---- reports ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caught:
    """A target the existing rules already log (some or all of its recorded instances)."""

    target: str
    instances: int
    caught: int
    keys: tuple[str, ...]            #: the keys the events are logged under (first match only)
    rules: tuple[str, ...]           #: file:line of the existing rules that win

    @property
    def complete(self) -> bool:
        return self.instances > 0 and self.caught == self.instances


@dataclass(frozen=True)
class Shadowed:
    """A new rule whose events an earlier rule takes (logged under that rule's key, or suppressed)."""

    rule: int                        #: index in the suggestion's rules
    by: str                          #: file:line of the earlier rule
    key: str | None
    action: str                      #: always (logged under ``key``) | never (suppressed)
    events: int


@dataclass
class ExistingReport:
    source: str
    position: str
    rules_loaded: int
    caught: list[Caught] = field(default_factory=list)
    shadowed: list[Shadowed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"source": self.source, "position": self.position, "existing_rules": self.rules_loaded,
                "already_caught": [{"target": c.target, "instances": c.instances, "caught": c.caught,
                                    "keys": list(c.keys), "rules": list(c.rules), "complete": c.complete}
                                   for c in self.caught],
                "shadowed": [{"rule": s.rule, "by": s.by, "key": s.key, "action": s.action, "events": s.events}
                             for s in self.shadowed],
                "notes": list(self.notes)}


def already_caught(ex: ExistingRules, targets, target_records: dict, trace_records, *, host: str,
                   resolver) -> ExistingReport:
    """Which targets the existing rules alone already log, and under which key."""
    from tracerule.audit.simulate import compile_rules, simulate

    items = ex.items
    rep = ExistingReport(ex.source, ex.position,
                         sum(1 for it in items if isinstance(it, (Rule, Watch))), notes=list(ex.notes))
    if not items:
        return rep
    c = compile_rules(items, host=host, file_identity=resolver)
    by_line = _by_line(trace_records)
    for t in targets:
        recs = instance_records(t, target_records, by_line)
        if not recs:
            continue
        keys, where, n = [], [], 0
        for d in simulate(c, recs):
            if d.logged and d.rule is not None:
                n += 1
                k = (d.key or "(no key)").replace("\x01", ",")
                if k not in keys:
                    keys.append(k)
                w = ex.where(d.rule)
                if w not in where:
                    where.append(w)
        if n:
            rep.caught.append(Caught(t.id, len(recs), n, tuple(keys), tuple(where)))
    return rep


def shadowing(rep: ExistingReport, ex: ExistingRules, sim_items, ours, targets, target_records: dict,
              trace_records, *, host: str, resolver) -> ExistingReport:
    """New rules whose target events an earlier existing rule wins (key) or suppresses (never)."""
    from tracerule.audit.simulate import compile_rules, simulate

    ours = list(ours)
    if not ours:
        return rep
    by_line = _by_line(trace_records)
    recs = [r for t in targets for r in instance_records(t, target_records, by_line)]
    if not recs:
        return rep
    combined = compile_rules(sim_items, host=host, file_identity=resolver)
    winner = {d.index: d for d in simulate(combined, recs)}
    first_ours, last_ours = ours[0], ours[-1]
    for j, gi in enumerate(ours):
        alone = compile_rules([sim_items[gi]], host=host, file_identity=resolver)
        by: dict[tuple, int] = {}
        for d in simulate(alone, recs):
            if not d.logged:
                continue
            w = winner.get(d.index)
            if w is None or w.rule == gi or w.rule is None or first_ours <= w.rule <= last_ours:
                continue
            ei = w.rule if w.rule < first_ours else w.rule - len(ours)
            k = (ex.where(ei), w.key, "always" if w.logged else "never")
            by[k] = by.get(k, 0) + 1
        for (where, key, action), n in by.items():
            rep.shadowed.append(Shadowed(j, where, (key or None) and key.replace("\x01", ","), action, n))
    return rep


def _host_shape(path: str):
    """This host's idea of what a path is (directory? exists? symlink?), without its inode numbers:
    existing rules name paths of the host they load on, while a trace may come from another machine
    (identity then falls back to comparing resolved paths)."""
    from dataclasses import replace

    from tracerule.audit.simulate import host_resolver

    f = host_resolver(path)
    return replace(f, dev=None, ino=None, real_dev=None, real_ino=None)


def resolver_for(res):
    """The suggestion's resolver (trace facts first), with this host's file shapes for other paths."""
    from tracerule.audit.simulate import MappingResolver

    facts = getattr(res, "facts", None)
    if facts is None:
        return res
    return MappingResolver(list(facts.values()), fallback=_host_shape)
