"""Scenario 1: HTTP heartbeats per second into one daphne process.

`concurrency` encoders (one kept-alive connection each, spread over eight
rooms) POST /tracker/api/heartbeat back to back. In the "change" variant
every heartbeat carries a new client count, so each one is written,
versioned and published; in the "no change" variant the report repeats, so
only the deadline moves and nothing is published.
"""

from __future__ import annotations

from typing import Any

from . import wrk
from .loadgen import run_in_process, summary

KINDS = {"heartbeat-change": "every heartbeat a change", "heartbeat-same": "no change"}
WRK_CONNECTIONS = 8  # fewer than the 32 encoders: none has two heartbeats in flight


def run(
    ctx,
    *,
    port: int,
    server_pid: int | None = None,
    tokens: dict[str, str],
    levels: list[int],
    warmup: float,
    duration: float,
    log=print,
) -> list[dict[str, Any]]:
    rows = []
    for kind, label in KINDS.items():
        for concurrency in levels:
            result = run_in_process(
                ctx, port, kind, concurrency, warmup, duration, {"tokens": tokens, "server_pid": server_pid}
            )
            row = {
                "kind": kind,
                "label": label,
                "concurrency": concurrency,
                **summary(result),
                "errors": result["errors"],
            }
            log(
                f"  heartbeats {label}, {concurrency} encoders: {row['rate']:,.0f}/s, p50 {row['p50'] * 1000:.1f} ms, "
                f"p99 {row['p99'] * 1000:.1f} ms, non-200/errors {row['bad']} {row['errors'][:1]}, "
                f"daphne CPU {row['server_cpu'] * 100:.0f} % = {row['cpu_per_request'] * 1000:.2f} ms per heartbeat"
            )
            rows.append(row)
    if wrk.available() and server_pid is not None:  # the same heartbeats from a client leaving daphne a core
        concurrency = WRK_CONNECTIONS
        row = {
            "kind": "heartbeat-change",
            "label": "every heartbeat a change, from wrk",
            "concurrency": concurrency,
            **wrk.heartbeats(port, tokens, concurrency, duration, server_pid=server_pid),
            "errors": [],
        }
        log(
            f"  heartbeats {row['label']}, {concurrency} encoders at a time: {row['rate']:,.0f}/s, "
            f"p50 {row['p50'] * 1000:.1f} ms, p99 {row['p99'] * 1000:.1f} ms, non-200/errors {row['bad']}, "
            f"daphne CPU {row['server_cpu'] * 100:.0f} % = {row['cpu_per_request'] * 1000:.2f} ms per heartbeat"
        )
        rows.append(row)
    else:
        log("  (wrk not installed: apt-get install wrk for the heartbeats from a C client)")
    return rows
