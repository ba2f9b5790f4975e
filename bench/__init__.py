"""Benchmark harness (issue 6): `python -m bench` (quick) or `python -m bench --full`.

Everything runs on 127.0.0.1: an embedded redis-server, daphne processes and
the worker started here, load generators in their own processes. See
docs/performance.md for the method and the recorded results.
"""
