"""Tests of tracerule record (real strace, real sudo)."""
