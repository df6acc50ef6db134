"""``tracerule suggest``: from a trace to the auditd rules that catch its behaviour, with provenance.

    from tracerule.synth import suggest, SuggestOptions, STEPS
    s = suggest(["trace.txt"], SuggestOptions(b32="pairs", attack=False))
    from tracerule.synth.output import rules_text, to_json
    print(rules_text(s))
"""
from __future__ import annotations

__all__ = ["suggest", "SuggestOptions", "STEPS"]


def __getattr__(name: str):
    if name in __all__:
        from tracerule.synth import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
