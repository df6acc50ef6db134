"""``tracerule review``: deciding on proposed rules, headless (library) and in a Textual UI.

    from tracerule.review import ReviewSession
    rs = ReviewSession.from_traces(["trace.strace"])          # runs suggest, reads the trace once more
    rs.accept("t1"); rs.widen("t14", confirm=True); rs.undo()
    print(rs.rules_text()); print(rs.diff("50-tracerule.rules"))
    rs.save("50-tracerule.rules")

The session (:mod:`tracerule.review.session`) holds every decision; the JSON protocol
(:mod:`tracerule.review.protocol`) and the Textual app (:mod:`tracerule.review.app`) only call it.
"""
from __future__ import annotations

__all__ = ["ReviewSession", "Outcome", "Danger", "SCHEMA_VERSION"]


def __getattr__(name: str):
    if name in __all__:
        from tracerule.review import session

        return getattr(session, name)
    raise AttributeError(name)
