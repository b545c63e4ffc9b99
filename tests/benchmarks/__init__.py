"""Benchmarks: `python -m tests.benchmarks [--quick]` prints one line per figure (README.md)."""
