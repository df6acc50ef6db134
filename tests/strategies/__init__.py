"""Hypothesis strategies for tracerule's property tests (random process trees rendered as strace output)."""
