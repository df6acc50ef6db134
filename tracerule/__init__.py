"""tracerule: from an observed behaviour (an strace trace) to the fewest auditd rules that catch it."""

__version__ = "0.1.0"
