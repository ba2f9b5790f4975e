"""Closed-loop HTTP load generator, run in its own process.

`concurrency` connections each send their next request as soon as the last
one is answered. Requests during a warm-up are not counted; then every answer
within the measuring window is timed. Bounded by time and by count.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .cluster import ingest_encoder
from .common import cpu_seconds, percentile
from .httpclient import HttpConnection, heartbeat_body, heartbeat_headers

MAX_REQUESTS_PER_CONNECTION = 200_000


def make_request(kind: str, index: int, count: int, spec: dict[str, Any]) -> tuple[str, str, bytes, dict]:
    """The count-th request of connection `index` for this kind of load."""
    if kind in ("heartbeat-change", "heartbeat-same"):
        room, encoder = ingest_encoder(index)
        clients = count if kind == "heartbeat-change" else 7
        body = heartbeat_body(room, encoder, clients, f"https://cdn.example/{room}/{encoder}.m3u8")
        return "POST", "/tracker/api/heartbeat", body, heartbeat_headers(spec["tokens"][encoder])
    return "GET", spec["path"], b"", {}


async def run_load(
    port: int, kind: str, concurrency: int, warmup: float, duration: float, spec: dict[str, Any]
) -> dict[str, Any]:
    start = time.monotonic()
    window_start, window_end = start + warmup, start + warmup + duration
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []

    async def one_connection(index: int) -> None:
        conn = HttpConnection("127.0.0.1", port)
        try:
            for count in range(MAX_REQUESTS_PER_CONNECTION):
                method, path, body, headers = make_request(kind, index, count, spec)
                t0 = time.monotonic()
                if t0 >= window_end:
                    return
                try:
                    status, _ = await conn.request(method, path, body=body, headers=headers)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors.append(repr(exc))
                    await conn.close()
                    if len(errors) > 100:
                        return
                    continue
                t1 = time.monotonic()
                if window_start <= t0 and t1 <= window_end:
                    latencies.append(t1 - t0)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            await conn.close()

    async def server_cpu() -> float:
        """CPU seconds the server process used during the measuring window."""
        pid = spec.get("server_pid")
        if not pid:
            return float("nan")
        await asyncio.sleep(max(0.0, window_start - time.monotonic()))
        before = cpu_seconds(pid)
        await asyncio.sleep(max(0.0, window_end - time.monotonic()))
        return cpu_seconds(pid) - before

    cpu, *_ = await asyncio.gather(server_cpu(), *(one_connection(i) for i in range(concurrency)))
    return {
        "server_cpu": cpu,
        "latencies": latencies,
        "statuses": statuses,
        "errors": errors[:5],
        "error_count": len(errors),
        "duration": duration,
    }


def load_process(
    conn, port: int, kind: str, concurrency: int, warmup: float, duration: float, spec: dict[str, Any]
) -> None:
    """multiprocessing entry point: runs the load and sends the result back."""
    result = asyncio.run(run_load(port, kind, concurrency, warmup, duration, spec))
    conn.send(result)
    conn.close()


def run_in_process(
    ctx, port: int, kind: str, concurrency: int, warmup: float, duration: float, spec: dict[str, Any]
) -> dict[str, Any]:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=load_process, args=(child, port, kind, concurrency, warmup, duration, spec))
    process.start()
    try:
        if not parent.poll(warmup + duration + 30):
            raise TimeoutError(f"load generator {kind} x{concurrency} did not finish")
        return parent.recv()
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Rate, latency percentiles and server CPU of one load run, for a table row."""
    ok = result["statuses"].get(200, 0)
    return {
        "rate": ok / result["duration"],
        "p50": percentile(result["latencies"], 50),
        "p99": percentile(result["latencies"], 99),
        "server_cpu": result["server_cpu"] / result["duration"],
        "cpu_per_request": result["server_cpu"] / ok if ok else float("nan"),
        "bad": sum(v for k, v in result["statuses"].items() if k != 200) + result["error_count"],
    }
