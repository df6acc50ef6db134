"""Against the real auditctl and kernel (through the kernel harness): every line of the public rule
sets is read or refused with auditctl's reason, and the canonical text equals ``auditctl -l``.

Each rule is loaded alone with its keys replaced by a run key, compared, and deleted.  Control
lines, task-list rules and rules that cannot carry a key (user/exclude lists) are not loaded."""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import RULES_DATA
from tracerule.audit.rules.emit import canonical
from tracerule.audit.rules.fields import AUDITCTL_VERSION
from tracerule.audit.rules.model import ControlLine, Rule, Watch
from tracerule.audit.rules.parse import ParseOptions, iter_items, split_line

pytestmark = pytest.mark.kernel

SETS = sorted(p for p in RULES_DATA.rglob("*.rules"))


def _strip_keys(words: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(words):
        w = words[i]
        if w == "-k":
            i += 2
            continue
        if w == "-F" and i + 1 < len(words) and words[i + 1].startswith("key="):
            i += 2
            continue
        if w == "-p" and words[:1] != ["-w"] and i + 1 < len(words) and not any(
                x.startswith("perm=") for x in words):
            # the harness loads -a rules as option/value pairs without -p; on a rule with no perm
            # field auditctl's -p X appends exactly the field -F perm=X
            out += ["-F", f"perm={words[i + 1]}"]
            i += 2
            continue
        out.append(w)
        i += 1
    return out


def _cases():
    opts = ParseOptions(host_checks=True)
    for path in SETS:
        lines = path.read_text().splitlines()
        for n, items, diags in iter_items(lines, file=str(path), options=opts):
            if items and all(isinstance(i, ControlLine) for i in items):
                continue
            yield pytest.param(path, n, lines[n - 1], items, diags, id=f"{path.parent.name}/{path.name}:{n}")


def _loadable(item) -> bool:
    if isinstance(item, Watch):
        return not item.delete
    return isinstance(item, Rule) and item.op == "append" and item.list in ("exit", "filesystem")


@pytest.fixture(scope="module")
def kernel():
    from tracerule.audit.kernel import KernelAudit

    with KernelAudit.session() as k:
        yield k


def test_auditctl_version_is_the_expected_one():
    import subprocess

    out = subprocess.run(["auditctl", "-v"], capture_output=True, text=True).stdout
    assert AUDITCTL_VERSION in out, "expectations are keyed by auditctl version; regenerate _libaudit_data"


@pytest.mark.parametrize("path,lineno,line,items,diags", list(_cases()))
def test_public_line_read_or_refused_like_auditctl(kernel, path, lineno, line, items, diags):
    from tracerule.audit.kernel import RuleRefused

    errors = [d for d in diags if d.severity.value == "error"]
    if items and not _loadable(items[0]):
        pytest.skip(f"not loaded in tests: {items[0].__class__.__name__} on list "
                    f"{getattr(items[0], 'list', 'exit')}")
    key = kernel.new_key("rt")
    words = [w for w, _ in split_line(line)]
    argv = _strip_keys(words) + ["-F", f"key={key}"]
    if not errors:
        from tracerule.audit.rules.parse import parse_args

        _, d2 = parse_args(argv)
        if any("Key field needs" in d.message for d in d2):
            pytest.skip("this rule cannot carry a run key (no -S, perm or exe before the key)")
    try:
        loaded = kernel.add_rule(argv)
    except ValueError as exc:   # the harness will not load it (e.g. a key option eaten as '-F')
        pytest.skip(f"harness refuses to load: {exc}")
    except RuleRefused as exc:
        assert errors, f"auditctl refused a line we read: {exc}"
        reason = errors[0].message.split(": ", 1)[0] if errors[0].code in ("R002", "R003") else errors[0].message
        assert reason in str(exc), f"auditctl said {str(exc)!r}, we said {errors[0].message!r}"
        return
    try:
        if errors:
            pytest.fail(f"we refused ({errors[0]}) but auditctl {AUDITCTL_VERSION} loaded it as {loaded.listed!r}")
        item = items[0].with_keys((key,))
        assert loaded.listed.strip() == canonical(item)
    finally:
        kernel.delete_rule(loaded)
