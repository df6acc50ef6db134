"""Reading strace output: a streaming reader that yields typed events with their file and line.

Public API::

    from tracerule.strace import read_trace, TraceReader
    reader = TraceReader("trace.txt")          # or a -ff directory / prefix, or several paths
    for ev in reader:                          # Syscall, Signal, Exit, ... (tracerule.strace.events)
        ...
    reader.report                              # ReadReport: forms seen, bad lines, trace-quality notes

Knows nothing about audit.
"""
from __future__ import annotations

__all__ = ["TraceReader", "read_trace"]


def __getattr__(name: str):
    if name in ("TraceReader", "read_trace"):
        from tracerule.strace import reader

        return getattr(reader, name)
    raise AttributeError(name)
