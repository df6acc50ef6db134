"""Line mode of ``tracerule review`` (TERM=dumb, no terminal, or ``--plain``): aa-logprof's question
loop over the same session and the same key table -- one question per pending rule, plain text only."""
from __future__ import annotations

from typing import IO

from tracerule.review.bindings import KEYS
from tracerule.review.render import detail_text
from tracerule.review.session import Outcome, ReviewSession

#: line-mode commands: the table's single-letter keys (same letters as the full-screen UI)
LETTERS = {k.key: k.action for k in KEYS if len(k.key) == 1 and k.key.isalpha()}


def _menu() -> str:
    return "  ".join(f"({k.key}) {k.label}" for k in KEYS if k.key in LETTERS) + "  (?) help"


class PlainReview:
    def __init__(self, rs: ReviewSession, inp: IO[str], out: IO[str]) -> None:
        self.rs, self.inp, self.out = rs, inp, out

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        return None if line == "" else line.strip()

    def yes(self, prompt: str) -> bool:
        ans = self.ask(prompt + " [y/N] ")
        return ans is not None and ans.lower() in ("y", "yes")

    def _do(self, fn) -> Outcome:
        out = fn(False)
        if out.confirm:
            for d in out.confirm:
                self.say(f"! {d.message}")
            if not self.yes("Do it anyway?"):
                self.say("cancelled, nothing changed")
                return out
            out = fn(True)
        if out.error:
            self.say(f"refused: {out.error}")
        elif out.ok:
            self.say(out.message)
            for w in out.warnings:
                self.say(f"warning: {w}")
        return out

    def save(self) -> bool:
        path = self.rs.output or "50-tracerule.rules"
        self.say(self.rs.diff(path) or "(no change: the file on disk is the same)")
        if self.yes(f"Write {path}?"):
            self.rs.save(path)
            self.say(f"wrote {path}")
            return True
        self.say("not saved")
        return False

    def run(self) -> int:
        rs = self.rs
        pid = rs.next_pending()
        while True:
            if pid is None:
                self.say("nothing pending.")
                if not rs.dirty:
                    return 0
                if self.save():
                    return 0
                if self.yes("Quit without saving?"):
                    return 1
                pid = rs.ids[0] if rs.ids else None
                if pid is None:
                    return 1
            self.say("")
            self.say(detail_text(rs.view(pid)).plain.rstrip("\n"))
            self.say(_menu())
            ans = self.ask(f"{pid} [a]: ")
            if ans is None:            # end of input: not a confirmation of anything
                self.say("")
                return 1 if rs.dirty else 0
            ans = ans or "a"
            act = LETTERS.get(ans[:1])
            if ans[:1] == "?":
                self.say("\n".join(f"({k.key}) {k.label}: {k.help}" for k in KEYS if k.key in LETTERS))
                continue
            if act is None:
                self.say(f"unknown answer {ans!r}")
                continue
            if act == "quit":
                if rs.dirty and not self.yes(f"{len(rs.history())} decision(s) not saved. Quit anyway?"):
                    continue
                return 1 if rs.dirty else 0
            if act == "save":
                self.save()
                continue
            if act == "next_pending":
                pid = rs.next_pending(pid)
                continue
            if act == "toggle_preview":
                self.say(rs.rules_text())
                continue
            if act in ("edit_field", "edit_rule", "edit_key"):
                cur = rs.rule_text(pid) if act != "edit_key" else rs.view(pid).key
                self.say(f"now: {cur}")
                text = self.ask("new (empty: keep): ")
                if not text:
                    continue
                if act == "edit_field":
                    fn = (lambda c, t=text: rs.remove_field(pid, t[1:], confirm=c)) if text.startswith("!") \
                        else (lambda c, t=text: rs.set_field(pid, t, confirm=c))
                elif act == "edit_rule":
                    fn = lambda c, t=text: rs.edit_rule(pid, t, confirm=c)   # noqa: E731
                else:
                    fn = lambda c, t=text: rs.set_key(pid, t, confirm=c)     # noqa: E731
                self._do(fn)
                continue
            calls = {"accept": lambda c: rs.accept(pid, confirm=c), "reject": lambda c: rs.reject(pid),
                     "widen": lambda c: rs.widen(pid, confirm=c), "narrow": lambda c: rs.narrow(pid, confirm=c),
                     "toggle_b32": lambda c: rs.toggle_b32(pid, confirm=c),
                     "apply_similar": lambda c: rs.apply_to_similar(pid, confirm=c),
                     "undo": lambda c: rs.undo(), "redo": lambda c: rs.redo()}
            out = self._do(calls[act])
            if out.ok and act in ("accept", "reject", "apply_similar"):
                pid = rs.next_pending(pid)
