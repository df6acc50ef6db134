"""The README beside the cases lists every case (no kernel needed)."""
from __future__ import annotations

import importlib
from pathlib import Path

MODULES = ("test_ids", "test_exec", "test_files", "test_results_args", "test_ordering")


def _cases():
    for m in MODULES:
        mod = importlib.import_module(f"tests.differential.{m}")
        yield from mod.CASES
        yield from (p.values[0] for p in getattr(mod, "XFAIL", []))


def test_readme_lists_every_case():
    text = (Path(__file__).parent / "README.md").read_text()
    cases = list(_cases())
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(ids) >= 80
    missing = [i for i in ids if f"| `{i}` |" not in text]
    assert not missing, f"cases missing from README.md: {missing}"
