"""The headless review session on the recorded multi-category sample."""
from __future__ import annotations

import pytest

from tests.review.helpers import SAMPLE, _built, by_category, first, records, session, simulate_file


def _danger_rung(rs, pid):
    """Widen ``pid`` until a widen asks for confirmation; return that outcome (None: never asked)."""
    while True:
        out = rs.widen(pid)
        if out.confirm:
            return out
        if out.error:
            return None


def test_sample_has_at_least_four_categories():
    rs = session()
    cats = {rs.view(p).category for p in rs.ids}
    assert {"priv", "net", "perm", "file"} <= cats
    assert cats & {"module", "ptrace"}


def test_everything_starts_pending_privilege_first():
    rs = session()
    assert rs.counts()["pending"] == len(rs.ids) and not rs.dirty
    assert rs.view(rs.ids[0]).category == "priv"
    groups = rs.groups()
    assert any(rs.view(p).category == "priv" for p in groups[0][1])
    assert sorted(p for _, ids in groups for p in ids) == sorted(rs.ids)


def test_widen_into_a_dangerous_rung_asks_and_changes_nothing_until_confirmed():
    rs = session()
    pid = first(rs, "module")
    out = _danger_rung(rs, pid)
    assert out is not None and not out.ok
    assert "auid-dropped" in {d.code for d in out.confirm}
    level = rs.view(pid).level
    hist = rs.history()
    assert rs.history() == hist and rs.view(pid).level == level
    ok = rs.widen(pid, confirm=True)
    assert ok.ok and rs.view(pid).level != level
    assert "auid-dropped" in {d.code for d in rs.view(pid).dangers}     # still shown, but confirmed
    # confirmed once: accepting it does not ask again
    acc = rs.accept(pid)
    assert acc.ok and not acc.confirm and rs.view(pid).status == "accepted"


def test_narrow_and_the_ends_of_the_ladder():
    rs = session()
    pid = first(rs, "perm")
    rs.set_level(pid, rs.view(pid).levels[0])
    out = rs.narrow(pid)
    assert not out.ok and "narrowest" in out.error
    rs.widen(pid, confirm=True)
    assert rs.view(pid).level_index == 1
    assert rs.narrow(pid).ok and rs.view(pid).level_index == 0


@pytest.mark.parametrize("pair,reason", [
    ("auid>=nosuchuser", "nosuchuser"),
    ("nosuchfield=1", "unknown field"),
    ("exe=/usr/bin/x -k evil", "contains ' '"),
    ("exe=/tmp/x\n-D", "contains"),
    ("path=relative", "absolute"),
    ("auid", "missing operation"),
    ("", "empty"),
])
def test_invalid_field_edits_are_refused_with_the_reason(pair, reason):
    rs = session()
    pid = first(rs, "net")
    before = rs.view(pid).lines
    out = rs.set_field(pid, pair)
    assert not out.ok and out.error and reason in out.error
    assert rs.view(pid).lines == before and not rs.dirty


@pytest.mark.parametrize("text,reason", [
    ("-D", "control line"),
    ("-A always,exit -F arch=b64 -S connect -k x", "-A"),
    ("-a never,exit -F arch=b64 -S connect", "always,exit"),
    ("-a always,exit -F arch=b64 -S nosuchcall", "nosuchcall"),
    ("-W /etc/sudoers", "-W"),
    ("-a always,exit -F arch=b64 -S connect -k a -k b", "one key"),
])
def test_invalid_rule_edits_are_refused(text, reason):
    rs = session()
    pid = first(rs, "net")
    out = rs.edit_rule(pid, text)
    assert not out.ok and reason.lower() in out.error.lower(), out.error
    assert not rs.dirty


@pytest.mark.parametrize("text", [
    "-w /etc/a\\ b -p wa",
    "-a always,exit -F arch=b64 -S connect -F exe=/usr/bin/a\\ b",
    "-a always,exit -F arch=b64 -S connect -F path=/etc/a\\ b",
])
def test_edits_the_parser_reads_but_safety_refuses_are_refused_not_recorded(text):
    rs = session()
    pid = first(rs, "net")
    before = rs.view(pid).lines
    out = rs.edit_rule(pid, text, confirm=True)
    assert not out.ok and out.error and "whitespace" in out.error, out
    assert not rs.dirty and rs.history() == []
    assert rs.view(pid).lines == before          # the session still works


def test_valid_field_edit_goes_through_the_parser_and_reverifies():
    rs = session()
    pid = first(rs, "file")
    rs.set_level(pid, "exact")
    assert len(rs.view(pid).items) == 1 and rs.view(pid).caught == rs.view(pid).total
    out = rs.set_field(pid, "euid=4242")
    assert out.ok and any("-F euid=4242" in ln for ln in rs.view(pid).lines)
    v = rs.view(pid)
    assert v.edited and v.caught == 0 and out.warnings     # the edit no longer catches its event
    assert rs.undo().ok and rs.view(pid).caught == rs.view(pid).total


def test_removing_the_auid_filter_asks():
    rs = session()
    pid = first(rs, "net")
    out = rs.remove_field(pid, "auid")
    assert out.confirm and "auid-dropped" in {d.code for d in out.confirm}
    assert rs.remove_field(pid, "auid", confirm=True).ok
    assert not any("auid" in ln for ln in rs.view(pid).lines)


def test_auid_without_unset_and_syscall_all_ask():
    rs = session()
    pid = first(rs, "net")
    out = rs.edit_rule(pid, "-a always,exit -F arch=b64 -S connect -F auid>=1000")
    assert "auid-unset" in {d.code for d in out.confirm}
    out = rs.edit_rule(pid, "-a always,exit -F arch=b64 -S all -F auid>=1000 -F auid!=unset")
    assert "syscall-all" in {d.code for d in out.confirm}
    assert not rs.dirty


@pytest.mark.parametrize("fields,flagged", [
    ("-F auid=unset", False),          # deliberately about unset: auid!=unset would make it match nothing
    ("-F auid=1000", False),
    ("-F auid>=1000", True),
    ("-F auid!=0", True),
    ("-F auid>=1000 -F auid!=unset", False),
])
def test_auid_unset_danger_only_where_the_filter_matches_unset(fields, flagged):
    rs = session()
    pid = first(rs, "net")
    out = rs.edit_rule(pid, f"-a always,exit -F arch=b64 -S connect {fields}")
    codes = {d.code for d in out.confirm}
    assert ("auid-unset" in codes) is flagged, (fields, out)


def test_key_and_b32():
    rs = session()
    pid = first(rs, "ptrace") if by_category(rs, "ptrace") else first(rs, "net")
    assert not rs.set_key(pid, "two words").ok
    assert not rs.set_key(pid, "x" * 300).ok
    assert rs.set_key(pid, "my-key").ok
    assert all(ln.endswith("-k my-key") for ln in rs.view(pid).lines if not ln.startswith("#"))
    n = len(rs.view(pid).lines)
    assert rs.toggle_b32(pid).ok
    assert len(rs.view(pid).lines) < n and not any("arch=b32" in ln for ln in rs.view(pid).lines)


def test_accepting_a_broader_rule_removes_the_narrower_ones_it_covers():
    rs = session()
    priv = by_category(rs, "priv")
    assert len(priv) >= 2
    for p in priv:
        rs.set_level(p, "exact", confirm=True)
    rs.set_level(priv[0], "behaviour", confirm=True)
    out = rs.accept(priv[0], confirm=True)
    covered = [p for p in priv[1:] if rs.view(p).status == "covered"]
    assert covered and all(rs.view(p).covered_by == priv[0] for p in covered)
    assert set(covered) <= set(out.changed)
    # narrowing the broad rule brings them back
    rs.narrow(priv[0], confirm=True)
    assert all(rs.view(p).status == "pending" for p in covered)
    rs.undo()
    assert all(rs.view(p).status == "covered" for p in covered)


def test_apply_to_similar():
    rs = session()
    priv = by_category(rs, "priv")
    pid = priv[0]
    rs.set_level(pid, "exact", confirm=True)
    rs.reject(pid)
    sim = rs.similar(pid)
    assert sim
    out = rs.apply_to_similar(pid, confirm=True)
    assert out.ok and set(sim) <= set(out.changed)
    assert all(rs.view(p).status == "rejected" and rs.view(p).level == "exact" for p in sim)
    rs.undo()
    assert all(rs.view(p).status == "pending" for p in sim)


def test_undo_redo_and_dirty():
    rs = session()
    pid = rs.ids[0]
    assert not rs.undo().ok
    rs.accept(pid, confirm=True)
    assert rs.dirty and rs.view(pid).status == "accepted"
    assert rs.undo().ok and rs.view(pid).status == "pending" and not rs.dirty
    assert rs.redo().ok and rs.view(pid).status == "accepted" and rs.dirty
    assert not rs.redo().ok
    rs.undo()
    rs.reject(pid)                # a new decision drops the redo branch
    assert not rs.can_redo and rs.view(pid).status == "rejected"


def test_save_diff_and_the_saved_file_has_the_coverage_shown(tmp_path):
    rs = session()
    for pid in rs.ids:
        if rs.view(pid).status == "pending":
            rs.accept(pid, confirm=True)
    net = first(rs, "net")
    rs.widen(net, confirm=True)
    out = tmp_path / "50-tracerule.rules"
    d = rs.diff(str(out))
    assert d.startswith("--- /dev/null") and "+-a always,exit" in d
    rs.save(str(out))
    assert not rs.dirty and rs.diff(str(out)) == ""
    text = out.read_text()
    assert text == rs.rules_text()
    shown = rs.coverage()
    s, recs, res, _ = _built(str(SAMPLE))
    logged = simulate_file(out, recs, resolver=res)
    where = {(r.source, r.line): i for i, r in enumerate(recs)}
    for t in s.targets:
        if t.id not in shown["targets"]:
            continue
        caught = sum(1 for e in t.instances if where.get((e.file, e.line)) in logged)
        assert caught == shown["targets"][t.id]["caught"], t.id
    assert shown["fully_caught"] >= 1
    rs.reject(rs.ids[0])
    assert rs.dirty and "-# [" in rs.diff(str(out))


def test_saved_rules_are_what_the_session_shows_after_edits(tmp_path):
    rs = session()
    pid = first(rs, "file")
    rs.set_level(pid, "exact")
    rs.accept(pid, confirm=True)
    rs.set_key(pid, "sudoers-edit")
    out = tmp_path / "x.rules"
    rs.save(str(out))
    body = [ln for ln in out.read_text().splitlines() if ln and not ln.startswith("#")]
    assert body == [ln for ln in rs.view(pid).lines if not ln.startswith("#")]
    logged = simulate_file(out, records(), resolver=_built(str(SAMPLE))[2])
    assert rs.coverage()["targets"][pid]["caught"] == 1 and logged


def test_noisy_on_the_baseline_asks():
    recs = records()
    rs = session(baseline_records=recs, baseline_name="self", noisy_threshold=0)
    pid = first(rs, "priv")
    v = rs.view(pid)
    assert v.noise_baseline is not None and v.noise_baseline >= 1
    out = rs.accept(pid)
    assert "noisy" in {d.code for d in out.confirm} and rs.view(pid).status == "pending"
    assert rs.accept(pid, confirm=True).ok


def test_hit_cache_makes_repeats_free():
    rs = session()
    pid = first(rs, "net")
    rs.view(pid)
    n = rs._trace.simulated
    for _ in range(3):
        rs.toggle_b32(pid)
        rs.view(pid)
    assert rs._trace.simulated == n          # every rule was simulated once, then served from the cache
    rs.set_field(pid, "success=0")
    rs.view(pid)
    assert rs._trace.simulated == n + 1      # only the edited rule is simulated again


def test_unknown_proposal_is_an_input_error():
    from tracerule.errors import InputError

    rs = session()
    with pytest.raises(InputError):
        rs.accept("t999")
