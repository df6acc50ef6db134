"""Snapshots of the main screens (pytest-textual-snapshot; update with --snapshot-update).

They render the sample as suggest proposes it today: a change in suggest's proposals changes them
(look at the diff, then update)."""
from __future__ import annotations

import pytest

from tests.review.helpers import copy_sample, first, session
from tracerule.review.app import ReviewApp

SIZE = (140, 44)


@pytest.fixture
def app_here(tmp_path, monkeypatch):
    """An app on a copy of the sample in a temp dir (short, stable paths; no file written)."""
    copy_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    rs = session("multi.strace")
    return rs, ReviewApp(rs, output="50-tracerule.rules")


def test_main_screen(app_here, snap_compare):
    rs, app = app_here
    assert snap_compare(app, terminal_size=SIZE)


def test_main_screen_after_accepting_a_broad_rule(app_here, snap_compare):
    rs, app = app_here
    priv = [p for p in rs.ids if rs.view(p).category == "priv"]
    rs.set_level(priv[0], "behaviour", confirm=True)
    rs.accept(priv[0], confirm=True)
    assert snap_compare(app, terminal_size=SIZE)


def test_widen_confirmation(app_here, snap_compare):
    rs, app = app_here
    pid = first(rs, "module")
    rs.set_level(pid, rs.view(pid).levels[-2])

    async def before(pilot):
        app.select_proposal(pid)
        await pilot.press("w")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_diff_on_save(app_here, snap_compare):
    rs, app = app_here
    rs.accept(first(rs, "file"), confirm=True)
    assert snap_compare(app, terminal_size=SIZE, press=["s"])


def test_help(app_here, snap_compare):
    rs, app = app_here
    assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])
