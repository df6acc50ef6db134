"""THE key table of ``tracerule review``: the app's bindings and the help screen both come from it
(as aa-logprof derives its hotkeys from one table and tests it for conflicts).

No Textual import here: the table is plain data, so a test (and the help text) can read it without
starting a UI.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Key:
    key: str            #: Textual key name (``a``, ``ctrl+r``, ``question_mark``)
    action: str         #: the app's ``action_<name>``
    label: str          #: short label (footer)
    help: str           #: one line for the help screen
    show: bool = True   #: shown in the footer
    display: str = ""   #: how the help screen writes the key (default: the key name)

    @property
    def shown_key(self) -> str:
        return self.display or self.key


KEYS: tuple[Key, ...] = (
    Key("a", "accept", "Accept", "accept the selected rule (a broader one removes the narrower rules it covers)"),
    Key("r", "reject", "Reject", "reject the selected rule (it is not written)"),
    Key("w", "widen", "Widen", "one rung broader on the target's ladder (asks when it drops the auid filter, "
                               "uses -S all or is noisy on the baseline)"),
    Key("n", "narrow", "Narrow", "one rung narrower on the target's ladder"),
    Key("e", "edit_field", "Field", "set one -F field of the rule (NAME OP VALUE, e.g. auid>=1000); "
                                    "a leading ! removes the field (!success)"),
    Key("t", "edit_rule", "Text", "edit the whole rule line (read by the real parser)"),
    Key("b", "toggle_b32", "b32", "b32 twin of the rule on/off", show=False),
    Key("k", "edit_key", "Key", "set the rule's key (-k)", show=False),
    Key("l", "apply_similar", "All similar", "give every pending rule of the same category this decision"),
    Key("u", "undo", "Undo", "undo the last decision"),
    Key("ctrl+r", "redo", "Redo", "redo what was undone", show=False, display="ctrl+r"),
    Key("j", "next_pending", "Next", "jump to the next pending rule", show=False),
    Key("p", "toggle_preview", "Preview", "show or hide the live rules-file preview", show=False),
    Key("s", "save", "Save", "show the diff against the file on disk, then write it"),
    Key("q", "quit", "Quit", "quit (asks when decisions are not saved)"),
    Key("question_mark", "help", "Help", "this help", display="?"),
)


def duplicates(keys: tuple[Key, ...] = KEYS) -> list[str]:
    """Keys bound twice (case-sensitive, as Textual sees them) and actions bound twice."""
    seen: dict[str, str] = {}
    out = []
    for k in keys:
        for name in k.key.split(","):
            name = name.strip()
            if name in seen:
                out.append(f"key {name}: {seen[name]} and {k.action}")
            seen[name] = k.action
    acts = [k.action for k in keys]
    out.extend(f"action {a} bound twice" for a in sorted({a for a in acts if acts.count(a) > 1}))
    return out


def help_lines() -> list[str]:
    """The help screen's text (also used by ``tracerule review --keys``)."""
    w = max(len(k.shown_key) for k in KEYS)
    return [f"{k.shown_key:<{w}}  {k.label:<12} {k.help}" for k in KEYS]


def textual_bindings():
    """The table as Textual ``Binding`` objects."""
    from textual.binding import Binding

    return [Binding(k.key, k.action, k.label, show=k.show, key_display=k.display or None) for k in KEYS]
