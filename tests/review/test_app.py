"""The Textual app, driven by the pilot: one test per action, on the recorded sample."""
from __future__ import annotations

import pytest

from tests.review.helpers import _built, copy_sample, first, session, simulate_file
from tracerule.review.app import ChoiceScreen, ConfirmScreen, EditScreen, HelpScreen, ReviewApp, screen_text
from tracerule.review.bindings import KEYS, duplicates, help_lines

SIZE = (150, 46)


def sync(fn):
    """Run an async pilot test without an async pytest plugin (none is a project dependency)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        return asyncio.run(fn(*a, **kw))

    return wrapper


def test_key_table_has_no_duplicates_and_every_action_exists():
    assert duplicates() == []
    for k in KEYS:
        assert callable(getattr(ReviewApp, f"action_{k.action}", None)), k.action
    assert duplicates(KEYS + (KEYS[0],))   # the check can fail


def test_help_screen_is_the_key_table():
    assert len(help_lines()) == len(KEYS)
    assert all(k.label in line for k, line in zip(KEYS, help_lines()))


async def _app(tmp_path, pid_category=None):
    rs = session()
    app = ReviewApp(rs, output=str(tmp_path / "50-tracerule.rules"))
    return rs, app


@sync
async def test_widen_asks_with_cancel_as_default(tmp_path):
    rs, app = await _app(tmp_path)
    pid = first(rs, "module")
    async with app.run_test(size=SIZE) as pilot:
        app.select_proposal(pid)
        for _ in range(len(rs.view(pid).levels)):
            await pilot.press("w")
            await pilot.pause()
            if isinstance(app.screen, ConfirmScreen):
                break
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.focused.id == "cancel"
        assert "auid" in screen_text(app)
        level = rs.view(pid).level
        await pilot.press("enter")                     # the default: cancel
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and rs.view(pid).level == level
        await pilot.press("w")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        assert rs.view(pid).level_index == rs.view(pid).levels.index(level) + 1


@sync
async def test_narrow(tmp_path):
    rs, app = await _app(tmp_path)
    pid = first(rs, "priv")
    rs.set_level(pid, "behaviour", confirm=True)
    async with app.run_test(size=SIZE) as pilot:
        app.select_proposal(pid)
        await pilot.press("n")
        await pilot.pause()
        assert rs.view(pid).level == "program"
        assert "(program)" in screen_text(app)


@sync
async def test_invalid_edit_is_refused_with_the_reason(tmp_path):
    rs, app = await _app(tmp_path)
    pid = first(rs, "net")
    async with app.run_test(size=SIZE) as pilot:
        app.select_proposal(pid)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)
        await pilot.press(*"auid>=nosuchuser")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)      # stays open, shows why
        assert "nosuchuser" in screen_text(app)
        assert not rs.dirty
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)


@sync
async def test_valid_edit_applies(tmp_path):
    rs, app = await _app(tmp_path)
    pid = first(rs, "net")
    async with app.run_test(size=SIZE) as pilot:
        app.select_proposal(pid)
        await pilot.press("e")
        await pilot.press(*"success=1")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        assert any("-F success=1" in ln for ln in rs.view(pid).lines)


@sync
async def test_undo(tmp_path):
    rs, app = await _app(tmp_path)
    pid = rs.ids[0]
    async with app.run_test(size=SIZE) as pilot:
        app.select_proposal(pid)
        await pilot.press("a")
        await pilot.pause()
        if isinstance(app.screen, ConfirmScreen):
            await pilot.click("#yes")
            await pilot.pause()
        assert rs.view(pid).status == "accepted" and "UNSAVED" in screen_text(app)
        await pilot.press("u")
        await pilot.pause()
        assert rs.view(pid).status == "pending" and "UNSAVED" not in screen_text(app)


@sync
async def test_apply_to_all_similar(tmp_path):
    rs, app = await _app(tmp_path)
    pid = first(rs, "priv")
    rs.set_level(pid, "exact", confirm=True)
    others = rs.similar(pid)
    assert others
    async with app.run_test(size=SIZE) as pilot:
        app.select_proposal(pid)
        await pilot.press("r", "l")
        await pilot.pause()
        if isinstance(app.screen, ConfirmScreen):
            await pilot.click("#yes")
            await pilot.pause()
        assert all(rs.view(p).status == "rejected" for p in others)


@sync
async def test_quit_with_unsaved_decisions_asks(tmp_path):
    rs, app = await _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r", "q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and app.screen.focused.id == "cancel"
        await pilot.press("enter")                     # default: stay
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen) and app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.click("#discard")
        await pilot.pause()
    assert app.return_value == 1


@sync
async def test_quit_without_decisions_just_quits(tmp_path):
    rs, app = await _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


@sync
async def test_save_shows_the_diff_and_the_file_has_the_coverage_shown(tmp_path):
    rs, app = await _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for pid in rs.ids:
            if rs.view(pid).status == "pending":
                app.select_proposal(pid)
                await pilot.press("a")
                await pilot.pause()
                if isinstance(app.screen, ConfirmScreen):
                    await pilot.click("#yes")
                    await pilot.pause()
        shown = screen_text(app)
        cov = rs.coverage()
        assert f"file: {cov['fully_caught']}/{cov['total']} targets caught" in shown
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and app.screen.focused.id == "cancel"
        text = screen_text(app)
        assert "+++ " in text and "+-a always,exit" in text
        assert not (tmp_path / "50-tracerule.rules").exists()
        await pilot.click("#write")
        await pilot.pause()
        assert not rs.dirty
    out = tmp_path / "50-tracerule.rules"
    assert out.read_text() == rs.rules_text()
    s, recs, res, _ = _built(str(session().s.traces[0]))
    logged = simulate_file(out, recs, resolver=res)
    where = {(r.source, r.line): i for i, r in enumerate(recs)}
    full = sum(1 for t in s.targets if t.id in cov["targets"]
               and all(where.get((e.file, e.line)) in logged for e in t.instances))
    assert full == cov["fully_caught"]


@sync
async def test_help_screen(tmp_path):
    rs, app = await _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert all(k.help[:30] in text for k in KEYS[:5])


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
@sync
async def test_no_color_and_dumb_terminal(tmp_path, monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rs, app = await _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert rs.ids[0] in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert rs.view(rs.ids[0]).status == "rejected"


@sync
async def test_plain_line_mode(tmp_path):
    import io

    from tracerule.review.plain import PlainReview

    rs = session()
    pid = first(rs, "module")
    rs.set_level(pid, rs.view(pid).levels[-2])
    out = io.StringIO()
    # reject everything before the module target, then widen it: asked, default No
    n = rs.ids.index(pid)
    answers = ["r"] * n + ["w", "", "q", "y"]
    rc = PlainReview(rs, io.StringIO("\n".join(answers) + "\n"), out).run()
    text = out.getvalue()
    assert "Do it anyway? [y/N]" in text and "cancelled, nothing changed" in text
    assert rs.view(pid).level == rs.view(pid).levels[-2]
    assert rc == 1
