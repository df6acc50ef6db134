"""Scenario tests: attacks recorded here with real tools (tests/data/scenarios/, see defs.py).

For each scenario the must-catch events are declared in defs.py (before any suggestion exists).  Then:

* the declared events are in the recorded trace (the declaration is about what really happened);
* ``suggest`` with the default baseline catches every target, and the simulator logs every declared event;
* on the default baseline the suggested rules log fewer events than the broad rule of the same category
  (all execve; all connect; ``-w /etc -p wa``; rootcmd) -- the ratio is printed;
* kernel (``-m kernel``): the suggested rules, loaded through the harness with run keys, make the real
  kernel log every declared event when the scenario is re-run -- as a throwaway user this test creates
  (and removes, also on failure) with that user's uid as auid; no account of the host is needed.
"""
from __future__ import annotations

import pwd

import pytest

from tests.scenarios.defs import BROAD, SCENARIOS, MustCatch, map_ids, prepared, throwaway_user
from tracerule.audit.tables import AUDIT_ARCH, table

NAMES = sorted(SCENARIOS)
_ARCH_NAME = {v: k for k, v in AUDIT_ARCH.items()}


@pytest.fixture(scope="module")
def suggestions():
    from tracerule.synth import SuggestOptions, suggest

    out = {}
    for n in NAMES:
        out[n] = suggest([str(SCENARIOS[n].trace)], SuggestOptions(baselines=("default",)))
    return out


@pytest.fixture(scope="module")
def baseline(suggestions):
    """The default baseline's records, once, for every rule any test simulates on it."""
    from tracerule.audit.rules import parse_line
    from tracerule.synth import build as B
    from tracerule.synth.baseline import load_baselines
    from tracerule.synth.replay import wanted_names

    items = [r.item for s in suggestions.values() for r in s.rules]
    items += [it for b in BROAD.values() for it in parse_line(b)[0]]
    names = wanted_names(B.expand(items, "x86_64", "none"), "x86_64")
    return load_baselines(["default"], names)


def _rec_name(r) -> str | None:
    arch = _ARCH_NAME.get(r.arch)
    return table(arch).name(r.nr) if arch else None


def _rec_matches(r, m: MustCatch) -> bool:
    if _rec_name(r) != m.syscall:
        return False
    exe = getattr(r.exe, "realpath", None) or getattr(r.exe, "path", None)
    if m.exe and exe != m.exe:
        return False
    if m.path and not any(m.path in (n.path, n.realpath) for n in (r.names or ())):
        return False
    if m.success is not None and (r.exit is not None and -4095 <= r.exit <= -1) == m.success:
        return False
    return True


def _declared_records(name: str):
    from tracerule.audit.enrich import enrich

    sc = SCENARIOS[name]
    want = {m.syscall for m in sc.must_catch}
    recs = list(enrich(str(sc.trace), names=want))
    out = {}
    for m in sc.must_catch:
        out[m] = [r for r in recs if _rec_matches(r, m)]
    return out


def _count(items, records, resolver=None) -> int:
    from tracerule.audit.simulate import compile_rules, simulate

    c = compile_rules(items, host="x86_64", file_identity=resolver)
    return sum(1 for d in simulate(c, records) if d.logged)


@pytest.mark.parametrize("name", NAMES)
def test_declared_events_happened_and_are_caught_in_simulation(name, suggestions):
    from tracerule.audit.simulate import compile_rules, simulate

    s = suggestions[name]
    assert s.complete, [(c.target, c.missed) for c in s.missed]
    items = [r.item for r in s.rules]
    assert items
    c = compile_rules(items, host="x86_64", file_identity=s.resolver)
    for m, recs in _declared_records(name).items():
        assert recs, f"{name}: declared event {m} is not in the recorded trace"
        logged = [d for d in simulate(c, recs) if d.logged]
        assert len(logged) == len(recs), f"{name}: {m}: {len(recs) - len(logged)} of {len(recs)} not logged"


@pytest.mark.parametrize("name", NAMES)
def test_fewer_baseline_events_than_the_broad_rule(name, suggestions, baseline):
    from tracerule.audit.rules import parse_line
    from tracerule.synth import build as B

    s = suggestions[name]
    ours = _count([r.item for r in s.rules], baseline.records, s.resolver)
    broad_text = BROAD[SCENARIOS[name].broad]
    broad = _count(B.expand(parse_line(broad_text)[0], "x86_64", "pairs"), baseline.records)
    assert ours == sum(s.baseline_noise.values())
    ratio = ours / broad if broad else float("inf")
    print(f"\n{name}: suggested rules log {ours} baseline event(s), broad '{SCENARIOS[name].broad}' logs "
          f"{broad}: ratio {ratio:.4f}; estimated cost: {s.cost.summary()}")
    assert broad > 0
    assert ours < broad


# ---- the real kernel -----------------------------------------------------------------------
def _event_matches(ev, m: MustCatch) -> bool:
    if ev.syscall_name != m.syscall:
        return False
    sysc = ev.record("SYSCALL") or {}
    exe = (sysc.get("exe") or "").strip('"')
    if m.exe and exe != m.exe:
        return False
    if m.path and m.path not in ev.path_names:
        return False
    if m.success is not None and ev.success is not m.success:
        return False
    return True


@pytest.fixture
def scenario_user():
    """A throwaway user for one kernel re-run (after the kernel policy decided the test runs)."""
    with throwaway_user() as u:
        yield u
    with pytest.raises(KeyError):           # it is gone again
        pwd.getpwnam(u.name)


def _id_maps(side, sc, u) -> tuple[dict[int, int], dict[int, int]]:
    """The recorded user's uid and auid -> this run's (empty where they are the same)."""
    uids, auids = {}, {}
    if sc.as_user and side.target_uid is not None and side.target_uid != u.uid:
        uids[side.target_uid] = u.uid
    rec_auid = side.recorder.auid if side.recorder is not None else None
    if rec_auid is not None and rec_auid != 0xFFFFFFFF and rec_auid != u.uid:
        auids[rec_auid] = u.uid
    return uids, auids


@pytest.mark.kernel
@pytest.mark.parametrize("name", NAMES)
def test_kernel_logs_every_declared_event_on_rerun(name, suggestions, scenario_user):
    from tracerule.audit.kernel import KernelAudit
    from tracerule.audit.rules import source_lines
    from tracerule.audit.rules.parse import split_line
    from tracerule.sidecar import find_sidecar, read_sidecar

    sc = SCENARIOS[name]
    u = scenario_user
    side = read_sidecar(find_sidecar(str(sc.trace)))
    user = u.name if sc.as_user else None
    auid = u.uid                            # test-chosen: the throwaway user's uid (>= UID_MIN)
    uids, auids = _id_maps(side, sc, u)
    s = suggestions[name]
    with prepared(name, user) as params:
        with KernelAudit.session() as k:
            keys = []
            for r in s.rules:
                key = k.new_key(name)
                keys.append(key)
                line = source_lines(r.item.with_keys((key,)), version="3.0.9")[-1]
                k.add_rule(map_ids([w for w, _ in split_line(line)], uids, auids))
            k.enable()
            mark = k.mark()
            rc = k.run(sc.command(params), user=user, auid=auid, timeout=60)
            evs = k.events(keys, since=mark)
            k.check_conclusive()
            missing = [str(m) for m in sc.must_catch if not any(_event_matches(e, m) for e in evs)]
            print(f"\n{name}: as {user or 'root'} auid={auid}"
                  + (f" (recorded ids mapped: uid {uids}, auid {auids})" if uids or auids else "")
                  + f"; exit {rc}; {len(evs)} event(s) under our keys; "
                  + ", ".join(sorted({f'{e.syscall_name}:{(e.record("SYSCALL") or {}).get("exe")}' for e in evs})))
            assert not missing, f"{name}: the kernel did not log {missing}"
            for e in evs:                   # the events are this run's: our auid (and user, where one ran)
                sysc = e.record("SYSCALL") or {}
                assert sysc.get("auid") in (str(auid), None), sysc
        from tracerule.audit.kernel import listed_lines

        assert not [ln for ln in listed_lines() if any(key in ln for key in keys)]


# ---- the throwaway user and the id mapping (no kernel audit needed) --------------------------
@pytest.mark.parametrize("words,uids,auids,want", [
    (["-F", "uid=2913", "-F", "auid>=1000"], {2913: 1500}, {}, ["-F", "uid=1500", "-F", "auid>=1000"]),
    (["-F", "euid!=2913", "-F", "auid=2913"], {2913: 1500}, {2913: 1600}, ["-F", "euid!=1500", "-F", "auid=1600"]),
    (["-F", "auid>=2913", "-F", "gid=2913", "-F", "a1=2913"], {2913: 1500}, {2913: 1600},
     ["-F", "auid>=2913", "-F", "gid=2913", "-F", "a1=2913"]),
    (["-F", "uid=0", "-F", "obj_uid=2913", "-k", "uid=2913"], {2913: 1500}, {},
     ["-F", "uid=0", "-F", "obj_uid=1500", "-k", "uid=2913"]),
])
def test_map_ids(words, uids, auids, want):
    assert map_ids(words, uids, auids) == want


def _root_only():
    import os

    if os.geteuid() != 0:
        pytest.skip("useradd/userdel need root")


def test_throwaway_user_is_created_and_removed_even_on_failure():
    _root_only()
    with pytest.raises(RuntimeError, match="boom"):
        with throwaway_user() as u:
            pw = pwd.getpwnam(u.name)
            assert pw.pw_uid == u.uid >= 1000
            assert pw.pw_dir and not __import__("os").path.exists(pw.pw_dir)   # no home made
            # a second one asking for the same uid gets another free uid >= 1000
            with throwaway_user(u.uid) as v:
                assert v.name != u.name and v.uid != u.uid and v.uid >= 1000
                assert pwd.getpwuid(v.uid).pw_name == v.name
            with pytest.raises(KeyError):
                pwd.getpwnam(v.name)
            raise RuntimeError("boom")
    with pytest.raises(KeyError):
        pwd.getpwnam(u.name)
    with pytest.raises(KeyError):
        import grp
        grp.getgrnam(u.name)
