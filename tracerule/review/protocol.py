"""A JSON question/answer protocol over a review session: one JSON object per line each way.

The engine speaks first: ``{"schema_version": 1, "type": "hello", "commands": [...], "state": {...},
"question": {...}}``.  Then every request line gets exactly one reply line::

    -> {"schema_version": 1, "id": 7, "cmd": "widen", "target": "t14"}
    <- {"schema_version": 1, "id": 7, "type": "confirm", "ok": false,
        "dangers": [{"code": "auid-dropped", "message": "..."}], "question": "..."}
    -> {"schema_version": 1, "id": 8, "cmd": "widen", "target": "t14", "confirm": true}
    <- {"schema_version": 1, "id": 8, "type": "result", "ok": true, "changed": ["t14"], ...,
        "question": {"type": "question", "target": "t13", "options": [...], "default": "accept"}}

Reply types: ``result`` (done; carries the next pending ``question`` or null), ``confirm``
(nothing changed: repeat with ``"confirm": true``), ``error`` (refused or a bad request: ``code``
and ``message``; nothing changed), ``bye`` (after ``quit``).  ``quit`` with unsaved decisions
answers ``confirm`` (code ``unsaved``) unless ``"discard": true`` or it is confirmed.
Requests without ``schema_version`` 1 are refused with code ``schema``.
"""
from __future__ import annotations

import json
from typing import IO, Callable

from tracerule.review.session import SCHEMA_VERSION, Outcome, ProposalView, ReviewSession

#: command -> (needs a target, takes "value")
COMMANDS = {
    "state": (False, False), "show": (True, False), "next": (False, False),
    "accept": (True, False), "reject": (True, False), "widen": (True, False), "narrow": (True, False),
    "level": (True, True), "set_field": (True, True), "remove_field": (True, True), "edit_rule": (True, True),
    "revert": (True, False), "toggle_b32": (True, False), "set_key": (True, True),
    "apply_to_similar": (True, False), "undo": (False, False), "redo": (False, False),
    "preview": (False, False), "diff": (False, False), "save": (False, False), "quit": (False, False),
}
#: what a question offers (the same actions as the UI's key table)
OPTIONS = ("accept", "reject", "widen", "narrow", "set_field", "edit_rule", "toggle_b32", "set_key",
           "apply_to_similar", "undo")


def view_json(v: ProposalView) -> dict:
    return {"id": v.id, "category": v.category, "title": v.title, "reason": v.reason, "chain": v.chain,
            "status": v.status, "covered_by": v.covered_by, "level": v.level, "levels": list(v.levels),
            "rung": v.rung_description, "edited": v.edited, "key": v.key, "b32": v.b32,
            "rules": list(v.lines),
            "instances": [{"file": e.file, "line": e.line, "tid": e.tid, "syscall": e.syscall,
                           "summary": e.summary} for e in v.instances],
            "caught": v.caught, "total": v.total, "missed": list(v.missed),
            "noise": {"trace": v.noise_trace, "baseline": v.noise_baseline},
            "variants": [{"variant": lbl, "caught": c} for lbl, c in v.catches],
            "dangers": [{"code": d.code, "message": d.message} for d in v.dangers],
            "exe": v.exe, "path": v.path, "steps": list(v.steps)}


def state_json(rs: ReviewSession) -> dict:
    return {"counts": rs.counts(), "dirty": rs.dirty, "can_undo": rs.can_undo, "can_redo": rs.can_redo,
            "coverage": rs.coverage(), "output": rs.output,
            "groups": [{"chain": c, "targets": ids} for c, ids in rs.groups()],
            "proposals": [{"id": v.id, "category": v.category, "status": v.status, "level": v.level,
                           "caught": v.caught, "total": v.total, "rules": list(v.lines)} for v in rs.views()]}


def question_json(rs: ReviewSession, pid: str | None) -> dict | None:
    if pid is None:
        return None
    v = rs.view(pid)
    return {"type": "question", "target": pid, "proposal": view_json(v), "options": list(OPTIONS),
            "default": "accept"}


class Protocol:
    """Drive a :class:`ReviewSession` with JSON lines (:meth:`handle` one request -> one reply)."""

    def __init__(self, rs: ReviewSession) -> None:
        self.rs = rs
        self.done = False

    def hello(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "type": "hello", "commands": sorted(COMMANDS),
                "state": state_json(self.rs), "question": question_json(self.rs, self.rs.next_pending())}

    def _reply(self, rid, kind: str, ok: bool, **kw) -> dict:
        return {"schema_version": SCHEMA_VERSION, "id": rid, "type": kind, "ok": ok, **kw}

    def _error(self, rid, code: str, message: str) -> dict:
        return self._reply(rid, "error", False, code=code, message=message)

    def handle_line(self, line: str) -> dict:
        try:
            req = json.loads(line)
        except json.JSONDecodeError as exc:
            return self._error(None, "bad-json", f"not JSON: {exc.msg} (column {exc.colno})")
        if not isinstance(req, dict):
            return self._error(None, "bad-request", "a request is a JSON object")
        return self.handle(req)

    def handle(self, req: dict) -> dict:
        from tracerule.errors import TraceruleError

        rid = req.get("id")
        if req.get("schema_version") != SCHEMA_VERSION:
            return self._error(rid, "schema", f"schema_version {req.get('schema_version')!r}: this engine "
                                              f"speaks {SCHEMA_VERSION}")
        cmd = req.get("cmd")
        if cmd not in COMMANDS:
            return self._error(rid, "unknown-command", f"unknown cmd {cmd!r} (have: {', '.join(sorted(COMMANDS))})")
        need_t, need_v = COMMANDS[cmd]
        pid = req.get("target")
        if need_t and not isinstance(pid, str):
            return self._error(rid, "bad-request", f"{cmd} needs a \"target\" (a proposal id)")
        if need_v and not isinstance(req.get("value"), str):
            return self._error(rid, "bad-request", f"{cmd} needs a \"value\" (text)")
        confirm = req.get("confirm") is True
        rs = self.rs
        try:
            if cmd == "state":
                return self._reply(rid, "result", True, state=state_json(rs))
            if cmd == "show":
                return self._reply(rid, "result", True, proposal=view_json(rs.view(pid)))
            if cmd == "next":
                return self._reply(rid, "result", True, question=question_json(rs, rs.next_pending()))
            if cmd == "preview":
                return self._reply(rid, "result", True, text=rs.rules_text(), coverage=rs.coverage())
            if cmd == "diff":
                return self._reply(rid, "result", True, diff=rs.diff(req.get("path")),
                                   path=req.get("path") or rs.output or "50-tracerule.rules")
            if cmd == "save":
                path = rs.save(req.get("path"))
                return self._reply(rid, "result", True, path=path, coverage=rs.coverage(), dirty=rs.dirty)
            if cmd == "quit":
                if rs.dirty and not (confirm or req.get("discard") is True):
                    return self._reply(rid, "confirm", False, code="unsaved",
                                       question=f"{len(rs.history())} decision(s) not saved: quit anyway?",
                                       dangers=[])
                self.done = True
                return self._reply(rid, "bye", True, saved=not rs.dirty)
            out = self._act(cmd, pid, req.get("value"), confirm)
        except TraceruleError as exc:
            return self._error(rid, "refused", str(exc))
        return self._outcome(rid, out, pid)

    def _act(self, cmd: str, pid, value, confirm: bool) -> Outcome:
        rs = self.rs
        item = 0
        fn: Callable
        if cmd == "accept":
            return rs.accept(pid, confirm=confirm)
        if cmd == "reject":
            return rs.reject(pid)
        if cmd == "widen":
            return rs.widen(pid, confirm=confirm)
        if cmd == "narrow":
            return rs.narrow(pid, confirm=confirm)
        if cmd == "level":
            return rs.set_level(pid, value, confirm=confirm)
        if cmd == "set_field":
            return rs.set_field(pid, value, item=item, confirm=confirm)
        if cmd == "remove_field":
            return rs.remove_field(pid, value, item=item, confirm=confirm)
        if cmd == "edit_rule":
            return rs.edit_rule(pid, value, item=item, confirm=confirm)
        if cmd == "revert":
            return rs.revert(pid)
        if cmd == "toggle_b32":
            return rs.toggle_b32(pid, confirm=confirm)
        if cmd == "set_key":
            return rs.set_key(pid, value, confirm=confirm)
        if cmd == "apply_to_similar":
            return rs.apply_to_similar(pid, confirm=confirm)
        if cmd == "undo":
            return rs.undo()
        fn = rs.redo
        return fn()

    def _outcome(self, rid, out: Outcome, pid) -> dict:
        if out.confirm:
            return self._reply(rid, "confirm", False, code="danger",
                               dangers=[{"code": d.code, "message": d.message} for d in out.confirm],
                               question="; ".join(d.message for d in out.confirm) + ". Do it anyway?")
        if out.error:
            return self._error(rid, "refused", out.error)
        nxt = self.rs.next_pending(pid if isinstance(pid, str) and pid in self.rs.ids else None)
        return self._reply(rid, "result", True, message=out.message, changed=list(out.changed),
                           warnings=list(out.warnings), counts=self.rs.counts(), dirty=self.rs.dirty,
                           question=question_json(self.rs, nxt))


def serve(rs: ReviewSession, inp: IO[str], out: IO[str]) -> int:
    """Run the protocol until ``quit`` or end of input; returns 0, or 1 when it ended with unsaved
    decisions (end of input is not a confirmation)."""
    p = Protocol(rs)

    def send(obj: dict) -> None:
        out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        out.flush()

    send(p.hello())
    for line in inp:
        if not line.strip():
            continue
        send(p.handle_line(line))
        if p.done:
            return 0
    return 1 if rs.dirty else 0
