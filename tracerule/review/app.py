"""The Textual front end of ``tracerule review``: a view of a :class:`ReviewSession` and nothing more.

Left: targets grouped by process chain (privilege transitions first), each with its rules.  Right:
the selected rule -- why it was proposed, the process path, its rung on the ladder, the trace
lines behind it, coverage, noise, the variants it catches, its dangers -- and a live preview of
the rules file.  Dangerous choices ask in a modal whose focused (default) button is Cancel; saving
shows the diff first; quitting with unsaved decisions asks.  Keys: :mod:`tracerule.review.bindings`.
"""
from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Header, Input, Static, Tree

from tracerule.review.bindings import help_lines, textual_bindings
from tracerule.review.session import Outcome, ReviewSession

MARK = {"pending": "[ ]", "accepted": "[+]", "rejected": "[-]", "covered": "[=]"}


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question where Cancel is focused: Enter cancels, only an explicit choice confirms."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    DEFAULT_CLASSES = "modal"

    def __init__(self, title: str, lines: list[str], yes: str) -> None:
        super().__init__()
        self._title, self._lines, self._yes = title, lines, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title), classes="title")
            yield Static(Text("\n".join(self._lines)))
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self._yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_cancel(self) -> None:
        self.dismiss(False)


class ChoiceScreen(ModalScreen[str]):
    """Several buttons; the first (focused) is the safe one."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    DEFAULT_CLASSES = "modal"

    def __init__(self, title: str, lines: list[str], choices: list[tuple[str, str]], body_id: str = "") -> None:
        super().__init__()
        self._title, self._lines, self._choices, self._body_id = title, lines, choices, body_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title), classes="title")
            with VerticalScroll(id=self._body_id or None):
                yield Static(Text("\n".join(self._lines)))
            with Horizontal(classes="buttons"):
                for i, (bid, label) in enumerate(self._choices):
                    yield Button(label, id=bid, variant="primary" if i == 0 else "default")

    def on_mount(self) -> None:
        self.query_one(f"#{self._choices[0][0]}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or self._choices[0][0])

    def action_cancel(self) -> None:
        self.dismiss(self._choices[0][0])


class EditScreen(ModalScreen[None]):
    """One line of input; ``submit(text)`` returns None (done) or the reason it was refused, which is
    shown while the editor stays open (as aa-logprof's New does)."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    DEFAULT_CLASSES = "modal"

    def __init__(self, title: str, value: str, submit: Callable[[str], str | None], hint: str = "") -> None:
        super().__init__()
        self._title, self._value, self._submit, self._hint = title, value, submit, hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title), classes="title")
            if self._hint:
                yield Static(Text(self._hint))
            yield Input(self._value, id="edit-input")
            yield Static("", id="edit-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Apply", id="apply")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _try(self, value: str) -> None:
        err = self._submit(value)
        if err:
            self.query_one("#edit-error", Static).update(Text(err))
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._try(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self._try(self.query_one(Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "close", "Close"), ("question_mark", "close", "Close")]
    DEFAULT_CLASSES = "modal"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("tracerule review: keys", classes="title")
            with VerticalScroll(id="help-body"):
                yield Static(Text("\n".join(help_lines())))
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ReviewApp(App[int]):
    """``tracerule review``.  Returns 0 (saved or nothing to save) or 1 (quit, decisions discarded)."""

    CSS_PATH = "app.tcss"
    TITLE = "tracerule review"
    BINDINGS = textual_bindings()

    def __init__(self, session: ReviewSession, *, output: str | None = None) -> None:
        super().__init__()
        self.rs = session
        if output:
            self.rs.output = output
        self._tnodes: dict[str, object] = {}
        self.selected: str | None = None
        self.last: Outcome | None = None

    # ---- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield Tree("proposals", id="targets")
            with Vertical(id="right"):
                with VerticalScroll(id="detail"):
                    yield Static(id="detail-text")
                with VerticalScroll(id="preview"):
                    yield Static(id="preview-text")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one("#targets", Tree)
        tree.border_title = "targets by process chain (privilege first)"
        self.query_one("#detail").border_title = "selected rule"
        self.query_one("#preview").border_title = f"rules file preview: {self.rs.output or '50-tracerule.rules'}"
        tree.show_root = False
        tree.guide_depth = 2
        for chain, ids in self.rs.groups():
            g = tree.root.add(Text(chain), expand=True, data=None)
            for pid in ids:
                node = g.add("", expand=True, data=pid)
                self._tnodes[pid] = node
        self.selected = self.rs.ids[0] if self.rs.ids else None
        self._refresh_all()
        tree.focus()
        if self.selected:
            self.select_proposal(self.selected)

    def select_proposal(self, pid: str) -> None:
        node = self._tnodes.get(pid)
        if node is None:
            return
        tree = self.query_one("#targets", Tree)
        try:
            tree.move_cursor(node)
        except Exception:   # older Textual: no move_cursor
            line = getattr(node, "line", -1)
            if line is not None and line >= 0:
                tree.cursor_line = line
        self.selected = pid
        self._refresh_detail()

    def _label(self, pid: str) -> Text:
        v = self.rs.view(pid)
        t = Text()
        t.append(f"{MARK[v.status]} ", style="bold" if v.status == "pending" else "")
        t.append(f"{v.id} ", style="bold")
        t.append(f"{v.category} {v.level}{'*' if v.edited else ''} ")
        caught = f"{v.caught}/{v.total}"
        t.append(caught, style="" if v.caught == v.total else "bold red")
        if v.covered_by:
            t.append(f" covered by {v.covered_by}", style="dim")
        if v.dangers:
            t.append(" !", style="bold red")
        return t

    def _refresh_tree(self) -> None:
        for pid, node in self._tnodes.items():
            v = self.rs.view(pid)
            node.set_label(self._label(pid))
            node.remove_children()
            if v.status != "covered":
                for line in v.lines:
                    if not line.startswith("#"):
                        node.add_leaf(Text(line, style="dim" if v.status == "rejected" else ""), data=pid)

    def _refresh_detail(self) -> None:
        from tracerule.review.render import detail_text

        pid = self.selected
        out = detail_text(self.rs.view(pid)) if pid is not None else Text("no proposals: suggest found nothing to review")
        self.query_one("#detail-text", Static).update(out)

    def _refresh_preview(self) -> None:
        self.query_one("#preview-text", Static).update(Text(self.rs.rules_text()))

    def _refresh_status(self) -> None:
        n = self.rs.counts()
        cov = self.rs.coverage()
        base = f", {cov['noise_baseline']} on the baseline" if cov["noise_baseline"] is not None else " (no baseline)"
        s = (f"accepted {n['accepted']}  covered {n['covered']}  rejected {n['rejected']}  pending {n['pending']}"
             f" | file: {cov['fully_caught']}/{cov['total']} targets caught, noise {cov['noise_trace']}{base}"
             f"{' | UNSAVED' if self.rs.dirty else ''}")
        self.query_one("#status", Static).update(Text(s))

    def _refresh_all(self) -> None:
        self._refresh_tree()
        self._refresh_detail()
        self._refresh_preview()
        self._refresh_status()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        pid = event.node.data
        if isinstance(pid, str):
            self.selected = pid
            self._refresh_detail()

    # ---- running actions --------------------------------------------------------------------------
    def _after(self, out: Outcome) -> None:
        self.last = out
        if out.error:
            self.notify(out.error, title="refused", severity="error")
        elif out.ok:
            msg = out.message + ("\n" + "\n".join(out.warnings) if out.warnings else "")
            self.notify(msg, severity="warning" if out.warnings else "information")
        self._refresh_all()

    def _do(self, fn: Callable[[bool], Outcome], what: str) -> Outcome:
        """Run ``fn(confirm)``; when it needs confirmation, ask (Cancel is the default)."""
        out = fn(False)
        if out.confirm:
            self.last = out

            def done(yes: bool | None) -> None:
                if yes:
                    self._after(fn(True))
                else:
                    self.notify(f"{what}: cancelled, nothing changed")

            self.push_screen(ConfirmScreen(f"{what}: are you sure?", [f"! {d.message}" for d in out.confirm],
                                           "Yes, do it"), done)
            return out
        self._after(out)
        return out

    def _pid(self) -> str | None:
        if self.selected is None:
            self.notify("nothing selected")
        return self.selected

    def action_accept(self) -> None:
        if (pid := self._pid()) is not None:
            self._do(lambda c: self.rs.accept(pid, confirm=c), f"accept {pid}")

    def action_reject(self) -> None:
        if (pid := self._pid()) is not None:
            self._after(self.rs.reject(pid))

    def action_widen(self) -> None:
        if (pid := self._pid()) is not None:
            self._do(lambda c: self.rs.widen(pid, confirm=c), f"widen {pid}")

    def action_narrow(self) -> None:
        if (pid := self._pid()) is not None:
            self._do(lambda c: self.rs.narrow(pid, confirm=c), f"narrow {pid}")

    def action_toggle_b32(self) -> None:
        if (pid := self._pid()) is not None:
            self._do(lambda c: self.rs.toggle_b32(pid, confirm=c), f"b32 {pid}")

    def action_apply_similar(self) -> None:
        if (pid := self._pid()) is not None:
            self._do(lambda c: self.rs.apply_to_similar(pid, confirm=c), f"apply {pid}'s decision to all similar")

    def action_undo(self) -> None:
        self._after(self.rs.undo())

    def action_redo(self) -> None:
        self._after(self.rs.redo())

    def action_next_pending(self) -> None:
        nxt = self.rs.next_pending(self.selected)
        if nxt is None:
            self.notify("nothing pending")
        else:
            self.select_proposal(nxt)

    def action_toggle_preview(self) -> None:
        self.query_one("#preview").toggle_class("hidden")

    def _edit(self, title: str, value: str, hint: str, call: Callable[[str, bool], Outcome]) -> None:
        def submit(text: str) -> str | None:
            out = call(text, False)
            if out.error:
                self.last = out
                return out.error
            if out.confirm:
                self.call_later(self._do, lambda c: call(text, c), title)
                return None
            self._after(out)
            return None

        self.push_screen(EditScreen(title, value, submit, hint))

    def action_edit_field(self) -> None:
        if (pid := self._pid()) is None:
            return

        def call(text: str, c: bool) -> Outcome:
            text = text.strip()
            if text.startswith("!"):
                return self.rs.remove_field(pid, text[1:], confirm=c)
            return self.rs.set_field(pid, text, confirm=c)

        self._edit(f"{pid}: set a field", "", "NAME OP VALUE (e.g. auid>=1000, success=1, euid=0); "
                   "!NAME removes it.  Rule: " + self.rs.rule_text(pid), call)

    def action_edit_rule(self) -> None:
        if (pid := self._pid()) is None:
            return
        self._edit(f"{pid}: edit the rule", self.rs.rule_text(pid), "one rules-file line (-a always,exit ... "
                   "or -w PATH -p PERMS)", lambda text, c: self.rs.edit_rule(pid, text, confirm=c))

    def action_edit_key(self) -> None:
        if (pid := self._pid()) is None:
            return
        self._edit(f"{pid}: key", self.rs.view(pid).key, "the -k key (no spaces; at most 256 bytes)",
                   lambda text, c: self.rs.set_key(pid, text.strip(), confirm=c))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def _diff_then_save(self, then_quit: bool = False) -> None:
        from tracerule.errors import TraceruleError

        path = self.rs.output or "50-tracerule.rules"
        try:
            diff = self.rs.diff(path)
        except TraceruleError as exc:
            self.notify(str(exc), severity="error")
            return
        lines = diff.splitlines() or ["(no change: the file on disk is the same)"]

        def done(choice: str | None) -> None:
            if choice != "write":
                self.notify("not saved")
                return
            try:
                self.rs.save(path)
            except TraceruleError as exc:
                self.notify(str(exc), title="not saved", severity="error")
                return
            self.notify(f"wrote {path}")
            self._refresh_all()
            if then_quit:
                self.exit(0)

        self.push_screen(ChoiceScreen(f"save {path}: the diff against the file on disk", lines,
                                      [("cancel", "Cancel"), ("write", f"Write {path}")], body_id="diff-body"),
                         done)

    def action_save(self) -> None:
        self._diff_then_save()

    def action_quit(self) -> None:
        if not self.rs.dirty:
            self.exit(0)
            return

        def done(choice: str | None) -> None:
            if choice == "discard":
                self.exit(1)
            elif choice == "save":
                self._diff_then_save(then_quit=True)

        n = len(self.rs.history())
        self.push_screen(ChoiceScreen("quit: decisions not saved",
                                      [f"{n} decision(s) since the last save are not written."],
                                      [("cancel", "Cancel"), ("save", "Save first (shows the diff)"),
                                       ("discard", "Discard and quit")]), done)


def screen_text(app: App) -> str:
    """The current screen as plain text (for README captures and tests; no colour, no escapes)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return "\n".join(line.rstrip() for line in console.export_text(styles=False).splitlines())
